//! The scaler side of the loop: what runs at each engine tick.
//!
//! Manifest scalers run the control loop the operator runs too (`control::ControlLoop`:
//! scraped text → `Observation` → `engine::Scaler` → a decision record); `Static` holds
//! one count; `Schedule` follows its steps at their exact times (the loop turns them
//! into events). Scale from zero goes through `control::activator`: with no ready
//! replica the gateway's held requests show as the activator pod's waiting requests.

use super::FleetError;
use super::config::{FleetConfig, ScalerSpec};
use crate::queue::TimeUs;
use control::{ControlLoop, timing};

const SECOND: TimeUs = 1_000_000;

/// What decides the desired count, with its state.
#[derive(Debug)]
pub enum Controller {
    Engine(Box<ControlLoop>),
    Static { replicas: u32 },
    Schedule { steps: Vec<(TimeUs, u32)> },
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
                // The loop works out its own timing from the fleet's settings;
                // `intervals` below reads the same ones, so both agree.
                let built = ControlLoop::new(
                    manifest.name(),
                    manifest,
                    timing::Configured {
                        sync_us: fleet.sync_period_us,
                        scrape_us: fleet.scrape_interval_us,
                    },
                    fleet.start_unix_us,
                )
                .map_err(|source| FleetError::Scaler {
                    name: manifest.name().to_string(),
                    source,
                })?;
                let spec = built.scaler.spec();
                let (strategy, tick) = (spec.strategy, built.sync_us);
                let min = u32::try_from(spec.min_replicas).unwrap_or(0);
                let max = u32::try_from(spec.max_replicas).unwrap_or(0);
                (
                    Controller::Engine(Box::new(built)),
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

    /// Restarts the engine scaler (`RunOptions::restart_scaler_at_us`) as a new process
    /// would (`ControlLoop::restart`); nothing happens for static and schedule
    /// controllers.
    pub fn restart_engine(&mut self) {
        if let Controller::Engine(control) = &mut self.controller {
            control.restart();
        }
    }

    /// Whether the scrape at `time` is the one some tick reads: the first tick at or
    /// after `time + delay` must read it (and not a later scrape).
    pub fn scrape_needed(&self, time: TimeUs, delay: TimeUs) -> bool {
        if !matches!(self.controller, Controller::Engine(_)) {
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
        timing::scrape_interval(tick, fleet.scrape_interval_us),
    )
}
