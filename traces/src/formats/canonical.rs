//! Decoders of the canonical columns (see [`crate::canonical`]) in CSV and JSON lines.
//! `arrival_us`, `prompt_tokens` and `output_tokens` are required, the others optional.

use super::{CsvDecoder, Decoder, Header, JsonDecoder, RawRow, field, key};
use crate::error::{Location, TraceError};
use crate::fields::{
    blocks_from_bytes, blocks_from_json, bool_from_bytes, bool_from_json, label_from_bytes,
    label_from_json, parse_i64_ascii, priority_from_bytes, priority_from_json, shown, shown_json,
    tokens_from_bytes, tokens_from_json,
};
use crate::format::TraceFormat;
use csv::ByteRecord;
use serde_json::{Map, Value};

const ARRIVAL_EXPECTED: &str = "a non-negative integer (microseconds from the trace start)";

struct CanonicalCsv {
    arrival: usize,
    prompt: usize,
    output: usize,
    prefix: Option<usize>,
    tenant: Option<usize>,
    model: Option<usize>,
    priority: Option<usize>,
    failed: Option<usize>,
}

pub(crate) fn csv(header: &Header<'_>) -> Result<Decoder<dyn CsvDecoder>, TraceError> {
    Ok(Decoder {
        format: TraceFormat::Canonical,
        absolute_time: false,
        decoder: Box::new(CanonicalCsv {
            arrival: header.require("arrival_us")?,
            prompt: header.require("prompt_tokens")?,
            output: header.require("output_tokens")?,
            prefix: header.find("prefix_blocks"),
            tenant: header.find("tenant"),
            model: header.find("model"),
            priority: header.find("priority"),
            failed: header.find("failed"),
        }),
    })
}

fn optional<'r>(
    record: &'r ByteRecord,
    index: Option<usize>,
    column: &str,
    at: &Location,
) -> Result<Option<&'r [u8]>, TraceError> {
    index.map(|i| field(record, i, column, at)).transpose()
}

impl CsvDecoder for CanonicalCsv {
    fn decode(&self, record: &ByteRecord, at: &Location) -> Result<RawRow, TraceError> {
        let arrival = field(record, self.arrival, "arrival_us", at)?;
        let time_us = parse_i64_ascii(arrival)
            .filter(|t| *t >= 0)
            .ok_or_else(|| {
                TraceError::invalid(at.clone(), "arrival_us", ARRIVAL_EXPECTED, shown(arrival))
            })?;
        let prompt = field(record, self.prompt, "prompt_tokens", at)?;
        let output = field(record, self.output, "output_tokens", at)?;
        let mut row = RawRow::new(
            time_us,
            tokens_from_bytes(prompt, at, "prompt_tokens")?,
            tokens_from_bytes(output, at, "output_tokens")?,
        );
        let request = &mut row.request;
        if let Some(bytes) = optional(record, self.prefix, "prefix_blocks", at)? {
            request.prefix_blocks = blocks_from_bytes(bytes, at, "prefix_blocks")?;
        }
        if let Some(bytes) = optional(record, self.tenant, "tenant", at)? {
            request.tenant = label_from_bytes(bytes, at, "tenant")?;
        }
        if let Some(bytes) = optional(record, self.model, "model", at)? {
            request.model = label_from_bytes(bytes, at, "model")?;
        }
        if let Some(bytes) = optional(record, self.priority, "priority", at)? {
            request.priority = priority_from_bytes(bytes, at, "priority")?;
        }
        if let Some(bytes) = optional(record, self.failed, "failed", at)? {
            request.failed = bool_from_bytes(bytes, at, "failed")?;
        }
        Ok(row)
    }
}

struct CanonicalJson;

pub(crate) fn json() -> Decoder<dyn JsonDecoder> {
    Decoder {
        format: TraceFormat::Canonical,
        absolute_time: false,
        decoder: Box::new(CanonicalJson),
    }
}

impl JsonDecoder for CanonicalJson {
    fn decode(&self, object: &Map<String, Value>, at: &Location) -> Result<RawRow, TraceError> {
        let arrival = key(object, "arrival_us", at)?;
        let time_us = arrival.as_i64().filter(|t| *t >= 0).ok_or_else(|| {
            TraceError::invalid(
                at.clone(),
                "arrival_us",
                ARRIVAL_EXPECTED,
                shown_json(arrival),
            )
        })?;
        let mut row = RawRow::new(
            time_us,
            tokens_from_json(key(object, "prompt_tokens", at)?, at, "prompt_tokens")?,
            tokens_from_json(key(object, "output_tokens", at)?, at, "output_tokens")?,
        );
        let request = &mut row.request;
        if let Some(value) = object.get("prefix_blocks") {
            request.prefix_blocks = blocks_from_json(value, at, "prefix_blocks")?;
        }
        request.tenant = object.get("tenant").and_then(label_from_json);
        request.model = object.get("model").and_then(label_from_json);
        if let Some(value) = object.get("priority") {
            request.priority = priority_from_json(value, at, "priority")?;
        }
        if let Some(value) = object.get("failed") {
            request.failed = bool_from_json(value, at, "failed")?;
        }
        Ok(row)
    }
}
