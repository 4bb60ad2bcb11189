//! Canonical (and mapped generic) traces in Parquet, through polars.
//!
//! Writing goes one row group of [`CHUNK_ROWS`] requests at a time; reading goes one slice
//! of [`CHUNK_ROWS`] rows at a time, so memory stays bounded by a chunk. Each row of a
//! slice is turned into the same JSON object the JSON-lines decoders read, so Parquet
//! values are checked exactly like the other formats. Errors name the 1-based row as the
//! "line".

use crate::CANONICAL_COLUMNS;
use crate::error::{Location, TraceError};
use crate::format::TraceFormat;
use crate::formats::{JsonDecoder, RawRow, canonical, generic};
use crate::reader::ReadOptions;
use crate::request::Request;
use polars::prelude::*;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Rows per written row group and per read slice.
const CHUNK_ROWS: usize = 64 * 1024;

fn polars_error(file: &str, line: u64, expected: &str, error: PolarsError) -> TraceError {
    TraceError::malformed(Location::new(file, line), expected, error.to_string())
}

/// Streams decoded rows out of a Parquet file, a slice at a time.
pub(crate) struct ParquetRows {
    file: Arc<str>,
    path: PathBuf,
    metadata: polars::io::parquet::metadata::FileMetadataRef,
    columns: Vec<String>,
    total_rows: usize,
    next_row: usize,
    chunk: std::vec::IntoIter<Map<String, Value>>,
    decoder: Box<dyn JsonDecoder>,
    format: TraceFormat,
    absolute_time: bool,
}

impl ParquetRows {
    pub fn open(path: &Path, file: Arc<str>, options: &ReadOptions) -> Result<Self, TraceError> {
        let handle = std::fs::File::open(path).map_err(|source| TraceError::Io {
            at: Location::new(file.clone(), 0),
            source,
        })?;
        let mut reader = ParquetReader::new(handle);
        let metadata = reader
            .get_metadata()
            .map_err(|e| polars_error(&file, 0, "a readable Parquet file", e))?
            .clone();
        let schema = reader
            .schema()
            .map_err(|e| polars_error(&file, 0, "a readable Parquet schema", e))?;
        let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
        let has = |name: &str| names.iter().any(|n| n == name);
        let (decoder, columns) = match &options.columns {
            Some(mapping) => {
                let columns: Vec<String> = mapping
                    .columns()
                    .into_iter()
                    .map(|(_, name)| name.to_string())
                    .collect();
                (generic::json(mapping), columns)
            }
            None if has("arrival_us") || has("prompt_tokens") => {
                let columns = CANONICAL_COLUMNS
                    .iter()
                    .filter(|name| has(name))
                    .map(|name| name.to_string())
                    .collect();
                (canonical::json(), columns)
            }
            None => {
                return Err(TraceError::UnknownFormat {
                    at: Location::new(file.clone(), 0),
                    found: format!("a Parquet file with columns [{}]", names.join(", ")),
                });
            }
        };
        if let Some(wanted) = options.format.filter(|f| *f != decoder.format) {
            return Err(TraceError::malformed(
                Location::new(file.clone(), 0),
                format!("a {wanted} trace (the format asked for)"),
                format!("the columns of a {} trace", decoder.format),
            ));
        }
        for column in &columns {
            if !has(column) {
                return Err(TraceError::MissingColumn {
                    at: Location::new(file.clone(), 0),
                    column: column.clone(),
                    found: format!("Parquet columns [{}]", names.join(", ")),
                });
            }
        }
        Ok(ParquetRows {
            total_rows: metadata.num_rows,
            file,
            path: path.to_path_buf(),
            metadata,
            columns,
            next_row: 0,
            chunk: Vec::new().into_iter(),
            format: decoder.format,
            absolute_time: decoder.absolute_time,
            decoder: decoder.decoder,
        })
    }

    pub fn file(&self) -> Arc<str> {
        self.file.clone()
    }

    pub fn format(&self) -> TraceFormat {
        self.format
    }

    pub fn absolute_time(&self) -> bool {
        self.absolute_time
    }

