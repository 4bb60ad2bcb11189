//! Command-line parsing and dispatch. Each subcommand lives in its own module with an
//! `Args` struct (clap derive) and a `run` function returning the process exit code.
//!
//! Exit codes (see CONTRACTS.md): 0 success, 1 a check failed, 2 bad input or usage.

mod check_scaler;
mod compare;
mod conformance;
mod crd;
mod replay_log;
mod report;
mod simulate;
mod sweep;
mod trace;
mod trace_generate;
mod validate_recording;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code for a check that ran and failed (conformance, validation threshold).
pub const EXIT_CHECK_FAILED: u8 = 1;
/// Exit code for bad input or usage; the message names the file, line or field.
pub const EXIT_BAD_INPUT: u8 = 2;

/// `--format` of the commands that report: a table for people, JSON for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Parser)]
#[command(
    name = "budscaler",
    version,
    about = "Deterministic, explainable autoscaling for LLM serving"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate BudAIScaler manifests and print what the engine will do with each.
    CheckScaler(check_scaler::Args),
    /// Print the BudAIScaler CustomResourceDefinition (YAML) generated from the spec types.
    Crd(crd::Args),
    /// Run upstream HPA/Knative conformance cases (files or folders, recursively).
    Conformance(conformance::Args),
    /// Inspect, convert and generate request traces.
    Trace(Box<trace::Args>),
    /// Replay a recorded real vLLM run in the simulator and compare latencies and series.
    ValidateRecording(validate_recording::Args),
    /// Replay a scenario's trace for every scaler in it and write the output folder.
    Simulate(simulate::Args),
    /// As simulate, then write DIR/report.html and DIR/charts/*.png.
    Compare(simulate::Args),
    /// (Re)render DIR/report.html and DIR/charts/*.png from an existing output folder.
    Report(report::Args),
    /// Replay an observation log through the engine; every decision must match.
    ReplayLog(replay_log::Args),
    /// Run the scenario's sweep: grid (or a shard of it); `sweep merge` joins shards.
    Sweep(sweep::Args),
}

/// Runs the parsed command; errors are bad input and exit with code 2.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::CheckScaler(args) => check_scaler::run(args),
        Command::Conformance(args) => conformance::run(args),
        Command::Crd(args) => crd::run(args),
        Command::Trace(args) => trace::run(*args),
        Command::ValidateRecording(args) => validate_recording::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Report(args) => report::run(args),
        Command::ReplayLog(args) => replay_log::run(args),
        Command::Sweep(args) => sweep::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}
