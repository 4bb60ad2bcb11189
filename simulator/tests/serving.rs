//! Behaviour of the serving model: the fast path agrees with the step-by-step
//! reference, runs are deterministic, KV accounting holds under pressure.

use proptest::prelude::*;
use rand::RngExt;
use simulator::perf::kv_capacity_blocks;
use simulator::rng::{Component, stream};
use simulator::{
    Catalog, Replica, Routing, ServingConfig, SimConfig, SimOutput, Simulation, StepCostModel,
    StepMode,
};
use traces::request::Request;

#[derive(Debug, Clone)]
struct Setup {
    seed: u64,
    requests: usize,
    rate_rps: f64,
    max_prompt: u32,
    max_output: u32,
    replicas: usize,
    kv_blocks: u64,
    max_num_seqs: u32,
    max_num_batched_tokens: u32,
    prefix_caching: bool,
    reserve_full: bool,
    /// Requests draw their prompt prefix from this many shared prefixes (0: no hashes).
    prefix_groups: u64,
}

/// Tokens per prefix hash in these tests.
const UNIT_TOKENS: u32 = 64;

fn load(setup: &Setup) -> Vec<Request> {
    let mut rng = stream(setup.seed, Component::Load, 0);
    let mut time_us = 0i64;
    (0..setup.requests)
        .map(|_| {
            let gap: f64 = rng.random();
            time_us += (-(1.0 - gap).ln() / setup.rate_rps * 1e6) as i64;
            let prompt_tokens = rng.random_range(1..=setup.max_prompt);
            let prefix_blocks = if setup.prefix_groups == 0 {
                Vec::new()
            } else {
                let group = rng.random_range(0..setup.prefix_groups);
                // Shared units first, then units unique to this request.
                let shared = rng.random_range(0..=prompt_tokens.div_ceil(UNIT_TOKENS));
                let unique: u64 = rng.random();
                (0..prompt_tokens.div_ceil(UNIT_TOKENS))
                    .map(|unit| {
                        if unit < shared {
                            group * 1_000_000 + u64::from(unit)
                        } else {
                            unique ^ u64::from(unit)
                        }
                    })
                    .collect()
            };
            Request {
                arrival_us: time_us,
                prompt_tokens,
                output_tokens: rng.random_range(1..=setup.max_output),
                prefix_blocks,
                tenant: None,
                model: None,
                priority: None,
                failed: false,
            }
        })
        .collect()
}

fn simulate(setup: &Setup, mode: StepMode) -> SimOutput {
    let catalog = Catalog::builtin();
    let cost: simulator::perf::SharedStepModel = std::sync::Arc::new(StepCostModel::new(
        catalog.gpu("rtx-4090").unwrap(),
        catalog.model("llama-3.1-8b").unwrap(),
        &catalog.defaults,
        simulator::perf::Parallelism::tensor(1),
    ));
    let config = ServingConfig {
        max_num_seqs: setup.max_num_seqs,
        max_num_batched_tokens: setup.max_num_batched_tokens,
        block_size: 16,
        num_gpu_blocks: setup.kv_blocks,
        enable_prefix_caching: setup.prefix_caching,
        prefix_block_tokens: UNIT_TOKENS,
        reserve_full_sequence: setup.reserve_full,
        watermark_blocks: 0,
    };
    let replicas = (0..setup.replicas)
        .map(|_| Replica::new(config.clone(), cost.clone(), mode))
        .collect();
    let sim_config = SimConfig {
        routing: Routing::LeastOutstanding,
        sample_interval_us: Some(250_000),
        check_invariants: true,
    };
    Simulation::new(replicas, sim_config).run(&load(setup))
}

fn tight() -> Setup {
    Setup {
        seed: 7,
        requests: 150,
        rate_rps: 20.0,
        max_prompt: 1500,
        max_output: 600,
        replicas: 1,
        kv_blocks: 600,
        max_num_seqs: 64,
        max_num_batched_tokens: 1024,
        prefix_caching: true,
        reserve_full: true,
        prefix_groups: 0,
    }
}

#[test]
fn fast_path_equals_reference_under_kv_pressure() {
    let setup = tight();
    let fast = simulate(&setup, StepMode::Fast);
    let reference = simulate(&setup, StepMode::Reference);
    assert!(
        fast.preemptions > 10,
        "the setup must exercise preemption, got {}",
        fast.preemptions
    );
    assert!(
        fast.events * 5 < reference.events,
        "fast {} events vs reference {}",
        fast.events,
        reference.events
    );
    assert_eq!(fast.requests, reference.requests);
    assert_eq!(fast.samples, reference.samples);
    assert_eq!(fast.steps, reference.steps);
}

