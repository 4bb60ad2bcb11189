//! Streaming runs: `run_stream` gives what `run` gives, reading its input lazily, and
//! its per-request state (requests in flight, records waiting in the reorder buffer)
//! stays far below the trace's length.

mod common;

use simulator::Catalog;
use simulator::fleet::{
    FleetConfig, InOrder, RequestRecord, RequestSink, RunOptions, ScalerSpec, SinkError, Slo,
    StreamError, StreamRun, run, run_stream,
};
use std::convert::Infallible;
use traces::generate::{GenerateConfig, Pattern, TokenModel, generate};
use traces::request::Request;

const SECOND: i64 = 1_000_000;

fn config(duration_s: i64, rate_rps: f64, seed: u64) -> GenerateConfig {
    GenerateConfig {
        pattern: Pattern::Poisson,
        duration_us: duration_s * SECOND,
        rate_rps,
        seed,
        tokens: TokenModel::azure_conv(),
    }
}

/// Counts records, checks they come in input order, and keeps a checksum.
#[derive(Default)]
struct Counting {
    count: u32,
    arrival_sum: i128,
}

impl RequestSink for Counting {
    fn accept(&mut self, index: u32, record: RequestRecord) -> Result<(), SinkError> {
        if index != self.count {
            return Err(format!("expected record {}, got {index}", self.count).into());
        }
        self.count += 1;
        self.arrival_sum += i128::from(record.arrival_us);
        Ok(())
    }
}

/// Collects records in the order the sink sees them.
#[derive(Default)]
struct Keep(Vec<RequestRecord>);

impl RequestSink for Keep {
    fn accept(&mut self, _index: u32, record: RequestRecord) -> Result<(), SinkError> {
        self.0.push(record);
        Ok(())
    }
}

#[test]
fn streamed_run_equals_the_in_memory_run() {
    let requests: Vec<Request> = generate(&config(600, 8.0, 5)).unwrap().collect();
    let catalog = Catalog::builtin();
    let fleet = FleetConfig::default();
    let slo = Slo::default();
    let scaler = common::scaler_spec("hpa");
    let whole = run(&requests, &catalog, &fleet, &scaler, &slo, 9).unwrap();
    let mut sink = InOrder::new(Keep::default());
    let streamed = run_stream(
        requests.iter().cloned().map(Ok::<_, Infallible>),
        &catalog,
        &fleet,
        &scaler,
        &slo,
        9,
        RunOptions::default(),
        &mut sink,
    )
    .unwrap();
    assert_eq!(streamed.stats.requests, requests.len() as u64);
    let mut result = streamed.result;
    assert!(result.requests.is_empty());
    result.requests = sink.finish().unwrap().0;
    assert_eq!(result, whole);
}

#[test]
fn a_long_stream_holds_only_what_is_in_flight() {
    // 2 h at 12 req/s: about 86 000 requests, generated as they are pulled.
    let generated = generate(&config(7200, 12.0, 21)).unwrap();
    let catalog = Catalog::builtin();
    let fleet = FleetConfig::default();
    let slo = Slo::default();
    let mut sink = InOrder::new(Counting::default());
    let streamed = run_stream(
        generated.map(Ok::<_, Infallible>),
        &catalog,
        &fleet,
        &common::scaler_spec("hpa"),
        &slo,
        4,
        RunOptions::default(),
        &mut sink,
    )
    .unwrap();
    let total = streamed.stats.requests;
    assert!(total > 80_000, "{total} requests");
    let max_held = sink.max_held();
    let counting = sink.finish().unwrap();
    assert_eq!(u64::from(counting.count), total);
    eprintln!(
        "{total} requests: at most {} in flight, {max_held} reordered",
        streamed.stats.max_in_flight
    );
    let bound = (total / 50) as usize;
    assert!(
        streamed.stats.max_in_flight < bound,
        "{} in flight at most, bound {bound}",
        streamed.stats.max_in_flight
    );
    assert!(
        max_held < bound,
        "{max_held} reordered at most, bound {bound}"
    );
    assert!(streamed.stats.max_in_flight > 0 && counting.arrival_sum > 0);
}

/// A streamed run of `input` on one static replica, records counted and dropped.
fn run_one_static<E: std::error::Error + 'static>(
    input: impl IntoIterator<Item = Result<Request, E>>,
) -> Result<StreamRun, StreamError<E>> {
    run_stream(
        input,
        &Catalog::builtin(),
        &FleetConfig::default(),
        &ScalerSpec::Static { replicas: 1 },
        &Slo::default(),
        1,
        RunOptions::default(),
        &mut InOrder::new(Counting::default()),
    )
}

#[test]
fn out_of_order_input_is_an_error_naming_the_request() {
    let mut requests: Vec<Request> = generate(&config(60, 5.0, 1)).unwrap().take(10).collect();
    requests.swap(3, 4);
    let error = run_one_static(requests.into_iter().map(Ok::<_, Infallible>)).unwrap_err();
    assert!(
        matches!(error, StreamError::OutOfOrder { index: 4, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("request 4"), "{error}");
}

#[test]
fn a_failing_input_stops_the_run_with_its_error() {
    let requests: Vec<Request> = generate(&config(60, 5.0, 1)).unwrap().take(10).collect();
    let input = requests
        .into_iter()
        .map(Ok)
        .chain(std::iter::once(Err(std::io::Error::other("disk gone"))));
    let error = run_one_static(input).unwrap_err();
    assert!(
        matches!(error, StreamError::Input { index: 10, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("disk gone"), "{error}");
}
