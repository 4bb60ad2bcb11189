//! Observation logs: what a driver saw and decided, as JSON lines, so a live run can be
//! replayed offline through the same engine and must give the same decisions.
//!
//! The first line starts a scaler (`{"kind":"start","scaler","manifest","state"}`: the
//! manifest as it ran and the state it started from, `null` for a fresh one); then one
//! line per tick (`{"kind":"tick","observation","decision"}`, with `"applied":false`
//! when the driver did not apply it). Floats survive the trip
//! exactly (serde_json's `float_roundtrip`, enabled for the workspace). [`replay`]
//! rebuilds the scaler and decides on every logged observation; the first decision that
//! differs from the logged one is an error naming its line.

use engine::spec::BudAIScaler;
use engine::{Decision, Observation, Scaler, ScalerError, ScalerState};
use serde::{Deserialize, Serialize};

/// One line of a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogLine {
    Start {
        scaler: String,
        manifest: Box<BudAIScaler>,
        state: Option<ScalerState>,
    },
    Tick {
        observation: Box<Observation>,
        decision: Box<Decision>,
        /// False when the driver did not apply the decision (shadow mode, a failed
        /// patch): the replay then tells the engine so, as the driver did.
        #[serde(default = "applied_by_default", skip_serializing_if = "is_applied")]
        applied: bool,
    },
}

fn applied_by_default() -> bool {
    true
}

fn is_applied(applied: &bool) -> bool {
    *applied
}

impl LogLine {
    /// A tick line.
    pub fn tick(observation: Observation, decision: Decision, applied: bool) -> LogLine {
        LogLine::Tick {
            observation: Box::new(observation),
            decision: Box::new(decision),
            applied,
        }
    }

    /// The line as JSON text, without the newline.
    pub fn to_json(&self) -> String {
        // Every type in a line serializes (plain data, string keys).
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A log that does not replay to the same decisions.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReplayError {
    #[error("line {line}: {message}")]
    Parse { line: usize, message: String },
    #[error("line {line}: a tick before any start line")]
    NoStart { line: usize },
    #[error("line {line}: the logged scaler cannot be rebuilt: {message}")]
    Scaler { line: usize, message: String },
    #[error(
        "line {line}: the replayed decision differs from the logged one: logged {logged_replicas} ({logged_reason}), replayed {replayed_replicas} ({replayed_reason})"
    )]
    Mismatch {
        line: usize,
        logged_replicas: i32,
        logged_reason: String,
        replayed_replicas: i32,
        replayed_reason: String,
    },
}

/// What a replay went through.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// Scalers started, in log order, with the ticks each replayed.
    pub scalers: Vec<(String, usize)>,
    /// Every replayed decision in log order, its time counted from its scaler's first
    /// tick (a live driver logs Unix time).
    pub decisions: Vec<crate::DecisionRecord>,
}

/// Replays `text` (the log's lines); every decision must equal the logged one exactly.
pub fn replay(text: &str) -> Result<Replayed, ReplayError> {
    let mut scaler: Option<Scaler> = None;
    let mut replayed = Replayed {
        scalers: Vec::new(),
        decisions: Vec::new(),
    };
    let mut first_tick: Option<engine::time::Micros> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let parsed: LogLine = serde_json::from_str(raw).map_err(|e| ReplayError::Parse {
            line,
            message: e.to_string(),
        })?;
        match parsed {
            LogLine::Start {
                scaler: name,
                manifest,
                state,
            } => {
                let built = match state {
                    Some(state) => Scaler::restore(&manifest, state),
                    None => Scaler::new(&manifest),
                }
                .map_err(|e: ScalerError| ReplayError::Scaler {
                    line,
                    message: e.to_string(),
                })?;
                scaler = Some(built);
                first_tick = None;
                replayed.scalers.push((name, 0));
            }
            LogLine::Tick {
                observation,
                decision,
                applied,
            } => {
                let Some(scaler) = scaler.as_mut() else {
                    return Err(ReplayError::NoStart { line });
                };
                let again = scaler.decide(&observation);
                if again != *decision {
                    return Err(ReplayError::Mismatch {
                        line,
                        logged_replicas: decision.desired_replicas,
                        logged_reason: decision.reason.as_str().to_string(),
                        replayed_replicas: again.desired_replicas,
                        replayed_reason: again.reason.as_str().to_string(),
                    });
                }
                if !applied {
                    scaler.not_applied(&again);
                }
                if let Some(last) = replayed.scalers.last_mut() {
                    last.1 += 1;
                    let start = *first_tick.get_or_insert(observation.now);
                    replayed.decisions.push(crate::DecisionRecord {
                        time_us: observation.now - start,
                        scaler: last.0.clone(),
                        decision: again,
                    });
                }
            }
        }
    }
    Ok(replayed)
}
