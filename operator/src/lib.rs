//! The BudAIScaler operator: a thin kube-rs controller that gathers inputs, runs the
//! control loop the simulator runs (`control::ControlLoop`, the same `Observation` from
//! the same `traces::observe::Observer`), and acts on the target's scale subresource.
//! No scaling logic lives here.
//!
//! - [`resource`]: the custom resource as read from the API;
//! - [`pods`]: pods → the engine's `PodStatus` and scrape addresses;
//! - [`http`], [`sources`]: fetching pod endpoints, PromQL and external sources;
//! - [`cluster`]: every Kubernetes API call (scale, pods, status, Events, ConfigMap);
//! - [`runner`]: one scaler's tick; [`operator`]: the pass over all scalers;
//! - [`leader`]: Lease-based leader election; [`metrics`], [`serve`]: its own
//!   Prometheus metrics and probes.

pub mod cluster;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod operator;
pub mod pods;
pub mod prices;
pub mod resource;
pub mod runner;
pub mod serve;
pub mod sources;
