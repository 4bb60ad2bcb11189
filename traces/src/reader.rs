//! The one way to read a trace: [`open`] detects the format from the content and returns a
//! streaming iterator of canonical requests. Memory is one row (plus the I/O buffers), not
//! the file, except with [`ReadOptions::sort`], which must see every row before the first.

use crate::columns::ColumnMapping;
use crate::datetime::format_iso_utc;
use crate::error::{Location, TraceError};
use crate::fields::shown;
use crate::format::{Container, TraceFormat};
use crate::formats::{CsvDecoder, Header, JsonDecoder, RawRow, csv_decoder, json_decoder};
use crate::request::Request;
use crate::source::{Source, open_source, source_from_reader};
use crate::vllm_recording::parse_object;
use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::Arc;

/// A JSON line longer than this is corrupt input, not a request.
const MAX_JSON_LINE: u64 = 64 * 1024 * 1024;

/// How to read a trace. The default detects everything and rejects out-of-order rows.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Insist on a format; detection still runs and a different format is an error.
    pub format: Option<TraceFormat>,
    /// Read the file through this mapping (the generic format) instead of detecting.
    pub columns: Option<ColumnMapping>,
    /// Sort rows by arrival instead of failing on the first out-of-order row. Holds the
    /// whole trace in memory.
    pub sort: bool,
}

/// A streaming reader of canonical requests; see [`open`].
///
/// Arrivals are microseconds from the trace start: for formats with absolute times
/// (Azure, vLLM recordings, generic epoch/datetime columns) the start is the first row
/// (the earliest with `sort`), available as [`TraceReader::start_epoch_us`]; other formats
/// keep their times as written. After an error the iterator ends.
pub struct TraceReader {
    file: Arc<str>,
    format: TraceFormat,
    container: Container,
    absolute_time: bool,
    origin_us: i64,
    start_epoch_us: Option<i64>,
    rows: Rows,
    first: Option<Request>,
    previous_us: i64,
    done: bool,
}

/// Opens a trace file (or a vLLM recording folder) and reads its first row, so that the
/// format and the start time are known before iterating.
pub fn open(path: &Path, options: &ReadOptions) -> Result<TraceReader, TraceError> {
    open_from(open_source(path)?, Some(path), options)
}

/// As [`open`], for content that is not a file (standard input, tests, fuzzing); `name`
/// stands for the file in error messages. Parquet needs a file and is refused here.
pub fn open_reader(
    input: impl Read + Send + 'static,
    name: &str,
    options: &ReadOptions,
) -> Result<TraceReader, TraceError> {
    open_from(
        source_from_reader(Box::new(input), name.into())?,
        None,
        options,
    )
}

fn open_from(
    source: Source,
    path: Option<&Path>,
    options: &ReadOptions,
) -> Result<TraceReader, TraceError> {
    if options.format == Some(TraceFormat::Generic) && options.columns.is_none() {
        return Err(TraceError::InvalidOption {
            option: "--columns".to_string(),
            expected: "a column mapping for the generic format".to_string(),
            found: String::new(),
        });
    }
    let (rows, format, container, absolute_time) = if source.parquet {
        let Some(path) = path else {
            return Err(TraceError::malformed(
                Location::new(source.file.clone(), 1),
                "a CSV or JSON-lines stream (Parquet must be read from a file)",
                "Parquet content",
            ));
        };
        open_parquet(path, &source, options)?
    } else if source.first_line.trim_ascii_start().starts_with(b"{") {
        open_jsonl(source, options)?
    } else {
        open_csv(source, options)?
    };
    let file = match &rows {
        Rows::Csv(rows) => rows.file.clone(),
        Rows::Jsonl(rows) => rows.file.clone(),
        #[cfg(feature = "parquet")]
        Rows::Parquet(rows) => rows.file(),
        Rows::Sorted(_) => Arc::from(""),
    };
    let reader = TraceReader {
        file,
        format,
        container,
        absolute_time,
        origin_us: 0,
        start_epoch_us: None,
        rows,
        first: None,
        previous_us: 0,
        done: false,
    };
    reader.begin(options.sort)
}

#[cfg(feature = "parquet")]
fn open_parquet(
    path: &Path,
    source: &Source,
    options: &ReadOptions,
) -> Result<(Rows, TraceFormat, Container, bool), TraceError> {
    if source.gzip {
        return Err(gzip_parquet(source));
    }
    let rows = crate::parquet::ParquetRows::open(path, source.file.clone(), options)?;
    let (format, absolute) = (rows.format(), rows.absolute_time());
    Ok((Rows::Parquet(rows), format, Container::Parquet, absolute))
}

