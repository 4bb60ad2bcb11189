//! Reshaping a trace on the fly: iterator adapters over `Result<Request, TraceError>` that
//! keep streaming (errors pass through untouched), plus an explicit sort and a k-way merge.
//!
//! ```
//! use traces::transform::RequestIterExt;
//! # fn demo(reader: traces::TraceReader) -> Result<(), traces::TraceError> {
//! // The first 10 minutes, replayed twice as fast, fitted to an 8k context.
//! let busier = reader
//!     .window(0, 600_000_000, true)
//!     .rate_scale(2.0)?
//!     .clip_tokens(8192);
//! # Ok(())
//! # }
//! ```

use crate::error::TraceError;
use crate::request::Request;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

type Item = Result<Request, TraceError>;

/// Adapters on any iterator of requests.
pub trait RequestIterExt: Iterator<Item = Item> + Sized {
    /// Keeps arrivals in `[from_us, to_us)`, shifted so that `from_us` becomes 0 when
    /// `rebase`. Stops reading at the first arrival at or after `to_us` (input is sorted).
    fn window(self, from_us: i64, to_us: i64, rebase: bool) -> Window<Self> {
        Window {
            inner: self,
            from_us,
            to_us,
            shift: if rebase { from_us } else { 0 },
            done: false,
        }
    }

    /// Multiplies every arrival time by `factor` (2.0 makes the trace twice as long and
    /// half as busy), rounding to the microsecond. A factor that is not finite and positive
    /// is an error.
    fn time_scale(self, factor: f64) -> Result<TimeScale<Self>, TraceError> {
        if !(factor.is_finite() && factor > 0.0) {
            return Err(TraceError::InvalidOption {
                option: "time_scale".to_string(),
                expected: "a finite number greater than 0".to_string(),
                found: factor.to_string(),
            });
        }
        Ok(TimeScale {
            inner: self,
            factor,
        })
    }

    /// Multiplies the arrival rate by `rate` by compressing time (2.0 replays the same
    /// requests in half the time): `time_scale(1 / rate)`.
    fn rate_scale(self, rate: f64) -> Result<TimeScale<Self>, TraceError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(TraceError::InvalidOption {
                option: "rate_scale".to_string(),
                expected: "a finite number greater than 0".to_string(),
                found: rate.to_string(),
            });
        }
        self.time_scale(1.0 / rate)
    }

    /// Keeps a `fraction` of the requests, evenly spread and without randomness (request
    /// `i` is kept when `floor((i + 1) * fraction) > floor(i * fraction)`): lowers the rate
    /// without changing the time scale.
    fn thin(self, fraction: f64) -> Result<Thin<Self>, TraceError> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(TraceError::InvalidOption {
                option: "thin".to_string(),
                expected: "a fraction between 0 and 1".to_string(),
                found: fraction.to_string(),
            });
        }
        Ok(Thin {
            inner: self,
            fraction,
            index: 0,
        })
    }

    /// Fits requests into a model's context of `max_context` tokens: the prompt is cut to
    /// `max_context - 1` (room for one output token) and the output to what is left.
    fn clip_tokens(self, max_context: u32) -> ClipTokens<Self> {
        ClipTokens {
            inner: self,
            max_context: max_context.max(1),
        }
    }
}

impl<I: Iterator<Item = Item>> RequestIterExt for I {}

/// See [`RequestIterExt::window`].
pub struct Window<I> {
    inner: I,
    from_us: i64,
    to_us: i64,
    shift: i64,
    done: bool,
}

impl<I: Iterator<Item = Item>> Iterator for Window<I> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        while !self.done {
            let mut request = match self.inner.next()? {
                Ok(request) => request,
                Err(error) => return Some(Err(error)),
            };
            if request.arrival_us >= self.to_us {
                self.done = true;
            } else if request.arrival_us >= self.from_us {
                request.arrival_us -= self.shift;
                return Some(Ok(request));
            }
        }
        None
    }
}

/// See [`RequestIterExt::time_scale`].
pub struct TimeScale<I> {
    inner: I,
    factor: f64,
}

impl<I: Iterator<Item = Item>> Iterator for TimeScale<I> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        self.inner.next().map(|item| {
            item.map(|mut request| {
                // `as` saturates, so an absurd factor cannot wrap around.
                request.arrival_us = (request.arrival_us as f64 * self.factor).round() as i64;
                request
            })
        })
    }
}

/// See [`RequestIterExt::thin`].
pub struct Thin<I> {
    inner: I,
    fraction: f64,
    index: u64,
}

impl<I: Iterator<Item = Item>> Iterator for Thin<I> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            let item = self.inner.next()?;
            if item.is_err() {
                return Some(item);
            }
            let i = self.index as f64;
            self.index += 1;
            if ((i + 1.0) * self.fraction).floor() > (i * self.fraction).floor() {
                return Some(item);
            }
        }
    }
}

/// See [`RequestIterExt::clip_tokens`].
pub struct ClipTokens<I> {
    inner: I,
    max_context: u32,
}

impl<I: Iterator<Item = Item>> Iterator for ClipTokens<I> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        self.inner.next().map(|item| {
            item.map(|mut request| {
                request.prompt_tokens = request.prompt_tokens.min(self.max_context - 1);
                request.output_tokens = request
                    .output_tokens
                    .min(self.max_context - request.prompt_tokens);
                request
            })
        })
    }
}

