//! One account never reaches another's items, attachments or folders,
//! whatever id its client sends (issue 8, isolation): bob's ServerIds,
//! FileReferences, LongIds and CollectionIds, sent by alice's phone to
//! ItemOperations, Sync, MoveItems, GetItemEstimate, FolderUpdate,
//! FolderDelete and Search, find nothing and change nothing, and bob's
//! phone then sees his mailbox exactly as it was.
//!
//! Alice's mailbox is empty and bob's ids are real, so an implementation
//! that looked items or folders up without the account would answer with
//! bob's data or change it; the assertions would catch both.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::command::DateTime;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::composemail::{
    Kind, Request as ComposeRequest, Response as ComposeResponse, Source,
};
use eas_proto::command::email::Email;
use eas_proto::command::folder::{
    FolderCreateRequest, FolderCreateResponse, FolderCreateStatus, FolderDeleteRequest,
    FolderDeleteResponse, FolderDeleteStatus, FolderSyncRequest, FolderSyncResponse, FolderType,
    FolderUpdateRequest, FolderUpdateResponse, FolderUpdateStatus,
};
use eas_proto::command::ids::{CollectionId, ServerId, SyncKey};
use eas_proto::command::items::{
    EstimateCollection, Fetch, FetchOptions, GetItemEstimateRequest, GetItemEstimateResponse,
    GetItemEstimateStatus, ItemOperationsRequest, ItemOperationsResponse, ItemOperationsStatus,
    Move, MoveItemsRequest, MoveItemsResponse, MoveItemsStatus, Operation, OperationResponse,
};
use eas_proto::command::ping::{
    Folder as PingFolder, Request as PingRequest, Response as PingResponse, Status as PingStatus,
};
use eas_proto::command::search::{
    Condition, Query, STORE_MAILBOX, SearchOption, SearchOptions, SearchRequest, SearchResponse,
    SearchStatus, StoreRequest,
};
use eas_proto::command::settings;
use eas_proto::command::sync::{
    ClientCommand, Collection, ItemResponse, Options, Request, ServerCommand, Status,
};
use eas_proto::http::{Command, CommandParams};
use eas_proto::status::Status as CommonStatus;
use eas_tests::client::{EasClient, Reply};
use eas_tests::server::{ALICE_PASSWORD, TempDir, TestServer};

const BOB_PASSWORD: &str = "bob-isolation-secret";
/// A word only bob's mail holds.
const SECRET: &str = "marmalade";

fn id(s: &str) -> CollectionId {
    CollectionId::new(s).unwrap()
}

fn bobs_mail(i: usize) -> Vec<u8> {
    format!(
        "From: carol@example.com\r\nTo: bob@example.com\r\nSubject: For bob {i}\r\nMessage-ID: <bob{i}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe {SECRET} recipe, part {i}.\r\n--b\r\nContent-Type: application/octet-stream; name=\"recipe{i}.bin\"\r\nContent-Disposition: attachment; filename=\"recipe{i}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nbWFybWFsYWRl\r\n--b--\r\n"
    )
    .into_bytes()
}

/// A provisioned phone after its first FolderSync; its hierarchy key.
fn phone(server: &TestServer, login: &str, password: &str, device: &str) -> (EasClient, SyncKey) {
    let mut c = server.client(login, password, device, ProtocolVersion::V16_1);
    c.provision_fully();
    let key = c.folder_sync(&SyncKey::initial()).sync_key.unwrap();
    (c, key)
}

fn with_bodies(mut collection: Collection) -> Collection {
    collection.options = vec![Options {
        body_preferences: vec![BodyPreference::new(BodyType::PLAIN_TEXT)],
        ..Default::default()
    }];
    collection
}

/// A first Sync of a folder: the key to go on from, and every item.
fn first_sync(c: &EasClient, folder: &str) -> (SyncKey, Vec<(ServerId, Email)>) {
    let r = c.sync(with_bodies(Collection::new(SyncKey::initial(), id(folder))));
    let mut key = r.collections[0].header.sync_key.clone().unwrap();
    let mut items = Vec::new();
    loop {
        let r = c.sync(with_bodies(Collection::new(key.clone(), id(folder))));
        let col = &r.collections[0];
        assert_eq!(col.header.status, Status::SUCCESS);
        key = col.header.sync_key.clone().unwrap();
        for command in &col.commands {
            if let ServerCommand::Add {
                server_id,
                application_data,
                ..
            } = command
            {
                items.push((
                    server_id.clone(),
                    Email::from_element(application_data).unwrap(),
                ));
            }
        }
        if !col.header.more_available {
            return (key, items);
        }
    }
}

