//! Open-loop replay of a recorded metric series (`trace.mode: open_loop`): what each
//! manifest scaler would have decided, tick by tick, had it watched the real run. There
//! is no serving model: the recording's own pods, with their recorded metrics, are the
//! observation at every tick, whatever the scaler asked for before.
//!
//! Method, per scaler:
//! 1. The series is read whole and its time made relative to its first scrape;
//!    `trace.window` keeps `[from, to)` of that time, rebased to 0.
//! 2. Each distinct `target` is one pod (a series without targets is one pod named
//!    `recording`), Running and Ready from its first scrape until two scrape intervals
//!    after its last.
//! 3. Ticks fall every sync period (`fleet.sync_period`, else the strategy's: KPA 2 s,
//!    HPA and BudScaler 15 s) from one period after the start to the last scrape. At a
//!    tick, every present pod contributes its latest scrape at or before the tick
//!    (older by `fleet.scrape_delay` when set); `traces::observe` turns them into the
//!    engine's `Observation`.
//! 4. `engine::Scaler::decide` runs on it; every decision is kept. The observation's
//!    current replica count is what the scaler last asked for (the recorded pod count
//!    at the first tick), as if each decision had been applied at once: the scaler's
//!    own bookkeeping (HPA rate limits count its past scale-ups, stabilization windows
//!    its past recommendations) then stays consistent, while the pods and their
//!    metrics remain the recorded ones. With the recorded count as current instead, an
//!    HPA would see its scale-up of the previous tick undone and limit itself to no
//!    change, every other tick.
//!
//! The output folder holds `decisions.jsonl` (the format of closed-loop runs) and a
//! `summary.json` of this shape:
//!
//! ```json
//! { "scenario": "name", "seed": 42, "mode": "open_loop", "series": "path",
//!   "scrapes": 300, "recorded_replicas": { "min": 1, "max": 1, "mean": 1.0 },
//!   "runs": [ { "scaler": "hpa", "strategy": "HPA", "decisions": 20,
//!               "scale_events": 2, "peak_replicas": 4, "mean_replicas": 2.1,
//!               "min_replicas": 1, "would_scale": 12,
//!               "reasons": { "DesiredWithinRange": 20 } } ],
//!   "wall_s": 0.0 }
//! ```
//!
//! The CONTRACTS fields that need served requests (`trace_requests`, `requests`,
//! `completed`, latencies, `slo_attainment`, GPU-hours, cost) have no meaning here and
//! are left out. `scale_events` counts changes of the desired count between
//! consecutive decisions (the first compared with the recorded count);
//! `peak_replicas`, `mean_replicas` and `min_replicas` are over the desired counts;
//! `would_scale` counts decisions whose desired count differs from the recorded pod
//! count at that tick.

use crate::fleet::DecisionRecord;
use crate::output::{OutputError, write_decisions};
use crate::scenario::{At, ScalerChoice, Scenario, ScenarioError, TraceSource};
use control::ControlLoop;
use engine::observation::{PodPhase, PodStatus};

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use traces::metrics::prometheus::Scrape;
use traces::metrics::series;
use traces::observe::PodScrape;

const SECOND: i64 = 1_000_000;

/// What one scaler would have decided over the recording.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenLoopRun {
    pub scaler: String,
    pub strategy: String,
    pub decisions: Vec<DecisionRecord>,
    /// The recorded pod count at each decision's tick.
    pub recorded_replicas: Vec<i32>,
}

/// The recorded series, grouped by pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Per pod name, its scrapes `(time_us, scrape)` in time order, time from the
    /// recording (window) start.
    pub pods: BTreeMap<String, Vec<(i64, Scrape)>>,
    pub scrapes: usize,
    /// The time of the last scrape.
    pub end_us: i64,
    /// The median gap between a pod's consecutive scrapes (1 s when unknown).
    pub scrape_interval_us: i64,
}

