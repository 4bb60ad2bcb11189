//! The Kubernetes HorizontalPodAutoscaler, decision for decision.
//!
//! A faithful port of the upstream controller's arithmetic
//! (`pkg/controller/podautoscaler`): the replica calculator with its pod grouping,
//! tolerances and missing/unready fill-ins, the multi-metric combination, the
//! stabilization windows and the rate policies, so that BudScaler can be compared with
//! the HPA a cluster would actually run. Time comes from the observation; no clock.
//!
//! - [`config`]: the normalized configuration and its validation.
//! - [`behavior`]: `spec.behavior` and Kubernetes defaulting.
//! - [`pod_groups`]: which pods' samples are trusted.
//! - [`replica_calculator`]: one metric's proposal.
//! - [`proposals`]: several metrics, one proposal.
//! - [`stabilization`]: the recommendation history.
//! - [`rate_limits`]: rate policies, the legacy cap and the min/max clamp.
//! - [`controller`]: the stateful [`Hpa`] tying them together.

pub mod behavior;
pub mod config;
pub mod controller;
pub mod pod_groups;
pub mod proposals;
mod quantity;
pub mod rate_limits;
pub mod replica_calculator;
pub mod stabilization;
mod usage;

pub use behavior::{
    Behavior, PolicyKind, ResolvedBehavior, ScalingPolicy, ScalingRules, ScalingRulesSpec,
    SelectPolicy,
};
pub use config::{
    ConfigError, CpuReadiness, HpaConfig, MetricSource, MetricTarget, ResourceKind,
    ResourceRequests, Tolerances,
};
pub use controller::{Hpa, HpaOutcome, HpaReason, HpaState};
pub use proposals::MetricProposal;
pub use rate_limits::{LimitReason, Limited, ScaleEvent, ScaleEvents};
pub use replica_calculator::{MetricError, MetricValue};
pub use stabilization::{Recommendation, StabilizationReason, Stabilized};
