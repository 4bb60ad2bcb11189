//! `budscaler-operator`: runs every `BudAIScaler` of the cluster (or of one namespace)
//! through the engine, once a second checking which scaler is due.

use anyhow::Context as _;
use clap::Parser;
use operator::http::Http;
use operator::leader::LeaderElector;
use operator::metrics::OperatorMetrics;
use operator::operator::{Operator, Settings};
use operator::runner::Context;
use operator::serve::{Health, serve};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The BudAIScaler operator (scaler.bud.studio/v1alpha1).
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Example (in a pod, with the service account of operator/deploy):\n  budscaler-operator --leader-election --observation-log /var/log/budscaler"
)]
struct Args {
    /// Watch only this namespace (default: all namespaces).
    #[arg(long)]
    namespace: Option<String>,
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, default_value = "0.0.0.0:8080")]
    listen: String,
    /// Prometheus base URL for PromQL metrics that name no `endpoint`.
    #[arg(long)]
    prometheus_url: Option<String>,
    /// PEM file of CA certificates trusted for `https` metric sources, besides the
    /// system's roots (the CA that signs the pods' metrics certificates).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Per-request timeout of metric sources, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    source_timeout_ms: u64,
    /// Append every observation and decision to DIR/NAMESPACE_NAME.jsonl
    /// (replay with `budscaler replay-log`).
    #[arg(long, value_name = "DIR")]
    observation_log: Option<PathBuf>,
    /// With --observation-log: also append every scrape body to
    /// DIR/NAMESPACE_NAME.scrapes.jsonl (`{"t_us","target","text"}`, what
    /// `trace.series` replays).
    #[arg(long, requires = "observation_log")]
    log_scrapes: bool,
    /// Port of the DCGM exporter on each node (scraped at the pods' host IP for scalers
    /// that read GPU telemetry).
    #[arg(long, default_value_t = 9400)]
    dcgm_port: u16,
    /// A price file overriding the built-in catalog's rows (the layout of
    /// control/src/pricing.yaml), for scalers with `costConfig.enabled`.
    #[arg(long, value_name = "FILE")]
    price_catalog: Option<PathBuf>,
    /// Save learning to each scaler's ConfigMap this often, in seconds.
    #[arg(long, default_value_t = 300)]
    save_every_s: i64,
    /// Run only while holding the Lease `budscaler-operator` (several replicas).
    #[arg(long)]
    leader_election: bool,
    /// Namespace of the Lease (default: POD_NAMESPACE, else `default`).
    #[arg(long)]
    lease_namespace: Option<String>,
}

fn unix_now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = kube::Client::try_default()
        .await
        .context("no Kubernetes configuration (in-cluster service account or KUBECONFIG)")?;
    let instance = std::env::var("POD_NAME").unwrap_or_else(|_| "budscaler-operator".to_string());
    let metrics = Arc::new(OperatorMetrics::default());
    let health = Arc::new(Health {
        metrics: metrics.clone(),
        ..Health::default()
    });
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("--listen {}", args.listen))?;
    tokio::spawn(serve(listener, health.clone()));
    let ctx = Context {
        client: client.clone(),
        http: match &args.ca_file {
            Some(path) => Http::with_ca_file(Duration::from_millis(args.source_timeout_ms), path)
                .context("--ca-file")?,
            None => Http::new(Duration::from_millis(args.source_timeout_ms)),
        },
        prometheus_url: args.prometheus_url.clone(),
        dcgm_port: args.dcgm_port,
        prices: Arc::new(match &args.price_catalog {
            Some(path) => control::pricing::PriceCatalog::builtin_with_file(path)
                .context("--price-catalog")?,
            None => control::pricing::PriceCatalog::builtin().clone(),
        }),
        instance: instance.clone(),
        metrics: metrics.clone(),
    };
    if let Some(dir) = &args.observation_log {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("--observation-log {}", dir.display()))?;
    }
    let settings = Settings {
        namespace: args.namespace.clone(),
        logs: operator::runner::Logs {
            observations: args.observation_log.clone(),
            scrapes: args.log_scrapes,
        },
        save_every: args.save_every_s.max(1) * engine::time::SECOND,
    };
    let mut operator = Operator::new(ctx, settings);
    let elector = args.leader_election.then(|| {
        let namespace = args
            .lease_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "default".to_string());
        LeaderElector::new(
            client.clone(),
            &namespace,
            "budscaler-operator",
            &instance,
            15,
        )
    });
    let mut leading = elector.is_none();
    metrics.set_leader(leading);
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
        let now = unix_now_us();
        if let Some(elector) = &elector {
            let was_leading = leading;
            leading = elector.acquire_or_renew(now).await.unwrap_or_else(|error| {
                eprintln!("leader election: {error}");
                false
            });
            metrics.set_leader(leading);
            if was_leading && !leading {
                operator.save_all(now).await;
            }
        }
        if !leading {
            health.ready.store(true, Ordering::Relaxed);
            continue;
        }
        match operator.step(now).await {
            Ok(()) => health.ready.store(true, Ordering::Relaxed),
            Err(error) => {
                eprintln!("listing scalers: {error}");
                health.ready.store(false, Ordering::Relaxed);
            }
        }
    }
    eprintln!("shutting down: saving learning");
    if leading {
        operator.save_all(unix_now_us()).await;
    }
    if let Some(elector) = &elector {
        let _ = elector.release().await;
    }
    Ok(())
}
