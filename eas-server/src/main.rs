//! `eas-server`: the Exchange ActiveSync server and its administration tools.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser as _;
use eas_server::cli;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("eas-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}
