//! ValidateCert (MS-ASCMD 2.2.1.22): each certificate the client sends is
//! validated as a signer's certificate (it came with signed mail) against
//! the server's trust anchors and intermediates, with the client's
//! CertificateChain as further intermediates, and, with CheckCRL, against
//! the CRLs of its distribution points. Each gets its own status; the
//! trace says why, by fingerprint.
//!
//! The request names no address, so status 12 (the certificate does not
//! match the sender) never arises here; a certificate that names no
//! address at all gets 10.

use eas_proto::command::validatecert::{Request, Response, Status, decode_certificate};
use eas_proto::wbxml::Element;
use smime_core::{Certificate, Failure, Purpose};

use super::{Context, Outcome, note_bad_request};
use crate::directory::smime::Rejection;

/// The status MS-ASCMD 2.2.3.177.18 gives each outcome.
pub fn status_for(rejection: &Rejection) -> Status {
    match rejection {
        Rejection::CrlUnreachable(_) => Status::REVOCATION_SERVER_UNREACHABLE,
        Rejection::Invalid(f) => match f {
            Failure::Malformed(_) => Status::CHAIN_MALFORMED,
            Failure::Expired { .. } | Failure::NotYetValid { .. } => Status::EXPIRED,
            Failure::ChainTime => Status::CHAIN_TIME,
            Failure::UntrustedRoot => Status::UNTRUSTED,
            Failure::BadSignature | Failure::UnsupportedAlgorithm => Status::BAD_SIGNATURE,
            Failure::WrongUsage(_) => Status::NOT_FOR_EMAIL,
            Failure::CaAsEndEntity => Status::USED_INCORRECTLY,
            Failure::ChainMisuse(_) => Status::CHAIN_USED_INCORRECTLY,
            Failure::NoAddress => Status::INFORMATION_MISSING,
            Failure::AddressMismatch { .. } => Status::ADDRESS_MISMATCH,
            Failure::Revoked => Status::REVOKED,
            Failure::ChainRevoked => Status::CHAIN_REVOKED,
            Failure::RevocationUnknown(_) => Status::REVOCATION_UNKNOWN,
            _ => Status::SERVER_ERROR,
        },
    }
}

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(Request::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return Outcome::Wbxml(Response::new(Status::PROTOCOL_ERROR).to_element());
        }
        None => {
            ctx.notes.push("ValidateCert without a body".into());
            return Outcome::Wbxml(Response::new(Status::PROTOCOL_ERROR).to_element());
        }
    };
    let mut chain: Vec<Certificate> = Vec::new();
    for (i, b64) in request.chain.iter().enumerate() {
        match decode_certificate(b64).map(|der| smime_core::bundle::parse_any(&der)) {
            Some(Ok(certs)) => chain.extend(certs),
            Some(Err(e)) => ctx
                .notes
                .push(format!("CertificateChain #{}: ignored: {e}", i + 1)),
            None => ctx
                .notes
                .push(format!("CertificateChain #{}: ignored: not base64", i + 1)),
        }
    }
    let smime = &ctx.state.directory.smime;
    let mut response = Response::new(Status::SUCCESS);
    for (i, b64) in request.certificates.iter().enumerate() {
        let n = i + 1;
        let Some(der) = decode_certificate(b64) else {
            ctx.notes.push(format!("certificate #{n}: not base64"));
            response.certificates.push(Status::CHAIN_MALFORMED);
            continue;
        };
        // The certificate itself; a bundle's other certificates help build
        // the chain.
        let parsed = match smime_core::bundle::parse_any(&der) {
            Ok(certs) => certs,
            Err(e) => {
                ctx.notes.push(format!("certificate #{n}: malformed: {e}"));
                response.certificates.push(Status::CHAIN_MALFORMED);
                continue;
            }
        };
        let at = parsed.iter().position(|c| !c.is_ca()).unwrap_or(0);
        let Some(cert) = parsed.get(at).cloned() else {
            response.certificates.push(Status::CHAIN_MALFORMED);
            continue;
        };
        let rest = parsed
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .map(|(_, c)| c);
        let mut intermediates = chain.clone();
        intermediates.extend(rest);
        let fp = cert.fingerprint();
        let status = match smime
            .check(
                &cert,
                Purpose::Signing,
                None,
                &intermediates,
                request.check_crl,
            )
            .await
        {
            Ok(_) => {
                ctx.notes
                    .push(format!("certificate #{n} sha256:{fp}: valid"));
                Status::SUCCESS
            }
            Err(why) => {
                let status = status_for(&why);
                ctx.notes.push(format!(
                    "certificate #{n} sha256:{fp}: status {}: {why}",
                    status.0
                ));
                status
            }
        };
        response.certificates.push(status);
    }
    Outcome::Wbxml(response.to_element())
}
