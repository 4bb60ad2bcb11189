//! GPU and model catalogs: the physical facts a replica's capacity and speed follow from.
//!
//! Defaults are embedded (`gpus.yaml`, `models.yaml`, with their sources in comments);
//! a user passes their own YAML file of the same shape to add or replace entries. Entries
//! are found by `id` or any alias, case-insensitively, so the names vLLM writes into a
//! recording ("NVIDIA GeForce RTX 4090", "meta-llama/Llama-3.1-8B") resolve directly.

use serde::Deserialize;
use std::path::Path;

const BUILTIN_GPUS: &str = include_str!("gpus.yaml");
const BUILTIN_MODELS: &str = include_str!("models.yaml");

/// Why a catalog could not be loaded or an entry could not be found.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read catalog {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("catalog {path}: {message}")]
    Parse { path: String, message: String },
    #[error("catalog {path}: {what} `{id}`: {problem}")]
    Invalid {
        path: String,
        what: &'static str,
        id: String,
        problem: String,
    },
    #[error("unknown {what} `{name}`; known: {known}")]
    Unknown {
        what: &'static str,
        name: String,
        known: String,
    },
}

/// Engine-wide constants and efficiency defaults shared by every GPU.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuDefaults {
    /// Share of peak memory bandwidth the serving kernels reach.
    pub memory_efficiency: f64,
    /// Share of peak dense BF16 FLOP/s the serving kernels reach.
    pub compute_efficiency: f64,
    /// Fixed engine time per step (scheduling, sampling, bookkeeping), microseconds.
    pub step_overhead_us: f64,
    /// Extra engine time per scheduled sequence per step, microseconds.
    pub per_sequence_overhead_us: f64,
    /// Latency of one all-reduce call across a tensor-parallel group, microseconds.
    pub allreduce_latency_us: f64,
}

/// One GPU type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuSpec {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Device memory, bytes.
    pub memory_bytes: f64,
    /// Peak memory bandwidth, bytes per second.
    pub memory_bandwidth_bytes_per_s: f64,
    /// Peak dense BF16 tensor throughput, FLOP per second.
    pub bf16_flops: f64,
    /// Per-direction GPU-to-GPU bandwidth inside a tensor-parallel group, bytes per second.
    pub interconnect_bytes_per_s: f64,
    /// Rough on-demand price, USD per GPU-hour (a hint for cost reports).
    #[serde(default)]
    pub price_per_hour_usd: Option<f64>,
    /// Overrides of the catalog-wide efficiency defaults for this GPU.
    #[serde(default)]
    pub memory_efficiency: Option<f64>,
    #[serde(default)]
    pub compute_efficiency: Option<f64>,
}

impl GpuSpec {
    /// The name the driver reports (dcgm-exporter's `modelName`): the first alias that
    /// starts with `NVIDIA `, else the catalog id.
    pub fn product_name(&self) -> &str {
        self.aliases
            .iter()
            .find(|a| a.starts_with("NVIDIA "))
            .map_or(self.id.as_str(), String::as_str)
    }
}

/// Mixture-of-experts layout of a model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoeSpec {
    /// Experts per MoE layer.
    pub experts: u32,
    /// Experts each token is routed to.
    pub experts_per_token: u32,
    /// Parameters held in experts (all layers); the rest is dense.
    pub expert_params: f64,
}

/// One model architecture.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub layers: u32,
    pub hidden: u32,
    pub heads: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    /// Vocabulary size: the input embedding and the LM head are `vocab x hidden` each.
    pub vocab: u32,
    /// Whether the LM head shares the input embedding's weights.
    #[serde(default)]
    pub tie_embeddings: bool,
    /// All parameters (what occupies memory).
    pub params_total: f64,
    /// Parameters one token touches (equals `params_total` for dense models).
    pub params_active: f64,
    /// Bytes per weight and per KV element (2 for BF16).
    pub dtype_bytes: u32,
    #[serde(default)]
    pub moe: Option<MoeSpec>,
}

impl ModelSpec {
    /// Whether `name` names this model (its id or an alias, in any case, or a path whose
    /// last component is one of theirs).
    pub fn answers_to(&self, name: &str) -> bool {
        matches_name(&self.id, &self.aliases, name)
    }

