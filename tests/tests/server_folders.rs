//! FolderSync, FolderCreate, FolderUpdate and FolderDelete against the real
//! server: the hierarchy from key 0, changes after it, keys as a state
//! machine, two devices that do not disturb each other.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use eas_proto::ProtocolVersion;
use eas_proto::command::folder::{
    FolderCreateRequest, FolderCreateResponse, FolderCreateStatus, FolderDeleteRequest,
    FolderDeleteResponse, FolderDeleteStatus, FolderSyncRequest, FolderSyncResponse,
    FolderSyncStatus, FolderType, FolderUpdateRequest, FolderUpdateResponse, FolderUpdateStatus,
};
use eas_proto::command::ids::{CollectionId, SyncKey};
use eas_proto::http::Command;
use eas_tests::client::EasClient;
use eas_tests::server::TestServer;

fn folder_sync(c: &EasClient, key: &SyncKey) -> FolderSyncResponse {
    let reply = c.post_element(
        Command::FOLDER_SYNC,
        &FolderSyncRequest {
            sync_key: key.clone(),
        }
        .to_element(),
    );
    FolderSyncResponse::from_element(&reply.element()).unwrap()
}

fn id(s: &str) -> CollectionId {
    CollectionId::new(s).unwrap()
}

fn provisioned(server: &TestServer, device: &str) -> EasClient {
    let mut c = server.alice(device, ProtocolVersion::V16_1);
    c.provision_fully();
    c
}

#[test]
fn the_hierarchy_from_key_zero_then_only_changes() {
    let server = TestServer::with_alice();
    let c = provisioned(&server, "FOLDERS1");
    let first = folder_sync(&c, &SyncKey::initial());
    assert_eq!(first.status, FolderSyncStatus::SUCCESS);
    let changes = first.changes.unwrap();
    assert_eq!(changes.count, Some(10));
    let types: Vec<(String, FolderType)> = changes
        .adds
        .iter()
        .map(|f| (f.display_name.clone(), f.folder_type))
        .collect();
    for (name, t) in [
        ("Inbox", FolderType::INBOX),
        ("Drafts", FolderType::DRAFTS),
        ("Deleted Items", FolderType::DELETED_ITEMS),
        ("Sent Items", FolderType::SENT_ITEMS),
        ("Outbox", FolderType::OUTBOX),
        ("Calendar", FolderType::CALENDAR),
        ("Contacts", FolderType::CONTACTS),
        ("Tasks", FolderType::TASKS),
        ("Notes", FolderType::NOTES),
        ("Journal", FolderType::JOURNAL),
    ] {
        assert!(
            types.contains(&(name.to_owned(), t)),
            "{name} missing from {types:?}"
        );
    }
    assert!(changes.adds.iter().all(|f| f.parent_id.as_str() == "0"));
    let key1 = first.sync_key.unwrap();

    // Nothing changed: no changes, and the key may stay.
    let again = folder_sync(&c, &key1);
    assert_eq!(again.status, FolderSyncStatus::SUCCESS);
    assert_eq!(again.changes.as_ref().map(|c| c.count), Some(Some(0)));
    let key1 = again.sync_key.unwrap();

    // A folder made by the device itself.
    let create = FolderCreateRequest {
        sync_key: key1.clone(),
        parent_id: id("1"),
        display_name: "Projects".into(),
        folder_type: FolderType::USER_MAIL,
    };
    let created = FolderCreateResponse::from_element(
        &c.post_element(Command::FOLDER_CREATE, &create.to_element())
            .element(),
    )
    .unwrap();
    assert_eq!(created.status, FolderCreateStatus::SUCCESS);
    let projects = created.server_id.unwrap();
    let key2 = created.sync_key.unwrap();
    assert_ne!(key2, key1);

    // The same name again under the same parent: Status 2.
    let dup = FolderCreateRequest {
        sync_key: key2.clone(),
        ..create.clone()
    };
    let dup = FolderCreateResponse::from_element(
        &c.post_element(Command::FOLDER_CREATE, &dup.to_element())
            .element(),
    )
    .unwrap();
    assert_eq!(dup.status, FolderCreateStatus::ALREADY_EXISTS);
    // A parent that does not exist: Status 5.
    let orphan = FolderCreateRequest {
        sync_key: key2.clone(),
        parent_id: id("999"),
        ..create.clone()
    };
    let orphan = FolderCreateResponse::from_element(
        &c.post_element(Command::FOLDER_CREATE, &orphan.to_element())
            .element(),
    )
    .unwrap();
    assert_eq!(orphan.status, FolderCreateStatus::PARENT_NOT_FOUND);
    // A stale key: Status 9.
    let stale = FolderCreateResponse::from_element(
        &c.post_element(Command::FOLDER_CREATE, &create.to_element())
            .element(),
    )
    .unwrap();
    assert_eq!(stale.status, FolderCreateStatus::INVALID_SYNC_KEY);

    // A second device sees the new folder as an Add under Inbox.
    let d = provisioned(&server, "FOLDERS2");
    let d1 = folder_sync(&d, &SyncKey::initial());
    let d_key = d1.sync_key.unwrap();
    assert!(
        d1.changes
            .unwrap()
            .adds
            .iter()
            .any(|f| f.server_id == projects && f.parent_id.as_str() == "1")
    );

    // Rename on the first device; the second sees an Update.
    let rename = FolderUpdateRequest {
        sync_key: key2.clone(),
        server_id: projects.clone(),
        parent_id: id("0"),
        display_name: "Archive 2026".into(),
    };
    let renamed = FolderUpdateResponse::from_element(
        &c.post_element(Command::FOLDER_UPDATE, &rename.to_element())
            .element(),
    )
    .unwrap();
    assert_eq!(renamed.status, FolderUpdateStatus::SUCCESS);
    let key3 = renamed.sync_key.unwrap();
    let d2 = folder_sync(&d, &d_key);
    let d_changes = d2.changes.unwrap();
    assert_eq!(d_changes.updates.len(), 1, "{d_changes:?}");
    assert_eq!(d_changes.updates[0].display_name, "Archive 2026");
    assert_eq!(d_changes.updates[0].parent_id.as_str(), "0");
    assert!(d_changes.adds.is_empty());

    // Default folders cannot be renamed or deleted.
    let inbox = FolderUpdateRequest {
        sync_key: key3.clone(),
        server_id: id("1"),
        parent_id: id("0"),
        display_name: "Mine".into(),
    };
    let inbox = FolderUpdateResponse::from_element(
        &c.post_element(Command::FOLDER_UPDATE, &inbox.to_element())
            .element(),
    )
    .unwrap();
    assert_eq!(inbox.status, FolderUpdateStatus::ALREADY_EXISTS_OR_SPECIAL);
    let del_inbox = FolderDeleteRequest {
        sync_key: key3.clone(),
        server_id: id("1"),
    };
    let del_inbox = FolderDeleteResponse::from_element(
        &c.post_element(Command::FOLDER_DELETE, &del_inbox.to_element())
            .element(),
    )
    .unwrap();
    assert_eq!(del_inbox.status, FolderDeleteStatus::SPECIAL_FOLDER);

    // Delete it; the second device sees a Delete; a missing folder is Status 4.
    let del = FolderDeleteRequest {
        sync_key: key3.clone(),
        server_id: projects.clone(),
    };
    let deleted = FolderDeleteResponse::from_element(
        &c.post_element(Command::FOLDER_DELETE, &del.to_element())
            .element(),
    )
    .unwrap();
    assert_eq!(deleted.status, FolderDeleteStatus::SUCCESS);
    let key4 = deleted.sync_key.unwrap();
    let gone = FolderDeleteRequest {
        sync_key: key4.clone(),
        server_id: projects.clone(),
    };
    let gone = FolderDeleteResponse::from_element(
        &c.post_element(Command::FOLDER_DELETE, &gone.to_element())
            .element(),
    )
    .unwrap();
    assert_eq!(gone.status, FolderDeleteStatus::NOT_FOUND);
    let d3 = folder_sync(&d, d2.sync_key.as_ref().unwrap());
    assert_eq!(d3.changes.unwrap().deletes, vec![projects]);
}

