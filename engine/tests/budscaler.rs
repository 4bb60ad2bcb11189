//! BudScaler through the public API: each requirement shown by the decision it changes.

use engine::decision::DeciderKind;
use engine::observation::{Observation, PodPhase, PodSample, PodStatus, ServingSample};
use engine::spec::BudAIScaler;
use engine::time::{Micros, seconds};
use engine::{Reason, Scaler, ScalerError, ScalerState};
use proptest::prelude::*;

fn manifest(spec_tail: &str) -> BudAIScaler {
    serde_saphyr::from_str(&format!(
        "apiVersion: scaler.bud.studio/v1alpha1\nkind: BudAIScaler\nmetadata: {{ name: bud }}\nspec:\n  scaleTargetRef: {{ kind: Deployment, name: llm }}\n  scalingStrategy: BudScaler\n{spec_tail}"
    ))
    .unwrap()
}

const BASE: &str = "  minReplicas: 1
  maxReplicas: 40
  metricsSources:
    - { metricSourceType: inferenceEngine, targetMetric: num_requests_waiting, targetValue: \"16\", inferenceEngineConfig: { engineType: vllm } }
  behavior:
    scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: Pods, value: 100, periodSeconds: 15 }] }
    scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: Percent, value: 100, periodSeconds: 15 }] }
";

fn with_prediction(predictor: &str) -> String {
    format!(
        "{BASE}  predictionConfig: {{ enabled: true, predictor: {predictor}, lookAheadMinutes: 5 }}\n"
    )
}

/// One replica's view: (generated tokens/s, waiting, KV use).
#[derive(Clone, Copy)]
struct Load {
    generated: f64,
    waiting: f64,
    kv: f64,
}

fn ready_pod(name: &str) -> PodStatus {
    PodStatus {
        name: name.into(),
        phase: PodPhase::Running,
        ready: true,
        start_time: Some(0),
        ready_transition_time: Some(0),
        deleting: false,
        creation_time: Some(0),
        spot: false,
    }
}

fn observation(now: Micros, current: i32, loads: &[Load]) -> Observation {
    let mut obs = Observation {
        now,
        current_replicas: current,
        ..Observation::default()
    };
    for (i, load) in loads.iter().enumerate() {
        let name = format!("p{i}");
        obs.pods.push(ready_pod(&name));
        for (metric, value) in [
            ("num_requests_waiting", load.waiting),
            ("kv_cache_usage", load.kv),
        ] {
            obs.pod_metrics
                .entry(metric.to_string())
                .or_default()
                .insert(
                    name.clone(),
                    PodSample {
                        timestamp: now,
                        window: seconds(15),
                        value,
                    },
                );
        }
        obs.serving.insert(
            name,
            ServingSample {
                timestamp: now,
                window: seconds(15),
                running: Some(10.0),
                waiting: Some(load.waiting),
                kv_cache_usage: Some(load.kv),
                prompt_tokens_per_s: Some(0.0),
                generation_tokens_per_s: Some(load.generated),
                requests_per_s: Some(load.generated / 100.0),
                ttft: None,
                itl: None,
                queue_time: None,
            },
        );
    }
    obs
}

fn same(replicas: usize, load: Load) -> Vec<Load> {
    vec![load; replicas]
}

const SATURATED: Load = Load {
    generated: 1000.0,
    waiting: 4.0,
    kv: 0.5,
};

/// Teaches a scaler that a replica saturates at 1000 tokens/s (two queued readings).
fn learn_capacity(scaler: &mut Scaler, t: &mut Micros) {
    for _ in 0..2 {
        *t += seconds(15);
        scaler.decide(&observation(*t, 2, &same(2, SATURATED)));
    }
}

#[test]
fn capacity_is_learned_from_saturated_replicas_and_sizes_the_fleet() {
    let mut scaler = Scaler::new(&manifest(BASE)).unwrap();
    let mut t = 0;
    // Before saturation: nothing asks, the count holds.
    let quiet = Load {
        generated: 300.0,
        waiting: 0.0,
        kv: 0.1,
    };
    let first = scaler.decide(&observation(seconds(15), 2, &same(2, quiet)));
    // The prior: 2 × the most a replica served without a queue (300), sized at 80%.
    assert!(
        first.message.contains("capacity 480 per replica (prior"),
        "{}",
        first.message
    );
    assert_eq!(first.desired_replicas, 2);
    learn_capacity(&mut scaler, &mut t);
    // 2 × 1000 + backlog; per replica 800 → 3.
    let sized = scaler.decide(&observation(t + seconds(15), 2, &same(2, SATURATED)));
    assert!(sized.desired_replicas >= 3, "{}", sized.message);
    // Measured now, no longer the prior (the jump from quiet was a spike, so the
    // burst memory may be what holds the count).
    assert!(
        sized.message.contains("capacity 800 per replica;"),
        "{}",
        sized.message
    );
    assert_eq!(sized.reason, Reason::CurrentDemand);
    // Light load on 4 replicas, past the 5 minutes a first burst is held: demand
    // 4 × 300 = 1200 → 2 replicas.
    let mut light = sized;
    for i in 0..24 {
        light = scaler.decide(&observation(t + seconds(30 + 15 * i), 4, &same(4, quiet)));
    }
    assert_eq!(light.desired_replicas, 2, "{}", light.message);
}

