//! ResolveRecipients (MS-ASCMD 2.2.1.15): each `To` looked up in the
//! directory (an address exactly, else names by prefix); one match is
//! resolved, several are suggestions (Status 2, or 3 when more exist than
//! MaxAmbiguousRecipients), none is Status 4. With CertificateRetrieval 2
//! or 3, a person's certificates are read from userSMIMECertificate first,
//! then userCertificate (every value counts), validated for encryption to
//! the recipient's address (chain, usage, revocation), and only the valid
//! ones returned; a distribution list returns each member's newest valid
//! certificate. The trace says, for every certificate considered, why it
//! was returned or not (the check that failed, MaxCertificates, a list
//! member's older certificate), by its SHA-256 fingerprint; the trace's
//! copy of the response shows the certificates by the same fingerprints
//! (`trace::for_trace`).
//!
//! MaxCertificates counts over the whole response and a recipient gets
//! all of its valid certificates or none: one that would pass the limit
//! gets Status 8 and CertificateCount, the number not returned.
//!
//! Availability and Picture are answered with their statuses (163, no
//! free/busy data; 173, no photo) until calendar and photos exist. The
//! account's contacts are not searched yet: contacts do not sync yet.

use eas_proto::command::resolverecipients::{
    Availability, CertificateRetrieval, Certificates, Picture, Recipient, RecipientResponse,
    RecipientType, Request, Response, Status,
};
use eas_proto::wbxml::Element;
use smime_core::{Certificate, MiniCertificate, Purpose};

use super::{Context, Outcome, note_bad_request};
use crate::directory::DirectoryService;
use crate::directory::config::UnknownStatus;
use crate::directory::smime::Rejection;
use crate::store::{DirectoryEntry, EntryKind};

/// MS-ASCMD 2.2.3.104.1 and 2.2.3.106: MaxCertificates and
/// MaxAmbiguousRecipients lie in 0..=9999.
const MAX_LIMIT: u32 = 9999;
/// MS-ASCMD 2.2.3.183: with Availability, at most 100 recipients.
const MAX_AVAILABILITY_RECIPIENTS: usize = 100;
/// MS-ASCMD 2.2.3.183: free/busy of a list of more than 20 members is
/// refused (Status 161).
const MAX_AVAILABILITY_LIST: usize = 20;

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let protocol_error = || Outcome::Wbxml(Response::new(Status::PROTOCOL_ERROR).to_element());
    let request = match request.map(Request::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return protocol_error();
        }
        None => {
            ctx.notes.push("ResolveRecipients without a body".into());
            return protocol_error();
        }
    };
    let directory = &ctx.state.directory;
    let options = &request.options;
    let retrieval = options
        .certificate_retrieval
        .unwrap_or(CertificateRetrieval::NONE);
    if !retrieval.is_known() {
        ctx.notes.push(format!(
            "CertificateRetrieval {} is not 1, 2 or 3",
            retrieval.0
        ));
        return protocol_error();
    }
    if options.max_certificates.is_some_and(|m| m > MAX_LIMIT)
        || options
            .max_ambiguous_recipients
            .is_some_and(|m| m > MAX_LIMIT)
    {
        ctx.notes
            .push("MaxCertificates or MaxAmbiguousRecipients beyond 9999".into());
        return protocol_error();
    }
    if request.to.len() > directory.config.max_recipients {
        ctx.notes.push(format!(
            "{} recipients, more than the {} allowed",
            request.to.len(),
            directory.config.max_recipients
        ));
        return protocol_error();
    }
    if let Some(a) = &options.availability {
        if let (Some(start), Some(end)) = (&a.start_time, &a.end_time) {
            if start.as_str() >= end.as_str() {
                ctx.notes
                    .push("Availability EndTime is not after StartTime".into());
                return protocol_error();
            }
        }
    }
    let max_suggestions = options
        .max_ambiguous_recipients
        .map_or(directory.config.max_results, |m| {
            usize::try_from(m).unwrap_or(usize::MAX)
        })
        .min(directory.config.max_results);
    let mut budget = CertificateBudget {
        left: options.max_certificates,
    };
    let availability_too_many = request.to.len() > MAX_AVAILABILITY_RECIPIENTS;

    let mut response = Response::new(Status::SUCCESS);
    for to in &request.to {
        // One more than the suggestions shown, to know when there are more.
        let found = match directory
            .resolve(to, max_suggestions.max(1).saturating_add(1))
            .await
        {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(account = %ctx.account.name, error = %e, "ResolveRecipients: the directory did not answer");
                ctx.notes.push(format!("{to}: {e}"));
                return Outcome::Wbxml(Response::new(Status::SERVER_ERROR).to_element());
            }
        };
        let mut entries = found.entries;
        // A name typed in full picks its entry among others it prefixes.
        if entries.len() > 1 {
            let exact: Vec<DirectoryEntry> = entries
                .iter()
                .filter(|e| e.display_name.eq_ignore_ascii_case(to.trim()))
                .cloned()
                .collect();
            if exact.len() == 1 {
                entries = exact;
            }
        }
        let total = found.total.max(entries.len());
        let answer = match entries.as_slice() {
            [] => {
                ctx.notes.push(format!("{to}: no match"));
                RecipientResponse {
                    to: to.clone(),
                    status: Status::NOT_FOUND,
                    recipient_count: Some(0),
                    recipients: Vec::new(),
                }
            }
            [entry] if entries.len() == total => {
                let recipient = resolved(
                    ctx,
                    directory,
                    entry,
                    retrieval,
                    &mut budget,
                    options.availability.is_some(),
                    availability_too_many,
                    options.picture.is_some(),
                )
                .await;
                let recipient = match recipient {
                    Ok(r) => r,
                    Err(e) => {
                        ctx.notes.push(format!("{to}: {e}"));
                        return Outcome::Wbxml(Response::new(Status::SERVER_ERROR).to_element());
                    }
                };
                RecipientResponse {
                    to: to.clone(),
                    status: Status::SUCCESS,
                    recipient_count: Some(1),
                    recipients: vec![recipient],
                }
            }
            _ => {
                let partial = total > max_suggestions;
                ctx.notes.push(format!(
                    "{to}: ambiguous, {total} matches, {} suggested",
                    total.min(max_suggestions)
                ));
                RecipientResponse {
                    to: to.clone(),
                    status: if partial {
                        Status::AMBIGUOUS_PARTIAL
                    } else {
                        Status::AMBIGUOUS
                    },
                    recipient_count: Some(u32::try_from(total).unwrap_or(u32::MAX)),
                    recipients: entries
                        .iter()
                        .take(max_suggestions)
                        .map(|e| Recipient {
                            kind: RecipientType::GAL,
                            display_name: e.display_name.clone(),
                            email_address: e.email.clone(),
                            availability: None,
                            certificates: None,
                            picture: None,
                        })
                        .collect(),
                }
            }
        };
        response.responses.push(answer);
    }
    Outcome::Wbxml(response.to_element())
}

