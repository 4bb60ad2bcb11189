//! The `simulate` output folder (CONTRACTS.md): `summary.json`, `decisions.jsonl`,
//! `requests.parquet`, `timeseries.parquet`, and this project's additions
//! `slo_timeseries.parquet` and `latency_cdf.parquet` (`.csv` with the same columns when
//! the simulator is built without its `parquet` feature).
//!
//! Runs streamed from a long trace ([`RunRecorder`], [`write_streamed_folder`]) write the
//! same files without keeping their request records in memory: each run spools them to
//! a hidden file in the folder, and the `requests` table is written from the spools in
//! row groups once all runs are over.
//!
//! Everything written is a function of the runs alone, in scenario order, so the same
//! scenario and seed give byte-identical files; `summary.json`'s `wall_s` is the one
//! exception, and the caller measures it.

pub mod cdf;
pub mod csv;
pub mod decisions;
pub mod described;
pub mod latency;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod read;
pub mod slo_series;
pub mod spool;
mod streamed;
pub mod summary;
pub mod table;

pub use cdf::latency_cdf_table;
pub use decisions::{DecisionLine, write_decisions};
pub use described::{write_described, write_statuses};
pub use slo_series::{SloRows, SloSeries, slo_timeseries_table};
pub use streamed::{Recorded, RunRecorder, StreamedRun, remove_spools, write_streamed_folder};
pub use summary::{Failed, Latency, RequestStats, RunSummary, Summary};
pub use table::{RequestRows, Table, Values, requests_table, timeseries_table};

use crate::fleet::Slo;
use crate::scenario::ScalerRun;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The extension of the two tables in this build.
pub const TABLE_EXTENSION: &str = if cfg!(feature = "parquet") {
    "parquet"
} else {
    "csv"
};

/// A file of the output folder that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {message}")]
pub struct OutputError {
    pub path: String,
    pub message: String,
}

fn failed(path: &Path, error: impl std::fmt::Display) -> OutputError {
    OutputError {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

/// Writes one file through a buffered handle.
fn write_file<E: std::fmt::Display>(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<PathBuf, OutputError> {
    let file = File::create(path).map_err(|e| failed(path, e))?;
    let mut out = BufWriter::new(file);
    body(&mut out).map_err(|e| failed(path, e))?;
    out.flush().map_err(|e| failed(path, e))?;
    Ok(path.to_path_buf())
}

/// Writes `summary.json` (pretty-printed, newline-terminated).
pub fn write_summary(dir: &Path, summary: &Summary) -> Result<PathBuf, OutputError> {
    write_file(&dir.join("summary.json"), |out| {
        serde_json::to_writer_pretty(&mut *out, summary).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())
    })
}

/// Writes a table as `NAME.parquet` or `NAME.csv` (see [`TABLE_EXTENSION`]).
pub fn write_table(dir: &Path, name: &str, table: &Table) -> Result<PathBuf, OutputError> {
    let path = dir.join(format!("{name}.{TABLE_EXTENSION}"));
    write_file(&path, |out| {
        #[cfg(feature = "parquet")]
        {
            parquet::write_parquet(out, table).map_err(|e| e.to_string())
        }
        #[cfg(not(feature = "parquet"))]
        {
            csv::write_csv(out, table).map_err(|e| e.to_string())
        }
    })
}

/// Writes the whole folder (created if missing) for closed-loop `runs`; returns the
/// files written.
pub fn write_folder(
    dir: &Path,
    summary: &Summary,
    runs: &[ScalerRun],
    slo: &Slo,
) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    let results = runs.iter().map(|run| &run.result);
    let (slo_rows, stats): (Vec<SloRows>, Vec<RequestStats>) = runs
        .iter()
        .map(|run| {
            let mut series = SloSeries::new(slo);
            let mut stats = RequestStats::new(slo);
            for record in &run.result.requests {
                series.observe(record);
                stats.observe(record);
            }
            (series.finish(), stats)
        })
        .unzip();
    let names = || runs.iter().map(|run| run.result.scaler.as_str());
    let mut written = vec![
        write_summary(dir, summary)?,
        write_file(&dir.join("decisions.jsonl"), |out| {
            write_decisions(out, results.clone().flat_map(|r| r.decisions.iter()))
        })?,
        write_table(dir, "requests", &requests_table(results.clone(), slo))?,
        write_table(dir, "timeseries", &timeseries_table(results))?,
        write_table(
            dir,
            "slo_timeseries",
            &slo_timeseries_table(names().zip(&slo_rows)),
        )?,
        write_table(dir, "latency_cdf", &latency_cdf_table(names().zip(&stats)))?,
    ];
    written.extend(write_statuses(dir, runs.iter().map(|run| &run.result))?);
    Ok(written)
}
