//! The crate arrows ARCHITECTURE.md draws, checked against `cargo metadata`: the engine
//! depends on nothing in the workspace; the control loop only on the engine and traces
//! (without polars), so the operator can share it; nothing below the drivers depends on
//! the simulator.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Workspace package → its normal (non-dev) dependencies inside the workspace, with
/// the features each is asked for.
fn workspace_arrows() -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let members: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    packages
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null() && members.contains(d["name"].as_str().unwrap()))
                .map(|d| {
                    let features = d["features"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f.as_str().unwrap().to_string())
                        .collect();
                    (d["name"].as_str().unwrap().to_string(), features)
                })
                .collect();
            (package["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

#[test]
fn the_crate_arrows_point_the_way_the_architecture_says() {
    let arrows = workspace_arrows();
    let deps = |name: &str| -> BTreeSet<&str> { arrows[name].keys().map(String::as_str).collect() };
    assert!(
        deps("budscaler-engine").is_empty(),
        "engine depends on {:?}",
        deps("budscaler-engine")
    );
    assert_eq!(
        deps("budscaler-traces"),
        BTreeSet::from(["budscaler-engine"])
    );
    assert_eq!(
        deps("budscaler-control"),
        BTreeSet::from(["budscaler-engine", "budscaler-traces"])
    );
    assert!(
        arrows["budscaler-control"]["budscaler-traces"].is_empty(),
        "the control loop takes traces without features (no polars)"
    );
    for below in ["budscaler-engine", "budscaler-traces", "budscaler-control"] {
        assert!(
            !deps(below).contains("budscaler-simulator"),
            "{below} depends on the simulator"
        );
        assert!(
            !deps(below).contains("budscaler-reports"),
            "{below} depends on the reports"
        );
    }
    // The operator is a driver beside the simulator, never above it.
    assert_eq!(
        deps("budscaler-operator"),
        BTreeSet::from(["budscaler-control", "budscaler-engine", "budscaler-traces"])
    );
    assert!(
        arrows["budscaler-operator"]["budscaler-traces"].is_empty(),
        "the operator takes traces without features (no polars)"
    );
}

#[test]
fn the_operator_links_no_polars() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "budscaler-operator",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    assert!(
        tree.contains("kube-client"),
        "not the operator's tree:\n{tree}"
    );
    let polars: Vec<&str> = tree.lines().filter(|l| l.starts_with("polars")).collect();
    assert!(polars.is_empty(), "the operator links {polars:?}");
}
