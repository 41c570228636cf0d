//! What every request handler shares.

use std::sync::Arc;
use std::time::Duration;

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
    pub traces: Traces,
    /// The URL phones use, for Autodiscover.
    pub public_url: String,
}

impl AppState {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        traces: Traces,
        public_url: String,
    ) -> AppState {
        let auth = &config.auth;
        AppState {
            logins: LoginCache::new(Duration::from_secs(auth.login_cache_secs)),
            throttle: Throttle::new(
                auth.free_failures,
                Duration::from_secs(auth.lockout_base_secs),
                Duration::from_secs(auth.lockout_max_secs),
            ),
            config,
            store,
            traces,
            public_url,
        }
    }
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}
