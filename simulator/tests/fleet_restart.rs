//! A scaler restarted mid-trace decides as if it had never stopped: at a restart the
//! fleet saves the engine's state, writes it to JSON, reads it back and rebuilds the
//! scaler from the manifest and that state (`RunOptions::restart_scaler_at_us`). The
//! written `decisions.jsonl` must not move by a byte.

mod common;

use simulator::Catalog;
use simulator::fleet::{FleetConfig, RunOptions, RunResult, ScalerSpec, Slo, run_with};
use simulator::output::decisions::write_decisions;
use traces::generate::{GenerateConfig, Pattern, TokenModel, generate};
use traces::request::Request;

const SECOND: i64 = 1_000_000;
const MINUTE: i64 = 60 * SECOND;
/// Monday 2024-01-01 08:00 UTC: the run has a calendar, so seasonal buckets learn.
const START_UNIX_US: i64 = 1_704_096_000 * SECOND;

/// 30 minutes of a compressed day: 20-minute period, peak at minute 12, ×4.5 from
/// trough to peak, with noise; enough to make BudScaler scale up and back down.
fn diurnal_load() -> Vec<Request> {
    generate(&GenerateConfig {
        pattern: Pattern::Diurnal {
            period_us: 20 * MINUTE,
            amplitude: 0.8,
            weekly_amplitude: 0.0,
            peak_us: 12 * MINUTE,
            noise_sigma: 0.15,
            noise_interval_us: MINUTE,
        },
        duration_us: 30 * MINUTE,
        rate_rps: 14.0,
        seed: 23,
        tokens: TokenModel::azure_conv(),
    })
    .unwrap()
    .collect()
}

fn fleet() -> FleetConfig {
    FleetConfig {
        start_unix_us: Some(START_UNIX_US),
        ..FleetConfig::default()
    }
}

fn run_budscaler(requests: &[Request], restart_at: Option<i64>) -> RunResult {
    run_scaler("budscaler", requests, restart_at)
}

/// `scenarios/scalers/{name}.yaml` on the fleet, restarted at `restart_at` if any.
fn run_scaler(name: &str, requests: &[Request], restart_at: Option<i64>) -> RunResult {
    run_with(
        requests,
        &Catalog::builtin(),
        &fleet(),
        &common::scaler_spec(name),
        &Slo::default(),
        17,
        RunOptions {
            restart_scaler_at_us: restart_at,
            ..RunOptions::default()
        },
    )
    .unwrap()
}

/// The bytes `decisions.jsonl` would hold for this run.
fn decisions_jsonl(result: &RunResult) -> Vec<u8> {
    let mut out = Vec::new();
    write_decisions(&mut out, &result.decisions).unwrap();
    out
}

/// The first line where two files differ, for a readable failure.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    for (index, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!(
                "line {}:\n  without restart: {x}\n  with restart:    {y}",
                index + 1
            );
        }
    }
    format!("{} lines vs {} lines", a.lines().count(), b.lines().count())
}

#[test]
fn budscaler_restarted_mid_trace_writes_identical_decisions() {
    let manifest = common::scaler_manifest("budscaler");
    assert!(
        manifest
            .spec
            .prediction_config
            .as_ref()
            .is_some_and(|p| p.enabled == Some(true)),
        "the shared manifest is meant to forecast"
    );
    let requests = diurnal_load();
    let baseline = run_budscaler(&requests, None);
    let expected = decisions_jsonl(&baseline);

    // The run must exercise what a restart could lose: scale-ups, forecasts.
    let desired: Vec<i32> = baseline
        .decisions
        .iter()
        .map(|d| d.decision.desired_replicas)
        .collect();
    assert!(
        desired.windows(2).any(|w| w[1] > w[0]),
        "no scale-up: {desired:?}"
    );
    assert!(
        baseline
            .decisions
            .iter()
            .any(|d| d.decision.forecast.is_some()),
        "no forecast in any decision"
    );

    // Early (still learning), at the peak (scaled up), on a tick and between ticks.
    for restart_at in [6 * MINUTE, 13 * MINUTE + 7 * SECOND, 21 * MINUTE] {
        let restarted = run_budscaler(&requests, Some(restart_at));
        let got = decisions_jsonl(&restarted);
        assert!(
            got == expected,
            "restart at {} s changed decisions.jsonl: {}",
            restart_at / SECOND,
            first_difference(&expected, &got)
        );
        // The rest of the run follows from the decisions; check it too.
        assert_eq!(restarted.ticks, baseline.ticks, "restart at {restart_at}");
        assert_eq!(restarted.requests, baseline.requests);
    }
}

#[test]
fn hpa_and_kpa_restarted_mid_trace_write_identical_decisions() {
    let requests = diurnal_load();
    for name in ["hpa", "kpa"] {
        let expected = decisions_jsonl(&run_scaler(name, &requests, None));
        let got = decisions_jsonl(&run_scaler(name, &requests, Some(9 * MINUTE + SECOND)));
        assert!(
            got == expected,
            "{name}: {}",
            first_difference(&expected, &got)
        );
    }
}

#[test]
fn restarting_a_static_fleet_changes_nothing() {
    let requests: Vec<Request> = diurnal_load().into_iter().take(2000).collect();
    let run = |restart_at| {
        run_with(
            &requests,
            &Catalog::builtin(),
            &fleet(),
            &ScalerSpec::Static { replicas: 2 },
            &Slo::default(),
            5,
            RunOptions {
                restart_scaler_at_us: restart_at,
                ..RunOptions::default()
            },
        )
        .unwrap()
    };
    assert_eq!(run(None), run(Some(MINUTE)));
}

/// Parity: the fleet as a live driver. Every observation the engine decided on and its
/// decision, written as an observation log (`control::log`), replay through a fresh
/// scaler to the same decisions, floats included; a changed decision is named by line.
#[test]
fn the_fleets_observation_log_replays_to_identical_decisions() {
    use control::log::{LogLine, ReplayError, replay};
    let requests = diurnal_load();
    for name in ["budscaler", "hpa", "kpa"] {
        let result = run_with(
            &requests,
            &Catalog::builtin(),
            &fleet(),
            &common::scaler_spec(name),
            &Slo::default(),
            17,
            RunOptions {
                record_observations: true,
                ..RunOptions::default()
            },
        )
        .unwrap();
        assert_eq!(result.observations.len(), result.decisions.len(), "{name}");
        assert!(result.decisions.len() > 100, "{name}");
        let mut lines = vec![
            LogLine::Start {
                scaler: name.into(),
                manifest: Box::new(common::scaler_manifest(name)),
                state: None,
            }
            .to_json(),
        ];
        for (observation, record) in result.observations.iter().zip(&result.decisions) {
            lines.push(LogLine::tick(observation.clone(), record.decision.clone(), true).to_json());
        }
        let replayed = replay(&lines.join("\n")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            replayed.scalers,
            [(name.to_string(), result.decisions.len())]
        );
        let mut tampered = lines.clone();
        tampered[50] = tampered[50].replacen("\"desiredReplicas\":", "\"desiredReplicas\":9", 1);
        assert!(
            matches!(
                replay(&tampered.join("\n")),
                Err(ReplayError::Mismatch { line: 51, .. })
            ),
            "{name}"
        );
    }
}
