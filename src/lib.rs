//! allps-ws
pub mod cdv;
