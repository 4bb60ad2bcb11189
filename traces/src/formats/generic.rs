//! Any CSV or JSON-lines trace read through a [`ColumnMapping`].

use super::{CsvDecoder, Decoder, Header, JsonDecoder, RawRow, field, key};
use crate::columns::{ArrivalUnit, ColumnMapping};
use crate::datetime::parse_datetime_us;
use crate::error::{Location, TraceError};
use crate::fields::{
    blocks_from_bytes, blocks_from_json, bool_from_bytes, bool_from_json, float_from_bytes,
    label_from_bytes, label_from_json, parse_i64_ascii, priority_from_bytes, priority_from_json,
    shown, shown_json, to_micros, tokens_from_bytes, tokens_from_json,
};
use crate::format::TraceFormat;
use csv::ByteRecord;
use serde_json::{Map, Value};

const DATETIME_EXPECTED: &str = "a datetime like 2024-05-10 00:00:00.000 or 2024-05-10T00:00:00Z";

/// Converts an arrival value written as text (CSV, or a JSON string) in `unit` to
/// microseconds; integers are converted exactly, decimals rounded to the microsecond.
pub(crate) fn time_from_bytes(
    bytes: &[u8],
    unit: ArrivalUnit,
    at: &Location,
    column: &str,
) -> Result<i64, TraceError> {
    let Some(per_unit) = unit.micros_per_unit() else {
        return parse_datetime_us(bytes).ok_or_else(|| {
            TraceError::invalid(at.clone(), column, DATETIME_EXPECTED, shown(bytes))
        });
    };
    if let Some(value) = parse_i64_ascii(bytes) {
        return value.checked_mul(per_unit as i64).ok_or_else(|| {
            TraceError::invalid(
                at.clone(),
                column,
                "a time within 146,000 years",
                shown(bytes),
            )
        });
    }
    let value = float_from_bytes(bytes, at, column, "a number (the arrival time)")?;
    to_micros(value, per_unit, &shown(bytes), at, column)
}

fn time_from_json(
    value: &Value,
    unit: ArrivalUnit,
    at: &Location,
    column: &str,
) -> Result<i64, TraceError> {
    match value {
        Value::String(text) => time_from_bytes(text.as_bytes(), unit, at, column),
        Value::Number(number) => match (number.as_i64(), unit.micros_per_unit()) {
            (_, None) => Err(TraceError::invalid(
                at.clone(),
                column,
                DATETIME_EXPECTED,
                number.to_string(),
            )),
            (Some(_), Some(_)) => time_from_bytes(number.to_string().as_bytes(), unit, at, column),
            (None, Some(per_unit)) => {
                let value = number.as_f64().unwrap_or(f64::NAN);
                to_micros(value, per_unit, &number.to_string(), at, column)
            }
        },
        other => Err(TraceError::invalid(
            at.clone(),
            column,
            "a number (the arrival time)",
            shown_json(other),
        )),
    }
}

struct GenericCsv {
    unit: ArrivalUnit,
    /// Indexes of (arrival, prompt, output) and the optional columns, with their names.
    arrival: (usize, String),
    prompt: (usize, String),
    output: (usize, String),
    prefix: Option<(usize, String)>,
    tenant: Option<(usize, String)>,
    model: Option<(usize, String)>,
    priority: Option<(usize, String)>,
    failed: Option<(usize, String)>,
}

pub(crate) fn csv(
    header: &Header<'_>,
    mapping: &ColumnMapping,
) -> Result<Decoder<dyn CsvDecoder>, TraceError> {
    let required = |name: &String| header.require(name).map(|i| (i, name.clone()));
    let optional = |name: &Option<String>| name.as_ref().map(required).transpose();
    Ok(Decoder {
        format: TraceFormat::Generic,
        absolute_time: mapping.arrival_unit.is_absolute(),
        decoder: Box::new(GenericCsv {
            unit: mapping.arrival_unit,
            arrival: required(&mapping.arrival)?,
            prompt: required(&mapping.prompt)?,
            output: required(&mapping.output)?,
            prefix: optional(&mapping.prefix)?,
            tenant: optional(&mapping.tenant)?,
            model: optional(&mapping.model)?,
            priority: optional(&mapping.priority)?,
            failed: optional(&mapping.failed)?,
        }),
    })
}

impl CsvDecoder for GenericCsv {
    fn decode(&self, record: &ByteRecord, at: &Location) -> Result<RawRow, TraceError> {
        let get = |(index, name): &(usize, String)| field(record, *index, name, at);
        let time_us = time_from_bytes(get(&self.arrival)?, self.unit, at, &self.arrival.1)?;
        let mut row = RawRow::new(
            time_us,
            tokens_from_bytes(get(&self.prompt)?, at, &self.prompt.1)?,
            tokens_from_bytes(get(&self.output)?, at, &self.output.1)?,
        );
        let request = &mut row.request;
        if let Some(column) = &self.prefix {
            request.prefix_blocks = blocks_from_bytes(get(column)?, at, &column.1)?;
        }
        if let Some(column) = &self.tenant {
            request.tenant = label_from_bytes(get(column)?, at, &column.1)?;
        }
        if let Some(column) = &self.model {
            request.model = label_from_bytes(get(column)?, at, &column.1)?;
        }
        if let Some(column) = &self.priority {
            request.priority = priority_from_bytes(get(column)?, at, &column.1)?;
        }
        if let Some(column) = &self.failed {
            request.failed = bool_from_bytes(get(column)?, at, &column.1)?;
        }
        Ok(row)
    }
}

struct GenericJson(ColumnMapping);

pub(crate) fn json(mapping: &ColumnMapping) -> Decoder<dyn JsonDecoder> {
    Decoder {
        format: TraceFormat::Generic,
        absolute_time: mapping.arrival_unit.is_absolute(),
        decoder: Box::new(GenericJson(mapping.clone())),
    }
}

impl JsonDecoder for GenericJson {
    fn decode(&self, object: &Map<String, Value>, at: &Location) -> Result<RawRow, TraceError> {
        let m = &self.0;
        let time_us = time_from_json(key(object, &m.arrival, at)?, m.arrival_unit, at, &m.arrival)?;
        let mut row = RawRow::new(
            time_us,
            tokens_from_json(key(object, &m.prompt, at)?, at, &m.prompt)?,
            tokens_from_json(key(object, &m.output, at)?, at, &m.output)?,
        );
        fn value<'a>(
            object: &'a Map<String, Value>,
            name: &'a Option<String>,
        ) -> Option<(&'a str, &'a Value)> {
            let name = name.as_deref()?;
            object.get(name).map(|v| (name, v))
        }
        let request = &mut row.request;
        if let Some((name, v)) = value(object, &m.prefix) {
            request.prefix_blocks = blocks_from_json(v, at, name)?;
        }
        request.tenant = value(object, &m.tenant).and_then(|(_, v)| label_from_json(v));
        request.model = value(object, &m.model).and_then(|(_, v)| label_from_json(v));
        if let Some((name, v)) = value(object, &m.priority) {
            request.priority = priority_from_json(v, at, name)?;
        }
        if let Some((name, v)) = value(object, &m.failed) {
            request.failed = bool_from_json(v, at, name)?;
        }
        Ok(row)
    }
}
