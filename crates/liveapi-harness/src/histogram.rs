//! A latency histogram of fixed size, for load measurements that must not grow the memory
//! they measure.

use std::time::Duration;

/// Latencies in a fixed-size histogram (64 buckets per power of two of nanoseconds, so
/// quantiles are within 1.6 %), so that measuring does not grow the memory being measured.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    max: Duration,
}

const SUB_BUCKETS: u64 = 64;

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; 64 * SUB_BUCKETS as usize],
            max: Duration::ZERO,
        }
    }
}

impl Histogram {
    fn bucket(nanos: u64) -> usize {
        if nanos < SUB_BUCKETS {
            return nanos as usize;
        }
        let power = 63 - u64::from(nanos.leading_zeros()); // >= 6
        let sub = (nanos >> (power - 6)) - SUB_BUCKETS; // the 6 bits below the top one
        ((power - 5) * SUB_BUCKETS + sub) as usize
    }

    /// The smallest latency a bucket holds.
    fn floor(bucket: usize) -> u64 {
        let (group, sub) = (bucket as u64 / SUB_BUCKETS, bucket as u64 % SUB_BUCKETS);
        if group == 0 {
            sub
        } else {
            (SUB_BUCKETS + sub) << (group - 1)
        }
    }

    /// Counts one latency.
    pub fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        if let Some(count) = self.counts.get_mut(Self::bucket(nanos)) {
            *count += 1;
        }
        self.max = self.max.max(latency);
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Self) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.max = self.max.max(other.max);
    }

    /// How many latencies were counted.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Whether nothing was counted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The largest latency counted.
    #[must_use]
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The latency below which a share `q` (0 to 1) of the counted ones lie, to within
    /// 1.6 %; `q = 1` is the exact maximum.
    #[must_use]
    pub fn quantile(&self, q: f64) -> Duration {
        if q >= 1.0 {
            return self.max;
        }
        let rank = ((self.len() as f64 - 1.0) * q).round() as u64;
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen > rank {
                return Duration::from_nanos(Self::floor(bucket)).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_ordered_and_tight() {
        let mut previous = 0;
        for nanos in (0..5_000_000u64).step_by(7) {
            let bucket = Histogram::bucket(nanos);
            assert!(bucket >= previous, "{nanos}");
            previous = bucket;
            let floor = Histogram::floor(bucket);
            assert!(
                floor <= nanos && nanos - floor <= nanos / 64 + 1,
                "{nanos}: {floor}"
            );
        }
        let mut h = Histogram::default();
        for micros in 1..=100 {
            h.record(Duration::from_micros(micros));
        }
        let p50 = h.quantile(0.5).as_nanos() as f64;
        assert!((p50 - 50_000.0).abs() / 50_000.0 < 0.03, "{p50}");
        assert_eq!(h.quantile(1.0), Duration::from_micros(100));
    }
}
