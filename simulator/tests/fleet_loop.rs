//! Behaviour of the fleet loop: determinism, scaling under HPA and KPA, and every way
//! a request can fail (gateway timeout, drain cut, spot loss), with no request lost.

mod common;

use simulator::Catalog;
use simulator::fleet::{FleetConfig, RequestStatus, RunResult, ScalerSpec, Slo, SpotConfig, run};
use traces::generate::{GenerateConfig, Pattern, TokenModel, generate};
use traces::request::Request;

const SECOND: i64 = 1_000_000;

fn load(pattern: Pattern, rate_rps: f64, duration_s: i64, seed: u64) -> Vec<Request> {
    generate(&GenerateConfig {
        pattern,
        duration_us: duration_s * SECOND,
        rate_rps,
        seed,
        tokens: TokenModel::azure_conv(),
    })
    .unwrap()
    .collect()
}

fn request(arrival_s: f64, prompt: u32, output: u32) -> Request {
    Request {
        arrival_us: (arrival_s * 1e6) as i64,
        prompt_tokens: prompt,
        output_tokens: output,
        prefix_blocks: Vec::new(),
        tenant: None,
        model: None,
        priority: None,
        failed: false,
    }
}

fn count(result: &RunResult, status: RequestStatus) -> usize {
    result
        .requests
        .iter()
        .filter(|r| r.status == status)
        .count()
}

fn attainment(result: &RunResult, slo: &Slo) -> f64 {
    let met = result.requests.iter().filter(|r| r.meets(slo)).count();
    met as f64 / result.requests.len() as f64
}

/// Every request has a final status consistent with its timestamps.
fn assert_nothing_lost(requests: &[Request], result: &RunResult) {
    assert_eq!(result.requests.len(), requests.len());
    for (input, record) in requests.iter().zip(&result.requests) {
        assert_eq!(record.arrival_us, input.arrival_us);
        match record.status {
            RequestStatus::Completed => {
                assert!(record.first_token_us.is_some() && record.last_token_us.is_some());
                assert!(record.replica.is_some());
            }
            RequestStatus::GatewayTimeout => assert!(record.last_token_us.is_none()),
            RequestStatus::CutByDrain | RequestStatus::LostToSpot => {
                assert!(record.replica.is_some() && record.last_token_us.is_none());
            }
            RequestStatus::Rejected => assert!(record.first_token_us.is_none()),
        }
    }
    assert!(result.end_us >= requests.iter().map(|r| r.arrival_us).max().unwrap_or(0));
}

fn step_load() -> Vec<Request> {
    // 3 req/s for 5 minutes, then 30 req/s for 10 minutes.
    load(
        Pattern::Step {
            at_us: 300 * SECOND,
            factor: 10.0,
        },
        3.0 * (5.0 + 100.0) / 15.0,
        900,
        7,
    )
}

#[test]
fn same_inputs_give_identical_results() {
    let requests = step_load();
    let catalog = Catalog::builtin();
    let fleet = FleetConfig {
        spot: Some(SpotConfig {
            share: 0.5,
            interruptions_per_hour: 2.0,
            ..SpotConfig::default()
        }),
        spot_price_per_gpu_hour: Some(1.2),
        ..FleetConfig::default()
    };
    let slo = Slo::default();
    let first = run(
        &requests,
        &catalog,
        &fleet,
        &common::scaler_spec("hpa"),
        &slo,
        11,
    )
    .unwrap();
    let second = run(
        &requests,
        &catalog,
        &fleet,
        &common::scaler_spec("hpa"),
        &slo,
        11,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        serde_json::to_string(&second).unwrap()
    );
    assert_nothing_lost(&requests, &first);
}

