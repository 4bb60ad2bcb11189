//! The oracle on generated traces: it meets the SLO, costs no more than a static fleet
//! sized for the peak, and asks for replicas at least a cold start before a step in
//! load.

use simulator::Catalog;
use simulator::fleet::{self, FleetConfig, RunResult, ScalerSpec, Slo};
use simulator::oracle::capacity::SearchOptions;
use simulator::oracle::demand::replicas_at;
use simulator::oracle::{OracleError, OracleOptions, OraclePlan, plan, plan_with};
use traces::generate::{GenerateConfig, Pattern, TokenModel, generate};
use traces::request::Request;

const MINUTE_US: i64 = 60_000_000;
const SEED: u64 = 42;

fn trace(pattern: Pattern, minutes: i64, rate_rps: f64) -> Vec<Request> {
    generate(&GenerateConfig {
        pattern,
        duration_us: minutes * MINUTE_US,
        rate_rps,
        seed: SEED,
        tokens: TokenModel::azure_conv(),
    })
    .unwrap()
    .collect()
}

/// Cheap enough for a debug build: a smaller capacity sample.
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

fn steps(plan: &OraclePlan) -> &[(i64, u32)] {
    match &plan.spec {
        ScalerSpec::Schedule { steps, .. } => steps,
        other => panic!("expected a schedule, found {other:?}"),
    }
}

/// The fleet the oracle plans for, starting with as many replicas as its first step
/// asks for (a fleet at time zero cannot have started anything earlier).
fn planned(requests: &[Request]) -> (FleetConfig, OraclePlan) {
    let catalog = Catalog::builtin();
    let mut fleet = FleetConfig::default();
    let slo = Slo::default();
    let first = plan_with(requests, &catalog, &fleet, &slo, SEED, &options()).unwrap();
    fleet.initial_replicas = steps(&first).first().map_or(1, |step| step.1);
    let plan = plan_with(requests, &catalog, &fleet, &slo, SEED, &options()).unwrap();
    (fleet, plan)
}

fn attainment(result: &RunResult, slo: &Slo) -> f64 {
    let met = result.requests.iter().filter(|r| r.meets(slo)).count();
    met as f64 / result.requests.len() as f64
}

#[test]
fn oracle_meets_the_slo_on_bursts_for_less_than_a_static_peak_fleet() {
    // Bursts of 4x the mean rate lasting about a minute, every few minutes.
    let requests = trace(
        Pattern::Mmpp {
            burst_rate_rps: 80.0,
            mean_on_us: MINUTE_US,
            mean_off_us: 4 * MINUTE_US,
        },
        30,
        20.0,
    );
    let (fleet, plan) = planned(&requests);
    let catalog = Catalog::builtin();
    let slo = Slo::default();
    assert!(plan.met_target, "{:?}", plan.note);
    let oracle = fleet::run(&requests, &catalog, &fleet, &plan.spec, &slo, SEED).unwrap();
    let oracle_attainment = attainment(&oracle, &slo);
    assert!(oracle_attainment >= 0.99, "attainment {oracle_attainment}");
    assert_eq!(
        (oracle.scaler.as_str(), oracle.strategy.as_str()),
        ("oracle", "Oracle")
    );

    let peak = steps(&plan).iter().map(|step| step.1).max().unwrap();
    let static_fleet = FleetConfig {
        initial_replicas: peak,
        ..fleet.clone()
    };
    let static_peak = fleet::run(
        &requests,
        &catalog,
        &static_fleet,
        &ScalerSpec::Static { replicas: peak },
        &slo,
        SEED,
    )
    .unwrap();
    eprintln!(
        "bursty 30 min: capacity {:.2} rps/replica, oracle {:.3} GPU-h ({:.2} % met, peak {peak}), static-at-peak {:.3} GPU-h ({:.2} % met), iterations {:?}",
        plan.capacity.single().rate_rps,
        oracle.gpu_hours,
        100.0 * oracle_attainment,
        static_peak.gpu_hours,
        100.0 * attainment(&static_peak, &slo),
        plan.iterations
    );
    assert!(
        oracle.gpu_hours <= static_peak.gpu_hours,
        "oracle {} > static {}",
        oracle.gpu_hours,
        static_peak.gpu_hours
    );
}

