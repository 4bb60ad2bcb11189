//! The profile step model: step times from a GPU's measured per-operator profile, as
//! LLMServingSim's profiler writes it (`meta.yaml` and `tp<N>/*.csv`, one hidden layer
//! profiled; a step is the layer's cost × the model's layers plus the once-per-step and
//! per-sequence operators).
//!
//! What is read and how it is fitted, so decode runs keep their closed form:
//! - `dense.csv` (`layer,tokens,time_us`): every operator but `embedding` and
//!   `final_layernorm` (once per step) is a per-layer one, summed into one per-layer
//!   cost (`layernorm` × [`LAYERNORMS_PER_LAYER`]; `qkv_proj`, `o_proj` and the MLP's
//!   `gate_up_proj`, `down_proj`, `act_fn` are required, so a renamed profile is not
//!   silently cheaper; operators of other architectures, such as Qwen3's `q_norm`, are
//!   counted as profiled). Piecewise linear in tokens between the profiled counts
//!   (linear past the last). A decode run has a fixed token count, so this is one
//!   evaluation per run, not per step.
//! - `per_sequence.csv` (`layer,sequences,time_us`): every operator (`lm_head`,
//!   `sampler` required), piecewise linear in the scheduled sequences.
//!   Piecewise-linear tables reproduce their rows exactly; only attention is a fit.
//! - `attention.csv` (`prefill_chunk,kv_prefill,n_decode,kv_decode,time_us`, `kv_decode`
//!   per decode sequence): two affine fits by weighted least squares (weights 1/time:
//!   relative errors of small and large rows count alike). Decode rows: one affine fit
//!   `base + c·decodes + d·decode KV tokens`. Rows with a prefill chunk: one fit per
//!   profiled chunk size, affine in the chunk's prior context (and, beside decodes, in
//!   the decodes and their KV: they run through the prefill kernel then, about 2.4×
//!   slower per KV token than alone on the RTX 4090 profile), linear between chunk sizes
//!   (piecewise-affine in prefill tokens). No step is under the floor, the fastest row
//!   (a kernel launch). A
//!   decode step is then the larger of a constant and an affine function of the step
//!   index, what
//!   [`DecodeRun`] sums exactly. [`ProfileModel::fit_report`] gives the
//!   fit's own error against the rows.
//! - CPU-side costs a GPU profile cannot see (the scheduler, input preparation) and
//!   the communication between GPUs are the roofline's ([`super::StepOverheads`]).
//! - MoE models: `moe.csv` (`[ep,]tokens,activated_experts,time_us`, one MoE layer;
//!   `activated_experts` are the shard's own when `ep` > 1) gives the expert layer's
//!   time at the experts a step's tokens are expected to activate,
//!   `E (1 − (1 − k/E)^tokens) / ep` of `E` experts with `k` per token, interpolated in
//!   both; it replaces the MLP operators (`gate_up_proj`, `down_proj`, `act_fn`), which
//!   an MoE profile may lack. Rows are read at the engine's expert-parallel degree
//!   ([`super::Parallelism::profiled_ep`]; no `ep` column means 1), the tokens being
//!   those of every data-parallel rank. A dense model with `moe.csv`, an MoE model
//!   without it, or a degree not profiled is refused.
//! - Tensor parallelism: a `tp<N>` profile times one GPU's shard of each operator; the
//!   all-reduces between the shards are not in it and are added as for the roofline
//!   ([`super::communication_seconds`]: two all-reduces per layer over the catalog's
//!   interconnect, and an MoE layer's token exchange between data-parallel ranks).
//!
//! The compute time (the DCGM tensor-pipe numerator) is the dense operators' time above
//! their one-token time: the part that grows with tokens is the matrix math, the rest
//! is reading the weights.

use super::{DecodeRun, Fs, Parallelism, StepModel, StepOverheads, StepShape};
use crate::catalog::{GpuDefaults, GpuSpec, ModelSpec, MoeSpec};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `layernorm` calls per decoder layer (input and post-attention); the profile times
/// one call.
pub const LAYERNORMS_PER_LAYER: f64 = 2.0;

/// Per-layer operators a profile must have (the MLP's only for dense models).
const REQUIRED_LAYER_OPS: [&str; 2] = ["qkv_proj", "o_proj"];
const MLP_OPS: [&str; 3] = ["gate_up_proj", "down_proj", "act_fn"];
const ONCE_PER_STEP_OPS: [&str; 2] = ["embedding", "final_layernorm"];
const PER_SEQUENCE_OPS: [&str; 2] = ["lm_head", "sampler"];

