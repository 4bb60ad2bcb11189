//! The roofline step model: how long one engine step takes, from the GPU's peak
//! bandwidth and FLOPs (scaled by the catalog's efficiency factors).
//!
//! A step reads every weight once (but for the input
//! embedding, of which it gathers only its tokens' rows) plus the KV cache of every scheduled sequence, and does
//! `2 x active body params` FLOPs per token, the LM head once per sequence, plus attention. Its time is the larger of the
//! memory time and the compute time (they overlap on the GPU), plus engine overhead and,
//! with tensor parallelism, two all-reduces per layer. Everything per GPU is divided by
//! the tensor-parallel degree; an MoE model's experts by the expert shards, read for
//! the tokens of every data-parallel rank ([`super::Parallelism`]).

use super::{DecodeRun, Fs, Parallelism, StepModel, StepOverheads, StepShape};
use crate::catalog::{GpuDefaults, GpuSpec, ModelSpec, MoeSpec};

/// Step-time coefficients for one (GPU, model, tensor-parallel) replica.
#[derive(Debug, Clone, PartialEq)]
pub struct StepCostModel {
    dense_weight_fs: Fs,
    expert_weight_fs: Fs,
    /// MoE: the model (for the experts a step activates), the expert shards and the
    /// data-parallel ranks whose tokens one shard serves.
    moe: Option<(MoeSpec, u32, f64)>,
    kv_fs_per_token: Fs,
    linear_fs_per_token: Fs,
    lm_head_fs_per_seq: Fs,
    attention_fs_per_pair: Fs,
    overheads: StepOverheads,
}

fn to_fs(seconds: f64) -> Fs {
    (seconds * 1e15).round() as Fs
}

impl StepCostModel {
    /// Coefficients from catalog facts.
    pub fn new(
        gpu: &GpuSpec,
        model: &ModelSpec,
        defaults: &GpuDefaults,
        parallelism: Parallelism,
    ) -> Self {
        let tp = f64::from(parallelism.tensor.max(1));
        let shards = parallelism.expert_shards(model);
        let bandwidth = gpu.memory_bandwidth_bytes_per_s
            * gpu.memory_efficiency.unwrap_or(defaults.memory_efficiency);
        let flops = gpu.bf16_flops
            * gpu
                .compute_efficiency
                .unwrap_or(defaults.compute_efficiency);
        let dtype = f64::from(model.dtype_bytes);
        let (dense_params, expert_params, moe) = match &model.moe {
            Some(moe) => (
                model.params_read_per_step() - moe.expert_params,
                moe.expert_params,
                Some((moe.clone(), shards, f64::from(parallelism.data.max(1)))),
            ),
            None => (model.params_read_per_step(), 0.0, None),
        };
        let attention_width =
            f64::from(model.heads) * f64::from(model.head_dim) * f64::from(model.layers);
        Self {
            dense_weight_fs: to_fs(dense_params * dtype / tp / bandwidth),
            // One expert's weights: a shard reads its share of the experts activated.
            expert_weight_fs: to_fs(
                expert_params * dtype
                    / model.moe.as_ref().map_or(1.0, |m| f64::from(m.experts))
                    / bandwidth,
            ),
            moe,
            kv_fs_per_token: to_fs(model.kv_bytes_per_token() as f64 / tp / bandwidth),
            linear_fs_per_token: to_fs(2.0 * model.body_params_active() / tp / flops),
            // Logits are computed for the last position of every scheduled sequence.
            lm_head_fs_per_seq: to_fs(2.0 * model.embedding_params() / tp / flops),
            // QK^T and AV: 2 multiply-adds per (query, key) pair per attention width.
            attention_fs_per_pair: to_fs(4.0 * attention_width / tp / flops),
            overheads: StepOverheads::new(gpu, model, defaults, parallelism),
        }
    }

    /// Weight-read time of a step with `tokens` tokens: all dense weights, and for MoE the
    /// experts of this GPU's shard that the ranks' tokens are expected to activate.
    fn weight_fs(&self, tokens: u64) -> Fs {
        match &self.moe {
            None => self.dense_weight_fs,
            Some((moe, shards, ranks)) => {
                let active = super::expected_active_experts(moe, *shards, ranks * tokens as f64);
                self.dense_weight_fs + (self.expert_weight_fs as f64 * active).round() as Fs
            }
        }
    }

    fn fixed_fs(&self, tokens: u64, seqs: u64) -> Fs {
        self.overheads.fs(tokens, seqs)
    }

    /// Time of one step of the given shape.
    pub fn step_fs(&self, shape: &StepShape) -> Fs {
        let memory =
            self.weight_fs(shape.tokens) + self.kv_fs_per_token * shape.kv_read_tokens as Fs;
        memory.max(self.compute_fs(shape)) + self.fixed_fs(shape.tokens, shape.seqs)
    }

