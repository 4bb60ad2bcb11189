//! Request traces and metric series: reading, writing, generating, inspecting.

pub mod request;
pub mod error;
mod fields;
pub mod vllm_recording;
pub mod datetime;
pub mod format;
pub mod columns;
mod source;
mod formats;
pub mod reader;
pub mod canonical;
pub mod stats;
pub mod transform;
#[cfg(feature = "parquet")]
mod parquet;

pub use canonical::{CANONICAL_COLUMNS, write_canonical};
pub use columns::{ArrivalUnit, ColumnMapping};
pub use error::{Location, TraceError};
pub use fields::MAX_TOKENS;
pub use format::{Container, TraceFormat};
pub use reader::{ReadOptions, TraceReader, open, open_reader};
pub use request::Request;
pub use stats::{Inspection, Summary, TraceStats, compute_stats, inspect};
pub use transform::{RequestIterExt, merge, sort_by_arrival};
pub use vllm_recording::{Recording, RecordedRequest, RecordingMeta, RecordingSample, read_recording};
pub mod metrics;
pub mod observe;
pub mod generate;
pub mod duration;
