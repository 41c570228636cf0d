//! The administration operations of the directory: `cert publish`,
//! `trust add`, `trust list`, `directory import`. They run inside the
//! server through its admin socket (so its caches follow) or on the store
//! when no server runs, like every admin operation.

use anyhow::{Context as _, bail};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::config::LdapAttributes;
use super::embedded::entry_for_account;
use super::smime::trusted_record;
use crate::state::AppState;
use crate::store::{DirectoryEntry, Store};

/// A trust anchor or intermediate as `trust list` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrustedSummary {
    pub fingerprint: String,
    pub subject: String,
    pub anchor: bool,
    pub not_after: u64,
    /// From the configuration's trust_dir rather than `trust add`.
    pub from_config: bool,
}

fn decode(data_b64: &str) -> anyhow::Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(data_b64)
        .context("the request's data is not base64")
}

/// `cert publish NAME FILE`: adds the certificates of FILE (PEM, DER,
/// PKCS#7 certs-only, an Outlook blob) to NAME's userSMIMECertificate, as
/// bytes. NAME is a user, a directory entry's id, or an address.
pub fn publish(
    store: &dyn Store,
    state: Option<&AppState>,
    name: &str,
    data_b64: &str,
) -> anyhow::Result<String> {
    let data = decode(data_b64)?;
    let certs = smime_core::bundle::parse_any(&data).context("the file holds no certificate")?;
    let mut entry: DirectoryEntry = match store.directory_entry(name)? {
        Some(e) => e,
        None => match store.account(&name.to_ascii_lowercase())? {
            Some(a) => entry_for_account(&a),
            None => match store.directory_entry_by_address(name)? {
                Some(e) => e,
                None => bail!(
                    "there is no user or directory entry {name} (add one with `eas-server user add` or `eas-server directory import`)"
                ),
            },
        },
    };
    if entry.smime_certificates.contains(&data) {
        return Ok(format!("{} already has these certificates", entry.id));
    }
    entry.smime_certificates.push(data);
    store.put_directory_entry(&entry)?;
    if let Some(state) = state {
        state.directory.forget();
    }
    let listed: Vec<String> = certs
        .iter()
        .map(|c| format!("{} (sha256 {})", c.subject(), c.fingerprint()))
        .collect();
    let mismatch: Vec<String> = certs
        .iter()
        .filter(|c| !c.is_ca() && !c.email_addresses().iter().any(|a| entry.has_address(a)))
        .map(|c| c.subject())
        .collect();
    let mut msg = format!("published for {}: {}", entry.id, listed.join("; "));
    if !mismatch.is_empty() {
        msg.push_str(&format!(
            "\nwarning: not for any of {}'s addresses, so never returned: {}",
            entry.id,
            mismatch.join("; ")
        ));
    }
    Ok(msg)
}

/// `trust add FILE`: every CA certificate of FILE becomes a trust anchor
/// (self-signed) or an intermediate.
pub fn trust_add(
    store: &dyn Store,
    state: Option<&AppState>,
    data_b64: &str,
) -> anyhow::Result<String> {
    let data = decode(data_b64)?;
    let certs = smime_core::bundle::parse_any(&data).context("the file holds no certificate")?;
    let mut added = Vec::new();
    for cert in &certs {
        let record = trusted_record(cert).map_err(anyhow::Error::msg)?;
        store.put_trusted(&record)?;
        added.push(format!(
            "{} {} (sha256 {})",
            if record.anchor {
                "anchor"
            } else {
                "intermediate"
            },
            record.subject,
            record.fingerprint
        ));
    }
    if let Some(state) = state {
        state.directory.smime.reload_trust(store)?;
        state.directory.forget();
    }
    Ok(format!("trusted: {}", added.join("; ")))
}

pub fn trust_list(
    store: &dyn Store,
    state: Option<&AppState>,
) -> anyhow::Result<Vec<TrustedSummary>> {
    let mut out = Vec::new();
    for t in store.trusted()? {
        let not_after = smime_core::Certificate::from_der(&t.der).map_or(0, |c| c.not_after());
        out.push(TrustedSummary {
            fingerprint: t.fingerprint,
            subject: t.subject,
            anchor: t.anchor,
            not_after,
            from_config: false,
        });
    }
    if let Some(state) = state {
        let trust = state.directory.smime.trust();
        for (c, anchor) in trust
            .anchors()
            .iter()
            .map(|c| (c, true))
            .chain(trust.intermediates().iter().map(|c| (c, false)))
        {
            let fp = c.fingerprint();
            if !out.iter().any(|t| t.fingerprint == fp) {
                out.push(TrustedSummary {
                    fingerprint: fp,
                    subject: c.subject(),
                    anchor,
                    not_after: c.not_after(),
                    from_config: true,
                });
            }
        }
    }
    Ok(out)
}

/// `directory import FILE.ldif`: people and groups into the embedded
/// directory, with their userSMIMECertificate and userCertificate values.
pub fn import_ldif(
    store: &dyn Store,
    state: Option<&AppState>,
    ldif: &str,
) -> anyhow::Result<String> {
    let records = super::ldif::parse(ldif)?;
    let attrs = state.map_or_else(LdapAttributes::default, |s| {
        s.config.ldap.attributes.clone()
    });
    let entries = super::ldif::entries(&records, &attrs);
    let (mut people, mut groups) = (0, 0);
    for e in &entries {
        store
            .put_directory_entry(e)
            .with_context(|| format!("entry {}", e.id))?;
        match e.kind {
            crate::store::EntryKind::Person => people += 1,
            crate::store::EntryKind::Group => groups += 1,
        }
    }
    if let Some(state) = state {
        state.directory.forget();
    }
    Ok(format!(
        "imported {people} people and {groups} groups from {} records",
        records.len()
    ))
}
