//! Sync of the Email class against the real server, mail put in with
//! `eas-server import` while it runs: windows, retries, two devices, the
//! statuses, and MIME bodies byte for byte.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashSet;

use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::email::Email;
use eas_proto::command::ids::{CollectionId, ServerId, SyncKey};
use eas_proto::command::sync::{
    ClientCommand, Collection, ItemResponse, MimeSupport, Options, Request, Response,
    ServerCommand, Status,
};
use eas_proto::http::Command;
use eas_tests::client::EasClient;
use eas_tests::server::{TempDir, TestServer};
use sha2::{Digest, Sha256};

fn message(i: usize) -> Vec<u8> {
    format!(
        "From: \"Sender {i}\" <sender{i}@example.com>\r\nTo: Alice <alice@example.com>\r\nSubject: Message {i}\r\nDate: Sun, 29 Nov 2026 {:02}:{:02}:00 +0000\r\nMessage-ID: <m{i}@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello number {i}, caf\u{e9}.\r\n",
        i / 60 % 24,
        i % 60
    )
    .into_bytes()
}

/// Imports messages into alice's Inbox through the running server.
fn import(server: &TestServer, messages: &[Vec<u8>]) -> TempDir {
    let dir = TempDir::new("sync-import");
    for (i, m) in messages.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i:04}.eml")), m).unwrap();
    }
    server.cli_ok(
        &["import", "--user", "alice", dir.path().to_str().unwrap()],
        "",
    );
    dir
}

fn client(server: &TestServer, device: &str) -> EasClient {
    let mut c = server.alice(device, ProtocolVersion::V16_1);
    c.provision_fully();
    c.folder_sync(&SyncKey::initial());
    c
}

fn inbox(key: &SyncKey) -> Collection {
    Collection::new(key.clone(), CollectionId::new("1").unwrap())
}

fn sync(c: &EasClient, collection: Collection) -> Response {
    let reply = c.post_element(
        Command::SYNC,
        &Request {
            collections: vec![collection],
            ..Default::default()
        }
        .to_element(),
    );
    Response::from_element(&reply.element()).unwrap()
}

fn text_options(truncation: Option<u32>) -> Options {
    Options {
        body_preferences: vec![BodyPreference {
            body_type: BodyType::PLAIN_TEXT,
            truncation_size: truncation,
            all_or_none: None,
            preview: None,
        }],
        ..Default::default()
    }
}

/// Key 0, then a collection with GetChanges and a window.
fn start(c: &EasClient, window: u32, options: Options) -> SyncKey {
    let mut first = inbox(&SyncKey::initial());
    first.options = vec![options];
    let r = sync(c, first);
    let col = &r.collections[0];
    assert_eq!(col.header.status, Status::SUCCESS);
    assert!(col.commands.is_empty(), "key 0 sends no items");
    let _ = window;
    col.header.sync_key.clone().unwrap()
}