/// Reads everything and sorts by arrival (stable: equal arrivals keep their order).
pub fn sort_by_arrival(requests: impl Iterator<Item = Item>) -> Result<Vec<Request>, TraceError> {
    let mut all = requests.collect::<Result<Vec<_>, _>>()?;
    all.sort_by_key(|request| request.arrival_us);
    Ok(all)
}

/// Merges sorted traces into one sorted stream. Equal arrivals come in the order of the
/// sources; an error from any source is passed on and ends the merge.
pub fn merge<I: Iterator<Item = Item>>(sources: Vec<I>) -> Merge<I> {
    Merge {
        sources,
        heap: BinaryHeap::new(),
        pending: Vec::new(),
        started: false,
        failed: false,
    }
}

/// See [`merge`].
pub struct Merge<I> {
    sources: Vec<I>,
    /// (arrival, source index) of each source's head, smallest first.
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    /// The head request of each source, by index.
    pending: Vec<Option<Request>>,
    started: bool,
    failed: bool,
}

impl<I: Iterator<Item = Item>> Merge<I> {
    /// Pulls the next request of source `index` into the heap.
    fn refill(&mut self, index: usize) -> Result<(), TraceError> {
        if let Some(item) = self.sources[index].next() {
            let request = item?;
            self.heap.push(Reverse((request.arrival_us, index)));
            self.pending[index] = Some(request);
        }
        Ok(())
    }
}

impl<I: Iterator<Item = Item>> Iterator for Merge<I> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.failed {
            return None;
        }
        if !self.started {
            self.started = true;
            self.pending = vec![None; self.sources.len()];
            for index in 0..self.sources.len() {
                if let Err(error) = self.refill(index) {
                    self.failed = true;
                    return Some(Err(error));
                }
            }
        }
        let Reverse((_, index)) = self.heap.pop()?;
        let request = self.pending[index].take()?;
        if let Err(error) = self.refill(index) {
            self.failed = true;
            return Some(Err(error));
        }
        Some(Ok(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(arrivals: &[i64]) -> Vec<Item> {
        arrivals
            .iter()
            .map(|&arrival_us| {
                Ok(Request {
                    arrival_us,
                    prompt_tokens: 100,
                    output_tokens: 50,
                    prefix_blocks: Vec::new(),
                    tenant: None,
                    model: None,
                    priority: None,
                    failed: false,
                })
            })
            .collect()
    }

    fn arrivals(items: impl Iterator<Item = Item>) -> Vec<i64> {
        items.map(|r| r.unwrap().arrival_us).collect()
    }

    #[test]
    fn window_keeps_the_range_and_rebases() {
        let got = arrivals(at(&[0, 5, 10, 15, 20]).into_iter().window(5, 20, true));
        assert_eq!(got, vec![0, 5, 10]);
        let got = arrivals(at(&[0, 5, 10]).into_iter().window(5, 100, false));
        assert_eq!(got, vec![5, 10]);
    }

    #[test]
    fn rate_and_time_scale_are_inverse() {
        let got = arrivals(at(&[0, 3, 10]).into_iter().rate_scale(2.0).unwrap());
        assert_eq!(got, vec![0, 2, 5]);
        let got = arrivals(at(&[0, 3, 10]).into_iter().time_scale(2.0).unwrap());
        assert_eq!(got, vec![0, 6, 20]);
        assert!(at(&[0]).into_iter().rate_scale(0.0).is_err());
        assert!(at(&[0]).into_iter().time_scale(f64::NAN).is_err());
    }

    #[test]
    fn thin_keeps_an_even_share() {
        let kept = at(&(0..100).collect::<Vec<_>>())
            .into_iter()
            .thin(0.25)
            .unwrap()
            .count();
        assert_eq!(kept, 25);
        assert_eq!(at(&[1, 2]).into_iter().thin(0.0).unwrap().count(), 0);
        assert!(at(&[1]).into_iter().thin(1.5).is_err());
    }

    #[test]
    fn clip_fits_the_context() {
        let clipped: Vec<Request> = at(&[0])
            .into_iter()
            .clip_tokens(120)
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            (clipped[0].prompt_tokens, clipped[0].output_tokens),
            (100, 20)
        );
        let tiny: Vec<Request> = at(&[0])
            .into_iter()
            .clip_tokens(50)
            .map(Result::unwrap)
            .collect();
        assert_eq!((tiny[0].prompt_tokens, tiny[0].output_tokens), (49, 1));
    }

    #[test]
    fn merge_interleaves_by_arrival_stably() {
        let merged = merge(vec![
            at(&[0, 4, 8]).into_iter(),
            at(&[1, 4, 9, 12]).into_iter(),
        ]);
        assert_eq!(arrivals(merged), vec![0, 1, 4, 4, 8, 9, 12]);
        let mut with_error = at(&[3]);
        with_error.push(Err(TraceError::InvalidOption {
            option: "x".into(),
            expected: "y".into(),
            found: "z".into(),
        }));
        let results: Vec<Item> =
            merge(vec![at(&[0, 5]).into_iter(), with_error.into_iter()]).collect();
        assert!(results.iter().any(Result::is_err));
    }

    #[test]
    fn sort_is_stable() {
        let mut items = at(&[5, 1, 5, 0]);
        if let Ok(request) = &mut items[2] {
            request.prompt_tokens = 7;
        }
        let sorted = sort_by_arrival(items.into_iter()).unwrap();
        let got: Vec<(i64, u32)> = sorted
            .iter()
            .map(|r| (r.arrival_us, r.prompt_tokens))
            .collect();
        assert_eq!(got, vec![(0, 100), (1, 100), (5, 100), (5, 7)]);
    }
}
