//! Collecting, sorting and de-duplicating parameters without touching the heap.
//!
//! Up to [`INLINE_PARAMS`] pairs live in an array on the stack; only a larger set spills into a
//! `Vec`. They are sorted in place by insertion, the fastest sort for a few dozen items and
//! linear on the already sorted input most callers pass, and lent to a closure rather than
//! returned, so the inline storage is never copied.

use std::cmp::Ordering;

use crate::{SignError, VerifyError};

/// How many parameters are signed without any heap allocation.
pub const INLINE_PARAMS: usize = 32;

/// The order keys are sorted in before they are joined.
#[derive(Clone, Copy)]
pub(crate) enum KeyOrder {
    /// Byte order of the UTF-8 keys (LinkV).
    Bytes,
    /// Order of the UTF-16 code units, as Java's `String.compareTo` (Polyv).
    Utf16,
}

impl KeyOrder {
    fn compare(self, a: &str, b: &str) -> Ordering {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        // Keys mostly differ in their first bytes: find the first difference by hand rather
        // than through a `memcmp` call per comparison.
        let Some(i) = a.iter().zip(b).position(|(x, y)| x != y) else {
            return a.len().cmp(&b.len());
        };
        let (x, y) = (a[i], b[i]);
        match self {
            Self::Bytes => x.cmp(&y),
            // UTF-8 byte order is code point order. UTF-16 order differs only between a
            // character of U+E000..=U+FFFF (lead byte 0xEE or 0xEF) and one above U+FFFF
            // (lead byte 0xF0..): the latter is a surrogate pair, 0xD800.., which sorts
            // first. Equal leading bytes put both characters in the same one of these ranges.
            Self::Utf16 => match (x, y) {
                (0xEE..=0xEF, 0xF0..) => Ordering::Greater,
                (0xF0.., 0xEE..=0xEF) => Ordering::Less,
                _ => x.cmp(&y),
            },
        }
    }
}

/// Parameters sorted by key, with every key known to be unique.
pub(crate) struct SortedParams<'a, K, V> {
    slots: &'a [Option<(K, V)>],
}

/// Collects, sorts and checks `params`, and lends the result to `then`.
pub(crate) fn sorted<I, K, V, R>(
    params: I,
    order: KeyOrder,
    then: impl FnOnce(&SortedParams<'_, K, V>) -> R,
) -> Result<R, SignError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut params = params.into_iter();
    let mut inline: [Option<(K, V)>; INLINE_PARAMS] = std::array::from_fn(|_| None);
    let mut len = 0;
    for slot in &mut inline {
        let Some(pair) = params.next() else { break };
        *slot = Some(pair);
        len += 1;
    }
    let compare = |a: &Option<(K, V)>, b: &Option<(K, V)>| order.compare(key_of(a), key_of(b));
    match params.next() {
        None => {
            let slots = &mut inline[..len];
            insertion_sort(slots, compare);
            check_unique(slots)?;
            Ok(then(&SortedParams { slots }))
        }
        Some(extra) => {
            // Past the inline capacity: the heap, and the standard library's sort.
            let mut heap: Vec<Option<(K, V)>> =
                inline.into_iter().filter(Option::is_some).collect();
            heap.push(Some(extra));
            heap.extend(params.map(Some));
            heap.sort_unstable_by(compare);
            check_unique(&heap)?;
            Ok(then(&SortedParams { slots: &heap }))
        }
    }
}

impl<K: AsRef<str>, V: AsRef<str>> SortedParams<'_, K, V> {
    /// Every pair, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.slots
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

/// Sorts in place by insertion: stable, no allocation, linear on sorted input.
fn insertion_sort<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && compare(&items[j - 1], &items[j]) == Ordering::Greater {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Refuses the first key that appears twice; the pairs are sorted, so duplicates are adjacent.
fn check_unique<K: AsRef<str>, V>(sorted: &[Option<(K, V)>]) -> Result<(), SignError> {
    match sorted.windows(2).find(|w| key_of(&w[0]) == key_of(&w[1])) {
        Some(w) => Err(SignError::DuplicateKey {
            key: key_of(&w[0]).to_owned(),
        }),
        None => Ok(()),
    }
}
