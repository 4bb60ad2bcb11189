//! Every call the operator makes to the Kubernetes API, one function each, so the
//! reconcile reads as a sequence of them and tests script them in that order: the
//! target's scale subresource, its pods, the scaler's status (server-side apply), Events,
//! and the learning ConfigMap.

use crate::resource::{ScalerObject, TargetKey};
use k8s_openapi::api::autoscaling::v1::Scale;
use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference, Pod};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::{Client, Resource};
use std::collections::BTreeMap;

/// The field manager of everything the operator writes.
pub const MANAGER: &str = "budscaler-operator";
/// The `reportingController` of its Events.
pub const REPORTING_CONTROLLER: &str = "scaler.bud.studio/budscaler-operator";
/// The key of the saved state in the learning ConfigMap.
pub const LEARNING_KEY: &str = "state.json";
/// How often a rejected scale update (409: the target changed since it was read) is
/// read again and retried.
pub const CONFLICT_RETRIES: usize = 3;

/// The name of a scaler's learning ConfigMap.
pub fn learning_config_map(scaler: &str) -> String {
    format!("{scaler}-learning-data")
}

/// Workload kinds of `apps/v1` whose resource name is known without asking.
const BUILT_IN: [(&str, &str); 3] = [
    ("Deployment", "deployments"),
    ("StatefulSet", "statefulsets"),
    ("ReplicaSet", "replicasets"),
];

/// A scaled workload with the API resource its kind is served as.
#[derive(Debug, Clone)]
pub struct Target {
    pub key: TargetKey,
    pub resource: ApiResource,
}

impl Target {
    fn api(&self, client: &Client) -> Api<DynamicObject> {
        Api::namespaced_with(client.clone(), &self.key.namespace, &self.resource)
    }
}

/// Resolves the target's kind to its API resource: the built-in `apps/v1` workload
/// kinds directly, any other kind (a LeaderWorkerSet, a custom resource with a
/// `/scale` subresource) by discovery of its group version, as the HPA controller's
/// scale client does.
pub async fn resolve_target(client: &Client, key: &TargetKey) -> Result<Target, kube::Error> {
    let (group, version) = match key.api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", key.api_version.as_str()),
    };
    let gvk = GroupVersionKind::gvk(group, version, &key.kind);
    let built_in = (key.api_version == "apps/v1")
        .then(|| BUILT_IN.iter().find(|(kind, _)| *kind == key.kind))
        .flatten();
    let resource = match built_in {
        Some((_, plural)) => ApiResource::from_gvk_with_plural(&gvk, plural),
        None => kube::discovery::pinned_kind(client, &gvk).await?.0,
    };
    Ok(Target {
        key: key.clone(),
        resource,
    })
}

