//! Importing what users already run: a Kubernetes `autoscaling/v2`
//! HorizontalPodAutoscaler, a KEDA `ScaledObject` or a Knative `Service` becomes a
//! [`BudAIScaler`] manifest, with one sentence per mapped field saying what it became.
//!
//! [`import`] detects the source by `apiVersion`/`kind`. A `BudAIScaler` passes through
//! unchanged. What cannot be mapped faithfully is refused with the field path *in the
//! imported file* (`spec.triggers[1].metadata.query`) and the reason; fields the
//! importer does not know are refused too, so nothing is silently dropped.
//!
//! Pure: it reads a `serde_json::Value` (the simulator and the operator parse YAML).
//! One file per source: [`hpa`], [`keda`], [`knative`]; [`promql`] recognises the
//! queries KEDA triggers may use.

mod hpa;
mod keda;
mod knative;
pub mod promql;

use crate::spec::{self, BudAIScaler};
use serde_json::Value;

/// What an imported file was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ImportKind {
    /// Our own manifest, passed through.
    BudAIScaler,
    /// `autoscaling/v2` `HorizontalPodAutoscaler`.
    HorizontalPodAutoscaler,
    /// `keda.sh/v1alpha1` `ScaledObject`.
    KedaScaledObject,
    /// `serving.knative.dev/v1` `Service`.
    KnativeService,
}

impl ImportKind {
    /// `apiVersion kind`, as reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::BudAIScaler => "scaler.bud.studio/v1alpha1 BudAIScaler",
            ImportKind::HorizontalPodAutoscaler => "autoscaling/v2 HorizontalPodAutoscaler",
            ImportKind::KedaScaledObject => "keda.sh/v1alpha1 ScaledObject",
            ImportKind::KnativeService => "serving.knative.dev/v1 Service",
        }
    }
}

impl std::fmt::Display for ImportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An imported autoscaler.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub kind: ImportKind,
    /// The equivalent manifest (named after the imported object's `metadata.name`).
    pub manifest: BudAIScaler,
    /// One sentence per mapped field, in the imported file's order (empty for a
    /// `BudAIScaler`).
    pub mapping: Vec<String>,
}

/// Why a file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// A field that cannot be mapped, at its path in the imported file.
    #[error("{path}: {message}")]
    Refused { path: String, message: String },
    /// A `BudAIScaler` whose shape does not parse (unknown field, wrong type).
    #[error("{0}")]
    Manifest(String),
}

impl ImportError {
    /// The field path in the imported file, when the error is about one.
    pub fn path(&self) -> Option<&str> {
        match self {
            ImportError::Refused { path, .. } => Some(path),
            ImportError::Manifest(_) => None,
        }
    }
}

/// Detects the source by `apiVersion`/`kind` and maps it; see the module docs.
pub fn import(value: &Value) -> Result<Imported, ImportError> {
    let root = Node::root(value);
    let api_version = root.get("apiVersion").and_then(|n| n.value.as_str());
    let kind = root.get("kind").and_then(|n| n.value.as_str());
    match (api_version, kind) {
        // Missing or our own: validation reports a wrong header with its path.
        (None | Some(spec::API_VERSION), _) | (_, None | Some(spec::KIND)) => {
            let manifest: BudAIScaler = serde_json::from_value(value.clone())
                .map_err(|e| ImportError::Manifest(e.to_string()))?;
            Ok(Imported {
                kind: ImportKind::BudAIScaler,
                manifest,
                mapping: Vec::new(),
            })
        }
        (Some("autoscaling/v2"), Some("HorizontalPodAutoscaler")) => hpa::import(&root),
        (Some(v), Some("HorizontalPodAutoscaler")) => Err(root.field("apiVersion").refuse(
            format!("only autoscaling/v2 HorizontalPodAutoscalers are imported (found {v})"),
        )),
        (Some("keda.sh/v1alpha1"), Some("ScaledObject")) => keda::import(&root),
        (Some("serving.knative.dev/v1"), Some("Service")) => knative::import(&root),
        (Some(v), Some(k)) => Err(root.field("kind").refuse(format!(
            "not an autoscaler the importer knows (found {v} {k}); expected {}, {}, {} or {}",
            ImportKind::BudAIScaler,
            ImportKind::HorizontalPodAutoscaler,
            ImportKind::KedaScaledObject,
            ImportKind::KnativeService
        ))),
    }
}

