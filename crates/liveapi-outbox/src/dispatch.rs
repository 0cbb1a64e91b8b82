//! The dispatcher: claims due entries under a lease, sends them, and records what became of
//! each; the loop behind [`Outbox::run`] and [`Outbox::drain_once`].
//!
//! Every time it writes or compares (due by, lease ends, retry times, settle times) is read
//! from the outbox's own clock ([`Outbox::now`]), never from the client's: a lease written
//! by one clock and compared by another could expire early, and an entry sent twice at once.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use liveapi::Client;
use liveapi::model::linkv::{Coins, RequestId};
use tokio::task::JoinSet;

use crate::decide::{RetryReason, Verdict, next_attempt, verdict};
use crate::entry::{Entry, to_ms};
use crate::error::OutboxError;
use crate::outbox::Outbox;
use crate::report::{DrainReport, Outcome, Recorded, Sent, bump};
use crate::store::{Claim, ClaimRequest, Settlement};

impl Outbox {
    /// Sends every entry that is due now (by the outbox's
    /// [clock](crate::OutboxBuilder::clock)) and not held by another dispatcher, once, and
    /// records each outcome; entries left pending for a retry wait for a later drain. At most
    /// [`concurrency`](crate::OutboxBuilder::concurrency) sends are in flight at once.
    ///
    /// # Errors
    /// The store's errors when claiming: [`OutboxError::DrainStopped`] with the report of
    /// what was sent before, when something was; an outcome the store fails to record is
    /// counted in [`DrainReport::unrecorded`] instead.
    pub async fn drain_once(&self, client: &Client) -> Result<DrainReport, OutboxError> {
        self.pump(client, Some(self.now()), std::future::pending())
            .await
    }

    /// Sends the entry of `request_id` now, if it is pending, due and not held by another
    /// dispatcher, and records the outcome. `None` when it was not sent: settled already,
    /// being sent by another dispatcher, waiting for its retry, or not in the outbox
    /// ([`get`](Self::get) tells which).
    ///
    /// # Errors
    /// The store's errors when claiming.
    pub async fn dispatch(
        &self,
        client: &Client,
        request_id: &RequestId,
    ) -> Result<Option<Sent>, OutboxError> {
        let claims = self.claim(self.now(), 1, Some(request_id)).await?;
        match claims.into_iter().next() {
            Some(claim) => Ok(Some(self.send(client, claim).await)),
            None => Ok(None),
        }
    }

    /// The dispatcher: claims due entries, sends them (up to
    /// [`concurrency`](crate::OutboxBuilder::concurrency) at once) and records their outcomes,
    /// until `shutdown` completes; then stops claiming, lets the sends in flight finish and
    /// records them. Enqueues through this outbox wake it at once; otherwise it polls.
    ///
    /// A store that is unavailable is retried at every poll, with the failure logged.
    ///
    /// # Errors
    /// A store error that retrying cannot cure (a damaged store, a schema of a newer version,
    /// an entry that cannot be read, a stopped store), after the sends in flight finished.
    pub async fn run(
        &self,
        client: &Client,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), OutboxError> {
        tracing::info!(target: "liveapi_outbox", owner = %self.inner.owner, location = self.location(), "outbox dispatcher started");
        let result = self.pump(client, None, shutdown).await;
        match &result {
            Ok(report) => {
                tracing::info!(target: "liveapi_outbox", owner = %self.inner.owner, sent = report.sent, "outbox dispatcher stopped");
            }
            Err(e) => {
                tracing::error!(target: "liveapi_outbox", owner = %self.inner.owner, error = %e, "outbox dispatcher stopped by a store error");
            }
        }
        result.map(|_| ())
    }

