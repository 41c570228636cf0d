//! The server's TLS identity: the files the administrator gives, or a
//! self-signed certificate made once in the data directory and reused, so a
//! phone that accepted it once keeps trusting it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

/// A loaded certificate chain and key, ready for rustls.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// Where the certificate came from, for the start banner.
    pub cert_path: PathBuf,
    /// Whether it was generated here (phones will ask to trust it).
    pub self_signed: bool,
}

impl Identity {
    /// The SHA-256 fingerprint of the leaf certificate, as browsers and
    /// phones show it (`AB:CD:...`).
    pub fn fingerprint(&self) -> String {
        let leaf = self.chain.first().map(|c| c.as_ref()).unwrap_or_default();
        Sha256::digest(leaf)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// Loads PEM files given on the command line.
pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Identity> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading the TLS certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing the TLS certificate {}", cert.display()))?;
    if chain.is_empty() {
        bail!("{} holds no PEM certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| {
        format!(
            "reading the TLS key {} (PEM, PKCS#8, PKCS#1 or SEC1)",
            key.display()
        )
    })?;
    Ok(Identity {
        chain,
        key,
        cert_path: cert.to_path_buf(),
        self_signed: false,
    })
}

/// The self-signed identity in `dir`, generated on first use for the names
/// phones will connect to: localhost, the loopback addresses, and `host`
/// when it is a name or address other than those.
pub fn self_signed(dir: &Path, host: &str) -> anyhow::Result<Identity> {
    let cert_path = dir.join("tls-cert.pem");
    let key_path = dir.join("tls-key.pem");
    if !cert_path.exists() || !key_path.exists() {
        let mut names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        if !host.is_empty() && !names.iter().any(|n| n == host) {
            names.push(host.to_owned());
        }
        let certified = rcgen::generate_simple_self_signed(names)
            .context("generating a self-signed certificate")?;
        std::fs::write(&cert_path, certified.cert.pem())
            .with_context(|| format!("writing {}", cert_path.display()))?;
        write_private(&key_path, certified.signing_key.serialize_pem().as_bytes())?;
    }
    let mut identity = load(&cert_path, &key_path)?;
    identity.self_signed = true;
    Ok(identity)
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// A rustls server configuration with the ring provider set explicitly and
/// only TLS 1.2 and 1.3, HTTP/1.1 by ALPN (EAS is HTTP/1.1).
pub fn server_config(identity: Identity) -> anyhow::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("choosing TLS versions")?
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)
        .context("the TLS certificate and key do not match or are not supported")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // TLS 1.3 resumption by stateless tickets: phones reconnect after
    // every network change, and a ticket spares both sides a full
    // handshake. The ticket carries the session, so the server keeps
    // nothing per phone; the default in-memory cache holds 256 sessions,
    // which a fleet of thousands would churn through.
    config.ticketer =
        rustls::crypto::ring::Ticketer::new().context("making the TLS session ticket key")?;
    Ok(Arc::new(config))
}
