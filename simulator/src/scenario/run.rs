//! Replaying a scenario: one fleet run per scaler on the same requests. Runs are
//! independent, so a caller may run them in parallel with [`run_one`] and collect in
//! scaler order; [`run`] does them one after the other.
//!
//! [`run_streamed`] is the bounded-memory form: each run reads the trace itself (a file
//! is read once per scaler) and hands its records to a sink. The oracle reads it more
//! often: once for its demand and capacity sample, once per verification run, and once
//! for the run reported, each pass streamed (see [`crate::oracle::plan_stream`]).

use super::error::{At, ScenarioError};
use super::trace::{empty_trace, source_field, stream_requests};
use super::{ScalerChoice, Scenario};
use crate::fleet::{
    self, RequestSink, RunOptions, RunResult, ScalerSpec, StreamError, StreamStats,
};
use crate::oracle;
use traces::Request;

/// One scaler's run, plus what the scenario layer knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalerRun {
    pub result: RunResult,
    /// A remark for the report (the oracle's when its schedule missed its target).
    pub note: Option<String>,
}

/// Runs every scaler of `scenario` on `requests`, in scaler order.
pub fn run(scenario: &Scenario, requests: &[Request]) -> Result<Vec<ScalerRun>, ScenarioError> {
    (0..scenario.scalers.len())
        .map(|index| run_one(scenario, requests, index))
        .collect()
}

/// Runs scaler `index` of `scenario` on `requests` with the scenario's seed. The
/// result carries the scenario's name for the scaler.
pub fn run_one(
    scenario: &Scenario,
    requests: &[Request],
    index: usize,
) -> Result<ScalerRun, ScenarioError> {
    let (spec, note) = spec_for(scenario, index, |options| {
        oracle::plan_with(
            requests,
            &scenario.catalog,
            &scenario.fleet,
            &scenario.slo,
            scenario.seed,
            options,
        )
    })?;
    let mut result = fleet::run(
        requests,
        &scenario.catalog,
        &scenario.fleet,
        &spec,
        &scenario.slo,
        scenario.seed,
    )
    .map_err(|error| ScenarioError::at(scaler_at(scenario, index), error))?;
    rename(&mut result, scenario.scalers[index].name());
    Ok(ScalerRun { result, note })
}

/// Runs scaler `index` of `scenario` on a stream of its trace, sending each request's
/// record to `sink` as soon as it is final (in completion order). The run's
/// `result.requests` is empty; the stats say how many requests were read.
pub fn run_streamed(
    scenario: &Scenario,
    index: usize,
    sink: &mut impl RequestSink,
) -> Result<(ScalerRun, StreamStats), ScenarioError> {
    let at = || scaler_at(scenario, index);
    let (spec, note) = spec_for(scenario, index, |options| {
        oracle::plan_stream(
            || stream_requests(scenario),
            &scenario.catalog,
            &scenario.fleet,
            &scenario.slo,
            scenario.seed,
            options,
        )
    })?;
    let streamed = fleet::run_stream(
        stream_requests(scenario)?,
        &scenario.catalog,
        &scenario.fleet,
        &spec,
        &scenario.slo,
        scenario.seed,
        RunOptions::default(),
        sink,
    )
    .map_err(|error| match error {
        StreamError::Input { source, .. } => source,
        error @ StreamError::OutOfOrder { .. } => ScenarioError::at(
            At::new(scenario.file_name(), None, source_field(scenario)),
            format!("{error}; or set trace.sort: true"),
        ),
        other => located(other, at()),
    });
    let mut streamed = streamed?;
    if streamed.stats.requests == 0 {
        return Err(empty_trace(scenario));
    }
    rename(&mut streamed.result, scenario.scalers[index].name());
    Ok((
        ScalerRun {
            result: streamed.result,
            note,
        },
        streamed.stats,
    ))
}

fn located<E: std::error::Error + 'static>(error: StreamError<E>, at: At) -> ScenarioError {
    ScenarioError::at(at, error)
}

fn scaler_at(scenario: &Scenario, index: usize) -> At {
    At::new(scenario.file_name(), None, format!("scalers[{index}]"))
}

/// Gives the run and its decisions the scenario's name for the scaler.
fn rename(result: &mut RunResult, name: &str) {
    name.clone_into(&mut result.scaler);
    for decision in &mut result.decisions {
        name.clone_into(&mut decision.scaler);
    }
}

/// The fleet's scaler for choice `index`, and the oracle's note; `plan` is called only
/// for the oracle.
fn spec_for(
    scenario: &Scenario,
    index: usize,
    plan: impl FnOnce(&oracle::OracleOptions) -> Result<oracle::OraclePlan, oracle::OracleError>,
) -> Result<(ScalerSpec, Option<String>), ScenarioError> {
    let choice = &scenario.scalers[index];
    let at = || scaler_at(scenario, index);
    let mut note = None;
    let spec = match choice {
        ScalerChoice::Manifest { manifest, .. } => ScalerSpec::Manifest(manifest.clone()),
        ScalerChoice::Static { replicas, .. } => ScalerSpec::Static {
            replicas: *replicas,
        },
        ScalerChoice::Oracle { options, .. } => {
            let plan = plan(options).map_err(|error| match error {
                // A trace error already names the scenario field.
                oracle::OracleError::Trace(error) => match error.downcast::<ScenarioError>() {
                    Ok(error) => *error,
                    Err(error) => ScenarioError::at(at(), error),
                },
                error => ScenarioError::at(at(), error),
            })?;
            note = Some(plan.note);
            plan.spec
        }
    };
    Ok((spec, note))
}