/// The target's scale subresource; `Ok(None)` when the target does not exist.
pub async fn get_scale(client: &Client, target: &Target) -> Result<Option<Scale>, kube::Error> {
    match target.api(client).get_scale(&target.key.name).await {
        Ok(scale) => Ok(Some(scale)),
        Err(error) if is_not_found(&error) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Sets the target's replicas through its scale subresource, as the HPA controller
/// does: an update carrying the resource version read, so a target changed in between
/// is a 409, read again and retried up to [`CONFLICT_RETRIES`] times.
pub async fn set_replicas(
    client: &Client,
    target: &Target,
    mut scale: Scale,
    replicas: i32,
) -> Result<Scale, kube::Error> {
    let api = target.api(client);
    let name = &target.key.name;
    let mut attempt = 0;
    loop {
        scale.spec.get_or_insert_with(Default::default).replicas = Some(replicas);
        match api
            .replace_scale(name, &PostParams::default(), &scale)
            .await
        {
            Err(error) if is_conflict(&error) && attempt < CONFLICT_RETRIES => {
                attempt += 1;
                scale = api.get_scale(name).await?;
            }
            result => return result,
        }
    }
}

/// The pods the scale's selector picks (`status.selector`, a label selector string).
pub async fn list_pods(
    client: &Client,
    namespace: &str,
    selector: &str,
) -> Result<Vec<Pod>, kube::Error> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    Ok(api
        .list(&ListParams::default().labels(selector))
        .await?
        .items)
}

/// The node `name`, or `None` where it does not exist (any other failure is an error).
pub async fn get_node(
    client: &Client,
    name: &str,
) -> Result<Option<k8s_openapi::api::core::v1::Node>, kube::Error> {
    let api: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    api.get_opt(name).await
}

/// The resource metrics API's `PodMetricsList` of the selected pods, as text
/// (`traces::metrics::resource_usage` parses it).
pub async fn pod_metrics(
    client: &Client,
    namespace: &str,
    selector: &str,
) -> Result<String, kube::Error> {
    let url = format!(
        "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods?labelSelector={}",
        crate::http::encode_query_value(selector)
    );
    get_text(client, url).await
}

/// The custom metrics API's `MetricValueList` of `metric` for the selected pods, as
/// text (`traces::metrics::metrics_api` parses it).
pub async fn custom_metric(
    client: &Client,
    namespace: &str,
    metric: &str,
    selector: &str,
) -> Result<String, kube::Error> {
    let url = format!(
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/pods/*/{}?labelSelector={}",
        crate::http::encode_query_value(metric),
        crate::http::encode_query_value(selector)
    );
    get_text(client, url).await
}

/// The external metrics API's `ExternalMetricValueList` of `metric` in `namespace`.
pub async fn external_metric(
    client: &Client,
    namespace: &str,
    metric: &str,
) -> Result<String, kube::Error> {
    let url = format!(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/{}",
        crate::http::encode_query_value(metric)
    );
    get_text(client, url).await
}

async fn get_text(client: &Client, url: String) -> Result<String, kube::Error> {
    let request = http::Request::get(url)
        .body(Vec::new())
        .map_err(|e| kube::Error::BuildRequest(kube::core::request::Error::BuildRequest(e)))?;
    client.request_text(request).await
}

/// Every scaler the operator watches: in `namespace`, or in all namespaces.
pub async fn list_scalers(
    client: &Client,
    namespace: Option<&str>,
) -> Result<Vec<ScalerObject>, kube::Error> {
    let api: Api<ScalerObject> = match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    Ok(api.list(&ListParams::default()).await?.items)
}

/// Writes the scaler's status by server-side apply (the operator owns `status`).
pub async fn apply_status(
    client: &Client,
    scaler: &ScalerObject,
    status: &engine::status::ScalerStatus,
) -> Result<(), kube::Error> {
    let key = scaler.key();
    let api: Api<ScalerObject> = Api::namespaced(client.clone(), &key.namespace);
    let body = serde_json::json!({
        "apiVersion": engine::spec::API_VERSION,
        "kind": engine::spec::KIND,
        "metadata": {"name": key.name},
        "status": status,
    });
    api.patch_status(
        &key.name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(body),
    )
    .await?;
    Ok(())
}

/// An Event about the scaler: `Normal` or `Warning`, a CamelCase reason, a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub warning: bool,
    pub reason: &'static str,
    pub action: &'static str,
    pub note: String,
}

impl Notice {
    /// A `Warning` Event.
    pub fn warning(reason: &'static str, action: &'static str, note: String) -> Notice {
        Notice {
            warning: true,
            reason,
            action,
            note,
        }
    }

    /// A `Normal` Event.
    pub fn normal(reason: &'static str, action: &'static str, note: String) -> Notice {
        Notice {
            warning: false,
            reason,
            action,
            note,
        }
    }
}

/// Records `notice` as an events.k8s.io/v1 Event regarding the scaler.
pub async fn publish(
    client: &Client,
    scaler: &ScalerObject,
    notice: &Notice,
    instance: &str,
    now_unix_us: i64,
) -> Result<(), kube::Error> {
    let key = scaler.key();
    let api: Api<Event> = Api::namespaced(client.clone(), &key.namespace);
    let time = k8s_openapi::jiff::Timestamp::from_microsecond(now_unix_us).unwrap_or_default();
    let event = Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}.", key.name)),
            namespace: Some(key.namespace.clone()),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(time)),
        action: Some(notice.action.to_string()),
        reason: Some(notice.reason.to_string()),
        note: Some(truncate(&notice.note, 1024)),
        type_: Some(if notice.warning { "Warning" } else { "Normal" }.to_string()),
        reporting_controller: Some(REPORTING_CONTROLLER.to_string()),
        reporting_instance: Some(instance.to_string()),
        regarding: Some(ObjectReference {
            api_version: Some(ScalerObject::api_version(&()).into_owned()),
            kind: Some(ScalerObject::kind(&()).into_owned()),
            name: Some(key.name.clone()),
            namespace: Some(key.namespace.clone()),
            uid: scaler.metadata.uid.clone(),
            ..ObjectReference::default()
        }),
        ..Event::default()
    };
    api.create(&PostParams::default(), &event).await?;
    Ok(())
}

/// The saved state in the scaler's learning ConfigMap, `None` when there is none.
pub async fn load_learning(
    client: &Client,
    scaler: &ScalerObject,
) -> Result<Option<String>, kube::Error> {
    let key = scaler.key();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &key.namespace);
    let map = api.get_opt(&learning_config_map(&key.name)).await?;
    Ok(map
        .and_then(|m| m.data)
        .and_then(|mut data| data.remove(LEARNING_KEY)))
}

/// Saves `state` (an `engine::saved` document) in the scaler's learning ConfigMap,
/// owned by the scaler so it goes when the scaler goes.
pub async fn save_learning(
    client: &Client,
    scaler: &ScalerObject,
    state: String,
) -> Result<(), kube::Error> {
    let key = scaler.key();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &key.namespace);
    let name = learning_config_map(&key.name);
    let map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(key.namespace.clone()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_string(),
                MANAGER.to_string(),
            )])),
            owner_references: scaler.owner_reference().map(|owner| vec![owner]),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(LEARNING_KEY.to_string(), state)])),
        ..ConfigMap::default()
    };
    let mut body = serde_json::to_value(&map).unwrap_or_default();
    body["apiVersion"] = "v1".into();
    body["kind"] = "ConfigMap".into();
    api.patch(
        &name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(body),
    )
    .await?;
    Ok(())
}

/// Whether the API answered 404.
pub fn is_not_found(error: &kube::Error) -> bool {
    status_code(error) == Some(404)
}

/// Whether the API answered 409.
pub fn is_conflict(error: &kube::Error) -> bool {
    status_code(error) == Some(409)
}

fn status_code(error: &kube::Error) -> Option<u16> {
    match error {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}
