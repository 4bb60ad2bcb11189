//! `budscaler conformance PATH...`: runs upstream test vectors against the engine.
//!
//! Files are collected recursively and run in sorted path order so the output is the
//! same on every machine. A case that cannot be read or parsed counts as failed and is
//! reported with its file name; the closing line is always `N passed, M failed`.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Case files or folders (searched recursively for `*.json`).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Also print one line per passing case.
    #[arg(long, short)]
    verbose: bool,
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
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in &files {
        match run_file(file) {
            Ok(report) if report.passed() => {
                passed += 1;
                if args.verbose {
                    println!("ok   {} ({})", report.id, report.kind);
                }
            }
            Ok(report) => {
                failed += 1;
                println!(
                    "FAIL {} ({}): {}",
                    report.id,
                    file.display(),
                    report.mismatches.join("; ")
                );
            }
            Err(error) => {
                failed += 1;
                println!("FAIL {}: {error:#}", file.display());
            }
        }
    }
    println!("{passed} passed, {failed} failed");
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
