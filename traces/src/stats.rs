//! Statistics of a trace in one streaming pass: what `trace inspect` prints.
//!
//! Memory: token percentiles are exact (nearest rank) while a trace has at most
//! [`EXACT_LIMIT`] requests, keeping every prompt and output count (8 bytes per request,
//! 80 MB at the limit); past it the values move into a log-linear histogram of fixed
//! size (about 190 KB per field) that is exact below 2048 tokens and within 0.1% above.
//! Per-minute counts are kept only for minutes that have requests.

use crate::error::TraceError;
use crate::format::{Container, TraceFormat};
use crate::reader::{ReadOptions, open};
use crate::request::Request;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Up to this many values a distribution is kept exactly.
pub const EXACT_LIMIT: usize = 10_000_000;

const MINUTE_US: i64 = 60_000_000;
const SPARKLINE_WIDTH: u64 = 60;
const SPARK_LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Mean, nearest-rank percentiles and maximum of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Summary {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// What a trace looks like: counts, time span, rates and token lengths.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceStats {
    pub requests: u64,
    /// Requests the source flagged failed (kept in the trace).
    pub failed: u64,
    /// From the earliest to the latest arrival.
    pub duration_s: f64,
    /// Requests per second over `duration_s` (0 when it is 0).
    pub mean_rate_rps: f64,
    /// The busiest minute's requests per second (minutes counted from the first arrival).
    pub peak_rate_rps_1m: f64,
    /// Requests per second of each minute, empty minutes included.
    pub rate_rps_1m: Summary,
    pub prompt_tokens: Summary,
    pub output_tokens: Summary,
    /// The per-minute rate as one line of block characters (at most 60, each the mean of
    /// its share of the minutes), scaled to the busiest one.
    pub sparkline: String,
}

/// Accumulates [`TraceStats`] one request at a time.
#[derive(Debug, Default)]
pub struct StatsBuilder {
    requests: u64,
    failed: u64,
    first_us: Option<i64>,
    min_us: i64,
    max_us: i64,
    per_minute: BTreeMap<i64, u64>,
    prompt: Distribution,
    output: Distribution,
}

impl StatsBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, request: &Request) {
        if self.first_us.is_none() {
            (self.min_us, self.max_us) = (request.arrival_us, request.arrival_us);
        }
        let first = *self.first_us.get_or_insert(request.arrival_us);
        self.requests += 1;
        self.failed += u64::from(request.failed);
        self.min_us = self.min_us.min(request.arrival_us);
        self.max_us = self.max_us.max(request.arrival_us);
        // Minutes count from the first arrival; unsorted input only adds earlier minutes.
        let minute = request
            .arrival_us
            .saturating_sub(first)
            .div_euclid(MINUTE_US);
        *self.per_minute.entry(minute).or_default() += 1;
        self.prompt.add(request.prompt_tokens);
        self.output.add(request.output_tokens);
    }

    pub fn finish(self) -> TraceStats {
        let duration_s = self.max_us.saturating_sub(self.min_us) as f64 / 1e6;
        let mean_rate_rps = if duration_s > 0.0 {
            self.requests as f64 / duration_s
        } else {
            0.0
        };
        let minutes = minute_rates(&self.per_minute);
        // A trace shorter than a minute has no full minute: its busiest minute is the
        // whole trace, at the mean rate (a count over 60 s would read lower).
        let peak_rate_rps_1m = if duration_s < 60.0 {
            mean_rate_rps
        } else {
            minutes.summary.max
        };
        TraceStats {
            requests: self.requests,
            failed: self.failed,
            duration_s,
            mean_rate_rps,
            peak_rate_rps_1m,
            rate_rps_1m: minutes.summary,
            prompt_tokens: self.prompt.summary(),
            output_tokens: self.output.summary(),
            sparkline: minutes.sparkline,
        }
    }
}

/// Statistics of any iterator of requests; stops at the first error.
pub fn compute_stats(
    requests: impl Iterator<Item = Result<Request, TraceError>>,
) -> Result<TraceStats, TraceError> {
    let mut builder = StatsBuilder::new();
    for request in requests {
        builder.add(&request?);
    }
    Ok(builder.finish())
}

