//! The wire: everything that knows HTTP, SOAP or XML. The listener ([`server`]), the
//! HTTP edge ([`http`]), the bounded namespace-aware XML reader and writer ([`xml`]),
//! SOAP envelopes ([`soap`]), the faults they carry ([`fault`]), and the one log line
//! per request ([`reqlog`], written through [`logwriter`]); [`record`] writes calls as
//! fixture cases for `serve --record`.

pub mod fault;
pub mod http;
pub mod logwriter;
pub mod record;
pub mod reqlog;
pub mod server;
pub mod soap;
pub mod xml;
