//! The gateway's queue: requests that arrived while no replica was ready wait here, in
//! arrival order, until a replica becomes ready or their timeout passes. One timeout
//! event is pending at a time, set for the oldest waiting request.

use super::in_flight::Handle;
use crate::queue::TimeUs;
use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub(super) struct Gateway {
    held: VecDeque<Handle>,
    timeout_pending: bool,
    timeout_us: TimeUs,
}

impl Gateway {
    pub(super) fn new(timeout_us: TimeUs) -> Gateway {
        Gateway {
            held: VecDeque::new(),
            timeout_pending: false,
            timeout_us,
        }
    }

    /// Holds a request that arrived at `arrival_us` and found no replica; returns the
    /// time to set the timeout event at when none is pending.
    pub(super) fn hold(&mut self, request: Handle, arrival_us: TimeUs) -> Option<TimeUs> {
        self.held.push_back(request);
        if self.timeout_pending {
            return None;
        }
        self.timeout_pending = true;
        Some(arrival_us + self.timeout_us)
    }

    /// The oldest held request, taken out (a replica became ready).
    pub(super) fn pop(&mut self) -> Option<Handle> {
        self.held.pop_front()
    }

    pub(super) fn len(&self) -> usize {
        self.held.len()
    }

    /// At the timeout event, `now`: the held requests whose timeout has passed, oldest
    /// first, and the time of the next timeout event (if any is needed). `arrival_of`
    /// gives a held request's arrival, `None` once it is no longer in flight.
    pub(super) fn on_timeout(
        &mut self,
        now: TimeUs,
        arrival_of: impl Fn(Handle) -> Option<TimeUs>,
    ) -> (Vec<Handle>, Option<TimeUs>) {
        self.timeout_pending = false;
        let mut expired = Vec::new();
        while let Some(&head) = self.held.front() {
            let Some(arrival) = arrival_of(head) else {
                self.held.pop_front();
                continue;
            };
            let deadline = arrival + self.timeout_us;
            if deadline > now {
                self.timeout_pending = true;
                return (expired, Some(deadline));
            }
            self.held.pop_front();
            expired.push(head);
        }
        (expired, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_timeout_is_pending_for_the_oldest_and_expired_requests_leave_in_order() {
        let mut gateway = Gateway::new(10);
        assert_eq!(gateway.hold(7, 100), Some(110));
        assert_eq!(gateway.hold(8, 104), None, "a timeout is already pending");
        assert_eq!(gateway.hold(9, 120), None);
        let arrivals = |h: Handle| match h {
            7 => Some(100),
            8 => None, // dispatched or settled meanwhile
            9 => Some(120),
            _ => unreachable!(),
        };
        assert_eq!(gateway.on_timeout(110, arrivals), (vec![7], Some(130)));
        assert_eq!(gateway.len(), 1);
        assert_eq!(gateway.on_timeout(130, arrivals), (vec![9], None));
        assert_eq!(gateway.hold(10, 200), Some(210), "nothing pending any more");
        assert_eq!(gateway.pop(), Some(10));
    }
}
