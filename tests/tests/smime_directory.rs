//! ResolveRecipients against a real OpenLDAP slapd holding inetOrgPerson
//! entries with userSMIMECertificate (certs-only PKCS#7) and
//! userCertificate;binary (DER) values, and the same people through the
//! embedded directory (LDIF import, `cert publish`): only valid
//! certificates come back, byte for byte as published; mini certificates
//! for CertificateRetrieval 3; the statuses for unknown, ambiguous and
//! list recipients, MaxCertificates and MaxAmbiguousRecipients; and with
//! slapd stopped, Status 6 at once rather than a hang. The trace of
//! ResolveRecipients and ValidateCert says why each certificate was
//! returned or not, and shows certificates by fingerprint only.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::command::resolverecipients::{
    AvailabilityRequest, CertificateRetrieval, Options, PictureRequest, RecipientResponse, Request,
    Response, Status,
};
use eas_proto::command::validatecert;
use eas_proto::http::Command;
use eas_tests::client::EasClient;
use eas_tests::pki::{self, CrlServer};
use eas_tests::server::{ALICE_PASSWORD, TempDir, TestServer};
use eas_tests::slapd::{BASE_DN, Slapd};

fn base_config(crl: &CrlServer, directory_extra: &str) -> String {
    format!(
        "[provisioning]\nenforce = false\n\n[crl]\nhttp_proxy = \"{}\"\nfetch_timeout_secs = 2\n\n",
        crl.proxy_url()
    ) + &format!(
        "[directory]\ntrust_dir = \"{}\"\n{directory_extra}\n",
        pki::dir().join("trust").display()
    )
}

fn resolve(c: &EasClient, to: &[&str], options: Options) -> Response {
    let req = Request {
        to: to.iter().map(|t| (*t).to_owned()).collect(),
        options,
    };
    let reply = c.post_element(Command::RESOLVE_RECIPIENTS, &req.to_element());
    Response::from_element(&reply.element()).unwrap()
}

fn certs(retrieval: CertificateRetrieval) -> Options {
    Options {
        certificate_retrieval: Some(retrieval),
        ..Options::default()
    }
}

fn one(resp: &Response) -> &RecipientResponse {
    assert_eq!(resp.status, Status::SUCCESS, "{resp:?}");
    assert_eq!(resp.responses.len(), 1, "{resp:?}");
    &resp.responses[0]
}

fn ders(names: &[&str]) -> BTreeSet<Vec<u8>> {
    names.iter().map(|n| pki::der(n)).collect()
}