/// The `trace inspect` document (see CONTRACTS.md): the statistics plus what was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    pub path: String,
    pub format: String,
    pub container: String,
    pub requests: u64,
    /// ISO-8601 UTC of arrival 0 when the format has absolute time, else null.
    pub start: Option<String>,
    pub duration_s: f64,
    pub mean_rate_rps: f64,
    pub peak_rate_rps_1m: f64,
    pub prompt_tokens: Summary,
    pub output_tokens: Summary,
    pub failed: u64,
    pub rate_rps_1m: Summary,
    pub sparkline: String,
}

/// Reads a whole trace and describes it.
pub fn inspect(path: &Path, options: &ReadOptions) -> Result<Inspection, TraceError> {
    let mut reader = open(path, options)?;
    let format: TraceFormat = reader.format();
    let container: Container = reader.container();
    let start = reader.start_iso();
    let stats = compute_stats(&mut reader)?;
    Ok(Inspection {
        path: path.display().to_string(),
        format: format.name().to_string(),
        container: container.name().to_string(),
        requests: stats.requests,
        start,
        duration_s: stats.duration_s,
        mean_rate_rps: stats.mean_rate_rps,
        peak_rate_rps_1m: stats.peak_rate_rps_1m,
        prompt_tokens: stats.prompt_tokens,
        output_tokens: stats.output_tokens,
        failed: stats.failed,
        rate_rps_1m: stats.rate_rps_1m,
        sparkline: stats.sparkline,
    })
}

impl Inspection {
    /// A short human-readable report.
    pub fn to_text(&self) -> String {
        let tokens = |s: &Summary| {
            format!(
                "mean {:.1}  p50 {}  p90 {}  p99 {}  max {}",
                s.mean, s.p50, s.p90, s.p99, s.max
            )
        };
        let mut text = format!(
            "{}\n  format      {} ({})\n  requests    {} ({} failed)\n  start       {}\n  duration    {:.1} s\n  rate        mean {:.2} req/s, peak 1-min {:.2} req/s, per-minute p50 {:.2} p90 {:.2} p99 {:.2}\n",
            self.path,
            self.format,
            self.container,
            self.requests,
            self.failed,
            self.start.as_deref().unwrap_or("(relative times)"),
            self.duration_s,
            self.mean_rate_rps,
            self.peak_rate_rps_1m,
            self.rate_rps_1m.p50,
            self.rate_rps_1m.p90,
            self.rate_rps_1m.p99,
        );
        text.push_str(&format!("  prompt      {}\n", tokens(&self.prompt_tokens)));
        text.push_str(&format!("  output      {}\n", tokens(&self.output_tokens)));
        text.push_str(&format!("  per minute  {}\n", self.sparkline));
        text
    }
}

struct MinuteRates {
    summary: Summary,
    sparkline: String,
}

fn minute_rates(per_minute: &BTreeMap<i64, u64>) -> MinuteRates {
    let (Some((&first_minute, _)), Some((&last_minute, _))) =
        (per_minute.first_key_value(), per_minute.last_key_value())
    else {
        return MinuteRates {
            summary: Summary::default(),
            sparkline: String::new(),
        };
    };
    let total_minutes = (last_minute - first_minute) as u64 + 1;
    let mut counts: Vec<u64> = per_minute.values().copied().collect();
    counts.sort_unstable();
    let empty = total_minutes - counts.len() as u64;
    // Nearest rank over the empty minutes (zeros, first) followed by the sorted counts.
    let at_rank = |p: f64| {
        let rank = nearest_rank(p, total_minutes);
        if rank <= empty {
            0.0
        } else {
            counts[(rank - empty - 1) as usize] as f64 / 60.0
        }
    };
    let total: u64 = counts.iter().sum();
    let summary = Summary {
        mean: total as f64 / 60.0 / total_minutes as f64,
        p50: at_rank(0.50),
        p90: at_rank(0.90),
        p99: at_rank(0.99),
        max: counts.last().copied().unwrap_or(0) as f64 / 60.0,
    };
    MinuteRates {
        summary,
        sparkline: sparkline(per_minute, first_minute, total_minutes),
    }
}

