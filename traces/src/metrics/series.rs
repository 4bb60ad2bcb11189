//! Recorded metric series: many timestamped scrapes, read one at a time.
//!
//! Three layouts are read, chosen by [`SeriesFormat::detect`]:
//!
//! * **JSONL** (`.jsonl`, `.ndjson`, optionally `.gz`): one scrape per line,
//!   `{"t_us": 1724198400123000, "target": "pod-a", "text": "<prometheus text>"}`.
//!   Time is either `t_us` (integer microseconds, any epoch the recorder chose: Unix
//!   epoch or recording start) or `time` (an RFC 3339 string, read as microseconds since
//!   the Unix epoch); exactly one of them. `target` (the scraped pod or instance) is
//!   optional. Blank lines are skipped and other keys are ignored, so recorders may add
//!   their own (status code, scrape duration).
//! * **A directory of `.prom` files**, one scrape per file, named by its time: epoch
//!   seconds with an optional fraction (`1724198400.123.prom`) or RFC 3339, where the
//!   time-of-day colons may be written as `-` for file systems that forbid `:`
//!   (`2024-08-21T00-00-00.123Z.prom`). Sub-directories one level down are targets:
//!   `DIR/pod-a/1724198400.prom` has target `pod-a`; files directly in DIR have none.
//!   Scrapes are yielded in time order (ties by target).
//! * **vLLM recording `timeseries.csv`** (`t,prompt_throughput,gen_throughput,running,
//!   waiting,kv_cache_pct`, `t` in seconds from the run start, one row per tick): each
//!   row becomes a synthetic scrape of the equivalent vLLM metrics (see
//!   [`vllm_timeseries_scrape`]). When a `meta.json` beside it names the `model`, the
//!   samples carry it as `model_name`.
//!
//! Reading streams: only one scrape is held at a time (the directory listing is read
//! up front to sort it). Every error names the file, and the line where there is one.

use super::prometheus::{self, MetricFamily, MetricKind, Sample, Scrape};
use crate::vllm_recording::TimeseriesRows;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

/// One scrape of a series: its time, the target it came from and its contents.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapePoint {
    pub t_us: i64,
    pub target: Option<String>,
    pub scrape: Scrape,
}

/// A series file that cannot be read; the message names the file (and line).
#[derive(Debug, thiserror::Error)]
pub enum SeriesError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    /// A `timeseries.csv` row, from the vLLM recording reader.
    #[error(transparent)]
    Recording(#[from] crate::error::TraceError),
}

