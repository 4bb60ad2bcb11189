//! From the future arrivals to a replica schedule: replicas needed per window, then the
//! times replicas must be asked for so they are Ready when their window starts.

/// Arrivals counted per window and per burst sub-window, one arrival at a time: the
/// oracle's streaming pass over the trace keeps this, not the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    window_us: i64,
    burst_us: i64,
    subs_per_window: usize,
    counts: Vec<u64>,
    sub_counts: Vec<u64>,
    max_windows: usize,
    arrivals: u64,
}

/// An arrival past the last window a [`Profile`] may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "oracle: expected arrivals within {max_windows} demand windows, found one at {arrival_us} us"
)]
pub struct TooLong {
    pub arrival_us: i64,
    pub max_windows: usize,
}

impl Profile {
    /// An empty profile of windows of `window_us` (bursts measured on `burst_us`) that
    /// refuses arrivals past `max_windows` windows (a bound on its memory).
    pub fn new(window_us: i64, burst_us: i64, max_windows: usize) -> Self {
        let window_us = window_us.max(1);
        let burst_us = burst_us.clamp(1, window_us);
        Self {
            window_us,
            burst_us,
            subs_per_window: ceil_div(window_us, burst_us) as usize,
            counts: Vec::new(),
            sub_counts: Vec::new(),
            max_windows,
            arrivals: 0,
        }
    }

    /// Counts one arrival (negative times count at zero).
    pub fn add(&mut self, arrival_us: i64) -> Result<(), TooLong> {
        let arrival = arrival_us.max(0);
        let window = usize::try_from(arrival / self.window_us).unwrap_or(usize::MAX);
        if window >= self.max_windows {
            return Err(TooLong {
                arrival_us,
                max_windows: self.max_windows,
            });
        }
        if window >= self.counts.len() {
            self.counts.resize(window + 1, 0);
            self.sub_counts
                .resize((window + 1) * self.subs_per_window, 0);
        }
        self.counts[window] += 1;
        let sub = ((arrival - window as i64 * self.window_us) / self.burst_us) as usize;
        self.sub_counts[window * self.subs_per_window + sub.min(self.subs_per_window - 1)] += 1;
        self.arrivals += 1;
        Ok(())
    }

    /// Arrivals counted.
    pub fn arrivals(&self) -> u64 {
        self.arrivals
    }

    /// Windows from zero through the last arrival's.
    pub fn windows(&self) -> usize {
        self.counts.len()
    }

    /// Arrivals per window.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Mean arrival rate (requests per second) per window.
    pub fn mean_rates(&self) -> Vec<f64> {
        let seconds = self.window_us as f64 / 1e6;
        self.counts
            .iter()
            .map(|&count| count as f64 / seconds)
            .collect()
    }

    /// Demand rate (requests per second) per window: the larger of its mean rate and
    /// its burst rate, the busiest sub-window discounted by two Poisson standard
    /// deviations (`(count - 2 sqrt(count)) / burst`). The capacity was measured under
    /// Poisson arrivals, so it already absorbs Poisson noise; the discount keeps that
    /// noise from being paid for twice while a real burst (an MMPP "on" period, a
    /// step) still raises the window.
    pub fn rates(&self) -> Vec<f64> {
        let burst_s = self.burst_us as f64 / 1e6;
        let subs = self.subs_per_window;
        self.mean_rates()
            .into_iter()
            .enumerate()
            .map(|(window, mean)| {
                let burst = self.sub_counts[window * subs..(window + 1) * subs]
                    .iter()
                    .map(|&count| {
                        let count = count as f64;
                        (count - 2.0 * count.sqrt()).max(0.0) / burst_s
                    })
                    .fold(0.0, f64::max);
                mean.max(burst)
            })
            .collect()
    }
}

/// Demand rate per window of `window_us` covering `[0, end_us)`: [`Profile::rates`] of
/// `arrivals_us` (those at or past `end_us` are left out).
pub fn rates(arrivals_us: &[i64], end_us: i64, window_us: i64, burst_us: i64) -> Vec<f64> {
    let window_us = window_us.max(1);
    let windows = ceil_div(end_us.max(1), window_us) as usize;
    let mut profile = Profile::new(window_us, burst_us, windows);
    for &arrival in arrivals_us {
        // Past the last window: not counted, as documented.
        let _ = profile.add(arrival);
    }
    let mut rates = profile.rates();
    rates.resize(windows, 0.0);
    rates
}

/// Replicas needed per window: `replicas_for(rate)`, none for an empty window.
pub fn needs(rates: &[f64], replicas_for: impl Fn(f64) -> u32) -> Vec<u32> {
    rates
        .iter()
        .map(|&rate| {
            if rate > 0.0 {
                replicas_for(rate).max(1)
            } else {
                0
            }
        })
        .collect()
}

