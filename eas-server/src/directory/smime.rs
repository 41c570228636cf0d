//! S/MIME checks for the commands: the trust store (the config's
//! `trust_dir` and what `eas-server trust add` stored), CRLs fetched on
//! demand, and [`Smime::check`], which validates one certificate with
//! smime-core and says why it failed.

use std::sync::{Arc, RwLock};

use smime_core::{Certificate, Crl, Failure, Options, Purpose, TrustStore, Verified};

use super::config::{CrlConfig, DirectoryConfig};
use super::crl::CrlCache;
use crate::store::{Store, TrustedCertificate};

/// Why a certificate was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// smime-core's verdict.
    Invalid(Failure),
    /// Revocation could not be checked because these CRLs could not be
    /// fetched (MS-ASCMD ValidateCert status 14).
    CrlUnreachable(Vec<String>),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Invalid(failure) => write!(f, "{failure}"),
            Rejection::CrlUnreachable(urls) => {
                write!(
                    f,
                    "the revocation status is unknown: cannot fetch {}",
                    urls.join(", ")
                )
            }
        }
    }
}

#[derive(Debug)]
pub struct Smime {
    trust: RwLock<Arc<TrustStore>>,
    trust_dir: String,
    crls: CrlCache,
    pub crl_config: CrlConfig,
}

/// Reads a trust directory: every `.pem`, `.crt`, `.cer` or `.der` file.
pub fn read_trust_dir(dir: &str) -> anyhow::Result<Vec<Certificate>> {
    use anyhow::Context as _;
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("[directory] trust_dir {dir}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "pem" | "crt" | "cer" | "der"))
        })
        .collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let certs = smime_core::bundle::parse_any(&bytes)
            .with_context(|| format!("in {}", path.display()))?;
        out.extend(certs);
    }
    Ok(out)
}

/// The certificate of a `trust add` as the store keeps it, or why not.
pub fn trusted_record(cert: &Certificate) -> Result<TrustedCertificate, String> {
    if !cert.is_ca() {
        return Err(format!(
            "{} is not a CA certificate (basicConstraints CA:true): only roots and intermediates are trusted",
            cert.subject()
        ));
    }
    Ok(TrustedCertificate {
        fingerprint: cert.fingerprint(),
        subject: cert.subject(),
        anchor: cert.is_self_issued(),
        der: cert.der().to_vec(),
        added: crate::time::now(),
    })
}

impl Smime {
    pub fn new(directory: &DirectoryConfig, crl: &CrlConfig, store: &dyn Store) -> Smime {
        let smime = Smime {
            trust: RwLock::new(Arc::new(TrustStore::new())),
            trust_dir: directory.trust_dir.clone(),
            crls: CrlCache::new(crl.clone()),
            crl_config: crl.clone(),
        };
        if let Err(e) = smime.reload_trust(store) {
            tracing::error!("S/MIME trust anchors: {e:#}");
        }
        smime
    }

    /// Reads the trust anchors and intermediates again (after `trust add`).
    pub fn reload_trust(&self, store: &dyn Store) -> anyhow::Result<usize> {
        let mut trust = TrustStore::new();
        let mut problems = Vec::new();
        if !self.trust_dir.is_empty() {
            match read_trust_dir(&self.trust_dir) {
                Ok(certs) => {
                    for c in certs {
                        let subject = c.subject();
                        if !trust.add(c) {
                            problems.push(format!("{subject} in the trust_dir is not a CA"));
                        }
                    }
                }
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        for record in store.trusted()? {
            match Certificate::from_der(&record.der) {
                Ok(c) => {
                    trust.add(c);
                }
                Err(e) => problems.push(format!("stored {}: {e}", record.subject)),
            }
        }
        let count = trust.anchors().len() + trust.intermediates().len();
        *self.trust.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(trust);
        if problems.is_empty() {
            Ok(count)
        } else {
            anyhow::bail!("{}", problems.join("; "))
        }
    }

    pub fn trust(&self) -> Arc<TrustStore> {
        self.trust.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Validates `cert` now, for `purpose`, for `address` if given, with
    /// the client's intermediates; with `revocation`, the CRLs of the
    /// certificate and its intermediates are fetched (or taken from the
    /// cache) and checked.
    pub async fn check(
        &self,
        cert: &Certificate,
        purpose: Purpose,
        address: Option<&str>,
        extra_intermediates: &[Certificate],
        revocation: bool,
    ) -> Result<Verified, Rejection> {
        let trust = self.trust();
        let mut options = Options {
            time: crate::time::now(),
            purpose,
            address,
            extra_intermediates,
            revocation: None,
        };
        let verified = smime_core::validate(cert, &trust, &options).map_err(Rejection::Invalid)?;
        if !revocation {
            return Ok(verified);
        }
        let mut crls: Vec<Crl> = Vec::new();
        let mut unreachable = Vec::new();
        for url in verified.crl_distribution_points() {
            match self.crls.get(&url).await {
                Ok(crl) => crls.push(Crl::clone(&crl)),
                Err(_) => unreachable.push(url),
            }
        }
        options.revocation = Some(&crls);
        match smime_core::validate(cert, &trust, &options) {
            Ok(v) => Ok(v),
            Err(Failure::RevocationUnknown(_)) if !unreachable.is_empty() => {
                Err(Rejection::CrlUnreachable(unreachable))
            }
            Err(f) => Err(Rejection::Invalid(f)),
        }
    }
}