/// A Search of the mailbox for [`SECRET`], in one folder or all.
fn search(c: &EasClient, folder: Option<&CollectionId>) -> SearchResponse {
    let mut and = vec![Condition::FreeText(SECRET.into())];
    if let Some(f) = folder {
        and.push(Condition::CollectionId(f.clone()));
    }
    let reply = c.post_element(
        Command::SEARCH,
        &SearchRequest {
            stores: vec![StoreRequest {
                name: STORE_MAILBOX.into(),
                query: Query::Conditions(vec![Condition::And(and)]),
                options: Some(SearchOptions(vec![SearchOption::RebuildResults])),
            }],
        }
        .to_element(),
    );
    SearchResponse::from_element(&reply.element()).unwrap()
}

fn item_operations(c: &EasClient, operation: Operation) -> ItemOperationsResponse {
    let reply = c.post_element(
        Command::ITEM_OPERATIONS,
        &ItemOperationsRequest {
            operations: vec![operation],
        }
        .to_element(),
    );
    assert!(
        !reply.text().contains(SECRET),
        "bob's mail in alice's answer"
    );
    ItemOperationsResponse::from_element(&reply.element()).unwrap()
}

fn fetch_status(c: &EasClient, fetch: Fetch) -> ItemOperationsStatus {
    let r = item_operations(c, Operation::Fetch(Box::new(fetch)));
    match r.responses.first() {
        Some(OperationResponse::Fetch(f)) => {
            assert!(f.properties.is_none(), "{f:?}");
            f.status
        }
        _ => r.status,
    }
}

fn mime_options() -> FetchOptions {
    FetchOptions {
        body_preferences: vec![BodyPreference::new(BodyType::PLAIN_TEXT)],
        ..Default::default()
    }
}

