//! The embedded directory's part of the store: people and groups (from
//! `cert publish` and LDIF imports), the certificates published for them,
//! and the S/MIME trust anchors and intermediates (`trust add`).

use serde::{Deserialize, Serialize};

use super::StoreResult;

/// Whether an entry is a person or a distribution list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    #[default]
    Person,
    Group,
}

/// A person or group of the global address list, as either backend
/// describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// The key: a login name or LDIF uid/cn for the embedded directory,
    /// the DN for LDAP.
    pub id: String,
    #[serde(default)]
    pub kind: EntryKind,
    pub display_name: String,
    /// The primary SMTP address, lower case.
    pub email: String,
    /// Every address the entry receives mail at, the primary one first
    /// (mail and proxyAddresses' smtp: values), lower case.
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub office: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub mobile_phone: Option<String>,
    #[serde(default)]
    pub home_phone: Option<String>,
    /// userSMIMECertificate values, as published (PKCS#7 certs-only, an
    /// Outlook blob, DER or PEM).
    #[serde(default)]
    pub smime_certificates: Vec<Vec<u8>>,
    /// userCertificate;binary values (DER).
    #[serde(default)]
    pub user_certificates: Vec<Vec<u8>>,
    /// For a group: its members' ids.
    #[serde(default)]
    pub members: Vec<String>,
}

impl DirectoryEntry {
    /// Whether `address` is one of the entry's, ignoring case.
    pub fn has_address(&self, address: &str) -> bool {
        let address = address.trim().to_ascii_lowercase();
        self.email == address || self.addresses.contains(&address)
    }
}

/// A trust anchor or intermediate for S/MIME validation, kept as DER.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedCertificate {
    /// Hex SHA-256 of the DER.
    pub fingerprint: String,
    pub subject: String,
    /// A root (trust anchor) rather than an intermediate.
    pub anchor: bool,
    pub der: Vec<u8>,
    pub added: u64,
}

pub trait DirectoryStore {
    /// Adds or replaces an entry (and its addresses' index).
    fn put_directory_entry(&self, entry: &DirectoryEntry) -> StoreResult<()>;
    fn directory_entry(&self, id: &str) -> StoreResult<Option<DirectoryEntry>>;
    /// The entry that receives mail at `address`.
    fn directory_entry_by_address(&self, address: &str) -> StoreResult<Option<DirectoryEntry>>;
    /// Every entry, in id order.
    fn directory_entries(&self) -> StoreResult<Vec<DirectoryEntry>>;
    fn delete_directory_entry(&self, id: &str) -> StoreResult<()>;

    fn put_trusted(&self, cert: &TrustedCertificate) -> StoreResult<()>;
    fn trusted(&self) -> StoreResult<Vec<TrustedCertificate>>;
}
