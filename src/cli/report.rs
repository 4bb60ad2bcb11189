//! `budscaler report DIR`: (re)renders `DIR/report.html` and `DIR/charts/*.png` from an
//! existing `simulate`/`compare` output folder, with no simulation.
//!
//! Exit codes: 0 success, 2 a folder that is not an output folder (the message names
//! the file) or an unwritable report.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  budscaler simulate scenarios/default.yaml --out out/default\n  budscaler report out/default   # writes out/default/report.html and out/default/charts/"
)]
pub struct Args {
    /// An output folder written by `simulate` or `compare`.
    dir: PathBuf,
    /// Print nothing on success.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let written = reports::write_report(&args.dir)
        .with_context(|| format!("reporting on {}", args.dir.display()))?;
    if !args.quiet {
        println!(
            "wrote {} and {} charts in {}",
            written.html.display(),
            written.pngs.len(),
            args.dir.join("charts").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
