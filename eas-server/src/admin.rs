//! Administration: one set of operations, run either inside the server
//! (reached through its admin socket, so the running server's caches stay
//! right) or directly on the store when no server runs. The user never has
//! to care which (DESIGN.md, Storage).
//!
//! The socket speaks one JSON request and one JSON reply per connection.
//! Passwords never cross it: the command line hashes them first.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::UnixListener;

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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Done(String),
    Users(Vec<UserSummary>),
    Devices(Vec<Device>),
    Error(String),
}

/// An account as `user list` shows it: never its password hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserSummary {
    pub name: String,
    pub email: String,
    pub display_name: String,
    pub created: u64,
}

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
    match run(store, state, request) {
        Ok(reply) => reply,
        Err(e) => Reply::Error(format!("{e:#}")),
    }
}

fn run(store: &dyn Store, state: Option<&AppState>, request: Request) -> anyhow::Result<Reply> {
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
    })
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
    let socket = socket_path(data);
    match std::os::unix::net::UnixStream::connect(&socket) {
        Ok(stream) => call_socket(stream, &request),
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
            Ok(execute(&store, None, request))
        }
    }
}

fn call_socket(
    mut stream: std::os::unix::net::UnixStream,
    request: &Request,
) -> anyhow::Result<Reply> {
    use std::io::{BufRead as _, Write as _};
    let mut line = serde_json::to_string(request)?;
    line.push('\n');
    stream
        .write_all(line.as_bytes())
        .context("writing to the admin socket")?;
    let mut reply = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut reply)
        .context("reading the admin socket")?;
    serde_json::from_str(&reply).context("the server's reply on the admin socket")
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
                let mut reader = BufReader::new(read).take(1 << 20);
                if reader.read_line(&mut line).await.is_err() {
                    return;
                }
                let reply = match serde_json::from_str::<Request>(&line) {
                    Ok(request) => {
                        let state2 = state.clone();
                        tokio::task::spawn_blocking(move || {
                            execute(state2.store.as_ref(), Some(&state2), request)
                        })
                        .await
                        .unwrap_or_else(|e| Reply::Error(format!("the request failed: {e}")))
                    }
                    Err(e) => Reply::Error(format!("not a request: {e}")),
                };
                if let Ok(mut text) = serde_json::to_string(&reply) {
                    text.push('\n');
                    let _ = write.write_all(text.as_bytes()).await;
                }
            });
        }
    });
    Ok(())
}

use tokio::io::AsyncReadExt as _;
