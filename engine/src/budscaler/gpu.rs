//! `gpuConfig`: GPU memory and compute pressure as floors under the count.
//!
//! What is read, per ready replica (starting ones carry no load yet):
//! - **memory**: the KV-cache use the serving engine reports. vLLM, SGLang and TGI
//!   reserve `gpu_memory_utilization` of the card when they start, so DCGM's
//!   framebuffer reads about 90 % on an idle replica and a framebuffer threshold would
//!   always fire; the KV cache is the memory that fills with load. Only when no ready
//!   replica reports KV use (an engine without the metric) is memory the fullest GPU's
//!   framebuffer, used ÷ total; a replica whose engine scrape failed while others
//!   report KV is not read (its framebuffer is the preallocation, not load).
//! - **compute**: the busiest GPU's tensor-pipe activity
//!   (`DCGM_FI_PROF_PIPE_TENSOR_ACTIVE`, in dcgm-exporter's default list), else its
//!   power draw ÷ its power limit when the limit is exported. `DCGM_FI_DEV_GPU_UTIL`
//!   is not used: it reads near 100 % whenever a batch runs, however small.
//!
//! A replica is as pressed as its most pressed GPU: tensor-parallel shards step in
//! lockstep, so the busiest one sets the pace; a MIG instance is one GPU of its own.
//! The fleet's pressure is the mean over the ready replicas with a reading, as the HPA
//! averages utilization. The rule asks `ceil(sum of pressures ÷ threshold)` replicas
//! (the HPA's utilization rule) as a floor under the other stages: above the
//! threshold that is more than are read, so it raises the count; at or below it, it
//! only keeps a scale-down from pushing the mean back over (which would flap: down on
//! demand, up on pressure). One hot replica among cool ones moves the mean only by its
//! share: more replicas do not cool a replica the router overloads. A threshold of 0
//! turns its rule off.

use crate::observation::{GpuDevice, Observation, PodStatus};
use crate::spec::ResolvedGpu;

/// The spec field each rule reads its threshold from (and names itself by).
pub const MEMORY_RULE: &str = "gpuMemoryThreshold";
pub const COMPUTE_RULE: &str = "gpuComputeThreshold";

/// One rule's reading over the ready replicas.
#[derive(Debug, Clone, PartialEq)]
pub struct Pressure {
    /// [`MEMORY_RULE`] or [`COMPUTE_RULE`].
    pub rule: &'static str,
    /// Mean pressure over `read` replicas, 0..=1.
    pub mean: f64,
    /// The hottest replica's pressure.
    pub max: f64,
    /// Replicas with a reading.
    pub read: i32,
    /// The threshold as a fraction.
    pub threshold: f64,
    /// Replicas the rule asks for at least (more than `read` when the mean is over
    /// the threshold).
    pub proposal: Option<i32>,
    /// Where the reading came from (`kv-cache`, `framebuffer`, `tensor-pipe`, `power`).
    pub source: &'static str,
}

/// Both rules' readings at one observation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GpuReadings {
    pub memory: Option<Pressure>,
    pub compute: Option<Pressure>,
    /// Ready replicas with no GPU sample at all (their GPU source failed).
    pub missing: Vec<String>,
    /// Ready replicas with GPU samples but no compute field the rule reads.
    pub no_compute_field: i32,
}

impl GpuReadings {
    /// The rules' proposals, memory first.
    pub fn proposals(&self) -> impl Iterator<Item = &Pressure> {
        [&self.memory, &self.compute]
            .into_iter()
            .flatten()
            .filter(|p| p.proposal.is_some())
    }

    /// One clause for the decision's message.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for p in [&self.memory, &self.compute].into_iter().flatten() {
            parts.push(format!(
                "gpu {} {:.2} mean ({}, {} replicas, max {:.2}) vs {:.2}{}",
                if p.rule == MEMORY_RULE {
                    "memory"
                } else {
                    "compute"
                },
                p.mean,
                p.source,
                p.read,
                p.max,
                p.threshold,
                match p.proposal {
                    Some(r) if p.mean > p.threshold => format!(" asks {r}"),
                    Some(r) => format!(", floor {r}"),
                    None => String::new(),
                }
            ));
        }
        if self.no_compute_field > 0 {
            parts.push(format!(
                "gpu compute: {} replica(s) export neither tensor-pipe activity nor a power limit",
                self.no_compute_field
            ));
        }
        if !self.missing.is_empty() {
            parts.push(format!("gpu: no reading from {}", self.missing.join(", ")));
        }
        parts.join("; ")
    }
}

fn hottest(devices: &[GpuDevice], read: fn(&GpuDevice) -> Option<f64>) -> Option<f64> {
    devices.iter().filter_map(read).reduce(f64::max)
}

struct Sum {
    total: f64,
    max: f64,
    read: i32,
    kv: i32,
}

impl Sum {
    fn new() -> Sum {
        Sum {
            total: 0.0,
            max: 0.0,
            read: 0,
            kv: 0,
        }
    }

