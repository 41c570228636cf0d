//! Administration: one set of operations, run either inside the server
//! (reached through its admin socket, so the running server's caches stay
//! right) or directly on the store when no server runs. The user never has
//! to care which (DESIGN.md, Storage).
//!
//! The socket speaks one JSON request and one JSON reply per connection;
//! before its reply, an import sends progress lines (`{"progress": ...}`)
//! that the command line shows as it goes. Passwords never cross it: the
//! command line hashes them first.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::UnixListener;

use crate::mail::import::{self, ImportJob, ImportProgress, ImportReport};
use crate::state::AppState;
use crate::store::{Access, Account, Device, RedbStore, Store, StoreError, WipeKind, WipeState};
use crate::time;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    UserAdd {
        name: String,
        email: String,
        display_name: String,
        password_hash: String,
    },
    UserList,
    UserPasswd {
        name: String,
        password_hash: String,
    },
    UserRemove {
        name: String,
    },
    DeviceList {
        account: Option<String>,
    },
    DeviceWipe {
        account: String,
        device: String,
        account_only: bool,
    },
    /// Sends a device the items loop protection held back, and clears the
    /// flag of a suspected clone.
    DeviceRelease {
        account: String,
        device: String,
    },
    DeviceAccess {
        account: String,
        device: String,
        access: Access,
    },
    Trace {
        account: String,
        device: Option<String>,
        on: bool,
    },
    /// Import mail files the server reads itself (same machine).
    Import(ImportJob),
    /// The messages of a user, or of one folder (an id or a name).
    MailboxList {
        account: String,
        folder: Option<String>,
    },
    /// One message's MIME as stored.
    MailboxShow {
        account: String,
        id: u64,
    },
    /// The outbound queue.
    QueueList,
    /// Makes one queued message, or all, due now.
    QueueRetry {
        id: Option<u64>,
    },
    QueueRemove {
        id: u64,
    },
    /// Certificates (base64 of the file) for a user's or entry's
    /// userSMIMECertificate.
    CertPublish {
        name: String,
        data: String,
    },
    /// CA certificates (base64 of the file) to trust for S/MIME.
    TrustAdd {
        data: String,
    },
    TrustList,
    /// LDIF text: people and groups for the embedded directory.
    DirectoryImport {
        ldif: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Done(String),
    Users(Vec<UserSummary>),
    Devices(Vec<Device>),
    Error(String),
    /// Not a reply: sent while an import runs, before its reply.
    Progress(ImportProgress),
    Imported(ImportReport),
    Items(Vec<ItemListing>),
    /// Raw MIME, base64.
    Mime(String),
    Queue(Vec<crate::mail::queue_cli::QueueListing>),
    Trusted(Vec<crate::directory::admin::TrustedSummary>),
}

/// A message as `mailbox list` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemListing {
    pub id: u64,
    pub folder: u32,
    pub read: bool,
    pub size: u64,
    pub received: u64,
    /// Hex SHA-256 of the MIME as read back from the store.
    pub sha256: String,
    pub subject: String,
}

/// An account as `user list` shows it: never its password hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserSummary {
    pub name: String,
    pub email: String,
    pub display_name: String,
    pub created: u64,
}

/// The longest request line the socket reads (only the data directory's
/// owner can connect).
const MAX_REQUEST_BYTES: u64 = 64 << 20;

pub fn socket_path(data: &Path) -> PathBuf {
    data.join("admin.sock")
}

/// A login name: lower-case letters, digits, `.`, `_`, `-`; it names
/// directories (traces), so nothing else.
pub fn valid_account_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if !ok {
        bail!(
            "{name:?} is not a valid user name: use 1 to 64 lower-case letters, digits, '.', '_' or '-', not starting with '.'"
        );
    }
    Ok(())
}

pub fn valid_email(email: &str) -> anyhow::Result<()> {
    let ok = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if !ok {
        bail!("{email:?} is not an e-mail address like alice@example.com");
    }
    Ok(())
}

/// Runs one request against a store. `state` is the running server's, when
/// there is one, so that its caches follow the change.
pub fn execute(store: &dyn Store, state: Option<&AppState>, request: Request) -> Reply {
    execute_streaming(store, state, request, &mut |_| true)
}

/// Like [`execute`], telling `progress` how a long request goes; it
/// returns false to stop the request.
pub fn execute_streaming(
    store: &dyn Store,
    state: Option<&AppState>,
    request: Request,
    progress: &mut dyn FnMut(ImportProgress) -> bool,
) -> Reply {
    match run(store, state, request, progress) {
        Ok(reply) => reply,
        Err(e) => Reply::Error(format!("{e:#}")),
    }
}

