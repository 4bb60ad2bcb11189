//! What one replica exports at a scrape, as a real one would: vLLM's `/metrics`
//! families and dcgm-exporter's fields for each of its GPUs.
//!
//! The replica keeps counters and histograms as vLLM does (bucket bounds from vLLM v1's
//! `vllm/v1/metrics/loggers.py`); a scrape builds a [`Scrape`] of them, which the loop
//! renders to text and parses back before the engine sees it. Two simplifications,
//! both forced by decode steps being simulated in closed-form runs: generation tokens
//! after the first are counted when the request finishes, and a request's inter-token
//! gaps enter the ITL histogram as `output - 1` observations of its mean gap.

use crate::queue::TimeUs;
use traces::metrics::dcgm;
use traces::metrics::prometheus::{MetricFamily, MetricKind, Sample, Scrape};

/// `vllm:time_to_first_token_seconds` bucket bounds.
pub const TTFT_BUCKETS: [f64; 22] = [
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
];
/// `vllm:inter_token_latency_seconds` bucket bounds.
pub const ITL_BUCKETS: [f64; 19] = [
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
    40.0, 80.0,
];

/// A Prometheus histogram: per-bucket (not cumulative) counts, the `+Inf` bucket last.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    /// An empty histogram over ascending bucket upper `bounds` (the `le` labels).
    pub fn new(bounds: &'static [f64]) -> Self {
        assert!(
            bounds.is_sorted_by(|a, b| a < b),
            "histogram bounds must ascend strictly"
        );
        Self {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    /// Adds `times` observations of `value`.
    pub fn observe(&mut self, value: f64, times: u64) {
        // The bounds are sorted, so counting those below `value` finds its bucket; a
        // branch-free count over a few dozen bounds beats a binary search's
        // unpredictable branches (every finished request lands here twice).
        let bucket = self.bounds.iter().filter(|&&bound| bound < value).count();
        self.counts[bucket] += times;
        self.sum += value * times as f64;
        self.count += times;
    }

    fn push_samples(&self, name: &str, labels: &[(String, String)], out: &mut Vec<Sample>) {
        let mut cumulative = 0u64;
        for (index, count) in self.counts.iter().enumerate() {
            cumulative += count;
            let le = match self.bounds.get(index) {
                Some(bound) => format!("{bound}"),
                None => "+Inf".to_string(),
            };
            let mut with_le = labels.to_vec();
            with_le.push(("le".to_string(), le));
            with_le.sort();
            out.push(sample(format!("{name}_bucket"), with_le, cumulative as f64));
        }
        out.push(sample(format!("{name}_sum"), labels.to_vec(), self.sum));
        out.push(sample(
            format!("{name}_count"),
            labels.to_vec(),
            self.count as f64,
        ));
    }
}

fn sample(name: String, labels: Vec<(String, String)>, value: f64) -> Sample {
    Sample {
        name,
        labels,
        value,
        timestamp_ms: None,
    }
}

/// The counters and histograms of one vLLM server since it started.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerCounters {
    pub prompt_tokens: u64,
    pub generation_tokens: u64,
    pub requests_finished: u64,
    pub preemptions: u64,
    pub ttft: Histogram,
    pub itl: Histogram,
    /// Time from arrival to first being scheduled (vLLM's queue time; here from the
    /// arrival at the gateway, so time held there counts too).
    pub queue_time: Histogram,
}

impl Default for ServerCounters {
    fn default() -> Self {
        Self {
            prompt_tokens: 0,
            generation_tokens: 0,
            requests_finished: 0,
            preemptions: 0,
            ttft: Histogram::new(&TTFT_BUCKETS),
            itl: Histogram::new(&ITL_BUCKETS),
            queue_time: Histogram::new(&TTFT_BUCKETS),
        }
    }
}

/// The instantaneous part of a scrape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gauges {
    pub running: u32,
    pub waiting: u32,
    /// KV-cache use, 0..=1.
    pub kv_usage: f64,
}

fn family(name: &str, help: &str, kind: MetricKind, samples: Vec<Sample>) -> MetricFamily {
    MetricFamily {
        name: name.to_string(),
        help: Some(help.to_string()),
        unit: None,
        kind,
        samples,
    }
}

/// Every family [`vllm_scrape`] can export, in export order.
pub const VLLM_FAMILIES: [&str; 10] = [
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:kv_cache_usage_perc",
    "vllm:prompt_tokens_total",
    "vllm:generation_tokens_total",
    "vllm:request_success_total",
    "vllm:num_preemptions_total",
    "vllm:time_to_first_token_seconds",
    "vllm:inter_token_latency_seconds",
    "vllm:request_queue_time_seconds",
];

