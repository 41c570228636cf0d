//! `eas-server queue list|retry|remove`: the outbound queue for the
//! administrator, through the admin socket when the server runs (so a
//! retry wakes its worker), on the store otherwise.

use anyhow::bail;
use clap::Subcommand;
use serde::{Deserialize, Serialize};

use crate::admin::{self, Reply, Request};
use crate::state::AppState;
use crate::store::{QueuedMail, RecipientState, Store};
use crate::time;

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// List the messages waiting to go out, with each recipient's state.
    List,
    /// Try messages again now: one by its id, or all.
    Retry {
        /// The queue id (see `queue list`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<u64>,
        #[arg(long)]
        all: bool,
    },
    /// Remove a message from the queue without delivering it or telling
    /// its sender.
    Remove { id: u64 },
}

/// A queued message as `queue list` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueListing {
    pub id: u64,
    pub account: String,
    pub sender: String,
    pub created: u64,
    pub attempts: u32,
    pub next_attempt: u64,
    pub last_error: Option<String>,
    pub size: u64,
    pub subject: String,
    /// (address, state) for each recipient.
    pub recipients: Vec<(String, String)>,
}

impl From<QueuedMail> for QueueListing {
    fn from(m: QueuedMail) -> QueueListing {
        QueueListing {
            id: m.id,
            account: m.account,
            sender: m.sender,
            created: m.created,
            attempts: m.attempts,
            next_attempt: m.next_attempt,
            last_error: m.last_error,
            size: m.size,
            subject: m.subject,
            recipients: m
                .recipients
                .into_iter()
                .map(|r| {
                    let state = match r.state {
                        RecipientState::Pending => "pending".to_owned(),
                        RecipientState::Delivered { detail, .. } => format!("delivered ({detail})"),
                        RecipientState::Failed {
                            status, diagnostic, ..
                        } => format!("failed {status} ({diagnostic})"),
                    };
                    (r.address, state)
                })
                .collect(),
        }
    }
}

/// The admin operations, run where the store is.
pub fn list(store: &dyn Store) -> anyhow::Result<Reply> {
    Ok(Reply::Queue(
        store
            .queued()?
            .into_iter()
            .map(QueueListing::from)
            .collect(),
    ))
}

pub fn retry(
    store: &dyn Store,
    state: Option<&AppState>,
    id: Option<u64>,
) -> anyhow::Result<Reply> {
    let n = store.retry_queued(id)?;
    if let Some(id) = id.filter(|_| n == 0) {
        bail!("there is no message {id} in the queue");
    }
    if let Some(state) = state {
        state.outbound.kick();
    }
    let when = if state.is_some() {
        "now"
    } else {
        "when the server next runs"
    };
    Ok(Reply::Done(format!(
        "{n} queued message{} will be tried {when}",
        if n == 1 { "" } else { "s" }
    )))
}

pub fn remove(store: &dyn Store, id: u64) -> anyhow::Result<Reply> {
    if !store.remove_queued(id)? {
        bail!("there is no message {id} in the queue");
    }
    Ok(Reply::Done(format!("removed message {id} from the queue")))
}

/// The command line side.
pub fn run(data: &std::path::Path, cmd: QueueCommand) -> anyhow::Result<()> {
    let request = match cmd {
        QueueCommand::List => Request::QueueList,
        QueueCommand::Retry { id, .. } => Request::QueueRetry { id },
        QueueCommand::Remove { id } => Request::QueueRemove { id },
    };
    match admin::call(data, request)? {
        Reply::Queue(items) if items.is_empty() => {
            println!("the queue is empty");
            Ok(())
        }
        Reply::Queue(items) => {
            for m in items {
                println!(
                    "{:>8}  {} <{}>  {} bytes  queued {}  {} attempt{}, next {}",
                    m.id,
                    m.account,
                    m.sender,
                    m.size,
                    time::rfc3339(m.created),
                    m.attempts,
                    if m.attempts == 1 { "" } else { "s" },
                    time::rfc3339(m.next_attempt),
                );
                println!(
                    "          subject: {}",
                    m.subject.replace(['\r', '\n'], " ")
                );
                for (address, state) in &m.recipients {
                    println!("          <{address}>: {state}");
                }
                if let Some(e) = &m.last_error {
                    println!("          last error: {e}");
                }
            }
            Ok(())
        }
        Reply::Done(msg) => {
            println!("{msg}");
            Ok(())
        }
        Reply::Error(msg) => bail!(msg),
        other => bail!("unexpected reply {other:?}"),
    }
}
