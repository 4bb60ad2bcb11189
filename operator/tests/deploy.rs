//! `operator/deploy` rendered by `kubectl kustomize` (kubectl 1.32 with kustomize 5.5 is
//! on these machines; skipped only where kubectl is absent), every object parsed into
//! its k8s-openapi type and serialized back unchanged, so a misspelled or misplaced
//! field fails here rather than at `kubectl apply`; and the Deployment's flags are ones
//! the operator binary takes.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::PathBuf;

fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn rendered() -> Option<Vec<Value>> {
    let Ok(output) = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(deploy_dir())
        .output()
    else {
        eprintln!("skipping: kubectl is not installed");
        return None;
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    Some(
        text.split("\n---\n")
            .map(|doc| {
                serde_saphyr::from_str::<Value>(doc).unwrap_or_else(|e| panic!("{e}\n{doc}"))
            })
            .collect(),
    )
}

/// `object` survives the trip through its typed form unchanged.
fn round_trips<T: DeserializeOwned + Serialize>(object: &Value) -> T {
    let typed: T =
        serde_json::from_value(object.clone()).unwrap_or_else(|e| panic!("{e}: {object}"));
    let again = serde_json::to_value(&typed).unwrap();
    assert_eq!(&again, object, "fields lost in the typed form (a typo?)");
    typed
}

#[test]
fn every_rendered_object_is_a_valid_typed_kubernetes_object() {
    let Some(objects) = rendered() else { return };
    let mut kinds = Vec::new();
    let mut deployment = None;
    let mut cluster_role = None;
    for object in &objects {
        let kind = object["kind"].as_str().unwrap().to_string();
        match kind.as_str() {
            "CustomResourceDefinition" => {
                round_trips::<CustomResourceDefinition>(object);
            }
            "Namespace" => {
                round_trips::<Namespace>(object);
            }
            "ServiceAccount" => {
                round_trips::<ServiceAccount>(object);
            }
            "ClusterRole" => cluster_role = Some(round_trips::<ClusterRole>(object)),
            "ClusterRoleBinding" => {
                round_trips::<ClusterRoleBinding>(object);
            }
            "Role" => {
                round_trips::<Role>(object);
            }
            "RoleBinding" => {
                round_trips::<RoleBinding>(object);
            }
            "Deployment" => deployment = Some(round_trips::<Deployment>(object)),
            "Service" => {
                round_trips::<Service>(object);
            }
            other => panic!("unexpected kind {other}"),
        }
        kinds.push(kind);
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition",
            "Deployment",
            "Namespace",
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount"
        ]
    );
    // What the operator calls is allowed, and no more than that: no secrets, no deletes.
    let rules = cluster_role.unwrap().rules.unwrap();
    let allows = |group: &str, resource: &str, verb: &str| {
        rules.iter().any(|rule| {
            rule.api_groups
                .as_ref()
                .is_some_and(|g| g.iter().any(|g| g == group || g == "*"))
                && rule
                    .resources
                    .as_ref()
                    .is_some_and(|r| r.iter().any(|r| r == resource))
                && rule.verbs.iter().any(|v| v == verb)
        })
    };
    assert!(allows("scaler.bud.studio", "budaiscalers", "list"));
    assert!(allows("scaler.bud.studio", "budaiscalers/status", "patch"));
    assert!(allows("apps", "*/scale", "update"));
    assert!(allows("", "pods", "list"));
    assert!(
        allows("", "nodes", "get"),
        "costConfig prices pods from their nodes"
    );
    assert!(allows("", "configmaps", "patch"));
    assert!(allows("events.k8s.io", "events", "create"));
    assert!(
        !rules
            .iter()
            .any(|r| r.verbs.iter().any(|v| v == "delete" || v == "*"))
    );
    assert!(!rules.iter().any(|r| {
        r.resources
            .as_ref()
            .is_some_and(|r| r.iter().any(|r| r == "secrets"))
    }));
    // The Deployment passes only flags the binary takes.
    let container = &deployment
        .unwrap()
        .spec
        .unwrap()
        .template
        .spec
        .unwrap()
        .containers[0];
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_budscaler-operator"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for arg in container.args.as_ref().unwrap() {
        let flag = arg.split('=').next().unwrap();
        assert!(
            help.contains(flag),
            "{flag} is not a flag of budscaler-operator:\n{help}"
        );
    }
}
