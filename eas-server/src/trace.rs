//! Traces: for the accounts (or single devices) an administrator picked with
//! `eas-server trace on`, every request and response written out as the
//! request line, the headers and the body decoded to XML, one file per
//! device per day under `DATA/traces/ACCOUNT/DEVICE/YYYY-MM-DD.log`.
//!
//! Credentials never reach a trace: the Authorization header's value is
//! replaced before anything is written, and bodies hold no passwords.
//!
//! Certificates are shown by fingerprint: in ResolveRecipients and
//! ValidateCert bodies, each `Certificate` and `MiniCertificate` is written
//! as `sha256:<hex of the SHA-256 of its bytes> (<n> bytes)` instead of its
//! base64 ([`for_trace`]), the fingerprint the commands' notes use when
//! they say why a certificate was returned or not.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use base64::Engine as _;
use eas_proto::codepages::{resolverecipients as rr, validatecert as vc};
use eas_proto::wbxml::{Element, NodeRef, Tag};
use hyper::HeaderMap;
use sha2::Digest as _;

use crate::time;

#[derive(Debug)]
pub struct Traces {
    dir: PathBuf,
    /// (account, Some(device)) or (account, None) for every device.
    enabled: RwLock<HashSet<(String, Option<String>)>>,
    /// Serialises appends so entries from concurrent requests do not mix.
    write: Mutex<()>,
}

/// One exchange to record.
#[derive(Debug)]
pub struct Entry<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub request_headers: &'a HeaderMap,
    pub request_body: &'a str,
    pub status: u16,
    pub response_headers: &'a HeaderMap,
    pub response_body: &'a str,
    /// Why the server answered as it did, when that is not obvious.
    pub notes: &'a [String],
}

impl Traces {
    pub fn new(
        data_dir: &Path,
        enabled: impl IntoIterator<Item = (String, Option<String>)>,
    ) -> Traces {
        Traces {
            dir: data_dir.join("traces"),
            enabled: RwLock::new(enabled.into_iter().collect()),
            write: Mutex::new(()),
        }
    }

    pub fn set(&self, account: &str, device: Option<&str>, on: bool) {
        let key = (account.to_owned(), device.map(str::to_owned));
        let mut enabled = self.enabled.write().unwrap_or_else(|e| e.into_inner());
        if on {
            enabled.insert(key);
        } else {
            enabled.remove(&key);
        }
    }

    pub fn is_on(&self, account: &str, device: &str) -> bool {
        let enabled = self.enabled.read().unwrap_or_else(|e| e.into_inner());
        if enabled.is_empty() {
            return false;
        }
        enabled.contains(&(account.to_owned(), None))
            || enabled.contains(&(account.to_owned(), Some(device.to_owned())))
    }

    /// Where a device's trace for today goes. Both names were validated
    /// before (account names and DeviceIds cannot hold `/` or `..`).
    pub fn path(&self, account: &str, device: &str, unix: u64) -> PathBuf {
        self.dir
            .join(account)
            .join(device)
            .join(format!("{}.log", time::date(unix)))
    }

    pub fn record(&self, account: &str, device: &str, entry: &Entry<'_>) {
        let now = time::now();
        let path = self.path(account, device, now);
        let mut text = String::new();
        let _ = writeln!(
            text,
            "=== {} {} {}",
            time::rfc3339(now),
            entry.method,
            entry.uri
        );
        write_headers(&mut text, entry.request_headers);
        let _ = writeln!(text, "\n{}", entry.request_body.trim_end());
        let _ = writeln!(text, "--- HTTP {}", entry.status);
        write_headers(&mut text, entry.response_headers);
        let _ = writeln!(text, "\n{}", entry.response_body.trim_end());
        for note in entry.notes {
            let _ = writeln!(text, "# {note}");
        }
        text.push('\n');
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let result = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(text.as_bytes()))
            });
        if let Err(e) = result {
            tracing::warn!(path = %path.display(), error = %e, "could not write a trace");
        }
    }
}

/// The document as a trace shows it: ResolveRecipients and ValidateCert
/// with their certificate bodies shortened to fingerprints; any other
/// command as it is (no copy).
pub fn for_trace<'e, 'a>(el: &'e Element<'a>) -> Cow<'e, Element<'a>> {
    if el.tag == rr::ResolveRecipients || el.tag == vc::ValidateCert {
        Cow::Owned(shorten_certificates(el))
    } else {
        Cow::Borrowed(el)
    }
}

fn is_certificate(tag: Tag) -> bool {
    tag == rr::Certificate || tag == rr::MiniCertificate || tag == vc::Certificate
}

/// A certificate's bytes as the trace names them.
pub fn fingerprint_text(bytes: &[u8]) -> String {
    let hex: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex} ({} bytes)", bytes.len())
}

fn shorten_certificates(el: &Element<'_>) -> Element<'static> {
    if is_certificate(el.tag) {
        if let Some(text) = el.text_content() {
            let compact: String = text.split_whitespace().collect();
            let shown = match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
                Ok(bytes) => fingerprint_text(&bytes),
                Err(_) => format!("(not base64, {} characters)", text.len()),
            };
            return Element::text(el.tag, shown);
        }
        if let Some(bytes) = el.opaque_content() {
            return Element::text(el.tag, fingerprint_text(bytes));
        }
    }
    let mut out = Element::new(el.tag);
    for node in el.nodes() {
        match node {
            NodeRef::Element(child) => out.push(shorten_certificates(child)),
            NodeRef::Text(t) => out.push_text(t.to_owned()),
            NodeRef::Opaque(d) => out.push_opaque(d.to_vec()),
        }
    }
    out
}

fn write_headers(out: &mut String, headers: &HeaderMap) {
    for (name, value) in headers {
        let shown = if name == hyper::header::AUTHORIZATION || name == hyper::header::COOKIE {
            "<redacted>".into()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        let _ = writeln!(out, "{name}: {shown}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_is_redacted_and_scoping_works() {
        let dir = std::env::temp_dir().join(format!("eas-trace-{}", std::process::id()));
        let traces = Traces::new(
            &dir,
            [
                ("alice".to_owned(), None),
                ("bob".to_owned(), Some("d1".to_owned())),
            ],
        );
        assert!(traces.is_on("alice", "any"));
        assert!(traces.is_on("bob", "d1"));
        assert!(!traces.is_on("bob", "d2"));
        assert!(!traces.is_on("carol", "d1"));
        let mut headers = HeaderMap::new();
        headers.insert(
            hyper::header::AUTHORIZATION,
            "Basic YWxpY2U6c2VjcmV0".parse().unwrap(),
        );
        headers.insert("MS-ASProtocolVersion", "16.1".parse().unwrap());
        let entry = Entry {
            method: "POST",
            uri: "/Microsoft-Server-ActiveSync?Cmd=Settings",
            request_headers: &headers,
            request_body: "<Settings/>",
            status: 200,
            response_headers: &HeaderMap::new(),
            response_body: "<Settings><Status>1</Status></Settings>",
            notes: &["because".to_owned()],
        };
        traces.record("alice", "dev", &entry);
        let text = std::fs::read_to_string(traces.path("alice", "dev", time::now())).unwrap();
        assert!(text.contains("authorization: <redacted>"), "{text}");
        assert!(!text.contains("YWxpY2U6c2VjcmV0"));
        assert!(text.contains("ms-asprotocolversion: 16.1"));
        assert!(text.contains("# because"));
        traces.set("alice", None, false);
        assert!(!traces.is_on("alice", "any"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
