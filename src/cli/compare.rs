//! `budscaler compare SCENARIO.yaml --out DIR`: the `simulate` run path, then the
//! report: prints the comparison table and writes `DIR/report.html` and
//! `DIR/charts/*.png` beside the output files (see `reports`).
//!
//! Exit codes: 0 success, 2 bad scenario or unwritable output.

use super::OutputFormat;
use super::simulate::{self, Args};
use anyhow::Context;
use std::process::ExitCode;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(summary) = simulate::simulate(&args, "comparing")? else {
        return Ok(ExitCode::SUCCESS);
    };
    let written = reports::write_report(&args.out)
        .with_context(|| format!("writing the report in {}", args.out.display()))?;
    if !args.quiet {
        match args.format {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
            OutputFormat::Text => {
                print!("{}", reports::table::runs_table(&summary));
                println!(
                    "wrote {} in {:.1} s; report: {} ({} charts in {})",
                    args.out.display(),
                    summary.wall_s,
                    written.html.display(),
                    written.pngs.len(),
                    args.out.join("charts").display()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
