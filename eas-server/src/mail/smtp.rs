//! The SMTP client that hands mail to the smarthost (RFC 5321), built on
//! `mail-send` for the connection: TCP, implicit TLS or STARTTLS (rustls
//! with the ring provider), EHLO and AUTH. The envelope and the message
//! are sent here, because the message must arrive byte for byte:
//!
//! - With CHUNKING (RFC 3030) the message goes in one `BDAT n LAST`: the
//!   bytes exactly, no dot-stuffing, no line-ending rules.
//! - Without it, `DATA` with dot-stuffing (RFC 5321 4.5.2): a dot at the
//!   start of a line is doubled, the receiver takes it off again. (mail-send's
//!   own `data()` is not used: it ends every message with an extra CRLF and
//!   stuffs dots after a lone CR too, so the receiver would not get the
//!   bytes that were sent.)
//! - `BODY=8BITMIME` (RFC 6152) or `BODY=BINARYMIME` (RFC 3030) is declared
//!   when the message needs it. A message the smarthost cannot take as it
//!   is (8-bit text without 8BITMIME, NUL bytes or lines over 998 octets
//!   without BINARYMIME, lone CR or LF without CHUNKING, larger than its
//!   SIZE) fails for good with status 5.6.3 or 5.3.4: it is never
//!   re-encoded, since that would break a signature over it.

use std::sync::Arc;
use std::time::Duration;

use mail_send::{Credentials, SmtpClient, SmtpClientBuilder};
use smtp_proto::{
    EXT_8BIT_MIME, EXT_BINARY_MIME, EXT_CHUNKING, EXT_SIZE, EXT_SMTP_UTF8, EhloResponse, Response,
};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, BufWriter};

use super::submission::needs;
use crate::config::{SmtpConfig, SmtpTls};

/// What one attempt did for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted: the smarthost's final reply.
    Delivered(String),
    /// Try again later.
    Deferred(String),
    /// Refused for good: the enhanced status code and the reply.
    Failed { status: String, diagnostic: String },
}

/// The result of a relay attempt: one outcome per recipient, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The smarthost, for reports.
    pub remote: String,
    pub outcomes: Vec<Outcome>,
}

/// Sends `raw` from `sender` to `recipients` through the smarthost.
pub async fn relay(
    config: &SmtpConfig,
    helo: &str,
    sender: &str,
    recipients: &[String],
    raw: &[u8],
) -> Attempt {
    let remote = format!("{}:{}", config.host, config.port);
    let all = |o: Outcome| Attempt {
        remote: remote.clone(),
        outcomes: vec![o; recipients.len()],
    };
    let timeout = Duration::from_secs(config.timeout_secs.max(1));
    let connector = match tls_connector(config) {
        Ok(c) => c,
        Err(e) => return all(Outcome::Deferred(format!("TLS setup: {e}"))),
    };
    let builder =
        SmtpClientBuilder::new_with_tls_connector(config.host.clone(), config.port, connector)
            .implicit_tls(config.tls == SmtpTls::Implicit)
            .helo_host(helo)
            .say_ehlo(false)
            .timeout(timeout);
    let session = Session {
        config,
        helo,
        sender,
        recipients,
        raw,
        timeout,
    };
    let result = match config.tls {
        SmtpTls::None => match builder.connect_plain().await {
            Ok(client) => session.run(client).await,
            Err(e) => Err(failure(&e)),
        },
        SmtpTls::Starttls | SmtpTls::Implicit => match builder.connect().await {
            Ok(client) => session.run(client).await,
            Err(e) => Err(failure(&e)),
        },
    };
    match result {
        Ok(outcomes) => Attempt { remote, outcomes },
        Err(o) => all(o),
    }
}

/// How a failure of the whole session counts: a 5xx reply is permanent,
/// anything else (no connection, a timeout, TLS, a 4xx) is retried.
fn failure(e: &mail_send::Error) -> Outcome {
    match e {
        mail_send::Error::UnexpectedReply(r) if r.code >= 500 => Outcome::Failed {
            status: enhanced(r),
            diagnostic: reply_text(r),
        },
        mail_send::Error::UnexpectedReply(r) => Outcome::Deferred(reply_text(r)),
        mail_send::Error::AuthenticationFailed(r) => {
            Outcome::Deferred(format!("authentication failed: {}", reply_text(r)))
        }
        mail_send::Error::MissingStartTls => {
            Outcome::Deferred("the smarthost does not offer STARTTLS, which is required".into())
        }
        other => Outcome::Deferred(other.to_string()),
    }
}

