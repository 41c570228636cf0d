//! The push hub (DESIGN.md, Push): every write that changes a folder
//! notifies it, and requests waiting for changes (Ping, Sync with Wait) wake
//! without polling the store. A waiter costs a task and a `Notify`
//! registration, nothing more.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The pseudo-folder of the folder hierarchy: FolderCreate, FolderUpdate
/// and FolderDelete notify it (Ping Status 7).
pub const HIERARCHY: u32 = 0;

/// Per account: a version per folder, bumped on every change, and one
/// `Notify` that wakes the account's waiters.
#[derive(Debug, Default)]
pub struct Hub {
    accounts: Mutex<HashMap<String, Arc<AccountHub>>>,
    /// Per (account, device): the generation of the request it holds, and
    /// the Notify that ends it when a newer one arrives.
    holds: Mutex<HashMap<DeviceKey, (u64, Arc<Notify>)>>,
}

/// (account, device).
pub type DeviceKey = (String, String);

#[derive(Debug, Default)]
pub struct AccountHub {
    versions: Mutex<HashMap<u32, u64>>,
    notify: Notify,
}

impl AccountHub {
    /// The version of each folder asked for, as a baseline to compare with.
    pub fn versions(&self, folders: &[u32]) -> Vec<u64> {
        let versions = self.versions.lock().unwrap_or_else(|e| e.into_inner());
        folders
            .iter()
            .map(|f| versions.get(f).copied().unwrap_or(0))
            .collect()
    }

    /// The folders whose version moved past the baseline.
    pub fn changed(&self, folders: &[u32], baseline: &[u64]) -> Vec<u32> {
        let now = self.versions(folders);
        folders
            .iter()
            .zip(now.iter().zip(baseline))
            .filter(|(_, (now, then))| now != then)
            .map(|(f, _)| *f)
            .collect()
    }

    /// Resolves at the next change anywhere in the account. Register before
    /// checking `changed`, so a change in between is not missed.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

impl Hub {
    pub fn account(&self, account: &str) -> Arc<AccountHub> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        accounts.entry(account.to_owned()).or_default().clone()
    }

    /// Starts a held request for a device, ending the one it held before.
    /// Returns this hold's generation and the Notify that ends it.
    pub fn begin_hold(&self, key: &DeviceKey) -> (u64, Arc<Notify>) {
        let mut holds = self.holds.lock().unwrap_or_else(|e| e.into_inner());
        let entry = holds
            .entry(key.clone())
            .or_insert_with(|| (0, Arc::new(Notify::new())));
        entry.0 += 1;
        // Wakes the older hold; a fresh Notify serves the new one.
        entry.1.notify_waiters();
        entry.1 = Arc::new(Notify::new());
        (entry.0, entry.1.clone())
    }

    /// Whether `generation` is still the device's newest hold.
    pub fn holds(&self, key: &DeviceKey, generation: u64) -> bool {
        let holds = self.holds.lock().unwrap_or_else(|e| e.into_inner());
        holds.get(key).is_some_and(|(g, _)| *g == generation)
    }

    /// Records that `folders` of `account` changed and wakes its waiters.
    pub fn notify(&self, account: &str, folders: &[u32]) {
        let hub = self.account(account);
        {
            let mut versions = hub.versions.lock().unwrap_or_else(|e| e.into_inner());
            for f in folders {
                *versions.entry(*f).or_insert(0) += 1;
            }
        }
        hub.notify.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_wakes_a_waiter_and_names_the_folder() {
        let hub = Arc::new(Hub::default());
        let account = hub.account("alice");
        let baseline = account.versions(&[1, 2]);
        let waiter = {
            let account = account.clone();
            tokio::spawn(async move {
                let notified = account.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if account.changed(&[1, 2], &baseline).is_empty() {
                    notified.await;
                }
                account.changed(&[1, 2], &baseline)
            })
        };
        tokio::task::yield_now().await;
        hub.notify("bob", &[1]);
        hub.notify("alice", &[2]);
        assert_eq!(waiter.await.unwrap(), vec![2]);
    }
}
