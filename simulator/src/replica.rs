//! One model server (vLLM v1 semantics) on `tensor_parallel` GPUs of one type.
//!
//! Each engine step, as vLLM v1's scheduler does it:
//! 1. running requests, oldest first, each get the tokens they still need (one for a
//!    decode, the rest of the prompt for a chunked prefill) out of the
//!    `max_num_batched_tokens` budget; when the KV pool cannot hold a request's new
//!    tokens, the newest running request is preempted (its KV freed, to be recomputed)
//!    and put at the head of the waiting queue;
//! 2. if nothing was preempted, waiting requests are admitted first-come first-served
//!    while the budget, `max_num_seqs` and free KV blocks allow (with
//!    `reserve_full_sequence`, vLLM's `scheduler_reserve_full_isl`, the whole prompt must
//!    fit, not just its first chunk); the first that does not fit stops admission;
//! 3. the step takes [`crate::perf::StepModel::step_fs`]; a request whose computed tokens catch
//!    up with its known tokens emits one output token.
//!
//! Fast path: when a step is pure decode and admission is blocked, the next steps are
//! identical up to KV growth until a request finishes or the pool runs out, so the
//! replica plans the whole run at once: its length from the requests' remaining tokens
//! and a histogram of free slots in their last blocks, its time in closed form. An
//! arrival during a run cuts it at the next step boundary if the newcomer could be
//! admitted there. [`StepMode::Reference`] takes one step per event instead; both give
//! the same results (tested), the fast one with O(requests) events instead of
//! O(tokens).
//!
//! Per event, the fast path also avoids passes over the batch: the requests in steady
//! decode form a `DecodeGroup` advanced by one counter, with aggregates (context sum,
//! context residues mod `block_size`, finish order) that schedule and retire them in
//! O(block_size + log n). The per-request scheduler runs only when a step could
//! preempt or exhaust the token budget; it gets every request's true state back first.

use crate::kv::{BlockPool, SegmentId};
use crate::perf::{DecodeRun, FS_PER_US, Fs, SharedStepModel, StepShape};
use crate::prefix::PrefixCache;
use crate::queue::TimeUs;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Engine arguments of a replica (vLLM names in the docs of each field).
#[derive(Debug, Clone, PartialEq)]
pub struct ServingConfig {
    /// `max_num_seqs`: most requests running at once.
    pub max_num_seqs: u32,
    /// `max_num_batched_tokens`: token budget of one step.
    pub max_num_batched_tokens: u32,
    /// `block_size`: tokens per KV block.
    pub block_size: u32,
    /// KV blocks in the pool (vLLM's `num_gpu_blocks`).
    pub num_gpu_blocks: u64,
    /// `enable_prefix_caching`: requests reuse cached KV of shared prefixes (by the
    /// trace's prefix hashes) and a preempted request what survives of its own KV.
    pub enable_prefix_caching: bool,
    /// Tokens per prefix hash of the trace (Mooncake: 512); a multiple of
    /// `block_size`, or 0 when requests carry no hashes.
    pub prefix_block_tokens: u32,
    /// `scheduler_reserve_full_isl`: admit only when the whole sequence fits.
    pub reserve_full_sequence: bool,
    /// Free blocks kept back when admitting waiting requests.
    pub watermark_blocks: u64,
}

/// Whether decode steps are batched into closed-form runs or simulated one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepMode {
    /// Closed-form decode runs (the default).
    Fast,
    /// One event per engine step; the oracle the fast path is tested against.
    Reference,
}

/// What happened to a request, reported as it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressKind {
    /// First scheduled (prefill started).
    Scheduled,
    /// First output token emitted.
    FirstToken,
    /// Last output token emitted; the request left the replica.
    Finished,
    /// Evicted from the running batch; it will be recomputed.
    Preempted,
    /// Can never fit in this replica's KV pool; dropped.
    Rejected,
}

/// One progress report: `request` is the caller's request index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub request: u32,
    pub kind: ProgressKind,
    pub time_us: TimeUs,
}

/// A request handed to a replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    /// The caller's index for this request; echoed in [`Progress`].
    pub request: u32,
    pub prompt_tokens: u32,
    /// Output tokens to generate (at least one is generated).
    pub output_tokens: u32,
    /// Prefix hashes, one per `prefix_block_tokens` prompt tokens (may be empty).
    pub prefix_blocks: Vec<u64>,
}

/// A state reading of a replica, as vLLM's metrics would show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaState {
    pub running: u32,
    pub waiting: u32,
    pub kv_used_blocks: u64,
    pub kv_total_blocks: u64,
    /// Compute time of every step finished by then, femtoseconds (per GPU).
    pub compute_fs: Fs,
}

/// When the replica wants its next [`Replica::on_step_end`], and the generation that
/// call must carry (a newer generation means the run was re-planned; drop stale wakes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wake {
    pub time_us: TimeUs,
    pub generation: u64,
}

#[derive(Debug, Clone)]
struct Seq {
    request: u32,
    prompt: u32,
    output: u32,
    generated: u32,
    computed: u32,
    blocks: u64,
    scheduled: u32,
    started: bool,
    /// Its own KV (past its prefix units) left in the free queue when preempted.
    cached: Option<SegmentId>,
    prefix: Vec<u64>,
    /// Leading prefix units it references in the prefix cache.
    units: u32,
    /// Units it referenced when preempted: its `cached` segment follows them.
    resume_units: u32,
    /// Order of admission to the running batch, which is kept sorted by it.
    serial: u64,
    /// Whether it is in the replica's [`DecodeGroup`]: then `computed`, `generated` and
    /// `blocks` are as they were when the group had taken `base` steps.
    grouped: bool,
    base: u64,
}

impl Seq {
    fn num_tokens(&self) -> u32 {
        self.prompt + self.generated
    }
}

