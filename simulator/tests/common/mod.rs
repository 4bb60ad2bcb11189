//! Helpers shared by the simulator's behaviour tests.

// Each test file is its own crate and uses a subset of these.
#![allow(dead_code)]

use engine::spec::BudAIScaler;
use simulator::fleet::ScalerSpec;
use simulator::output::{self, Summary};
use simulator::scenario;
use std::path::{Path, PathBuf};

/// The manifest `scenarios/scalers/{name}.yaml` of the repository.
pub fn scaler_manifest(name: &str) -> BudAIScaler {
    let path = format!(
        "{}/../scenarios/scalers/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// [`scaler_manifest`] as a fleet's scaler.
pub fn scaler_spec(name: &str) -> ScalerSpec {
    ScalerSpec::Manifest(Box::new(scaler_manifest(name)))
}

/// An empty folder for test `name` of `suite`, unique to this process (emptied first).
pub fn fresh_dir(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("budscaler-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Parses `scenario_text` as if it were `dir/scenario.yaml`, replays it for every scaler
/// with the whole trace in memory, and writes the output folder to `out`.
pub fn simulate_in_memory(scenario_text: &str, dir: &Path, out: &Path) {
    let scenario = scenario::parse(scenario_text, &dir.join("scenario.yaml"), None).unwrap();
    let requests = scenario.requests().unwrap();
    let runs = scenario::run(&scenario, &requests).unwrap();
    let summary = Summary::of(
        &scenario.name,
        scenario.seed,
        requests.len(),
        &scenario.slo,
        &runs,
        0.0,
    );
    output::write_folder(out, &summary, &runs, &scenario.slo).unwrap();
}
