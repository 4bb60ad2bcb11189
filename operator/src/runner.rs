//! One scaler's life in the operator: built from its object (restoring learning from
//! its ConfigMap), ticked at its strategy's sync period, rebuilt when its spec changes.
//! A tick is the control loop's tick on live inputs: the target's scale, its pods, the
//! scrape plan fetched, then the decision applied (Active) or only reported (Shadow),
//! the status written, and every step that failed said in the status and an Event.

use crate::cluster::{self, Notice};
use crate::http::Http;
use crate::metrics::OperatorMetrics;
use crate::resource::ScalerObject;
use crate::sources;
use control::log::LogLine;
use control::scrape_plan::{self, PodAddress};
use control::{ControlLoop, timing};
use engine::spec::{BudAIScalerSpec, MetricSourceType, Mode};
use engine::status::{Applied, ScalerStatus};
use engine::time::Micros;
use kube::Client;
use std::collections::BTreeMap;
use std::io::Write;
use traces::metrics::metrics_api;
use traces::observe::PodScrape;

/// Status condition: whether every configured source was read at the last tick.
pub const METRICS_AVAILABLE: &str = "MetricsAvailable";
/// Status condition: whether learning was restored from the ConfigMap at start.
pub const LEARNING_RESTORED: &str = "LearningRestored";

/// Where a runner writes its logs.
#[derive(Debug, Clone, Default)]
pub struct Logs {
    /// The folder of observation logs (`NAMESPACE_NAME.jsonl`); `None`: no logs.
    pub observations: Option<std::path::PathBuf>,
    /// Also log every scrape body (`NAMESPACE_NAME.scrapes.jsonl`, one
    /// `{"t_us","target","text"}` line per body: the JSONL form `trace.series` reads).
    pub scrapes: bool,
}

/// What every runner shares.
#[derive(Clone)]
pub struct Context {
    pub client: Client,
    pub http: Http,
    pub prometheus_url: Option<String>,
    /// Port of the DCGM exporter on each node, scraped for scalers that read GPU
    /// telemetry (`gpuConfig.enabled` or a GPU metric).
    pub dcgm_port: u16,
    /// The price catalog (built-in, or overridden by `--price-catalog`) for scalers
    /// with `costConfig.enabled`.
    pub prices: std::sync::Arc<control::pricing::PriceCatalog>,
    /// The operator's pod name, as `reportingInstance` of its Events.
    pub instance: String,
    pub metrics: std::sync::Arc<OperatorMetrics>,
}

/// A scaler the operator runs.
pub struct Runner {
    /// The object as last read.
    pub object: ScalerObject,
    spec: BudAIScalerSpec,
    uid: Option<String>,
    /// The loop, or why the manifest cannot be run.
    control: Result<ControlLoop, String>,
    pub status: ScalerStatus,
    next_tick_us: Micros,
    last_saved_us: Micros,
    log: Option<std::fs::File>,
    /// The target's kind resolved to its API resource (discovery, once per target).
    resolved: Option<cluster::Target>,
    /// The raw scrape log (`--log-scrapes`), in `trace.series`' JSONL form.
    scrape_log: Option<std::fs::File>,
    /// Whether the status says so since the manifest changed (invalid manifests are
    /// reported once, not every second).
    reported_invalid: bool,
    /// The fleet's spend so far, for `costConfig`.
    spend: crate::prices::SpendMeter,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("scaler", &self.object.key())
            .field("next_tick_us", &self.next_tick_us)
            .finish()
    }
}