fn line_error(path: &Path, line: usize, message: impl Into<String>) -> SeriesError {
    SeriesError::Line {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

fn io_error(path: &Path, source: io::Error) -> SeriesError {
    SeriesError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The layouts [`open`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesFormat {
    Jsonl,
    PromDir,
    VllmTimeseriesCsv,
}

impl SeriesFormat {
    /// A directory is a `.prom` directory; files go by extension (`.gz` looked through).
    pub fn detect(path: &Path) -> Result<SeriesFormat, SeriesError> {
        if path.is_dir() {
            return Ok(SeriesFormat::PromDir);
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json") {
            Ok(SeriesFormat::Jsonl)
        } else if name.ends_with(".csv") {
            Ok(SeriesFormat::VllmTimeseriesCsv)
        } else {
            Err(SeriesError::File {
                path: path.to_path_buf(),
                message: "expected a directory of .prom files, a .jsonl file of scrapes or a vLLM timeseries.csv"
                    .to_string(),
            })
        }
    }
}

/// Opens a recorded series in any supported layout.
pub fn open(path: &Path) -> Result<SeriesReader, SeriesError> {
    let inner = match SeriesFormat::detect(path)? {
        SeriesFormat::Jsonl => Inner::Jsonl(JsonlReader {
            path: path.to_path_buf(),
            lines: open_lines(path)?,
            line: 0,
        }),
        SeriesFormat::PromDir => Inner::PromDir(PromDirReader::new(path)?),
        SeriesFormat::VllmTimeseriesCsv => Inner::Vllm(Box::new(VllmCsvReader::new(path)?)),
    };
    Ok(SeriesReader { inner })
}

/// Reads a whole series into memory (for small recordings and tests).
pub fn read_all(path: &Path) -> Result<Vec<ScrapePoint>, SeriesError> {
    open(path)?.collect()
}

/// A streaming iterator over the scrapes of a series.
pub struct SeriesReader {
    inner: Inner,
}

enum Inner {
    Jsonl(JsonlReader),
    PromDir(PromDirReader),
    Vllm(Box<VllmCsvReader>),
}

impl Iterator for SeriesReader {
    type Item = Result<ScrapePoint, SeriesError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Jsonl(r) => r.next(),
            Inner::PromDir(r) => r.next(),
            Inner::Vllm(r) => r.next(),
        }
    }
}

type Lines = io::Lines<Box<dyn BufRead>>;

fn open_lines(path: &Path) -> Result<Lines, SeriesError> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let reader: Box<dyn BufRead> = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
    {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    Ok(reader.lines())
}

struct JsonlReader {
    path: PathBuf,
    lines: Lines,
    line: usize,
}

#[derive(serde::Deserialize)]
struct JsonlScrape {
    t_us: Option<i64>,
    time: Option<String>,
    target: Option<String>,
    text: String,
}

impl JsonlReader {
    fn next(&mut self) -> Option<Result<ScrapePoint, SeriesError>> {
        loop {
            let raw = match self.lines.next()? {
                Ok(raw) => raw,
                Err(e) => return Some(Err(io_error(&self.path, e))),
            };
            self.line += 1;
            if raw.trim().is_empty() {
                continue;
            }
            return Some(self.parse_line(&raw));
        }
    }

    fn parse_line(&self, raw: &str) -> Result<ScrapePoint, SeriesError> {
        let record: JsonlScrape = serde_json::from_str(raw).map_err(|e| {
            line_error(
                &self.path,
                self.line,
                format!("expected a JSON object with `text` and `t_us` or `time`: {e}"),
            )
        })?;
        let t_us = match (record.t_us, &record.time) {
            (Some(t), None) => t,
            (None, Some(time)) => parse_rfc3339_us(time).ok_or_else(|| {
                line_error(
                    &self.path,
                    self.line,
                    format!("field `time`: expected an RFC 3339 time, found `{time}`"),
                )
            })?,
            (Some(_), Some(_)) => {
                return Err(line_error(
                    &self.path,
                    self.line,
                    "expected one of `t_us` and `time`, found both",
                ));
            }
            (None, None) => {
                return Err(line_error(
                    &self.path,
                    self.line,
                    "expected a `t_us` (integer µs) or `time` (RFC 3339) field",
                ));
            }
        };
        let scrape = prometheus::parse_text(&record.text)
            .map_err(|e| line_error(&self.path, self.line, format!("field `text`, scrape {e}")))?;
        Ok(ScrapePoint {
            t_us,
            target: record.target,
            scrape,
        })
    }
}

/// Microseconds since the Unix epoch of an RFC 3339 time.
pub fn parse_rfc3339_us(text: &str) -> Option<i64> {
    let time = chrono::DateTime::parse_from_rfc3339(text.trim()).ok()?;
    time.timestamp()
        .checked_mul(1_000_000)?
        .checked_add(i64::from(time.timestamp_subsec_micros()))
}

/// The time a `.prom` file name stands for (see the module docs), in µs since the epoch.
pub fn parse_file_time_us(stem: &str) -> Option<i64> {
    if let Some(us) = parse_epoch_seconds_us(stem) {
        return Some(us);
    }
    if let Some(us) = parse_rfc3339_us(stem) {
        return Some(us);
    }
    let (date, time) = stem.split_once('T')?;
    let mut restored = String::with_capacity(stem.len());
    let mut replaced = 0;
    for ch in time.chars() {
        if ch == '-' && replaced < 2 {
            restored.push(':');
            replaced += 1;
        } else {
            restored.push(ch);
        }
    }
    parse_rfc3339_us(&format!("{date}T{restored}"))
}

/// `1724198400` or `1724198400.123456` seconds → µs, exactly (no float rounding).
fn parse_epoch_seconds_us(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 12 {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 6
        || (text.contains('.') && fraction.is_empty())
    {
        return None;
    }
    let seconds: i64 = whole.parse().ok()?;
    let micros: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<6}").parse().ok()?
    };
    Some(seconds * 1_000_000 + micros)
}

struct PromDirReader {
    files: std::vec::IntoIter<(i64, Option<String>, PathBuf)>,
}

impl PromDirReader {
    fn new(dir: &Path) -> Result<PromDirReader, SeriesError> {
        let mut files = Vec::new();
        collect_prom_files(dir, None, &mut files)?;
        for entry in read_dir_sorted(dir)? {
            if entry.is_dir() {
                let target = entry
                    .file_name()
                    .and_then(|n| n.to_str())
                    .map(str::to_string);
                collect_prom_files(&entry, target, &mut files)?;
            }
        }
        if files.is_empty() {
            return Err(SeriesError::File {
                path: dir.to_path_buf(),
                message:
                    "expected .prom files named by time (e.g. 1724198400.123.prom), found none"
                        .to_string(),
            });
        }
        files.sort();
        Ok(PromDirReader {
            files: files.into_iter(),
        })
    }

    fn next(&mut self) -> Option<Result<ScrapePoint, SeriesError>> {
        let (t_us, target, path) = self.files.next()?;
        Some(read_prom_file(&path).map(|scrape| ScrapePoint {
            t_us,
            target,
            scrape,
        }))
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, SeriesError> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        paths.push(entry.map_err(|e| io_error(dir, e))?.path());
    }
    paths.sort();
    Ok(paths)
}

fn collect_prom_files(
    dir: &Path,
    target: Option<String>,
    out: &mut Vec<(i64, Option<String>, PathBuf)>,
) -> Result<(), SeriesError> {
    for path in read_dir_sorted(dir)? {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".prom") else {
            continue;
        };
        if !path.is_file() {
            continue;
        }
        let t_us = parse_file_time_us(stem).ok_or_else(|| SeriesError::File {
            path: path.clone(),
            message: format!(
                "expected the file name to be a time (epoch seconds like 1724198400.123 or RFC 3339), found `{stem}`"
            ),
        })?;
        out.push((t_us, target.clone(), path));
    }
    Ok(())
}

