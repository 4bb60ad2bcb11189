//! Prometheus text exposition (0.0.4) and OpenMetrics 1.0: parsing, lookups, rendering.
//!
//! We write our own parser because engine metrics use names with `:` (for example
//! `vllm:num_requests_running`), which several existing crates drop, and because the
//! simulator must render what its replicas export and read it back exactly.
//!
//! A [`Scrape`] is one `/metrics` response grouped into [`MetricFamily`]s. Samples keep
//! their labels sorted by name so that equal scrapes compare and render identically.

mod parse;
mod render;

pub use parse::{Format, ParseError, parse_text, parse_text_as};
pub use render::render_text;

/// The declared type of a metric family (`# TYPE`). Families without a declaration are
/// [`MetricKind::Unknown`] (`untyped` in 0.0.4, `unknown` in OpenMetrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Unknown,
}

impl MetricKind {
    /// The keyword used on a `# TYPE` line.
    pub fn keyword(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::GaugeHistogram => "gaugehistogram",
            MetricKind::Summary => "summary",
            MetricKind::Info => "info",
            MetricKind::StateSet => "stateset",
            MetricKind::Unknown => "untyped",
        }
    }

    /// Parses a `# TYPE` keyword (both format's spellings of "unknown" are accepted).
    pub fn from_keyword(word: &str) -> Option<MetricKind> {
        Some(match word {
            "counter" => MetricKind::Counter,
            "gauge" => MetricKind::Gauge,
            "histogram" => MetricKind::Histogram,
            "gaugehistogram" => MetricKind::GaugeHistogram,
            "summary" => MetricKind::Summary,
            "info" => MetricKind::Info,
            "stateset" => MetricKind::StateSet,
            "untyped" | "unknown" => MetricKind::Unknown,
            _ => return None,
        })
    }

    /// Sample-name suffixes that belong to a family of this kind (besides the bare name).
    pub(crate) fn suffixes(self) -> &'static [&'static str] {
        match self {
            MetricKind::Counter => &["_total", "_created"],
            MetricKind::Histogram => &["_bucket", "_sum", "_count", "_created"],
            MetricKind::GaugeHistogram => &["_gbucket", "_gsum", "_gcount"],
            MetricKind::Summary => &["_sum", "_count", "_created"],
            MetricKind::Info => &["_info"],
            MetricKind::Gauge | MetricKind::StateSet | MetricKind::Unknown => &[],
        }
    }
}

/// One sample line: a full sample name (with any `_bucket`/`_total` suffix), its labels
/// sorted by name, the value and an optional timestamp in milliseconds since the epoch.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
}

impl PartialEq for Sample {
    /// Values compare as equal when both are NaN, so that a parsed scrape equals itself.
    fn eq(&self, other: &Sample) -> bool {
        self.name == other.name
            && self.labels == other.labels
            && self.timestamp_ms == other.timestamp_ms
            && (self.value == other.value || (self.value.is_nan() && other.value.is_nan()))
    }
}

impl Sample {
    /// The value of label `name`, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when every `(name, value)` pair of the selector is among this sample's labels.
    pub fn matches(&self, selector: &[(&str, &str)]) -> bool {
        selector.iter().all(|(k, v)| self.label(k) == Some(*v))
    }
}

/// All samples of one metric: its `# HELP`, `# TYPE` and `# UNIT` and its sample lines.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    pub name: String,
    pub help: Option<String>,
    pub unit: Option<String>,
    pub kind: MetricKind,
    pub samples: Vec<Sample>,
}

/// One parsed `/metrics` response: families in the order they first appear.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scrape {
    pub families: Vec<MetricFamily>,
}

/// A histogram read from `_bucket`/`_sum`/`_count` samples (summed over matching series).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// `(le, cumulative count)` sorted by `le`; the last bucket is usually `+Inf`.
    pub buckets: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: f64,
}

impl Histogram {
    /// Mean observation (`sum / count`), `None` when nothing was observed.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0.0).then(|| self.sum / self.count)
    }

    /// Quantile `q` in 0..=1 by linear interpolation inside the bucket, the way
    /// PromQL's `histogram_quantile` does; `None` without observations or buckets.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last()?.1;
        if total.is_nan() || total <= 0.0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * total;
        let mut lower_le = 0.0;
        let mut lower_count = 0.0;
        for &(le, count) in &self.buckets {
            if count >= rank {
                if le.is_infinite() {
                    return Some(lower_le);
                }
                let width = count - lower_count;
                let within = if width > 0.0 {
                    (rank - lower_count) / width
                } else {
                    1.0
                };
                return Some(lower_le + (le - lower_le) * within);
            }
            lower_le = le;
            lower_count = count;
        }
        Some(lower_le)
    }
}