/// A profile that cannot be used; every message names the file (and line or field).
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Meta { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    Row {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: missing column `{column}` (header: {header})")]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        header: String,
    },
    #[error("{path}: no rows for operator `{op}`")]
    MissingOperator { path: PathBuf, op: &'static str },
    #[error("{path}: {message}")]
    Moe { path: PathBuf, message: String },
    #[error("{dir}: tensor parallelism {tp} was not profiled (profiled: {profiled})")]
    TensorParallel {
        dir: PathBuf,
        tp: u32,
        profiled: String,
    },
    #[error("{root}: no operator profile of {model} on {gpu}{variant} (profiles there: {found})")]
    NotFound {
        root: PathBuf,
        gpu: String,
        model: String,
        variant: String,
        found: String,
    },
    #[error(
        "{path}: the profiled architecture differs from the catalog's {model}: {field} is {profiled} in the profile, {catalog} in the catalog"
    )]
    Architecture {
        path: PathBuf,
        model: String,
        field: &'static str,
        profiled: String,
        catalog: String,
    },
}

/// A table `x → time (µs)`, piecewise linear between its points, linear past the last.
#[derive(Debug, Clone, PartialEq)]
struct Piecewise {
    points: Vec<(f64, f64)>,
}

impl Piecewise {
    fn at(&self, x: f64) -> f64 {
        let p = &self.points;
        if p.len() == 1 {
            return p[0].1;
        }
        let i = p.partition_point(|&(px, _)| px <= x).clamp(1, p.len() - 1);
        let ((x0, y0), (x1, y1)) = (p[i - 1], p[i]);
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    }

    /// The sum of `tables` with weights, on the union of their x values.
    fn sum(tables: &[(&Piecewise, f64)]) -> Piecewise {
        let mut xs: Vec<f64> = tables
            .iter()
            .flat_map(|(t, _)| t.points.iter().map(|p| p.0))
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        Piecewise {
            points: xs
                .into_iter()
                .map(|x| (x, tables.iter().map(|(t, w)| w * t.at(x)).sum()))
                .collect(),
        }
    }
}

/// The attention fit, µs, at least `floor`: decodes alone `decode_base + per_decode·n +
/// per_decode_kv·k`; with a prefill chunk, [`PrefillPiece`]s by chunk size.
#[derive(Debug, Clone, PartialEq)]
struct AttentionFit {
    pub floor: f64,
    pub decode_base: f64,
    pub per_decode: f64,
    pub per_decode_kv: f64,
    /// By profiled chunk size, ascending.
    pub prefill: Vec<PrefillPiece>,
}

/// The fits of one profiled prefill chunk size `chunk`: alone, `alone · [1, context]`
/// (the chunk's prior context); beside decodes, `with_decodes · [1, context, n, k]`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PrefillPiece {
    pub chunk: f64,
    pub alone: [f64; 2],
    pub with_decodes: Option<[f64; 4]>,
}

impl PrefillPiece {
    fn at(&self, context: f64, n: f64, k: f64) -> f64 {
        match (n > 0.0, self.with_decodes) {
            (true, Some(m)) => m[0] + m[1] * context + m[2] * n + m[3] * k,
            _ => self.alone[0] + self.alone[1] * context,
        }
    }
}

impl AttentionFit {
    /// One layer's attention, µs, for `t` prefill tokens whose (query, key) pairs are
    /// `p`, beside `n` decodes reading `k` KV tokens.
    fn at(&self, [t, p, n, k]: [f64; 4]) -> f64 {
        let line = if t > 0.0 {
            // The chunk's prior context, from pairs = t·context + t(t+1)/2.
            let context = ((p - t * (t + 1.0) / 2.0) / t).max(0.0);
            let pieces = &self.prefill;
            let i = pieces.partition_point(|piece| piece.chunk <= t);
            match (i.checked_sub(1).map(|j| &pieces[j]), pieces.get(i)) {
                (Some(low), Some(high)) => {
                    let (a, b) = (low.at(context, n, k), high.at(context, n, k));
                    a + (b - a) * (t - low.chunk) / (high.chunk - low.chunk)
                }
                // Past the largest chunk: in proportion to its tokens.
                (Some(last), None) => last.at(context, n, k) * t / last.chunk,
                (None, Some(first)) => first.at(context, n, k),
                (None, None) => 0.0,
            }
        } else if n > 0.0 {
            self.decode_base + self.per_decode * n + self.per_decode_kv * k
        } else {
            0.0
        };
        line.max(self.floor)
    }
}

