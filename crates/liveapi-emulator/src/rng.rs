//! Deterministic pseudo-randomness: every "random" choice of the emulator (faults, tokens) is a
//! pure function of a seed and a counter, so a run can be replayed exactly.

/// SplitMix64's output function: a fast, well-mixed bijection on `u64`.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `n`th draw of the independent stream `stream` under `seed`.
///
/// Separate streams keep, say, the choice of a fault's kind independent of whether a fault
/// happens at all.
pub(crate) fn draw(seed: u64, stream: u64, n: u64) -> u64 {
    splitmix64(splitmix64(seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93)) ^ n)
}

/// A draw as a fraction in `[0, 1)`, from its top 53 bits (all a double can hold exactly).
pub(crate) fn fraction(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// FNV-1a over `parts`, each followed by a separator byte so that `("ab", "c")` and
/// `("a", "bc")` differ. Stable across Rust versions, unlike `DefaultHasher`.
pub(crate) fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    for part in parts {
        for &b in part.as_bytes().iter().chain(&[0xFF]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01B3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_streams_differ() {
        assert_eq!(draw(7, 1, 3), draw(7, 1, 3));
        assert_ne!(draw(7, 1, 3), draw(7, 2, 3));
        assert_ne!(draw(7, 1, 3), draw(8, 1, 3));
        let f = fraction(u64::MAX);
        assert!((0.0..1.0).contains(&f));
        assert_eq!(fraction(0), 0.0);
    }

    #[test]
    fn fnv_separates_parts() {
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
        assert_eq!(fnv1a(&["x"]), fnv1a(&["x"]));
    }
}
