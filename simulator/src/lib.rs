//! Discrete-event simulator of LLM serving: the serving model of a fleet of vLLM-like
//! replicas, fast enough to replay hour-long traces on thousands of replicas.
//!
//! Code map, read top-down:
//! - [`queue`]: the deterministic event queue, keyed by `(time, phase, seq)`.
//! - [`rng`]: one seeded ChaCha8 stream per component.
//! - [`catalog`]: GPU and model facts (embedded YAML with sources; users add their own).
//! - [`perf`]: roofline step time and KV capacity from those facts.
//! - [`kv`]: a replica's KV block pool with vLLM's free-queue (prefix-cache) order.
//! - [`prefix`]: prefix cache by the trace's block hashes (Mooncake `hash_ids`).
//! - [`replica`]: vLLM v1 scheduling on one replica, decode steps in closed form.
//! - [`sim`]: the event loop over a dense `Vec` of replicas.
//! - [`fleet`]: a fleet under an autoscaler: replica lifecycle, routing, scrapes and
//!   the engine's control loop.
//! - [`metrics`]: per-request outcomes, replica samples, summaries.
//! - [`validate`]: replaying a recorded real vLLM run and comparing.
//! - [`scenario`]: the scenario YAML, checked, and its runs (one per scaler).
//! - [`output`]: the `simulate` output folder (summary, decisions, request and tick tables).
//! - [`open_loop`]: what scalers would have decided on a recorded metric series.
//!
//! Architecture invariants: time is integer microseconds in the queue and integer
//! femtoseconds inside a replica, never read from a clock; randomness only from
//! [`rng::stream`]; no hash-map iteration reaches output. The same inputs give
//! byte-identical outputs.

pub mod catalog;
pub mod fleet;
pub mod kv;
pub mod metrics;
pub mod open_loop;
pub mod oracle;
pub mod output;
pub mod perf;
pub mod prefix;
pub mod queue;
pub mod replica;
pub mod rng;
pub mod routing;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod validate;

pub use catalog::{Catalog, CatalogError, GpuSpec, ModelSpec};
pub use metrics::{ReplicaSample, RequestOutcome, Summary};
pub use perf::StepCostModel;
pub use queue::{EventQueue, Phase, TimeUs};
pub use replica::{Replica, ServingConfig, StepMode};
pub use sim::{Routing, SimConfig, SimOutput, Simulation};
