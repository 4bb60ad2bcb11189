//! `budscaler sweep` as users run it: the whole grid and the same grid in shards
//! merged give the same bytes; merge refuses shards that do not belong together; a bad
//! grid point is refused before anything runs, naming the point and the path.

mod common;

use common::{budscaler, repo};

use std::path::{Path, PathBuf};
use std::process::Output;

fn tempdir(name: &str) -> PathBuf {
    common::tempdir("cli-sweep", name)
}

fn scenario(dir: &Path, grid: &str) -> PathBuf {
    let scalers = repo().join("scenarios/scalers");
    let yaml = format!(
        "name: small-sweep
seed: 9
trace:
  generate: {{ pattern: gamma, duration: 5m, rate: 10, seed: 1 }}
fleet:
  gpu: h100-80gb
  model: llama-3.1-8b
  initial_replicas: 1
  pricing: {{ provider: aws, instance: p5.48xlarge }}
slo: {{ ttft_s: 2.0, tpot_s: 0.1 }}
scalers:
  - file: {hpa}
  - file: {bud}
sweep:
  scaler: budscaler
  grid:
{grid}",
        hpa = scalers.join("hpa.yaml").display(),
        bud = scalers.join("budscaler.yaml").display()
    );
    let path = dir.join("sweep.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

const GRID: &str = "    spec.kpaConfig.targetUtilizationPercentage: [70, 90]
    spec.behavior.scaleDown.stabilizationWindowSeconds: [60, 120, 300]
";

fn run(args: &[&std::ffi::OsStr]) -> Output {
    budscaler().args(args).output().unwrap()
}

fn ok(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn sweep(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "sweep".as_ref(),
        scenario.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    run(&args)
}

fn merge(dirs: &[&Path], out: &Path) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["sweep".as_ref(), "merge".as_ref()];
    args.extend(dirs.iter().map(|d| d.as_os_str()));
    args.extend(["--out".as_ref(), out.as_os_str()]);
    run(&args)
}

const FILES: [&str; 4] = [
    "sweep.json",
    "sweep.parquet",
    "report.html",
    "charts/sweep-pareto.png",
];

#[test]
fn shards_merged_equal_the_whole_grid_byte_for_byte() {
    let dir = tempdir("shards");
    let scenario = scenario(&dir, GRID);
    let whole = dir.join("whole");
    let table = ok(sweep(&scenario, &whole, &[]));
    assert!(
        table.contains("recommended: the fewest GPU-hours"),
        "{table}"
    );
    assert!(table.contains("budscaler-5"), "6 points: {table}");
    assert!(table.contains("reference"), "{table}");
    let (s0, s1, s2) = (dir.join("s0"), dir.join("s1"), dir.join("s2"));
    for (shard, out) in [("0/3", &s0), ("1/3", &s1), ("2/3", &s2)] {
        ok(sweep(&scenario, out, &["--shard", shard]));
        assert!(
            !out.join("sweep.parquet").exists(),
            "a shard writes sweep.json only"
        );
    }
    let merged = dir.join("merged");
    ok(merge(&[&s2, &s0, &s1], &merged));
    for file in FILES {
        let a = std::fs::read(whole.join(file)).unwrap();
        let b = std::fs::read(merged.join(file)).unwrap();
        assert!(
            !a.is_empty() && a == b,
            "{file}: merged shards differ from the whole grid"
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(whole.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(json["points"], 6);
    assert_eq!(
        json["rows"].as_array().unwrap().len(),
        7,
        "6 points and the HPA reference"
    );

    // Refusals: a missing shard, a shard given twice, another seed.
    let missing = merge(&[&s0, &s1], &dir.join("bad"));
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("expected 3 shards"));
    let twice = merge(&[&s0, &s0, &s1], &dir.join("bad"));
    assert_eq!(twice.status.code(), Some(2));
    let other_seed = dir.join("seed");
    ok(sweep(
        &scenario,
        &other_seed,
        &["--shard", "2/3", "--seed", "10"],
    ));
    let mixed = merge(&[&s0, &s1, &other_seed], &dir.join("bad"));
    assert_eq!(mixed.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&mixed.stderr);
    assert!(stderr.contains("refusing to merge"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_grid_point_is_refused_before_anything_runs() {
    let dir = tempdir("bad");
    for (grid, expected) in [
        (
            "    spec.kpaConfig.targetUtilizationPercentage: [80, 120]\n",
            "point 1 (spec.kpaConfig.targetUtilizationPercentage=120)",
        ),
        (
            "    spec.metricsSources[7].targetValue: [\"2\"]\n",
            "sweep.grid.spec.metricsSources[7].targetValue",
        ),
        ("    spec.noSuchField: [1]\n", "unknown field `noSuchField`"),
    ] {
        let scenario = scenario(&dir, grid);
        let out = dir.join("out");
        let output = sweep(&scenario, &out, &[]);
        assert_eq!(output.status.code(), Some(2), "{grid}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{grid}: {stderr}");
        assert!(!out.join("sweep.json").exists(), "nothing ran");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `scenarios/sweep-job.yaml` is an Indexed Job whose pods each run one shard of the
/// repository's sweep scenario, with N the Job's completion count.
#[test]
fn the_sweep_job_runs_one_shard_per_completion_index() {
    let root = repo();
    let text = std::fs::read_to_string(root.join("scenarios/sweep-job.yaml")).unwrap();
    let job: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(n));
    let container = &spec["template"]["spec"]["containers"][0];
    let command = container["args"][0].as_str().unwrap();
    assert!(
        command.contains(&format!("--shard \"$JOB_COMPLETION_INDEX/{n}\"")),
        "{command}"
    );
    assert!(
        command.contains("/scenarios/sweep-default.yaml"),
        "{command}"
    );
    assert!(root.join("scenarios/sweep-default.yaml").exists());
    // The image the Job names is the one the Dockerfile builds, with the scenarios in it.
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("COPY scenarios /scenarios"));
    assert!(dockerfile.contains("ENTRYPOINT [\"budscaler\"]"));
}
