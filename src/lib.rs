//! allps-ws: a SOAP 1.1 / 1.2 server mirroring the Allps-i web services (Intecon /
//! Amplifin) that micro-lenders' debtor-management systems call to register employers,
//! clients, promissory notes, accounts, payouts, wallets and cards.
//!
//! A request travels: [`server`] (TCP, hyper) → [`http::handle`] (method, path, body
//! bounds, WSDL) → [`soap::parse_envelope`] (namespace-aware, bounded [`xml`]) →
//! [`ops::dispatch`] → [`auth`] and the operation's handler inside one transaction of
//! the [`store`] → the response or fault envelope. Business rules live in [`domain`],
//! [`calendar`] and [`cdv`]; printable documents in [`document`]. See ARCHITECTURE.md.

pub mod admin_cli;
pub mod app;
pub mod auth;
pub mod calendar;
pub mod cdv;
pub mod cli;
pub mod clock;
pub mod document;
pub mod domain;
pub mod error;
pub mod gateway;
pub mod http;
pub mod jobs;
pub mod logwriter;
pub mod mask;
pub mod ops;
pub mod payouts;
pub mod processor;
pub mod replay;
pub mod reqlog;
pub mod server;
pub mod soap;
pub mod store;
pub mod testing;
pub mod xml;
