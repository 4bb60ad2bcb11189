//! The bundled font: DejaVu Sans (Bitstream Vera license, `assets/DejaVuSans.LICENSE`),
//! registered with plotters as its `sans-serif` family so text is measured and drawn
//! the same on every machine, with no system font.

use plotters::style::{FontStyle, register_font};
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the font once per process.
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font (tested); a failure here would leave
        // plotters without any font, which its text calls then report.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_font_registers() {
        assert!(
            plotters::style::register_font(
                "test-family",
                plotters::style::FontStyle::Normal,
                super::FONT
            )
            .is_ok()
        );
    }
}
