//! The command line: one binary, subcommands as ../shared/DESIGN.md lists them.

use std::io::{BufRead as _, IsTerminal as _};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};

use crate::admin::{self, Reply, Request};
use crate::auth::{self, Password};
use crate::store::Access;
use crate::{serve, time, wbxml_tool};

/// An Exchange ActiveSync server: mail, push and S/MIME certificates for
/// phones, over HTTPS. (Calendar, contacts, tasks and notes folders are
/// listed; their items are not served yet.)
#[derive(Debug, Parser)]
#[command(name = "eas-server", version, propagate_version = true)]
pub struct Cli {
    /// The data directory: the store, the TLS certificate, traces.
    #[arg(long, global = true, value_name = "DIR", default_value = "./eas-data")]
    pub data: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    ///
    /// It stops on SIGTERM or Ctrl-C, answering held Pings and finishing
    /// requests and LMTP deliveries in flight first. If the store cannot
    /// write its file (a full or failing disk) it stops the same way and
    /// exits with status 1: everything acknowledged is on disk, and
    /// starting it again (systemd's Restart=on-failure) recovers.
    Serve(ServeArgs),
    /// Add, list, change or remove users.
    #[command(subcommand)]
    User(UserCommand),
    /// List devices, wipe them, allow or block them.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Record every request and response of a user or device, decoded.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Convert captured ActiveSync traffic between WBXML and readable XML.
    #[command(subcommand)]
    Wbxml(wbxml_tool::WbxmlCommand),
    /// Import mail into a user's folder: .eml files, mbox files, Maildir
    /// directories, and directories of them. Every message is stored byte
    /// for byte as the file holds it.
    Import(ImportArgs),
    /// Look into users' mailboxes.
    #[command(subcommand)]
    Mailbox(MailboxCommand),
    /// The outbound queue: list, retry or remove messages waiting to go out.
    #[command(subcommand)]
    Queue(crate::mail::queue_cli::QueueCommand),
    /// Publish S/MIME certificates for a user or directory entry.
    #[command(subcommand)]
    Cert(crate::directory::cli::CertCommand),
    /// The trust anchors and intermediates S/MIME certificates are
    /// validated against.
    #[command(subcommand)]
    Trust(crate::directory::cli::TrustCommand),
    /// The embedded directory: import people and groups from LDIF.
    #[command(subcommand)]
    Directory(crate::directory::cli::DirectoryCommand),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The user whose mailbox receives the mail.
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// The folder, by id or name [default: Inbox].
    #[arg(long, value_name = "NAME|ID")]
    pub folder: Option<String>,
    /// How mbox files quote body lines that start with "From ": mboxrd takes
    /// one '>' off every ">From ", ">>From ", ... line; mboxo only off ">From ".
    #[arg(long, value_enum, default_value_t, value_name = "FORMAT")]
    pub mbox_format: crate::mail::import::MboxFormat,
    /// .eml or mbox files, Maildir directories (cur/ and new/), or
    /// directories holding .eml and .mbox files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// List a user's messages: id, folder, read, size, the SHA-256 of the
    /// MIME as stored, subject.
    List {
        name: String,
        /// Only this folder, by id or name.
        #[arg(long, value_name = "NAME|ID")]
        folder: Option<String>,
    },
    /// Write one message's MIME, exactly as stored, to standard output.
    Show { name: String, id: u64 },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8443, or the config's].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Plain HTTP, for running behind a proxy that terminates TLS.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub http: bool,
    /// The TLS certificate chain (PEM); without it a self-signed one is made
    /// in the data directory.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Fill an empty data directory with demo users (passwords printed) and
    /// a few hundred messages, S/MIME ones among them.
    #[arg(long)]
    pub demo: bool,
    /// A configuration file (TOML); see config.example.toml for every key.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also accept mail over LMTP on this address (e.g. 127.0.0.1:2424), for
    /// an MTA to deliver into users' Inboxes [default: the config's, or off].
    #[arg(long, value_name = "ADDR")]
    pub lmtp: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        /// The login name: lower-case letters, digits, '.', '_', '-'.
        name: String,
        /// The user's e-mail address, also accepted as a login.
        #[arg(long)]
        email: String,
        /// The name shown in clients [default: NAME].
        #[arg(long)]
        display_name: Option<String>,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// List users.
    List,
    /// Change a user's password.
    Passwd {
        name: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Remove a user and everything the user owns.
    Remove { name: String },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct PasswordArgs {
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// The password on the command line (visible to other local users; prefer --password-stdin).
    #[arg(long, value_name = "P")]
    pub password: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// List the devices of one user, or of everyone.
    List { name: Option<String> },
    /// Erase a device at its next connection (Provision RemoteWipe).
    Wipe {
        name: String,
        device: String,
        /// Erase only this account's data (16.1 clients; older ones are blocked instead).
        #[arg(long)]
        account_only: bool,
    },
    /// Let a device sync (also cancels a wipe that was not carried out).
    Allow { name: String, device: String },
    /// Stop a device from syncing.
    Block { name: String, device: String },
    /// Send a device the items loop protection held back from it (and
    /// forget that it looked like a cloned installation).
    Release { name: String, device: String },
}

#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Start tracing a user, or one of the user's devices.
    On {
        name: String,
        device: Option<String>,
    },
    /// Stop tracing.
    Off {
        name: String,
        device: Option<String>,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let data = cli.data;
    match cli.command {
        Command::Serve(args) => serve::run(&data, args),
        Command::Wbxml(cmd) => wbxml_tool::run(cmd),
        Command::User(cmd) => user(&data, cmd),
        Command::Device(cmd) => device(&data, cmd),
        Command::Import(args) => import(&data, args),
        Command::Mailbox(cmd) => mailbox(&data, cmd),
        Command::Queue(cmd) => crate::mail::queue_cli::run(&data, cmd),
        Command::Cert(cmd) => crate::directory::cli::cert(&data, cmd),
        Command::Trust(cmd) => crate::directory::cli::trust(&data, cmd),
        Command::Directory(cmd) => crate::directory::cli::directory(&data, cmd),
        Command::Trace(cmd) => {
            let (name, device, on) = match cmd {
                TraceCommand::On { name, device } => (name, device, true),
                TraceCommand::Off { name, device } => (name, device, false),
            };
            if on {
                let where_ = data.join("traces").join(&name);
                eprintln!("traces go to {}/DEVICE/YYYY-MM-DD.log", where_.display());
            }
            done(admin::call(
                &data,
                Request::Trace {
                    account: name,
                    device,
                    on,
                },
            )?)
        }
    }
}

fn read_password(args: PasswordArgs) -> anyhow::Result<Password> {
    let password = match (args.password, args.password_stdin) {
        (Some(p), _) => p,
        (None, true) => {
            if std::io::stdin().is_terminal() {
                eprint!("password: ");
            }
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
        (None, false) => bail!("give --password-stdin or --password"),
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(Password::new(password))
}

pub(crate) fn done(reply: Reply) -> anyhow::Result<()> {
    match reply {
        Reply::Done(msg) => {
            println!("{msg}");
            Ok(())
        }
        Reply::Error(msg) => bail!(msg),
        other => bail!("unexpected reply {other:?}"),
    }
}

fn user(data: &std::path::Path, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            name,
            email,
            display_name,
            password,
        } => {
            // Checked before the slow hash, so a typo fails at once.
            admin::valid_account_name(&name)?;
            admin::valid_email(&email)?;
            let password_hash = auth::hash_password(&read_password(password)?)?;
            let display_name = display_name.unwrap_or_else(|| name.clone());
            done(admin::call(
                data,
                Request::UserAdd {
                    name,
                    email,
                    display_name,
                    password_hash,
                },
            )?)
        }
        UserCommand::List => match admin::call(data, Request::UserList)? {
            Reply::Users(users) if users.is_empty() => {
                println!(
                    "no users yet: add one with `eas-server --data {} user add NAME --email ADDR --password-stdin`",
                    data.display()
                );
                Ok(())
            }
            Reply::Users(users) => {
                println!(
                    "{:<20} {:<32} {:<24} created",
                    "name", "email", "display name"
                );
                for u in users {
                    println!(
                        "{:<20} {:<32} {:<24} {}",
                        u.name,
                        u.email,
                        u.display_name,
                        time::date(u.created)
                    );
                }
                Ok(())
            }
            other => done(other),
        },
        UserCommand::Passwd { name, password } => {
            let password_hash = auth::hash_password(&read_password(password)?)?;
            done(admin::call(
                data,
                Request::UserPasswd {
                    name,
                    password_hash,
                },
            )?)
        }
        UserCommand::Remove { name } => done(admin::call(data, Request::UserRemove { name })?),
    }
}

fn device(data: &std::path::Path, cmd: DeviceCommand) -> anyhow::Result<()> {
    match cmd {
        DeviceCommand::List { name } => {
            match admin::call(data, Request::DeviceList { account: name })? {
                Reply::Devices(devices) if devices.is_empty() => {
                    println!("no devices");
                    Ok(())
                }
                Reply::Devices(devices) => {
                    println!(
                        "{:<14} {:<34} {:<14} {:<6} {:<12} {:<20} last seen",
                        "user", "device", "type", "proto", "access", "model"
                    );
                    for d in devices {
                        let mut access = format!("{:?}", d.access);
                        if let Some(w) = &d.wipe {
                            access = match w.acknowledged {
                                Some((_, status)) => format!("wiped({status})"),
                                None => "wipe-pending".into(),
                            };
                        }
                        let mut provisioned = if d.policy.key.is_some() {
                            String::new()
                        } else {
                            " (not provisioned)".to_owned()
                        };
                        if !d.held.is_empty() {
                            provisioned.push_str(&format!(" ({} held back)", d.held.len()));
                        }
                        if d.suspected_clone {
                            provisioned.push_str(" (sync keys went backwards: two installations?)");
                        }
                        println!(
                            "{:<14} {:<34} {:<14} {:<6} {:<12} {:<20} {}{provisioned}",
                            d.account,
                            d.device_id,
                            d.device_type,
                            d.protocol_version,
                            access,
                            d.info.get("Model").map_or("", String::as_str),
                            time::rfc3339(d.last_seen)
                        );
                    }
                    Ok(())
                }
                other => done(other),
            }
        }
        DeviceCommand::Wipe {
            name,
            device,
            account_only,
        } => done(admin::call(
            data,
            Request::DeviceWipe {
                account: name,
                device,
                account_only,
            },
        )?),
        DeviceCommand::Allow { name, device } => done(admin::call(
            data,
            Request::DeviceAccess {
                account: name,
                device,
                access: Access::Allowed,
            },
        )?),
        DeviceCommand::Block { name, device } => done(admin::call(
            data,
            Request::DeviceAccess {
                account: name,
                device,
                access: Access::Blocked,
            },
        )?),
        DeviceCommand::Release { name, device } => done(admin::call(
            data,
            Request::DeviceRelease {
                account: name,
                device,
            },
        )?),
    }
}

fn import(data: &std::path::Path, args: ImportArgs) -> anyhow::Result<()> {
    use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
    // The server reads the files itself: it needs whole paths.
    let mut paths = Vec::new();
    let mut missing = Vec::new();
    for path in &args.paths {
        match std::fs::canonicalize(path) {
            Ok(p) => paths.push(p),
            Err(e) => missing.push(format!("{}: {e}", path.display())),
        }
    }
    if !missing.is_empty() {
        bail!("nothing imported: {}", missing.join("; "));
    }
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let job = crate::mail::import::ImportJob {
        account: args.user,
        folder: args.folder,
        paths,
        mbox_format: args.mbox_format,
    };
    let reply = admin::call_with_progress(data, Request::Import(job), &mut |p| match p {
        crate::mail::import::ImportProgress::Started { files, bytes } => {
            bar.set_length(bytes);
            bar.set_message(format!("{files} files"));
        }
        crate::mail::import::ImportProgress::Stored {
            messages,
            bytes_read,
            file,
        } => {
            bar.set_position(bytes_read);
            let name = std::path::Path::new(&file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            bar.set_message(format!("{messages} messages, {name}"));
        }
    });
    bar.finish_and_clear();
    let report = match reply? {
        Reply::Imported(report) => report,
        other => return done(other),
    };
    let secs = report.elapsed_ms as f64 / 1000.0;
    let rate = if secs > 0.0 {
        report.messages as f64 / secs
    } else {
        report.messages as f64
    };
    println!(
        "imported {} messages ({}) into {}'s {} in {secs:.2} s ({rate:.0} messages/s)",
        report.messages,
        HumanBytes(report.bytes),
        report.account,
        report.folder
    );
    if !report.skipped.is_empty() {
        println!("skipped {}:", report.skipped.len());
        for s in &report.skipped {
            println!("  {}: {}", s.path, s.reason);
        }
    }
    if let Some(failure) = report.failure {
        println!("not imported (the import stopped):");
        for line in &failure.not_imported {
            println!("  {line}");
        }
        if failure.more_not_imported > 0 {
            println!("  and {} more files", failure.more_not_imported);
        }
        bail!(
            "the import stopped: {}; the {} messages counted above are stored",
            failure.error,
            report.messages
        );
    }
    Ok(())
}

fn mailbox(data: &std::path::Path, cmd: MailboxCommand) -> anyhow::Result<()> {
    match cmd {
        MailboxCommand::List { name, folder } => {
            match admin::call(
                data,
                Request::MailboxList {
                    account: name,
                    folder,
                },
            )? {
                Reply::Items(items) => {
                    use std::io::Write as _;
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    let write = || -> std::io::Result<()> {
                        writeln!(
                            out,
                            "{:>8} {:>6} {:<4} {:>10} {:<20} {:<64} subject",
                            "id", "folder", "read", "size", "received", "sha256"
                        )?;
                        for i in items {
                            writeln!(
                                out,
                                "{:>8} {:>6} {:<4} {:>10} {:<20} {:<64} {}",
                                i.id,
                                i.folder,
                                if i.read { "yes" } else { "no" },
                                i.size,
                                time::rfc3339(i.received),
                                i.sha256,
                                i.subject.replace(['\r', '\n'], " ")
                            )?;
                        }
                        out.flush()
                    };
                    match write() {
                        // `| head` stops reading: not an error.
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                        other => Ok(other?),
                    }
                }
                other => done(other),
            }
        }
        MailboxCommand::Show { name, id } => {
            use base64::Engine as _;
            use std::io::Write as _;
            match admin::call(data, Request::MailboxShow { account: name, id })? {
                Reply::Mime(b64) => {
                    let mime = base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .context("the server's reply")?;
                    let mut out = std::io::stdout().lock();
                    out.write_all(&mime)?;
                    out.flush()?;
                    Ok(())
                }
                other => done(other),
            }
        }
    }
}
