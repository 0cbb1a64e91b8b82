//! An operator's tools: resolving an entry that needs reconciliation (and re-issuing its
//! change), pruning settled entries, ending this outbox's leases, and waiting for an entry to
//! settle.

use std::time::{Duration, SystemTime};

use liveapi::model::linkv::{PendingChange, RequestId};

use crate::entry::{Decision, Entry, to_ms};
use crate::error::OutboxError;
use crate::outbox::Outbox;
use crate::store::Resolve;

/// How many entries one prune statement deletes: small enough that each commits at once and
/// holds its rows briefly, so that senders are never kept waiting behind a long delete.
const PRUNE_BATCH: u32 = 500;

impl Outbox {
    /// Records a person's `decision` on the entry of `request_id`, which needs
    /// reconciliation: whether the server had applied its change, with `note` (who decided,
    /// on what evidence) and the time by the outbox's [clock](crate::OutboxBuilder::clock).
    /// With [`Decision::NotApplied`] and `reissue`, the same change is enqueued again under a
    /// new request id (a fresh resend window), linked both ways to the old entry
    /// ([`Resolution::reissued_as`](crate::Resolution::reissued_as),
    /// [`Entry::reissue_of`]), in the same transaction. Answers the new entry's request id.
    ///
    /// Nothing is deleted, and a resolution is never changed: an entry resolved already, or
    /// one that does not need reconciliation, is refused.
    ///
    /// ```no_run
    /// # async fn run(outbox: liveapi_outbox::Outbox, id: liveapi::model::linkv::RequestId) -> Result<(), liveapi_outbox::OutboxError> {
    /// use liveapi_outbox::Decision;
    /// // The balance and the vendor's records show the credit never arrived: send it again.
    /// let new_id = outbox
    ///     .resolve(&id, Decision::NotApplied, "ticket 4711: not in the vendor's records", true)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`OutboxError::NotFound`], [`OutboxError::WrongState`] (not needing reconciliation,
    /// or resolved already), [`OutboxError::Config`] for `reissue` with
    /// [`Decision::Applied`] or an empty note; the store's errors.
    pub async fn resolve(
        &self,
        request_id: &RequestId,
        decision: Decision,
        note: &str,
        reissue: bool,
    ) -> Result<Option<RequestId>, OutboxError> {
        if note.trim().is_empty() {
            return Err(OutboxError::Config(
                "a resolution needs a note: who decided, on what evidence".to_owned(),
            ));
        }
        if reissue && decision != Decision::NotApplied {
            return Err(OutboxError::Config(
                "only a change that was not applied is re-issued".to_owned(),
            ));
        }
        let now = self.now();
        let reissued = match reissue {
            false => None,
            true => {
                let entry = self
                    .get(request_id)
                    .await?
                    .ok_or_else(|| OutboxError::NotFound {
                        request_id: request_id.clone(),
                    })?;
                Some(reissued(entry.change(), now)?)
            }
        };
        let new_id = reissued.as_ref().map(|c| c.request_id().clone());
        let resolve = Resolve {
            request_id: request_id.to_string(),
            decision,
            note: note.to_owned(),
            at_ms: to_ms(now),
            reissue: reissued,
        };
        self.bounded("resolving an entry", self.inner.store.resolve(resolve))
            .await?;
        crate::telemetry::resolution(decision);
        tracing::warn!(
            target: "liveapi_outbox",
            %request_id,
            decision = decision.name(),
            note,
            reissued_as = new_id.as_ref().map(|id| id.to_string()),
            "coin change resolved by a person"
        );
        if new_id.is_some() {
            self.inner.wake.notify_one();
        }
        Ok(new_id)
    }

    /// Deletes settled entries (applied, refused, resolved) settled before `before`, by the
    /// outbox's clock; never a pending entry nor one that needs reconciliation. In small
    /// batches, each its own transaction, so that senders are not held up. Answers how many.
    ///
    /// # Errors
    /// The store's errors (the batches deleted before stay deleted).
    pub async fn prune(&self, before: SystemTime) -> Result<u64, OutboxError> {
        let before_ms = to_ms(before);
        let mut total = 0;
        loop {
            let deleted = self
                .bounded(
                    "pruning settled entries",
                    self.inner.store.prune(before_ms, PRUNE_BATCH),
                )
                .await?;
            total += deleted;
            if deleted < u64::from(PRUNE_BATCH) {
                break;
            }
            tokio::task::yield_now().await;
        }
        if total > 0 {
            tracing::info!(target: "liveapi_outbox", deleted = total, "settled entries pruned");
        }
        Ok(total)
    }

