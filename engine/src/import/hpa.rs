//! `autoscaling/v2` HorizontalPodAutoscaler → our HPA strategy.
//!
//! Our HPA is upstream's replica calculator and behavior, so most fields map one to
//! one: `minReplicas` (default 1), `maxReplicas`, `behavior`, and the metrics:
//! - `Resource` (`cpu`/`memory`, `Utilization` or `AverageValue`) → a `resource`
//!   source;
//! - `Pods` (`AverageValue`) → a `pod` source read by name from each pod's scrape;
//! - `External` (`Value` or `AverageValue`) → an `external` source whose value is the
//!   sum over the pods of the series with that name (the simulator has no external
//!   metrics server).
//!
//! Refused: `ContainerResource` (we have per-pod requests, not per-container), `Object`
//! (the described object, an Ingress or a Service, is not simulated), and a metric
//! `selector` (it narrows which series are read; the Observer reads every series of a
//! pod's family, so the selector would silently read more than asked).

use super::{ImportError, ImportKind, Imported, Node, behavior, finish, header};
use serde_json::{Value, json};

pub(super) fn import(root: &Node<'_>) -> Result<Imported, ImportError> {
    root.only(&["apiVersion", "kind", "metadata", "spec", "status"])?;
    let (name, metadata) = header(root)?;
    let spec = root.required("spec")?;
    spec.only(&[
        "scaleTargetRef",
        "minReplicas",
        "maxReplicas",
        "metrics",
        "behavior",
    ])?;
    let mut mapping = Vec::new();
    let target = target_ref(&spec.required("scaleTargetRef")?)?;
    let min = match spec.get("minReplicas") {
        Some(min) => min.int_at_least(0)?,
        None => 1,
    };
    let max = spec.required("maxReplicas")?.int_at_least(1)?;
    mapping.push(format!(
        "spec.minReplicas {min}{} and spec.maxReplicas {max} → minReplicas {min}, maxReplicas {max}",
        if spec.get("minReplicas").is_none() {
            " (default)"
        } else {
            ""
        }
    ));
    let metrics = spec.field("metrics");
    let mut sources = Vec::new();
    let items = metrics.items()?;
    if items.is_empty() {
        mapping.push(
            "spec.metrics absent → metricsSources[0]: resource cpu, Utilization 80 (the HPA's default)"
                .to_string(),
        );
        sources.push(json!({"metricSourceType": "resource", "targetMetric": "cpu", "targetType": "Utilization", "targetValue": "80"}));
    }
    for (i, metric) in items.iter().enumerate() {
        let (source, sentence) = metric_source(metric, i)?;
        sources.push(source);
        mapping.push(sentence);
    }
    let mut out = super::hpa_manifest(metadata, target, min.into(), max.into(), sources);
    if let Some(b) = spec.get("behavior") {
        out["spec"]["behavior"] = behavior(&b, &mut mapping)?;
    }
    mapping.insert(
        0,
        format!(
            "{} {name} → scalingStrategy HPA (upstream's replica calculator and behavior)",
            ImportKind::HorizontalPodAutoscaler
        ),
    );
    finish(ImportKind::HorizontalPodAutoscaler, out, mapping)
}

/// `scaleTargetRef` (`apiVersion`, `kind`, `name`).
pub(super) fn target_ref(node: &Node<'_>) -> Result<Value, ImportError> {
    node.only(&["apiVersion", "kind", "name"])?;
    let mut out = json!({
        "kind": node.get("kind").map(|k| k.str()).transpose()?.unwrap_or("Deployment"),
        "name": node.required("name")?.str()?,
    });
    if let Some(api) = node.get("apiVersion") {
        out["apiVersion"] = Value::String(api.str()?.to_string());
    }
    Ok(out)
}

