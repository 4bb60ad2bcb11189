//! The `budscaler conformance` command as users and scripts see it (CONTRACTS.md).

mod common;

use common::{budscaler, repo};

use std::path::PathBuf;

#[test]
fn all_upstream_cases_pass_with_the_contract_closing_line() {
    let output = budscaler()
        .arg("conformance")
        .arg(repo().join("engine/tests/conformance"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.lines().last(),
        Some("89 passed, 0 failed"),
        "{stdout}"
    );
    assert!(output.status.success());
}

#[test]
fn a_failing_case_exits_1_and_names_the_case() {
    let dir = tempdir("failing");
    std::fs::write(
        dir.join("bad.json"),
        r#"{"id":"WRONG-1","kind":"window_average","input":{"alpha_for_buckets":100},"expect":{"value":0.9}}"#,
    )
    .unwrap();
    let output = budscaler().arg("conformance").arg(&dir).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("WRONG-1"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("0 passed, 1 failed"));
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_missing_path_is_bad_input() {
    let output = budscaler()
        .args(["conformance", "/no/such/folder"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("/no/such/folder"), "{stderr}");
}

/// A fresh folder under the target dir (no tempfile crate needed for two files).
fn tempdir(name: &str) -> PathBuf {
    common::tempdir("cli-conformance", name)
}

#[test]
fn the_json_format_lists_every_case() {
    let output = budscaler()
        .args(["conformance", "--format", "json"])
        .arg(repo().join("engine/tests/conformance"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["passed"], 89);
    assert_eq!(report["failed"], 0);
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 89);
    assert!(
        cases
            .iter()
            .all(|c| c["passed"] == true && c["id"].is_string())
    );
}
