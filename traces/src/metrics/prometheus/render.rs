//! Rendering a [`Scrape`] as Prometheus 0.0.4 text, so that the simulator exports what a
//! real replica would and [`super::parse_text`] reads it back to an equal scrape.

use super::{MetricKind, Scrape};
use std::fmt::Write;

/// Renders 0.0.4 text: per family `# HELP`, `# TYPE`, `# UNIT` (only when set), then its
/// samples. Label values and help text are escaped; floats print so they parse back to
/// the same bits (NaN as `NaN`, infinities as `+Inf`/`-Inf`).
pub fn render_text(scrape: &Scrape) -> String {
    let mut out = String::new();
    for family in &scrape.families {
        if let Some(help) = &family.help {
            let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(help));
        }
        let kind = if family.kind == MetricKind::Unknown {
            "untyped"
        } else {
            family.kind.keyword()
        };
        let _ = writeln!(out, "# TYPE {} {}", family.name, kind);
        if let Some(unit) = &family.unit {
            let _ = writeln!(out, "# UNIT {} {}", family.name, unit);
        }
        for sample in &family.samples {
            out.push_str(&sample.name);
            if !sample.labels.is_empty() {
                out.push('{');
                for (i, (name, value)) in sample.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label(value));
                }
                out.push('}');
            }
            out.push(' ');
            out.push_str(&format_value(sample.value));
            if let Some(ts) = sample.timestamp_ms {
                let _ = write!(out, " {ts}");
            }
            out.push('\n');
        }
    }
    out
}

/// Formats a float the way exporters do: integers without a fraction, others in the
/// shortest form that parses back exactly.
pub fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value == f64::INFINITY {
        "+Inf".to_string()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value}")
    } else {
        format!("{value:?}")
    }
}

fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
    out
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::prometheus::parse_text;

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
