//! `budscaler sweep SCENARIO.yaml --out DIR [--shard I/N]` runs the scenario's `sweep:`
//! grid (see `simulator::sweep`); `budscaler sweep merge DIR... --out DIR` joins shards.
//! A whole (or merged) sweep writes `DIR/sweep.json`, `DIR/sweep.parquet`,
//! `DIR/charts/sweep-pareto.png` and `DIR/report.html` and prints the table; a shard
//! writes its `sweep.json` only.
//!
//! Exit codes: 0 success, 2 a bad scenario, grid point or shard (the message names the
//! point and the path), or shards that do not belong together.

use super::OutputFormat;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use simulator::output::{RequestStats, RunSummary, write_table};
use simulator::scenario;
use simulator::sweep::{self, Row, Shard, SweepFile};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  budscaler sweep scenarios/sweep-default.yaml --out out/sweep\n  budscaler sweep scenarios/sweep-default.yaml --out out/s0 --shard 0/2\n  budscaler sweep scenarios/sweep-default.yaml --out out/s1 --shard 1/2\n  budscaler sweep merge out/s0 out/s1 --out out/sweep"
)]
pub struct Args {
    #[command(subcommand)]
    command: Option<SweepCommand>,
    /// Scenario YAML with a `sweep:` key.
    #[arg(required = true)]
    scenario: Option<PathBuf>,
    /// Output folder, created if missing.
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// Run only this slice of the points: I/N runs the points whose index is I modulo N
    /// (references in shard 0).
    #[arg(long)]
    shard: Option<String>,
    /// Seed overriding the scenario's.
    #[arg(long)]
    seed: Option<u64>,
    /// Print nothing on success and show no progress bar.
    #[arg(long)]
    quiet: bool,
    /// `text` prints the table; `json` prints sweep.json.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
}

#[derive(Debug, clap::Subcommand)]
enum SweepCommand {
    /// Join shards of one sweep into DIR (refuses shards of different scenarios, grids or seeds).
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  budscaler sweep merge out/s0 out/s1 out/s2 out/s3 --out out/sweep"
)]
struct MergeArgs {
    /// The shards' output folders.
    #[arg(required = true, num_args = 1..)]
    dirs: Vec<PathBuf>,
    /// Output folder for the merged sweep.
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    quiet: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(SweepCommand::Merge(merge)) = args.command {
        return run_merge(merge);
    }
    let (Some(scenario_path), Some(out)) = (args.scenario.clone(), args.out.clone()) else {
        anyhow::bail!("sweep needs SCENARIO and --out DIR (or `sweep merge DIR... --out DIR`)");
    };
    let shard = match &args.shard {
        Some(text) => Shard::parse(text).map_err(anyhow::Error::msg)?,
        None => Shard::ALL,
    };
    let scenario = scenario::load(&scenario_path, args.seed)?;
    // Every point is built and validated before anything runs.
    let points = sweep::points(&scenario)?;
    let Some(grid) = scenario.sweep.clone() else {
        unreachable!("points() requires a sweep")
    };
    let runnable = sweep::shard_scenario(&scenario, &points, shard)?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let progress = progress_bar(args.quiet, runnable.scalers.len());
    let mut runs: Vec<(usize, anyhow::Result<RunSummary>)> = (0..runnable.scalers.len())
        .into_par_iter()
        .map(|index| {
            let mut stats = RequestStats::new(&runnable.slo);
            let run = scenario::run_streamed(&runnable, index, &mut stats)
                .map(|(run, _)| RunSummary::of_stats(&run.result, &stats, run.note))
                .map_err(anyhow::Error::from);
            progress.inc(1);
            (index, run)
        })
        .collect();
    progress.finish_and_clear();
    runs.sort_by_key(|(index, _)| *index);
    let prefix = format!("{}-", grid.scaler);
    let mut rows = Vec::with_capacity(runs.len());
    for (_, run) in runs {
        let run = run?;
        let point = run
            .scaler
            .strip_prefix(&prefix)
            .and_then(|p| p.parse::<usize>().ok())
            .filter(|&p| points.get(p).is_some_and(|point| point.index == p));
        let values = point.map_or_else(Vec::new, |p| points[p].values.clone());
        rows.push(Row { point, values, run });
    }
    let text = std::fs::read(&scenario_path)
        .with_context(|| format!("cannot read {}", scenario_path.display()))?;
    let file = SweepFile {
        version: sweep::VERSION,
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        fingerprint: sweep::fingerprint(&text, scenario.seed, &grid),
        scaler: grid.scaler.clone(),
        paths: grid.grid.iter().map(|(path, _)| path.clone()).collect(),
        points: points.len(),
        shard,
        rows,
    };
    if shard != Shard::ALL {
        sweep::write_json(&out, &file)?;
        if !args.quiet {
            println!(
                "wrote shard {}/{} ({} runs) to {}; join the shards with `budscaler sweep merge DIR... --out DIR`",
                shard.index,
                shard.count,
                file.rows.len(),
                out.join("sweep.json").display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    // The whole grid goes through the merge path too (via its JSON), so a merge of
    // shards writes exactly these bytes.
    let own = serde_json::from_str(&serde_json::to_string(&file)?)?;
    let merged =
        sweep::merge(vec![(out.display().to_string(), own)]).map_err(anyhow::Error::msg)?;
    finish(&out, &merged, args.quiet, args.format)
}

fn run_merge(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let shards = args
        .dirs
        .iter()
        .map(|dir| {
            sweep::read_json(dir)
                .map(|file| (dir.display().to_string(), file))
                .map_err(anyhow::Error::msg)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = sweep::merge(shards).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    finish(&args.out, &merged, args.quiet, args.format)
}

/// Writes the whole sweep's files and prints its table.
fn finish(
    out: &Path,
    file: &SweepFile,
    quiet: bool,
    format: OutputFormat,
) -> anyhow::Result<ExitCode> {
    sweep::write_json(out, file)?;
    write_table(out, "sweep", &sweep::table(file))?;
    let chart = reports::sweep::pareto_chart(file);
    let charts = out.join("charts");
    std::fs::create_dir_all(&charts)
        .with_context(|| format!("cannot create {}", charts.display()))?;
    let png = charts.join("sweep-pareto.png");
    std::fs::write(&png, chart.to_png()?)
        .with_context(|| format!("cannot write {}", png.display()))?;
    let html = out.join("report.html");
    std::fs::write(&html, reports::sweep::page(file, &chart.to_svg()?))
        .with_context(|| format!("cannot write {}", html.display()))?;
    if !quiet {
        match format {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(file)?),
            OutputFormat::Text => {
                print!("{}", reports::sweep::sweep_table(file));
                println!(
                    "wrote {} (sweep.json, sweep.parquet, report.html, charts/sweep-pareto.png)",
                    out.display()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar(quiet: bool, runs: usize) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(runs as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("sweeping {bar:30} {pos}/{len} runs, {elapsed}")
    {
        bar.set_style(style);
    }
    bar.tick();
    bar
}
