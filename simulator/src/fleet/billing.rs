//! What a fleet run pays and provisions: GPU-microseconds closed so far (on-demand and
//! spot), the provisioned-replica count with its peak and time integral (for the mean),
//! and the prices that turn GPU time into dollars. Open intervals (live replicas, warm
//! nodes) are added when asked, so the bill at any instant is exact.

use super::config::FleetConfig;
use super::lifecycle::WarmPool;
use crate::queue::TimeUs;

/// A run's bill and replica count.
#[derive(Debug, Clone)]
pub(super) struct Billing {
    /// GPUs per replica (tensor parallelism): a replica-µs bills this many GPU-µs.
    gpus: i128,
    price_per_gpu_hour: f64,
    spot_price_per_gpu_hour: f64,
    /// GPU-microseconds billed and closed: on-demand, spot.
    closed: [i128; 2],
    provisioned: u32,
    peak: u32,
    /// ∫ provisioned dt (replica-µs) up to `area_since`.
    area: i128,
    area_since: TimeUs,
    /// Time zero of the run.
    origin: TimeUs,
}

impl Billing {
    pub(super) fn new(config: &FleetConfig, start: TimeUs) -> Billing {
        Billing {
            gpus: i128::from(config.tensor_parallel),
            price_per_gpu_hour: config.price_per_gpu_hour,
            spot_price_per_gpu_hour: config
                .spot_price_per_gpu_hour
                .unwrap_or(config.price_per_gpu_hour),
            closed: [0, 0],
            provisioned: 0,
            peak: 0,
            area: 0,
            area_since: start,
            origin: start,
        }
    }

    /// Replicas provisioned change by `delta` at `now`.
    pub(super) fn set_provisioned(&mut self, now: TimeUs, delta: i32) {
        self.area += i128::from(self.provisioned) * i128::from(now - self.area_since);
        self.area_since = now;
        self.provisioned = self.provisioned.saturating_add_signed(delta);
        self.peak = self.peak.max(self.provisioned);
    }

    /// Closes a billed interval of one replica (or warm node).
    pub(super) fn bill(&mut self, spot: bool, from: TimeUs, to: TimeUs) {
        self.closed[usize::from(spot)] += i128::from((to - from).max(0)) * self.gpus;
    }

    /// Bills and drops the warm nodes whose time-to-live has passed at `now`.
    pub(super) fn expire_warm(&mut self, pool: &mut WarmPool, now: TimeUs) {
        pool.expire(now, |spot, from, to| self.bill(spot, from, to));
    }

    /// GPU-microseconds (on-demand, spot) paid up to `now`: what is closed, plus the open
    /// intervals of `live` replicas (`(spot, billed since)`) and of the warm nodes.
    pub(super) fn gpu_us_at(
        &mut self,
        now: TimeUs,
        pool: &mut WarmPool,
        live: impl Iterator<Item = (bool, TimeUs)>,
    ) -> [i128; 2] {
        self.expire_warm(pool, now);
        let mut total = self.closed;
        for (spot, since) in live {
            total[usize::from(spot)] += i128::from((now - since).max(0)) * self.gpus;
        }
        for node in pool.nodes() {
            let until = now.min(node.expires_at);
            total[usize::from(node.spot)] +=
                i128::from((until - node.billed_since).max(0)) * self.gpus;
        }
        total
    }

    /// Dollars for `gpu_us` (on-demand, spot).
    pub(super) fn cost_of(&self, gpu_us: [i128; 2]) -> f64 {
        let hours = |us: i128| us as f64 / 3.6e9;
        hours(gpu_us[0]) * self.price_per_gpu_hour + hours(gpu_us[1]) * self.spot_price_per_gpu_hour
    }

    /// One replica-hour (all its GPUs) on-demand and on spot.
    pub(super) fn replica_hour_prices(&self) -> (f64, f64) {
        let gpus = self.gpus as f64;
        (
            self.price_per_gpu_hour * gpus,
            self.spot_price_per_gpu_hour * gpus,
        )
    }

    pub(super) fn peak(&self) -> u32 {
        self.peak
    }

    /// Mean replicas provisioned from time zero to `end` (the count at zero when the
    /// run is empty); call after a last [`Billing::set_provisioned`] at `end`.
    pub(super) fn mean_replicas(&self, end: TimeUs) -> f64 {
        if end > self.origin {
            self.area as f64 / (end - self.origin) as f64
        } else {
            f64::from(self.provisioned)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::lifecycle::WarmNode;

    const HOUR: TimeUs = 3_600_000_000;

    #[test]
    fn closed_open_and_warm_intervals_are_billed_per_gpu_at_their_price() {
        let config = FleetConfig {
            tensor_parallel: 2,
            price_per_gpu_hour: 4.0,
            spot_price_per_gpu_hour: Some(1.0),
            ..FleetConfig::default()
        };
        let mut billing = Billing::new(&config, 0);
        billing.bill(false, 0, HOUR); // a released on-demand replica: 2 GPU-h
        let mut pool = WarmPool::default();
        pool.push(WarmNode {
            available_at: 0,
            billed_since: 0,
            expires_at: HOUR / 2,
            image_cached: true,
            spot: true,
        });
        // A live spot replica since 1 h, asked at 2 h: 1 h × 2 GPUs; the warm node
        // expired at 0.5 h: 0.5 h × 2 GPUs of spot.
        let gpu_us = billing.gpu_us_at(2 * HOUR, &mut pool, [(true, HOUR)].into_iter());
        assert_eq!(gpu_us, [2 * 2 * HOUR as i128 / 2, 3 * HOUR as i128]);
        assert!(
            pool.nodes().is_empty(),
            "expired nodes are closed and dropped"
        );
        assert_eq!(billing.cost_of(gpu_us), 2.0 * 4.0 + 3.0 * 1.0);
    }

    #[test]
    fn provisioned_replicas_give_the_peak_and_the_time_mean() {
        let mut billing = Billing::new(&FleetConfig::default(), 0);
        billing.set_provisioned(0, 2);
        billing.set_provisioned(HOUR, 2);
        billing.set_provisioned(2 * HOUR, -3);
        billing.set_provisioned(4 * HOUR, 0);
        assert_eq!(billing.peak(), 4);
        // 2 for 1 h, 4 for 1 h, 1 for 2 h over 4 h.
        assert_eq!(billing.mean_replicas(4 * HOUR), 2.0);
        let empty = Billing::new(&FleetConfig::default(), 0);
        assert_eq!(empty.mean_replicas(0), 0.0);
    }
}
