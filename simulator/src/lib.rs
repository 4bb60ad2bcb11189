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
//! - [`metrics`]: per-request outcomes, replica samples, summaries.
//! - [`validate`]: replaying a recorded real vLLM run and comparing.
//!
//! Architecture invariants: time is integer microseconds in the queue and integer
//! femtoseconds inside a replica, never read from a clock; randomness only from
//! [`rng::stream`]; no hash-map iteration reaches output. The same inputs give
//! byte-identical outputs.

pub mod catalog;
pub mod kv;
pub mod metrics;
pub mod perf;
pub mod prefix;
pub mod queue;
pub mod replica;
pub mod rng;
pub mod sim;
pub mod validate;

pub use catalog::{Catalog, CatalogError, GpuSpec, ModelSpec};
pub use metrics::{ReplicaSample, RequestOutcome, Summary};
pub use perf::StepCostModel;
pub use queue::{EventQueue, Phase, TimeUs};
pub use replica::{EngineConfig, Replica, StepMode};
pub use sim::{Routing, SimConfig, SimOutput, Simulation};
