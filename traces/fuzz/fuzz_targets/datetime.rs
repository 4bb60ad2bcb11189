//! The datetime parser: any bytes give a time or `None`; a parsed time formats and
//! parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(us) = traces::datetime::parse_datetime_us(data) {
        let text = traces::datetime::format_iso_utc(us);
        assert_eq!(
            traces::datetime::parse_datetime_us(text.as_bytes()),
            Some(us)
        );
    }
});
