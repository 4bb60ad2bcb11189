//! What the control loop sees of the fleet: at each scrape every live replica's vLLM
//! metrics (and DCGM fields when GPU telemetry is read) rendered to Prometheus text and
//! parsed back, as the operator would scrape them, plus the activator's held requests
//! for scalers that scale from zero; at each tick those scrapes paired with the pods'
//! statuses. Only the families the scaler reads are rendered (all with
//! `RunOptions::full_scrapes`), and only the latency histograms a scrape exports are
//! filled as requests finish.

use super::config::FleetConfig;
use super::exporter::{self, Gauges, GpuReading, ServerCounters};
use super::replicas::Replicas;
use crate::queue::TimeUs;
use engine::observation::PodStatus;
use traces::metrics::prometheus::{Scrape, parse_text, render_text};
use traces::observe::PodScrape;

/// The latest scrape of one replica.
struct ScrapeRecord {
    slot: u32,
    engine: Scrape,
    gpu: Option<Scrape>,
    at: TimeUs,
}

/// What is scraped and the latest scrapes.
pub(super) struct Scraper {
    records: Vec<ScrapeRecord>,
    /// vLLM families each scrape keeps.
    kept_families: Vec<&'static str>,
    /// Whether DCGM fields are scraped.
    gpu: bool,
    /// The activator's scrape (held requests as waiting) and its time, for scalers
    /// that scale from zero.
    activator: Option<(Scrape, TimeUs)>,
    model_name: String,
    gpu_name: String,
    fb_total_mib: f64,
    /// Per GPU source the latest scrape could not read (`dcgm NODE`), why.
    gpu_errors: std::collections::BTreeMap<String, String>,
}

/// Latency histograms of the vLLM exporter, in [`Scraper::latency_histograms`] order.
const LATENCY_HISTOGRAMS: [&str; 3] = [
    "vllm:time_to_first_token_seconds",
    "vllm:inter_token_latency_seconds",
    "vllm:request_queue_time_seconds",
];

impl Scraper {
    /// A scraper keeping the families `reads` accepts, and DCGM fields if `gpu`.
    pub(super) fn new(
        reads: impl Fn(&str) -> bool,
        gpu: bool,
        model_name: String,
        gpu_name: String,
        fb_total_mib: f64,
    ) -> Scraper {
        Scraper {
            records: Vec::new(),
            kept_families: exporter::VLLM_FAMILIES
                .into_iter()
                .filter(|name| reads(name))
                .collect(),
            gpu,
            activator: None,
            model_name,
            gpu_name,
            fb_total_mib,
            gpu_errors: std::collections::BTreeMap::new(),
        }
    }

    /// The GPU sources the latest scrape could not read, source → why.
    pub(super) fn gpu_errors(&self) -> &std::collections::BTreeMap<String, String> {
        &self.gpu_errors
    }

    /// Whether the TTFT, inter-token-latency and queue-time histograms are exported: a
    /// histogram no scrape exports is not worth filling on every finished request.
    pub(super) fn latency_histograms(&self) -> [bool; 3] {
        LATENCY_HISTOGRAMS.map(|name| self.kept_families.contains(&name))
    }

    /// Scrapes every live replica at `now`; with `activator`, also the gateway's
    /// `held` requests as the activator's waiting ones.
    pub(super) fn scrape_all(
        &mut self,
        now: TimeUs,
        replicas: &mut Replicas,
        config: &FleetConfig,
        activator: bool,
        held: usize,
    ) {
        let mut records = std::mem::take(&mut self.records);
        records.clear();
        let memory_fraction = config.engine.gpu_memory_utilization.clamp(0.0, 1.0);
        let fb_used = self.fb_total_mib * memory_fraction;
        let power = &config.power;
        self.gpu_errors.clear();
        let dcgm_down = self.gpu
            && config
                .dcgm_outages
                .iter()
                .any(|&(from, to)| from <= now && now < to);
        for index in 0..replicas.live().len() {
            let slot = replicas.live()[index];
            let entry = replicas.slot_mut(slot);
            let Some(replica) = entry.replica.as_ref() else {
                continue;
            };
            let state = replica.state_at(now);
            let gauges = Gauges {
                running: state.running,
                waiting: state.waiting,
                kv_usage: if state.kv_total_blocks == 0 {
                    0.0
                } else {
                    state.kv_used_blocks as f64 / state.kv_total_blocks as f64
                },
            };
            let (utilization, tensor_active) =
                entry
                    .busy
                    .since_last(now, entry.startup.ready_us, state.compute_fs);
            let reading = GpuReading {
                utilization_pct: utilization,
                fb_used_mib: fb_used,
                fb_free_mib: self.fb_total_mib - fb_used,
                power_watts: power.idle_watts
                    + (power.max_watts - power.idle_watts) * utilization / 100.0,
                tensor_active,
            };
            let kept = &self.kept_families;
            let engine = exporter::vllm_scrape(&self.model_name, gauges, &entry.counters, |name| {
                kept.contains(&name)
            });
            if dcgm_down {
                self.gpu_errors.insert(
                    format!("dcgm {}", entry.node),
                    "connection refused (dcgm-exporter outage in the scenario)".to_string(),
                );
            }
            let gpu = (self.gpu && !dcgm_down).then(|| {
                exporter::dcgm_scrape(
                    &entry.pod,
                    &entry.node,
                    &self.gpu_name,
                    config.tensor_parallel,
                    reading,
                )
            });
            records.push(ScrapeRecord {
                slot,
                engine: through_text(&engine),
                gpu: gpu.as_ref().map(through_text),
                at: now,
            });
        }
        self.records = records;
        self.activator = activator.then(|| {
            let gauges = Gauges {
                running: 0,
                waiting: held as u32,
                kv_usage: 0.0,
            };
            let kept = &self.kept_families;
            let scrape = exporter::vllm_scrape(
                &self.model_name,
                gauges,
                &ServerCounters::default(),
                |name| kept.contains(&name),
            );
            (through_text(&scrape), now)
        });
    }

    /// The pods a tick at `now` observes: each live replica's status (`statuses`, in
    /// live order) with its latest scrape, and the activator (`activator_status`) when
    /// no replica is ready.
    pub(super) fn pods<'a>(
        &'a self,
        now: TimeUs,
        replicas: &Replicas,
        statuses: &'a [PodStatus],
        activator_status: &'a PodStatus,
    ) -> Vec<PodScrape<'a>> {
        let mut pods: Vec<PodScrape> = Vec::with_capacity(statuses.len() + 1);
        let mut records = self.records.iter().peekable();
        for (&slot, status) in replicas.live().iter().zip(statuses) {
            while records.peek().is_some_and(|record| record.slot < slot) {
                records.next();
            }
            let record = records.peek().filter(|record| record.slot == slot);
            pods.push(PodScrape {
                status,
                engine: record.map(|record| &record.engine),
                gpu: record.and_then(|record| record.gpu.as_ref()),
                scraped_at: record.map_or(now, |record| record.at),
            });
        }
        if replicas.ready().is_empty()
            && let Some((scrape, at)) = &self.activator
        {
            pods.push(PodScrape {
                status: activator_status,
                engine: Some(scrape),
                gpu: None,
                scraped_at: *at,
            });
        }
        pods
    }
}

/// A scrape as the operator would see it: rendered to Prometheus text and parsed back.
fn through_text(scrape: &Scrape) -> Scrape {
    parse_text(&render_text(scrape)).expect("rendered scrapes parse")
}
