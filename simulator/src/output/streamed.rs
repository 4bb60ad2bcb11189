//! The output folder of streamed runs: a [`RunRecorder`] per run takes its finished
//! requests (put back in input order, spooled to disk, counted into the summary and
//! the per-minute SLO rows), and [`write_streamed_folder`] writes the same files
//! [`super::write_folder`] writes for in-memory runs, byte for byte.

use super::cdf::latency_cdf_table;
use super::slo_series::{SloRows, SloSeries, slo_timeseries_table};
use super::spool::{Spool, SpoolWriter};
use super::summary::{RequestStats, Summary};
use super::table::{RequestRows, Table};
use super::{OutputError, TABLE_EXTENSION, failed, timeseries_table, write_decisions, write_file};
use super::{write_summary, write_table};
use crate::fleet::{InOrder, RequestRecord, RequestSink, SinkError, Slo};
use crate::scenario::ScalerRun;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The sink of one streamed run.
#[derive(Debug)]
pub struct RunRecorder {
    order: InOrder<Recording>,
}

#[derive(Debug)]
struct Recording {
    spool: SpoolWriter,
    stats: RequestStats,
    slo_series: SloSeries,
}

impl RequestSink for Recording {
    fn accept(&mut self, index: u32, record: RequestRecord) -> Result<(), SinkError> {
        self.stats.observe(&record);
        self.slo_series.observe(&record);
        self.spool.accept(index, record)
    }
}

/// What a finished [`RunRecorder`] holds.
#[derive(Debug)]
pub struct Recorded {
    pub spool: Spool,
    pub stats: RequestStats,
    /// The run's `slo_timeseries` rows.
    pub slo_rows: SloRows,
    /// Most records the reorder buffer held at once.
    pub max_reordered: usize,
}

/// A streamed run ready to be written: the run (its `result.requests` empty) and what
/// its recorder kept.
#[derive(Debug)]
pub struct StreamedRun {
    pub run: ScalerRun,
    pub recorded: Recorded,
}

fn spool_path(dir: &Path, run: usize) -> PathBuf {
    dir.join(format!(".requests-{run}.spool"))
}

impl RunRecorder {
    /// A recorder for run number `run` (scenario order) spooling into `dir`, which must
    /// exist.
    pub fn create(dir: &Path, run: usize, slo: &Slo) -> Result<RunRecorder, OutputError> {
        let path = spool_path(dir, run);
        let spool = SpoolWriter::create(&path).map_err(|e| failed(&path, e))?;
        Ok(RunRecorder {
            order: InOrder::new(Recording {
                spool,
                stats: RequestStats::new(slo),
                slo_series: SloSeries::new(slo),
            }),
        })
    }

    /// Closes the spool; fails if a request never reached the recorder.
    pub fn finish(self) -> Result<Recorded, OutputError> {
        let max_reordered = self.order.max_held();
        let recording = self.order.finish().map_err(|e| OutputError {
            path: "requests".into(),
            message: e.to_string(),
        })?;
        let path = recording.spool.path().to_path_buf();
        let spool = recording.spool.finish().map_err(|e| failed(&path, e))?;
        Ok(Recorded {
            spool,
            stats: recording.stats,
            slo_rows: recording.slo_series.finish(),
            max_reordered,
        })
    }
}

impl RequestSink for RunRecorder {
    fn accept(&mut self, index: u32, record: RequestRecord) -> Result<(), SinkError> {
        self.order.accept(index, record)
    }
}

/// Deletes the spools of runs `0..runs` in `dir` (after a failed run), ignoring any that
/// do not exist.
pub fn remove_spools(dir: &Path, runs: usize) {
    for run in 0..runs {
        let _ = std::fs::remove_file(spool_path(dir, run));
    }
}

