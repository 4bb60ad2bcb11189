//! A recorded real vLLM run (a folder with `meta.json`, `requests.jsonl` and
//! `timeseries.csv`), read whole so the simulator can replay it and compare.
//!
//! `requests.jsonl` holds one object per request: `request_id`, `input_toks`,
//! `output_toks`, `arrival_time` (Unix epoch seconds) and `queued_ts`, `scheduled_ts`,
//! `first_token_ts`, `last_token_ts` (a monotonic clock, seconds). The monotonic
//! timestamps are kept as they are; only differences between them mean anything.
//! `timeseries.csv` has `t,prompt_throughput,gen_throughput,running,waiting,kv_cache_pct`
//! (one sample per tick); a folder without it reads with an empty time series.

use crate::error::{Location, TraceError};
use crate::fields::{float_from_bytes, float_from_json, shown_json, to_micros, tokens_from_json};
use crate::request::Request;
use crate::source::open_source;
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

/// A whole recording: the engine configuration, every request and the sampled series.
#[derive(Debug, Clone)]
pub struct Recording {
    pub meta: RecordingMeta,
    pub requests: Vec<RecordedRequest>,
    pub timeseries: Vec<RecordingSample>,
}

/// What the engine was configured with, read from `meta.json`.
///
/// Fields come from `engine_kwargs`, `kv_cache` and `hardware` first, then from
/// `resolved_config` (vLLM's full resolved configuration). `model` is empty and
/// `tensor_parallel` is 1 when the file does not name them (the caller can supply them);
/// `block_size`, `gpu_memory_utilization`, `enable_prefix_caching` and `dtype` fall back to
/// vLLM's defaults (16, 0.9, true, "auto"). `max_num_seqs` and `max_num_batched_tokens`
/// have no safe default (it changed between vLLM versions) and are required.
#[derive(Debug, Clone)]
pub struct RecordingMeta {
    pub model: String,
    /// `hardware.device_name`, e.g. "NVIDIA GeForce RTX 4090".
    pub gpu_name: Option<String>,
    pub tensor_parallel: u32,
    /// `data_parallel_size`: engine ranks, each a full copy of the model (1 when not
    /// named).
    pub data_parallel: u32,
    /// `enable_expert_parallel` (MoE experts sharded across the ranks).
    pub expert_parallel: bool,
    pub max_num_seqs: u32,
    pub max_num_batched_tokens: u32,
    /// Tokens per KV-cache block.
    pub block_size: u32,
    /// KV blocks of the whole engine: with data parallelism vLLM's front end records
    /// the sum over its ranks ([`Self::num_gpu_blocks_per_rank`]).
    pub num_gpu_blocks: Option<u64>,
    /// KV-cache capacity in tokens (`num_gpu_blocks * block_size` when not given).
    pub num_kv_tokens: Option<u64>,
    pub gpu_memory_utilization: f64,
    pub enable_prefix_caching: bool,
    /// Weights dtype as vLLM names it without the `torch.` prefix, e.g. "bfloat16".
    pub dtype: String,
    pub device_total_memory_bytes: Option<u64>,
    /// The whole `meta.json`, for anything not lifted into a field.
    pub raw: Value,
}

impl RecordingMeta {
    /// KV blocks of one data-parallel rank (`kv_cache_size_tokens` in the resolved
    /// configuration is one rank's, `num_gpu_blocks` the ranks' sum).
    pub fn num_gpu_blocks_per_rank(&self) -> Option<u64> {
        self.num_gpu_blocks
            .map(|blocks| blocks / u64::from(self.data_parallel.max(1)))
    }
}

/// One recorded request with its measured timestamps.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// The canonical request; `arrival_us` is from the earliest `arrival_time`.
    pub request: Request,
    pub id: String,
    /// Unix epoch seconds at which the benchmark client sent it.
    pub arrival_epoch_s: f64,
    /// Monotonic-clock seconds.
    pub queued_s: f64,
    pub scheduled_s: f64,
    pub first_token_s: f64,
    pub last_token_s: f64,
}

impl RecordedRequest {
    /// Time to first token, measured from entering the queue.
    pub fn ttft_s(&self) -> f64 {
        self.first_token_s - self.queued_s
    }