/// Everything ResolveRecipients must answer, whichever directory holds
/// the people of [`pki::people`].
fn check_directory(c: &EasClient) {
    // Alice: a bundle in userSMIMECertificate, two DER values in
    // userCertificate (one the same certificate): her two certificates,
    // each once, exactly as published.
    let resp = resolve(c, &["alice@example.com"], certs(CertificateRetrieval::FULL));
    let r = one(&resp);
    assert_eq!(r.status, Status::SUCCESS);
    assert_eq!(r.recipient_count, Some(1));
    let alice = &r.recipients[0];
    assert_eq!(alice.display_name, "Alice Archer");
    assert_eq!(alice.email_address, "alice@example.com");
    let c_alice = alice.certificates.as_ref().unwrap();
    assert_eq!(c_alice.status, Status::SUCCESS);
    assert_eq!(c_alice.certificate_count, Some(2));
    let got: BTreeSet<Vec<u8>> = c_alice.certificates.iter().cloned().collect();
    assert_eq!(got, ders(&["alice", "alice-pss"]));
    assert!(c_alice.mini_certificates.is_empty());

    // Mini certificates for CertificateRetrieval 3 (our layout: the DER).
    let resp = resolve(
        c,
        &["Alice <alice@example.com>"],
        certs(CertificateRetrieval::MINI),
    );
    let mini = one(&resp).recipients[0].certificates.clone().unwrap();
    assert_eq!(mini.status, Status::SUCCESS);
    assert!(mini.certificates.is_empty());
    let got: BTreeSet<Vec<u8>> = mini.mini_certificates.into_iter().collect();
    assert_eq!(got, ders(&["alice", "alice-pss"]));

    // No certificates asked for: none given.
    let resp = resolve(c, &["alice@example.com"], Options::default());
    assert!(one(&resp).recipients[0].certificates.is_none());

    // Bob's ECDSA certificate, from a certs-only bundle.
    let resp = resolve(c, &["bob@example.com"], certs(CertificateRetrieval::FULL));
    let bob = one(&resp).recipients[0].certificates.clone().unwrap();
    assert_eq!(bob.certificates, vec![pki::der("bob")]);

    // Expired, revoked, wrong usage, another's address, revocation status
    // unknown (its CRL server is down), signing-only: never returned.
    for who in [
        "carol@example.com",
        "erin@example.com",
        "frank@example.com",
        "grace@example.com",
        "kevin@example.com",
        "nina@example.com",
    ] {
        let resp = resolve(c, &[who], certs(CertificateRetrieval::FULL));
        let r = one(&resp);
        assert_eq!(r.status, Status::SUCCESS, "{who}");
        let cs = r.recipients[0].certificates.clone().unwrap();
        assert_eq!(cs.status, Status::NO_VALID_CERTIFICATE, "{who}: {cs:?}");
        assert!(cs.certificates.is_empty(), "{who}");
        assert_eq!(cs.certificate_count, Some(0), "{who}");
    }

    // Unknown.
    let resp = resolve(
        c,
        &["nobody@example.com"],
        certs(CertificateRetrieval::FULL),
    );
    let r = one(&resp);
    assert_eq!(r.status, Status::NOT_FOUND);
    assert!(r.recipients.is_empty());

    // Ambiguous: "Al" is Alan Ames and Alice Archer.
    let resp = resolve(c, &["Al"], certs(CertificateRetrieval::FULL));
    let r = one(&resp);
    assert_eq!(r.status, Status::AMBIGUOUS);
    assert_eq!(r.recipient_count, Some(2));
    let names: Vec<&str> = r
        .recipients
        .iter()
        .map(|x| x.display_name.as_str())
        .collect();
    assert_eq!(names, vec!["Alan Ames", "Alice Archer"]);
    assert!(r.recipients.iter().all(|x| x.certificates.is_none()));
    let resp = resolve(
        c,
        &["Al"],
        Options {
            max_ambiguous_recipients: Some(1),
            ..Options::default()
        },
    );
    let r = one(&resp);
    assert_eq!(r.status, Status::AMBIGUOUS_PARTIAL);
    assert_eq!(r.recipient_count, Some(2));
    assert_eq!(r.recipients.len(), 1);
    // A name given in full is resolved.
    let resp = resolve(c, &["Alice Archer"], certs(CertificateRetrieval::FULL));
    assert_eq!(one(&resp).status, Status::SUCCESS);
    assert_eq!(one(&resp).recipients[0].email_address, "alice@example.com");

    // A distribution list: alice, bob, carol; each member's newest valid
    // certificate; carol has none.
    let resp = resolve(c, &["team@example.com"], certs(CertificateRetrieval::FULL));
    let r = one(&resp);
    assert_eq!(r.status, Status::SUCCESS);
    let team = r.recipients[0].certificates.clone().unwrap();
    assert_eq!(team.status, Status::SUCCESS);
    assert_eq!(team.recipient_count, Some(3));
    assert_eq!(team.certificate_count, Some(2));
    assert_eq!(team.certificates.len(), 2);
    assert!(team.certificates.contains(&pki::der("bob")));
    assert!(
        team.certificates.contains(&pki::der("alice"))
            || team.certificates.contains(&pki::der("alice-pss"))
    );

    // MaxCertificates counts over the whole response.
    let resp = resolve(
        c,
        &["alice@example.com", "bob@example.com"],
        Options {
            certificate_retrieval: Some(CertificateRetrieval::FULL),
            max_certificates: Some(2),
            ..Options::default()
        },
    );
    assert_eq!(resp.responses.len(), 2);
    let a = resp.responses[0].recipients[0]
        .certificates
        .clone()
        .unwrap();
    assert_eq!(a.status, Status::SUCCESS);
    assert_eq!(a.certificates.len(), 2);
    let b = resp.responses[1].recipients[0]
        .certificates
        .clone()
        .unwrap();
    assert_eq!(b.status, Status::CERTIFICATE_LIMIT);
    assert_eq!(b.certificate_count, Some(1), "one certificate not returned");
    assert!(b.certificates.is_empty());
    // A recipient gets all its certificates or none: with room for one,
    // Alice's two are not returned (Status 8, CertificateCount 2), and
    // Bob's one still is.
    let resp = resolve(
        c,
        &["alice@example.com", "bob@example.com"],
        Options {
            certificate_retrieval: Some(CertificateRetrieval::FULL),
            max_certificates: Some(1),
            ..Options::default()
        },
    );
    let a = resp.responses[0].recipients[0]
        .certificates
        .clone()
        .unwrap();
    assert_eq!(a.status, Status::CERTIFICATE_LIMIT);
    assert_eq!(a.certificate_count, Some(2));
    assert!(a.certificates.is_empty());
    let b = resp.responses[1].recipients[0]
        .certificates
        .clone()
        .unwrap();
    assert_eq!(b.status, Status::SUCCESS);
    assert_eq!(b.certificates, vec![pki::der("bob")]);

    // Free/busy and photos: their statuses until calendar and photos exist.
    let resp = resolve(
        c,
        &["alice@example.com"],
        Options {
            availability: Some(AvailabilityRequest {
                start_time: eas_proto::command::DateTime::parse("2030-01-01T08:00:00.000Z"),
                end_time: eas_proto::command::DateTime::parse("2030-01-01T18:00:00.000Z"),
            }),
            picture: Some(PictureRequest {
                max_size: Some(10_000),
                max_pictures: Some(1),
            }),
            ..Options::default()
        },
    );
    let rc = &one(&resp).recipients[0];
    assert_eq!(
        rc.availability.as_ref().unwrap().status,
        Status::AVAILABILITY_FAILURE
    );
    assert_eq!(rc.picture.as_ref().unwrap().status, Status::NO_PICTURE);

    // More To elements than MS-ASCMD 2.2.3.183 allows (100): Status 5.
    let many: Vec<String> = (0..101).map(|i| format!("nobody{i}@example.com")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        resolve(c, &many, Options::default()).status,
        Status::PROTOCOL_ERROR
    );
    assert_eq!(
        resolve(c, &many[..100], Options::default()).status,
        Status::SUCCESS
    );

    // A request the spec forbids: Status 5.
    let bad = resolve(
        c,
        &["alice@example.com"],
        Options {
            max_certificates: Some(10_000),
            ..Options::default()
        },
    );
    assert_eq!(bad.status, Status::PROTOCOL_ERROR);
}

