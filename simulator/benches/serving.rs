//! Requests simulated per second on an Azure-conversation-shaped load scaled 20x
//! (about 108 req/s) over 50 H100 replicas serving Llama-3.1-8B (the roofline step
//! model), and the same load over 50 RTX 4090 replicas on the shared operator profile
//! (the profile step model; skipped with a message without `../shared`).
//!
//! The load is synthetic but shaped like the Azure LLM inference trace 2023 (conv):
//! Poisson arrivals, log-normal prompt lengths (median 1,020, mean 1,155 tokens) and
//! output lengths (median 129, mean 211 tokens), from a seeded ChaCha8 stream.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal};
use simulator::perf::{Parallelism, kv_capacity_blocks};
use simulator::rng::{Component, stream};
use simulator::{Catalog, Replica, ServingConfig, SimConfig, Simulation, StepCostModel, StepMode};
use std::hint::black_box;
use traces::request::Request;

const RATE_RPS: f64 = 5.4 * 20.0;
const DURATION_S: f64 = 600.0;
const REPLICAS: usize = 50;

fn azure_conv_like(seed: u64) -> Vec<Request> {
    let mut rng = stream(seed, Component::Load, 0);
    let gaps = Exp::new(RATE_RPS).expect("positive rate");
    let prompts = LogNormal::new(1020f64.ln(), 0.50).expect("valid");
    let outputs = LogNormal::new(129f64.ln(), 0.99).expect("valid");
    let mut requests = Vec::new();
    let mut time_s = 0.0;
    loop {
        time_s += gaps.sample(&mut rng);
        if time_s >= DURATION_S {
            return requests;
        }
        let jitter: f64 = rng.random();
        requests.push(Request {
            arrival_us: (time_s * 1e6 + jitter) as i64,
            prompt_tokens: (prompts.sample(&mut rng).round() as u32).clamp(1, 8192),
            output_tokens: (outputs.sample(&mut rng).round() as u32).clamp(1, 2048),
            prefix_blocks: Vec::new(),
            tenant: None,
            model: None,
            priority: None,
            failed: false,
        });
    }
}

fn fleet() -> Vec<Replica> {
    let catalog = Catalog::builtin();
    let gpu = catalog.gpu("h100-80gb").expect("builtin");
    let model = catalog.model("llama-3.1-8b").expect("builtin");
    let cost: simulator::perf::SharedStepModel = std::sync::Arc::new(StepCostModel::new(
        gpu,
        model,
        &catalog.defaults,
        Parallelism::tensor(1),
    ));
    replicas(gpu, model, cost)
}

/// The shared RTX 4090 operator profile, loaded once, when it is there.
fn rtx4090_profile() -> Option<simulator::perf::SharedStepModel> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/gpu-profiles/RTX4090/meta-llama/Llama-3.1-8B/bf16");
    if !dir.join("meta.yaml").exists() {
        eprintln!("skipping the profile bench: {} not found", dir.display());
        return None;
    }
    let catalog = Catalog::builtin();
    let gpu = catalog.gpu("rtx-4090").expect("builtin");
    let model = catalog.model("llama-3.1-8b").expect("builtin");
    let profile = simulator::perf::profile::ProfileModel::load(
        &dir,
        gpu,
        model,
        Parallelism::tensor(1),
        &catalog.defaults,
    )
    .expect("the shared profile loads");
    Some(std::sync::Arc::new(profile))
}

fn replicas(
    gpu: &simulator::catalog::GpuSpec,
    model: &simulator::catalog::ModelSpec,
    cost: simulator::perf::SharedStepModel,
) -> Vec<Replica> {
    let config = ServingConfig {
        max_num_seqs: 256,
        max_num_batched_tokens: 8192,
        block_size: 16,
        num_gpu_blocks: kv_capacity_blocks(gpu, model, Parallelism::tensor(1), 0.9, 16),
        enable_prefix_caching: true,
        prefix_block_tokens: 512,
        reserve_full_sequence: true,
        watermark_blocks: 0,
    };
    (0..REPLICAS)
        .map(|_| Replica::new(config.clone(), cost.clone(), StepMode::Fast))
        .collect()
}

fn serving(c: &mut Criterion) {
    let requests = azure_conv_like(42);
    let mut group = c.benchmark_group("serving");
    group.sample_size(10);
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function("azure_conv_x20_50_replicas", |b| {
        b.iter(|| {
            let mut simulation = Simulation::new(
                fleet(),
                SimConfig {
                    sample_interval_us: None,
                    ..SimConfig::default()
                },
            );
            black_box(simulation.run(black_box(&requests)))
        })
    });
    if let Some(profile) = rtx4090_profile() {
        let catalog = Catalog::builtin();
        let gpu = catalog.gpu("rtx-4090").expect("builtin");
        let model = catalog.model("llama-3.1-8b").expect("builtin");
        group.bench_function("azure_conv_x20_50_replicas_rtx4090_profile", |b| {
            b.iter(|| {
                let mut simulation = Simulation::new(
                    replicas(gpu, model, profile.clone()),
                    SimConfig {
                        sample_interval_us: None,
                        ..SimConfig::default()
                    },
                );
                black_box(simulation.run(black_box(&requests)))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, serving);
criterion_main!(benches);