/// A value in the imported document with its field path.
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    pub value: &'a Value,
    pub path: String,
}

impl<'a> Node<'a> {
    pub fn root(value: &'a Value) -> Self {
        Node {
            value,
            path: String::new(),
        }
    }

    fn child_path(&self, key: &str) -> String {
        let simple = key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        match (self.path.is_empty(), simple) {
            (true, true) => key.to_string(),
            (false, true) => format!("{}.{key}", self.path),
            (_, false) => format!("{}[{key:?}]", self.path),
        }
    }

    /// The child `key`, `None` when absent or null.
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        let value = self.value.get(key).filter(|v| !v.is_null())?;
        Some(Node {
            value,
            path: self.child_path(key),
        })
    }

    /// A node for `key` whether or not it is present (for error paths).
    pub fn field(&self, key: &str) -> Node<'a> {
        self.get(key).unwrap_or(Node {
            value: &Value::Null,
            path: self.child_path(key),
        })
    }

    /// The child `key`, or a refusal saying it is required.
    pub fn required(&self, key: &str) -> Result<Node<'a>, ImportError> {
        self.get(key)
            .ok_or_else(|| self.field(key).refuse("is required"))
    }

    pub fn refuse(&self, message: impl Into<String>) -> ImportError {
        ImportError::Refused {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// The items of a list (an absent list is empty).
    pub fn items(&self) -> Result<Vec<Node<'a>>, ImportError> {
        match self.value {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, value)| Node {
                    value,
                    path: format!("{}[{i}]", self.path),
                })
                .collect()),
            other => Err(self.refuse(format!("must be a list (found {other})"))),
        }
    }

    pub fn str(&self) -> Result<&'a str, ImportError> {
        self.value
            .as_str()
            .ok_or_else(|| self.refuse(format!("must be a string (found {})", self.value)))
    }

    /// A number, or a string holding one (Kubernetes quantities, KEDA metadata and
    /// Knative annotations are strings).
    pub fn number(&self) -> Result<f64, ImportError> {
        let parsed = match self.value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        parsed
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.refuse(format!("must be a number (found {})", self.value)))
    }

    /// A whole number (a number or a string).
    pub fn int(&self) -> Result<i64, ImportError> {
        let n = self.number()?;
        if n.fract() != 0.0 || n.abs() > 1e15 {
            return Err(self.refuse(format!("must be a whole number (found {})", self.value)));
        }
        Ok(n as i64)
    }

    /// A whole number in `i32` that is at least `min`.
    pub fn int_at_least(&self, min: i64) -> Result<i32, ImportError> {
        let n = self.int()?;
        if n < min || n > i64::from(i32::MAX) {
            return Err(self.refuse(format!("must be >= {min} (found {n})")));
        }
        Ok(n as i32)
    }

    /// Refuses the first key not in `known`, naming what is understood.
    pub fn only(&self, known: &[&str]) -> Result<(), ImportError> {
        let Some(object) = self.value.as_object() else {
            if self.value.is_null() {
                return Ok(());
            }
            return Err(self.refuse(format!("must be a mapping (found {})", self.value)));
        };
        match object.keys().find(|k| !known.contains(&k.as_str())) {
            None => Ok(()),
            Some(key) => Err(self.field(key).refuse(format!(
                "not understood by the importer, which refuses what it cannot map (it reads: {})",
                known.join(", ")
            ))),
        }
    }
}