    /// Time per output token after the first; `None` with one output token or fewer.
    pub fn tpot_s(&self) -> Option<f64> {
        let output = self.request.output_tokens;
        (output > 1).then(|| (self.last_token_s - self.first_token_s) / f64::from(output - 1))
    }

    /// End-to-end latency from entering the queue to the last token.
    pub fn e2e_s(&self) -> f64 {
        self.last_token_s - self.queued_s
    }
}

/// One row of `timeseries.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingSample {
    /// Seconds since the recording started.
    pub t_s: f64,
    /// Prompt tokens per second over the last tick.
    pub prompt_throughput: f64,
    /// Generated tokens per second over the last tick.
    pub gen_throughput: f64,
    pub running: u32,
    pub waiting: u32,
    /// KV-cache usage in percent (0-100).
    pub kv_cache_pct: f64,
}

/// Reads a recording folder. Requests keep the file's order.
pub fn read_recording(dir: &Path) -> Result<Recording, TraceError> {
    let meta = read_meta(&dir.join("meta.json"))?;
    let requests = read_requests(&dir.join("requests.jsonl"))?;
    let timeseries_path = dir.join("timeseries.csv");
    let timeseries = if timeseries_path.exists() {
        read_timeseries(&timeseries_path)?
    } else {
        Vec::new()
    };
    Ok(Recording {
        meta,
        requests,
        timeseries,
    })
}

fn read_meta(path: &Path) -> Result<RecordingMeta, TraceError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| TraceError::Io {
        at: Location::new(file.as_str(), 0),
        source,
    })?;
    let raw: Value = serde_json::from_str(&text).map_err(|e| {
        TraceError::malformed(
            Location::new(file.as_str(), e.line() as u64),
            "a JSON object",
            e.to_string(),
        )
    })?;
    let lookup = MetaLookup {
        raw: &raw,
        file: &file,
    };
    let block_size = lookup.u64(&[
        "kv_cache.block_size",
        "resolved_config.cache_config.block_size",
    ])?;
    let num_gpu_blocks = lookup.u64(&[
        "kv_cache.num_gpu_blocks",
        "resolved_config.cache_config.num_gpu_blocks",
    ])?;
    let block_size = u32::try_from(block_size.unwrap_or(16))
        .map_err(|_| lookup.bad("kv_cache.block_size", "a 32-bit block size"))?;
    let num_kv_tokens = lookup
        .u64(&["kv_cache.num_kv_tokens"])?
        .or(num_gpu_blocks.map(|blocks| blocks * u64::from(block_size)));
    let dtype = lookup
        .str(&["engine_kwargs.dtype", "resolved_config.model_config.dtype"])
        .unwrap_or("auto");
    Ok(RecordingMeta {
        model: lookup
            .str(&[
                "model",
                "engine_kwargs.model",
                "resolved_config.model_config.model",
            ])
            .unwrap_or_default()
            .to_string(),
        gpu_name: lookup.str(&["hardware.device_name"]).map(str::to_string),
        tensor_parallel: lookup.u32(
            &[
                "engine_kwargs.tensor_parallel_size",
                "resolved_config.parallel_config.tensor_parallel_size",
            ],
            Some(1),
        )?,
        data_parallel: lookup.u32(
            &[
                "engine_kwargs.data_parallel_size",
                "resolved_config.parallel_config.data_parallel_size",
            ],
            Some(1),
        )?,
        expert_parallel: lookup
            .bool(&[
                "engine_kwargs.enable_expert_parallel",
                "resolved_config.parallel_config.enable_expert_parallel",
            ])?
            .unwrap_or(false),
        max_num_seqs: lookup.u32(
            &[
                "engine_kwargs.max_num_seqs",
                "resolved_config.scheduler_config.max_num_seqs",
            ],
            None,
        )?,
        max_num_batched_tokens: lookup.u32(
            &[
                "engine_kwargs.max_num_batched_tokens",
                "resolved_config.scheduler_config.max_num_batched_tokens",
            ],
            None,
        )?,
        block_size,
        num_gpu_blocks,
        num_kv_tokens,
        gpu_memory_utilization: lookup
            .f64(&[
                "kv_cache.gpu_memory_utilization",
                "engine_kwargs.gpu_memory_utilization",
                "resolved_config.cache_config.gpu_memory_utilization",
            ])?
            .unwrap_or(0.9),
        enable_prefix_caching: lookup
            .bool(&[
                "kv_cache.enable_prefix_caching",
                "engine_kwargs.enable_prefix_caching",
                "resolved_config.cache_config.enable_prefix_caching",
            ])?
            .unwrap_or(true),
        dtype: dtype.strip_prefix("torch.").unwrap_or(dtype).to_string(),
        device_total_memory_bytes: lookup.u64(&["hardware.device_total_memory_bytes"])?,
        raw,
    })
}