fn read_prom_file(path: &Path) -> Result<Scrape, SeriesError> {
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
    prometheus::parse_text(&text).map_err(|e| SeriesError::Line {
        path: path.to_path_buf(),
        line: e.line,
        message: format!("expected {}, found {}", e.expected, e.found),
    })
}

/// One row of a vLLM recording's `timeseries.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VllmTick {
    /// Seconds from the start of the run.
    pub t_s: f64,
    /// Prompt tokens per second over the interval ending at `t_s`.
    pub prompt_throughput: f64,
    /// Generated tokens per second over the interval ending at `t_s`.
    pub gen_throughput: f64,
    pub running: f64,
    pub waiting: f64,
    /// KV-cache use in percent (0..=100).
    pub kv_cache_pct: f64,
}

/// A vLLM `timeseries.csv` as scrapes: rows from the recording format's own reader,
/// throughputs integrated into counters.
struct VllmCsvReader {
    path: PathBuf,
    rows: TimeseriesRows,
    model: Option<String>,
    previous_t_s: f64,
    prompt_total: f64,
    generation_total: f64,
}

impl VllmCsvReader {
    fn new(path: &Path) -> Result<VllmCsvReader, SeriesError> {
        Ok(VllmCsvReader {
            path: path.to_path_buf(),
            rows: TimeseriesRows::open(path)?,
            model: read_meta_model(path),
            previous_t_s: 0.0,
            prompt_total: 0.0,
            generation_total: 0.0,
        })
    }

    fn next(&mut self) -> Option<Result<ScrapePoint, SeriesError>> {
        let row = self.rows.next()?;
        Some(
            row.map_err(SeriesError::from)
                .and_then(|(at, values)| self.row(at.line as usize, values)),
        )
    }

