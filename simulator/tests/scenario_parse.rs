//! The scenario YAML of CONTRACTS.md: what parses, what it resolves to, and how every
//! mistake is reported (file, line, field).

mod common;

use simulator::fleet::RoutingPolicy;
use simulator::scenario::{self, ScalerChoice, Scenario, ScenarioError, TraceSource};
use std::path::{Path, PathBuf};

/// A fresh folder under the system temp dir for one test.
const HPA_MANIFEST: &str = "
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: { name: hpa }
spec:
  scaleTargetRef: { kind: Deployment, name: llm }
  minReplicas: 1
  maxReplicas: 8
  scalingStrategy: HPA
  metricsSources:
    - metricSourceType: inferenceEngine
      targetMetric: num_requests_waiting
      targetValue: \"4\"
      inferenceEngineConfig: { engineType: vllm }
";

const CONTRACT_EXAMPLE: &str = "
name: azure-conv-1h
seed: 7
trace:
  path: data/trace.csv
  format: auto
  rate_scale: 2.0
  time_scale: 1.0
fleet:
  gpu: h100-80gb
  model: llama-3.1-8b
  tensor_parallel: 1
  initial_replicas: 2
  pricing: { provider: aws, instance: p5.48xlarge, spot: false }
slo:
  ttft_s: 2.0
  tpot_s: 0.10
scalers:
  - file: scalers/hpa.yaml
  - manifest: { apiVersion: scaler.bud.studio/v1alpha1, kind: BudAIScaler,
                metadata: { name: kpa },
                spec: { scaleTargetRef: { kind: Deployment, name: llm }, minReplicas: 0,
                        maxReplicas: 8, scalingStrategy: KPA,
                        metricsSources: [ { metricSourceType: pod, targetMetric: concurrency,
                                            targetValue: '16' } ] } }
  - oracle: {}
  - static: { replicas: 4 }
";

fn parse_in(dir: &Path, yaml: &str) -> Result<Scenario, ScenarioError> {
    scenario::parse(yaml, &dir.join("scenario.yaml"), None)
}

/// A scenario on a generated trace with one static scaler, plus `extra` lines merged
/// into `fleet:`.
fn generated(fleet_extra: &str) -> String {
    format!(
        "name: t
trace:
  generate: {{ pattern: poisson, duration: 2m, rate: 2, seed: 1 }}
fleet:
  gpu: h100-80gb
  model: llama-3.1-8b
{fleet_extra}
slo: {{ ttft_s: 2, tpot_s: 0.1 }}
scalers:
  - static: {{ replicas: 1 }}
"
    )
}

fn error_of(yaml: &str) -> ScenarioError {
    parse_in(&common::fresh_dir("scenario-parse", "errors"), yaml)
        .expect_err("the scenario is rejected")
}

#[test]
fn the_contract_example_resolves() {
    let dir = common::fresh_dir("scenario-parse", "contract");
    std::fs::create_dir_all(dir.join("scalers")).unwrap();
    std::fs::write(dir.join("scalers/hpa.yaml"), HPA_MANIFEST).unwrap();
    let scenario = parse_in(&dir, CONTRACT_EXAMPLE).unwrap();
    assert_eq!(scenario.name, "azure-conv-1h");
    assert_eq!(scenario.seed, 7);
    let TraceSource::File { path, options } = &scenario.trace.source else {
        panic!("a file trace: {:?}", scenario.trace.source);
    };
    assert_eq!(
        path,
        &dir.join("data/trace.csv"),
        "relative to the scenario file"
    );
    assert_eq!(options.format, None, "auto detects");
    assert_eq!(scenario.trace.rate_scale, 2.0);
    assert_eq!(scenario.fleet.initial_replicas, 2);
    assert!((scenario.fleet.price_per_gpu_hour - 55.04 / 8.0).abs() < 1e-12);
    assert!(scenario.fleet.spot.is_none());
    assert_eq!(scenario.slo.tpot_s, 0.10);
    let names: Vec<&str> = scenario.scalers.iter().map(ScalerChoice::name).collect();
    assert_eq!(names, ["hpa", "kpa", "oracle", "static"]);
    match &scenario.scalers[0] {
        ScalerChoice::Manifest { origin, .. } => {
            assert_eq!(origin, &dir.join("scalers/hpa.yaml").display().to_string())
        }
        other => panic!("a manifest: {other:?}"),
    }
    assert!(matches!(
        scenario.scalers[3],
        ScalerChoice::Static { replicas: 4, .. }
    ));
}

