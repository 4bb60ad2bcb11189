//! The canonical request: what every trace reader yields and every consumer reads.

use serde::{Deserialize, Serialize};

/// One LLM request of a trace, in the project's canonical form.
///
/// Time is integer microseconds from the trace start so that replay is exact and
/// deterministic; token counts are what the model server sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Arrival time in microseconds from the start of the trace.
    pub arrival_us: i64,
    /// Prompt (context) tokens.
    pub prompt_tokens: u32,
    /// Output (generated) tokens.
    pub output_tokens: u32,
    /// Prefix-cache block ids (Mooncake `hash_ids`, 512-token blocks), empty when unknown.
    pub prefix_blocks: Vec<u64>,
    /// Optional tenant, model and priority labels.
    pub tenant: Option<String>,
    pub model: Option<String>,
    pub priority: Option<i32>,
    /// The source marked this request as failed (e.g. BurstGPT rows with 0 response tokens).
    pub failed: bool,
}

impl Request {
    /// A request with only its arrival and sizes: no prefix blocks, no labels, not failed.
    pub fn new(arrival_us: i64, prompt_tokens: u32, output_tokens: u32) -> Self {
        Request {
            arrival_us,
            prompt_tokens,
            output_tokens,
            prefix_blocks: Vec::new(),
            tenant: None,
            model: None,
            priority: None,
            failed: false,
        }
    }
}