/// vLLM's `/metrics` for `model`: the families of [`VLLM_FAMILIES`] that `keep` accepts.
pub fn vllm_scrape(
    model: &str,
    gauges: Gauges,
    counters: &ServerCounters,
    keep: impl Fn(&str) -> bool,
) -> Scrape {
    let labels = vec![
        ("engine".to_string(), "0".to_string()),
        ("model_name".to_string(), model.to_string()),
    ];
    let single = |name: &str, help: &str, kind: MetricKind, value: f64| {
        family(
            name,
            help,
            kind,
            vec![sample(name.to_string(), labels.clone(), value)],
        )
    };
    let histogram = |name: &str, help: &str, histogram: &Histogram| {
        let mut samples = Vec::with_capacity(histogram.counts.len() + 2);
        histogram.push_samples(name, &labels, &mut samples);
        family(name, help, MetricKind::Histogram, samples)
    };
    let mut families = Vec::new();
    for name in VLLM_FAMILIES.into_iter().filter(|name| keep(name)) {
        let (gauge, counter) = (MetricKind::Gauge, MetricKind::Counter);
        families.push(match name {
            "vllm:num_requests_running" => single(
                name,
                "Number of requests in model execution batches.",
                gauge,
                f64::from(gauges.running),
            ),
            "vllm:num_requests_waiting" => single(
                name,
                "Number of requests waiting to be processed.",
                gauge,
                f64::from(gauges.waiting),
            ),
            "vllm:kv_cache_usage_perc" => single(
                name,
                "KV-cache usage. 1 means 100 percent usage.",
                gauge,
                gauges.kv_usage,
            ),
            "vllm:prompt_tokens_total" => single(
                name,
                "Number of prefill tokens processed.",
                counter,
                counters.prompt_tokens as f64,
            ),
            "vllm:generation_tokens_total" => single(
                name,
                "Number of generation tokens processed.",
                counter,
                counters.generation_tokens as f64,
            ),
            "vllm:request_success_total" => single(
                name,
                "Count of successfully processed requests.",
                counter,
                counters.requests_finished as f64,
            ),
            "vllm:num_preemptions_total" => single(
                name,
                "Cumulative number of preemption from the engine.",
                counter,
                counters.preemptions as f64,
            ),
            "vllm:time_to_first_token_seconds" => histogram(
                name,
                "Histogram of time to first token in seconds.",
                &counters.ttft,
            ),
            "vllm:request_queue_time_seconds" => histogram(
                name,
                "Histogram of time spent in WAITING phase for request.",
                &counters.queue_time,
            ),
            _ => histogram(
                name,
                "Histogram of inter-token latency in seconds.",
                &counters.itl,
            ),
        });
    }
    Scrape { families }
}

/// One GPU's DCGM readings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuReading {
    /// Percent of the last scrape interval a kernel was running, 0..=100.
    pub utilization_pct: f64,
    pub fb_used_mib: f64,
    pub fb_free_mib: f64,
    pub power_watts: f64,
    /// Share of the interval the tensor pipe was busy, 0..=1: the steps' roofline
    /// compute time ÷ the interval.
    pub tensor_active: f64,
}

/// dcgm-exporter's lines for the `gpus` GPUs of pod `pod` on node `node`.
pub fn dcgm_scrape(
    pod: &str,
    node: &str,
    gpu_model: &str,
    gpus: u32,
    reading: GpuReading,
) -> Scrape {
    let fields: [(&str, &str, f64); 5] = [
        (
            dcgm::GPU_UTIL,
            "GPU utilization (in %).",
            reading.utilization_pct.round(),
        ),
        (
            dcgm::FB_USED,
            "Framebuffer memory used (in MiB).",
            reading.fb_used_mib.round(),
        ),
        (
            dcgm::FB_FREE,
            "Framebuffer memory free (in MiB).",
            reading.fb_free_mib.round(),
        ),
        (dcgm::POWER_USAGE, "Power draw (in W).", reading.power_watts),
        (
            dcgm::TENSOR_ACTIVE,
            "Ratio of cycles the tensor (HMMA) pipe is active.",
            (reading.tensor_active * 1e4).round() / 1e4,
        ),
    ];
    let families = fields
        .iter()
        .map(|(name, help, value)| {
            let samples = (0..gpus)
                .map(|gpu| {
                    let labels = vec![
                        ("Hostname".to_string(), node.to_string()),
                        ("UUID".to_string(), format!("GPU-{node}-{gpu}")),
                        ("container".to_string(), "vllm".to_string()),
                        ("gpu".to_string(), gpu.to_string()),
                        ("modelName".to_string(), gpu_model.to_string()),
                        ("namespace".to_string(), "default".to_string()),
                        ("pod".to_string(), pod.to_string()),
                    ];
                    sample(name.to_string(), labels, *value)
                })
                .collect();
            family(name, help, MetricKind::Gauge, samples)
        })
        .collect();
    Scrape { families }
}