fn reply_text(r: &Response<String>) -> String {
    let text: String = r
        .message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if r.esc[0] > 0 {
        format!("{} {}.{}.{} {text}", r.code, r.esc[0], r.esc[1], r.esc[2])
    } else {
        format!("{} {text}", r.code)
    }
}

/// The reply's enhanced status code, or one made from its class.
fn enhanced(r: &Response<String>) -> String {
    if r.esc[0] > 0 {
        format!("{}.{}.{}", r.esc[0], r.esc[1], r.esc[2])
    } else if r.code >= 500 {
        "5.0.0".into()
    } else {
        "4.0.0".into()
    }
}

fn tls_connector(config: &SmtpConfig) -> Result<tokio_rustls::TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let tls = if config.ca_file.trim().is_empty() {
        let verifier =
            rustls_platform_verifier::Verifier::new(provider).map_err(|e| e.to_string())?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(config.ca_file.trim())
            .map_err(|e| format!("[smtp] ca_file {}: {e}", config.ca_file))?
        {
            let cert = cert.map_err(|e| format!("[smtp] ca_file {}: {e}", config.ca_file))?;
            roots
                .add(cert)
                .map_err(|e| format!("[smtp] ca_file {}: {e}", config.ca_file))?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(tls)))
}

struct Session<'a> {
    config: &'a SmtpConfig,
    helo: &'a str,
    sender: &'a str,
    recipients: &'a [String],
    raw: &'a [u8],
    timeout: Duration,
}

impl Session<'_> {
    async fn run<T: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut client: SmtpClient<T>,
    ) -> Result<Vec<Outcome>, Outcome> {
        let ehlo = client.ehlo(self.helo).await.map_err(|e| failure(&e))?;
        if !self.config.username.is_empty() {
            let credentials =
                Credentials::new(self.config.username.clone(), self.config.password.0.clone());
            client
                .authenticate(&credentials, &ehlo)
                .await
                .map_err(|e| failure(&e))?;
        }
        let outcomes = self.transaction(&mut client, &ehlo).await;
        let _ = tokio::time::timeout(self.timeout, client.quit()).await;
        outcomes
    }

    async fn transaction<T: AsyncRead + AsyncWrite + Unpin>(
        &self,
        client: &mut SmtpClient<T>,
        ehlo: &EhloResponse<String>,
    ) -> Result<Vec<Outcome>, Outcome> {
        let offers = |ext| ehlo.has_capability(ext);
        let need = needs(self.raw);
        let chunking = offers(EXT_CHUNKING);
        let refuse = |why: String| Outcome::Failed {
            status: "5.6.3".into(),
            diagnostic: why,
        };
        let body = if need.binary {
            if !(offers(EXT_BINARY_MIME) && chunking) {
                return Err(refuse(
                    "the message holds NUL bytes or lines over 998 octets, and the smarthost does not offer BINARYMIME with CHUNKING; it is not re-encoded".into(),
                ));
            }
            Some("BINARYMIME")
        } else if need.eight_bit {
            if offers(EXT_8BIT_MIME) {
                Some("8BITMIME")
            } else if offers(EXT_BINARY_MIME) && chunking {
                Some("BINARYMIME")
            } else {
                return Err(refuse(
                    "the message holds 8-bit data and the smarthost does not offer 8BITMIME; it is not re-encoded".into(),
                ));
            }
        } else {
            None
        };
        if need.bare_line_breaks && !chunking {
            return Err(refuse(
                "the message holds a CR or LF outside CRLF, which DATA cannot carry unchanged, and the smarthost does not offer CHUNKING".into(),
            ));
        }
        if offers(EXT_SIZE) && ehlo.size > 0 && self.raw.len() > ehlo.size {
            return Err(Outcome::Failed {
                status: "5.3.4".into(),
                diagnostic: format!(
                    "the message is {} bytes, the smarthost takes at most {}",
                    self.raw.len(),
                    ehlo.size
                ),
            });
        }
        let utf8 = !self.sender.is_ascii() || self.recipients.iter().any(|r| !r.is_ascii());
        if utf8 && !offers(EXT_SMTP_UTF8) {
            return Err(Outcome::Failed {
                status: "5.6.7".into(),
                diagnostic: "an address is not ASCII and the smarthost does not offer SMTPUTF8"
                    .into(),
            });
        }

        let mut mail = format!("MAIL FROM:<{}>", self.sender);
        if let Some(b) = body {
            mail.push_str(&format!(" BODY={b}"));
        }
        if offers(EXT_SIZE) {
            mail.push_str(&format!(" SIZE={}", self.raw.len()));
        }
        if utf8 {
            mail.push_str(" SMTPUTF8");
        }
        mail.push_str("\r\n");
        let reply = client.cmd(mail.as_bytes()).await.map_err(|e| failure(&e))?;
        if !(200..300).contains(&reply.code) {
            return Err(judge(&reply));
        }

        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(self.recipients.len());
        for r in self.recipients {
            let reply = client
                .cmd(format!("RCPT TO:<{r}>\r\n").as_bytes())
                .await
                .map_err(|e| failure(&e))?;
            outcomes.push(if (200..300).contains(&reply.code) {
                None
            } else {
                Some(judge(&reply))
            });
        }
        if outcomes.iter().all(Option::is_some) {
            let _ = client.rset().await;
            return Ok(outcomes.into_iter().flatten().collect());
        }

        let last = if chunking {
            self.bdat(client).await
        } else {
            self.data(client).await
        };
        let last = match last {
            Ok(reply) => reply,
            // Cut off after the data went: the message may or may not have
            // been taken, and sending it again is the lesser harm.
            Err(e) => return Err(failure(&e)),
        };
        let verdict = if (200..300).contains(&last.code) {
            Outcome::Delivered(reply_text(&last))
        } else {
            judge(&last)
        };
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| verdict.clone()))
            .collect())
    }

    async fn bdat<T: AsyncRead + AsyncWrite + Unpin>(
        &self,
        client: &mut SmtpClient<T>,
    ) -> mail_send::Result<Response<String>> {
        let raw = self.raw;
        tokio::time::timeout(self.transfer_timeout(), async {
            client
                .stream
                .write_all(format!("BDAT {} LAST\r\n", raw.len()).as_bytes())
                .await?;
            client.stream.write_all(raw).await?;
            client.stream.flush().await?;
            client.read().await
        })
        .await
        .map_err(|_| mail_send::Error::Timeout)?
    }

    async fn data<T: AsyncRead + AsyncWrite + Unpin>(
        &self,
        client: &mut SmtpClient<T>,
    ) -> mail_send::Result<Response<String>> {
        let go = client.cmd(b"DATA\r\n").await?;
        if go.code != 354 {
            return Ok(go);
        }
        let raw = self.raw;
        tokio::time::timeout(self.transfer_timeout(), async {
            let mut out = BufWriter::with_capacity(64 * 1024, &mut client.stream);
            write_stuffed(&mut out, raw).await?;
            out.flush().await?;
            drop(out);
            client.read().await
        })
        .await
        .map_err(|_| mail_send::Error::Timeout)?
    }

    /// The step timeout, and a minute more per megabyte of message.
    fn transfer_timeout(&self) -> Duration {
        self.timeout + Duration::from_secs(60 * (self.raw.len() as u64 >> 20))
    }
}

