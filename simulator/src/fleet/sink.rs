//! Where a streamed run's finished requests go.
//!
//! [`run_stream`](super::run_stream) hands each request's [`RequestRecord`] to a
//! [`RequestSink`] the moment the request has its final status, tagged with its input
//! index, so the fleet keeps nothing of a request once it is final. Requests finish out
//! of input order (a short request overtakes a long one); [`InOrder`] puts them back in
//! order, holding only the records that finished before some earlier request did, which
//! is bounded by the requests in flight, not by the trace.

use super::result::RequestRecord;
use std::collections::VecDeque;

/// Why a sink could not take a record (an output file that cannot be written, say).
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Receives finished requests, each exactly once, with its input index.
pub trait RequestSink {
    fn accept(&mut self, index: u32, record: RequestRecord) -> Result<(), SinkError>;
}

impl<S: RequestSink + ?Sized> RequestSink for &mut S {
    fn accept(&mut self, index: u32, record: RequestRecord) -> Result<(), SinkError> {
        (**self).accept(index, record)
    }
}

/// Keeps every record at its index: the in-memory result of [`run`](super::run).
#[derive(Debug, Default)]
pub struct Collect {
    records: Vec<Option<RequestRecord>>,
}

impl Collect {
    /// A collector for `len` requests.
    pub fn with_len(len: usize) -> Collect {
        Collect {
            records: vec![None; len],
        }
    }

    /// The records in index order; `None` where a request never reached the sink.
    pub fn into_records(self) -> Vec<Option<RequestRecord>> {
        self.records
    }
}

impl RequestSink for Collect {
    fn accept(&mut self, index: u32, record: RequestRecord) -> Result<(), SinkError> {
        let index = index as usize;
        if index >= self.records.len() {
            self.records.resize(index + 1, None);
        }
        self.records[index] = Some(record);
        Ok(())
    }
}

/// A reorder buffer: forwards records to `inner` in input order (indices 0, 1, 2, ...)
/// as soon as every earlier record has arrived.
#[derive(Debug)]
pub struct InOrder<S> {
    inner: S,
    /// Index of `pending[0]`: the first record not yet forwarded.
    next: u32,
    pending: VecDeque<Option<RequestRecord>>,
    held: usize,
    max_held: usize,
}

impl<S: RequestSink> InOrder<S> {
    pub fn new(inner: S) -> InOrder<S> {
        InOrder {
            inner,
            next: 0,
            pending: VecDeque::new(),
            held: 0,
            max_held: 0,
        }
    }

    /// Most records ever held back waiting for an earlier one.
    pub fn max_held(&self) -> usize {
        self.max_held
    }

    /// Records forwarded so far (all of them once the run is over).
    pub fn forwarded(&self) -> u32 {
        self.next
    }

    /// The inner sink; fails if a record is still held (an earlier one never came).
    pub fn finish(self) -> Result<S, SinkError> {
        if self.held > 0 {
            return Err(format!(
                "request {} never finished while {} later ones did",
                self.next, self.held
            )
            .into());
        }
        Ok(self.inner)
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: RequestSink> RequestSink for InOrder<S> {
    fn accept(&mut self, index: u32, record: RequestRecord) -> Result<(), SinkError> {
        let Some(offset) = index.checked_sub(self.next) else {
            return Err(format!("request {index} finished twice").into());
        };
        let offset = offset as usize;
        if offset >= self.pending.len() {
            self.pending.resize(offset + 1, None);
        }
        if self.pending[offset].replace(record).is_some() {
            return Err(format!("request {index} finished twice").into());
        }
        self.held += 1;
        while let Some(Some(_)) = self.pending.front() {
            let Some(Some(record)) = self.pending.pop_front() else {
                break;
            };
            self.held -= 1;
            self.inner.accept(self.next, record)?;
            self.next += 1;
        }
        self.max_held = self.max_held.max(self.held);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::RequestStatus;

    fn record(arrival_us: i64) -> RequestRecord {
        RequestRecord {
            arrival_us,
            prompt_tokens: 1,
            output_tokens: 1,
            replica: None,
            first_token_us: None,
            last_token_us: None,
            preemptions: 0,
            status: RequestStatus::Completed,
        }
    }

    #[test]
    fn forwards_in_index_order_holding_only_the_overtakers() {
        let mut sink = InOrder::new(Collect::default());
        let mut seen = Vec::new();
        for index in [2u32, 0, 3, 1, 4] {
            sink.accept(index, record(i64::from(index))).unwrap();
            seen.push(sink.forwarded());
        }
        assert_eq!(seen, [0, 1, 1, 4, 5]);
        assert_eq!(sink.max_held(), 2);
        let records = sink.finish().unwrap().into_records();
        let arrivals: Vec<i64> = records
            .iter()
            .map(|r| r.as_ref().unwrap().arrival_us)
            .collect();
        assert_eq!(arrivals, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_duplicate_or_a_missing_record_is_an_error() {
        let mut sink = InOrder::new(Collect::default());
        sink.accept(0, record(0)).unwrap();
        assert!(sink.accept(0, record(0)).is_err());
        sink.accept(2, record(2)).unwrap();
        assert!(sink.accept(2, record(2)).is_err());
        assert!(sink.finish().is_err());
    }
}