/// Mean and 90th percentile of |fit − row| ÷ row over some rows.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct FitError {
    pub rows: usize,
    pub mean: f64,
    pub p90: f64,
}

impl FitError {
    fn of(errors: &[f64]) -> FitError {
        let summary = crate::metrics::Summary::of(errors);
        FitError {
            rows: errors.len(),
            mean: summary.map_or(0.0, |s| s.mean),
            p90: summary.map_or(0.0, |s| s.p90),
        }
    }
}

/// How well the fits reproduce the profile's own rows (`validate-recording` reports it).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FitReport {
    pub attention_rows: usize,
    /// Mean and 90th percentile of |fit − row| ÷ row over the attention rows.
    pub attention_mean_error: f64,
    pub attention_p90_error: f64,
    /// The same per kind of row: decodes only, prefill only, both.
    pub decode: FitError,
    pub prefill: FitError,
    pub mixed: FitError,
}

/// Step costs from a GPU's operator profile for one model and tensor-parallel degree.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileModel {
    layers: Fs,
    dense_layer: Piecewise,
    /// MoE models: the expert layer.
    moe: Option<MoeLayer>,
    dense_once: Piecewise,
    per_sequence: Piecewise,
    attention: AttentionFit,
    // Integer coefficients (femtoseconds) of the attention fit, so a decode run sums
    // exactly what its steps cost.
    floor_fs: Fs,
    decode_base_fs: Fs,
    decode_fs: Fs,
    decode_kv_fs: Fs,
    overheads: StepOverheads,
    report: FitReport,
}

fn us_to_fs(us: f64) -> Fs {
    (us * 1e9).round() as Fs
}

impl ProfileModel {
    /// Loads the profile at `dir` (the folder holding `meta.yaml` and `tp<N>/`) for
    /// `model` on `gpu` at `parallelism` (`tp<tensor>`), checking the profiled
    /// architecture against the catalog's.
    pub fn load(
        dir: &Path,
        gpu: &GpuSpec,
        model: &ModelSpec,
        parallelism: Parallelism,
        defaults: &GpuDefaults,
    ) -> Result<ProfileModel, ProfileError> {
        let tensor_parallel = parallelism.tensor.max(1);
        let tp_dir = dir.join(format!("tp{tensor_parallel}"));
        check_meta(dir, &tp_dir, model, tensor_parallel)?;
        let dense_path = tp_dir.join("dense.csv");
        let dense = read_op_table(&dense_path, "tokens")?;
        let per_seq_path = tp_dir.join("per_sequence.csv");
        let per_sequence_ops = read_op_table(&per_seq_path, "sequences")?;
        let attention_path = tp_dir.join("attention.csv");
        let rows = read_attention(&attention_path)?;
        let moe_path = tp_dir.join("moe.csv");
        let moe = match (&model.moe, moe_path.exists()) {
            (Some(spec), true) => {
                let ep = parallelism.profiled_ep(model);
                Some(MoeLayer {
                    table: read_moe(&moe_path, ep)?,
                    spec: spec.clone(),
                    ep,
                    ranks: f64::from(parallelism.data.max(1)),
                })
            }
            (Some(_), false) => {
                return Err(ProfileError::Moe {
                    path: moe_path,
                    message: format!(
                        "{} is a mixture of experts: its profile needs moe.csv",
                        model.id
                    ),
                });
            }
            (None, true) => {
                return Err(ProfileError::Moe {
                    path: moe_path,
                    message: format!(
                        "{} is dense in the catalog, but the profile has MoE layers",
                        model.id
                    ),
                });
            }
            (None, false) => None,
        };
        for op in REQUIRED_LAYER_OPS {
            op_table(&dense, &dense_path, op)?;
        }
        if moe.is_none() {
            for op in MLP_OPS {
                op_table(&dense, &dense_path, op)?;
            }
        }
        let mut once_parts = Vec::new();
        for op in ONCE_PER_STEP_OPS {
            once_parts.push((op_table(&dense, &dense_path, op)?, 1.0));
        }
        let layer_parts: Vec<(&Piecewise, f64)> = dense
            .iter()
            .filter(|(op, _)| !ONCE_PER_STEP_OPS.contains(&op.as_str()))
            .filter(|(op, _)| moe.is_none() || !MLP_OPS.contains(&op.as_str()))
            .map(|(op, table)| {
                let calls = if op == "layernorm" {
                    LAYERNORMS_PER_LAYER
                } else {
                    1.0
                };
                (table, calls)
            })
            .collect();
        for op in PER_SEQUENCE_OPS {
            op_table(&per_sequence_ops, &per_seq_path, op)?;
        }
        let seq_parts: Vec<(&Piecewise, f64)> = per_sequence_ops
            .values()
            .map(|table| (table, 1.0))
            .collect();
        let dense_layer = Piecewise::sum(&layer_parts);
        let dense_once = Piecewise::sum(&once_parts);
        let per_sequence = Piecewise::sum(&seq_parts);
        let attention = fit_attention(&rows).ok_or_else(|| ProfileError::Row {
            path: attention_path.clone(),
            line: 1,
            message: "too few distinct rows to fit attention (need prefill and decode rows)".into(),
        })?;
        let error = |r: &AttentionRow| (attention.at(r.features()) - r.time_us).abs() / r.time_us;
        let all = FitError::of(&rows.iter().map(error).collect::<Vec<_>>());
        let group = |keep: fn(&AttentionRow) -> bool| -> FitError {
            FitError::of(
                &rows
                    .iter()
                    .filter(|r| keep(r))
                    .map(error)
                    .collect::<Vec<_>>(),
            )
        };
        let report = FitReport {
            attention_rows: all.rows,
            attention_mean_error: all.mean,
            attention_p90_error: all.p90,
            decode: group(|r| r.prefill_chunk == 0.0),
            prefill: group(|r| r.n_decode == 0.0),
            mixed: group(|r| r.prefill_chunk > 0.0 && r.n_decode > 0.0),
        };
        Ok(ProfileModel {
            overheads: StepOverheads::new(gpu, model, defaults, parallelism),
            layers: Fs::from(model.layers),
            floor_fs: us_to_fs(attention.floor),
            decode_base_fs: us_to_fs(attention.decode_base),
            decode_fs: us_to_fs(attention.per_decode),
            decode_kv_fs: us_to_fs(attention.per_decode_kv).max(0),
            dense_layer,
            moe,
            dense_once,
            per_sequence,
            attention,
            report,
        })
    }

