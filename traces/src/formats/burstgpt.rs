//! BurstGPT: `Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type`, with
//! `Timestamp` in seconds from the trace start. A row with 0 response tokens is a failed
//! request: it is kept and flagged `failed`. `Model` becomes the request's model and
//! `Log Type` (conversation or API log) its tenant; `Total tokens` is redundant and ignored.

use super::{CsvDecoder, Decoder, Header, RawRow, field};
use crate::error::{Location, TraceError};
use crate::fields::{float_from_bytes, label_from_bytes, shown, to_micros, tokens_from_bytes};
use crate::format::TraceFormat;
use csv::ByteRecord;

struct BurstGpt {
    timestamp: usize,
    model: Option<usize>,
    request: usize,
    response: usize,
    log_type: Option<usize>,
}

pub(crate) fn csv(header: &Header<'_>) -> Result<Decoder<dyn CsvDecoder>, TraceError> {
    Ok(Decoder {
        format: TraceFormat::BurstGpt,
        absolute_time: false,
        decoder: Box::new(BurstGpt {
            timestamp: header.require("Timestamp")?,
            model: header.find("Model"),
            request: header.require("Request tokens")?,
            response: header.require("Response tokens")?,
            log_type: header.find("Log Type"),
        }),
    })
}

impl CsvDecoder for BurstGpt {
    fn decode(&self, record: &ByteRecord, at: &Location) -> Result<RawRow, TraceError> {
        let timestamp = field(record, self.timestamp, "Timestamp", at)?;
        let seconds = float_from_bytes(timestamp, at, "Timestamp", "seconds from the trace start")?;
        let time_us = to_micros(seconds, 1e6, &shown(timestamp), at, "Timestamp")?;
        let request = field(record, self.request, "Request tokens", at)?;
        let response = field(record, self.response, "Response tokens", at)?;
        let mut row = RawRow::new(
            time_us,
            tokens_from_bytes(request, at, "Request tokens")?,
            tokens_from_bytes(response, at, "Response tokens")?,
        );
        row.request.failed = row.request.output_tokens == 0;
        if let Some(index) = self.model {
            row.request.model = label_from_bytes(field(record, index, "Model", at)?, at, "Model")?;
        }
        if let Some(index) = self.log_type {
            row.request.tenant =
                label_from_bytes(field(record, index, "Log Type", at)?, at, "Log Type")?;
        }
        Ok(row)
    }
}