fn adds(r: &Response) -> Vec<ServerId> {
    r.collections[0]
        .commands
        .iter()
        .filter_map(|c| match c {
            ServerCommand::Add { server_id, .. } => Some(server_id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn windows_deliver_every_message_exactly_once_and_a_retry_gets_the_same_batch() {
    let server = TestServer::with_alice();
    let messages: Vec<Vec<u8>> = (0..23).map(message).collect();
    let _dir = import(&server, &messages);
    let c = client(&server, "SYNCWIN1");
    let mut key = start(&c, 5, text_options(Some(10)));
    let mut seen = Vec::new();
    let mut rounds = 0;
    loop {
        let mut col = inbox(&key);
        col.window_size = Some(5);
        let r = sync(&c, col);
        let header = &r.collections[0].header;
        assert_eq!(header.status, Status::SUCCESS);
        let batch = adds(&r);
        assert!(batch.len() <= 5);
        if rounds == 1 {
            // The answer is "lost": the same key again gets the same batch.
            let mut again = inbox(&key);
            again.window_size = Some(5);
            let retry = sync(&c, again);
            assert_eq!(adds(&retry), batch);
            assert_eq!(retry.collections[0].header.sync_key, header.sync_key);
        }
        seen.extend(batch);
        key = header.sync_key.clone().unwrap();
        rounds += 1;
        if !header.more_available {
            break;
        }
        assert!(rounds < 20);
    }
    assert_eq!(seen.len(), 23);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        23,
        "every ServerId exactly once"
    );
    // Nothing more: no commands, and the key stays.
    let r = sync(&c, inbox(&key));
    assert!(r.collections[0].commands.is_empty());
    // A key this device was never given: Status 3.
    let bad = sync(&c, inbox(&SyncKey::new("nope:9").unwrap()));
    assert_eq!(bad.collections[0].header.status, Status::INVALID_SYNC_KEY);
}

#[test]
fn bodies_are_truncated_as_asked_and_mime_is_the_stored_bytes() {
    let server = TestServer::with_alice();
    let raw = message(7);
    let _dir = import(&server, std::slice::from_ref(&raw));
    let c = client(&server, "SYNCBODY1");
    let key = start(&c, 10, text_options(Some(8)));
    let r = sync(&c, inbox(&key));
    let ServerCommand::Add {
        application_data, ..
    } = &r.collections[0].commands[0]
    else {
        panic!()
    };
    let email = Email::from_element(application_data).unwrap();
    assert_eq!(email.subject.as_deref(), Some("Message 7"));
    assert_eq!(
        email.from.as_deref(),
        Some("\"Sender 7\" <sender7@example.com>")
    );
    assert_eq!(email.message_class.as_deref(), Some("IPM.Note"));
    assert_eq!(email.read, Some(false));
    let body = email.body.unwrap();
    assert_eq!(
        (body.body_type, body.truncated, body.data.as_deref()),
        (BodyType::PLAIN_TEXT, Some(true), Some("Hello nu"))
    );

    // Another device asks for MIME: the Data is the imported bytes exactly.
    let m = client(&server, "SYNCBODY2");
    let options = Options {
        mime_support: Some(MimeSupport::ALWAYS),
        body_preferences: vec![BodyPreference {
            body_type: BodyType::MIME,
            truncation_size: None,
            all_or_none: None,
            preview: None,
        }],
        ..Default::default()
    };
    let key = start(&m, 10, options);
    let r = sync(&m, inbox(&key));
    let ServerCommand::Add {
        application_data, ..
    } = &r.collections[0].commands[0]
    else {
        panic!()
    };
    let body = Email::from_element(application_data).unwrap().body.unwrap();
    assert_eq!(body.body_type, BodyType::MIME);
    let data = body.data.unwrap();
    assert_eq!(Sha256::digest(data.as_bytes()), Sha256::digest(&raw));
}

#[test]
fn two_devices_see_each_others_changes_and_deletes_move_to_deleted_items() {
    let server = TestServer::with_alice();
    let _dir = import(&server, &[message(1), message(2)]);
    let a = client(&server, "SYNCTWO_A");
    let b = client(&server, "SYNCTWO_B");
    let mut ka = start(&a, 10, text_options(Some(100)));
    let mut kb = start(&b, 10, text_options(Some(100)));
    let ra = sync(&a, inbox(&ka));
    ka = ra.collections[0].header.sync_key.clone().unwrap();
    let ids = adds(&ra);
    assert_eq!(ids.len(), 2);
    let rb = sync(&b, inbox(&kb));
    kb = rb.collections[0].header.sync_key.clone().unwrap();
    assert_eq!(adds(&rb).len(), 2);

    // A marks the first read; B is told, A is not told of its own change.
    let mut change = inbox(&ka);
    change.commands = vec![ClientCommand::Change {
        server_id: ids[0].clone(),
        instance_id: None,
        application_data: Email {
            read: Some(true),
            ..Default::default()
        }
        .to_element(),
        send: false,
    }];
    let ra = sync(&a, change);
    assert!(
        ra.collections[0].commands.is_empty(),
        "no echo of A's own change: {:?}",
        ra.collections[0].commands
    );
    ka = ra.collections[0].header.sync_key.clone().unwrap();
    let rb = sync(&b, inbox(&kb));
    kb = rb.collections[0].header.sync_key.clone().unwrap();
    match &rb.collections[0].commands[..] {
        [
            ServerCommand::Change {
                server_id,
                application_data,
                ..
            },
        ] => {
            assert_eq!(server_id, &ids[0]);
            assert_eq!(
                Email::from_element(application_data).unwrap().read,
                Some(true)
            );
        }
        other => panic!("{other:?}"),
    }

    // A deletes the second: it goes to Deleted Items; B sees a Delete.
    let mut delete = inbox(&ka);
    delete.commands = vec![ClientCommand::Delete {
        server_id: ids[1].clone(),
        instance_id: None,
    }];
    let ra = sync(&a, delete);
    assert!(
        ra.collections[0].commands.is_empty(),
        "no echo of A's own delete"
    );
    ka = ra.collections[0].header.sync_key.clone().unwrap();
    let rb = sync(&b, inbox(&kb));
    assert!(
        matches!(&rb.collections[0].commands[..], [ServerCommand::Delete { server_id, .. }] if server_id == &ids[1])
    );
    // Deleted Items (3) now holds it.
    let mut trash = Collection::new(SyncKey::initial(), CollectionId::new("3").unwrap());
    trash.options = vec![text_options(None)];
    let r = sync(&b, trash);
    let key = r.collections[0].header.sync_key.clone().unwrap();
    let r = sync(&b, Collection::new(key, CollectionId::new("3").unwrap()));
    assert_eq!(adds(&r).len(), 1);

    // A change of an item that is not there: Status 8 in Responses.
    let mut ghost = inbox(&ka);
    ghost.commands = vec![ClientCommand::Change {
        server_id: ServerId::new("1:999999").unwrap(),
        instance_id: None,
        application_data: Email {
            read: Some(true),
            ..Default::default()
        }
        .to_element(),
        send: false,
    }];
    let r = sync(&a, ghost);
    assert!(matches!(
        &r.collections[0].responses[..],
        [ItemResponse::Change {
            status: Status::OBJECT_NOT_FOUND,
            ..
        }]
    ));
}

#[test]
fn unknown_collections_and_bad_requests() {
    let server = TestServer::with_alice();
    let c = client(&server, "SYNCBAD1");
    // An empty Sync with nothing to repeat: Status 13.
    let empty = c.post(Command::SYNC, Vec::new());
    assert_eq!(
        Response::from_element(&empty.element()).unwrap().status,
        Some(Status::INCOMPLETE_REQUEST)
    );
    let r = sync(
        &c,
        Collection::new(SyncKey::initial(), CollectionId::new("4242").unwrap()),
    );
    assert_eq!(
        r.collections[0].header.status,
        Status::FOLDER_HIERARCHY_CHANGED
    );
    // A heartbeat out of range: Status 14 with the limit.
    let req = Request {
        collections: vec![inbox(&SyncKey::initial())],
        heartbeat_interval: Some(5),
        ..Default::default()
    };
    let r = Response::from_element(&c.post_element(Command::SYNC, &req.to_element()).element())
        .unwrap();
    assert_eq!(
        (r.status, r.limit),
        (Some(Status::INVALID_WAIT_OR_HEARTBEAT), Some(60))
    );
}

fn subject_of(command: &ServerCommand) -> Option<String> {
    match command {
        ServerCommand::Add {
            application_data, ..
        } => Email::from_element(application_data).unwrap().subject,
        _ => None,
    }
}

#[test]
fn a_device_that_cannot_take_an_item_gets_the_rest_and_the_item_is_held_back() {
    let server = TestServer::with_alice();
    let mut messages: Vec<Vec<u8>> = (0..6).map(message).collect();
    messages[2] = b"From: x@example.com\r\nTo: alice@example.com\r\nSubject: Poison\r\n\r\nthe phone chokes on this\r\n".to_vec();
    let _dir = import(&server, &messages);
    let c = client(&server, "LOOPY1");
    let mut key = start(&c, 10, text_options(Some(100)));
    let mut received: Vec<String> = Vec::new();
    let mut requests = 0;
    loop {
        requests += 1;
        assert!(
            requests < 40,
            "loop protection never let the device through"
        );
        let mut col = inbox(&key);
        col.window_size = Some(10);
        let r = sync(&c, col);
        let col = &r.collections[0];
        let subjects: Vec<String> = col.commands.iter().filter_map(subject_of).collect();
        if subjects.iter().any(|s| s == "Poison") {
            // The phone fails on this batch and sends its old key again.
            continue;
        }
        received.extend(subjects);
        key = col.header.sync_key.clone().unwrap();
        if !col.header.more_available && col.commands.is_empty() {
            break;
        }
    }
    received.sort();
    let mut expected: Vec<String> = [0, 1, 3, 4, 5]
        .iter()
        .map(|i| format!("Message {i}"))
        .collect();
    expected.sort();
    assert_eq!(
        received, expected,
        "everything but the poison item, each once"
    );
    let list = server.cli_ok(&["device", "list", "alice"], "");
    assert!(list.contains("(1 held back)"), "{list}");

    // Released, the item comes once the device syncs again.
    server.cli_ok(&["device", "release", "alice", "LOOPY1"], "");
    let r = sync(&c, inbox(&key));
    let subjects: Vec<String> = r.collections[0]
        .commands
        .iter()
        .filter_map(subject_of)
        .collect();
    assert_eq!(subjects, vec!["Poison".to_owned()]);
    assert!(
        !server
            .cli_ok(&["device", "list", "alice"], "")
            .contains("held back")
    );
}

#[test]
fn a_key_from_further_back_is_status_3_and_flags_the_device() {
    let server = TestServer::with_alice();
    let _dir = import(&server, &[message(1), message(2), message(3)]);
    let c = client(&server, "CLONE1");
    let k1 = start(&c, 1, text_options(None));
    let mut col = inbox(&k1);
    col.window_size = Some(1);
    let k2 = sync(&c, col).collections[0]
        .header
        .sync_key
        .clone()
        .unwrap();
    let mut col = inbox(&k2);
    col.window_size = Some(1);
    let k3 = sync(&c, col).collections[0]
        .header
        .sync_key
        .clone()
        .unwrap();
    assert_ne!(k3, k2);
    // k1 is two keys back: not a retry, another installation's state.
    let r = sync(&c, inbox(&k1));
    assert_eq!(r.collections[0].header.status, Status::INVALID_SYNC_KEY);
    let list = server.cli_ok(&["device", "list", "alice"], "");
    assert!(list.contains("two installations?"), "{list}");
}
