//! The operator's own Prometheus metrics, served on `/metrics`: decisions by scaler,
//! reason and outcome, errors by kind, source fetch latency, and whether this replica
//! leads.

use engine::status::Applied;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the fetch latency histogram.
pub const LATENCY_BUCKETS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Debug, Default)]
struct Counts {
    decisions: BTreeMap<(String, String, &'static str), u64>,
    errors: BTreeMap<&'static str, u64>,
    latency_buckets: [u64; LATENCY_BUCKETS.len()],
    latency_count: u64,
    latency_sum: f64,
    leader: bool,
}

/// Counters shared by the loop and the metrics server.
#[derive(Debug, Default)]
pub struct OperatorMetrics {
    counts: Mutex<Counts>,
}

impl OperatorMetrics {
    fn with<T>(&self, f: impl FnOnce(&mut Counts) -> T) -> T {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut counts)
    }

    /// One decision of `scaler` for `reason`, applied or not.
    pub fn decision(&self, scaler: &str, reason: &str, applied: Applied) {
        let outcome = match applied {
            Applied::Yes => "applied",
            Applied::Failed => "failed",
            Applied::Shadow => "shadow",
        };
        self.with(|c| {
            *c.decisions
                .entry((scaler.to_string(), reason.to_string(), outcome))
                .or_default() += 1
        });
    }

    /// One error of `kind` (`source`, `get_scale`, `status`, …).
    pub fn error(&self, kind: &'static str) {
        self.with(|c| *c.errors.entry(kind).or_default() += 1);
    }

    /// One source fetch that took `took`.
    pub fn fetch_latency(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        self.with(|c| {
            for (bucket, bound) in c.latency_buckets.iter_mut().zip(LATENCY_BUCKETS) {
                if seconds <= bound {
                    *bucket += 1;
                }
            }
            c.latency_count += 1;
            c.latency_sum += seconds;
        });
    }

    /// Whether this replica holds the leader lease.
    pub fn set_leader(&self, leader: bool) {
        self.with(|c| c.leader = leader);
    }

    /// Errors of `kind` so far.
    pub fn errors(&self, kind: &str) -> u64 {
        self.with(|c| c.errors.get(kind).copied().unwrap_or(0))
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        self.with(|c| {
            let mut out = String::new();
            out.push_str("# HELP budscaler_operator_decisions_total Decisions taken, by scaler, reason and outcome.\n");
            out.push_str("# TYPE budscaler_operator_decisions_total counter\n");
            for ((scaler, reason, outcome), n) in &c.decisions {
                let _ = writeln!(
                    out,
                    "budscaler_operator_decisions_total{{scaler=\"{}\",reason=\"{}\",outcome=\"{outcome}\"}} {n}",
                    escape(scaler),
                    escape(reason)
                );
            }
            out.push_str("# HELP budscaler_operator_errors_total Errors, by kind.\n");
            out.push_str("# TYPE budscaler_operator_errors_total counter\n");
            for (kind, n) in &c.errors {
                let _ = writeln!(out, "budscaler_operator_errors_total{{kind=\"{kind}\"}} {n}");
            }
            out.push_str("# HELP budscaler_operator_fetch_seconds Time to fetch one metric source.\n");
            out.push_str("# TYPE budscaler_operator_fetch_seconds histogram\n");
            for (bound, n) in LATENCY_BUCKETS.iter().zip(c.latency_buckets) {
                let _ = writeln!(out, "budscaler_operator_fetch_seconds_bucket{{le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "budscaler_operator_fetch_seconds_bucket{{le=\"+Inf\"}} {}", c.latency_count);
            let _ = writeln!(out, "budscaler_operator_fetch_seconds_sum {}", c.latency_sum);
            let _ = writeln!(out, "budscaler_operator_fetch_seconds_count {}", c.latency_count);
            out.push_str("# HELP budscaler_operator_leader Whether this replica holds the leader lease.\n");
            out.push_str("# TYPE budscaler_operator_leader gauge\n");
            let _ = writeln!(out, "budscaler_operator_leader {}", u8::from(c.leader));
            out
        })
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_parses_and_counts_what_happened() {
        let metrics = OperatorMetrics::default();
        metrics.decision("ns/a", "ScaleUp", Applied::Yes);
        metrics.decision("ns/a", "ScaleUp", Applied::Yes);
        metrics.decision("ns/b", "Hold", Applied::Shadow);
        metrics.error("source");
        metrics.fetch_latency(Duration::from_millis(20));
        metrics.set_leader(true);
        let scrape = traces::metrics::prometheus::Scrape::parse(&metrics.render()).unwrap();
        assert_eq!(
            scrape.counter(
                "budscaler_operator_decisions_total",
                &[("scaler", "ns/a"), ("outcome", "applied")]
            ),
            Some(2.0)
        );
        assert_eq!(
            scrape.counter("budscaler_operator_errors_total", &[("kind", "source")]),
            Some(1.0)
        );
        let latency = scrape
            .histogram("budscaler_operator_fetch_seconds", &[])
            .unwrap();
        assert_eq!(latency.count, 1.0);
        assert_eq!(scrape.gauge("budscaler_operator_leader", &[]), Some(1.0));
        assert_eq!(metrics.errors("source"), 1);
    }
}