#[test]
fn the_target_utilization_sets_the_headroom_per_replica() {
    // Learned capacity 1000 per replica; then 4 replicas serve 700 each with no queue:
    // demand 2800 is 4 replicas at 80 % (800 each) and 3 at 100 %.
    let quiet = Load {
        generated: 700.0,
        waiting: 0.0,
        kv: 0.3,
    };
    let desired_at = |utilization: &str| {
        let spec = format!("{BASE}  kpaConfig: {{ targetUtilizationPercentage: {utilization} }}\n");
        let mut scaler = Scaler::new(&manifest(&spec)).unwrap();
        let mut t = 0;
        learn_capacity(&mut scaler, &mut t);
        let mut last = None;
        for i in 1..=8 {
            last = Some(scaler.decide(&observation(t + seconds(15 * i), 4, &same(4, quiet))));
        }
        last.unwrap()
    };
    let default = desired_at("80");
    assert_eq!(default.desired_replicas, 4, "{}", default.message);
    assert!(
        default.message.contains("capacity 800 per replica"),
        "{}",
        default.message
    );
    let full = desired_at("100");
    assert_eq!(full.desired_replicas, 3, "{}", full.message);
}

#[test]
fn a_forecast_scales_ahead_of_a_ramp_that_the_current_demand_rule_trails() {
    let run = |spec: &str| {
        let mut scaler = Scaler::new(&manifest(spec)).unwrap();
        let mut t = 0;
        learn_capacity(&mut scaler, &mut t);
        let mut last = None;
        for step in 0..80 {
            t += seconds(15);
            let per_replica = 400.0 + 10.0 * step as f64;
            let load = Load {
                generated: per_replica,
                waiting: 0.0,
                kv: 0.3,
            };
            last = Some(scaler.decide(&observation(t, 4, &same(4, load))));
        }
        last.unwrap()
    };
    let reactive = run(BASE);
    let predictive = run(&with_prediction("holt"));
    assert!(reactive.forecast.is_none());
    let forecast = predictive.forecast.as_ref().unwrap();
    assert!(forecast.used, "{}", predictive.message);
    assert!(forecast.point > forecast.current);
    assert_eq!(predictive.reason, Reason::DemandForecast);
    assert!(
        predictive.desired_replicas > reactive.desired_replicas,
        "forecast {} vs reactive {}",
        predictive.message,
        reactive.message
    );
}

#[test]
fn a_traffic_spike_is_sized_at_once() {
    let mut scaler = Scaler::new(&manifest(&with_prediction("last-value"))).unwrap();
    let mut t = 0;
    learn_capacity(&mut scaler, &mut t);
    let calm = Load {
        generated: 400.0,
        waiting: 0.0,
        kv: 0.2,
    };
    for _ in 0..6 {
        t += seconds(15);
        scaler.decide(&observation(t, 2, &same(2, calm)));
    }
    // A queue starts to form: not yet a saturated reading, not an unsaturated one.
    let spike = Load {
        generated: 2000.0,
        waiting: 2.0,
        kv: 0.4,
    };
    t += seconds(15);
    let decision = scaler.decide(&observation(t, 2, &same(2, spike)));
    let pattern = decision.pattern.as_ref().unwrap();
    assert_eq!(pattern.name, "traffic_spike");
    assert!(decision.in_panic);
    // Spike demand 4000 (+ backlog) ÷ 800 per replica ≥ 5, where the smoothed minute
    // says fewer.
    assert!(decision.desired_replicas >= 5, "{}", decision.message);
    assert_eq!(decision.decided_by.unwrap().name, "traffic_spike");
}

#[test]
fn a_burst_is_held_by_the_replicas_that_served_it_while_capacity_is_a_guess() {
    let mut scaler = Scaler::new(&manifest(BASE)).unwrap();
    let load = |generated| Load {
        generated,
        waiting: 0.0,
        kv: 0.2,
    };
    let mut t = 0;
    for _ in 0..8 {
        t += seconds(15);
        scaler.decide(&observation(t, 2, &same(2, load(300.0))));
    }
    // A burst six times the demand, served by 4 replicas without a queue: capacity is
    // still the prior's guess (2 × 900 at 80 % = 1440 per replica).
    for _ in 0..2 {
        t += seconds(15);
        scaler.decide(&observation(t, 4, &same(4, load(900.0))));
    }
    // Back to quiet: demand 600 alone would ask for 1 replica, the burst's 3600 for 3;
    // the 4 that served it are held.
    t += seconds(15);
    let held = scaler.decide(&observation(t, 4, &same(4, load(150.0))));
    assert_eq!(held.desired_replicas, 4, "{}", held.message);
    assert_eq!(held.decided_by.as_ref().unwrap().name, "burst_memory");
    // Five minutes after the burst's last spike, the hold is over.
    for _ in 0..20 {
        t += seconds(15);
        scaler.decide(&observation(t, 4, &same(4, load(150.0))));
    }
    t += seconds(15);
    let released = scaler.decide(&observation(t, 4, &same(4, load(150.0))));
    assert!(released.desired_replicas < 4, "{}", released.message);
}

