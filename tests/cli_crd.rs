//! `budscaler crd` (CONTRACTS): the CustomResourceDefinition generated from the spec
//! types is the one committed in `operator/deploy/crd.yaml`, and its schema is
//! structural (what the API server requires): no references, no `additionalProperties:
//! false`, a type on every node (or int-or-string), the status subresource, short name
//! `bas`, printer columns.

mod common;

use common::{budscaler, repo};
use serde_json::Value;

fn generated() -> String {
    let output = budscaler().arg("crd").output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_committed_crd_is_the_generated_one() {
    let committed = std::fs::read_to_string(repo().join("operator/deploy/crd.yaml")).unwrap();
    assert!(
        committed == generated(),
        "operator/deploy/crd.yaml is stale: run `budscaler crd > operator/deploy/crd.yaml`"
    );
}

/// Every schema node below `node` (at `path`) is structural.
fn check(node: &Value, path: &str) {
    let map = node
        .as_object()
        .unwrap_or_else(|| panic!("{path}: not an object"));
    for forbidden in ["$ref", "allOf", "definitions", "$defs"] {
        assert!(!map.contains_key(forbidden), "{path}: {forbidden}");
    }
    assert_ne!(
        map.get("additionalProperties"),
        Some(&Value::Bool(false)),
        "{path}"
    );
    let int_or_string = map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    assert!(map.contains_key("type") || int_or_string, "{path}: no type");
    if let Some(properties) = map.get("properties").and_then(Value::as_object) {
        assert_eq!(map["type"], "object", "{path}");
        for (name, child) in properties {
            check(child, &format!("{path}.{name}"));
        }
    }
    if let Some(items) = map.get("items") {
        check(items, &format!("{path}[]"));
    }
    if let Some(values) = map.get("additionalProperties").filter(|v| v.is_object()) {
        check(values, &format!("{path}{{}}"));
    }
}

#[test]
fn the_schema_is_structural_with_status_short_name_and_columns() {
    let crd: Value = serde_saphyr::from_str(&generated()).unwrap();
    assert_eq!(crd["kind"], "CustomResourceDefinition");
    assert_eq!(crd["metadata"]["name"], "budaiscalers.scaler.bud.studio");
    assert_eq!(crd["spec"]["names"]["shortNames"][0], "bas");
    let version = &crd["spec"]["versions"][0];
    assert_eq!(version["name"], "v1alpha1");
    assert!(version["subresources"]["status"].is_object());
    let columns: Vec<&str> = version["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for column in ["Strategy", "Mode", "Min", "Max", "Desired"] {
        assert!(columns.contains(&column), "{columns:?}");
    }
    let schema = &version["schema"]["openAPIV3Schema"];
    check(schema, "openAPIV3Schema");
    let spec = &schema["properties"]["spec"]["properties"];
    for field in [
        "scaleTargetRef",
        "metricsSources",
        "predictionConfig",
        "scheduleHints",
        "kpaConfig",
        "mode",
        "gpuConfig",
        "costConfig",
    ] {
        assert!(spec.get(field).is_some(), "spec.{field} in the schema");
    }
    assert_eq!(
        spec["metricsSources"]["items"]["properties"]["targetValue"]["x-kubernetes-int-or-string"],
        true
    );
    assert!(schema["properties"]["status"]["properties"]["scalingHistory"].is_object());
}