/// MaxCertificates counts over the whole response, and a recipient gets
/// all of its certificates or none (MS-ASCMD 2.2.3.101: "no individual
/// recipient receives an incomplete set of certificates").
struct CertificateBudget {
    left: Option<u32>,
}

impl CertificateBudget {
    /// Takes `n` certificates if that many are left.
    fn take(&mut self, n: u32) -> bool {
        match &mut self.left {
            None => true,
            Some(left) if *left >= n => {
                *left -= n;
                true
            }
            Some(_) => false,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn resolved(
    ctx: &mut Context<'_>,
    directory: &DirectoryService,
    entry: &DirectoryEntry,
    retrieval: CertificateRetrieval,
    budget: &mut CertificateBudget,
    availability: bool,
    availability_too_many: bool,
    picture: bool,
) -> Result<Recipient, crate::directory::DirectoryError> {
    let members = match entry.kind {
        EntryKind::Group => Some(directory.expand(entry).await?),
        EntryKind::Person => None,
    };
    let certificates = if retrieval == CertificateRetrieval::NONE {
        None
    } else {
        Some(match &members {
            None => {
                let valid = valid_certificates(ctx, directory, entry).await;
                let valid = valid
                    .into_iter()
                    .map(|c| (entry.email.clone(), c))
                    .collect();
                certificates_element(ctx, valid, None, retrieval, budget)
            }
            Some(members) => {
                // Each member's newest valid certificate.
                let mut valid = Vec::new();
                for m in members {
                    let mut mine = valid_certificates(ctx, directory, m).await;
                    mine.sort_by_key(|c| std::cmp::Reverse(c.not_before()));
                    let mut mine = mine.into_iter();
                    if let Some(first) = mine.next() {
                        valid.push((m.email.clone(), first));
                    }
                    for older in mine {
                        ctx.notes.push(format!(
                            "{}: certificate sha256:{}: not returned: {} is a list member, who gets only the newest valid certificate",
                            m.email,
                            older.fingerprint(),
                            m.email
                        ));
                    }
                }
                let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
                certificates_element(ctx, valid, Some(count), retrieval, budget)
            }
        })
    };
    let availability = availability.then(|| Availability {
        status: if availability_too_many {
            Status::AVAILABILITY_TOO_MANY_RECIPIENTS
        } else if members
            .as_ref()
            .is_some_and(|m| m.len() > MAX_AVAILABILITY_LIST)
        {
            Status::AVAILABILITY_LIST_TOO_LARGE
        } else {
            // No calendar yet: free/busy data cannot be had.
            Status::AVAILABILITY_FAILURE
        },
        merged_free_busy: None,
    });
    let picture =
        (picture && ctx.version >= eas_proto::ProtocolVersion::V14_1).then_some(Picture {
            status: Status::NO_PICTURE,
            data: None,
        });
    Ok(Recipient {
        kind: RecipientType::GAL,
        display_name: entry.display_name.clone(),
        email_address: entry.email.clone(),
        availability,
        certificates,
        picture,
    })
}

/// The `Certificates` element of one recipient (a person, or a list with
/// `recipient_count` members) from the valid certificates found, each
/// with whose it is; the trace says of each whether it was returned.
fn certificates_element(
    ctx: &mut Context<'_>,
    valid: Vec<(String, Certificate)>,
    recipient_count: Option<u32>,
    retrieval: CertificateRetrieval,
    budget: &mut CertificateBudget,
) -> Certificates {
    if valid.is_empty() {
        let mut c = Certificates::status(Status::NO_VALID_CERTIFICATE);
        c.certificate_count = Some(0);
        c.recipient_count = recipient_count;
        return c;
    }
    let count = u32::try_from(valid.len()).unwrap_or(u32::MAX);
    let mut out = Certificates::status(Status::SUCCESS);
    out.recipient_count = recipient_count;
    out.certificate_count = Some(count);
    if !budget.take(count) {
        // Status 8: none of them, and CertificateCount says how many were
        // not returned.
        out.status = Status::CERTIFICATE_LIMIT;
        for (who, cert) in &valid {
            ctx.notes.push(format!(
                "{who}: certificate sha256:{}: valid, not returned: MaxCertificates reached ({count} would pass it); Status 8",
                cert.fingerprint()
            ));
        }
        return out;
    }
    for (who, cert) in &valid {
        let form = if retrieval == CertificateRetrieval::MINI {
            out.mini_certificates
                .push(MiniCertificate::from_certificate(cert).bytes().to_vec());
            "as a mini certificate"
        } else {
            out.certificates.push(cert.der().to_vec());
            "in full"
        };
        ctx.notes.push(format!(
            "{who}: certificate sha256:{}: valid, returned {form}",
            cert.fingerprint()
        ));
    }
    out
}

/// The entry's certificates that are valid for encrypting to it, in the
/// order published: userSMIMECertificate values first, then
/// userCertificate. CA certificates in a bundle serve as intermediates.
async fn valid_certificates(
    ctx: &mut Context<'_>,
    directory: &DirectoryService,
    entry: &DirectoryEntry,
) -> Vec<Certificate> {
    let mut candidates: Vec<Certificate> = Vec::new();
    let mut intermediates: Vec<Certificate> = Vec::new();
    let values = entry
        .smime_certificates
        .iter()
        .map(|v| ("userSMIMECertificate", v))
        .chain(
            entry
                .user_certificates
                .iter()
                .map(|v| ("userCertificate", v)),
        );
    for (attribute, value) in values {
        match smime_core::bundle::parse_any(value) {
            Ok(certs) => {
                for c in certs {
                    if c.is_ca() {
                        if !intermediates.contains(&c) {
                            intermediates.push(c);
                        }
                    } else if candidates.contains(&c) {
                        ctx.notes.push(format!(
                            "{}: certificate sha256:{} in {attribute} again: considered once",
                            entry.email,
                            c.fingerprint()
                        ));
                    } else {
                        candidates.push(c);
                    }
                }
            }
            Err(e) => ctx.notes.push(format!(
                "{}: a {attribute} value ({} bytes) is unreadable: {e}",
                entry.email,
                value.len()
            )),
        }
    }
    let smime = &directory.smime;
    let revocation = smime.crl_config.check_resolve_recipients;
    let mut valid = Vec::new();
    for cert in candidates {
        let address = cert
            .email_addresses()
            .into_iter()
            .find(|a| entry.has_address(a))
            .unwrap_or_else(|| entry.email.clone());
        let verdict = smime
            .check(
                &cert,
                Purpose::Encryption,
                Some(&address),
                &intermediates,
                revocation,
            )
            .await;
        let fp = cert.fingerprint();
        match verdict {
            Ok(_) => valid.push(cert),
            Err(Rejection::CrlUnreachable(urls))
                if smime.crl_config.unknown_status == UnknownStatus::Accept =>
            {
                ctx.notes.push(format!(
                    "{}: certificate sha256:{fp}: accepted although its CRL cannot be fetched ({}): [crl] unknown_status = \"accept\"",
                    entry.email,
                    urls.join(", ")
                ));
                valid.push(cert);
            }
            Err(why) => ctx.notes.push(format!(
                "{}: certificate sha256:{fp}: not returned: {why}",
                entry.email
            )),
        }
    }
    valid
}
