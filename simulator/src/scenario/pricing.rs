//! Cloud GPU instance prices, so a scenario can say `pricing: { provider: aws,
//! instance: p5.48xlarge }` instead of working out a per-GPU price.
//!
//! The table (`pricing.yaml`, embedded, sources in its comments) lists prices per
//! instance-hour with the instance's GPU count; the fleet is billed per GPU-hour, which
//! is `price / gpus`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const BUILTIN_PRICES: &str = include_str!("pricing.yaml");

/// One instance type of one provider.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstancePrice {
    pub instance: String,
    /// The GPU catalog id of the instance's GPUs.
    pub gpu: String,
    /// GPUs per instance.
    pub gpus: u32,
    /// On-demand USD per instance-hour.
    pub on_demand: f64,
    /// Typical spot USD per instance-hour.
    pub spot: f64,
}

impl InstancePrice {
    /// USD per GPU-hour, on-demand or spot.
    pub fn per_gpu_hour(&self, spot: bool) -> f64 {
        let price = if spot { self.spot } else { self.on_demand };
        price / f64::from(self.gpus)
    }
}

/// A provider or instance the table does not know; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PricingError {
    #[error("unknown provider `{found}`; known: {known}")]
    UnknownProvider { found: String, known: String },
    #[error("unknown {provider} instance `{found}`; known: {known}")]
    UnknownInstance {
        provider: String,
        found: String,
        known: String,
    },
}

/// The embedded table, by provider (`aws`, `gcp`, `azure`).
pub fn table() -> &'static BTreeMap<String, Vec<InstancePrice>> {
    static TABLE: OnceLock<BTreeMap<String, Vec<InstancePrice>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_saphyr::from_str(BUILTIN_PRICES).expect("embedded pricing.yaml is valid")
    })
}

/// The instance `instance` of `provider`, both matched case-insensitively.
pub fn lookup(provider: &str, instance: &str) -> Result<&'static InstancePrice, PricingError> {
    let table = table();
    let provider_key = provider.trim().to_ascii_lowercase();
    let Some(instances) = table.get(&provider_key) else {
        return Err(PricingError::UnknownProvider {
            found: provider.to_string(),
            known: table.keys().cloned().collect::<Vec<_>>().join(", "),
        });
    };
    instances
        .iter()
        .find(|price| price.instance.eq_ignore_ascii_case(instance.trim()))
        .ok_or_else(|| PricingError::UnknownInstance {
            provider: provider_key.clone(),
            found: instance.to_string(),
            known: instances
                .iter()
                .map(|price| price.instance.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_is_consistent() {
        let catalog = crate::Catalog::builtin();
        for (provider, instances) in table() {
            assert!(!instances.is_empty(), "{provider}");
            for price in instances {
                assert!(price.gpus >= 1, "{}", price.instance);
                assert!(
                    price.spot > 0.0 && price.spot < price.on_demand,
                    "{}: spot below on-demand",
                    price.instance
                );
                catalog
                    .gpu(&price.gpu)
                    .expect("instance GPU is in the catalog");
            }
        }
    }

    #[test]
    fn per_gpu_hour_divides_by_gpus() {
        let p5 = lookup("AWS", "P5.48xlarge").unwrap();
        assert_eq!(p5.gpus, 8);
        assert!((p5.per_gpu_hour(false) - 55.04 / 8.0).abs() < 1e-12);
        assert!(p5.per_gpu_hour(true) < p5.per_gpu_hour(false));
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = lookup("aws", "p9.huge").unwrap_err().to_string();
        assert!(
            err.contains("p5.48xlarge") && err.contains("p9.huge"),
            "{err}"
        );
        let err = lookup("oracle-cloud", "x").unwrap_err().to_string();
        assert!(err.contains("aws, azure, gcp"), "{err}");
    }
}