#[test]
fn shared_prefixes_hit_the_cache_and_match_the_reference() {
    let setup = Setup {
        prefix_groups: 3,
        ..tight()
    };
    let fast = simulate(&setup, StepMode::Fast);
    let reference = simulate(&setup, StepMode::Reference);
    assert_eq!(fast.requests, reference.requests);
    assert_eq!(fast.samples, reference.samples);
    let without = simulate(
        &Setup {
            prefix_caching: false,
            ..setup.clone()
        },
        StepMode::Fast,
    );
    let mean_ttft = |output: &SimOutput| {
        let values: Vec<f64> = output
            .requests
            .iter()
            .filter_map(|outcome| outcome.ttft_s())
            .collect();
        values.iter().sum::<f64>() / values.len() as f64
    };
    assert!(
        mean_ttft(&fast) < mean_ttft(&without),
        "{} vs {}",
        mean_ttft(&fast),
        mean_ttft(&without)
    );
}

#[test]
fn every_request_completes_and_latencies_are_ordered() {
    let output = simulate(&tight(), StepMode::Fast);
    for outcome in &output.requests {
        let (scheduled, first, last) = (
            outcome.scheduled_us.unwrap(),
            outcome.first_token_us.unwrap(),
            outcome.last_token_us.unwrap(),
        );
        assert!(
            outcome.arrival_us <= scheduled && scheduled < first && first <= last,
            "{outcome:?}"
        );
    }
}

#[test]
fn same_inputs_give_identical_bytes() {
    let setup = Setup {
        replicas: 3,
        requests: 300,
        rate_rps: 40.0,
        ..tight()
    };
    let first = serde_json::to_vec(&simulate(&setup, StepMode::Fast)).unwrap();
    let second = serde_json::to_vec(&simulate(&setup, StepMode::Fast)).unwrap();
    assert_eq!(first, second);
}

#[test]
fn request_larger_than_the_pool_is_rejected_not_stuck() {
    let setup = Setup {
        requests: 20,
        max_prompt: 4000,
        max_output: 100,
        kv_blocks: 200,
        ..tight()
    };
    let output = simulate(&setup, StepMode::Fast);
    let rejected = output
        .requests
        .iter()
        .filter(|outcome| outcome.rejected)
        .count();
    assert!(rejected > 0);
    for outcome in output.requests.iter().filter(|outcome| !outcome.rejected) {
        assert!(outcome.last_token_us.is_some());
    }
}

#[test]
fn kv_series_stays_within_capacity() {
    let output = simulate(&tight(), StepMode::Fast);
    assert!(
        output
            .samples
            .iter()
            .any(|sample| sample.kv_cache_pct > 90.0),
        "load should fill the pool"
    );
    assert!(
        output
            .samples
            .iter()
            .all(|sample| (0.0..=100.0).contains(&sample.kv_cache_pct))
    );
}

#[test]
fn estimated_capacity_serves_a_light_load_without_preemption() {
    let catalog = Catalog::builtin();
    let blocks = kv_capacity_blocks(
        catalog.gpu("h100-80gb").unwrap(),
        catalog.model("llama-3.1-8b").unwrap(),
        simulator::perf::Parallelism::tensor(1),
        0.9,
        16,
    );
    let setup = Setup {
        kv_blocks: blocks,
        max_num_seqs: 256,
        max_num_batched_tokens: 8192,
        rate_rps: 2.0,
        ..tight()
    };
    let output = simulate(&setup, StepMode::Fast);
    assert_eq!(output.preemptions, 0);
    let ttft: Vec<f64> = output
        .requests
        .iter()
        .filter_map(|outcome| outcome.ttft_s())
        .collect();
    assert!(
        ttft.iter().all(|&value| value < 1.0),
        "idle-ish replica, TTFT must be short"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_equals_reference_for_random_setups(
        seed in 0u64..1_000,
        requests in 1usize..60,
        rate_rps in 1.0f64..60.0,
        max_prompt in 1u32..3000,
        max_output in 1u32..400,
        replicas in 1usize..3,
        kv_blocks in 300u64..2000,
        max_num_seqs in 1u32..48,
        max_num_batched_tokens in 16u32..2048,
        prefix_caching: bool,
        reserve_full: bool,
        prefix_groups in 0u64..4,
    ) {
        let setup = Setup {
            seed, requests, rate_rps, max_prompt, max_output, replicas, kv_blocks,
            max_num_seqs, max_num_batched_tokens, prefix_caching, reserve_full, prefix_groups,
        };
        let fast = simulate(&setup, StepMode::Fast);
        let reference = simulate(&setup, StepMode::Reference);
        prop_assert_eq!(&fast.requests, &reference.requests);
        prop_assert_eq!(&fast.samples, &reference.samples);
    }
}