/// A `MetricTarget` (`type` + `averageUtilization` / `averageValue` / `value`).
fn target(node: &Node<'_>) -> Result<(&'static str, String), ImportError> {
    node.only(&["type", "averageUtilization", "averageValue", "value"])?;
    let kind = node.required("type")?;
    let quantity = |key: &str| -> Result<String, ImportError> {
        let field = node.required(key)?;
        match field.value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(field.refuse(format!("must be a quantity (found {other})"))),
        }
    };
    match kind.str()? {
        "Utilization" => Ok((
            "Utilization",
            node.required("averageUtilization")?
                .int_at_least(1)?
                .to_string(),
        )),
        "AverageValue" => Ok(("AverageValue", quantity("averageValue")?)),
        "Value" => Ok(("Value", quantity("value")?)),
        other => Err(kind.refuse(format!(
            "must be Utilization, AverageValue or Value (found {other})"
        ))),
    }
}

/// `{ name, selector }` of a Pods or External metric; a selector is refused.
fn metric_name<'a>(node: &Node<'a>) -> Result<&'a str, ImportError> {
    node.only(&["name", "selector"])?;
    if let Some(selector) = node.get("selector") {
        return Err(selector.refuse(
            "a metric selector narrows which series are read; the Observer reads every series \
             of the family on each pod, so it would silently read more than asked (remove the \
             selector when every series of the pods belongs to this workload)",
        ));
    }
    node.required("name")?.str()
}

fn metric_source(metric: &Node<'_>, i: usize) -> Result<(Value, String), ImportError> {
    let kind = metric.required("type")?;
    let to = format!("metricsSources[{i}]");
    match kind.str()? {
        "Resource" => {
            metric.only(&["type", "resource"])?;
            let resource = metric.required("resource")?;
            resource.only(&["name", "target"])?;
            let name_node = resource.required("name")?;
            let name = name_node.str()?;
            if name != "cpu" && name != "memory" {
                return Err(name_node.refuse(format!("must be cpu or memory (found {name})")));
            }
            let (target_type, value) = target(&resource.required("target")?)?;
            if target_type == "Value" {
                return Err(resource
                    .field("target")
                    .field("type")
                    .refuse("a Resource metric takes Utilization or AverageValue"));
            }
            Ok((
                json!({"metricSourceType": "resource", "targetMetric": name, "targetType": target_type, "targetValue": value}),
                format!("{}: Resource {name} {target_type} {value} → {to}: resource {name}, {target_type} {value}", metric.path),
            ))
        }
        "Pods" => {
            metric.only(&["type", "pods"])?;
            let pods = metric.required("pods")?;
            pods.only(&["metric", "target"])?;
            let name = metric_name(&pods.required("metric")?)?;
            let target_node = pods.required("target")?;
            let (target_type, value) = target(&target_node)?;
            if target_type != "AverageValue" {
                return Err(target_node
                    .field("type")
                    .refuse(format!("a Pods metric takes AverageValue (found {target_type})")));
            }
            Ok((
                json!({"metricSourceType": "pod", "targetMetric": name, "targetType": "AverageValue", "targetValue": value}),
                format!("{}: Pods {name} AverageValue {value} → {to}: pod {name}, AverageValue {value} (read from each pod's scrape by that name or a known alias)", metric.path),
            ))
        }
        "External" => {
            metric.only(&["type", "external"])?;
            let external = metric.required("external")?;
            external.only(&["metric", "target"])?;
            let name = metric_name(&external.required("metric")?)?;
            let target_node = external.required("target")?;
            let (target_type, value) = target(&target_node)?;
            if target_type == "Utilization" {
                return Err(target_node
                    .field("type")
                    .refuse("an External metric takes Value or AverageValue"));
            }
            Ok((
                json!({"metricSourceType": "external", "targetMetric": name, "targetType": target_type, "targetValue": value}),
                format!("{}: External {name} {target_type} {value} → {to}: external {name}, {target_type} {value} (its value: the sum over the pods of their `{name}` series)", metric.path),
            ))
        }
        "ContainerResource" => Err(kind.refuse(
            "ContainerResource is not simulated: our utilization is per pod (the sum of its containers' requests); use a Resource metric",
        )),
        "Object" => Err(kind.refuse(
            "Object metrics describe another object (an Ingress, a Service) that the simulation does not have; use a Pods or External metric",
        )),
        other => Err(kind.refuse(format!(
            "must be Resource, Pods or External (found {other})"
        ))),
    }
}
