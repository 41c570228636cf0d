//! The command line of the directory: `cert publish`, `trust add|list`,
//! `directory import`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use clap::Subcommand;

use crate::admin::{self, Reply, Request};
use crate::cli::done;

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Publish the certificates of FILE (PEM, DER, PKCS#7 certs-only or an
    /// Outlook blob) for NAME (a user, a directory entry or an address):
    /// ResolveRecipients returns those that are valid.
    Publish { name: String, file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Trust the CA certificates of FILE: self-signed ones as roots, the
    /// others as intermediates.
    Add { file: PathBuf },
    /// List the trust anchors and intermediates.
    List,
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Import people (entries with mail) and groups (groupOfNames) from an
    /// LDIF file, with their userSMIMECertificate and userCertificate.
    Import { file: PathBuf },
}

fn read_b64(file: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

pub fn cert(data: &Path, cmd: CertCommand) -> anyhow::Result<()> {
    match cmd {
        CertCommand::Publish { name, file } => done(admin::call(
            data,
            Request::CertPublish {
                name,
                data: read_b64(&file)?,
            },
        )?),
    }
}

pub fn trust(data: &Path, cmd: TrustCommand) -> anyhow::Result<()> {
    match cmd {
        TrustCommand::Add { file } => done(admin::call(
            data,
            Request::TrustAdd {
                data: read_b64(&file)?,
            },
        )?),
        TrustCommand::List => match admin::call(data, Request::TrustList)? {
            Reply::Trusted(list) if list.is_empty() => {
                println!(
                    "no trust anchors: add a root with `eas-server --data {} trust add ROOT.pem`",
                    data.display()
                );
                Ok(())
            }
            Reply::Trusted(list) => {
                println!("{:<12} {:<10} {:<64} subject", "kind", "until", "sha256");
                for t in list {
                    let kind = if t.anchor { "anchor" } else { "intermediate" };
                    let origin = if t.from_config { " (trust_dir)" } else { "" };
                    println!(
                        "{:<12} {:<10} {:<64} {}{origin}",
                        kind,
                        crate::time::date(t.not_after),
                        t.fingerprint,
                        t.subject
                    );
                }
                Ok(())
            }
            other => done(other),
        },
    }
}

pub fn directory(data: &Path, cmd: DirectoryCommand) -> anyhow::Result<()> {
    match cmd {
        DirectoryCommand::Import { file } => {
            let ldif = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            done(admin::call(data, Request::DirectoryImport { ldif })?)
        }
    }
}