#[test]
fn no_id_bob_owns_reaches_his_mailbox_from_alices_phone() {
    let server = TestServer::with_alice();
    server.add_user("bob", "bob@example.com", BOB_PASSWORD);
    let (bob, bob_key) = phone(&server, "bob", BOB_PASSWORD, "ISOBOB");
    // Bob's own folder, created before alice's phone ever syncs.
    let created = FolderCreateResponse::from_element(
        &bob.post_element(
            Command::FOLDER_CREATE,
            &FolderCreateRequest {
                sync_key: bob_key,
                parent_id: id("0"),
                display_name: "Recipes".into(),
                folder_type: FolderType::USER_MAIL,
            }
            .to_element(),
        )
        .element(),
    )
    .unwrap();
    assert_eq!(created.status, FolderCreateStatus::SUCCESS);
    let bob_folder = created.server_id.unwrap();
    let dir = TempDir::new("isolation");
    for i in 0..4 {
        std::fs::write(dir.path().join(format!("{i}.eml")), bobs_mail(i)).unwrap();
    }
    let path = dir.path().to_str().unwrap();
    server.cli_ok(&["import", "--user", "bob", path], "");
    server.cli_ok(
        &["import", "--user", "bob", "--folder", "Recipes", path],
        "",
    );
    let (bob_inbox_key, bob_items) = first_sync(&bob, "1");
    assert_eq!(bob_items.len(), 4);
    let file_references: Vec<String> = bob_items
        .iter()
        .flat_map(|(_, e)| e.attachments.iter().flat_map(|a| a.attachments.clone()))
        .map(|a| a.file_reference)
        .collect();
    assert_eq!(file_references.len(), 4, "{bob_items:?}");
    // A LongId of bob's, from his own search.
    let bob_found = search(&bob, None).store.unwrap();
    assert_eq!(bob_found.total, Some(8));
    let bob_long_ids: Vec<String> = bob_found
        .results
        .iter()
        .filter_map(|r| r.long_id.clone())
        .collect();
    assert_eq!(bob_long_ids.len(), 8);

    // Alice's phone, with an empty mailbox.
    let (alice, alice_key) = phone(&server, "alice", ALICE_PASSWORD, "ISOALICE");
    let (alice_inbox_key, mine) = first_sync(&alice, "1");
    assert!(mine.is_empty());

    // ServerId, FileReference and LongId in ItemOperations Fetch.
    for (server_id, _) in &bob_items {
        let mut f = Fetch::new("Mailbox");
        f.collection_id = Some(id("1"));
        f.server_id = Some(server_id.clone());
        f.options = Some(mime_options());
        assert_eq!(fetch_status(&alice, f), ItemOperationsStatus::NOT_FOUND);
    }
    for reference in &file_references {
        let mut f = Fetch::new("Mailbox");
        f.file_reference = Some(reference.clone());
        let status = fetch_status(&alice, f);
        assert_ne!(status, ItemOperationsStatus::SUCCESS, "{reference}");
    }
    for long_id in &bob_long_ids {
        let mut f = Fetch::new("Mailbox");
        f.long_id = Some(long_id.clone());
        f.options = Some(mime_options());
        assert_eq!(fetch_status(&alice, f), ItemOperationsStatus::NOT_FOUND);
    }

    // Sync Change, Fetch and Delete of bob's ServerIds in alice's Inbox:
    // each one "not found", nothing changed.
    let mut key = alice_inbox_key;
    for (server_id, _) in &bob_items {
        let mut c = Collection::new(key.clone(), id("1"));
        c.commands = vec![
            ClientCommand::Change {
                server_id: server_id.clone(),
                instance_id: None,
                application_data: Email {
                    read: Some(true),
                    ..Default::default()
                }
                .to_element(),
                send: false,
            },
            ClientCommand::Fetch {
                server_id: server_id.clone(),
            },
            ClientCommand::Delete {
                server_id: server_id.clone(),
                instance_id: None,
            },
        ];
        let r = alice.sync(c);
        let col = &r.collections[0];
        assert!(
            col.commands.is_empty(),
            "alice got items: {:?}",
            col.commands
        );
        for response in &col.responses {
            match response {
                ItemResponse::Change { status, .. }
                | ItemResponse::Fetch { status, .. }
                | ItemResponse::Delete { status, .. } => {
                    assert_eq!(*status, Status::OBJECT_NOT_FOUND, "{response:?}");
                }
                other => panic!("an unexpected response: {other:?}"),
            }
        }
        if let Some(k) = &col.header.sync_key {
            key = k.clone();
        }
    }

    // MoveItems of bob's items, from his folders, into alice's Deleted Items.
    let moves = bob_items
        .iter()
        .map(|(server_id, _)| Move {
            src_msg_id: server_id.clone(),
            src_fld_id: id("1"),
            dst_fld_id: id("3"),
        })
        .collect();
    let moved = MoveItemsResponse::from_element(
        &alice
            .post_element(
                Command::MOVE_ITEMS,
                &MoveItemsRequest { moves }.to_element(),
            )
            .element(),
    )
    .unwrap();
    assert_eq!(moved.responses.len(), 4);
    for r in &moved.responses {
        assert_eq!(r.status, MoveItemsStatus::INVALID_SOURCE, "{r:?}");
    }

    // Bob's folder id: unknown to every folder command of alice's.
    let estimate = GetItemEstimateResponse::from_element(
        &alice
            .post_element(
                Command::GET_ITEM_ESTIMATE,
                &GetItemEstimateRequest {
                    collections: vec![EstimateCollection::new(key.clone(), bob_folder.clone())],
                }
                .to_element(),
            )
            .element(),
    )
    .unwrap();
    let status = estimate
        .responses
        .first()
        .map(|r| r.status)
        .or(estimate.status);
    assert_eq!(status, Some(GetItemEstimateStatus::INVALID_COLLECTION));
    let r = alice.sync(Collection::new(SyncKey::initial(), bob_folder.clone()));
    assert_eq!(
        r.collections[0].header.status,
        Status::FOLDER_HIERARCHY_CHANGED
    );
    let emptied = item_operations(
        &alice,
        Operation::EmptyFolderContents {
            collection_id: bob_folder.clone(),
            delete_sub_folders: true,
        },
    );
    let status = match emptied.responses.first() {
        Some(OperationResponse::EmptyFolderContents { status, .. }) => *status,
        _ => emptied.status,
    };
    assert_ne!(status, ItemOperationsStatus::SUCCESS);
    let updated = FolderUpdateResponse::from_element(
        &alice
            .post_element(
                Command::FOLDER_UPDATE,
                &FolderUpdateRequest {
                    sync_key: alice_key.clone(),
                    server_id: bob_folder.clone(),
                    parent_id: id("0"),
                    display_name: "Mine now".into(),
                }
                .to_element(),
            )
            .element(),
    )
    .unwrap();
    assert_eq!(updated.status, FolderUpdateStatus::NOT_FOUND);
    let deleted = FolderDeleteResponse::from_element(
        &alice
            .post_element(
                Command::FOLDER_DELETE,
                &FolderDeleteRequest {
                    sync_key: alice_key,
                    server_id: bob_folder.clone(),
                }
                .to_element(),
            )
            .element(),
    )
    .unwrap();
    assert_eq!(deleted.status, FolderDeleteStatus::NOT_FOUND);

    // Search: nothing of bob's, with or without his folder id.
    for folder in [None, Some(&bob_folder)] {
        let r = search(&alice, folder);
        assert_eq!(r.status, SearchStatus::SUCCESS);
        let store = r.store.unwrap();
        assert!(
            store.results.iter().all(|r| r.long_id.is_none()),
            "{store:?}"
        );
    }

    // Bob's phone: his mailbox as it was, no change, no delete, no move.
    let r = bob.sync(with_bodies(Collection::new(bob_inbox_key, id("1"))));
    let col = &r.collections[0];
    assert_eq!(col.header.status, Status::SUCCESS);
    assert!(
        col.commands.is_empty(),
        "bob's Inbox changed: {:?}",
        col.commands
    );
    let (_, still) = first_sync(&bob, "1");
    assert_eq!(still.len(), 4);
    assert!(still.iter().all(|(_, e)| e.read != Some(true)));
    let (_, recipes) = first_sync(&bob, bob_folder.as_str());
    assert_eq!(recipes.len(), 4);
    let hierarchy = FolderSyncResponse::from_element(
        &bob.post_element(
            Command::FOLDER_SYNC,
            &FolderSyncRequest {
                sync_key: SyncKey::initial(),
            }
            .to_element(),
        )
        .element(),
    )
    .unwrap();
    let names: Vec<String> = hierarchy
        .changes
        .iter()
        .flat_map(|c| c.adds.iter().map(|f| f.display_name.clone()))
        .collect();
    assert!(names.contains(&"Recipes".to_owned()), "{names:?}");
}

