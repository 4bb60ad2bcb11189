//! Fuzzes the Prometheus/OpenMetrics parser: any input must parse or fail with an
//! error, never panic, and whatever parses must render and parse back to the same scrape.

#![no_main]

use libfuzzer_sys::fuzz_target;
use traces::metrics::prometheus::{Format, parse_text, parse_text_as, render_text};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_text_as(text, Format::OpenMetrics1);
    if let Ok(scrape) = parse_text(text) {
        let rendered = render_text(&scrape);
        let again = parse_text(&rendered).expect("rendered text must parse");
        assert_eq!(again, scrape, "render/parse round trip changed the scrape");
    }
});
