//! Ping and Sync with Wait against the real server: held until a change,
//! the heartbeat's end, or a newer Ping; the statuses of MS-ASCMD Ping.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::command::email::Email;
use eas_proto::command::folder::{FolderCreateRequest, FolderCreateResponse, FolderType};
use eas_proto::command::ids::{CollectionId, SyncKey};
use eas_proto::command::items::{Move, MoveItemsRequest, MoveItemsResponse};
use eas_proto::command::ping::{
    Folder, Request as PingRequest, Response as PingResponse, Status as PingStatus,
};
use eas_proto::command::sync::{ClientCommand, Collection, Request, Response, ServerCommand};
use eas_proto::http::Command;
use eas_tests::client::EasClient;
use eas_tests::mail::{MailClient, dot_stuff, free_port};
use eas_tests::server::{Closed, TempDir, TestServer};

const CONFIG: &str = "[push]\nmin_heartbeat_secs = 1\nmax_heartbeat_secs = 600\nmax_folders = 2\n";

fn import_one(server: &TestServer, subject: &str) -> TempDir {
    let dir = TempDir::new("ping-import");
    let raw = format!(
        "From: a@example.com\r\nTo: alice@example.com\r\nSubject: {subject}\r\n\r\nhello\r\n"
    );
    std::fs::write(dir.path().join("m.eml"), raw).unwrap();
    server.cli_ok(
        &["import", "--user", "alice", dir.path().to_str().unwrap()],
        "",
    );
    dir
}

/// A provisioned device that has synced the hierarchy and the Inbox.
fn synced(server: &TestServer, device: &str) -> (EasClient, SyncKey, SyncKey) {
    let mut c = server.alice(device, ProtocolVersion::V16_1);
    c.provision_fully();
    let hierarchy = c.folder_sync(&SyncKey::initial()).sync_key.unwrap();
    let mut key = SyncKey::initial();
    loop {
        let r = c.post_element(
            Command::SYNC,
            &Request {
                collections: vec![Collection::new(
                    key.clone(),
                    CollectionId::new("1").unwrap(),
                )],
                ..Default::default()
            }
            .to_element(),
        );
        let resp = Response::from_element(&r.element()).unwrap();
        let col = &resp.collections[0];
        let was_initial = key.is_initial();
        key = col.header.sync_key.clone().unwrap();
        if !was_initial && !col.header.more_available {
            break;
        }
    }
    (c, key, hierarchy)
}

fn ping(c: &EasClient, heartbeat: Option<u32>, folders: Option<&[&str]>) -> PingResponse {
    let req = PingRequest {
        heartbeat_interval: heartbeat,
        folders: folders.map(|f| {
            f.iter()
                .map(|id| Folder {
                    id: CollectionId::new(*id).unwrap(),
                    class: "Email".into(),
                })
                .collect()
        }),
    };
    PingResponse::from_element(&c.post_element(Command::PING, &req.to_element()).element()).unwrap()
}

