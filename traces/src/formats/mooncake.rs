//! Mooncake JSON lines: `timestamp` (milliseconds from the trace start), `input_length`,
//! `output_length` and `hash_ids` (ids of the 512-token prefix blocks, which become the
//! request's `prefix_blocks`).

use super::{Decoder, JsonDecoder, RawRow, key};
use crate::error::{Location, TraceError};
use crate::fields::{blocks_from_json, float_from_json, shown_json, to_micros, tokens_from_json};
use crate::format::TraceFormat;
use serde_json::{Map, Value};

struct Mooncake;

pub(crate) fn json() -> Decoder<dyn JsonDecoder> {
    Decoder {
        format: TraceFormat::Mooncake,
        absolute_time: false,
        decoder: Box::new(Mooncake),
    }
}

impl JsonDecoder for Mooncake {
    fn decode(&self, object: &Map<String, Value>, at: &Location) -> Result<RawRow, TraceError> {
        let timestamp = key(object, "timestamp", at)?;
        let time_us = match timestamp.as_i64() {
            Some(ms) => ms.checked_mul(1000).ok_or_else(|| {
                TraceError::invalid(at.clone(), "timestamp", "a finite time", ms.to_string())
            })?,
            None => {
                let ms = float_from_json(timestamp, at, "timestamp", "milliseconds")?;
                to_micros(ms, 1e3, &shown_json(timestamp), at, "timestamp")?
            }
        };
        let mut row = RawRow::new(
            time_us,
            tokens_from_json(key(object, "input_length", at)?, at, "input_length")?,
            tokens_from_json(key(object, "output_length", at)?, at, "output_length")?,
        );
        if let Some(ids) = object.get("hash_ids") {
            row.request.prefix_blocks = blocks_from_json(ids, at, "hash_ids")?;
        }
        Ok(row)
    }
}
