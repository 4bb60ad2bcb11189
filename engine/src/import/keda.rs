//! KEDA `ScaledObject` (`keda.sh/v1alpha1`) → our HPA strategy.
//!
//! KEDA runs a Kubernetes HPA whose metrics are its triggers (as external metrics),
//! plus its own 0 ↔ 1 activation. We map:
//! - `minReplicaCount` (default 0) and `maxReplicaCount` (default 100);
//! - `prometheus` triggers whose `query` is one of [`super::promql`]'s shapes:
//!   `sum(...)` with `metricType: AverageValue` (KEDA's default) asks
//!   `ceil(total ÷ threshold)` replicas, which is our HPA's External AverageValue
//!   exactly, so it becomes an `external` source; `sum(...)` with `Value` is External
//!   Value (`ceil(current × total ÷ threshold)`); `avg(...)` with `Value` is the
//!   per-pod average against the threshold, our `pod` AverageValue;
//! - `cpu` / `memory` triggers → `resource` sources;
//! - `cron` triggers → `scheduleHints` (the HPA joins an active hint's
//!   `targetReplicas` to its metric proposals, as KEDA's cron scaler does);
//! - `advanced.horizontalPodAutoscalerConfig.behavior` → `behavior`.
//!
//! `pollingInterval` is not a manifest field: it is said in the mapping. `cooldownPeriod`
//! and `fallback` are refused when they would change anything (see each check).

use super::promql::{self, Aggregation};
use super::{ImportError, ImportKind, Imported, Node, behavior, finish, header};
use serde_json::{Value, json};

