//! The kinds of fault, and how likely each is relative to the others.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::FaultsError;

/// One way a request can fail.
///
/// | kind | what the client sees | was the request applied? |
/// |---|---|---|
/// | `latency` | the normal answer, late | yes, before the delay |
/// | `http500` | HTTP 500 with the vendor's JSON error (`status`/`code` 500) | no |
/// | `http500_html` | HTTP 500 with an HTML page | no |
/// | `http502` | HTTP 502 with an HTML page, as from a gateway | no |
/// | `http503` | HTTP 503 with an HTML page and `Retry-After: 1` | no |
/// | `reset_before_apply` | the connection is reset (TCP RST), no answer | no |
/// | `reset_after_apply` | the connection is reset (TCP RST), no answer | **yes** |
/// | `truncate_after_apply` | the answer's headers promise the whole body, half of it comes, then the connection closes | **yes** |
/// | `http200_status500` | HTTP 200 with the vendor's JSON error saying 500 (`"status":"500"`, `"code":500`), as the real LinkV server reports a failure | no |
///
/// The `*_after_apply` kinds are the ones that make a naive retry apply a coin change twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// The answer is held back by a delay drawn from the configured latency range.
    Latency,
    /// HTTP 500 with the vendor's JSON error envelope.
    Http500,
    /// HTTP 500 with an HTML body.
    Http500Html,
    /// HTTP 502 with an HTML body.
    Http502,
    /// HTTP 503 with an HTML body.
    Http503,
    /// The connection is reset before the request is handled.
    ResetBeforeApply,
    /// The request is handled (and any change applied), then the connection is reset.
    ResetAfterApply,
    /// The request is handled, then only half of the answer's body is sent.
    TruncateAfterApply,
    /// HTTP 200 whose JSON body says 500: the real LinkV server's way of failing (its official
    /// SDKs retry exactly this: `docs/linkv.md#how-the-real-server-answers`).
    Http200Status500,
}

impl FaultKind {
    /// Every kind, in the order of [`FaultWeights`]' fields.
    pub const ALL: [Self; 9] = [
        Self::Latency,
        Self::Http500,
        Self::Http500Html,
        Self::Http502,
        Self::Http503,
        Self::ResetBeforeApply,
        Self::ResetAfterApply,
        Self::TruncateAfterApply,
        Self::Http200Status500,
    ];

    /// The name used in JSON and on the command line: `reset_after_apply`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Latency => "latency",
            Self::Http500 => "http500",
            Self::Http500Html => "http500_html",
            Self::Http502 => "http502",
            Self::Http503 => "http503",
            Self::ResetBeforeApply => "reset_before_apply",
            Self::ResetAfterApply => "reset_after_apply",
            Self::TruncateAfterApply => "truncate_after_apply",
            Self::Http200Status500 => "http200_status500",
        }
    }

    /// Whether the request is handled (and a change applied) despite the fault.
    #[must_use]
    pub const fn applies_request(self) -> bool {
        matches!(
            self,
            Self::Latency | Self::ResetAfterApply | Self::TruncateAfterApply
        )
    }

    pub(super) const fn index(self) -> usize {
        match self {
            Self::Latency => 0,
            Self::Http500 => 1,
            Self::Http500Html => 2,
            Self::Http502 => 3,
            Self::Http503 => 4,
            Self::ResetBeforeApply => 5,
            Self::ResetAfterApply => 6,
            Self::TruncateAfterApply => 7,
            Self::Http200Status500 => 8,
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FaultKind {
    type Err = FaultsError;

    /// Parses the names of [`FaultKind::as_str`].
    ///
    /// ```
    /// use liveapi_emulator::FaultKind;
    /// assert_eq!("reset_after_apply".parse::<FaultKind>()?, FaultKind::ResetAfterApply);
    /// assert!("boom".parse::<FaultKind>().is_err());
    /// # Ok::<(), liveapi_emulator::FaultsError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, FaultsError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|k| k.as_str()).collect();
                FaultsError(format!(
                    "unknown fault kind `{s}` (expected one of {})",
                    names.join(", ")
                ))
            })
    }
}

