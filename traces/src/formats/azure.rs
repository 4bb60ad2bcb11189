//! Azure LLM inference traces (2023, and the 2024 week-long files with the same columns):
//! `TIMESTAMP,ContextTokens,GeneratedTokens`, where `TIMESTAMP` is a wall-clock datetime
//! with seven fraction digits and no zone (taken as UTC). Times are absolute; the reader
//! makes them relative to the first row and keeps the first row's time as the start.

use super::{CsvDecoder, Decoder, Header, RawRow, field};
use crate::datetime::parse_datetime_us;
use crate::error::{Location, TraceError};
use crate::fields::{shown, tokens_from_bytes};
use crate::format::TraceFormat;
use csv::ByteRecord;

struct Azure {
    timestamp: usize,
    context: usize,
    generated: usize,
}

pub(crate) fn csv(header: &Header<'_>) -> Result<Decoder<dyn CsvDecoder>, TraceError> {
    Ok(Decoder {
        format: TraceFormat::AzureLlm2023,
        absolute_time: true,
        decoder: Box::new(Azure {
            timestamp: header.require("TIMESTAMP")?,
            context: header.require("ContextTokens")?,
            generated: header.require("GeneratedTokens")?,
        }),
    })
}

impl CsvDecoder for Azure {
    fn decode(&self, record: &ByteRecord, at: &Location) -> Result<RawRow, TraceError> {
        let timestamp = field(record, self.timestamp, "TIMESTAMP", at)?;
        let time_us = parse_datetime_us(timestamp).ok_or_else(|| {
            TraceError::invalid(
                at.clone(),
                "TIMESTAMP",
                "a datetime like 2023-11-16 18:15:46.6805900",
                shown(timestamp),
            )
        })?;
        let context = field(record, self.context, "ContextTokens", at)?;
        let generated = field(record, self.generated, "GeneratedTokens", at)?;
        Ok(RawRow::new(
            time_us,
            tokens_from_bytes(context, at, "ContextTokens")?,
            tokens_from_bytes(generated, at, "GeneratedTokens")?,
        ))
    }
}
