//! A run's request records parked on disk until the `requests` table is written.
//!
//! Scalers run in parallel but the table lists them one after the other, and its
//! Parquet row groups depend on the total row count; so each streamed run writes its
//! records, in input order, to a spool file next to the output, and the table is
//! written from the spools once every run is over. A record is 41 bytes, little-endian:
//! `arrival_us i64, prompt_tokens u32, output_tokens u32, replica u32 (u32::MAX: none),
//! first_token_us i64, last_token_us i64 (i64::MIN: none), preemptions u32, status u8`.

use crate::fleet::{RequestRecord, RequestSink, RequestStatus, SinkError};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const RECORD_BYTES: usize = 41;
const NO_REPLICA: u32 = u32::MAX;
const NO_TIME: i64 = i64::MIN;

/// Writes records to a spool file; a [`RequestSink`] that expects input order.
#[derive(Debug)]
pub struct SpoolWriter {
    path: PathBuf,
    out: BufWriter<File>,
    rows: u64,
}

/// A finished spool: its file and how many records it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spool {
    pub path: PathBuf,
    pub rows: u64,
}

impl SpoolWriter {
    /// Creates (or truncates) the spool at `path`.
    pub fn create(path: &Path) -> io::Result<SpoolWriter> {
        Ok(SpoolWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, File::create(path)?),
            rows: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn push(&mut self, record: &RequestRecord) -> io::Result<()> {
        self.out.write_all(&encode(record))?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes and closes the file.
    pub fn finish(mut self) -> io::Result<Spool> {
        self.out.flush()?;
        Ok(Spool {
            path: self.path,
            rows: self.rows,
        })
    }
}

impl RequestSink for SpoolWriter {
    fn accept(&mut self, _index: u32, record: RequestRecord) -> Result<(), SinkError> {
        self.push(&record)
            .map_err(|error| format!("{}: {error}", self.path.display()).into())
    }
}

impl Spool {
    /// Reads the records back, in the order written.
    pub fn read(&self) -> io::Result<SpoolReader> {
        Ok(SpoolReader {
            input: BufReader::with_capacity(1 << 20, File::open(&self.path)?),
            left: self.rows,
        })
    }

    /// Deletes the file.
    pub fn remove(self) -> io::Result<()> {
        std::fs::remove_file(&self.path)
    }
}

/// The records of a [`Spool`], one at a time.
#[derive(Debug)]
pub struct SpoolReader {
    input: BufReader<File>,
    left: u64,
}

impl Iterator for SpoolReader {
    type Item = io::Result<RequestRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut bytes = [0u8; RECORD_BYTES];
        Some(
            self.input
                .read_exact(&mut bytes)
                .and_then(|()| decode(&bytes)),
        )
    }
}

fn encode(record: &RequestRecord) -> [u8; RECORD_BYTES] {
    let mut bytes = [0u8; RECORD_BYTES];
    let mut at = 0;
    let mut put = |field: &[u8]| {
        bytes[at..at + field.len()].copy_from_slice(field);
        at += field.len();
    };
    put(&record.arrival_us.to_le_bytes());
    put(&record.prompt_tokens.to_le_bytes());
    put(&record.output_tokens.to_le_bytes());
    put(&record.replica.unwrap_or(NO_REPLICA).to_le_bytes());
    put(&record.first_token_us.unwrap_or(NO_TIME).to_le_bytes());
    put(&record.last_token_us.unwrap_or(NO_TIME).to_le_bytes());
    put(&record.preemptions.to_le_bytes());
    put(&[status_code(record.status)]);
    bytes
}

fn decode(bytes: &[u8; RECORD_BYTES]) -> io::Result<RequestRecord> {
    let i64_at = |at: usize| i64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let time = |value: i64| (value != NO_TIME).then_some(value);
    let replica = u32_at(16);
    let status = status_of(bytes[40]).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("spool status byte: expected 0-4, found {}", bytes[40]),
        )
    })?;
    Ok(RequestRecord {
        arrival_us: i64_at(0),
        prompt_tokens: u32_at(8),
        output_tokens: u32_at(12),
        replica: (replica != NO_REPLICA).then_some(replica),
        first_token_us: time(i64_at(20)),
        last_token_us: time(i64_at(28)),
        preemptions: u32_at(36),
        status,
    })
}

const STATUSES: [RequestStatus; 5] = [
    RequestStatus::Completed,
    RequestStatus::GatewayTimeout,
    RequestStatus::Rejected,
    RequestStatus::CutByDrain,
    RequestStatus::LostToSpot,
];

fn status_code(status: RequestStatus) -> u8 {
    STATUSES
        .iter()
        .position(|&s| s == status)
        .expect("every status is listed") as u8
}

fn status_of(code: u8) -> Option<RequestStatus> {
    STATUSES.get(usize::from(code)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_a_spool() {
        let dir = std::env::temp_dir().join(format!("spool-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let records: Vec<RequestRecord> = STATUSES
            .iter()
            .enumerate()
            .map(|(i, &status)| RequestRecord {
                arrival_us: -5 + i as i64,
                prompt_tokens: 100 + i as u32,
                output_tokens: 1 + i as u32,
                replica: (i % 2 == 0).then_some(i as u32),
                first_token_us: (i != 1).then_some(10 * i as i64),
                last_token_us: (i == 0).then_some(99),
                preemptions: i as u32,
                status,
            })
            .collect();
        let mut writer = SpoolWriter::create(&dir.join("a.spool")).unwrap();
        for record in &records {
            writer.accept(0, record.clone()).unwrap();
        }
        let spool = writer.finish().unwrap();
        assert_eq!(spool.rows, records.len() as u64);
        let back: Vec<RequestRecord> = spool.read().unwrap().map(Result::unwrap).collect();
        assert_eq!(back, records);
        spool.remove().unwrap();
        std::fs::remove_dir(&dir).unwrap();
    }
}