#[cfg(not(feature = "parquet"))]
fn open_parquet(
    _path: &Path,
    source: &Source,
    _options: &ReadOptions,
) -> Result<(Rows, TraceFormat, Container, bool), TraceError> {
    if source.gzip {
        return Err(gzip_parquet(source));
    }
    Err(TraceError::malformed(
        Location::new(source.file.clone(), 1),
        "a CSV or JSON-lines trace (this build has no Parquet support: enable the `parquet` feature)",
        "a Parquet file",
    ))
}

fn gzip_parquet(source: &Source) -> TraceError {
    TraceError::malformed(
        Location::new(source.file.clone(), 1),
        "an uncompressed Parquet file (Parquet compresses its own pages)",
        "a gzip-compressed Parquet file",
    )
}

fn open_jsonl(
    source: Source,
    options: &ReadOptions,
) -> Result<(Rows, TraceFormat, Container, bool), TraceError> {
    let at = Location::new(source.file.clone(), 1);
    let first = parse_object(source.first_line.trim_ascii(), &at)?;
    let decoder = json_decoder(&first, &at, options.columns.as_ref(), options.format)?;
    let rows = Rows::Jsonl(JsonlRows {
        file: source.file,
        gzip: source.gzip,
        input: source.input,
        buffer: Vec::new(),
        line: 0,
        decoder: decoder.decoder,
    });
    Ok((
        rows,
        decoder.format,
        Container::Jsonl,
        decoder.absolute_time,
    ))
}

fn open_csv(
    source: Source,
    options: &ReadOptions,
) -> Result<(Rows, TraceFormat, Container, bool), TraceError> {
    let at = Location::new(source.file.clone(), 1);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .buffer_capacity(256 * 1024)
        .from_reader(source.input);
    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(&source.file, 1, source.gzip, e))?
        .clone();
    let decoder = csv_decoder(
        &Header {
            record: &header,
            at,
        },
        options.columns.as_ref(),
        options.format,
    )?;
    let rows = Rows::Csv(CsvRows {
        file: source.file,
        gzip: source.gzip,
        reader,
        record: csv::ByteRecord::new(),
        decoder: decoder.decoder,
    });
    Ok((rows, decoder.format, Container::Csv, decoder.absolute_time))
}

impl TraceReader {
    /// The detected (or mapped) format.
    pub fn format(&self) -> TraceFormat {
        self.format
    }

    /// How the file stores its rows.
    pub fn container(&self) -> Container {
        self.container
    }

    /// The file as it appears in error messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Microseconds since the Unix epoch of arrival 0, for formats with absolute times;
    /// `None` when the trace only knows time from its own start (or has no rows).
    pub fn start_epoch_us(&self) -> Option<i64> {
        self.start_epoch_us
    }

    /// [`Self::start_epoch_us`] as ISO-8601 UTC, e.g. `2023-11-16T18:15:46.680590Z`.
    pub fn start_iso(&self) -> Option<String> {
        self.start_epoch_us.map(format_iso_utc)
    }

    /// Reads the first row (or, when sorting, all of them) to fix the time origin.
    fn begin(mut self, sort: bool) -> Result<Self, TraceError> {
        if sort {
            let mut rows: Vec<RawRow> = Vec::new();
            while let Some(row) = self.rows.next_raw() {
                rows.push(row?.1);
            }
            rows.sort_by_key(|row| row.time_us);
            if let Some(first) = rows.first() {
                self.set_origin(first.time_us);
            }
            let mut requests = Vec::with_capacity(rows.len());
            for row in rows {
                // Sorted rows are in order; only range checks can fail here.
                requests.push(self.accept(0, row)?);
            }
            self.rows = Rows::Sorted(requests.into_iter());
        } else if let Some(row) = self.rows.next_raw() {
            let (line, row) = row?;
            self.set_origin(row.time_us);
            self.first = Some(self.accept(line, row)?);
        }
        Ok(self)
    }

    fn set_origin(&mut self, first_time_us: i64) {
        if self.absolute_time {
            self.origin_us = first_time_us;
            self.start_epoch_us = Some(first_time_us);
        }
    }