#[derive(Debug, Clone)]
enum RunKind {
    /// One step with the per-sequence `scheduled` token counts.
    Single,
    /// `steps` pure-decode steps of every running sequence.
    Decode { seqs: u64, cost: DecodeRun },
}

#[derive(Debug, Clone)]
struct Run {
    start_fs: Fs,
    steps: u64,
    end_fs: Fs,
    kind: RunKind,
    /// The compute time of a single step (decode runs compute theirs per step count).
    single_compute_fs: Fs,
}

impl Run {
    /// Compute time of the run's first `steps` steps.
    fn compute_fs(&self, steps: u64) -> Fs {
        match &self.kind {
            RunKind::Single => self.single_compute_fs * steps.min(1) as Fs,
            RunKind::Decode { cost, .. } => cost.compute_fs(steps),
        }
    }
}

/// Block arithmetic per request on the hot paths: shifts and masks when the block size
/// is a power of two (as vLLM's always are), division otherwise; same results.
#[derive(Debug, Clone, Copy)]
struct BlockMath {
    size: u32,
    /// `log2(size)` when `size` is a power of two.
    shift: Option<u32>,
}

impl BlockMath {
    fn new(size: u32) -> Self {
        Self {
            size,
            shift: size.is_power_of_two().then(|| size.trailing_zeros()),
        }
    }

    /// Blocks holding `tokens` tokens.
    fn blocks(self, tokens: u32) -> u64 {
        match self.shift {
            Some(shift) => (u64::from(tokens) + u64::from(self.size) - 1) >> shift,
            None => u64::from(tokens).div_ceil(u64::from(self.size)),
        }
    }

    /// `value / size`.
    fn div(self, value: u64) -> u64 {
        match self.shift {
            Some(shift) => value >> shift,
            None => value / u64::from(self.size),
        }
    }

    /// `value % size`.
    fn rem(self, value: u64) -> u64 {
        match self.shift {
            Some(_) => value & u64::from(self.size - 1),
            None => value % u64::from(self.size),
        }
    }

    /// Free slots in the last block of a request holding `tokens` tokens.
    fn slack(self, tokens: u32) -> usize {
        match self.shift {
            Some(_) => (tokens.wrapping_neg() & (self.size - 1)) as usize,
            None => ((self.size - tokens % self.size) % self.size) as usize,
        }
    }
}

/// What planning a step needs to know of the requests scheduled in it, gathered as
/// the scheduler schedules them so that planning takes no further pass over the batch.
#[derive(Debug)]
struct Tally {
    /// Shape of the step so far.
    shape: StepShape,
    /// Prompt tokens (recomputed ones included) scheduled so far.
    prefill_tokens: u64,
    /// Scheduled requests that are plain decodes: one token, after their first.
    decodes: usize,
    /// Fewest output tokens any of those decodes has left to generate.
    remaining: u64,
}

impl Tally {
    /// An empty tally; clears the replica's slack histogram, which it fills.
    fn new(slack: &mut Vec<u32>, block_size: u32) -> Self {
        slack.clear();
        slack.resize(block_size as usize, 0);
        Self {
            shape: StepShape::default(),
            prefill_tokens: 0,
            decodes: 0,
            remaining: u64::MAX,
        }
    }

    /// Counts `seq`, just given its `scheduled` tokens; a decode also goes into
    /// `slack`, by the free slots its last block has after the step.
    fn add(&mut self, seq: &Seq, slack: &mut [u32], math: BlockMath) {
        let new = u64::from(seq.scheduled);
        let before = u64::from(seq.computed);
        if seq.computed + 1 < seq.num_tokens() {
            self.prefill_tokens += new;
        }
        self.shape.tokens += new;
        self.shape.seqs += 1;
        self.shape.kv_read_tokens += before + new;
        // New token i (1-based) attends to `before + i` positions.
        self.shape.attention_pairs += new * before + new * (new + 1) / 2;
        if seq.scheduled == 1 && seq.computed + 1 == seq.num_tokens() && seq.generated > 0 {
            self.shape.decode_seqs += 1;
            self.shape.decode_context += before + new;
            self.decodes += 1;
            self.remaining = self.remaining.min(u64::from(seq.output - seq.generated));
            slack[math.slack(seq.computed + 1)] += 1;
        }
    }
}

/// The running requests in steady decode, advanced together: every step schedules
/// each of them one token, so a step (or a run of `k`) is one addition to `steps`
/// instead of a pass over the batch. A member's true state is its stored state moved on
/// by `steps - base` tokens (its blocks cover that, plus the token of a step in flight
/// when `pending`); the aggregates below, shifted by `steps`, give what the scheduler
/// and the step planner need of the members in O(block_size).
#[derive(Debug, Clone, Default)]
struct DecodeGroup {
    /// Decode steps the group has taken since the replica started.
    steps: u64,
    /// Whether the members are scheduled in the step in flight.
    pending: bool,
    count: u64,
    /// Sums over members of `computed` and `base` as stored.
    sum_computed: u64,
    sum_base: u64,
    /// `residues[r]` members have `(computed - base) % block_size == r` as stored, so
    /// true contexts `≡ r + steps`.
    residues: Vec<u32>,
    /// `(steps at which it has generated all its tokens, serial)` per member, packed
    /// in one integer (see [`DecodeGroup::finish_key`]), earliest on top; a member
    /// leaves only once popped from here (or all leave at once).
    finishing: BinaryHeap<Reverse<u128>>,
}

impl DecodeGroup {
    fn residue(seq: &Seq, math: BlockMath) -> usize {
        math.rem(u64::from(seq.computed) + u64::from(math.size) - math.rem(seq.base)) as usize
    }