#[test]
fn a_quiet_heartbeat_ends_with_status_1_and_a_delivery_wakes_status_2() {
    let server = TestServer::with_alice_and_config(CONFIG);
    let (c, _, _) = synced(&server, "PING1");
    let t = Instant::now();
    let r = ping(&c, Some(1), Some(&["1"]));
    assert_eq!(r.status, PingStatus::EXPIRED);
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "held for the heartbeat: {:?}",
        t.elapsed()
    );

    // Held with a long heartbeat; a delivery to the Inbox ends it at once.
    let ((r, started), _dir) = server.while_held(
        "PING1",
        || {
            let t = Instant::now();
            (ping(&c, Some(300), Some(&["1", "3"])), t)
        },
        || import_one(&server, "wake up"),
    );
    assert_eq!(r.status, PingStatus::CHANGES);
    assert_eq!(r.folders, vec![CollectionId::new("1").unwrap()]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "woken by the delivery, not the heartbeat"
    );

    // Unsynced changes are reported at once, even by an empty Ping that
    // repeats the last parameters.
    let t = Instant::now();
    let again = c.post(Command::PING, Vec::new());
    let r = PingResponse::from_element(&again.element()).unwrap();
    assert_eq!(r.status, PingStatus::CHANGES);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn limits_missing_parameters_and_hierarchy_changes() {
    let server = TestServer::with_alice_and_config(CONFIG);
    let (c, _, hierarchy) = synced(&server, "PING2");
    let fresh = server.alice("PING2B", ProtocolVersion::V16_1);
    let mut fresh = fresh;
    fresh.provision_fully();
    let empty =
        PingResponse::from_element(&fresh.post(Command::PING, Vec::new()).element()).unwrap();
    assert_eq!(empty.status, PingStatus::MISSING_PARAMETERS);

    let r = ping(&c, Some(5000), Some(&["1"]));
    assert_eq!(
        (r.status, r.heartbeat_interval),
        (PingStatus::HEARTBEAT_OUT_OF_RANGE, Some(600))
    );
    let r = ping(&c, Some(0), Some(&["1"]));
    assert_eq!(
        (r.status, r.heartbeat_interval),
        (PingStatus::HEARTBEAT_OUT_OF_RANGE, Some(1))
    );
    let r = ping(&c, Some(10), Some(&["1", "2", "3"]));
    assert_eq!(
        (r.status, r.max_folders),
        (PingStatus::TOO_MANY_FOLDERS, Some(2))
    );
    let r = ping(&c, Some(10), Some(&["4242"]));
    assert_eq!(r.status, PingStatus::HIERARCHY_CHANGED);

    // A folder created elsewhere: the hierarchy changed (Status 7).
    let create = FolderCreateRequest {
        sync_key: hierarchy,
        parent_id: CollectionId::new("0").unwrap(),
        display_name: "New".into(),
        folder_type: FolderType::USER_MAIL,
    };
    let created = FolderCreateResponse::from_element(
        &c.post_element(Command::FOLDER_CREATE, &create.to_element())
            .element(),
    )
    .unwrap();
    assert!(created.server_id.is_some());
    let (d, _, _) = synced(&server, "PING3");
    let _ = d;
    let other = server.alice("PING4", ProtocolVersion::V16_1);
    let mut other = other;
    other.provision_fully();
    let key = other.folder_sync(&SyncKey::initial()).sync_key.unwrap();
    let create = FolderCreateRequest {
        sync_key: key,
        parent_id: CollectionId::new("0").unwrap(),
        display_name: "Newer".into(),
        folder_type: FolderType::USER_MAIL,
    };
    other.post_element(Command::FOLDER_CREATE, &create.to_element());
    let r = ping(&c, Some(10), Some(&["1"]));
    assert_eq!(r.status, PingStatus::HIERARCHY_CHANGED);
}

#[test]
fn a_new_ping_ends_the_held_one_and_sync_wait_wakes_on_delivery() {
    let server = TestServer::with_alice_and_config(CONFIG);
    let (c, key, _) = synced(&server, "PING5");
    let (first, second) = server.while_held(
        "PING5",
        || {
            let t = Instant::now();
            (ping(&c, Some(300), Some(&["1"])), t.elapsed())
        },
        || ping(&c, Some(1), Some(&["1"])),
    );
    assert_eq!(first.0.status, PingStatus::EXPIRED);
    assert!(
        first.1 < Duration::from_secs(30),
        "the second Ping ended the first: {:?}",
        first.1
    );
    assert_eq!(second.status, PingStatus::EXPIRED);

    // Sync with Wait: held, then woken by a delivery with the new item.
    let ((resp, waited), _dir) = server.while_held(
        "PING5",
        || {
            let t = Instant::now();
            let req = Request {
                collections: vec![Collection::new(
                    key.clone(),
                    CollectionId::new("1").unwrap(),
                )],
                wait: Some(5),
                ..Default::default()
            };
            let reply = c.post_element(Command::SYNC, &req.to_element());
            (
                Response::from_element(&reply.element()).unwrap(),
                t.elapsed(),
            )
        },
        || import_one(&server, "during wait"),
    );
    assert_eq!(resp.collections[0].commands.len(), 1);
    assert!(
        waited < Duration::from_secs(60),
        "woken before the 5-minute wait: {waited:?}"
    );
}

