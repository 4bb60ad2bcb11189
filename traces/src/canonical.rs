//! The project's own trace format, and writing it.
//!
//! Columns, in this order (CSV header, JSON-lines keys, Parquet column names):
//!
//! | column | CSV | Parquet | meaning |
//! |---|---|---|---|
//! | `arrival_us` | integer | Int64 | microseconds from the trace start, non-decreasing |
//! | `prompt_tokens` | integer | UInt32 | 0 to 10,000,000 |
//! | `output_tokens` | integer | UInt32 | 0 to 10,000,000 |
//! | `prefix_blocks` | block ids separated by single spaces, empty when none | List(UInt64) | prefix-cache block ids |
//! | `tenant` | text, empty when none | String (null when none) | |
//! | `model` | text, empty when none | String (null when none) | |
//! | `priority` | integer, empty when none | Int32 (null when none) | |
//! | `failed` | `true` or `false` | Boolean | the source marked the request failed |
//!
//! An empty `tenant` or `model` reads back as absent, so an empty label does not survive
//! a CSV round trip. Readers require the first three columns and accept any subset of the
//! others, in any order.

use crate::error::{Location, TraceError};
use crate::request::Request;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The canonical column names in file order.
pub const CANONICAL_COLUMNS: [&str; 8] = [
    "arrival_us",
    "prompt_tokens",
    "output_tokens",
    "prefix_blocks",
    "tenant",
    "model",
    "priority",
    "failed",
];

/// Where a canonical file goes, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Csv { gzip: bool },
    Parquet,
}

fn output_kind(path: &Path) -> Result<Output, TraceError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".csv") {
        Ok(Output::Csv { gzip: false })
    } else if name.ends_with(".csv.gz") {
        Ok(Output::Csv { gzip: true })
    } else if name.ends_with(".parquet") {
        Ok(Output::Parquet)
    } else {
        Err(TraceError::InvalidOption {
            option: "output".to_string(),
            expected: "a file name ending in .csv, .csv.gz or .parquet".to_string(),
            found: path.display().to_string(),
        })
    }
}

/// Writes requests in the canonical format, CSV (`.csv`, `.csv.gz`) or Parquet
/// (`.parquet`, with the `parquet` feature), and returns how many it wrote.
///
/// Streams: memory is one row for CSV, one row group for Parquet. The file appears only
/// when everything was written (it is written beside the target and renamed), so a
/// failed conversion never leaves a truncated trace behind.
pub fn write_canonical(
    path: &Path,
    requests: impl Iterator<Item = Result<Request, TraceError>>,
) -> Result<u64, TraceError> {
    let kind = output_kind(path)?;
    let partial = partial_path(path);
    let result = match kind {
        Output::Csv { gzip } => write_csv(&partial, gzip, requests),
        Output::Parquet => write_parquet(&partial, requests),
    };
    let result = result.and_then(|count| {
        std::fs::rename(&partial, path)
            .map(|()| count)
            .map_err(|source| TraceError::Write {
                at: Location::new(path.display().to_string(), 0),
                source,
            })
    });
    if result.is_err() {
        // The partial file may not exist (e.g. the directory is missing); nothing to undo then.
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

#[cfg(feature = "parquet")]
fn write_parquet(
    path: &Path,
    requests: impl Iterator<Item = Result<Request, TraceError>>,
) -> Result<u64, TraceError> {
    crate::parquet::write(path, requests)
}

#[cfg(not(feature = "parquet"))]
fn write_parquet(
    path: &Path,
    _requests: impl Iterator<Item = Result<Request, TraceError>>,
) -> Result<u64, TraceError> {
    Err(TraceError::InvalidOption {
        option: "output".to_string(),
        expected: "a .csv or .csv.gz output (this build has no Parquet support: enable the `parquet` feature)"
            .to_string(),
        found: path.display().to_string(),
    })
}

fn write_csv(
    path: &Path,
    gzip: bool,
    requests: impl Iterator<Item = Result<Request, TraceError>>,
) -> Result<u64, TraceError> {
    let io = |source| TraceError::Write {
        at: Location::new(path.display().to_string(), 0),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let buffered = std::io::BufWriter::with_capacity(256 * 1024, file);
    if gzip {
        let encoder = flate2::write::GzEncoder::new(buffered, flate2::Compression::default());
        let (count, encoder) = write_rows(path, encoder, requests)?;
        // Only `finish` writes the gzip trailer and reports its errors.
        encoder
            .finish()
            .and_then(|mut inner| inner.flush())
            .map_err(io)?;
        Ok(count)
    } else {
        let (count, mut buffered) = write_rows(path, buffered, requests)?;
        buffered.flush().map_err(io)?;
        Ok(count)
    }
}

fn write_rows<W: Write>(
    path: &Path,
    sink: W,
    requests: impl Iterator<Item = Result<Request, TraceError>>,
) -> Result<(u64, W), TraceError> {
    let at = || Location::new(path.display().to_string(), 0);
    let csv_io = |error: csv::Error| TraceError::Write {
        at: at(),
        source: match error.into_kind() {
            csv::ErrorKind::Io(source) => source,
            other => std::io::Error::other(format!("{other:?}")),
        },
    };
    let mut writer = csv::Writer::from_writer(sink);
    writer.write_record(CANONICAL_COLUMNS).map_err(csv_io)?;
    let mut count = 0u64;
    let mut blocks = String::new();
    for request in requests {
        let request = request?;
        blocks.clear();
        for (i, block) in request.prefix_blocks.iter().enumerate() {
            if i > 0 {
                blocks.push(' ');
            }
            write!(blocks, "{block}").expect("writing to a String cannot fail");
        }
        let priority = request.priority.map(|p| p.to_string()).unwrap_or_default();
        writer
            .write_record([
                request.arrival_us.to_string().as_str(),
                request.prompt_tokens.to_string().as_str(),
                request.output_tokens.to_string().as_str(),
                blocks.as_str(),
                request.tenant.as_deref().unwrap_or(""),
                request.model.as_deref().unwrap_or(""),
                priority.as_str(),
                if request.failed { "true" } else { "false" },
            ])
            .map_err(csv_io)?;
        count += 1;
    }
    let sink = writer.into_inner().map_err(|e| TraceError::Write {
        at: at(),
        source: e.into_error(),
    })?;
    Ok((count, sink))
}