fn sparkline(per_minute: &BTreeMap<i64, u64>, first_minute: i64, total_minutes: u64) -> String {
    let width = total_minutes.min(SPARKLINE_WIDTH);
    let cells: Vec<f64> = (0..width)
        .map(|cell| {
            let from = (cell * total_minutes / width) as i64;
            let to = ((cell + 1) * total_minutes / width) as i64;
            let range = first_minute + from..first_minute + to;
            let sum: u64 = per_minute.range(range).map(|(_, count)| count).sum();
            sum as f64 / (to - from) as f64
        })
        .collect();
    let peak = cells.iter().copied().fold(0.0, f64::max);
    cells
        .iter()
        .map(|&value| {
            let level = if peak > 0.0 {
                (value / peak * 7.0).round() as usize
            } else {
                0
            };
            SPARK_LEVELS[level.min(7)]
        })
        .collect()
}

/// The 1-based nearest rank of percentile `p` among `n` values: `ceil(p * n)`, at least 1.
fn nearest_rank(p: f64, n: u64) -> u64 {
    ((p * n as f64).ceil() as u64).clamp(1, n.max(1))
}

/// Token counts: exact while small, a fixed-size histogram beyond [`EXACT_LIMIT`].
#[derive(Debug)]
enum Distribution {
    Exact(Vec<u32>),
    Histogram(LogHistogram),
}

impl Default for Distribution {
    fn default() -> Self {
        Distribution::Exact(Vec::new())
    }
}

impl Distribution {
    fn add(&mut self, value: u32) {
        match self {
            Distribution::Exact(values) if values.len() < EXACT_LIMIT => values.push(value),
            Distribution::Exact(values) => {
                let mut histogram = LogHistogram::new();
                for &v in values.iter() {
                    histogram.add(v);
                }
                histogram.add(value);
                *self = Distribution::Histogram(histogram);
            }
            Distribution::Histogram(histogram) => histogram.add(value),
        }
    }

    fn summary(self) -> Summary {
        match self {
            Distribution::Exact(mut values) if !values.is_empty() => {
                values.sort_unstable();
                let n = values.len() as u64;
                let at = |p: f64| f64::from(values[(nearest_rank(p, n) - 1) as usize]);
                let sum: u64 = values.iter().map(|&v| u64::from(v)).sum();
                Summary {
                    mean: sum as f64 / n as f64,
                    p50: at(0.50),
                    p90: at(0.90),
                    p99: at(0.99),
                    max: f64::from(values[values.len() - 1]),
                }
            }
            Distribution::Exact(_) => Summary::default(),
            Distribution::Histogram(histogram) => histogram.summary(),
        }
    }
}

/// Counts per bucket: one bucket per value below 2^11, then 1024 buckets per power of two.
#[derive(Debug)]
struct LogHistogram {
    counts: Vec<u64>,
    total: u64,
    sum: u64,
    max: u32,
}

const LINEAR: u32 = 2048;
const SUB_BUCKETS: u32 = 1024;

impl LogHistogram {
    fn new() -> Self {
        LogHistogram {
            counts: vec![0; (LINEAR + (32 - 11) * SUB_BUCKETS) as usize],
            total: 0,
            sum: 0,
            max: 0,
        }
    }

    fn index(value: u32) -> usize {
        if value < LINEAR {
            return value as usize;
        }
        let exponent = 31 - value.leading_zeros(); // >= 11
        let sub = (value >> (exponent - 10)) & (SUB_BUCKETS - 1);
        (LINEAR + (exponent - 11) * SUB_BUCKETS + sub) as usize
    }

    /// The middle of a bucket's value range.
    fn value(index: usize) -> f64 {
        let index = index as u32;
        if index < LINEAR {
            return f64::from(index);
        }
        let exponent = (index - LINEAR) / SUB_BUCKETS + 11;
        let sub = (index - LINEAR) % SUB_BUCKETS;
        let low = u64::from(SUB_BUCKETS + sub) << (exponent - 10);
        let width = 1u64 << (exponent - 10);
        (low as f64) + (width as f64 - 1.0) / 2.0
    }

