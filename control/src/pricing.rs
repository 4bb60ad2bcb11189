//! The price catalog both drivers read: cloud GPU instance prices by provider, each row
//! dated with its source (`pricing.yaml`, embedded), overridable row by row from a
//! user's file in the same layout.
//!
//! The simulator prices a fleet from `fleet.pricing: { provider, instance }`; the
//! operator prices each replica from its node's instance type under
//! `costConfig.cloudProvider`. A replica costs `price ÷ gpus × its GPUs`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

const BUILTIN: &str = include_str!("pricing.yaml");

/// One instance type of one provider.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstancePrice {
    pub instance: String,
    /// The simulator's GPU catalog id of the instance's GPUs.
    pub gpu: String,
    /// GPUs per instance.
    pub gpus: u32,
    /// On-demand USD per instance-hour.
    pub on_demand: f64,
    /// Typical spot USD per instance-hour; `None` where none could be sourced.
    #[serde(default)]
    pub spot: Option<f64>,
    /// The region the prices are for.
    pub region: String,
    /// When the prices were read: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: String,
    /// The page they were read from.
    pub source: String,
}

impl InstancePrice {
    /// USD per GPU-hour on demand.
    pub fn on_demand_per_gpu_hour(&self) -> f64 {
        self.on_demand / f64::from(self.gpus)
    }

    /// USD per GPU-hour on spot, when the row has a spot price.
    pub fn spot_per_gpu_hour(&self) -> Option<f64> {
        self.spot.map(|spot| spot / f64::from(self.gpus))
    }
}

/// A catalog that cannot be read, or a name it does not know (listing the known ones).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PricingError {
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: {provider}[{index}] ({instance}) {field}: {message}")]
    Row {
        origin: String,
        provider: String,
        index: usize,
        instance: String,
        field: &'static str,
        message: String,
    },
    #[error("unknown provider `{found}`; known: {known}")]
    UnknownProvider { found: String, known: String },
    #[error("unknown {provider} instance `{found}`; known: {known}")]
    UnknownInstance {
        provider: String,
        found: String,
        known: String,
    },
}

/// Instance prices by provider (`aws`, `gcp`, `azure`, or any a user file adds).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceCatalog {
    providers: BTreeMap<String, Vec<InstancePrice>>,
}