    /// `(finishing step, serial)` as one integer that orders the same way, so the heap
    /// compares in one step.
    fn finish_key(seq: &Seq) -> u128 {
        let at = u64::from(seq.output - seq.generated) + seq.base;
        (u128::from(at) << 64) | u128::from(seq.serial)
    }

    fn unpack_finish(key: u128) -> (u64, u64) {
        ((key >> 64) as u64, key as u64)
    }

    /// True `(computed, generated, blocks)` of a member.
    fn view(&self, seq: &Seq, math: BlockMath) -> (u32, u32, u64) {
        let moved = (self.steps - seq.base) as u32;
        let computed = seq.computed + moved;
        (
            computed,
            seq.generated + moved,
            math.blocks(computed + u32::from(self.pending)),
        )
    }

    /// Adds a decode-ready request whose blocks exactly hold its context.
    fn join(&mut self, seq: &mut Seq, math: BlockMath) {
        seq.grouped = true;
        seq.base = self.steps;
        self.count += 1;
        self.sum_computed += u64::from(seq.computed);
        self.sum_base += seq.base;
        self.residues[Self::residue(seq, math)] += 1;
        self.finishing.push(Reverse(Self::finish_key(seq)));
    }

    /// Takes a member out, its true state written back; its `finishing` entry has
    /// been popped.
    fn leave(&mut self, seq: &mut Seq, math: BlockMath) {
        self.count -= 1;
        self.sum_computed -= u64::from(seq.computed);
        self.sum_base -= seq.base;
        self.residues[Self::residue(seq, math)] -= 1;
        let (computed, generated, blocks) = self.view(seq, math);
        seq.computed = computed;
        seq.generated = generated;
        seq.blocks = blocks;
        seq.grouped = false;
    }

    /// Sum of the members' true contexts.
    fn context(&self) -> u64 {
        self.sum_computed + self.count * self.steps - self.sum_base
    }
}

/// One replica: its queues, KV pool, clock and current run.
#[derive(Debug, Clone)]
pub struct Replica {
    config: ServingConfig,
    cost: SharedStepModel,
    mode: StepMode,
    pool: BlockPool,
    prefix: Option<PrefixCache>,
    waiting: VecDeque<Seq>,
    running: Vec<Seq>,
    clock_fs: Fs,
    run: Option<Run>,
    /// Of the current decode run: `slack[r]` sequences have `r` free slots in their
    /// last block after the run's first step (kept here to reuse the allocation).
    slack: Vec<u32>,
    group: DecodeGroup,
    /// Running requests outside the group.
    ungrouped: usize,
    next_serial: u64,
    /// Scratch: indices of ungrouped running requests, serials of finished ones.
    picks: Vec<usize>,
    done: Vec<u64>,
    generation: u64,
    steps_taken: u64,
    /// Compute time of every finished run (the tensor-pipe activity's numerator).
    compute_done_fs: Fs,
    preemptions: u64,
    prefill_tokens: u64,
    reused_tokens: u64,
}

/// The microsecond at which something ending at `fs` is handled (rounded up, so never
/// before it happens).
fn event_time(fs: Fs) -> TimeUs {
    // 64-bit division when it fits (runs shorter than 2.5 h of femtoseconds): much cheaper.
    match i64::try_from(fs) {
        Ok(fs) => fs.div_euclid(FS_PER_US as i64) + i64::from(fs.rem_euclid(FS_PER_US as i64) != 0),
        Err(_) => (fs + FS_PER_US - 1).div_euclid(FS_PER_US) as TimeUs,
    }
}

impl Replica {
    /// An idle replica at time zero.
    pub fn new(config: ServingConfig, cost: SharedStepModel, mode: StepMode) -> Self {
        let pool = BlockPool::new(config.num_gpu_blocks);
        let residues = vec![0; config.block_size as usize];
        let hashed = config.enable_prefix_caching
            && config.prefix_block_tokens > 0
            && config.prefix_block_tokens.is_multiple_of(config.block_size);
        let prefix = hashed
            .then(|| PrefixCache::new(u64::from(config.prefix_block_tokens / config.block_size)));
        Self {
            config,
            cost,
            mode,
            pool,
            prefix,
            waiting: VecDeque::new(),
            running: Vec::new(),
            clock_fs: 0,
            run: None,
            slack: Vec::new(),
            group: DecodeGroup {
                residues,
                ..DecodeGroup::default()
            },
            ungrouped: 0,
            next_serial: 0,
            picks: Vec::new(),
            done: Vec::new(),
            generation: 0,
            steps_taken: 0,
            compute_done_fs: 0,
            preemptions: 0,
            prefill_tokens: 0,
            reused_tokens: 0,
        }
    }

    /// Engine arguments.
    pub fn config(&self) -> &ServingConfig {
        &self.config
    }

    /// Requests waiting and running: the load a router sees.
    pub fn load(&self) -> crate::routing::Load {
        crate::routing::Load {
            waiting: self.waiting.len(),
            running: self.running.len(),
        }
    }

