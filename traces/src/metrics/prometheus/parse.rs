//! The text parser: one pass over the lines, grouping samples into families.
//!
//! It is deliberately lenient where exporters differ in practice (blank lines, a
//! trailing comma in a label set, `# UNIT` in 0.0.4 text, exemplars in 0.0.4 text) and
//! strict where a mistake would change a number (bad escapes, bad values, duplicate
//! labels, duplicate `# TYPE`). Errors name the 1-based line, what was expected and what
//! was found; no input makes it panic.

use super::{MetricFamily, MetricKind, Sample, Scrape};
use std::collections::BTreeMap;

/// Blanks dropped at the end of a metadata word.
const TRAILING_BLANKS: [char; 3] = [' ', '\t', '\r'];

/// Which text format the input follows; it decides the unit of timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text exposition 0.0.4: timestamps are integer milliseconds.
    Prometheus004,
    /// OpenMetrics 1.0: timestamps are float seconds, the text ends with `# EOF`.
    OpenMetrics1,
}

/// A line that does not follow the format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected {expected}, found {found}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    pub expected: String,
    pub found: String,
}

/// Parses a scrape, detecting OpenMetrics by its `# EOF` line.
pub fn parse_text(text: &str) -> Result<Scrape, ParseError> {
    let open_metrics =
        text.contains("# EOF") && text.lines().any(|l| l.trim_end_matches('\r') == "# EOF");
    let format = if open_metrics {
        Format::OpenMetrics1
    } else {
        Format::Prometheus004
    };
    parse_text_as(text, format)
}

/// Parses a scrape in the given format.
pub fn parse_text_as(text: &str, format: Format) -> Result<Scrape, ParseError> {
    let mut builder = Builder::default();
    let mut eof_at: Option<usize> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim_end_matches('\r');
        if let Some(eof_line) = eof_at {
            if !line.trim().is_empty() {
                return Err(ParseError {
                    line: number,
                    expected: format!("nothing after `# EOF` (line {eof_line})"),
                    found: excerpt(line),
                });
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with('#') {
            if format == Format::OpenMetrics1 && line == "# EOF" {
                eof_at = Some(number);
                continue;
            }
            builder.comment(line, number)?;
        } else {
            let sample = parse_sample(line, number, format)?;
            builder.push(sample);
        }
    }
    Ok(builder.finish())
}

/// Parses a float the way exporters write them: decimal, exponent, `+Inf`/`-Inf`/`NaN`.
pub(crate) fn parse_float(token: &str) -> Option<f64> {
    let first = token.bytes().next()?;
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.' | b'i' | b'I' | b'n' | b'N'))
    {
        return None;
    }
    let value: f64 = token.parse().ok()?;
    Some(if value.is_nan() { f64::NAN } else { value })
}

/// Accumulates families in order of first appearance.
#[derive(Default)]
struct Builder {
    families: Vec<MetricFamily>,
    /// Which metadata lines each family (by index) has had, to refuse a second one.
    declared: Vec<Declared>,
    /// Family index by name, kept once there are more than [`SCAN_FAMILIES`] (a
    /// replica's scrape has a handful, looked up faster by a scan than by a map).
    by_name: BTreeMap<String, usize>,
}

/// Most families found by scanning their names.
const SCAN_FAMILIES: usize = 16;

#[derive(Default, Clone, Copy)]
struct Declared {
    help: bool,
    kind: bool,
    unit: bool,
}

impl Builder {
    fn find(&self, name: &str) -> Option<usize> {
        if self.families.len() <= SCAN_FAMILIES {
            self.families.iter().position(|family| family.name == name)
        } else {
            self.by_name.get(name).copied()
        }
    }

    fn family_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.find(name) {
            return i;
        }
        let i = self.families.len();
        self.families.push(MetricFamily {
            name: name.to_string(),
            help: None,
            unit: None,
            kind: MetricKind::Unknown,
            samples: Vec::new(),
        });
        self.declared.push(Declared::default());
        if self.families.len() > SCAN_FAMILIES {
            if self.by_name.is_empty() {
                for (index, family) in self.families.iter().enumerate() {
                    self.by_name.insert(family.name.clone(), index);
                }
            } else {
                self.by_name.insert(name.to_string(), i);
            }
        }
        i
    }

    /// The family a sample belongs to: its own name, or a declared family whose kind
    /// owns the sample's suffix (`foo_bucket` → histogram `foo`).
    fn family_for_sample(&mut self, sample_name: &str) -> usize {
        if let Some(i) = self.find(sample_name) {
            return i;
        }
        const SUFFIXES: [&str; 9] = [
            "_bucket", "_sum", "_count", "_created", "_total", "_gbucket", "_gsum", "_gcount",
            "_info",
        ];
        for suffix in SUFFIXES {
            if let Some(base) = sample_name.strip_suffix(suffix)
                && let Some(i) = self.find(base)
                && self.families[i].kind.suffixes().contains(&suffix)
            {
                return i;
            }
        }
        self.family_index(sample_name)
    }

    fn push(&mut self, sample: Sample) {
        let i = self.family_for_sample(&sample.name);
        self.families[i].samples.push(sample);
    }

    fn comment(&mut self, line: &str, number: usize) -> Result<(), ParseError> {
        let mut c = Cursor::new(line, number);
        c.pos = 1;
        c.skip_blanks();
        let keyword = c.word();
        if !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
            return Ok(());
        }
        if !c.skip_blanks() {
            return Err(c.error(&format!("a space and a metric name after `# {keyword}`")));
        }
        let name = c.metric_name()?;
        let had_blank = c.skip_blanks();
        let rest = c.rest();
        if !rest.is_empty() && !had_blank {
            return Err(c.error("a space after the metric name"));
        }
        match keyword {
            "HELP" => {
                let i = self.family_index(name);
                if std::mem::replace(&mut self.declared[i].help, true) {
                    return Err(c.error_found(
                        "one `# HELP` line per family",
                        &format!("a second one for `{name}`"),
                    ));
                }
                self.families[i].help = Some(unescape_help(rest));
            }
            "TYPE" => {
                let word = rest.trim_end_matches(TRAILING_BLANKS);
                let Some(kind) = MetricKind::from_keyword(word) else {
                    return Err(c.error(
                        "a type: counter, gauge, histogram, gaugehistogram, summary, info, stateset, untyped or unknown",
                    ));
                };
                let i = self.family_index(name);
                if std::mem::replace(&mut self.declared[i].kind, true) {
                    return Err(c.error_found(
                        "one `# TYPE` line per family",
                        &format!("a second one for `{name}`"),
                    ));
                }
                self.families[i].kind = kind;
            }
            _ => {
                let i = self.family_index(name);
                if std::mem::replace(&mut self.declared[i].unit, true) {
                    return Err(c.error_found(
                        "one `# UNIT` line per family",
                        &format!("a second one for `{name}`"),
                    ));
                }
                // A carriage return before trailing blanks would not survive a render
                // and re-parse (line ends drop it), so it is a trailing blank too.
                self.families[i].unit = Some(rest.trim_end_matches(TRAILING_BLANKS).to_string());
            }
        }
        Ok(())
    }

    fn finish(self) -> Scrape {
        Scrape {
            families: self.families,
        }
    }
}

