//! Bit-exact serde for the floats of persisted window state.
//!
//! A resumed scaler must decide exactly like the one that stopped, but text formats do
//! not promise to parse floats back to the same bits (serde_json without its
//! `float_roundtrip` feature can be one ulp off). Window floats are therefore written as
//! strings holding Rust's shortest round-trip representation, which `str::parse` reads
//! back exactly. Plain numbers are still accepted when reading hand-written state.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use std::fmt;

struct F64Visitor;

impl<'de> Visitor<'de> for F64Visitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a float, or a string holding one")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        v.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
}

/// `#[serde(with = "exact")]` for one `f64`.
pub(crate) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// See [`serialize`].
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(F64Visitor)
}

/// `#[serde(with = "exact::vec")]` for a `Vec<f64>`.
pub(crate) mod vec {
    use super::*;

    struct Element(f64);

    impl<'de> de::Deserialize<'de> for Element {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(F64Visitor).map(Element)
        }
    }

    struct VecVisitor;

    impl<'de> Visitor<'de> for VecVisitor {
        type Value = Vec<f64>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of floats")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
            let mut out =
                Vec::with_capacity(seq.size_hint().unwrap_or(0).min(super::super::MAX_BUCKETS));
            while let Some(Element(v)) = seq.next_element()? {
                out.push(v);
            }
            Ok(out)
        }
    }

    pub(crate) fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            seq.serialize_element(&x.to_string())?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        d.deserialize_seq(VecVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        one: f64,
        #[serde(with = "super::vec")]
        many: Vec<f64>,
    }

    #[test]
    fn floats_survive_json_bit_for_bit() {
        let h = Holder {
            one: 1482.4484534827625,
            many: vec![0.1 + 0.2, f64::INFINITY, -0.0, 5e-324],
        };
        let json = serde_json::to_string(&h).unwrap();
        let back: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(back.one.to_bits(), h.one.to_bits());
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.many), bits(&h.many));
    }

    #[test]
    fn plain_numbers_are_accepted() {
        let back: Holder = serde_json::from_str(r#"{"one": 2, "many": [1.5, "2.5"]}"#).unwrap();
        assert_eq!(
            back,
            Holder {
                one: 2.0,
                many: vec![1.5, 2.5]
            }
        );
    }
}

/// `#[serde(with = "exact::option")]` for an `Option<f64>` (`null` when absent).
pub(crate) mod option {
    use super::*;

    struct Inner(f64);

    impl<'de> de::Deserialize<'de> for Inner {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(F64Visitor).map(Inner)
        }
    }

    pub(crate) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&v.to_string()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let inner: Option<Inner> = de::Deserialize::deserialize(d)?;
        Ok(inner.map(|Inner(v)| v))
    }
}
