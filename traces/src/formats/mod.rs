//! Row decoders, one per format, and detection of the format from a file's header line or
//! first JSON object. A decoder turns one CSV record or JSON object into a [`RawRow`];
//! the reader then makes times relative and checks their order.

pub(crate) mod azure;
pub(crate) mod burstgpt;
pub(crate) mod canonical;
pub(crate) mod generic;
pub(crate) mod mooncake;
pub(crate) mod vllm;

use crate::columns::ColumnMapping;
use crate::error::{Location, TraceError};
use crate::fields::shown;
use crate::format::TraceFormat;
use crate::request::Request;
use csv::ByteRecord;
use serde_json::{Map, Value};

/// A decoded row before the reader makes its time relative to the trace start.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRow {
    /// Microseconds: since the Unix epoch when the format's times are absolute, else from
    /// the trace start.
    pub time_us: i64,
    /// The request, its `arrival_us` still unset.
    pub request: Request,
}

impl RawRow {
    pub fn new(time_us: i64, prompt_tokens: u32, output_tokens: u32) -> Self {
        RawRow {
            time_us,
            request: Request::new(0, prompt_tokens, output_tokens),
        }
    }
}

/// Decodes CSV records of one format.
pub(crate) trait CsvDecoder: Send {
    fn decode(&self, record: &ByteRecord, at: &Location) -> Result<RawRow, TraceError>;
}

/// Decodes JSON-lines objects of one format.
pub(crate) trait JsonDecoder: Send {
    fn decode(&self, object: &Map<String, Value>, at: &Location) -> Result<RawRow, TraceError>;
}

/// A decoder plus whether its times are absolute (Unix time) or from the trace start.
pub(crate) struct Decoder<D: ?Sized> {
    pub format: TraceFormat,
    pub absolute_time: bool,
    pub decoder: Box<D>,
}

/// A CSV header with case-insensitive, space-trimmed lookup.
pub(crate) struct Header<'a> {
    pub record: &'a ByteRecord,
    pub at: Location,
}

impl Header<'_> {
    pub fn find(&self, name: &str) -> Option<usize> {
        self.record
            .iter()
            .position(|h| h.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
    }

    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    pub fn require(&self, name: &str) -> Result<usize, TraceError> {
        self.find(name).ok_or_else(|| TraceError::MissingColumn {
            at: self.at.clone(),
            column: name.to_string(),
            found: format!("header {:?}", self.shown()),
        })
    }

    fn shown(&self) -> String {
        let names: Vec<String> = self.record.iter().map(shown).collect();
        names.join(",")
    }
}

/// The field at `index`, or an error naming the column when the row is too short.
pub(crate) fn field<'r>(
    record: &'r ByteRecord,
    index: usize,
    column: &str,
    at: &Location,
) -> Result<&'r [u8], TraceError> {
    record.get(index).ok_or_else(|| {
        TraceError::invalid(
            at.clone(),
            column,
            "a value",
            format!("nothing (the row has {} fields)", record.len()),
        )
    })
}

/// The value of `key`, or an error naming the key and the keys that are there.
pub(crate) fn key<'o>(
    object: &'o Map<String, Value>,
    name: &str,
    at: &Location,
) -> Result<&'o Value, TraceError> {
    object
        .get(name)
        .ok_or_else(|| crate::vllm_recording::missing_key(at, name, object))
}

/// Chooses the CSV decoder from the header: a mapping wins; otherwise the format is
/// recognised by a column only it has, and its other columns are then required.
pub(crate) fn csv_decoder(
    header: &Header<'_>,
    mapping: Option<&ColumnMapping>,
    forced: Option<TraceFormat>,
) -> Result<Decoder<dyn CsvDecoder>, TraceError> {
    if let Some(mapping) = mapping {
        return generic::csv(header, mapping);
    }
    let detected = if header.has("ContextTokens") || header.has("GeneratedTokens") {
        Some(TraceFormat::AzureLlm2023)
    } else if header.has("Request tokens") || header.has("Response tokens") {
        Some(TraceFormat::BurstGpt)
    } else if header.has("arrival_us") || header.has("prompt_tokens") {
        Some(TraceFormat::Canonical)
    } else {
        None
    };
    match (detected, forced) {
        (Some(found), Some(wanted)) if found != wanted => Err(mismatch(&header.at, wanted, found)),
        (Some(TraceFormat::AzureLlm2023), _) => azure::csv(header),
        (Some(TraceFormat::BurstGpt), _) => burstgpt::csv(header),
        (Some(_), _) => canonical::csv(header),
        (None, _) => Err(TraceError::UnknownFormat {
            at: header.at.clone(),
            found: format!("a CSV header {:?}", header.shown()),
        }),
    }
}

/// Chooses the JSON-lines decoder from the keys of the first object.
pub(crate) fn json_decoder(
    first: &Map<String, Value>,
    at: &Location,
    mapping: Option<&ColumnMapping>,
    forced: Option<TraceFormat>,
) -> Result<Decoder<dyn JsonDecoder>, TraceError> {
    if let Some(mapping) = mapping {
        return Ok(generic::json(mapping));
    }
    let has = |name: &str| first.contains_key(name);
    let detected = if has("hash_ids") || has("input_length") {
        Some(TraceFormat::Mooncake)
    } else if has("input_toks") || has("arrival_time") {
        Some(TraceFormat::VllmRecording)
    } else if has("arrival_us") || has("prompt_tokens") {
        Some(TraceFormat::Canonical)
    } else {
        None
    };
    match (detected, forced) {
        (Some(found), Some(wanted)) if found != wanted => Err(mismatch(at, wanted, found)),
        (Some(TraceFormat::Mooncake), _) => Ok(mooncake::json()),
        (Some(TraceFormat::VllmRecording), _) => Ok(vllm::json()),
        (Some(_), _) => Ok(canonical::json()),
        (None, _) => {
            let keys: Vec<&str> = first.keys().map(String::as_str).collect();
            Err(TraceError::UnknownFormat {
                at: at.clone(),
                found: format!("a JSON object with keys [{}]", keys.join(", ")),
            })
        }
    }
}

fn mismatch(at: &Location, wanted: TraceFormat, found: TraceFormat) -> TraceError {
    TraceError::malformed(
        at.clone(),
        format!("a {wanted} trace (the format asked for)"),
        format!("the columns of a {found} trace"),
    )
}