impl Scrape {
    /// Parses Prometheus 0.0.4 or OpenMetrics text (detected by a `# EOF` line).
    pub fn parse(text: &str) -> Result<Scrape, ParseError> {
        parse_text(text)
    }

    /// The family named `name` (the name on its `# TYPE` line, or the sample name).
    pub fn family(&self, name: &str) -> Option<&MetricFamily> {
        self.families.iter().find(|f| f.name == name)
    }

    /// Every sample named exactly `name` whose labels contain the selector's pairs.
    pub fn samples<'a>(
        &'a self,
        name: &'a str,
        selector: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.families
            .iter()
            .flat_map(|f| f.samples.iter())
            .filter(move |s| s.name == name && s.matches(selector))
    }

    /// The value of a gauge summed over the label dimensions the selector leaves free
    /// (for example over vLLM's `engine` label); `None` when no sample matches.
    pub fn gauge(&self, name: &str, selector: &[(&str, &str)]) -> Option<f64> {
        self.sum(name, selector)
    }

    /// Sum of the values of all matching samples; `None` when none matches.
    pub fn sum(&self, name: &str, selector: &[(&str, &str)]) -> Option<f64> {
        let mut found = false;
        let total = self.samples(name, selector).fold(0.0, |acc, s| {
            found = true;
            acc + s.value
        });
        found.then_some(total)
    }

    /// Mean of the values of all matching samples (for ratios such as KV-cache use,
    /// which must not be added across engines); `None` when none matches.
    pub fn mean(&self, name: &str, selector: &[(&str, &str)]) -> Option<f64> {
        let (n, total) = self
            .samples(name, selector)
            .fold((0usize, 0.0), |(n, acc), s| (n + 1, acc + s.value));
        (n > 0).then(|| total / n as f64)
    }

    /// A counter's value summed over matching series. Accepts the family name with or
    /// without `_total`, since 0.0.4 exporters and OpenMetrics disagree on where it goes.
    pub fn counter(&self, name: &str, selector: &[(&str, &str)]) -> Option<f64> {
        if let Some(v) = self.sum(name, selector) {
            return Some(v);
        }
        match name.strip_suffix("_total") {
            Some(base) => self.sum(base, selector),
            None => self.sum(&format!("{name}_total"), selector),
        }
    }

    /// The histogram family `name` (without `_bucket`), summed over matching series;
    /// buckets with equal `le` are added. `None` when neither buckets nor count exist.
    pub fn histogram(&self, name: &str, selector: &[(&str, &str)]) -> Option<Histogram> {
        let bucket_name = format!("{name}_bucket");
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        for sample in self.samples(&bucket_name, selector) {
            let Some(le) = sample.label("le").and_then(parse::parse_float) else {
                continue;
            };
            match buckets.iter_mut().find(|(b, _)| *b == le) {
                Some(bucket) => bucket.1 += sample.value,
                None => buckets.push((le, sample.value)),
            }
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let count = self.sum(&format!("{name}_count"), selector);
        if buckets.is_empty() && count.is_none() {
            return None;
        }
        let count = count.or_else(|| buckets.last().map(|b| b.1)).unwrap_or(0.0);
        let sum = self.sum(&format!("{name}_sum"), selector).unwrap_or(0.0);
        Some(Histogram {
            buckets,
            sum,
            count,
        })
    }

    /// A summary's `(quantile, value)` pairs for the first matching series, sorted.
    pub fn summary_quantiles(&self, name: &str, selector: &[(&str, &str)]) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = Vec::new();
        let mut series: Option<Vec<(String, String)>> = None;
        for sample in self.samples(name, selector) {
            let Some(q) = sample.label("quantile").and_then(parse::parse_float) else {
                continue;
            };
            let others: Vec<(String, String)> = sample
                .labels
                .iter()
                .filter(|(k, _)| k != "quantile")
                .cloned()
                .collect();
            match &series {
                Some(first) if *first != others => continue,
                Some(_) => {}
                None => series = Some(others),
            }
            out.push((q, sample.value));
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    /// Number of samples over all families.
    pub fn sample_count(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum()
    }
}
