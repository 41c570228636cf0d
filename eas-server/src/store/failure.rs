//! The store's I/O failure latch.
//!
//! When a write to the redb file fails (a full disk, a file-size limit, a
//! failing disk), redb 4 refuses every later operation with `PreviousIo`
//! until the file is opened again. Nothing acknowledged is lost: a commit
//! that returned is on disk, and the one that failed never returned. But
//! the running server can store nothing more, so `serve` stops (answering
//! what it holds, 503 and LMTP 451/421 meanwhile) and exits non-zero; a
//! service manager's restart opens the file again, and redb repairs it as
//! after a crash.
//!
//! The latch is process-wide because redb's errors are mapped in free
//! functions that see no store, and a process opens one store.

use std::sync::LazyLock;

use tokio::sync::watch;

static FAILED: LazyLock<watch::Sender<Option<String>>> = LazyLock::new(|| watch::Sender::new(None));

/// Records the first I/O failure; later ones only repeat it.
pub(super) fn latch(error: &str) {
    let first = FAILED.send_if_modified(|failed| {
        if failed.is_some() {
            return false;
        }
        *failed = Some(error.to_owned());
        true
    });
    if first {
        tracing::error!(
            "the store could not write its file ({error}); nothing more can be stored until the server is started again"
        );
    }
}

/// The I/O failure that latched the store, if one has.
pub fn failure() -> Option<String> {
    FAILED.borrow().clone()
}

/// Resolves with the failure once the store has latched one.
pub async fn failed() -> String {
    let mut rx = FAILED.subscribe();
    let failure = match rx.wait_for(Option::is_some).await {
        Ok(failed) => failed.clone(),
        // The sender is a static and never dropped.
        Err(_) => None,
    };
    match failure {
        Some(f) => f,
        None => std::future::pending().await,
    }
}
