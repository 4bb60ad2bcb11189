//! Engine-independent signals found in engine-specific metric names.
//!
//! A scaler asks for "the queue length" or "KV-cache use"; each engine exports these
//! under its own names, and the names change between releases (vLLM v0 → v1 renamed
//! `gpu_cache_usage_perc` to `kv_cache_usage_perc`). [`candidates`] lists, per engine
//! and signal, the metric names to try in order; [`find`] picks the first one present
//! and reads it with the right aggregation and scale.
//!
//! Names were checked against the engines' sources and documentation: vLLM
//! (`vllm/engine/metrics.py`, `vllm/v1/metrics/loggers.py`), TGI (`docs/.../metrics.md`),
//! SGLang (`sglang/srt/metrics/collector.py`) and Triton with the TensorRT-LLM backend
//! (`nv_inference_*`, `nv_trt_llm_*`).

use super::prometheus::Scrape;
use std::fmt;
use std::str::FromStr;

/// A quantity a scaler can act on, named independently of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Signal {
    /// KV-cache use as a fraction 0..=1 (averaged over engines/ranks).
    KvCacheUsage,
    /// Requests waiting to be scheduled.
    QueueLength,
    /// Requests being processed (in the running batch).
    RunningRequests,
    /// Counter: prompt tokens processed since start.
    PromptTokensTotal,
    /// Counter: generated tokens since start.
    GenerationTokensTotal,
    /// Counter: requests finished since start.
    RequestsFinishedTotal,
    /// Mean time to first token in seconds, since start (histogram `sum / count`).
    Ttft,
    /// Mean inter-token latency (time per output token) in seconds, since start.
    Itl,
    /// Mean end-to-end request latency in seconds, since start.
    E2eLatency,
    /// Mean time spent queued in seconds, since start.
    QueueTime,
    /// Counter: preemptions since start.
    Preemptions,
    /// Current batch size (requests in the batch being run).
    BatchSize,
    /// Generation throughput in tokens per second, where the engine exports it as a gauge.
    GenerationThroughput,
}

impl Signal {
    /// Every signal, in declaration order.
    pub const ALL: [Signal; 13] = [
        Signal::KvCacheUsage,
        Signal::QueueLength,
        Signal::RunningRequests,
        Signal::PromptTokensTotal,
        Signal::GenerationTokensTotal,
        Signal::RequestsFinishedTotal,
        Signal::Ttft,
        Signal::Itl,
        Signal::E2eLatency,
        Signal::QueueTime,
        Signal::Preemptions,
        Signal::BatchSize,
        Signal::GenerationThroughput,
    ];

