//! The caps of [limits] on what one address or one account holds at once
//! (issue 8): connections per client address, closed before TLS beyond
//! the cap; requests in progress per account, held Pings included, HTTP
//! 503 with Retry-After beyond it, while other accounts are served; the
//! caps on one request (items per Sync response and per ItemOperations,
//! WBXML depth and elements); and the time-outs for a slow body and a
//! slow TLS handshake.

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
use eas_proto::command::email::Email;
use eas_proto::command::folder::FolderSyncRequest;
use eas_proto::command::ids::{CollectionId, ServerId, SyncKey};
use eas_proto::command::items::{
    Fetch, ItemOperationsRequest, ItemOperationsResponse, ItemOperationsStatus, Operation,
};
use eas_proto::command::ping::{Folder, Request as PingRequest, Response as PingResponse, Status};
use eas_proto::command::sync::{
    ClientCommand, Collection, Request, Response, ServerCommand, Status as SyncStatus,
};
use eas_proto::http::Command;
use eas_tests::client::EasClient;
use eas_tests::server::{Closed, TempDir, TestServer};
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
    let key = inbox_key(c);
    sync(c, Collection::new(key, inbox()), None);
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

/// alice's phone after FolderSync and the Inbox's first (empty) Sync: the
/// key to go on from.
fn inbox_key(c: &mut EasClient) -> SyncKey {
    c.provision_fully();
    c.folder_sync(&SyncKey::initial());
    let first = sync(c, Collection::new(SyncKey::initial(), inbox()), None);
    first.collections[0].header.sync_key.clone().unwrap()
}

fn inbox() -> CollectionId {
    CollectionId::new("1").unwrap()
}

fn sync(c: &EasClient, collection: Collection, window: Option<u32>) -> Response {
    c.sync_request(&Request {
        collections: vec![collection],
        window_size: window,
        ..Default::default()
    })
}

/// Five messages in alice's Inbox.
fn five_messages(server: &TestServer) -> TempDir {
    let dir = TempDir::new("limits-import");
    for i in 0..5 {
        std::fs::write(
            dir.path().join(format!("{i}.eml")),
            format!(
                "From: a@example.com\r\nTo: alice@example.com\r\nSubject: {i}\r\n\r\nbody {i}\r\n"
            ),
        )
        .unwrap();
    }
    server.cli_ok(
        &["import", "--user", "alice", dir.path().to_str().unwrap()],
        "",
    );
    dir
}

#[test]
fn sync_windows_and_item_operations_are_capped() {
    let server = TestServer::with_alice_and_config(
        "[limits]\nmax_sync_window = 2\nmax_item_operations = 3\n",
    );
    let _dir = five_messages(&server);
    let mut c = server.alice("LIMITS3", ProtocolVersion::V16_1);
    let mut key = inbox_key(&mut c);

    // WindowSize 100 in the collection, then in the request: two items a
    // response, MoreAvailable until all five are there.
    let mut ids = Vec::new();
    for round in 0.. {
        let mut collection = Collection::new(key.clone(), inbox());
        let total = if round % 2 == 0 {
            collection.window_size = Some(100);
            None
        } else {
            Some(100)
        };
        let r = sync(&c, collection, total);
        let col = &r.collections[0];
        let adds: Vec<_> = col
            .commands
            .iter()
            .filter_map(|command| match command {
                ServerCommand::Add { server_id, .. } => Some(server_id.clone()),
                _ => None,
            })
            .collect();
        key = col.header.sync_key.clone().unwrap();
        ids.extend(adds.iter().cloned());
        if ids.len() < 5 {
            assert_eq!(adds.len(), 2, "round {round}: {col:?}");
            assert!(col.header.more_available, "round {round}");
        } else {
            assert_eq!(adds.len(), 1, "round {round}");
            assert!(!col.header.more_available, "round {round}");
            break;
        }
    }

    // Three operations are served; four are refused whole, so the
    // EmptyFolderContents among them empties nothing.
    let fetch = |server_id: &ServerId| {
        let mut f = Fetch::new("Mailbox");
        f.collection_id = Some(inbox());
        f.server_id = Some(server_id.clone());
        Operation::Fetch(Box::new(f))
    };
    let operations = |operations: Vec<Operation>| {
        let reply = c.post_element(
            Command::ITEM_OPERATIONS,
            &ItemOperationsRequest { operations }.to_element(),
        );
        ItemOperationsResponse::from_element(&reply.element()).unwrap()
    };
    let three = operations(ids[..3].iter().map(fetch).collect());
    assert_eq!(three.status, ItemOperationsStatus::SUCCESS);
    assert_eq!(three.responses.len(), 3);
    let mut four: Vec<Operation> = ids[..3].iter().map(fetch).collect();
    four.push(Operation::EmptyFolderContents {
        collection_id: inbox(),
        delete_sub_folders: false,
    });
    let refused = operations(four);
    assert_eq!(refused.status, ItemOperationsStatus::PROTOCOL_ERROR);
    assert!(refused.responses.is_empty(), "{refused:?}");
    let r = sync(&c, Collection::new(key, inbox()), None);
    assert!(r.collections[0].commands.is_empty(), "the Inbox changed");
    assert!(server.log().contains("max_item_operations = 3"));
}

