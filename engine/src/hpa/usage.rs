//! Upstream `metrics/utilization.go`: usage ratios with integer truncation.
//!
//! The truncations are part of the behavior: utilization is a whole percent
//! (`total * 100 / requests`, truncated) and an average value is a whole milli-unit,
//! so 33.9% is 33% and a ratio just above the tolerance band can fall inside it.
//! Sums are taken in 128 bits so that no input overflows.

use super::replica_calculator::MetricError;
use std::collections::BTreeMap;

/// Resource utilization of the pods that have both a sample and a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Utilization {
    /// Utilization over target utilization.
    pub ratio: f64,
    /// Whole percent of the requests.
    pub percent: i32,
    /// Average usage per counted pod, milli-units (truncated).
    pub raw_average_milli: i64,
}

/// `GetResourceUtilizationRatio`: samples without a request (pods not in the list)
/// are skipped; no request at all is an error.
pub(crate) fn resource_utilization(
    samples: &BTreeMap<String, i64>,
    requests: &BTreeMap<String, i64>,
    target_percent: i32,
) -> Result<Utilization, MetricError> {
    let mut usage_total: i128 = 0;
    let mut request_total: i128 = 0;
    let mut entries: i128 = 0;
    for (pod, usage) in samples {
        let Some(request) = requests.get(pod) else {
            continue;
        };
        usage_total += i128::from(*usage);
        request_total += i128::from(*request);
        entries += 1;
    }
    if request_total == 0 {
        return Err(MetricError::NoSampleMatchesKnownPods);
    }
    let percent = usage_total * 100 / request_total;
    let percent = i32::try_from(percent).map_err(|_| MetricError::UtilizationOutOfRange {
        percent: percent.to_string(),
    })?;
    Ok(Utilization {
        ratio: f64::from(percent) / f64::from(target_percent),
        percent,
        raw_average_milli: saturate(usage_total / entries),
    })
}

/// `GetMetricUsageRatio`: the truncated average of every sample over the target, and
/// that average. `samples` must not be empty (callers check first, as upstream).
pub(crate) fn metric_usage(samples: &BTreeMap<String, i64>, target_milli: i64) -> (f64, i64) {
    let total: i128 = samples.values().map(|v| i128::from(*v)).sum();
    let count = samples.len().max(1) as i128;
    let average = saturate(total / count);
    (average as f64 / target_milli as f64, average)
}

pub(crate) fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v > 0 { i64::MAX } else { i64::MIN })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, i64)]) -> BTreeMap<String, i64> {
        entries.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn utilization_truncates_to_whole_percent() {
        let u = resource_utilization(
            &map(&[("a", 100), ("b", 0), ("c", 0)]),
            &map(&[("a", 100), ("b", 100), ("c", 100)]),
            50,
        )
        .unwrap();
        assert_eq!(u.percent, 33);
        assert_eq!(u.ratio, 0.66);
        assert_eq!(u.raw_average_milli, 33);
    }

    #[test]
    fn samples_without_requests_are_skipped() {
        let u = resource_utilization(&map(&[("a", 500), ("x", 9000)]), &map(&[("a", 1000)]), 50)
            .unwrap();
        assert_eq!(u.percent, 50);
        let err = resource_utilization(&map(&[("x", 1)]), &map(&[("a", 1)]), 50).unwrap_err();
        assert_eq!(err, MetricError::NoSampleMatchesKnownPods);
    }

    #[test]
    fn average_truncates() {
        let (ratio, avg) = metric_usage(&map(&[("a", 20000), ("b", 21000), ("c", 21000)]), 20000);
        assert_eq!(avg, 20666);
        assert_eq!(ratio, 1.0333);
    }
}
