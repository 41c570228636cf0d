//! The real server over TLS: authentication and OPTIONS, both query forms,
//! Autodiscover, bad input, and a clean stop on SIGTERM.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::Duration;

use eas_proto::ProtocolVersion;
use eas_proto::autodiscover::{
    self, Action, ErrorCode, MOBILESYNC_SCHEMA, Request as AdRequest, Response as AdResponse,
    ServerType,
};
use eas_proto::command::settings::{self, UserInformation};
use eas_proto::http::{Command, CommandParams, QueryForm};
use eas_tests::client::{EasClient, Reply};
use eas_tests::server::{ALICE_PASSWORD, Closed, TestServer};
use reqwest::Method;

/// The addresses a Settings `UserInformation/Get` answered with.
fn addresses(reply: &Reply) -> Vec<String> {
    let resp = reply.settings();
    assert_eq!(resp.status, settings::Status::SUCCESS, "{resp:?}");
    let info = resp.user_information.expect("UserInformation");
    assert_eq!(info.status, settings::Status::SUCCESS);
    match info.get.expect("UserInformation/Get") {
        UserInformation::EmailAddresses(list) => list,
        UserInformation::Accounts(accounts) => accounts
            .into_iter()
            .flat_map(|a| a.email_addresses)
            .collect(),
    }
}

/// A new connection still gets full service: OPTIONS and a Settings
/// request of a provisioned device.
fn still_serves(server: &TestServer, device: &EasClient) {
    let mut fresh = server.alice(&device.device_id, device.version);
    fresh.policy_key = device.policy_key;
    assert_eq!(fresh.options(true).status, 200);
    assert_eq!(addresses(&fresh.user_information()), ["alice@example.com"]);
}

#[test]
fn options_demands_basic_credentials_and_lists_versions_and_commands() {
    let server = TestServer::with_alice();
    let mut client = server.alice("OPT1", ProtocolVersion::V16_1);

    let anonymous = client.options(false);
    assert_eq!(anonymous.status, 401);
    let challenge = anonymous.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic "), "{challenge:?}");

    client.password = "not-alice-secret".into();
    let wrong = client.options(true);
    assert_eq!(wrong.status, 401);
    assert!(
        wrong
            .header("www-authenticate")
            .is_some_and(|c| c.starts_with("Basic ")),
        "{wrong:?}"
    );

    client.login = "mallory".into();
    client.password = ALICE_PASSWORD.into();
    assert_eq!(client.options(true).status, 401, "an unknown login");

    for login in [
        "alice",
        "CORP\\alice",
        "alice@example.com",
        "Alice@Example.COM",
    ] {
        client.login = login.into();
        let ok = client.options(true);
        assert_eq!(ok.status, 200, "login {login:?}: {ok:?}");
        assert_eq!(
            ok.header("ms-asprotocolversions"),
            Some("12.0,12.1,14.0,14.1,16.0,16.1")
        );
        let commands: Vec<&str> = ok
            .header("ms-asprotocolcommands")
            .unwrap_or_default()
            .split(',')
            .collect();
        assert!(
            commands.contains(&"Provision") && commands.contains(&"Settings"),
            "{commands:?}"
        );
        assert!(ok.header("ms-server-activesync").is_some(), "{ok:?}");
    }
}

#[test]
fn both_query_forms_reach_the_same_command() {
    let server = TestServer::with_alice();
    let mut client = server.alice("FORMS1", ProtocolVersion::V14_1);
    client.provision_fully();

    client.form = QueryForm::Plain;
    assert!(client.query(Command::SETTINGS).starts_with("Cmd=Settings&"));
    let plain = client.user_information();
    assert_eq!(addresses(&plain), ["alice@example.com"]);

    // The base64 form carries the version and the policy key in the query
    // itself; this client then sends neither header, so the server must
    // read them from the query.
    client.form = QueryForm::Base64;
    let query = client.query(Command::SETTINGS);
    assert!(!query.contains('&') && !query.contains("Cmd="), "{query}");
    assert!(!client.headers().iter().any(|(name, _)| {
        name.eq_ignore_ascii_case("MS-ASProtocolVersion")
            || name.eq_ignore_ascii_case("X-MS-PolicyKey")
    }));
    let base64 = client.user_information();
    assert_eq!(addresses(&base64), ["alice@example.com"]);
    assert_eq!(plain.body, base64.body, "one command, one answer");

    // A base64 request without the key is stopped at the gate like a plain one.
    client.policy_key = None;
    let refused = client.user_information().settings();
    assert_eq!(refused.status, settings::Status(142));
}

