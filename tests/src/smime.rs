//! S/MIME as a phone builds it, with the `openssl` command line: a
//! throwaway CA and user certificates made in a temporary directory,
//! messages clear-signed (multipart/signed), opaque-signed (signed-data),
//! encrypted (enveloped-data) and signed then encrypted, and the checks a
//! recipient makes: `openssl smime -verify` and `-decrypt`.
//!
//! openssl writes the S/MIME entity (`-crlfeol`: CRLF line ends, as on the
//! wire); the tests put From, To, Subject, Date and Message-ID in front of
//! it, as a client's composer does.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::server::TempDir;

fn openssl() -> PathBuf {
    crate::require_tool("openssl", "openssl")
}

/// openssl 3's `-crlfeol` ends the MIME header lines with CRLF but leaves
/// the base64 lines of the CMS blob with bare LF; a phone's composer writes
/// CRLF throughout, and a message with bare LFs cannot cross SMTP DATA
/// unchanged. Line ends of base64 text carry no data, and the signed part of
/// a multipart/signed is canonicalised to CRLF before it is hashed
/// (RFC 8551 3.1.1), so this changes no signature. It also turns a Maildir
/// file (LF line ends) back into the message as it was on the wire.
pub fn crlf_throughout(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 64);
    let mut prev = 0u8;
    for &b in raw {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Runs openssl with `args` in `dir`; panics with its output on failure.
fn run(dir: &Path, args: &[&str]) {
    let out = Command::new(openssl())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running openssl {args:?}: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Like [`run`], returning the error output instead of panicking.
fn try_run(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new(openssl())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A user's certificate and key, as files.
#[derive(Debug, Clone)]
pub struct User {
    pub email: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A CA, the users it certified, and a scratch directory.
#[derive(Debug)]
pub struct Pki {
    dir: TempDir,
    pub ca: PathBuf,
    n: std::cell::Cell<u32>,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = TempDir::new("pki");
        let d = dir.path();
        run(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "30",
                "-subj",
                "/CN=eas test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        Pki {
            ca: d.join("ca.pem"),
            dir,
            n: std::cell::Cell::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A certificate for S/MIME (emailProtection, the address as
    /// subjectAltName) signed by the CA.
    pub fn user(&self, name: &str, email: &str) -> User {
        let d = self.dir.path();
        let ext = d.join(format!("{name}.ext"));
        std::fs::write(
            &ext,
            format!(
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=emailProtection\nsubjectAltName=email:{email}\n"
            ),
        )
        .unwrap();
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let cert = format!("{name}.pem");
        run(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/CN={name}/emailAddress={email}"),
            ],
        );
        run(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "30",
                "-out",
                &cert,
                "-extfile",
                ext.to_str().unwrap(),
            ],
        );
        User {
            email: email.to_owned(),
            cert: d.join(cert),
            key: d.join(key),
        }
    }

    fn scratch(&self, label: &str) -> PathBuf {
        let n = self.n.get() + 1;
        self.n.set(n);
        self.dir.path().join(format!("{label}-{n}"))
    }

    /// `openssl smime ARGS -in INPUT -out OUT LAST...`: `last` are the
    /// operands that must follow the options (recipients' certificates).
    fn smime(&self, args: &[&str], input: &[u8], last: &[&str]) -> Vec<u8> {
        let inp = self.scratch("in");
        let out = self.scratch("out");
        std::fs::write(&inp, input).unwrap();
        let mut all = vec!["smime"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-in", inp.to_str().unwrap(), "-out", out.to_str().unwrap()]);
        all.extend_from_slice(last);
        run(self.dir.path(), &all);
        crlf_throughout(&std::fs::read(out).unwrap())
    }

    /// multipart/signed with a detached signature over `entity` (a MIME
    /// entity: its Content-Type and body).
    pub fn sign_clear(&self, signer: &User, entity: &[u8]) -> Vec<u8> {
        self.smime(
            &[
                "-sign",
                "-signer",
                signer.cert.to_str().unwrap(),
                "-inkey",
                signer.key.to_str().unwrap(),
                "-crlfeol",
            ],
            entity,
            &[],
        )
    }

    /// application/pkcs7-mime; smime-type=signed-data.
    pub fn sign_opaque(&self, signer: &User, entity: &[u8]) -> Vec<u8> {
        self.smime(
            &[
                "-sign",
                "-nodetach",
                "-signer",
                signer.cert.to_str().unwrap(),
                "-inkey",
                signer.key.to_str().unwrap(),
                "-crlfeol",
            ],
            entity,
            &[],
        )
    }

    /// application/pkcs7-mime; smime-type=enveloped-data, AES-256, to
    /// every recipient's certificate.
    pub fn encrypt(&self, to: &[&User], entity: &[u8]) -> Vec<u8> {
        let certs: Vec<&str> = to.iter().map(|u| u.cert.to_str().unwrap()).collect();
        self.smime(&["-encrypt", "-aes256", "-crlfeol"], entity, &certs)
    }

    /// `openssl smime -verify` against the CA: the signed content, or why
    /// it failed.
    pub fn verify(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let inp = self.scratch("verify-in");
        let out = self.scratch("verify-out");
        std::fs::write(&inp, message).unwrap();
        try_run(
            self.dir.path(),
            &[
                "smime",
                "-verify",
                "-CAfile",
                self.ca.to_str().unwrap(),
                "-in",
                inp.to_str().unwrap(),
                "-out",
                out.to_str().unwrap(),
            ],
        )?;
        std::fs::read(out).map_err(|e| e.to_string())
    }

    /// `openssl smime -decrypt` with a user's key: the content, or why it
    /// failed.
    pub fn decrypt(&self, message: &[u8], user: &User) -> Result<Vec<u8>, String> {
        let inp = self.scratch("decrypt-in");
        let out = self.scratch("decrypt-out");
        std::fs::write(&inp, message).unwrap();
        try_run(
            self.dir.path(),
            &[
                "smime",
                "-decrypt",
                "-recip",
                user.cert.to_str().unwrap(),
                "-inkey",
                user.key.to_str().unwrap(),
                "-in",
                inp.to_str().unwrap(),
                "-out",
                out.to_str().unwrap(),
            ],
        )?;
        std::fs::read(out).map_err(|e| e.to_string())
    }
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}

/// The message a client sends: its address fields in front of an entity.
pub fn message(from: &str, to: &[&str], subject: &str, id: &str, entity: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nDate: Sun, 29 Nov 2026 18:00:00 +0000\r\nMessage-ID: <{id}>\r\n",
        to.join(", ")
    )
    .into_bytes();
    m.extend_from_slice(entity);
    m
}

/// A plain text entity, as the innermost part of a message.
pub fn text_entity(text: &str) -> Vec<u8> {
    format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n"
    )
    .into_bytes()
}

/// The body of a message: what follows its header block.
pub fn body_of(message: &[u8]) -> &[u8] {
    let at = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| message.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
        .unwrap_or(message.len());
    &message[at..]
}
