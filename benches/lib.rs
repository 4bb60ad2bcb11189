//! Criterion benches live in `benches/`; run them with `cargo bench -p budscaler-benches`.
//! This library is empty on purpose: the package exists to hold the bench targets.