/// Reads the scenario's series (see the module docs, step 1 and 2).
pub fn read_recording(scenario: &Scenario) -> Result<Recording, ScenarioError> {
    let file = scenario.file_name();
    let TraceSource::Series { path, .. } = &scenario.trace.source else {
        return Err(ScenarioError::invalid(
            At::new(&file, None, "trace"),
            "trace.series for an open-loop replay",
            "another trace source",
        ));
    };
    let at = || At::new(&file, None, "trace.series");
    let points = series::read_all(path).map_err(|error| ScenarioError::at(at(), error))?;
    let Some(origin) = points.iter().map(|p| p.t_us).min() else {
        return Err(ScenarioError::invalid(
            at(),
            "a series with at least one scrape",
            "none",
        ));
    };
    let (from, to) = scenario.trace.window.unwrap_or((0, i64::MAX));
    let mut pods: BTreeMap<String, Vec<(i64, Scrape)>> = BTreeMap::new();
    let mut scrapes = 0;
    for point in points {
        let relative = point.t_us - origin;
        if relative < from || relative >= to {
            continue;
        }
        let name = point.target.unwrap_or_else(|| "recording".to_string());
        pods.entry(name)
            .or_default()
            .push((relative - from, point.scrape));
        scrapes += 1;
    }
    if scrapes == 0 {
        return Err(ScenarioError::invalid(
            At::new(&file, None, "trace.window"),
            "a window holding at least one scrape",
            "none",
        ));
    }
    let mut gaps = Vec::new();
    for samples in pods.values_mut() {
        samples.sort_by_key(|(t, _)| *t);
        gaps.extend(
            samples
                .windows(2)
                .map(|w| w[1].0 - w[0].0)
                .filter(|g| *g > 0),
        );
    }
    gaps.sort_unstable();
    let end_us = pods
        .values()
        .filter_map(|s| s.last().map(|(t, _)| *t))
        .max()
        .unwrap_or(0);
    Ok(Recording {
        pods,
        scrapes,
        end_us,
        scrape_interval_us: gaps.get(gaps.len() / 2).copied().unwrap_or(SECOND),
    })
}

/// Replays the recording to every scaler of `scenario`, in scaler order.
pub fn run(scenario: &Scenario, recording: &Recording) -> Result<Vec<OpenLoopRun>, ScenarioError> {
    scenario
        .scalers
        .iter()
        .enumerate()
        .map(|(index, choice)| run_one(scenario, recording, index, choice))
        .collect()
}

fn run_one(
    scenario: &Scenario,
    recording: &Recording,
    index: usize,
    choice: &ScalerChoice,
) -> Result<OpenLoopRun, ScenarioError> {
    let at = || At::new(scenario.file_name(), None, format!("scalers[{index}]"));
    let ScalerChoice::Manifest { name, manifest, .. } = choice else {
        return Err(ScenarioError::invalid(
            at(),
            "a manifest scaler (open_loop has no serving model for static or oracle)",
            choice.name(),
        ));
    };
    // The control loop the fleet and the operator run: the sync period is the fleet's
    // or the strategy's, the rate window the fleet's scrape interval or the recording's.
    let mut control = ControlLoop::new(
        name.clone(),
        manifest,
        control::timing::Configured {
            sync_us: scenario.fleet.sync_period_us,
            scrape_us: Some(
                scenario
                    .fleet
                    .scrape_interval_us
                    .unwrap_or(recording.scrape_interval_us),
            ),
        },
        scenario.fleet.start_unix_us,
    )
    .map_err(|error| ScenarioError::at(at(), error))?;
    let strategy = control.scaler.spec().strategy;
    let tick_us = control.sync_us;
    let statuses: BTreeMap<&str, PodStatus> = recording
        .pods
        .iter()
        .map(|(pod, samples)| {
            let first = samples.first().map_or(0, |(t, _)| *t);
            (pod.as_str(), pod_status(pod, first))
        })
        .collect();
    let delay = scenario.fleet.scrape_delay_us;
    let mut decisions = Vec::new();
    let mut recorded_replicas = Vec::new();
    let mut current: Option<i32> = None;
    let mut tick = tick_us;
    while tick <= recording.end_us {
        let seen = tick - delay;
        let mut pods = Vec::with_capacity(recording.pods.len());
        for (pod, samples) in &recording.pods {
            let last_us = samples.last().map_or(0, |(t, _)| *t);
            let upto = samples.partition_point(|(t, _)| *t <= seen);
            // A pod that stopped reporting for two scrape intervals is gone.
            if upto == 0 || seen > last_us + 2 * recording.scrape_interval_us {
                continue;
            }
            let (scraped_at, scrape) = &samples[upto - 1];
            pods.push(PodScrape {
                status: &statuses[pod.as_str()],
                engine: Some(scrape),
                gpu: Some(scrape),
                scraped_at: *scraped_at,
            });
        }
        let recorded = i32::try_from(pods.len()).unwrap_or(i32::MAX);
        let (record, _) = control.tick(tick, *current.get_or_insert(recorded), &pods);
        current = Some(record.decision.desired_replicas.max(0));
        decisions.push(record);
        recorded_replicas.push(recorded);
        tick += tick_us;
    }
    Ok(OpenLoopRun {
        scaler: name.clone(),
        strategy: strategy.as_str().to_string(),
        decisions,
        recorded_replicas,
    })
}

