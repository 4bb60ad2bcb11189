//! `budscaler validate-recording` on the real vLLM run (skipped without ../shared).

use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[test]
fn the_real_recording_replays_within_ten_percent() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/vllm-recordings/rtx4090-llama-3.1-8b");
    if !dir.exists() {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_budscaler"))
        .args([
            "validate-recording",
            dir.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["requests"], 300);
    for metric in [
        "ttft_mean_s",
        "ttft_p50_s",
        "ttft_p90_s",
        "tpot_mean_s",
        "tpot_p50_s",
        "tpot_p90_s",
        "e2e_mean_s",
        "e2e_p90_s",
    ] {
        let error = report["metrics"][metric]["error_pct"].as_f64().unwrap();
        assert!(error.abs() <= 10.0, "{metric}: {error}%");
        assert!(report["metrics"][metric]["real"].as_f64().unwrap() > 0.0);
    }
    for series in ["running_mae", "waiting_mae", "kv_cache_pct_mae"] {
        assert!(report["timeseries"][series].is_number(), "{series}");
    }
}

#[test]
fn a_missing_recording_is_bad_input() {
    let output = Command::new(env!("CARGO_BIN_EXE_budscaler"))
        .args(["validate-recording", "/no/such/recording"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

/// `--profile`: step times from the RTX 4090's operator profile; the report says which
/// model ran and how its fit reproduces the profile's rows; a profile of another
/// degree than the recording's is bad input naming it.
#[test]
fn the_recording_replays_on_its_gpus_operator_profile() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    let dir = data.join("vllm-recordings/rtx4090-llama-3.1-8b");
    let profile = data.join("gpu-profiles/RTX4090/meta-llama/Llama-3.1-8B/bf16");
    if !dir.exists() || !profile.exists() {
        eprintln!("skipped: the shared recording or profile is absent");
        return;
    }
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_budscaler"))
            .args(["validate-recording", dir.to_str().unwrap(), "--profile"])
            .arg(&profile)
            .args(extra)
            .output()
            .unwrap()
    };
    let output = run(&["--format", "json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["setup"]["step_model"], "profile");
    assert!(
        report["setup"]["profile_fit"]["decode"]["mean"]
            .as_f64()
            .unwrap()
            < 0.1
    );
    let text = run(&[]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains(&format!(
            "step model: profile {} (attention fit over",
            profile.display()
        )),
        "{stdout}"
    );
    // `--profile-root`: the same profile, found in the tree by GPU, model and dtype.
    let found = Command::new(env!("CARGO_BIN_EXE_budscaler"))
        .args([
            "validate-recording",
            dir.to_str().unwrap(),
            "--profile-root",
        ])
        .arg(data.join("gpu-profiles"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let found: Value = serde_json::from_slice(&found.stdout).unwrap();
    assert_eq!(found["metrics"], report["metrics"]);
    assert!(
        found["setup"]["profile"]
            .as_str()
            .unwrap()
            .ends_with("RTX4090/meta-llama/Llama-3.1-8B/bf16"),
        "{}",
        found["setup"]["profile"]
    );
    // Parallelism from the command line is what the report says it replayed.
    let ranks = run(&[
        "--data-parallel",
        "2",
        "--expert-parallel",
        "true",
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&ranks.stdout).unwrap();
    assert_eq!(
        (
            &report["setup"]["data_parallel"],
            &report["setup"]["expert_parallel"]
        ),
        (&Value::from(2), &Value::from(true))
    );
    let text = run(&["--data-parallel", "2", "--expert-parallel", "true"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("on 2 rank(s) with expert parallelism of rtx-4090"),
        "{stdout}"
    );
    let wrong = run(&["--tensor-parallel", "2"]);
    assert_eq!(wrong.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("tensor parallelism 2 was not profiled"),
        "{stderr}"
    );
}
