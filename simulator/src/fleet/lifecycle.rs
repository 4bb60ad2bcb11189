//! How replicas come and go: start-up stages, the warm node pool, spot interruptions.
//!
//! A new replica lands on a warm node when one is free (skipping provisioning, and the
//! image pull if that node already pulled it), otherwise on a fresh node: provisioning,
//! image pull, engine start, weight load. Every draw comes from the replica's own
//! stream (`rng::stream(seed, Component::Replica, id)`), so one replica's start-up does
//! not shift another's.

use super::config::{Delay, LifecycleConfig, RateRange, SpotConfig};
use crate::queue::TimeUs;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Draws a delay.
pub fn draw_delay(delay: &Delay, rng: &mut ChaCha8Rng) -> TimeUs {
    match *delay {
        Delay::Fixed { us } => us.max(0),
        Delay::Uniform { min_us, max_us } => {
            let (low, high) = (min_us.min(max_us).max(0), max_us.max(min_us).max(0));
            if high == low {
                low
            } else {
                rng.random_range(low..=high)
            }
        }
    }
}

fn draw_rate(range: &RateRange, rng: &mut ChaCha8Rng) -> f64 {
    let (low, high) = (range.min.min(range.max), range.max.max(range.min));
    if high > low {
        rng.random_range(low..=high)
    } else {
        low
    }
}

/// A node that is up (or coming up) with no replica on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmNode {
    /// When it can take a replica (a node cancelled while provisioning is not up yet).
    pub available_at: TimeUs,
    /// When its billing started (it is billed while warm).
    pub billed_since: TimeUs,
    /// Released (and no longer billed) at this time unless reused first.
    pub expires_at: TimeUs,
    /// It already pulled the serving image.
    pub image_cached: bool,
    pub spot: bool,
}

/// When each stage of a new replica ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Startup {
    /// The node is up and the pod is bound: `status.startTime`.
    pub node_ready_us: TimeUs,
    /// The image is pulled and the container runs: phase `Running`.
    pub running_us: TimeUs,
    /// Weights loaded, engine serving: `Ready`.
    pub ready_us: TimeUs,
}

/// Plans the start-up of a replica created at `now` on `warm` (or a fresh node).
pub fn plan_startup(
    config: &LifecycleConfig,
    weight_bytes: f64,
    warm: Option<&WarmNode>,
    now: TimeUs,
    rng: &mut ChaCha8Rng,
) -> Startup {
    // Draw every stage even when skipped so the stream's use does not depend on the pool.
    let provisioning = draw_delay(&config.node_provisioning, rng);
    let pull = draw_delay(&config.image_pull, rng);
    let init = draw_delay(&config.engine_init, rng);
    let bandwidth = draw_rate(&config.weight_load_bytes_per_s, rng);
    let load = if bandwidth > 0.0 {
        (weight_bytes / bandwidth * 1e6).round() as TimeUs
    } else {
        0
    };
    let (node_ready_us, pull) = match warm {
        Some(node) => (
            node.available_at.max(now),
            if node.image_cached { 0 } else { pull },
        ),
        None => (now + provisioning, pull),
    };
    let running_us = node_ready_us + pull;
    Startup {
        node_ready_us,
        running_us,
        ready_us: running_us + init + load,
    }
}

/// The warm pool: nodes freed by scale-down, kept for reuse until they expire.
#[derive(Debug, Clone, Default)]
pub struct WarmPool {
    nodes: Vec<WarmNode>,
}

impl WarmPool {
    pub fn push(&mut self, node: WarmNode) {
        self.nodes.push(node);
    }

    /// Releases nodes expired by `now`, adding their billed time to `bill(spot, from, to)`.
    pub fn expire(&mut self, now: TimeUs, mut bill: impl FnMut(bool, TimeUs, TimeUs)) {
        self.nodes.retain(|node| {
            let expired = node.expires_at <= now;
            if expired {
                bill(node.spot, node.billed_since, node.expires_at);
            }
            !expired
        });
    }