    /// Whether the replica holds no request.
    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty() && self.running.is_empty()
    }

    /// Engine steps simulated so far (a decode run counts all its steps).
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// Preemptions so far.
    pub fn preemptions(&self) -> u64 {
        self.preemptions
    }

    /// Prompt (and recomputed) tokens prefilled so far.
    pub fn prefill_tokens(&self) -> u64 {
        self.prefill_tokens
    }

    /// Tokens a resumed request found still cached instead of recomputing.
    pub fn reused_tokens(&self) -> u64 {
        self.reused_tokens
    }

    fn blocks_for(&self, tokens: u32) -> u64 {
        u64::from(tokens).div_ceil(u64::from(self.config.block_size))
    }

    /// Hands a request to the replica at `now_us`. Returns a new wake-up when the
    /// replica was idle or its current run is cut short to admit the request.
    pub fn enqueue(
        &mut self,
        request: NewRequest,
        now_us: TimeUs,
        out: &mut Vec<Progress>,
    ) -> Option<Wake> {
        let output = request.output_tokens.max(1);
        if self.blocks_for(request.prompt_tokens + output) > self.pool.total() {
            out.push(Progress {
                request: request.request,
                kind: ProgressKind::Rejected,
                time_us: now_us,
            });
            return None;
        }
        let waiting_before = self.waiting.len();
        self.waiting.push_back(Seq {
            request: request.request,
            prompt: request.prompt_tokens,
            output,
            generated: 0,
            computed: 0,
            blocks: 0,
            scheduled: 0,
            started: false,
            cached: None,
            prefix: if self.prefix.is_some() {
                request.prefix_blocks
            } else {
                Vec::new()
            },
            units: 0,
            resume_units: 0,
            serial: 0,
            grouped: false,
            base: 0,
        });
        let now_fs = Fs::from(now_us) * FS_PER_US;
        match &self.run {
            None => {
                self.clock_fs = self.clock_fs.max(now_fs);
                self.plan(out)
            }
            Some(run) if waiting_before == 0 && run.steps > 1 => {
                // Prefix hits can shrink what the newcomer needs: then only a cut tells.
                let may_hit = self
                    .waiting
                    .back()
                    .is_some_and(|seq| !seq.prefix.is_empty());
                self.cut_run_for(request.prompt_tokens, may_hit, now_us)
            }
            Some(_) => None,
        }
    }

    /// Ends the current run if a request arriving at `now_us` could be admitted at one
    /// of its step boundaries (only possible at the first boundary at or after now,
    /// since free blocks only shrink during a decode run). Without prefix hits the KV it
    /// needs is known; with possible hits the run is cut and the scheduler decides.
    fn cut_run_for(&mut self, prompt: u32, may_hit: bool, now_us: TimeUs) -> Option<Wake> {
        let run = self.run.as_ref()?;
        let RunKind::Decode { seqs, cost } = &run.kind else {
            return None;
        };
        let slack = &self.slack;
        let budget_left = u64::from(self.config.max_num_batched_tokens).saturating_sub(*seqs);
        if self.running.len() >= self.config.max_num_seqs as usize || budget_left == 0 {
            return None;
        }
        // Smallest n in [1, steps] whose boundary event is at or after now: one past
        // the steps that end by `threshold` (or the whole run when they all do).
        let threshold = Fs::from(now_us - 1) * FS_PER_US;
        let boundary = (cost.steps_within(threshold - run.start_fs, run.steps) + 1).min(run.steps);
        if boundary >= run.steps {
            return None;
        }
        let free_then = self.pool.free().saturating_sub(extra_blocks(
            slack,
            *seqs,
            boundary,
            BlockMath::new(self.config.block_size),
        ));
        let chunk = u64::from(prompt).min(budget_left) as u32;
        let need = self.blocks_for(chunk) + self.config.watermark_blocks;
        let need_full = if self.config.reserve_full_sequence {
            self.blocks_for(prompt)
        } else {
            0
        };
        if !may_hit && need.max(need_full + self.config.watermark_blocks) > free_then {
            return None;
        }
        let end_fs = run.start_fs + cost.time_fs(boundary);
        let run = self.run.as_mut().expect("checked above");
        run.steps = boundary;
        run.end_fs = end_fs;
        self.generation += 1;
        Some(Wake {
            time_us: event_time(end_fs),
            generation: self.generation,
        })
    }

    /// Finishes the current run (call at the wake time with the wake's generation) and
    /// plans the next. Stale generations are ignored and return `None`.
    pub fn on_step_end(&mut self, generation: u64, out: &mut Vec<Progress>) -> Option<Wake> {
        if generation != self.generation || self.run.is_none() {
            return None;
        }
        let run = self.run.take().expect("checked above");
        let end_us = event_time(run.end_fs);
        self.steps_taken += run.steps;
        self.compute_done_fs += run.compute_fs(run.steps);
        let math = BlockMath::new(self.config.block_size);
        self.collect_ungrouped();
        let picks = std::mem::take(&mut self.picks);
        match &run.kind {
            RunKind::Single => {
                if self.group.pending {
                    self.group.steps += 1;
                }
                for &index in &picks {
                    let seq = &mut self.running[index];
                    if seq.scheduled == 0 {
                        continue;
                    }
                    seq.computed += seq.scheduled;
                    seq.scheduled = 0;
                    if seq.computed == seq.num_tokens() {
                        seq.generated += 1;
                        if seq.generated == 1 {
                            out.push(Progress {
                                request: seq.request,
                                kind: ProgressKind::FirstToken,
                                time_us: end_us,
                            });
                        }
                    }
                }
            }
            RunKind::Decode { seqs, .. } => {
                let steps = run.steps as u32;
                let extra = extra_blocks(&self.slack, *seqs, run.steps - 1, math);
                self.pool.allocate(extra);
                if self.group.pending {
                    self.group.steps += run.steps;
                }
                for &index in &picks {
                    let seq = &mut self.running[index];
                    seq.computed += steps;
                    seq.generated += steps;
                    seq.scheduled = 0;
                    seq.blocks = math.blocks(seq.computed);
                }
            }
        }
        self.group.pending = false;
        // First tokens are all reported before any finish, and finishes in batch order.
        let mut done = std::mem::take(&mut self.done);
        done.clear();
        for &index in &picks {
            let seq = &mut self.running[index];
            if seq.generated >= seq.output {
                done.push(seq.serial);
            } else if self.mode == StepMode::Fast
                && seq.generated > 0
                && seq.computed + 1 == seq.num_tokens()
                && seq.blocks == math.blocks(seq.computed)
            {
                self.group.join(seq, math);
                self.ungrouped -= 1;
            }
        }
        while let Some(&Reverse(key)) = self.group.finishing.peek() {
            let (at, serial) = DecodeGroup::unpack_finish(key);
            if at > self.group.steps {
                break;
            }
            self.group.finishing.pop();
            done.push(serial);
        }
        done.sort_unstable();
        for &serial in &done {
            let index = self
                .running
                .binary_search_by_key(&serial, |seq| seq.serial)
                .expect("finished requests are running");
            let mut seq = self.running.remove(index);
            if seq.grouped {
                self.group.leave(&mut seq, math);
            } else {
                self.ungrouped -= 1;
            }
            finish(&mut self.pool, &mut self.prefix, &seq, end_us, out);
        }
        self.done = done;
        self.picks = picks;
        self.clock_fs = run.end_fs;
        self.plan(out)
    }

    /// State as vLLM's metrics would report it at `now_us` (mid-run KV growth included).
    pub fn state_at(&self, now_us: TimeUs) -> ReplicaState {
        let mut used = self.pool.used();
        let mut compute_fs = self.compute_done_fs;
        if let Some(run) = &self.run {
            let limit = Fs::from(now_us) * FS_PER_US;
            if let RunKind::Decode { seqs, cost } = &run.kind {
                // Steps whose boundary event is at or before now are done; the next one
                // has already allocated its blocks.
                let low = cost.steps_within(limit - run.start_fs, run.steps - 1);
                used += extra_blocks(
                    &self.slack,
                    *seqs,
                    low,
                    BlockMath::new(self.config.block_size),
                );
                compute_fs += cost.compute_fs(low);
            }
        }
        ReplicaState {
            running: self.running.len() as u32,
            waiting: self.waiting.len() as u32,
            kv_used_blocks: used,
            kv_total_blocks: self.pool.total(),
            compute_fs,
        }
    }

    /// Runs the scheduler at `clock_fs` and starts the next run, if there is work.
    fn plan(&mut self, out: &mut Vec<Progress>) -> Option<Wake> {
        let now_us = event_time(self.clock_fs);
        debug_assert!(self.running.iter().all(|seq| seq.scheduled == 0));
        let mut tally = Tally::new(&mut self.slack, self.config.block_size);
        let (preempted, budget) = match self.schedule_all_fit(&mut tally) {
            Some(budget) => (false, budget),
            None => {
                self.ungroup_all();
                self.schedule_running(now_us, &mut tally, out)
            }
        };
        // vLLM skips admission in a step that preempted; when that step then has nothing
        // to run, the engine's next scheduler call (at once) admits.
        let nothing_runs = tally.shape.seqs == 0;
        let admitted = if !preempted || nothing_runs {
            self.admit_waiting(now_us, budget, &mut tally, out)
        } else {
            false
        };
        if tally.shape.seqs == 0 {
            self.run = None;
            return None;
        }
        // A blocked head stays blocked while free blocks shrink, unless what it needs
        // shrinks too: without the full-sequence gate, losing cached blocks of its own
        // lowers the first chunk's need. Then step one by one while it waits.
        let head_stays_blocked = self.waiting.front().is_none_or(|head| {
            self.config.reserve_full_sequence || (head.cached.is_none() && head.prefix.is_empty())
        });
        let pure_decode =
            head_stays_blocked && !preempted && !admitted && tally.decodes == self.running.len();
        let run = if pure_decode && self.mode == StepMode::Fast {
            self.plan_decode_run(&tally)
        } else {
            self.plan_single_step(&tally)
        };
        self.generation += 1;
        let wake = Wake {
            time_us: event_time(run.end_fs),
            generation: self.generation,
        };
        self.run = Some(run);
        Some(wake)
    }

    /// Fills `picks` with the indices of the running requests outside the group, in
    /// batch order (newcomers sit at the back, so the scan usually stops early).
    fn collect_ungrouped(&mut self) {
        self.picks.clear();
        let mut index = self.running.len();
        while self.picks.len() < self.ungrouped {
            index -= 1;
            if !self.running[index].grouped {
                self.picks.push(index);
            }
        }
        self.picks.reverse();
    }

    /// Writes every member's true state back and empties the group, for the
    /// per-request scheduler.
    fn ungroup_all(&mut self) {
        if self.group.count == 0 {
            return;
        }
        debug_assert!(!self.group.pending);
        let math = BlockMath::new(self.config.block_size);
        for seq in &mut self.running {
            if seq.grouped {
                let (computed, generated, blocks) = self.group.view(seq, math);
                seq.computed = computed;
                seq.generated = generated;
                seq.blocks = blocks;
                seq.grouped = false;
            }
        }
        self.ungrouped = self.running.len();
        let group = &mut self.group;
        group.count = 0;
        group.sum_computed = 0;
        group.sum_base = 0;
        group.residues.fill(0);
        group.finishing.clear();
    }

    /// Step 1 of the scheduler when every running request gets all the tokens it
    /// needs and its blocks fit: then nothing is preempted, and (allocation and tallies
    /// being order-free) the group is scheduled as a whole. Returns the budget left, or
    /// `None` (nothing changed) when the per-request scheduler must decide.
    fn schedule_all_fit(&mut self, tally: &mut Tally) -> Option<u32> {
        let math = BlockMath::new(self.config.block_size);
        let block_size = u64::from(math.size);
        self.collect_ungrouped();
        let group = &self.group;
        // Members whose context fills its last block need a new one.
        let full_residue = math.rem(block_size - math.rem(group.steps)) as usize;
        let mut tokens = group.count;
        let mut blocks = u64::from(group.residues[full_residue]) * u64::from(group.count > 0);
        for &index in &self.picks {
            let seq = &self.running[index];
            let new = seq.num_tokens() - seq.computed;
            if new == 0 {
                return None;
            }
            tokens += u64::from(new);
            let end = seq.computed + new;
            if u64::from(end) > seq.blocks * block_size {
                blocks += math.blocks(end) - seq.blocks;
            }
        }
        let budget = self.config.max_num_batched_tokens;
        if tokens > u64::from(budget) || blocks > self.pool.free() {
            return None;
        }
        if blocks > 0 {
            self.pool.allocate(blocks);
        }
        for &index in &self.picks {
            let seq = &mut self.running[index];
            let new = seq.num_tokens() - seq.computed;
            let end = seq.computed + new;
            if u64::from(end) > seq.blocks * block_size {
                seq.blocks = math.blocks(end);
            }
            seq.scheduled = new;
            tally.add(seq, &mut self.slack, math);
            if seq.computed < seq.prompt {
                register_units(&mut self.prefix, seq, self.config.prefix_block_tokens);
            }
        }
        let group = &mut self.group;
        if group.count > 0 {
            group.pending = true;
            let count = group.count;
            let context = group.context();
            tally.shape.tokens += count;
            tally.shape.seqs += count;
            tally.shape.kv_read_tokens += context + count;
            tally.shape.attention_pairs += context + count;
            tally.shape.decode_seqs += count;
            tally.shape.decode_context += context + count;
            tally.decodes += count as usize;
            let Reverse(key) = *group.finishing.peek().expect("members");
            let (first_done, _) = DecodeGroup::unpack_finish(key);
            tally.remaining = tally.remaining.min(first_done - group.steps);
            // A context `≡ x` leaves `block_size - 1 - x` free slots after the step.
            // Residue `r` holds contexts `≡ r + shift`: a reversed rotation.
            let size = math.size as usize;
            let shift = math.rem(group.steps) as usize;
            let (low, high) = group.residues.split_at(size - shift);
            let (first, second) = self.slack.split_at_mut(size - shift);
            for (slot, &members) in first.iter_mut().rev().zip(low) {
                *slot += members;
            }
            for (slot, &members) in second.iter_mut().rev().zip(high) {
                *slot += members;
            }
        }
        Some(budget - tokens as u32)
    }

    /// Step 1 of the scheduler; returns whether anything was preempted and the token
    /// budget left.
    fn schedule_running(
        &mut self,
        now_us: TimeUs,
        tally: &mut Tally,
        out: &mut Vec<Progress>,
    ) -> (bool, u32) {
        let math = BlockMath::new(self.config.block_size);
        let mut budget = self.config.max_num_batched_tokens;
        let mut preempted = false;
        let mut index = 0;
        while index < self.running.len() && budget > 0 {
            let seq = &self.running[index];
            let new = (seq.num_tokens() - seq.computed).min(budget);
            let end = seq.computed + new;
            // Most steps fit the last block: no division then.
            let need = if u64::from(end) <= seq.blocks * u64::from(math.size) {
                0
            } else {
                math.blocks(end) - seq.blocks
            };
            let mut fits = true;
            while need > self.pool.free() {
                let mut victim = self.running.pop().expect("index < len");
                self.ungrouped -= 1;
                preempted = true;
                self.preemptions += 1;
                out.push(Progress {
                    request: victim.request,
                    kind: ProgressKind::Preempted,
                    time_us: now_us,
                });
                victim.cached = release_seq(
                    &mut self.pool,
                    &mut self.prefix,
                    &victim,
                    self.config.enable_prefix_caching,
                );
                victim.resume_units = victim.units;
                victim.units = 0;
                victim.blocks = 0;
                victim.computed = 0;
                victim.scheduled = 0;
                let was_current = index == self.running.len();
                self.waiting.push_front(victim);
                if was_current {
                    fits = false;
                    break;
                }
            }
            if !fits {
                break;
            }
            if need > 0 {
                self.pool.allocate(need);
            }
            let seq = &mut self.running[index];
            seq.blocks += need;
            seq.scheduled = new;
            tally.add(seq, &mut self.slack, math);
            if seq.computed < seq.prompt {
                // Prompt units become shareable as their prefill is scheduled (decode
                // steps never register, so decode runs need not either).
                register_units(&mut self.prefix, seq, self.config.prefix_block_tokens);
            }
            budget -= new;
            index += 1;
        }
        (preempted, budget)
    }

    /// Step 2 of the scheduler, with the `budget` step 1 left; returns whether a
    /// request was admitted.
    fn admit_waiting(
        &mut self,
        now_us: TimeUs,
        mut budget: u32,
        tally: &mut Tally,
        out: &mut Vec<Progress>,
    ) -> bool {
        let block_size = u64::from(self.config.block_size);
        let mut admitted = false;
        while budget > 0 && self.running.len() < self.config.max_num_seqs as usize {
            let Some(head) = self.waiting.front() else {
                break;
            };
            let num_tokens = head.num_tokens();
            // At most num_tokens - 1 tokens can come from cache: the last one must be
            // computed to sample from (as in vLLM).
            let max_cached_blocks = u64::from(num_tokens - 1) / block_size;
            let (hit, unit_blocks) = match &self.prefix {
                Some(cache) => {
                    let max_units = (max_cached_blocks / cache.unit_blocks()) as usize;
                    (
                        cache.lookup(&self.pool, &head.prefix, max_units),
                        cache.unit_blocks(),
                    )
                }
                None => (Default::default(), 0),
            };
            let hit_blocks = u64::from(hit.units) * unit_blocks;
            // The request's own surviving KV continues its prefix only if every unit it
            // held before preemption is back.
            let own_blocks = match head.cached {
                Some(id) if hit.units == head.resume_units => self.pool.surviving(id),
                _ => 0,
            };
            let cached_blocks = (hit_blocks + own_blocks).min(max_cached_blocks.max(hit_blocks));
            let computed = (cached_blocks * block_size) as u32;
            let new = (num_tokens - computed).min(budget);
            // Reusing free-but-cached blocks counts as allocating them (as in vLLM).
            let table = u64::from(computed + new)
                .div_ceil(block_size)
                .max(hit_blocks + own_blocks);
            let need_chunk = hit.evictable_blocks + table - hit_blocks;
            let need_full = if self.config.reserve_full_sequence {
                hit.evictable_blocks + u64::from(num_tokens).div_ceil(block_size).max(table)
                    - hit_blocks
            } else {
                0
            };
            if need_chunk.max(need_full) + self.config.watermark_blocks > self.pool.free() {
                break;
            }
            let mut seq = self.waiting.pop_front().expect("peeked");
            if let Some(cache) = &mut self.prefix {
                cache.acquire(&mut self.pool, &seq.prefix, hit.units);
            }
            let reclaimed = match seq.cached.take() {
                Some(id) if own_blocks > 0 => self.pool.reclaim(id),
                _ => 0,
            };
            self.pool.allocate(table - hit_blocks - reclaimed);
            seq.blocks = table;
            seq.units = hit.units;
            seq.computed = computed;
            self.reused_tokens += u64::from(computed);
            seq.scheduled = new;
            register_units(&mut self.prefix, &mut seq, self.config.prefix_block_tokens);
            if !seq.started {
                seq.started = true;
                out.push(Progress {
                    request: seq.request,
                    kind: ProgressKind::Scheduled,
                    time_us: now_us,
                });
            }
            budget -= new;
            admitted = true;
            tally.add(
                &seq,
                &mut self.slack,
                BlockMath::new(self.config.block_size),
            );
            seq.serial = self.next_serial;
            self.next_serial += 1;
            self.ungrouped += 1;
            self.running.push(seq);
        }
        admitted
    }

    fn plan_single_step(&mut self, tally: &Tally) -> Run {
        self.prefill_tokens += tally.prefill_tokens;
        let end_fs = self.clock_fs + self.cost.step_fs(&tally.shape);
        Run {
            start_fs: self.clock_fs,
            steps: 1,
            end_fs,
            kind: RunKind::Single,
            single_compute_fs: self.cost.compute_fs(&tally.shape),
        }
    }

    /// Plans a pure-decode run; `tally` covers every running request, each a decode.
    fn plan_decode_run(&mut self, tally: &Tally) -> Run {
        let seqs = tally.shape.seqs;
        // Each decode reads its context after the step: together, the first step's.
        let context0 = tally.shape.kv_read_tokens;
        let math = BlockMath::new(self.config.block_size);
        let free = self.pool.free();
        // Usually the first finish comes long before the pool runs out: when every
        // sequence could take a new block every `block_size` steps until then (a bound
        // on what the run needs), the run ends at that finish, no need to find where
        // the pool would run out.
        let until_finish = tally.remaining.saturating_sub(1);
        let roomy = seqs
            .checked_mul(math.div(until_finish.saturating_add(u64::from(math.size) - 1)))
            .is_some_and(|blocks| blocks <= free);
        let steps = if roomy {
            tally.remaining
        } else {
            tally
                .remaining
                .min(1 + max_extra_steps(&self.slack, seqs, free, math))
        };
        let cost = self.cost.decode_run(seqs, context0);
        let end_fs = self.clock_fs + cost.time_fs(steps);
        Run {
            start_fs: self.clock_fs,
            steps,
            end_fs,
            kind: RunKind::Decode { seqs, cost },
            single_compute_fs: 0,
        }
    }

    /// Checks the replica's bookkeeping (tests and `SimConfig::check_invariants`): the
    /// running requests hold exactly the used KV blocks, never more than the pool, each
    /// enough for its computed tokens, and the batch respects `max_num_seqs`.
    pub fn check_invariants(&self) -> Result<(), String> {
        let unit_blocks = self.prefix.as_ref().map_or(0, PrefixCache::unit_blocks);
        let math = BlockMath::new(self.config.block_size);
        let running: Vec<Seq> = self
            .running
            .iter()
            .map(|seq| {
                let mut seq = seq.clone();
                if seq.grouped {
                    (seq.computed, seq.generated, seq.blocks) = self.group.view(&seq, math);
                    seq.scheduled = u32::from(self.group.pending);
                }
                seq
            })
            .collect();
        let owned: u64 = running
            .iter()
            .map(|seq| seq.blocks - u64::from(seq.units) * unit_blocks)
            .sum();
        let held = owned + self.prefix.as_ref().map_or(0, PrefixCache::held_blocks);
        if held != self.pool.used() {
            return Err(format!(
                "running requests hold {held} blocks but the pool has {} used",
                self.pool.used()
            ));
        }
        if self.pool.used() > self.pool.total() {
            return Err(format!(
                "{} blocks used of {}",
                self.pool.used(),
                self.pool.total()
            ));
        }
        if self.running.len() > self.config.max_num_seqs as usize {
            return Err(format!(
                "{} running, max_num_seqs {}",
                self.running.len(),
                self.config.max_num_seqs
            ));
        }
        let outside = running.iter().filter(|seq| !seq.grouped).count();
        if outside != self.ungrouped || running.len() - outside != self.group.count as usize {
            return Err(format!(
                "{outside} running outside the decode group, {} counted",
                self.ungrouped
            ));
        }
        if running
            .windows(2)
            .any(|pair| pair[0].serial >= pair[1].serial)
        {
            return Err("running requests out of admission order".to_string());
        }
        for seq in &running {
            if seq.blocks * u64::from(self.config.block_size)
                < u64::from(seq.computed + seq.scheduled)
            {
                return Err(format!(
                    "request {} has {} blocks for {} tokens",
                    seq.request,
                    seq.blocks,
                    seq.computed + seq.scheduled
                ));
            }
            if seq.generated > seq.output {
                return Err(format!(
                    "request {} generated {} of {}",
                    seq.request, seq.generated, seq.output
                ));
            }
        }
        if let Some(Run {
            kind: RunKind::Decode { seqs, .. },
            steps,
            ..
        }) = &self.run
        {
            let extra = extra_blocks(
                &self.slack,
                *seqs,
                steps - 1,
                BlockMath::new(self.config.block_size),
            );
            if extra > self.pool.free() {
                return Err(format!(
                    "decode run needs {extra} more blocks, {} free",
                    self.pool.free()
                ));
            }
        }
        Ok(())
    }
}