    /// The compute side of a step's roofline: the time its matrix math keeps the
    /// tensor cores busy (the DCGM tensor-pipe activity the fleet exports).
    pub fn compute_fs(&self, shape: &StepShape) -> Fs {
        self.linear_fs_per_token * shape.tokens as Fs
            + self.lm_head_fs_per_seq * shape.seqs as Fs
            + self.attention_fs_per_pair * shape.attention_pairs as Fs
    }

    /// The cost of a pure-decode run of `seqs` sequences whose contexts after the run's
    /// first step sum to `context0` tokens: step `j` reads `context0 + j x seqs` KV
    /// tokens. [`DecodeRun::time_fs`] is exactly the sum of [`Self::step_fs`] over it.
    pub fn decode_run(&self, seqs: u64, context0: u64) -> DecodeRun {
        let n = seqs as Fs;
        let memory0 = self.weight_fs(seqs) + self.kv_fs_per_token * context0 as Fs;
        let memory_slope = self.kv_fs_per_token * n;
        let compute0 = (self.linear_fs_per_token + self.lm_head_fs_per_seq) * n
            + self.attention_fs_per_pair * context0 as Fs;
        let compute_slope = self.attention_fs_per_pair * n;
        DecodeRun::new(
            memory0,
            memory_slope,
            compute0,
            compute_slope,
            self.fixed_fs(seqs, seqs),
        )
    }

    /// Time of the first `steps` steps of [`Self::decode_run`]`(seqs, context0)`.
    pub fn decode_run_fs(&self, seqs: u64, context0: u64, steps: u64) -> Fs {
        self.decode_run(seqs, context0).time_fs(steps)
    }
}

impl StepModel for StepCostModel {
    fn name(&self) -> &str {
        "roofline"
    }

    fn step_fs(&self, shape: &StepShape) -> Fs {
        StepCostModel::step_fs(self, shape)
    }

    fn compute_fs(&self, shape: &StepShape) -> Fs {
        StepCostModel::compute_fs(self, shape)
    }

    fn decode_run(&self, seqs: u64, context0: u64) -> DecodeRun {
        StepCostModel::decode_run(self, seqs, context0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::Catalog;

    /// Seconds to femtoseconds as the model rounds them.
    pub(crate) fn fs(seconds: f64) -> Fs {
        to_fs(seconds)
    }

    pub(crate) fn model_4090() -> StepCostModel {
        let catalog = Catalog::builtin();
        StepCostModel::new(
            catalog.gpu("rtx-4090").unwrap(),
            catalog.model("llama-3.1-8b").unwrap(),
            &catalog.defaults,
            Parallelism::tensor(1),
        )
    }

    #[test]
    fn decode_step_is_memory_bound_near_weights_over_bandwidth() {
        let model = model_4090();
        let one = model.step_fs(&StepShape {
            tokens: 1,
            seqs: 1,
            kv_read_tokens: 100,
            attention_pairs: 100,
            ..StepShape::default()
        });
        let ms = one as f64 / 1e12;
        // (8.03e9 - 0.53e9 embedding) x 2 B / (1008 GB/s x 0.85) = 17.5 ms, plus overhead.
        assert!((17.0..21.0).contains(&ms), "{ms} ms");
    }

    #[test]
    fn large_prefill_is_compute_bound() {
        let model = model_4090();
        let tokens = 2048;
        let step = model.step_fs(&StepShape {
            tokens,
            seqs: 1,
            kv_read_tokens: tokens,
            attention_pairs: tokens * tokens / 2,
            ..StepShape::default()
        });
        let compute_only = model.linear_fs_per_token * tokens as Fs;
        assert!(step > compute_only);
    }

    #[test]
    fn decode_run_matches_step_sum() {
        let model = model_4090();
        for (seqs, context0, steps) in [
            (1u64, 10u64, 5u64),
            (40, 30_000, 300),
            (256, 1_000, 17),
            (3, 0, 1),
        ] {
            let stepwise: Fs = (0..steps)
                .map(|j| {
                    let context = context0 + j * seqs;
                    model.step_fs(&StepShape::decode(seqs, context))
                })
                .sum();
            assert_eq!(model.decode_run_fs(seqs, context0, steps), stepwise);
            let compute: Fs = (0..steps)
                .map(|j| {
                    let context = context0 + j * seqs;
                    model.compute_fs(&StepShape::decode(seqs, context))
                })
                .sum();
            assert_eq!(model.decode_run(seqs, context0).compute_fs(steps), compute);
        }
    }
}