/// Writes the folder for streamed `runs` (in scenario order) and deletes their spools;
/// returns the files written.
pub fn write_streamed_folder(
    dir: &Path,
    summary: &Summary,
    runs: Vec<StreamedRun>,
    slo: &Slo,
) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    let results = runs.iter().map(|run| &run.run.result);
    let mut written = vec![
        write_summary(dir, summary)?,
        write_file(&dir.join("decisions.jsonl"), |out| {
            write_decisions(out, results.clone().flat_map(|r| r.decisions.iter()))
        })?,
        write_requests(dir, &runs, slo)?,
        write_table(dir, "timeseries", &timeseries_table(results))?,
        write_table(
            dir,
            "slo_timeseries",
            &slo_timeseries_table(
                runs.iter()
                    .map(|run| (run.run.result.scaler.as_str(), &run.recorded.slo_rows)),
            ),
        )?,
        write_table(
            dir,
            "latency_cdf",
            &latency_cdf_table(
                runs.iter()
                    .map(|run| (run.run.result.scaler.as_str(), &run.recorded.stats)),
            ),
        )?,
    ];
    written.extend(super::write_statuses(
        dir,
        runs.iter().map(|run| &run.run.result),
    )?);
    for run in runs {
        let path = run.recorded.spool.path.clone();
        run.recorded.spool.remove().map_err(|e| failed(&path, e))?;
    }
    Ok(written)
}

/// The `requests` table from the spools, one batch of rows at a time.
fn write_requests(dir: &Path, runs: &[StreamedRun], slo: &Slo) -> Result<PathBuf, OutputError> {
    let path = dir.join(format!("requests.{TABLE_EXTENSION}"));
    let total: u64 = runs.iter().map(|run| run.recorded.spool.rows).sum();
    let mut batches = batch_sizes(total as usize).into_iter();
    write_file(&path, |out| -> Result<(), String> {
        let mut writer = TableWriter::new(out, &RequestRows::default().into_table())?;
        let mut rows = RequestRows::default();
        let mut target = batches.next().unwrap_or(0);
        for run in runs {
            let spool = &run.recorded.spool;
            let scaler = &run.run.result.scaler;
            let records = spool
                .read()
                .map_err(|e| format!("{}: {e}", spool.path.display()))?;
            for (index, record) in records.enumerate() {
                let record = record.map_err(|e| format!("{}: {e}", spool.path.display()))?;
                rows.push(scaler, index as u64, &record, slo);
                if rows.len() == target {
                    writer.write(&rows.take_table())?;
                    target = batches.next().unwrap_or(0);
                }
            }
        }
        if !rows.is_empty() {
            writer.write(&rows.take_table())?;
        }
        writer.finish()
    })
}

/// Rows per batch: the Parquet row groups, or 64 Ki-row batches of CSV.
fn batch_sizes(rows: usize) -> Vec<usize> {
    #[cfg(feature = "parquet")]
    {
        super::parquet::row_groups(rows)
    }
    #[cfg(not(feature = "parquet"))]
    {
        const BATCH: usize = 64 * 1024;
        let mut sizes = vec![BATCH; rows / BATCH];
        if !rows.is_multiple_of(BATCH) {
            sizes.push(rows % BATCH);
        }
        sizes
    }
}

/// This build's table writer, with errors as messages.
struct TableWriter<W: Write> {
    #[cfg(feature = "parquet")]
    inner: super::parquet::ParquetTableWriter<W>,
    #[cfg(not(feature = "parquet"))]
    inner: super::csv::CsvTableWriter<W>,
}

impl<W: Write> TableWriter<W> {
    fn new(out: W, shape: &Table) -> Result<Self, String> {
        #[cfg(feature = "parquet")]
        let inner = super::parquet::ParquetTableWriter::new(out, shape);
        #[cfg(not(feature = "parquet"))]
        let inner = super::csv::CsvTableWriter::new(out, shape);
        Ok(TableWriter {
            inner: inner.map_err(|e| e.to_string())?,
        })
    }

    fn write(&mut self, table: &Table) -> Result<(), String> {
        self.inner.write(table).map_err(|e| e.to_string())
    }

    fn finish(self) -> Result<(), String> {
        self.inner.finish().map_err(|e| e.to_string())
    }
}
