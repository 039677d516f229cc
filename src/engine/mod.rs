//! The engine: work done after a request has been answered. The [`processor`] that
//! runs the due jobs of the durable queue ([`crate::store::jobs`]), the one [`gateway`]
//! to the outside world (with its deterministic simulator), the payout configuration
//! ([`payouts`]) that governs them, and the step logic of instalment collections
//! ([`collections`]).

pub mod collections;
pub mod gateway;
pub mod payouts;
pub mod processor;