/// Bob with `n` messages of his in his Inbox, his phone synced: the phone,
/// the messages' ServerIds and LongIds, and the directory the import read
/// (dropping it removes the files).
fn bob_with_mail(
    server: &TestServer,
    n: usize,
) -> (EasClient, Vec<ServerId>, Vec<String>, TempDir) {
    server.add_user("bob", "bob@example.com", BOB_PASSWORD);
    let (bob, _) = phone(server, "bob", BOB_PASSWORD, "ISOBOB");
    let dir = TempDir::new("isolation-bob");
    for i in 0..n {
        std::fs::write(dir.path().join(format!("{i}.eml")), bobs_mail(i)).unwrap();
    }
    server.cli_ok(
        &["import", "--user", "bob", dir.path().to_str().unwrap()],
        "",
    );
    let (_, items) = first_sync(&bob, "1");
    assert_eq!(items.len(), n);
    let long_ids: Vec<String> = search(&bob, None)
        .store
        .unwrap()
        .results
        .iter()
        .filter_map(|r| r.long_id.clone())
        .collect();
    assert_eq!(long_ids.len(), n);
    let server_ids = items.into_iter().map(|(id, _)| id).collect();
    (bob, server_ids, long_ids, dir)
}

/// What alice's phone writes around the message it replies to or forwards.
const ALICE_WRITES: &[u8] =
    b"From: alice@example.com\r\nTo: carol@example.net\r\nSubject: have a look\r\n\r\nSee below.\r\n";

