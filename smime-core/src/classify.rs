//! Which kind of S/MIME message a MIME message is, from its headers alone:
//! nothing is decoded, decrypted or verified, and no byte is changed.
//!
//! The server needs this for MessageClass (MS-ASEMAIL 2.2.2.49:
//! IPM.Note.SMIME for encrypted and opaque-signed messages,
//! IPM.Note.SMIME.MultipartSigned for clear-signed ones) and to know that a
//! message must travel byte for byte.

/// The S/MIME shape of a message (RFC 8551 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classification {
    /// Not S/MIME.
    Plain,
    /// `multipart/signed` with a PKCS#7 signature: readable, signed.
    ClearSigned,
    /// `application/pkcs7-mime; smime-type=signed-data`: signed, and
    /// unreadable without a CMS parser.
    OpaqueSigned,
    /// `application/pkcs7-mime; smime-type=enveloped-data` (or
    /// authEnveloped-data): encrypted. Whether it was signed first cannot be
    /// seen without the recipient's key.
    Enveloped,
    /// `multipart/signed` whose signed content is itself encrypted: both
    /// layers are visible from outside.
    SignedEnveloped,
    /// `application/pkcs7-mime; smime-type=certs-only`: certificates only.
    CertsOnly,
}

impl Classification {
    /// The MessageClass an EAS client expects (MS-ASEMAIL 2.2.2.49).
    pub fn message_class(self) -> &'static str {
        match self {
            Classification::Plain => "IPM.Note",
            Classification::ClearSigned | Classification::SignedEnveloped => {
                "IPM.Note.SMIME.MultipartSigned"
            }
            Classification::OpaqueSigned
            | Classification::Enveloped
            | Classification::CertsOnly => "IPM.Note.SMIME",
        }
    }

    pub fn is_smime(self) -> bool {
        self != Classification::Plain
    }
}

/// Classifies a raw message by its top-level Content-Type and, for
/// `multipart/signed`, the Content-Type of its first part.
pub fn classify(raw: &[u8]) -> Classification {
    let (headers, body) = split_headers(raw);
    let Some(ct) = header(headers, "content-type") else {
        return Classification::Plain;
    };
    let ct = ContentType::parse(&ct);
    match (ct.kind.as_str(), ct.param("smime-type").as_deref()) {
        ("application/pkcs7-mime" | "application/x-pkcs7-mime", smime) => {
            match smime.map(str::to_ascii_lowercase).as_deref() {
                Some("signed-data") => Classification::OpaqueSigned,
                Some("certs-only") => Classification::CertsOnly,
                // enveloped-data, authEnveloped-data, and the parameter's
                // absence, which old clients omit for encrypted mail.
                _ => Classification::Enveloped,
            }
        }
        ("multipart/signed", _) => {
            let protocol = ct.param("protocol").map(|p| p.to_ascii_lowercase());
            if !matches!(
                protocol.as_deref(),
                Some("application/pkcs7-signature" | "application/x-pkcs7-signature")
            ) {
                return Classification::Plain;
            }
            let inner = ct
                .param("boundary")
                .and_then(|b| first_part_headers(body, &b))
                .and_then(|h| header(h, "content-type"))
                .map(|c| ContentType::parse(&c));
            match inner {
                Some(inner)
                    if matches!(
                        inner.kind.as_str(),
                        "application/pkcs7-mime" | "application/x-pkcs7-mime"
                    ) =>
                {
                    Classification::SignedEnveloped
                }
                _ => Classification::ClearSigned,
            }
        }
        _ => Classification::Plain,
    }
}

/// The header block and the body, split at the first empty line.
fn split_headers(raw: &[u8]) -> (&[u8], &[u8]) {
    let mut i = 0;
    while i < raw.len() {
        let rest = raw.get(i..).unwrap_or_default();
        if rest.starts_with(b"\r\n") {
            return (
                raw.get(..i).unwrap_or_default(),
                raw.get(i + 2..).unwrap_or_default(),
            );
        }
        if rest.starts_with(b"\n") {
            return (
                raw.get(..i).unwrap_or_default(),
                raw.get(i + 1..).unwrap_or_default(),
            );
        }
        // Next line.
        match rest.iter().position(|&b| b == b'\n') {
            Some(n) => i += n + 1,
            None => break,
        }
    }
    (raw, &[])
}

/// The unfolded value of the first header with this (lower-case) name.
fn header(headers: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(headers);
    let mut value: Option<String> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with([' ', '\t']) {
            if let Some(v) = value.as_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.trim().eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_owned());
            }
        }
    }
    value
}

/// The headers of the first part of a multipart body.
fn first_part_headers<'a>(body: &'a [u8], boundary: &str) -> Option<&'a [u8]> {
    let delimiter = format!("--{boundary}");
    let start = find(body, delimiter.as_bytes())?;
    let after = body.get(start + delimiter.len()..)?;
    let line_end = after.iter().position(|&b| b == b'\n')?;
    let part = after.get(line_end + 1..)?;
    Some(split_headers(part).0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A parsed Content-Type: the lower-case type/subtype and its parameters.
struct ContentType {
    kind: String,
    params: Vec<(String, String)>,
}

impl ContentType {
    fn parse(value: &str) -> ContentType {
        let mut parts = split_params(value).into_iter();
        let kind = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let params = parts
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                Some((k.trim().to_ascii_lowercase(), v.to_owned()))
            })
            .collect();
        ContentType { kind, params }
    }

    fn param(&self, name: &str) -> Option<String> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Splits at `;` outside quoted strings.
fn split_params(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' if !quoted => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    out.push(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let plain = b"From: a\r\nContent-Type: text/plain\r\n\r\nhi\r\n";
        assert_eq!(classify(plain), Classification::Plain);
        assert_eq!(
            classify(b"Subject: none\r\n\r\nbody"),
            Classification::Plain
        );

        let clear = b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n micalg=sha-256; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\nContent-Type: application/pkcs7-signature\r\n\r\nAAA\r\n--b1--\r\n";
        assert_eq!(classify(clear), Classification::ClearSigned);
        assert_eq!(
            classify(clear).message_class(),
            "IPM.Note.SMIME.MultipartSigned"
        );

        let opaque = b"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n\r\nMIIB";
        assert_eq!(classify(opaque), Classification::OpaqueSigned);
        assert_eq!(classify(opaque).message_class(), "IPM.Note.SMIME");

        let enveloped = b"MIME-Version: 1.0\nContent-Type: application/x-pkcs7-mime; smime-type=\"enveloped-data\"; name=\"smime.p7m\"\n\nMIIB";
        assert_eq!(classify(enveloped), Classification::Enveloped);

        let signed_enveloped = b"Content-Type: multipart/signed; protocol=\"application/x-pkcs7-signature\"; boundary=X\r\n\r\npreamble\r\n--X\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMIIB\r\n--X--\r\n";
        assert_eq!(classify(signed_enveloped), Classification::SignedEnveloped);

        // PGP/MIME is multipart/signed too, but not S/MIME.
        let pgp = b"Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=x\r\n\r\n";
        assert_eq!(classify(pgp), Classification::Plain);
    }

    #[test]
    fn never_panics_on_garbage() {
        for raw in [
            &b""[..],
            b"\n",
            b"Content-Type",
            b"Content-Type: multipart/signed; boundary=\"",
            b"\xff\xfe:\r\n\r\n",
        ] {
            let _ = classify(raw);
        }
    }
}