    /// The canonical snake_case name, as written in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Signal::KvCacheUsage => "kv_cache_usage",
            Signal::QueueLength => "queue_length",
            Signal::RunningRequests => "running_requests",
            Signal::PromptTokensTotal => "prompt_tokens_total",
            Signal::GenerationTokensTotal => "generation_tokens_total",
            Signal::RequestsFinishedTotal => "requests_finished_total",
            Signal::Ttft => "ttft",
            Signal::Itl => "itl",
            Signal::E2eLatency => "e2e_latency",
            Signal::QueueTime => "queue_time",
            Signal::Preemptions => "preemptions",
            Signal::BatchSize => "batch_size",
            Signal::GenerationThroughput => "generation_throughput",
        }
    }

    /// Other spellings accepted from manifests (compared after lowercasing and turning
    /// `-` and spaces into `_`).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Signal::KvCacheUsage => &[
                "kv_cache",
                "kv_usage",
                "kv_cache_usage_perc",
                "cache_usage",
                "kv",
            ],
            Signal::QueueLength => &[
                "queue",
                "waiting",
                "num_requests_waiting",
                "queue_size",
                "pending",
            ],
            Signal::RunningRequests => &[
                "running",
                "num_requests_running",
                "concurrency",
                "in_flight",
            ],
            Signal::PromptTokensTotal => &["prompt_tokens", "input_tokens"],
            Signal::GenerationTokensTotal => &["generation_tokens", "output_tokens"],
            Signal::RequestsFinishedTotal => {
                // `requests_per_second` / `rps`: Knative's rps metric, imported as this
                // counter's windowed rate per pod.
                &[
                    "requests_finished",
                    "request_success",
                    "requests_total",
                    "requests_per_second",
                    "rps",
                ]
            }
            Signal::Ttft => &["time_to_first_token"],
            Signal::Itl => &["tpot", "inter_token_latency", "time_per_output_token"],
            Signal::E2eLatency => &["e2e", "latency", "request_latency"],
            Signal::QueueTime => &["queue_duration", "queue_time_seconds"],
            Signal::Preemptions => &["preemption", "num_preemptions"],
            Signal::BatchSize => &["batch", "batch_current_size"],
            Signal::GenerationThroughput => &["gen_throughput", "throughput"],
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A signal or engine name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{found}`; expected one of: {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub found: String,
    pub expected: String,
}

fn normalize(text: &str) -> String {
    text.trim().to_ascii_lowercase().replace(['-', ' '], "_")
}

impl FromStr for Signal {
    type Err = UnknownName;

    /// Case-insensitive: `KV-Cache-Usage`, `kv_cache`, `queue`, `tpot`, ...
    fn from_str(text: &str) -> Result<Signal, UnknownName> {
        let key = normalize(text);
        Signal::ALL
            .into_iter()
            .find(|s| s.name() == key || s.aliases().contains(&key.as_str()))
            .ok_or_else(|| UnknownName {
                what: "signal",
                found: text.to_string(),
                expected: Signal::ALL.map(Signal::name).join(", "),
            })
    }
}

/// The model server that exported a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModelServer {
    Vllm,
    Tgi,
    Sglang,
    Triton,
}

impl ModelServer {
    pub const ALL: [ModelServer; 4] = [
        ModelServer::Vllm,
        ModelServer::Tgi,
        ModelServer::Sglang,
        ModelServer::Triton,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelServer::Vllm => "vllm",
            ModelServer::Tgi => "tgi",
            ModelServer::Sglang => "sglang",
            ModelServer::Triton => "triton",
        }
    }

    /// Guesses the engine from the metric names present (`vllm:`, `tgi_`, `sglang:`,
    /// `nv_inference_`/`nv_trt_llm_` prefixes); `None` when none is recognised.
    pub fn detect(scrape: &Scrape) -> Option<ModelServer> {
        let names = scrape.families.iter().map(|f| f.name.as_str());
        for name in names {
            if name.starts_with("vllm:") {
                return Some(ModelServer::Vllm);
            }
            if name.starts_with("sglang:") {
                return Some(ModelServer::Sglang);
            }
            if name.starts_with("tgi_") {
                return Some(ModelServer::Tgi);
            }
            if name.starts_with("nv_inference_") || name.starts_with("nv_trt_llm_") {
                return Some(ModelServer::Triton);
            }
        }
        None
    }
}

impl fmt::Display for ModelServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelServer {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<ModelServer, UnknownName> {
        let key = normalize(text);
        let engine = match key.as_str() {
            "vllm" => ModelServer::Vllm,
            "tgi" | "text_generation_inference" => ModelServer::Tgi,
            "sglang" => ModelServer::Sglang,
            "triton" | "tensorrt_llm" | "trtllm" => ModelServer::Triton,
            _ => {
                return Err(UnknownName {
                    what: "engine",
                    found: text.to_string(),
                    expected: ModelServer::ALL.map(ModelServer::name).join(", "),
                });
            }
        };
        Ok(engine)
    }
}

/// How a candidate metric is read out of a scrape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// Sum of all matching series (queue lengths, counters over engines and ranks).
    Sum,
    /// Mean of all matching series (fractions such as KV-cache use).
    Mean,
    /// Histogram or summary mean since start: `name_sum / name_count`.
    HistogramMean,
    /// Ratio of two counters, e.g. Triton's cumulative queue µs over its request count.
    CounterRatio { denominator: &'static str },
}

/// One metric name to try for a signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub name: &'static str,
    /// Labels a sample must carry (Triton's TRT-LLM gauges multiplex by label).
    pub selector: &'static [(&'static str, &'static str)],
    pub reading: Reading,
    /// Multiplier into the signal's unit (0..1 fractions, seconds).
    pub scale: f64,
}

const fn c(name: &'static str, reading: Reading) -> Candidate {
    Candidate {
        name,
        selector: &[],
        reading,
        scale: 1.0,
    }
}

const fn scaled(name: &'static str, reading: Reading, scale: f64) -> Candidate {
    Candidate {
        name,
        selector: &[],
        reading,
        scale,
    }
}

const fn labelled(
    name: &'static str,
    selector: &'static [(&'static str, &'static str)],
    reading: Reading,
) -> Candidate {
    Candidate {
        name,
        selector,
        reading,
        scale: 1.0,
    }
}

use Reading::{HistogramMean, Mean, Sum};

/// The metric names to try, in order, for `signal` on `engine`; empty when the engine
/// does not export it (TGI has no KV-cache gauge, Triton no TTFT).
pub fn candidates(engine: ModelServer, signal: Signal) -> Vec<Candidate> {
    match engine {
        ModelServer::Vllm => vllm(signal),
        ModelServer::Tgi => tgi(signal),
        ModelServer::Sglang => sglang(signal),
        ModelServer::Triton => triton(signal),
    }
}

fn vllm(signal: Signal) -> Vec<Candidate> {
    match signal {
        // v1 name first; v0 (and v1 until its removal) exported the deprecated one. Both 0..1.
        Signal::KvCacheUsage => vec![
            c("vllm:kv_cache_usage_perc", Mean),
            c("vllm:gpu_cache_usage_perc", Mean),
        ],
        Signal::QueueLength => vec![c("vllm:num_requests_waiting", Sum)],
        Signal::RunningRequests => vec![c("vllm:num_requests_running", Sum)],
        Signal::PromptTokensTotal => vec![
            c("vllm:prompt_tokens_total", Sum),
            c("vllm:prompt_tokens", Sum),
        ],
        Signal::GenerationTokensTotal => {
            vec![
                c("vllm:generation_tokens_total", Sum),
                c("vllm:generation_tokens", Sum),
            ]
        }
        Signal::RequestsFinishedTotal => vec![
            c("vllm:request_success_total", Sum),
            c("vllm:request_success", Sum),
        ],
        Signal::Ttft => vec![c("vllm:time_to_first_token_seconds", HistogramMean)],
        // v1 renamed the per-token gap histogram; `request_time_per_output_token` is per request.
        Signal::Itl => vec![
            c("vllm:inter_token_latency_seconds", HistogramMean),
            c("vllm:time_per_output_token_seconds", HistogramMean),
            c("vllm:request_time_per_output_token_seconds", HistogramMean),
        ],
        Signal::E2eLatency => vec![c("vllm:e2e_request_latency_seconds", HistogramMean)],
        Signal::QueueTime => vec![c("vllm:request_queue_time_seconds", HistogramMean)],
        Signal::Preemptions => vec![
            c("vllm:num_preemptions_total", Sum),
            c("vllm:num_preemptions", Sum),
        ],
        Signal::BatchSize => vec![c("vllm:num_requests_running", Sum)],
        Signal::GenerationThroughput => vec![c("vllm:avg_generation_throughput_toks_per_s", Sum)],
    }
}

fn tgi(signal: Signal) -> Vec<Candidate> {
    match signal {
        Signal::KvCacheUsage => vec![],
        Signal::QueueLength => vec![c("tgi_queue_size", Sum)],
        Signal::RunningRequests | Signal::BatchSize => vec![c("tgi_batch_current_size", Sum)],
        // TGI records token counts per request as histograms; their `_sum` is the total.
        Signal::PromptTokensTotal => vec![c("tgi_request_input_length_sum", Sum)],
        Signal::GenerationTokensTotal => vec![c("tgi_request_generated_tokens_sum", Sum)],
        Signal::RequestsFinishedTotal => vec![
            c("tgi_request_success", Sum),
            c("tgi_request_success_total", Sum),
        ],
        Signal::Ttft => vec![],
        Signal::Itl => vec![c("tgi_request_mean_time_per_token_duration", HistogramMean)],
        Signal::E2eLatency => vec![c("tgi_request_duration", HistogramMean)],
        Signal::QueueTime => vec![c("tgi_request_queue_duration", HistogramMean)],
        Signal::Preemptions => vec![],
        Signal::GenerationThroughput => vec![],
    }
}

fn sglang(signal: Signal) -> Vec<Candidate> {
    match signal {
        Signal::KvCacheUsage => vec![c("sglang:token_usage", Mean)],
        Signal::QueueLength => vec![c("sglang:num_queue_reqs", Sum)],
        Signal::RunningRequests | Signal::BatchSize => vec![c("sglang:num_running_reqs", Sum)],
        Signal::PromptTokensTotal => vec![c("sglang:prompt_tokens_total", Sum)],
        Signal::GenerationTokensTotal => vec![c("sglang:generation_tokens_total", Sum)],
        Signal::RequestsFinishedTotal => vec![c("sglang:num_requests_total", Sum)],
        Signal::Ttft => vec![c("sglang:time_to_first_token_seconds", HistogramMean)],
        Signal::Itl => vec![
            c("sglang:inter_token_latency_seconds", HistogramMean),
            c("sglang:time_per_output_token_seconds", HistogramMean),
        ],
        Signal::E2eLatency => vec![c("sglang:e2e_request_latency_seconds", HistogramMean)],
        Signal::QueueTime => vec![c("sglang:queue_time_seconds", HistogramMean)],
        Signal::Preemptions => vec![c("sglang:num_retracted_reqs_total", Sum)],
        Signal::GenerationThroughput => vec![c("sglang:gen_throughput", Sum)],
    }
}

const MICROS: f64 = 1e-6;

fn triton(signal: Signal) -> Vec<Candidate> {
    match signal {
        Signal::KvCacheUsage => vec![labelled(
            "nv_trt_llm_kv_cache_block_metrics",
            &[("kv_cache_block_type", "fraction")],
            Mean,
        )],
        Signal::QueueLength => vec![
            labelled(
                "nv_trt_llm_request_metrics",
                &[("request_type", "waiting")],
                Sum,
            ),
            c("nv_inference_pending_request_count", Sum),
        ],
        Signal::RunningRequests | Signal::BatchSize => vec![
            labelled(
                "nv_trt_llm_request_metrics",
                &[("request_type", "scheduled")],
                Sum,
            ),
            labelled(
                "nv_trt_llm_request_metrics",
                &[("request_type", "active")],
                Sum,
            ),
        ],
        Signal::PromptTokensTotal | Signal::GenerationTokensTotal => vec![],
        Signal::RequestsFinishedTotal => vec![c("nv_inference_request_success", Sum)],
        Signal::Ttft | Signal::Itl | Signal::Preemptions | Signal::GenerationThroughput => vec![],
        // Triton's durations are cumulative microsecond counters, not histograms.
        Signal::E2eLatency => vec![scaled(
            "nv_inference_request_duration_us",
            Reading::CounterRatio {
                denominator: "nv_inference_request_success",
            },
            MICROS,
        )],
        Signal::QueueTime => vec![scaled(
            "nv_inference_queue_duration_us",
            Reading::CounterRatio {
                denominator: "nv_inference_request_success",
            },
            MICROS,
        )],
    }
}

/// The value of `signal` in `scrape`, from the first candidate name present, restricted
/// to samples carrying the `selector` labels (e.g. `[("model_name", "llama")]`).
pub fn find_with(
    scrape: &Scrape,
    engine: ModelServer,
    signal: Signal,
    selector: &[(&str, &str)],
) -> Option<f64> {
    candidates(engine, signal)
        .iter()
        .find_map(|candidate| read(scrape, candidate, selector))
}

/// The value of `signal` in `scrape` over all series (see [`find_with`]).
pub fn find(scrape: &Scrape, engine: ModelServer, signal: Signal) -> Option<f64> {
    find_with(scrape, engine, signal, &[])
}

fn read(scrape: &Scrape, candidate: &Candidate, selector: &[(&str, &str)]) -> Option<f64> {
    let mut full: Vec<(&str, &str)> = candidate.selector.to_vec();
    full.extend_from_slice(selector);
    let raw = match candidate.reading {
        Reading::Sum => scrape.counter(candidate.name, &full),
        Reading::Mean => scrape.mean(candidate.name, &full),
        Reading::HistogramMean => {
            let sum = scrape.sum(&format!("{}_sum", candidate.name), &full)?;
            let count = scrape.sum(&format!("{}_count", candidate.name), &full)?;
            (count > 0.0).then(|| sum / count).or(Some(0.0))
        }
        Reading::CounterRatio { denominator } => {
            let numerator = scrape.counter(candidate.name, &full)?;
            let count = scrape.counter(denominator, &full)?;
            (count > 0.0).then(|| numerator / count).or(Some(0.0))
        }
    }?;
    Some(raw * candidate.scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::prometheus::parse_text;

    #[test]
    fn signal_names_parse_case_insensitively() {
        assert_eq!(
            "KV-Cache-Usage".parse::<Signal>().unwrap(),
            Signal::KvCacheUsage
        );
        assert_eq!("queue".parse::<Signal>().unwrap(), Signal::QueueLength);
        assert_eq!("TPOT".parse::<Signal>().unwrap(), Signal::Itl);
        for s in Signal::ALL {
            assert_eq!(s.name().parse::<Signal>().unwrap(), s);
        }
        let err = "bogus".parse::<Signal>().unwrap_err();
        assert!(err.to_string().contains("kv_cache_usage"));
    }

    #[test]
    fn vllm_v1_sums_over_engines_and_averages_kv() {
        let text = "vllm:num_requests_waiting{engine=\"0\",model_name=\"m\"} 3\n\
                    vllm:num_requests_waiting{engine=\"1\",model_name=\"m\"} 4\n\
                    vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"m\"} 0.2\n\
                    vllm:kv_cache_usage_perc{engine=\"1\",model_name=\"m\"} 0.6\n";
        let scrape = parse_text(text).unwrap();
        assert_eq!(
            find(&scrape, ModelServer::Vllm, Signal::QueueLength),
            Some(7.0)
        );
        let kv = find(&scrape, ModelServer::Vllm, Signal::KvCacheUsage).unwrap();
        assert!((kv - 0.4).abs() < 1e-12);
        let kv0 = find_with(
            &scrape,
            ModelServer::Vllm,
            Signal::KvCacheUsage,
            &[("engine", "0")],
        )
        .unwrap();
        assert!((kv0 - 0.2).abs() < 1e-12);
        assert_eq!(ModelServer::detect(&scrape), Some(ModelServer::Vllm));
    }

    #[test]
    fn falls_back_to_v0_names_and_reads_histogram_means() {
        let text = "vllm:gpu_cache_usage_perc 0.5\n\
                    # TYPE vllm:time_to_first_token_seconds histogram\n\
                    vllm:time_to_first_token_seconds_bucket{le=\"+Inf\"} 4\n\
                    vllm:time_to_first_token_seconds_sum 2\n\
                    vllm:time_to_first_token_seconds_count 4\n";
        let scrape = parse_text(text).unwrap();
        assert_eq!(
            find(&scrape, ModelServer::Vllm, Signal::KvCacheUsage),
            Some(0.5)
        );
        assert_eq!(find(&scrape, ModelServer::Vllm, Signal::Ttft), Some(0.5));
        assert_eq!(find(&scrape, ModelServer::Vllm, Signal::Preemptions), None);
    }

    #[test]
    fn triton_reads_labelled_gauges_and_microsecond_counters() {
        let text = "nv_trt_llm_request_metrics{model=\"t\",request_type=\"waiting\",version=\"1\"} 3\n\
                    nv_trt_llm_request_metrics{model=\"t\",request_type=\"scheduled\",version=\"1\"} 5\n\
                    nv_inference_queue_duration_us{model=\"t\",version=\"1\"} 2000000\n\
                    nv_inference_request_success{model=\"t\",version=\"1\"} 4\n";
        let scrape = parse_text(text).unwrap();
        assert_eq!(
            find(&scrape, ModelServer::Triton, Signal::QueueLength),
            Some(3.0)
        );
        assert_eq!(
            find(&scrape, ModelServer::Triton, Signal::RunningRequests),
            Some(5.0)
        );
        assert_eq!(
            find(&scrape, ModelServer::Triton, Signal::QueueTime),
            Some(0.5)
        );
    }
}