#[test]
fn kv_cache_pressure_adds_a_replica_through_a_closed_gate() {
    let spec = format!(
        "{}      startingPods: {{ maxStartingPods: 1, bypassGateOnPanic: true }}\n",
        BASE.replace(
            "scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: Pods, value: 100, periodSeconds: 15 }] }",
            "scaleUp:\n      stabilizationWindowSeconds: 0\n      policies: [{ type: Pods, value: 100, periodSeconds: 15 }]"
        )
        .replace(
            "    scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: Percent, value: 100, periodSeconds: 15 }] }\n",
            ""
        )
    );
    // No tokens counted in the window (long prompts still prefilling): only the cache
    // speaks. 8 ready at 95% and 1 starting: ceil(8 × 0.95 ÷ 0.8) = 10 > 9.
    let full = Load {
        generated: 0.0,
        waiting: 0.0,
        kv: 0.95,
    };
    let mut obs = observation(seconds(15), 9, &same(8, full));
    let mut starting = ready_pod("p9");
    starting.ready = false;
    starting.ready_transition_time = None;
    obs.pods.push(starting);
    let mut scaler = Scaler::new(&manifest(&spec)).unwrap();
    let decision = scaler.decide(&obs);
    assert_eq!(decision.pattern.as_ref().unwrap().name, "kv_cache_pressure");
    assert_eq!(decision.desired_replicas, 10, "{}", decision.message);
    // The same with the bypass off: the gate holds.
    let closed = spec.replace("bypassGateOnPanic: true", "bypassGateOnPanic: false");
    let mut scaler = Scaler::new(&manifest(&closed)).unwrap();
    let held = scaler.decide(&obs);
    assert_eq!(held.reason, Reason::StartingPodsGate, "{}", held.message);
    assert_eq!(held.desired_replicas, 9);
}

#[test]
fn no_scale_down_while_a_ready_pod_reports_nothing() {
    let mut scaler = Scaler::new(&manifest(BASE)).unwrap();
    let mut t = 0;
    learn_capacity(&mut scaler, &mut t);
    let quiet = Load {
        generated: 100.0,
        waiting: 0.0,
        kv: 0.1,
    };
    let mut obs = observation(t + seconds(15), 4, &same(4, quiet));
    let complete = scaler.clone().decide(&obs);
    assert!(complete.desired_replicas < 4, "{}", complete.message);
    obs.serving.remove("p3");
    let partial = scaler.decide(&obs);
    assert_eq!(partial.desired_replicas, 4, "{}", partial.message);
    assert_eq!(partial.reason, Reason::PartialMetrics);
    assert!(partial.message.contains("p3"));
}

