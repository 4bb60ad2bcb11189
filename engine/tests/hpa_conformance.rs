//! Every HPA conformance case (upstream test vectors) and every extra HPA case passes.

use std::path::{Path, PathBuf};

fn case_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Runs the cases of `dir`, returning how many there were; panics listing every
/// failure.
fn run_all(dir: &str) -> usize {
    let files = case_files(dir);
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable case file");
        match engine::conformance::run_case(&text) {
            Ok(report) if report.passed() => {}
            Ok(report) => failures.push(format!(
                "{} ({}): {}",
                report.id,
                file.display(),
                report.mismatches.join("; ")
            )),
            Err(e) => failures.push(format!("{}: {e}", file.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    files.len()
}

#[test]
fn upstream_hpa_cases_pass() {
    assert!(
        run_all("tests/conformance/hpa") >= 60,
        "the HPA conformance set has 60 cases"
    );
}

#[test]
fn extra_hpa_cases_pass() {
    assert!(
        run_all("tests/cases/hpa") >= 10,
        "expected at least 10 extra HPA cases"
    );
}

#[test]
fn a_wrong_expectation_is_reported() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/hpa/hpa-01.json"),
    )
    .expect("hpa-01 exists");
    let mut case: serde_json::Value = serde_json::from_str(&text).unwrap();
    case["expect"]["replicas"] = serde_json::json!(6);
    let report = engine::conformance::run_case(&case.to_string()).unwrap();
    assert_eq!(
        report.mismatches,
        vec!["replicas: expected 6, got 5".to_string()]
    );
}

#[test]
fn an_unknown_field_is_an_error() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/hpa/beh-01.json"),
    )
    .expect("beh-01 exists");
    let mut case: serde_json::Value = serde_json::from_str(&text).unwrap();
    case["input"]["behaviour"] = serde_json::json!({});
    let err = engine::conformance::run_case(&case.to_string()).unwrap_err();
    assert!(err.to_string().contains("behaviour"), "{err}");
}
