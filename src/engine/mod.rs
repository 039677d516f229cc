//! The engine: work done after a request has been answered. The [`processor`] that
//! runs the due jobs of the durable queue ([`crate::store::jobs`]), the one [`gateway`]
//! to the outside world (with its deterministic simulator), the payout configuration
//! ([`payouts`]) that governs them, the step logic of instalment collections
//! ([`collections`]) and the collection engine's durable jobs ([`collection_jobs`]).

pub mod collection_jobs;
pub mod collections;
pub mod gateway;
pub mod mandate_jobs;
pub mod payouts;
pub mod processor;
