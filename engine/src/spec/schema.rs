//! The CustomResourceDefinition for `BudAIScaler`, generated from the spec types
//! (feature `schema`): `budscaler crd` prints it and `operator/deploy/crd.yaml` is it,
//! tested equal. The schema is made *structural*, as Kubernetes requires: every `$ref`
//! inlined, optional fields as `nullable`, no `additionalProperties: false` (unknown
//! fields are pruned by the API server instead; our own parser refuses them), quantities
//! and durations as int-or-string, `metadata` left to the API server.

use super::{API_VERSION, BudAIScaler, KIND, ManifestDuration, Quantity, ScalarText};
use serde_json::{Map, Value, json};

/// `x-kubernetes-int-or-string`: a number or a string (`"500m"`, `8080`, `30s`, `60`).
fn int_or_string(description: &str) -> schemars::Schema {
    schemars::json_schema!({
        "description": description,
        "x-kubernetes-int-or-string": true,
        "anyOf": [{ "type": "integer" }, { "type": "string" }],
    })
}

impl schemars::JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        int_or_string("A Kubernetes quantity (\"500m\", \"2\", \"1.5Gi\"); fractions as strings")
    }
}

impl schemars::JsonSchema for ScalarText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ScalarText".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        int_or_string("A number written as a number or a string (\"8080\" or 8080)")
    }
}

impl schemars::JsonSchema for ManifestDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        int_or_string("A Go duration (\"30s\", \"1h30m\") or whole seconds")
    }
}

/// The CRD as a JSON value (the CLI renders it as YAML).
pub fn crd() -> Value {
    let generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    let root = generator.into_root_schema_for::<BudAIScaler>();
    let root = serde_json::to_value(root).unwrap_or(Value::Null);
    let definitions = root
        .get("components")
        .and_then(|c| c.get("schemas"))
        .or_else(|| root.get("$defs"))
        .or_else(|| root.get("definitions"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut schema = structural(&root, &definitions);
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert("metadata".into(), json!({ "type": "object" }));
    }
    let (group, version) = API_VERSION.split_once('/').unwrap_or((API_VERSION, ""));
    let plural = "budaiscalers";
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": format!("{plural}.{group}") },
        "spec": {
            "group": group,
            "names": {
                "kind": KIND,
                "listKind": format!("{KIND}List"),
                "plural": plural,
                "singular": "budaiscaler",
                "shortNames": ["bas"],
            },
            "scope": "Namespaced",
            "versions": [{
                "name": version,
                "served": true,
                "storage": true,
                "schema": { "openAPIV3Schema": schema },
                "subresources": { "status": {} },
                "additionalPrinterColumns": [
                    { "name": "Strategy", "type": "string", "jsonPath": ".spec.scalingStrategy" },
                    { "name": "Mode", "type": "string", "jsonPath": ".spec.mode" },
                    { "name": "Min", "type": "integer", "jsonPath": ".spec.minReplicas" },
                    { "name": "Max", "type": "integer", "jsonPath": ".spec.maxReplicas" },
                    { "name": "Desired", "type": "integer", "jsonPath": ".status.desiredScale" },
                    { "name": "Actual", "type": "integer", "jsonPath": ".status.actualScale" },
                    { "name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp" },
                ],
            }],
        },
    })
}

/// `schema` with references inlined and the keywords structural schemas forbid removed.
fn structural(schema: &Value, definitions: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    if let Some(Value::String(reference)) = map.get("$ref") {
        let name = reference.rsplit('/').next().unwrap_or("");
        let target = definitions.get(name).cloned().unwrap_or(json!({}));
        let mut inlined = structural(&target, definitions);
        if let (Some(Value::String(description)), Value::Object(out)) =
            (map.get("description"), &mut inlined)
        {
            out.insert("description".into(), Value::String(description.clone()));
        }
        return inlined;
    }
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "$schema" | "title" | "$defs" | "definitions" | "components" | "default"
            | "examples" => {}
            "additionalProperties" if value == &Value::Bool(false) => {}
            "uniqueItems" => {}
            "format"
                if value
                    .as_str()
                    .is_some_and(|f| !matches!(f, "int32" | "int64" | "float" | "double")) => {}
            "type" => match value {
                // `["string", "null"]` → `string` + nullable.
                Value::Array(kinds) => {
                    let kinds: Vec<&Value> = kinds
                        .iter()
                        .filter(|k| k.as_str() != Some("null"))
                        .collect();
                    if let Some(kind) = kinds.first() {
                        out.insert("type".into(), (*kind).clone());
                    }
                    out.insert("nullable".into(), Value::Bool(true));
                }
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "anyOf" | "oneOf" | "allOf" => {
                let options: Vec<&Value> = value
                    .as_array()
                    .map(|a| a.iter().filter(|o| !is_null(o)).collect())
                    .unwrap_or_default();
                let nullable = options.len() < value.as_array().map_or(0, Vec::len);
                if options.len() == 1 && !map.contains_key("x-kubernetes-int-or-string") {
                    // `Option<Struct>`: the struct, nullable.
                    if let Value::Object(inner) = structural(options[0], definitions) {
                        for (k, v) in inner {
                            // The field's own description wins over its type's.
                            if k != "description" || !map.contains_key("description") {
                                out.insert(k, v);
                            }
                        }
                    }
                    if nullable {
                        out.insert("nullable".into(), Value::Bool(true));
                    }
                } else {
                    out.insert(
                        key.clone(),
                        Value::Array(options.iter().map(|o| structural(o, definitions)).collect()),
                    );
                }
            }
            "nullable" => {
                out.insert(key.clone(), value.clone());
            }
            "properties" => {
                let properties = value
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(name, schema)| (name.clone(), structural(schema, definitions)))
                            .collect::<Map<_, _>>()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(properties));
            }
            "items" | "additionalProperties" => {
                out.insert(key.clone(), structural(value, definitions));
            }
            "description" => {
                let text = value.as_str().unwrap_or_default();
                out.entry(key.clone())
                    .or_insert_with(|| Value::String(plain(text)));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

/// The `null` branch of an optional value (`{"type": "null"}` or `{"enum": [null]}`).
fn is_null(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
        || schema.get("enum") == Some(&json!([null]))
}

/// A doc comment as plain text: rustdoc links (`` [`X`] ``) become `` `X` ``.
fn plain(text: &str) -> String {
    text.replace("[`", "`").replace("`]", "`")
}
