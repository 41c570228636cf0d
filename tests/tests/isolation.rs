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

use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
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
use eas_proto::command::search::{
    Condition, Query, STORE_MAILBOX, SearchOption, SearchOptions, SearchRequest, SearchResponse,
    SearchStatus, StoreRequest,
};
use eas_proto::command::sync::{
    ClientCommand, Collection, ItemResponse, Options, Request, Response, ServerCommand, Status,
};
use eas_proto::http::Command;
use eas_tests::client::EasClient;
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
    let fs = c.post_element(
        Command::FOLDER_SYNC,
        &FolderSyncRequest {
            sync_key: SyncKey::initial(),
        }
        .to_element(),
    );
    let key = FolderSyncResponse::from_element(&fs.element())
        .unwrap()
        .sync_key
        .unwrap();
    (c, key)
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

fn with_bodies(mut collection: Collection) -> Collection {
    collection.options = vec![Options {
        body_preferences: vec![BodyPreference::new(BodyType::PLAIN_TEXT)],
        ..Default::default()
    }];
    collection
}

/// A first Sync of a folder: the key to go on from, and every item.
fn first_sync(c: &EasClient, folder: &str) -> (SyncKey, Vec<(ServerId, Email)>) {
    let r = sync(
        c,
        with_bodies(Collection::new(SyncKey::initial(), id(folder))),
    );
    let mut key = r.collections[0].header.sync_key.clone().unwrap();
    let mut items = Vec::new();
    loop {
        let r = sync(c, with_bodies(Collection::new(key.clone(), id(folder))));
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
    let search = |c: &EasClient, folder: Option<&CollectionId>| {
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
    };
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
        let r = sync(&alice, c);
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
    let r = sync(
        &alice,
        Collection::new(SyncKey::initial(), bob_folder.clone()),
    );
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
    let r = sync(&bob, with_bodies(Collection::new(bob_inbox_key, id("1"))));
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
