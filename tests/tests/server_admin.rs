//! The administration commands against a running server (through its admin
//! socket): users take effect at once, and traces record what a device said
//! and heard without its credentials.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::process::Command;

use base64::Engine as _;
use eas_proto::ProtocolVersion;
use eas_proto::command::settings;
use eas_tests::server::{ALICE_PASSWORD, TestServer};

#[test]
fn user_changes_take_effect_while_the_server_runs() {
    let server = TestServer::with_alice();
    assert!(
        server.data().join("admin.sock").exists(),
        "the running server listens on its admin socket"
    );

    // A user added now can log in at once.
    server.add_user("bob", "bob@example.com", "bob-secret");
    let bob = server.client("bob", "bob-secret", "BOB1", ProtocolVersion::V16_1);
    assert_eq!(bob.options(true).status, 200);
    let users = server.cli_ok(&["user", "list"], "");
    assert!(
        users.contains("alice@example.com") && users.contains("bob@example.com"),
        "{users}"
    );

    // A changed password: the old one stops working at once, even though
    // the server had just cached the successful login.
    let mut alice = server.alice("ALICE1", ProtocolVersion::V16_1);
    assert_eq!(alice.options(true).status, 200);
    assert_eq!(alice.options(true).status, 200);
    server.cli_ok(
        &["user", "passwd", "alice", "--password-stdin"],
        "new-secret\n",
    );
    assert_eq!(alice.options(true).status, 401, "the old password");
    alice.password = "new-secret".into();
    assert_eq!(alice.options(true).status, 200, "the new password");
    assert_eq!(bob.options(true).status, 200, "bob is not affected");

    // A removed user is gone at once, cached login or not.
    server.cli_ok(&["user", "remove", "bob"], "");
    assert_eq!(bob.options(true).status, 401);
    let users = server.cli_ok(&["user", "list"], "");
    assert!(!users.contains("bob"), "{users}");
    assert_eq!(alice.options(true).status, 200);

    // Mistakes are reported, not done.
    let out = server.cli(&["user", "remove", "bob"], "");
    assert!(!out.status.success());
    let out = server.cli(
        &[
            "user",
            "add",
            "alice",
            "--email",
            "other@example.com",
            "--password-stdin",
        ],
        "x\n",
    );
    assert!(!out.status.success(), "a second alice");
    assert_eq!(
        server
            .client("other@example.com", "x", "X1", ProtocolVersion::V16_1)
            .options(true)
            .status,
        401
    );
}

/// Today's UTC date, `YYYY-MM-DD`.
fn utc_date() -> String {
    let out = Command::new("date").args(["-u", "+%F"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn traces_hold_the_decoded_exchange_and_no_credentials() {
    let server = TestServer::with_alice();
    let said = server.cli_ok(&["trace", "on", "alice"], "");
    assert!(said.contains("tracing on"), "{said}");

    let before = utc_date();
    let mut phone = server.alice("TRACE1", ProtocolVersion::V14_1);
    phone.provision_fully();
    let reply = phone.user_information();
    assert_eq!(reply.settings().status, settings::Status::SUCCESS);
    let after = utc_date();

    let dir = server.data().join("traces/alice/TRACE1");
    let logs: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(
        logs[0] == format!("{before}.log") || logs[0] == format!("{after}.log"),
        "{logs:?}, today is {before}"
    );
    let trace = std::fs::read_to_string(dir.join(&logs[0])).unwrap();

    // The request line, as sent.
    let line = format!(
        "POST /Microsoft-Server-ActiveSync?{}",
        phone.query(eas_proto::http::Command::SETTINGS)
    );
    assert!(trace.contains(&line), "no {line:?} in\n{trace}");
    // The request body, decoded.
    assert!(
        trace.contains("<Settings xmlns=\"Settings:\">") && trace.contains("<UserInformation>"),
        "{trace}"
    );
    assert!(trace.contains("<Get/>"), "{trace}");
    // The response body, decoded.
    assert!(
        trace.contains("<PrimarySmtpAddress>alice@example.com</PrimarySmtpAddress>"),
        "{trace}"
    );
    // And Provision's, both phases.
    assert!(
        trace.contains("<Provision xmlns=\"Provision:\">"),
        "{trace}"
    );
    assert!(trace.contains("<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"));
    assert!(trace.contains("--- HTTP 200"), "{trace}");

    // No credentials.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("alice:{ALICE_PASSWORD}"));
    assert!(phone.authorization().ends_with(&basic));
    assert!(!trace.contains(ALICE_PASSWORD), "the password leaked");
    assert!(!trace.contains(&basic), "the Authorization value leaked");
    assert!(trace.to_lowercase().contains("authorization: <redacted>"));

    // Off again: nothing more is written.
    server.cli_ok(&["trace", "off", "alice"], "");
    let length = trace.len();
    assert_eq!(
        phone.user_information().settings().status,
        settings::Status::SUCCESS
    );
    let now = std::fs::read_to_string(dir.join(&logs[0])).unwrap();
    assert_eq!(now.len(), length, "traced after trace off");

    // Tracing one device of an account leaves the others alone.
    server.cli_ok(&["trace", "on", "alice", "TRACE2"], "");
    let mut second = server.alice("TRACE2", ProtocolVersion::V16_1);
    second.provision_fully();
    let mut third = server.alice("TRACE3", ProtocolVersion::V16_1);
    third.provision_fully();
    assert!(server.data().join("traces/alice/TRACE2").is_dir());
    assert!(!server.data().join("traces/alice/TRACE3").exists());

    // A request without a body still has its decoded answer traced.
    let empty = second.post(eas_proto::http::Command::SETTINGS, Vec::new());
    assert_eq!(empty.settings().status, settings::Status::PROTOCOL_ERROR);
    let trace = std::fs::read_to_string(
        server
            .data()
            .join("traces/alice/TRACE2")
            .join(format!("{}.log", utc_date())),
    )
    .unwrap();
    let last = trace.rsplit("=== ").next().unwrap();
    assert!(last.contains("Cmd=Settings"), "{last}");
    assert!(
        last.contains("<Settings xmlns=\"Settings:\">\n  <Status>2</Status>"),
        "{last}"
    );
}
