//! The scaler side of the loop: what runs at each engine tick.
//!
//! Manifest scalers run through `engine::Scaler` on an `Observation` built by
//! `traces::observe` from scraped text; `Static` holds one count; `Schedule` follows
//! its steps at their exact times (the loop turns them into events).
//!
//! Scale from zero: with no ready replica the gateway holds the requests, as Knative's
//! activator does, and reports them. For KPA and BudScaler (the strategies that scale
//! to zero) the observation then carries an extra ready pod named `activator` whose
//! scrape shows the gateway queue as waiting requests, the way Knative's collector adds
//! the activator's concurrency to the revision's. HPA never sees it.

use super::FleetError;
use super::config::{FleetConfig, ScalerSpec};
use crate::queue::TimeUs;
use engine::spec::{BudAIScaler, ScalingStrategy};
use engine::{Decision, Scaler, ScalerState};
use traces::observe::Observer;

const SECOND: TimeUs = 1_000_000;

/// What decides the desired count, with its state.
#[derive(Debug)]
pub enum Controller {
    Engine {
        scaler: Box<Scaler>,
        /// The manifest the scaler was built from (a restart rebuilds it from this).
        manifest: Box<BudAIScaler>,
        observer: Observer,
        /// Whether the gateway reports as an activator pod when nothing is ready.
        activator: bool,
    },
    Static {
        replicas: u32,
    },
    Schedule {
        steps: Vec<(TimeUs, u32)>,
    },
}

/// A controller and the timing it runs at.
#[derive(Debug)]
pub struct Control {
    pub controller: Controller,
    /// `RunResult.scaler`.
    pub name: String,
    /// `RunResult.strategy`.
    pub strategy: String,
    pub tick_us: TimeUs,
    pub scrape_us: TimeUs,
    /// Desired replicas at time zero (all ready then): the fleet's `initial_replicas`
    /// for engine scalers and schedules, the count itself for a static fleet.
    pub initial: u32,
}

impl Control {
    /// Builds the controller for `scaler` and derives its tick and scrape intervals.
    pub fn new(scaler: &ScalerSpec, fleet: &FleetConfig) -> Result<Control, FleetError> {
        let (controller, name, strategy, default_tick, initial) = match scaler {
            ScalerSpec::Manifest(manifest) => {
                let built = Scaler::new(manifest).map_err(|source| FleetError::Scaler {
                    name: manifest.name().to_string(),
                    source,
                })?;
                let strategy = built.spec().strategy;
                let tick = match strategy {
                    ScalingStrategy::Kpa => 2 * SECOND,
                    ScalingStrategy::Hpa | ScalingStrategy::BudScaler => 15 * SECOND,
                };
                let (_, scrape) = intervals(fleet, tick);
                let observer = Observer::new(built.spec(), scrape);
                let min = u32::try_from(built.spec().min_replicas).unwrap_or(0);
                let max = u32::try_from(built.spec().max_replicas).unwrap_or(0);
                (
                    Controller::Engine {
                        activator: strategy != ScalingStrategy::Hpa,
                        scaler: Box::new(built),
                        manifest: manifest.clone(),
                        observer,
                    },
                    manifest.name().to_string(),
                    strategy.as_str().to_string(),
                    tick,
                    fleet.initial_replicas.clamp(min, max.max(min)),
                )
            }
            ScalerSpec::Static { replicas } => (
                Controller::Static {
                    replicas: *replicas,
                },
                "static".to_string(),
                "Static".to_string(),
                15 * SECOND,
                *replicas,
            ),
            ScalerSpec::Schedule {
                name,
                strategy,
                steps,
            } => {
                let mut steps = steps.clone();
                steps.sort_by_key(|&(time, _)| time);
                // A schedule starts from the fleet every scaler starts from: a step at
                // time zero asks for replicas then, with their cold start, like any
                // scaler's first decision (the oracle gets no ready replicas for free).
                (
                    Controller::Schedule { steps },
                    name.clone(),
                    strategy.clone(),
                    15 * SECOND,
                    fleet.initial_replicas,
                )
            }
        };
        let (tick_us, scrape_us) = intervals(fleet, default_tick);
        for (field, value) in [
            ("sync_period_us", tick_us),
            ("scrape_interval_us", scrape_us),
        ] {
            if value <= 0 {
                return Err(FleetError::Config {
                    field,
                    expected: "a positive number of microseconds",
                    found: value.to_string(),
                });
            }
        }
        if fleet.scrape_delay_us < 0 {
            return Err(FleetError::Config {
                field: "scrape_delay_us",
                expected: "zero or more microseconds",
                found: fleet.scrape_delay_us.to_string(),
            });
        }
        let initial = initial.min(fleet.max_replicas_hard);
        Ok(Control {
            controller,
            name,
            strategy,
            tick_us,
            scrape_us,
            initial,
        })
    }

    /// Restarts the engine scaler (`RunOptions::restart_scaler_at_us`): its snapshot goes
    /// through JSON text and back into `Scaler::restore` with the same manifest, as a
    /// state saved by one process and read by the next. The observer is kept. Nothing
    /// happens for static and schedule controllers.
    ///
    /// # Panics
    /// When the snapshot does not survive the trip: the engine promises that it does
    /// (every float is saved exactly), so this is a bug there, not bad input.
    pub fn restart_engine(&mut self) {
        let Controller::Engine {
            scaler, manifest, ..
        } = &mut self.controller
        else {
            return;
        };
        let text = serde_json::to_string(&scaler.snapshot())
            .unwrap_or_else(|error| panic!("scaler `{}`: snapshot to JSON: {error}", self.name));
        let state: ScalerState = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("scaler `{}`: snapshot from JSON: {error}", self.name));
        let restored = Scaler::restore(manifest, state)
            .unwrap_or_else(|error| panic!("scaler `{}`: restore: {error}", self.name));
        **scaler = restored;
    }

    /// Whether the scrape at `time` is the one some tick reads: the first tick at or
    /// after `time + delay` must read it (and not a later scrape).
    pub fn scrape_needed(&self, time: TimeUs, delay: TimeUs) -> bool {
        if !matches!(self.controller, Controller::Engine { .. }) {
            return false;
        }
        let earliest = time + delay;
        let tick = earliest.div_euclid(self.tick_us) * self.tick_us
            + if earliest.rem_euclid(self.tick_us) == 0 {
                0
            } else {
                self.tick_us
            };
        let tick = tick.max(self.tick_us);
        tick - delay < time + self.scrape_us
    }
}

/// The tick (the fleet's, or the strategy's default) and the scrape interval (the
/// fleet's, or 15 s capped at the tick).
fn intervals(fleet: &FleetConfig, default_tick: TimeUs) -> (TimeUs, TimeUs) {
    let tick = fleet.sync_period_us.unwrap_or(default_tick);
    (
        tick,
        fleet.scrape_interval_us.unwrap_or((15 * SECOND).min(tick)),
    )
}

/// The engine's decision as a replica count, and the decision itself.
pub fn engine_desired(decision: &Decision, cap: u32) -> u32 {
    u32::try_from(decision.desired_replicas.max(0))
        .unwrap_or(0)
        .min(cap)
}
