//! Fidelity against a real vLLM run: the RTX 4090 / Llama-3.1-8B recording in
//! `../shared/data` (skipped with a message when that folder is absent). Nothing is
//! fitted per recording: the catalog's physical numbers (the 4090's compute efficiency
//! from its operator profile) and the recorded engine arguments only.

use simulator::Catalog;
use simulator::validate::{ValidateOptions, ValidationReport, validate};
use std::path::PathBuf;
use traces::vllm_recording::Recording;

fn recording() -> Option<Recording> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/vllm-recordings/rtx4090-llama-3.1-8b");
    if !dir.join("requests.jsonl").exists() {
        eprintln!(
            "SKIP: {} not found; the fidelity test needs the shared recording",
            dir.display()
        );
        return None;
    }
    Some(traces::vllm_recording::read_recording(&dir).expect("the shared recording reads"))
}

fn replay(recording: &Recording, options: &ValidateOptions) -> ValidationReport {
    validate(
        recording,
        "rtx4090-llama-3.1-8b",
        &Catalog::builtin(),
        options,
    )
    .expect("replays")
    .0
}

fn print(report: &ValidationReport) {
    for (name, comparison) in report.metrics.entries() {
        eprintln!(
            "{name:<12} real {:>9.4} sim {:>9.4} error {:>+6.1} %",
            comparison.real, comparison.sim, comparison.error_pct
        );
    }
    eprintln!("{:?}", report.timeseries);
}

#[test]
fn replay_with_recorded_kv_blocks_is_within_5_percent() {
    let Some(recording) = recording() else { return };
    let report = replay(&recording, &ValidateOptions::default());
    print(&report);
    assert_eq!(report.setup.kv_blocks_source, "recorded");
    for (name, comparison) in report.metrics.entries() {
        assert!(comparison.error_pct.abs() <= 5.0, "{name}: {comparison:?}");
    }
    assert!(
        report.timeseries.running_mae <= 5.0,
        "{:?}",
        report.timeseries
    );
    assert!(
        report.timeseries.waiting_mae <= 10.0,
        "{:?}",
        report.timeseries
    );
    assert!(
        report.timeseries.kv_cache_pct_mae <= 6.0,
        "{:?}",
        report.timeseries
    );
}

#[test]
fn replay_with_estimated_kv_blocks_is_within_10_percent() {
    let Some(recording) = recording() else { return };
    let report = replay(
        &recording,
        &ValidateOptions {
            estimate_kv_blocks: true,
            ..ValidateOptions::default()
        },
    );
    print(&report);
    assert_eq!(report.setup.kv_blocks_source, "estimated");
    for (name, comparison) in report.metrics.entries() {
        assert!(comparison.error_pct.abs() <= 10.0, "{name}: {comparison:?}");
    }
}

#[test]
fn reference_mode_replays_the_recording_identically() {
    let Some(recording) = recording() else { return };
    let fast = replay(&recording, &ValidateOptions::default());
    let reference = replay(
        &recording,
        &ValidateOptions {
            reference_mode: true,
            ..ValidateOptions::default()
        },
    );
    assert_eq!(fast.metrics, reference.metrics);
    assert_eq!(fast.timeseries, reference.timeseries);
    assert!(fast.setup.sim_events * 3 < reference.setup.sim_events);
}

/// Data parallelism: two ranks replay the overloaded run as two replicas behind the
/// least-outstanding balancer; the queue it built on one rank mostly goes, so TTFT
/// falls far below the recorded one (a check that the ranks serve, not a fidelity
/// claim: the recording ran on one rank).
#[test]
fn two_data_parallel_ranks_share_the_load() {
    let Some(recording) = recording() else { return };
    let one = replay(&recording, &ValidateOptions::default());
    let two = replay(
        &recording,
        &ValidateOptions {
            data_parallel: Some(2),
            ..ValidateOptions::default()
        },
    );
    assert_eq!((one.setup.data_parallel, two.setup.data_parallel), (1, 2));
    assert!(
        two.metrics.ttft_mean_s.sim < 0.5 * one.metrics.ttft_mean_s.sim,
        "{:?} vs {:?}",
        two.metrics.ttft_mean_s,
        one.metrics.ttft_mean_s
    );
}

/// A recording of two data-parallel ranks: vLLM's front end records the sum of the
/// ranks' KV blocks, so each replayed rank gets half (here the shared run relabelled
/// as two ranks with twice its blocks: each rank gets the recorded 2,588).
#[test]
fn a_data_parallel_recording_splits_its_recorded_blocks_between_ranks() {
    let Some(mut recording) = recording() else {
        return;
    };
    recording.meta.data_parallel = 2;
    recording.meta.num_gpu_blocks = Some(2 * 2_588);
    let report = replay(&recording, &ValidateOptions::default());
    assert_eq!(
        (report.setup.data_parallel, report.setup.kv_blocks),
        (2, 2_588)
    );
    assert!(!report.setup.expert_parallel);
}