#[test]
fn hpa_scales_up_after_cold_start_and_beats_one_static_replica() {
    let requests = step_load();
    let catalog = Catalog::builtin();
    let fleet = FleetConfig::default();
    let slo = Slo::default();
    let hpa = run(
        &requests,
        &catalog,
        &fleet,
        &common::scaler_spec("hpa"),
        &slo,
        3,
    )
    .unwrap();
    let fixed = run(
        &requests,
        &catalog,
        &fleet,
        &ScalerSpec::Static { replicas: 1 },
        &slo,
        3,
    )
    .unwrap();
    assert_nothing_lost(&requests, &hpa);
    assert_nothing_lost(&requests, &fixed);
    assert_eq!(hpa.strategy, "HPA");
    assert_eq!(hpa.ticks.len(), hpa.decisions.len());
    // Ticks every 15 s.
    assert_eq!(hpa.ticks[1].time_us - hpa.ticks[0].time_us, 15 * SECOND);
    let first_up = hpa
        .ticks
        .iter()
        .find(|t| t.desired > 1)
        .expect("HPA scales up");
    assert!(
        first_up.time_us > 300 * SECOND,
        "no scale-up before the step"
    );
    // More replicas become ready, but only after a cold start (> 80 s of provisioning).
    let first_ready = hpa
        .ticks
        .iter()
        .find(|t| t.ready > 1)
        .expect("new replicas get ready");
    assert!(first_ready.time_us - first_up.time_us >= 90 * SECOND);
    assert!(hpa.peak_replicas > 1 && hpa.scale_events >= 1);
    assert!(hpa.gpu_hours > fixed.gpu_hours);
    let (a_hpa, a_fixed) = (attainment(&hpa, &slo), attainment(&fixed, &slo));
    assert!(a_hpa > a_fixed + 0.1, "HPA {a_hpa} vs static {a_fixed}");
    // Static 1 replica for the whole run: mean 1, cost = hours x price.
    assert!((fixed.mean_replicas - 1.0).abs() < 1e-9);
    let hours = fixed.end_us as f64 / 3.6e9;
    assert!((fixed.gpu_hours - hours).abs() < 1e-9);
    assert!((fixed.cost_usd - hours * fleet.price_per_gpu_hour).abs() < 1e-9);
    assert_eq!(fixed.scale_events, 0);
}

#[test]
fn kpa_scales_to_zero_when_idle_and_back_up() {
    let mut requests = load(Pattern::Poisson, 2.0, 120, 5);
    let later = load(Pattern::Poisson, 2.0, 60, 6);
    requests.extend(later.into_iter().map(|mut r| {
        r.arrival_us += 900 * SECOND;
        r
    }));
    let catalog = Catalog::builtin();
    let fleet = FleetConfig {
        gateway_timeout_us: 600 * SECOND,
        ..FleetConfig::default()
    };
    let result = run(
        &requests,
        &catalog,
        &fleet,
        &common::scaler_spec("kpa"),
        &Slo::default(),
        1,
    )
    .unwrap();
    assert_nothing_lost(&requests, &result);
    assert_eq!(result.strategy, "KPA");
    // KPA ticks every 2 s.
    assert_eq!(
        result.ticks[1].time_us - result.ticks[0].time_us,
        2 * SECOND
    );
    let idle = result
        .ticks
        .iter()
        .find(|t| {
            t.time_us > 200 * SECOND && t.time_us < 900 * SECOND && t.desired == 0 && t.ready == 0
        })
        .expect("scaled to zero while idle");
    assert!(idle.time_us < 600 * SECOND);
    let woke = result
        .ticks
        .iter()
        .find(|t| t.time_us >= 900 * SECOND && t.desired >= 1)
        .expect("scales back up");
    assert!(woke.time_us <= 910 * SECOND, "woke at {}", woke.time_us);
    assert!(
        result
            .ticks
            .iter()
            .any(|t| t.time_us > 900 * SECOND && t.ready >= 1)
    );
    assert_eq!(count(&result, RequestStatus::Completed), requests.len());
    // Nothing provisioned while idle: a tick with no replica in any state.
    assert!(result.ticks.iter().any(|t| t.time_us > 300 * SECOND
        && t.time_us < 900 * SECOND
        && t.ready + t.starting + t.draining == 0));
}

