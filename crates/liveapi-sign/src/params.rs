//! Collecting, sorting and de-duplicating parameters without touching the heap.
//!
//! Up to [`INLINE_PARAMS`] pairs live in an array on the stack; only a larger set spills into a
//! `Vec`. The pairs never move once stored: views of them (two string slices each) are sorted
//! instead, by insertion, the fastest sort for a few dozen items and linear on the already
//! sorted input most callers pass. The sorted view is lent to a closure rather than returned,
//! so the inline storage is not copied on the way out.

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
pub(crate) struct SortedParams<'a> {
    pairs: &'a [(&'a str, &'a str)],
}

impl SortedParams<'_> {
    /// Collects, sorts and checks `params`, and lends the result to `then`.
    pub(crate) fn with<I, K, V, R>(
        params: I,
        order: KeyOrder,
        then: impl FnOnce(&SortedParams<'_>) -> R,
    ) -> Result<R, SignError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut params = params.into_iter();
        // The caller's pairs, owned or borrowed, stay where they are stored; only views of
        // them (two string slices each) are sorted.
        let mut owned: [Option<(K, V)>; INLINE_PARAMS] = std::array::from_fn(|_| None);
        let mut len = 0;
        for slot in &mut owned {
            let Some(pair) = params.next() else { break };
            *slot = Some(pair);
            len += 1;
        }
        let compare = |a: &(&str, &str), b: &(&str, &str)| order.compare(a.0, b.0);
        match params.next() {
            None => {
                let mut view = [("", ""); INLINE_PARAMS];
                for (slot, (k, v)) in view.iter_mut().zip(owned.iter().flatten()) {
                    *slot = (k.as_ref(), v.as_ref());
                }
                let view = &mut view[..len];
                insertion_sort(view, compare);
                check_unique(view)?;
                Ok(then(&SortedParams { pairs: view }))
            }
            Some(extra) => {
                // Past the inline capacity: the heap, and the standard library's sort.
                let mut heap: Vec<(K, V)> = owned.into_iter().flatten().collect();
                heap.push(extra);
                heap.extend(params);
                let mut view: Vec<(&str, &str)> =
                    heap.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
                view.sort_unstable_by(compare);
                check_unique(&view)?;
                Ok(then(&SortedParams { pairs: &view }))
            }
        }
    }

    /// Every pair, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().copied()
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

/// Sorts in place by insertion: stable, no allocation, linear on sorted input.
fn insertion_sort<T: Copy>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    for i in 1..items.len() {
        let item = items[i];
        let mut j = i;
        while j > 0 && compare(&items[j - 1], &item) == Ordering::Greater {
            items[j] = items[j - 1];
            j -= 1;
        }
        items[j] = item;
    }
}

/// Refuses the first key that appears twice; the pairs are sorted, so duplicates are adjacent.
fn check_unique(sorted: &[(&str, &str)]) -> Result<(), SignError> {
    match sorted.windows(2).find(|w| w[0].0 == w[1].0) {
        Some(w) => Err(SignError::DuplicateKey {
            key: w[0].0.to_owned(),
        }),
        None => Ok(()),
    }
}
