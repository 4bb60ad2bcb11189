//! The `BudAIScaler` manifest (`apiVersion: scaler.bud.studio/v1alpha1`,
//! `kind: BudAIScaler`): serde types, defaults and validation.
//!
//! Two layers:
//! - The manifest types ([`BudAIScaler`], [`BudAIScalerSpec`] and the structs under it)
//!   hold exactly what the user wrote: every field optional, words and quantities kept
//!   as text, camelCase JSON names identical to the seed project's CRD (every seed
//!   field is accepted). Serializing gives the manifest back; unknown fields in `spec`
//!   are rejected when parsing, so a typo never silently disables a setting.
//! - [`BudAIScalerSpec::resolved`] checks everything at once and returns a
//!   [`ResolvedSpec`]: typed, fully defaulted (see [`defaults`]), in engine units
//!   (microseconds, milli-units, ratios). The engine consumes only this.
//!
//! Where we read a seed field differently, the field's doc says so (tolerance is a
//! ratio; KPA percentages are Knative's percentages; rates are factors above 1).

/// Declares a closed set of manifest words (an enum spelled as in the CRD), with its
/// spellings, a lookup, `Display` and serde as those spellings.
macro_rules! manifest_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// The spelling used in manifests.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl $crate::spec::ManifestWord for $name {
            const NAMES: &'static [&'static str] = &[$($text),+];
            fn from_manifest(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod behavior;
pub mod budscaler;
pub mod cron;
pub mod defaults;
pub mod duration;
pub mod kpa;
pub mod metrics;
pub mod quantity;
#[cfg(feature = "schema")]
pub mod schema;
pub mod validate;

pub use behavior::{
    PolicyType, ResolvedBehavior, ResolvedPolicy, ResolvedRules, ResolvedStartingPods,
    ScalingBehavior, ScalingPolicy, ScalingRules, SelectPolicy, StartingPods,
};
pub use budscaler::{
    CloudProvider, CostConfig, CostOptimizationMode, FederationMode, GpuConfig, MultiClusterConfig,
    PredictionConfig, Predictor, ResolvedCost, ResolvedGpu, ResolvedMultiCluster,
    ResolvedPrediction, ResolvedScheduleHint, ScheduleHint,
};
pub use cron::{CronError, CronSchedule};
pub use duration::{DurationError, ManifestDuration, parse_go_duration};
pub use kpa::{KpaConfig, ResolvedKpa};
pub use metrics::{
    InferenceEngineConfig, InferenceServer, MetricSource, MetricSourceType, MetricTarget, Protocol,
    ResolvedEngine, ResolvedMetric, TargetType,
};
pub use quantity::{Quantity, QuantityError, ScalarText, parse_milli};
pub use validate::{FieldError, ManifestWord, ValidationErrors};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The only `apiVersion` accepted.
pub const API_VERSION: &str = "scaler.bud.studio/v1alpha1";
/// The only `kind` accepted.
pub const KIND: &str = "BudAIScaler";

manifest_enum! {
    /// `spec.scalingStrategy`: which decision algorithm runs.
    ScalingStrategy {
        /// The Kubernetes HPA replica calculator and behavior.
        Hpa = "HPA",
        /// Knative's KPA: stable and panic windows.
        Kpa = "KPA",
        /// The budscaler algorithm: KPA-style windows plus schedule, prediction, GPU and
        /// cost awareness.
        BudScaler = "BudScaler",
    }
}

manifest_enum! {
    /// `spec.mode`: whether a live driver acts on the decisions. The engine decides the
    /// same either way; drivers read it (the simulator always applies).
    Mode {
        /// Patch the target's scale subresource.
        Active = "Active",
        /// Decide and report everything, never patch: how users validate live before
        /// handing over control.
        Shadow = "Shadow",
    }
}

/// A whole `BudAIScaler` object as stored in Kubernetes or written in a scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BudAIScaler {
    /// Must be [`API_VERSION`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Must be [`KIND`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name (required: it names the scaler in reports), namespace, labels, annotations.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The desired behavior; see [`BudAIScalerSpec`].
    #[serde(default)]
    pub spec: BudAIScalerSpec,
    /// Written by a controller (ours, or the seed's: the same names); accepted so
    /// `kubectl get -o yaml` output parses, never read by the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::status::ScalerStatus>,
}

