//! Helpers shared by the simulator's behaviour tests.

use simulator::output::{self, Summary};
use simulator::scenario;
use std::path::Path;

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
