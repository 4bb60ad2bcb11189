//! The stateful observer on the fleet: HPA and KPA decide exactly as before (their
//! gauge manifests read nothing windowed), and a BudScaler run sees per-pod serving
//! samples with plausible token rates.

mod common;

use simulator::Catalog;
use simulator::fleet::{FleetConfig, RunResult, Slo, run};
use simulator::output::write_decisions;
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
