//! The wire protocol: the bounded namespace-aware XML reader and writer ([`xml`]), SOAP
//! envelopes ([`soap`]), the faults they carry ([`fault`]), the one log line per
//! request ([`reqlog`], written through [`logwriter`]), and the resource bounds against
//! clients who never finish ([`guard`]). The listener and the HTTP edge that use them
//! (and dispatch to [`crate::ops`]) are the layer above, [`crate::server`].

pub mod fault;
pub mod guard;
pub mod logwriter;
pub mod reqlog;
pub mod soap;
pub mod xml;