    /// KV-cache bytes one token occupies: 2 (K and V) x layers x kv_heads x head_dim x dtype.
    pub fn kv_bytes_per_token(&self) -> u64 {
        2 * u64::from(self.layers)
            * u64::from(self.kv_heads)
            * u64::from(self.head_dim)
            * u64::from(self.dtype_bytes)
    }

    /// Bytes of weights in memory.
    pub fn weight_bytes(&self) -> f64 {
        self.params_total * f64::from(self.dtype_bytes)
    }

    /// Parameters of one `vocab x hidden` embedding matrix.
    pub fn embedding_params(&self) -> f64 {
        f64::from(self.vocab) * f64::from(self.hidden)
    }

    /// Parameters a step reads whole: all but an untied input embedding, of which a
    /// step only gathers the rows of its tokens.
    pub fn params_read_per_step(&self) -> f64 {
        if self.tie_embeddings {
            self.params_total
        } else {
            self.params_total - self.embedding_params()
        }
    }

    /// Active parameters of the transformer body: what each computed token multiplies
    /// through (the LM head runs once per sequence per step, the embedding not at all).
    pub fn body_params_active(&self) -> f64 {
        let embeddings = if self.tie_embeddings { 1.0 } else { 2.0 } * self.embedding_params();
        self.params_active - embeddings
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GpuFile {
    #[serde(default)]
    defaults: Option<GpuDefaults>,
    #[serde(default)]
    gpus: Vec<GpuSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    #[serde(default)]
    models: Vec<ModelSpec>,
}

/// The GPUs and models a simulation can name.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub defaults: GpuDefaults,
    pub gpus: Vec<GpuSpec>,
    pub models: Vec<ModelSpec>,
}

impl Catalog {
    /// The embedded catalog.
    pub fn builtin() -> Self {
        let gpus =
            parse_gpus(BUILTIN_GPUS, "builtin gpus.yaml").expect("embedded gpus.yaml is valid");
        let models = parse_models(BUILTIN_MODELS, "builtin models.yaml")
            .expect("embedded models.yaml is valid");
        Self {
            defaults: gpus.defaults.expect("embedded gpus.yaml has defaults"),
            gpus: gpus.gpus,
            models: models.models,
        }
    }

    /// Adds the entries of a user's YAML text (a `gpus:` and/or `models:` list, optional
    /// `defaults:`); an entry whose id already exists replaces it.
    pub fn extend_from_yaml(&mut self, text: &str, origin: &str) -> Result<(), CatalogError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Both {
            #[serde(default)]
            defaults: Option<GpuDefaults>,
            #[serde(default)]
            gpus: Vec<GpuSpec>,
            #[serde(default)]
            models: Vec<ModelSpec>,
        }
        let both: Both = serde_saphyr::from_str(text).map_err(|error| CatalogError::Parse {
            path: origin.to_string(),
            message: error.to_string(),
        })?;
        for gpu in &both.gpus {
            validate_gpu(gpu, origin)?;
        }
        for model in &both.models {
            validate_model(model, origin)?;
        }
        if let Some(defaults) = both.defaults {
            self.defaults = defaults;
        }
        for gpu in both.gpus {
            self.gpus
                .retain(|known| !known.id.eq_ignore_ascii_case(&gpu.id));
            self.gpus.push(gpu);
        }
        for model in both.models {
            self.models
                .retain(|known| !known.id.eq_ignore_ascii_case(&model.id));
            self.models.push(model);
        }
        Ok(())
    }

