//! Reading an output folder back: `summary.json`, `decisions.jsonl` and the tables, so
//! a report is built from a folder alone (`budscaler report DIR`). Each reader sits
//! beside the writer of its file's shape ([`super::summary`], [`super::decisions`],
//! [`super::table`]); errors name the file, and the line for JSON lines.

use super::summary::Summary;
use super::table::Values;
use std::path::{Path, PathBuf};

/// A file of an output folder that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: missing column `{column}` (or not of the expected type)")]
    Column { path: PathBuf, column: String },
}

fn io_error(path: &Path, error: impl std::fmt::Display) -> ReadError {
    ReadError::Io {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// `DIR/summary.json`.
pub fn read_summary(dir: &Path) -> Result<Summary, ReadError> {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    serde_json::from_str(&text).map_err(|e| ReadError::Format {
        path,
        message: e.to_string(),
    })
}

pub use control::record::DecisionEntry;

/// `DIR/decisions.jsonl`, in file order.
pub fn read_decisions(dir: &Path) -> Result<Vec<DecisionEntry>, ReadError> {
    let path = dir.join("decisions.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    control::read_decisions_from(&text).map_err(|(line, e)| ReadError::Format {
        path,
        message: format!("line {line}: {e}"),
    })
}

/// A table read back: named columns of the types [`Values`] writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadTable {
    pub path: PathBuf,
    pub columns: Vec<(String, Values)>,
}

impl ReadTable {
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, v)| v.len())
    }

    fn column(&self, name: &str) -> Option<&Values> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, values)| values)
    }

    fn missing(&self, name: &str) -> ReadError {
        ReadError::Column {
            path: self.path.clone(),
            column: name.to_string(),
        }
    }

    /// A text column.
    pub fn strings(&self, name: &str) -> Result<&[String], ReadError> {
        match self.column(name) {
            Some(Values::Str(v)) => Ok(v),
            _ => Err(self.missing(name)),
        }
    }

    /// A numeric column as floats (integers converted; null stays `None`).
    pub fn numbers(&self, name: &str) -> Result<Vec<Option<f64>>, ReadError> {
        Ok(match self.column(name) {
            Some(Values::F64(v)) => v.clone(),
            Some(Values::I64(v)) => v.iter().map(|x| x.map(|x| x as f64)).collect(),
            Some(Values::U32(v)) => v.iter().map(|x| x.map(f64::from)).collect(),
            Some(Values::Bool(v)) => v.iter().map(|&x| Some(f64::from(u8::from(x)))).collect(),
            _ => return Err(self.missing(name)),
        })
    }
}

/// `DIR/NAME.parquet` (this build writes Parquet).
#[cfg(feature = "parquet")]
pub fn read_table(dir: &Path, name: &str) -> Result<ReadTable, ReadError> {
    let path = dir.join(format!("{name}.parquet"));
    let file = std::fs::File::open(&path).map_err(|e| io_error(&path, e))?;
    let columns = super::parquet::read_parquet(file).map_err(|e| ReadError::Format {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok(ReadTable { path, columns })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_decision_line_is_named() {
        let dir = std::env::temp_dir().join(format!("budscaler-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("decisions.jsonl"),
            "{\"time_s\":15.0,\"scaler\":\"a\",\"strategy\":\"HPA\",\"desired\":2,\"current\":1,\"reason\":\"ScaleUp\",\"in_panic\":false,\"metrics\":[],\"message\":\"m\"}\n{\"time_s\": oops}\n",
        )
        .unwrap();
        let error = read_decisions(&dir).unwrap_err().to_string();
        assert!(error.contains("decisions.jsonl: line 2:"), "{error}");
        std::fs::write(
            dir.join("decisions.jsonl"),
            "{\"time_s\":15.0,\"scaler\":\"a\",\"strategy\":\"HPA\",\"desired\":2,\"current\":1,\"reason\":\"ScaleUp\",\"in_panic\":false,\"metrics\":[],\"message\":\"m\"}\n",
        )
        .unwrap();
        let entries = read_decisions(&dir).unwrap();
        assert_eq!(entries[0].desired, 2);
        assert!(entries[0].forecast.is_none());
        let error = read_summary(&dir).unwrap_err().to_string();
        assert!(error.contains("summary.json"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