/// A 4xx reply defers, a 5xx refuses.
fn judge(reply: &Response<String>) -> Outcome {
    if reply.code >= 500 {
        Outcome::Failed {
            status: enhanced(reply),
            diagnostic: reply_text(reply),
        }
    } else {
        Outcome::Deferred(reply_text(reply))
    }
}

/// Writes `raw` as DATA content (RFC 5321 4.5.2): a line that starts with
/// a dot gets another in front, and `.` on a line of its own ends it. A
/// message that does not end in CRLF gets one before the end mark, as
/// DATA requires.
async fn write_stuffed<W: AsyncWrite + Unpin>(out: &mut W, raw: &[u8]) -> std::io::Result<()> {
    let mut at_line_start = true;
    let mut start = 0;
    for (i, &b) in raw.iter().enumerate() {
        if at_line_start && b == b'.' {
            out.write_all(raw.get(start..i).unwrap_or_default()).await?;
            out.write_all(b".").await?;
            start = i;
        }
        at_line_start = b == b'\n' && i > 0 && raw.get(i - 1) == Some(&b'\r');
    }
    out.write_all(raw.get(start..).unwrap_or_default()).await?;
    if !raw.is_empty() && !raw.ends_with(b"\r\n") {
        out.write_all(b"\r\n").await?;
    }
    out.write_all(b".\r\n").await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn stuffed(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_stuffed(&mut out, raw).await.unwrap();
        out
    }

    #[tokio::test]
    async fn dots_are_doubled_at_line_starts_only() {
        assert_eq!(
            stuffed(b".a\r\nb.\r\n.\r\n..\r\n").await,
            b"..a\r\nb.\r\n..\r\n...\r\n.\r\n"
        );
        assert_eq!(stuffed(b"x\r\n").await, b"x\r\n.\r\n");
        assert_eq!(stuffed(b"x").await, b"x\r\n.\r\n");
        assert_eq!(stuffed(b"").await, b".\r\n");
    }
}
