//! Per-replica capacity at the SLO for the default fleet (H100 80 GB, Llama 3.1 8B) on
//! the Azure conversation token mix, checked against a roofline bound.

use simulator::Catalog;
use simulator::Replica;
use simulator::fleet::FleetConfig;
use simulator::oracle::capacity::{SearchOptions, Target, measure};
use simulator::oracle::prototype_replica;
use traces::generate::{GenerateConfig, Pattern, TokenModel, generate};

/// The default fleet's replica: H100 80 GB serving Llama-3.1-8B.
fn h100_llama() -> Replica {
    prototype_replica(&Catalog::builtin(), &FleetConfig::default()).unwrap()
}

#[test]
fn h100_llama_8b_capacity_on_the_azure_mix_is_below_the_compute_roofline() {
    let requests: Vec<_> = generate(&GenerateConfig {
        pattern: Pattern::Poisson,
        duration_us: 600_000_000,
        rate_rps: 5.0,
        seed: 11,
        tokens: TokenModel::azure_conv(),
    })
    .unwrap()
    .collect();
    let target = Target {
        ttft_s: 2.0,
        tpot_s: 0.1,
        attainment: 0.99,
    };
    let options = SearchOptions {
        sample: 6_000,
        horizon_s: 300.0,
        max_requests: 6_000,
        tolerance: 0.02,
    };
    let capacity = measure(&h100_llama(), &requests, &target, &options, 3).unwrap();
    eprintln!("H100 + Llama 3.1 8B, Azure conv mix, TTFT 2 s / TPOT 0.1 s @ 99 %: {capacity:?}");
    // Compute roofline: every prompt and output token costs 2 x 7.5e9 FLOPs at 70 % of
    // 989 TFLOP/s; the mean request has about 1,155 + 211 tokens.
    let mean_tokens = requests
        .iter()
        .map(|r| f64::from(r.prompt_tokens + r.output_tokens))
        .sum::<f64>()
        / requests.len() as f64;
    let roofline_rps = 0.7 * 989e12 / (2.0 * 7.5e9 * mean_tokens);
    assert!(
        capacity.rate_rps < roofline_rps,
        "{} >= roofline {roofline_rps}",
        capacity.rate_rps
    );
    assert!(capacity.rate_rps > 0.2 * roofline_rps, "{capacity:?}");
    assert!(capacity.attainment >= 0.99);
    assert!(capacity.feasible_share > 0.99);
}