/// Looks up dotted paths in `meta.json`, first non-null wins.
struct MetaLookup<'a> {
    raw: &'a Value,
    file: &'a str,
}

impl<'a> MetaLookup<'a> {
    fn find(&self, paths: &[&'static str]) -> Option<(&'static str, &'a Value)> {
        paths.iter().find_map(|path| {
            let mut value = self.raw;
            for key in path.split('.') {
                value = value.get(key)?;
            }
            (!value.is_null()).then_some((*path, value))
        })
    }

    fn bad(&self, path: &str, expected: &str) -> TraceError {
        let found = self.find_any(path);
        TraceError::invalid(Location::new(self.file, 0), path, expected, found)
    }

    fn find_any(&self, path: &str) -> String {
        let mut value = self.raw;
        for key in path.split('.') {
            match value.get(key) {
                Some(v) => value = v,
                None => return "nothing".to_string(),
            }
        }
        shown_json(value)
    }

    fn u64(&self, paths: &[&'static str]) -> Result<Option<u64>, TraceError> {
        match self.find(paths) {
            None => Ok(None),
            Some((path, value)) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.bad(path, "a non-negative integer")),
        }
    }

    fn u32(&self, paths: &[&'static str], default: Option<u32>) -> Result<u32, TraceError> {
        match (self.u64(paths)?, default) {
            (Some(value), _) => {
                u32::try_from(value).map_err(|_| self.bad(paths[0], "a 32-bit integer"))
            }
            (None, Some(default)) => Ok(default),
            (None, None) => Err(TraceError::MissingColumn {
                at: Location::new(self.file, 0),
                column: paths.join(" or "),
                found: "no such field".to_string(),
            }),
        }
    }

    fn f64(&self, paths: &[&'static str]) -> Result<Option<f64>, TraceError> {
        match self.find(paths) {
            None => Ok(None),
            Some((path, value)) => value
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| self.bad(path, "a number")),
        }
    }

    fn bool(&self, paths: &[&'static str]) -> Result<Option<bool>, TraceError> {
        match self.find(paths) {
            None => Ok(None),
            Some((path, value)) => value
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.bad(path, "true or false")),
        }
    }

    fn str(&self, paths: &[&'static str]) -> Option<&'a str> {
        self.find(paths).and_then(|(_, value)| value.as_str())
    }
}

/// One `requests.jsonl` object decoded; the streaming trace reader shares this.
pub(crate) struct VllmRow {
    pub id: String,
    pub arrival_epoch_s: f64,
    /// `arrival_time` in whole microseconds since the Unix epoch.
    pub arrival_epoch_us: i64,
    pub prompt_tokens: u32,
    pub output_tokens: u32,
    /// The four monotonic timestamps; `None` where absent (the streaming reader needs none).
    pub stamps: [Option<f64>; 4],
}

pub(crate) const STAMP_KEYS: [&str; 4] = [
    "queued_ts",
    "scheduled_ts",
    "first_token_ts",
    "last_token_ts",
];

pub(crate) fn missing_key(at: &Location, key: &str, object: &Map<String, Value>) -> TraceError {
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    TraceError::MissingColumn {
        at: at.clone(),
        column: key.to_string(),
        found: format!("keys [{}]", keys.join(", ")),
    }
}

/// Decodes one `requests.jsonl` object.
pub(crate) fn decode_row(
    object: &Map<String, Value>,
    at: &Location,
) -> Result<VllmRow, TraceError> {
    let get = |key: &str| object.get(key).ok_or_else(|| missing_key(at, key, object));
    let arrival = get("arrival_time")?;
    let arrival_epoch_s = float_from_json(arrival, at, "arrival_time", "Unix epoch seconds")?;
    let arrival_epoch_us = to_micros(
        arrival_epoch_s,
        1e6,
        &shown_json(arrival),
        at,
        "arrival_time",
    )?;
    let mut stamps = [None; 4];
    for (slot, key) in stamps.iter_mut().zip(STAMP_KEYS) {
        if let Some(value) = object.get(key).filter(|v| !v.is_null()) {
            *slot = Some(float_from_json(value, at, key, "monotonic seconds")?);
        }
    }
    let id = match object.get("request_id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    Ok(VllmRow {
        id,
        arrival_epoch_s,
        arrival_epoch_us,
        prompt_tokens: tokens_from_json(get("input_toks")?, at, "input_toks")?,
        output_tokens: tokens_from_json(get("output_toks")?, at, "output_toks")?,
        stamps,
    })
}

/// Parses one JSON line into an object, naming the line when it is not one.
pub(crate) fn parse_object(line: &[u8], at: &Location) -> Result<Map<String, Value>, TraceError> {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(TraceError::malformed(
            at.clone(),
            "a JSON object",
            crate::fields::shown(other.to_string().as_bytes()),
        )),
        Err(e) => Err(TraceError::malformed(
            at.clone(),
            "a JSON object",
            format!("invalid JSON ({e})"),
        )),
    }
}

fn read_requests(path: &Path) -> Result<Vec<RecordedRequest>, TraceError> {
    let file = path.display().to_string();
    let input = std::fs::File::open(path).map_err(|source| TraceError::Io {
        at: Location::new(file.as_str(), 0),
        source,
    })?;
    let mut rows = Vec::new();
    for (index, line) in BufReader::new(input).split(b'\n').enumerate() {
        let at = Location::new(file.as_str(), index as u64 + 1);
        let line = line.map_err(|source| TraceError::Io {
            at: at.clone(),
            source,
        })?;
        if line.trim_ascii().is_empty() {
            continue;
        }
        let object = parse_object(&line, &at)?;
        let row = decode_row(&object, &at)?;
        let mut stamps = [0.0; 4];
        for (i, key) in STAMP_KEYS.iter().enumerate() {
            stamps[i] = row.stamps[i].ok_or_else(|| missing_key(&at, key, &object))?;
        }
        rows.push((row, stamps));
    }
    if rows.is_empty() {
        return Err(TraceError::Empty {
            at: Location::new(file.as_str(), 1),
        });
    }
    let origin = rows
        .iter()
        .map(|(row, _)| row.arrival_epoch_us)
        .min()
        .unwrap_or(0);
    Ok(rows
        .into_iter()
        .map(
            |(row, [queued_s, scheduled_s, first_token_s, last_token_s])| RecordedRequest {
                request: Request {
                    arrival_us: row.arrival_epoch_us - origin,
                    prompt_tokens: row.prompt_tokens,
                    output_tokens: row.output_tokens,
                    prefix_blocks: Vec::new(),
                    tenant: None,
                    model: None,
                    priority: None,
                    failed: false,
                },
                id: row.id,
                arrival_epoch_s: row.arrival_epoch_s,
                queued_s,
                scheduled_s,
                first_token_s,
                last_token_s,
            },
        )
        .collect())
}

/// The columns of `timeseries.csv`, in the order [`TimeseriesRows`] gives their values.
pub(crate) const TIMESERIES_COLUMNS: [&str; 6] = [
    "t",
    "prompt_throughput",
    "gen_throughput",
    "running",
    "waiting",
    "kv_cache_pct",
];

/// The rows of a recording's `timeseries.csv` (plain or gzip) as they are read: each
/// row's location and its values in [`TIMESERIES_COLUMNS`] order, all finite numbers.
/// The one parser of the format: [`read_recording`] collects it, the metric-series
/// reader (`metrics::series`) streams it.
pub(crate) struct TimeseriesRows {
    file: Arc<str>,
    reader: csv::Reader<Box<dyn Read + Send>>,
    index: [usize; 6],
    record: csv::ByteRecord,
}

impl TimeseriesRows {
    pub(crate) fn open(path: &Path) -> Result<TimeseriesRows, TraceError> {
        let source = open_source(path)?;
        let file = source.file;
        let input: Box<dyn Read + Send> = Box::new(source.input);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let header = reader
            .byte_headers()
            .map_err(|e| csv_error(&file, 1, e))?
            .clone();
        let mut index = [0usize; 6];
        for (slot, name) in index.iter_mut().zip(TIMESERIES_COLUMNS) {
            *slot = header
                .iter()
                .position(|h| h.trim_ascii() == name.as_bytes())
                .ok_or_else(|| TraceError::MissingColumn {
                    at: Location::new(file.clone(), 1),
                    column: name.to_string(),
                    found: format!("header {:?}", String::from_utf8_lossy(header.as_slice())),
                })?;
        }
        Ok(TimeseriesRows {
            file,
            reader,
            index,
            record: csv::ByteRecord::new(),
        })
    }
}

impl Iterator for TimeseriesRows {
    type Item = Result<(Location, [f64; 6]), TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.reader.position().line();
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => return Some(Err(csv_error(&self.file, line, e))),
        }
        let at = Location::new(
            self.file.clone(),
            self.record.position().map_or(line, |p| p.line()),
        );
        let mut values = [0.0; 6];
        for (value, (&i, name)) in values
            .iter_mut()
            .zip(self.index.iter().zip(TIMESERIES_COLUMNS))
        {
            let field = self.record.get(i).unwrap_or_default();
            match float_from_bytes(field, &at, name, "a finite number") {
                Ok(number) => *value = number,
                Err(error) => return Some(Err(error)),
            }
        }
        Some(Ok((at, values)))
    }
}