#[test]
fn oracle_rises_a_cold_start_before_a_step_in_load() {
    let at_us = 20 * MINUTE_US;
    let requests = trace(Pattern::Step { at_us, factor: 5.0 }, 30, 30.0);
    let (_, plan) = planned(&requests);
    let steps = steps(&plan);
    let window = options().window_us;
    let before = plan.needs[..(at_us / window) as usize - 1]
        .iter()
        .copied()
        .max()
        .unwrap();
    let after = plan.needs[(at_us / window) as usize];
    assert!(
        after > before,
        "needs {:?}, capacity {:?}, iterations {:?}",
        plan.needs,
        plan.capacity,
        plan.iterations
    );
    // At the step, minus the lead the plan chose (at most the worst-case cold start
    // plus a tick; shorter when a later ask still met the target), the schedule already
    // asks for the post-step fleet.
    let lead = plan.iterations[plan.chosen].lead_us;
    assert!(lead <= plan.cold_start.lead_us());
    let ask_by = at_us - lead;
    assert!(
        replicas_at(steps, ask_by) >= after,
        "at {} s the schedule asks for {} replicas, the step needs {after}: {steps:?}",
        ask_by / 1_000_000,
        replicas_at(steps, ask_by)
    );
    // And not long before that: the rise comes within the lead (plus a window of slack).
    let rise = steps
        .iter()
        .find(|step| step.1 > before)
        .map(|step| step.0)
        .unwrap();
    assert!(
        at_us - rise <= lead + window,
        "rose at {} s for a step at {} s",
        rise / 1_000_000,
        at_us / 1_000_000
    );
    assert!(plan.met_target, "{}", plan.note);
}

#[test]
fn an_empty_trace_is_an_error_not_a_schedule() {
    let error = plan(
        &[],
        &Catalog::builtin(),
        &FleetConfig::default(),
        &Slo::default(),
        SEED,
    )
    .unwrap_err();
    assert!(matches!(error, OracleError::EmptyTrace), "{error}");
}

#[derive(Debug, thiserror::Error)]
#[error("trace.csv:3: expected a number, found x")]
struct BadRow;

#[test]
fn a_trace_that_fails_to_read_or_changes_between_passes_is_an_error() {
    let catalog = Catalog::builtin();
    let fleet = FleetConfig::default();
    let slo = Slo::default();
    let requests = trace(Pattern::Poisson, 2, 5.0);
    // Fails on the first pass: the reader's message comes through.
    let error = simulator::oracle::plan_stream(
        || {
            Ok::<_, BadRow>(
                requests
                    .iter()
                    .take(2)
                    .cloned()
                    .map(Ok)
                    .chain(std::iter::once(Err(BadRow))),
            )
        },
        &catalog,
        &fleet,
        &slo,
        SEED,
        &options(),
    )
    .unwrap_err();
    assert!(matches!(error, OracleError::Trace(_)), "{error}");
    assert!(error.to_string().contains("trace.csv:3"), "{error}");
    // Shorter on the second pass than on the first.
    let mut passes = 0;
    let error = simulator::oracle::plan_stream(
        || {
            passes += 1;
            let keep = if passes == 1 { requests.len() } else { 10 };
            Ok::<_, BadRow>(requests.iter().take(keep).cloned().map(Ok))
        },
        &catalog,
        &fleet,
        &slo,
        SEED,
        &options(),
    )
    .unwrap_err();
    assert!(
        matches!(error, OracleError::TraceChanged { found: 10, .. }),
        "{error}"
    );
}