#[test]
fn a_kv_only_manifest_scales_to_zero_after_the_grace_period_and_back_through_the_activator() {
    let spec = "  minReplicas: 0
  maxReplicas: 8
  metricsSources:
    - { metricSourceType: inferenceEngine, targetMetric: kv_cache_usage, targetValue: \"0.8\", inferenceEngineConfig: { engineType: vllm } }
  kpaConfig: { scaleToZeroGracePeriod: 30s }
  behavior:
    scaleDown: { stabilizationWindowSeconds: 0 }
";
    let mut scaler = Scaler::new(&manifest(spec)).unwrap();
    let idle = Load {
        generated: 0.0,
        waiting: 0.0,
        kv: 0.0,
    };
    let mut obs = observation(seconds(15), 1, &same(1, idle));
    for s in obs.serving.values_mut() {
        s.running = Some(0.0);
    }
    let early = scaler.decide(&obs);
    assert_eq!(early.desired_replicas, 1, "{}", early.message);
    assert_eq!(early.reason, Reason::ScaleToZeroGrace);
    obs.now = seconds(60);
    let zero = scaler.decide(&obs);
    assert_eq!(zero.desired_replicas, 0, "{}", zero.message);
    // Nothing ready; the activator holds 3 requests.
    let mut cold = Observation {
        now: seconds(75),
        current_replicas: 0,
        ..Observation::default()
    };
    cold.pods.push(ready_pod("activator"));
    cold.serving.insert(
        "activator".into(),
        ServingSample {
            timestamp: seconds(75),
            waiting: Some(3.0),
            ..ServingSample::default()
        },
    );
    let back = scaler.decide(&cold);
    assert_eq!(back.desired_replicas, 1, "{}", back.message);
    assert_eq!(back.reason, Reason::Activation);
}

#[test]
fn a_hints_only_budscaler_follows_its_hint() {
    let spec = "  minReplicas: 1
  maxReplicas: 10
  scheduleHints:
    - { name: morning, cronExpression: \"0 8 * * *\", targetReplicas: 6, duration: 2h }
  behavior:
    scaleUp: { policies: [{ type: Pods, value: 10, periodSeconds: 15 }] }
";
    let mut scaler = Scaler::new(&manifest(spec)).unwrap();
    // 2026-06-01T08:30:00Z.
    let eight_thirty: Micros = 1_780_302_600_000_000;
    let mut obs = Observation {
        now: seconds(100),
        current_replicas: 1,
        wall_clock: Some(eight_thirty),
        ..Observation::default()
    };
    obs.pods.push(ready_pod("p0"));
    let during = scaler.decide(&obs);
    assert_eq!(during.desired_replicas, 6, "{}", during.message);
    assert_eq!(during.reason, Reason::ScheduleHint);
    assert_eq!(during.schedule_hint.as_ref().unwrap().name, "morning");
    obs.now += seconds(3 * 3600);
    obs.wall_clock = Some(eight_thirty + seconds(3 * 3600));
    obs.current_replicas = 6;
    let after = scaler.decide(&obs);
    assert!(after.schedule_hint.is_none(), "{}", after.message);
}

#[test]
fn hints_on_kpa_and_prediction_on_hpa_manifests_are_refused_with_their_path() {
    let manifest = |strategy: &str, extra: &str| {
        serde_saphyr::from_str::<BudAIScaler>(&format!(
            "apiVersion: scaler.bud.studio/v1alpha1\nkind: BudAIScaler\nmetadata: {{ name: h }}\nspec:\n  scaleTargetRef: {{ kind: Deployment, name: llm }}\n  scalingStrategy: {strategy}\n  maxReplicas: 4\n  metricsSources:\n    - {{ metricSourceType: pod, targetMetric: q, targetValue: \"4\" }}\n{extra}"
        ))
        .unwrap()
    };
    let hpa = |extra: &str| manifest("HPA", extra);
    let hints = "  scheduleHints:\n    - { name: a, cronExpression: \"0 8 * * *\", targetReplicas: 2, duration: 1h }\n";
    // The HPA reads hints as KEDA's cron scaler does (engine/tests/scaler.rs).
    assert!(Scaler::new(&hpa(hints)).is_ok());
    let hinted = manifest("KPA", hints);
    let error = Scaler::new(&hinted).unwrap_err();
    assert!(matches!(error, ScalerError::Unsupported { .. }));
    assert!(
        error.to_string().starts_with("spec.scheduleHints"),
        "{error}"
    );
    let predicted = hpa("  predictionConfig: { enabled: true }\n");
    let error = Scaler::new(&predicted).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("spec.predictionConfig.enabled"),
        "{error}"
    );
}

fn replay(scaler: &mut Scaler, steps: &[(f64, f64, i32)], start: Micros) -> Vec<String> {
    let mut t = start;
    steps
        .iter()
        .map(|&(generated, waiting, replicas)| {
            t += seconds(15);
            let load = Load {
                generated,
                waiting,
                kv: 0.3,
            };
            let decision = scaler.decide(&observation(t, replicas, &same(replicas as usize, load)));
            serde_json::to_string(&decision).unwrap()
        })
        .collect()
}

fn steps() -> impl Strategy<Value = Vec<(f64, f64, i32)>> {
    prop::collection::vec(
        (
            0.0f64..3000.0,
            prop_oneof![Just(0.0), 0.0f64..40.0],
            1i32..12,
        ),
        1..60,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A restart mid-trace (snapshot through JSON, restore) continues with the same
    /// decisions, learning included.
    #[test]
    fn a_restored_budscaler_decides_exactly_like_the_original(
        before in steps(), after in steps(), which in 0usize..4,
    ) {
        let predictor = ["combined", "holt", "last-value", "seasonal"][which];
        let manifest = manifest(&with_prediction(predictor));
        let mut original = Scaler::new(&manifest).unwrap();
        replay(&mut original, &before, 0);
        let saved = serde_json::to_string(&original.snapshot()).unwrap();
        let state: ScalerState = serde_json::from_str(&saved).unwrap();
        let mut restored = Scaler::restore(&manifest, state).unwrap();
        let start = seconds(15 * before.len() as i64);
        prop_assert_eq!(replay(&mut original, &after, start), replay(&mut restored, &after, start));
    }

    #[test]
    fn budscaler_stays_within_min_and_max(steps in steps()) {
        let mut scaler = Scaler::new(&manifest(&with_prediction("combined"))).unwrap();
        let mut t = 0;
        for &(generated, waiting, replicas) in &steps {
            t += seconds(15);
            let load = Load { generated, waiting, kv: 0.3 };
            let d = scaler.decide(&observation(t, replicas, &same(replicas as usize, load)));
            prop_assert!((1..=40).contains(&d.desired_replicas), "{}", d.message);
        }
    }
}

#[test]
fn a_load_metric_named_in_prediction_metrics_is_forecast_for_its_guard() {
    // Requests waiting grow by 2 per pod per tick; the guard's target is 16 per replica.
    let run = |prediction: &str| {
        let mut scaler = Scaler::new(&manifest(&format!("{BASE}{prediction}"))).unwrap();
        let mut last = None;
        for step in 0..40 {
            let load = Load {
                generated: 0.0,
                waiting: 2.0 * f64::from(step),
                kv: 0.1,
            };
            last = Some(scaler.decide(&observation(
                seconds(15 * i64::from(step + 1)),
                2,
                &same(2, load),
            )));
        }
        last.unwrap()
    };
    let plain = run("");
    let ahead = run(
        "  predictionConfig: { enabled: true, predictor: holt, lookAheadMinutes: 5, predictionMetrics: [num_requests_waiting] }\n",
    );
    let guard = |d: &engine::Decision| d.metrics[0].proposed_replicas.unwrap();
    assert!(
        guard(&ahead) > guard(&plain),
        "{} vs {}",
        ahead.message,
        plain.message
    );
    assert!(
        ahead.message.contains("num_requests_waiting forecast"),
        "{}",
        ahead.message
    );
}

/// Runs `ticks` observations of `replicas` pods each serving `per_pod(step)` tokens/s
/// (no queue), after teaching the 1000 tokens/s capacity; returns every decision.
fn steady_run(
    spec: &str,
    replicas: i32,
    ticks: i64,
    per_pod: impl Fn(i64) -> f64,
) -> Vec<engine::Decision> {
    let mut scaler = Scaler::new(&manifest(spec)).unwrap();
    let mut t = 0;
    learn_capacity(&mut scaler, &mut t);
    (0..ticks)
        .map(|step| {
            t += seconds(15);
            let load = Load {
                generated: per_pod(step),
                waiting: 0.0,
                kv: 0.3,
            };
            scaler.decide(&observation(t, replicas, &same(replicas as usize, load)))
        })
        .collect()
}

#[test]
fn steady_state_skips_a_scale_down_by_one_replica() {
    // 4 × 560 = 2240 tokens/s over 800 per replica: 3 replicas would do.
    let steady = format!(
        "{BASE}  predictionConfig: {{ enabled: true, predictor: last-value, lookAheadMinutes: 5 }}\n"
    );
    let with_pattern = steady_run(&steady, 4, 60, |_| 560.0);
    let last = with_pattern.last().unwrap();
    assert_eq!(
        last.pattern.as_ref().unwrap().name,
        "steady_state",
        "{}",
        last.message
    );
    assert_eq!(last.desired_replicas, 4, "{}", last.message);
    let without = steady_run(BASE, 4, 60, |_| 560.0);
    assert_eq!(without.last().unwrap().desired_replicas, 3);
}

#[test]
fn traffic_drain_sizes_for_the_forecast_below_demand_now() {
    let spec = with_prediction("holt");
    let decisions = steady_run(&spec, 8, 80, |step| {
        (1000.0 - 10.0 * step as f64).max(100.0)
    });
    let drained = decisions
        .iter()
        .find(|d| {
            d.pattern
                .as_ref()
                .is_some_and(|p| p.name == "traffic_drain")
        })
        .expect("a steady fall is a drain");
    let forecast = drained.forecast.as_ref().unwrap();
    let on_demand_now = (forecast.current / 800.0).ceil() as i32;
    assert!(
        drained.desired_replicas < on_demand_now,
        "{} (demand now alone asks {on_demand_now})",
        drained.message
    );
}

#[test]
fn batch_ingestion_ignores_the_forecast_trend() {
    // Only a KV guard (30% use asks for little): the demand rule decides.
    let spec = with_prediction("holt").replace(
        "targetMetric: num_requests_waiting, targetValue: \"16\"",
        "targetMetric: kv_cache_usage, targetValue: \"0.9\"",
    );
    assert!(spec.contains("kv_cache_usage"));
    let mut scaler = Scaler::new(&manifest(&spec)).unwrap();
    let mut t = 0;
    learn_capacity(&mut scaler, &mut t);
    let mut last = None;
    for step in 0..30 {
        t += seconds(15);
        // Long prompts pour in: prompt tokens/s rise, little is generated, a queue stands.
        let mut obs = observation(
            t,
            2,
            &same(
                2,
                Load {
                    generated: 50.0,
                    waiting: 30.0,
                    kv: 0.3,
                },
            ),
        );
        for sample in obs.serving.values_mut() {
            sample.prompt_tokens_per_s = Some(2000.0 + 200.0 * f64::from(step));
        }
        last = Some(scaler.decide(&obs));
    }
    let last = last.unwrap();
    assert_eq!(
        last.pattern.as_ref().unwrap().name,
        "batch_ingestion",
        "{}",
        last.message
    );
    let forecast = last.forecast.as_ref().unwrap();
    assert!(
        forecast.value > forecast.current,
        "a rising series forecasts up"
    );
    assert_eq!(last.reason, Reason::CurrentDemand, "{}", last.message);
    assert_eq!(
        last.decided_by.as_ref().unwrap().kind,
        DeciderKind::Capacity
    );
}

#[test]
fn cold_start_counts_starting_replicas_and_the_gate_holds_scale_up() {
    let gated = BASE.replace(
        "scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: Pods, value: 100, periodSeconds: 15 }] }",
        "scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: Pods, value: 100, periodSeconds: 15 }], startingPods: { maxStartingPods: 2 } }",
    );
    let decide = |spec: &str| {
        let mut scaler = Scaler::new(&manifest(spec)).unwrap();
        let mut t = 0;
        learn_capacity(&mut scaler, &mut t);
        // A short queue (not saturated, not idle): 2 × 1700 ÷ 800 asks for 5, more
        // than the 2 ready and 2 starting.
        let busy = Load {
            generated: 1700.0,
            waiting: 2.0,
            kv: 0.5,
        };
        // Five observations: past the one-minute smoothing window.
        let mut last = None;
        for _ in 0..5 {
            t += seconds(15);
            let mut obs = observation(t, 4, &same(2, busy));
            for name in ["s0", "s1"] {
                let mut starting = ready_pod(name);
                starting.ready = false;
                starting.ready_transition_time = None;
                obs.pods.push(starting);
            }
            last = Some(scaler.decide(&obs));
        }
        last.unwrap()
    };
    let open = decide(BASE);
    assert!(open.desired_replicas > 4, "{}", open.message);
    assert_eq!(open.pattern.as_ref().unwrap().name, "cold_start");
    let held = decide(&gated);
    assert_eq!(held.desired_replicas, 4, "{}", held.message);
    assert_eq!(held.reason, Reason::StartingPodsGate);
}

/// Eight days of decisions with forecasting, seasons and a hint: the stored document
/// stays far below what a ConfigMap holds, and a scaler loaded from it decides as the
/// one that saved it. Another version or strategy is refused.
#[test]
fn a_weeks_learning_saves_into_a_configmap_sized_document() {
    use engine::saved::{self, SAVED_MAX_BYTES, SavedError};
    let spec = format!(
        "{BASE}  predictionConfig: {{ enabled: true, predictor: combined, seasonalMetrics: [num_requests_waiting], predictionMetrics: [num_requests_waiting], timeZone: Europe/Berlin }}\n  scheduleHints:\n    - {{ name: morning, cronExpression: \"0 8 * * 1-5\", targetReplicas: 3, duration: 2h, timeZone: Europe/Berlin }}\n"
    );
    let manifest = manifest(&spec);
    let mut scaler = Scaler::new(&manifest).unwrap();
    let start: Micros = 1_780_272_000 * 1_000_000; // a Monday, 00:00 UTC
    let at = |t: Micros| {
        let hour = (t / seconds(3600)) % 24;
        let generated = 200.0 + 60.0 * hour as f64;
        let mut obs = observation(
            t,
            3,
            &same(
                3,
                Load {
                    generated,
                    waiting: (hour % 5) as f64,
                    kv: 0.3,
                },
            ),
        );
        obs.wall_clock = Some(start + t);
        obs
    };
    let mut t = 0;
    while t < seconds(8 * 24 * 3600) {
        t += seconds(15);
        scaler.decide(&at(t));
    }
    // What a person reads of it: every predictor scored, a capacity, the seed's
    // accuracy figures, and a complete week of seasonal data after eight days.
    let last = scaler.decide(&at(t + seconds(15)));
    t += seconds(15);
    let learning = engine::status::learning_status(&scaler.snapshot(), Some(&last), 0.5).unwrap();
    assert!(learning.data_points_collected > 0, "{learning:?}");
    let accuracy = learning.overall_accuracy.unwrap();
    assert!((0.0..=1.0).contains(&accuracy), "{learning:?}");
    assert_eq!(
        Some(accuracy),
        learning.recent_mape.map(|m| (1.0 - m).clamp(0.0, 1.0))
    );
    assert!(
        learning
            .direction_accuracy
            .is_some_and(|d| (0.0..=1.0).contains(&d))
    );
    assert!(learning.seasonal_data_complete, "{learning:?}");
    assert_eq!(learning.calibration_needed, accuracy < 0.5);
    assert!(
        learning
            .predictors
            .iter()
            .all(|p| p.scored > 0 && p.mape.is_some_and(f64::is_finite)),
        "{learning:?}"
    );
    assert!(
        learning.capacity_per_replica.is_some_and(|c| c > 0.0),
        "{learning:?}"
    );
    let text = saved::save(&scaler).unwrap();
    eprintln!("saved state after eight days: {} bytes", text.len());
    assert!(text.len() < SAVED_MAX_BYTES / 4, "{} bytes", text.len());
    let mut loaded = saved::load(&manifest, &text).unwrap();
    for _ in 0..20 {
        t += seconds(15);
        assert_eq!(loaded.decide(&at(t)), scaler.decide(&at(t)));
    }
    let newer = text.replacen("\"version\":1", "\"version\":2", 1);
    assert!(matches!(
        saved::load(&manifest, &newer),
        Err(SavedError::Version { found: 2, .. })
    ));
    let hpa = manifest_of_strategy("HPA");
    assert!(matches!(
        saved::load(&hpa, &text),
        Err(SavedError::Scaler(ScalerError::SnapshotMismatch { .. }))
    ));
}

fn manifest_of_strategy(strategy: &str) -> BudAIScaler {
    serde_saphyr::from_str(&format!(
        "apiVersion: scaler.bud.studio/v1alpha1\nkind: BudAIScaler\nmetadata: {{ name: bud }}\nspec:\n  scaleTargetRef: {{ kind: Deployment, name: llm }}\n  scalingStrategy: {strategy}\n{BASE}"
    ))
    .unwrap()
}

/// One decision of a scaler with `cost_config` that learned capacity, then sees 4
/// saturated replicas (`spot_pods` of them on spot) priced at 10 per replica-hour
/// on-demand and 4 on spot, with `spent` so far and `interruptions` in the last hour.
fn priced_decision(
    cost_config: &str,
    spent: f64,
    spot_pods: usize,
    interruptions: u32,
) -> engine::Decision {
    let mut scaler = Scaler::new(&manifest(&format!("{BASE}{cost_config}"))).unwrap();
    let mut t = 0;
    learn_capacity(&mut scaler, &mut t);
    let mut obs = observation(t + seconds(15), 4, &same(4, SATURATED));
    for pod in obs.pods.iter_mut().take(spot_pods) {
        pod.spot = true;
    }
    obs.cost = Some(engine::observation::CostObservation {
        on_demand_per_replica_hour: 10.0,
        spot_per_replica_hour: 4.0,
        spent,
        spot_interruptions_last_hour: interruptions,
    });
    scaler.decide(&obs)
}

/// A saturated fleet of 4 asks for more; `costConfig` budgets cap it at what they pay
/// for, the decision says what it would have asked, and minReplicas stays a floor.
#[test]
fn budgets_cap_the_count_and_say_what_the_demand_would_have_asked() {
    use engine::observation::CostObservation;
    let cost = |spent: f64| CostObservation {
        on_demand_per_replica_hour: 10.0,
        spot_per_replica_hour: 4.0,
        spent,
        spot_interruptions_last_hour: 0,
    };
    let run = |cost_config: &str, spent: f64| priced_decision(cost_config, spent, 0, 0);
    let free = run("", 0.0);
    assert!(free.desired_replicas > 5, "{}", free.message);
    // 55 per hour at 10 per replica-hour: 5 replicas.
    let hourly = run(
        "  costConfig: { enabled: true, budgetPerHour: \"55\" }\n",
        0.0,
    );
    assert_eq!(hourly.desired_replicas, 5, "{}", hourly.message);
    assert_eq!(hourly.reason, Reason::BudgetLimit);
    assert_eq!(
        hourly.decided_by.as_ref().unwrap().kind,
        DeciderKind::Budget
    );
    assert!(
        hourly
            .message
            .contains(&format!("{} replicas would cost", free.desired_replicas)),
        "{}",
        hourly.message
    );
    assert!(hourly.conditions.scaling_limited.status);
    // Disabled cost awareness: the budget is not applied.
    let disabled = run(
        "  costConfig: { enabled: false, budgetPerHour: \"55\" }\n",
        0.0,
    );
    assert_eq!(disabled.desired_replicas, free.desired_replicas);
    // A day's budget of 500 with 470 spent in the last 23 h leaves 30: 3 replicas (the
    // spend log's first checkpoint is the driver's 0, recorded at the first decision).
    let mut scaler = Scaler::new(&manifest(&format!(
        "{BASE}  costConfig: {{ enabled: true, budgetPerDay: \"500\" }}\n"
    )))
    .unwrap();
    let mut t = 0;
    let mut obs = observation(seconds(1), 2, &same(2, SATURATED));
    obs.cost = Some(cost(0.0));
    scaler.decide(&obs);
    learn_capacity(&mut scaler, &mut t);
    let mut obs = observation(seconds(3600), 4, &same(4, SATURATED));
    obs.cost = Some(cost(470.0));
    let daily = scaler.decide(&obs);
    assert_eq!(daily.desired_replicas, 3, "{}", daily.message);
    assert!(
        daily.message.contains("budgetPerDay leaves 30.00"),
        "{}",
        daily.message
    );
    // "0" buys nothing: minReplicas (1) is kept over it, and the decision says so.
    let zero = run(
        "  costConfig: { enabled: true, budgetPerHour: \"0\" }\n",
        0.0,
    );
    assert_eq!(zero.desired_replicas, 1, "{}", zero.message);
    assert!(
        zero.message
            .contains("minReplicas 1 is kept over the budget"),
        "{}",
        zero.message
    );
    // No prices from the driver: said, not guessed.
    let mut scaler = Scaler::new(&manifest(&format!(
        "{BASE}  costConfig: {{ enabled: true, budgetPerHour: \"55\" }}\n"
    )))
    .unwrap();
    let blind = scaler.decide(&observation(seconds(15), 4, &same(4, SATURATED)));
    assert!(
        blind
            .message
            .contains("budget not applied: the driver reports no prices"),
        "{}",
        blind.message
    );
}

/// Spot pods cost the spot price: the same budget buys more replicas on spot.
#[test]
fn the_budget_prices_replicas_at_the_fleets_spot_mix() {
    let decide = |spot_pods: usize| {
        priced_decision(
            "  costConfig: { enabled: true, budgetPerHour: \"35\" }\n",
            0.0,
            spot_pods,
            0,
        )
    };
    // All on-demand: 35 buys 3 at 10; half spot: 7 per replica-hour, 35 buys 5.
    assert_eq!(decide(0).desired_replicas, 3, "{}", decide(0).message);
    assert_eq!(decide(2).desired_replicas, 5, "{}", decide(2).message);
}

/// `costConfig` spot placement: the share of the desired count each mode puts on spot,
/// and the fallback to on-demand after an interruption notice.
#[test]
fn spot_placement_follows_the_mode_the_share_and_the_fallback() {
    let decide = |cost_config: &str, interruptions: u32, spot_pods: usize| {
        priced_decision(cost_config, 0.0, spot_pods, interruptions)
    };
    let off = decide("", 0, 0);
    assert_eq!(
        off.desired_spot_replicas, None,
        "no cost awareness: the driver places"
    );
    let desired = off.desired_replicas;
    let preferred = decide(
        "  costConfig: { enabled: true, preferSpotInstances: true, maxSpotPercentage: 50 }\n",
        0,
        0,
    );
    assert_eq!(preferred.desired_replicas, desired);
    assert_eq!(preferred.desired_spot_replicas, Some(desired / 2));
    let not_preferred = decide("  costConfig: { enabled: true }\n", 0, 0);
    assert_eq!(
        not_preferred.desired_spot_replicas,
        Some(0),
        "balanced needs preferSpotInstances"
    );
    let cost_optimized = decide(
        "  costConfig: { enabled: true, costOptimizationMode: cost-optimized, maxSpotPercentage: 50 }\n",
        0,
        0,
    );
    assert_eq!(cost_optimized.desired_spot_replicas, Some(desired / 2));
    let performance = decide(
        "  costConfig: { enabled: true, preferSpotInstances: true, costOptimizationMode: performance }\n",
        0,
        0,
    );
    assert_eq!(performance.desired_spot_replicas, Some(0));
    // An interruption in the last hour: no new spot, the serving spot pods are kept.
    let spec =
        "  costConfig: { enabled: true, preferSpotInstances: true, maxSpotPercentage: 100 }\n";
    assert_eq!(decide(spec, 1, 1).desired_spot_replicas, Some(1));
    assert_eq!(decide(spec, 0, 1).desired_spot_replicas, Some(desired));
    let no_fallback = "  costConfig: { enabled: true, preferSpotInstances: true, maxSpotPercentage: 100, spotFallbackToOnDemand: false }\n";
    assert_eq!(
        decide(no_fallback, 1, 1).desired_spot_replicas,
        Some(desired)
    );
}

/// `gpuConfig` on a fleet of 4 carrying half what it could: every replica's GPUs at
/// `tensor` tensor-pipe activity (two GPUs each, the second the busier), KV at `kv`.
fn gpu_decision(
    gpu_config: &str,
    tensor: f64,
    kv: f64,
    with_gpu_samples: bool,
) -> engine::Decision {
    use engine::observation::{GpuDevice, GpuSample};
    let mut scaler = Scaler::new(&manifest(&format!("{BASE}{gpu_config}"))).unwrap();
    let mut t = 0;
    learn_capacity(&mut scaler, &mut t);
    let half = Load {
        generated: 500.0,
        waiting: 0.0,
        kv,
    };
    let mut obs = observation(t + seconds(15), 4, &same(4, half));
    if with_gpu_samples {
        for pod in &obs.pods {
            let device = |id: &str, active: f64| GpuDevice {
                id: id.to_string(),
                model: Some("NVIDIA H100 80GB HBM3".to_string()),
                utilization_percent: Some(100.0),
                memory_used_mib: Some(72_000.0),
                memory_free_mib: Some(8_000.0),
                tensor_active: Some(active),
                ..GpuDevice::default()
            };
            obs.gpu.insert(
                pod.name.clone(),
                GpuSample {
                    devices: vec![device("0", tensor / 2.0), device("1", tensor)],
                },
            );
        }
    }
    scaler.decide(&obs)
}

/// The compute rule raises the count over its threshold (by the busiest GPU of each
/// replica), and under it keeps a scale-down from pushing the mean back over.
#[test]
fn the_gpu_compute_rule_raises_the_count_and_floors_a_scale_down() {
    let plain = gpu_decision("", 0.6, 0.3, true);
    assert!(plain.desired_replicas < 4, "{}", plain.message);
    let config = "  gpuConfig: { enabled: true, gpuComputeThreshold: 40 }\n";
    // 4 × 0.6 / 0.4 = 6: the busiest GPU counts, not the mean of the two.
    let hot = gpu_decision(config, 0.6, 0.3, true);
    assert_eq!(hot.desired_replicas, 6, "{}", hot.message);
    assert_eq!(hot.reason, Reason::SignalGuard);
    let by = hot.decided_by.as_ref().unwrap();
    assert_eq!(
        (by.kind, by.name.as_str()),
        (DeciderKind::Gpu, "gpuComputeThreshold")
    );
    assert!(
        hot.message
            .contains("gpu compute 0.60 mean (tensor-pipe, 4 replicas"),
        "{}",
        hot.message
    );
    // At 0.35 the mean is under 40 %; demand alone would shed replicas, the floor
    // keeps ceil(4 × 0.35 / 0.4) = 4.
    let cool = gpu_decision(config, 0.35, 0.3, true);
    assert_eq!(cool.desired_replicas, 4, "{}", cool.message);
    assert!(cool.message.contains("floor 4"), "{}", cool.message);
}

/// The memory rule reads the KV cache, not the framebuffer vLLM preallocated (90 %
/// on every GPU here): at 30 % KV it asks nothing; at 95 % it raises the count.
#[test]
fn the_gpu_memory_rule_reads_the_kv_cache_not_the_preallocated_framebuffer() {
    let config = "  gpuConfig: { enabled: true, gpuMemoryThreshold: 80, gpuComputeThreshold: 0 }\n";
    let calm = gpu_decision(config, 0.1, 0.3, true);
    assert!(calm.desired_replicas < 4, "{}", calm.message);
    assert!(
        calm.message.contains("gpu memory 0.30 mean (kv-cache"),
        "{}",
        calm.message
    );
    let full = gpu_decision(config, 0.1, 0.95, true);
    // ceil(4 × 0.95 / 0.8) = 5
    assert!(full.desired_replicas >= 5, "{}", full.message);
}

/// A configured GPU source that answers nothing: the decision names the pods, never
/// scales down on it, and says why.
#[test]
fn missing_gpu_readings_hold_a_scale_down_and_are_named() {
    let config = "  gpuConfig: { enabled: true }\n";
    let with = gpu_decision(config, 0.1, 0.3, true);
    assert!(with.desired_replicas < 4, "{}", with.message);
    let without = gpu_decision(config, 0.1, 0.3, false);
    assert_eq!(without.desired_replicas, 4, "{}", without.message);
    assert_eq!(without.reason, Reason::PartialMetrics);
    assert!(
        without
            .message
            .contains("no scale-down: no GPU reading from p0, p1, p2, p3"),
        "{}",
        without.message
    );
}

/// The interruption rate against the headroom: at the default 240 s cold start and an
/// 80 % target, more than 3 notices per spot replica-hour leave more spot capacity
/// missing than the 20 % headroom covers, and no replica goes on spot, fallback or not.
#[test]
fn a_high_interruption_rate_rules_spot_out_and_says_why() {
    let no_fallback = "  costConfig: { enabled: true, preferSpotInstances: true, maxSpotPercentage: 100, spotFallbackToOnDemand: false }\n";
    let calm = priced_decision(no_fallback, 0.0, 2, 6);
    // 6 over 2 spot replicas: 3 per hour × 240 s = 20 %, within the headroom.
    assert_eq!(
        calm.desired_spot_replicas,
        Some(calm.desired_replicas),
        "{}",
        calm.message
    );
    assert!(!calm.message.contains("no spot"), "{}", calm.message);
    let stormy = priced_decision(no_fallback, 0.0, 2, 8);
    assert_eq!(stormy.desired_spot_replicas, Some(0), "{}", stormy.message);
    assert!(
        stormy.message.contains(
            "no spot: 8 interruption(s) in the last hour over 2 spot replica(s) with a 240s cold start leave 27 % of spot capacity missing, more than the 20 % headroom"
        ),
        "{}",
        stormy.message
    );
}