#[test]
fn the_command_line_seed_overrides_the_file_and_a_missing_one_defaults() {
    let dir = common::fresh_dir("scenario-parse", "seed");
    let yaml = generated("  price_per_gpu_hour: 2");
    let with_seed = scenario::parse(&yaml, &dir.join("s.yaml"), Some(99)).unwrap();
    assert_eq!(with_seed.seed, 99);
    assert_eq!(parse_in(&dir, &yaml).unwrap().seed, scenario::DEFAULT_SEED);
}

#[test]
fn an_unknown_key_is_an_error_with_its_line() {
    let yaml = generated("  price_per_gpu_hour: 2\n  initial_replica: 3");
    let message = error_of(&yaml).to_string();
    assert!(
        message.contains("unknown field `initial_replica`"),
        "{message}"
    );
    assert!(message.contains("line 8"), "{message}");
    assert!(
        message.contains("initial_replicas"),
        "lists the known keys: {message}"
    );

    let valid = generated("  price_per_gpu_hour: 2");
    let message = error_of(&format!("{valid}colour: blue\n")).to_string();
    assert!(message.contains("unknown field `colour`"), "{message}");
    assert!(message.contains("line 11"), "{message}");

    let nested = valid.replace("seed: 1 }", "seed: 1, sed: 2 }");
    let message = error_of(&nested).to_string();
    assert!(message.contains("unknown field `sed`"), "{message}");
    assert!(message.contains("line 3"), "{message}");
}

#[test]
fn an_unknown_key_inside_an_inline_manifest_is_an_error() {
    let yaml = generated("  price_per_gpu_hour: 2").replace(
        "  - static: { replicas: 1 }",
        "  - manifest: { kind: BudAIScaler, metadata: { name: m }, spec: { maxReplica: 3 } }",
    );
    let message = error_of(&yaml).to_string();
    assert!(message.contains("unknown field `maxReplica`"), "{message}");
}

