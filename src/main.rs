//! The `allps-ws` binary: parses the command line and runs the subcommand.

use clap::Parser;

use allps_ws::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => allps_ws::cli::serve(args),
        Command::Process(args) => allps_ws::cli::process(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("allps-ws: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
