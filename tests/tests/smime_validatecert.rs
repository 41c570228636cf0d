//! ValidateCert for every certificate of the test PKI (fixtures/pki), with
//! the CRLs served over HTTP by a loopback proxy the test runs: each
//! certificate gets the status MS-ASCMD gives its flaw. The server trusts
//! only the root; the intermediates come in CertificateChain, as a client
//! sends them.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use eas_proto::ProtocolVersion;
use eas_proto::command::validatecert::{Request, Response, Status};
use eas_proto::http::Command;
use eas_tests::client::EasClient;
use eas_tests::pki::{self, CrlServer};
use eas_tests::server::{ALICE_PASSWORD, TempDir, TestServer};

fn validate(c: &EasClient, certs: Vec<String>, chain: Vec<String>, check_crl: bool) -> Response {
    let req = Request {
        chain,
        certificates: certs,
        check_crl,
    };
    let reply = c.post_element(Command::VALIDATE_CERT, &req.to_element());
    Response::from_element(&reply.element()).unwrap()
}

#[test]
fn every_certificate_of_the_test_pki() {
    let trust = TempDir::new("trust");
    std::fs::copy(pki::dir().join("root.pem"), trust.path().join("root.pem")).unwrap();
    let crl = CrlServer::start();
    let server = TestServer::with_alice_and_config(&format!(
        "[provisioning]\nenforce = false\n\n[directory]\ntrust_dir = \"{}\"\n\n[crl]\nhttp_proxy = \"{}\"\nfetch_timeout_secs = 2\n",
        trust.path().display(),
        crl.proxy_url()
    ));
    let c = server.client("alice", ALICE_PASSWORD, "vc1", ProtocolVersion::V16_1);
    let chain: Vec<String> = ["intermediate", "ec-intermediate", "revoked-intermediate"]
        .iter()
        .map(|n| pki::b64(&pki::der(n)))
        .collect();

    // Without the intermediates the root is out of reach.
    let resp = validate(&c, vec![pki::b64(&pki::der("alice"))], vec![], true);
    assert_eq!(resp.status, Status::SUCCESS);
    assert_eq!(resp.certificates, vec![Status::UNTRUSTED]);

    // (certificate, with CheckCRL, without)
    let table: &[(&str, Status, Status)] = &[
        ("alice", Status::SUCCESS, Status::SUCCESS),
        ("alice-pss", Status::SUCCESS, Status::SUCCESS),
        ("bob", Status::SUCCESS, Status::SUCCESS),
        ("olivia-dnemail", Status::SUCCESS, Status::SUCCESS),
        // ValidateCert names no address to compare with.
        ("grace-wrongaddr", Status::SUCCESS, Status::SUCCESS),
        // Signing is what ValidateCert checks for.
        ("nina-signonly", Status::SUCCESS, Status::SUCCESS),
        ("carol-expired", Status::EXPIRED, Status::EXPIRED),
        ("dave-notyet", Status::EXPIRED, Status::EXPIRED),
        ("erin-revoked", Status::REVOKED, Status::SUCCESS),
        (
            "frank-wrongeku",
            Status::NOT_FOR_EMAIL,
            Status::NOT_FOR_EMAIL,
        ),
        (
            "heidi-noaddr",
            Status::INFORMATION_MISSING,
            Status::INFORMATION_MISSING,
        ),
        ("ivan-untrusted", Status::UNTRUSTED, Status::UNTRUSTED),
        ("judy-badsig", Status::BAD_SIGNATURE, Status::BAD_SIGNATURE),
        (
            "kevin-crldown",
            Status::REVOCATION_SERVER_UNREACHABLE,
            Status::SUCCESS,
        ),
        ("mallory-revokedca", Status::CHAIN_REVOKED, Status::SUCCESS),
        (
            "intermediate",
            Status::USED_INCORRECTLY,
            Status::USED_INCORRECTLY,
        ),
        ("root", Status::USED_INCORRECTLY, Status::USED_INCORRECTLY),
    ];
    let certs: Vec<String> = table
        .iter()
        .map(|(n, _, _)| pki::b64(&pki::der(n)))
        .collect();
    for (check_crl, column) in [(true, 1), (false, 2)] {
        let resp = validate(&c, certs.clone(), chain.clone(), check_crl);
        assert_eq!(resp.status, Status::SUCCESS);
        assert_eq!(resp.certificates.len(), table.len());
        for (i, row) in table.iter().enumerate() {
            let want = if column == 1 { row.1 } else { row.2 };
            assert_eq!(
                resp.certificates[i], want,
                "{} with CheckCRL {check_crl}",
                row.0
            );
        }
    }
    assert!(
        crl.served() >= 3,
        "root, intermediate and EC intermediate CRLs"
    );

    // A certs-only bundle is read too; garbage is malformed, not an error
    // of the whole request.
    let mut truncated = pki::der("alice");
    truncated.truncate(200);
    let resp = validate(
        &c,
        vec![
            pki::b64(&pki::file("alice.p7c")),
            "not base64!".into(),
            pki::b64(&truncated),
        ],
        vec![],
        false,
    );
    assert_eq!(
        resp.certificates,
        vec![
            Status::SUCCESS,
            Status::CHAIN_MALFORMED,
            Status::CHAIN_MALFORMED
        ]
    );

    // A body that is not a ValidateCert request: the protocol error.
    let reply = c.post_element(
        Command::VALIDATE_CERT,
        &eas_proto::wbxml::Element::new(eas_proto::codepages::validatecert::ValidateCert),
    );
    let resp = Response::from_element(&reply.element()).unwrap();
    assert_eq!(resp.status, Status::PROTOCOL_ERROR);
}
