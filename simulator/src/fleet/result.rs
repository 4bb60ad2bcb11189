//! What a fleet run produced: per-request records, the control loop's ticks and
//! decisions, and what the fleet cost.

use crate::queue::TimeUs;
use serde::Serialize;

/// Everything one run produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResult {
    /// Manifest `metadata.name`, `"static"`, or the schedule's name.
    pub scaler: String,
    /// `"HPA"`, `"KPA"`, `"BudScaler"`, `"Static"`, or the schedule's strategy.
    pub strategy: String,
    /// One record per input request, in input order.
    pub requests: Vec<RequestRecord>,
    /// One record per engine tick (sync period).
    pub ticks: Vec<TickRecord>,
    /// One record per engine decision (manifest scalers only).
    pub decisions: Vec<DecisionRecord>,
    /// GPU-hours paid: every node from provisioning start to release, warm time included.
    pub gpu_hours: f64,
    /// USD paid for those GPU-hours at on-demand or spot prices.
    pub cost_usd: f64,
    /// Number of changes of the desired replica count.
    pub scale_events: u32,
    /// Most replicas provisioned at once (starting, ready or draining).
    pub peak_replicas: u32,
    /// Provisioned replicas averaged over `[0, end_us]`.
    pub mean_replicas: f64,
    /// When the last request settled (or the last tick, if later).
    pub end_us: TimeUs,
    /// Every observation a manifest scaler decided on, in tick order, when
    /// `RunOptions::record_observations` asked for them; empty otherwise.
    #[serde(skip)]
    pub observations: Vec<engine::Observation>,
    /// A manifest scaler's status at the end of the run, as the operator would write it
    /// to the resource (`status/<scaler>.json` in the output folder).
    #[serde(skip)]
    pub status: Option<engine::status::ScalerStatus>,
}

/// What happened to one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRecord {
    pub arrival_us: TimeUs,
    pub prompt_tokens: u32,
    pub output_tokens: u32,
    /// Replica it was routed to (ids count up from 0 in creation order).
    pub replica: Option<u32>,
    pub first_token_us: Option<TimeUs>,
    pub last_token_us: Option<TimeUs>,
    pub preemptions: u32,
    pub status: RequestStatus,
}

/// The final status of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RequestStatus {
    /// All output tokens generated.
    Completed,
    /// Waited in the gateway longer than the timeout without a ready replica.
    GatewayTimeout,
    /// Can never fit in a replica's KV cache.
    Rejected,
    /// Still in flight when its replica's drain grace period ended.
    CutByDrain,
    /// Still in flight when its spot node was reclaimed.
    LostToSpot,
}

impl RequestRecord {
    /// Time to first token, seconds.
    pub fn ttft_s(&self) -> Option<f64> {
        crate::metrics::ttft_s(self.arrival_us, self.first_token_us)
    }

    /// Time per output token after the first, seconds (`None` with one output token
    /// or when not completed).
    pub fn tpot_s(&self) -> Option<f64> {
        crate::metrics::tpot_s(self.first_token_us, self.last_token_us, self.output_tokens)
    }

    /// End-to-end latency, seconds.
    pub fn e2e_s(&self) -> Option<f64> {
        crate::metrics::e2e_s(self.arrival_us, self.last_token_us)
    }

    /// Completed within both latency objectives (a one-token request only needs TTFT).
    pub fn meets(&self, slo: &super::Slo) -> bool {
        self.status == RequestStatus::Completed
            && self.ttft_s().is_some_and(|ttft| ttft <= slo.ttft_s)
            && self.tpot_s().is_none_or(|tpot| tpot <= slo.tpot_s)
    }
}

/// The fleet at one engine tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickRecord {
    pub time_us: TimeUs,
    /// Desired replicas after this tick's decision.
    pub desired: u32,
    pub ready: u32,
    /// Pending or loading.
    pub starting: u32,
    pub draining: u32,
    /// Requests waiting in the gateway for a ready replica.
    pub gateway_queue: u32,
    /// Requests waiting inside replicas (vLLM's waiting queue), summed.
    pub waiting: u32,
    /// Requests running inside replicas, summed.
    pub running: u32,
    /// Mean KV-cache use over ready replicas, percent (0 with none ready).
    pub kv_cache_pct: f64,
    /// Arrivals per second since the previous tick.
    pub arrival_rate_rps: f64,
    /// USD paid so far.
    pub cost_usd: f64,
}

/// One decision of the engine, as taken (the control loop's record).
pub use control::DecisionRecord;