fn client(server: &TestServer) -> EasClient {
    server.client("alice", ALICE_PASSWORD, "smime1", ProtocolVersion::V16_1)
}

#[test]
fn resolve_recipients_through_slapd() {
    let dir = TempDir::new("slapd");
    let slapd = Slapd::start(dir.path(), &pki::ldif(BASE_DN));
    let crl = CrlServer::start();
    let config = base_config(&crl, "")
        .replace("[directory]\n", "[directory]\nbackend = \"ldap\"\n")
        + &slapd
            .config()
            .replace("[directory]\nbackend = \"ldap\"\n\n", "");
    let server = TestServer::with_alice_and_config(&config);
    check_directory(&client(&server));
    assert!(
        crl.served() > 0,
        "the CRLs were fetched from the loopback proxy"
    );
    drop(slapd);
}

#[test]
fn resolve_recipients_through_the_embedded_directory() {
    let crl = CrlServer::start();
    let mut server = TestServer::with_config(&base_config(&crl, ""));
    server.cli_ok(
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@example.com",
            "--display-name",
            "Alice Archer",
            "--password-stdin",
        ],
        &format!("{ALICE_PASSWORD}\n"),
    );
    // Everyone but alice from LDIF; alice is a user whose certificates
    // are published with `cert publish`.
    let ldif = pki::ldif(BASE_DN);
    let dir = TempDir::new("ldif");
    let path = dir.path().join("people.ldif");
    let without_alice: String = ldif
        .split("\n\n")
        .filter(|record| !record.starts_with("dn: uid=alice,"))
        .map(|r| format!("{r}\n\n"))
        .collect();
    std::fs::write(&path, without_alice).unwrap();
    let out = server.cli_ok(&["directory", "import", path.to_str().unwrap()], "");
    assert!(out.contains("imported 8 people and 1 groups"), "{out}");
    for f in ["alice.p7c", "alice-pss.der", "alice.der"] {
        let file = pki::dir().join(f);
        server.cli_ok(&["cert", "publish", "alice", file.to_str().unwrap()], "");
    }
    server.start();
    check_directory(&client(&server));
    // `trust list` shows the trust_dir's anchors through the running server.
    let list = server.cli_ok(&["trust", "list"], "");
    assert!(list.contains("eas Test Root CA"), "{list}");
}

