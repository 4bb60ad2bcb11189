//! `budscaler simulate SCENARIO.yaml --out DIR`: replays the scenario's trace once per
//! scaler (in parallel, results in scenario order) and writes the output folder of
//! CONTRACTS.md; a scenario whose trace is a series in `open_loop` mode is replayed to
//! the scalers without a serving model instead (see `simulator::open_loop`).
//!
//! Runs stream: each scaler reads the trace itself, pulling requests as its clock
//! reaches them, and spools its request records into the output folder, so memory is
//! bounded by the requests in flight, not by the trace (the oracle too: it streams the
//! trace once per planning pass, see `simulator::oracle`).
//!
//! Exit codes: 0 success, 2 bad scenario or unwritable output (the message names the
//! file, line or field).

use super::OutputFormat;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use simulator::open_loop::{self, OpenLoopSummary};
use simulator::output::{self, RunRecorder, RunSummary, StreamedRun, Summary};
use simulator::scenario::{self, ScalerChoice, Scenario};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario YAML (paths inside it are relative to it).
    scenario: PathBuf,
    /// Output folder, created if missing; existing files of the same names are replaced.
    #[arg(long)]
    out: PathBuf,
    /// Seed overriding the scenario's (and its generated trace's, unless fixed there).
    #[arg(long)]
    seed: Option<u64>,
    /// Print nothing on success and show no progress bar.
    #[arg(long)]
    quiet: bool,
    /// `text` prints a table of the runs; `json` prints summary.json on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let scenario = scenario::load(&args.scenario, args.seed)?;
    if scenario.is_open_loop() {
        return run_open_loop(&args, &scenario, started);
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let progress = progress_bar(&args, scenario.scalers.len());
    // The oracle's runs first: it replays the trace several times, so started last it
    // would be the whole command's tail. Results go back into scenario order.
    let mut order: Vec<usize> = (0..scenario.scalers.len()).collect();
    order.sort_by_key(|&index| !matches!(scenario.scalers[index], ScalerChoice::Oracle { .. }));
    let mut runs: Vec<(usize, anyhow::Result<(StreamedRun, u64)>)> = order
        .into_par_iter()
        .map(|index| {
            let run = run_one(&scenario, &args.out, index);
            progress.inc(1);
            (index, run)
        })
        .collect();
    runs.sort_by_key(|(index, _)| *index);
    let runs = runs
        .into_iter()
        .map(|(_, run)| run)
        .collect::<anyhow::Result<Vec<(StreamedRun, u64)>>>();
    progress.finish_and_clear();
    let runs = match runs {
        Ok(runs) => runs,
        Err(error) => {
            output::remove_spools(&args.out, scenario.scalers.len());
            return Err(error);
        }
    };
    let trace_requests = runs.first().map_or(0, |(_, requests)| *requests);
    let runs: Vec<StreamedRun> = runs.into_iter().map(|(run, _)| run).collect();
    let wall_s = started.elapsed().as_secs_f64();
    let summaries = runs
        .iter()
        .map(|run| RunSummary::of_stats(&run.run.result, &run.recorded.stats, run.run.note.clone()))
        .collect();
    let summary = Summary::of_summaries(
        &scenario.name,
        scenario.seed,
        trace_requests,
        &scenario.slo,
        summaries,
        wall_s,
    );
    output::write_streamed_folder(&args.out, &summary, runs, &scenario.slo)?;
    if !args.quiet {
        match args.format {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
            OutputFormat::Text => print_table(&summary, &args.out),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Streams scaler `index`'s run into a recorder spooling into `out`; returns it with
/// the number of requests read.
fn run_one(scenario: &Scenario, out: &Path, index: usize) -> anyhow::Result<(StreamedRun, u64)> {
    let mut recorder = RunRecorder::create(out, index, &scenario.slo)?;
    let (run, stats) = scenario::run_streamed(scenario, index, &mut recorder)?;
    let recorded = recorder.finish()?;
    Ok((StreamedRun { run, recorded }, stats.requests))
}

fn run_open_loop(args: &Args, scenario: &Scenario, started: Instant) -> anyhow::Result<ExitCode> {
    let recording = open_loop::read_recording(scenario)?;
    let runs = open_loop::run(scenario, &recording)?;
    let summary = OpenLoopSummary::of(scenario, &recording, &runs, started.elapsed().as_secs_f64());
    open_loop::write_folder(&args.out, &summary, &runs)
        .with_context(|| format!("writing {}", args.out.display()))?;
    if !args.quiet {
        match args.format {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
            OutputFormat::Text => print_open_loop(&summary, &args.out),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A bar over scalers on a terminal; hidden when piped or with `--quiet`.
fn progress_bar(args: &Args, scalers: usize) -> ProgressBar {
    if args.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(scalers as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("simulating {bar:30} {pos}/{len} scalers, {elapsed}")
    {
        bar.set_style(style);
    }
    bar.tick();
    bar
}

fn print_table(summary: &Summary, out: &Path) {
    println!(
        "{}: {} requests, SLO TTFT <= {} s, TPOT <= {} s",
        summary.scenario, summary.trace_requests, summary.slo.ttft_s, summary.slo.tpot_s
    );
    println!(
        "{:<16} {:<10} {:>9} {:>9} {:>10} {:>10}",
        "scaler", "strategy", "SLO att.", "GPU-h", "cost $", "p90 TTFT s"
    );
    for run in &summary.runs {
        let p90 = run
            .ttft_s
            .map_or_else(|| "-".to_string(), |ttft| format!("{:.3}", ttft.p90));
        println!(
            "{:<16} {:<10} {:>8.2}% {:>9.2} {:>10.2} {:>10}",
            run.scaler,
            run.strategy,
            100.0 * run.slo_attainment,
            run.gpu_hours,
            run.cost_usd,
            p90
        );
        if let Some(note) = &run.note {
            println!("  note: {note}");
        }
    }
    println!("wrote {} in {:.1} s", out.display(), summary.wall_s);
}

fn print_open_loop(summary: &OpenLoopSummary, out: &Path) {
    println!(
        "{}: open loop on {} ({} scrapes, {}-{} replicas recorded)",
        summary.scenario,
        summary.series,
        summary.scrapes,
        summary.recorded_replicas.min,
        summary.recorded_replicas.max
    );
    println!(
        "{:<16} {:<10} {:>9} {:>12} {:>6} {:>6} {:>11}",
        "scaler", "strategy", "decisions", "scale events", "peak", "mean", "would scale"
    );
    for run in &summary.runs {
        println!(
            "{:<16} {:<10} {:>9} {:>12} {:>6} {:>6.2} {:>11}",
            run.scaler,
            run.strategy,
            run.decisions,
            run.scale_events,
            run.peak_replicas,
            run.mean_replicas,
            run.would_scale
        );
    }
    println!("wrote {} in {:.1} s", out.display(), summary.wall_s);
}