    /// Ends the leases this outbox holds on pending entries, so that any dispatcher may send
    /// them at once instead of waiting for the leases to expire: for a sender that exits
    /// normally with entries it could not finish. Call it only when none of its sends is in
    /// flight. Answers how many.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn release_leases(&self) -> Result<u64, OutboxError> {
        self.bounded(
            "releasing leases",
            self.inner.store.release(self.inner.owner.clone()),
        )
        .await
    }

    /// Waits until the entry of `request_id` is settled, at most `timeout`, and answers it;
    /// `None` when it is still pending then. Woken at once by the settlements this outbox (or
    /// a clone of it) records; settlements by other processes are seen at the
    /// [poll interval](crate::OutboxBuilder::poll_interval).
    ///
    /// ```no_run
    /// # async fn run(outbox: liveapi_outbox::Outbox, change: liveapi::model::linkv::PendingChange) -> Result<(), liveapi_outbox::OutboxError> {
    /// use std::time::Duration;
    /// outbox.enqueue(&change).await?;
    /// // A dispatcher (`outbox.run`) sends it meanwhile.
    /// match outbox.wait_settled(change.request_id(), Duration::from_secs(10)).await? {
    ///     Some(entry) => println!("{}: {}", entry.request_id(), entry.state().name()),
    ///     None => println!("still pending; the dispatcher keeps trying"),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`OutboxError::NotFound`] when no entry has the id; the store's errors.
    pub async fn wait_settled(
        &self,
        request_id: &RequestId,
        timeout: Duration,
    ) -> Result<Option<Entry>, OutboxError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut settled = self.inner.settled.subscribe();
        loop {
            // Marked seen before reading, so that a settlement recorded after the read wakes
            // the wait below.
            settled.borrow_and_update();
            let entry = self
                .get(request_id)
                .await?
                .ok_or_else(|| OutboxError::NotFound {
                    request_id: request_id.clone(),
                })?;
            if entry.is_settled() {
                return Ok(Some(entry));
            }
            let poll = tokio::time::sleep(self.inner.settings.poll_interval);
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return Ok(None),
                _ = settled.changed() => {}
                () = poll => {}
            }
        }
    }
}

/// `change` again under a new request id (a UUIDv7 of `now` and random bytes), made at `now`,
/// every other parameter the same.
fn reissued(change: &PendingChange, now: SystemTime) -> Result<PendingChange, OutboxError> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random)
        .map_err(|e| OutboxError::Config(format!("no random bytes for the new request id: {e}")))?;
    let millis = u64::try_from(to_ms(now)).unwrap_or(0);
    let id = RequestId::from_unix_millis(millis, random);
    let bad = |detail: String| OutboxError::BadRecord {
        request_id: change.request_id().to_string(),
        detail,
    };
    // The change's own stored form, with the new id and time: every other value as it was,
    // checked again when read back.
    let mut record = serde_json::to_value(change).map_err(|e| bad(e.to_string()))?;
    record["request_id"] = serde_json::Value::String(id.to_string());
    record["created_at_ms"] = serde_json::Value::from(millis);
    serde_json::from_value(record).map_err(|e| bad(format!("its re-issue: {e}")))
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use liveapi::model::linkv::{ChangeGold, CoinRequest, Coins, Expiration, OpenId};

    use super::*;

    #[test]
    fn a_reissue_is_the_same_change_under_a_new_id() {
        let gold = ChangeGold::add(
            OpenId::new("42").unwrap(),
            RequestId::new("old-1").unwrap(),
            Coins::new(5).unwrap(),
            Expiration::at_unix_seconds(1_800_000_000),
        )
        .unwrap();
        let old = PendingChange::new(CoinRequest::ChangeGold(gold), UNIX_EPOCH);
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let new = reissued(&old, now).unwrap();
        assert_ne!(new.request_id(), old.request_id());
        assert_eq!(new.request_id().created_at(), Some(now));
        assert_eq!(new.created_at(), now);
        assert_eq!(
            (new.endpoint(), new.uid(), new.coins()),
            (old.endpoint(), old.uid(), old.coins())
        );
        assert_eq!(new.expiration(), old.expiration());
    }
}
