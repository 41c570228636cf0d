//! The `[directory]`, `[ldap]` and `[crl]` sections of the configuration.

use serde::Deserialize;

/// Which directory answers ResolveRecipients and GAL searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The store's own: users, `cert publish`, LDIF imports.
    Embedded,
    /// An LDAP server or Active Directory (`[ldap]`).
    Ldap,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DirectoryConfig {
    pub backend: Backend,
    /// Seconds a directory answer is reused before the directory is asked
    /// again; 0 asks every time.
    pub cache_ttl_secs: u64,
    /// Answers kept in the cache at most.
    pub cache_entries: usize,
    /// The most entries one lookup returns (ambiguous suggestions, GAL
    /// results).
    pub max_results: usize,
    /// The most members of a distribution list expanded.
    pub max_group_members: usize,
    /// The most `To` elements one ResolveRecipients request may carry
    /// (Status 5 beyond). MS-ASCMD 2.2.3.183 allows 1 to 100, calls more
    /// undefined, and says the server SHOULD answer a protocol error.
    pub max_recipients: usize,
    /// A directory of PEM files with the S/MIME trust anchors (self-signed
    /// CA certificates) and intermediates, read at start, besides those
    /// added with `eas-server trust add`. Empty is none.
    pub trust_dir: String,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            backend: Backend::Embedded,
            cache_ttl_secs: 300,
            cache_entries: 10_000,
            max_results: 100,
            max_group_members: 1000,
            max_recipients: 100,
            trust_dir: String::new(),
        }
    }
}

/// The LDAP directory (OpenLDAP, Active Directory).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LdapConfig {
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// Upgrade an ldap:// connection with StartTLS (RFC 4513).
    pub starttls: bool,
    /// PEM CA certificates to verify the server's TLS certificate with;
    /// empty uses the system's roots.
    pub ca_file: String,
    /// The DN to bind as; empty binds anonymously.
    pub bind_dn: String,
    pub bind_password: LdapPassword,
    /// Where searches start.
    pub base_dn: String,
    /// Which entries are people, and which are distribution lists.
    pub person_filter: String,
    pub group_filter: String,
    /// Seconds to connect, bind, and for each search.
    pub timeout_secs: u64,
    pub attributes: LdapAttributes,
}

/// The LDAP password: read from the configuration, never printed.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct LdapPassword(pub String);

impl std::fmt::Debug for LdapPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "LdapPassword(none)"
        } else {
            "LdapPassword(<redacted>)"
        })
    }
}

/// Attribute names, as the directory's schema spells them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LdapAttributes {
    pub mail: String,
    /// Active Directory's list of addresses (`smtp:` values).
    pub proxy_addresses: String,
    pub display_name: String,
    pub common_name: String,
    pub first_name: String,
    pub last_name: String,
    pub alias: String,
    pub title: String,
    pub company: String,
    pub office: String,
    pub phone: String,
    pub mobile_phone: String,
    pub home_phone: String,
    /// Read before `user_certificate`, as Outlook and Exchange do.
    pub smime_certificate: String,
    pub user_certificate: String,
    pub member: String,
}

impl Default for LdapConfig {
    fn default() -> Self {
        LdapConfig {
            url: "ldap://127.0.0.1:389".into(),
            starttls: false,
            ca_file: String::new(),
            bind_dn: String::new(),
            bind_password: LdapPassword::default(),
            base_dn: String::new(),
            person_filter: "(|(objectClass=inetOrgPerson)(objectClass=user))".into(),
            group_filter: "(|(objectClass=groupOfNames)(objectClass=group))".into(),
            timeout_secs: 5,
            attributes: LdapAttributes::default(),
        }
    }
}

impl Default for LdapAttributes {
    fn default() -> Self {
        LdapAttributes {
            mail: "mail".into(),
            proxy_addresses: "proxyAddresses".into(),
            display_name: "displayName".into(),
            common_name: "cn".into(),
            first_name: "givenName".into(),
            last_name: "sn".into(),
            alias: "uid".into(),
            title: "title".into(),
            company: "o".into(),
            office: "physicalDeliveryOfficeName".into(),
            phone: "telephoneNumber".into(),
            mobile_phone: "mobile".into(),
            home_phone: "homePhone".into(),
            smime_certificate: "userSMIMECertificate".into(),
            user_certificate: "userCertificate;binary".into(),
            member: "member".into(),
        }
    }
}

/// Revocation checking: CRLs fetched from the certificates' distribution
/// points over HTTP.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrlConfig {
    /// Check revocation of the certificates ResolveRecipients returns
    /// (ValidateCert checks when the client sends CheckCRL).
    pub check_resolve_recipients: bool,
    /// In ResolveRecipients, whether a certificate whose revocation status
    /// cannot be learnt (CRL server down) is returned: "reject" or "accept".
    pub unknown_status: UnknownStatus,
    /// Seconds to connect to and read a whole CRL.
    pub fetch_timeout_secs: u64,
    /// The largest CRL read, in bytes.
    pub max_bytes: usize,
    /// The longest a CRL is kept, in seconds, even if its nextUpdate is
    /// later.
    pub max_cache_secs: u64,
    /// Seconds before a CRL that could not be fetched is tried again.
    pub retry_secs: u64,
    /// An HTTP proxy for CRL fetches, `http://host:port`; empty fetches
    /// directly.
    pub http_proxy: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownStatus {
    Reject,
    Accept,
}

impl Default for CrlConfig {
    fn default() -> Self {
        CrlConfig {
            check_resolve_recipients: true,
            unknown_status: UnknownStatus::Reject,
            fetch_timeout_secs: 5,
            max_bytes: 10 * 1024 * 1024,
            max_cache_secs: 86_400,
            retry_secs: 60,
            http_proxy: String::new(),
        }
    }
}