impl Runner {
    /// The runner for `object` at `now` (Unix µs): a fresh scaler, or the one saved in
    /// its learning ConfigMap. A saved state of another strategy or format is refused
    /// and reported, and the scaler starts fresh.
    pub async fn start(ctx: &Context, object: ScalerObject, logs: &Logs, now: Micros) -> Runner {
        let manifest = object.manifest();
        let mut status = object.status.clone().unwrap_or_default();
        let key = object.key();
        let mut control = ControlLoop::new(
            key.to_string(),
            &manifest,
            timing::Configured::default(),
            Some(0),
        )
        .map_err(|e| e.to_string());
        let mut restored = None;
        if let Ok(loop_) = control.as_mut() {
            match cluster::load_learning(&ctx.client, &object).await {
                Ok(None) => {}
                Ok(Some(text)) => match engine::saved::load(&manifest, &text) {
                    Ok(scaler) => {
                        restored = Some(scaler.snapshot());
                        loop_.scaler = scaler;
                        status.report(
                            LEARNING_RESTORED,
                            true,
                            "Restored",
                            "learning restored from the ConfigMap",
                            now,
                        );
                    }
                    Err(error) => {
                        let note = format!("saved learning refused, starting fresh: {error}");
                        status.report(LEARNING_RESTORED, false, "SavedStateRefused", &note, now);
                        notify(
                            ctx,
                            &object,
                            Notice::warning("SavedStateRefused", "Restore", note),
                            now,
                        )
                        .await;
                    }
                },
                Err(error) => {
                    let note =
                        format!("cannot read the learning ConfigMap, starting fresh: {error}");
                    ctx.metrics.error("learning_load");
                    status.report(LEARNING_RESTORED, false, "ConfigMapUnreadable", &note, now);
                }
            }
        }
        let log = logs
            .observations
            .as_deref()
            .and_then(|dir| open_log(dir, &key, &manifest, restored, &control));
        let scrape_log = logs
            .observations
            .as_deref()
            .filter(|_| logs.scrapes)
            .and_then(|dir| {
                open_append(&dir.join(format!("{}_{}.scrapes.jsonl", key.namespace, key.name)))
            });
        Runner {
            spec: object.spec.clone(),
            uid: object.metadata.uid.clone(),
            object,
            control,
            status,
            next_tick_us: now,
            last_saved_us: now,
            log,
            resolved: None,
            scrape_log,
            reported_invalid: false,
            spend: crate::prices::SpendMeter::default(),
        }
    }

    /// Whether `object` is still the scaler this runner was built for (same uid and
    /// spec); a changed spec rebuilds the runner.
    pub fn runs(&self, object: &ScalerObject) -> bool {
        self.uid == object.metadata.uid && self.spec == object.spec
    }

    /// Whether this runner's next tick (its strategy's sync period) is due at `now`.
    pub fn is_due(&self, now: Micros) -> bool {
        now >= self.next_tick_us
    }

