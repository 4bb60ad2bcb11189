//! The `BudAIScaler` custom resource as the operator reads it from the API server: the
//! engine's spec and status types under full Kubernetes metadata (uid and resource
//! version, which the engine's own `ObjectMeta` leaves out), and the engine manifest
//! made from it.

use engine::spec::{API_VERSION, BudAIScaler, BudAIScalerSpec, KIND};
use engine::status::ScalerStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// API group of the resource.
pub const GROUP: &str = "scaler.bud.studio";
/// API version of the resource.
pub const VERSION: &str = "v1alpha1";
/// Plural of the resource (its URL segment).
pub const PLURAL: &str = "budaiscalers";

/// A `BudAIScaler` object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScalerObject {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: BudAIScalerSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ScalerStatus>,
}

impl kube::Resource for ScalerObject {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(KIND)
    }
    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(GROUP)
    }
    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(VERSION)
    }
    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(PLURAL)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Where a scaler lives: namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScalerKey {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ScalerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The workload a scaler scales: namespace, API version, kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetKey {
    pub namespace: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

impl std::fmt::Display for TargetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

impl ScalerObject {
    /// Namespace and name (`default` when the object names no namespace).
    pub fn key(&self) -> ScalerKey {
        ScalerKey {
            namespace: self.namespace_or_default(),
            name: self.metadata.name.clone().unwrap_or_default(),
        }
    }

    fn namespace_or_default(&self) -> String {
        self.metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string())
    }

    /// The scaled workload, `None` when `scaleTargetRef` lacks a kind or a name (the
    /// engine rejects such a manifest with the field named). The API version defaults
    /// to `apps/v1`, the namespace to the scaler's.
    pub fn target(&self) -> Option<TargetKey> {
        let target = self.spec.scale_target_ref.as_ref()?;
        Some(TargetKey {
            namespace: target
                .namespace
                .clone()
                .unwrap_or_else(|| self.namespace_or_default()),
            api_version: target
                .api_version
                .clone()
                .unwrap_or_else(|| "apps/v1".to_string()),
            kind: target.kind.clone()?,
            name: target.name.clone()?,
        })
    }

    /// The engine's manifest: the spec under the name and namespace (no status).
    pub fn manifest(&self) -> BudAIScaler {
        BudAIScaler {
            api_version: Some(API_VERSION.to_string()),
            kind: Some(KIND.to_string()),
            metadata: engine::spec::ObjectMeta {
                name: self.metadata.name.clone(),
                namespace: self.metadata.namespace.clone(),
                labels: self.metadata.labels.clone().unwrap_or_default(),
                annotations: self.metadata.annotations.clone().unwrap_or_default(),
            },
            spec: self.spec.clone(),
            status: None,
        }
    }

    /// An owner reference to this scaler, so what the operator creates for it (its
    /// learning ConfigMap) goes when the scaler goes.
    pub fn owner_reference(&self) -> Option<OwnerReference> {
        Some(OwnerReference {
            api_version: API_VERSION.to_string(),
            kind: KIND.to_string(),
            name: self.metadata.name.clone()?,
            uid: self.metadata.uid.clone()?,
            controller: Some(true),
            block_owner_deletion: Some(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_from_the_api_gives_the_engine_manifest_and_its_target() {
        let object: ScalerObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "scaler.bud.studio/v1alpha1",
            "kind": "BudAIScaler",
            "metadata": {"name": "llama", "namespace": "serving", "uid": "u-1", "resourceVersion": "7"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "llama"}, "maxReplicas": 4,
                     "scalingStrategy": "HPA",
                     "metricsSources": [{"metricSourceType": "pod", "targetMetric": "vllm:num_requests_running", "targetValue": "8"}]},
            "status": {"desiredScale": 2}
        }))
        .unwrap();
        assert_eq!(object.key().to_string(), "serving/llama");
        let target = object.target().unwrap();
        assert_eq!(target.api_version, "apps/v1");
        assert_eq!(target.to_string(), "Deployment serving/llama");
        let manifest = object.manifest();
        assert_eq!(manifest.metadata.name.as_deref(), Some("llama"));
        assert!(manifest.status.is_none());
        engine::Scaler::new(&manifest).unwrap();
        assert_eq!(object.owner_reference().unwrap().uid, "u-1");
        assert_eq!(
            <ScalerObject as kube::Resource>::url_path(&(), Some("serving")),
            "/apis/scaler.bud.studio/v1alpha1/namespaces/serving/budaiscalers"
        );
    }
}
