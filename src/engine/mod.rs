//! The engine: work done after a request has been answered. The [`processor`] that
//! runs the due jobs of the durable queue ([`crate::store::jobs`]), the one [`gateway`] to the outside
//! world (with its deterministic simulator), and the payout configuration ([`payouts`])
//! that governs them.

pub mod gateway;
pub mod payouts;
pub mod processor;
