//! Step-time models: how long one engine step takes. The replica asks one
//! [`StepModel`] for every step and every run of decode steps, so models slot in side by
//! side: the roofline of the GPU ([`roofline`]) and a GPU's measured operator profile
//! ([`profile`]).
//!
//! Why integers: costs are in femtoseconds (`i128`) and every term is an integer
//! coefficient times an integer count, so the cost of a run of decode steps, whose KV
//! grows by one token per sequence per step, has an exact closed form
//! ([`DecodeRun::time_fs`]) equal to the step-by-step sum. That is what lets the replica
//! skip decode steps without drifting from the reference mode; a model keeps it by
//! costing a decode step as the larger of two lines in the step index.

pub mod profile;
pub mod roofline;

pub use roofline::StepCostModel;

use crate::catalog::{GpuDefaults, GpuSpec, ModelSpec, MoeSpec};

/// How one engine spreads a model over GPUs, as vLLM's engine arguments say it.
///
/// `data` ranks each run their own scheduler and KV cache (the replay makes each a
/// replica behind the engine's balancer). For a mixture-of-experts model vLLM shards
/// the experts over all `tensor × data` GPUs (by experts with `expert`, i.e.
/// `enable_expert_parallel`; otherwise by flattening tensor parallelism across the
/// ranks), so an MoE layer of one rank serves the tokens of every rank: the models
/// here price it for the group's tokens, ranks assumed evenly loaded, plus the
/// exchange of those tokens between the ranks ([`expert_exchange_seconds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parallelism {
    pub tensor: u32,
    pub data: u32,
    pub expert: bool,
}

impl Parallelism {
    /// Tensor parallelism alone: one rank.
    pub fn tensor(tensor: u32) -> Self {
        Parallelism {
            tensor: tensor.max(1),
            data: 1,
            expert: false,
        }
    }

    /// GPUs one MoE layer's experts are spread over (`tensor × data`); for dense
    /// models the MLP is only tensor-sharded.
    pub fn expert_shards(&self, model: &ModelSpec) -> u32 {
        if model.moe.is_some() {
            self.tensor.max(1) * self.data.max(1)
        } else {
            self.tensor.max(1)
        }
    }

    /// The expert-parallel degree an operator profile's `moe.csv` is read at: the
    /// expert shards when the ranks split the experts between them (`expert`, or data
    /// ranks sharing an MoE layer), 1 when tensor parallelism splits each expert.
    pub fn profiled_ep(&self, model: &ModelSpec) -> u32 {
        if self.expert || self.data > 1 {
            self.expert_shards(model)
        } else {
            1
        }
    }
}

/// Communication of one step between the GPUs of one engine, `(seconds per step,
/// seconds per token of one rank)`: the tensor-parallel all-reduces and the MoE token
/// exchange between data-parallel ranks. Both step models add it.
pub fn communication_seconds(
    gpu: &GpuSpec,
    model: &ModelSpec,
    defaults: &GpuDefaults,
    parallelism: Parallelism,
) -> (f64, f64) {
    let (reduce_step, reduce_token) = allreduce_seconds(gpu, model, defaults, parallelism.tensor);
    let (exchange_step, exchange_token) =
        expert_exchange_seconds(gpu, model, defaults, parallelism);
    (reduce_step + exchange_step, reduce_token + exchange_token)
}

/// What a step costs beyond the GPU's kernels, the same in every step model: the
/// engine's CPU-side time a GPU profile cannot see (the catalog's per step and per
/// sequence) and the communication between the engine's GPUs
/// ([`communication_seconds`], per step and per token, only when the step computes
/// tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepOverheads {
    step_fs: Fs,
    per_sequence_fs: Fs,
    comm_per_step_fs: Fs,
    comm_per_token_fs: Fs,
}

impl StepOverheads {
    pub fn new(
        gpu: &GpuSpec,
        model: &ModelSpec,
        defaults: &GpuDefaults,
        parallelism: Parallelism,
    ) -> Self {
        let to_fs = |seconds: f64| (seconds * 1e15).round() as Fs;
        let (comm_per_step, comm_per_token) =
            communication_seconds(gpu, model, defaults, parallelism);
        StepOverheads {
            step_fs: to_fs(defaults.step_overhead_us * 1e-6),
            per_sequence_fs: to_fs(defaults.per_sequence_overhead_us * 1e-6),
            comm_per_step_fs: to_fs(comm_per_step),
            comm_per_token_fs: to_fs(comm_per_token),
        }
    }