#[test]
fn bobs_ids_in_alices_replies_and_forwards_find_nothing() {
    let server = TestServer::with_alice();
    let (_bob, server_ids, long_ids, _dir) = bob_with_mail(&server, 2);
    let (alice, _) = phone(&server, "alice", ALICE_PASSWORD, "ISOALICE");
    let occurrence = DateTime::parse("2026-03-01T12:00:00.000Z").unwrap();

    // 14.0 and later: Source's ItemId (with and without an InstanceId, the
    // id of one occurrence of a meeting) and LongId.
    let mut sources = Vec::new();
    for server_id in &server_ids {
        let by_item = Source {
            folder_id: Some("1".into()),
            item_id: Some(server_id.as_str().into()),
            ..Default::default()
        };
        sources.push(Source {
            instance_id: Some(occurrence.clone()),
            ..by_item.clone()
        });
        sources.push(by_item);
    }
    for long_id in &long_ids {
        sources.push(Source {
            long_id: Some(long_id.clone()),
            ..Default::default()
        });
    }
    let mut n = 0;
    for kind in [Kind::SmartReply, Kind::SmartForward] {
        let command = match kind {
            Kind::SmartReply => Command::SMART_REPLY,
            _ => Command::SMART_FORWARD,
        };
        for source in &sources {
            n += 1;
            let mut request = ComposeRequest::new(kind, format!("iso-{n}"), ALICE_WRITES.to_vec());
            request.save_in_sent_items = true;
            request.source = Some(source.clone());
            let reply = alice.post_element(command, &request.to_element());
            assert!(!reply.text().contains(SECRET), "{source:?}");
            let answer = ComposeResponse::from_element(&reply.element()).unwrap();
            assert_eq!(
                answer.status,
                CommonStatus::ITEM_NOT_FOUND,
                "{kind:?} {source:?}"
            );
        }
    }

    // 12.1: ItemId and CollectionId, or LongId, in the query.
    let mut alice12 = server.client(
        "alice",
        ALICE_PASSWORD,
        "ISOALICE12",
        ProtocolVersion::V12_1,
    );
    alice12.provision_fully();
    let mut queries = Vec::new();
    for server_id in &server_ids {
        queries.push(CommandParams {
            collection_id: Some("1".into()),
            item_id: Some(server_id.as_str().into()),
            save_in_sent: Some(true),
            ..Default::default()
        });
    }
    for long_id in &long_ids {
        queries.push(CommandParams {
            long_id: Some(long_id.clone()),
            save_in_sent: Some(true),
            ..Default::default()
        });
    }
    for command in [Command::SMART_REPLY, Command::SMART_FORWARD] {
        for params in &queries {
            let reply = alice12.post_rfc822(command, params.clone(), ALICE_WRITES);
            assert!(!reply.text().contains(SECRET), "{params:?}");
            assert!(
                (400..500).contains(&reply.status),
                "{command} {params:?}: HTTP {}",
                reply.status
            );
        }
    }

    // Nothing went out and nothing was filed: the queue is empty and
    // alice's Sent Items (4) holds nothing.
    let queue = server.cli_ok(&["queue", "list"], "");
    assert!(!queue.contains("carol@example.net"), "{queue}");
    let (_, sent) = first_sync(&alice, "4");
    assert!(sent.is_empty(), "{sent:?}");
}

/// A Ping answer.
fn ping(c: &EasClient, heartbeat: u32, folders: &[&str]) -> PingResponse {
    let request = PingRequest {
        heartbeat_interval: Some(heartbeat),
        folders: Some(
            folders
                .iter()
                .map(|f| PingFolder {
                    id: id(f),
                    class: "Email".into(),
                })
                .collect(),
        ),
    };
    PingResponse::from_element(
        &c.post_element(Command::PING, &request.to_element())
            .element(),
    )
    .unwrap()
}

#[test]
fn a_delivery_to_bob_wakes_only_bobs_pings() {
    let server = TestServer::with_alice_and_config("[push]\nmin_heartbeat_secs = 1\n");
    let (bob, _, _, _dir) = bob_with_mail(&server, 1);
    let (alice, _) = phone(&server, "alice", ALICE_PASSWORD, "ISOALICE");
    let _ = first_sync(&alice, "1");
    // Both watch "1", their own Inboxes: the same CollectionId in two
    // accounts. Mail for bob arrives while both are held.
    let more = TempDir::new("isolation-more");
    std::fs::write(more.path().join("m.eml"), bobs_mail(9)).unwrap();
    let held = (server.holds("ISOALICE"), server.holds("ISOBOB"));
    let (alices, bobs) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            let t = Instant::now();
            (ping(&alice, 3, &["1", "3"]), t.elapsed())
        });
        let b = s.spawn(|| ping(&bob, 300, &["1"]));
        server.wait_for_hold("ISOALICE", held.0 + 1);
        server.wait_for_hold("ISOBOB", held.1 + 1);
        server.cli_ok(
            &["import", "--user", "bob", more.path().to_str().unwrap()],
            "",
        );
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(bobs.status, PingStatus::CHANGES);
    assert_eq!(bobs.folders, vec![id("1")]);
    let (alices, held) = alices;
    assert_eq!(alices.status, PingStatus::EXPIRED, "{alices:?}");
    assert!(alices.folders.is_empty(), "{alices:?}");
    assert!(
        held >= Duration::from_millis(2900),
        "alice's Ping ended early, after {held:?}"
    );
}

