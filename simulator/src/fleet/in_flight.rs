//! The requests a fleet run holds, by a small integer handle.
//!
//! Why not a map keyed by the input index: every event of a run looks requests up
//! (progress reports, routing, settling), so the lookup is on the hottest path, and a
//! hashed map costs a hash and a probe each time. Handles are slots of a vector, reused
//! once their request is final (last freed, first reused, so the live set stays dense
//! and warm in cache); a lookup is one bounds-checked index. Reuse order is fixed, so a
//! run stays a pure function of its inputs.

/// A handle: valid from [`InFlight::insert`] until [`InFlight::remove`] of it.
pub(super) type Handle = u32;

/// Values by handle, with the slots of removed ones reused.
#[derive(Debug)]
pub(super) struct InFlight<T> {
    slots: Vec<Option<T>>,
    /// Empty slots, reused last-freed first.
    free: Vec<Handle>,
    len: usize,
}

impl<T> Default for InFlight<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> InFlight<T> {
    /// Stores `value` and returns its handle.
    pub(super) fn insert(&mut self, value: T) -> Handle {
        self.len += 1;
        match self.free.pop() {
            Some(handle) => {
                self.slots[handle as usize] = Some(value);
                handle
            }
            None => {
                let handle = Handle::try_from(self.slots.len())
                    .expect("fewer requests in flight at once than u32::MAX");
                self.slots.push(Some(value));
                handle
            }
        }
    }

    pub(super) fn get(&self, handle: Handle) -> Option<&T> {
        self.slots.get(handle as usize)?.as_ref()
    }

    pub(super) fn get_mut(&mut self, handle: Handle) -> Option<&mut T> {
        self.slots.get_mut(handle as usize)?.as_mut()
    }

    /// Takes the value out; its handle may be handed out again from now on.
    pub(super) fn remove(&mut self, handle: Handle) -> Option<T> {
        let value = self.slots.get_mut(handle as usize)?.take()?;
        self.free.push(handle);
        self.len -= 1;
        Some(value)
    }

    /// Values held.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn handles_are_reused_last_freed_first() {
        let mut held = InFlight::default();
        let a = held.insert('a');
        let b = held.insert('b');
        let c = held.insert('c');
        assert_eq!((a, b, c), (0, 1, 2));
        assert_eq!(held.remove(a), Some('a'));
        assert_eq!(held.remove(c), Some('c'));
        assert_eq!(held.remove(c), None, "a removed handle holds nothing");
        assert_eq!(held.insert('d'), c);
        assert_eq!(held.insert('e'), a);
        assert_eq!(held.insert('f'), 3);
        assert_eq!(held.len(), 4);
        assert_eq!(held.get(b), Some(&'b'));
        assert_eq!(held.get(99), None);
    }

    proptest::proptest! {
        /// Against a map from handle to value: same lookups, same lengths, and no
        /// handle given to two live values.
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((proptest::bool::ANY, 0u32..16), 0..300)) {
            let mut held = InFlight::default();
            let mut model: BTreeMap<Handle, u32> = BTreeMap::new();
            for (step, (insert, pick)) in ops.into_iter().enumerate() {
                if insert || model.is_empty() {
                    let handle = held.insert(step as u32);
                    proptest::prop_assert!(model.insert(handle, step as u32).is_none());
                } else {
                    let handle = *model.keys().nth(pick as usize % model.len()).expect("non-empty");
                    proptest::prop_assert_eq!(held.remove(handle), model.remove(&handle));
                }
                proptest::prop_assert_eq!(held.len(), model.len());
                proptest::prop_assert_eq!(held.is_empty(), model.is_empty());
                for (&handle, value) in &model {
                    proptest::prop_assert_eq!(held.get(handle), Some(value));
                }
            }
        }
    }
}