#[test]
fn validation_errors_name_the_field() {
    let cases = [
        (generated("  price_per_gpu_hour: 2\n  tensor_parallel: 0"), "fleet.tensor_parallel"),
        (generated("  price_per_gpu_hour: -1"), "fleet.price_per_gpu_hour"),
        (
            generated("  price_per_gpu_hour: 2\n  pricing: { provider: aws, instance: p5.48xlarge }"),
            "fleet.pricing",
        ),
        (generated("  price_per_gpu_hour: 2\n  routing: random"), "fleet.routing"),
        (
            generated("  price_per_gpu_hour: 2\n  engine: { gpu_memory_utilization: 1.5 }"),
            "fleet.engine.gpu_memory_utilization",
        ),
        (
            generated("  price_per_gpu_hour: 2\n  lifecycle: { image_pull: { min: 90s, max: 30s } }"),
            "fleet.lifecycle.image_pull",
        ),
        (
            generated("  price_per_gpu_hour: 2").replace("model: llama-3.1-8b", "model: gpt-9"),
            "fleet.model",
        ),
        (
            generated("  price_per_gpu_hour: 2\n  dcgm_outages: [{ from: 5m, to: 1m }]"),
            "fleet.dcgm_outages[0]",
        ),
        (
            generated("  price_per_gpu_hour: 2").replace("ttft_s: 2,", "ttft_s: 0,"),
            "slo.ttft_s",
        ),
        (
            generated("  price_per_gpu_hour: 2").replace("pattern: poisson", "pattern: wavy"),
            "trace.generate.pattern",
        ),
        (
            generated("  price_per_gpu_hour: 2").replace("seed: 1 }", "seed: 1, cv: 3 }"),
            "trace.generate.cv",
        ),
        (
            generated("  price_per_gpu_hour: 2").replace("trace:\n", "trace:\n  path: x.csv\n"),
            "trace",
        ),
        (
            generated("  price_per_gpu_hour: 2").replace("trace:\n", "trace:\n  mode: open_loop\n"),
            "trace.mode",
        ),
        (
            generated("  price_per_gpu_hour: 2")
                .replace("trace:\n", "trace:\n  window: { from: 10m, to: 5m }\n"),
            "trace.window",
        ),
        (
            generated("  price_per_gpu_hour: 2")
                .replace("replicas: 1 }", "replicas: 1 }\n  - static: { replicas: 2 }"),
            "scalers[1]",
        ),
        (
            generated("  price_per_gpu_hour: 2").replace("replicas: 1", "replicas: 0"),
            "scalers[0].static.replicas",
        ),
        (
            generated("  price_per_gpu_hour: 2")
                .replace("  - static: { replicas: 1 }", "  - oracle: { attainment: 1.5 }"),
            "scalers[0].oracle.attainment",
        ),
        (
            generated("  price_per_gpu_hour: 2").replace("  - static: { replicas: 1 }", "  - file: missing.yaml"),
            "scalers[0].file",
        ),
        (
            generated("  price_per_gpu_hour: 2").replace(
                "  - static: { replicas: 1 }",
                "  - manifest: { apiVersion: scaler.bud.studio/v1alpha1, kind: BudAIScaler, metadata: { name: m }, spec: { maxReplicas: 0 } }",
            ),
            "scalers[0].manifest",
        ),
        (generated("  price_per_gpu_hour: 2").replace("scalers:\n  - static: { replicas: 1 }\n", "scalers: []\n"), "scalers"),
    ];
    for (yaml, field) in cases {
        let error = error_of(&yaml);
        assert_eq!(error.field(), Some(field), "{error}");
        let message = error.to_string();
        assert!(
            message.contains("scenario.yaml"),
            "names the file: {message}"
        );
        assert!(message.contains(field), "{message}");
    }
}

#[test]
fn scaler_errors_carry_the_entry_line() {
    let yaml = generated("  price_per_gpu_hour: 2")
        .replace("replicas: 1 }", "replicas: 1 }\n  - file: nowhere/hpa.yaml");
    let message = error_of(&yaml).to_string();
    assert!(
        message.contains("scenario.yaml:11: scalers[1].file"),
        "{message}"
    );
    assert!(message.contains("nowhere/hpa.yaml"), "{message}");
}

