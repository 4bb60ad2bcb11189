//! Fuzzes the parsers of bodies a live driver reads besides scrapes: Prometheus query
//! responses, external JSON values and the resource metrics API's `PodMetricsList`.
//! Any input must give a finite value (or usage) or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use traces::metrics::resource_usage::pod_metrics_list;
use traces::metrics::workload_value::{external_json, prometheus_query};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for value in [prometheus_query(text), external_json(text)].into_iter().flatten() {
        assert!(value.is_finite());
    }
    if let Ok(usage) = pod_metrics_list(text) {
        assert!(usage.values().flat_map(|pods| pods.values()).all(|s| s.value.is_finite()));
    }
});