    /// The fits' own error against the profile's rows.
    pub fn fit_report(&self) -> FitReport {
        self.report
    }

    /// Everything but attention for `tokens` tokens of `seqs` sequences.
    fn fixed_fs(&self, tokens: u64, seqs: u64) -> Fs {
        if tokens == 0 && seqs == 0 {
            return 0;
        }
        let t = tokens as f64;
        let moe = self.moe.as_ref().map_or(0.0, |layer| layer.us(t));
        let gpu = self.layers as f64 * (self.dense_layer.at(t) + moe)
            + self.dense_once.at(t)
            + self.per_sequence.at(seqs as f64);
        us_to_fs(gpu) + self.overheads.fs(tokens, seqs)
    }

    /// One layer's attention. Decode-only steps in integer coefficients, so a decode
    /// run sums exactly what its steps cost; steps with a prefill chunk are single
    /// steps, from the per-chunk fits.
    fn attention_fs(&self, shape: &StepShape) -> Fs {
        let prefill_tokens = shape.tokens.saturating_sub(shape.decode_seqs);
        if prefill_tokens == 0 {
            let (n, k) = (shape.decode_seqs as Fs, shape.decode_context as Fs);
            return (self.decode_base_fs + self.decode_fs * n + self.decode_kv_fs * k)
                .max(self.floor_fs);
        }
        let prefill_pairs = shape.attention_pairs.saturating_sub(shape.decode_context);
        us_to_fs(self.attention.at([
            prefill_tokens as f64,
            prefill_pairs as f64,
            shape.decode_seqs as f64,
            shape.decode_context as f64,
        ]))
    }
}

impl StepModel for ProfileModel {
    fn name(&self) -> &str {
        "profile"
    }

    fn step_fs(&self, shape: &StepShape) -> Fs {
        if shape.seqs == 0 {
            return self.fixed_fs(0, 0);
        }
        self.layers * self.attention_fs(shape) + self.fixed_fs(shape.tokens, shape.seqs)
    }

    fn compute_fs(&self, shape: &StepShape) -> Fs {
        if shape.tokens == 0 {
            return 0;
        }
        let grown = self.dense_layer.at(shape.tokens as f64) - self.dense_layer.at(1.0);
        us_to_fs(self.layers as f64 * grown.max(0.0))
    }