fn autodiscover(server: &TestServer, path: &str, body: String, auth: bool) -> Reply {
    let client = server.alice("unused", ProtocolVersion::V16_1);
    client.send(
        Method::POST,
        path,
        &[(
            "Content-Type".to_owned(),
            "text/xml; charset=utf-8".to_owned(),
        )],
        body.into_bytes(),
        auth,
    )
}

#[test]
fn autodiscover_answers_with_the_activesync_url() {
    let server = TestServer::with_alice();
    let request = AdRequest {
        email_address: "alice@example.com".into(),
        acceptable_response_schema: Some(MOBILESYNC_SCHEMA.into()),
    };
    let expected_url = format!("https://{}/Microsoft-Server-ActiveSync", server.addr());
    assert!(expected_url.starts_with("https://127.0.0.1:"));
    assert!(!expected_url.contains(":0/"), "{expected_url}");
    for path in [
        "/autodiscover/autodiscover.xml",
        "/Autodiscover/Autodiscover.xml",
    ] {
        let reply = autodiscover(&server, path, request.to_xml(), true);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert!(
            reply
                .header("content-type")
                .is_some_and(|c| c.starts_with("text/xml")),
            "{reply:?}"
        );
        let AdResponse::MobileSync(resp) = AdResponse::parse(&reply.body).unwrap() else {
            panic!("not a mobile sync answer: {}", reply.text());
        };
        assert_eq!(resp.user.email_address, "alice@example.com");
        let Action::Settings(servers) = resp.action else {
            panic!("no Settings: {}", reply.text());
        };
        let mobile_sync: Vec<&str> = servers
            .iter()
            .filter(|s| s.server_type == ServerType::MobileSync)
            .map(|s| s.url.as_str())
            .collect();
        assert_eq!(mobile_sync, [expected_url.as_str()]);
    }

    let anonymous = autodiscover(
        &server,
        "/autodiscover/autodiscover.xml",
        request.to_xml(),
        false,
    );
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .header("www-authenticate")
            .is_some_and(|c| c.starts_with("Basic ")),
        "{anonymous:?}"
    );

    let outlook = AdRequest {
        email_address: "alice@example.com".into(),
        acceptable_response_schema: Some(
            "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
                .into(),
        ),
    };
    let reply = autodiscover(
        &server,
        "/autodiscover/autodiscover.xml",
        outlook.to_xml(),
        true,
    );
    assert_eq!(reply.status, 200);
    match AdResponse::parse(&reply.body).unwrap() {
        AdResponse::Error(e) => assert_eq!(e.code, ErrorCode::PROVIDER_NOT_FOUND),
        other => panic!("expected error 601, got {other:?}"),
    }
    assert_eq!(ErrorCode::PROVIDER_NOT_FOUND.0, 601);
    // The namespace the answer is read in.
    assert!(reply.text().contains(autodiscover::RESPONSE_SCHEMA));
}

const LIMITS: &str = "
[server]
header_timeout_secs = 1
[limits]
max_body_bytes = 4096
max_header_bytes = 8192
";

fn settings_path(client: &EasClient) -> String {
    format!(
        "/Microsoft-Server-ActiveSync?{}",
        client.query(Command::SETTINGS)
    )
}

