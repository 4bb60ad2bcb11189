//! Metric series: what model servers and GPUs export, read back for replay and calibration.
//!
//! The pieces build on each other: [`prometheus`] parses one scrape, [`series`] reads
//! many timestamped scrapes, [`signals`] finds engine-independent signals (queue, KV use,
//! ...) in a scrape, [`dcgm`] reads GPU exporter scrapes and [`demand`] turns a recorded
//! series back into an arrival process.

pub mod dcgm;
pub mod demand;
pub mod metrics_api;
pub mod prometheus;
pub mod resource_usage;
pub mod series;
pub mod signals;
pub mod window;
pub mod workload_value;