#[test]
fn shutdown_answers_held_pings_at_once_and_new_requests_with_503() {
    let mut server = TestServer::with_alice_and_config(CONFIG);
    let (c, _, _) = synced(&server, "PING6");
    // A request whose headers are not finished when the server starts to
    // stop.
    let mut late = server.raw_tls();
    late.send(
        b"POST /Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=PING6&DeviceType=TestPhone HTTP/1.1\r\nHost: eas\r\n",
    )
    .unwrap();
    let (held, signalled) = server.while_held(
        "PING6",
        || {
            let t = Instant::now();
            (ping(&c, Some(300), Some(&["1"])), t.elapsed())
        },
        || server.signal_term(),
    );
    // The held Ping has been answered, so the server is stopping: the late
    // request is told to come back (MS-ASHTTP 2.2.2.4: 503 with
    // Retry-After), not read, not half-done.
    late.send(b"Content-Length: 0\r\n\r\n").unwrap();
    let answer = match late.read_to_close(Duration::from_secs(10)) {
        Closed::Closed(b) | Closed::StillOpen(b) => String::from_utf8_lossy(&b).into_owned(),
    };
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 30"),
        "{answer}"
    );
    let (status, took) = server.wait_for_exit(signalled);
    assert_eq!(held.0.status, PingStatus::EXPIRED);
    assert!(
        held.1 < Duration::from_secs(10),
        "released by the shutdown: {:?}",
        held.1
    );
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(10),
        "the shutdown did not wait for the heartbeat: {took:?}"
    );
}