#[test]
fn with_slapd_stopped_the_answer_is_status_6_at_once() {
    let dir = TempDir::new("slapd-down");
    let mut slapd = Slapd::start(dir.path(), &pki::ldif(BASE_DN));
    let crl = CrlServer::start();
    let config = base_config(&crl, "backend = \"ldap\"\ncache_ttl_secs = 0")
        + &slapd
            .config()
            .replace("[directory]\nbackend = \"ldap\"\n\n", "");
    let server = TestServer::with_alice_and_config(&config);
    let c = client(&server);
    let resp = resolve(&c, &["bob@example.com"], certs(CertificateRetrieval::FULL));
    assert_eq!(one(&resp).status, Status::SUCCESS);
    slapd.stop();
    let started = Instant::now();
    let resp = resolve(&c, &["bob@example.com"], certs(CertificateRetrieval::FULL));
    assert_eq!(resp.status, Status::SERVER_ERROR, "{resp:?}");
    assert!(resp.responses.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered after {:?}",
        started.elapsed()
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_trace_says_why_of_every_certificate_by_fingerprint() {
    let crl = CrlServer::start();
    let mut server = TestServer::with_config(&base_config(&crl, ""));
    server.add_user("alice", "alice@example.com", ALICE_PASSWORD);
    let dir = TempDir::new("trace-ldif");
    let path = dir.path().join("people.ldif");
    std::fs::write(&path, pki::ldif(BASE_DN)).unwrap();
    server.cli_ok(&["directory", "import", path.to_str().unwrap()], "");
    server.start();
    server.cli_ok(&["trace", "on", "alice"], "");
    let c = client(&server);

    let resp = resolve(
        &c,
        &[
            "alice@example.com",
            "carol@example.com",
            "erin@example.com",
            "grace@example.com",
            "team@example.com",
        ],
        certs(CertificateRetrieval::FULL),
    );
    assert_eq!(resp.responses.len(), 5);
    let resp = resolve(
        &c,
        &["bob@example.com", "alice@example.com"],
        Options {
            certificate_retrieval: Some(CertificateRetrieval::FULL),
            max_certificates: Some(1),
            ..Options::default()
        },
    );
    assert_eq!(resp.responses.len(), 2);
    let req = validatecert::Request {
        chain: vec![],
        certificates: vec![
            pki::b64(&pki::der("bob")),
            pki::b64(&pki::der("erin-revoked")),
        ],
        check_crl: true,
    };
    let reply = c.post_element(Command::VALIDATE_CERT, &req.to_element());
    let statuses = validatecert::Response::from_element(&reply.element())
        .unwrap()
        .certificates;
    assert_eq!(statuses.len(), 2);

    let dir = server.data().join("traces/alice/smime1");
    let logs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let trace = std::fs::read_to_string(&logs[0]).unwrap();

    let fp = |name: &str| format!("sha256:{}", sha256_hex(&pki::der(name)));
    // No certificate body anywhere: not in the responses, not in
    // ValidateCert's request.
    for name in ["alice", "alice-pss", "bob", "erin-revoked", "carol-expired"] {
        let body = pki::b64(&pki::der(name));
        assert!(
            !trace.contains(&body[..64]),
            "{name}'s certificate body is in the trace:\n{trace}"
        );
    }
    // The response and the request show them by fingerprint and size.
    let shown = |name: &str| {
        format!(
            "<Certificate>{} ({} bytes)</Certificate>",
            fp(name),
            pki::der(name).len()
        )
    };
    for name in ["alice", "alice-pss", "bob", "erin-revoked"] {
        assert!(trace.contains(&shown(name)), "no {}\n{trace}", shown(name));
    }
    // Why, for each certificate considered.
    let line =
        |who: &str, name: &str, why: &str| format!("# {who}: certificate {}: {why}", fp(name));
    let expected = [
        line("alice@example.com", "alice", "valid, returned in full"),
        line("alice@example.com", "alice-pss", "valid, returned in full"),
        // alice.der is also in her bundle.
        format!(
            "# alice@example.com: certificate {} in userCertificate again: considered once",
            fp("alice")
        ),
        line(
            "carol@example.com",
            "carol-expired",
            "not returned: the certificate expired",
        ),
        line(
            "erin@example.com",
            "erin-revoked",
            "not returned: the certificate is revoked",
        ),
        line(
            "grace@example.com",
            "grace-wrongaddr",
            "not returned: the certificate is for",
        ),
        // The list: bob's is returned, alice's newest, not the other.
        line("bob@example.com", "bob", "valid, returned in full"),
        // MaxCertificates 1: bob's is returned, alice's two are not.
        line(
            "alice@example.com",
            "alice",
            "valid, not returned: MaxCertificates reached",
        ),
        line(
            "alice@example.com",
            "alice-pss",
            "valid, not returned: MaxCertificates reached",
        ),
        format!("# certificate #1 {}: valid", fp("bob")),
        format!("# certificate #2 {}: status ", fp("erin-revoked")),
    ];
    for e in &expected {
        assert!(trace.contains(e.as_str()), "no {e:?} in\n{trace}");
    }
    // The list's older certificate of alice's, said not returned.
    assert!(
        trace.contains("is a list member, who gets only the newest valid certificate"),
        "{trace}"
    );
}

/// LDAPS and StartTLS: the directory connection is verified against the
/// configured CA file; with no CA that trusts slapd's certificate, the
/// answer is Status 6 at once, never a plain-text fallback.
#[test]
fn ldaps_and_starttls_verify_the_directory_server() {
    let dir = TempDir::new("slapd-tls");
    let slapd = Slapd::start_with_tls(dir.path(), &pki::ldif(BASE_DN));
    let crl = CrlServer::start();
    let ca = slapd.ca_file().unwrap();
    let ldaps = slapd.ldaps_url().unwrap();
    let plain = slapd.url();
    let ldap_config = |url: &str, extra: &str| {
        base_config(&crl, "backend = \"ldap\"\ncache_ttl_secs = 0")
            + &slapd
                .config()
                .replace("[directory]\nbackend = \"ldap\"\n\n", "")
                .replace(&format!("url = \"{plain}\""), &format!("url = \"{url}\""))
            + extra
    };
    let bob = || certs(CertificateRetrieval::FULL);
    let with_ca = format!("ca_file = \"{}\"\n", ca.display());
    for (name, config) in [
        ("ldaps", ldap_config(&ldaps, &with_ca)),
        (
            "StartTLS",
            ldap_config(&plain, &format!("starttls = true\n{with_ca}")),
        ),
    ] {
        let server = TestServer::with_alice_and_config(&config);
        let resp = resolve(&client(&server), &["bob@example.com"], bob());
        assert_eq!(
            resp.status,
            Status::SUCCESS,
            "{name}: {resp:?}\n{}\nslapd:\n{}",
            server.log(),
            slapd.log()
        );
        let r = one(&resp);
        assert_eq!(r.status, Status::SUCCESS, "{name}: {resp:?}");
        let got: BTreeSet<Vec<u8>> = r.recipients[0]
            .certificates
            .as_ref()
            .unwrap()
            .certificates
            .iter()
            .cloned()
            .collect();
        assert_eq!(got, ders(&["bob"]), "{name}");
    }
    // slapd's certificate is not one the platform trusts: no answer from
    // the directory, and no falling back to plain LDAP.
    for config in [
        ldap_config(&ldaps, ""),
        ldap_config(&plain, "starttls = true\n"),
    ] {
        let server = TestServer::with_alice_and_config(&config);
        let started = Instant::now();
        let resp = resolve(&client(&server), &["bob@example.com"], bob());
        assert_eq!(resp.status, Status::SERVER_ERROR, "{resp:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
