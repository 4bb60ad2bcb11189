//! Rendering a [`Scrape`] as Prometheus 0.0.4 text, so that the simulator exports what a
//! real replica would and [`super::parse_text`] reads it back to an equal scrape.

use super::{MetricKind, Scrape};
use std::fmt::Write;

/// Renders 0.0.4 text: per family `# HELP`, `# TYPE`, `# UNIT` (only when set), then its
/// samples. Label values and help text are escaped; floats print so they parse back to
/// the same bits (NaN as `NaN`, infinities as `+Inf`/`-Inf`).
pub fn render_text(scrape: &Scrape) -> String {
    // Writes straight into one buffer: a scraped replica renders every second in a
    // fleet run, so per-piece strings would dominate its cost.
    let mut out = String::with_capacity(256);
    for family in &scrape.families {
        if let Some(help) = &family.help {
            out.push_str("# HELP ");
            out.push_str(&family.name);
            out.push(' ');
            write_escaped(&mut out, help, false);
            out.push('\n');
        }
        let kind = if family.kind == MetricKind::Unknown {
            "untyped"
        } else {
            family.kind.keyword()
        };
        for piece in ["# TYPE ", &family.name, " ", kind, "\n"] {
            out.push_str(piece);
        }
        if let Some(unit) = &family.unit {
            for piece in ["# UNIT ", &family.name, " ", unit, "\n"] {
                out.push_str(piece);
            }
        }
        for sample in &family.samples {
            out.push_str(&sample.name);
            if !sample.labels.is_empty() {
                out.push('{');
                for (i, (name, value)) in sample.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(name);
                    out.push_str("=\"");
                    write_escaped(&mut out, value, true);
                    out.push('"');
                }
                out.push('}');
            }
            out.push(' ');
            write_value(&mut out, sample.value);
            if let Some(ts) = sample.timestamp_ms {
                let _ = write!(out, " {ts}");
            }
            out.push('\n');
        }
    }
    out
}

/// Writes a float the way exporters do: integers without a fraction, others in the
/// shortest form that parses back exactly.
fn write_value(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value == f64::INFINITY {
        out.push_str("+Inf");
    } else if value == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        if value == 0.0 && value.is_sign_negative() {
            out.push_str("-0");
        } else {
            // Exact in an i64, and printed with the same digits, faster.
            let _ = write!(out, "{}", value as i64);
        }
    } else {
        let _ = write!(out, "{value:?}");
    }
}

/// Appends `text` with backslashes and newlines escaped, and double quotes too in a
/// label value (help text keeps them as written).
fn write_escaped(out: &mut String, text: &str, label: bool) {
    let special = |byte: u8| byte == b'\\' || byte == b'\n' || (label && byte == b'"');
    if !text.bytes().any(special) {
        out.push_str(text);
        return;
    }
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if label => out.push_str("\\\""),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::prometheus::parse_text;

    fn format_value(value: f64) -> String {
        let mut out = String::new();
        write_value(&mut out, value);
        out
    }

    #[test]
    fn values_render_compactly_and_exactly() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(-0.0), "-0");
        assert_eq!(format_value(0.1), "0.1");
        assert_eq!(format_value(1e300), "1e300");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn renders_what_it_parsed() {
        let text = "# HELP x A \\\\ help\\nline\n# TYPE x gauge\nx{a=\"q\\\"\"} 1.5 1000\n";
        let scrape = parse_text(text).unwrap();
        assert_eq!(render_text(&scrape), text);
    }
}
