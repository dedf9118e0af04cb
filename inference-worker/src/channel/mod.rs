//! Inference channels off chain (`docs/channels.md`; the chain's half is `pallet-channels`):
//! a developer's gateway sends signed requests to the members of its channel's committee,
//! which stream the completion and sign a receipt; the gateway checks each receipt and
//! signs a cumulative voucher; each member settles once on chain.
//!
//! - [`prompt`]: a request's prompt (a chat conversation), its salted hash and its byte
//!   count;
//! - [`executor`]: a member's book of a channel: the acceptance rules, receipts, vouchers
//!   checked against its own receipts, its settlement;
//! - [`developer`]: the gateway's book of a channel: nonces, receipts checked, vouchers;
//! - [`validator`]: what a validator checks of a sample's payload, and its book of the
//!   samples it was drawn for, by verdict period;
//! - [`misses`]: an executor's book of the samples its settlements' validators were drawn
//!   for, and the reports of those that answered none of a period's;
//! - [`log`]: their journals, append-only and synced record by record.

pub mod developer;
pub mod executor;
pub mod log;
pub mod misses;
pub mod prompt;
pub mod validator;
