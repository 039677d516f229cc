//! The engine: work done after a request has been answered. The durable job queue
//! ([`jobs`]), the [`processor`] that runs due jobs, the one [`gateway`] to the outside
//! world (with its deterministic simulator), and the payout configuration ([`payouts`])
//! that governs them.

pub mod gateway;
pub mod jobs;
pub mod payouts;
pub mod processor;