#[test]
fn wbxml_depth_and_element_caps_are_400_through_the_server() {
    let server = TestServer::with_alice_and_config(
        "[limits]\nmax_wbxml_depth = 7\nmax_wbxml_elements = 40\n",
    );
    let mut c = server.alice("LIMITS4", ProtocolVersion::V16_1);
    let key = inbox_key(&mut c);

    // Sync > Collections > Collection > Commands > Change > ApplicationData
    // > Categories > Category: depth 8.
    let mut deep = Collection::new(key.clone(), inbox());
    deep.commands = vec![ClientCommand::Change {
        server_id: ServerId::new("1:1").unwrap(),
        instance_id: None,
        application_data: Email {
            categories: Some(vec!["deep".into()]),
            ..Default::default()
        }
        .to_element(),
        send: false,
    }];
    let body = |collection: Collection| {
        Request {
            collections: vec![collection],
            ..Default::default()
        }
        .to_element()
    };
    let reply = c.post_element(Command::SYNC, &body(deep));
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(reply.text().contains("deep"), "{}", reply.text());

    // Twenty Fetches, two elements each: over forty.
    let mut wide = Collection::new(key.clone(), inbox());
    wide.commands = (0..20)
        .map(|i| ClientCommand::Fetch {
            server_id: ServerId::new(format!("1:{i}")).unwrap(),
        })
        .collect();
    let reply = c.post_element(Command::SYNC, &body(wide));
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(reply.text().contains("elements"), "{}", reply.text());

    // Within both caps: served.
    let r = sync(&c, Collection::new(key, inbox()), None);
    assert_eq!(r.collections[0].header.status, SyncStatus::SUCCESS);
}

#[test]
fn slow_bodies_and_handshakes_are_cut_off() {
    let server = TestServer::with_alice_and_config(
        "[server]\nbody_timeout_secs = 1\ntls_handshake_timeout_secs = 1\n",
    );
    let mut c = server.alice("LIMITS5", ProtocolVersion::V14_1);
    let key = c.provision_fully();

    // A body that stops after 10 of its 100 bytes: 408.
    let mut slow = server.raw_tls();
    let head = format!(
        "POST /Microsoft-Server-ActiveSync?{} HTTP/1.1\r\nHost: eas\r\nAuthorization: {}\r\nMS-ASProtocolVersion: 14.1\r\nX-MS-PolicyKey: {key}\r\nContent-Type: application/vnd.ms-sync.wbxml\r\nContent-Length: 100\r\n\r\n",
        c.query(Command::SETTINGS),
        c.authorization()
    );
    slow.send(head.as_bytes()).unwrap();
    slow.send(&[0x03, 0x01, 0x6a, 0x00, 0, 0, 0, 0, 0, 0])
        .unwrap();
    let t = Instant::now();
    match slow.read_to_close(Duration::from_secs(10)) {
        Closed::Closed(got) | Closed::StillOpen(got) => {
            let got = String::from_utf8_lossy(&got);
            assert!(got.starts_with("HTTP/1.1 408"), "{got:?}");
        }
    }
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );

    // A connection that never starts TLS, and one that stops inside its
    // ClientHello: closed after the handshake time-out, not the default 15 s.
    for sent in [&b""[..], &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01][..]] {
        let mut idle = TcpStream::connect(server.addr()).unwrap();
        std::io::Write::write_all(&mut idle, sent).unwrap();
        let t = Instant::now();
        assert!(closed_at_once(idle), "still open after {sent:?}");
        let took = t.elapsed();
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(10),
            "closed after {took:?}"
        );
    }
    assert_eq!(c.options(true).status, 200);
}