    pub fn next_raw(&mut self) -> Option<Result<(u64, RawRow), TraceError>> {
        let object = match self.chunk.next() {
            Some(object) => object,
            None => {
                if self.next_row >= self.total_rows {
                    return None;
                }
                match self.read_chunk() {
                    Ok(chunk) => self.chunk = chunk.into_iter(),
                    Err(error) => {
                        self.next_row = self.total_rows;
                        return Some(Err(error));
                    }
                }
                self.chunk.next()?
            }
        };
        // `next_row` counts rows handed out; the row number is 1-based.
        self.next_row += 1;
        let line = self.next_row as u64;
        let at = Location::new(self.file.clone(), line);
        Some(self.decoder.decode(&object, &at).map(|row| (line, row)))
    }

    /// Reads the next slice and turns it into one JSON object per row.
    fn read_chunk(&mut self) -> Result<Vec<Map<String, Value>>, TraceError> {
        let first_line = self.next_row as u64 + 1;
        let bad = |e| polars_error(&self.file, first_line, "readable Parquet row groups", e);
        let handle = std::fs::File::open(&self.path).map_err(|source| TraceError::Io {
            at: Location::new(self.file.clone(), first_line),
            source,
        })?;
        let mut reader = ParquetReader::new(handle);
        reader.set_metadata(self.metadata.clone());
        let frame = reader
            .with_columns(Some(self.columns.clone()))
            .with_slice(Some((self.next_row, CHUNK_ROWS)))
            .read_parallel(ParallelStrategy::None)
            .finish()
            .map_err(bad)?;
        let mut rows = vec![Map::new(); frame.height()];
        for name in &self.columns {
            let column = frame.column(name).map_err(bad)?;
            let values = json_values(column.as_materialized_series(), &self.file, first_line)?;
            for (row, value) in rows.iter_mut().zip(values) {
                row.insert(name.clone(), value);
            }
        }
        Ok(rows)
    }
}

/// A column's values as JSON: integers, floats (NaN and infinities as text so that the
/// error shows them), strings, booleans and lists of integers.
fn json_values(series: &Series, file: &str, line: u64) -> Result<Vec<Value>, TraceError> {
    let cast = |dtype: &DataType| {
        series
            .cast(dtype)
            .map_err(|e| polars_error(file, line, "a castable Parquet column", e))
    };
    let dtype = series.dtype();
    let values = if dtype.is_integer() && *dtype != DataType::UInt64 {
        let cast = cast(&DataType::Int64)?;
        let ints = cast
            .i64()
            .map_err(|e| polars_error(file, line, "integers", e))?;
        ints.iter()
            .map(|v| v.map_or(Value::Null, Value::from))
            .collect()
    } else if *dtype == DataType::UInt64 {
        let ints = series
            .u64()
            .map_err(|e| polars_error(file, line, "integers", e))?;
        ints.iter()
            .map(|v| v.map_or(Value::Null, Value::from))
            .collect()
    } else if dtype.is_float() {
        let cast = cast(&DataType::Float64)?;
        let floats = cast
            .f64()
            .map_err(|e| polars_error(file, line, "floats", e))?;
        floats
            .iter()
            .map(|v| match v {
                None => Value::Null,
                Some(f) => serde_json::Number::from_f64(f)
                    .map_or_else(|| Value::String(f.to_string()), Value::Number),
            })
            .collect()
    } else if *dtype == DataType::Boolean {
        let bools = series
            .bool()
            .map_err(|e| polars_error(file, line, "booleans", e))?;
        bools
            .iter()
            .map(|v| v.map_or(Value::Null, Value::Bool))
            .collect()
    } else if let DataType::List(_) = dtype {
        let cast = cast(&DataType::List(Box::new(DataType::UInt64)))?;
        let lists = cast
            .list()
            .map_err(|e| polars_error(file, line, "lists", e))?;
        let mut values = Vec::with_capacity(lists.len());
        for item in lists.amortized_iter() {
            values.push(match item {
                None => Value::Null,
                Some(inner) => {
                    let ids = inner
                        .as_ref()
                        .u64()
                        .map_err(|e| polars_error(file, line, "a list of block ids", e))?;
                    Value::Array(
                        ids.iter()
                            .map(|v| v.map_or(Value::Null, Value::from))
                            .collect(),
                    )
                }
            });
        }
        values
    } else {
        let cast = cast(&DataType::String)?;
        let strings = cast
            .str()
            .map_err(|e| polars_error(file, line, "strings", e))?;
        strings
            .iter()
            .map(|v| v.map_or(Value::Null, |s| Value::String(s.to_string())))
            .collect()
    };
    Ok(values)
}

