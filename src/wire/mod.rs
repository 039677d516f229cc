//! The wire: everything that knows HTTP, SOAP or XML. The listener ([`server`]), the
//! HTTP edge ([`http`]), the bounded namespace-aware XML reader and writer ([`xml`]),
//! SOAP envelopes ([`soap`]), the faults they carry ([`fault`]), and the one log line
//! per request ([`reqlog`], written through [`logwriter`]), and the resource bounds
//! against clients who never finish ([`guard`]).

pub mod fault;
pub mod guard;
pub mod http;
pub mod logwriter;
pub mod reqlog;
pub mod server;
pub mod soap;
pub mod xml;
