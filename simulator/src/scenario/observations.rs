//! Scenarios whose trace is an observation log (`trace.observations: FILE`, written by
//! the operator's `--observation-log` or any driver through `control::log`): nothing
//! is simulated; `budscaler simulate` replays the logged observations straight into the
//! engine and requires every decision to equal the logged one. Such a scenario has only
//! `name`, `description`, `seed` and `trace.observations`: the scalers, their manifests
//! and starting states come from the log itself.

use super::error::{At, ScenarioError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A checked observation-log scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationScenario {
    pub name: String,
    pub description: Option<String>,
    /// The scenario file.
    pub file: PathBuf,
    /// The log, resolved against the scenario's folder.
    pub log: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationsFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// Accepted for symmetry with other scenarios; a replay draws nothing at random.
    #[serde(default)]
    #[allow(dead_code)]
    seed: Option<u64>,
    trace: ObservationsTrace,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationsTrace {
    observations: String,
}

/// Only whether `trace.observations` is written (other keys are not looked at).
#[derive(Debug, Deserialize)]
struct Probe {
    #[serde(default)]
    trace: Option<ProbeTrace>,
}

#[derive(Debug, Deserialize)]
struct ProbeTrace {
    #[serde(default)]
    observations: Option<serde::de::IgnoredAny>,
}

/// The scenario in `text` (read from `path`) when its trace is an observation log;
/// `Ok(None)` for every other scenario (and for text that is not YAML at all, which the
/// regular loader reports).
pub fn parse_observation_scenario(
    text: &str,
    path: &Path,
) -> Result<Option<ObservationScenario>, ScenarioError> {
    let file = path.display().to_string();
    let Ok(probe) = serde_saphyr::from_str::<Probe>(text) else {
        return Ok(None);
    };
    if probe.trace.and_then(|t| t.observations).is_none() {
        return Ok(None);
    }
    let raw: ObservationsFile = serde_saphyr::from_str(text).map_err(|error| ScenarioError::Parse {
        file: file.clone(),
        message: format!(
            "{} (a scenario with trace.observations has only name, description, seed and trace.observations: the log carries the scalers)",
            error.without_snippet()
        ),
    })?;
    if raw.name.trim().is_empty() {
        return Err(ScenarioError::invalid(
            At::new(file, None, "name"),
            "a non-empty scenario name",
            "an empty string",
        ));
    }
    if raw.trace.observations.trim().is_empty() {
        return Err(ScenarioError::invalid(
            At::new(file, None, "trace.observations"),
            "the path of an observation log",
            "an empty string",
        ));
    }
    let written = Path::new(&raw.trace.observations);
    let log = if written.is_absolute() {
        written.to_path_buf()
    } else {
        path.parent().unwrap_or(Path::new("")).join(written)
    };
    Ok(Some(ObservationScenario {
        name: raw.name,
        description: raw.description,
        file: path.to_path_buf(),
        log,
    }))
}

/// [`parse_observation_scenario`] of the file at `path`.
pub fn load_observation_scenario(
    path: &Path,
) -> Result<Option<ObservationScenario>, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|error| ScenarioError::Io {
        at: At::new(path.display().to_string(), None, "scenario"),
        path: path.display().to_string(),
        error,
    })?;
    parse_observation_scenario(&text, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_scenarios_with_trace_observations_are_taken_and_they_take_nothing_else() {
        let path = Path::new("scenarios/live.yaml");
        let taken = parse_observation_scenario(
            "name: live\ntrace:\n  observations: logs/llm_llama.jsonl\n",
            path,
        )
        .unwrap()
        .unwrap();
        assert_eq!(taken.log, Path::new("scenarios/logs/llm_llama.jsonl"));
        assert_eq!(taken.name, "live");
        let other =
            "name: x\ntrace:\n  generate: {pattern: poisson, duration: 1m, rate: 1}\nfleet: {}\n";
        assert_eq!(parse_observation_scenario(other, path).unwrap(), None);
        assert_eq!(
            parse_observation_scenario(": not yaml [", path).unwrap(),
            None
        );
        let error = parse_observation_scenario(
            "name: x\ntrace:\n  observations: a.jsonl\nfleet:\n  gpu: H100\n",
            path,
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("scenarios/live.yaml: ") && error.contains("fleet"),
            "{error}"
        );
        assert!(error.contains("the log carries the scalers"), "{error}");
        let error =
            parse_observation_scenario("name: x\ntrace:\n  observations: ''\n", path).unwrap_err();
        assert!(error.to_string().contains("trace.observations"), "{error}");
    }
}
