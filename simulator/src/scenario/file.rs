//! The scenario YAML exactly as written: serde types with every key checked
//! (`deny_unknown_fields`, so a typo is an error with its line, never a silently ignored
//! setting). [`super::resolve`] turns these into a checked [`super::Scenario`].
//!
//! Scaler entries and catalog paths carry their source line ([`Spanned`]) so that errors
//! found after parsing (a manifest that does not validate, a missing file) still point
//! into the scenario.

use engine::spec::BudAIScaler;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    pub name: String,
    /// Free text for people; not used.
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    pub trace: TraceSection,
    pub fleet: FleetSection,
    pub slo: SloSection,
    pub scalers: Vec<Spanned<ScalerEntry>>,
    /// Extra GPU catalog (YAML of the built-in catalog's shape), relative to the file.
    #[serde(default)]
    pub gpu_catalog: Option<Spanned<String>>,
    /// Extra model catalog, relative to the file.
    #[serde(default)]
    pub model_catalog: Option<Spanned<String>>,
    /// A grid over one scaler's spec fields, read by `budscaler sweep`.
    #[serde(default)]
    pub sweep: Option<Spanned<SweepSection>>,
}

/// `sweep:`: the scaler (by manifest name) and, per spec field path, its values.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SweepSection {
    pub scaler: String,
    pub grid: std::collections::BTreeMap<String, Vec<serde_json::Value>>,
}

/// `trace:`: where requests come from and how they are reshaped.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TraceSection {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    /// Generic column mapping, as `trace convert --columns`.
    #[serde(default)]
    pub columns: Option<String>,
    /// Sort rows by arrival instead of rejecting out-of-order rows.
    #[serde(default)]
    pub sort: Option<bool>,
    #[serde(default)]
    pub generate: Option<GenerateSection>,
    #[serde(default)]
    pub series: Option<String>,
    #[serde(default)]
    pub mode: Option<TraceMode>,
    #[serde(default)]
    pub demand: Option<DemandSection>,
    #[serde(default)]
    pub rate_scale: Option<f64>,
    #[serde(default)]
    pub time_scale: Option<f64>,
    #[serde(default)]
    pub window: Option<WindowSection>,
    #[serde(default)]
    pub max_requests: Option<u64>,
    /// Calendar time (RFC 3339) of the trace's first instant.
    #[serde(default)]
    pub start: Option<String>,
}

/// `trace.mode` for a recorded metric series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceMode {
    /// Rebuild requests from the series and serve them (the default).
    ClosedLoop,
    /// Feed the recorded observations to the scalers; no serving model.
    OpenLoop,
}

/// `trace.generate:` the parameters of `budscaler trace generate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GenerateSection {
    pub pattern: String,
    pub duration: DurationValue,
    pub rate: f64,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub tokens: Option<String>,
    #[serde(default)]
    pub cv: Option<f64>,
    #[serde(default)]
    pub period: Option<DurationValue>,
    #[serde(default)]
    pub amplitude: Option<f64>,
    #[serde(default)]
    pub weekly_amplitude: Option<f64>,
    #[serde(default)]
    pub peak: Option<DurationValue>,
    #[serde(default)]
    pub noise: Option<f64>,
    #[serde(default)]
    pub noise_interval: Option<DurationValue>,
    #[serde(default)]
    pub burst_rate: Option<f64>,
    #[serde(default)]
    pub burst_duration: Option<DurationValue>,
    #[serde(default)]
    pub quiet_duration: Option<DurationValue>,
    #[serde(default)]
    pub step_at: Option<DurationValue>,
    #[serde(default)]
    pub factor: Option<f64>,
}

/// `trace.demand:` how requests are rebuilt from a recorded series (closed loop).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemandSection {
    #[serde(default)]
    pub engine: Option<String>,
    #[serde(default)]
    pub mean_prompt_tokens: Option<f64>,
    #[serde(default)]
    pub prompt_sigma: Option<f64>,
    #[serde(default)]
    pub output_sigma: Option<f64>,
    /// Series time (seconds or with units) when every counter was zero.
    #[serde(default)]
    pub counters_zero_at: Option<DurationValue>,
}