#[test]
fn pricing_tables_give_a_per_gpu_price_and_spot_capacity() {
    let dir = common::fresh_dir("scenario-parse", "pricing");
    let spot = parse_in(
        &dir,
        &generated("  pricing: { provider: aws, instance: p5.48xlarge, spot: true }"),
    )
    .unwrap();
    let p5 = scenario::pricing::PriceCatalog::builtin()
        .lookup("aws", "p5.48xlarge")
        .unwrap();
    assert_eq!(spot.fleet.price_per_gpu_hour, p5.on_demand / 8.0);
    assert_eq!(spot.fleet.spot_price_per_gpu_hour, p5.spot_per_gpu_hour());
    assert_eq!(spot.fleet.spot.as_ref().map(|s| s.share), Some(1.0));

    let single = parse_in(
        &dir,
        &generated("  pricing: { provider: GCP, instance: a3-highgpu-1g }"),
    )
    .unwrap();
    assert_eq!(single.fleet.price_per_gpu_hour, 11.06);

    let error = error_of(&generated(
        "  pricing: { provider: aws, instance: p5.huge }",
    ));
    assert_eq!(error.field(), Some("fleet.pricing"));
    assert!(error.to_string().contains("p4d.24xlarge"), "{error}");

    let error = error_of(&generated(
        "  pricing: { provider: aws, instance: g6.xlarge }",
    ));
    assert_eq!(
        error.field(),
        Some("fleet.pricing.instance"),
        "an L4 instance for an H100 fleet"
    );

    // A user's catalog: its rows replace the built-in ones; one without a spot price
    // refuses spot placement, naming the instance.
    std::fs::write(
        dir.join("prices.yaml"),
        "aws:\n  - { instance: p5.48xlarge, gpu: h100-80gb, gpus: 8, on_demand: 40.0, region: us-west-2, as_of: \"2026-11\", source: \"our contract\" }\n",
    )
    .unwrap();
    let contract = parse_in(
        &dir,
        &generated("  pricing: { provider: aws, instance: p5.48xlarge, catalog: prices.yaml }"),
    )
    .unwrap();
    assert_eq!(contract.fleet.price_per_gpu_hour, 5.0);
    let error = parse_in(
        &dir,
        &generated(
            "  pricing: { provider: aws, instance: p5.48xlarge, catalog: prices.yaml, spot: true }",
        ),
    )
    .unwrap_err();
    assert_eq!(error.field(), Some("fleet.pricing.spot"));
    assert!(
        error
            .to_string()
            .contains("p5.48xlarge has none in the catalog"),
        "{error}"
    );
    let error = parse_in(
        &dir,
        &generated("  pricing: { provider: aws, instance: p5.48xlarge, catalog: nowhere.yaml }"),
    )
    .unwrap_err();
    assert_eq!(error.field(), Some("fleet.pricing.catalog"));
    assert!(error.to_string().contains("nowhere.yaml"), "{error}");

    let error = error_of(&generated(
        "  price_per_gpu_hour: 2\n  spot: { share: 0.5 }",
    ));
    assert_eq!(error.field(), Some("fleet.spot"), "spot needs a spot price");
}

#[test]
fn without_a_price_the_catalog_price_is_used() {
    let scenario = parse_in(
        &common::fresh_dir("scenario-parse", "catalog-price"),
        &generated(""),
    )
    .unwrap();
    let catalog = simulator::Catalog::builtin();
    assert_eq!(
        Some(scenario.fleet.price_per_gpu_hour),
        catalog.gpu("h100-80gb").unwrap().price_per_hour_usd
    );
}

#[test]
fn fleet_knobs_map_to_the_fleet_config() {
    let scenario = parse_in(
        &common::fresh_dir("scenario-parse", "knobs"),
        &generated(
            "  price_per_gpu_hour: 2
  routing: kv_aware
  engine: { max_num_seqs: 64, num_gpu_blocks: 2588 }
  lifecycle: { node_provisioning: 90s, image_pull: { min: 10, max: 20s }, weight_load_gb_per_s: 2, free_nodes: 3 }
  spot_price_per_gpu_hour: 0.5
  spot: { share: 0.25, notice: 2m }
  gateway_timeout: 30s
  drain_grace: 1m
  scrape_interval: 1s
  sync_period: 2s
  scrape_delay: 500ms
  dcgm_outages: [{ from: 10m, to: 15m }]",
        ),
    )
    .unwrap();
    let fleet = &scenario.fleet;
    assert_eq!(fleet.dcgm_outages, vec![(600_000_000, 900_000_000)]);
    assert_eq!(fleet.routing, RoutingPolicy::KvAware);
    assert_eq!(fleet.engine.max_num_seqs, 64);
    assert_eq!(fleet.engine.num_gpu_blocks, Some(2588));
    assert_eq!(
        fleet.engine.block_size, 16,
        "unset engine args keep vLLM's defaults"
    );
    assert_eq!(
        fleet.lifecycle.node_provisioning,
        simulator::fleet::Delay::Fixed { us: 90_000_000 }
    );
    assert_eq!(
        fleet.lifecycle.image_pull,
        simulator::fleet::Delay::Uniform {
            min_us: 10_000_000,
            max_us: 20_000_000
        }
    );
    assert_eq!(fleet.lifecycle.weight_load_bytes_per_s.min, 2e9);
    assert_eq!(fleet.lifecycle.free_nodes, 3);
    let spot = fleet.spot.as_ref().unwrap();
    assert_eq!((spot.share, spot.notice_us), (0.25, 120_000_000));
    assert_eq!(fleet.spot_price_per_gpu_hour, Some(0.5));
    assert_eq!(fleet.gateway_timeout_us, 30_000_000);
    assert_eq!(fleet.drain_grace_us, 60_000_000);
    assert_eq!(fleet.scrape_interval_us, Some(1_000_000));
    assert_eq!(fleet.sync_period_us, Some(2_000_000));
    assert_eq!(fleet.scrape_delay_us, 500_000);
}

