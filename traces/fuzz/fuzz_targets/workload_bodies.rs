//! Fuzzes the parsers of bodies a live driver reads besides scrapes: Prometheus query
//! responses (one value, or the series of a GPU query), external JSON values, the resource metrics API's `PodMetricsList` and
//! the custom and external metrics APIs' value lists.
//! Any input must give a finite value (or usage) or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use traces::metrics::metrics_api::{external_metric_value_list, metric_value_list};
use traces::metrics::resource_usage::pod_metrics_list;
use traces::metrics::workload_value::{external_json, prometheus_query, prometheus_series};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let external = external_metric_value_list(text).map_err(|e| e.to_string());
    for value in [prometheus_query(text).map_err(|e| e.to_string()), external_json(text).map_err(|e| e.to_string()), external]
        .into_iter()
        .flatten()
    {
        assert!(value.is_finite());
    }
    if let Ok(samples) = metric_value_list(text) {
        assert!(samples.values().all(|s| s.value.is_finite()));
    }
    if let Ok(scrape) = prometheus_series(text) {
        assert!(scrape.families.iter().flat_map(|f| &f.samples).all(|s| s.value.is_finite()));
    }
    if let Ok(usage) = pod_metrics_list(text) {
        assert!(usage.values().flat_map(|pods| pods.values()).all(|s| s.value.is_finite()));
    }
});