    fn decode_run(&self, seqs: u64, context0: u64) -> DecodeRun {
        let n = seqs as Fs;
        let line0 = self.decode_base_fs + self.decode_fs * n + self.decode_kv_fs * context0 as Fs;
        let compute = self.compute_fs(&StepShape::decode(seqs, context0));
        DecodeRun::with_compute(
            self.layers * line0,
            self.layers * self.decode_kv_fs * n,
            self.layers * self.floor_fs,
            0,
            self.fixed_fs(seqs, seqs),
            (compute, 0),
        )
    }
}

/// One MoE layer of a rank: the profiled table at the engine's expert-parallel degree.
#[derive(Debug, Clone, PartialEq)]
struct MoeLayer {
    table: MoeTable,
    spec: MoeSpec,
    ep: u32,
    /// Data-parallel ranks whose tokens the layer serves (evenly loaded).
    ranks: f64,
}

impl MoeLayer {
    /// The layer's time, µs, for `tokens` tokens of this rank.
    fn us(&self, tokens: f64) -> f64 {
        let group = self.ranks * tokens;
        let active = super::expected_active_experts(&self.spec, self.ep, group);
        self.table.at(group, active)
    }
}

/// `moe.csv`: per token count, the layer's time by activated experts.
#[derive(Debug, Clone, PartialEq)]
struct MoeTable {
    rows: Vec<(f64, Piecewise)>,
}

impl MoeTable {
    /// Linear between the token counts profiled (the nearest outside them), each
    /// row linear in activated experts.
    fn at(&self, tokens: f64, active: f64) -> f64 {
        let rows = &self.rows;
        let i = rows.partition_point(|(t, _)| *t <= tokens);
        match (i.checked_sub(1).map(|j| &rows[j]), rows.get(i)) {
            (Some((t0, low)), Some((t1, high))) => {
                let (a, b) = (low.at(active), high.at(active));
                a + (b - a) * (tokens - t0) / (t1 - t0)
            }
            (Some((_, only)), None) | (None, Some((_, only))) => only.at(active),
            (None, None) => 0.0,
        }
    }
}

/// The rows of `moe.csv` at expert-parallel degree `ep` (a file without an `ep`
/// column is all degree 1).
fn read_moe(path: &Path, ep: u32) -> Result<MoeTable, ProfileError> {
    let text = read(path)?;
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, h)| h).unwrap_or_default();
    let [tokens, active, time] = columns(path, header, ["tokens", "activated_experts", "time_us"])?;
    let ep_column = header.split(',').map(str::trim).position(|n| n == "ep");
    let mut profiled_degrees = std::collections::BTreeSet::new();
    let mut by_tokens: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if let Some(column) = ep_column {
            let degree = number(path, index + 1, &fields, column, "ep")?;
            profiled_degrees.insert(degree.round() as u64);
            if degree.round() as u64 != u64::from(ep) {
                continue;
            }
        } else if ep != 1 {
            profiled_degrees.insert(1);
            continue;
        }
        let t = number(path, index + 1, &fields, tokens, "tokens")?;
        let a = number(path, index + 1, &fields, active, "activated_experts")?;
        let us = number(path, index + 1, &fields, time, "time_us")?;
        by_tokens.entry(t.round() as u64).or_default().push((a, us));
    }
    if by_tokens.is_empty() {
        let message = if profiled_degrees.is_empty() {
            "no rows".to_string()
        } else {
            format!(
                "no rows at expert parallelism {ep} (the engine's tensor × data-parallel GPUs); profiled: {}",
                profiled_degrees
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(ProfileError::Moe {
            path: path.to_path_buf(),
            message,
        });
    }
    Ok(MoeTable {
        rows: by_tokens
            .into_iter()
            .map(|(t, mut points)| {
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                points.dedup_by(|a, b| a.0 == b.0);
                (t as f64, Piecewise { points })
            })
            .collect(),
    })
}

/// One row of `attention.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct AttentionRow {
    prefill_chunk: f64,
    kv_prefill: f64,
    n_decode: f64,
    kv_decode: f64,
    time_us: f64,
}

impl AttentionRow {
    /// `(prefill tokens, prefill pairs, decodes, decode KV tokens)` as the step shape
    /// counts them: a chunk of `c` tokens after `p` attends to `c·p + c(c+1)/2` pairs.
    fn features(&self) -> [f64; 4] {
        let c = self.prefill_chunk;
        [
            c,
            c * self.kv_prefill + c * (c + 1.0) / 2.0,
            self.n_decode,
            self.n_decode * self.kv_decode,
        ]
    }
}