#[test]
fn a_scenario_file_loads_with_paths_relative_to_it() {
    let dir = common::fresh_dir("scenario-parse", "load");
    std::fs::create_dir_all(dir.join("sub/scalers")).unwrap();
    std::fs::write(dir.join("sub/scalers/hpa.yaml"), HPA_MANIFEST).unwrap();
    std::fs::write(
        dir.join("sub/gpus.yaml"),
        "gpus:\n  - { id: my-gpu, memory_bytes: 80.0e9, memory_bandwidth_bytes_per_s: 3.35e12, bf16_flops: 989e12, interconnect_bytes_per_s: 450e9, price_per_hour_usd: 1.25 }\n",
    )
    .unwrap();
    let yaml = generated("")
        .replace("gpu: h100-80gb", "gpu: my-gpu")
        .replace("  - static: { replicas: 1 }", "  - file: scalers/hpa.yaml")
        + "gpu_catalog: gpus.yaml\n";
    std::fs::write(dir.join("sub/scenario.yaml"), yaml).unwrap();
    let scenario = scenario::load(&dir.join("sub/scenario.yaml"), None).unwrap();
    assert_eq!(scenario.fleet.gpu, "my-gpu");
    assert_eq!(scenario.fleet.price_per_gpu_hour, 1.25);
    assert_eq!(scenario.scalers[0].name(), "hpa");

    let error = scenario::load(&dir.join("sub/none.yaml"), None).unwrap_err();
    assert!(error.to_string().contains("none.yaml"), "{error}");
}

#[test]
fn every_shipped_scenario_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        // The Kubernetes Job that runs sweeps in shards, not a scenario.
        .filter(|path| !path.ends_with("sweep-job.yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for path in names {
        // Loading checks everything but the trace's rows, which may live in ../shared;
        // a trace file that must supply the calendar is read up to its first row.
        let scenario = match scenario::load(&path, None) {
            Ok(scenario) => scenario,
            Err(error) if error.field() == Some("trace.path") && !shared_data().exists() => {
                eprintln!("skipping {}: {error} (no ../shared/data)", path.display());
                continue;
            }
            Err(error) => panic!("{}: {error}", path.display()),
        };
        assert!(!scenario.scalers.is_empty());
        if scenario.sweep.is_some() {
            // A sweep's grid builds and validates point by point.
            let points = simulator::sweep::points(&scenario)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!points.is_empty());
        }
    }
}

fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// A BudScaler manifest whose weekday schedule hint needs calendar time.
const HINTED_MANIFEST: &str = "
  - manifest: { apiVersion: scaler.bud.studio/v1alpha1, kind: BudAIScaler,
                metadata: { name: hinted },
                spec: { scaleTargetRef: { kind: Deployment, name: llm }, maxReplicas: 8,
                        scalingStrategy: BudScaler,
                        metricsSources: [ { metricSourceType: pod, targetMetric: concurrency,
                                            targetValue: '16' } ],
                        scheduleHints: [ { name: day, cronExpression: '0 8 * * 1-5',
                                           targetReplicas: 2, duration: 10h } ] } }
";

/// 2026-06-01T00:00:00Z in Unix microseconds.
const JUNE_FIRST_2026: i64 = 1_780_272_000_000_000;

