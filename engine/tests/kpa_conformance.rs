//! Every Knative conformance case (upstream vectors under `tests/conformance/`, our own
//! edge cases under `tests/cases/`) must pass.

use std::fs;
use std::path::{Path, PathBuf};

fn case_files(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", folder.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Runs every case of `folder` and fails listing each failing case with its mismatches.
fn run_folder(folder: &str, expected_kind: &str, at_least: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let files = case_files(&dir);
    assert!(
        files.len() >= at_least,
        "{}: expected at least {at_least} cases, found {}",
        dir.display(),
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("readable case");
        match engine::conformance::run_case(&text) {
            Ok(report) if report.kind != expected_kind => failures.push(format!(
                "{}: kind {} in a {expected_kind} folder",
                report.id, report.kind
            )),
            Ok(report) if report.passed() => {}
            Ok(report) => failures.push(format!("{}: {}", report.id, report.mismatches.join("; "))),
            Err(e) => failures.push(format!("{}: {e}", file.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases in {folder} failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn upstream_kpa_cases_pass() {
    run_folder("tests/conformance/kpa", "kpa_decider", 18);
}

#[test]
fn upstream_aggregation_cases_pass() {
    run_folder("tests/conformance/aggregation", "window_average", 11);
}

#[test]
fn extra_kpa_cases_pass() {
    run_folder("tests/cases/kpa", "kpa_decider", 1);
}

#[test]
fn extra_aggregation_cases_pass() {
    run_folder("tests/cases/aggregation", "window_average", 1);
}

#[test]
fn a_wrong_expectation_is_reported() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/kpa");
    let text = fs::read_to_string(dir.join("kpa-01.json")).expect("readable case");
    let broken = text.replacen("\"desired\": 5", "\"desired\": 6", 1);
    let report = engine::conformance::run_case(&broken).expect("well-formed case");
    assert_eq!(report.mismatches.len(), 1, "{:?}", report.mismatches);
    assert!(report.mismatches[0].contains("desired"));
}

#[test]
fn unknown_fields_are_rejected() {
    let case = r#"{"id": "X", "kind": "window_average",
        "input": {"alpha_for_buckets": 6, "typo": 1}, "expect": {"value": 0.78}}"#;
    let err = engine::conformance::run_case(case).unwrap_err().to_string();
    assert!(err.contains("typo"), "{err}");
}