    /// One tick at `now`; `conflicts` names the other scalers of the same target (then
    /// none of them acts). Errors are reported in the status and as Events, not returned.
    pub async fn tick(
        &mut self,
        ctx: &Context,
        object: ScalerObject,
        conflicts: &[String],
        now: Micros,
        save_every: Micros,
    ) {
        self.object = object;
        let control = match &mut self.control {
            Ok(control) => control,
            Err(why) => {
                if !self.reported_invalid {
                    let note = format!("the manifest cannot be run: {why}");
                    self.status
                        .report("AbleToScale", false, "InvalidSpec", &note, now);
                    self.reported_invalid = write_status(ctx, &self.object, &self.status).await;
                    notify(
                        ctx,
                        &self.object,
                        Notice::warning("InvalidSpec", "Validate", note),
                        now,
                    )
                    .await;
                }
                self.next_tick_us = now + 15 * engine::time::SECOND;
                return;
            }
        };
        self.next_tick_us = now + control.sync_us;
        let Some(target) = self.object.target() else {
            return;
        };
        let resolved = match self.resolved.as_ref().filter(|r| r.key == target) {
            Some(resolved) => resolved.clone(),
            None => match cluster::resolve_target(&ctx.client, &target).await {
                Ok(resolved) => {
                    self.resolved = Some(resolved.clone());
                    resolved
                }
                Err(error) => {
                    ctx.metrics.error("discovery");
                    let note = format!("{target}: the kind is not served by the API: {error}");
                    return self.cannot_scale(ctx, "FailedDiscovery", note, now).await;
                }
            },
        };
        let scale = match cluster::get_scale(&ctx.client, &resolved).await {
            Ok(Some(scale)) => scale,
            Ok(None) => {
                let note = format!("{target} does not exist");
                return self.cannot_scale(ctx, "FailedGetScale", note, now).await;
            }
            Err(error) => {
                ctx.metrics.error("get_scale");
                let note = format!("{target}: reading the scale subresource failed: {error}");
                return self.cannot_scale(ctx, "FailedGetScale", note, now).await;
            }
        };
        let control = self.control.as_mut().expect("checked above");
        if !conflicts.is_empty() {
            let note = format!(
                "{target} is also scaled by {}; none of them acts until one remains",
                conflicts.join(", ")
            );
            self.status
                .report("AbleToScale", false, "AmbiguousTarget", &note, now);
            write_status(ctx, &self.object, &self.status).await;
            return;
        }
        let current = scale.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        let actual = scale.status.as_ref().map_or(0, |s| s.replicas);
        let Some(selector) = scale.status.as_ref().and_then(|s| s.selector.clone()) else {
            let note = format!("{target}: the scale subresource reports no pod selector");
            return self.cannot_scale(ctx, "InvalidSelector", note, now).await;
        };
        let pods = match cluster::list_pods(&ctx.client, &target.namespace, &selector).await {
            Ok(pods) => pods,
            Err(error) => {
                ctx.metrics.error("list_pods");
                let note = format!("{target}: listing pods `{selector}` failed: {error}");
                return self.cannot_scale(ctx, "FailedListPods", note, now).await;
            }
        };
        let mut statuses: Vec<_> = pods.iter().map(crate::pods::pod_status).collect();
        let mut price_errors = BTreeMap::new();
        let cost = if control.scaler.spec().cost.enabled {
            price_fleet(
                ctx,
                control.scaler.spec(),
                &pods,
                &mut statuses,
                &mut self.spend,
                now,
                &mut price_errors,
            )
            .await
        } else {
            None
        };
        control.observer.set_cost(cost);
        let addresses: Vec<PodAddress> = pods.iter().filter_map(crate::pods::pod_address).collect();
        let plan = scrape_plan::plan(control.scaler.spec(), &addresses);
        let mut gathered = sources::gather(
            control.scaler.spec(),
            &plan,
            &ctx.http,
            ctx.prometheus_url.as_deref(),
        )
        .await;
        if control.observer.reads_gpu() {
            let mut nodes: Vec<String> = pods.iter().filter_map(crate::pods::host_ip).collect();
            nodes.sort();
            nodes.dedup();
            let source = sources::GpuSource::of(&control.scaler.spec().gpu, ctx.dcgm_port);
            sources::gather_gpu(
                &mut gathered,
                &source,
                &nodes,
                ctx.prometheus_url.as_deref(),
                &ctx.http,
            )
            .await;
        }
        for took in &gathered.latencies {
            ctx.metrics.fetch_latency(*took);
        }
        for (metric, value) in &gathered.workload {
            control.observer.set_workload_value(metric, value.clone());
        }
        let mut errors = gathered.errors.clone();
        errors.extend(price_errors);
        read_metrics_apis(
            ctx,
            control,
            &plan,
            &pods,
            &target.namespace,
            &selector,
            &mut errors,
        )
        .await;
        control.observer.set_source_errors(errors.clone());
        let scrapes: Vec<PodScrape<'_>> = statuses
            .iter()
            .map(|status| PodScrape {
                status,
                engine: gathered.scrapes.get(&status.name),
                gpu: gathered.gpu.get(&status.name),
                scraped_at: now,
            })
            .collect();
        let (record, observation) = control.tick(now, current, &scrapes);
        let decision = &record.decision;
        let desired = decision.desired_replicas;
        let mode = control.scaler.spec().mode;
        let applied = if desired == current {
            Applied::Yes
        } else if mode == Mode::Shadow {
            Applied::Shadow
        } else {
            match cluster::set_replicas(&ctx.client, &resolved, scale, desired).await {
                Ok(_) => {
                    let note = format!("New size: {desired}; reason: {}", decision.message);
                    notify(
                        ctx,
                        &self.object,
                        Notice::normal("SuccessfulRescale", "Scale", note),
                        now,
                    )
                    .await;
                    Applied::Yes
                }
                Err(error) => {
                    ctx.metrics.error("set_replicas");
                    let note = format!("failed to set {target} to {desired} replicas: {error}");
                    notify(
                        ctx,
                        &self.object,
                        Notice::warning("FailedRescale", "Scale", note),
                        now,
                    )
                    .await;
                    Applied::Failed
                }
            }
        };
        if applied != Applied::Yes {
            control.not_applied(&record);
        }
        ctx.metrics.decision(
            &self.object.key().to_string(),
            decision.reason.as_str(),
            applied,
        );
        if let Some(log) = self.scrape_log.as_mut() {
            for (target, text) in &gathered.raw {
                let line = serde_json::json!({"t_us": now, "target": target, "text": text});
                if writeln!(log, "{line}").is_err() {
                    ctx.metrics.error("scrape_log");
                }
            }
        }
        // One snapshot for both state-derived status sections.
        let snapshot = control.scaler.snapshot();
        self.status.cost_status =
            engine::status::cost_status(control.scaler.spec(), &snapshot, &observation);
        self.status.gpu_status = engine::status::gpu_status(control.scaler.spec(), &observation);
        if let Some(log) = self.log.as_mut() {
            let line = LogLine::tick(
                observation,
                record.decision.clone(),
                applied == Applied::Yes,
            );
            if writeln!(log, "{}", line.to_json()).is_err() {
                ctx.metrics.error("observation_log");
            }
        }
        self.status.update(&record.decision, actual, applied, now);
        let last_saved = self
            .status
            .learning_status
            .take()
            .and_then(|l| l.last_saved);
        self.status.learning_status = engine::status::learning_status(
            &snapshot,
            Some(&record.decision),
            control.scaler.spec().prediction.min_confidence,
        )
        .map(|learning| engine::status::LearningStatus {
            last_saved,
            ..learning
        });
        if errors.is_empty() {
            self.status
                .report(METRICS_AVAILABLE, true, "AllSourcesRead", "", now);
        } else {
            for _ in &errors {
                ctx.metrics.error("source");
            }
            let message = errors
                .iter()
                .map(|(source, why)| format!("{source}: {why}"))
                .collect::<Vec<_>>()
                .join("; ");
            self.status
                .report(METRICS_AVAILABLE, false, "SourceFailed", &message, now);
        }
        write_status(ctx, &self.object, &self.status).await;
        if now - self.last_saved_us >= save_every {
            self.save(ctx, now).await;
        }
    }

