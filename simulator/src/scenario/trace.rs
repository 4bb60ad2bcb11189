//! Reading a scenario's requests: open the file, generate, or rebuild them from a metric
//! series, then window, scale and cut, in that order, as one stream.
//!
//! [`stream_requests`] hands that stream out lazily (a file or a generator is read as the
//! fleet needs it; a closed-loop series is small and derived up front), each error
//! already naming the scenario field; [`load_requests`] collects it.

use super::error::{At, ScenarioError};
use super::{Scenario, TraceMode, TraceSource};
use traces::metrics::{demand, series};
use traces::{Request, RequestIterExt, TraceError};

type Requests = Box<dyn Iterator<Item = Result<Request, TraceError>>>;

/// A scenario's requests, read lazily; errors name the scenario field.
pub type RequestStream = Box<dyn Iterator<Item = Result<Request, ScenarioError>>>;

/// The requests of `scenario` (closed loop), in arrival order.
pub(crate) fn load_requests(scenario: &Scenario) -> Result<Vec<Request>, ScenarioError> {
    let requests = stream_requests(scenario)?.collect::<Result<Vec<_>, _>>()?;
    if requests.is_empty() {
        return Err(empty_trace(scenario));
    }
    Ok(requests)
}

/// The error of a trace with no request left after windowing.
pub(crate) fn empty_trace(scenario: &Scenario) -> ScenarioError {
    ScenarioError::invalid(
        At::new(scenario.file_name(), None, source_field(scenario)),
        "a trace with at least one request (after trace.window)",
        "no requests",
    )
}

/// The field naming the trace's source.
pub(crate) fn source_field(scenario: &Scenario) -> &'static str {
    match scenario.trace.source {
        TraceSource::File { .. } => "trace.path",
        TraceSource::Generate(_) => "trace.generate",
        TraceSource::Series { .. } => "trace.series",
    }
}

/// The requests of `scenario` (closed loop) as a lazy stream, in arrival order. An
/// empty stream is not an error here; callers decide (see [`empty_trace`]).
pub(crate) fn stream_requests(scenario: &Scenario) -> Result<RequestStream, ScenarioError> {
    let file = scenario.file_name();
    let trace = &scenario.trace;
    let (field, stream): (&str, Requests) = match &trace.source {
        TraceSource::File { path, options } => {
            let reader = traces::open(path, options)
                .map_err(|error| ScenarioError::at(At::new(&file, None, "trace.path"), error))?;
            ("trace.path", Box::new(reader))
        }
        TraceSource::Generate(config) => {
            let generator = traces::generate::generate(config).map_err(|error| {
                ScenarioError::at(At::new(&file, None, "trace.generate"), error)
            })?;
            ("trace.generate", Box::new(generator.map(Ok)))
        }
        TraceSource::Series {
            path,
            mode: TraceMode::ClosedLoop,
            demand,
        } => {
            let at = || At::new(&file, None, "trace.series");
            let reader = series::open(path).map_err(|error| ScenarioError::at(at(), error))?;
            let requests = demand::derive_requests(reader, demand, scenario.seed)
                .map_err(|error| ScenarioError::at(at(), error))?;
            ("trace.series", Box::new(requests.into_iter().map(Ok)))
        }
        TraceSource::Series {
            mode: TraceMode::OpenLoop,
            ..
        } => {
            return Err(ScenarioError::invalid(
                At::new(&file, None, "trace.mode"),
                "closed_loop to serve requests (open_loop replays observations only)",
                "open_loop",
            ));
        }
    };
    let at = |name: &str| At::new(&file, None, name);
    let mut stream = stream;
    if let Some((from, to)) = trace.window {
        stream = Box::new(stream.window(from, to, true));
    }
    if trace.time_scale != 1.0 {
        stream = Box::new(
            stream
                .time_scale(trace.time_scale)
                .map_err(|error| ScenarioError::at(at("trace.time_scale"), error))?,
        );
    }
    if trace.rate_scale != 1.0 {
        stream = Box::new(
            stream
                .rate_scale(trace.rate_scale)
                .map_err(|error| ScenarioError::at(at("trace.rate_scale"), error))?,
        );
    }
    let limit = trace
        .max_requests
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let at = at(field);
    Ok(Box::new(stream.take(limit).map(move |item| {
        item.map_err(|error| ScenarioError::at(at.clone(), error))
    })))
}