pub(super) fn import(root: &Node<'_>) -> Result<Imported, ImportError> {
    root.only(&["apiVersion", "kind", "metadata", "spec", "status"])?;
    let (name, metadata) = header(root)?;
    let spec = root.required("spec")?;
    spec.only(&[
        "scaleTargetRef",
        "pollingInterval",
        "cooldownPeriod",
        "initialCooldownPeriod",
        "idleReplicaCount",
        "minReplicaCount",
        "maxReplicaCount",
        "fallback",
        "advanced",
        "triggers",
    ])?;
    let mut mapping = vec![format!(
        "{} {name} → scalingStrategy HPA (KEDA drives a Kubernetes HPA whose metrics are its triggers)",
        ImportKind::KedaScaledObject
    )];
    let target_node = spec.required("scaleTargetRef")?;
    target_node.only(&["apiVersion", "kind", "name", "envSourceContainerName"])?;
    let target = super::hpa::target_ref(&Node {
        value: &strip(target_node.value, "envSourceContainerName"),
        path: target_node.path.clone(),
    })?;

    let min = match spec.get("minReplicaCount") {
        Some(min) => min.int_at_least(0)?,
        None => 0,
    };
    let max = match spec.get("maxReplicaCount") {
        Some(max) => max.int_at_least(1)?,
        None => 100,
    };
    let default = |key: &str| {
        if spec.get(key).is_none() {
            " (KEDA's default)"
        } else {
            ""
        }
    };
    mapping.push(format!(
        "spec.minReplicaCount {min}{} and spec.maxReplicaCount {max}{} → minReplicas {min}, maxReplicas {max}",
        default("minReplicaCount"),
        default("maxReplicaCount")
    ));

    let polling = match spec.get("pollingInterval") {
        Some(p) => p.int_at_least(1)?,
        None => 30,
    };
    mapping.push(format!(
        "spec.pollingInterval {polling}s{} → not a manifest field: KEDA polls triggers every {polling}s only to activate (0 ↔ 1) and the HPA reads metrics every sync period; in the simulator both follow fleet.sync_period",
        default("pollingInterval")
    ));
    if let Some(idle) = spec.get("idleReplicaCount") {
        return Err(idle.refuse(
            "an idle replica count below minReplicaCount is KEDA's own activation step, which our HPA does not have",
        ));
    }
    if let Some(initial) = spec.get("initialCooldownPeriod")
        && initial.int()? != 0
    {
        return Err(initial.refuse(
            "KEDA's delay before the first scale to zero is not simulated (our HPA scales from its first decision)",
        ));
    }
    match spec.get("cooldownPeriod") {
        Some(cooldown) if min == 0 => {
            return Err(cooldown.refuse(
                "KEDA waits cooldownPeriod after the last active trigger before scaling to 0; our HPA has no \
                 separate scale-to-zero cooldown (its last step to 0 follows behavior.scaleDown, whose default \
                 300 s stabilization matches KEDA's default cooldown): remove cooldownPeriod, or set \
                 minReplicaCount >= 1",
            ));
        }
        Some(cooldown) => mapping.push(format!(
            "spec.cooldownPeriod {}s → dropped: KEDA uses it only to scale to 0, and minReplicaCount is {min}",
            cooldown.int()?
        )),
        None if min == 0 => mapping.push(
            "spec.cooldownPeriod 300s (KEDA's default) → the last step to 0 follows behavior.scaleDown (default stabilization 300 s)"
                .to_string(),
        ),
        None => {}
    }
    if let Some(fallback) = spec.get("fallback") {
        return Err(fallback.refuse(
            "KEDA's fallback (a fixed replica count after failureThreshold failed metric reads) is not in our HPA; \
             when every metric fails our HPA keeps the current count, as Kubernetes' does",
        ));
    }

    let mut out_behavior = None;
    if let Some(advanced) = spec.get("advanced") {
        advanced.only(&[
            "restoreToOriginalReplicaCount",
            "horizontalPodAutoscalerConfig",
            "scalingModifiers",
        ])?;
        if let Some(modifiers) = advanced.get("scalingModifiers") {
            return Err(modifiers.refuse(
                "a formula over the triggers' metrics is not in our HPA, which takes the largest proposal",
            ));
        }
        if let Some(restore) = advanced.get("restoreToOriginalReplicaCount") {
            mapping.push(format!(
                "{} → dropped: it acts only when the ScaledObject is deleted",
                restore.path
            ));
        }
        if let Some(config) = advanced.get("horizontalPodAutoscalerConfig") {
            config.only(&["name", "behavior"])?;
            if let Some(b) = config.get("behavior") {
                out_behavior = Some(behavior(&b, &mut mapping)?);
            }
        }
    }

    let triggers_node = spec.required("triggers")?;
    let triggers = triggers_node.items()?;
    let mut sources = Vec::new();
    let mut hints = Vec::new();
    for (i, trigger) in triggers.iter().enumerate() {
        trigger.only(&[
            "type",
            "name",
            "metadata",
            "metricType",
            "authenticationRef",
            "useCachedMetrics",
        ])?;
        let kind = trigger.required("type")?;
        match kind.str()? {
            "prometheus" => {
                let (source, sentence) = prometheus(trigger, i, sources.len(), min)?;
                sources.push(source);
                mapping.push(sentence);
            }
            "cpu" | "memory" => {
                let (source, sentence) = resource(trigger, i, sources.len())?;
                sources.push(source);
                mapping.push(sentence);
            }
            "cron" => {
                let (hint, sentence) = cron(trigger, i, hints.len(), min, max)?;
                hints.push(hint);
                mapping.push(sentence);
            }
            other => {
                return Err(kind.refuse(format!(
                    "the {other} scaler is not simulated (imported: prometheus, cpu, memory, cron)"
                )));
            }
        }
    }
    if sources.is_empty() {
        return Err(triggers_node.refuse(
            "needs at least one prometheus, cpu or memory trigger: our HPA needs a metric beside its schedule hints",
        ));
    }
    if min == 0 && !sources.iter().any(|s| s["metricSourceType"] == "external") {
        return Err(spec.field("minReplicaCount").refuse(format!(
            "{} scales to 0, which our HPA (as Kubernetes' HPAScaleToZero) does only with a workload-level \
             metric: a prometheus trigger with sum(...); set minReplicaCount >= 1",
            if spec.get("minReplicaCount").is_none() {
                "0 (KEDA's default)"
            } else {
                "0"
            }
        )));
    }

    let mut out = super::hpa_manifest(metadata, target, min.into(), max.into(), sources);
    if !hints.is_empty() {
        out["spec"]["scheduleHints"] = Value::Array(hints);
    }
    if let Some(b) = out_behavior {
        out["spec"]["behavior"] = b;
    }
    finish(ImportKind::KedaScaledObject, out, mapping)
}

fn strip(value: &Value, key: &str) -> Value {
    let mut value = value.clone();
    if let Some(object) = value.as_object_mut() {
        object.remove(key);
    }
    value
}

fn metric_type<'a>(trigger: &Node<'a>, default: &'static str) -> Result<String, ImportError> {
    match trigger.get("metricType") {
        None => Ok(default.to_string()),
        Some(node) => Ok(node.str()?.to_string()),
    }
}