/// alice's server with LMTP on a free port.
fn lmtp_server() -> (TestServer, std::net::SocketAddr) {
    let port = free_port();
    let server = TestServer::with_alice_and_config(&format!(
        "{CONFIG}\n[lmtp]\nlisten = \"127.0.0.1:{port}\"\n"
    ));
    (server, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
}

/// One message to alice through LMTP, as an MTA hands it over.
fn deliver(lmtp: std::net::SocketAddr, subject: &str) {
    let mut m = MailClient::connect(lmtp).unwrap();
    assert_eq!(m.reply().unwrap().code, 220);
    m.expect("LHLO mta.example.org", 250);
    m.expect("MAIL FROM:<sender@example.org>", 250);
    m.expect("RCPT TO:<alice@example.com>", 250);
    m.expect("DATA", 354);
    let raw = format!(
        "From: sender@example.org\r\nTo: alice@example.com\r\nSubject: {subject}\r\n\r\nhello\r\n"
    );
    m.send(&dot_stuff(raw.as_bytes())).unwrap();
    let done = m.reply().unwrap();
    assert_eq!(done.code, 250, "{done:?}");
}

/// Runs `during` while `c` holds a Ping on `folders`; the Ping's answer
/// and how long it was held.
fn held_ping(
    server: &TestServer,
    c: &EasClient,
    heartbeat: u32,
    folders: &[&str],
    during: impl FnOnce(),
) -> (PingResponse, Duration) {
    server
        .while_held(
            &c.device_id,
            || {
                let t = Instant::now();
                (ping(c, Some(heartbeat), Some(folders)), t.elapsed())
            },
            during,
        )
        .0
}

#[test]
fn a_delivery_through_lmtp_wakes_a_held_ping() {
    let (server, lmtp) = lmtp_server();
    let (c, _, _) = synced(&server, "PINGLMTP");
    let (r, held) = held_ping(&server, &c, 300, &["1", "3"], || deliver(lmtp, "by lmtp"));
    assert_eq!(r.status, PingStatus::CHANGES);
    assert_eq!(r.folders, vec![CollectionId::new("1").unwrap()]);
    assert!(
        held < Duration::from_secs(30),
        "woken by the delivery, not the heartbeat: {held:?}"
    );
}

#[test]
fn a_delivery_to_a_folder_not_watched_leaves_the_ping_held() {
    let (server, lmtp) = lmtp_server();
    let (c, _, _) = synced(&server, "PINGELSE");
    // Deleted Items is watched; the mail goes to the Inbox.
    let (r, held) = held_ping(&server, &c, 2, &["3"], || {
        deliver(lmtp, "not for this Ping")
    });
    assert_eq!(r.status, PingStatus::EXPIRED);
    assert!(
        held >= Duration::from_millis(1900),
        "held for the whole heartbeat: {held:?}"
    );
    // The Inbox, watched now, has the message waiting.
    let r = ping(&c, Some(2), Some(&["1", "3"]));
    assert_eq!(r.status, PingStatus::CHANGES);
    assert_eq!(r.folders, vec![CollectionId::new("1").unwrap()]);
}

#[test]
fn changes_and_moves_by_another_device_wake_a_held_ping() {
    let server = TestServer::with_alice_and_config(CONFIG);
    let _mail = import_one(&server, "shared");
    let (a, a_key, _) = synced(&server, "PINGDEVA");
    // B syncs the Inbox from the start again to learn the message's id.
    let (b, _, _) = synced(&server, "PINGDEVB");
    let fresh = b.post_element(
        Command::SYNC,
        &Request {
            collections: vec![Collection::new(
                SyncKey::initial(),
                CollectionId::new("1").unwrap(),
            )],
            ..Default::default()
        }
        .to_element(),
    );
    let key = Response::from_element(&fresh.element())
        .unwrap()
        .collections[0]
        .header
        .sync_key
        .clone()
        .unwrap();
    let listed = b.post_element(
        Command::SYNC,
        &Request {
            collections: vec![Collection::new(
                key.clone(),
                CollectionId::new("1").unwrap(),
            )],
            ..Default::default()
        }
        .to_element(),
    );
    let listed = Response::from_element(&listed.element()).unwrap();
    let b_key = listed.collections[0].header.sync_key.clone().unwrap();
    let item = listed.collections[0]
        .commands
        .iter()
        .find_map(|c| match c {
            ServerCommand::Add { server_id, .. } => Some(server_id.clone()),
            _ => None,
        })
        .expect("the imported message");

    // B marks it read: A's Ping on the Inbox ends with Status 2.
    let (r, held) = held_ping(&server, &a, 300, &["1"], || {
        let mut change = Collection::new(b_key.clone(), CollectionId::new("1").unwrap());
        change.commands = vec![ClientCommand::Change {
            server_id: item.clone(),
            instance_id: None,
            application_data: Email {
                read: Some(true),
                ..Default::default()
            }
            .to_element(),
            send: false,
        }];
        let reply = b.post_element(
            Command::SYNC,
            &Request {
                collections: vec![change],
                ..Default::default()
            }
            .to_element(),
        );
        assert_eq!(reply.status, 200);
    });
    assert_eq!(r.status, PingStatus::CHANGES);
    assert_eq!(r.folders, vec![CollectionId::new("1").unwrap()]);
    assert!(held < Duration::from_secs(30), "woken by B: {held:?}");

    // A takes the change, then watches Deleted Items; B moves the message
    // there, and A's Ping names that folder.
    let taken = a.post_element(
        Command::SYNC,
        &Request {
            collections: vec![Collection::new(a_key, CollectionId::new("1").unwrap())],
            ..Default::default()
        }
        .to_element(),
    );
    assert_eq!(taken.status, 200);
    let (r, held) = held_ping(&server, &a, 300, &["3"], || {
        let moved = MoveItemsResponse::from_element(
            &b.post_element(
                Command::MOVE_ITEMS,
                &MoveItemsRequest {
                    moves: vec![Move {
                        src_msg_id: item.clone(),
                        src_fld_id: CollectionId::new("1").unwrap(),
                        dst_fld_id: CollectionId::new("3").unwrap(),
                    }],
                }
                .to_element(),
            )
            .element(),
        )
        .unwrap();
        assert_eq!(moved.responses.len(), 1);
    });
    assert_eq!(r.status, PingStatus::CHANGES);
    assert_eq!(r.folders, vec![CollectionId::new("3").unwrap()]);
    assert!(
        held < Duration::from_secs(30),
        "woken by the move: {held:?}"
    );
}

/// The hierarchy's SyncKey after a first FolderSync.
fn folder_sync(c: &EasClient) -> SyncKey {
    c.folder_sync(&SyncKey::initial()).sync_key.unwrap()
}

#[test]
fn a_held_ping_ends_with_status_7_when_another_device_creates_a_folder() {
    let server = TestServer::with_alice_and_config(CONFIG);
    let (c, _, _) = synced(&server, "PINGHIER");
    let mut other = server.alice("PINGHIERB", ProtocolVersion::V16_1);
    other.provision_fully();
    let key = folder_sync(&other);
    let (r, held) = held_ping(&server, &c, 300, &["1"], || {
        let created = FolderCreateResponse::from_element(
            &other
                .post_element(
                    Command::FOLDER_CREATE,
                    &FolderCreateRequest {
                        sync_key: key.clone(),
                        parent_id: CollectionId::new("0").unwrap(),
                        display_name: "Made elsewhere".into(),
                        folder_type: FolderType::USER_MAIL,
                    }
                    .to_element(),
                )
                .element(),
        )
        .unwrap();
        assert!(created.server_id.is_some());
    });
    assert_eq!(r.status, PingStatus::HIERARCHY_CHANGED);
    assert!(
        held < Duration::from_secs(30),
        "woken by the new folder, not the heartbeat: {held:?}"
    );
}

#[test]
fn an_empty_ping_repeats_the_last_heartbeat_and_folders() {
    let (server, lmtp) = lmtp_server();
    let (c, key, _) = synced(&server, "PINGEMPTY");
    let empty = |c: &EasClient| {
        let t = Instant::now();
        let r = PingResponse::from_element(&c.post(Command::PING, Vec::new()).element()).unwrap();
        (r, t.elapsed())
    };

    // Deleted Items for 2 s, nothing new.
    let r = ping(&c, Some(2), Some(&["3"]));
    assert_eq!(r.status, PingStatus::EXPIRED);
    // An empty Ping watches Deleted Items for 2 s again: mail to the
    // Inbox, not watched, does not end it, and it ends with the heartbeat
    // repeated rather than the server's maximum (600 s here).
    let ((r, held), ()) =
        server.while_held("PINGEMPTY", || empty(&c), || deliver(lmtp, "to the Inbox"));
    assert_eq!(r.status, PingStatus::EXPIRED);
    assert!(
        held >= Duration::from_millis(1900) && held < Duration::from_secs(30),
        "held for the repeated 2 s heartbeat: {held:?}"
    );

    // Now the Inbox, with a long heartbeat: the message is waiting.
    let r = ping(&c, Some(300), Some(&["1"]));
    assert_eq!(r.status, PingStatus::CHANGES);
    assert_eq!(r.folders, vec![CollectionId::new("1").unwrap()]);
    let taken = c.post_element(
        Command::SYNC,
        &Request {
            collections: vec![Collection::new(key, CollectionId::new("1").unwrap())],
            ..Default::default()
        }
        .to_element(),
    );
    let taken = Response::from_element(&taken.element()).unwrap();
    assert_eq!(taken.collections[0].commands.len(), 1);
    // An empty Ping watches the Inbox: the next delivery ends it, and
    // its answer names the Inbox.
    let ((r, held), ()) = server.while_held(
        "PINGEMPTY",
        || empty(&c),
        || deliver(lmtp, "to the Inbox again"),
    );
    assert_eq!(r.status, PingStatus::CHANGES);
    assert_eq!(r.folders, vec![CollectionId::new("1").unwrap()]);
    assert!(
        held < Duration::from_secs(30),
        "woken by the delivery: {held:?}"
    );
}