    /// The overheads of a step computing `tokens` tokens of `seqs` sequences.
    pub fn fs(&self, tokens: u64, seqs: u64) -> Fs {
        let comm = if tokens > 0 {
            self.comm_per_step_fs + self.comm_per_token_fs * tokens as Fs
        } else {
            0
        };
        self.step_fs + self.per_sequence_fs * seqs as Fs + comm
    }
}

/// The exchange of an MoE layer's tokens between data-parallel ranks, `(seconds per
/// step, seconds per token of one rank)`: per MoE layer a dispatch and a combine, each
/// moving the group's `data × tokens × hidden × dtype` bytes of which `(N − 1) / N`
/// cross the catalog's interconnect per GPU (`N` the expert shards; vLLM's default
/// all-gather / reduce-scatter), plus the catalog's per-call latency. Zero for dense
/// models and for one rank (tensor parallelism's all-reduces are
/// [`allreduce_seconds`]).
pub fn expert_exchange_seconds(
    gpu: &GpuSpec,
    model: &ModelSpec,
    defaults: &GpuDefaults,
    parallelism: Parallelism,
) -> (f64, f64) {
    if model.moe.is_none() || parallelism.data <= 1 {
        return (0.0, 0.0);
    }
    let shards = f64::from(parallelism.expert_shards(model));
    let calls = 2.0 * f64::from(model.layers);
    let bytes_per_token = f64::from(parallelism.data)
        * f64::from(model.hidden)
        * f64::from(model.dtype_bytes)
        * (shards - 1.0)
        / shards;
    (
        calls * defaults.allreduce_latency_us * 1e-6,
        calls * bytes_per_token / gpu.interconnect_bytes_per_s,
    )
}

/// Expected experts of one shard that `tokens` routed tokens activate: each token
/// picks `k` of `E` experts, so an expert is untouched with probability
/// `(1 − k/E)^tokens`; a shard holds `E / shards` of them (never under the `k / shards`
/// one token activates).
pub fn expected_active_experts(moe: &MoeSpec, shards: u32, tokens: f64) -> f64 {
    let (experts, per_token) = (f64::from(moe.experts), f64::from(moe.experts_per_token));
    let shards = f64::from(shards.max(1));
    let active = experts * (1.0 - (1.0 - per_token / experts).powf(tokens));
    (active / shards).max(per_token / shards)
}

/// The tensor-parallel all-reduces of one step, `(seconds per step, seconds per
/// token)`: two per layer (after attention and after the MLP), each of `tokens × hidden
/// × dtype` bytes, of which a ring all-reduce moves `2 (tp − 1) / tp` per GPU over the
/// catalog's interconnect (NVLink on SXM parts, PCIe on the rest), plus the catalog's
/// per-call latency. Zero at `tensor_parallel` 1.
pub fn allreduce_seconds(
    gpu: &GpuSpec,
    model: &ModelSpec,
    defaults: &GpuDefaults,
    tensor_parallel: u32,
) -> (f64, f64) {
    if tensor_parallel <= 1 {
        return (0.0, 0.0);
    }
    let tp = f64::from(tensor_parallel);
    let calls = 2.0 * f64::from(model.layers);
    let bytes_per_token =
        f64::from(model.hidden) * f64::from(model.dtype_bytes) * 2.0 * (tp - 1.0) / tp;
    (
        calls * defaults.allreduce_latency_us * 1e-6,
        calls * bytes_per_token / gpu.interconnect_bytes_per_s,
    )
}

/// Femtoseconds: the unit of step costs and replica clocks.
pub type Fs = i128;
/// Femtoseconds in a microsecond.
pub const FS_PER_US: Fs = 1_000_000_000;

/// The shape of one engine step, all that its cost depends on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepShape {
    /// Tokens computed this step (decode tokens plus prefill chunk tokens).
    pub tokens: u64,
    /// Sequences scheduled this step.
    pub seqs: u64,
    /// KV tokens read by attention: for each sequence, its context after the step.
    pub kv_read_tokens: u64,
    /// Attention (query, key) pairs: for each new token, the context it attends to.
    pub attention_pairs: u64,
    /// Sequences that are plain decodes (one new token after their first), and their
    /// contexts after the step, summed: the rest of the step is prefill.
    pub decode_seqs: u64,
    pub decode_context: u64,
}

