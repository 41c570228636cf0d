//! The caps of [limits] on what one address or one account holds at once
//! (issue 8): connections per client address, closed before TLS beyond
//! the cap; requests in progress per account, held Pings included, HTTP
//! 503 with Retry-After beyond it, while other accounts are served.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::Read as _;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::command::folder::{FolderSyncRequest, FolderSyncResponse};
use eas_proto::command::ids::{CollectionId, SyncKey};
use eas_proto::command::ping::{Folder, Request as PingRequest, Response as PingResponse, Status};
use eas_proto::command::sync::{Collection, Request, Response};
use eas_proto::http::Command;
use eas_tests::client::EasClient;
use eas_tests::server::{TempDir, TestServer};
use reqwest::Method;

/// Waits (bounded) until `ready` holds.
fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the server closed this connection without a word.
fn closed_at_once(mut stream: TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 16];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

#[test]
fn an_address_holds_at_most_its_connections() {
    let server = TestServer::with_alice_and_config(
        "[limits]\nmax_connections_per_address = 2\n[server]\ntls_handshake_timeout_secs = 120\n",
    );
    // Two connections that never start TLS hold both places.
    let first = TcpStream::connect(server.addr()).unwrap();
    let _second = TcpStream::connect(server.addr()).unwrap();
    until("the third connection is closed", || {
        closed_at_once(TcpStream::connect(server.addr()).unwrap())
    });
    // HTTPS from the same address is turned away too (a new client: no
    // connection of its own yet).
    let c = server.alice("LIMITS1", ProtocolVersion::V16_1);
    let refused = c.try_send(
        Method::OPTIONS,
        "/Microsoft-Server-ActiveSync",
        &[],
        Vec::new(),
        true,
    );
    assert!(refused.is_err(), "{:?}", refused.map(|r| r.status));
    // One place comes back when a connection ends.
    drop(first);
    until("a place comes back", || {
        c.try_send(
            Method::OPTIONS,
            "/Microsoft-Server-ActiveSync",
            &[],
            Vec::new(),
            true,
        )
        .is_ok_and(|r| r.status == 200)
    });
    assert!(
        server
            .log()
            .contains("this address holds the most connections allowed")
    );
}

fn synced_inbox(c: &mut EasClient) {
    c.provision_fully();
    let fs = c.post_element(
        Command::FOLDER_SYNC,
        &FolderSyncRequest {
            sync_key: SyncKey::initial(),
        }
        .to_element(),
    );
    FolderSyncResponse::from_element(&fs.element()).unwrap();
    let inbox = || CollectionId::new("1").unwrap();
    let first = c.post_element(
        Command::SYNC,
        &Request {
            collections: vec![Collection::new(SyncKey::initial(), inbox())],
            ..Default::default()
        }
        .to_element(),
    );
    let key = Response::from_element(&first.element())
        .unwrap()
        .collections[0]
        .header
        .sync_key
        .clone()
        .unwrap();
    c.post_element(
        Command::SYNC,
        &Request {
            collections: vec![Collection::new(key, inbox())],
            ..Default::default()
        }
        .to_element(),
    );
}

#[test]
fn an_account_holds_at_most_its_requests_and_others_are_served() {
    let server = TestServer::with_alice_and_config(
        "[limits]\nmax_requests_per_account = 1\n[push]\nmin_heartbeat_secs = 1\nmax_heartbeat_secs = 600\n",
    );
    server.add_user("bob", "bob@example.com", "bob-limits-secret");
    let mut holder = server.alice("LIMITSPING", ProtocolVersion::V16_1);
    synced_inbox(&mut holder);
    let mut other = server.alice("LIMITSOTHER", ProtocolVersion::V16_1);
    other.provision_fully();
    let mut bob = server.client(
        "bob",
        "bob-limits-secret",
        "LIMITSBOB",
        ProtocolVersion::V16_1,
    );
    bob.provision_fully();

    // alice's first phone holds a Ping: her only place.
    let held = std::thread::spawn(move || {
        let req = PingRequest {
            heartbeat_interval: Some(300),
            folders: Some(vec![Folder {
                id: CollectionId::new("1").unwrap(),
                class: "Email".into(),
            }]),
        };
        // The probe below may hold the place for a moment: try again then.
        loop {
            let r = holder.post_element(Command::PING, &req.to_element());
            if r.status != 503 {
                return PingResponse::from_element(&r.element()).unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let folder_sync = |c: &EasClient| {
        c.post_element(
            Command::FOLDER_SYNC,
            &FolderSyncRequest {
                sync_key: SyncKey::initial(),
            }
            .to_element(),
        )
    };
    // Her second phone is told to come back later, with Retry-After.
    let mut busy = None;
    until("alice's second phone gets 503", || {
        let r = folder_sync(&other);
        let done = r.status == 503;
        busy = Some(r);
        done
    });
    let busy = busy.unwrap();
    assert_eq!(busy.header("retry-after"), Some("30"));
    // Bob is served all the while.
    assert_eq!(folder_sync(&bob).status, 200);

    // A delivery ends the Ping; the place comes back.
    let dir = TempDir::new("limits-import");
    std::fs::write(
        dir.path().join("m.eml"),
        "From: a@example.com\r\nTo: alice@example.com\r\nSubject: wake\r\n\r\nhello\r\n",
    )
    .unwrap();
    server.cli_ok(
        &["import", "--user", "alice", dir.path().to_str().unwrap()],
        "",
    );
    assert_eq!(held.join().unwrap().status, Status::CHANGES);
    until("alice's second phone is served", || {
        folder_sync(&other).status == 200
    });
    assert!(
        server
            .log()
            .contains("the account has the most requests in progress allowed")
    );
}
