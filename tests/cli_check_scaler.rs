//! `budscaler check-scaler` (CONTRACTS): every example in `operator/deploy/examples/`
//! (the seed project's samples among them) is valid and described; a bad manifest
//! exits 2 with every problem as `FILE: spec.path: …`.

mod common;

use common::{budscaler, repo};

fn examples() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("operator/deploy/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_is_valid_and_described() {
    let files = examples();
    assert!(files.len() >= 4, "{files:?}");
    let output = budscaler()
        .arg("check-scaler")
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "web-server-hpa (default/web-server-hpa) is valid: HPA scaler",
        "api-gateway-kpa (default/api-gateway-kpa) is valid: KPA scaler",
        "decides every 2 s",
        "llm-inference-full (ai-production/llm-inference-full) is valid: BudScaler scaler",
        "reads a PromQL query at http://prometheus.monitoring:9090",
        "budscaler-shadow.yaml#2: llama-hpa-shadow",
        "mode Shadow",
        "reads each ready pod's http://POD_IP:8080/metrics",
        // The seed's sample targets a 0-1 fraction at 70: valid, and warned about.
        "warning: metricsSources[0] gpu_cache_usage_perc is a 0-1 fraction",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{stdout}"
        );
    }
    let json = budscaler()
        .args(["check-scaler", "--format", "json"])
        .args(&files)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["problems"].as_array().unwrap().len(), 0);
    assert_eq!(
        report["valid"].as_array().unwrap().len(),
        files.len() + 1,
        "one file holds two"
    );
}

#[test]
fn every_problem_is_printed_with_file_and_path() {
    let dir = common::tempdir("cli-check-scaler", "bad");
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: scaler.bud.studio/v1alpha1\nkind: BudAIScaler\nmetadata: {name: ok}\nspec:\n  scaleTargetRef: {kind: Deployment, name: d}\n  maxReplicas: 3\n  metricsSources: [{metricSourceType: pod, targetMetric: q, targetValue: '2'}]\n---\napiVersion: scaler.bud.studio/v1alpha1\nkind: BudAIScaler\nmetadata: {name: bad}\nspec:\n  minReplicas: -1\n  maxReplicas: 0\n  metricsSources: [{metricSourceType: pod, targetMetric: q, targetValue: x}]\n",
    )
    .unwrap();
    let output = budscaler().arg("check-scaler").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let at = format!("{}#2: ", file.display());
    for path in [
        "spec.scaleTargetRef",
        "spec.minReplicas",
        "spec.maxReplicas",
        "spec.metricsSources[0].targetValue",
    ] {
        assert!(
            stderr.contains(&format!("{at}{path}")),
            "{path} in\n{stderr}"
        );
    }
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("#1: ok"),
        "the valid one is still described"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