impl StepShape {
    /// A pure-decode step of `seqs` sequences whose contexts after the step sum to
    /// `context`.
    pub fn decode(seqs: u64, context: u64) -> StepShape {
        StepShape {
            tokens: seqs,
            seqs,
            kv_read_tokens: context,
            attention_pairs: context,
            decode_seqs: seqs,
            decode_context: context,
        }
    }
}

/// A step-time model: what the replica asks of one.
pub trait StepModel: std::fmt::Debug + Send + Sync {
    /// `roofline`, `profile`, …: named in validation reports.
    fn name(&self) -> &str;
    /// Time of one step of the given shape.
    fn step_fs(&self, shape: &StepShape) -> Fs;
    /// The step's tensor-core time (the DCGM tensor-pipe activity's numerator).
    fn compute_fs(&self, shape: &StepShape) -> Fs;
    /// The pure-decode run of `seqs` sequences whose contexts after the run's first
    /// step sum to `context0`: step `j` reads `context0 + j x seqs` KV tokens.
    /// [`DecodeRun::time_fs`] must equal the sum of [`Self::step_fs`] over it.
    fn decode_run(&self, seqs: u64, context0: u64) -> DecodeRun;
}

/// A model shared by every replica of a fleet.
pub type SharedStepModel = std::sync::Arc<dyn StepModel>;

/// Step costs `max(a + b j, c + d j) + fixed` of a decode run, ready to sum in O(1)
/// without division (the crossing of the two lines is found once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeRun {
    /// The line that wins before `cross`, then the one that wins from `cross` on.
    first: (Fs, Fs),
    second: (Fs, Fs),
    cross: Fs,
    fixed: Fs,
    /// The compute line alone, `c + d j`.
    compute: (Fs, Fs),
}

impl DecodeRun {
    /// A run whose step `j` costs `max(a + b j, c + d j) + fixed`, the compute time
    /// being the second line's (the roofline's compute side).
    pub fn new(a: Fs, b: Fs, c: Fs, d: Fs, fixed: Fs) -> Self {
        Self::with_compute(a, b, c, d, fixed, (c, d))
    }

    /// As [`Self::new`], with the compute time of step `j` given apart as
    /// `compute.0 + compute.1 j`.
    pub fn with_compute(a: Fs, b: Fs, c: Fs, d: Fs, fixed: Fs, compute: (Fs, Fs)) -> Self {
        // g(j) = (a + b j) - (c + d j) is linear: the first line wins on a prefix or a suffix.
        let (gap, slope) = (a - c, b - d);
        let (first, second, cross) = if slope == 0 {
            let winner = if gap >= 0 { (a, b) } else { (c, d) };
            (winner, winner, 0)
        } else if slope > 0 {
            // g(j) >= 0 from j = ceil(-gap / slope) on.
            ((c, d), (a, b), div_ceil(-gap, slope).max(0))
        } else {
            // g(j) >= 0 up to j = floor(gap / -slope).
            ((a, b), (c, d), (div_floor(gap, -slope) + 1).max(0))
        };
        Self {
            first,
            second,
            cross,
            fixed,
            compute,
        }
    }

    /// The compute time ([`StepModel::compute_fs`]) of the run's first `steps` steps.
    pub fn compute_fs(&self, steps: u64) -> Fs {
        sum_line(self.compute.0, self.compute.1, 0, steps as Fs)
    }

    /// Time of the run's first `steps` steps.
    pub fn time_fs(&self, steps: u64) -> Fs {
        let k = steps as Fs;
        let cross = self.cross.min(k);
        sum_line(self.first.0, self.first.1, 0, cross)
            + sum_line(self.second.0, self.second.1, cross, k)
            + self.fixed * k
    }