    /// Saves the scaler's learning in its ConfigMap (periodically, and on shutdown).
    pub async fn save(&mut self, ctx: &Context, now: Micros) {
        let Ok(control) = &self.control else { return };
        let saved = match engine::saved::save(&control.scaler) {
            Ok(text) => cluster::save_learning(&ctx.client, &self.object, text)
                .await
                .map_err(|error| format!("saving learning failed: {error}")),
            Err(error) => Err(format!("learning not saved: {error}")),
        };
        match saved {
            Ok(()) => {
                self.last_saved_us = now;
                if let Some(learning) = self.status.learning_status.as_mut() {
                    learning.last_saved = Some(engine::status::rfc3339(now));
                }
            }
            Err(note) => {
                ctx.metrics.error("learning_save");
                let notice = Notice::warning("FailedSaveLearning", "Save", note);
                notify(ctx, &self.object, notice, now).await;
            }
        }
    }

    /// Reports that the target cannot be scaled this tick.
    async fn cannot_scale(
        &mut self,
        ctx: &Context,
        reason: &'static str,
        note: String,
        now: Micros,
    ) {
        self.status.report("AbleToScale", false, reason, &note, now);
        write_status(ctx, &self.object, &self.status).await;
        notify(
            ctx,
            &self.object,
            Notice::warning(reason, "Scale", note),
            now,
        )
        .await;
    }
}

/// Reads what `plan` takes from the Kubernetes metrics APIs into `control`'s observer:
/// resource usage (metrics.k8s.io) with the pods' requests, custom metrics per pod and
/// external metrics for the workload. A failed read goes into `errors`, named.
async fn read_metrics_apis(
    ctx: &Context,
    control: &mut ControlLoop,
    plan: &scrape_plan::ScrapePlan,
    pods: &[k8s_openapi::api::core::v1::Pod],
    namespace: &str,
    selector: &str,
    errors: &mut BTreeMap<String, String>,
) {
    if !plan.resource.is_empty() {
        let resources: Vec<String> = plan
            .resource
            .iter()
            .map(|&i| control.scaler.spec().metrics[i].name.clone())
            .collect();
        let usage = cluster::pod_metrics(&ctx.client, namespace, selector)
            .await
            .map_err(|e| e.to_string())
            .and_then(|body| {
                traces::metrics::resource_usage::pod_metrics_list(&body).map_err(|e| e.to_string())
            });
        match usage {
            Ok(usage) => {
                let mut requests: traces::metrics::resource_usage::Requests = BTreeMap::new();
                for pod in pods {
                    let name = pod.metadata.name.clone().unwrap_or_default();
                    for (resource, milli) in crate::pods::requests(pod, &resources) {
                        requests
                            .entry(resource)
                            .or_default()
                            .insert(name.clone(), milli);
                    }
                }
                control.observer.set_resource_usage(usage, requests);
            }
            Err(why) => {
                errors.insert("metrics.k8s.io".to_string(), why);
            }
        }
    }
    for &index in &plan.metrics_api {
        let metric = &control.scaler.spec().metrics[index];
        let name = metric.name.clone();
        if metric.source == MetricSourceType::Custom {
            let samples = cluster::custom_metric(&ctx.client, namespace, &name, selector)
                .await
                .map_err(|e| e.to_string())
                .and_then(|body| metrics_api::metric_value_list(&body).map_err(|e| e.to_string()));
            match samples {
                Ok(samples) => control.observer.set_pod_values(&name, samples),
                Err(why) => {
                    errors.insert(format!("custom.metrics.k8s.io {name}"), why);
                }
            }
        } else {
            let value = cluster::external_metric(&ctx.client, namespace, &name)
                .await
                .map_err(|e| e.to_string())
                .and_then(|body| {
                    metrics_api::external_metric_value_list(&body).map_err(|e| e.to_string())
                });
            if let Err(why) = &value {
                errors.insert(format!("external.metrics.k8s.io {name}"), why.clone());
            }
            control.observer.set_workload_value(&name, value);
        }
    }
}

