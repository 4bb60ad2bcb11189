//! What makes an output folder self-describing: `scenario.yaml` (the scenario as it
//! ran: trace source and reshaping, the fleet with GPU, model, tensor parallelism and
//! prices, the SLO, the scalers) and `scalers/<name>.yaml` (every manifest as the
//! engine ran it, defaults not filled in; an imported HPA, KEDA or Knative manifest as
//! the `BudAIScaler` it was mapped to, headed by one comment per mapping sentence).
//! Both are deterministic functions of the resolved scenario.

use super::{OutputError, failed, write_file};
use crate::scenario::{ScalerChoice, Scenario, TraceSource};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `scenario.yaml`'s text.
pub fn scenario_yaml(scenario: &Scenario) -> String {
    let trace = &scenario.trace;
    let source = match &trace.source {
        TraceSource::File { path, options } => json!({
            "file": path.display().to_string(),
            "format": options.format.map(|f| format!("{f:?}")),
        }),
        TraceSource::Generate(config) => json!({
            "generate": {
                "pattern": format!("{:?}", config.pattern),
                "duration_s": config.duration_us as f64 / 1e6,
                "rate_rps": config.rate_rps,
                "seed": config.seed,
                "tokens": format!("{:?}", config.tokens),
            }
        }),
        TraceSource::Series { path, mode, .. } => json!({
            "series": path.display().to_string(),
            "mode": format!("{mode:?}"),
        }),
    };
    let scalers: Vec<Value> = scenario
        .scalers
        .iter()
        .map(|choice| match choice {
            ScalerChoice::Manifest {
                name,
                origin,
                imported,
                ..
            } => json!({
                "name": name,
                "manifest": format!("scalers/{}.yaml", file_stem(name)),
                "from": origin,
                "imported_from": imported.as_ref().map(|i| i.kind.to_string()),
            }),
            ScalerChoice::Static { name, replicas } => json!({ "name": name, "static": replicas }),
            ScalerChoice::Oracle { name, options } => json!({
                "name": name,
                "oracle": format!("{options:?}"),
            }),
        })
        .collect();
    let value = json!({
        "name": scenario.name,
        "description": scenario.description,
        "seed": scenario.seed,
        "scenario_file": scenario.file.display().to_string(),
        "trace": {
            "source": source,
            "window_s": trace.window.map(|(from, to)| [from as f64 / 1e6, to as f64 / 1e6]),
            "time_scale": trace.time_scale,
            "rate_scale": trace.rate_scale,
            "max_requests": trace.max_requests,
        },
        "fleet": scenario.fleet,
        "slo": scenario.slo,
        "scalers": scalers,
    });
    let body =
        serde_saphyr::to_string(&value).unwrap_or_else(|e| format!("# not renderable: {e}\n"));
    format!(
        "# The scenario as it ran (resolved by budscaler; times in microseconds where named _us).\n{body}"
    )
}

/// A scaler name as a file name: anything but letters, digits, `-`, `_` and `.`
/// becomes `_`.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes `scenario.yaml` and `scalers/<name>.yaml` for every manifest scaler.
pub fn write_described(dir: &Path, scenario: &Scenario) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = vec![write_file(&dir.join("scenario.yaml"), |out| {
        out.write_all(scenario_yaml(scenario).as_bytes())
    })?];
    let scalers = dir.join("scalers");
    std::fs::create_dir_all(&scalers).map_err(|e| failed(&scalers, e))?;
    for choice in &scenario.scalers {
        if let ScalerChoice::Manifest { name, manifest, .. } = choice {
            let path = scalers.join(format!("{}.yaml", file_stem(name)));
            let text = match choice.imported_yaml() {
                Some(text) => text,
                None => serde_saphyr::to_string(manifest.as_ref()).map_err(|e| failed(&path, e))?,
            };
            written.push(write_file(&path, |out| out.write_all(text.as_bytes()))?);
        }
    }
    Ok(written)
}

/// Writes `status/<name>.json` for every run that ended with a scaler status (manifest
/// scalers): the status the operator would write to the resource at the run's end.
pub fn write_statuses<'a>(
    dir: &Path,
    results: impl IntoIterator<Item = &'a crate::fleet::RunResult>,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    let statuses = dir.join("status");
    for result in results {
        let Some(status) = &result.status else {
            continue;
        };
        std::fs::create_dir_all(&statuses).map_err(|e| failed(&statuses, e))?;
        let path = statuses.join(format!("{}.json", file_stem(&result.scaler)));
        let text = serde_json::to_string_pretty(status).map_err(|e| failed(&path, e))? + "\n";
        written.push(write_file(&path, |out| out.write_all(text.as_bytes()))?);
    }
    Ok(written)
}