fn threshold_text(node: &Node<'_>) -> Result<String, ImportError> {
    let value = node.number()?;
    if value <= 0.0 {
        return Err(node.refuse(format!("must be > 0 (found {value})")));
    }
    Ok(match node.value {
        Value::String(s) => s.trim().to_string(),
        _ => value.to_string(),
    })
}

fn prometheus(
    trigger: &Node<'_>,
    i: usize,
    index: usize,
    min: i32,
) -> Result<(Value, String), ImportError> {
    let metadata = trigger.required("metadata")?;
    metadata.only(&[
        "serverAddress",
        "query",
        "threshold",
        "activationThreshold",
        "namespace",
        "customHeaders",
        "ignoreNullValues",
        "unsafeSsl",
        "queryParameters",
        "authModes",
        "timeout",
    ])?;
    let query_node = metadata.required("query")?;
    let text = query_node.str()?;
    let query = promql::parse(text).map_err(|why| query_node.refuse(why))?;
    let threshold = threshold_text(&metadata.required("threshold")?)?;
    if let Some(activation) = metadata.get("activationThreshold")
        && activation.number()? != 0.0
        && min == 0
    {
        return Err(activation.refuse(
            "KEDA's activation threshold (when to leave 0) is not in our HPA, which leaves 0 as soon as the metric proposes a replica",
        ));
    }
    let metric_type_node = trigger.field("metricType");
    let metric_type = metric_type(trigger, "AverageValue")?;
    let to = format!("metricsSources[{index}]");
    let what = match &query.rate_window {
        Some(window) => format!(
            "the per-second rate of `{}` (over each pod's scrape interval, not [{window}]) summed over the pods",
            query.metric
        ),
        None => format!(
            "`{}` {} over the pods",
            query.metric,
            match query.aggregation {
                Aggregation::Sum => "summed",
                Aggregation::Avg => "averaged",
                Aggregation::Max => "the largest",
            }
        ),
    };
    let labels = if query.matchers.is_empty() {
        String::new()
    } else {
        format!(
            "; label matchers {{{}}} taken as selecting the scaled workload's pods",
            query.matchers.join(", ")
        )
    };
    let (source, how) = match (query.aggregation, metric_type.as_str()) {
        (Aggregation::Sum, "AverageValue") => (
            json!({"metricSourceType": "external", "targetMetric": query.metric, "targetType": "AverageValue", "targetValue": threshold}),
            format!(
                "external {}, AverageValue {threshold}: ceil(total ÷ {threshold}) replicas, as KEDA's AverageValue",
                query.metric
            ),
        ),
        (Aggregation::Sum, "Value") => (
            json!({"metricSourceType": "external", "targetMetric": query.metric, "targetType": "Value", "targetValue": threshold}),
            format!(
                "external {}, Value {threshold}: ceil(current × total ÷ {threshold}) replicas, as KEDA's Value",
                query.metric
            ),
        ),
        (Aggregation::Avg, "Value") => (
            json!({"metricSourceType": "pod", "targetMetric": query.metric, "targetType": "AverageValue", "targetValue": threshold}),
            format!(
                "pod {}, AverageValue {threshold}: the per-pod average against {threshold}, ceil(ready × average ÷ {threshold}) replicas (KEDA's Value on an average)",
                query.metric
            ),
        ),
        (Aggregation::Avg, "AverageValue") => {
            return Err(query_node.refuse(
                "avg(...) with metricType AverageValue (KEDA's default) asks ceil(average ÷ threshold) replicas \
                 whatever the fleet's size; write sum(...) for a per-replica share of the total, or \
                 metricType: Value to keep the average per replica at the threshold",
            ));
        }
        (Aggregation::Max, _) => {
            return Err(query_node.refuse(
                "max(...) over pods is not a signal the Observer computes (it sums or averages pods); use sum(...) or avg(...)",
            ));
        }
        (_, "Utilization") => {
            return Err(metric_type_node
                .refuse("Utilization applies to cpu and memory triggers, not prometheus"));
        }
        (_, other) => {
            return Err(
                metric_type_node.refuse(format!("must be AverageValue or Value (found {other})"))
            );
        }
    };
    Ok((
        source,
        format!(
            "KEDA trigger {i} (prometheus `{text}`, threshold {threshold}, metricType {metric_type}) → {to}: {how}; {what}{labels}"
        ),
    ))
}

