//! The budscaler scaling engine.
//!
//! A pure function of its inputs: it takes [`observation::Observation`]s stamped with an
//! explicit time and returns [`decision::Decision`]s with their reasons. No IO, no
//! clock, no threads, no global state, no unseeded randomness; its state serializes so
//! a restarted scaler continues where it stopped.
//!
//! - [`spec`]: the `BudAIScaler` manifest types, defaults and validation.
//! - [`window`]: Knative's bucketed window averages.
//! - [`hpa`]: the Kubernetes HPA replica calculator and behavior.
//! - [`kpa`]: Knative's KPA decider.
//! - [`budscaler`]: the GenAI strategy: demand forecast over learned capacity.
//! - [`calendar`]: IANA time zones, schedule hints and seasonal hour buckets.
//! - [`conformance`]: upstream test vectors as data, run against the above.
//! - [`import`]: HPA, KEDA and Knative autoscalers as `BudAIScaler` manifests.

pub mod budscaler;
pub mod calendar;
pub mod conformance;
pub mod decision;
pub mod hpa;
pub mod import;
pub mod kpa;
pub mod observation;
pub mod saved;
pub mod scaler;
pub mod spec;
pub mod status;
pub mod time;
pub mod window;

pub use decision::{Decision, MetricReading, Reason};
pub use observation::Observation;
pub use scaler::{Scaler, ScalerError, ScalerState};
