//! The text tables the CLI prints, one place for all of them: the runs of a
//! `simulate`/`compare` folder and the scalers of an open-loop replay. Columns widen
//! to the longest scaler name; numbers keep fixed decimals so tables diff cleanly.

use simulator::open_loop::OpenLoopSummary;
use simulator::output::Summary;
use std::fmt::Write;

/// The comparison table of `summary`'s runs, with a header line naming the scenario
/// and its SLO, and each run's note (the oracle's) beneath it.
pub fn runs_table(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} requests, SLO TTFT <= {} s, TPOT <= {} s",
        summary.scenario, summary.trace_requests, summary.slo.ttft_s, summary.slo.tpot_s
    );
    let name = name_width(summary.runs.iter().map(|r| r.scaler.as_str()));
    let _ = writeln!(
        out,
        "{:<name$} {:<10} {:>9} {:>10} {:>10} {:>9} {:>10} {:>8} {:>6}",
        "scaler",
        "strategy",
        "SLO att.",
        "p90 TTFT s",
        "p90 TPOT s",
        "GPU-h",
        "cost $",
        "x oracle",
        "scales"
    );
    for run in &summary.runs {
        let latency = |l: Option<simulator::output::Latency>| {
            l.map_or_else(|| "-".to_string(), |l| format!("{:.3}", l.p90))
        };
        let ratio = run
            .gpu_hours_vs_oracle
            .map_or_else(|| "-".to_string(), |r| format!("{r:.2}x"));
        let _ = writeln!(
            out,
            "{:<name$} {:<10} {:>8.2}% {:>10} {:>10} {:>9.2} {:>10.2} {:>8} {:>6}",
            run.scaler,
            run.strategy,
            100.0 * run.slo_attainment,
            latency(run.ttft_s),
            latency(run.tpot_s),
            run.gpu_hours,
            run.cost_usd,
            ratio,
            run.scale_events
        );
        if let Some(note) = &run.note {
            let _ = writeln!(out, "  note: {note}");
        }
    }
    out
}

/// The table of an open-loop replay: what each scaler would have decided.
pub fn open_loop_table(summary: &OpenLoopSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: open loop on {} ({} scrapes, {}-{} replicas recorded)",
        summary.scenario,
        summary.series,
        summary.scrapes,
        summary.recorded_replicas.min,
        summary.recorded_replicas.max
    );
    let name = name_width(summary.runs.iter().map(|r| r.scaler.as_str()));
    let _ = writeln!(
        out,
        "{:<name$} {:<10} {:>9} {:>12} {:>6} {:>6} {:>11}",
        "scaler", "strategy", "decisions", "scale events", "peak", "mean", "would scale"
    );
    for run in &summary.runs {
        let _ = writeln!(
            out,
            "{:<name$} {:<10} {:>9} {:>12} {:>6} {:>6.2} {:>11}",
            run.scaler,
            run.strategy,
            run.decisions,
            run.scale_events,
            run.peak_replicas,
            run.mean_replicas,
            run.would_scale
        );
    }
    out
}

fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(|n| n.chars().count()).max().unwrap_or(0).max(16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use simulator::fleet::Slo;
    use simulator::output::{Failed, Latency, RunSummary};

    fn run(scaler: &str, strategy: &str, attainment: f64, gpu_hours: f64) -> RunSummary {
        let latency = Latency {
            mean: 0.1,
            p50: 0.05,
            p90: 0.25,
            p99: 1.5,
        };
        RunSummary {
            scaler: scaler.into(),
            strategy: strategy.into(),
            requests: 100,
            completed: 100,
            slo_attainment: attainment,
            ttft_s: Some(latency),
            tpot_s: None,
            e2e_s: Some(latency),
            gpu_hours,
            cost_usd: gpu_hours * 4.0,
            scale_events: 3,
            peak_replicas: 4,
            mean_replicas: 2.5,
            gpu_hours_vs_oracle: Some(gpu_hours / 2.0),
            failed: Failed::default(),
            decisions: 240,
            note: None,
        }
    }

    /// Snapshot: the table as printed.
    #[test]
    fn the_runs_table_reads_as_printed() {
        let mut oracle = run("oracle", "Oracle", 0.995, 2.0);
        oracle.note = Some("plan note".into());
        let summary = Summary {
            scenario: "demo".into(),
            seed: 1,
            trace_requests: 100,
            runs: vec![
                run("budscaler-with-a-long-name", "BudScaler", 0.99871, 2.45),
                oracle,
            ],
            wall_s: 0.5,
            slo: Slo {
                ttft_s: 2.0,
                tpot_s: 0.1,
            },
        };
        let expected = "\
demo: 100 requests, SLO TTFT <= 2 s, TPOT <= 0.1 s
scaler                     strategy    SLO att. p90 TTFT s p90 TPOT s     GPU-h     cost $ x oracle scales
budscaler-with-a-long-name BudScaler     99.87%      0.250          -      2.45       9.80    1.23x      3
oracle                     Oracle        99.50%      0.250          -      2.00       8.00    1.00x      3
  note: plan note
";
        assert_eq!(runs_table(&summary), expected);
    }
}
