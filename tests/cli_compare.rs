//! `budscaler compare` and `budscaler report` as users see them: the folder with its
//! report and charts, byte-identical whatever the thread count, re-rendered from the
//! folder alone, and the page loaded in a real browser (headless Chromium, which
//! `.ci/run` installs) without console errors and with every chart drawn.

mod common;

use common::{budscaler, repo};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tempdir(name: &str) -> PathBuf {
    common::tempdir("cli-compare", name)
}

/// Ten generated minutes of bursts under every kind of scaler the report draws.
fn scenario(dir: &Path) -> PathBuf {
    let scalers = repo().join("scenarios/scalers");
    let yaml = format!(
        "name: small-compare
description: ten generated minutes of bursts for the report tests
seed: 5
trace:
  generate: {{ pattern: mmpp, duration: 10m, rate: 20, burst_rate: 48, burst_duration: 2m, quiet_duration: 3m, seed: 7 }}
  start: \"2026-06-01T00:00:00Z\"
fleet:
  gpu: h100-80gb
  model: llama-3.1-8b
  initial_replicas: 1
  pricing: {{ provider: aws, instance: p5.48xlarge }}
slo: {{ ttft_s: 2.0, tpot_s: 0.1 }}
scalers:
  - file: {hpa}
  - file: {bud}
  - static: {{ replicas: 2 }}
  - oracle: {{}}
",
        hpa = scalers.join("hpa.yaml").display(),
        bud = scalers.join("budscaler.yaml").display()
    );
    let path = dir.join("small.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

fn compare(scenario: &Path, out: &Path, threads: &str) -> String {
    let output = budscaler()
        .args(["compare"])
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Every file under `dir`, relative path → bytes (summary.json without `wall_s`).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            let mut bytes = std::fs::read(&path).unwrap();
            if name == "summary.json" {
                let mut summary: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                summary["wall_s"] = serde_json::Value::Null;
                bytes = serde_json::to_vec(&summary).unwrap();
            }
            out.insert(name, bytes);
        }
    }
    out
}

/// Pixels that are not white, grey or black.
fn colored_pixels(png_bytes: &[u8]) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    pixels[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| p[0] != p[1] || p[1] != p[2])
        .count()
}

#[test]
fn compare_writes_the_same_bytes_on_1_and_4_threads_and_report_rerenders_them() {
    let dir = tempdir("threads");
    let scenario = scenario(&dir);
    let (one, four) = (dir.join("one"), dir.join("four"));
    let printed = compare(&scenario, &one, "1");
    compare(&scenario, &four, "4");
    assert!(printed.contains("x oracle"), "{printed}");
    assert!(printed.contains("report: "), "{printed}");

    let (a, b) = (files(&one), files(&four));
    for required in [
        "summary.json",
        "decisions.jsonl",
        "requests.parquet",
        "timeseries.parquet",
        "slo_timeseries.parquet",
        "latency_cdf.parquet",
        "scenario.yaml",
        "scalers/hpa.yaml",
        "scalers/budscaler.yaml",
        "report.html",
        "charts/overview-gpu-hours-vs-slo.png",
        "charts/budscaler-replicas.png",
        "charts/budscaler-forecast.png",
    ] {
        assert!(
            a.contains_key(required),
            "{required} missing: {:?}",
            a.keys()
        );
    }
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "same files"
    );
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs between 1 and 4 threads");
    }

    // Every chart is in the page and in charts/, and no PNG is blank.
    let html = String::from_utf8(a["report.html"].clone()).unwrap();
    let pngs: Vec<&String> = a.keys().filter(|k| k.starts_with("charts/")).collect();
    assert!(pngs.len() >= 15, "{pngs:?}");
    for png in &pngs {
        let id = png.trim_start_matches("charts/").trim_end_matches(".png");
        assert!(
            html.contains(&format!("<figure id=\"{id}\"")),
            "{id} not in the page"
        );
        let bytes = &a[*png];
        assert!(bytes.len() > 5_000, "{png}: {} bytes", bytes.len());
        assert!(colored_pixels(bytes) > 200, "{png} looks blank");
    }
    assert_eq!(html.matches("<svg").count(), pngs.len());
    assert!(html.contains("<title>t = "), "decisions carry hover titles");
    for external in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !html.contains(external),
            "the page loads nothing: found {external}"
        );
    }

    // `report` re-renders the same bytes from the folder alone.
    std::fs::remove_file(one.join("report.html")).unwrap();
    std::fs::remove_dir_all(one.join("charts")).unwrap();
    let output = budscaler().arg("report").arg(&one).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(files(&one), a, "report DIR gives the compare's bytes");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn report_on_a_folder_that_is_not_one_names_the_missing_file() {
    let dir = tempdir("bad");
    let output = budscaler().arg("report").arg(&dir).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("summary.json"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The report as a user sees it: loaded in headless Chromium with no console error,
/// every chart in the rendered DOM, and a screenshot that is not blank.
#[test]
fn the_report_loads_in_chromium_with_every_chart() {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        eprintln!("skipping: no chromium on PATH (.ci/run installs Debian's `chromium`)");
        return;
    };
    let dir = tempdir("chromium");
    let out = dir.join("out");
    compare(&scenario(&dir), &out, "2");
    let page = format!("file://{}", out.join("report.html").display());
    let headless = |extra: &[&str]| {
        let profile = dir.join(format!("profile-{}", extra.len()));
        let output = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&page)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    };
    let dom = headless(&["--dump-dom"]);
    let text = String::from_utf8_lossy(&dom.stdout);
    let charts = std::fs::read_dir(out.join("charts")).unwrap().count();
    assert_eq!(
        text.matches("<svg").count(),
        charts,
        "every chart in the rendered page"
    );
    assert!(text.contains("small-compare"));
    let log = String::from_utf8_lossy(&dom.stderr);
    for line in log.lines() {
        assert!(
            !(line.contains("CONSOLE") && (line.contains("ERROR") || line.contains("Uncaught"))),
            "console error: {line}"
        );
    }
    let shot = dir.join("page.png");
    headless(&[
        "--window-size=1200,2400",
        "--hide-scrollbars",
        &format!("--screenshot={}", shot.display()),
    ]);
    let bytes = std::fs::read(&shot).unwrap();
    assert!(
        colored_pixels(&bytes) > 10_000,
        "the screenshot looks blank"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