    /// The most steps, at most `max`, that fit in `budget_fs` (0 when even none does):
    /// the largest `k <= max` with `time_fs(k) <= budget_fs`. Exact, for runs whose
    /// steps each cost at least zero (every decode run).
    ///
    /// Why not a plain binary search: every arrival at a busy replica asks this, and
    /// each probe is several 128-bit products. The closed form inverted in floating
    /// point lands on (or next to) the answer, and two exact probes confirm it; a
    /// gallop and a binary search from there cover any rounding miss.
    pub fn steps_within(&self, budget_fs: Fs, max: u64) -> u64 {
        if budget_fs < 0 {
            return 0;
        }
        let fits = |steps: u64| self.time_fs(steps) <= budget_fs;
        let guess = self.estimate_steps(budget_fs, max);
        // Bracket: `fits(low)` and (`high > max` or not `fits(high)`).
        let (mut low, mut high) = if fits(guess) {
            let (mut low, mut reach) = (guess, 1u64);
            loop {
                let probe = low.saturating_add(reach).min(max.saturating_add(1));
                if probe > max || probe == low || !fits(probe) {
                    break (low, probe);
                }
                low = probe;
                reach = reach.saturating_mul(2);
            }
        } else {
            let (mut high, mut reach) = (guess, 1u64);
            loop {
                let probe = high.saturating_sub(reach);
                if fits(probe) {
                    break (probe, high);
                }
                high = probe;
                reach = reach.saturating_mul(2);
            }
        };
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if fits(mid) {
                low = mid;
            } else {
                high = mid;
            }
        }
        low
    }

    /// `steps_within`'s floating-point first guess, in `[0, max]`.
    fn estimate_steps(&self, budget_fs: Fs, max: u64) -> u64 {
        // Steps of a line whose j-th step costs `a + b j` fitting in `y`: the root of
        // b/2 k^2 + (a - b/2) k = y.
        let line = |a: Fs, b: Fs, y: f64| -> f64 {
            let (a, b) = (approx(a), approx(b));
            if b == 0.0 {
                return y / a;
            }
            let p = a - b / 2.0;
            (-p + (p * p + 2.0 * b * y).sqrt()) / b
        };
        let y = approx(budget_fs);
        let guess = match u64::try_from(self.cross) {
            Ok(cross) if cross <= max => {
                let at_cross = self.time_fs(cross);
                if budget_fs < at_cross {
                    line(self.first.0 + self.fixed, self.first.1, y)
                } else {
                    let (a, b) = self.second;
                    cross as f64
                        + line(
                            a + b * self.cross + self.fixed,
                            b,
                            approx(budget_fs - at_cross),
                        )
                }
            }
            _ => line(self.first.0 + self.fixed, self.first.1, y),
        };
        if guess.is_finite() && guess > 0.0 {
            (guess.floor() as u64).min(max)
        } else {
            0
        }
    }
}

/// `value` as a float, through 64 bits when it fits (a hardware conversion; the
/// 128-bit one is a library call).
fn approx(value: Fs) -> f64 {
    match i64::try_from(value) {
        Ok(value) => value as f64,
        Err(_) => value as f64,
    }
}

/// `sum_{j=0}^{k-1} (a + b j)` over `j` in `[from, to)`.
fn sum_line(a: Fs, b: Fs, from: Fs, to: Fs) -> Fs {
    if to <= from {
        return 0;
    }
    // n (n - 1) is even, so halving by a shift is exact (and cheaper on i128).
    let triangle = |n: Fs| (n * (n - 1)) >> 1;
    (to - from) * a + b * (triangle(to) - triangle(from))
}

/// `sum_{j=0}^{k-1} max(a + b j, c + d j)`, exact, in O(1).
pub fn sum_max_linear(a: Fs, b: Fs, c: Fs, d: Fs, k: Fs) -> Fs {
    if k <= 0 {
        return 0;
    }
    DecodeRun::new(a, b, c, d, 0).time_fs(k as u64)
}

fn div_floor(a: Fs, b: Fs) -> Fs {
    // Most values fit 64 bits, where division is several times cheaper.
    if let (Ok(a), Ok(b)) = (i64::try_from(a), i64::try_from(b)) {
        return Fs::from(a.div_euclid(b) - i64::from(b < 0 && a.rem_euclid(b) != 0));
    }
    let quotient = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        quotient - 1
    } else {
        quotient
    }
}

fn div_ceil(a: Fs, b: Fs) -> Fs {
    -div_floor(-a, b)
}