fn canonical_schema() -> Schema {
    Schema::from_iter([
        Field::new("arrival_us".into(), DataType::Int64),
        Field::new("prompt_tokens".into(), DataType::UInt32),
        Field::new("output_tokens".into(), DataType::UInt32),
        Field::new(
            "prefix_blocks".into(),
            DataType::List(Box::new(DataType::UInt64)),
        ),
        Field::new("tenant".into(), DataType::String),
        Field::new("model".into(), DataType::String),
        Field::new("priority".into(), DataType::Int32),
        Field::new("failed".into(), DataType::Boolean),
    ])
}

/// Writes canonical requests as Parquet, one row group per chunk.
pub(crate) fn write(
    path: &Path,
    requests: impl Iterator<Item = Result<Request, TraceError>>,
) -> Result<u64, TraceError> {
    let file = path.display().to_string();
    let failed = |e: PolarsError| TraceError::Write {
        at: Location::new(file.as_str(), 0),
        source: std::io::Error::other(e.to_string()),
    };
    let handle = std::fs::File::create(path).map_err(|source| TraceError::Write {
        at: Location::new(file.as_str(), 0),
        source,
    })?;
    let mut writer = ParquetWriter::new(handle)
        .with_row_group_size(Some(CHUNK_ROWS))
        .batched(&canonical_schema())
        .map_err(failed)?;
    let mut chunk: Vec<Request> = Vec::with_capacity(CHUNK_ROWS);
    let mut count = 0u64;
    for request in requests {
        chunk.push(request?);
        count += 1;
        if chunk.len() == CHUNK_ROWS {
            writer
                .write_batch(&frame(&chunk).map_err(failed)?)
                .map_err(failed)?;
            chunk.clear();
        }
    }
    if !chunk.is_empty() || count == 0 {
        writer
            .write_batch(&frame(&chunk).map_err(failed)?)
            .map_err(failed)?;
    }
    writer.finish().map_err(failed)?;
    Ok(count)
}

fn frame(chunk: &[Request]) -> PolarsResult<DataFrame> {
    let mut blocks = ListPrimitiveChunkedBuilder::<UInt64Type>::new(
        "prefix_blocks".into(),
        chunk.len(),
        chunk.iter().map(|r| r.prefix_blocks.len()).sum(),
        DataType::UInt64,
    );
    for request in chunk {
        blocks.append_slice(&request.prefix_blocks);
    }
    let columns = vec![
        Column::new(
            "arrival_us".into(),
            chunk.iter().map(|r| r.arrival_us).collect::<Vec<i64>>(),
        ),
        Column::new(
            "prompt_tokens".into(),
            chunk.iter().map(|r| r.prompt_tokens).collect::<Vec<u32>>(),
        ),
        Column::new(
            "output_tokens".into(),
            chunk.iter().map(|r| r.output_tokens).collect::<Vec<u32>>(),
        ),
        blocks.finish().into_series().into_column(),
        Column::new(
            "tenant".into(),
            chunk
                .iter()
                .map(|r| r.tenant.as_deref())
                .collect::<Vec<Option<&str>>>(),
        ),
        Column::new(
            "model".into(),
            chunk
                .iter()
                .map(|r| r.model.as_deref())
                .collect::<Vec<Option<&str>>>(),
        ),
        Column::new(
            "priority".into(),
            chunk
                .iter()
                .map(|r| r.priority)
                .collect::<Vec<Option<i32>>>(),
        ),
        Column::new(
            "failed".into(),
            chunk.iter().map(|r| r.failed).collect::<Vec<bool>>(),
        ),
    ];
    DataFrame::new(chunk.len(), columns)
}
