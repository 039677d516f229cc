//! allps-ws

pub mod document;