    fn row(&mut self, line: usize, values: [f64; 6]) -> Result<ScrapePoint, SeriesError> {
        let tick = VllmTick {
            t_s: values[0],
            prompt_throughput: values[1],
            gen_throughput: values[2],
            running: values[3],
            waiting: values[4],
            kv_cache_pct: values[5],
        };
        let dt = tick.t_s - self.previous_t_s;
        if dt < 0.0 {
            return Err(line_error(
                &self.path,
                line,
                format!(
                    "column `t`: expected times in increasing order, found {} after {}",
                    tick.t_s, self.previous_t_s
                ),
            ));
        }
        self.previous_t_s = tick.t_s;
        self.prompt_total += tick.prompt_throughput * dt;
        self.generation_total += tick.gen_throughput * dt;
        let scrape = vllm_timeseries_scrape(
            &tick,
            self.prompt_total,
            self.generation_total,
            self.model.as_deref(),
        );
        Ok(ScrapePoint {
            t_us: (tick.t_s * 1e6).round() as i64,
            target: None,
            scrape,
        })
    }
}

fn read_meta_model(csv_path: &Path) -> Option<String> {
    let meta = csv_path.parent()?.join("meta.json");
    let text = std::fs::read_to_string(meta).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("model")?.as_str().map(str::to_string)
}

/// The scrape a vLLM server would have exported at one tick of a recording.
///
/// Gauges: `vllm:num_requests_running`, `vllm:num_requests_waiting`,
/// `vllm:kv_cache_usage_perc` (percent / 100, a 0..1 fraction like vLLM's own) and the
/// v0 throughput gauges `vllm:avg_prompt_throughput_toks_per_s` /
/// `vllm:avg_generation_throughput_toks_per_s`. Counters `vllm:prompt_tokens_total` and
/// `vllm:generation_tokens_total` are the throughputs integrated over the ticks so far
/// (`prompt_total`, `generation_total`), so counter rates give the throughputs back.
pub fn vllm_timeseries_scrape(
    tick: &VllmTick,
    prompt_total: f64,
    generation_total: f64,
    model: Option<&str>,
) -> Scrape {
    let labels: Vec<(String, String)> = model
        .map(|m| vec![("model_name".to_string(), m.to_string())])
        .unwrap_or_default();
    let family = |name: &str, kind: MetricKind, help: &str, value: f64| MetricFamily {
        name: name.to_string(),
        help: Some(help.to_string()),
        unit: None,
        kind,
        samples: vec![Sample {
            name: name.to_string(),
            labels: labels.clone(),
            value,
            timestamp_ms: None,
        }],
    };
    Scrape {
        families: vec![
            family(
                "vllm:num_requests_running",
                MetricKind::Gauge,
                "Number of requests in model execution batches.",
                tick.running,
            ),
            family(
                "vllm:num_requests_waiting",
                MetricKind::Gauge,
                "Number of requests waiting to be processed.",
                tick.waiting,
            ),
            family(
                "vllm:kv_cache_usage_perc",
                MetricKind::Gauge,
                "KV-cache usage. 1 means 100 percent usage.",
                tick.kv_cache_pct / 100.0,
            ),
            family(
                "vllm:avg_prompt_throughput_toks_per_s",
                MetricKind::Gauge,
                "Average prefill throughput in tokens/s.",
                tick.prompt_throughput,
            ),
            family(
                "vllm:avg_generation_throughput_toks_per_s",
                MetricKind::Gauge,
                "Average generation throughput in tokens/s.",
                tick.gen_throughput,
            ),
            family(
                "vllm:prompt_tokens_total",
                MetricKind::Counter,
                "Number of prefill tokens processed.",
                prompt_total,
            ),
            family(
                "vllm:generation_tokens_total",
                MetricKind::Counter,
                "Number of generation tokens processed.",
                generation_total,
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_times() {
        assert_eq!(
            parse_file_time_us("1724198400.123"),
            Some(1_724_198_400_123_000)
        );
        assert_eq!(
            parse_file_time_us("1724198400"),
            Some(1_724_198_400_000_000)
        );
        assert_eq!(
            parse_file_time_us("2024-08-21T00:00:00.5Z"),
            Some(1_724_198_400_500_000)
        );
        assert_eq!(
            parse_file_time_us("2024-08-21T00-00-00.5Z"),
            Some(1_724_198_400_500_000)
        );
        assert_eq!(parse_file_time_us("scrape"), None);
        assert_eq!(parse_file_time_us("12."), None);
    }
}
