//! Validation results: every problem of a manifest at once, each naming its field.
//!
//! A user fixing a manifest wants the whole list in one go, with the exact path to each
//! field (`spec.behavior.scaleUp.policies[1].periodSeconds`), what was expected and what
//! was found. The walkers in the sibling modules push into a [`Problems`] collector and
//! keep going; nothing stops at the first error.

use super::budscaler::{CostConfig, GpuConfig, MultiClusterConfig, PredictionConfig};
use super::kpa::{KpaConfig, KpaContext};
use super::metrics::{MetricSourceType, ResolvedMetric, non_empty};
use super::{
    API_VERSION, BudAIScaler, BudAIScalerSpec, KIND, ResolvedSpec, ScalingBehavior,
    ScalingStrategy, defaults,
};
use serde::Serialize;
use thiserror::Error;

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Error)]
#[error("{path}: {message}")]
pub struct FieldError {
    /// JSON path of the field as written in the manifest, e.g. `spec.metricsSources[0].port`.
    pub path: String,
    /// What was expected and what was found.
    pub message: String,
}

/// All problems found in a manifest, in document order. Displays one per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Error)]
#[error("{}", render_lines(.0))]
pub struct ValidationErrors(pub Vec<FieldError>);

fn render_lines(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(FieldError::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl ValidationErrors {
    /// Each problem rendered as `path: message`, the same lines `Display` prints.
    pub fn lines(&self) -> Vec<String> {
        self.0.iter().map(FieldError::to_string).collect()
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no problem (never the case for a returned `Err`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, in document order.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }
}

/// A closed set of manifest words (`HPA`, `vllm`, `Percent`…), implemented by the enums
/// the `manifest_enum!` macro declares, so one checker can report any of them.
pub trait ManifestWord: Sized + Copy {
    /// The accepted spellings, in documentation order.
    const NAMES: &'static [&'static str];
    /// The variant spelled `text`, case-sensitive as Kubernetes enums are.
    fn from_manifest(text: &str) -> Option<Self>;
}

/// Collects problems while a spec is walked.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<FieldError>);

impl Problems {
    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            path: path.into(),
            message: message.into(),
        });
    }

    pub(crate) fn required(&mut self, path: impl Into<String>) {
        self.push(path, "is required");
    }

    /// Checks `lo <= value <= hi`; returns whether it holds.
    pub(crate) fn in_range(&mut self, path: &str, value: i64, lo: i64, hi: i64) -> bool {
        let ok = (lo..=hi).contains(&value);
        if !ok {
            self.push(path, format!("must be in {lo}..={hi} (found {value})"));
        }
        ok
    }

    /// Checks `value >= lo`; returns whether it holds.
    pub(crate) fn at_least(&mut self, path: &str, value: i64, lo: i64) -> bool {
        let ok = value >= lo;
        if !ok {
            self.push(path, format!("must be >= {lo} (found {value})"));
        }
        ok
    }

    /// Checks `lo <= value <= hi` for a float; NaN fails.
    pub(crate) fn in_range_f64(&mut self, path: &str, value: f64, lo: f64, hi: f64) -> bool {
        let ok = (lo..=hi).contains(&value);
        if !ok {
            self.push(path, format!("must be in {lo}..={hi} (found {value})"));
        }
        ok
    }

    /// Reads an optional manifest word: `None` gives `default`, an unknown spelling is
    /// reported (and `default` returned so the walk can go on).
    pub(crate) fn word<W: ManifestWord>(
        &mut self,
        path: &str,
        text: Option<&str>,
        default: W,
    ) -> W {
        match text {
            None => default,
            Some(t) => W::from_manifest(t).unwrap_or_else(|| {
                self.push(
                    path,
                    format!("must be one of {} (found {t:?})", W::NAMES.join(", ")),
                );
                default
            }),
        }
    }

    /// Reads a required manifest word; `None` when missing or unknown (both reported).
    pub(crate) fn required_word<W: ManifestWord>(
        &mut self,
        path: &str,
        text: Option<&str>,
    ) -> Option<W> {
        match text {
            None => {
                self.required(path);
                None
            }
            Some(t) => {
                let found = W::from_manifest(t);
                if found.is_none() {
                    self.push(
                        path,
                        format!("must be one of {} (found {t:?})", W::NAMES.join(", ")),
                    );
                }
                found
            }
        }
    }

    /// Reads a required integer; `None` (and a problem) when missing.
    pub(crate) fn required_int(&mut self, path: &str, value: Option<i32>) -> Option<i32> {
        if value.is_none() {
            self.required(path);
        }
        value
    }

    pub(crate) fn finish<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(ValidationErrors(self.0))
        }
    }
}

