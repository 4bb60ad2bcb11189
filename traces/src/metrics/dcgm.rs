//! NVIDIA dcgm-exporter scrapes: per-GPU and per-pod readings.
//!
//! dcgm-exporter exports one gauge or counter per field (`DCGM_FI_DEV_GPU_UTIL`,
//! `DCGM_FI_DEV_FB_USED`, ...) with one series per GPU, labelled `gpu` (index), `UUID`,
//! `modelName`, `Hostname` (older releases) or `hostname`, and, with the Kubernetes
//! pod mapping, `pod`, `namespace`, `container`. When Prometheus scraped it with
//! `honor_labels: false` those become `exported_pod` / `exported_namespace`; both are
//! read. MIG instances add `GPU_I_ID` and are kept apart.

use super::prometheus::Scrape;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// GPU utilisation in percent.
pub const GPU_UTIL: &str = "DCGM_FI_DEV_GPU_UTIL";
/// Framebuffer memory used, MiB.
pub const FB_USED: &str = "DCGM_FI_DEV_FB_USED";
/// Framebuffer memory free, MiB.
pub const FB_FREE: &str = "DCGM_FI_DEV_FB_FREE";
/// Power draw, W.
pub const POWER_USAGE: &str = "DCGM_FI_DEV_POWER_USAGE";
/// Ratio of cycles the tensor (HMMA) pipe was active, 0..=1 (profiling field, in the
/// default list).
pub const TENSOR_ACTIVE: &str = "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE";
/// The enforced power-management limit, W (not in the default list).
pub const POWER_LIMIT: &str = "DCGM_FI_DEV_POWER_MGMT_LIMIT";
/// Memory copy utilisation, percent.
pub const MEM_COPY_UTIL: &str = "DCGM_FI_DEV_MEM_COPY_UTIL";

/// Which physical (or MIG) GPU a reading belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct GpuId {
    pub hostname: Option<String>,
    pub gpu: Option<String>,
    pub uuid: Option<String>,
    pub mig_instance: Option<String>,
}

/// Every DCGM field read for one GPU in one scrape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GpuSample {
    pub id: GpuId,
    pub model_name: Option<String>,
    pub pod: Option<String>,
    pub namespace: Option<String>,
    pub container: Option<String>,
    /// Field name (`DCGM_FI_...`) → value, as exported.
    pub fields: BTreeMap<String, f64>,
}

impl GpuSample {
    pub fn field(&self, name: &str) -> Option<f64> {
        self.fields.get(name).copied()
    }

    /// GPU utilisation as a 0..=1 fraction.
    pub fn utilization(&self) -> Option<f64> {
        self.field(GPU_UTIL).map(|pct| pct / 100.0)
    }

    pub fn fb_used_mib(&self) -> Option<f64> {
        self.field(FB_USED)
    }

    pub fn fb_free_mib(&self) -> Option<f64> {
        self.field(FB_FREE)
    }

    /// Used + free framebuffer, MiB (DCGM reserves a little that is in neither).
    pub fn fb_total_mib(&self) -> Option<f64> {
        Some(self.fb_used_mib()? + self.fb_free_mib()?)
    }

    pub fn power_w(&self) -> Option<f64> {
        self.field(POWER_USAGE)
    }
}

fn label(sample: &super::prometheus::Sample, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| sample.label(n))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Groups every `DCGM_FI_*` sample of a scrape by GPU, sorted by hostname, index, UUID.
pub fn gpu_samples(scrape: &Scrape) -> Vec<GpuSample> {
    let mut by_gpu: BTreeMap<GpuId, GpuSample> = BTreeMap::new();
    for sample in scrape.families.iter().flat_map(|f| f.samples.iter()) {
        if !sample.name.starts_with("DCGM_FI_") {
            continue;
        }
        let id = GpuId {
            hostname: label(sample, &["Hostname", "hostname"]),
            gpu: label(sample, &["gpu"]),
            uuid: label(sample, &["UUID", "uuid"]),
            mig_instance: label(sample, &["GPU_I_ID"]),
        };
        let entry = by_gpu.entry(id.clone()).or_insert_with(|| GpuSample {
            id,
            ..GpuSample::default()
        });
        entry.model_name = entry
            .model_name
            .take()
            .or_else(|| label(sample, &["modelName"]));
        entry.pod = entry
            .pod
            .take()
            .or_else(|| label(sample, &["pod", "exported_pod"]));
        entry.namespace = entry
            .namespace
            .take()
            .or_else(|| label(sample, &["namespace", "exported_namespace"]));
        entry.container = entry
            .container
            .take()
            .or_else(|| label(sample, &["container", "exported_container"]));
        entry.fields.insert(sample.name.clone(), sample.value);
    }
    by_gpu.into_values().collect()
}

/// GPU readings of one pod, aggregated over its GPUs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodGpus {
    pub namespace: Option<String>,
    pub pod: String,
    pub gpus: usize,
    /// Mean GPU utilisation over the pod's GPUs, 0..=1.
    pub utilization: Option<f64>,
    pub fb_used_mib: Option<f64>,
    pub fb_free_mib: Option<f64>,
    pub power_w: Option<f64>,
}

