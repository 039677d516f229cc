//! allps-ws
