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
#[command(
    after_help = "Example:\n  budscaler simulate scenarios/default.yaml --out out/default\n  budscaler compare scenarios/default.yaml --out out/default   # plus report.html and charts/"
)]
pub struct Args {
    /// Scenario YAML (paths inside it are relative to it).
    pub scenario: PathBuf,
    /// Output folder, created if missing; existing files of the same names are replaced.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed overriding the scenario's (and its generated trace's, unless fixed there).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print nothing on success and show no progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// `text` prints a table of the runs; `json` prints summary.json on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(replay) = scenario::load_observation_scenario(&args.scenario)? {
        return replay_observations(&args, &replay);
    }
    let Some(summary) = simulate(&args, "simulating")? else {
        return Ok(ExitCode::SUCCESS);
    };
    if !args.quiet {
        match args.format {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
            OutputFormat::Text => {
                print!("{}", reports::table::runs_table(&summary));
                println!("wrote {} in {:.1} s", args.out.display(), summary.wall_s);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A scenario whose trace is an observation log: its observations replayed into the
/// engine (nothing simulated); exit 1 naming the first line whose decision differs,
/// else `decisions.jsonl` (the replayed decisions) and `summary.json` in the folder.
fn replay_observations(
    args: &Args,
    replay: &scenario::ObservationScenario,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&replay.log).with_context(|| {
        format!(
            "{}: trace.observations: cannot read {}",
            replay.file.display(),
            replay.log.display()
        )
    })?;
    let replayed = match control::log::replay(&text) {
        Ok(replayed) => replayed,
        Err(error @ control::log::ReplayError::Mismatch { .. }) => {
            eprintln!("{}: {error}", replay.log.display());
            return Ok(ExitCode::from(super::EXIT_CHECK_FAILED));
        }
        Err(error) => anyhow::bail!("{}: {error}", replay.log.display()),
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let decisions_path = args.out.join("decisions.jsonl");
    let mut decisions = std::io::BufWriter::new(
        std::fs::File::create(&decisions_path)
            .with_context(|| format!("cannot write {}", decisions_path.display()))?,
    );
    control::write_decisions(&mut decisions, &replayed.decisions)
        .and_then(|()| std::io::Write::flush(&mut decisions))
        .with_context(|| format!("cannot write {}", decisions_path.display()))?;
    let summary = serde_json::json!({
        "scenario": replay.name,
        "source": "observations",
        "log": replay.log.display().to_string(),
        "identical": true,
        "scalers": replayed
            .scalers
            .iter()
            .map(|(name, ticks)| serde_json::json!({"name": name, "decisions": ticks}))
            .collect::<Vec<_>>(),
    });
    let summary_text = serde_json::to_string_pretty(&summary)? + "\n";
    std::fs::write(args.out.join("summary.json"), &summary_text)
        .with_context(|| format!("cannot write {}", args.out.join("summary.json").display()))?;
    if !args.quiet {
        match args.format {
            OutputFormat::Json => print!("{summary_text}"),
            OutputFormat::Text => {
                for (scaler, ticks) in &replayed.scalers {
                    println!("{scaler}: {ticks} decisions replayed, identical to the log");
                }
                println!("wrote {}", args.out.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The run path `simulate` and `compare` share: every scaler of the scenario in
/// parallel, then the output folder (with `scenario.yaml` and `scalers/`). Returns the
/// summary, or `None` for an open-loop scenario (whose own folder and table are
/// written and printed here).
pub fn simulate(args: &Args, verb: &str) -> anyhow::Result<Option<Summary>> {
    let started = Instant::now();
    if scenario::load_observation_scenario(&args.scenario)?.is_some() {
        anyhow::bail!(
            "{}: trace.observations replays an observation log into the engine; run it with `budscaler simulate`",
            args.scenario.display()
        );
    }
    let scenario = scenario::load(&args.scenario, args.seed)?;
    if scenario.is_open_loop() {
        run_open_loop(args, &scenario, started)?;
        return Ok(None);
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let progress = progress_bar(args, verb, scenario.scalers.len());
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
    output::write_described(&args.out, &scenario)?;
    Ok(Some(summary))
}

/// Streams scaler `index`'s run into a recorder spooling into `out`; returns it with
/// the number of requests read.
fn run_one(scenario: &Scenario, out: &Path, index: usize) -> anyhow::Result<(StreamedRun, u64)> {
    let mut recorder = RunRecorder::create(out, index, &scenario.slo)?;
    let (run, stats) = scenario::run_streamed(scenario, index, &mut recorder)?;
    let recorded = recorder.finish()?;
    Ok((StreamedRun { run, recorded }, stats.requests))
}

fn run_open_loop(args: &Args, scenario: &Scenario, started: Instant) -> anyhow::Result<()> {
    let recording = open_loop::read_recording(scenario)?;
    let runs = open_loop::run(scenario, &recording)?;
    let summary = OpenLoopSummary::of(scenario, &recording, &runs, started.elapsed().as_secs_f64());
    open_loop::write_folder(&args.out, &summary, &runs)
        .with_context(|| format!("writing {}", args.out.display()))?;
    if !args.quiet {
        match args.format {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
            OutputFormat::Text => {
                print!("{}", reports::table::open_loop_table(&summary));
                println!("wrote {} in {:.1} s", args.out.display(), summary.wall_s);
            }
        }
    }
    Ok(())
}

/// A bar over scalers on a terminal; hidden when piped or with `--quiet`.
fn progress_bar(args: &Args, verb: &str, scalers: usize) -> ProgressBar {
    if args.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(scalers as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{verb} {{bar:30}} {{pos}}/{{len}} scalers, {{elapsed}}"
    )) {
        bar.set_style(style);
    }
    bar.tick();
    bar
}