/// A generated trace with `trace_extra` lines merged into `trace:`, and `scalers`.
fn generated_with(trace_extra: &str, scalers: &str) -> String {
    format!(
        "name: t
trace:
  generate: {{ pattern: poisson, duration: 2m, rate: 2, seed: 1 }}
{trace_extra}
fleet: {{ gpu: h100-80gb, model: llama-3.1-8b }}
slo: {{ ttft_s: 2, tpot_s: 0.1 }}
scalers:
{scalers}
"
    )
}

#[test]
fn trace_start_gives_the_run_its_calendar_from_the_window_start() {
    let dir = common::fresh_dir("scenario-parse", "start");
    let yaml = generated_with("  start: \"2026-06-01T00:00:00Z\"", HINTED_MANIFEST);
    let scenario = parse_in(&dir, &yaml).unwrap();
    assert_eq!(scenario.fleet.start_unix_us, Some(JUNE_FIRST_2026));
    let windowed = generated_with(
        "  start: 2026-06-01T02:00:00+02:00\n  window: { from: 30s }",
        HINTED_MANIFEST,
    );
    let scenario = parse_in(&dir, &windowed).unwrap();
    assert_eq!(
        scenario.fleet.start_unix_us,
        Some(JUNE_FIRST_2026 + 30_000_000)
    );
    // No start and no scaler that needs one: no calendar, no error.
    let plain = generated_with("", "  - static: { replicas: 1 }");
    assert_eq!(parse_in(&dir, &plain).unwrap().fleet.start_unix_us, None);
}

#[test]
fn a_bad_trace_start_is_an_error_naming_the_field_and_file() {
    for bad in ["\"tomorrow\"", "\"2026-02-30T00:00:00Z\"", "\"2026-06-01\""] {
        let yaml = generated_with(&format!("  start: {bad}"), "  - static: { replicas: 1 }");
        let error = error_of(&yaml);
        assert_eq!(error.field(), Some("trace.start"), "{error}");
        let message = error.to_string();
        assert!(message.contains("scenario.yaml"), "{message}");
        assert!(message.contains("RFC 3339"), "{message}");
    }
}

#[test]
fn a_scaler_needing_calendar_time_without_a_start_is_an_error() {
    let error = error_of(&generated_with("", HINTED_MANIFEST));
    assert_eq!(error.field(), Some("trace.start"), "{error}");
    let message = error.to_string();
    assert!(message.contains("`hinted`"), "{message}");
    assert!(message.contains("scheduleHints"), "{message}");
}

#[test]
fn a_trace_with_absolute_times_supplies_its_own_start_unless_one_is_written() {
    let dir = common::fresh_dir("scenario-parse", "azure-start");
    std::fs::write(
        dir.join("azure.csv"),
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         2023-11-16 18:15:46.6805900,374,44\n\
         2023-11-16 18:15:50.9951690,396,109\n",
    )
    .unwrap();
    let yaml = |extra: &str| {
        format!(
            "name: t
trace:
  path: azure.csv
{extra}
fleet: {{ gpu: h100-80gb, model: llama-3.1-8b }}
slo: {{ ttft_s: 2, tpot_s: 0.1 }}
scalers:
{HINTED_MANIFEST}
"
        )
    };
    let own = parse_in(&dir, &yaml("")).unwrap();
    assert_eq!(own.fleet.start_unix_us, Some(1_700_158_546_680_590));
    let windowed = parse_in(&dir, &yaml("  window: { from: 2s }")).unwrap();
    assert_eq!(windowed.fleet.start_unix_us, Some(1_700_158_548_680_590));
    let written = parse_in(&dir, &yaml("  start: 2026-06-01T00:00:00Z")).unwrap();
    assert_eq!(written.fleet.start_unix_us, Some(JUNE_FIRST_2026));
    // A missing file cannot tell its start: the error names the trace.
    std::fs::remove_file(dir.join("azure.csv")).unwrap();
    let error = parse_in(&dir, &yaml("")).unwrap_err();
    assert_eq!(error.field(), Some("trace.path"), "{error}");
}
