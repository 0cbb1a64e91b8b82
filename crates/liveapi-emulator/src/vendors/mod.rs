//! The two vendors' APIs as the emulator serves them: LinkV's coin and token calls under
//! `/open/`, Polyv's donate settings under `/live/`, and Polyv's per-IP rate limit. Each
//! handler checks a request in the vendor's order and answers with the vendor's codes and
//! messages; the bookkeeping itself is in `books`. A refused signature is explained by
//! `signature_refusal`, for the request log and the dashboard.

pub(crate) mod linkv;
pub(crate) mod polyv;
pub(crate) mod rate_limit;
pub(crate) mod signature_refusal;