/// Aggregates GPU samples per `(namespace, pod)`; GPUs without a pod label are skipped.
/// Utilisation is averaged, memory and power are added.
pub fn by_pod(samples: &[GpuSample]) -> Vec<PodGpus> {
    let mut pods: BTreeMap<(Option<String>, String), Vec<&GpuSample>> = BTreeMap::new();
    for sample in samples {
        if let Some(pod) = &sample.pod {
            pods.entry((sample.namespace.clone(), pod.clone()))
                .or_default()
                .push(sample);
        }
    }
    pods.into_iter()
        .map(|((namespace, pod), gpus)| {
            let sum = |f: fn(&GpuSample) -> Option<f64>| {
                let values: Vec<f64> = gpus.iter().filter_map(|g| f(g)).collect();
                (!values.is_empty()).then(|| values.iter().sum::<f64>())
            };
            let util_values: Vec<f64> = gpus.iter().filter_map(|g| g.utilization()).collect();
            PodGpus {
                namespace,
                pod,
                gpus: gpus.len(),
                utilization: (!util_values.is_empty())
                    .then(|| util_values.iter().sum::<f64>() / util_values.len() as f64),
                fb_used_mib: sum(GpuSample::fb_used_mib),
                fb_free_mib: sum(GpuSample::fb_free_mib),
                power_w: sum(GpuSample::power_w),
            }
        })
        .collect()
}

/// One line of dcgm-exporter's counters CSV (`DCGM FIELD, Prometheus metric type, help`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    pub kind: String,
    pub help: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FieldListError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected `DCGM_FI_NAME, gauge|counter|label, help`, found `{found}`")]
    Line {
        path: PathBuf,
        line: usize,
        found: String,
    },
}

/// Reads dcgm-exporter's field list (`etc/default-counters.csv`): `#` comments and
/// blank lines skipped; the help text may itself contain commas.
pub fn read_field_list(path: &Path) -> Result<Vec<FieldSpec>, FieldListError> {
    let text = std::fs::read_to_string(path).map_err(|source| FieldListError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, ',');
        let name = parts.next().unwrap_or("").trim();
        let kind = parts.next().unwrap_or("").trim();
        let help = parts.next().unwrap_or("").trim();
        if !name.starts_with("DCGM_") || kind.is_empty() {
            return Err(FieldListError::Line {
                path: path.to_path_buf(),
                line: index + 1,
                found: line.to_string(),
            });
        }
        out.push(FieldSpec {
            name: name.to_string(),
            kind: kind.to_string(),
            help: help.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::prometheus::parse_text;

    const SCRAPE: &str = "\
# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-a\",device=\"nvidia0\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"node1\",container=\"vllm\",namespace=\"llm\",pod=\"vllm-0\"} 80
DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",UUID=\"GPU-b\",device=\"nvidia1\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"node1\",container=\"vllm\",namespace=\"llm\",pod=\"vllm-0\"} 40
DCGM_FI_DEV_GPU_UTIL{gpu=\"2\",UUID=\"GPU-c\",device=\"nvidia2\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"node1\"} 0
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{gpu=\"0\",UUID=\"GPU-a\",Hostname=\"node1\",namespace=\"llm\",pod=\"vllm-0\"} 70000
DCGM_FI_DEV_FB_USED{gpu=\"1\",UUID=\"GPU-b\",Hostname=\"node1\",namespace=\"llm\",pod=\"vllm-0\"} 60000
# TYPE DCGM_FI_DEV_FB_FREE gauge
DCGM_FI_DEV_FB_FREE{gpu=\"0\",UUID=\"GPU-a\",Hostname=\"node1\",namespace=\"llm\",pod=\"vllm-0\"} 11000
# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{gpu=\"0\",UUID=\"GPU-a\",Hostname=\"node1\",namespace=\"llm\",pod=\"vllm-0\"} 500.5
";

    #[test]
    fn groups_by_gpu_and_pod() {
        let scrape = parse_text(SCRAPE).unwrap();
        let gpus = gpu_samples(&scrape);
        assert_eq!(gpus.len(), 3);
        assert_eq!(gpus[0].id.uuid.as_deref(), Some("GPU-a"));
        assert_eq!(gpus[0].utilization(), Some(0.8));
        assert_eq!(gpus[0].fb_total_mib(), Some(81000.0));
        assert_eq!(gpus[0].power_w(), Some(500.5));
        assert_eq!(gpus[0].model_name.as_deref(), Some("NVIDIA H100 80GB HBM3"));
        let pods = by_pod(&gpus);
        assert_eq!(pods.len(), 1);
        assert_eq!(pods[0].gpus, 2);
        assert!((pods[0].utilization.unwrap() - 0.6).abs() < 1e-12);
        assert_eq!(pods[0].fb_used_mib, Some(130000.0));
    }
}
