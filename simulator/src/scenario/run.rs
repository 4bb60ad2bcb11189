//! Replaying a scenario: one fleet run per scaler on the same requests. Runs are
//! independent, so a caller may run them in parallel with [`run_one`] and collect in
//! scaler order; [`run`] does them one after the other.

use super::error::{At, ScenarioError};
use super::{ScalerChoice, Scenario};
use crate::fleet::{self, RunResult, ScalerSpec};
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
    let choice = &scenario.scalers[index];
    let at = || At::new(scenario.file_name(), None, format!("scalers[{index}]"));
    let mut note = None;
    let spec = match choice {
        ScalerChoice::Manifest { manifest, .. } => ScalerSpec::Manifest(manifest.clone()),
        ScalerChoice::Static { replicas, .. } => ScalerSpec::Static {
            replicas: *replicas,
        },
        ScalerChoice::Oracle { options, .. } => {
            let plan = oracle::plan_with(
                requests,
                &scenario.catalog,
                &scenario.fleet,
                &scenario.slo,
                scenario.seed,
                options,
            )
            .map_err(|error| ScenarioError::at(at(), error))?;
            note = plan.note;
            plan.spec
        }
    };
    let mut result = fleet::run(
        requests,
        &scenario.catalog,
        &scenario.fleet,
        &spec,
        &scenario.slo,
        scenario.seed,
    )
    .map_err(|error| ScenarioError::at(at(), error))?;
    choice.name().clone_into(&mut result.scaler);
    for decision in &mut result.decisions {
        choice.name().clone_into(&mut decision.scaler);
    }
    Ok(ScalerRun { result, note })
}
