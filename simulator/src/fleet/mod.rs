//! A fleet under an autoscaler: replicas that start, serve, drain and get interrupted;
//! a gateway that routes and queues; and the control loop that scrapes every replica,
//! builds the engine's `Observation` from the scraped text and applies its decisions.
//!
//! Code map:
//! - [`config`]: what a run is configured with ([`FleetConfig`], [`ScalerSpec`], [`Slo`]).
//! - [`result`]: what a run produced ([`RunResult`] and its records).
//! - [`lifecycle`]: start-up delays, warm nodes and spot interruptions.
//! - [`exporter`]: what a replica exports at a scrape (vLLM and DCGM families).
//! - [`control`]: the scaler side: engine ticks, `Static` and `Schedule` strategies.
//! - `run`: the event loop tying the parts together, each owning its state:
//!   `replicas` (slots, live and ready lists, loads, warm pool), `gateway` (requests
//!   held while nothing is ready), `crate::routing` (the router), `scraper` (what the
//!   scaler sees), `billing` (GPU time, cost, replica counts).
//! - [`sink`]: where a streamed run's finished requests go, and the reorder buffer that
//!   puts them back in input order.

mod billing;
pub mod config;
pub mod control;
pub mod exporter;
mod gateway;
mod in_flight;
pub mod lifecycle;
mod replicas;
pub mod result;
mod run;
mod scraper;
pub mod sink;

pub use config::{
    Delay, FleetConfig, LifecycleConfig, PowerModel, RateRange, RoutingPolicy, RunOptions,
    ScalerSpec, ServerArgs, Slo, SpotConfig,
};
pub use result::{DecisionRecord, RequestRecord, RequestStatus, RunResult, TickRecord};
pub use run::{StreamError, StreamRun, StreamStats, run, run_stream, run_with};
pub use sink::{Collect, InOrder, RequestSink, SinkError};

use crate::catalog::CatalogError;

/// Why a fleet run cannot start.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The manifest cannot drive a scaler.
    #[error("scaler `{name}`: {source}")]
    Scaler {
        name: String,
        source: engine::ScalerError,
    },
    /// A fleet setting is out of range.
    #[error("fleet config `{field}`: expected {expected}, found {found}")]
    Config {
        field: &'static str,
        expected: &'static str,
        found: String,
    },
}
