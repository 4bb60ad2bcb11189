//! Kind `kpa_decider`: a sequence of ticks on one Knative decider instance.

use super::{InputError, mismatch, parse};
use crate::kpa::{Decider, KpaConfig};
use crate::time::from_secs_f64;
use serde::Deserialize;
use serde_json::Value;

/// Excess burst capacity may differ by one from upstream's expectation (upstream's own
/// tests allow it: floors of values computed in different orders).
const EBC_TOLERANCE: f64 = 1.0;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    config: CaseConfig,
    initial_ready_pods: i32,
    steps: Vec<Step>,
}

/// The case's decider spec. Fields without a default in SCHEMA.md are required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseConfig {
    target_value: f64,
    total_value: Option<f64>,
    target_burst_capacity: f64,
    panic_threshold: Option<f64>,
    max_scale_up_rate: f64,
    max_scale_down_rate: f64,
    stable_window_s: Option<f64>,
    scale_down_delay_s: Option<f64>,
    activation_scale: Option<i32>,
    reachable: Option<bool>,
}

/// A spec update before a step: only the listed fields change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigPatch {
    target_value: Option<f64>,
    total_value: Option<f64>,
    target_burst_capacity: Option<f64>,
    panic_threshold: Option<f64>,
    max_scale_up_rate: Option<f64>,
    max_scale_down_rate: Option<f64>,
    stable_window_s: Option<f64>,
    scale_down_delay_s: Option<f64>,
    activation_scale: Option<i32>,
    reachable: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    at_s: f64,
    ready_pods: i32,
    stable_value: f64,
    panic_value: f64,
    #[serde(default)]
    config: Option<ConfigPatch>,
    expect: StepExpect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepExpect {
    desired: i32,
    excess_burst_capacity: Option<f64>,
    in_panic: Option<bool>,
}

/// Every expectation sits on a step; the case-level `expect` must be empty.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {}

impl CaseConfig {
    fn to_config(&self) -> KpaConfig {
        KpaConfig {
            target_value: self.target_value,
            total_value: self.total_value.unwrap_or(self.target_value / 0.75),
            target_burst_capacity: self.target_burst_capacity,
            panic_threshold: self.panic_threshold.unwrap_or(2.0),
            max_scale_up_rate: self.max_scale_up_rate,
            max_scale_down_rate: self.max_scale_down_rate,
            stable_window: from_secs_f64(self.stable_window_s.unwrap_or(60.0)),
            scale_down_delay: from_secs_f64(self.scale_down_delay_s.unwrap_or(0.0)),
            activation_scale: self.activation_scale.unwrap_or(1),
            reachable: self.reachable.unwrap_or(true),
            ..KpaConfig::default()
        }
    }
}

impl ConfigPatch {
    fn apply(&self, c: &mut KpaConfig) {
        let set = |dst: &mut f64, src: Option<f64>| {
            if let Some(v) = src {
                *dst = v;
            }
        };
        set(&mut c.target_value, self.target_value);
        set(&mut c.total_value, self.total_value);
        set(&mut c.target_burst_capacity, self.target_burst_capacity);
        set(&mut c.panic_threshold, self.panic_threshold);
        set(&mut c.max_scale_up_rate, self.max_scale_up_rate);
        set(&mut c.max_scale_down_rate, self.max_scale_down_rate);
        if let Some(s) = self.stable_window_s {
            c.stable_window = from_secs_f64(s);
        }
        if let Some(s) = self.scale_down_delay_s {
            c.scale_down_delay = from_secs_f64(s);
        }
        if let Some(a) = self.activation_scale {
            c.activation_scale = a;
        }
        if let Some(r) = self.reachable {
            c.reachable = r;
        }
    }
}

fn validated(config: &KpaConfig, field: &str) -> Result<(), InputError> {
    config
        .validate()
        .map_err(|e| InputError::new(format!("{field}.{}", e.field), e.to_string()))
}

/// Runs the steps on one decider created at time 0 and lists every differing expectation.
pub(super) fn check_decider(input: Value, expect: Value) -> Result<Vec<String>, InputError> {
    let input: Input = parse("input", input)?;
    let _: Expect = parse("expect", expect)?;
    let mut config = input.config.to_config();
    validated(&config, "input.config")?;
    let mut decider = Decider::new(&config, 0, input.initial_ready_pods);
    let mut mismatches = Vec::new();
    if input.initial_ready_pods < 0 {
        return Err(InputError::new(
            "input.initial_ready_pods",
            format!(
                "expected a pod count >= 0, found {}",
                input.initial_ready_pods
            ),
        ));
    }
    for (i, step) in input.steps.iter().enumerate() {
        if !step.at_s.is_finite() || step.ready_pods < 0 {
            return Err(InputError::new(
                format!("input.steps[{i}]"),
                format!(
                    "expected a finite at_s and ready_pods >= 0, found at_s {} and ready_pods {}",
                    step.at_s, step.ready_pods
                ),
            ));
        }
        if let Some(patch) = &step.config {
            patch.apply(&mut config);
            validated(&config, &format!("input.steps[{i}].config"))?;
        }
        let got = decider.scale(
            &config,
            from_secs_f64(step.at_s),
            step.ready_pods,
            step.stable_value,
            step.panic_value,
        );
        let what = |field: &str| format!("step {i} (at {}s) {field}", step.at_s);
        if got.desired != step.expect.desired {
            mismatches.push(mismatch(&what("desired"), step.expect.desired, got.desired));
        }
        if let Some(want) = step.expect.excess_burst_capacity
            && (f64::from(got.excess_burst_capacity) - want).abs() > EBC_TOLERANCE
        {
            mismatches.push(mismatch(
                &what("excess_burst_capacity (±1)"),
                want,
                got.excess_burst_capacity,
            ));
        }
        if let Some(want) = step.expect.in_panic
            && got.in_panic != want
        {
            mismatches.push(mismatch(&what("in_panic"), want, got.in_panic));
        }
    }
    Ok(mismatches)
}
