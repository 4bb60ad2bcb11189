//! From the file as written ([`super::file`]) to a checked [`Scenario`]: defaults,
//! relative paths, prices, catalogs and every cross-field rule, each failure naming its
//! field path.

use super::error::{At, ScenarioError};
use super::file::{
    DelayValue, FleetSection, GenerateSection, LifecycleSection, OracleSection, RangeValue,
    ScalerEntry, ScenarioFile, SloSection, SpotSection, TraceMode, TraceSection,
};
use super::pricing;
use super::{ImportedFrom, ScalerChoice, Scenario, TraceSource, TraceSpec};
use crate::catalog::Catalog;
use crate::fleet::{
    Delay, FleetConfig, LifecycleConfig, RateRange, RoutingPolicy, Slo, SpotConfig,
};
use crate::oracle::OracleOptions;
use engine::import::{ImportError, ImportKind};
use engine::spec::BudAIScaler;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};
use traces::generate::{GenerateConfig, KnobError, Pattern, PatternKnobs, TokenModel};
use traces::metrics::demand::DeriveOptions;
use traces::metrics::series::SeriesFormat;
use traces::metrics::signals::ModelServer;
use traces::{ColumnMapping, ReadOptions, TraceFormat};

/// The seed of a scenario that names none.
pub const DEFAULT_SEED: u64 = 42;

/// Reads and checks a scenario file; `seed` (the command line's `--seed`) overrides the
/// file's.
pub fn load(path: &Path, seed: Option<u64>) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|error| ScenarioError::Io {
        at: At::new(path.display().to_string(), None, "scenario"),
        path: path.display().to_string(),
        error,
    })?;
    parse(&text, path, seed)
}

