//! `timeZone` on `spec.scheduleHints[]` and `spec.predictionConfig`: IANA names, UTC by
//! default, unknown names reported with their field path alongside every other problem.

use engine::calendar::{Zone, active};
use engine::spec::BudAIScaler;

const BASE: &str = "
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: { name: web }
spec:
  scaleTargetRef: { kind: Deployment, name: web }
  maxReplicas: 10
  scalingStrategy: BudScaler
  metricsSources:
    - { metricSourceType: resource, targetMetric: cpu, targetValue: '80' }
";

fn parse(extra: &str) -> BudAIScaler {
    serde_saphyr::from_str(&format!("{BASE}{extra}")).expect("test manifest parses")
}

#[test]
fn zones_default_to_utc() {
    let spec = parse(
        "  scheduleHints:\n    - { name: am, cronExpression: '0 9 * * 1-5', targetReplicas: 4, duration: 2h }\n",
    )
    .resolved()
    .unwrap();
    assert_eq!(spec.schedule_hints[0].time_zone, Zone::UTC);
    assert_eq!(spec.prediction.time_zone, Zone::UTC);
}

#[test]
fn zones_are_parsed_and_used() {
    let spec = parse(
        "  scheduleHints:\n    - { name: am, cronExpression: '0 9 * * 1-5', targetReplicas: 4, duration: 2h, timeZone: Europe/Berlin }\n  predictionConfig: { timeZone: America/New_York }\n",
    )
    .resolved()
    .unwrap();
    let berlin = Zone::from_iana("Europe/Berlin").unwrap();
    assert_eq!(spec.schedule_hints[0].time_zone, berlin);
    assert_eq!(spec.prediction.time_zone.name(), "America/New_York");
    // Monday 2025-01-06 09:00 CET is 08:00Z.
    let monday_8z = 1_736_150_400_000_000;
    let hint = active(&spec.schedule_hints, monday_8z).unwrap();
    assert_eq!((hint.name.as_str(), hint.fired_at), ("am", monday_8z));
    assert_eq!(active(&spec.schedule_hints, monday_8z - 1), None);
    // The resolved spec names the zone, not chrono's variant.
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(json["scheduleHints"][0]["timeZone"], "Europe/Berlin");
    assert_eq!(json["prediction"]["timeZone"], "America/New_York");
}

#[test]
fn unknown_zones_are_reported_with_their_paths() {
    let err = parse(
        "  scheduleHints:\n    - { name: am, cronExpression: '0 9 * * 1-5', targetReplicas: 4, duration: 2h, timeZone: Mars/Base }\n    - { name: pm, cronExpression: '0 25 * * *', targetReplicas: 4, duration: 2h, timeZone: europe/berlin }\n  predictionConfig: { lookAheadMinutes: 2, timeZone: CEST }\n",
    )
    .validate()
    .unwrap_err();
    assert_eq!(
        err.lines(),
        [
            "spec.predictionConfig.lookAheadMinutes: must be in 5..=60 (found 2)",
            "spec.predictionConfig.timeZone: unknown IANA time zone (found CEST)",
            "spec.scheduleHints[0].timeZone: unknown IANA time zone (found Mars/Base)",
            r#"spec.scheduleHints[1].cronExpression: invalid cron expression "0 25 * * *": hour field: 25 is out of range 0..=23"#,
            "spec.scheduleHints[1].timeZone: unknown IANA time zone (found europe/berlin)",
        ]
    );
}

#[test]
fn time_zones_round_trip_as_written() {
    let scaler = parse(
        "  scheduleHints:\n    - { name: am, cronExpression: '@daily', targetReplicas: 1, duration: 1h, timeZone: Asia/Kolkata }\n  predictionConfig: { timeZone: UTC }\n",
    );
    let json = serde_json::to_string(&scaler).unwrap();
    assert!(json.contains(r#""timeZone":"Asia/Kolkata""#), "{json}");
    let back: BudAIScaler = serde_json::from_str(&json).unwrap();
    assert_eq!(back, scaler);
    assert_eq!(back.resolved(), scaler.resolved());
}
