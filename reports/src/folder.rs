//! An output folder, loaded for reporting: `summary.json`, `decisions.jsonl`, the
//! tables, and the scenario and scaler manifests as they ran (`scenario.yaml`,
//! `scalers/*.yaml`). The per-minute and CDF tables are optional so that folders
//! written before they existed still report (without those charts).

use simulator::output::Summary;
use simulator::output::read::{self, DecisionEntry, ReadError, ReadTable};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct RunFolder {
    pub dir: PathBuf,
    pub summary: Summary,
    pub decisions: Vec<DecisionEntry>,
    pub timeseries: ReadTable,
    pub slo_timeseries: Option<ReadTable>,
    pub latency_cdf: Option<ReadTable>,
    /// `scenario.yaml`, when the folder has one.
    pub scenario: Option<String>,
    /// `scalers/<name>.yaml`, sorted by file name.
    pub scalers: Vec<(String, String)>,
}

impl RunFolder {
    pub fn load(dir: &Path) -> Result<RunFolder, ReadError> {
        let optional = |name: &str| -> Result<Option<ReadTable>, ReadError> {
            if dir.join(format!("{name}.parquet")).exists() {
                read::read_table(dir, name).map(Some)
            } else {
                Ok(None)
            }
        };
        let scenario_path = dir.join("scenario.yaml");
        let scenario = if scenario_path.exists() {
            Some(
                std::fs::read_to_string(&scenario_path).map_err(|e| ReadError::Io {
                    path: scenario_path.clone(),
                    message: e.to_string(),
                })?,
            )
        } else {
            None
        };
        let mut scalers = Vec::new();
        let scalers_dir = dir.join("scalers");
        if scalers_dir.is_dir() {
            let entries = std::fs::read_dir(&scalers_dir).map_err(|e| ReadError::Io {
                path: scalers_dir.clone(),
                message: e.to_string(),
            })?;
            for entry in entries {
                let path = entry
                    .map_err(|e| ReadError::Io {
                        path: scalers_dir.clone(),
                        message: e.to_string(),
                    })?
                    .path();
                if path.extension().is_some_and(|e| e == "yaml") {
                    let text = std::fs::read_to_string(&path).map_err(|e| ReadError::Io {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                    let name = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    scalers.push((name, text));
                }
            }
            scalers.sort();
        }
        Ok(RunFolder {
            dir: dir.to_path_buf(),
            summary: read::read_summary(dir)?,
            decisions: read::read_decisions(dir)?,
            timeseries: read::read_table(dir, "timeseries")?,
            slo_timeseries: optional("slo_timeseries")?,
            latency_cdf: optional("latency_cdf")?,
            scenario,
            scalers,
        })
    }
}

/// The rows of `table` for one scaler: `(x, y)` from two numeric columns, rows with a
/// null in either left out.
pub fn points(
    table: &ReadTable,
    scaler: &str,
    x: &str,
    y: &str,
) -> Result<Vec<(f64, f64)>, ReadError> {
    let names = table.strings("scaler")?;
    let xs = table.numbers(x)?;
    let ys = table.numbers(y)?;
    Ok(names
        .iter()
        .zip(xs.into_iter().zip(ys))
        .filter(|(name, _)| *name == scaler)
        .filter_map(|(_, (x, y))| Some((x?, y?)))
        .collect())
}
