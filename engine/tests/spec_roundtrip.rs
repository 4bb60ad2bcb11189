//! Serialize → deserialize gives the identical manifest, in JSON and YAML, and the
//! example scalers under `scenarios/scalers/` are valid.

use engine::spec::{BudAIScaler, ScalingStrategy};
use std::path::PathBuf;

fn scalers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/scalers")
}

fn load(name: &str) -> BudAIScaler {
    let path = scalers_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_round_trips(scaler: &BudAIScaler) {
    let json = serde_json::to_string_pretty(scaler).unwrap();
    let from_json: BudAIScaler = serde_json::from_str(&json).unwrap();
    assert_eq!(&from_json, scaler, "JSON round trip:\n{json}");
    let yaml = serde_saphyr::to_string(scaler).unwrap();
    let from_yaml: BudAIScaler = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(&from_yaml, scaler, "YAML round trip:\n{yaml}");
    assert_eq!(from_yaml.resolved(), scaler.resolved());
}

#[test]
fn example_scalers_are_valid_and_round_trip() {
    for (file, strategy) in [
        ("hpa.yaml", ScalingStrategy::Hpa),
        ("kpa.yaml", ScalingStrategy::Kpa),
        ("budscaler.yaml", ScalingStrategy::BudScaler),
    ] {
        let scaler = load(file);
        let spec = scaler.resolved().unwrap_or_else(|e| panic!("{file}:\n{e}"));
        assert_eq!(spec.strategy, strategy, "{file}");
        assert_eq!(scaler.name(), file.trim_end_matches(".yaml"));
        assert_round_trips(&scaler);
    }
}

#[test]
fn invalid_manifests_round_trip_too() {
    // The manifest layer keeps bad values verbatim, so a round trip reports the same problems.
    let yaml = "spec:\n  minReplicas: -1\n  scalingStrategy: Fast\n  behavior: { scaleUp: { policies: [], tolerance: '1.5', selectPolicy: Max } }\n  kpaConfig: { stableWindow: 90, scaleDownDelay: '1h1m' }\n  metricsSources: [ { targetValue: 1e3, port: 8080, headers: {} } ]\n  scheduleHints: [ { duration: -5 } ]\n";
    let scaler: BudAIScaler = serde_saphyr::from_str(yaml).unwrap();
    assert_round_trips(&scaler);
    let errors = scaler.validate().unwrap_err();
    assert!(errors.len() > 10, "{errors}");
}

#[test]
fn numbers_written_for_strings_round_trip_as_text() {
    let json = r#"{"spec":{"metricsSources":[{"metricSourceType":"pod","targetMetric":"rps","targetValue":12.5,"port":8080}],
        "scheduleHints":[{"name":"a","cronExpression":"@daily","targetReplicas":1,"duration":3600}]}}"#;
    let scaler: BudAIScaler = serde_json::from_str(json).unwrap();
    let source = &scaler.spec.metrics_sources[0];
    assert_eq!(source.target_value.as_ref().unwrap().as_str(), "12.5");
    assert_eq!(source.port.as_ref().unwrap().as_str(), "8080");
    assert_round_trips(&scaler);
}