/// `parent.child`, or `child` when there is no parent.
pub(crate) fn field(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// `parent[index]`.
pub(crate) fn item(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// Checks `apiVersion`, `kind` and `metadata.name`.
pub(crate) fn check_header(scaler: &BudAIScaler, p: &mut Problems) {
    for (path, value, expected) in [
        ("apiVersion", &scaler.api_version, API_VERSION),
        ("kind", &scaler.kind, KIND),
    ] {
        match value.as_deref() {
            None => p.push(path, format!("is required (expected {expected})")),
            Some(found) if found != expected => {
                p.push(path, format!("must be {expected} (found {found:?})"))
            }
            Some(_) => {}
        }
    }
    match scaler.metadata.name.as_deref() {
        None => p.required("metadata.name"),
        Some(name) if !is_dns_subdomain(name) => p.push(
            "metadata.name",
            format!(
                "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (found {name:?})"
            ),
        ),
        Some(_) => {}
    }
}

fn is_dns_subdomain(name: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !name.is_empty()
        && name.len() <= 253
        && name.chars().all(|c| alnum(c) || c == '-' || c == '.')
        && name.starts_with(alnum)
        && name.ends_with(alnum)
}

/// Walks the whole spec: field checks in document order, then the checks that relate
/// fields to each other. Always returns a spec (with defaults standing in for bad
/// values); it is only handed out when `p` stayed empty.
pub(crate) fn resolve_spec(spec: &BudAIScalerSpec, path: &str, p: &mut Problems) -> ResolvedSpec {
    let target_path = field(path, "scaleTargetRef");
    let (target_kind, target_name) = match &spec.scale_target_ref {
        None => {
            p.required(&*target_path);
            (String::new(), String::new())
        }
        Some(target) => (
            non_empty(p, &field(&target_path, "kind"), target.kind.as_deref()),
            non_empty(p, &field(&target_path, "name"), target.name.as_deref()),
        ),
    };

    let min_path = field(path, "minReplicas");
    let max_path = field(path, "maxReplicas");
    let min_replicas = spec.min_replicas.unwrap_or(defaults::MIN_REPLICAS);
    let min_ok = p.at_least(&min_path, i64::from(min_replicas), 0);
    let max_replicas = p.required_int(&max_path, spec.max_replicas);
    let max_ok = max_replicas.is_some_and(|max| p.at_least(&max_path, i64::from(max), 1));
    let max_replicas = max_replicas.unwrap_or(min_replicas.max(1));
    if min_ok && max_ok && min_replicas > max_replicas {
        p.push(
            &*min_path,
            format!("must be <= maxReplicas (found {min_replicas} > {max_replicas})"),
        );
    }
    let strategy = p.word(
        &field(path, "scalingStrategy"),
        spec.scaling_strategy.as_deref(),
        defaults::SCALING_STRATEGY,
    );

    let mode = p.word(&field(path, "mode"), spec.mode.as_deref(), defaults::MODE);

    let metrics_path = field(path, "metricsSources");
    let metrics: Vec<ResolvedMetric> = spec
        .metrics_sources
        .iter()
        .enumerate()
        .map(|(i, m)| m.resolve(&item(&metrics_path, i), p))
        .collect();
    let metric_names: Vec<String> = metrics
        .iter()
        .map(|m| m.name.clone())
        .filter(|n| !n.is_empty())
        .collect();

    let gpu = GpuConfig::resolve(spec.gpu_config.as_ref(), &field(path, "gpuConfig"), p);
    let cost = CostConfig::resolve(spec.cost_config.as_ref(), &field(path, "costConfig"), p);
    let prediction = PredictionConfig::resolve(
        spec.prediction_config.as_ref(),
        &field(path, "predictionConfig"),
        &metric_names,
        p,
    );

    let hints_path = field(path, "scheduleHints");
    // Bounds already reported as broken would only make every hint look wrong too.
    let bounds =
        (0 <= min_replicas && min_replicas <= max_replicas).then_some((min_replicas, max_replicas));
    let mut schedule_hints = Vec::new();
    for (i, hint) in spec.schedule_hints.iter().enumerate() {
        let hint_path = item(&hints_path, i);
        if let Some(name) = hint.name.as_deref().filter(|n| !n.trim().is_empty())
            && let Some(first) = spec.schedule_hints[..i]
                .iter()
                .position(|h| h.name.as_deref() == Some(name))
        {
            p.push(
                field(&hint_path, "name"),
                format!("must be unique (found {name:?}, also scheduleHints[{first}].name)"),
            );
        }
        schedule_hints.extend(hint.resolve(&hint_path, bounds, p));
    }

    let multi_cluster = MultiClusterConfig::resolve(
        spec.multi_cluster_config.as_ref(),
        &field(path, "multiClusterConfig"),
        p,
    );
    let behavior = ScalingBehavior::resolve(spec.behavior.as_ref(), &field(path, "behavior"), p);
    let kpa_path = field(path, "kpaConfig");
    let kpa_context = KpaContext {
        min_replicas,
        max_replicas,
        scale_up_rate_fallback: behavior.scale_up.max_scale_rate,
        scale_down_rate_fallback: behavior.scale_down.max_scale_rate,
    };
    let kpa = KpaConfig::resolve(spec.kpa_config.as_ref(), &kpa_path, &kpa_context, p);

    // Checks across fields.
    if strategy == ScalingStrategy::Hpa && spec.kpa_config.is_some() {
        p.push(
            &*kpa_path,
            "applies only to scalingStrategy KPA or BudScaler (found HPA)",
        );
    }
    if spec.metrics_sources.is_empty() {
        match strategy {
            ScalingStrategy::Hpa | ScalingStrategy::Kpa => {
                p.push(&*metrics_path, format!("at least one metric source is required for scalingStrategy {strategy}"))
            }
            ScalingStrategy::BudScaler if spec.schedule_hints.is_empty() => p.push(
                &*metrics_path,
                "at least one metric source or schedule hint is required for scalingStrategy BudScaler",
            ),
            ScalingStrategy::BudScaler => {}
        }
    }
    if strategy == ScalingStrategy::Hpa
        && min_replicas == 0
        && !metrics
            .iter()
            .any(|m| m.source == MetricSourceType::External)
    {
        p.push(
            &*min_path,
            "0 needs scalingStrategy KPA or BudScaler, or an external metric source with HPA (found 0)",
        );
    }

    ResolvedSpec {
        target_kind,
        target_name,
        target_role: spec
            .sub_target_selector
            .as_ref()
            .and_then(|s| s.role_name.clone()),
        min_replicas,
        max_replicas,
        strategy,
        metrics,
        behavior,
        kpa,
        schedule_hints,
        prediction,
        gpu,
        cost,
        multi_cluster,
        mode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_problem_per_line() {
        let mut p = Problems::default();
        p.in_range("spec.a", 0, 1, 1800);
        p.required("spec.b");
        let err = p.finish(()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "spec.a: must be in 1..=1800 (found 0)\nspec.b: is required"
        );
        assert_eq!(err.len(), 2);
    }

    #[test]
    fn paths_compose() {
        assert_eq!(item(&field("spec", "policies"), 1), "spec.policies[1]");
        assert_eq!(field("", "spec"), "spec");
    }
}