/// Returns a request's KV to the pool, tail first as vLLM frees it: its own blocks
/// (kept findable when `keyed`, for a preempted request), then its prefix units.
fn release_seq(
    pool: &mut BlockPool,
    prefix: &mut Option<PrefixCache>,
    seq: &Seq,
    keyed: bool,
) -> Option<SegmentId> {
    let unit_blocks = prefix.as_ref().map_or(0, PrefixCache::unit_blocks);
    let owned = seq.blocks - u64::from(seq.units) * unit_blocks;
    let segment = if keyed {
        pool.release_keyed(owned)
    } else {
        pool.release(owned);
        None
    };
    if let Some(cache) = prefix {
        cache.release(pool, &seq.prefix[..seq.units as usize]);
    }
    segment
}

#[cold]
fn finish(
    pool: &mut BlockPool,
    prefix: &mut Option<PrefixCache>,
    seq: &Seq,
    end_us: TimeUs,
    out: &mut Vec<Progress>,
) {
    release_seq(pool, prefix, seq, false);
    out.push(Progress {
        request: seq.request,
        kind: ProgressKind::Finished,
        time_us: end_us,
    });
}

/// Turns the prefix units a request's scheduled tokens now cover into cache units
/// (its blocks become shareable); stops at the first unit held by someone else.
fn register_units(prefix: &mut Option<PrefixCache>, seq: &mut Seq, unit_tokens: u32) {
    let Some(cache) = prefix else { return };
    let covered = seq.computed + seq.scheduled;
    while (seq.units as usize) < seq.prefix.len()
        && (seq.units + 1) * unit_tokens <= covered.min(seq.prompt)
        && seq.blocks >= u64::from(seq.units + 1) * cache.unit_blocks()
    {
        if !cache.register(seq.prefix[seq.units as usize]) {
            break;
        }
        seq.units += 1;
    }
}

