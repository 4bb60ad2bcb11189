//! Knative `Service` (`serving.knative.dev/v1`) → our KPA or HPA strategy.
//!
//! Knative reads its autoscaler from `autoscaling.knative.dev/*` annotations on the
//! revision template (`spec.template.metadata.annotations`). Class
//! `kpa.autoscaling.knative.dev` (the default) becomes our KPA, whose knobs are
//! `spec.kpaConfig`; class `hpa.autoscaling.knative.dev` becomes our HPA on cpu or
//! memory. Defaults are Knative's (`config-autoscaler`): metric `concurrency`, target
//! 100 concurrent requests (200 for `rps`), target utilization 70%, min-scale 0.
//!
//! Our KPA's `targetValue` is the target *after* utilization (Knative's
//! target × target-utilization-percentage ÷ 100), so the importer multiplies the two.
//! Unknown `autoscaling.knative.dev/*` annotations are refused with their path; other
//! annotations and the containers are not autoscaler settings and are not read (the
//! served model and GPUs come from the scenario's fleet).

use super::{ImportError, ImportKind, Imported, Node, finish, header};
use serde_json::{Value, json};

const PREFIX: &str = "autoscaling.knative.dev/";
const KPA: &str = "kpa.autoscaling.knative.dev";
const HPA: &str = "hpa.autoscaling.knative.dev";

/// Knative's `container-concurrency-target-default`.
const DEFAULT_CONCURRENCY_TARGET: f64 = 100.0;
/// Knative's `requests-per-second-target-default`.
const DEFAULT_RPS_TARGET: f64 = 200.0;
/// Knative's `container-concurrency-target-percentage`.
const DEFAULT_UTILIZATION: f64 = 70.0;

/// Annotations and the `kpaConfig` field each sets (KPA class only).
const KPA_KNOBS: [(&str, &str); 7] = [
    ("window", "stableWindow"),
    ("panic-window-percentage", "panicWindowPercentage"),
    ("panic-threshold-percentage", "panicThresholdPercentage"),
    ("scale-down-delay", "scaleDownDelay"),
    ("activation-scale", "activationScale"),
    (
        "scale-to-zero-pod-retention-period",
        "scaleToZeroPodRetentionPeriod",
    ),
    ("target-burst-capacity", "targetBurstCapacity"),
];

/// Every annotation read, with the legacy camelCase spellings Knative still accepts.
const KNOWN: [&str; 17] = [
    "class",
    "metric",
    "target",
    "target-utilization-percentage",
    "min-scale",
    "max-scale",
    "initial-scale",
    "minScale",
    "maxScale",
    "initialScale",
    "window",
    "panic-window-percentage",
    "panic-threshold-percentage",
    "scale-down-delay",
    "activation-scale",
    "scale-to-zero-pod-retention-period",
    "target-burst-capacity",
];

struct Annotations<'a> {
    node: Node<'a>,
}

impl<'a> Annotations<'a> {
    fn get(&self, key: &str) -> Option<Node<'a>> {
        self.node.get(&format!("{PREFIX}{key}"))
    }

    /// `min-scale` or its legacy `minScale`.
    fn scale(&self, key: &str, legacy: &str) -> Option<Node<'a>> {
        self.get(key).or_else(|| self.get(legacy))
    }

    fn field(&self, key: &str) -> Node<'a> {
        self.node.field(&format!("{PREFIX}{key}"))
    }
}