/// `trace.window:` a slice of the trace in its own time.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WindowSection {
    #[serde(default)]
    pub from: Option<DurationValue>,
    #[serde(default)]
    pub to: Option<DurationValue>,
}

/// `fleet:` what serves the trace and what it costs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FleetSection {
    pub gpu: String,
    pub model: String,
    #[serde(default)]
    pub tensor_parallel: Option<u32>,
    #[serde(default)]
    pub initial_replicas: Option<u32>,
    #[serde(default)]
    pub price_per_gpu_hour: Option<f64>,
    #[serde(default)]
    pub spot_price_per_gpu_hour: Option<f64>,
    #[serde(default)]
    pub pricing: Option<PricingSection>,
    #[serde(default)]
    pub routing: Option<String>,
    /// vLLM engine arguments, vLLM's names (see [`crate::fleet::ServerArgs`]).
    #[serde(default)]
    pub engine: Option<crate::fleet::ServerArgs>,
    #[serde(default)]
    pub lifecycle: Option<LifecycleSection>,
    #[serde(default)]
    pub spot: Option<SpotSection>,
    #[serde(default)]
    pub gateway_timeout: Option<DurationValue>,
    #[serde(default)]
    pub drain_grace: Option<DurationValue>,
    #[serde(default)]
    pub scrape_interval: Option<DurationValue>,
    #[serde(default)]
    pub scrape_delay: Option<DurationValue>,
    #[serde(default)]
    pub sync_period: Option<DurationValue>,
    #[serde(default)]
    pub max_replicas_hard: Option<u32>,
    #[serde(default)]
    pub power: Option<crate::fleet::PowerModel>,
    #[serde(default)]
    pub dcgm_outages: Vec<OutageSection>,
    #[serde(default)]
    pub profile: Option<String>,
}

/// `fleet.dcgm_outages[]`: a window in which every dcgm-exporter is unreachable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutageSection {
    pub from: DurationValue,
    pub to: DurationValue,
}

/// `fleet.pricing:` a price from the built-in instance table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PricingSection {
    pub provider: String,
    pub instance: String,
    #[serde(default)]
    pub spot: bool,
    /// A price file overriding the built-in catalog's rows (relative to the scenario).
    #[serde(default)]
    pub catalog: Option<String>,
}

/// `fleet.lifecycle:` how long a new replica takes to serve. Each stage is a fixed
/// duration (`90s`) or uniform between two (`{ min: 80s, max: 120s }`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LifecycleSection {
    #[serde(default)]
    pub node_provisioning: Option<DelayValue>,
    #[serde(default)]
    pub image_pull: Option<DelayValue>,
    #[serde(default)]
    pub engine_init: Option<DelayValue>,
    /// Weight loading speed, GB/s: a number or `{ min, max }`.
    #[serde(default)]
    pub weight_load_gb_per_s: Option<RangeValue>,
    #[serde(default)]
    pub free_nodes: Option<u32>,
    #[serde(default)]
    pub warm_node_ttl: Option<DurationValue>,
}

/// `fleet.spot:` spot capacity and its interruptions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpotSection {
    #[serde(default)]
    pub share: Option<f64>,
    #[serde(default)]
    pub interruptions_per_hour: Option<f64>,
    #[serde(default)]
    pub notice: Option<DurationValue>,
}

/// `slo:` the latency targets SLO attainment is measured against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SloSection {
    pub ttft_s: f64,
    pub tpot_s: f64,
}

/// One entry of `scalers:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum ScalerEntry {
    /// A manifest file, relative to the scenario.
    File(String),
    /// A manifest written inline.
    Manifest(Box<BudAIScaler>),
    /// The clairvoyant schedule.
    Oracle(OracleSection),
    /// A fixed replica count.
    Static(StaticSection),
}