/// Checks scenario `text` as if read from `path` (relative paths resolve against its
/// folder; messages name it).
pub fn parse(text: &str, path: &Path, seed: Option<u64>) -> Result<Scenario, ScenarioError> {
    let file_name = path.display().to_string();
    let raw: ScenarioFile = serde_saphyr::from_str(text).map_err(|error| ScenarioError::Parse {
        file: file_name.clone(),
        message: yaml_message(&error),
    })?;
    let cx = Context {
        file: file_name,
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    cx.resolve(raw, path, seed)
}

/// The scenario file: for messages and relative paths.
struct Context {
    file: String,
    dir: PathBuf,
}

impl Context {
    fn at(&self, field: impl Into<String>) -> At {
        At::new(self.file.clone(), None, field)
    }

    fn at_line(&self, line: u64, field: impl Into<String>) -> At {
        At::new(self.file.clone(), Some(line), field)
    }

    /// A path of the file, relative to the scenario's folder unless absolute.
    fn path(&self, written: &str) -> PathBuf {
        let written = Path::new(written);
        if written.is_absolute() {
            written.to_path_buf()
        } else {
            self.dir.join(written)
        }
    }

    fn resolve(
        &self,
        raw: ScenarioFile,
        path: &Path,
        seed: Option<u64>,
    ) -> Result<Scenario, ScenarioError> {
        if raw.name.trim().is_empty() {
            return Err(ScenarioError::invalid(
                self.at("name"),
                "a non-empty scenario name",
                "an empty string",
            ));
        }
        let seed = seed.or(raw.seed).unwrap_or(DEFAULT_SEED);
        let catalog = self.catalog(&raw)?;
        let slo = self.slo(&raw.slo)?;
        let mut fleet = self.fleet(&raw.fleet, &catalog)?;
        let trace = self.trace(&raw.trace, seed)?;
        let scalers = self.scalers(&raw.scalers, &fleet)?;
        fleet.start_unix_us = self.calendar(&raw.trace, &trace, &scalers)?;
        if matches!(
            trace.source,
            TraceSource::Series {
                mode: TraceMode::OpenLoop,
                ..
            }
        ) && let Some(index) = scalers
            .iter()
            .position(|s| !matches!(s, ScalerChoice::Manifest { .. }))
        {
            return Err(ScenarioError::invalid(
                self.at(format!("scalers[{index}]")),
                "manifest scalers only with trace.mode open_loop (static and oracle need the serving model)",
                format!("`{}`", scalers[index].name()),
            ));
        }
        let sweep = raw.sweep.map(|spanned| crate::sweep::Sweep {
            scaler: spanned.value.scaler,
            grid: spanned.value.grid.into_iter().collect(),
            line: Some(spanned.referenced.line()),
        });
        Ok(Scenario {
            sweep,
            name: raw.name,
            description: raw.description,
            seed,
            file: path.to_path_buf(),
            trace,
            fleet,
            catalog,
            slo,
            scalers,
        })
    }

    fn catalog(&self, raw: &ScenarioFile) -> Result<Catalog, ScenarioError> {
        let mut catalog = Catalog::builtin();
        for (field, entry) in [
            ("gpu_catalog", &raw.gpu_catalog),
            ("model_catalog", &raw.model_catalog),
        ] {
            if let Some(written) = entry {
                let at = self.at_line(written.referenced.line(), field);
                catalog
                    .extend_from_file(&self.path(&written.value))
                    .map_err(|error| ScenarioError::at(at, error))?;
            }
        }
        Ok(catalog)
    }

    fn slo(&self, slo: &SloSection) -> Result<Slo, ScenarioError> {
        for (field, value) in [("slo.ttft_s", slo.ttft_s), ("slo.tpot_s", slo.tpot_s)] {
            positive(self.at(field), value)?;
        }
        Ok(Slo {
            ttft_s: slo.ttft_s,
            tpot_s: slo.tpot_s,
        })
    }

    fn fleet(&self, raw: &FleetSection, catalog: &Catalog) -> Result<FleetConfig, ScenarioError> {
        let defaults = FleetConfig::default();
        let gpu = catalog
            .gpu(&raw.gpu)
            .map_err(|error| ScenarioError::at(self.at("fleet.gpu"), error))?;
        catalog
            .model(&raw.model)
            .map_err(|error| ScenarioError::at(self.at("fleet.model"), error))?;
        let tensor_parallel = raw.tensor_parallel.unwrap_or(defaults.tensor_parallel);
        if tensor_parallel == 0 {
            return Err(ScenarioError::invalid(
                self.at("fleet.tensor_parallel"),
                "at least 1 GPU per replica",
                0,
            ));
        }
        let max_replicas_hard = raw.max_replicas_hard.unwrap_or(defaults.max_replicas_hard);
        if max_replicas_hard == 0 {
            return Err(ScenarioError::invalid(
                self.at("fleet.max_replicas_hard"),
                "at least 1",
                0,
            ));
        }
        let initial_replicas = raw.initial_replicas.unwrap_or(defaults.initial_replicas);
        if initial_replicas > max_replicas_hard {
            return Err(ScenarioError::invalid(
                self.at("fleet.initial_replicas"),
                format!("at most fleet.max_replicas_hard ({max_replicas_hard})"),
                initial_replicas,
            ));
        }
        let (price, mut spot_price, spot_from_pricing) =
            self.prices(raw, &gpu.id, gpu.price_per_hour_usd, catalog)?;
        if let Some(explicit) = raw.spot_price_per_gpu_hour {
            non_negative(self.at("fleet.spot_price_per_gpu_hour"), explicit)?;
            spot_price = Some(explicit);
        }
        let mut spot = raw.spot.as_ref().map(|s| self.spot(s)).transpose()?;
        if spot.is_none() && spot_from_pricing {
            spot = Some(SpotConfig::default());
        }
        if spot.is_some() && spot_price.is_none() {
            return Err(ScenarioError::invalid(
                self.at("fleet.spot"),
                "a spot price (fleet.spot_price_per_gpu_hour, or fleet.pricing)",
                "none",
            ));
        }
        let routing = match raw.routing.as_deref() {
            None => defaults.routing,
            Some(text) => routing(text).ok_or_else(|| {
                ScenarioError::invalid(
                    self.at("fleet.routing"),
                    "one of round_robin, least_outstanding, kv_aware, vllm_data_parallel",
                    format!("`{text}`"),
                )
            })?,
        };
        let engine = raw.engine.clone().unwrap_or(defaults.engine);
        self.engine_args(&engine)?;
        let lifecycle = match &raw.lifecycle {
            None => defaults.lifecycle,
            Some(section) => self.lifecycle(section)?,
        };
        let duration = |value: Option<super::file::DurationValue>, default: i64| {
            value.map_or(default, |d| d.0)
        };
        let scrape_interval_us = raw.scrape_interval.map(|d| d.0);
        let sync_period_us = raw.sync_period.map(|d| d.0);
        for (field, value) in [
            ("fleet.scrape_interval", scrape_interval_us),
            ("fleet.sync_period", sync_period_us),
        ] {
            if value == Some(0) {
                return Err(ScenarioError::invalid(
                    self.at(field),
                    "a duration above 0",
                    "0",
                ));
            }
        }
        let power = raw.power.clone().unwrap_or(defaults.power);
        if !(power.idle_watts >= 0.0
            && power.max_watts >= power.idle_watts
            && power.max_watts.is_finite())
        {
            return Err(ScenarioError::invalid(
                self.at("fleet.power"),
                "0 <= idle_watts <= max_watts",
                format!(
                    "idle_watts {}, max_watts {}",
                    power.idle_watts, power.max_watts
                ),
            ));
        }
        let mut dcgm_outages = Vec::with_capacity(raw.dcgm_outages.len());
        for (index, outage) in raw.dcgm_outages.iter().enumerate() {
            let (from, to) = (outage.from.0, outage.to.0);
            if !(0 <= from && from < to) {
                return Err(ScenarioError::at(
                    self.at(format!("fleet.dcgm_outages[{index}]")),
                    format!(
                        "`from` must be at least 0 and before `to` (found {from} us to {to} us)"
                    ),
                ));
            }
            dcgm_outages.push((from, to));
        }
        let profile = match &raw.profile {
            Some(written) => {
                let dir = self.path(written);
                let model_spec = catalog
                    .model(&raw.model)
                    .map_err(|error| ScenarioError::at(self.at("fleet.model"), error))?;
                crate::perf::profile::ProfileModel::load(
                    &dir,
                    gpu,
                    model_spec,
                    crate::perf::Parallelism::tensor(tensor_parallel),
                    &catalog.defaults,
                )
                .map_err(|error| ScenarioError::at(self.at("fleet.profile"), error))?;
                Some(dir)
            }
            None => None,
        };
        Ok(FleetConfig {
            gpu: gpu.id.clone(),
            model: catalog
                .model(&raw.model)
                .map(|m| m.id.clone())
                .unwrap_or_else(|_| raw.model.clone()),
            tensor_parallel,
            initial_replicas,
            price_per_gpu_hour: price,
            spot_price_per_gpu_hour: spot_price,
            engine,
            routing,
            lifecycle,
            spot,
            gateway_timeout_us: duration(raw.gateway_timeout, defaults.gateway_timeout_us),
            drain_grace_us: duration(raw.drain_grace, defaults.drain_grace_us),
            scrape_interval_us: scrape_interval_us.or(defaults.scrape_interval_us),
            sync_period_us: sync_period_us.or(defaults.sync_period_us),
            scrape_delay_us: duration(raw.scrape_delay, defaults.scrape_delay_us),
            max_replicas_hard,
            power,
            dcgm_outages,
            profile,
            // Set once the trace is resolved (see `calendar`).
            start_unix_us: None,
        })
    }

    /// `(on-demand per GPU-hour, spot per GPU-hour, the fleet runs on spot)`.
    fn prices(
        &self,
        raw: &FleetSection,
        gpu_id: &str,
        catalog_price: Option<f64>,
        catalog: &Catalog,
    ) -> Result<(f64, Option<f64>, bool), ScenarioError> {
        match (&raw.pricing, raw.price_per_gpu_hour) {
            (Some(_), Some(_)) => Err(ScenarioError::invalid(
                self.at("fleet.pricing"),
                "either fleet.price_per_gpu_hour or fleet.pricing",
                "both",
            )),
            (None, Some(price)) => {
                non_negative(self.at("fleet.price_per_gpu_hour"), price)?;
                Ok((price, None, false))
            }
            (Some(pricing), None) => {
                let user_catalog;
                let prices = match &pricing.catalog {
                    Some(file) => {
                        user_catalog = pricing::PriceCatalog::builtin_with_file(&self.path(file))
                            .map_err(|error| {
                                ScenarioError::at(self.at("fleet.pricing.catalog"), error)
                            })?;
                        &user_catalog
                    }
                    None => pricing::PriceCatalog::builtin(),
                };
                let instance = prices
                    .lookup(&pricing.provider, &pricing.instance)
                    .map_err(|error| ScenarioError::at(self.at("fleet.pricing"), error))?;
                let instance_gpu = catalog.gpu(&instance.gpu).ok().map(|g| g.id.as_str());
                if instance_gpu != Some(gpu_id) {
                    return Err(ScenarioError::invalid(
                        self.at("fleet.pricing.instance"),
                        format!("an instance with fleet.gpu ({gpu_id})"),
                        format!("{} with {} x {}", instance.instance, instance.gpus, instance.gpu),
                    ));
                }
                let spot = instance.spot_per_gpu_hour();
                if pricing.spot && spot.is_none() {
                    return Err(ScenarioError::invalid(
                        self.at("fleet.pricing.spot"),
                        format!("an instance with a spot price ({} has none in the catalog; add one with fleet.pricing.catalog)", instance.instance),
                        "spot: true",
                    ));
                }
                Ok((instance.on_demand_per_gpu_hour(), spot, pricing.spot))
            }
            (None, None) => catalog_price.map(|price| (price, None, false)).ok_or_else(|| {
                ScenarioError::invalid(
                    self.at("fleet.price_per_gpu_hour"),
                    "a price (the GPU catalog has none for this GPU): price_per_gpu_hour or pricing",
                    "none",
                )
            }),
        }
    }

    fn spot(&self, raw: &SpotSection) -> Result<SpotConfig, ScenarioError> {
        let defaults = SpotConfig::default();
        let share = raw.share.unwrap_or(defaults.share);
        if !(0.0..=1.0).contains(&share) {
            return Err(ScenarioError::invalid(
                self.at("fleet.spot.share"),
                "a share between 0 and 1",
                share,
            ));
        }
        let rate = raw
            .interruptions_per_hour
            .unwrap_or(defaults.interruptions_per_hour);
        non_negative(self.at("fleet.spot.interruptions_per_hour"), rate)?;
        Ok(SpotConfig {
            share,
            interruptions_per_hour: rate,
            notice_us: raw.notice.map_or(defaults.notice_us, |d| d.0),
        })
    }

    fn engine_args(&self, engine: &crate::fleet::ServerArgs) -> Result<(), ScenarioError> {
        for (field, value) in [
            ("fleet.engine.max_num_seqs", engine.max_num_seqs),
            (
                "fleet.engine.max_num_batched_tokens",
                engine.max_num_batched_tokens,
            ),
            ("fleet.engine.block_size", engine.block_size),
        ] {
            if value == 0 {
                return Err(ScenarioError::invalid(self.at(field), "at least 1", 0));
            }
        }
        let utilization = engine.gpu_memory_utilization;
        if !(utilization > 0.0 && utilization <= 1.0) {
            return Err(ScenarioError::invalid(
                self.at("fleet.engine.gpu_memory_utilization"),
                "a fraction in (0, 1]",
                utilization,
            ));
        }
        Ok(())
    }

    fn lifecycle(&self, raw: &LifecycleSection) -> Result<LifecycleConfig, ScenarioError> {
        let defaults = LifecycleConfig::default();
        let delay = |field: &str, value: Option<DelayValue>, default: Delay| match value {
            None => Ok(default),
            Some(DelayValue::Fixed(us)) => Ok(Delay::Fixed { us }),
            Some(DelayValue::Uniform { min, max }) if min <= max => Ok(Delay::Uniform {
                min_us: min,
                max_us: max,
            }),
            Some(DelayValue::Uniform { min, max }) => Err(ScenarioError::invalid(
                self.at(format!("fleet.lifecycle.{field}")),
                "min <= max",
                format!("min {} s, max {} s", min as f64 / 1e6, max as f64 / 1e6),
            )),
        };
        let weight_load = match raw.weight_load_gb_per_s {
            None => defaults.weight_load_bytes_per_s,
            Some(RangeValue { min, max }) => {
                if !(min > 0.0 && min <= max && max.is_finite()) {
                    return Err(ScenarioError::invalid(
                        self.at("fleet.lifecycle.weight_load_gb_per_s"),
                        "0 < min <= max GB/s",
                        format!("min {min}, max {max}"),
                    ));
                }
                RateRange {
                    min: min * 1e9,
                    max: max * 1e9,
                }
            }
        };
        Ok(LifecycleConfig {
            node_provisioning: delay(
                "node_provisioning",
                raw.node_provisioning,
                defaults.node_provisioning,
            )?,
            image_pull: delay("image_pull", raw.image_pull, defaults.image_pull)?,
            engine_init: delay("engine_init", raw.engine_init, defaults.engine_init)?,
            weight_load_bytes_per_s: weight_load,
            free_nodes: raw.free_nodes.unwrap_or(defaults.free_nodes),
            warm_node_ttl_us: raw.warm_node_ttl.map_or(defaults.warm_node_ttl_us, |d| d.0),
        })
    }

    fn trace(&self, raw: &TraceSection, seed: u64) -> Result<TraceSpec, ScenarioError> {
        let given = [
            ("path", raw.path.is_some()),
            ("generate", raw.generate.is_some()),
            ("series", raw.series.is_some()),
        ];
        let named: Vec<&str> = given
            .iter()
            .filter(|(_, set)| *set)
            .map(|(k, _)| *k)
            .collect();
        if named.len() != 1 {
            return Err(ScenarioError::invalid(
                self.at("trace"),
                "exactly one of trace.path, trace.generate, trace.series",
                if named.is_empty() {
                    "none".to_string()
                } else {
                    named.join(" and ")
                },
            ));
        }
        let only_with = |field: &str, set: bool, owner: &str| {
            if set {
                Err(ScenarioError::invalid(
                    self.at(format!("trace.{field}")),
                    format!("{field} only with trace.{owner}"),
                    format!("trace.{}", named[0]),
                ))
            } else {
                Ok(())
            }
        };
        let source = if let Some(path) = &raw.path {
            only_with("mode", raw.mode.is_some(), "series")?;
            only_with("demand", raw.demand.is_some(), "series")?;
            TraceSource::File {
                path: self.path(path),
                options: self.read_options(raw)?,
            }
        } else {
            only_with("format", raw.format.is_some(), "path")?;
            only_with("columns", raw.columns.is_some(), "path")?;
            only_with("sort", raw.sort.is_some(), "path")?;
            if let Some(generate) = &raw.generate {
                only_with("mode", raw.mode.is_some(), "series")?;
                only_with("demand", raw.demand.is_some(), "series")?;
                TraceSource::Generate(self.generate(generate, seed)?)
            } else {
                let written = raw.series.as_deref().unwrap_or_default();
                let path = self.path(written);
                let mode = raw.mode.unwrap_or(TraceMode::ClosedLoop);
                if mode == TraceMode::OpenLoop {
                    only_with("demand", raw.demand.is_some(), "series in closed_loop mode")?;
                    for (field, set) in [
                        ("rate_scale", raw.rate_scale.is_some()),
                        ("time_scale", raw.time_scale.is_some()),
                        ("max_requests", raw.max_requests.is_some()),
                    ] {
                        only_with(field, set, "path, generate or a closed_loop series")?;
                    }
                }
                TraceSource::Series {
                    demand: self.demand(raw, &path)?,
                    path,
                    mode,
                }
            }
        };
        let mut scales = [1.0, 1.0];
        for (slot, (field, value)) in scales.iter_mut().zip([
            ("trace.rate_scale", raw.rate_scale),
            ("trace.time_scale", raw.time_scale),
        ]) {
            if let Some(value) = value {
                positive(self.at(field), value)?;
                *slot = value;
            }
        }
        let window = match &raw.window {
            None => None,
            Some(window) => {
                let from = window.from.map_or(0, |d| d.0);
                let to = window.to.map_or(i64::MAX, |d| d.0);
                if from >= to {
                    return Err(ScenarioError::invalid(
                        self.at("trace.window"),
                        "from < to",
                        format!("from {} s, to {} s", from as f64 / 1e6, to as f64 / 1e6),
                    ));
                }
                Some((from, to))
            }
        };
        if raw.max_requests == Some(0) {
            return Err(ScenarioError::invalid(
                self.at("trace.max_requests"),
                "at least 1",
                0,
            ));
        }
        Ok(TraceSpec {
            source,
            window,
            rate_scale: scales[0],
            time_scale: scales[1],
            max_requests: raw.max_requests,
        })
    }

    /// Unix µs of the run's time 0: `trace.start`, else the trace file's own start when
    /// its times are absolute, plus `trace.window.from`. A scaler that needs calendar
    /// time (schedule hints, prediction) without one is an error at `trace.start`.
    fn calendar(
        &self,
        raw: &TraceSection,
        trace: &TraceSpec,
        scalers: &[ScalerChoice],
    ) -> Result<Option<i64>, ScenarioError> {
        let needs = scalers.iter().find(|choice| match choice {
            ScalerChoice::Manifest { manifest, .. } => manifest
                .resolved()
                .is_ok_and(|spec| spec.needs_wall_clock()),
            _ => false,
        });
        let start = match &raw.start {
            Some(text) => Some(
                traces::datetime::parse_datetime_us(text.as_bytes()).ok_or_else(|| {
                    ScenarioError::invalid(
                        self.at("trace.start"),
                        "an RFC 3339 time such as 2026-06-01T00:00:00Z",
                        format!("`{text}`"),
                    )
                })?,
            ),
            None => match &trace.source {
                // The reader reads the first row (every row with `sort`) to fix the start.
                TraceSource::File { path, options } => match traces::open(path, options) {
                    Ok(reader) => reader.start_epoch_us(),
                    Err(error) if needs.is_some() => {
                        return Err(ScenarioError::at(self.at("trace.path"), error));
                    }
                    // Reported when the run reads the trace.
                    Err(_) => None,
                },
                TraceSource::Generate(_) | TraceSource::Series { .. } => None,
            },
        };
        if start.is_none()
            && let Some(choice) = needs
        {
            return Err(ScenarioError::invalid(
                self.at("trace.start"),
                format!(
                    "a calendar start (RFC 3339, e.g. 2026-06-01T00:00:00Z) for scaler `{}`, whose scheduleHints or predictionConfig need calendar time",
                    choice.name()
                ),
                "none: the trace has no absolute times",
            ));
        }
        let from = trace.window.map_or(0, |(from, _)| from);
        Ok(start.map(|start| start.saturating_add(from)))
    }

    fn read_options(&self, raw: &TraceSection) -> Result<ReadOptions, ScenarioError> {
        let mut options = ReadOptions {
            sort: raw.sort.unwrap_or(false),
            ..ReadOptions::default()
        };
        if let Some(format) = raw.format.as_deref()
            && !format.trim().eq_ignore_ascii_case("auto")
        {
            let format: TraceFormat = format
                .parse()
                .map_err(|error| ScenarioError::at(self.at("trace.format"), error))?;
            options.format = Some(format);
        }
        if let Some(columns) = &raw.columns {
            let mapping: ColumnMapping = columns
                .parse()
                .map_err(|error| ScenarioError::at(self.at("trace.columns"), error))?;
            options.columns = Some(mapping);
            options.format = Some(TraceFormat::Generic);
        } else if options.format == Some(TraceFormat::Generic) {
            return Err(ScenarioError::invalid(
                self.at("trace.columns"),
                "a column mapping for format generic",
                "none",
            ));
        }
        Ok(options)
    }

    fn generate(&self, raw: &GenerateSection, seed: u64) -> Result<GenerateConfig, ScenarioError> {
        positive(self.at("trace.generate.rate"), raw.rate)?;
        if raw.duration.0 <= 0 {
            return Err(ScenarioError::invalid(
                self.at("trace.generate.duration"),
                "a duration above 0",
                "0",
            ));
        }
        let pattern = self.pattern(raw)?;
        let tokens = match raw.tokens.as_deref() {
            None => TokenModel::azure_conv(),
            Some(spec) => self.token_model(spec)?,
        };
        let config = GenerateConfig {
            pattern,
            duration_us: raw.duration.0,
            rate_rps: raw.rate,
            seed: raw.seed.unwrap_or(seed),
            tokens,
        };
        // Generation is lazy: this only checks the parameters.
        traces::generate::generate(&config)
            .map_err(|error| ScenarioError::at(self.at("trace.generate"), error))?;
        Ok(config)
    }

    /// The pattern with its defaults, overridden by the knobs that apply to it; a knob
    /// for another pattern is an error rather than silently ignored.
    fn pattern(&self, raw: &GenerateSection) -> Result<Pattern, ScenarioError> {
        let us = |d: Option<super::file::DurationValue>| d.map(|d| d.0);
        let knobs = PatternKnobs {
            cv: raw.cv,
            period_us: us(raw.period),
            amplitude: raw.amplitude,
            weekly_amplitude: raw.weekly_amplitude,
            peak_us: us(raw.peak),
            noise: raw.noise,
            noise_interval_us: us(raw.noise_interval),
            burst_rate: raw.burst_rate,
            burst_duration_us: us(raw.burst_duration),
            quiet_duration_us: us(raw.quiet_duration),
            step_at_us: us(raw.step_at),
            factor: raw.factor,
        };
        Pattern::with_knobs(&raw.pattern, raw.rate, raw.duration.0, &knobs).map_err(|error| {
            match error {
                KnobError::UnknownPattern { found } => ScenarioError::invalid(
                    self.at("trace.generate.pattern"),
                    format!("one of {}", Pattern::NAMES.join(", ")),
                    format!("`{found}`"),
                ),
                KnobError::NotForPattern { knob, pattern } => ScenarioError::invalid(
                    self.at(format!("trace.generate.{knob}")),
                    format!("only the knobs of pattern {pattern}"),
                    knob,
                ),
            }
        })
    }

    fn token_model(&self, spec: &str) -> Result<TokenModel, ScenarioError> {
        let at = || self.at("trace.generate.tokens");
        if let Some(file) = spec.trim().strip_prefix("empirical:") {
            let path = self.path(file.trim());
            let reader = traces::open(&path, &ReadOptions::default())
                .map_err(|error| ScenarioError::at(at(), error))?;
            let requests = reader
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| ScenarioError::at(at(), error))?;
            return TokenModel::empirical(requests).map_err(|error| ScenarioError::at(at(), error));
        }
        TokenModel::parse_spec(spec).map_err(|error| ScenarioError::at(at(), error))
    }

    fn demand(&self, raw: &TraceSection, path: &Path) -> Result<DeriveOptions, ScenarioError> {
        let base = match SeriesFormat::detect(path) {
            // A vLLM recording's timeseries starts at the server start: counters were 0.
            Ok(SeriesFormat::VllmTimeseriesCsv) => {
                DeriveOptions::for_vllm_recording(DeriveOptions::default().mean_prompt_tokens)
            }
            Ok(_) => DeriveOptions::default(),
            Err(error) => return Err(ScenarioError::at(self.at("trace.series"), error)),
        };
        let Some(demand) = &raw.demand else {
            return Ok(base);
        };
        let engine = match demand.engine.as_deref() {
            None => base.engine,
            Some(name) => ModelServer::ALL
                .into_iter()
                .find(|e| e.name().eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| {
                    ScenarioError::invalid(
                        self.at("trace.demand.engine"),
                        "one of vllm, tgi, sglang, triton",
                        format!("`{name}`"),
                    )
                })?,
        };
        if let Some(mean) = demand.mean_prompt_tokens {
            positive(self.at("trace.demand.mean_prompt_tokens"), mean)?;
        }
        for (field, sigma) in [
            ("trace.demand.prompt_sigma", demand.prompt_sigma),
            ("trace.demand.output_sigma", demand.output_sigma),
        ] {
            if let Some(sigma) = sigma {
                non_negative(self.at(field), sigma)?;
            }
        }
        Ok(DeriveOptions {
            engine,
            mean_prompt_tokens: demand.mean_prompt_tokens.unwrap_or(base.mean_prompt_tokens),
            prompt_sigma: demand.prompt_sigma.or(base.prompt_sigma),
            output_sigma: demand.output_sigma.or(base.output_sigma),
            counters_zero_at_us: demand
                .counters_zero_at
                .map(|d| d.0)
                .or(base.counters_zero_at_us),
        })
    }

    fn scalers(
        &self,
        entries: &[Spanned<ScalerEntry>],
        fleet: &FleetConfig,
    ) -> Result<Vec<ScalerChoice>, ScenarioError> {
        if entries.is_empty() {
            return Err(ScenarioError::invalid(
                self.at("scalers"),
                "at least one scaler",
                "an empty list",
            ));
        }
        let mut scalers: Vec<ScalerChoice> = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let line = entry.referenced.line();
            let choice = match &entry.value {
                ScalerEntry::File(written) => {
                    let field = format!("scalers[{index}].file");
                    let path = self.path(written);
                    let origin = path.display().to_string();
                    let text =
                        std::fs::read_to_string(&path).map_err(|error| ScenarioError::Io {
                            at: self.at_line(line, field.clone()),
                            path: origin.clone(),
                            error,
                        })?;
                    let at = || self.at_line(line, field.clone());
                    let value: serde_json::Value =
                        serde_saphyr::from_str(&text).map_err(|error| {
                            ScenarioError::at(at(), format!("{origin}: {}", yaml_message(&error)))
                        })?;
                    // An HPA, a KEDA ScaledObject or a Knative Service is imported; a
                    // refusal names the path in the imported file.
                    match engine::import::import(&value) {
                        Ok(imported) if imported.kind != ImportKind::BudAIScaler => {
                            let described = format!(
                                "{origin}, imported from {} as a BudAIScaler",
                                imported.kind
                            );
                            let mut choice =
                                self.manifest(imported.manifest, Some(described), line, &field)?;
                            if let ScalerChoice::Manifest {
                                origin: slot_origin,
                                imported: slot,
                                ..
                            } = &mut choice
                            {
                                *slot_origin = origin;
                                *slot = Some(Box::new(ImportedFrom {
                                    kind: imported.kind,
                                    mapping: imported.mapping,
                                }));
                            }
                            choice
                        }
                        Err(error @ ImportError::Refused { .. }) => {
                            return Err(ScenarioError::at(at(), format!("{origin}: {error}")));
                        }
                        // A BudAIScaler: parsed from the text again so a bad field's
                        // error carries its line.
                        Ok(_) | Err(ImportError::Manifest(_)) => {
                            let manifest: BudAIScaler =
                                serde_saphyr::from_str(&text).map_err(|error| {
                                    ScenarioError::at(
                                        at(),
                                        format!("{origin}: {}", yaml_message(&error)),
                                    )
                                })?;
                            self.manifest(manifest, Some(origin), line, &field)?
                        }
                    }
                }
                ScalerEntry::Manifest(manifest) => {
                    let field = format!("scalers[{index}].manifest");
                    self.manifest((**manifest).clone(), None, line, &field)?
                }
                ScalerEntry::Static(section) => {
                    if section.replicas == 0 || section.replicas > fleet.max_replicas_hard {
                        return Err(ScenarioError::invalid(
                            self.at_line(line, format!("scalers[{index}].static.replicas")),
                            format!("1 to fleet.max_replicas_hard ({})", fleet.max_replicas_hard),
                            section.replicas,
                        ));
                    }
                    ScalerChoice::Static {
                        name: section.name.clone().unwrap_or_else(|| "static".to_string()),
                        replicas: section.replicas,
                    }
                }
                ScalerEntry::Oracle(section) => ScalerChoice::Oracle {
                    name: section
                        .name
                        .clone()
                        .unwrap_or_else(|| crate::oracle::NAME.to_string()),
                    options: self.oracle_options(section, index, line)?,
                },
            };
            if let Some(first) = scalers.iter().position(|s| s.name() == choice.name()) {
                return Err(ScenarioError::invalid(
                    self.at_line(line, format!("scalers[{index}]")),
                    format!("a name not used by scalers[{first}] (add `name:` to tell them apart)"),
                    format!("`{}` again", choice.name()),
                ));
            }
            scalers.push(choice);
        }
        Ok(scalers)
    }

    fn oracle_options(
        &self,
        section: &OracleSection,
        index: usize,
        line: u64,
    ) -> Result<OracleOptions, ScenarioError> {
        let mut options = OracleOptions::default();
        let at = |knob: &str| self.at_line(line, format!("scalers[{index}].oracle.{knob}"));
        if let Some(share) = section.attainment {
            if !(share > 0.0 && share <= 1.0) {
                return Err(ScenarioError::invalid(
                    at("attainment"),
                    "a share in (0, 1]",
                    share,
                ));
            }
            options.attainment = share;
        }
        if let Some(window) = section.window {
            if window.0 <= 0 {
                return Err(ScenarioError::invalid(
                    at("window"),
                    "a duration above 0",
                    "0",
                ));
            }
            options.window_us = window.0;
            options.burst_us = options.burst_us.min(window.0);
        }
        if let Some(iterations) = section.max_iterations {
            if iterations == 0 {
                return Err(ScenarioError::invalid(
                    at("max_iterations"),
                    "at least 1",
                    0,
                ));
            }
            options.max_iterations = iterations;
        }
        Ok(options)
    }

    /// Validates a manifest the way the engine will run it.
    /// `file` is the manifest's own file, when it has one.
    fn manifest(
        &self,
        manifest: BudAIScaler,
        file: Option<String>,
        line: u64,
        field: &str,
    ) -> Result<ScalerChoice, ScenarioError> {
        if let Err(error) = engine::Scaler::new(&manifest) {
            let message = match &file {
                Some(file) => format!("{file}: {error}"),
                None => error.to_string(),
            };
            return Err(ScenarioError::at(self.at_line(line, field), message));
        }
        Ok(ScalerChoice::Manifest {
            name: manifest.name().to_string(),
            origin: file.unwrap_or_else(|| field.to_string()),
            manifest: Box::new(manifest),
            imported: None,
        })
    }
}

/// The parser's message with its line and column, without the rendered snippet (which
/// would name the file `<input>`).
fn yaml_message(error: &serde_saphyr::Error) -> String {
    error.without_snippet().to_string()
}

fn routing(text: &str) -> Option<RoutingPolicy> {
    match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
        "round_robin" => Some(RoutingPolicy::RoundRobin),
        "least_outstanding" => Some(RoutingPolicy::LeastOutstanding),
        "kv_aware" => Some(RoutingPolicy::KvAware),
        "vllm_data_parallel" => Some(RoutingPolicy::VllmDataParallel),
        _ => None,
    }
}

fn positive(at: At, value: f64) -> Result<(), ScenarioError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ScenarioError::invalid(at, "a finite number above 0", value))
    }
}

fn non_negative(at: At, value: f64) -> Result<(), ScenarioError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ScenarioError::invalid(at, "a finite number >= 0", value))
    }
}