/// How likely each kind of fault is, relative to the others. A kind of weight 0 never happens.
///
/// ```
/// use liveapi_emulator::{FaultKind, FaultWeights};
/// let w = FaultWeights::none().with(FaultKind::ResetAfterApply, 3).with(FaultKind::Http503, 1);
/// assert_eq!(w.get(FaultKind::ResetAfterApply), 3);
/// assert_eq!(w.total(), 4);
/// assert_eq!(FaultWeights::default().total(), 9);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultWeights {
    /// Weight of [`FaultKind::Latency`].
    pub latency: u32,
    /// Weight of [`FaultKind::Http500`].
    pub http500: u32,
    /// Weight of [`FaultKind::Http500Html`].
    pub http500_html: u32,
    /// Weight of [`FaultKind::Http502`].
    pub http502: u32,
    /// Weight of [`FaultKind::Http503`].
    pub http503: u32,
    /// Weight of [`FaultKind::ResetBeforeApply`].
    pub reset_before_apply: u32,
    /// Weight of [`FaultKind::ResetAfterApply`].
    pub reset_after_apply: u32,
    /// Weight of [`FaultKind::TruncateAfterApply`].
    pub truncate_after_apply: u32,
    /// Weight of [`FaultKind::Http200Status500`].
    pub http200_status500: u32,
}

impl Default for FaultWeights {
    /// Every kind equally likely.
    fn default() -> Self {
        Self {
            latency: 1,
            http500: 1,
            http500_html: 1,
            http502: 1,
            http503: 1,
            reset_before_apply: 1,
            reset_after_apply: 1,
            truncate_after_apply: 1,
            http200_status500: 1,
        }
    }
}

impl FaultWeights {
    /// Every weight 0; add kinds with [`FaultWeights::with`].
    #[must_use]
    pub const fn none() -> Self {
        Self {
            latency: 0,
            http500: 0,
            http500_html: 0,
            http502: 0,
            http503: 0,
            reset_before_apply: 0,
            reset_after_apply: 0,
            truncate_after_apply: 0,
            http200_status500: 0,
        }
    }

    /// Only `kind`.
    #[must_use]
    pub fn only(kind: FaultKind) -> Self {
        Self::none().with(kind, 1)
    }

    fn slot(&mut self, kind: FaultKind) -> &mut u32 {
        match kind {
            FaultKind::Latency => &mut self.latency,
            FaultKind::Http500 => &mut self.http500,
            FaultKind::Http500Html => &mut self.http500_html,
            FaultKind::Http502 => &mut self.http502,
            FaultKind::Http503 => &mut self.http503,
            FaultKind::ResetBeforeApply => &mut self.reset_before_apply,
            FaultKind::ResetAfterApply => &mut self.reset_after_apply,
            FaultKind::TruncateAfterApply => &mut self.truncate_after_apply,
            FaultKind::Http200Status500 => &mut self.http200_status500,
        }
    }

    /// Sets the weight of `kind`.
    #[must_use]
    pub fn with(mut self, kind: FaultKind, weight: u32) -> Self {
        *self.slot(kind) = weight;
        self
    }

    /// The weight of `kind`.
    #[must_use]
    pub fn get(&self, kind: FaultKind) -> u32 {
        match kind {
            FaultKind::Latency => self.latency,
            FaultKind::Http500 => self.http500,
            FaultKind::Http500Html => self.http500_html,
            FaultKind::Http502 => self.http502,
            FaultKind::Http503 => self.http503,
            FaultKind::ResetBeforeApply => self.reset_before_apply,
            FaultKind::ResetAfterApply => self.reset_after_apply,
            FaultKind::TruncateAfterApply => self.truncate_after_apply,
            FaultKind::Http200Status500 => self.http200_status500,
        }
    }

    /// The sum of all weights.
    #[must_use]
    pub fn total(&self) -> u64 {
        FaultKind::ALL.iter().map(|&k| u64::from(self.get(k))).sum()
    }

    /// The kind that a draw in `0..total()` picks.
    pub(super) fn pick(&self, mut ticket: u64) -> Option<FaultKind> {
        for kind in FaultKind::ALL {
            let weight = u64::from(self.get(kind));
            if ticket < weight {
                return Some(kind);
            }
            ticket -= weight;
        }
        None
    }
}
