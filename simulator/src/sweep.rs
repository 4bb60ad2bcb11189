//! `budscaler sweep`: a grid over one scaler's spec fields (the scenario's `sweep:`
//! key), run point by point beside the scenario's other scalers, which run once as
//! references.
//!
//! - **Points.** The grid's paths are spelled as validation errors spell them
//!   (`spec.metricsSources[0].targetValue`); paths are taken in sorted order and the
//!   points are their cartesian product, the last path varying fastest. Point `i`'s
//!   scaler is named `<scaler>-<i>`. Every point is built and validated before anything
//!   runs; a bad path or value names the point and the path.
//! - **Shards.** `--shard I/N` runs the points whose index is `I` modulo `N` (and the
//!   references in shard 0 only), so `N` machines share a grid with no coordination.
//! - **Results.** Each run writes `sweep.json` (the scenario's fingerprint, the grid, its
//!   shard and one row per run with the full run summary); [`merge`] joins shards,
//!   refusing shards of different scenarios, grids or seeds, duplicates and gaps. An
//!   unsharded run goes through the same merge as a one-shard one, so shard + merge =
//!   unsharded, byte for byte.
//! - **Verdict.** A point is on the Pareto front when no other point has at most its
//!   GPU-hours and at least its SLO attainment, one of them strictly. The recommended
//!   point ([`RULE`]): the fewest GPU-hours among points reaching the attainment target
//!   (99 %), else the highest attainment (then the fewest GPU-hours).

use crate::output::RunSummary;
use crate::output::table::{Column, Table, Values};
use crate::scenario::{At, ScalerChoice, Scenario, ScenarioError};
use engine::spec::BudAIScaler;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The attainment a recommended point must reach.
pub const TARGET_ATTAINMENT: f64 = 0.99;

/// How the recommended point is chosen, in words (shown with the chart and table).
pub const RULE: &str = "the fewest GPU-hours among points with SLO attainment >= 99%; if none reaches it, the highest attainment (ties: fewer GPU-hours)";

/// `sweep.json`'s layout version.
pub const VERSION: u32 = 1;

/// The scenario's `sweep:` key, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// The swept scaler's manifest name.
    pub scaler: String,
    /// Paths (sorted) and their values, as written.
    pub grid: Vec<(String, Vec<Value>)>,
    /// The `sweep:` key's line in the scenario file.
    pub line: Option<u64>,
}

/// One grid point: its index, its value per path and the manifest it makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub index: usize,
    pub values: Vec<Value>,
    pub manifest: BudAIScaler,
}

/// `I/N`: this run's slice of the points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole grid.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` with `0 <= I < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("--shard: expected I/N (e.g. 0/4), found {text:?}"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("--shard: I must be a whole number, found {i:?}"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("--shard: N must be a whole number, found {n:?}"))?;
        if count == 0 || index >= count {
            return Err(format!(
                "--shard: expected 0 <= I < N, found {index}/{count}"
            ));
        }
        Ok(Shard { index, count })
    }

    pub fn contains(self, point: usize) -> bool {
        point % self.count as usize == self.index as usize
    }
}