/// The parts of Kubernetes `ObjectMeta` a scaler uses. Other metadata fields
/// (`uid`, `resourceVersion`, `managedFields`…) are accepted and dropped, so objects
/// exported from a cluster parse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ObjectMeta {
    /// The scaler's name: a DNS-1123 subdomain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The namespace; the engine does not use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels, kept for round trips.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations, kept for round trips. The seed read KPA knobs from
    /// `scaler.bud.studio/*` annotations; here they live in `spec.kpaConfig`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `spec`: what to scale, within which bounds, on which metrics, and how.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BudAIScalerSpec {
    /// The workload to scale (required; `kind` and `name` must be set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_target_ref: Option<ScaleTargetRef>,
    /// A role inside the target (e.g. one role of a StormService); seed field, passed
    /// through to the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_target_selector: Option<SubTargetSelector>,
    /// Lower bound on replicas, default 1. 0 enables scale to zero: allowed for KPA and
    /// BudScaler, and for HPA only with an external metric (as Kubernetes' HPAScaleToZero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
    /// Upper bound on replicas (required, >= 1, >= minReplicas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i32>,
    /// `HPA`, `KPA` or `BudScaler` (default `BudScaler`, as the seed's CRD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_strategy: Option<String>,
    /// What to measure and the target per metric. Required for HPA and KPA; BudScaler
    /// may run on schedule hints alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics_sources: Vec<MetricSource>,
    /// GPU-aware scaling hints (BudScaler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_config: Option<GpuConfig>,
    /// Cost-aware scaling hints (BudScaler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_config: Option<CostConfig>,
    /// Predictive scaling (BudScaler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_config: Option<PredictionConfig>,
    /// Known traffic patterns: cron-scheduled replica floors, independent of prediction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule_hints: Vec<ScheduleHint>,
    /// Multi-cluster federation; seed field, accepted and checked, not simulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_cluster_config: Option<MultiClusterConfig>,
    /// Per-direction stabilization, rate policies and tolerance (Kubernetes HPA
    /// `behavior`, plus the seed's `tolerance` and `maxScaleRate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<ScalingBehavior>,
    /// Knative KPA knobs (not in the seed's CRD: the seed read them from annotations).
    /// Used by KPA and BudScaler; rejected for HPA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpa_config: Option<KpaConfig>,
    /// `Active` (default) or `Shadow`: see [`Mode`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// `spec.scaleTargetRef`: a Kubernetes `ObjectReference`, all of whose fields the seed
/// accepts; the engine needs `kind` and `name`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScaleTargetRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// `spec.subTargetSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubTargetSelector {
    /// Role name for role-based scaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
}

/// A validated spec with every default applied, in engine units.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedSpec {
    /// Target kind (e.g. `Deployment`).
    pub target_kind: String,
    /// Target name.
    pub target_name: String,
    /// `subTargetSelector.roleName`, if any.
    pub target_role: Option<String>,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub strategy: ScalingStrategy,
    /// In manifest order.
    pub metrics: Vec<ResolvedMetric>,
    pub behavior: ResolvedBehavior,
    /// Knative knobs; present (defaulted) for every strategy so BudScaler and KPA read
    /// the same struct. HPA ignores them.
    pub kpa: ResolvedKpa,
    /// In manifest order.
    pub schedule_hints: Vec<ResolvedScheduleHint>,
    pub prediction: ResolvedPrediction,
    pub gpu: ResolvedGpu,
    pub cost: ResolvedCost,
    pub multi_cluster: ResolvedMultiCluster,
    /// Whether a live driver patches the target.
    pub mode: Mode,
}

impl ResolvedSpec {
    /// Whether deciding needs calendar time (`Observation.wall_clock`): a BudScaler or
    /// HPA manifest with `scheduleHints` (cron expressions), or BudScaler forecasting with the
    /// `seasonal` predictor alone. (`combined` uses the seasonal profile only when
    /// calendar time is known.) A driver without a calendar must refuse such a
    /// manifest rather than run it on a clock that starts at 0.
    pub fn needs_wall_clock(&self) -> bool {
        match self.strategy {
            ScalingStrategy::BudScaler => {
                !self.schedule_hints.is_empty()
                    || (self.prediction.enabled && self.prediction.predictor == Predictor::Seasonal)
            }
            ScalingStrategy::Hpa => !self.schedule_hints.is_empty(),
            ScalingStrategy::Kpa => false,
        }
    }
}

impl BudAIScalerSpec {
    /// Checks the spec and returns it fully defaulted; every problem is reported at
    /// once, with paths starting at `spec.`.
    pub fn resolved(&self) -> Result<ResolvedSpec, ValidationErrors> {
        let mut problems = validate::Problems::default();
        let spec = validate::resolve_spec(self, "spec", &mut problems);
        problems.finish(spec)
    }

    /// Checks the spec; see [`BudAIScalerSpec::resolved`].
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        self.resolved().map(|_| ())
    }

    /// The strategy as written, or the default; `None` when the spelling is unknown.
    pub fn strategy(&self) -> Option<ScalingStrategy> {
        match &self.scaling_strategy {
            None => Some(defaults::SCALING_STRATEGY),
            Some(text) => ScalingStrategy::from_manifest(text),
        }
    }
}

impl BudAIScaler {
    /// `metadata.name`, or `""` when missing (validation reports it).
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("")
    }

    /// Checks `apiVersion`, `kind`, `metadata.name` and the spec, and returns the
    /// resolved spec; every problem is reported at once.
    pub fn resolved(&self) -> Result<ResolvedSpec, ValidationErrors> {
        let mut problems = validate::Problems::default();
        validate::check_header(self, &mut problems);
        let spec = validate::resolve_spec(&self.spec, "spec", &mut problems);
        problems.finish(spec)
    }

    /// Checks the whole manifest; see [`BudAIScaler::resolved`].
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        self.resolved().map(|_| ())
    }
}