/// `oracle: {}`; an optional name tells several oracle entries apart, and the knobs
/// of [`crate::oracle::OracleOptions`] may be set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OracleSection {
    #[serde(default)]
    pub name: Option<String>,
    /// Share of the trace's requests that must complete meeting the SLO (as
    /// `summary.json` counts `slo_attainment`).
    #[serde(default)]
    pub attainment: Option<f64>,
    /// Demand window.
    #[serde(default)]
    pub window: Option<DurationValue>,
    /// Fleet verification runs at most.
    #[serde(default)]
    pub max_iterations: Option<u32>,
}

/// `static: { replicas: N }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StaticSection {
    pub replicas: u32,
    #[serde(default)]
    pub name: Option<String>,
}

/// A duration written as seconds (`600`, `0.5`) or with units (`90s`, `10m`, `1h30m`,
/// `250ms`, `7d`), as on the command line. Held as microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DurationValue(pub i64);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

const DURATION_EXPECTED: &str =
    "a duration in seconds or with units (600, 90s, 10m, 2h, 7d, 1h30m, 250ms)";

impl<'de> Visitor<'de> for DurationVisitor {
    type Value = DurationValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(DURATION_EXPECTED)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationValue, E> {
        i64::try_from(v)
            .ok()
            .and_then(|s| s.checked_mul(1_000_000))
            .map(DurationValue)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationValue, E> {
        if v < 0 {
            return Err(E::invalid_value(de::Unexpected::Signed(v), &self));
        }
        self.visit_u64(v as u64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<DurationValue, E> {
        let us = (v * 1e6).round();
        if !(v.is_finite() && v >= 0.0 && us < i64::MAX as f64) {
            return Err(E::invalid_value(de::Unexpected::Float(v), &self));
        }
        Ok(DurationValue(us as i64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationValue, E> {
        traces::duration::parse_duration_us(v)
            .map(DurationValue)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// A start-up stage: a fixed duration or `{ min, max }` (uniform), in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DelayValue {
    Fixed(i64),
    Uniform { min: i64, max: i64 },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DurationRange {
    min: DurationValue,
    max: DurationValue,
}

impl<'de> Deserialize<'de> for DelayValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DelayVisitor;
        impl<'de> Visitor<'de> for DelayVisitor {
            type Value = DelayValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{DURATION_EXPECTED}, or {{ min, max }} of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DelayValue, E> {
                DurationVisitor.visit_u64(v).map(|d| DelayValue::Fixed(d.0))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DelayValue, E> {
                DurationVisitor.visit_i64(v).map(|d| DelayValue::Fixed(d.0))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DelayValue, E> {
                DurationVisitor.visit_f64(v).map(|d| DelayValue::Fixed(d.0))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DelayValue, E> {
                DurationVisitor.visit_str(v).map(|d| DelayValue::Fixed(d.0))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<DelayValue, A::Error> {
                let range = DurationRange::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(DelayValue::Uniform {
                    min: range.min.0,
                    max: range.max.0,
                })
            }
        }
        deserializer.deserialize_any(DelayVisitor)
    }
}

/// A number or `{ min, max }` (uniform).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RangeValue {
    pub min: f64,
    pub max: f64,
}

impl<'de> Deserialize<'de> for RangeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Range {
            min: f64,
            max: f64,
        }
        struct RangeVisitor;
        impl<'de> Visitor<'de> for RangeVisitor {
            type Value = RangeValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or { min, max }")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RangeValue, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RangeValue, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RangeValue, E> {
                Ok(RangeValue { min: v, max: v })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RangeValue, A::Error> {
                let range = Range::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RangeValue {
                    min: range.min,
                    max: range.max,
                })
            }
        }
        deserializer.deserialize_any(RangeVisitor)
    }
}