/// Builds the manifest from its JSON form; an error here is the importer's bug.
pub(crate) fn finish(
    kind: ImportKind,
    manifest: Value,
    mapping: Vec<String>,
) -> Result<Imported, ImportError> {
    let manifest: BudAIScaler = serde_json::from_value(manifest).map_err(|e| {
        ImportError::Manifest(format!(
            "the importer built a manifest that does not parse: {e}"
        ))
    })?;
    Ok(Imported {
        kind,
        manifest,
        mapping,
    })
}

/// `metadata.name` (required: it names the scaler) and the header of the manifest.
/// The `BudAIScaler` an HPA-path import maps to (HPA and KEDA), before behavior and
/// hints are added.
pub(crate) fn hpa_manifest(
    metadata: Value,
    target: Value,
    min: Value,
    max: Value,
    sources: Vec<Value>,
) -> Value {
    serde_json::json!({
        "apiVersion": spec::API_VERSION,
        "kind": spec::KIND,
        "metadata": metadata,
        "spec": {
            "scaleTargetRef": target,
            "scalingStrategy": "HPA",
            "minReplicas": min,
            "maxReplicas": max,
            "metricsSources": sources,
        }
    })
}

pub(crate) fn header(root: &Node<'_>) -> Result<(String, Value), ImportError> {
    let metadata = root.required("metadata")?;
    let name = metadata.required("name")?.str()?.to_string();
    let mut meta = serde_json::json!({ "name": name });
    if let Some(namespace) = metadata.get("namespace") {
        meta["namespace"] = Value::String(namespace.str()?.to_string());
    }
    Ok((name, meta))
}

/// `behavior` of an `autoscaling/v2` HPA (also KEDA's
/// `advanced.horizontalPodAutoscalerConfig.behavior`): the same fields as ours.
pub(crate) fn behavior(node: &Node<'_>, mapping: &mut Vec<String>) -> Result<Value, ImportError> {
    node.only(&["scaleUp", "scaleDown"])?;
    let mut out = serde_json::Map::new();
    for direction in ["scaleUp", "scaleDown"] {
        let Some(rules) = node.get(direction) else {
            continue;
        };
        rules.only(&[
            "stabilizationWindowSeconds",
            "selectPolicy",
            "policies",
            "tolerance",
        ])?;
        let mut r = serde_json::Map::new();
        let mut said = Vec::new();
        if let Some(window) = rules.get("stabilizationWindowSeconds") {
            let window = window.int_at_least(0)?;
            r.insert("stabilizationWindowSeconds".into(), window.into());
            said.push(format!("stabilization {window}s"));
        }
        if let Some(select) = rules.get("selectPolicy") {
            let select = select.str()?;
            r.insert("selectPolicy".into(), select.into());
            said.push(format!("selectPolicy {select}"));
        }
        if let Some(policies) = rules.get("policies") {
            let mut list = Vec::new();
            for policy in policies.items()? {
                policy.only(&["type", "value", "periodSeconds"])?;
                let kind = policy.required("type")?.str()?;
                let value = policy.required("value")?.int_at_least(i64::MIN)?;
                let period = policy.required("periodSeconds")?.int_at_least(i64::MIN)?;
                said.push(format!("{kind} {value}/{period}s"));
                list.push(
                    serde_json::json!({"type": kind, "value": value, "periodSeconds": period}),
                );
            }
            r.insert("policies".into(), Value::Array(list));
        }
        if let Some(tolerance) = rules.get("tolerance") {
            let text = match tolerance.value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(tolerance.refuse(format!("must be a quantity (found {other})")));
                }
            };
            said.push(format!("tolerance {text}"));
            r.insert("tolerance".into(), Value::String(text));
        }
        mapping.push(format!(
            "{} ({}) → behavior.{direction}, the same fields with the same defaults",
            rules.path,
            if said.is_empty() {
                "defaults".to_string()
            } else {
                said.join(", ")
            }
        ));
        out.insert(direction.to_string(), Value::Object(r));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests;
