//! The command line: one binary, subcommands as ../shared/DESIGN.md lists them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::wbxml_tool;

/// An Exchange ActiveSync server: mail, calendar, contacts and S/MIME
/// certificates for phones, over HTTPS.
#[derive(Debug, Parser)]
#[command(name = "eas-server", version, propagate_version = true)]
pub(crate) struct Cli {
    /// The data directory: the store, the TLS certificate, traces.
    #[arg(long, global = true, value_name = "DIR", default_value = "./eas-data")]
    pub(crate) data: PathBuf,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Convert captured ActiveSync traffic between WBXML and readable XML.
    #[command(subcommand)]
    Wbxml(wbxml_tool::WbxmlCommand),
}

pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Wbxml(cmd) => wbxml_tool::run(cmd),
    }
}
