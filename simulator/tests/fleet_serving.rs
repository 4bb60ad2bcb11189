//! The stateful observer on the fleet: HPA and KPA decide exactly as before (their
//! gauge manifests read nothing windowed), and a BudScaler run sees per-pod serving
//! samples with plausible token rates.

mod common;

use engine::observation::ServingSample;
use simulator::Catalog;
use simulator::fleet::{FleetConfig, RunOptions, RunResult, Slo, run, run_with};
use simulator::output::write_decisions;
use std::collections::BTreeMap;
use traces::Request;
use traces::generate::{GenerateConfig, Pattern, TokenModel, generate};

fn requests() -> Vec<Request> {
    generate(&GenerateConfig {
        pattern: Pattern::Step {
            at_us: 120_000_000,
            factor: 8.0,
        },
        duration_us: 400_000_000,
        rate_rps: 20.0,
        seed: 3,
        tokens: TokenModel::azure_conv(),
    })
    .unwrap()
    .collect()
}

fn run_scaler(name: &str, requests: &[Request]) -> RunResult {
    run(
        requests,
        &Catalog::builtin(),
        &FleetConfig::default(),
        &common::scaler_spec(name),
        &Slo::default(),
        5,
    )
    .unwrap()
}

/// FNV-1a over the `decisions.jsonl` bytes of a run.
fn decisions_digest(result: &RunResult) -> (usize, u64) {
    let mut bytes = Vec::new();
    write_decisions(&mut bytes, &result.decisions).unwrap();
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    (bytes.len(), hash)
}

/// Digests of `decisions.jsonl` recorded before the observer became stateful.
#[test]
fn hpa_and_kpa_decisions_are_byte_identical_to_the_stateless_observer() {
    let requests = requests();
    let digests: Vec<_> = ["hpa", "kpa"]
        .map(|name| decisions_digest(&run_scaler(name, &requests)))
        .into();
    println!("{digests:?}");
    assert_eq!(
        digests,
        vec![(8336, 18381456893755476544), (59086, 15337567280059403500)]
    );
}

#[test]
fn a_budscaler_fleet_sees_serving_samples_creation_times_and_the_calendar() {
    let requests = requests();
    let start = 1_780_272_000_000_000; // 2026-06-01T00:00:00Z
    let fleet = FleetConfig {
        start_unix_us: Some(start),
        ..FleetConfig::default()
    };
    let result = run_with(
        &requests,
        &Catalog::builtin(),
        &fleet,
        &common::scaler_spec("budscaler"),
        &Slo::default(),
        5,
        RunOptions {
            record_observations: true,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(result.observations.len(), result.decisions.len());
    assert!(result.peak_replicas > 1, "the step scales the fleet up");
    // Every distinct window once (a scrape seen by two ticks repeats its window).
    let mut windows: BTreeMap<(String, i64), ServingSample> = BTreeMap::new();
    let mut scaled_up = 0;
    for observation in &result.observations {
        assert_eq!(observation.wall_clock, Some(start + observation.now));
        for pod in &observation.pods {
            let created = pod.creation_time.expect("the fleet knows creation times");
            assert!(created <= observation.now);
            if let Some(ready) = pod.ready_transition_time {
                assert!(created <= ready, "{pod:?}");
                scaled_up += usize::from(created < ready);
            }
            if let Some(started) = pod.start_time {
                assert!(created <= started, "{pod:?}");
            }
        }
        for (name, sample) in &observation.serving {
            assert!(sample.timestamp <= observation.now);
            assert!(sample.running.is_some() && sample.waiting.is_some());
            let kv = sample.kv_cache_usage.unwrap();
            assert!((0.0..=1.0).contains(&kv));
            if sample.window > 0 {
                windows.insert((name.clone(), sample.timestamp), *sample);
            } else {
                assert_eq!(sample.prompt_tokens_per_s, None);
            }
        }
    }
    assert!(scaled_up > 0, "some pods went through a cold start");
    assert!(windows.len() > 20, "{} windows", windows.len());
    let seconds = |sample: &ServingSample| sample.window as f64 / 1e6;
    let finished: f64 = windows
        .values()
        .map(|s| s.requests_per_s.unwrap() * seconds(s))
        .sum();
    let generated: f64 = windows
        .values()
        .map(|s| s.generation_tokens_per_s.unwrap() * seconds(s))
        .sum();
    let prompted: f64 = windows
        .values()
        .map(|s| s.prompt_tokens_per_s.unwrap() * seconds(s))
        .sum();
    let total_output: f64 = requests.iter().map(|r| f64::from(r.output_tokens)).sum();
    let total_prompt: f64 = requests.iter().map(|r| f64::from(r.prompt_tokens)).sum();
    let n = requests.len() as f64;
    // The windows tile each pod's scraped lifetime: most of the trace is in them.
    assert!(
        finished > 0.6 * n && finished <= n,
        "{finished} of {n} requests"
    );
    assert!(generated > 0.5 * total_output && generated <= total_output);
    assert!(prompted > 0.5 * total_prompt && prompted <= total_prompt);
    let mut latencies = 0;
    for sample in windows.values() {
        assert!(sample.requests_per_s.unwrap() >= 0.0);
        for window in [sample.ttft.unwrap(), sample.itl.unwrap()] {
            assert!(window.p50_s <= window.p90_s && window.p90_s <= window.p99_s);
            if window.count > 0.0 {
                latencies += 1;
                assert!(window.mean_s > 0.0 && window.p99_s > 0.0);
            }
        }
        // Decode runs at tens of ms per token on an H100 for an 8B model.
        let itl = sample.itl.unwrap();
        if itl.count > 0.0 {
            assert!(itl.mean_s > 0.001 && itl.mean_s < 1.0, "{itl:?}");
        }
    }
    assert!(latencies > 10);
}
