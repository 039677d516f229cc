//! The `allps-ws` binary: parses the command line and runs the subcommand.

use clap::Parser;

/// mimalloc instead of the system allocator (for the server binary only). See Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use allps_ws::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => allps_ws::cli::serve(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("allps-ws: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