/// Writes the status; false (and an error counted) when the API refused it.
async fn write_status(ctx: &Context, object: &ScalerObject, status: &ScalerStatus) -> bool {
    match cluster::apply_status(&ctx.client, object, status).await {
        Ok(()) => true,
        Err(_) => {
            ctx.metrics.error("status");
            false
        }
    }
}

/// Publishes an Event; a failure is counted, never fatal.
async fn notify(ctx: &Context, object: &ScalerObject, notice: Notice, now: Micros) {
    if cluster::publish(&ctx.client, object, &notice, &ctx.instance, now)
        .await
        .is_err()
    {
        ctx.metrics.error("event");
    }
}

/// Opens the scaler's observation log (`DIR/NAMESPACE_NAME.jsonl`, appended) and
/// writes its start line.
fn open_log(
    dir: &std::path::Path,
    key: &crate::resource::ScalerKey,
    manifest: &engine::spec::BudAIScaler,
    state: Option<engine::ScalerState>,
    control: &Result<ControlLoop, String>,
) -> Option<std::fs::File> {
    control.as_ref().ok()?;
    let path = dir.join(format!("{}_{}.jsonl", key.namespace, key.name));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let start = LogLine::Start {
        scaler: key.to_string(),
        manifest: Box::new(manifest.clone()),
        state,
    };
    writeln!(file, "{}", start.to_json()).ok()?;
    Some(file)
}

fn open_append(path: &std::path::Path) -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .ok()
}

/// Prices the fleet for `costConfig`: reads each pod's node (once per node), marks the
/// pods on spot capacity, and returns the cost observation. A node that cannot be read
/// is named in `errors` (`node NAME`) and its pods are left out of the pricing; a price
/// that cannot be found (`price`) leaves the scaler without prices (its budget is not
/// applied, and the decision says so).
async fn price_fleet(
    ctx: &Context,
    spec: &engine::spec::ResolvedSpec,
    pods: &[k8s_openapi::api::core::v1::Pod],
    statuses: &mut [engine::observation::PodStatus],
    spend: &mut crate::prices::SpendMeter,
    now: Micros,
    errors: &mut BTreeMap<String, String>,
) -> Option<engine::observation::CostObservation> {
    let Some(provider) = spec.cost.cloud_provider else {
        errors.insert(
            "price".to_string(),
            "costConfig.cloudProvider is not set: no catalog to price nodes from".to_string(),
        );
        return None;
    };
    let mut nodes: BTreeMap<String, crate::prices::NodeFacts> = BTreeMap::new();
    let mut priced = Vec::with_capacity(pods.len());
    for (pod, status) in pods.iter().zip(statuses.iter_mut()) {
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
            continue;
        };
        if !nodes.contains_key(&node) {
            match cluster::get_node(&ctx.client, &node).await {
                Ok(Some(object)) => {
                    nodes.insert(node.clone(), crate::prices::node_facts(&object));
                }
                Ok(None) => {
                    errors.insert(format!("node {node}"), "not found".to_string());
                    continue;
                }
                Err(error) => {
                    ctx.metrics.error("get_node");
                    errors.insert(format!("node {node}"), error.to_string());
                    continue;
                }
            }
        }
        let facts = nodes[&node].clone();
        status.spot = facts.spot;
        priced.push((status.name.clone(), crate::prices::pod_gpus(pod), facts));
    }
    match crate::prices::replica_prices(&ctx.prices, provider.as_str(), &priced) {
        Ok(prices) => Some(crate::prices::cost_observation(
            statuses, &prices, spend, now,
        )),
        Err(why) => {
            errors.insert("price".to_string(), why);
            None
        }
    }
}