    fn add(&mut self, value: f64) {
        self.total += value;
        self.max = self.max.max(value);
        self.read += 1;
    }

    fn pressure(&self, rule: &'static str, percent: i32, source: &'static str) -> Option<Pressure> {
        if self.read == 0 || percent <= 0 {
            return None;
        }
        let threshold = f64::from(percent) / 100.0;
        let mean = self.total / f64::from(self.read);
        Some(Pressure {
            rule,
            mean,
            max: self.max,
            read: self.read,
            threshold,
            proposal: Some((self.total / threshold).ceil().min(f64::from(i32::MAX)) as i32),
            source,
        })
    }
}

/// Reads both rules over the ready replicas of `obs` (the activator excluded).
pub fn read(gpu: &ResolvedGpu, obs: &Observation) -> GpuReadings {
    let mut readings = GpuReadings::default();
    let mut memory = Sum::new();
    let mut compute = Sum::new();
    let mut compute_source = "tensor-pipe";
    let ready: Vec<&PodStatus> = obs
        .pods
        .iter()
        .filter(|p| p.is_ready() && p.name != super::signals::ACTIVATOR_POD)
        .collect();
    let engine_reports_kv = ready.iter().any(|pod| kv_use(obs, pod).is_some());
    for pod in ready {
        let devices = obs.gpu.get(&pod.name).map(|g| g.devices.as_slice());
        if engine_reports_kv {
            if let Some(kv) = kv_use(obs, pod) {
                memory.add(kv);
                memory.kv += 1;
            }
        } else if let Some(framebuffer) =
            devices.and_then(|d| hottest(d, GpuDevice::memory_fraction))
        {
            memory.add(framebuffer);
        }
        let Some(devices) = devices.filter(|d| !d.is_empty()) else {
            readings.missing.push(pod.name.clone());
            continue;
        };
        match hottest(devices, GpuDevice::compute_fraction) {
            Some(value) => {
                if devices.iter().all(|d| d.tensor_active.is_none()) {
                    compute_source = "power";
                }
                compute.add(value);
            }
            None => readings.no_compute_field += 1,
        }
    }
    let memory_source = if memory.kv > 0 {
        "kv-cache"
    } else {
        "framebuffer"
    };
    readings.memory = memory.pressure(MEMORY_RULE, gpu.memory_threshold_percent, memory_source);
    readings.compute =
        compute.pressure(COMPUTE_RULE, gpu.compute_threshold_percent, compute_source);
    readings
}

