//! The LDAP directory (OpenLDAP, Active Directory) through the ldap3
//! crate with rustls (ring): `ldap://`, `ldaps://`, StartTLS, a simple
//! bind or none. Every step has a time-out, so a directory that is down or
//! stuck gives [`DirectoryError::Unavailable`] quickly, never a hang. One
//! connection is kept and shared (ldap3 multiplexes requests on it); when
//! it fails, the next question opens another.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ldap3::{
    Ldap as LdapHandle, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, SearchOptions,
};

use super::config::LdapConfig;
use super::{BoxFuture, Directory, DirectoryError, Matches, Query};
use crate::store::{DirectoryEntry, EntryKind};

pub struct Ldap {
    config: LdapConfig,
    conn: tokio::sync::Mutex<Option<LdapHandle>>,
}

impl std::fmt::Debug for Ldap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ldap")
            .field("config", &self.config)
            .finish()
    }
}

impl Ldap {
    pub fn new(config: LdapConfig) -> Ldap {
        Ldap {
            config,
            conn: tokio::sync::Mutex::new(None),
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_secs.max(1))
    }

    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, DirectoryError> {
        let mut roots = rustls::RootCertStore::empty();
        if self.config.ca_file.is_empty() {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
        } else {
            let pem = std::fs::read(&self.config.ca_file).map_err(|e| {
                DirectoryError::Refused(format!("[ldap] ca_file {}: {e}", self.config.ca_file))
            })?;
            for cert in smime_core::bundle::from_pem(&pem)
                .map_err(|e| DirectoryError::Refused(format!("[ldap] ca_file: {e}")))?
            {
                roots
                    .add(rustls_pki_types::CertificateDer::from(cert.der().to_vec()))
                    .map_err(|e| DirectoryError::Refused(format!("[ldap] ca_file: {e}")))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| DirectoryError::Refused(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    async fn connect(&self) -> Result<LdapHandle, DirectoryError> {
        let url = &self.config.url;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout())
            .set_starttls(self.config.starttls);
        if url.starts_with("ldaps://") || self.config.starttls {
            settings = settings.set_config(self.tls_config()?);
        }
        let connecting = LdapConnAsync::with_settings(settings, url);
        let (conn, mut ldap) = tokio::time::timeout(self.timeout(), connecting)
            .await
            .map_err(|_| DirectoryError::TimedOut(format!("{url}: no answer to connecting")))?
            .map_err(|e| DirectoryError::Unavailable(format!("{url}: {e}")))?;
        ldap3::drive!(conn);
        if !self.config.bind_dn.is_empty() {
            let bound = ldap
                .with_timeout(self.timeout())
                .simple_bind(&self.config.bind_dn, &self.config.bind_password.0)
                .await
                .map_err(|e| failed(format!("{url}: bind"), e))?;
            if bound.rc != 0 {
                return Err(DirectoryError::Refused(format!(
                    "{url}: bind as {} refused: {} {}",
                    self.config.bind_dn, bound.rc, bound.text
                )));
            }
        }
        Ok(ldap)
    }

    /// The shared connection, opened if need be.
    async fn handle(&self) -> Result<LdapHandle, DirectoryError> {
        let mut conn = self.conn.lock().await;
        if let Some(h) = conn.as_mut() {
            if !h.is_closed() {
                return Ok(h.clone());
            }
        }
        let h = self.connect().await?;
        *conn = Some(h.clone());
        Ok(h)
    }

    async fn forget_connection(&self) {
        *self.conn.lock().await = None;
    }

    fn attributes(&self) -> Vec<String> {
        let a = &self.config.attributes;
        [
            &a.mail,
            &a.proxy_addresses,
            &a.display_name,
            &a.common_name,
            &a.first_name,
            &a.last_name,
            &a.alias,
            &a.title,
            &a.company,
            &a.office,
            &a.phone,
            &a.mobile_phone,
            &a.home_phone,
            &a.smime_certificate,
            &a.user_certificate,
            &a.member,
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .chain(["objectClass".to_owned()])
        .collect()
    }

    /// One search; a failed connection is retried once on a new one.
    async fn search(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryEntry>, DirectoryError> {
        let mut last = None;
        for _attempt in 0..2 {
            let mut ldap = self.handle().await?;
            let attrs = self.attributes();
            let size = i32::try_from(limit).unwrap_or(i32::MAX);
            let result = ldap
                .with_timeout(self.timeout())
                .with_search_options(SearchOptions::new().sizelimit(size))
                .search(base, scope, filter, attrs)
                .await;
            match result {
                Ok(res) => {
                    let rc = res.1.rc;
                    // 4 is sizeLimitExceeded: the entries so far are good.
                    // 32 is noSuchObject: a base entry that is not there.
                    if rc == 32 {
                        return Ok(Vec::new());
                    }
                    if rc != 0 && rc != 4 {
                        return Err(DirectoryError::Refused(format!(
                            "search {filter} under {base}: {} {}",
                            rc, res.1.text
                        )));
                    }
                    let mut out = Vec::new();
                    for raw in res.0 {
                        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            SearchEntry::construct(raw)
                        }))
                        .map_err(|_| {
                            DirectoryError::Refused("the directory sent a malformed entry".into())
                        })?;
                        out.push(self.entry(parsed));
                    }
                    return Ok(out);
                }
                Err(e) => {
                    self.forget_connection().await;
                    last = Some(e);
                }
            }
        }
        Err(match last {
            Some(e) => failed(self.config.url.clone(), e),
            None => DirectoryError::Unavailable(format!("{}: no answer", self.config.url)),
        })
    }

    fn entry(&self, e: SearchEntry) -> DirectoryEntry {
        let a = &self.config.attributes;
        let text = |name: &str| -> Option<String> {
            if name.is_empty() {
                return None;
            }
            find_attr(&e.attrs, name).and_then(|v| v.first().cloned())
        };
        let texts = |name: &str| -> Vec<String> {
            if name.is_empty() {
                return Vec::new();
            }
            find_attr(&e.attrs, name).cloned().unwrap_or_default()
        };
        let binary = |name: &str| -> Vec<Vec<u8>> {
            if name.is_empty() {
                return Vec::new();
            }
            let mut out: Vec<Vec<u8>> = find_attr(&e.bin_attrs, name).cloned().unwrap_or_default();
            // A value that happens to be UTF-8 lands among the text ones.
            out.extend(texts(name).into_iter().map(String::into_bytes));
            out
        };
        let mut addresses: Vec<String> = texts(&a.mail)
            .into_iter()
            .map(|m| m.trim().to_ascii_lowercase())
            .collect();
        for p in texts(&a.proxy_addresses) {
            if let Some(addr) = p.strip_prefix("smtp:").or_else(|| p.strip_prefix("SMTP:")) {
                let addr = addr.trim().to_ascii_lowercase();
                if p.starts_with("SMTP:") {
                    addresses.retain(|x| *x != addr);
                    addresses.insert(0, addr);
                } else if !addresses.contains(&addr) {
                    addresses.push(addr);
                }
            }
        }
        let object_classes: Vec<String> = texts("objectClass")
            .into_iter()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let members = texts(&a.member);
        let is_group = !members.is_empty()
            || object_classes
                .iter()
                .any(|c| matches!(c.as_str(), "groupofnames" | "group" | "groupofuniquenames"));
        let display_name = text(&a.display_name)
            .or_else(|| text(&a.common_name))
            .unwrap_or_else(|| e.dn.clone());
        DirectoryEntry {
            id: e.dn.clone(),
            kind: if is_group {
                EntryKind::Group
            } else {
                EntryKind::Person
            },
            display_name,
            email: addresses.first().cloned().unwrap_or_default(),
            addresses,
            first_name: text(&a.first_name),
            last_name: text(&a.last_name),
            alias: text(&a.alias),
            title: text(&a.title),
            company: text(&a.company),
            office: text(&a.office),
            phone: text(&a.phone),
            mobile_phone: text(&a.mobile_phone),
            home_phone: text(&a.home_phone),
            smime_certificates: binary(&a.smime_certificate),
            user_certificates: binary(&a.user_certificate),
            members,
        }
    }

    fn kinds_filter(&self) -> String {
        format!(
            "(|{}{})",
            self.config.person_filter, self.config.group_filter
        )
    }

    fn filter(&self, query: &Query) -> String {
        let a = &self.config.attributes;
        let mut alternatives = String::new();
        match query {
            Query::Address(addr) => {
                let v = ldap3::ldap_escape(addr);
                alternatives.push_str(&format!("({}={v})", a.mail));
                if !a.proxy_addresses.is_empty() {
                    alternatives.push_str(&format!("({}=smtp:{v})", a.proxy_addresses));
                }
            }
            Query::Prefix(prefix) => {
                let v = ldap3::ldap_escape(prefix.trim());
                for attr in [
                    &a.display_name,
                    &a.common_name,
                    &a.first_name,
                    &a.last_name,
                    &a.alias,
                    &a.mail,
                ] {
                    if !attr.is_empty() {
                        alternatives.push_str(&format!("({attr}={v}*)"));
                    }
                }
            }
        }
        format!("(&{}(|{alternatives}))", self.kinds_filter())
    }
}

/// An attribute by name, ignoring case (directories answer in their own
/// spelling, `usercertificate;binary` for `userCertificate;binary`).
fn find_attr<'m, T>(map: &'m HashMap<String, T>, name: &str) -> Option<&'m T> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

impl Directory for Ldap {
    fn find<'a>(
        &'a self,
        query: &'a Query,
        limit: usize,
    ) -> BoxFuture<'a, Result<Matches, DirectoryError>> {
        Box::pin(async move {
            if let Query::Prefix(p) = query {
                if p.trim().is_empty() {
                    return Ok(Matches::default());
                }
            }
            let filter = self.filter(query);
            // One more than asked, to know whether there are more.
            let mut entries = self
                .search(
                    &self.config.base_dn,
                    Scope::Subtree,
                    &filter,
                    limit.saturating_add(1),
                )
                .await?;
            if let Query::Address(addr) = query {
                entries.retain(|e| e.has_address(addr));
            }
            entries.sort_by(|a, b| {
                a.display_name
                    .to_lowercase()
                    .cmp(&b.display_name.to_lowercase())
            });
            let total = entries.len();
            entries.truncate(limit);
            Ok(Matches { entries, total })
        })
    }

    fn members<'a>(
        &'a self,
        group: &'a DirectoryEntry,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<DirectoryEntry>, DirectoryError>> {
        Box::pin(async move {
            let mut out = Vec::new();
            let filter = self.kinds_filter();
            for dn in group.members.iter().take(limit) {
                out.extend(self.search(dn, Scope::Base, &filter, 1).await?);
            }
            Ok(out)
        })
    }

    fn describe(&self) -> String {
        format!("LDAP {} (base {})", self.config.url, self.config.base_dn)
    }
}

/// An ldap3 error as a [`DirectoryError`]: its own time-out is
/// [`DirectoryError::TimedOut`], anything else the directory being
/// unavailable.
fn failed(what: String, e: ldap3::LdapError) -> DirectoryError {
    match e {
        ldap3::LdapError::Timeout { .. } => DirectoryError::TimedOut(format!("{what}: {e}")),
        e => DirectoryError::Unavailable(format!("{what}: {e}")),
    }
}