fn resource(trigger: &Node<'_>, i: usize, index: usize) -> Result<(Value, String), ImportError> {
    let name = trigger.required("type")?.str()?;
    let metadata = trigger.required("metadata")?;
    metadata.only(&["value", "type", "containerName"])?;
    if let Some(container) = metadata.get("containerName") {
        return Err(container.refuse(
            "a per-container resource metric is not simulated: our utilization is per pod",
        ));
    }
    // `metadata.type` is KEDA's deprecated spelling of `metricType`.
    let metric_type = match metadata.get("type") {
        Some(t) => t.str()?.to_string(),
        None => metric_type(trigger, "Utilization")?,
    };
    let value_node = metadata.required("value")?;
    let value = threshold_text(&value_node)?;
    if metric_type != "Utilization" && metric_type != "AverageValue" {
        return Err(trigger.field("metricType").refuse(format!(
            "must be Utilization or AverageValue (found {metric_type})"
        )));
    }
    Ok((
        json!({"metricSourceType": "resource", "targetMetric": name, "targetType": metric_type, "targetValue": value}),
        format!(
            "KEDA trigger {i} ({name}, {metric_type} {value}) → metricsSources[{index}]: resource {name}, {metric_type} {value}"
        ),
    ))
}

/// `m h dom mon dow`: the minute and hour when both are plain numbers.
fn minute_and_hour(text: &str) -> Option<(u32, u32, Vec<&str>)> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 5 {
        return None;
    }
    let minute: u32 = fields[0].parse().ok().filter(|m| *m < 60)?;
    let hour: u32 = fields[1].parse().ok().filter(|h| *h < 24)?;
    Some((minute, hour, fields[2..].to_vec()))
}

fn cron(
    trigger: &Node<'_>,
    i: usize,
    index: usize,
    min: i32,
    max: i32,
) -> Result<(Value, String), ImportError> {
    let metadata = trigger.required("metadata")?;
    metadata.only(&["timezone", "start", "end", "desiredReplicas"])?;
    let zone = metadata.required("timezone")?.str()?;
    let start_node = metadata.required("start")?;
    let end_node = metadata.required("end")?;
    let (start, end) = (start_node.str()?, end_node.str()?);
    let plain = "must be a 5-field cron with a plain minute and hour (e.g. `0 8 * * 1-5`) so the window's length is known";
    let (sm, sh, s_rest) = minute_and_hour(start).ok_or_else(|| start_node.refuse(plain))?;
    let (em, eh, e_rest) = minute_and_hour(end).ok_or_else(|| end_node.refuse(plain))?;
    if s_rest != e_rest {
        return Err(end_node.refuse(format!(
            "differs from start `{start}` in its day fields; only windows whose start and end differ in minute and hour map to cronExpression + duration"
        )));
    }
    let mut minutes = i64::from(eh * 60 + em) - i64::from(sh * 60 + sm);
    let wraps = minutes <= 0;
    if wraps {
        if s_rest.iter().any(|f| *f != "*") {
            return Err(end_node.refuse(format!(
                "ends past midnight while the day fields `{}` restrict the days: KEDA's end would fire on the next matching day, not the next day",
                s_rest.join(" ")
            )));
        }
        minutes += 24 * 60;
    }
    let desired_node = metadata.required("desiredReplicas")?;
    let desired = desired_node.int_at_least(1)?;
    if desired < min || desired > max {
        return Err(desired_node.refuse(format!(
            "must be within minReplicaCount..=maxReplicaCount ({min}..={max}) (found {desired})"
        )));
    }
    let name = match trigger.get("name") {
        Some(n) => n.str()?.to_string(),
        None => format!("cron-{i}"),
    };
    let duration = format!("{}h{}m", minutes / 60, minutes % 60);
    Ok((
        json!({"name": name, "cronExpression": start, "duration": duration, "targetReplicas": desired, "timeZone": zone}),
        format!(
            "KEDA trigger {i} (cron `{start}` to `{end}` in {zone}, desiredReplicas {desired}) → scheduleHints[{index}] {name}: cronExpression `{start}`, duration {duration}{}, targetReplicas {desired}, timeZone {zone}; while active it joins the metric proposals, as KEDA's cron scaler",
            if wraps { " (past midnight)" } else { "" }
        ),
    ))
}
