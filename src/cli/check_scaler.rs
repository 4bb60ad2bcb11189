//! `budscaler check-scaler FILE...`: validates `BudAIScaler` manifests (YAML, one or
//! more `---`-separated documents per file; HPA, KEDA and Knative objects are read
//! through the importers) and prints what the engine will do with each: strategy,
//! bounds, mode, sync period and scrape interval, what each metric reads and from
//! where, hints and forecasting. Problems are printed one per line as
//! `FILE[#DOC]: spec.path: …`, all of them.
//!
//! Exit codes: 0 every manifest valid, 2 any problem (or an unreadable file).

use super::OutputFormat;
use anyhow::Context;
use control::scrape_plan::{self, PodAddress};
use control::timing;
use engine::spec::{BudAIScaler, MetricSourceType, ResolvedSpec};
use engine::{Scaler, ScalerError};
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  budscaler check-scaler operator/deploy/examples/*.yaml")]
pub struct Args {
    /// Manifest files (YAML; several documents separated by `---` lines).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// `text` describes each scaler; `json` prints each resolved spec.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut problems = Vec::new();
    let mut resolved = Vec::new();
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let documents = split_documents(&text);
        let several = documents.len() > 1;
        for (index, document) in documents.into_iter().enumerate() {
            let at = if several {
                format!("{}#{}", file.display(), index + 1)
            } else {
                file.display().to_string()
            };
            match check(document) {
                Ok((manifest, spec, mapping)) => resolved.push((at, manifest, spec, mapping)),
                Err(lines) => {
                    problems.extend(lines.into_iter().map(|line| format!("{at}: {line}")))
                }
            }
        }
    }
    match args.format {
        OutputFormat::Json => {
            let specs: Vec<serde_json::Value> = resolved
                .iter()
                .map(|(at, manifest, spec, _)| {
                    serde_json::json!({ "file": at, "name": manifest.name(), "resolved": spec })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({ "valid": specs, "problems": problems })
                )?
            );
        }
        OutputFormat::Text => {
            for (at, manifest, spec, mapping) in &resolved {
                print!("{}", describe(at, manifest, spec, mapping));
            }
            for problem in &problems {
                eprintln!("{problem}");
            }
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_BAD_INPUT)
    })
}

/// The documents of a YAML stream: split at lines that are `---` (optionally followed
/// by a comment); empty documents are dropped.
fn split_documents(text: &str) -> Vec<&str> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- #") {
            documents.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    documents.push(&text[start..]);
    documents
        .into_iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect()
}

type Checked = (BudAIScaler, ResolvedSpec, Vec<String>);

/// One document: the manifest, its resolved spec and any import mapping, or every
/// problem.
fn check(document: &str) -> Result<Checked, Vec<String>> {
    let value: serde_json::Value =
        serde_saphyr::from_str(document).map_err(|e| vec![e.to_string()])?;
    let imported = engine::import::import(&value).map_err(|e| vec![e.to_string()])?;
    let manifest = imported.manifest;
    match Scaler::new(&manifest) {
        Ok(scaler) => Ok((manifest.clone(), scaler.spec().clone(), imported.mapping)),
        Err(ScalerError::Invalid(errors)) => {
            Err(errors.0.iter().map(ToString::to_string).collect())
        }
        Err(other) => Err(vec![other.to_string()]),
    }
}

/// What the engine will do with one valid manifest.
fn describe(at: &str, manifest: &BudAIScaler, spec: &ResolvedSpec, mapping: &[String]) -> String {
    let mut out = String::new();
    let sync = timing::default_sync_period(spec.strategy);
    let scrape = timing::scrape_interval(sync, None);
    let _ = writeln!(
        out,
        "{at}: {} ({}/{}) is valid: {} scaler of {} {} between {} and {} replicas, mode {:?}",
        manifest.name(),
        manifest.metadata.namespace.as_deref().unwrap_or("default"),
        manifest.name(),
        spec.strategy,
        spec.target_kind,
        spec.target_name,
        spec.min_replicas,
        spec.max_replicas,
        spec.mode,
    );
    for line in mapping {
        let _ = writeln!(out, "  imported: {line}");
    }
    let _ = writeln!(
        out,
        "  decides every {} s on scrapes every {} s (a driver's own settings override both)",
        sync / engine::time::SECOND,
        scrape / engine::time::SECOND
    );
    let pod = [PodAddress {
        name: "POD".into(),
        ip: "POD_IP".into(),
    }];
    for (index, metric) in spec.metrics.iter().enumerate() {
        let reads = match metric.source {
            MetricSourceType::Resource => "pod resource usage from metrics.k8s.io".to_string(),
            MetricSourceType::Custom => {
                "each ready pod's value from the custom metrics API (custom.metrics.k8s.io)".to_string()
            }
            _ if scrape_plan::reads_metrics_api(metric) => {
                "one value for the whole workload from the external metrics API (external.metrics.k8s.io)".to_string()
            }
            _ if metric.prom_ql.is_some() => format!(
                "a PromQL query at {}",
                metric
                    .endpoint
                    .as_deref()
                    .unwrap_or("the configured Prometheus")
            ),
            _ if metric.is_workload_value() => {
                "one value for the whole workload (external metric)".to_string()
            }
            _ => format!(
                "each ready pod's {}",
                scrape_plan::pod_url(spec, index, &pod[0].ip)
            ),
        };
        let _ = writeln!(
            out,
            "  metricsSources[{index}] {} target {}: reads {reads}",
            metric.name,
            metric.target.value()
        );
        let fraction = engine::budscaler::signals::SignalKind::of(&metric.name)
            == engine::budscaler::signals::SignalKind::Fraction;
        if fraction && metric.source != MetricSourceType::Resource && metric.target.value() > 1.0 {
            let _ = writeln!(
                out,
                "  warning: metricsSources[{index}] {} is a 0-1 fraction (vLLM's KV-cache use), so a target of {} is never reached; write {} for {}%",
                metric.name,
                metric.target.value(),
                metric.target.value() / 100.0,
                metric.target.value()
            );
        }
    }
    for hint in &spec.schedule_hints {
        let _ = writeln!(
            out,
            "  scheduleHints {}: at least {} replicas for {} s after each `{}` ({})",
            hint.name,
            hint.target_replicas,
            hint.duration / engine::time::SECOND,
            hint.cron_expression,
            hint.time_zone
        );
    }
    if spec.strategy == engine::spec::ScalingStrategy::BudScaler {
        let _ = writeln!(
            out,
            "  forecasting {} (predictor {:?}), target utilization {}%",
            if spec.prediction.enabled { "on" } else { "off" },
            spec.prediction.predictor,
            spec.kpa.target_utilization * 100.0
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_documents;

    #[test]
    fn documents_split_at_separator_lines_only() {
        let text = "a: 1\n---\nb: '---'\n--- # second\n# only a comment\n---\nc: 3\n";
        assert_eq!(split_documents(text), ["a: 1\n", "b: '---'\n", "c: 3\n"]);
    }
}
