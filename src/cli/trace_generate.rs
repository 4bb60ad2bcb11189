//! `budscaler trace generate`: writes a seeded synthetic request trace.
//!
//! The pattern's own parameters are optional flags with documented defaults; a flag that
//! does not apply to the chosen pattern is an error rather than silently ignored.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use traces::generate::{GenerateConfig, KnobError, Pattern, PatternKnobs, TokenModel, generate};
use traces::{ReadOptions, Request, TraceError};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  budscaler trace generate --pattern diurnal --duration 1d --rate 5 --seed 7 /tmp/day.csv"
)]
pub struct GenerateArgs {
    /// Arrival pattern.
    #[arg(long, default_value = "poisson", value_parser = clap::builder::PossibleValuesParser::new(Pattern::NAMES))]
    pub pattern: String,
    /// Trace length: seconds or with units (600, 90s, 10m, 2h, 7d).
    #[arg(long, value_parser = parse_duration)]
    pub duration: i64,
    /// Mean arrival rate, requests per second.
    #[arg(long)]
    pub rate: f64,
    /// Seed of the ChaCha8 generator; the same seed gives the same trace.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Token lengths: azure-conv (log-normals fitted to the Azure 2023 conversation
    /// trace), lognormal:MU,SIGMA[,MU_OUT,SIGMA_OUT], fixed:PROMPT,OUTPUT or
    /// empirical:FILE (resample the sizes of any readable trace).
    #[arg(long, default_value = "azure-conv")]
    pub tokens: String,
    /// gamma: coefficient of variation of the gaps (> 1 is burstier than Poisson) [default: 2].
    #[arg(long)]
    pub cv: Option<f64>,
    /// diurnal: length of one "day" (shorten to compress a daily cycle) [default: 24h].
    #[arg(long, value_parser = parse_duration)]
    pub period: Option<i64>,
    /// diurnal: relative daily swing, 0..=1 [default: 0.5].
    #[arg(long)]
    pub amplitude: Option<f64>,
    /// diurnal: relative weekly swing (a week is 7 periods), 0..=1 [default: 0.2].
    #[arg(long)]
    pub weekly_amplitude: Option<f64>,
    /// diurnal: time of day of the peak [default: 14h].
    #[arg(long, value_parser = parse_duration)]
    pub peak: Option<i64>,
    /// diurnal: sigma of the log-normal noise factor (mean 1) [default: 0.1].
    #[arg(long)]
    pub noise: Option<f64>,
    /// diurnal: how long each noise factor holds [default: 5m].
    #[arg(long, value_parser = parse_duration)]
    pub noise_interval: Option<i64>,
    /// mmpp: arrival rate during bursts, requests per second [default: 4 x --rate].
    #[arg(long)]
    pub burst_rate: Option<f64>,
    /// mmpp: mean burst length [default: 60s].
    #[arg(long, value_parser = parse_duration)]
    pub burst_duration: Option<i64>,
    /// mmpp: mean time between bursts [default: 240s].
    #[arg(long, value_parser = parse_duration)]
    pub quiet_duration: Option<i64>,
    /// step: when the rate changes [default: half the duration].
    #[arg(long, value_parser = parse_duration)]
    pub step_at: Option<i64>,
    /// step: rate after / rate before [default: 2]; ramp: rate at the end / at the start [default: 4].
    #[arg(long)]
    pub factor: Option<f64>,
    /// Print nothing on success.
    #[arg(long)]
    pub quiet: bool,
    /// Output trace: canonical CSV (.csv, .csv.gz) or Parquet (.parquet).
    pub out: PathBuf,
}

fn parse_duration(text: &str) -> Result<i64, String> {
    traces::duration::parse_duration_us(text).map_err(|e| e.to_string())
}

pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let pattern = pattern(&args)?;
    let tokens = token_model(&args.tokens)?;
    let config = GenerateConfig {
        pattern,
        duration_us: args.duration,
        rate_rps: args.rate,
        seed: args.seed,
        tokens,
    };
    let requests = generate(&config).context("trace generate")?;
    let written = traces::write_canonical(&args.out, requests.map(Ok::<Request, TraceError>))
        .with_context(|| format!("writing {}", args.out.display()))?;
    if !args.quiet {
        eprintln!(
            "wrote {written} requests ({} pattern, {:.3} req/s over {} s, seed {}) to {}",
            config.pattern.name(),
            written as f64 / (config.duration_us as f64 / 1e6),
            config.duration_us as f64 / 1e6,
            config.seed,
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The pattern with its defaults, overridden by the flags that apply to it.
fn pattern(args: &GenerateArgs) -> anyhow::Result<Pattern> {
    let knobs = PatternKnobs {
        cv: args.cv,
        period_us: args.period,
        amplitude: args.amplitude,
        weekly_amplitude: args.weekly_amplitude,
        peak_us: args.peak,
        noise: args.noise,
        noise_interval_us: args.noise_interval,
        burst_rate: args.burst_rate,
        burst_duration_us: args.burst_duration,
        quiet_duration_us: args.quiet_duration,
        step_at_us: args.step_at,
        factor: args.factor,
    };
    Pattern::with_knobs(&args.pattern, args.rate, args.duration, &knobs).map_err(
        |error| match error {
            KnobError::NotForPattern { knob, pattern } => anyhow::anyhow!(
                "--{} does not apply to --pattern {pattern}",
                knob.replace('_', "-")
            ),
            KnobError::UnknownPattern { found } => anyhow::anyhow!(
                "--pattern: expected one of {}, found `{found}`",
                Pattern::NAMES.join(", ")
            ),
        },
    )
}

fn token_model(spec: &str) -> anyhow::Result<TokenModel> {
    if let Some(file) = spec.strip_prefix("empirical:") {
        let path = PathBuf::from(file);
        let reader = traces::open(&path, &ReadOptions::default())
            .with_context(|| format!("--tokens empirical: reading {}", path.display()))?;
        let requests = reader
            .collect::<Result<Vec<Request>, TraceError>>()
            .with_context(|| format!("--tokens empirical: reading {}", path.display()))?;
        return TokenModel::empirical(requests)
            .with_context(|| format!("--tokens empirical: {}", path.display()));
    }
    TokenModel::parse_spec(spec).context("--tokens")
}
