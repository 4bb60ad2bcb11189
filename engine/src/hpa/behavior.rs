//! `spec.behavior`: stabilization windows and rate policies, with Kubernetes defaulting.
//!
//! The API server fills every field the user left out, per field and per direction
//! (`GenerateHPAScaleUpRules` / `GenerateHPAScaleDownRules`); the controller then fills
//! a still-missing scale-down window with its `--horizontal-pod-autoscaler-downscale-
//! stabilization` flag. [`Behavior::resolve`] does both, so the rest of the engine only
//! sees complete [`ScalingRules`].

use crate::time::{Micros, seconds};
use serde::{Deserialize, Serialize};

/// Upstream validation bound on a policy period (30 minutes).
pub const MAX_POLICY_PERIOD: Micros = seconds(1800);
/// Upstream validation bound on a stabilization window (one hour).
pub const MAX_STABILIZATION_WINDOW: Micros = seconds(3600);

/// `spec.behavior` as written: any field may be left to its default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Behavior {
    pub scale_up: Option<ScalingRulesSpec>,
    pub scale_down: Option<ScalingRulesSpec>,
}

/// `HPAScalingRules` as written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScalingRulesSpec {
    pub stabilization_window: Option<Micros>,
    pub select_policy: Option<SelectPolicy>,
    pub policies: Option<Vec<ScalingPolicy>>,
}

/// One rate policy: at most `value` pods (or percent) of change per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalingPolicy {
    pub kind: PolicyKind,
    pub value: i32,
    pub period: Micros,
}

impl ScalingPolicy {
    /// At most `value` pods per `period`.
    pub fn pods(value: i32, period: Micros) -> Self {
        ScalingPolicy {
            kind: PolicyKind::Pods,
            value,
            period,
        }
    }

    /// At most `value` percent of the period's starting count per `period`.
    pub fn percent(value: i32, period: Micros) -> Self {
        ScalingPolicy {
            kind: PolicyKind::Percent,
            value,
            period,
        }
    }
}

/// Whether a policy's value counts pods or percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyKind {
    Pods,
    Percent,
}

/// How several policies combine: the one allowing the biggest change (`Max`), the
/// smallest (`Min`), or no change at all in that direction (`Disabled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

/// Complete rules for one direction, after defaulting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingRules {
    pub stabilization_window: Micros,
    pub select_policy: SelectPolicy,
    pub policies: Vec<ScalingPolicy>,
}

impl ScalingRules {
    /// Kubernetes default scale-up rules: no window, max of 4 pods or 100% per 15 s.
    pub fn default_scale_up() -> Self {
        ScalingRules {
            stabilization_window: 0,
            select_policy: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy::pods(4, seconds(15)),
                ScalingPolicy::percent(100, seconds(15)),
            ],
        }
    }

    /// Kubernetes default scale-down rules: the controller's window, 100% per 15 s.
    pub fn default_scale_down(downscale_stabilization: Micros) -> Self {
        ScalingRules {
            stabilization_window: downscale_stabilization,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy::percent(100, seconds(15))],
        }
    }

    /// The longest policy period: scale events older than this are never read again.
    pub fn longest_period(&self) -> Micros {
        self.policies.iter().map(|p| p.period).max().unwrap_or(0)
    }

    fn filled_from(spec: Option<&ScalingRulesSpec>, mut defaults: ScalingRules) -> Self {
        if let Some(spec) = spec {
            if let Some(w) = spec.stabilization_window {
                defaults.stabilization_window = w;
            }
            if let Some(s) = spec.select_policy {
                defaults.select_policy = s;
            }
            if let Some(p) = &spec.policies {
                defaults.policies = p.clone();
            }
        }
        defaults
    }
}

/// Both directions, complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedBehavior {
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
}

impl Behavior {
    /// Kubernetes defaulting, field by field (an empty `Behavior` is the full default).
    pub fn resolve(&self, downscale_stabilization: Micros) -> ResolvedBehavior {
        ResolvedBehavior {
            scale_up: ScalingRules::filled_from(
                self.scale_up.as_ref(),
                ScalingRules::default_scale_up(),
            ),
            scale_down: ScalingRules::filled_from(
                self.scale_down.as_ref(),
                ScalingRules::default_scale_down(downscale_stabilization),
            ),
        }
    }

    /// The API server's checks: windows in `[0, 1 h]`, at least one policy, values > 0,
    /// periods in `(0, 30 min]`. Errors name the offending field.
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        for (direction, rules) in [
            ("scale_up", &self.scale_up),
            ("scale_down", &self.scale_down),
        ] {
            let Some(rules) = rules else { continue };
            let field = |f: &str| format!("behavior.{direction}.{f}");
            if let Some(w) = rules.stabilization_window
                && !(0..=MAX_STABILIZATION_WINDOW).contains(&w)
            {
                return Err((
                    field("stabilization_window"),
                    format!("must be between 0 and 3600 s, found {w} us"),
                ));
            }
            if let Some(policies) = &rules.policies {
                if policies.is_empty() {
                    return Err((field("policies"), "at least one policy is required".into()));
                }
                for (i, p) in policies.iter().enumerate() {
                    if p.value <= 0 {
                        return Err((
                            field(&format!("policies[{i}].value")),
                            format!("must be > 0, found {}", p.value),
                        ));
                    }
                    if p.period <= 0 || p.period > MAX_POLICY_PERIOD {
                        return Err((
                            field(&format!("policies[{i}].period")),
                            format!("must be in (0, 1800 s], found {} us", p.period),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_behavior_is_the_kubernetes_default() {
        let r = Behavior::default().resolve(seconds(300));
        assert_eq!(r.scale_up, ScalingRules::default_scale_up());
        assert_eq!(r.scale_down.stabilization_window, seconds(300));
        assert_eq!(
            r.scale_down.policies,
            vec![ScalingPolicy::percent(100, seconds(15))]
        );
    }

    #[test]
    fn defaulting_is_per_field() {
        let b = Behavior {
            scale_up: Some(ScalingRulesSpec {
                policies: Some(vec![ScalingPolicy::pods(1, seconds(60))]),
                ..Default::default()
            }),
            scale_down: Some(ScalingRulesSpec {
                stabilization_window: Some(seconds(60)),
                ..Default::default()
            }),
        };
        let r = b.resolve(seconds(300));
        assert_eq!(r.scale_up.select_policy, SelectPolicy::Max);
        assert_eq!(r.scale_up.stabilization_window, 0);
        assert_eq!(r.scale_up.longest_period(), seconds(60));
        assert_eq!(r.scale_down.stabilization_window, seconds(60));
        assert_eq!(
            r.scale_down.policies,
            vec![ScalingPolicy::percent(100, seconds(15))]
        );
    }

    #[test]
    fn validation_names_the_field() {
        let b = Behavior {
            scale_down: Some(ScalingRulesSpec {
                policies: Some(vec![ScalingPolicy::pods(0, seconds(60))]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (field, _) = b.validate().unwrap_err();
        assert_eq!(field, "behavior.scale_down.policies[0].value");
    }
}