    /// Adds the entries of a user's catalog file (see [`Catalog::extend_from_yaml`]).
    pub fn extend_from_file(&mut self, path: &Path) -> Result<(), CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|error| CatalogError::Io {
            path: path.display().to_string(),
            error,
        })?;
        self.extend_from_yaml(&text, &path.display().to_string())
    }

    /// The GPU named `name` (id or alias, any case).
    pub fn gpu(&self, name: &str) -> Result<&GpuSpec, CatalogError> {
        self.gpus
            .iter()
            .find(|gpu| matches_name(&gpu.id, &gpu.aliases, name))
            .ok_or_else(|| CatalogError::Unknown {
                what: "GPU",
                name: name.to_string(),
                known: self
                    .gpus
                    .iter()
                    .map(|gpu| gpu.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The model named `name` (id or alias, any case).
    pub fn model(&self, name: &str) -> Result<&ModelSpec, CatalogError> {
        self.models
            .iter()
            .find(|model| matches_name(&model.id, &model.aliases, name))
            .ok_or_else(|| CatalogError::Unknown {
                what: "model",
                name: name.to_string(),
                known: self
                    .models
                    .iter()
                    .map(|model| model.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Whether `name` is `id` or one of `aliases`, in any case; a path (`/data/Qwen3-32B`,
/// as vLLM records a model served from disk) also matches by its last component against
/// the last component of each (`Qwen/Qwen3-32B`).
fn matches_name(id: &str, aliases: &[String], name: &str) -> bool {
    let name = name.trim();
    let base = |text: &str| -> String {
        text.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let wanted = base(name);
    std::iter::once(id)
        .chain(aliases.iter().map(String::as_str))
        .any(|known| {
            known.eq_ignore_ascii_case(name) || (!wanted.is_empty() && base(known) == wanted)
        })
}

fn parse_gpus(text: &str, origin: &str) -> Result<GpuFile, CatalogError> {
    let file: GpuFile = serde_saphyr::from_str(text).map_err(|error| CatalogError::Parse {
        path: origin.to_string(),
        message: error.to_string(),
    })?;
    for gpu in &file.gpus {
        validate_gpu(gpu, origin)?;
    }
    Ok(file)
}

fn parse_models(text: &str, origin: &str) -> Result<ModelFile, CatalogError> {
    let file: ModelFile = serde_saphyr::from_str(text).map_err(|error| CatalogError::Parse {
        path: origin.to_string(),
        message: error.to_string(),
    })?;
    for model in &file.models {
        validate_model(model, origin)?;
    }
    Ok(file)
}

fn validate_gpu(gpu: &GpuSpec, origin: &str) -> Result<(), CatalogError> {
    let fields = [
        ("memory_bytes", gpu.memory_bytes),
        (
            "memory_bandwidth_bytes_per_s",
            gpu.memory_bandwidth_bytes_per_s,
        ),
        ("bf16_flops", gpu.bf16_flops),
        ("interconnect_bytes_per_s", gpu.interconnect_bytes_per_s),
    ];
    for (field, value) in fields {
        if !(value.is_finite() && value > 0.0) {
            return Err(CatalogError::Invalid {
                path: origin.to_string(),
                what: "GPU",
                id: gpu.id.clone(),
                problem: format!("{field} must be a positive number, found {value}"),
            });
        }
    }
    for (field, value) in [
        ("memory_efficiency", gpu.memory_efficiency),
        ("compute_efficiency", gpu.compute_efficiency),
    ] {
        if let Some(value) = value
            && !(value > 0.0 && value <= 1.0)
        {
            return Err(CatalogError::Invalid {
                path: origin.to_string(),
                what: "GPU",
                id: gpu.id.clone(),
                problem: format!("{field} must be in (0, 1], found {value}"),
            });
        }
    }
    Ok(())
}

fn validate_model(model: &ModelSpec, origin: &str) -> Result<(), CatalogError> {
    let invalid = |problem: String| CatalogError::Invalid {
        path: origin.to_string(),
        what: "model",
        id: model.id.clone(),
        problem,
    };
    for (field, value) in [
        ("layers", model.layers),
        ("hidden", model.hidden),
        ("heads", model.heads),
        ("kv_heads", model.kv_heads),
        ("head_dim", model.head_dim),
        ("vocab", model.vocab),
        ("dtype_bytes", model.dtype_bytes),
    ] {
        if value == 0 {
            return Err(invalid(format!("{field} must be at least 1, found 0")));
        }
    }
    if !(model.params_total > 0.0
        && model.params_active > 0.0
        && model.params_active <= model.params_total)
    {
        return Err(invalid(format!(
            "need 0 < params_active <= params_total, found active {} total {}",
            model.params_active, model.params_total
        )));
    }
    if model.body_params_active() <= 0.0 {
        return Err(invalid(format!(
            "params_active {} must exceed the embedding parameters (vocab x hidden = {})",
            model.params_active,
            model.embedding_params()
        )));
    }
    if let Some(moe) = &model.moe
        && (moe.experts == 0
            || moe.experts_per_token == 0
            || moe.experts_per_token > moe.experts
            || !(moe.expert_params > 0.0 && moe.expert_params < model.params_total))
    {
        return Err(invalid(format!(
            "moe needs 0 < experts_per_token <= experts and 0 < expert_params < params_total, found {moe:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// vLLM records a model served from disk by its path, and fine-tunes by their
    /// own repository: both resolve by the last path component.
    #[test]
    fn models_resolve_by_path_and_repository_name() {
        let catalog = Catalog::builtin();
        for (name, id) in [
            ("/data/model/Qwen3-32B", "qwen3-32b"),
            ("/models/Qwen3-32B/", "qwen3-32b"),
            ("qwen/qwen3-32b", "qwen3-32b"),
            ("Qwen3-30B-A3B-Instruct-2507", "qwen3-30b-a3b"),
            ("/data/Meta-Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ] {
            assert_eq!(catalog.model(name).unwrap().id, id, "{name}");
        }
        for unknown in ["/data/model/Qwen3-32B-AWQ", "/", ""] {
            assert!(catalog.model(unknown).is_err(), "{unknown}");
        }
        // The two RTX PRO 6000 editions differ in memory clock: a recording names
        // which one ran.
        for (device, id) in [
            (
                "NVIDIA RTX PRO 6000 Blackwell Server Edition",
                "rtx-pro-6000-server",
            ),
            (
                "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
                "rtx-pro-6000",
            ),
        ] {
            assert_eq!(catalog.gpu(device).unwrap().id, id);
        }
    }

    #[test]
    fn builtin_has_every_required_entry() {
        let catalog = Catalog::builtin();
        for gpu in [
            "a10g",
            "l4",
            "l40s",
            "a100-40gb",
            "a100-80gb",
            "h100-80gb",
            "h200",
            "b200",
            "rtx-4090",
            "rtx-pro-6000",
            "rtx-pro-6000-server",
        ] {
            catalog.gpu(gpu).unwrap();
        }
        for model in [
            "llama-3.1-8b",
            "llama-3.1-70b",
            "qwen3-32b",
            "qwen3-30b-a3b",
            "mistral-7b",
            "mixtral-8x7b",
            "llama2-70b",
        ] {
            catalog.model(model).unwrap();
        }
    }

    #[test]
    fn recording_names_resolve_by_alias() {
        let catalog = Catalog::builtin();
        assert_eq!(
            catalog.gpu("NVIDIA GeForce RTX 4090").unwrap().id,
            "rtx-4090"
        );
        assert_eq!(
            catalog.model("meta-llama/llama-3.1-8b").unwrap().id,
            "llama-3.1-8b"
        );
    }

    #[test]
    fn llama_8b_kv_is_128_kib_per_token() {
        let catalog = Catalog::builtin();
        assert_eq!(
            catalog.model("llama-3.1-8b").unwrap().kv_bytes_per_token(),
            128 * 1024
        );
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let error = Catalog::builtin().gpu("tpu-v5").unwrap_err().to_string();
        assert!(
            error.contains("tpu-v5") && error.contains("h100-80gb"),
            "{error}"
        );
    }

    #[test]
    fn user_yaml_adds_and_replaces() {
        let mut catalog = Catalog::builtin();
        catalog
            .extend_from_yaml(
                "gpus:\n  - { id: l4, memory_bytes: 24e9, memory_bandwidth_bytes_per_s: 1e12, bf16_flops: 1e14, interconnect_bytes_per_s: 1e10 }\n",
                "mine.yaml",
            )
            .unwrap();
        assert_eq!(
            catalog.gpu("L4").unwrap().memory_bandwidth_bytes_per_s,
            1e12
        );
        assert_eq!(catalog.gpus.iter().filter(|gpu| gpu.id == "l4").count(), 1);
    }

    #[test]
    fn bad_user_yaml_names_file_and_field() {
        let mut catalog = Catalog::builtin();
        let error = catalog
            .extend_from_yaml(
                "models:\n  - { id: x, layers: 0, hidden: 1, heads: 1, kv_heads: 1, head_dim: 1, vocab: 1, params_total: 9, params_active: 9, dtype_bytes: 2 }\n",
                "mine.yaml",
            )
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("mine.yaml") && error.contains("layers"),
            "{error}"
        );
        let error = catalog
            .extend_from_yaml("gpus: [ { id: y, bogus: 1 } ]", "mine.yaml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("mine.yaml"), "{error}");
    }
}
