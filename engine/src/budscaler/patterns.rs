//! Traffic patterns that change a decision.
//!
//! At most one pattern per decision, checked in this order (the first that holds wins):
//!
//! | pattern | holds when | confidence | what it changes |
//! |---|---|---|---|
//! | `kv_cache_pressure` | the fullest ready replica's KV cache ≥ 0.9 | `(kv − 0.8) ÷ 0.2`, ≤ 1 | asks for `max(ceil(ready × kv ÷ 0.8), ready + 1)` replicas in all (those starting count toward it), and lets the scale-up through the starting-pods gate (`bypassGateOnPanic`) |
//! | `traffic_spike` | demand this observation ≥ `kpaConfig.panicThresholdPercentage` × the mean of the smoothing window before it | `0.5 + (ratio − threshold) ÷ threshold`, ≤ 1 | sizes for the spike's demand at once and passes the starting-pods gate; the last burst's peak demand is then held as a floor, 5 min after a first burst and until the next is due once bursts recur; while capacity is still the prior's guess, so are the ready replicas that served that peak ([`BurstMemory`]) |
//! | `batch_ingestion` | prompt tokens/s ≥ [`BATCH_PROMPT_RATIO`] × generated tokens/s with more than [`BATCH_QUEUE_PER_REPLICA`] requests waiting per ready replica | `min(1, ratio ÷ (2 × BATCH_PROMPT_RATIO))` | the forecast's trend is not used (a backlog of long prompts is not growing demand); sized on demand now plus the backlog |
//! | `cold_start` | replicas are starting | starting ÷ (ready + starting) | starting replicas count as coming capacity (`startingPodWeight`), and the starting-pods gate applies |
//! | `traffic_drain` | the forecast is at least [`DRAIN`] below demand now and the predictor called direction right ≥ [`DRAIN_DIRECTION`] of the time | its direction accuracy | sizes for the forecast alone, so replicas go before demand does (otherwise never below demand now) |
//! | `steady_state` | the forecast is within ±[`STEADY`] of demand now and the relative error is below [`STEADY_ERROR`] | `1 − relative error ÷ STEADY_ERROR` | a scale-down by a single replica is skipped (a freed node stays billed for its warm period, so flapping by one costs more than it saves) |

use super::signals::Workload;
use crate::time::{Micros, SECOND};
use serde::{Deserialize, Serialize};

/// Spikes closer than this belong to one burst.
pub const BURST_EPISODE: Micros = 120 * SECOND;
/// Bursts remembered.
pub const BURSTS_KEPT: usize = 8;
/// How long the first burst's peak is held: a burst seen once may come back, and
/// capacity released before it does takes a cold start to return. Measured on the
/// proof scenarios: only `mmpp-1h` changes (0 s: 96.42 % at 6.22 GPU-h; 300, 600 and
/// 900 s: 100 % at 4.19), so the shortest is kept.
pub const SINGLE_BURST_HOLD: Micros = 300 * SECOND;
/// How long the last burst's demand is held once bursts recur, bounds.
pub const HOLD_MIN: Micros = 300 * SECOND;
pub const HOLD_MAX: Micros = 3600 * SECOND;

pub const BATCH_PROMPT_RATIO: f64 = 20.0;
pub const BATCH_QUEUE_PER_REPLICA: f64 = 8.0;
pub const DRAIN: f64 = 0.2;
pub const DRAIN_DIRECTION: f64 = 0.6;
pub const STEADY: f64 = 0.05;
pub const STEADY_ERROR: f64 = 0.1;
pub const KV_PRESSURE: f64 = 0.9;
/// KV-cache use `kv_cache_pressure` sizes the ready replicas for.
pub const KV_RELIEF: f64 = 0.8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    KvCachePressure,
    TrafficSpike,
    BatchIngestion,
    ColdStart,
    TrafficDrain,
    SteadyState,
}

impl Pattern {
    pub fn name(self) -> &'static str {
        match self {
            Pattern::KvCachePressure => "kv_cache_pressure",
            Pattern::TrafficSpike => "traffic_spike",
            Pattern::BatchIngestion => "batch_ingestion",
            Pattern::ColdStart => "cold_start",
            Pattern::TrafficDrain => "traffic_drain",
            Pattern::SteadyState => "steady_state",
        }
    }

    /// Whether the pattern may pass the starting-pods gate (`bypassGateOnPanic`).
    pub fn is_panic(self) -> bool {
        matches!(self, Pattern::KvCachePressure | Pattern::TrafficSpike)
    }
}

