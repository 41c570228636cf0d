//! The configuration file (`--config FILE`, TOML). Every key is optional;
//! `config.example.toml` beside this crate lists each one with its default,
//! and a test keeps that file and [`Config::default`] in step.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;

use crate::provisioning::PolicyConfig;
use crate::store::Access;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    pub auth: AuthConfig,
    pub provisioning: ProvisioningConfig,
    pub devices: DevicesConfig,
    pub lmtp: LmtpConfig,
    pub push: PushConfig,
    pub directory: crate::directory::DirectoryConfig,
    pub ldap: crate::directory::LdapConfig,
    pub crl: crate::directory::CrlConfig,
    pub smtp: SmtpConfig,
    pub queue: QueueConfig,
    pub oof: OofConfig,
}

/// The smarthost: where mail for recipients who are not users of this
/// server goes, over SMTP (RFC 5321).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// Its host name (or address); empty means there is none, and mail to
    /// other domains comes back to its sender as undeliverable.
    pub host: String,
    pub port: u16,
    /// How the connection is protected.
    pub tls: SmtpTls,
    /// PEM certificates to trust for the smarthost instead of the system's
    /// roots; empty uses the system's.
    pub ca_file: String,
    /// AUTH (RFC 4954) when set: PLAIN or LOGIN, whichever it offers.
    pub username: String,
    pub password: SmtpPassword,
    /// The name the server gives itself in EHLO and Received lines; empty
    /// is the machine's host name.
    pub helo_name: String,
    /// Seconds to wait for the smarthost at each step.
    pub timeout_secs: u64,
}

/// How the connection to the smarthost is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// STARTTLS (RFC 3207), required: a smarthost without it is not used.
    Starttls,
    /// TLS from the first byte (RFC 8314, port 465).
    Implicit,
    /// Plain text, for a relay on the same machine or network.
    None,
}

/// The smarthost password: read from the configuration, never printed.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SmtpPassword(pub String);

impl std::fmt::Debug for SmtpPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "SmtpPassword(none)"
        } else {
            "SmtpPassword(<redacted>)"
        })
    }
}

/// The outbound queue: retries, lifetime, and remembered ClientIds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Seconds before the first retry of a temporary failure; each further
    /// one waits twice as long, up to `retry_max_secs`.
    pub retry_min_secs: u64,
    pub retry_max_secs: u64,
    /// Seconds a message is tried before it is given up and its sender
    /// gets a non-delivery report.
    pub lifetime_secs: u64,
    /// How long, in seconds, and how many per user, SendMail ClientIds are
    /// remembered: a message sent again with a remembered id is not sent twice.
    pub client_id_retention_secs: u64,
    pub client_id_max: usize,
}

/// Out-of-office replies (Settings Oof).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OofConfig {
    /// Seconds before the same sender gets another automatic reply.
    pub period_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: String::new(),
            port: 587,
            tls: SmtpTls::Starttls,
            ca_file: String::new(),
            username: String::new(),
            password: SmtpPassword::default(),
            helo_name: String::new(),
            timeout_secs: 300,
        }
    }
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            retry_min_secs: 60,
            retry_max_secs: 3600,
            // Five days, as Postfix's maximal_queue_lifetime.
            lifetime_secs: 5 * 86_400,
            client_id_retention_secs: 30 * 86_400,
            client_id_max: 10_000,
        }
    }
}

impl Default for OofConfig {
    fn default() -> Self {
        OofConfig {
            period_secs: 7 * 86_400,
        }
    }
}

/// Held requests: Ping, and Sync with Wait or HeartbeatInterval.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    /// The shortest and longest Ping heartbeat, in seconds; outside them a
    /// Ping gets Status 5 with the nearest bound (MS-ASCMD Ping).
    pub min_heartbeat_secs: u32,
    pub max_heartbeat_secs: u32,
    /// The most folders one Ping may watch (Status 6 beyond).
    pub max_folders: u32,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            min_heartbeat_secs: 60,
            max_heartbeat_secs: 3540,
            max_folders: 300,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Where to listen (also `--listen`).
    pub listen: SocketAddr,
    /// The URL phones should use, for Autodiscover and the start banner;
    /// derived from `listen` when empty.
    pub public_url: String,
    /// Seconds a client may take to send its request headers.
    pub header_timeout_secs: u64,
    /// Seconds a client may take to send its request body.
    pub body_timeout_secs: u64,
    /// Seconds in-flight requests and LMTP deliveries get to finish on
    /// shutdown.
    pub shutdown_grace_secs: u64,
    /// Seconds a TLS handshake may take.
    pub tls_handshake_timeout_secs: u64,
    /// Threads for blocking work: store reads and writes, password
    /// hashing, MIME summaries. redb has one writer at a time and the rest
    /// is CPU-bound, so threads beyond a few per core only wait, each with
    /// its stack. 0: [`ServerConfig::blocking_threads`] picks 8 per core,
    /// at least 16 (BENCHMARKS.md, "Blocking threads").
    pub blocking_threads: usize,
}