fn unescape_help(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            // Unknown escapes in documentation text are kept as written.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn parse_sample(line: &str, number: usize, format: Format) -> Result<Sample, ParseError> {
    let mut c = Cursor::new(line, number);
    let name = c.metric_name()?.to_string();
    let labels = if c.peek() == Some(b'{') {
        c.labels()?
    } else {
        Vec::new()
    };
    if !c.skip_blanks() {
        return Err(c.error(if labels.is_empty() && c.peek() != Some(b'{') {
            "a space then the value after the metric name"
        } else {
            "a space then the value after the labels"
        }));
    }
    let value = c.value()?;
    let mut timestamp_ms = None;
    let blank = c.skip_blanks();
    if blank && !c.at_end() && c.peek() != Some(b'#') {
        timestamp_ms = Some(c.timestamp(format)?);
        c.skip_blanks();
    }
    if c.peek() == Some(b'#') {
        c.exemplar()?;
    }
    if !c.at_end() {
        return Err(c.error("end of line (or a timestamp, or an exemplar `# {...} value`)"));
    }
    Ok(Sample {
        name,
        labels,
        value,
        timestamp_ms,
    })
}

fn excerpt(text: &str) -> String {
    if text.is_empty() {
        return "end of line".to_string();
    }
    let mut out: String = text.chars().take(32).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    format!("`{out}`")
}

/// A byte cursor over one line; it only stops at ASCII bytes, so slices stay on
/// character boundaries.
struct Cursor<'a> {
    line: &'a str,
    bytes: &'a [u8],
    pos: usize,
    number: usize,
}

