//! `decisions.jsonl`: the shape lives with the control loop both drivers share
//! (`control::record`); re-exported here beside the other output files.

pub use control::record::{DecisionLine, write_decisions};