    /// The dispatcher's loop: keeps up to `concurrency` sends in flight, claiming more when
    /// half of the room is free (or none is in flight), so that claims come in batches: each
    /// claim is a commit.
    ///
    /// A drain (`drain_by` set) claims entries due by then, stops when none is left and
    /// fails on the first store error; the dispatcher runs until `shutdown`, waking on
    /// enqueues and polls, and rides out store errors that may pass.
    async fn pump(
        &self,
        client: &Client,
        drain_by: Option<SystemTime>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<DrainReport, OutboxError> {
        let settings = &self.inner.settings;
        let batch = settings.concurrency.div_ceil(2);
        tokio::pin!(shutdown);
        let mut tasks: JoinSet<(Sent, bool)> = JoinSet::new();
        let mut report = DrainReport::default();
        let mut failure = None;
        let mut stopping = false;
        let mut gauges_at: Option<tokio::time::Instant> = None;
        while !stopping {
            let room = settings.concurrency - tasks.len();
            // Whether the last look found everything due.
            let mut exhausted = false;
            if room >= batch || tasks.is_empty() {
                let due_by = drain_by.unwrap_or_else(|| self.now());
                match self.claim(due_by, room, None).await {
                    Ok(claims) => {
                        exhausted = claims.len() < room;
                        for claim in claims {
                            let taken_over = claim.taken_over_from.is_some();
                            let (outbox, client) = (self.clone(), client.clone());
                            tasks.spawn(
                                async move { (outbox.send(&client, claim).await, taken_over) },
                            );
                        }
                    }
                    Err(e) if drain_by.is_none() && is_passing(&e) => {
                        bump(&self.inner.stats.store_errors);
                        tracing::warn!(target: "liveapi_outbox", error = %e, "claiming failed; trying again");
                        exhausted = true;
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
                if !exhausted && tasks.len() < settings.concurrency {
                    continue;
                }
            }
            if drain_by.is_some() && exhausted && tasks.is_empty() {
                break;
            }
            let poll = drain_by.is_none() && exhausted;
            // The gauges, from the store's counts, at most once per poll.
            if drain_by.is_none()
                && gauges_at.is_none_or(|at| at.elapsed() >= settings.poll_interval)
            {
                gauges_at = Some(tokio::time::Instant::now());
                self.update_gauges_now().await;
            }
            tokio::select! {
                () = &mut shutdown => stopping = true,
                Some(done) = tasks.join_next(), if !tasks.is_empty() => match done {
                    Ok((sent, taken_over)) => report.add(&sent, taken_over),
                    Err(e) => log_task_failure(&e),
                },
                () = self.inner.wake.notified(), if drain_by.is_none() => {}
                () = tokio::time::sleep(settings.poll_interval), if poll => {}
            }
        }
        // The sends in flight finish and are recorded, whatever stopped the loop.
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok((sent, taken_over)) => report.add(&sent, taken_over),
                Err(e) => log_task_failure(&e),
            }
        }
        if drain_by.is_some() {
            self.update_gauges_now().await;
        }
        match failure {
            Some(e) if report.sent > 0 => Err(OutboxError::DrainStopped {
                report,
                source: Box::new(e),
            }),
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Sets the gauges from the store's counts now; a store error leaves them as they were.
    async fn update_gauges_now(&self) {
        if let Ok(counts) = self.counts().await {
            crate::telemetry::gauges(&counts, self.now());
        }
    }

    /// Leases up to `limit` entries due by `due_by`.
    async fn claim(
        &self,
        due_by: SystemTime,
        limit: usize,
        only: Option<&RequestId>,
    ) -> Result<Vec<Claim>, OutboxError> {
        let now = self.now();
        let number = self.inner.claims.fetch_add(1, Ordering::Relaxed);
        let settings = &self.inner.settings;
        let request = ClaimRequest {
            owner: self.inner.owner.clone(),
            token: format!("{}/{number}", self.inner.owner),
            due_by_ms: to_ms(due_by),
            now_ms: to_ms(now),
            lease_until_ms: to_ms(now + settings.lease),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            only: only.map(ToString::to_string),
            latest_due_ms: to_ms(settings.latest_due(now)),
            latest_lease_ms: to_ms(settings.latest_lease(now)),
        };
        let claims = self
            .bounded("claiming", self.inner.store.claim(request))
            .await?;
        for claim in &claims {
            let entry = &claim.entry;
            bump(&self.inner.stats.sent);
            match &claim.taken_over_from {
                Some(previous) => {
                    bump(&self.inner.stats.taken_over);
                    tracing::info!(
                        target: "liveapi_outbox",
                        request_id = %entry.request_id(),
                        attempt = entry.attempts(),
                        previous_owner = %previous,
                        "coin change taken over from an expired lease"
                    );
                }
                None => tracing::debug!(
                    target: "liveapi_outbox",
                    request_id = %entry.request_id(),
                    attempt = entry.attempts(),
                    "coin change claimed"
                ),
            }
        }
        Ok(claims)
    }

    /// Sends a claimed entry and records what became of it.
    async fn send(&self, client: &Client, claim: Claim) -> Sent {
        let Claim { entry, token, .. } = claim;
        let settings = &self.inner.settings;
        let change = &entry.change;
        let attempt = entry.attempts;
        // A send ends well inside the lease, so that no other dispatcher takes the entry over
        // while it is on the wire.
        let deadline = settings.send_budget(client.engine().deadline());
        let result = match client.check_resend_window(change) {
            Err(e) => Err(e),
            Ok(()) => client.send_change(change).deadline(deadline).await,
        };
        let (judged, error) = match result {
            Ok(balance) => (Verdict::Applied { balance }, None),
            Err(e) => (verdict(&e), Some(e)),
        };
        // The outcome's time: when it is settled, and what a retry's backoff counts from.
        let now = self.now();
        let mut retry_reason = None;
        let (outcome, settlement) = match judged {
            Verdict::Applied { balance } => (
                Outcome::Applied { balance },
                Settlement::Applied { balance },
            ),
            Verdict::Refused(refusal) => (
                Outcome::Refused(refusal.clone()),
                Settlement::Refused(refusal),
            ),
            Verdict::Reconcile(reason) => (
                Outcome::NeedsReconciliation(reason.clone()),
                Settlement::Reconcile(reason),
            ),
            Verdict::Retry(reason) => {
                retry_reason = Some(reason);
                let at = next_attempt(
                    change,
                    attempt,
                    reason,
                    now,
                    &settings.backoff,
                    client.resend_window(),
                    client.engine().context().jitter(),
                );
                let why = error.as_ref().map_or_else(String::new, ToString::to_string);
                (
                    Outcome::Retry { at },
                    Settlement::Retry {
                        at_ms: to_ms(at),
                        delay_ms: to_ms(at).saturating_sub(to_ms(now)),
                        error: format!("{}: {why}", reason.name()),
                    },
                )
            }
        };
        let settles = !matches!(settlement, Settlement::Retry { .. });
        let recording = self.inner.store.record(
            change.request_id().to_string(),
            token,
            settlement,
            to_ms(now),
        );
        let recorded = match self.bounded("recording an outcome", recording).await {
            Ok(true) => {
                if settles {
                    self.inner.settled.send_modify(|n| *n = n.wrapping_add(1));
                }
                Recorded::Yes
            }
            Ok(false) => Recorded::LeaseLost,
            Err(e) => Recorded::Failed(e),
        };
        let sent = Sent {
            request_id: change.request_id().clone(),
            outcome,
            error,
            recorded,
            attempt,
        };
        self.observe(&entry, &sent, retry_reason);
        sent
    }

    /// The tracing event and the counter of what became of an entry.
    fn observe(&self, entry: &Entry, sent: &Sent, retry: Option<RetryReason>) {
        crate::telemetry::settlement(sent);
        let stats = &self.inner.stats;
        let (request_id, uid, attempt) = (entry.request_id(), entry.uid(), sent.attempt);
        let error = sent.error.as_ref().map(ToString::to_string);
        match &sent.recorded {
            Recorded::LeaseLost => {
                bump(&stats.lease_lost);
                tracing::warn!(target: "liveapi_outbox", %request_id, %uid, attempt, "outcome discarded: another dispatcher took the coin change over");
                return;
            }
            Recorded::Failed(e) => {
                bump(&stats.store_errors);
                tracing::error!(target: "liveapi_outbox", %request_id, %uid, attempt, error = %e, "outcome not recorded: the coin change is sent again after its lease");
                return;
            }
            Recorded::Yes => {}
        }
        match &sent.outcome {
            Outcome::Applied { balance } => {
                bump(&stats.applied);
                tracing::info!(target: "liveapi_outbox", %request_id, %uid, attempt, balance = balance.map(Coins::get), "coin change applied");
            }
            Outcome::Refused(refusal) => {
                bump(&stats.refused);
                tracing::warn!(target: "liveapi_outbox", %request_id, %uid, attempt, reason = %refusal, "coin change refused");
            }
            Outcome::NeedsReconciliation(reason) => {
                bump(&stats.needs_reconciliation);
                tracing::error!(target: "liveapi_outbox", %request_id, %uid, attempt, reason = %reason, "coin change needs reconciliation");
            }
            Outcome::Retry { at } => {
                bump(&stats.retried);
                let wait = at.duration_since(self.now()).unwrap_or_default();
                let reason = retry.map_or("unknown", RetryReason::name);
                if matches!(retry, Some(RetryReason::Blocked | RetryReason::Clock)) {
                    tracing::error!(target: "liveapi_outbox", %request_id, %uid, attempt, reason, ?wait, error, "coin change cannot be sent from this machine; retrying");
                } else {
                    tracing::warn!(target: "liveapi_outbox", %request_id, %uid, attempt, reason, ?wait, error, "coin change to be sent again");
                }
            }
        }
    }
}

/// Whether a store error may pass by itself, so that the dispatcher keeps going.
fn is_passing(error: &OutboxError) -> bool {
    matches!(
        error,
        OutboxError::Unavailable { .. } | OutboxError::Store { .. }
    )
}

fn log_task_failure(e: &tokio::task::JoinError) {
    tracing::error!(target: "liveapi_outbox", error = %e, "a send task failed; its coin change is sent again after its lease");
}
