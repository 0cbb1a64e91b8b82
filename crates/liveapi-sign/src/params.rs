//! Collecting, sorting and de-duplicating parameters without touching the heap.
//!
//! Up to [`INLINE_PARAMS`] pairs live in an array on the stack; only a larger set spills into a
//! `Vec`. Sorting is `sort_unstable_by`, which works in place (the stable sort allocates a
//! buffer), and is safe here because duplicate keys are refused anyway.

use std::cmp::Ordering;

use crate::{SignError, VerifyError};

/// How many parameters are signed without any heap allocation.
pub const INLINE_PARAMS: usize = 32;

/// The order keys are sorted in before they are joined.
#[derive(Clone, Copy)]
pub(crate) enum KeyOrder {
    /// Byte order of the UTF-8 keys (LinkV).
    Bytes,
    /// Order of the UTF-16 code units, as Java's `String.compareTo` (Polyv). It differs from
    /// byte order only between astral-plane characters and U+E000..U+FFFF.
    Utf16,
}

impl KeyOrder {
    fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Self::Bytes => a.as_bytes().cmp(b.as_bytes()),
            Self::Utf16 => a.encode_utf16().cmp(b.encode_utf16()),
        }
    }
}

enum Storage<K, V> {
    Inline([Option<(K, V)>; INLINE_PARAMS], usize),
    Heap(Vec<Option<(K, V)>>),
}

/// Parameters sorted by key, with every key known to be unique.
pub(crate) struct SortedParams<K, V> {
    storage: Storage<K, V>,
}

impl<K: AsRef<str>, V: AsRef<str>> SortedParams<K, V> {
    /// Collects, sorts and checks `params`.
    pub(crate) fn collect<I>(params: I, order: KeyOrder) -> Result<Self, SignError>
    where
        I: IntoIterator<Item = (K, V)>,
    {
        let mut storage = Storage::Inline(std::array::from_fn(|_| None), 0);
        for pair in params {
            match &mut storage {
                Storage::Inline(slots, len) if *len < INLINE_PARAMS => {
                    slots[*len] = Some(pair);
                    *len += 1;
                }
                Storage::Inline(slots, _) => {
                    let mut heap: Vec<_> = slots.iter_mut().map(Option::take).collect();
                    heap.push(Some(pair));
                    storage = Storage::Heap(heap);
                }
                Storage::Heap(heap) => heap.push(Some(pair)),
            }
        }
        let mut sorted = Self { storage };
        let slots = sorted.slots_mut();
        slots.sort_unstable_by(|a, b| order.compare(key_of(a), key_of(b)));
        if let Some(pair) = slots.windows(2).find(|w| key_of(&w[0]) == key_of(&w[1])) {
            return Err(SignError::DuplicateKey {
                key: key_of(&pair[0]).to_owned(),
            });
        }
        Ok(sorted)
    }

    fn slots_mut(&mut self) -> &mut [Option<(K, V)>] {
        match &mut self.storage {
            Storage::Inline(slots, len) => &mut slots[..*len],
            Storage::Heap(heap) => heap,
        }
    }

    fn slots(&self) -> &[Option<(K, V)>] {
        match &self.storage {
            Storage::Inline(slots, len) => &slots[..*len],
            Storage::Heap(heap) => heap,
        }
    }

    /// Every pair, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.slots()
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    /// The value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The value of a parameter verification cannot do without.
    pub(crate) fn present(&self, param: &'static str) -> Result<&str, VerifyError> {
        self.get(param)
            .filter(|v| !v.is_empty())
            .ok_or(VerifyError::Missing { param })
    }
}

fn key_of<K: AsRef<str>, V>(slot: &Option<(K, V)>) -> &str {
    slot.as_ref().map_or("", |(k, _)| k.as_ref())
}