#[test]
fn sync_keys_are_a_state_machine() {
    let server = TestServer::with_alice();
    let c = provisioned(&server, "KEYS1");
    let first = folder_sync(&c, &SyncKey::initial());
    let key1 = first.sync_key.unwrap();

    // A key this device was never given: Status 9.
    let bogus = folder_sync(&c, &SyncKey::new("{bogus}7").unwrap());
    assert_eq!(bogus.status, FolderSyncStatus::INVALID_SYNC_KEY);
    assert!(bogus.sync_key.is_none());
    // Another device's key is not this device's.
    let other = provisioned(&server, "KEYS2");
    let other_key = folder_sync(&other, &SyncKey::initial()).sync_key.unwrap();
    assert_eq!(
        folder_sync(&c, &other_key).status,
        FolderSyncStatus::INVALID_SYNC_KEY
    );

    // Another device adds a folder; this device syncs, "loses" the answer,
    // re-sends key1 and gets the same change again under a key that works.
    let create = FolderCreateRequest {
        sync_key: other_key,
        parent_id: id("0"),
        display_name: "Shared".into(),
        folder_type: FolderType::USER_MAIL,
    };
    let created = FolderCreateResponse::from_element(
        &other
            .post_element(Command::FOLDER_CREATE, &create.to_element())
            .element(),
    )
    .unwrap();
    let shared = created.server_id.unwrap();
    let lost = folder_sync(&c, &key1);
    assert_eq!(lost.changes.as_ref().unwrap().adds.len(), 1);
    let retry = folder_sync(&c, &key1);
    assert_eq!(retry.status, FolderSyncStatus::SUCCESS);
    let adds = &retry.changes.as_ref().unwrap().adds;
    assert_eq!(adds.len(), 1);
    assert_eq!(adds[0].server_id, shared);
    let key3 = retry.sync_key.unwrap();
    let after = folder_sync(&c, &key3);
    assert_eq!(after.status, FolderSyncStatus::SUCCESS);
    assert_eq!(after.changes.unwrap().count, Some(0));
    // Key 0 starts over with the full hierarchy, eleven folders now.
    assert_eq!(
        folder_sync(&c, &SyncKey::initial()).changes.unwrap().count,
        Some(11)
    );
}
