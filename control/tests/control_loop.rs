//! The control loop through its public API: scraped text and pod statuses in, a decision
//! record out, the same after a restart as without one.

use control::{ControlLoop, DecisionLine, desired_replicas, timing};
use engine::observation::PodStatus;
use engine::spec::BudAIScaler;
use engine::time::SECOND;
use traces::metrics::prometheus::Scrape;
use traces::observe::PodScrape;

fn manifest(name: &str) -> BudAIScaler {
    let path = format!(
        "{}/../scenarios/scalers/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn pod(name: &str) -> PodStatus {
    PodStatus::ready_since(name, 0)
}

fn scrape(waiting: u32) -> Scrape {
    Scrape::parse(&format!(
        "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{{model_name=\"m\"}} {waiting}\n# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{{model_name=\"m\"}} 8\n"
    ))
    .unwrap()
}

#[test]
fn a_tick_turns_scrapes_into_a_decision_record_with_calendar_time() {
    let hpa = manifest("hpa");
    let mut control = ControlLoop::new(
        "hpa",
        &hpa,
        timing::Configured::default(),
        Some(1_700_000_000 * SECOND),
    )
    .unwrap();
    assert_eq!(control.sync_us, 15 * SECOND);
    assert_eq!(control.scrape_us, 15 * SECOND);
    assert!(!control.activator, "the HPA does not read the activator");
    let (status, busy) = (pod("p0"), scrape(40));
    let pods = [PodScrape {
        status: &status,
        engine: Some(&busy),
        gpu: None,
        scraped_at: 15 * SECOND,
    }];
    let (record, observation) = control.tick(15 * SECOND, 1, &pods);
    assert_eq!(observation.wall_clock, Some(1_700_000_015 * SECOND));
    assert_eq!(record.scaler, "hpa");
    assert!(
        record.decision.desired_replicas > 1,
        "{}",
        record.decision.message
    );
    assert_eq!(
        desired_replicas(&record.decision, 2),
        2,
        "capped by the driver"
    );
    let line = serde_json::to_string(&DecisionLine::of(&record)).unwrap();
    assert!(
        line.starts_with("{\"time_s\":15.0,\"scaler\":\"hpa\",\"strategy\":\"HPA\""),
        "{line}"
    );
}

#[test]
fn a_restarted_loop_decides_as_one_that_never_stopped() {
    let bud = manifest("budscaler");
    let configured = timing::Configured {
        sync_us: None,
        scrape_us: Some(15 * SECOND),
    };
    let mut steady = ControlLoop::new("bud", &bud, configured, None).unwrap();
    let mut restarted = ControlLoop::new("bud", &bud, configured, None).unwrap();
    assert!(steady.activator);
    let status = pod("p0");
    for step in 1..=20i64 {
        if step == 10 {
            restarted.restart();
        }
        let text = scrape(u32::try_from(step % 7).unwrap() * 3);
        let pods = [PodScrape {
            status: &status,
            engine: Some(&text),
            gpu: None,
            scraped_at: step * 15 * SECOND,
        }];
        let (a, _) = steady.tick(step * 15 * SECOND, 1, &pods);
        let (b, _) = restarted.tick(step * 15 * SECOND, 1, &pods);
        assert_eq!(a, b, "step {step}");
    }
}

/// A loop's observations and decisions, logged as JSON lines, replay to the same
/// decisions (floats included); a changed decision is named by its line.
#[test]
fn an_observation_log_replays_to_identical_decisions() {
    use control::log::{LogLine, ReplayError, replay};
    let bud = manifest("budscaler");
    let mut control = ControlLoop::new(
        "bud",
        &bud,
        timing::Configured::default(),
        Some(1_780_272_000 * SECOND),
    )
    .unwrap();
    let mut lines = vec![
        LogLine::Start {
            scaler: "bud".into(),
            manifest: Box::new(bud.clone()),
            state: Some(control.scaler.snapshot()),
        }
        .to_json(),
    ];
    let status = pod("p0");
    for step in 1..=40i64 {
        // Irrational-looking rates: the floats must survive the text exactly.
        let text = Scrape::parse(&format!(
            "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting {}\n# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc {}\n",
            step % 9,
            (step as f64 / 7.0).sin().abs()
        ))
        .unwrap();
        let pods = [PodScrape {
            status: &status,
            engine: Some(&text),
            gpu: None,
            scraped_at: step * 15 * SECOND,
        }];
        let (record, observation) = control.tick(step * 15 * SECOND, 2, &pods);
        lines.push(LogLine::tick(observation, record.decision, true).to_json());
    }
    let log = lines.join("\n");
    let replayed = replay(&log).unwrap();
    assert_eq!(replayed.scalers, [("bud".to_string(), 40)]);
    // Change one logged decision: the replay names its line.
    let mut tampered: Vec<String> = lines.clone();
    let mut line: serde_json::Value = serde_json::from_str(&tampered[10]).unwrap();
    line["decision"]["desiredReplicas"] = serde_json::json!(17);
    tampered[10] = line.to_string();
    match replay(&tampered.join("\n")) {
        Err(ReplayError::Mismatch {
            line,
            logged_replicas,
            ..
        }) => {
            assert_eq!((line, logged_replicas), (11, 17));
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert!(matches!(
        replay(&lines[1..].join("\n")),
        Err(ReplayError::NoStart { line: 1 })
    ));
    assert!(matches!(
        replay("{oops"),
        Err(ReplayError::Parse { line: 1, .. })
    ));
}