    /// Takes the node that can host a replica soonest (the newest among equals).
    pub fn take(&mut self) -> Option<WarmNode> {
        self.take_where(|_| true)
    }

    /// [`WarmPool::take`] among the nodes `fits` accepts (a scaler asking for spot or
    /// on-demand capacity takes only a node of that kind).
    pub fn take_where(&mut self, fits: impl Fn(&WarmNode) -> bool) -> Option<WarmNode> {
        let best = (0..self.nodes.len())
            .filter(|&index| fits(&self.nodes[index]))
            .min_by_key(|&index| {
                let node = &self.nodes[index];
                (
                    node.available_at,
                    !node.image_cached,
                    std::cmp::Reverse(index),
                )
            })?;
        Some(self.nodes.remove(best))
    }

    /// Every node still in the pool.
    pub fn nodes(&self) -> &[WarmNode] {
        &self.nodes
    }
}

/// Whether the `n`-th fresh node (0-based) is a spot node: spread so that the first
/// `n` nodes hold `floor(n x share)` spot nodes.
pub fn is_spot(spot: Option<&SpotConfig>, n: u64) -> bool {
    spot.is_some_and(|spot| {
        let share = spot.share.clamp(0.0, 1.0);
        ((n + 1) as f64 * share).floor() > (n as f64 * share).floor()
    })
}

/// Time from a spot node's start to its interruption notice (exponential), or `None`
/// without interruptions.
pub fn draw_interruption(spot: &SpotConfig, rng: &mut ChaCha8Rng) -> Option<TimeUs> {
    if spot.interruptions_per_hour <= 0.0 {
        return None;
    }
    let uniform: f64 = rng.random();
    let hours = -(1.0 - uniform).ln() / spot.interruptions_per_hour;
    let us = hours * 3.6e9;
    (us < 1e17).then(|| us.round() as TimeUs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Component, stream};

    #[test]
    fn fresh_nodes_take_every_stage_and_warm_ones_skip_some() {
        let config = LifecycleConfig::default();
        let mut rng = stream(1, Component::Replica, 0);
        let fresh = plan_startup(&config, 16e9, None, 1_000, &mut rng);
        assert!((81_000_000..=121_000_000).contains(&(fresh.node_ready_us)));
        assert!(fresh.running_us - fresh.node_ready_us >= 30_000_000);
        // Weight load 16 GB at 0.2-3 GB/s plus 20-40 s init.
        let load = fresh.ready_us - fresh.running_us;
        assert!((25_000_000..=120_000_000).contains(&load), "{load}");
        let warm = WarmNode {
            available_at: 0,
            billed_since: 0,
            expires_at: 1 << 40,
            image_cached: true,
            spot: false,
        };
        let mut rng = stream(1, Component::Replica, 0);
        let reused = plan_startup(&config, 16e9, Some(&warm), 1_000, &mut rng);
        assert_eq!(reused.node_ready_us, 1_000);
        assert_eq!(reused.running_us, 1_000);
        assert_eq!(reused.ready_us - reused.running_us, load);
    }

    #[test]
    fn spot_share_spreads_evenly() {
        let spot = SpotConfig {
            share: 0.5,
            ..SpotConfig::default()
        };
        let flags: Vec<bool> = (0..6).map(|n| is_spot(Some(&spot), n)).collect();
        assert_eq!(flags, [false, true, false, true, false, true]);
        assert!(!is_spot(None, 0));
    }

    #[test]
    fn warm_pool_expires_and_bills() {
        let mut pool = WarmPool::default();
        pool.push(WarmNode {
            available_at: 0,
            billed_since: 5,
            expires_at: 100,
            image_cached: true,
            spot: false,
        });
        pool.push(WarmNode {
            available_at: 0,
            billed_since: 50,
            expires_at: 200,
            image_cached: true,
            spot: true,
        });
        let mut billed = Vec::new();
        pool.expire(150, |spot, from, to| billed.push((spot, from, to)));
        assert_eq!(billed, [(false, 5, 100)]);
        assert_eq!(pool.take().unwrap().billed_since, 50);
        assert!(pool.take().is_none());
    }
}
