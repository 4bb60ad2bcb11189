//! `budscaler replay-log FILE`, and `budscaler simulate` on a scenario whose trace is
//! `trace.observations: FILE`: a log the control loop wrote replays with exit 0; a
//! changed decision exits 1 naming its line; a malformed log exits 2.

mod common;

use common::{budscaler, repo};
use control::log::LogLine;
use control::{ControlLoop, timing};
use engine::observation::PodStatus;
use engine::spec::BudAIScaler;
use traces::metrics::prometheus::Scrape;
use traces::observe::PodScrape;

const SECOND: i64 = 1_000_000;

fn log() -> Vec<String> {
    let path = repo().join("scenarios/scalers/kpa.yaml");
    let manifest: BudAIScaler =
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut control =
        ControlLoop::new("kpa", &manifest, timing::Configured::default(), None).unwrap();
    let mut lines = vec![
        LogLine::Start {
            scaler: "kpa".into(),
            manifest: Box::new(manifest.clone()),
            state: None,
        }
        .to_json(),
    ];
    let status = PodStatus::ready_since("p0", 0);
    for step in 1..=30i64 {
        let text = Scrape::parse(&format!(
            "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running {}\n# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting {}\n",
            10 + step % 13,
            step % 5
        ))
        .unwrap();
        let pods = [PodScrape {
            status: &status,
            engine: Some(&text),
            gpu: None,
            scraped_at: step * 2 * SECOND,
        }];
        let (record, observation) = control.tick(step * 2 * SECOND, 1, &pods);
        lines.push(LogLine::tick(observation, record.decision, true).to_json());
    }
    lines
}

#[test]
fn a_log_replays_identically_and_a_changed_decision_is_named() {
    let dir = common::tempdir("cli-replay-log", "log");
    let lines = log();
    let good = dir.join("good.jsonl");
    std::fs::write(&good, lines.join("\n") + "\n").unwrap();
    let output = budscaler().arg("replay-log").arg(&good).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "kpa: 30 decisions replayed, identical to the log\n"
    );
    let mut tampered = lines.clone();
    tampered[7] = tampered[7].replacen("\"desiredReplicas\":", "\"desiredReplicas\":4", 1);
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, tampered.join("\n")).unwrap();
    let output = budscaler().arg("replay-log").arg(&bad).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("line 8: the replayed decision differs")
    );
    let broken = dir.join("broken.jsonl");
    std::fs::write(&broken, "{\"kind\": \"tick\"\n").unwrap();
    let output = budscaler().arg("replay-log").arg(&broken).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 1"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn simulate_replays_a_scenario_whose_trace_is_an_observation_log() {
    let dir = std::env::temp_dir().join(format!("budscaler-observations-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let lines = log();
    std::fs::write(dir.join("live.jsonl"), lines.join("\n") + "\n").unwrap();
    let scenario = dir.join("live.yaml");
    std::fs::write(
        &scenario,
        "name: live\ntrace:\n  observations: live.jsonl\n",
    )
    .unwrap();
    let out = dir.join("out");
    let output = run("simulate", &scenario, &out);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .starts_with("kpa: 30 decisions replayed, identical to the log\n")
    );
    let decisions = control::read_decisions_from(
        &std::fs::read_to_string(out.join("decisions.jsonl")).unwrap(),
    )
    .unwrap();
    assert_eq!(decisions.len(), 30);
    assert_eq!(decisions[0].time_s, 0.0);
    assert_eq!(decisions[1].time_s, 2.0);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["identical"], true);
    assert_eq!(summary["scalers"][0]["decisions"], 30);

    let mut tampered = lines.clone();
    tampered[7] = tampered[7].replacen("\"desiredReplicas\":", "\"desiredReplicas\":4", 1);
    std::fs::write(dir.join("live.jsonl"), tampered.join("\n")).unwrap();
    let output = run("simulate", &scenario, &out);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("live.jsonl: line 8: the replayed decision differs")
    );

    std::fs::write(
        &scenario,
        "name: live\ntrace:\n  observations: live.jsonl\nfleet:\n  gpu: H100\n",
    )
    .unwrap();
    let output = run("simulate", &scenario, &out);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("live.yaml") && stderr.contains("fleet"),
        "{stderr}"
    );
    let output = run("compare", &scenario, &out);
    assert_eq!(output.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `budscaler VERB SCENARIO --out OUT`.
fn run(verb: &str, scenario: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    budscaler()
        .arg(verb)
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}