fn read_timeseries(path: &Path) -> Result<Vec<RecordingSample>, TraceError> {
    TimeseriesRows::open(path)?
        .map(|row| {
            let (at, values) = row?;
            let count = |value: f64, name: &str| {
                if value >= 0.0 && value.fract() == 0.0 && value <= f64::from(u32::MAX) {
                    Ok(value as u32)
                } else {
                    Err(TraceError::invalid(
                        at.clone(),
                        name,
                        "a non-negative integer",
                        value.to_string(),
                    ))
                }
            };
            Ok(RecordingSample {
                t_s: values[0],
                prompt_throughput: values[1],
                gen_throughput: values[2],
                running: count(values[3], "running")?,
                waiting: count(values[4], "waiting")?,
                kv_cache_pct: values[5],
            })
        })
        .collect()
}

fn csv_error(file: &str, line: u64, error: csv::Error) -> TraceError {
    let at = Location::new(file, line);
    match error.into_kind() {
        csv::ErrorKind::Io(source) => TraceError::Io { at, source },
        other => TraceError::malformed(at, "well-formed CSV", format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("traces-rec-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const META: &str = r#"{"model": "m", "engine_kwargs": {"max_num_seqs": 8, "max_num_batched_tokens": 512,
        "tensor_parallel_size": 2, "dtype": "bfloat16"},
        "kv_cache": {"num_gpu_blocks": 10, "block_size": 16, "gpu_memory_utilization": 0.8,
        "enable_prefix_caching": false}, "hardware": {"device_name": "GPU X"}}"#;

    #[test]
    fn data_and_expert_parallelism_are_read_from_the_engine_arguments() {
        let dir = temp_dir("dp");
        std::fs::write(
            dir.join("meta.json"),
            META.replace(
                "\"tensor_parallel_size\": 2,",
                "\"tensor_parallel_size\": 1, \"data_parallel_size\": 2, \"enable_expert_parallel\": true,",
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("requests.jsonl"),
            "{\"request_id\": \"a\", \"input_toks\": 10, \"output_toks\": 5, \"arrival_time\": 100.5, \"queued_ts\": 1.0, \"scheduled_ts\": 1.5, \"first_token_ts\": 2.0, \"last_token_ts\": 4.0}\n",
        )
        .unwrap();
        // The newer recorder's series: more columns, in another order.
        std::fs::write(
            dir.join("timeseries.csv"),
            "t,prompt_throughput,prompt_compute_throughput,prompt_cached_throughput,gen_throughput,running,waiting,preempted,kv_cache_pct\n1.0,10.0,8.0,2.0,3.0,1,0,0,5.5\n",
        )
        .unwrap();
        let recording = read_recording(&dir).unwrap();
        assert_eq!(
            recording.timeseries[0],
            RecordingSample {
                t_s: 1.0,
                prompt_throughput: 10.0,
                gen_throughput: 3.0,
                running: 1,
                waiting: 0,
                kv_cache_pct: 5.5,
            }
        );
        let meta = recording.meta;
        assert_eq!((meta.tensor_parallel, meta.data_parallel), (1, 2));
        assert!(meta.expert_parallel);
        std::fs::write(
            dir.join("meta.json"),
            META.replace(
                "\"tensor_parallel_size\": 2,",
                "\"data_parallel_size\": \"two\",",
            ),
        )
        .unwrap();
        let error = read_recording(&dir).unwrap_err().to_string();
        assert!(error.contains("data_parallel_size"), "{error}");
    }

    #[test]
    fn reads_a_small_recording_and_derives_latencies() {
        let dir = temp_dir("small");
        std::fs::write(dir.join("meta.json"), META).unwrap();
        std::fs::write(
            dir.join("requests.jsonl"),
            "{\"request_id\": \"a\", \"input_toks\": 10, \"output_toks\": 5, \"arrival_time\": 100.5, \"queued_ts\": 1.0, \"scheduled_ts\": 1.5, \"first_token_ts\": 2.0, \"last_token_ts\": 4.0}\n\
             {\"request_id\": \"b\", \"input_toks\": 3, \"output_toks\": 1, \"arrival_time\": 100.25, \"queued_ts\": 1.0, \"scheduled_ts\": 1.0, \"first_token_ts\": 1.5, \"last_token_ts\": 1.5}\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("timeseries.csv"),
            "t,prompt_throughput,gen_throughput,running,waiting,kv_cache_pct\n1.0,10.0,2.0,1,0,5.5\n",
        )
        .unwrap();
        let recording = read_recording(&dir).unwrap();
        assert_eq!(recording.meta.model, "m");
        assert_eq!(recording.meta.tensor_parallel, 2);
        assert_eq!(recording.meta.data_parallel, 1, "not named: one rank");
        assert!(!recording.meta.expert_parallel);
        assert_eq!(recording.meta.num_kv_tokens, Some(160));
        assert_eq!(recording.meta.gpu_name.as_deref(), Some("GPU X"));
        assert!(!recording.meta.enable_prefix_caching);
        let [a, b] = &recording.requests[..] else {
            panic!("expected two requests")
        };
        assert_eq!(a.request.arrival_us, 250_000);
        assert_eq!(b.request.arrival_us, 0);
        assert_eq!(a.ttft_s(), 1.0);
        assert_eq!(a.tpot_s(), Some(0.5));
        assert_eq!(b.tpot_s(), None);
        assert_eq!(a.e2e_s(), 3.0);
        assert_eq!(recording.timeseries.len(), 1);
        assert_eq!(recording.timeseries[0].running, 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_fields_are_named_with_their_line() {
        let dir = temp_dir("missing");
        std::fs::write(dir.join("meta.json"), META).unwrap();
        std::fs::write(
            dir.join("requests.jsonl"),
            "{\"request_id\": \"a\", \"input_toks\": 10, \"output_toks\": 5, \"arrival_time\": 1.0}\n",
        )
        .unwrap();
        let error = read_recording(&dir).unwrap_err().to_string();
        assert!(
            error.contains("requests.jsonl:1: expected a column queued_ts"),
            "{error}"
        );
        std::fs::write(dir.join("meta.json"), r#"{"model": "m"}"#).unwrap();
        let error = read_recording(&dir).unwrap_err().to_string();
        assert!(error.contains("max_num_seqs"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reads_the_real_recording_when_present() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/vllm-recordings/rtx4090-llama-3.1-8b");
        if !dir.exists() {
            eprintln!("skipping: {} is absent", dir.display());
            return;
        }
        let recording = read_recording(&dir).unwrap();
        assert_eq!(recording.requests.len(), 300);
        assert_eq!(recording.meta.model, "meta-llama/Llama-3.1-8B");
        assert_eq!(recording.meta.max_num_seqs, 256);
        assert_eq!(recording.meta.max_num_batched_tokens, 2048);
        assert_eq!(recording.meta.block_size, 16);
        assert_eq!(recording.meta.num_gpu_blocks, Some(2588));
        assert_eq!(recording.meta.num_kv_tokens, Some(41408));
        assert_eq!(recording.meta.dtype, "bfloat16");
        assert_eq!(
            recording.meta.device_total_memory_bytes,
            Some(25_250_627_584)
        );
        assert_eq!(recording.timeseries.len(), 184);
        let mean_ttft: f64 = recording
            .requests
            .iter()
            .map(RecordedRequest::ttft_s)
            .sum::<f64>()
            / 300.0;
        assert!((50.0..80.0).contains(&mean_ttft), "mean TTFT {mean_ttft}");
    }
}