    fn add(&mut self, value: u32) {
        self.counts[Self::index(value)] += 1;
        self.total += 1;
        self.sum += u64::from(value);
        self.max = self.max.max(value);
    }

    fn summary(&self) -> Summary {
        let at = |p: f64| {
            let rank = nearest_rank(p, self.total);
            let mut seen = 0;
            for (index, &count) in self.counts.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return Self::value(index).min(f64::from(self.max));
                }
            }
            f64::from(self.max)
        };
        Summary {
            mean: self.sum as f64 / self.total.max(1) as f64,
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: f64::from(self.max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(arrival_s: f64, prompt: u32, output: u32) -> Request {
        Request {
            arrival_us: (arrival_s * 1e6) as i64,
            prompt_tokens: prompt,
            output_tokens: output,
            prefix_blocks: Vec::new(),
            tenant: None,
            model: None,
            priority: None,
            failed: output == 0,
        }
    }

    #[test]
    fn rates_and_percentiles_of_a_small_trace() {
        // 120 requests in minute 0, none in minute 1, 60 in minute 2.
        let mut requests: Vec<Request> = (0..120).map(|i| request(i as f64 * 0.5, i, 10)).collect();
        requests.extend((0..60).map(|i| request(120.0 + i as f64, 1000, 0)));
        let stats = compute_stats(requests.into_iter().map(Ok)).unwrap();
        assert_eq!(stats.requests, 180);
        assert_eq!(stats.failed, 60);
        assert_eq!(stats.duration_s, 179.0);
        assert_eq!(stats.peak_rate_rps_1m, 2.0);
        assert_eq!(stats.rate_rps_1m.p50, 1.0);
        assert_eq!(stats.rate_rps_1m.mean, 1.0);
        assert_eq!(stats.prompt_tokens.max, 1000.0);
        assert_eq!(stats.prompt_tokens.p50, 89.0);
        assert_eq!(stats.sparkline, "█▁▅");
    }

    #[test]
    fn unsorted_and_extreme_arrivals_do_not_panic() {
        let requests = [
            request(100.0, 1, 1),
            request(0.0, 2, 2),
            request(50.0, 3, 3),
        ];
        let stats = compute_stats(requests.into_iter().map(Ok)).unwrap();
        assert_eq!(stats.duration_s, 100.0);
        assert_eq!(stats.sparkline.chars().count(), 3);
        let mut extreme = request(0.0, 1, 1);
        extreme.arrival_us = i64::MIN;
        let mut other = request(0.0, 1, 1);
        other.arrival_us = i64::MAX;
        let stats = compute_stats([Ok(other), Ok(extreme)].into_iter()).unwrap();
        assert_eq!(stats.requests, 2);
    }

    #[test]
    fn empty_trace_has_zero_statistics() {
        let stats = compute_stats(std::iter::empty()).unwrap();
        assert_eq!(stats.requests, 0);
        assert_eq!(stats.mean_rate_rps, 0.0);
        assert_eq!(stats.sparkline, "");
    }

    #[test]
    fn histogram_is_exact_below_2048_and_close_above() {
        let mut histogram = LogHistogram::new();
        for value in 0..100_000u32 {
            histogram.add(value);
        }
        let summary = histogram.summary();
        assert_eq!(summary.max, 99_999.0);
        assert!(
            (summary.p50 - 50_000.0).abs() / 50_000.0 < 0.001,
            "{}",
            summary.p50
        );
        assert!(
            (summary.p99 - 99_000.0).abs() / 99_000.0 < 0.001,
            "{}",
            summary.p99
        );
        let mut small = LogHistogram::new();
        for value in [1, 2, 3, 2000] {
            small.add(value);
        }
        assert_eq!(small.summary().p50, 2.0);
        assert_eq!(small.summary().p90, 2000.0);
        assert_eq!(LogHistogram::index(u32::MAX) + 1, small.counts.len());
    }
}
