//! The engine sees the same observation whether a replica's scrape goes through
//! Prometheus text (as in the fleet loop and the operator) or is read directly.

mod common;

use engine::observation::{PodPhase, PodStatus};
use simulator::fleet::exporter::{self, Gauges, GpuReading, ServerCounters};
use traces::metrics::prometheus::{Scrape, parse_text, render_text};
use traces::observe::{Observer, PodScrape};

fn spec(name: &str) -> engine::spec::ResolvedSpec {
    common::scaler_manifest(name).resolved().unwrap()
}

fn replica_scrapes(index: u32) -> (Scrape, Scrape) {
    let mut counters = ServerCounters::default();
    for i in 0..=index {
        counters.ttft.observe(0.05 * f64::from(i + 1), 1);
        counters.itl.observe(0.011 * f64::from(i + 1), 100);
    }
    counters.prompt_tokens = 1000 * u64::from(index);
    counters.generation_tokens = 333 * u64::from(index);
    let gauges = Gauges {
        running: 10 + index,
        waiting: 3 * index,
        kv_usage: 0.1 + 0.07 * f64::from(index),
    };
    let reading = GpuReading {
        utilization_pct: 37.0 + f64::from(index),
        fb_used_mib: 73_000.0,
        fb_free_mib: 8_000.0,
        power_watts: 412.25,
        tensor_active: 0.25,
    };
    (
        exporter::vllm_scrape("llama-3.1-8b", gauges, &counters, |_| true),
        exporter::dcgm_scrape(
            &format!("llm-{index}"),
            &format!("node-{index}"),
            "h100-80gb",
            2,
            reading,
        ),
    )
}

fn pods<'a>(statuses: &'a [PodStatus], scrapes: &'a [(Scrape, Scrape)]) -> Vec<PodScrape<'a>> {
    statuses
        .iter()
        .enumerate()
        .map(|(i, status)| PodScrape {
            status,
            engine: scrapes.get(i).map(|s| &s.0),
            gpu: scrapes.get(i).map(|s| &s.1),
            scraped_at: 15_000_000,
        })
        .collect()
}

#[test]
fn text_round_trip_gives_the_direct_observation() {
    let statuses: Vec<PodStatus> = (0..4)
        .map(|i| PodStatus {
            name: format!("llm-{i}"),
            phase: if i == 3 {
                PodPhase::Pending
            } else {
                PodPhase::Running
            },
            ready: i < 2,
            start_time: Some(1_000_000 * i64::from(i)),
            ready_transition_time: Some(2_000_000 * i64::from(i)),
            deleting: false,
            creation_time: None,
            spot: false,
        })
        .collect();
    let direct: Vec<(Scrape, Scrape)> = (0..3).map(replica_scrapes).collect();
    let text: Vec<(Scrape, Scrape)> = direct
        .iter()
        .map(|(engine, gpu)| {
            (
                parse_text(&render_text(engine)).unwrap(),
                parse_text(&render_text(gpu)).unwrap(),
            )
        })
        .collect();
    for name in ["hpa", "kpa", "budscaler"] {
        let mut observer = Observer::new(&spec(name), 15_000_000);
        let from_structs = observer.observe(30_000_000, 4, &pods(&statuses, &direct));
        let from_text = observer.observe(30_000_000, 4, &pods(&statuses, &text));
        assert_eq!(from_structs, from_text, "{name}");
        assert!(!from_text.pod_metrics.is_empty(), "{name} reads its metric");
        assert_eq!(from_text.gpu.len(), 3);
        let devices = &from_text.gpu["llm-1"].devices;
        assert_eq!(devices.len(), 2, "one device per GPU of the TP-2 replica");
        assert_eq!(devices[0].utilization_percent, Some(38.0));
        assert_eq!(devices[1].memory_used_mib, Some(73_000.0));
    }
    let hpa = Observer::new(&spec("hpa"), 15_000_000).observe(0, 4, &pods(&statuses, &text));
    let waiting = &hpa.pod_metrics["num_requests_waiting"];
    assert_eq!(waiting["llm-2"].value, 6.0);
    assert!(!waiting.contains_key("llm-3"));
    let kpa = Observer::new(&spec("kpa"), 15_000_000).observe(0, 4, &pods(&statuses, &text));
    assert_eq!(kpa.pod_metrics["concurrency"]["llm-1"].value, 14.0);
    let bud = Observer::new(&spec("budscaler"), 15_000_000).observe(0, 4, &pods(&statuses, &text));
    assert!((bud.pod_metrics["gpu_cache_usage_perc"]["llm-2"].value - 0.24).abs() < 1e-12);
}

/// Keeping only the families the scaler reads changes the cost of a run, not its result.
#[test]
fn filtered_scrapes_give_the_same_run_as_full_ones() {
    use simulator::Catalog;
    use simulator::fleet::{FleetConfig, RunOptions, Slo, run_with};
    use traces::generate::{GenerateConfig, Pattern, TokenModel, generate};
    let requests: Vec<_> = generate(&GenerateConfig {
        pattern: Pattern::Step {
            at_us: 120_000_000,
            factor: 8.0,
        },
        duration_us: 400_000_000,
        rate_rps: 20.0,
        seed: 3,
        tokens: TokenModel::azure_conv(),
    })
    .unwrap()
    .collect();
    let catalog = Catalog::builtin();
    let fleet = FleetConfig::default();
    for name in ["hpa", "kpa", "budscaler"] {
        let scaler = common::scaler_spec(name);
        let runs: Vec<_> = [false, true]
            .into_iter()
            .map(|full_scrapes| {
                let options = RunOptions {
                    full_scrapes,
                    ..RunOptions::default()
                };
                run_with(
                    &requests,
                    &catalog,
                    &fleet,
                    &scaler,
                    &Slo::default(),
                    5,
                    options,
                )
                .unwrap()
            })
            .collect();
        assert_eq!(runs[0], runs[1], "{name}");
        assert!(runs[0].peak_replicas > 1, "{name} scales");
    }
}
