//! Every upstream conformance case, and the project's own extra cases, must pass.
//!
//! `tests/conformance/` is an identical copy of `shared/conformance/cases` so the suite
//! runs on any clone; when `../shared` is present the copy is checked against it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn json_files(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("listing a case folder").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).expect("reading a case file");
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), text);
            }
        }
    }
    files
}

fn run_all(dir: &Path) -> (usize, Vec<String>) {
    let files = json_files(dir);
    let mut failures = Vec::new();
    for (path, text) in &files {
        match engine::conformance::run_case(text) {
            Ok(report) if report.passed() => {}
            Ok(report) => failures.push(format!("{}: {}", report.id, report.mismatches.join("; "))),
            Err(error) => failures.push(format!("{}: {error}", path.display())),
        }
    }
    (files.len(), failures)
}

#[test]
fn upstream_cases_all_pass() {
    let (count, failures) = run_all(&crate_dir().join("tests/conformance"));
    assert_eq!(count, 89, "the upstream copy should hold 89 cases");
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn project_cases_all_pass() {
    let (count, failures) = run_all(&crate_dir().join("tests/cases"));
    assert!(count > 0, "the project's own extra cases are missing");
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn upstream_copy_matches_shared() {
    let shared = crate_dir().join("../../shared/conformance/cases");
    if !shared.is_dir() {
        eprintln!(
            "skipped: {} is absent (the copy cannot be compared)",
            shared.display()
        );
        return;
    }
    let ours = json_files(&crate_dir().join("tests/conformance"));
    let theirs = json_files(&shared);
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "case file lists differ"
    );
    for (path, text) in &theirs {
        assert_eq!(
            &ours[path],
            text,
            "{} differs from the shared copy",
            path.display()
        );
    }
}

#[test]
fn unknown_fields_are_rejected() {
    let text = r#"{"id":"X","kind":"window_average","input":{"alpha_for_buckets":5},"expect":{"value":0.2},"typo":1}"#;
    assert!(engine::conformance::run_case(text).is_err());
    let text = r#"{"id":"X","kind":"no_such_kind","input":{},"expect":{}}"#;
    let error = engine::conformance::run_case(text).unwrap_err().to_string();
    assert!(error.contains("no_such_kind"), "{error}");
}

/// Re-reads an upstream case as JSON so a test can break one expectation or field.
fn upstream_case(relative: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(crate_dir().join("tests/conformance").join(relative))
        .expect("the upstream case exists");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_wrong_hpa_expectation_is_reported_with_both_values() {
    let mut case = upstream_case("hpa/hpa-01.json");
    case["expect"]["replicas"] = serde_json::json!(6);
    let report = engine::conformance::run_case(&case.to_string()).unwrap();
    assert_eq!(
        report.mismatches,
        vec!["replicas: expected 6, got 5".to_string()]
    );
}

#[test]
fn a_wrong_kpa_step_expectation_is_reported() {
    let mut case = upstream_case("kpa/kpa-01.json");
    case["input"]["steps"][0]["expect"]["desired"] = serde_json::json!(6);
    let report = engine::conformance::run_case(&case.to_string()).unwrap();
    assert_eq!(report.mismatches.len(), 1, "{:?}", report.mismatches);
    assert!(
        report.mismatches[0].contains("desired"),
        "{:?}",
        report.mismatches
    );
}

#[test]
fn unknown_fields_inside_input_are_rejected_by_name() {
    let mut case = upstream_case("hpa/beh-01.json");
    case["input"]["behaviour"] = serde_json::json!({});
    let error = engine::conformance::run_case(&case.to_string()).unwrap_err();
    assert!(error.to_string().contains("behaviour"), "{error}");
    let case = r#"{"id": "X", "kind": "window_average",
        "input": {"alpha_for_buckets": 6, "typo": 1}, "expect": {"value": 0.78}}"#;
    let error = engine::conformance::run_case(case).unwrap_err().to_string();
    assert!(error.contains("typo"), "{error}");
}
