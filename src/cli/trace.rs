//! `budscaler trace inspect|convert|generate`: look at, convert and synthesise request
//! traces. Bad input exits 2 with the reader's `FILE:LINE:` message.

use super::OutputFormat;
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use traces::transform::RequestIterExt;
use traces::{ColumnMapping, ReadOptions, Request, TraceError, TraceFormat};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: TraceCommand,
}

#[derive(Debug, Subcommand)]
enum TraceCommand {
    /// Detect a trace's format and print its statistics.
    Inspect(InspectArgs),
    /// Convert any supported trace to the canonical format (CSV or Parquet by extension).
    Convert(ConvertArgs),
    /// Write a synthetic request trace.
    Generate(super::trace_generate::GenerateArgs),
}

/// How to read the input: shared by inspect and convert.
#[derive(Debug, clap::Args)]
struct InputArgs {
    /// Read any CSV / JSON-lines / Parquet file through a column mapping, e.g.
    /// `arrival=ts,prompt=in,output=out,arrival_unit=ms` (units: s, ms, us, epoch_s,
    /// epoch_ms, epoch_us, datetime; optional fields: prefix, tenant, model, priority, failed).
    #[arg(long, value_parser = parse_columns)]
    columns: Option<ColumnMapping>,
    /// Insist on a format instead of trusting detection (azure-llm-2023, burstgpt,
    /// mooncake, vllm-recording, canonical).
    #[arg(long = "input-format", value_parser = parse_format)]
    input_format: Option<TraceFormat>,
    /// Sort rows by arrival instead of failing on the first out-of-order row (reads the
    /// whole trace into memory).
    #[arg(long)]
    sort: bool,
}

impl InputArgs {
    fn options(&self) -> ReadOptions {
        ReadOptions {
            format: self.input_format,
            columns: self.columns.clone(),
            sort: self.sort,
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  budscaler trace inspect ../shared/data/azure-llm-2023/AzureLLMInferenceTrace_conv.csv --format json"
)]
struct InspectArgs {
    /// Trace file (any supported format, optionally gzip-compressed) or a vLLM recording folder.
    file: PathBuf,
    /// `json` prints one JSON document on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  budscaler trace convert ../shared/data/mooncake/synthetic_trace.jsonl /tmp/mooncake.parquet --time-scale 0.5"
)]
struct ConvertArgs {
    /// Input trace (any supported format) or a vLLM recording folder.
    input: PathBuf,
    /// Output: canonical CSV (.csv, .csv.gz) or Parquet (.parquet).
    output: PathBuf,
    #[command(flatten)]
    input_args: InputArgs,
    /// Keep arrivals from this time on (seconds or 90s, 10m, 2h, 7d); they start at 0.
    #[arg(long, value_parser = parse_duration)]
    from: Option<i64>,
    /// Keep arrivals before this time (same units as --from, measured in the input).
    #[arg(long, value_parser = parse_duration)]
    to: Option<i64>,
    /// Multiply the arrival rate (2 replays the trace in half the time).
    #[arg(long)]
    rate_scale: Option<f64>,
    /// Multiply arrival times (2 makes the trace twice as long).
    #[arg(long)]
    time_scale: Option<f64>,
    /// Clip prompt and output tokens to fit this model context length.
    #[arg(long)]
    max_context: Option<u32>,
    /// Print nothing on success.
    #[arg(long)]
    quiet: bool,
}

fn parse_columns(text: &str) -> Result<ColumnMapping, String> {
    text.parse().map_err(|e: TraceError| e.to_string())
}

fn parse_format(text: &str) -> Result<TraceFormat, String> {
    text.parse().map_err(|e: TraceError| e.to_string())
}

fn parse_duration(text: &str) -> Result<i64, String> {
    traces::duration::parse_duration_us(text).map_err(|e| e.to_string())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        TraceCommand::Inspect(args) => inspect(args),
        TraceCommand::Convert(args) => convert(args),
        TraceCommand::Generate(args) => super::trace_generate::run(args),
    }
}

fn inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let report = traces::inspect(&args.file, &args.input.options())?;
    let text = match args.format {
        OutputFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        OutputFormat::Text => report.to_text(),
    };
    // A closed pipe (`| head`) is the reader's choice, not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn convert(args: ConvertArgs) -> anyhow::Result<ExitCode> {
    let reader = traces::open(&args.input, &args.input_args.options())?;
    let format = reader.format();
    let from = args.from.unwrap_or(0);
    let to = args.to.unwrap_or(i64::MAX);
    let requests: Box<dyn Iterator<Item = Result<Request, TraceError>>> =
        Box::new(reader.window(from, to, true));
    let requests: Box<dyn Iterator<Item = Result<Request, TraceError>>> = match args.rate_scale {
        Some(rate) => Box::new(requests.rate_scale(rate)?),
        None => requests,
    };
    let requests: Box<dyn Iterator<Item = Result<Request, TraceError>>> = match args.time_scale {
        Some(factor) => Box::new(requests.time_scale(factor)?),
        None => requests,
    };
    let requests: Box<dyn Iterator<Item = Result<Request, TraceError>>> = match args.max_context {
        Some(context) => Box::new(requests.clip_tokens(context)),
        None => requests,
    };
    // A request counter on a terminal; hidden when piped or with --quiet.
    let progress = if args.quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new_spinner();
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "converting {spinner} {human_pos} requests, {elapsed}",
        ) {
            bar.set_style(style);
        }
        bar
    };
    let counted = progress.clone();
    let requests = requests.inspect(move |_| counted.inc(1));
    // The reader's and writer's errors already start with the file and line.
    let written = traces::write_canonical(&args.output, requests);
    progress.finish_and_clear();
    let written = written?;
    if !args.quiet {
        eprintln!(
            "wrote {written} requests ({format} -> canonical) to {}",
            args.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
