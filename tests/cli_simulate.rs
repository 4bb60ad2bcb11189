//! The `budscaler simulate` command as users and scripts see it (CONTRACTS.md): the
//! output folder, the summary's fields, and exit code 2 with the field named on bad
//! input.

mod common;

use common::{budscaler, repo};

use std::path::PathBuf;

fn tempdir(name: &str) -> PathBuf {
    common::tempdir("cli-simulate", name)
}

/// A small scenario on a generated trace, using the repository's HPA manifest.
fn small_scenario(dir: &std::path::Path) -> PathBuf {
    let hpa = repo().join("scenarios/scalers/hpa.yaml");
    let yaml = format!(
        "name: small
seed: 3
trace:
  generate: {{ pattern: gamma, duration: 5m, rate: 8 }}
fleet:
  gpu: h100-80gb
  model: llama-3.1-8b
  initial_replicas: 1
  pricing: {{ provider: aws, instance: p5.48xlarge }}
slo: {{ ttft_s: 2.0, tpot_s: 0.1 }}
scalers:
  - file: {}
  - static: {{ replicas: 2 }}
",
        hpa.display()
    );
    let path = dir.join("small.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn a_scenario_writes_the_output_folder_and_prints_a_table() {
    let dir = tempdir("small");
    let scenario = small_scenario(&dir);
    let out = dir.join("out");
    let output = budscaler()
        .args(["simulate"])
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("hpa") && stdout.contains("static"),
        "{stdout}"
    );
    assert!(stdout.contains("SLO att."), "{stdout}");
    assert!(stderr.is_empty(), "no progress bar when piped: {stderr}");
    for file in [
        "summary.json",
        "decisions.jsonl",
        "requests.parquet",
        "timeseries.parquet",
        "slo_timeseries.parquet",
        "latency_cdf.parquet",
    ] {
        let meta = std::fs::metadata(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(meta.len() > 0, "{file} is empty");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["scenario"], "small");
    assert_eq!(summary["seed"], 3);
    assert!(summary["wall_s"].is_f64());
    let runs = summary["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for run in runs {
        for key in [
            "scaler",
            "strategy",
            "requests",
            "completed",
            "slo_attainment",
            "ttft_s",
            "tpot_s",
            "e2e_s",
            "gpu_hours",
            "cost_usd",
            "scale_events",
            "peak_replicas",
            "mean_replicas",
            "gpu_hours_vs_oracle",
        ] {
            assert!(run.get(key).is_some(), "runs[].{key} in {run}");
        }
    }

    let quiet = budscaler()
        .args(["simulate", "--quiet", "--seed", "3"])
        .arg(&scenario)
        .arg("--out")
        .arg(dir.join("again"))
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(quiet.stdout.is_empty() && quiet.stderr.is_empty());
    for file in [
        "decisions.jsonl",
        "requests.parquet",
        "timeseries.parquet",
        "slo_timeseries.parquet",
        "latency_cdf.parquet",
    ] {
        assert!(
            std::fs::read(out.join(file)).unwrap()
                == std::fs::read(dir.join("again").join(file)).unwrap(),
            "{file}: same scenario and seed, same bytes"
        );
    }
}

#[test]
fn the_json_format_prints_the_summary() {
    let dir = tempdir("json");
    let scenario = small_scenario(&dir);
    let output = budscaler()
        .args(["simulate", "--format", "json"])
        .arg(&scenario)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["runs"][1]["scaler"], "static");
}

