//! What every request handler shares.

use std::sync::Arc;
use std::time::Duration;

use eas_proto::ProtocolVersion;

use crate::auth::{LoginCache, Throttle};
use crate::config::Config;
use crate::store::Store;
use crate::trace::Traces;

#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub logins: LoginCache,
    pub throttle: Throttle,
    /// argon2 runs at once: one per core. Each takes 19 MiB and a core's
    /// time, so a storm of logins (a fleet of phones after a restart) must
    /// queue rather than take the memory of hundreds.
    pub password_checks: tokio::sync::Semaphore,
    pub traces: Traces,
    /// The URL phones use, for Autodiscover.
    pub public_url: String,
    /// Wakes requests waiting for changes.
    pub hub: crate::push::Hub,
    /// The mailbox search indexes and result sets (Search, Find).
    pub search: Arc<crate::search::SearchIndex>,
    /// The last full Sync request of each (account, device), which an empty
    /// or partial Sync repeats (MS-ASCMD Partial). Lost on restart: the
    /// client then gets Status 13 and sends the whole request.
    pub sync_cache: std::sync::Mutex<
        std::collections::HashMap<crate::push::DeviceKey, eas_proto::command::sync::Request>,
    >,
    /// The last Ping of each (account, device), which an empty Ping repeats.
    pub ping_cache: std::sync::Mutex<
        std::collections::HashMap<crate::push::DeviceKey, crate::cmd::ping::PingParams>,
    >,
    /// Wakes the outbound queue worker.
    pub outbound: crate::mail::queue::Kick,
    /// The directory (embedded or LDAP) behind its cache, with the S/MIME
    /// trust store and CRLs: ResolveRecipients, ValidateCert, GAL search.
    pub directory: crate::directory::DirectoryService,
    /// Open connections per client address ([limits]).
    pub connections: Arc<crate::http::gate::Gate<std::net::IpAddr>>,
    /// Requests in progress per account ([limits]).
    pub requests: Arc<crate::http::gate::Gate<String>>,
    /// Set when the server begins to stop: held requests answer at once.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// The policy's fingerprint per protocol version, computed once: the
    /// policy gate compares it on every request.
    fingerprints: Vec<(ProtocolVersion, String)>,
}

impl AppState {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        traces: Traces,
        public_url: String,
    ) -> AppState {
        let auth = &config.auth;
        let fingerprints = ProtocolVersion::ALL
            .into_iter()
            .map(|v| (v, config.provisioning.policy.fingerprint(v)))
            .collect();
        AppState {
            fingerprints,
            logins: LoginCache::new(Duration::from_secs(auth.login_cache_secs)),
            throttle: Throttle::new(
                auth.free_failures,
                Duration::from_secs(auth.lockout_base_secs),
                Duration::from_secs(auth.lockout_max_secs),
            ),
            directory: crate::directory::DirectoryService::new(&config, store.clone()),
            connections: crate::http::gate::Gate::new(config.limits.max_connections_per_address),
            requests: crate::http::gate::Gate::new(config.limits.max_requests_per_account),
            password_checks: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
            config,
            store,
            traces,
            public_url,
            hub: crate::push::Hub::default(),
            search: Default::default(),
            sync_cache: Default::default(),
            ping_cache: Default::default(),
            stopping: tokio::sync::watch::Sender::new(false),
            outbound: Default::default(),
        }
    }
}

impl AppState {
    pub fn policy_fingerprint(&self, version: ProtocolVersion) -> &str {
        self.fingerprints
            .iter()
            .find(|(v, _)| *v == version)
            .map_or("", |(_, f)| f.as_str())
    }
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}