/// The decode fit on the rows without prefill; per profiled chunk size, the fits of
/// its rows alone and beside decodes.
fn fit_attention(rows: &[AttentionRow]) -> Option<AttentionFit> {
    let floor = rows.iter().map(|r| r.time_us).reduce(f64::min)?;
    let decode_rows = rows.iter().filter(|r| r.prefill_chunk == 0.0).map(|r| {
        let [_, _, n, k] = r.features();
        ([1.0, n, k], r.time_us)
    });
    let [decode_base, per_decode, per_decode_kv] = least_squares(decode_rows)?;
    let mut chunks: Vec<f64> = rows
        .iter()
        .map(|r| r.prefill_chunk)
        .filter(|&c| c > 0.0)
        .collect();
    chunks.sort_by(f64::total_cmp);
    chunks.dedup();
    let mut prefill = Vec::with_capacity(chunks.len());
    for chunk in chunks {
        let of_chunk = || rows.iter().filter(move |r| r.prefill_chunk == chunk);
        let alone = least_squares(
            of_chunk()
                .filter(|r| r.n_decode == 0.0)
                .map(|r| ([1.0, r.kv_prefill], r.time_us)),
        )?;
        let with_decodes = least_squares(of_chunk().filter(|r| r.n_decode > 0.0).map(|r| {
            let [_, _, n, k] = r.features();
            ([1.0, r.kv_prefill, n, k], r.time_us)
        }));
        prefill.push(PrefillPiece {
            chunk,
            alone,
            with_decodes,
        });
    }
    Some(AttentionFit {
        floor,
        decode_base,
        per_decode,
        per_decode_kv,
        prefill,
    })
}

/// Weighted (1/y) least squares of `y ≈ coefficients · x`; `None` when the rows do
/// not determine them.
fn least_squares<const N: usize>(rows: impl Iterator<Item = ([f64; N], f64)>) -> Option<[f64; N]> {
    let mut normal = vec![vec![0.0f64; N + 1]; N];
    for (x, y) in rows {
        let w = 1.0 / y.max(1e-9);
        for i in 0..N {
            for j in 0..N {
                normal[i][j] += w * x[i] * x[j];
            }
            normal[i][N] += w * x[i] * y;
        }
    }
    for col in 0..N {
        let pivot =
            (col..N).max_by(|&a, &b| normal[a][col].abs().total_cmp(&normal[b][col].abs()))?;
        if normal[pivot][col].abs() < 1e-300 {
            return None;
        }
        normal.swap(col, pivot);
        let pivot_row = normal[col].clone();
        for (index, row) in normal.iter_mut().enumerate() {
            if index != col {
                let factor = row[col] / pivot_row[col];
                for (value, pivot_value) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *value -= factor * pivot_value;
                }
            }
        }
    }
    let mut out = [0.0; N];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = normal[i][N] / normal[i][i];
    }
    out.iter().all(|v| v.is_finite()).then_some(out)
}

fn op_table<'a>(
    tables: &'a BTreeMap<String, Piecewise>,
    path: &Path,
    op: &'static str,
) -> Result<&'a Piecewise, ProfileError> {
    tables.get(op).ok_or_else(|| ProfileError::MissingOperator {
        path: path.to_path_buf(),
        op,
    })
}