/// Busy time of a replica's GPUs (some request in the engine), for `DCGM_FI_DEV_GPU_UTIL`,
/// and its compute time at the previous scrape, for the tensor-pipe activity.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BusyClock {
    since: Option<TimeUs>,
    total_us: TimeUs,
    /// Busy total at the previous scrape, and its time.
    scraped_total_us: TimeUs,
    scraped_at: Option<TimeUs>,
    scraped_compute_fs: crate::perf::Fs,
}

impl BusyClock {
    /// Records whether the engine holds work from `now` on.
    pub fn set(&mut self, now: TimeUs, busy: bool) {
        match (self.since, busy) {
            (None, true) => self.since = Some(now),
            (Some(since), false) => {
                self.total_us += now - since;
                self.since = None;
            }
            _ => {}
        }
    }

    /// Since the previous scrape (or `start`): the percent of the time the GPUs were
    /// busy, and the share of it the tensor pipe was (from the replica's cumulative
    /// compute time `compute_fs`).
    pub fn since_last(
        &mut self,
        now: TimeUs,
        start: TimeUs,
        compute_fs: crate::perf::Fs,
    ) -> (f64, f64) {
        let total = self.total_us + self.since.map_or(0, |since| now - since);
        let from = self.scraped_at.unwrap_or(start);
        let busy = total - self.scraped_total_us;
        let compute = compute_fs - self.scraped_compute_fs;
        self.scraped_total_us = total;
        self.scraped_at = Some(now);
        self.scraped_compute_fs = compute_fs;
        if now > from {
            let interval_fs = ((now - from) as f64) * crate::perf::FS_PER_US as f64;
            (
                (100.0 * busy as f64 / (now - from) as f64).clamp(0.0, 100.0),
                (compute as f64 / interval_fs).clamp(0.0, 1.0),
            )
        } else {
            (0.0, 0.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use traces::metrics::prometheus::{parse_text, render_text};

    #[test]
    fn scrapes_render_and_parse_back_equal() {
        let mut counters = ServerCounters::default();
        counters.ttft.observe(0.3, 1);
        counters.ttft.observe(3000.0, 2);
        counters.itl.observe(0.02, 99);
        counters.prompt_tokens = 1234;
        let gauges = Gauges {
            running: 3,
            waiting: 1,
            kv_usage: 0.123456789,
        };
        let scrape = vllm_scrape("llama-3.1-8b", gauges, &counters, |_| true);
        assert_eq!(scrape.families.len(), VLLM_FAMILIES.len());
        let waiting = vllm_scrape("m", gauges, &counters, |name| name.ends_with("waiting"));
        assert_eq!(waiting.sample_count(), 1);
        assert_eq!(parse_text(&render_text(&scrape)).unwrap(), scrape);
        let histogram = scrape
            .histogram("vllm:time_to_first_token_seconds", &[])
            .unwrap();
        assert_eq!(histogram.count, 3.0);
        assert_eq!(histogram.buckets.last().unwrap().1, 3.0);
        let reading = GpuReading {
            utilization_pct: 42.0,
            fb_used_mib: 72000.0,
            fb_free_mib: 9000.0,
            power_watts: 345.5,
            tensor_active: 0.3125,
        };
        let gpus = dcgm_scrape("llm-3", "node-3", "NVIDIA H100 80GB HBM3", 2, reading);
        assert_eq!(parse_text(&render_text(&gpus)).unwrap(), gpus);
        assert_eq!(gpus.sample_count(), 10);
    }

    #[test]
    fn busy_clock_measures_share_of_interval() {
        let mut clock = BusyClock::default();
        clock.set(10, true);
        clock.set(30, false);
        clock.set(90, true);
        let fs = crate::perf::FS_PER_US;
        assert_eq!(clock.since_last(100, 0, 25 * fs), (30.0, 0.25));
        assert_eq!(clock.since_last(200, 0, 75 * fs), (100.0, 0.5));
    }
}