#[test]
fn alices_device_with_bobs_device_id_is_her_own() {
    let server = TestServer::with_alice();
    let (bob, _, _, _dir) = bob_with_mail(&server, 1);
    server.cli_ok(&["trace", "on", "bob", "ISOBOB"], "");
    assert_eq!(
        bob.user_information().settings().status,
        settings::Status::SUCCESS
    );
    // Alice's phone claims bob's DeviceId and bob's policy key.
    let mut alice = server.client("alice", ALICE_PASSWORD, "ISOBOB", ProtocolVersion::V16_1);
    alice.policy_key = bob.policy_key;
    let refused = alice.user_information().settings();
    assert_eq!(
        refused.status,
        settings::Status(142),
        "bob's policy key let alice's device in"
    );
    alice.provision_fully();
    // Her Inbox is empty however bob's phone has synced it.
    let (_, items) = first_sync(&alice, "1");
    assert!(items.is_empty(), "{items:?}");

    // The devices are two, each listed under its own account.
    let alices_devices = server.cli_ok(&["device", "list", "alice"], "");
    let bobs_devices = server.cli_ok(&["device", "list", "bob"], "");
    assert_eq!(
        alices_devices.matches("ISOBOB").count(),
        1,
        "{alices_devices}"
    );
    assert_eq!(bobs_devices.matches("ISOBOB").count(), 1, "{bobs_devices}");
    assert!(!bobs_devices.contains("alice"), "{bobs_devices}");

    // The trace is bob's device's only: alice's requests are not in it,
    // and no trace of hers was started.
    let traces = server.data().join("traces");
    assert!(!traces.join("alice").exists(), "alice's device is traced");
    let mut traced = String::new();
    for file in walk(&traces.join("bob/ISOBOB")) {
        traced.push_str(&std::fs::read_to_string(file).unwrap());
    }
    assert!(traced.contains("User=bob"), "bob's device was not traced");
    assert!(
        !traced.contains("User=alice") && !traced.contains("alice@example.com"),
        "alice's requests are in bob's trace"
    );
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Every request of alice's phone that names one of her ids: ServerId
/// (Sync, ItemOperations, MoveItems, SmartForward with an InstanceId),
/// FileReference, LongId (ItemOperations, SmartReply), CollectionId
/// (Sync, GetItemEstimate, Ping, Search), and the hierarchy. The phone's
/// name for each and its reply.
fn every_id(
    c: &EasClient,
    inbox_key: &SyncKey,
    server_id: &ServerId,
    file_reference: &str,
    long_id: &str,
) -> Vec<(&'static str, Reply)> {
    let mut fetch = Collection::new(inbox_key.clone(), id("1"));
    fetch.commands = vec![ClientCommand::Fetch {
        server_id: server_id.clone(),
    }];
    let sync = |collection: Collection| {
        c.post_element(
            Command::SYNC,
            &Request {
                collections: vec![with_bodies(collection)],
                ..Default::default()
            }
            .to_element(),
        )
    };
    let operation = |op: Operation| {
        c.post_element(
            Command::ITEM_OPERATIONS,
            &ItemOperationsRequest {
                operations: vec![op],
            }
            .to_element(),
        )
    };
    let mut by_server_id = Fetch::new("Mailbox");
    by_server_id.collection_id = Some(id("1"));
    by_server_id.server_id = Some(server_id.clone());
    by_server_id.options = Some(mime_options());
    let mut by_reference = Fetch::new("Mailbox");
    by_reference.file_reference = Some(file_reference.into());
    let mut by_long_id = Fetch::new("Mailbox");
    by_long_id.long_id = Some(long_id.into());
    by_long_id.options = Some(mime_options());
    let compose = |kind: Kind, source: Source| {
        let mut request =
            ComposeRequest::new(kind, format!("gate-{kind:?}"), ALICE_WRITES.to_vec());
        request.source = Some(source);
        let command = match kind {
            Kind::SmartReply => Command::SMART_REPLY,
            _ => Command::SMART_FORWARD,
        };
        c.post_element(command, &request.to_element())
    };
    let search_reply = c.post_element(
        Command::SEARCH,
        &SearchRequest {
            stores: vec![StoreRequest {
                name: STORE_MAILBOX.into(),
                query: Query::Conditions(vec![Condition::And(vec![
                    Condition::FreeText(SECRET.into()),
                    Condition::CollectionId(id("1")),
                ])]),
                options: Some(SearchOptions(vec![SearchOption::RebuildResults])),
            }],
        }
        .to_element(),
    );
    vec![
        ("Sync Fetch by ServerId", sync(fetch)),
        (
            "Sync of the Inbox",
            sync(Collection::new(inbox_key.clone(), id("1"))),
        ),
        (
            "initial Sync",
            sync(Collection::new(SyncKey::initial(), id("1"))),
        ),
        (
            "ItemOperations by ServerId",
            operation(Operation::Fetch(Box::new(by_server_id))),
        ),
        (
            "ItemOperations by FileReference",
            operation(Operation::Fetch(Box::new(by_reference))),
        ),
        (
            "ItemOperations by LongId",
            operation(Operation::Fetch(Box::new(by_long_id))),
        ),
        (
            "MoveItems",
            c.post_element(
                Command::MOVE_ITEMS,
                &MoveItemsRequest {
                    moves: vec![Move {
                        src_msg_id: server_id.clone(),
                        src_fld_id: id("1"),
                        dst_fld_id: id("3"),
                    }],
                }
                .to_element(),
            ),
        ),
        (
            "GetItemEstimate",
            c.post_element(
                Command::GET_ITEM_ESTIMATE,
                &GetItemEstimateRequest {
                    collections: vec![EstimateCollection::new(inbox_key.clone(), id("1"))],
                }
                .to_element(),
            ),
        ),
        ("Search", search_reply),
        (
            "SmartForward by ItemId and InstanceId",
            compose(
                Kind::SmartForward,
                Source {
                    folder_id: Some("1".into()),
                    item_id: Some(server_id.as_str().into()),
                    instance_id: DateTime::parse("2026-03-01T12:00:00.000Z"),
                    ..Default::default()
                },
            ),
        ),
        (
            "SmartReply by LongId",
            compose(
                Kind::SmartReply,
                Source {
                    long_id: Some(long_id.into()),
                    ..Default::default()
                },
            ),
        ),
        (
            "FolderSync",
            c.post_element(
                Command::FOLDER_SYNC,
                &FolderSyncRequest {
                    sync_key: SyncKey::initial(),
                }
                .to_element(),
            ),
        ),
        (
            "Ping",
            c.post_element(
                Command::PING,
                &PingRequest {
                    heartbeat_interval: Some(60),
                    folders: Some(vec![PingFolder {
                        id: id("1"),
                        class: "Email".into(),
                    }]),
                }
                .to_element(),
            ),
        ),
    ]
}

/// Each request refused with `status` in its command's document, and
/// nothing of the mailbox in any answer.
fn assert_all_refused(answers: Vec<(&'static str, Reply)>, status: u16) {
    for (what, reply) in answers {
        assert_eq!(reply.status, 200, "{what}: HTTP {}", reply.status);
        let xml = eas_proto::xml::to_xml(&reply.element());
        assert!(
            xml.contains(&format!("<Status>{status}</Status>")),
            "{what}: not refused with {status}: {xml}"
        );
        assert!(
            !xml.contains(SECRET),
            "{what}: the mail reached the device: {xml}"
        );
        assert!(
            !xml.contains("recipe"),
            "{what}: an attachment's name: {xml}"
        );
    }
}

#[test]
fn a_blocked_or_wiped_device_gets_nothing_through_any_id() {
    let server = TestServer::with_alice();
    // Alice's own mail: her phone would be entitled to it, were it let in.
    let dir = TempDir::new("isolation-gate");
    std::fs::write(dir.path().join("0.eml"), bobs_mail(0)).unwrap();
    server.cli_ok(
        &["import", "--user", "alice", dir.path().to_str().unwrap()],
        "",
    );
    let (alice, _) = phone(&server, "alice", ALICE_PASSWORD, "ISOGATE");
    let (inbox_key, items) = first_sync(&alice, "1");
    let (server_id, email) = &items[0];
    let file_reference = email.attachments.as_ref().unwrap().attachments[0]
        .file_reference
        .clone();
    let long_id = search(&alice, None).store.unwrap().results[0]
        .long_id
        .clone()
        .unwrap();
    let all = |c: &EasClient| every_id(c, &inbox_key, server_id, &file_reference, &long_id);

    // Blocked: 129 (MS-ASCMD 2.2.2.x DeviceIsBlockedForThisUser).
    server.cli_ok(&["device", "block", "alice", "ISOGATE"], "");
    assert_all_refused(all(&alice), 129);

    // A wipe waiting, then carried out: 140 for every request, before the
    // acknowledgement and after it, and the wipe again at each Provision.
    server.cli_ok(&["device", "allow", "alice", "ISOGATE"], "");
    server.cli_ok(&["device", "wipe", "alice", "ISOGATE"], "");
    assert_all_refused(all(&alice), 140);
    let wipe = alice.download_policy().provision();
    assert!(
        wipe.remote_wipe.is_some() && wipe.policy.is_none(),
        "{wipe:?}"
    );
    let ack = alice.acknowledge_wipe(false).provision();
    assert_eq!(ack.status, eas_proto::command::provision::Status::SUCCESS);
    assert_all_refused(all(&alice), 140);
    let again = alice.download_policy().provision();
    assert!(
        again.remote_wipe.is_some() && again.policy.is_none(),
        "{again:?}"
    );

    // Allowed again by the administrator: served, and the refused
    // MoveItems and compose commands changed nothing.
    server.cli_ok(&["device", "allow", "alice", "ISOGATE"], "");
    let (_, still) = first_sync(&alice, "1");
    assert_eq!(still.len(), 1);
    let (_, sent) = first_sync(&alice, "4");
    assert!(sent.is_empty(), "{sent:?}");
    let queue = server.cli_ok(&["queue", "list"], "");
    assert!(!queue.contains("carol@example.net"), "{queue}");
}

#[test]
fn a_device_blocked_or_wiped_while_it_waits_is_told_nothing() {
    let server = TestServer::with_alice();
    let (pinger, _) = phone(&server, "alice", ALICE_PASSWORD, "ISOHELDPING");
    let _ = first_sync(&pinger, "1");
    let (waiter, _) = phone(&server, "alice", ALICE_PASSWORD, "ISOHELDSYNC");
    let (key, _) = first_sync(&waiter, "1");
    let dir = TempDir::new("isolation-held");
    std::fs::write(dir.path().join("m.eml"), bobs_mail(7)).unwrap();

    let (pinged, waited) = std::thread::scope(|s| {
        let p = s.spawn(|| {
            pinger.post_element(
                Command::PING,
                &PingRequest {
                    heartbeat_interval: Some(300),
                    folders: Some(vec![PingFolder {
                        id: id("1"),
                        class: "Email".into(),
                    }]),
                }
                .to_element(),
            )
        });
        let w = s.spawn(|| {
            waiter.post_element(
                Command::SYNC,
                &Request {
                    collections: vec![with_bodies(Collection::new(key.clone(), id("1")))],
                    wait: Some(5),
                    ..Default::default()
                }
                .to_element(),
            )
        });
        server.wait_for_hold("ISOHELDPING", 1);
        server.wait_for_hold("ISOHELDSYNC", 1);
        server.cli_ok(&["device", "block", "alice", "ISOHELDPING"], "");
        server.cli_ok(&["device", "wipe", "alice", "ISOHELDSYNC"], "");
        server.cli_ok(
            &["import", "--user", "alice", dir.path().to_str().unwrap()],
            "",
        );
        (p.join().unwrap(), w.join().unwrap())
    });
    let pinged = eas_proto::xml::to_xml(&pinged.element());
    assert!(pinged.contains("<Status>129</Status>"), "{pinged}");
    assert!(!pinged.contains("<Folder>"), "{pinged}");
    let waited = eas_proto::xml::to_xml(&waited.element());
    assert!(waited.contains("<Status>140</Status>"), "{waited}");
    assert!(
        !waited.contains(SECRET) && !waited.contains("<Add>"),
        "{waited}"
    );
    let log = server.log();
    assert!(
        log.contains("held Ping ended: the device was blocked"),
        "{log}"
    );
    assert!(
        log.contains("held Sync ended: a wipe was asked for"),
        "{log}"
    );
}