/// KV-cache capacity of one engine rank, in blocks, estimated the way vLLM sizes it:
/// `memory x gpu_memory_utilization - weights - runtime reserve` per GPU, divided by the
/// KV bytes per token per GPU, in whole blocks. A GPU holds `1 / tensor` of the dense
/// weights and, for MoE models, `1 / (tensor × data)` of the experts.
///
/// The runtime reserve (activation peak of a `max_num_batched_tokens` forward pass,
/// CUDA graph pool, non-torch allocations) is taken as 1.25 GB: vLLM's start-up log of the
/// RTX 4090 recording implies 1.24 GB (22.73 GB budget - 16.06 GB weights - 5.43 GB KV),
/// and 1-2 GB is what vLLM's memory profiler reports for 7-8B models at 2,048 batched
/// tokens. When the vLLM log's `num_gpu_blocks` is known, prefer it.
pub fn kv_capacity_blocks(
    gpu: &GpuSpec,
    model: &ModelSpec,
    parallelism: Parallelism,
    gpu_memory_utilization: f64,
    block_size: u32,
) -> u64 {
    const RUNTIME_RESERVE_BYTES: f64 = 1.25e9;
    let tp = f64::from(parallelism.tensor.max(1));
    let expert_bytes = model
        .moe
        .as_ref()
        .map_or(0.0, |moe| moe.expert_params * f64::from(model.dtype_bytes));
    let weights_per_gpu = (model.weight_bytes() - expert_bytes) / tp
        + expert_bytes / f64::from(parallelism.expert_shards(model));
    let budget =
        gpu.memory_bytes * gpu_memory_utilization - weights_per_gpu - RUNTIME_RESERVE_BYTES;
    let per_block = model.kv_bytes_per_token() as f64 / tp * f64::from(block_size.max(1));
    if budget <= 0.0 {
        0
    } else {
        (budget / per_block).floor() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn model_4090() -> StepCostModel {
        roofline::tests::model_4090()
    }

    /// Two data-parallel ranks with expert parallelism.
    const TWO_RANKS: Parallelism = Parallelism {
        tensor: 1,
        data: 2,
        expert: true,
    };

    /// Qwen3-30B-A3B (MoE) on the RTX PRO 6000, with the catalog's defaults.
    fn moe_on_pro_6000() -> (GpuSpec, ModelSpec, GpuDefaults) {
        let catalog = Catalog::builtin();
        (
            catalog.gpu("rtx-pro-6000").unwrap().clone(),
            catalog.model("qwen3-30b-a3b").unwrap().clone(),
            catalog.defaults.clone(),
        )
    }

    /// An MoE model's experts are spread over every GPU of the engine (vLLM shards them
    /// over `tensor × data`), the rest is per rank: two data-parallel ranks of
    /// Qwen3-30B-A3B each hold half of its 29.0e9 expert parameters, so each has
    /// 29.0 GB (bf16) more for KV than one rank alone.
    #[test]
    fn data_parallel_ranks_share_an_moe_models_experts() {
        let (gpu, model, defaults) = moe_on_pro_6000();
        let blocks = |data, expert| {
            let parallelism = Parallelism {
                tensor: 1,
                data,
                expert,
            };
            kv_capacity_blocks(&gpu, &model, parallelism, 0.92, 16)
        };
        let block_bytes = model.kv_bytes_per_token() as f64 * 16.0;
        let gained = (blocks(2, true) - blocks(1, false)) as f64 * block_bytes;
        assert!((gained - 29.0e9).abs() < block_bytes, "{gained}");
        assert_eq!(blocks(2, true), blocks(2, false));
        // A dense model's ranks are full copies.
        let catalog = Catalog::builtin();
        let dense = catalog.model("llama-3.1-8b").unwrap();
        assert_eq!(
            kv_capacity_blocks(&gpu, dense, TWO_RANKS, 0.9, 16),
            kv_capacity_blocks(&gpu, dense, Parallelism::tensor(1), 0.9, 16)
        );
        assert_eq!(
            expert_exchange_seconds(&gpu, dense, &defaults, TWO_RANKS),
            (0.0, 0.0)
        );
    }

    /// The MoE token exchange of two ranks: per layer a dispatch and a combine of both
    /// ranks' tokens (2 × 2,048 × 2 B each per token of one rank), half of which crosses
    /// the 32 GB/s PCIe link, plus 10 µs per call.
    #[test]
    fn the_expert_exchange_moves_every_ranks_tokens() {
        let (gpu, model, defaults) = moe_on_pro_6000();
        let (gpu, model, defaults) = (&gpu, &model, &defaults);
        let (per_step, per_token) = expert_exchange_seconds(gpu, model, defaults, TWO_RANKS);
        let calls = 2.0 * 48.0;
        assert!((per_step - calls * 10e-6).abs() < 1e-12);
        let bytes = 2.0 * 2048.0 * 2.0 * 0.5;
        assert!((per_token - calls * bytes / 32e9).abs() < 1e-15);
        assert_eq!(
            expert_exchange_seconds(gpu, model, defaults, Parallelism::tensor(1)),
            (0.0, 0.0)
        );
        // On the roofline a rank's decode reads the experts both ranks' tokens touch,
        // from its half: one token each activates 2 × 8 of 128 experts at most, so the
        // rank reads at most 8 experts' weights where one rank alone reads 8 exactly.
        let alone = StepCostModel::new(gpu, model, defaults, Parallelism::tensor(1));
        let ranked = StepCostModel::new(gpu, model, defaults, TWO_RANKS);
        let shape = StepShape::decode(1, 1_000);
        let comm = crate::perf::roofline::tests::fs(per_step + per_token);
        let difference = ranked.step_fs(&shape) - comm - alone.step_fs(&shape);
        let moe = model.moe.as_ref().unwrap();
        let expert_fs = moe.expert_params * 2.0
            / 128.0
            / (gpu.memory_bandwidth_bytes_per_s * defaults.memory_efficiency)
            * 1e15;
        let expected = (expected_active_experts(moe, 2, 2.0) - 8.0) * expert_fs;
        assert!(
            (difference as f64 - expected).abs() < 1e3,
            "{difference} vs {expected}"
        );
        assert!(expected < 0.0);
    }

    #[test]
    fn recording_capacity_estimate_is_close_to_vllm() {
        let catalog = Catalog::builtin();
        let blocks = kv_capacity_blocks(
            catalog.gpu("rtx-4090").unwrap(),
            catalog.model("llama-3.1-8b").unwrap(),
            Parallelism::tensor(1),
            0.9,
            16,
        );
        // vLLM reported 2,588 blocks for this card and model.
        assert!((2500..2700).contains(&blocks), "{blocks}");
    }

    /// `steps_within` against a scan, on the model's real decode runs (any context,
    /// batch and budget), including budgets past the run and before its first step.
    #[test]
    fn steps_within_matches_a_scan_on_decode_runs() {
        let model = model_4090();
        for (seqs, context0) in [(1u64, 10u64), (16, 20_000), (256, 1_000), (3, 0)] {
            let run = model.decode_run(seqs, context0);
            let max = 300u64;
            let times: Vec<Fs> = (0..=max).map(|k| run.time_fs(k)).collect();
            let mut budgets: Vec<Fs> = vec![-1, 0, times[max as usize] + 1];
            for &time in &times[1..] {
                budgets.extend([time - 1, time, time + 1]);
            }
            for budget in budgets {
                let expected = (0..=max)
                    .rev()
                    .find(|&k| times[k as usize] <= budget)
                    .unwrap_or(0);
                assert_eq!(
                    run.steps_within(budget, max),
                    expected,
                    "seqs {seqs} context {context0} budget {budget}"
                );
            }
        }
    }

    proptest::proptest! {
        /// Any two lines with non-negative step costs, both orders of crossing.
        #[test]
        fn steps_within_is_exact(a in 0i64..1_000_000, b in 0i64..5_000, c in 0i64..1_000_000, d in 0i64..5_000, fixed in 0i64..1_000, budget in -10i64..400_000_000, max in 0u64..2_000) {
            let run = DecodeRun::new(a.into(), b.into(), c.into(), d.into(), fixed.into());
            let budget = Fs::from(budget);
            let expected = (0..=max).rev().find(|&k| run.time_fs(k) <= budget).unwrap_or(0);
            proptest::prop_assert_eq!(run.steps_within(budget, max), expected);
        }

        #[test]
        fn sum_max_linear_is_exact(a in -1000i64..1000, b in -50i64..50, c in -1000i64..1000, d in -50i64..50, k in 0i64..60) {
            let brute: i128 = (0..k as i128).map(|j| (a as i128 + b as i128 * j).max(c as i128 + d as i128 * j)).sum();
            proptest::prop_assert_eq!(sum_max_linear(a.into(), b.into(), c.into(), d.into(), k.into()), brute);
        }
    }
}