/// A pattern and how sure the detector is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detected {
    pub pattern: Pattern,
    pub confidence: f64,
}

/// What the detector looks at.
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a> {
    pub workload: &'a Workload,
    /// Demand at this observation (unsmoothed).
    pub latest: f64,
    /// Mean demand over the smoothing window before this observation.
    pub before: Option<f64>,
    /// Smoothed demand now.
    pub current: f64,
    /// The forecast's point value, when forecasting.
    pub forecast: Option<f64>,
    /// The chosen predictor's relative RMSE and direction accuracy.
    pub relative_error: f64,
    pub direction_accuracy: f64,
    /// Whether the forecast is confident enough to act on.
    pub forecast_used: bool,
    /// `kpaConfig.panicThresholdPercentage` as a ratio.
    pub spike_threshold: f64,
}

/// The first pattern that holds.
pub fn detect(s: &Signals<'_>) -> Option<Detected> {
    let w = s.workload;
    if let Some(kv) = w.kv_max
        && kv >= KV_PRESSURE
    {
        return Some(Detected {
            pattern: Pattern::KvCachePressure,
            confidence: ((kv - 0.8) / 0.2).min(1.0),
        });
    }
    if let Some(before) = s.before
        && before > 0.0
    {
        let ratio = s.latest / before;
        if ratio >= s.spike_threshold {
            return Some(Detected {
                pattern: Pattern::TrafficSpike,
                confidence: (0.5 + (ratio - s.spike_threshold) / s.spike_threshold).min(1.0),
            });
        }
    }
    if w.prompt_tokens_per_s >= BATCH_PROMPT_RATIO * w.generation_tokens_per_s.max(1.0)
        && w.waiting > BATCH_QUEUE_PER_REPLICA * f64::from(w.ready.max(1))
    {
        let ratio = w.prompt_tokens_per_s / w.generation_tokens_per_s.max(1.0);
        return Some(Detected {
            pattern: Pattern::BatchIngestion,
            confidence: (ratio / (2.0 * BATCH_PROMPT_RATIO)).min(1.0),
        });
    }
    if w.starting > 0 {
        return Some(Detected {
            pattern: Pattern::ColdStart,
            confidence: f64::from(w.starting) / f64::from(w.ready + w.starting),
        });
    }
    if let Some(forecast) = s.forecast
        && s.forecast_used
        && s.current > 0.0
    {
        if forecast <= (1.0 - DRAIN) * s.current && s.direction_accuracy >= DRAIN_DIRECTION {
            return Some(Detected {
                pattern: Pattern::TrafficDrain,
                confidence: s.direction_accuracy.min(1.0),
            });
        }
        if (forecast / s.current - 1.0).abs() <= STEADY && s.relative_error < STEADY_ERROR {
            return Some(Detected {
                pattern: Pattern::SteadyState,
                confidence: (1.0 - s.relative_error / STEADY_ERROR).clamp(0.0, 1.0),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(w: &Workload) -> Signals<'_> {
        Signals {
            workload: w,
            latest: 100.0,
            before: Some(100.0),
            current: 100.0,
            forecast: Some(100.0),
            relative_error: 0.05,
            direction_accuracy: 0.8,
            forecast_used: true,
            spike_threshold: 2.0,
        }
    }

    #[test]
    fn each_pattern_is_detected_in_priority_order() {
        let mut w = Workload {
            ready: 2,
            ..Workload::default()
        };
        let steady = detect(&signals(&w)).unwrap();
        assert_eq!(steady.pattern, Pattern::SteadyState);
        assert!((steady.confidence - 0.5).abs() < 1e-12);

        let mut s = signals(&w);
        s.forecast = Some(70.0);
        assert_eq!(detect(&s).unwrap().pattern, Pattern::TrafficDrain);

        w.starting = 1;
        assert_eq!(detect(&signals(&w)).unwrap().pattern, Pattern::ColdStart);

        w.prompt_tokens_per_s = 50_000.0;
        w.generation_tokens_per_s = 1_000.0;
        w.waiting = 40.0;
        assert_eq!(
            detect(&signals(&w)).unwrap().pattern,
            Pattern::BatchIngestion
        );

        let mut s = signals(&w);
        s.latest = 250.0;
        let spike = detect(&s).unwrap();
        assert_eq!(spike.pattern, Pattern::TrafficSpike);
        assert!(spike.pattern.is_panic());

        w.kv_max = Some(0.95);
        assert_eq!(
            detect(&signals(&w)).unwrap().pattern,
            Pattern::KvCachePressure
        );
    }

    #[test]
    fn nothing_is_detected_without_a_confident_forecast_on_quiet_traffic() {
        let w = Workload {
            ready: 2,
            ..Workload::default()
        };
        let mut s = signals(&w);
        s.forecast_used = false;
        assert_eq!(detect(&s), None);
    }
}

/// Burst memory: when traffic spikes *recur*, the capacity the last burst needed is
/// kept until the next one is due. No online scaler sees an unannounced burst coming
/// and a replica takes minutes to start, so for traffic that bursts again and again
/// standing headroom is the price of the SLO; for traffic that spiked once it is not.
///
/// A burst is a run of `traffic_spike` detections less than [`BURST_EPISODE`] apart;
/// its peak is the highest demand seen in it. From the second burst on, the peak of
/// the latest one is a floor for `1.5 ×` the median gap between bursts, within
/// [`HOLD_MIN`]..=[`HOLD_MAX`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BurstMemory {
    /// Start times of the latest bursts, oldest first.
    pub starts: Vec<Micros>,
    /// Last spike of the latest burst.
    pub last_spike: Option<Micros>,
    #[serde(with = "crate::window::exact")]
    pub peak: f64,
    /// Ready replicas that served [`BurstMemory::peak`]: what is known to carry the
    /// burst while capacity is still the prior's guess.
    #[serde(default)]
    pub peak_ready: i32,
}

/// What a remembered burst asks to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstFloor {
    pub demand: f64,
    pub ready: i32,
}

impl BurstMemory {
    /// Records this observation's demand and ready replicas; `spike` when
    /// `traffic_spike` was detected.
    pub fn observe(&mut self, now: Micros, latest: f64, ready: i32, spike: bool) {
        let in_burst = self.last_spike.is_some_and(|t| now - t <= BURST_EPISODE);
        if spike {
            if !in_burst {
                self.starts.push(now);
                if self.starts.len() > BURSTS_KEPT {
                    self.starts.remove(0);
                }
                self.peak = 0.0;
                self.peak_ready = 0;
            }
            self.last_spike = Some(now);
        }
        if (spike || in_burst) && latest >= self.peak {
            self.peak = latest;
            self.peak_ready = ready;
        }
    }

    /// How long after its last spike a burst's peak is held: 1.5 × the median gap
    /// between bursts once they recur, [`SINGLE_BURST_HOLD`] after the first.
    pub fn hold(&self) -> Option<Micros> {
        match self.starts.len() {
            0 => return None,
            1 => return Some(SINGLE_BURST_HOLD),
            _ => {}
        }
        let mut gaps: Vec<Micros> = self.starts.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable();
        let median = gaps[gaps.len() / 2];
        Some((median * 3 / 2).clamp(HOLD_MIN, HOLD_MAX))
    }

    /// What to keep capacity for at `now`, while the hold lasts.
    pub fn floor(&self, now: Micros) -> Option<BurstFloor> {
        let hold = self.hold()?;
        let last = self.last_spike?;
        (now - last <= hold && self.peak > 0.0).then_some(BurstFloor {
            demand: self.peak,
            ready: self.peak_ready,
        })
    }
}

#[cfg(test)]
mod burst_tests {
    use super::*;

    #[test]
    fn a_single_burst_is_held_five_minutes_recurring_ones_until_the_next_is_due() {
        let mut m = BurstMemory::default();
        m.observe(0, 1000.0, 2, true);
        m.observe(15 * SECOND, 1500.0, 3, false);
        m.observe(30 * SECOND, 1400.0, 4, false);
        let held = Some(BurstFloor {
            demand: 1500.0,
            ready: 3,
        });
        assert_eq!(m.floor(4 * 60 * SECOND), held, "the first burst, held");
        assert_eq!(m.floor(6 * 60 * SECOND), None, "one burst, hold over");
        let second = 16 * 60 * SECOND;
        m.observe(second, 1200.0, 2, true);
        m.observe(second + 15 * SECOND, 1300.0, 5, false);
        assert_eq!(m.hold(), Some(24 * 60 * SECOND));
        assert_eq!(
            m.floor(second + 20 * 60 * SECOND),
            Some(BurstFloor {
                demand: 1300.0,
                ready: 5
            })
        );
        assert_eq!(m.floor(second + 25 * 60 * SECOND), None, "hold over");
    }
}