/// The schedule of replica counts that has `needs[w]` replicas Ready through window
/// `w`, asking for each replica `lead_us` (the cold start) before its window.
///
/// Replica `k` of the fleet is needed on the windows where `needs >= k`; each such run
/// of windows `[start, end)` becomes a request for that replica over
/// `[start - lead_us, end)`. Two runs of the same replica separated by at most
/// `max(lead_us, keep_gap_us)` merge: a replica idle for less than a cold start is
/// cheaper to keep than to stop and start again (a starting replica holds its GPU
/// too), and a node freed by scale-down stays billed while it waits warm, so idling
/// through a gap shorter than that wait costs nothing extra. Times before zero are
/// clamped to zero. The result is a list of `(time_us, replicas)` steps, times strictly
/// increasing, consecutive counts different, starting at time 0.
pub fn schedule(needs: &[u32], window_us: i64, lead_us: i64, keep_gap_us: i64) -> Vec<(i64, u32)> {
    let keep_gap_us = keep_gap_us.max(lead_us);
    let top = needs.iter().copied().max().unwrap_or(0);
    // (time, +1 / -1) edges of every replica's merged intervals.
    let mut edges: Vec<(i64, i32)> = Vec::new();
    for level in 1..=top {
        let mut current: Option<(i64, i64)> = None;
        let mut window = 0usize;
        while window < needs.len() {
            if needs[window] < level {
                window += 1;
                continue;
            }
            let first = window;
            while window < needs.len() && needs[window] >= level {
                window += 1;
            }
            let needed_from = first as i64 * window_us;
            let start = (needed_from - lead_us).max(0);
            let end = window as i64 * window_us;
            current = match current {
                Some((open, close)) if needed_from - close <= keep_gap_us => {
                    Some((open, close.max(end)))
                }
                Some(interval) => {
                    edges.push((interval.0, 1));
                    edges.push((interval.1, -1));
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        if let Some((open, close)) = current {
            edges.push((open, 1));
            edges.push((close, -1));
        }
    }
    edges.sort_unstable();
    let mut steps: Vec<(i64, u32)> = vec![(0, 0)];
    let mut replicas = 0i64;
    let mut index = 0;
    while index < edges.len() {
        let time = edges[index].0;
        while index < edges.len() && edges[index].0 == time {
            replicas += i64::from(edges[index].1);
            index += 1;
        }
        let replicas = replicas as u32;
        match steps.last_mut() {
            Some(last) if last.0 == time => last.1 = replicas,
            Some(last) if last.1 == replicas => {}
            _ => steps.push((time, replicas)),
        }
    }
    steps.dedup_by(|next, previous| next.1 == previous.1);
    steps
}

/// `a / b` rounded up, for positive `b` and non-negative `a`.
fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

/// Replicas the schedule asks for at `time_us`.
pub fn replicas_at(steps: &[(i64, u32)], time_us: i64) -> u32 {
    let index = steps.partition_point(|&(time, _)| time <= time_us);
    if index == 0 { 0 } else { steps[index - 1].1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn a_profile_counts_as_it_streams_and_refuses_a_far_future_arrival() {
        let mut profile = Profile::new(60 * S, 10 * S, 3);
        for arrival in [-5, 0, 59 * S, 61 * S, 179 * S] {
            profile.add(arrival).unwrap();
        }
        assert_eq!(profile.arrivals(), 5);
        assert_eq!(profile.counts(), &[3, 1, 1]);
        assert_eq!(profile.windows(), 3);
        let error = profile.add(180 * S).unwrap_err();
        assert_eq!(error.max_windows, 3);
        assert!(error.to_string().contains("180000000"), "{error}");
        assert_eq!(profile.arrivals(), 5, "a refused arrival is not counted");
        assert_eq!(profile.mean_rates(), vec![0.05, 1.0 / 60.0, 1.0 / 60.0]);
    }

    #[test]
    fn steady_load_needs_rate_over_capacity() {
        // 10 requests/s for 120 s, evenly spaced, capacity 4/s: 3 replicas.
        let arrivals: Vec<i64> = (0..1200).map(|i| i * S / 10).collect();
        let rates = rates(&arrivals, 120 * S, 60 * S, 10 * S);
        assert_eq!(needs(&rates, |rate| (rate / 4.0).ceil() as u32), vec![3, 3]);
    }

    #[test]
    fn a_burst_raises_its_window_and_empty_windows_need_nothing() {
        // 1/s for 60 s, then a 10 s burst of 50/s inside the second window, then silence.
        let mut arrivals: Vec<i64> = (0..60).map(|i| i * S).collect();
        arrivals.extend((0..500).map(|i| 70 * S + i * S / 50));
        let found = needs(&rates(&arrivals, 180 * S, 60 * S, 10 * S), |rate| {
            (rate / 10.0).ceil() as u32
        });
        // Burst: (500 - 2 sqrt(500)) / 10 = 45.5/s -> 5 replicas; mean would say 1.
        assert_eq!(found, vec![1, 5, 0]);
    }

    #[test]
    fn schedule_leads_by_the_cold_start_and_merges_short_gaps() {
        let window = 60 * S;
        // Level 1 throughout but a one-window gap; level 2 in window 3.
        let steps = schedule(&[1, 1, 0, 2, 1, 0, 0, 0, 1], window, 90 * S, 0);
        // Level 1: [0,120) and [180,300) merge (180 - 90 < 120); [480,540) starts at 390.
        // Level 2: [180,240) starts at 90.
        assert_eq!(
            steps,
            vec![
                (0, 1),
                (90 * S, 2),
                (240 * S, 1),
                (300 * S, 0),
                (390 * S, 1),
                (540 * S, 0)
            ]
        );
        assert_eq!(replicas_at(&steps, 100 * S), 2);
        assert_eq!(replicas_at(&steps, 540 * S), 0);
        // Keeping replicas through gaps of up to 5 windows joins the last run too.
        let kept = schedule(&[1, 1, 0, 2, 1, 0, 0, 0, 1], window, 90 * S, 300 * S);
        assert_eq!(kept, vec![(0, 1), (90 * S, 2), (240 * S, 1), (540 * S, 0)]);
    }

    #[test]
    fn every_window_has_its_replicas_when_it_starts() {
        let needs = [0, 3, 1, 4, 4, 0, 2, 7, 1, 0];
        let window = 60 * S;
        for lead in [0, 30 * S, 150 * S] {
            let steps = schedule(&needs, window, lead, 0);
            for (w, &need) in needs.iter().enumerate() {
                let start = w as i64 * window;
                for time in [(start - lead).max(0), start, start + window - 1] {
                    assert!(replicas_at(&steps, time) >= need, "lead {lead} window {w}");
                }
            }
        }
    }
}
