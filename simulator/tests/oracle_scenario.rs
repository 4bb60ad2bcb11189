//! The oracle on the repository's own `scenarios/default.yaml`: the schedule it returns
//! reaches its target as `summary.json` counts attainment (all trace requests), costs
//! no less than its lower bound, and replays to the same figures.

use simulator::fleet::{self, RunOptions};
use simulator::oracle::capacity::SearchOptions;
use simulator::oracle::{OracleOptions, plan_stream};
use simulator::output::{RequestStats, RunSummary, Summary};
use simulator::scenario::{self, ScalerChoice, Scenario, TraceSource};

fn default_scenario() -> Scenario {
    let path = format!("{}/../scenarios/default.yaml", env!("CARGO_MANIFEST_DIR"));
    scenario::load(std::path::Path::new(&path), None).unwrap()
}

/// A smaller capacity sample than the default, for a debug build.
fn options() -> OracleOptions {
    OracleOptions {
        search: SearchOptions {
            sample: 4_000,
            horizon_s: 200.0,
            max_requests: 4_000,
            tolerance: 0.02,
        },
        ..OracleOptions::default()
    }
}

#[test]
fn the_oracle_reaches_99_percent_on_the_default_scenario_above_its_lower_bound() {
    let mut scenario = default_scenario();
    // The first 40 minutes of the hour: the rise to the peak and past it, in less time.
    let TraceSource::Generate(config) = &mut scenario.trace.source else {
        panic!("default.yaml generates its trace");
    };
    config.duration_us = 40 * 60_000_000;
    let plan = plan_stream(
        || scenario.request_stream(),
        &scenario.catalog,
        &scenario.fleet,
        &scenario.slo,
        scenario.seed,
        &options(),
    )
    .unwrap();
    eprintln!(
        "default.yaml (40 min): {} iterations {:?}; capacity {:?}",
        plan.note, plan.iterations, plan.capacity
    );
    assert!(plan.met_target, "{}", plan.note);
    assert!(plan.attainment() >= 0.99, "{}", plan.note);
    assert!(plan.lower_bound_gpu_hours > 0.0);
    assert!(
        plan.lower_bound_gpu_hours <= plan.gpu_hours(),
        "bound {} > plan {}",
        plan.lower_bound_gpu_hours,
        plan.gpu_hours()
    );
    assert!(plan.note.contains("lower bound"), "{}", plan.note);

    // The reported run is the verified one: same schedule, seed and stream.
    let mut stats = RequestStats::new(&scenario.slo);
    let run = fleet::run_stream(
        scenario.request_stream().unwrap(),
        &scenario.catalog,
        &scenario.fleet,
        &plan.spec,
        &scenario.slo,
        scenario.seed,
        RunOptions::default(),
        &mut stats,
    )
    .unwrap();
    assert_eq!(stats.requests(), plan.trace_requests);
    let summary = RunSummary::of_stats(&run.result, &stats, Some(plan.note.clone()));
    assert_eq!(summary.slo_attainment, plan.attainment());
    assert_eq!(summary.gpu_hours, plan.gpu_hours());

    let summary = Summary::of_summaries(
        "default",
        42,
        stats.requests(),
        &scenario.slo,
        vec![summary],
        0.0,
    );
    assert_eq!(summary.runs[0].gpu_hours_vs_oracle, Some(1.0));
}

#[test]
fn the_default_scenario_lists_an_oracle() {
    let scenario = default_scenario();
    assert!(
        scenario
            .scalers
            .iter()
            .any(|choice| matches!(choice, ScalerChoice::Oracle { .. }))
    );
}

/// Mooncake's trace with prefix caching (the whole trace fits in the capacity sample,
/// so capacity is measured with its own prefix sharing). Skips without the data.
#[test]
fn the_oracle_reaches_99_percent_on_mooncake_with_prefix_caching() {
    let path = format!("{}/../scenarios/mooncake.yaml", env!("CARGO_MANIFEST_DIR"));
    let scenario = scenario::load(std::path::Path::new(&path), None).unwrap();
    let TraceSource::File { path: trace, .. } = &scenario.trace.source else {
        panic!("mooncake.yaml reads a file");
    };
    if !trace.exists() {
        eprintln!(
            "skipping: {} is absent (see the README, Data)",
            trace.display()
        );
        return;
    }
    let plan = || {
        plan_stream(
            || scenario.request_stream(),
            &scenario.catalog,
            &scenario.fleet,
            &scenario.slo,
            scenario.seed,
            &OracleOptions::default(),
        )
        .unwrap()
    };
    let first = plan();
    eprintln!("mooncake: {}; {:?}", first.note, first.iterations);
    assert!(first.met_target, "{}", first.note);
    assert!(first.attainment() >= 0.99, "{}", first.note);
    assert!(first.lower_bound_gpu_hours <= first.gpu_hours());
    assert_eq!(first, plan(), "same scenario and seed, same plan");
}
