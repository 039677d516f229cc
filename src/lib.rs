//! allps-ws
pub mod calendar;