impl PriceCatalog {
    /// The embedded catalog.
    pub fn builtin() -> &'static PriceCatalog {
        static CATALOG: OnceLock<PriceCatalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            PriceCatalog::parse(BUILTIN, "builtin pricing.yaml").expect("embedded catalog is valid")
        })
    }

    /// A catalog from YAML text; `origin` names it in errors (a file path).
    pub fn parse(text: &str, origin: &str) -> Result<PriceCatalog, PricingError> {
        let raw: BTreeMap<String, Vec<InstancePrice>> =
            serde_saphyr::from_str(text).map_err(|e| PricingError::Parse {
                origin: origin.to_string(),
                message: e.to_string(),
            })?;
        let mut providers = BTreeMap::new();
        for (provider, rows) in raw {
            for (index, row) in rows.iter().enumerate() {
                check_row(row).map_err(|(field, message)| PricingError::Row {
                    origin: origin.to_string(),
                    provider: provider.clone(),
                    index,
                    instance: row.instance.clone(),
                    field,
                    message,
                })?;
            }
            providers.insert(provider.trim().to_ascii_lowercase(), rows);
        }
        Ok(PriceCatalog { providers })
    }

    /// The embedded catalog overridden by the file at `path`: its rows replace the
    /// built-in ones of the same provider and instance, and add the others.
    pub fn builtin_with_file(path: &Path) -> Result<PriceCatalog, PricingError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PricingError::Parse {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        Ok(PriceCatalog::builtin().overridden_by(PriceCatalog::parse(&text, &origin)?))
    }

    /// This catalog with `user`'s rows replacing or adding to its own.
    pub fn overridden_by(&self, user: PriceCatalog) -> PriceCatalog {
        let mut providers = self.providers.clone();
        for (provider, rows) in user.providers {
            let mine = providers.entry(provider).or_default();
            for row in rows {
                match mine
                    .iter_mut()
                    .find(|r| r.instance.eq_ignore_ascii_case(&row.instance))
                {
                    Some(existing) => *existing = row,
                    None => mine.push(row),
                }
            }
        }
        PriceCatalog { providers }
    }

    /// The providers, each with its instance rows.
    pub fn providers(&self) -> impl Iterator<Item = (&str, &[InstancePrice])> {
        self.providers
            .iter()
            .map(|(provider, rows)| (provider.as_str(), rows.as_slice()))
    }

    /// The instance `instance` of `provider`, both matched case-insensitively.
    pub fn lookup(&self, provider: &str, instance: &str) -> Result<&InstancePrice, PricingError> {
        let provider_key = provider.trim().to_ascii_lowercase();
        let Some(instances) = self.providers.get(&provider_key) else {
            return Err(PricingError::UnknownProvider {
                found: provider.to_string(),
                known: self
                    .providers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
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
}

fn check_row(row: &InstancePrice) -> Result<(), (&'static str, String)> {
    if row.gpus == 0 {
        return Err(("gpus", "must be at least 1".to_string()));
    }
    if !(row.on_demand.is_finite() && row.on_demand > 0.0) {
        return Err((
            "on_demand",
            format!("must be above 0 (found {})", row.on_demand),
        ));
    }
    if let Some(spot) = row.spot
        && !(spot.is_finite() && spot > 0.0 && spot <= row.on_demand)
    {
        return Err((
            "spot",
            format!(
                "must be above 0 and at most on_demand {} (found {spot})",
                row.on_demand
            ),
        ));
    }
    let date = row.as_of.as_bytes();
    let digits = |range: std::ops::Range<usize>| date[range].iter().all(u8::is_ascii_digit);
    let dated = match date.len() {
        4 => digits(0..4),
        7 => digits(0..4) && date[4] == b'-' && digits(5..7),
        10 => digits(0..4) && date[4] == b'-' && digits(5..7) && date[7] == b'-' && digits(8..10),
        _ => false,
    };
    if !dated {
        return Err((
            "as_of",
            format!(
                "must be YYYY, YYYY-MM or YYYY-MM-DD (found `{}`)",
                row.as_of
            ),
        ));
    }
    if row.source.trim().is_empty() {
        return Err(("source", "must name where the prices come from".to_string()));
    }
    if row.region.trim().is_empty() {
        return Err((
            "region",
            "must name the region the prices are for".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text gives a catalog whose every row passed the checks, or an error
        /// naming the origin; never a panic.
        #[test]
        fn any_text_gives_a_checked_catalog_or_a_named_error(text in "(aws:\n  - \\{ [a-z_:, 0-9.\"]{0,120} \\}\n)?.{0,60}") {
            match PriceCatalog::parse(&text, "fuzz.yaml") {
                Ok(catalog) => {
                    for (_, rows) in catalog.providers() {
                        for row in rows {
                            prop_assert!(check_row(row).is_ok());
                        }
                    }
                }
                Err(e) => {
                    let starts = e.to_string().starts_with("fuzz.yaml: ");
                    prop_assert!(starts, "{}", e);
                }
            }
        }
    }

    #[test]
    fn the_builtin_catalog_covers_the_three_clouds_each_row_dated_and_sourced() {
        let catalog = PriceCatalog::builtin();
        let providers: Vec<&str> = catalog.providers().map(|(p, _)| p).collect();
        assert_eq!(providers, ["aws", "azure", "gcp"]);
        for (provider, instance) in [
            ("aws", "p4d.24xlarge"),
            ("aws", "p4de.24xlarge"),
            ("aws", "p5.48xlarge"),
            ("aws", "p5en.48xlarge"),
            ("aws", "g5.xlarge"),
            ("aws", "g6.xlarge"),
            ("aws", "g6e.xlarge"),
            ("gcp", "a2-highgpu-1g"),
            ("gcp", "a3-highgpu-8g"),
            ("gcp", "g2-standard-4"),
            ("azure", "Standard_ND96asr_v4"),
            ("azure", "Standard_ND96isr_H100_v5"),
            ("azure", "Standard_NC24ads_A100_v4"),
        ] {
            let row = catalog.lookup(provider, instance).unwrap();
            assert!(row.source.starts_with("https://"), "{instance}");
        }
    }

    #[test]
    fn per_gpu_hour_divides_by_gpus() {
        let p5 = PriceCatalog::builtin()
            .lookup("AWS", "P5.48xlarge")
            .unwrap();
        assert_eq!(p5.gpus, 8);
        assert!((p5.on_demand_per_gpu_hour() - 55.04 / 8.0).abs() < 1e-12);
        assert!(p5.spot_per_gpu_hour().unwrap() < p5.on_demand_per_gpu_hour());
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let catalog = PriceCatalog::builtin();
        let err = catalog.lookup("aws", "p9.huge").unwrap_err().to_string();
        assert!(
            err.contains("p5.48xlarge") && err.contains("p9.huge"),
            "{err}"
        );
        let err = catalog.lookup("oracle-cloud", "x").unwrap_err().to_string();
        assert!(err.contains("aws, azure, gcp"), "{err}");
    }

    #[test]
    fn a_user_file_replaces_rows_and_adds_new_ones() {
        let user = PriceCatalog::parse(
            "aws:\n  - { instance: p5.48xlarge, gpu: h100-80gb, gpus: 8, on_demand: 40.0, region: us-west-2, as_of: \"2026-11-30\", source: \"our contract\" }\n  - { instance: p5e.48xlarge, gpu: h200, gpus: 8, on_demand: 60.0, spot: 30.0, region: us-east-2, as_of: \"2026-12\", source: \"our quote\" }\n",
            "prices.yaml",
        )
        .unwrap();
        let merged = PriceCatalog::builtin().overridden_by(user);
        let p5 = merged.lookup("aws", "p5.48xlarge").unwrap();
        assert_eq!((p5.on_demand, p5.spot), (40.0, None));
        assert_eq!(merged.lookup("aws", "p5e.48xlarge").unwrap().gpus, 8);
        assert!(
            merged.lookup("gcp", "a3-highgpu-8g").is_ok(),
            "the rest kept"
        );
    }

    #[test]
    fn bad_rows_are_refused_naming_the_file_the_row_and_the_field() {
        let row =
            |fields: &str| format!("aws:\n  - {{ instance: x1, gpu: l4, gpus: 1, {fields} }}\n");
        for (fields, field) in [
            (
                "on_demand: 0, region: r, as_of: \"2025\", source: s",
                "on_demand",
            ),
            (
                "on_demand: 1, spot: 2, region: r, as_of: \"2025\", source: s",
                "spot",
            ),
            (
                "on_demand: 1, region: r, as_of: \"June 2025\", source: s",
                "as_of",
            ),
            (
                "on_demand: 1, region: r, as_of: \"2025\", source: \" \"",
                "source",
            ),
        ] {
            let err = PriceCatalog::parse(&row(fields), "mine.yaml")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("mine.yaml: aws[0] (x1) ") && err.contains(field),
                "{err}"
            );
        }
        let err = PriceCatalog::parse("aws:\n  - { instance: x1, gpus: 1 }\n", "mine.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mine.yaml: ") && err.contains("line"),
            "{err}"
        );
        let err = PriceCatalog::builtin_with_file(Path::new("/no/such/prices.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/no/such/prices.yaml: "), "{err}");
    }
}