fn read(path: &Path) -> Result<String, ProfileError> {
    std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The profile folder under `root` (a tree of profiles, such as LLMServingSim's
/// `profiler/perf/`: `<hardware>/<org>/<model>/<variant>/meta.yaml`) whose `meta.yaml`
/// names `gpu` (its `gpu` field, resolved through `catalog`) and `model`, and, when
/// `dtype` is known (`bfloat16`, `float16`), the matching variant (`bf16`, `fp16`).
/// Folders are searched in name order, six levels deep; two matches are an error
/// naming both, none an error listing what is there.
pub fn find(
    root: &Path,
    catalog: &crate::catalog::Catalog,
    gpu: &GpuSpec,
    model: &ModelSpec,
    dtype: &str,
) -> Result<PathBuf, ProfileError> {
    let variant = match dtype {
        "bfloat16" => Some("bf16"),
        "float16" | "half" => Some("fp16"),
        _ => None,
    };
    let mut metas = Vec::new();
    collect_metas(root, 6, &mut metas)?;
    let mut found = Vec::new();
    let mut matches = Vec::new();
    for path in metas {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(meta) = serde_saphyr::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let field = |name: &str| meta[name].as_str().unwrap_or_default().to_string();
        let (profiled_gpu, profiled_model, profiled_variant) =
            (field("gpu"), field("model"), field("variant"));
        let dir = path.parent().unwrap_or(root).to_path_buf();
        found.push(format!(
            "{profiled_model} on {profiled_gpu} {profiled_variant}"
        ));
        let same_gpu = catalog
            .gpu(&profiled_gpu)
            .is_ok_and(|spec| spec.id == gpu.id);
        let same_variant = variant.is_none_or(|v| profiled_variant.eq_ignore_ascii_case(v));
        if same_gpu && model.answers_to(&profiled_model) && same_variant {
            matches.push(dir);
        }
    }
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(ProfileError::NotFound {
            root: root.to_path_buf(),
            gpu: gpu.id.clone(),
            model: model.id.clone(),
            variant: variant.map(|v| format!(" in {v}")).unwrap_or_default(),
            found: if found.is_empty() {
                "none".into()
            } else {
                found.join("; ")
            },
        }),
        _ => Err(ProfileError::Meta {
            path: root.to_path_buf(),
            message: format!(
                "more than one profile of {} on {}: {}; pass --profile with one",
                model.id,
                gpu.id,
                matches
                    .iter()
                    .map(|dir| dir.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Every `meta.yaml` under `dir`, `depth` levels down, in name order.
fn collect_metas(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) -> Result<(), ProfileError> {
    let meta = dir.join("meta.yaml");
    if meta.is_file() {
        out.push(meta);
        return Ok(());
    }
    if depth == 0 {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| ProfileError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut children: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    children.sort();
    for child in children {
        // A subfolder that cannot be read is not a profile; the root must be.
        let _ = collect_metas(&child, depth - 1, out);
    }
    Ok(())
}

/// `meta.yaml`: the degree must be profiled and the architecture the catalog's.
fn check_meta(dir: &Path, tp_dir: &Path, model: &ModelSpec, tp: u32) -> Result<(), ProfileError> {
    let path = dir.join("meta.yaml");
    let text = read(&path)?;
    let meta: serde_json::Value =
        serde_saphyr::from_str(&text).map_err(|e| ProfileError::Meta {
            path: path.clone(),
            message: e.to_string(),
        })?;
    let degrees: Vec<u32> = meta["tp_degrees"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_u64())
                .map(|v| v as u32)
                .collect()
        })
        .unwrap_or_default();
    // `tp_degrees` may list only the degrees of the first profiling pass; a `tp<N>`
    // folder profiled later counts too.
    if !degrees.contains(&tp.max(1)) && !tp_dir.is_dir() {
        return Err(ProfileError::TensorParallel {
            dir: dir.to_path_buf(),
            tp,
            profiled: format!("{degrees:?}"),
        });
    }
    let profiled_model = meta["model"].as_str().unwrap_or_default();
    if !profiled_model.is_empty() && !model.answers_to(profiled_model) {
        return Err(ProfileError::Architecture {
            path,
            model: model.id.clone(),
            field: "model",
            profiled: profiled_model.to_string(),
            catalog: model.id.clone(),
        });
    }
    // The profiler emulates a tensor-parallel rank on one GPU by dividing the shapes by
    // the degree, and records the shapes of the last pass: a profiled shape may be the
    // catalog's divided by any profiled degree.
    let divisors: Vec<u64> = std::iter::once(1)
        .chain(degrees.iter().map(|&d| u64::from(d)))
        .chain(std::iter::once(u64::from(tp.max(1))))
        .collect();
    let overrides = &meta["engine_effective"]["hf_overrides"];
    for (field, catalog) in [
        ("num_attention_heads", model.heads),
        ("num_key_value_heads", model.kv_heads),
        ("vocab_size", model.vocab),
    ] {
        if let Some(profiled) = overrides[field].as_u64()
            && !divisors.iter().any(|d| profiled * d == u64::from(catalog))
        {
            return Err(ProfileError::Architecture {
                path,
                model: model.id.clone(),
                field,
                profiled: profiled.to_string(),
                catalog: catalog.to_string(),
            });
        }
    }
    Ok(())
}

/// The header's column positions for `wanted`, or which one is missing.
fn columns<const N: usize>(
    path: &Path,
    header: &str,
    wanted: [&'static str; N],
) -> Result<[usize; N], ProfileError> {
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let mut out = [0; N];
    for (slot, column) in out.iter_mut().zip(wanted) {
        *slot =
            names
                .iter()
                .position(|n| *n == column)
                .ok_or_else(|| ProfileError::MissingColumn {
                    path: path.to_path_buf(),
                    column,
                    header: header.to_string(),
                })?;
    }
    Ok(out)
}

fn number(
    path: &Path,
    line: usize,
    fields: &[&str],
    index: usize,
    name: &str,
) -> Result<f64, ProfileError> {
    let raw = fields.get(index).map(|s| s.trim()).unwrap_or("");
    let value: f64 = raw.parse().map_err(|_| ProfileError::Row {
        path: path.to_path_buf(),
        line,
        message: format!("`{name}` is not a number (found `{raw}`)"),
    })?;
    if !value.is_finite() || value < 0.0 {
        return Err(ProfileError::Row {
            path: path.to_path_buf(),
            line,
            message: format!("`{name}` must be a finite number ≥ 0 (found {raw})"),
        });
    }
    Ok(value)
}

/// `layer,<x>,time_us` rows into one table per operator, sorted by x (a repeated x is
/// averaged).
fn read_op_table(
    path: &Path,
    x_column: &'static str,
) -> Result<BTreeMap<String, Piecewise>, ProfileError> {
    let text = read(path)?;
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, h)| h).unwrap_or_default();
    let [layer, x, time] = columns(path, header, ["layer", x_column, "time_us"])?;
    let mut raw: BTreeMap<String, BTreeMap<u64, (f64, f64)>> = BTreeMap::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let number_line = index + 1;
        let op = fields.get(layer).map(|s| s.trim()).unwrap_or("");
        if op.is_empty() {
            return Err(ProfileError::Row {
                path: path.to_path_buf(),
                line: number_line,
                message: "empty `layer`".into(),
            });
        }
        let xv = number(path, number_line, &fields, x, x_column)?;
        let tv = number(path, number_line, &fields, time, "time_us")?;
        let entry = raw
            .entry(op.to_string())
            .or_default()
            .entry(xv.round() as u64)
            .or_insert((0.0, 0.0));
        entry.0 += tv;
        entry.1 += 1.0;
    }
    Ok(raw
        .into_iter()
        .map(|(op, points)| {
            let points = points
                .into_iter()
                .map(|(x, (sum, count))| (x as f64, sum / count))
                .collect();
            (op, Piecewise { points })
        })
        .collect())
}

fn read_attention(path: &Path) -> Result<Vec<AttentionRow>, ProfileError> {
    let text = read(path)?;
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, h)| h).unwrap_or_default();
    let cols = columns(
        path,
        header,
        ["prefill_chunk", "n_decode", "kv_decode", "time_us"],
    )?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let position = |name: &str| names.iter().position(|n| *n == name);
    // The chunk's prior context: `kv_prefill`, or in newer profiles `prefill_key`, the
    // query-weighted causal key length `kv_prefill + prefill_chunk / 2`.
    let (context_column, keyed) = match (position("kv_prefill"), position("prefill_key")) {
        (Some(column), _) => (column, false),
        (None, Some(column)) => (column, true),
        (None, None) => {
            return Err(ProfileError::MissingColumn {
                path: path.to_path_buf(),
                column: "kv_prefill (or prefill_key)",
                header: header.to_string(),
            });
        }
    };
    // Newer profiles also time other attention kernels and multi-token decodes
    // (speculative decoding); a plain vLLM step is `attention` with one query.
    let layer_column = position("layer");
    let query_column = position("decode_q_len");
    let mut rows = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let at = |i: usize, name: &str| number(path, index + 1, &fields, i, name);
        if let Some(column) = layer_column
            && fields.get(column).map(|f| f.trim()) != Some("attention")
        {
            continue;
        }
        if let Some(column) = query_column
            && at(column, "decode_q_len")? != 1.0
        {
            continue;
        }
        let prefill_chunk = at(cols[0], "prefill_chunk")?;
        let context = at(context_column, names[context_column])?;
        let row = AttentionRow {
            prefill_chunk,
            kv_prefill: if keyed {
                (context - prefill_chunk / 2.0).max(0.0)
            } else {
                context
            },
            n_decode: at(cols[1], "n_decode")?,
            kv_decode: at(cols[2], "kv_decode")?,
            time_us: at(cols[3], "time_us")?,
        };
        if row.time_us > 0.0 && (row.prefill_chunk > 0.0 || row.n_decode > 0.0) {
            rows.push(row);
        }
    }
    Ok(rows)
}
