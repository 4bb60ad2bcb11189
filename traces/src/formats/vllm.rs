//! A vLLM benchmark recording's `requests.jsonl` read as a plain trace: `arrival_time`
//! (Unix epoch seconds) gives the arrival, `input_toks` / `output_toks` the tokens. The
//! measured timestamps are for [`crate::vllm_recording`], which reads them all.

use super::{Decoder, JsonDecoder, RawRow};
use crate::error::{Location, TraceError};
use crate::format::TraceFormat;
use crate::vllm_recording::decode_row;
use serde_json::{Map, Value};

struct Vllm;

pub(crate) fn json() -> Decoder<dyn JsonDecoder> {
    Decoder {
        format: TraceFormat::VllmRecording,
        absolute_time: true,
        decoder: Box::new(Vllm),
    }
}

impl JsonDecoder for Vllm {
    fn decode(&self, object: &Map<String, Value>, at: &Location) -> Result<RawRow, TraceError> {
        let row = decode_row(object, at)?;
        Ok(RawRow::new(
            row.arrival_epoch_us,
            row.prompt_tokens,
            row.output_tokens,
        ))
    }
}