#[test]
fn bad_requests_get_their_status_and_the_server_serves_on() {
    let server = TestServer::with_alice_and_config(LIMITS);
    let mut device = server.alice("BAD1", ProtocolVersion::V14_1);
    device.provision_fully();
    still_serves(&server, &device);

    // Not WBXML at all.
    let garbage = device.post(Command::SETTINGS, b"this is not WBXML\r\n".to_vec());
    assert_eq!(garbage.status, 400, "{}", garbage.text());
    still_serves(&server, &device);

    // A valid request cut short.
    let whole = settings::Request {
        user_information: true,
        ..Default::default()
    }
    .to_element()
    .encode()
    .unwrap();
    let truncated = device.post(Command::SETTINGS, whole[..whole.len() - 3].to_vec());
    assert_eq!(truncated.status, 400, "{}", truncated.text());
    still_serves(&server, &device);

    // A command no version of ActiveSync has.
    let bogus = device.send(
        Method::POST,
        "/Microsoft-Server-ActiveSync?Cmd=Bogus&User=alice&DeviceId=BAD1&DeviceType=TestPhone",
        &device.headers(),
        whole.clone(),
        true,
    );
    assert_eq!(bogus.status, 501, "{}", bogus.text());
    still_serves(&server, &device);

    // A 12.x-style message/rfc822 body is carried to the command untouched,
    // not refused as bad WBXML: SendMail takes it (200, empty body).
    let rfc822 = device.post_rfc822(
        Command::SEND_MAIL,
        CommandParams {
            save_in_sent: Some(true),
            ..Default::default()
        },
        b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nhello\r\n",
    );
    assert_eq!(rfc822.status, 200, "{}", rfc822.text());
    assert!(rfc822.body.is_empty(), "{}", rfc822.text());
    still_serves(&server, &device);

    // No MS-ASProtocolVersion with the plain form.
    let headers: Vec<(String, String)> = device
        .headers()
        .into_iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("MS-ASProtocolVersion"))
        .collect();
    let unversioned = device.send(
        Method::POST,
        &settings_path(&device),
        &headers,
        whole.clone(),
        true,
    );
    assert_eq!(unversioned.status, 400, "{}", unversioned.text());
    assert!(unversioned.text().contains("MS-ASProtocolVersion"));
    still_serves(&server, &device);

    // A body over max_body_bytes (4096).
    let mut big = whole.clone();
    big.resize(4097, 0);
    let too_big = device.post(Command::SETTINGS, big);
    assert_eq!(too_big.status, 413, "{}", too_big.text());
    still_serves(&server, &device);

    // A header block over max_header_bytes (8192): hyper answers 431.
    let mut headers = device.headers();
    headers.push(("X-Padding".to_owned(), "p".repeat(10_000)));
    let huge = device
        .try_send(
            Method::POST,
            &settings_path(&device),
            &headers,
            whole.clone(),
            true,
        )
        .unwrap_or_else(|e| panic!("expected 431, the connection failed: {e:?}"));
    assert_eq!(huge.status, 431, "{}", huge.text());
    still_serves(&server, &device);
}

#[test]
fn a_client_that_stops_mid_request_line_is_cut_off() {
    let server = TestServer::with_alice_and_config(LIMITS);
    let mut device = server.alice("SLOW1", ProtocolVersion::V16_1);
    device.provision_fully();

    let mut slow = server.raw_tls();
    slow.send(b"POST /Microsoft-Server-ActiveSync?Cmd=Sett")
        .unwrap();
    // Meanwhile everyone else is served.
    still_serves(&server, &device);
    // header_timeout_secs = 1; allow for a slow machine, not for never.
    match slow.read_to_close(Duration::from_secs(10)) {
        Closed::Closed(_) => {}
        Closed::StillOpen(got) => panic!(
            "the connection is still open after 10 s (got {:?})",
            String::from_utf8_lossy(&got)
        ),
    }
    still_serves(&server, &device);
}

#[test]
fn sigterm_stops_the_server_cleanly_and_keeps_what_it_acknowledged() {
    // A grace period far longer than the stop may take: an idle keep-alive
    // connection must not hold the server up.
    let mut server = TestServer::with_alice_and_config("[server]\nshutdown_grace_secs = 30\n");
    let mut device = server.alice("TERM1", ProtocolVersion::V14_1);
    let key = device.provision_fully();
    assert_eq!(addresses(&device.user_information()), ["alice@example.com"]);

    // Added through the running server's admin socket.
    server.add_user("bob", "bob@example.com", "bob-secret");
    let bob = server.client("bob", "bob-secret", "BOB1", ProtocolVersion::V14_1);
    assert_eq!(bob.options(true).status, 200);

    let (status, took) = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert_eq!(status.code(), Some(0));
    assert!(
        took < Duration::from_secs(10),
        "the server took {took:?} to stop"
    );
    assert!(
        !server.data().join("admin.sock").exists(),
        "a clean stop removes the admin socket"
    );
    // The client's pooled connection is gone with the server.
    drop(device);

    server.start();
    let users = server.cli_ok(&["user", "list"], "");
    assert!(users.contains("bob@example.com"), "{users}");
    let bob = server.client("bob", "bob-secret", "BOB1", ProtocolVersion::V14_1);
    assert_eq!(bob.options(true).status, 200);
    // alice's device is still provisioned under the same key.
    let mut device = server.alice("TERM1", ProtocolVersion::V14_1);
    device.policy_key = Some(key);
    assert_eq!(addresses(&device.user_information()), ["alice@example.com"]);
}
