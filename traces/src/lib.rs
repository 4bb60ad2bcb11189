//! Request traces and metric series: reading, writing, generating, inspecting.

pub mod canonical;
pub mod columns;
pub mod datetime;
pub mod error;
mod fields;
pub mod format;
mod formats;
#[cfg(feature = "parquet")]
mod parquet;
pub mod reader;
pub mod request;
mod source;
pub mod stats;
pub mod transform;
pub mod vllm_recording;

pub use canonical::{CANONICAL_COLUMNS, write_canonical};
pub use columns::{ArrivalUnit, ColumnMapping};
pub use error::{Location, TraceError};
pub use fields::MAX_TOKENS;
pub use format::{Container, TraceFormat};
pub use reader::{ReadOptions, TraceReader, open, open_reader};
pub use request::Request;
pub use stats::{Inspection, Summary, TraceStats, compute_stats, inspect};
pub use transform::{RequestIterExt, merge, sort_by_arrival};
pub use vllm_recording::{
    RecordedRequest, Recording, RecordingMeta, RecordingSample, read_recording,
};
pub mod duration;
pub mod generate;
pub mod metrics;
pub mod observe;