/// Every point of `scenario`'s sweep, built and validated.
pub fn points(scenario: &Scenario) -> Result<Vec<Point>, ScenarioError> {
    let sweep = require(scenario)?;
    let at = |field: String| At::new(scenario.file_name(), sweep.line, field);
    let base = scenario
        .scalers
        .iter()
        .find_map(|choice| match choice {
            ScalerChoice::Manifest { name, manifest, .. } if *name == sweep.scaler => {
                Some(manifest.as_ref().clone())
            }
            _ => None,
        })
        .ok_or_else(|| ScenarioError::At {
            at: at("sweep.scaler".into()),
            message: format!(
                "no scalers[] manifest is named {:?} (names: {})",
                sweep.scaler,
                scenario
                    .scalers
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    if sweep.grid.is_empty() {
        return Err(ScenarioError::At {
            at: at("sweep.grid".into()),
            message: "expected at least one path with values".into(),
        });
    }
    for (path, values) in &sweep.grid {
        if values.is_empty() {
            return Err(ScenarioError::At {
                at: at(format!("sweep.grid.{path}")),
                message: "expected at least one value".into(),
            });
        }
    }
    let base_value = serde_json::to_value(&base).map_err(|e| ScenarioError::At {
        at: at("sweep.scaler".into()),
        message: e.to_string(),
    })?;
    let total: usize = sweep.grid.iter().map(|(_, v)| v.len()).product();
    let mut points = Vec::with_capacity(total);
    for index in 0..total {
        let mut rest = index;
        let mut values = vec![Value::Null; sweep.grid.len()];
        for (slot, (_, choices)) in sweep.grid.iter().enumerate().rev() {
            values[slot] = choices[rest % choices.len()].clone();
            rest /= choices.len();
        }
        let mut manifest = base_value.clone();
        for ((path, _), value) in sweep.grid.iter().zip(&values) {
            set_path(&mut manifest, path, value.clone()).map_err(|message| ScenarioError::At {
                at: at(format!("sweep.grid.{path}")),
                message: format!(
                    "point {index} ({}): {message}",
                    describe(&sweep.grid, &values)
                ),
            })?;
        }
        set_path(
            &mut manifest,
            "metadata.name",
            Value::String(format!("{}-{index}", sweep.scaler)),
        )
        .map_err(|message| ScenarioError::At {
            at: at("sweep.scaler".into()),
            message,
        })?;
        let invalid = |message: String| ScenarioError::At {
            at: at("sweep.grid".into()),
            message: format!(
                "point {index} ({}): {message}",
                describe(&sweep.grid, &values)
            ),
        };
        let manifest: BudAIScaler =
            serde_json::from_value(manifest).map_err(|e| invalid(e.to_string()))?;
        engine::Scaler::new(&manifest).map_err(|e| invalid(e.to_string()))?;
        points.push(Point {
            index,
            values,
            manifest,
        });
    }
    Ok(points)
}

fn require(scenario: &Scenario) -> Result<&Sweep, ScenarioError> {
    scenario.sweep.as_ref().ok_or_else(|| ScenarioError::At {
        at: At::new(scenario.file_name(), None, "sweep"),
        message: "the scenario has no sweep: key (see the README, \"Sweeps\")".into(),
    })
}

/// `path=value, …` of one point.
fn describe(grid: &[(String, Vec<Value>)], values: &[Value]) -> String {
    grid.iter()
        .zip(values)
        .map(|((path, _), value)| format!("{path}={value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sets `path` (`a.b[2].c`) in `root`, creating missing objects on the way; an array
/// index must exist.
pub fn set_path(root: &mut Value, path: &str, new: Value) -> Result<(), String> {
    let mut steps: Vec<Step> = Vec::new();
    for part in path.split('.') {
        let (name, indexes) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if name.is_empty() {
            return Err(format!("{path:?}: empty field name"));
        }
        steps.push(Step::Field(name.to_string()));
        let mut rest = indexes;
        while let Some(open) = rest.strip_prefix('[') {
            let close = open
                .find(']')
                .ok_or_else(|| format!("{path:?}: unclosed ["))?;
            let index: usize = open[..close]
                .parse()
                .map_err(|_| format!("{path:?}: {:?} is not an index", &open[..close]))?;
            steps.push(Step::Index(index));
            rest = &open[close + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("{path:?}: unexpected {rest:?}"));
        }
    }
    let mut node = root;
    for (position, step) in steps.iter().enumerate() {
        let last = position + 1 == steps.len();
        node = match step {
            Step::Field(name) => {
                if node.is_null() {
                    *node = Value::Object(serde_json::Map::new());
                }
                let Value::Object(map) = node else {
                    return Err(format!("{path:?}: {name} is not inside an object"));
                };
                if last {
                    map.insert(name.clone(), new);
                    return Ok(());
                }
                map.entry(name.clone()).or_insert(Value::Null)
            }
            Step::Index(index) => {
                let Value::Array(items) = node else {
                    return Err(format!("{path:?}: [{index}] is not inside a list"));
                };
                let length = items.len();
                let item = items.get_mut(*index).ok_or_else(|| {
                    format!("{path:?}: index {index} is out of range (the list has {length})")
                })?;
                if last {
                    *item = new;
                    return Ok(());
                }
                item
            }
        };
    }
    Err(format!("{path:?}: empty path"))
}

enum Step {
    Field(String),
    Index(usize),
}

/// The scenario one shard runs: the references (shard 0 only), then its points.
pub fn shard_scenario(
    scenario: &Scenario,
    points: &[Point],
    shard: Shard,
) -> Result<Scenario, ScenarioError> {
    let sweep = require(scenario)?;
    let mut scalers: Vec<ScalerChoice> = if shard.index == 0 {
        scenario
            .scalers
            .iter()
            .filter(|c| c.name() != sweep.scaler)
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let origin = format!("sweep of {}", sweep.scaler);
    scalers.extend(points.iter().filter(|p| shard.contains(p.index)).map(|p| {
        ScalerChoice::Manifest {
            name: format!("{}-{}", sweep.scaler, p.index),
            origin: origin.clone(),
            manifest: Box::new(p.manifest.clone()),
            imported: None,
        }
    }));
    let mut shard_scenario = scenario.clone();
    shard_scenario.scalers = scalers;
    Ok(shard_scenario)
}

/// One run of a sweep: a point (`point` set, one value per path) or a reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub point: Option<usize>,
    pub values: Vec<Value>,
    pub run: RunSummary,
}

/// `sweep.json`: what a shard ran and got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepFile {
    pub version: u32,
    pub scenario: String,
    pub seed: u64,
    /// FNV-1a of the scenario file's bytes, the seed and the grid: shards merge only
    /// with shards of the same one.
    pub fingerprint: String,
    pub scaler: String,
    pub paths: Vec<String>,
    pub points: usize,
    pub shard: Shard,
    /// References first (scenario order), then points by index.
    pub rows: Vec<Row>,
}

/// The fingerprint of a scenario's sweep.
pub fn fingerprint(scenario_text: &[u8], seed: u64, sweep: &Sweep) -> String {
    let grid = serde_json::to_string(&sweep.grid).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in scenario_text
        .iter()
        .chain(&seed.to_le_bytes())
        .chain(grid.as_bytes())
    {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Writes `DIR/sweep.json` (pretty, newline-terminated).
pub fn write_json(
    dir: &std::path::Path,
    file: &SweepFile,
) -> Result<std::path::PathBuf, crate::output::OutputError> {
    let path = dir.join("sweep.json");
    let mut text = serde_json::to_string_pretty(file).map_err(|e| crate::output::OutputError {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| crate::output::OutputError {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(path)
}

/// Reads `DIR/sweep.json`; errors name the file.
pub fn read_json(dir: &std::path::Path) -> Result<SweepFile, MergeError> {
    let path = dir.join("sweep.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| MergeError(format!("cannot read {}: {e}", path.display())))?;
    let file: SweepFile =
        serde_json::from_str(&text).map_err(|e| MergeError(format!("{}: {e}", path.display())))?;
    if file.version != VERSION {
        return Err(MergeError(format!(
            "{}: version {} (this build reads {VERSION})",
            path.display(),
            file.version
        )));
    }
    Ok(file)
}

/// A merge that cannot be made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MergeError(pub String);

/// Joins shards into the whole sweep (a one-shard file merges into itself).
pub fn merge(mut shards: Vec<(String, SweepFile)>) -> Result<SweepFile, MergeError> {
    let Some((first_name, first)) = shards.first().cloned() else {
        return Err(MergeError("no shards given".into()));
    };
    let count = first.shard.count;
    for (name, shard) in &shards {
        let differs = |what: &str| {
            MergeError(format!(
                "{name} is from a different {what} than {first_name}: refusing to merge"
            ))
        };
        if shard.version != first.version {
            return Err(differs("sweep.json version"));
        }
        if shard.scenario != first.scenario || shard.fingerprint != first.fingerprint {
            return Err(differs("scenario (or scenario file, or grid)"));
        }
        if shard.seed != first.seed {
            return Err(differs("seed"));
        }
        if shard.paths != first.paths
            || shard.points != first.points
            || shard.scaler != first.scaler
        {
            return Err(differs("grid"));
        }
        if shard.shard.count != count {
            return Err(differs("shard count"));
        }
    }
    shards.sort_by_key(|(_, s)| s.shard.index);
    for (expected, (name, shard)) in shards.iter().enumerate() {
        if shard.shard.index as usize != expected {
            return Err(MergeError(format!(
                "expected shards 0..{count} once each; {name} is shard {}/{count} (shard {expected} is missing or given twice)",
                shard.shard.index
            )));
        }
    }
    if shards.len() != count as usize {
        return Err(MergeError(format!(
            "expected {count} shards, found {}",
            shards.len()
        )));
    }
    let mut references = Vec::new();
    let mut points = Vec::new();
    for (_, shard) in shards {
        for row in shard.rows {
            match row.point {
                None => references.push(row),
                Some(_) => points.push(row),
            }
        }
    }
    points.sort_by_key(|row| row.point);
    references.extend(points);
    // × oracle over every row: the oracle ran in shard 0 only.
    let oracle = references
        .iter()
        .find(|row| row.run.strategy == crate::oracle::STRATEGY)
        .map(|row| row.run.gpu_hours)
        .filter(|&gpu_hours| gpu_hours > 0.0);
    for row in &mut references {
        row.run.gpu_hours_vs_oracle = oracle.map(|o| row.run.gpu_hours / o);
    }
    Ok(SweepFile {
        shard: Shard::ALL,
        rows: references,
        ..first
    })
}

/// Which points are on the Pareto front, and the recommended one (see the module).
pub fn verdict(rows: &[Row]) -> (Vec<bool>, Option<usize>) {
    let is_point = |row: &Row| row.point.is_some();
    let pareto: Vec<bool> = rows
        .iter()
        .map(|row| {
            is_point(row)
                && !rows.iter().any(|other| {
                    is_point(other)
                        && other.run.gpu_hours <= row.run.gpu_hours
                        && other.run.slo_attainment >= row.run.slo_attainment
                        && (other.run.gpu_hours < row.run.gpu_hours
                            || other.run.slo_attainment > row.run.slo_attainment)
                })
        })
        .collect();
    let candidates = rows.iter().enumerate().filter(|(_, row)| is_point(row));
    let meeting = candidates
        .clone()
        .filter(|(_, row)| row.run.slo_attainment >= TARGET_ATTAINMENT)
        .min_by(|a, b| a.1.run.gpu_hours.total_cmp(&b.1.run.gpu_hours))
        .map(|(i, _)| i);
    let recommended = meeting.or_else(|| {
        candidates
            .max_by(|a, b| {
                a.1.run
                    .slo_attainment
                    .total_cmp(&b.1.run.slo_attainment)
                    .then(b.1.run.gpu_hours.total_cmp(&a.1.run.gpu_hours))
            })
            .map(|(i, _)| i)
    });
    (pareto, recommended)
}

/// `sweep.parquet`: one row per run, one column per path (the value as written, JSON),
/// the summary's figures, `pareto` and `recommended`.
pub fn table(file: &SweepFile) -> Table {
    let (pareto, recommended) = verdict(&file.rows);
    let rows = &file.rows;
    let f = |get: fn(&RunSummary) -> Option<f64>| {
        Values::F64(rows.iter().map(|r| get(&r.run)).collect())
    };
    let mut columns = vec![
        Column::new(
            "scaler",
            Values::Str(rows.iter().map(|r| r.run.scaler.clone()).collect()),
        ),
        Column::new(
            "strategy",
            Values::Str(rows.iter().map(|r| r.run.strategy.clone()).collect()),
        ),
        Column::new(
            "point",
            Values::I64(rows.iter().map(|r| r.point.map(|p| p as i64)).collect()),
        ),
    ];
    for (slot, path) in file.paths.iter().enumerate() {
        columns.push(Column::new(
            path.clone(),
            Values::Str(
                rows.iter()
                    .map(|r| {
                        r.values
                            .get(slot)
                            .map_or_else(String::new, Value::to_string)
                    })
                    .collect(),
            ),
        ));
    }
    columns.extend([
        Column::new("requests", f(|r| Some(r.requests as f64))),
        Column::new("completed", f(|r| Some(r.completed as f64))),
        Column::new("slo_attainment", f(|r| Some(r.slo_attainment))),
        Column::new("ttft_p50_s", f(|r| r.ttft_s.map(|l| l.p50))),
        Column::new("ttft_p90_s", f(|r| r.ttft_s.map(|l| l.p90))),
        Column::new("ttft_p99_s", f(|r| r.ttft_s.map(|l| l.p99))),
        Column::new("tpot_p50_s", f(|r| r.tpot_s.map(|l| l.p50))),
        Column::new("tpot_p90_s", f(|r| r.tpot_s.map(|l| l.p90))),
        Column::new("tpot_p99_s", f(|r| r.tpot_s.map(|l| l.p99))),
        Column::new("gpu_hours", f(|r| Some(r.gpu_hours))),
        Column::new("cost_usd", f(|r| Some(r.cost_usd))),
        Column::new("scale_events", f(|r| Some(f64::from(r.scale_events)))),
        Column::new("peak_replicas", f(|r| Some(f64::from(r.peak_replicas)))),
        Column::new("mean_replicas", f(|r| Some(r.mean_replicas))),
        Column::new("gpu_hours_vs_oracle", f(|r| r.gpu_hours_vs_oracle)),
        Column::new("pareto", Values::Bool(pareto)),
        Column::new(
            "recommended",
            Values::Bool((0..rows.len()).map(|i| Some(i) == recommended).collect()),
        ),
    ]);
    Table { columns }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_set_nested_fields_and_list_items() {
        let mut v = json!({"spec": {"metricsSources": [{"targetValue": "4"}]}});
        set_path(&mut v, "spec.metricsSources[0].targetValue", json!("8")).unwrap();
        set_path(
            &mut v,
            "spec.behavior.scaleDown.stabilizationWindowSeconds",
            json!(60),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"spec": {"metricsSources": [{"targetValue": "8"}],
                            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}})
        );
        let error = set_path(&mut v, "spec.metricsSources[3].targetValue", json!("1")).unwrap_err();
        assert!(
            error.contains("index 3 is out of range (the list has 1)"),
            "{error}"
        );
        assert!(set_path(&mut v, "spec.metricsSources[x]", json!(1)).is_err());
        assert!(set_path(&mut v, "spec..a", json!(1)).is_err());
    }

    #[test]
    fn shards_split_points_by_index() {
        assert_eq!(Shard::parse("1/3").unwrap(), Shard { index: 1, count: 3 });
        assert!(Shard::parse("3/3").is_err());
        assert!(Shard::parse("a/3").is_err());
        assert!(Shard::parse("1").is_err());
        let shard = Shard { index: 1, count: 3 };
        assert_eq!(
            (0..7).filter(|&p| shard.contains(p)).collect::<Vec<_>>(),
            [1, 4]
        );
    }

    fn row(point: Option<usize>, attainment: f64, gpu_hours: f64) -> Row {
        let summary = json!({
            "scaler": "s", "strategy": "BudScaler", "requests": 1, "completed": 1,
            "slo_attainment": attainment, "ttft_s": null, "tpot_s": null, "e2e_s": null,
            "gpu_hours": gpu_hours, "cost_usd": 0.0, "scale_events": 0, "peak_replicas": 1,
            "mean_replicas": 1.0, "gpu_hours_vs_oracle": null,
            "failed": {"gateway_timeout": 0, "rejected": 0, "cut_by_drain": 0, "lost_to_spot": 0},
            "decisions": 0
        });
        Row {
            point,
            values: Vec::new(),
            run: serde_json::from_value(summary).unwrap(),
        }
    }

    #[test]
    fn the_front_and_the_recommendation_follow_the_rule() {
        let rows = vec![
            row(None, 1.0, 0.5),      // a reference: never on the front
            row(Some(0), 0.995, 3.0), // meets, dearer
            row(Some(1), 0.991, 2.0), // meets, cheapest: recommended
            row(Some(2), 0.98, 1.0),  // cheaper, misses: on the front
            row(Some(3), 0.98, 2.5),  // dominated
        ];
        let (pareto, recommended) = verdict(&rows);
        assert_eq!(pareto, [false, true, true, true, false]);
        assert_eq!(recommended, Some(2));
        // None meets the target: the highest attainment.
        let (_, recommended) = verdict(&rows[3..]);
        assert_eq!(recommended, Some(0));
    }
}
