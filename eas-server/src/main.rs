//! `eas-server`: the Exchange ActiveSync server and its administration tools.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser as _;
use eas_server::cli;

/// mimalloc rather than glibc's allocator: a request allocates many small
/// blocks and frees them together, which glibc answers with costly
/// consolidation passes (measured in BENCHMARKS.md, WBXML decoding).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