fn pod_status(name: &str, first_scrape_us: i64) -> PodStatus {
    PodStatus {
        name: name.to_string(),
        phase: PodPhase::Running,
        ready: true,
        start_time: Some(first_scrape_us),
        ready_transition_time: Some(first_scrape_us),
        deleting: false,
        creation_time: None,
        spot: false,
    }
}

/// The open-loop `summary.json` (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenLoopSummary {
    pub scenario: String,
    pub seed: u64,
    pub mode: &'static str,
    pub series: String,
    pub scrapes: u64,
    pub recorded_replicas: ReplicaRange,
    pub runs: Vec<OpenLoopRunSummary>,
    pub wall_s: f64,
}

/// Smallest, largest and mean replica count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReplicaRange {
    pub min: i32,
    pub max: i32,
    pub mean: f64,
}

/// One scaler of an open-loop replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenLoopRunSummary {
    pub scaler: String,
    pub strategy: String,
    pub decisions: u64,
    pub scale_events: u32,
    pub peak_replicas: i32,
    pub mean_replicas: f64,
    pub min_replicas: i32,
    pub would_scale: u64,
    /// Decisions per reason, by name.
    pub reasons: BTreeMap<&'static str, u64>,
}

impl OpenLoopSummary {
    /// The summary of `runs` over `recording`; `wall_s` is measured by the caller.
    pub fn of(
        scenario: &Scenario,
        recording: &Recording,
        runs: &[OpenLoopRun],
        wall_s: f64,
    ) -> OpenLoopSummary {
        let series = match &scenario.trace.source {
            TraceSource::Series { path, .. } => path.display().to_string(),
            _ => String::new(),
        };
        let recorded: Vec<i32> = runs
            .first()
            .map(|run| run.recorded_replicas.clone())
            .unwrap_or_default();
        OpenLoopSummary {
            scenario: scenario.name.clone(),
            seed: scenario.seed,
            mode: "open_loop",
            series,
            scrapes: recording.scrapes as u64,
            recorded_replicas: range(&recorded),
            runs: runs.iter().map(OpenLoopRunSummary::of).collect(),
            wall_s,
        }
    }
}

fn range(values: &[i32]) -> ReplicaRange {
    ReplicaRange {
        min: values.iter().copied().min().unwrap_or(0),
        max: values.iter().copied().max().unwrap_or(0),
        mean: if values.is_empty() {
            0.0
        } else {
            values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64
        },
    }
}

impl OpenLoopRunSummary {
    pub fn of(run: &OpenLoopRun) -> OpenLoopRunSummary {
        let desired: Vec<i32> = run
            .decisions
            .iter()
            .map(|d| d.decision.desired_replicas)
            .collect();
        let mut previous = run.decisions.first().map(|d| d.decision.current_replicas);
        let mut scale_events = 0;
        for &count in &desired {
            if previous.is_some_and(|p| p != count) {
                scale_events += 1;
            }
            previous = Some(count);
        }
        let mut reasons = BTreeMap::new();
        for record in &run.decisions {
            *reasons.entry(record.decision.reason.as_str()).or_insert(0) += 1;
        }
        let spread = range(&desired);
        OpenLoopRunSummary {
            scaler: run.scaler.clone(),
            strategy: run.strategy.clone(),
            decisions: run.decisions.len() as u64,
            scale_events,
            peak_replicas: spread.max,
            mean_replicas: spread.mean,
            min_replicas: spread.min,
            would_scale: run
                .decisions
                .iter()
                .zip(&run.recorded_replicas)
                .filter(|(d, recorded)| d.decision.desired_replicas != **recorded)
                .count() as u64,
            reasons,
        }
    }
}

/// Writes `summary.json` and `decisions.jsonl` of an open-loop replay into `dir`
/// (created if missing); returns the files written.
pub fn write_folder(
    dir: &Path,
    summary: &OpenLoopSummary,
    runs: &[OpenLoopRun],
) -> Result<Vec<PathBuf>, OutputError> {
    let failed = |path: &Path, error: std::io::Error| OutputError {
        path: path.display().to_string(),
        message: error.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    let summary_path = dir.join("summary.json");
    let mut text = serde_json::to_string_pretty(summary).map_err(|e| OutputError {
        path: summary_path.display().to_string(),
        message: e.to_string(),
    })?;
    text.push('\n');
    std::fs::write(&summary_path, text).map_err(|e| failed(&summary_path, e))?;
    let decisions_path = dir.join("decisions.jsonl");
    let mut out = Vec::new();
    write_decisions(&mut out, runs.iter().flat_map(|r| r.decisions.iter()))
        .map_err(|e| failed(&decisions_path, e))?;
    std::fs::write(&decisions_path, out).map_err(|e| failed(&decisions_path, e))?;
    Ok(vec![summary_path, decisions_path])
}
