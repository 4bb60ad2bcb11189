//! `fleet.pricing: { provider, instance }`: a fleet priced from the shared catalog
//! (`control::pricing`, the one the operator reads too) instead of a per-GPU price
//! worked out by hand; `catalog: FILE` overrides its rows with a user's own.

pub use control::pricing::{InstancePrice, PriceCatalog, PricingError};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_priced_instance_names_a_gpu_of_the_catalog() {
        let catalog = crate::Catalog::builtin();
        for (provider, instances) in PriceCatalog::builtin().providers() {
            assert!(!instances.is_empty(), "{provider}");
            for price in instances {
                catalog
                    .gpu(&price.gpu)
                    .unwrap_or_else(|e| panic!("{provider} {}: {e}", price.instance));
            }
        }
    }
}
