//! The `allps-ws` binary: parses the command line and runs the subcommand.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator (for the server binary only). See Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use allps_ws::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => allps_ws::cli::serve(*args),
        Command::Process(args) => allps_ws::cli::process(*args),
        Command::Admin(args) => allps_ws::cli::admin::run(args),
        Command::Replay(args) => match allps_ws::cli::replay::run(args) {
            // The report (cases, diffs, summary) is already printed; the status says
            // whether cases differed (1) or the server could not be reached (2).
            Ok(status) => return ExitCode::from(status),
            Err(message) => {
                eprintln!("allps-ws: {message}");
                return ExitCode::from(allps_ws::cli::replay::EXIT_TRANSPORT);
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("allps-ws: {message}");
            ExitCode::FAILURE
        }
    }
}
