//! allps-ws: a SOAP 1.1 / 1.2 server mirroring the Allps-i web services (Intecon /
//! Amplifin) that micro-lenders' debtor-management systems call to register employers,
//! clients, promissory notes, accounts, payouts, wallets and cards.
//!
//! The folders are the layers. A request travels: [`server`] (TCP, hyper, the HTTP edge)
//! → [`wire`] (the bounded XML reader, SOAP envelopes and faults) → [`ops`] (one file per operation: decode, the
//! handler, encode; [`auth`] first) → [`domain`] (business rules: calendar, CDV, IDs,
//! money, schedules; no wire, no store) → [`store`] (every SQL statement). Work done
//! later runs in [`engine`] (jobs, processor, gateway); printable documents in
//! [`documents`]; the command line (serve, admin, replay, process) in [`cli`]. See
//! ARCHITECTURE.md.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod console;
pub mod documents;
pub mod domain;
pub mod engine;
pub mod metrics;
pub mod ops;
pub mod server;
pub mod store;
pub mod testing;
pub mod wire;