impl<'a> Cursor<'a> {
    fn new(line: &'a str, number: usize) -> Cursor<'a> {
        Cursor {
            line,
            bytes: line.as_bytes(),
            pos: 0,
            number,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn rest(&self) -> &'a str {
        self.line.get(self.pos..).unwrap_or("")
    }

    fn error(&self, expected: &str) -> ParseError {
        ParseError {
            line: self.number,
            expected: expected.to_string(),
            found: excerpt(self.rest()),
        }
    }

    fn error_found(&self, expected: &str, found: &str) -> ParseError {
        ParseError {
            line: self.number,
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }

    /// Skips spaces and tabs; true when at least one was skipped.
    fn skip_blanks(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// A run of non-blank bytes (may be empty).
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while !matches!(self.peek(), None | Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.line.get(start..self.pos).unwrap_or("")
    }

    fn metric_name(&mut self) -> Result<&'a str, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' => self.pos += 1,
            _ => return Err(self.error("a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")),
        }
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        {
            self.pos += 1;
        }
        Ok(self.line.get(start..self.pos).unwrap_or(""))
    }

    fn label_name(&mut self) -> Result<&'a str, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => self.pos += 1,
            _ => return Err(self.error("a label name ([a-zA-Z_][a-zA-Z0-9_]*) or `}`")),
        }
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_') {
            self.pos += 1;
        }
        Ok(self.line.get(start..self.pos).unwrap_or(""))
    }

    fn expect(&mut self, byte: u8, expected: &str) -> Result<(), ParseError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    /// `{name="value",...}` with an optional trailing comma; returns labels sorted.
    fn labels(&mut self) -> Result<Vec<(String, String)>, ParseError> {
        self.expect(b'{', "`{`")?;
        let mut labels: Vec<(String, String)> = Vec::new();
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                break;
            }
            let name = self.label_name()?.to_string();
            self.skip_blanks();
            self.expect(b'=', "`=` after the label name")?;
            self.skip_blanks();
            self.expect(b'"', "`\"` opening the label value")?;
            let value = self.label_value()?;
            if labels.iter().any(|(k, _)| *k == name) {
                return Err(
                    self.error_found("each label name once", &format!("label `{name}` repeated"))
                );
            }
            labels.push((name, value));
            self.skip_blanks();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error("`,` or `}` after the label value")),
            }
        }
        labels.sort();
        Ok(labels)
    }

    /// The rest of a quoted label value, after the opening quote, unescaped.
    fn label_value(&mut self) -> Result<String, ParseError> {
        let mut out = String::new();
        let mut start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error("`\"` closing the label value")),
                Some(b'"') => {
                    out.push_str(self.line.get(start..self.pos).unwrap_or(""));
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.line.get(start..self.pos).unwrap_or(""));
                    self.pos += 1;
                    match self.peek() {
                        Some(b'\\') => out.push('\\'),
                        Some(b'"') => out.push('"'),
                        Some(b'n') => out.push('\n'),
                        _ => {
                            return Err(
                                self.error("an escape `\\\\`, `\\\"` or `\\n` after the backslash")
                            );
                        }
                    }
                    self.pos += 1;
                    start = self.pos;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn value(&mut self) -> Result<f64, ParseError> {
        let start = self.pos;
        let token = self.word();
        parse_float(token).ok_or_else(|| ParseError {
            line: self.number,
            expected: "a sample value (a number, +Inf, -Inf or NaN)".to_string(),
            found: excerpt(self.line.get(start..).unwrap_or("")),
        })
    }

    fn timestamp(&mut self, format: Format) -> Result<i64, ParseError> {
        let start = self.pos;
        let token = self.word();
        let parsed = match format {
            Format::Prometheus004 => token.parse::<i64>().ok(),
            Format::OpenMetrics1 => parse_float(token).and_then(seconds_to_ms),
        };
        parsed.ok_or_else(|| ParseError {
            line: self.number,
            expected: match format {
                Format::Prometheus004 => "a timestamp in integer milliseconds".to_string(),
                Format::OpenMetrics1 => "a timestamp in seconds".to_string(),
            },
            found: excerpt(self.line.get(start..).unwrap_or("")),
        })
    }

    /// ` # {labels} value [timestamp]`: checked for form, then dropped.
    fn exemplar(&mut self) -> Result<(), ParseError> {
        self.expect(b'#', "`#` starting an exemplar")?;
        if !self.skip_blanks() {
            return Err(self.error("a space after `#` in the exemplar"));
        }
        self.labels()?;
        if !self.skip_blanks() {
            return Err(self.error("a space then the exemplar value"));
        }
        self.value()?;
        if self.skip_blanks() && !self.at_end() {
            // Exemplar timestamps are float seconds in every format that has exemplars.
            self.timestamp(Format::OpenMetrics1)?;
            self.skip_blanks();
        }
        Ok(())
    }
}