fn run(
    store: &dyn Store,
    state: Option<&AppState>,
    request: Request,
    progress: &mut dyn FnMut(ImportProgress) -> bool,
) -> anyhow::Result<Reply> {
    Ok(match request {
        Request::UserAdd {
            name,
            email,
            display_name,
            password_hash,
        } => {
            valid_account_name(&name)?;
            let email = email.to_lowercase();
            valid_email(&email)?;
            store.create_account(&Account {
                name: name.clone(),
                email,
                display_name,
                password_hash,
                created: time::now(),
                oof: Default::default(),
            })?;
            Reply::Done(format!("added user {name}"))
        }
        Request::UserList => Reply::Users(
            store
                .list_accounts()?
                .into_iter()
                .map(|a| UserSummary {
                    name: a.name,
                    email: a.email,
                    display_name: a.display_name,
                    created: a.created,
                })
                .collect(),
        ),
        Request::UserPasswd {
            name,
            password_hash,
        } => {
            let mut account = store
                .account(&name)?
                .ok_or_else(|| StoreError::NotFound(format!("user {name}")))?;
            account.password_hash = password_hash;
            store.update_account(&account)?;
            if let Some(state) = state {
                state.logins.forget(&name);
            }
            Reply::Done(format!("changed the password of {name}"))
        }
        Request::UserRemove { name } => {
            store.delete_account(&name).map_err(|e| match e {
                StoreError::NotFound(_) => anyhow::anyhow!("there is no user {name}"),
                other => other.into(),
            })?;
            if let Some(state) = state {
                state.logins.forget(&name);
                state.traces.set(&name, None, false);
            }
            Reply::Done(format!("removed user {name} and everything it owned"))
        }
        Request::DeviceList { account } => Reply::Devices(store.list_devices(account.as_deref())?),
        Request::DeviceWipe {
            account,
            device,
            account_only,
        } => {
            let mut d = find_device(store, &account, &device)?;
            d.wipe = Some(WipeState {
                kind: if account_only {
                    WipeKind::AccountOnly
                } else {
                    WipeKind::Full
                },
                requested: time::now(),
                acknowledged: None,
            });
            store.put_device(&d)?;
            let what = if account_only {
                "an account-only wipe"
            } else {
                "a remote wipe"
            };
            Reply::Done(format!(
                "{what} of {device} ({account}) is queued: it happens at the device's next request"
            ))
        }
        Request::DeviceAccess {
            account,
            device,
            access,
        } => {
            let mut d = find_device(store, &account, &device)?;
            d.access = access;
            d.access_by_admin = true;
            if access == Access::Allowed {
                // Allowing a device again also withdraws a wipe.
                d.wipe = None;
            }
            store.put_device(&d)?;
            Reply::Done(format!("{device} ({account}) is now {access:?}"))
        }
        Request::DeviceRelease { account, device } => {
            let mut d = find_device(store, &account, &device)?;
            let held = std::mem::take(&mut d.held);
            for h in &held {
                if let Some(mut state) = store.collection_state(&account, &device, h.folder)? {
                    state.deferred.push(crate::store::SentOp::Add(h.item));
                    store.put_collection_state(
                        &account,
                        &device,
                        h.folder,
                        &state,
                        crate::store::KnownUpdate::default(),
                    )?;
                }
            }
            d.suspected_clone = false;
            store.put_device(&d)?;
            Reply::Done(format!(
                "{} held item(s) of {device} ({account}) go out at its next sync",
                held.len()
            ))
        }
        Request::Trace {
            account,
            device,
            on,
        } => {
            store.set_trace(&account, device.as_deref(), on)?;
            if let Some(state) = state {
                state.traces.set(&account, device.as_deref(), on);
            }
            let whom = device.map_or_else(
                || format!("every device of {account}"),
                |d| format!("{d} ({account})"),
            );
            Reply::Done(format!(
                "tracing {} for {whom}",
                if on { "on" } else { "off" }
            ))
        }
        Request::Import(job) => {
            let report = import::import(store, state.map(|s| &s.hub), &job, progress)?;
            match &report.failure {
                None => tracing::info!(
                    account = report.account,
                    folder = report.folder,
                    "import: {} messages stored",
                    report.messages
                ),
                Some(f) => tracing::warn!(
                    account = report.account,
                    folder = report.folder,
                    "import stopped after {} messages: {}; not imported: {}",
                    report.messages,
                    f.error,
                    f.not_imported.join(", ")
                ),
            }
            Reply::Imported(report)
        }
        Request::MailboxList { account, folder } => {
            let folders = match folder {
                Some(spec) => vec![import::resolve_folder(store, &account, Some(&spec))?],
                None => {
                    if store.account(&account)?.is_none() {
                        bail!("there is no user {account}");
                    }
                    store.folders(&account)?
                }
            };
            let mut items = Vec::new();
            for folder in folders {
                for item in store.folder_items(&account, folder.id)? {
                    let mime = store.item_mime(&account, item.id)?.unwrap_or_default();
                    items.push(ItemListing {
                        id: item.id,
                        folder: item.folder,
                        read: item.read,
                        size: item.size,
                        received: item.received,
                        sha256: sha256_hex(&mime),
                        subject: item.summary.subject,
                    });
                }
            }
            Reply::Items(items)
        }
        Request::CertPublish { name, data } => Reply::Done(crate::directory::admin::publish(
            store, state, &name, &data,
        )?),
        Request::TrustAdd { data } => {
            Reply::Done(crate::directory::admin::trust_add(store, state, &data)?)
        }
        Request::TrustList => Reply::Trusted(crate::directory::admin::trust_list(store, state)?),
        Request::DirectoryImport { ldif } => {
            Reply::Done(crate::directory::admin::import_ldif(store, state, &ldif)?)
        }
        Request::QueueList => crate::mail::queue_cli::list(store)?,
        Request::QueueRetry { id } => crate::mail::queue_cli::retry(store, state, id)?,
        Request::QueueRemove { id } => crate::mail::queue_cli::remove(store, id)?,
        Request::MailboxShow { account, id } => {
            use base64::Engine as _;
            let mime = store
                .item_mime(&account, id)?
                .ok_or_else(|| anyhow::anyhow!("user {account} has no message {id}"))?;
            Reply::Mime(base64::engine::general_purpose::STANDARD.encode(mime))
        }
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn find_device(store: &dyn Store, account: &str, device: &str) -> anyhow::Result<Device> {
    store.device(account, device)?.ok_or_else(|| {
        anyhow::anyhow!(
            "user {account} has no device {device} (see `eas-server device list {account}`)"
        )
    })
}

/// Sends a request to the running server, or runs it on the store directly
/// when no server runs.
pub fn call(data: &Path, request: Request) -> anyhow::Result<Reply> {
    call_with_progress(data, request, &mut |_| {})
}

/// Like [`call`], passing the progress of a long request to `progress`.
pub fn call_with_progress(
    data: &Path,
    request: Request,
    progress: &mut dyn FnMut(ImportProgress),
) -> anyhow::Result<Reply> {
    let socket = socket_path(data);
    match std::os::unix::net::UnixStream::connect(&socket) {
        Ok(stream) => call_socket(stream, &request, progress),
        Err(_) => {
            crate::serve::create_private_dir(data)?;
            let path = data.join("eas.redb");
            let store = RedbStore::open(&path).map_err(|e| match e {
                StoreError::Locked => anyhow::anyhow!(
                    "the store {} is in use, but the server's admin socket {} does not answer; is another eas-server running with this data directory?",
                    path.display(),
                    socket.display()
                ),
                other => anyhow::Error::from(other).context(format!("opening {}", path.display())),
            })?;
            Ok(execute_streaming(&store, None, request, &mut |p| {
                progress(p);
                true
            }))
        }
    }
}

fn call_socket(
    mut stream: std::os::unix::net::UnixStream,
    request: &Request,
    progress: &mut dyn FnMut(ImportProgress),
) -> anyhow::Result<Reply> {
    use std::io::{BufRead as _, Write as _};
    let mut line = serde_json::to_string(request)?;
    line.push('\n');
    stream
        .write_all(line.as_bytes())
        .context("writing to the admin socket")?;
    let mut reader = std::io::BufReader::new(stream);
    loop {
        let mut reply = String::new();
        let n = reader
            .read_line(&mut reply)
            .context("reading the admin socket")?;
        if n == 0 {
            bail!("the server closed the admin socket without a reply");
        }
        match serde_json::from_str(&reply).context("the server's reply on the admin socket")? {
            Reply::Progress(p) => progress(p),
            reply => return Ok(reply),
        }
    }
}

/// Answers the admin socket while the server runs. Only the owner of the
/// data directory may connect (mode 0600).
pub async fn listen(state: Arc<AppState>, data: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = socket_path(data);
    // A socket left by a server that was killed refuses connections: remove it.
    if path.exists() && std::os::unix::net::UnixStream::connect(&path).is_err() {
        std::fs::remove_file(&path)
            .with_context(|| format!("removing the stale {}", path.display()))?;
    }
    let listener = UnixListener::bind(&path)
        .with_context(|| format!("binding the admin socket {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                // Generous: an import names every file a shell glob found.
                let mut reader = BufReader::new(read).take(MAX_REQUEST_BYTES);
                if reader.read_line(&mut line).await.is_err() {
                    return;
                }
                let reply = match serde_json::from_str::<Request>(&line) {
                    Ok(request) => {
                        let state2 = state.clone();
                        // Progress goes out as it comes; when the client is
                        // gone, the closed channel stops the request.
                        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                        let job = tokio::task::spawn_blocking(move || {
                            execute_streaming(
                                state2.store.as_ref(),
                                Some(&state2),
                                request,
                                &mut |p| tx.send(p).is_ok(),
                            )
                        });
                        while let Some(p) = rx.recv().await {
                            if write_reply(&mut write, &Reply::Progress(p)).await.is_err() {
                                break;
                            }
                        }
                        drop(rx);
                        job.await
                            .unwrap_or_else(|e| Reply::Error(format!("the request failed: {e}")))
                    }
                    Err(e) => Reply::Error(format!("not a request: {e}")),
                };
                let _ = write_reply(&mut write, &reply).await;
            });
        }
    });
    Ok(())
}

async fn write_reply(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    reply: &Reply,
) -> std::io::Result<()> {
    let mut text = serde_json::to_string(reply).map_err(std::io::Error::other)?;
    text.push('\n');
    write.write_all(text.as_bytes()).await
}

use tokio::io::AsyncReadExt as _;