#[test]
fn bad_scenarios_exit_2_naming_the_field() {
    let dir = tempdir("bad");
    let good = std::fs::read_to_string(small_scenario(&dir)).unwrap();
    let cases = [
        (
            good.replace("initial_replicas: 1", "initial_replica: 1"),
            "initial_replica",
        ),
        (good.replace("ttft_s: 2.0", "ttft_s: -1"), "slo.ttft_s"),
        (good.replace("p5.48xlarge", "p5.xl"), "fleet.pricing"),
        (good.replace("rate: 8", "rate: 0"), "trace.generate.rate"),
    ];
    for (index, (yaml, field)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad{index}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let output = budscaler()
            .arg("simulate")
            .arg(&path)
            .arg("--out")
            .arg(dir.join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(field), "names {field}: {stderr}");
        assert!(
            stderr.contains(&format!("bad{index}.yaml")),
            "names the file: {stderr}"
        );
    }
    let missing = budscaler()
        .args(["simulate", "no-such-scenario.yaml", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

/// Runs `simulate --quiet SCENARIO --out OUT`, expects success, returns the summary.
fn simulate_quietly(scenario: &std::path::Path, out: &std::path::Path) -> serde_json::Value {
    let output = budscaler()
        .args(["simulate", "--quiet"])
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn the_default_scenario_runs_on_a_fresh_clone() {
    let out = tempdir("default").join("out");
    let summary = simulate_quietly(&repo().join("scenarios/default.yaml"), &out);
    let scalers: Vec<&str> = summary["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["scaler"].as_str().unwrap())
        .collect();
    assert_eq!(scalers, ["hpa", "kpa", "budscaler", "static", "oracle"]);
}

#[test]
fn the_open_loop_scenario_replays_the_recording() {
    let scenario = repo().join("scenarios/vllm-recording-open-loop.yaml");
    let series = repo().join("../shared/data/vllm-recordings/rtx4090-llama-3.1-8b/timeseries.csv");
    if !series.exists() {
        eprintln!(
            "skipping: {} is absent (see the README for where to get it)",
            series.display()
        );
        return;
    }
    let out = tempdir("open-loop").join("out");
    let summary = simulate_quietly(&scenario, &out);
    assert_eq!(summary["mode"], "open_loop");
    let decisions = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    let runs = summary["runs"].as_array().unwrap();
    let total: u64 = runs.iter().map(|r| r["decisions"].as_u64().unwrap()).sum();
    assert_eq!(decisions.lines().count() as u64, total);
    assert!(total > 0);
}

/// `scenarios/budget-1h.yaml`: the budgeted BudScaler never provisions more than its
/// 14 USD/h buys (two replicas), spends less than the budget over the hour, says
/// `BudgetLimit` where it capped, and loses little attainment against the unbudgeted
/// one (the README's budget table).
#[test]
fn the_budget_scenario_stays_within_its_budget() {
    let out = tempdir("budget");
    let summary = simulate_quietly(&repo().join("scenarios/budget-1h.yaml"), &out);
    let run = |name: &str| run_of(&summary, name);
    let (free, capped) = (run("budscaler"), run("budscaler-budget"));
    assert!(capped["peak_replicas"].as_u64().unwrap() <= 2, "{capped}");
    assert!(capped["cost_usd"].as_f64().unwrap() <= 14.0, "{capped}");
    assert!(
        free["cost_usd"].as_f64().unwrap() > 14.0,
        "the budget must bind: {free}"
    );
    assert!(
        capped["slo_attainment"].as_f64().unwrap() >= 0.98,
        "{capped}"
    );
    let decisions = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    assert!(
        decisions
            .lines()
            .any(|l| l.contains("\"scaler\":\"budscaler-budget\"")
                && l.contains("\"reason\":\"BudgetLimit\""))
    );
    assert!(
        !decisions
            .lines()
            .any(|l| l.contains("\"scaler\":\"budscaler\",") && l.contains("BudgetLimit"))
    );
    // The final status per manifest scaler, as the operator would write it.
    let read = |name: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(out.join("status").join(name)).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let status = read("budscaler-budget.json");
    assert!(
        status["costStatus"]["currentHourlyCost"].as_f64().unwrap() <= 14.0,
        "{status}"
    );
    assert!(
        status["costStatus"]["budgetUtilization"].as_f64().unwrap() <= 1.0,
        "{status}"
    );
    assert!(
        status["learningStatus"]["dataPointsCollected"]
            .as_i64()
            .unwrap()
            > 0,
        "{status}"
    );
    assert!(
        status["scalingHistory"]
            .as_array()
            .is_some_and(|h| !h.is_empty())
    );
    assert!(
        read("budscaler.json").get("costStatus").is_none(),
        "cost awareness is off there"
    );
    assert!(
        !out.join("status/static.json").exists(),
        "a static fleet has no scaler status"
    );
}

/// `scenarios/spot-1h.yaml`: BudScaler placing up to half its replicas on spot, with
/// fallback to on-demand after interruption notices, keeps the all-on-demand run's
/// attainment at a lower cost (the README's spot table).
#[test]
fn the_spot_scenario_saves_at_equal_attainment() {
    let out = tempdir("spot");
    let summary = simulate_quietly(&repo().join("scenarios/spot-1h.yaml"), &out);
    let run = |name: &str| run_of(&summary, name);
    let (on_demand, spot) = (run("budscaler"), run("budscaler-spot"));
    let attainment = |r: &serde_json::Value| r["slo_attainment"].as_f64().unwrap();
    assert!(
        attainment(&spot) >= attainment(&on_demand) - 0.001,
        "{spot}"
    );
    let cost = |r: &serde_json::Value| r["cost_usd"].as_f64().unwrap();
    assert!(
        cost(&spot) < 0.95 * cost(&on_demand),
        "{spot} vs {on_demand}"
    );
    // Each decision of the spot scaler says how many replicas go on spot (half of the
    // count at most); the on-demand one's say nothing.
    let text = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    let decisions = control::read_decisions_from(&text).unwrap();
    for decision in &decisions {
        match decision.scaler.as_str() {
            "budscaler-spot" => {
                let spot = decision.desired_spot.unwrap();
                assert!(spot >= 0 && spot <= decision.desired / 2, "{decision:?}");
            }
            _ => assert_eq!(decision.desired_spot, None),
        }
    }
    assert!(
        decisions
            .iter()
            .any(|d| d.desired_spot.is_some_and(|n| n > 0))
    );
}

/// `scenarios/gpu-pressure-1h.yaml`: with an interactive SLO, the manifest with the GPU
/// compute rule meets it where the same manifest without misses it, on fewer GPU-hours
/// than KPA; the rule is what set the count where it did, and the final status carries
/// the GPU section (the README's GPU table).
#[test]
fn the_gpu_rule_meets_an_interactive_slo_the_plain_manifest_misses() {
    let out = tempdir("gpu-pressure");
    let summary = simulate_quietly(&repo().join("scenarios/gpu-pressure-1h.yaml"), &out);
    let run = |name: &str| run_of(&summary, name);
    let attainment = |r: &serde_json::Value| r["slo_attainment"].as_f64().unwrap();
    let gpu_hours = |r: &serde_json::Value| r["gpu_hours"].as_f64().unwrap();
    let (plain, gpu, kpa) = (run("budscaler"), run("budscaler-gpu"), run("kpa"));
    assert!(attainment(&gpu) >= 0.99, "{gpu}");
    assert!(attainment(&plain) < 0.85, "{plain}");
    assert!(gpu_hours(&gpu) < gpu_hours(&kpa), "{gpu} vs {kpa}");
    let text = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    let decided_by_gpu = |line: &&str| {
        line.contains("\"scaler\":\"budscaler-gpu\"")
            && line.contains("\"decided_by\":{\"kind\":\"gpu\",\"name\":\"gpuComputeThreshold\"")
    };
    assert!(text.lines().any(|l| decided_by_gpu(&l)));
    assert!(
        !text
            .lines()
            .any(|l| l.contains("\"scaler\":\"budscaler\",") && l.contains("gpu compute")),
        "the plain manifest reads no GPU rule"
    );
    let status: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("status/budscaler-gpu.json")).unwrap(),
    )
    .unwrap();
    let gpu_status = &status["gpuStatus"];
    assert!(gpu_status["totalGPUs"].as_i64().unwrap() >= 1, "{status}");
    assert!(
        gpu_status["gpuType"].as_str().unwrap().contains("H100"),
        "{status}"
    );
    let compute = gpu_status["averageComputeUtilization"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&compute), "{status}");
    assert!(
        gpu_status["averageMemoryUtilization"].is_number(),
        "{status}"
    );
    let prediction = &status["predictionStatus"];
    assert!(
        prediction["predictedReplicas"].as_i64().unwrap() >= 1,
        "{status}"
    );
    assert_eq!(prediction["predictionConfidence"], prediction["confidence"]);
    let plain_status = std::fs::read_to_string(out.join("status/budscaler.json")).unwrap();
    assert!(!plain_status.contains("gpuStatus"), "{plain_status}");
}

/// The held-out check: `scenarios/gpu-pressure-mmpp-1h.yaml`, bursts instead of a smooth
/// day, the same manifests unchanged. The rule still buys attainment the plain manifest
/// lacks, on fewer GPU-hours than the oracle plans for its own target.
#[test]
fn the_gpu_rule_holds_on_the_held_out_bursty_hour() {
    let out = tempdir("gpu-pressure-mmpp");
    let summary = simulate_quietly(&repo().join("scenarios/gpu-pressure-mmpp-1h.yaml"), &out);
    let run = |name: &str| run_of(&summary, name);
    let attainment = |r: &serde_json::Value| r["slo_attainment"].as_f64().unwrap();
    let gpu_hours = |r: &serde_json::Value| r["gpu_hours"].as_f64().unwrap();
    let (plain, gpu, oracle) = (run("budscaler"), run("budscaler-gpu"), run("oracle"));
    assert!(
        attainment(&gpu) >= attainment(&plain) + 0.10,
        "{gpu} vs {plain}"
    );
    assert!(gpu_hours(&gpu) < gpu_hours(&oracle), "{gpu} vs {oracle}");
}

/// A dcgm-exporter outage mid-run (`fleet.dcgm_outages`): while it lasts every decision
/// names the unreachable sources and why, and the scaler never scales down on the
/// missing GPU readings; before and after, no such note.
#[test]
fn a_dcgm_outage_is_named_in_every_decision_and_held_on() {
    let dir = tempdir("dcgm-outage");
    let scenario = std::fs::read_to_string(repo().join("scenarios/gpu-pressure-1h.yaml"))
        .unwrap()
        .replace(
            "  pricing: { provider: aws, instance: p5.48xlarge }\n",
            "  pricing: { provider: aws, instance: p5.48xlarge }\n  dcgm_outages: [{ from: 10m, to: 50m }]\n",
        )
        .replace(
            "scalers/",
            &format!("{}/", repo().join("scenarios/scalers").display()),
        )
        .replace("  - oracle: {}\n", "");
    assert!(scenario.contains("dcgm_outages"));
    let path = dir.join("outage.yaml");
    std::fs::write(&path, scenario).unwrap();
    let out = dir.join("out");
    simulate_quietly(&path, &out);
    let text = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    let decisions = control::read_decisions_from(&text).unwrap();
    let mut held = 0;
    for (line, decision) in text.lines().zip(&decisions) {
        if decision.scaler != "budscaler-gpu" {
            assert!(!line.contains("dcgm"), "{line}");
            continue;
        }
        let during = (600.0..3000.0).contains(&decision.time_s);
        assert_eq!(
            line.contains("dcgm node-0: connection refused"),
            during,
            "{line}"
        );
        if during {
            assert!(decision.desired >= decision.current, "{line}");
            held += usize::from(line.contains("no scale-down: no GPU reading from"));
        }
    }
    assert!(held > 0, "the outage must have held a scale-down");
}

/// The summary's run of scaler `name`.
fn run_of(summary: &serde_json::Value, name: &str) -> serde_json::Value {
    summary["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["scaler"] == name)
        .unwrap_or_else(|| panic!("no run of {name}"))
        .clone()
}

/// `fleet.profile`: the fleet's replicas take their step times from an operator
/// profile (the shared RTX 4090 one; skipped without `../shared`), the scenario as it
/// ran names it, and a profile for another model is refused naming the field.
#[test]
fn a_fleet_runs_on_an_operator_profile() {
    let profile = repo().join("../shared/data/gpu-profiles/RTX4090/meta-llama/Llama-3.1-8B/bf16");
    if !profile.join("meta.yaml").exists() {
        eprintln!(
            "SKIP: {} not found; needs the shared profiles",
            profile.display()
        );
        return;
    }
    let dir = tempdir("profile");
    let scenario = |model: &str| {
        format!(
            "name: profiled
seed: 3
trace:
  generate: {{ pattern: gamma, duration: 2m, rate: 2 }}
fleet:
  gpu: rtx-4090
  model: {model}
  initial_replicas: 1
  price_per_gpu_hour: 0.5
  profile: {}
slo: {{ ttft_s: 2.0, tpot_s: 0.1 }}
scalers:
  - static: {{ replicas: 1 }}
",
            profile.display()
        )
    };
    let path = dir.join("profiled.yaml");
    std::fs::write(&path, scenario("llama-3.1-8b")).unwrap();
    let out = dir.join("out");
    let summary = simulate_quietly(&path, &out);
    let run = run_of(&summary, "static");
    assert!(run["completed"].as_u64().unwrap() > 100, "{run}");
    let ran = std::fs::read_to_string(out.join("scenario.yaml")).unwrap();
    assert!(ran.contains("gpu-profiles/RTX4090"), "{ran}");

    std::fs::write(&path, scenario("llama-3.1-70b")).unwrap();
    let output = budscaler()
        .args(["simulate", "--quiet"])
        .arg(&path)
        .arg("--out")
        .arg(dir.join("out2"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("fleet.profile") && stderr.contains("meta.yaml"),
        "{stderr}"
    );
}