#[test]
fn gateway_timeouts_are_counted() {
    let requests: Vec<Request> = (0..20).map(|i| request(f64::from(i), 100, 10)).collect();
    let catalog = Catalog::builtin();
    let fleet = FleetConfig {
        gateway_timeout_us: 5 * SECOND,
        ..FleetConfig::default()
    };
    let result = run(
        &requests,
        &catalog,
        &fleet,
        &ScalerSpec::Static { replicas: 0 },
        &Slo::default(),
        1,
    )
    .unwrap();
    assert_nothing_lost(&requests, &result);
    assert_eq!(count(&result, RequestStatus::GatewayTimeout), 20);
    assert_eq!(result.gpu_hours, 0.0);
    // A cold start longer than the timeout fails the first requests only.
    let schedule = ScalerSpec::Schedule {
        name: "oracle".into(),
        strategy: "Oracle".into(),
        steps: vec![(0, 0), (1, 1)],
    };
    let fleet = FleetConfig {
        gateway_timeout_us: 60 * SECOND,
        ..FleetConfig::default()
    };
    let late: Vec<Request> = (0..400).map(|i| request(f64::from(i), 100, 10)).collect();
    let result = run(&late, &catalog, &fleet, &schedule, &Slo::default(), 1).unwrap();
    assert_nothing_lost(&late, &result);
    let timeouts = count(&result, RequestStatus::GatewayTimeout);
    assert!(timeouts > 0 && timeouts < 400, "{timeouts}");
    assert_eq!(count(&result, RequestStatus::Completed) + timeouts, 400);
    assert_eq!(result.scaler, "oracle");
    assert_eq!(result.strategy, "Oracle");
}

#[test]
fn a_schedule_starts_from_the_fleets_initial_replicas_like_any_scaler() {
    // The schedule asks for 3 at time zero; the fleet starts with 1 ready, so 2 start
    // cold then (the oracle gets no ready replicas for free).
    let requests: Vec<Request> = (0..60).map(|i| request(f64::from(i), 100, 10)).collect();
    let catalog = Catalog::builtin();
    let fleet = FleetConfig::default();
    assert_eq!(fleet.initial_replicas, 1);
    let schedule = ScalerSpec::Schedule {
        name: "oracle".into(),
        strategy: "Oracle".into(),
        steps: vec![(0, 3)],
    };
    let result = run(&requests, &catalog, &fleet, &schedule, &Slo::default(), 1).unwrap();
    assert_nothing_lost(&requests, &result);
    let first = &result.ticks[0];
    assert_eq!(
        (first.desired, first.ready, first.starting),
        (3, 1, 2),
        "{first:?}"
    );
    assert_eq!(result.scale_events, 1);
}

#[test]
fn drain_past_the_grace_period_cuts_work() {
    // Two long requests, then the schedule scales the only replica away.
    let requests = vec![
        request(0.0, 1000, 20_000),
        request(1.0, 1000, 10),
        request(100.0, 10, 10),
    ];
    let catalog = Catalog::builtin();
    let fleet = FleetConfig {
        drain_grace_us: 5 * SECOND,
        gateway_timeout_us: 10 * SECOND,
        ..FleetConfig::default()
    };
    let schedule = ScalerSpec::Schedule {
        name: "down".into(),
        strategy: "Oracle".into(),
        steps: vec![(0, 1), (10 * SECOND, 0)],
    };
    let result = run(&requests, &catalog, &fleet, &schedule, &Slo::default(), 1).unwrap();
    assert_nothing_lost(&requests, &result);
    let statuses: Vec<RequestStatus> = result.requests.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            RequestStatus::CutByDrain,
            RequestStatus::Completed,
            RequestStatus::GatewayTimeout
        ]
    );
    assert_eq!(result.scale_events, 1);
    assert_eq!(result.ticks.last().unwrap().draining, 0);
}

#[test]
fn spot_interruptions_lose_in_flight_work_and_get_replaced() {
    let mut requests: Vec<Request> = (0..4).map(|i| request(f64::from(i), 500, 30_000)).collect();
    requests.extend((0..600).map(|i| request(10.0 + f64::from(i), 200, 50)));
    let catalog = Catalog::builtin();
    let fleet = FleetConfig {
        initial_replicas: 2,
        spot: Some(SpotConfig {
            share: 1.0,
            interruptions_per_hour: 30.0,
            notice_us: 120 * SECOND,
        }),
        spot_price_per_gpu_hour: Some(1.0),
        price_per_gpu_hour: 3.0,
        gateway_timeout_us: 900 * SECOND,
        ..FleetConfig::default()
    };
    let result = run(
        &requests,
        &catalog,
        &fleet,
        &ScalerSpec::Static { replicas: 2 },
        &Slo::default(),
        9,
    )
    .unwrap();
    assert_nothing_lost(&requests, &result);
    assert!(count(&result, RequestStatus::LostToSpot) > 0);
    let replicas = result
        .requests
        .iter()
        .filter_map(|r| r.replica)
        .max()
        .unwrap();
    assert!(replicas >= 2, "replacements served requests");
    // Every GPU-hour was spot.
    assert!((result.cost_usd - result.gpu_hours * 1.0).abs() < 1e-9);
}