fn kv_use(obs: &Observation, pod: &PodStatus) -> Option<f64> {
    obs.serving
        .get(&pod.name)
        .and_then(|s| s.kv_cache_usage)
        .map(|kv| kv.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{GpuSample, ServingSample};

    fn config(memory: i32, compute: i32) -> ResolvedGpu {
        ResolvedGpu {
            enabled: true,
            memory_threshold_percent: memory,
            compute_threshold_percent: compute,
            topology_aware: false,
            preferred_gpu_type: None,
            vgpu_support: false,
            dcgm_endpoint: None,
            prom_ql: None,
        }
    }

    fn device(id: &str, fb_used: f64, tensor: Option<f64>) -> GpuDevice {
        GpuDevice {
            id: id.to_string(),
            utilization_percent: Some(100.0),
            memory_used_mib: Some(fb_used),
            memory_free_mib: Some(100.0 - fb_used),
            tensor_active: tensor,
            ..GpuDevice::default()
        }
    }

    /// Ready pods `p0..`, each with its GPUs and optionally a KV reading.
    fn observation(pods: &[(Vec<GpuDevice>, Option<f64>)]) -> Observation {
        let mut obs = Observation::default();
        for (i, (devices, kv)) in pods.iter().enumerate() {
            let name = format!("p{i}");
            obs.pods.push(PodStatus::ready_since(&name, 0));
            if !devices.is_empty() {
                obs.gpu.insert(
                    name.clone(),
                    GpuSample {
                        devices: devices.clone(),
                    },
                );
            }
            if kv.is_some() {
                obs.serving.insert(
                    name,
                    ServingSample {
                        kv_cache_usage: *kv,
                        ..ServingSample::default()
                    },
                );
            }
        }
        obs.current_replicas = pods.len() as i32;
        obs
    }

    #[test]
    fn memory_is_the_kv_cache_when_the_engine_reports_it_not_the_preallocated_framebuffer() {
        // vLLM holds 90 % of the card on both replicas; their KV caches are 30 % full.
        let obs = observation(&[
            (vec![device("0", 90.0, None)], Some(0.3)),
            (vec![device("0", 90.0, None)], Some(0.3)),
        ]);
        let m = read(&config(80, 80), &obs).memory.unwrap();
        assert_eq!(m.source, "kv-cache");
        assert!((m.mean - 0.3).abs() < 1e-12);
        // ceil(0.6 / 0.8) = 1: no raise; a floor of one under a scale-down.
        assert_eq!(m.proposal, Some(1));
    }

    #[test]
    fn without_a_kv_reading_memory_is_the_fullest_gpus_framebuffer() {
        let obs = observation(&[
            (vec![device("0", 50.0, None), device("1", 95.0, None)], None),
            (vec![device("0", 85.0, None), device("1", 60.0, None)], None),
        ]);
        let m = read(&config(80, 80), &obs).memory.unwrap();
        assert_eq!(m.source, "framebuffer");
        assert!((m.mean - 0.9).abs() < 1e-12, "{}", m.mean);
        // ceil((0.95 + 0.85) / 0.8) = 3
        assert_eq!(m.proposal, Some(3));
    }

    #[test]
    fn a_replica_whose_engine_scrape_failed_is_not_read_by_its_preallocated_framebuffer() {
        let obs = observation(&[
            (vec![device("0", 90.0, None)], Some(0.3)),
            (vec![device("0", 90.0, None)], None),
        ]);
        let m = read(&config(80, 80), &obs).memory.unwrap();
        assert_eq!((m.source, m.read), ("kv-cache", 1));
        assert!((m.mean - 0.3).abs() < 1e-12);
    }

    #[test]
    fn a_tensor_parallel_replica_is_as_busy_as_its_busiest_gpu() {
        let tp4 = vec![
            device("0", 90.0, Some(0.5)),
            device("1", 90.0, Some(0.95)),
            device("2", 90.0, Some(0.5)),
            device("3", 90.0, Some(0.5)),
        ];
        let obs = observation(&[(tp4.clone(), Some(0.2)), (tp4, Some(0.2))]);
        let c = read(&config(80, 80), &obs).compute.unwrap();
        assert_eq!((c.read, c.source), (2, "tensor-pipe"));
        assert!((c.mean - 0.95).abs() < 1e-12);
        assert_eq!(c.proposal, Some(3)); // ceil(1.9 / 0.8)
    }

    #[test]
    fn the_mean_over_ready_replicas_decides_so_one_hot_replica_does_not_scale() {
        let cool = || (vec![device("0", 90.0, Some(0.3))], Some(0.3));
        let hot = (vec![device("0", 90.0, Some(0.99))], Some(0.99));
        let obs = observation(&[hot, cool(), cool(), cool()]);
        let r = read(&config(80, 80), &obs);
        // ceil(1.89 / 0.8) = 3 of the 4 replicas: no raise.
        assert_eq!(r.memory.as_ref().unwrap().proposal, Some(3));
        assert_eq!(r.compute.as_ref().unwrap().proposal, Some(3));
        assert!((r.compute.unwrap().max - 0.99).abs() < 1e-12);
    }

    #[test]
    fn under_the_threshold_the_rule_floors_a_scale_down_where_the_mean_would_cross_it() {
        // Four replicas at 35 % tensor activity: three could carry it under 40 %
        // (1.4 / 0.4 = 3.5 → 4); the rule keeps four.
        let obs = observation(&vec![(vec![device("0", 90.0, Some(0.35))], None); 4]);
        let c = read(&config(80, 40), &obs).compute.unwrap();
        assert_eq!(c.proposal, Some(4));
        assert!(read(&config(80, 40), &obs).describe().contains("floor 4"));
    }

    #[test]
    fn pods_not_ready_are_not_read_and_ready_pods_without_gpus_are_missing() {
        let mut obs = observation(&[
            (vec![device("0", 90.0, Some(0.9))], Some(0.9)),
            (vec![], Some(0.9)),
            (vec![device("0", 90.0, Some(0.1))], Some(0.1)),
        ]);
        obs.pods[2].ready = false;
        let r = read(&config(80, 80), &obs);
        assert_eq!(r.missing, vec!["p1".to_string()]);
        assert_eq!(r.compute.as_ref().unwrap().read, 1);
        // Memory reads p1's KV cache: its engine answered even if its GPUs did not.
        assert_eq!(r.memory.as_ref().unwrap().read, 2);
        assert_eq!(r.memory.unwrap().proposal, Some(3)); // ceil(1.8 / 0.8)
    }

    #[test]
    fn power_over_its_limit_stands_in_for_tensor_activity_and_gpu_util_never_does() {
        let mut d = device("0", 90.0, None);
        let obs = observation(&[(vec![d.clone()], None)]);
        let r = read(&config(80, 80), &obs);
        assert_eq!(r.compute, None, "GPU_UTIL at 100 % is not compute pressure");
        assert_eq!(r.no_compute_field, 1);
        d.power_watts = Some(630.0);
        d.power_limit_watts = Some(700.0);
        let c = read(&config(80, 80), &observation(&[(vec![d], None)]))
            .compute
            .unwrap();
        assert_eq!((c.source, c.proposal), ("power", Some(2)));
    }

    #[test]
    fn a_threshold_of_zero_turns_its_rule_off() {
        let obs = observation(&[(vec![device("0", 99.0, Some(0.99))], Some(0.99))]);
        let r = read(&config(0, 0), &obs);
        assert_eq!((r.memory, r.compute), (None, None));
    }
}
