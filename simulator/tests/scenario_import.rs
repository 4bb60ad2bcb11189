//! Imported autoscalers end to end: a scenario lists an HPA, a KEDA ScaledObject and
//! two Knative Services by `file:` (`scenarios/imports/`); each is imported, runs on a
//! generated trace reading its metrics from rendered scrapes, and writes its mapped
//! manifest. A refused import names the scenario, the entry and the imported path.

mod common;

use engine::import::ImportKind;
use engine::spec::BudAIScaler;
use simulator::scenario::{self, ScalerChoice};
use std::path::PathBuf;

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn scenario_text(scalers: &str) -> String {
    // 2026-06-01 is a Monday; 05:55Z is 07:55 in Berlin, five minutes before the KEDA
    // cron window opens.
    format!(
        "name: imports
seed: 3
trace:
  generate: {{ pattern: poisson, duration: 12m, rate: 6, seed: 5, tokens: azure-conv }}
  start: \"2026-06-01T05:55:00Z\"
fleet: {{ gpu: h100-80gb, model: llama-3.1-8b, initial_replicas: 1 }}
slo: {{ ttft_s: 2, tpot_s: 0.1 }}
scalers:
{scalers}"
    )
}

#[test]
fn one_imported_manifest_of_each_kind_runs_end_to_end() {
    let text = scenario_text(
        "  - file: imports/hpa.yaml
  - file: imports/keda.yaml
  - file: imports/knative.yaml
  - file: imports/knative-rps.yaml
",
    );
    let scenario = scenario::parse(&text, &scenarios_dir().join("imports-e2e.yaml"), None).unwrap();
    let kinds: Vec<(String, ImportKind, usize)> = scenario
        .scalers
        .iter()
        .map(|choice| match choice {
            ScalerChoice::Manifest {
                name,
                imported: Some(from),
                ..
            } => (name.clone(), from.kind, from.mapping.len()),
            other => panic!("an imported manifest: {other:?}"),
        })
        .collect();
    let names: Vec<&str> = kinds.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "hpa-imported",
            "keda-imported",
            "knative-imported",
            "knative-rps"
        ]
    );
    assert_eq!(kinds[0].1, ImportKind::HorizontalPodAutoscaler);
    assert_eq!(kinds[1].1, ImportKind::KedaScaledObject);
    assert_eq!(kinds[2].1, ImportKind::KnativeService);
    assert!(kinds.iter().all(|(_, _, lines)| *lines >= 2));

    let requests = scenario.requests().unwrap();
    let runs = scenario::run(&scenario, &requests).unwrap();
    for run in &runs {
        let result = &run.result;
        assert!(!result.decisions.is_empty(), "{}", result.scaler);
        // Every imported metric is read from the rendered scrapes once pods have two
        // scrapes (rates need an interval).
        let late = &result.decisions[result.decisions.len() / 2..];
        for record in late {
            for reading in &record.decision.metrics {
                assert!(
                    reading.value.is_some(),
                    "{}: {} unread at {}: {}",
                    result.scaler,
                    reading.metric,
                    record.time_us,
                    record.decision.message
                );
            }
        }
    }
    // KEDA's cron trigger holds 3 replicas from 08:00 Berlin (5 minutes in).
    let keda = &runs[1].result;
    assert_eq!(keda.strategy, "HPA");
    let hinted: Vec<_> = keda
        .decisions
        .iter()
        .filter(|r| r.decision.schedule_hint.is_some())
        .collect();
    assert!(!hinted.is_empty());
    assert!(hinted.iter().all(|r| r.time_us >= 5 * 60 * 1_000_000));
    assert!(
        hinted.iter().all(|r| r.decision.desired_replicas >= 3),
        "{}",
        hinted[0].decision.message
    );
    assert!(
        keda.decisions
            .iter()
            .filter(|r| r.time_us < 5 * 60 * 1_000_000)
            .all(|r| r.decision.schedule_hint.is_none())
    );
    assert_eq!(runs[2].result.strategy, "KPA");
    assert_eq!(runs[3].result.strategy, "KPA");

    // The mapped manifests, headed by their mapping, parse back to what ran.
    let dir = common::fresh_dir("scenario-import", "written");
    let written = simulator::output::write_described(&dir, &scenario).unwrap();
    assert_eq!(written.len(), 5, "scenario.yaml and the four manifests");
    assert!(written[0].ends_with("scenario.yaml"));
    let described = std::fs::read_to_string(&written[0]).unwrap();
    assert!(described.contains("imported_from"), "{described}");
    for (path, choice) in written[1..].iter().zip(&scenario.scalers) {
        let ScalerChoice::Manifest { name, manifest, .. } = choice else {
            unreachable!()
        };
        assert_eq!(path, &dir.join("scalers").join(format!("{name}.yaml")));
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("# Imported from "), "{text}");
        let back: BudAIScaler = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(&back, manifest.as_ref());
    }
}

#[test]
fn a_refused_import_names_the_scenario_the_entry_and_the_imported_path() {
    let path = scenarios_dir().join("imports-refused.yaml");
    let text = scenario_text("  - file: imports/keda-unmappable.yaml\n");
    let error = scenario::parse(&text, &path, None).unwrap_err().to_string();
    for part in [
        "imports-refused.yaml",
        "scalers[0].file",
        "keda-unmappable.yaml",
        "spec.triggers[1].metadata.query",
    ] {
        assert!(error.contains(part), "{part} missing from: {error}");
    }
    let text = scenario_text("  - file: imports/hpa-pods-selector.yaml\n");
    let error = scenario::parse(&text, &path, None).unwrap_err().to_string();
    assert!(
        error.contains("spec.metrics[0].pods.metric.selector"),
        "{error}"
    );
    // A BudAIScaler with a typo still reports the line in its own file.
    let dir = common::fresh_dir("scenario-import", "typo");
    std::fs::write(
        dir.join("bad.yaml"),
        "apiVersion: scaler.bud.studio/v1alpha1\nkind: BudAIScaler\nmetadata: { name: b }\nspec:\n  maxReplicaz: 3\n",
    )
    .unwrap();
    let error = scenario::parse(
        &scenario_text("  - file: bad.yaml\n"),
        &dir.join("s.yaml"),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("maxReplicaz") && error.contains("line 5"),
        "{error}"
    );
}
