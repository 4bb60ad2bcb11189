//! `budscaler conformance PATH...`: runs upstream test vectors against the engine.
//!
//! Files are collected recursively and run in sorted path order so the output is the
//! same on every machine. A case that cannot be read or parsed counts as failed and is
//! reported with its file name; the closing line is always `N passed, M failed`.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  budscaler conformance engine/tests/conformance   # ends with `89 passed, 0 failed`"
)]
pub struct Args {
    /// Case files or folders (searched recursively for `*.json`).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Also print one line per passing case.
    #[arg(long, short)]
    verbose: bool,
    /// `text` prints failures and the count; `json` prints
    /// `{"passed", "failed", "cases": [{"file", "id", "kind", "passed", "mismatches"}]}`.
    #[arg(long, value_enum, default_value = "text")]
    format: super::OutputFormat,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for path in &args.paths {
        collect_cases(path, &mut files)?;
    }
    files.sort();
    if files.is_empty() {
        bail!(
            "no conformance cases (*.json) found under {}",
            display_paths(&args.paths)
        );
    }
    let json = args.format == super::OutputFormat::Json;
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut cases = Vec::new();
    for file in &files {
        let result = run_file(file);
        let ok = matches!(&result, Ok(report) if report.passed());
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
        if json {
            cases.push(match &result {
                Ok(report) => serde_json::json!({
                    "file": file.display().to_string(),
                    "id": report.id,
                    "kind": report.kind,
                    "passed": ok,
                    "mismatches": report.mismatches,
                }),
                Err(error) => serde_json::json!({
                    "file": file.display().to_string(),
                    "id": null,
                    "kind": null,
                    "passed": false,
                    "mismatches": [format!("{error:#}")],
                }),
            });
            continue;
        }
        match result {
            Ok(report) if ok => {
                if args.verbose {
                    println!("ok   {} ({})", report.id, report.kind);
                }
            }
            Ok(report) => println!(
                "FAIL {} ({}): {}",
                report.id,
                file.display(),
                report.mismatches.join("; ")
            ),
            Err(error) => println!("FAIL {}: {error:#}", file.display()),
        }
    }
    if json {
        let report = serde_json::json!({ "passed": passed, "failed": failed, "cases": cases });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{passed} passed, {failed} failed");
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_CHECK_FAILED)
    })
}

fn run_file(file: &Path) -> anyhow::Result<engine::conformance::CaseReport> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    Ok(engine::conformance::run_case(&text)?)
}

/// Adds `path` (a case file) or every `*.json` below it (a folder) to `files`.
fn collect_cases(path: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if metadata.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path)
        .with_context(|| format!("{}: cannot list folder", path.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("{}: cannot list folder", path.display()))?;
        let child = entry.path();
        if child.is_dir() {
            collect_cases(&child, files)?;
        } else if child.extension().is_some_and(|e| e == "json") {
            files.push(child);
        }
    }
    Ok(())
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
