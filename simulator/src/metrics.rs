//! Per-request outcomes, per-second replica series, and the statistics over them.

use crate::queue::TimeUs;
use serde::Serialize;

/// What happened to one request of the input, in simulated microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RequestOutcome {
    /// When the request reached the fleet (its queue time on the replica).
    pub arrival_us: TimeUs,
    /// Replica it was routed to (`None` until routed).
    pub replica: Option<u32>,
    /// When it was first scheduled.
    pub scheduled_us: Option<TimeUs>,
    /// When its first output token was emitted.
    pub first_token_us: Option<TimeUs>,
    /// When its last output token was emitted.
    pub last_token_us: Option<TimeUs>,
    /// Output tokens it generated.
    pub output_tokens: u32,
    /// Times it was preempted and recomputed.
    pub preemptions: u32,
    /// It could never fit in a replica's KV cache and was dropped.
    pub rejected: bool,
}

impl RequestOutcome {
    /// Time to first token, seconds.
    pub fn ttft_s(&self) -> Option<f64> {
        ttft_s(self.arrival_us, self.first_token_us)
    }

    /// Time per output token after the first, seconds (`None` with one output token).
    pub fn tpot_s(&self) -> Option<f64> {
        tpot_s(self.first_token_us, self.last_token_us, self.output_tokens)
    }

    /// End-to-end latency, seconds.
    pub fn e2e_s(&self) -> Option<f64> {
        e2e_s(self.arrival_us, self.last_token_us)
    }
}

/// Time to first token in seconds, once the first token exists. Shared by every record
/// of a request's timing so all reports compute latencies the same way.
pub fn ttft_s(arrival_us: TimeUs, first_token_us: Option<TimeUs>) -> Option<f64> {
    first_token_us.map(|first| (first - arrival_us) as f64 / 1e6)
}

/// Time per output token after the first, in seconds; `None` until the last token, and
/// for a one-token request, which has no inter-token gap.
pub fn tpot_s(
    first_token_us: Option<TimeUs>,
    last_token_us: Option<TimeUs>,
    output_tokens: u32,
) -> Option<f64> {
    match (first_token_us, last_token_us) {
        (Some(first), Some(last)) if output_tokens > 1 => {
            Some((last - first) as f64 / 1e6 / f64::from(output_tokens - 1))
        }
        _ => None,
    }
}

/// End-to-end latency in seconds, once the last token exists.
pub fn e2e_s(arrival_us: TimeUs, last_token_us: Option<TimeUs>) -> Option<f64> {
    last_token_us.map(|last| (last - arrival_us) as f64 / 1e6)
}

/// A reading of one replica at one sample time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReplicaSample {
    pub time_us: TimeUs,
    pub replica: u32,
    pub running: u32,
    pub waiting: u32,
    /// Share of KV blocks held by running requests, percent (vLLM's `kv_cache_usage_perc` x 100).
    pub kv_cache_pct: f64,
}

/// Mean and percentiles of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

impl Summary {
    /// Summary of `values` (`None` when empty).
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            p50: percentile_sorted(&sorted, 50.0),
            p90: percentile_sorted(&sorted, 90.0),
            p99: percentile_sorted(&sorted, 99.0),
        })
    }
}

/// Percentile `p` (0-100) of ascending `sorted`, interpolating linearly between ranks
/// (NumPy's default), so results match the usual analysis scripts.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
            let low = rank.floor() as usize;
            let high = (low + 1).min(n - 1);
            sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let values = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile_sorted(&values, 50.0), 2.5);
        assert!((percentile_sorted(&values, 90.0) - 3.7).abs() < 1e-12);
        let summary = Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(summary.mean, 2.5);
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn latencies_follow_the_recording_definitions() {
        let outcome = RequestOutcome {
            arrival_us: 1_000_000,
            replica: Some(0),
            scheduled_us: Some(1_000_000),
            first_token_us: Some(3_000_000),
            last_token_us: Some(5_000_000),
            output_tokens: 5,
            preemptions: 0,
            rejected: false,
        };
        assert_eq!(outcome.ttft_s(), Some(2.0));
        assert_eq!(outcome.tpot_s(), Some(0.5));
        assert_eq!(outcome.e2e_s(), Some(4.0));
    }
}
