//! Invariants of the KPA decider, the KPA and the windows, over random inputs.

use engine::kpa::{Decider, Kpa, KpaConfig, KpaState, Load, Tick};
use engine::time::{Micros, SECOND};
use engine::window::{Algorithm, AverageWindow};
use proptest::prelude::*;

/// One decider tick: time step, ready pods, stable and panic values.
#[derive(Debug, Clone)]
struct Step {
    dt: Micros,
    ready: i32,
    stable: f64,
    panic: f64,
}

fn step() -> impl Strategy<Value = Step> {
    (0..10 * SECOND, 0..200i32, 0.0..5000.0f64, 0.0..5000.0f64).prop_map(
        |(dt, ready, stable, panic)| Step {
            dt,
            ready,
            stable,
            panic,
        },
    )
}

fn config() -> impl Strategy<Value = KpaConfig> {
    (
        (1.0..100.0f64, 1.1..20.0f64, 1.1..10.0f64, 1.5..4.0f64),
        (
            1..5i32,
            any::<bool>(),
            prop::sample::select(vec![0, 10, 60]),
            6..120i64,
        ),
        prop::sample::select(vec![0.0, -1.0, 211.0]),
    )
        .prop_map(
            |((target, up, down, threshold), (activation, reachable, delay_s, window_s), tbc)| {
                KpaConfig {
                    target_value: target,
                    total_value: target / 0.7,
                    max_scale_up_rate: up,
                    max_scale_down_rate: down,
                    panic_threshold: threshold,
                    activation_scale: activation,
                    reachable,
                    scale_down_delay: delay_s * SECOND,
                    stable_window: window_s * SECOND,
                    target_burst_capacity: tbc,
                    ..KpaConfig::default()
                }
            },
        )
}

proptest! {
    /// Every fresh count is within `[0, max(ceil(up × max(1, ready)), activation)]`; the
    /// ratchet and the delay only repeat earlier counts (or the creation-time ready
    /// pods), so the result never exceeds the largest bound seen so far.
    #[test]
    fn desired_is_bounded_by_the_scale_up_rate(
        config in config(),
        initial in 0..50i32,
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let mut decider = Decider::new(&config, 0, initial);
        let mut now = 0;
        let mut bound = initial;
        for s in &steps {
            now += s.dt;
            let cap = (config.max_scale_up_rate * f64::from(s.ready.max(1))).ceil() as i32;
            bound = bound.max(cap).max(config.activation_scale);
            let r = decider.scale(&config, now, s.ready, s.stable, s.panic);
            prop_assert!(r.desired >= 0);
            prop_assert!(r.desired <= bound, "desired {} > bound {}", r.desired, bound);
        }
    }

    /// While panic lasts the decision never goes down (no scale-down delay involved).
    #[test]
    fn panic_never_scales_down(
        config in config(),
        initial in 0..50i32,
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let config = KpaConfig { scale_down_delay: 0, ..config };
        let mut decider = Decider::new(&config, 0, initial);
        let mut now = 0;
        let mut previous: Option<(bool, i32)> = None;
        for s in &steps {
            now += s.dt;
            let r = decider.scale(&config, now, s.ready, s.stable, s.panic);
            if let Some((true, before)) = previous && r.in_panic {
                prop_assert!(r.desired >= before, "panic went from {} to {}", before, r.desired);
            }
            previous = Some((r.in_panic, r.desired));
        }
    }

    /// The same inputs give the same outcomes.
    #[test]
    fn decisions_are_deterministic(
        config in config(),
        initial in 0..50i32,
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let run = || {
            let mut kpa = Kpa::new(&config, 0, initial).unwrap();
            let mut now = 0;
            let mut replicas = initial;
            let mut outcomes = Vec::new();
            for s in &steps {
                now += s.dt;
                kpa.record(now, s.stable);
                let tick = Tick { now, ready_pods: s.ready, current_replicas: replicas };
                let out = kpa.decide(&config, tick, Load::Recorded);
                replicas = out.desired;
                outcomes.push(out);
            }
            outcomes
        };
        prop_assert_eq!(run(), run());
    }

    /// A KPA resumed from its serialized state decides exactly like the original.
    #[test]
    fn state_round_trip_keeps_future_decisions(
        config in config(),
        initial in 0..50i32,
        before in prop::collection::vec(step(), 1..20),
        after in prop::collection::vec(step(), 1..20),
        averaged in any::<bool>(),
    ) {
        let mut kpa = Kpa::new(&config, 0, initial).unwrap();
        let mut now = 0;
        let drive = |kpa: &mut Kpa, now: &mut Micros, s: &Step| {
            *now += s.dt;
            kpa.record(*now, s.stable);
            let load = if averaged {
                Load::Averaged { stable: s.stable, panic: s.panic }
            } else {
                Load::Recorded
            };
            let tick = Tick { now: *now, ready_pods: s.ready, current_replicas: s.ready };
            kpa.decide(&config, tick, load)
        };
        for s in &before {
            drive(&mut kpa, &mut now, s);
        }
        let json = serde_json::to_string(kpa.state()).unwrap();
        let state: KpaState = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&state, kpa.state());
        let mut resumed = Kpa::from_state(state);
        let mut now_resumed = now;
        for s in &after {
            let a = drive(&mut kpa, &mut now, s);
            let b = drive(&mut resumed, &mut now_resumed, s);
            prop_assert_eq!(a, b);
        }
    }

    /// A series of one constant value per bucket averages to that value (linear), or to
    /// at least 0.9999 of it once the window is full (weighted: the weights of a full
    /// window add up to at least 0.9999 by construction).
    #[test]
    fn constant_series_average_to_the_constant(
        value in 0.0..10_000.0f64,
        granularity_s in 1..5i64,
        buckets in 1..90i64,
        writes in 1..200i64,
        start in 0..1_000i64,
    ) {
        let g = granularity_s * SECOND;
        let mut linear = AverageWindow::new(Algorithm::Linear, buckets * g, g).unwrap();
        let mut weighted = AverageWindow::new(Algorithm::Weighted, buckets * g, g).unwrap();
        let mut last = 0;
        for i in 0..writes {
            last = (start + i) * g;
            linear.record(last, value);
            weighted.record(last, value);
        }
        let got = linear.average(last);
        prop_assert!((got - value).abs() <= 1e-6 * value.max(1.0), "linear {} for {}", got, value);
        if writes >= buckets {
            let got = weighted.average(last);
            prop_assert!(got <= value * (1.0 + 1e-12) && got >= value * 0.9999 - 1e-9,
                "weighted {} for {}", got, value);
        }
    }
}
