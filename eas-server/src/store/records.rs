//! The records the store keeps, serialised as JSON so that a later format
//! can add fields (`#[serde(default)]`) without a migration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A mailbox owner who can log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The login name, lower case; the key of everything the account owns.
    pub name: String,
    /// The primary SMTP address, lower case.
    pub email: String,
    pub display_name: String,
    /// An argon2id PHC string; never the password.
    pub password_hash: String,
    /// Seconds since the Unix epoch.
    pub created: u64,
    #[serde(default)]
    pub oof: OofSettings,
}

/// Out-of-office settings (MS-ASCMD Settings Oof), kept per account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OofSettings {
    /// 0 disabled, 1 global, 2 time-based (MS-ASCMD 2.2.3.118 OofState).
    pub state: u8,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Keyed by audience: "Internal", "ExternalKnown", "ExternalUnknown".
    pub messages: BTreeMap<String, OofMessage>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OofMessage {
    pub enabled: bool,
    pub reply: String,
    /// "Text" or "HTML".
    pub body_type: String,
}

/// Whether a device may sync (Exchange's allow/block/quarantine).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    #[default]
    Allowed,
    Blocked,
    Quarantined,
}

/// The provisioning state of one device (MS-ASPROV).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyState {
    /// The key the device acknowledged last; requests must carry it.
    pub key: Option<u32>,
    /// A key handed out in phase one, not yet acknowledged.
    pub pending_key: Option<u32>,
    /// The policy's fingerprint when `key` was acknowledged: a changed
    /// policy makes the device provision again.
    pub policy_hash: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WipeKind {
    /// Remove everything on the device.
    Full,
    /// Remove only this account's data (16.1 AccountOnlyRemoteWipe).
    AccountOnly,
}

/// A remote wipe the administrator asked for, and the device's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WipeState {
    pub kind: WipeKind,
    pub requested: u64,
    /// When the device acknowledged the wipe, and the status it sent.
    pub acknowledged: Option<(u64, u32)>,
}

/// A phone or client, keyed by account and DeviceId.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub account: String,
    pub device_id: String,
    pub device_type: String,
    #[serde(default)]
    pub user_agent: String,
    pub first_seen: u64,
    pub last_seen: u64,
    /// The protocol version of the last request.
    #[serde(default)]
    pub protocol_version: String,
    /// Settings DeviceInformation as the device sent it (Model, IMEI, OS...).
    #[serde(default)]
    pub info: BTreeMap<String, String>,
    #[serde(default)]
    pub policy: PolicyState,
    #[serde(default)]
    pub access: Access,
    /// Set by the administrator; cleared only by a new explicit allow.
    #[serde(default)]
    pub access_by_admin: bool,
    #[serde(default)]
    pub wipe: Option<WipeState>,
    /// The device's recovery password (Settings DevicePassword), kept only
    /// when the policy enables password recovery.
    #[serde(default)]
    pub recovery_password: Option<RecoveryPassword>,
    /// Items held back from this device because it failed on them again
    /// and again (loop protection); `device release` sends them again.
    #[serde(default)]
    pub held: Vec<HeldItem>,
    /// The device's sync keys went backwards, as when two installations
    /// share one DeviceId (a cloned profile).
    #[serde(default)]
    pub suspected_clone: bool,
}

/// An item a device could not take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldItem {
    pub folder: u32,
    pub item: u64,
    pub since: u64,
}

/// A recovery password: stored for the administrator, never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryPassword(pub String);

impl std::fmt::Debug for RecoveryPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryPassword(<redacted>)")
    }
}
