//! `budscaler replay-log FILE`: replays an observation log (`control::log`: what a
//! driver saw and decided, as JSON lines) through the engine; every decision must equal
//! the logged one, floats included.
//!
//! Exit codes: 0 identical, 1 a decision differs (the message names the first line), 2
//! an unreadable or malformed log.

use anyhow::Context;
use control::log::{ReplayError, replay};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  budscaler replay-log /var/log/budscaler/observations.jsonl")]
pub struct Args {
    /// The log (JSON lines: a start line per scaler, then one tick line per decision).
    file: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    match replay(&text) {
        Ok(replayed) => {
            for (scaler, ticks) in &replayed.scalers {
                println!("{scaler}: {ticks} decisions replayed, identical to the log");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error @ ReplayError::Mismatch { .. }) => {
            eprintln!("{}: {error}", args.file.display());
            Ok(ExitCode::from(super::EXIT_CHECK_FAILED))
        }
        Err(error) => Err(anyhow::anyhow!("{}: {error}", args.file.display())),
    }
}
