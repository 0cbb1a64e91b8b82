//! `liveapi nonce`: a fresh LinkV `nonce_str`, from the system clock and the operating
//! system's CSPRNG.

use std::time::SystemTime;

use liveapi::request::{Entropy, OsEntropy};
use liveapi::sign::linkv::Nonce;

use crate::exit::{Failure, Outcome};
use crate::output;

/// Arguments of `liveapi nonce` (none).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> Outcome {
    output::line(fresh(SystemTime::now(), &OsEntropy)?)
}

/// A nonce for `now`; a randomness source that fails is an error, never a predictable nonce.
fn fresh(now: SystemTime, entropy: &dyn Entropy) -> Result<Nonce, Failure> {
    entropy.nonce(now).map_err(Failure::local)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use liveapi::request::EntropyError;

    use super::*;

    #[derive(Debug)]
    struct Broken;

    impl Entropy for Broken {
        fn fill(&self, _: &mut [u8]) -> Result<(), EntropyError> {
            Err(EntropyError::new("no randomness"))
        }
    }

    #[test]
    fn a_failing_source_is_an_error_not_a_constant_nonce() {
        let now = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        assert!(fresh(now, &Broken).is_err());
        let nonce = fresh(now, &OsEntropy).unwrap();
        assert_eq!(&nonce.as_str()[8..18], "1600000000");
    }
}
