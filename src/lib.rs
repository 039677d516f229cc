//! allps-ws
pub mod calendar;
pub mod cdv;
pub mod document;