/// New blocks the sequences of a decode run need for `steps` more steps after the
/// first: a sequence with `r` free slots in its last block needs
/// `ceil(max(0, steps - r) / block_size)`, which for `steps = q * block_size + m` is
/// `q + [m > r]`.
fn extra_blocks(slack: &[u32], seqs: u64, steps: u64, math: BlockMath) -> u64 {
    let (q, m) = (math.div(steps), math.rem(steps) as usize);
    seqs * q
        + slack[..m]
            .iter()
            .map(|&count| u64::from(count))
            .sum::<u64>()
}

/// Most extra steps (after the first) whose new blocks fit in `free`.
fn max_extra_steps(slack: &[u32], seqs: u64, free: u64, math: BlockMath) -> u64 {
    if seqs == 0 {
        return u64::MAX / 2;
    }
    let q = free / seqs;
    let mut left = free - seqs * q;
    let mut m = 0usize;
    // Largest m < block_size with sum(slack[..m]) <= left.
    while m + 1 < slack.len() && u64::from(slack[m]) <= left {
        left -= u64::from(slack[m]);
        m += 1;
    }
    q * u64::from(math.size) + m as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_math_matches_division_for_any_block_size() {
        for size in [1u32, 3, 8, 16, 24, 32, 100, 128] {
            let math = BlockMath::new(size);
            for tokens in (0..1000u32).chain([u32::MAX - 1, u32::MAX]) {
                assert_eq!(
                    math.blocks(tokens),
                    u64::from(tokens).div_ceil(u64::from(size)),
                    "size {size} tokens {tokens}"
                );
                assert_eq!(
                    math.rem(u64::from(tokens)),
                    u64::from(tokens % size),
                    "size {size} tokens {tokens}"
                );
                assert_eq!(
                    math.div(u64::from(tokens)),
                    u64::from(tokens / size),
                    "size {size} tokens {tokens}"
                );
                assert_eq!(
                    math.slack(tokens),
                    ((size - tokens % size) % size) as usize,
                    "size {size} tokens {tokens}"
                );
            }
        }
    }

    #[test]
    fn extra_blocks_matches_brute_force() {
        let block_size = 16u32;
        let contexts = [1u64, 15, 16, 17, 31, 100, 255];
        let mut slack = vec![0u32; 16];
        for &after in &contexts {
            slack[((16 - after % 16) % 16) as usize] += 1;
        }
        for steps in 0..80u64 {
            let brute: u64 = contexts
                .iter()
                .map(|&after| (after + steps).div_ceil(16) - after.div_ceil(16))
                .sum();
            assert_eq!(
                extra_blocks(
                    &slack,
                    contexts.len() as u64,
                    steps,
                    BlockMath::new(block_size)
                ),
                brute,
                "steps {steps}"
            );
        }
        for free in 0..40u64 {
            let best = max_extra_steps(
                &slack,
                contexts.len() as u64,
                free,
                BlockMath::new(block_size),
            );
            assert!(
                extra_blocks(
                    &slack,
                    contexts.len() as u64,
                    best,
                    BlockMath::new(block_size)
                ) <= free
            );
            assert!(
                extra_blocks(
                    &slack,
                    contexts.len() as u64,
                    best + 1,
                    BlockMath::new(block_size)
                ) > free,
                "free {free}"
            );
        }
    }
}