    /// Makes the row's time relative and checks it against the previous arrival.
    fn accept(&mut self, line: u64, mut row: RawRow) -> Result<Request, TraceError> {
        let at = || Location::new(self.file.clone(), line);
        let Some(arrival) = row.time_us.checked_sub(self.origin_us) else {
            return Err(TraceError::invalid(
                at(),
                "arrival",
                "a time within 146,000 years of the first row",
                format!("{} us", row.time_us),
            ));
        };
        if arrival < 0 && !self.absolute_time {
            return Err(TraceError::invalid(
                at(),
                "arrival",
                "a non-negative time from the trace start",
                format!("{arrival} us"),
            ));
        }
        if arrival < self.previous_us {
            return Err(TraceError::OutOfOrder {
                at: at(),
                previous_us: self.previous_us,
                found_us: arrival,
            });
        }
        self.previous_us = arrival;
        row.request.arrival_us = arrival;
        Ok(row.request)
    }
}

impl Iterator for TraceReader {
    type Item = Result<Request, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(first) = self.first.take() {
            return Some(Ok(first));
        }
        if self.done {
            return None;
        }
        if let Rows::Sorted(requests) = &mut self.rows {
            return requests.next().map(Ok);
        }
        let result = self
            .rows
            .next_raw()?
            .and_then(|(line, row)| self.accept(line, row));
        self.done = result.is_err();
        Some(result)
    }
}

/// Where rows come from.
enum Rows {
    Csv(CsvRows),
    Jsonl(JsonlRows),
    #[cfg(feature = "parquet")]
    Parquet(crate::parquet::ParquetRows),
    Sorted(std::vec::IntoIter<Request>),
}

impl Rows {
    /// The next decoded row with its 1-based line (row number for Parquet).
    fn next_raw(&mut self) -> Option<Result<(u64, RawRow), TraceError>> {
        match self {
            Rows::Csv(rows) => rows.next_raw(),
            Rows::Jsonl(rows) => rows.next_raw(),
            #[cfg(feature = "parquet")]
            Rows::Parquet(rows) => rows.next_raw(),
            Rows::Sorted(_) => None,
        }
    }
}

struct CsvRows {
    file: Arc<str>,
    gzip: bool,
    reader: csv::Reader<Box<dyn BufRead + Send>>,
    record: csv::ByteRecord,
    decoder: Box<dyn CsvDecoder>,
}

impl CsvRows {
    fn next_raw(&mut self) -> Option<Result<(u64, RawRow), TraceError>> {
        let line_before = self.reader.position().line();
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(line_before, |p| p.line());
                let at = Location::new(self.file.clone(), line);
                Some(
                    self.decoder
                        .decode(&self.record, &at)
                        .map(|row| (line, row)),
                )
            }
            Err(error) => Some(Err(csv_error(&self.file, line_before, self.gzip, error))),
        }
    }
}

fn csv_error(file: &Arc<str>, line: u64, gzip: bool, error: csv::Error) -> TraceError {
    let line = error.position().map_or(line, |p| p.line());
    let at = Location::new(file.clone(), line);
    match error.into_kind() {
        csv::ErrorKind::Io(source) => TraceError::from_read(at, source, gzip),
        other => TraceError::malformed(at, "well-formed CSV", format!("{other:?}")),
    }
}

struct JsonlRows {
    file: Arc<str>,
    gzip: bool,
    input: Box<dyn BufRead + Send>,
    buffer: Vec<u8>,
    line: u64,
    decoder: Box<dyn JsonDecoder>,
}

impl JsonlRows {
    fn next_raw(&mut self) -> Option<Result<(u64, RawRow), TraceError>> {
        loop {
            self.buffer.clear();
            self.line += 1;
            let at = Location::new(self.file.clone(), self.line);
            let read = (&mut self.input)
                .take(MAX_JSON_LINE)
                .read_until(b'\n', &mut self.buffer);
            match read {
                Ok(0) => return None,
                Ok(n) if n as u64 == MAX_JSON_LINE && self.buffer.last() != Some(&b'\n') => {
                    return Some(Err(TraceError::malformed(
                        at,
                        format!("a JSON line shorter than {MAX_JSON_LINE} bytes"),
                        format!("a longer line starting {:?}", shown(&self.buffer)),
                    )));
                }
                Ok(_) => {}
                Err(error) => return Some(Err(TraceError::from_read(at, error, self.gzip))),
            }
            let line = self.buffer.trim_ascii();
            if line.is_empty() {
                continue;
            }
            let row = parse_object(line, &at).and_then(|object| self.decoder.decode(&object, &at));
            return Some(row.map(|row| (self.line, row)));
        }
    }
}
