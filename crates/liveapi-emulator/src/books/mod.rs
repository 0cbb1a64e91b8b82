//! The books the emulator keeps: each LinkV app's ledger (users, coins, orders, idempotency
//! records, the journal) and each Polyv account's donate settings. Pure bookkeeping: no HTTP,
//! no IO, no clock of their own; the handlers lock them, and `persistence` makes them durable.

pub(crate) mod donate;
pub(crate) mod ledger;
