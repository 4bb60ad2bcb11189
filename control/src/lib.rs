//! The control loop both drivers run, the simulator on rendered scrapes and the
//! operator on live ones, so that an `Observation` and its `Decision` are built the same
//! way everywhere:
//!
//! - [`timing`]: the sync period per strategy and the scrape interval;
//! - [`activator`]: how a scaler that scales to zero sees requests held while nothing is
//!   ready (Knative's activator);
//! - [`ControlLoop`]: scrapes and pod statuses → `Observation` (through
//!   `traces::observe::Observer`) → `Scaler::decide` → a [`DecisionRecord`];
//! - [`record`]: the record and its `decisions.jsonl` line, written and read back;
//! - [`log`]: observation logs a driver writes and [`log::replay`] replays exactly;
//! - [`scrape_plan`]: what a live driver fetches.
//!
//! **Invariant:** pure like the engine (no IO, no clock); depends on `engine` and
//! `traces` (without polars) only, never on the simulator.

pub mod activator;
pub mod log;
pub mod pricing;
pub mod record;
pub mod scrape_plan;
pub mod timing;

pub use record::{
    DecisionEntry, DecisionLine, DecisionRecord, read_decisions_from, write_decisions,
};

use engine::spec::BudAIScaler;
use engine::time::Micros;
use engine::{Decision, Scaler, ScalerError, ScalerState};
use traces::observe::{Observer, PodScrape};

/// One scaler's loop: its engine scaler, the observer that keeps its per-pod windows,
/// and the manifest (to rebuild the scaler on restart).
#[derive(Debug)]
pub struct ControlLoop {
    pub name: String,
    pub scaler: Scaler,
    pub manifest: BudAIScaler,
    pub observer: Observer,
    /// Unix µs of time 0, for calendar time (`Observation.wall_clock`); `None` without.
    pub start_unix_us: Option<Micros>,
    /// Whether held requests show as an [`activator`] pod when nothing is ready.
    pub activator: bool,
    /// How often the loop decides.
    pub sync_us: Micros,
    /// How often pods are scraped (the observer's rate window).
    pub scrape_us: Micros,
}

impl ControlLoop {
    /// The loop for `manifest`: the sync period and scrape interval as `configured`
    /// where set, else the strategy's ([`timing`]).
    pub fn new(
        name: impl Into<String>,
        manifest: &BudAIScaler,
        configured: timing::Configured,
        start_unix_us: Option<Micros>,
    ) -> Result<ControlLoop, ScalerError> {
        let scaler = Scaler::new(manifest)?;
        let strategy = scaler.spec().strategy;
        let sync_us = configured
            .sync_us
            .unwrap_or_else(|| timing::default_sync_period(strategy));
        let scrape_us = timing::scrape_interval(sync_us, configured.scrape_us);
        let observer = Observer::new(scaler.spec(), scrape_us);
        Ok(ControlLoop {
            name: name.into(),
            scaler,
            manifest: manifest.clone(),
            observer,
            start_unix_us,
            activator: activator::uses_activator(strategy),
            sync_us,
            scrape_us,
        })
    }

    /// One tick: observe `pods` at `now` with `current` replicas, decide, and record.
    /// The observation is returned too (for observation logs).
    pub fn tick(
        &mut self,
        now: Micros,
        current: i32,
        pods: &[PodScrape<'_>],
    ) -> (DecisionRecord, engine::Observation) {
        let mut observation = self.observer.observe(now, current, pods);
        observation.wall_clock = self.start_unix_us.map(|start| start + now);
        let decision = self.scaler.decide(&observation);
        (
            DecisionRecord {
                time_us: now,
                scaler: self.name.clone(),
                decision,
            },
            observation,
        )
    }

    /// The last decision was not applied (shadow mode, a failed patch): see
    /// `engine::Scaler::not_applied`.
    pub fn not_applied(&mut self, record: &DecisionRecord) {
        self.scaler.not_applied(&record.decision);
    }

    /// Restarts the scaler as a new process would: its snapshot through JSON text and
    /// back into `Scaler::restore` with the same manifest. The observer is kept (a
    /// restarted driver would lose one scrape window of rates, nothing else).
    ///
    /// # Panics
    /// When the snapshot does not survive the trip: the engine promises that it does
    /// (every float is saved exactly), so this is a bug there, not bad input.
    pub fn restart(&mut self) {
        let text = serde_json::to_string(&self.scaler.snapshot())
            .unwrap_or_else(|error| panic!("scaler `{}`: snapshot to JSON: {error}", self.name));
        let state: ScalerState = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("scaler `{}`: snapshot from JSON: {error}", self.name));
        self.scaler = Scaler::restore(&self.manifest, state)
            .unwrap_or_else(|error| panic!("scaler `{}`: restore: {error}", self.name));
    }
}

/// The engine's decision as a replica count a driver can apply: never negative, at most
/// `cap` (a driver's hard limit).
pub fn desired_replicas(decision: &Decision, cap: u32) -> u32 {
    u32::try_from(decision.desired_replicas.max(0))
        .unwrap_or(0)
        .min(cap)
}