fn seconds_to_ms(seconds: f64) -> Option<i64> {
    let ms = (seconds * 1000.0).round();
    (ms.is_finite() && ms.abs() < 9.0e18).then_some(ms as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many families: found by name through the map once there are more than a scan
    /// covers, including suffixed samples and a repeated `# TYPE` far down.
    #[test]
    fn many_families_keep_their_samples_and_refuse_repeats() {
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!(
                "# TYPE f{i} histogram\nf{i}_bucket{{le=\"+Inf\"}} {i}\n"
            ));
        }
        text.push_str("f3_count 3\nf33_count 33\nloose 1\n");
        let scrape = parse_text(&text).unwrap();
        assert_eq!(scrape.families.len(), 41);
        for (i, family) in scrape.families.iter().take(40).enumerate() {
            assert_eq!(family.name, format!("f{i}"));
            assert_eq!(family.kind, MetricKind::Histogram);
            let expected = if i == 3 || i == 33 { 2 } else { 1 };
            assert_eq!(family.samples.len(), expected, "family f{i}");
        }
        assert_eq!(scrape.families[40].name, "loose");
        text.push_str("# TYPE f30 gauge\n");
        let error = parse_text(&text).unwrap_err();
        assert_eq!(error.line, 84);
        assert!(error.found.contains("f30"), "{error}");
    }

    #[test]
    fn parses_vllm_names_with_colons_and_labels() {
        let text = "# HELP vllm:num_requests_running Number of requests.\n\
                    # TYPE vllm:num_requests_running gauge\n\
                    vllm:num_requests_running{model_name=\"m\",engine=\"0\"} 3\n";
        let scrape = parse_text(text).unwrap();
        let family = scrape.family("vllm:num_requests_running").unwrap();
        assert_eq!(family.kind, MetricKind::Gauge);
        assert_eq!(family.help.as_deref(), Some("Number of requests."));
        assert_eq!(
            family.samples[0].labels,
            vec![
                ("engine".into(), "0".into()),
                ("model_name".into(), "m".into())
            ]
        );
    }

    #[test]
    fn label_escapes_are_decoded() {
        let scrape = parse_text("m{a=\"x\\\\y\\\"z\\nw\"} 1\n").unwrap();
        assert_eq!(scrape.families[0].samples[0].labels[0].1, "x\\y\"z\nw");
    }

    #[test]
    fn special_values_and_timestamps() {
        let scrape = parse_text("a +Inf 1700000000000\nb -Inf\nc NaN\n").unwrap();
        let a = &scrape.families[0].samples[0];
        assert_eq!(a.value, f64::INFINITY);
        assert_eq!(a.timestamp_ms, Some(1_700_000_000_000));
        assert_eq!(scrape.families[1].samples[0].value, f64::NEG_INFINITY);
        assert!(scrape.families[2].samples[0].value.is_nan());
    }

    #[test]
    fn openmetrics_seconds_timestamps_and_exemplars() {
        let text = "# TYPE foo counter\n\
                    foo_total 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n\
                    foo_created 1520430000.123\n\
                    # EOF\n";
        let scrape = parse_text(text).unwrap();
        let family = scrape.family("foo").unwrap();
        assert_eq!(family.kind, MetricKind::Counter);
        assert_eq!(family.samples.len(), 2);
        assert_eq!(family.samples[0].timestamp_ms, Some(1_520_879_607_789));
    }

    #[test]
    fn errors_name_the_line_and_what_was_expected() {
        let err = parse_text("ok 1\nbad{a=\"x\" 1\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.expected.contains("`,` or `}`"), "{err}");
        let err = parse_text("m{a=\"\\t\"} 1\n").unwrap_err();
        assert!(err.expected.contains("escape"), "{err}");
        let err = parse_text("m one\n").unwrap_err();
        assert!(err.to_string().contains("sample value"), "{err}");
        let err = parse_text("# TYPE m gauge\n# TYPE m counter\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse_text("m 1\n# EOF\nn 2\n").unwrap_err();
        assert_eq!(err.line, 3);
    }

    #[test]
    fn histogram_and_summary_samples_join_their_family() {
        let text = "# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n\
                    # TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 3\ns_count 2\n";
        let scrape = parse_text(text).unwrap();
        assert_eq!(scrape.families.len(), 2);
        assert_eq!(scrape.families[0].samples.len(), 4);
        assert_eq!(scrape.families[1].samples.len(), 3);
    }
}
