//! `budscaler validate-recording DIR`: replays a recorded real vLLM run in the simulator
//! and compares latencies and the per-second series (CONTRACTS.md).
//!
//! Exit codes: 0 when every latency metric is within `--threshold` percent, 1 when one
//! is not, 2 when the recording or the catalog cannot be read.

use super::OutputFormat;
use anyhow::Context;
use simulator::Catalog;
use simulator::validate::{ValidateOptions, ValidationReport, validate};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  budscaler validate-recording ../shared/data/vllm-recordings/rtx4090-llama-3.1-8b --format json"
)]
pub struct Args {
    /// Recording folder with requests.jsonl, timeseries.csv and meta.json.
    dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// GPU catalog name, when meta.json does not name the device (or to override it).
    #[arg(long)]
    gpu: Option<String>,
    /// Model catalog name, when meta.json does not name the model (or to override it).
    #[arg(long)]
    model: Option<String>,
    /// Tensor-parallel size, overriding meta.json.
    #[arg(long)]
    tensor_parallel: Option<u32>,
    /// Data-parallel size (engine ranks, each replayed as a replica), overriding
    /// meta.json.
    #[arg(long)]
    data_parallel: Option<u32>,
    /// Whether an MoE model's experts are split between the GPUs
    /// (`enable_expert_parallel`), overriding meta.json.
    #[arg(long, value_name = "true|false")]
    expert_parallel: Option<bool>,
    /// Largest allowed absolute error of any latency metric, percent.
    #[arg(long, default_value_t = 10.0)]
    threshold: f64,
    /// Extra GPU/model catalog (YAML with `gpus:` / `models:` / `defaults:`).
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Estimate KV capacity from the catalog even when meta.json records num_gpu_blocks.
    #[arg(long)]
    estimate_kv_blocks: bool,
    /// Simulate every engine step as its own event (slow; for checking the fast path).
    #[arg(long)]
    reference: bool,
    /// An operator profile folder (`meta.yaml` and `tp<N>/`, the layout of
    /// data/gpu-profiles/): step times come from it instead of the roofline.
    #[arg(long, value_name = "PROFILE_DIR")]
    profile: Option<PathBuf>,
    /// A tree of operator profiles (e.g. LLMServingSim's profiler/perf/): the one whose
    /// meta.yaml names the recording's GPU, model and dtype is used.
    #[arg(long, value_name = "ROOT", conflicts_with = "profile")]
    profile_root: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.threshold.is_finite() && args.threshold >= 0.0,
        "--threshold: expected a non-negative percentage, found {}",
        args.threshold
    );
    let recording = traces::vllm_recording::read_recording(&args.dir)
        .with_context(|| format!("reading recording {}", args.dir.display()))?;
    let mut catalog = Catalog::builtin();
    if let Some(path) = &args.catalog {
        catalog.extend_from_file(path)?;
    }
    let options = ValidateOptions {
        gpu: args.gpu.clone(),
        model: args.model.clone(),
        tensor_parallel: args.tensor_parallel,
        data_parallel: args.data_parallel,
        expert_parallel: args.expert_parallel,
        estimate_kv_blocks: args.estimate_kv_blocks,
        reference_mode: args.reference,
        profile: args.profile.clone(),
        profile_root: args.profile_root.clone(),
    };
    let name = args.dir.display().to_string();
    let (report, _) = validate(&recording, &name, &catalog, &options)
        .with_context(|| format!("replaying {name}"))?;
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Text => print_text(&report, args.threshold),
    }
    let within = report
        .metrics
        .entries()
        .iter()
        .all(|(_, comparison)| comparison.error_pct.abs() <= args.threshold);
    Ok(if within {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_CHECK_FAILED)
    })
}

fn print_text(report: &ValidationReport, threshold: f64) {
    let setup = &report.setup;
    println!(
        "{}: {} requests replayed on {} rank(s){} of {} x{} serving {}, {} KV blocks per rank ({}; catalog estimate {})",
        report.recording,
        report.requests,
        setup.data_parallel,
        if setup.expert_parallel {
            " with expert parallelism"
        } else {
            ""
        },
        setup.gpu,
        setup.tensor_parallel,
        setup.model,
        setup.kv_blocks,
        setup.kv_blocks_source,
        setup.kv_blocks_estimated,
    );
    match &setup.profile_fit {
        Some(fit) => println!(
            "step model: profile {}(attention fit over {} rows: mean error {:.1} %, p90 {:.1} %; decode rows {:.1} / {:.1} %, prefill {:.1} / {:.1} %, both {:.1} / {:.1} %)",
            setup
                .profile
                .as_deref()
                .map(|dir| format!("{dir} "))
                .unwrap_or_default(),
            fit.attention_rows,
            fit.attention_mean_error * 100.0,
            fit.attention_p90_error * 100.0,
            fit.decode.mean * 100.0,
            fit.decode.p90 * 100.0,
            fit.prefill.mean * 100.0,
            fit.prefill.p90 * 100.0,
            fit.mixed.mean * 100.0,
            fit.mixed.p90 * 100.0
        ),
        None => println!("step model: {}", setup.step_model),
    }
    println!(
        "{:<14} {:>12} {:>12} {:>9}",
        "metric", "real", "sim", "error"
    );
    let mut beyond = Vec::new();
    for (name, comparison) in report.metrics.entries() {
        let flag = if comparison.error_pct.abs() <= threshold {
            ""
        } else {
            "  <-"
        };
        if !flag.is_empty() {
            beyond.push(name);
        }
        println!(
            "{name:<14} {:>12.4} {:>12.4} {:>+8.1}%{flag}",
            comparison.real, comparison.sim, comparison.error_pct
        );
    }
    let series = &report.timeseries;
    println!(
        "series MAE: running {:.2}, waiting {:.2}, kv_cache_pct {:.2} points",
        series.running_mae, series.waiting_mae, series.kv_cache_pct_mae
    );
    println!(
        "simulated {} engine steps in {} events, {} preemptions",
        setup.sim_steps, setup.sim_events, setup.sim_preemptions
    );
    if beyond.is_empty() {
        println!("all latency metrics within {threshold}%");
    } else {
        println!(
            "FAILED: {} beyond {threshold}%: {}",
            beyond.len(),
            beyond.join(", ")
        );
    }
}
