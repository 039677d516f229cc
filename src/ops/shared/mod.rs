//! What several operations share, so that no operation imports another: the promissory
//! note lookups and instalment writing ([`promissory`]), the payment and wallet lookups
//! ([`payouts`]) and the `Document` element of the printing operations ([`document`]).
//! Business rules without wire or store live in `domain` instead.

pub mod document;
pub mod payouts;
pub mod promissory;