fn quantity(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

pub(super) fn import(root: &Node<'_>) -> Result<Imported, ImportError> {
    root.only(&["apiVersion", "kind", "metadata", "spec", "status"])?;
    let (name, metadata) = header(root)?;
    let spec = root.required("spec")?;
    spec.only(&["template", "traffic"])?;
    let template = spec.required("template")?;
    template.only(&["metadata", "spec"])?;
    let template_meta = template.field("metadata");
    let annotations = Annotations {
        node: template_meta.field("annotations"),
    };
    if let Some(object) = annotations.node.value.as_object() {
        for key in object.keys() {
            if let Some(knob) = key.strip_prefix(PREFIX)
                && !KNOWN.contains(&knob)
            {
                return Err(annotations.node.field(key).refuse(format!(
                    "not an autoscaling annotation the importer maps (it reads: {})",
                    KNOWN.join(", ")
                )));
            }
        }
    }
    let class = match annotations.get("class") {
        Some(c) => c.str()?.to_string(),
        None => KPA.to_string(),
    };
    let mut mapping = Vec::new();
    let target_ref =
        json!({"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": name});
    let max_node = annotations.scale("max-scale", "maxScale");
    let max = match &max_node {
        Some(node) => node.int_at_least(0)?,
        None => 0,
    };
    if max == 0 {
        return Err(max_node.unwrap_or_else(|| annotations.field("max-scale")).refuse(
            "max-scale 0 (Knative's default: unbounded) has no equivalent: our maxReplicas is required; write the largest fleet the service may have",
        ));
    }
    let min_node = annotations.scale("min-scale", "minScale");
    let min = match &min_node {
        Some(node) => node.int_at_least(0)?,
        None => 0,
    };
    let container_concurrency = match template.field("spec").get("containerConcurrency") {
        Some(cc) => cc.int_at_least(0)?,
        None => 0,
    };

    let out_spec = match class.as_str() {
        KPA => kpa(&annotations, min, max, container_concurrency, &mut mapping)?,
        HPA => hpa(&annotations, min, max, &mut mapping)?,
        other => {
            return Err(annotations
                .field("class")
                .refuse(format!("must be {KPA} or {HPA} (found {other})")));
        }
    };
    let mut out = json!({
        "apiVersion": crate::spec::API_VERSION,
        "kind": crate::spec::KIND,
        "metadata": metadata,
        "spec": out_spec,
    });
    out["spec"]["scaleTargetRef"] = target_ref;
    if template.field("spec").get("containers").is_some() {
        mapping.push(
            "spec.template.spec.containers → not read: the served model, engine and GPUs come from the scenario's fleet"
                .to_string(),
        );
    }
    if let Some(traffic) = spec.get("traffic") {
        mapping.push(format!(
            "{} → not read: one revision takes all the traffic in the simulation",
            traffic.path
        ));
    }
    finish(ImportKind::KnativeService, out, mapping)
}

fn kpa(
    a: &Annotations<'_>,
    min: i32,
    max: i32,
    container_concurrency: i32,
    mapping: &mut Vec<String>,
) -> Result<Value, ImportError> {
    mapping.push(format!(
        "{} with class {KPA}{} → scalingStrategy KPA (Knative's decider)",
        ImportKind::KnativeService,
        if a.get("class").is_none() {
            " (the default)"
        } else {
            ""
        }
    ));
    let metric_node = a.field("metric");
    let metric = match a.get("metric") {
        Some(m) => m.str()?.to_string(),
        None => "concurrency".to_string(),
    };
    let (target_metric, default_target, unit) = match metric.as_str() {
        "concurrency" => (
            "concurrency",
            DEFAULT_CONCURRENCY_TARGET,
            "concurrent requests",
        ),
        "rps" => (
            "requests_per_second",
            DEFAULT_RPS_TARGET,
            "requests per second",
        ),
        other => {
            return Err(metric_node.refuse(format!(
                "class {KPA} scales on concurrency or rps (found {other}); Knative itself refuses it: use class {HPA} for cpu or memory"
            )));
        }
    };
    let (target, target_said) = match a.get("target") {
        Some(node) => {
            let written = node.number()?;
            if written <= 0.0 {
                return Err(node.refuse(format!("must be > 0 (found {written})")));
            }
            if metric == "concurrency" && container_concurrency > 0 {
                let cc = f64::from(container_concurrency);
                (
                    written.min(cc),
                    format!(
                        "target {written}, capped by containerConcurrency {container_concurrency}"
                    ),
                )
            } else {
                (written, format!("target {written}"))
            }
        }
        None if metric == "concurrency" && container_concurrency > 0 => (
            f64::from(container_concurrency),
            format!(
                "containerConcurrency {container_concurrency} as the target (no target annotation)"
            ),
        ),
        None => (
            default_target,
            format!("target {default_target} (Knative's default)"),
        ),
    };
    let (utilization, util_said) = match a.get("target-utilization-percentage") {
        Some(node) => {
            let u = node.number()?;
            if !(u > 0.0 && u <= 100.0) {
                return Err(node.refuse(format!("must be in (0, 100] (found {u})")));
            }
            (u, format!("target-utilization-percentage {u}"))
        }
        None => (
            DEFAULT_UTILIZATION,
            format!("target-utilization-percentage {DEFAULT_UTILIZATION} (Knative's default)"),
        ),
    };
    let value = quantity(target * utilization / 100.0);
    if value == "0" {
        return Err(a
            .field("target")
            .refuse("target × utilization rounds to 0 at milli precision"));
    }
    mapping.push(format!(
        "metric {metric}{}, {target_said}, {util_said} → metricsSources[0]: pod {target_metric}, AverageValue {value} ({unit} per pod = target × utilization ÷ 100; our KPA's targetValue is the target after utilization){}",
        if a.get("metric").is_none() {
            " (the default)"
        } else {
            ""
        },
        if metric == "rps" {
            "; requests per second per pod is the windowed rate of each pod's finished-request counter"
        } else {
            "; concurrency per pod is running + waiting requests"
        }
    ));
    let mut kpa = serde_json::Map::new();
    for (annotation, field) in KPA_KNOBS {
        let Some(node) = a.get(annotation) else {
            continue;
        };
        let value = match field {
            "stableWindow" | "scaleDownDelay" | "scaleToZeroPodRetentionPeriod" => {
                Value::String(node.str()?.to_string())
            }
            "activationScale" => Value::from(node.int_at_least(1)?),
            _ => Value::from(node.number()?),
        };
        mapping.push(format!(
            "{} {} → kpaConfig.{field}",
            node.path,
            match &value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        ));
        kpa.insert(field.to_string(), value);
    }
    if let Some(node) = a.scale("initial-scale", "initialScale") {
        let initial = node.int_at_least(0)?;
        kpa.insert("initialScale".into(), initial.into());
        if initial == 0 {
            kpa.insert("allowZeroInitialScale".into(), true.into());
        }
        mapping.push(format!(
            "{} {initial} → kpaConfig.initialScale {initial}{}",
            node.path,
            if initial == 0 {
                ", allowZeroInitialScale true (Knative also needs allow-zero-initial-scale in config-autoscaler)"
            } else {
                ""
            }
        ));
    }
    mapping.push(format!(
        "min-scale {min}{} and max-scale {max} → minReplicas {min}, maxReplicas {max}{}",
        if a.scale("min-scale", "minScale").is_none() {
            " (Knative's default)"
        } else {
            ""
        },
        if min == 0 {
            " (scale to zero, as Knative's enable-scale-to-zero default)"
        } else {
            ""
        }
    ));
    let mut spec = json!({
        "scalingStrategy": "KPA",
        "minReplicas": min,
        "maxReplicas": max,
        "metricsSources": [
            {"metricSourceType": "pod", "targetMetric": target_metric, "targetType": "AverageValue", "targetValue": value}
        ],
    });
    if !kpa.is_empty() {
        spec["kpaConfig"] = Value::Object(kpa);
    }
    Ok(spec)
}

fn hpa(
    a: &Annotations<'_>,
    min: i32,
    max: i32,
    mapping: &mut Vec<String>,
) -> Result<Value, ImportError> {
    mapping.push(format!(
        "{} with class {HPA} → scalingStrategy HPA (Knative creates a Kubernetes HPA)",
        ImportKind::KnativeService
    ));
    for (annotation, _) in KPA_KNOBS {
        if let Some(node) = a.get(annotation) {
            return Err(node.refuse(format!("applies to class {KPA} only")));
        }
    }
    for (key, legacy) in [
        ("initial-scale", "initialScale"),
        (
            "target-utilization-percentage",
            "target-utilization-percentage",
        ),
    ] {
        if let Some(node) = a.scale(key, legacy) {
            return Err(node.refuse(format!(
                "applies to class {KPA} only (the HPA's target is the target annotation)"
            )));
        }
    }
    let metric_node = a.field("metric");
    let metric = match a.get("metric") {
        Some(m) => m.str()?.to_string(),
        None => "cpu".to_string(),
    };
    let target_node = a.get("target").ok_or_else(|| {
        a.field("target").refuse(format!(
            "is required with class {HPA}: the {metric} target (a utilization percentage for cpu, MiB per pod for memory)"
        ))
    })?;
    let target = target_node.number()?;
    let source = match metric.as_str() {
        "cpu" => {
            if target.fract() != 0.0 || target < 1.0 {
                return Err(target_node.refuse(format!(
                    "must be a whole percentage >= 1 for cpu (found {target})"
                )));
            }
            mapping.push(format!(
                "metric cpu{}, target {target} → metricsSources[0]: resource cpu, Utilization {target}",
                if a.get("metric").is_none() {
                    " (the default for class hpa)"
                } else {
                    ""
                }
            ));
            json!({"metricSourceType": "resource", "targetMetric": "cpu", "targetType": "Utilization", "targetValue": quantity(target)})
        }
        "memory" => {
            let value = format!("{}Mi", quantity(target));
            mapping.push(format!(
                "metric memory, target {target} → metricsSources[0]: resource memory, AverageValue {value} (Knative's memory target is MiB per pod)"
            ));
            json!({"metricSourceType": "resource", "targetMetric": "memory", "targetType": "AverageValue", "targetValue": value})
        }
        other => {
            return Err(metric_node.refuse(format!(
                "class {HPA} is imported for cpu or memory (found {other}); custom metrics need Knative's metrics adapter, which is not simulated"
            )));
        }
    };
    let hpa_min = min.max(1);
    mapping.push(format!(
        "min-scale {min} and max-scale {max} → minReplicas {hpa_min}, maxReplicas {max}{}",
        if min == 0 {
            " (class hpa does not scale to zero)"
        } else {
            ""
        }
    ));
    Ok(json!({
        "scalingStrategy": "HPA",
        "minReplicas": hpa_min,
        "maxReplicas": max,
        "metricsSources": [source],
    }))
}