impl ServerConfig {
    /// The blocking thread pool's size for this machine.
    pub fn blocking_threads(&self, cores: usize) -> usize {
        match self.blocking_threads {
            0 => cores.saturating_mul(8).max(16),
            n => n,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// The largest request body accepted, in bytes (HTTP 413 beyond).
    pub max_body_bytes: usize,
    /// The largest request header block, in bytes.
    pub max_header_bytes: usize,
    /// WBXML nesting depth (HTTP 400 beyond).
    pub max_wbxml_depth: usize,
    /// WBXML elements in one request (HTTP 400 beyond).
    pub max_wbxml_elements: usize,
    /// Open connections from one client address; one more is closed at
    /// once, before TLS. 0: no cap. Phones behind one carrier NAT share an
    /// address, so this is far above what one phone needs.
    pub max_connections_per_address: usize,
    /// Requests in progress for one account, held Pings included; one
    /// more gets HTTP 503 with Retry-After. 0: no cap.
    pub max_requests_per_account: usize,
    /// Items one collection of a Sync response carries (and the whole
    /// response, when the request has a WindowSize of its own), whatever
    /// WindowSize asks; the rest follow with MoreAvailable. MS-ASCMD
    /// 2.2.3.199 caps WindowSize at 512, so values above 512 change nothing.
    pub max_sync_window: u32,
    /// Operations (Fetch, EmptyFolderContents, Move) in one ItemOperations
    /// request; a request with more is refused whole with Status 2.
    pub max_item_operations: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Failed logins allowed per user and client address before a lockout.
    pub free_failures: u32,
    /// The first lockout, in seconds; each further failure doubles it.
    pub lockout_base_secs: u64,
    /// The longest lockout, in seconds; failures are forgotten after it.
    pub lockout_max_secs: u64,
    /// How long a successful login is remembered, so argon2 runs once per
    /// device and period rather than on every request.
    pub login_cache_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProvisioningConfig {
    /// Require devices to provision (accept the policy) before they sync,
    /// as Exchange's Default policy does.
    pub enforce: bool,
    /// Let devices that cannot apply the policy sync anyway (Exchange's
    /// AllowNonProvisionableDevices).
    pub allow_non_provisionable: bool,
    /// The policy itself.
    pub policy: PolicyConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevicesConfig {
    /// The access of a device no rule matches.
    pub default_access: AccessConfig,
    /// Exchange-style device access rules, first match wins.
    pub rules: Vec<DeviceRule>,
}

/// One device access rule: every field given must match (case-insensitive,
/// `*` at the end matches any rest).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRule {
    pub device_type: Option<String>,
    pub model: Option<String>,
    pub user_agent: Option<String>,
    pub access: AccessConfig,
}

/// The LMTP listener (RFC 2033) an MTA such as Postfix delivers through.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LmtpConfig {
    /// Address and port to listen on, e.g. "127.0.0.1:2424"; empty is off
    /// (also `serve --lmtp ADDR`).
    pub listen: String,
    /// The largest message accepted, in bytes (552 beyond); advertised as SIZE.
    pub max_message_bytes: usize,
    /// The longest command line, in bytes (500 beyond).
    pub max_line_bytes: usize,
    /// Recipients in one transaction (452 beyond).
    pub max_recipients: usize,
    /// Connections served at once (421 beyond).
    pub max_connections: usize,
    /// Seconds to wait for a command.
    pub command_timeout_secs: u64,
    /// Seconds to wait for each piece of a message's data.
    pub data_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessConfig {
    Allow,
    Block,
    Quarantine,
}

impl From<AccessConfig> for Access {
    fn from(a: AccessConfig) -> Access {
        match a {
            AccessConfig::Allow => Access::Allowed,
            AccessConfig::Block => Access::Blocked,
            AccessConfig::Quarantine => Access::Quarantined,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            public_url: String::new(),
            header_timeout_secs: 30,
            body_timeout_secs: 300,
            shutdown_grace_secs: 10,
            tls_handshake_timeout_secs: 15,
            blocking_threads: 0,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: 64 * 1024 * 1024,
            max_header_bytes: 64 * 1024,
            max_wbxml_depth: 64,
            max_wbxml_elements: 1_000_000,
            max_connections_per_address: 4096,
            max_requests_per_account: 256,
            max_sync_window: 512,
            max_item_operations: 512,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            free_failures: 5,
            lockout_base_secs: 30,
            lockout_max_secs: 900,
            login_cache_secs: 900,
        }
    }
}

impl Default for ProvisioningConfig {
    fn default() -> Self {
        ProvisioningConfig {
            enforce: true,
            allow_non_provisionable: false,
            policy: PolicyConfig::default(),
        }
    }
}

impl Default for DevicesConfig {
    fn default() -> Self {
        DevicesConfig {
            default_access: AccessConfig::Allow,
            rules: Vec::new(),
        }
    }
}

impl Default for LmtpConfig {
    fn default() -> Self {
        LmtpConfig {
            listen: String::new(),
            max_message_bytes: 64 * 1024 * 1024,
            max_line_bytes: 4096,
            max_recipients: 1000,
            max_connections: 100,
            // RFC 5321 4.5.3.2: at least 5 minutes for a command, 3 for a
            // block of data.
            command_timeout_secs: 300,
            data_timeout_secs: 180,
        }
    }
}

impl Config {
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in the configuration {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Config> {
        Ok(toml::from_str(text)?)
    }

    pub fn wbxml_limits(&self) -> eas_proto::wbxml::Limits {
        eas_proto::wbxml::Limits {
            max_bytes: self.limits.max_body_bytes,
            max_depth: self.limits.max_wbxml_depth,
            max_elements: self.limits.max_wbxml_elements,
        }
    }

    /// The access the rules give a device.
    pub fn device_access(
        &self,
        device_type: &str,
        model: Option<&str>,
        user_agent: &str,
    ) -> Access {
        let matches = |pattern: &Option<String>, value: Option<&str>| match (pattern, value) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(p), Some(v)) => glob_match(p, v),
        };
        self.devices
            .rules
            .iter()
            .find(|r| {
                matches(&r.device_type, Some(device_type))
                    && matches(&r.model, model)
                    && matches(&r.user_agent, Some(user_agent))
            })
            .map_or(self.devices.default_access, |r| r.access)
            .into()
    }
}

/// Case-insensitive equality, or a prefix match when the pattern ends in `*`.
fn glob_match(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix)),
        None => pattern.eq_ignore_ascii_case(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_the_defaults() {
        let text = include_str!("../config.example.toml");
        assert_eq!(Config::parse(text).unwrap(), Config::default());
    }

    #[test]
    fn blocking_threads_default_to_eight_per_core_and_at_least_sixteen() {
        let auto = ServerConfig::default();
        assert_eq!(auto.blocking_threads(1), 16);
        assert_eq!(auto.blocking_threads(2), 16);
        assert_eq!(auto.blocking_threads(8), 64);
        let set = Config::parse("[server]\nblocking_threads = 4\n").unwrap();
        assert_eq!(set.server.blocking_threads(8), 4);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = Config::parse("[server]\nlisten = \"127.0.0.1:1\"\nlsiten = 3\n").unwrap_err();
        assert!(format!("{err:#}").contains("lsiten"), "{err:#}");
    }

    #[test]
    fn device_rules_first_match_wins() {
        let config = Config::parse(
            r#"
            [devices]
            default_access = "quarantine"
            [[devices.rules]]
            device_type = "iPhone"
            access = "allow"
            [[devices.rules]]
            user_agent = "BadClient/*"
            access = "block"
            "#,
        )
        .unwrap();
        assert_eq!(
            config.device_access("iphone", None, "Apple-iPhone/1"),
            Access::Allowed
        );
        assert_eq!(
            config.device_access("Android", None, "badclient/2.0"),
            Access::Blocked
        );
        assert_eq!(
            config.device_access("Android", None, "Gmail/1"),
            Access::Quarantined
        );
    }
}
