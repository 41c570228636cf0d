//! Drafts written through Sync (MS-ASEMAIL 16.0 drafts) against the real
//! server over TLS: two devices of one account at 16.1, one writing a
//! draft with attachments and editing it, the other seeing each step; and
//! a 14.1 device, which may not write one.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::{
    AttachmentAdd, AttachmentMethod, Attachments, Body, BodyPreference, BodyType,
};
use eas_proto::command::email::Email;
use eas_proto::command::ids::{ClientId, CollectionId, SyncKey};
use eas_proto::command::items::{
    Fetch, FileProperties, ItemOperationsRequest, ItemOperationsResponse, ItemOperationsStatus,
    Operation, OperationResponse,
};
use eas_proto::command::sync::{
    ClientCommand, Collection, CollectionResponse, ItemResponse, Options, ServerCommand, Status,
};
use eas_proto::http::Command;
use eas_tests::client::EasClient;
use eas_tests::server::TestServer;

/// Drafts is folder 2 of every account.
const DRAFTS: &str = "2";

fn device(server: &TestServer, id: &str, version: ProtocolVersion) -> EasClient {
    let mut c = server.alice(id, version);
    c.provision_fully();
    c.folder_sync(&SyncKey::initial());
    c
}

fn sync(c: &EasClient, collection: Collection) -> CollectionResponse {
    let mut r = c.sync(collection);
    assert_eq!(r.collections.len(), 1, "{r:?}");
    let col = r.collections.remove(0);
    assert_eq!(col.header.status, Status::SUCCESS, "{col:?}");
    col
}

fn drafts(key: &SyncKey) -> Collection {
    let mut c = Collection::new(key.clone(), CollectionId::new(DRAFTS).unwrap());
    c.options = vec![Options {
        body_preferences: vec![BodyPreference {
            body_type: BodyType::PLAIN_TEXT,
            truncation_size: None,
            all_or_none: None,
            preview: None,
        }],
        ..Default::default()
    }];
    c
}

/// Key 0 for Drafts, then a first GetChanges: the device's key.
fn start(c: &EasClient) -> SyncKey {
    let first = sync(c, drafts(&SyncKey::initial()));
    let key = first.header.sync_key.unwrap();
    let col = sync(c, drafts(&key));
    assert!(col.commands.is_empty(), "Drafts starts empty: {col:?}");
    col.header.sync_key.unwrap()
}

/// One Sync round with `commands`; the collection's answer and new key.
fn round(
    c: &EasClient,
    key: &SyncKey,
    commands: Vec<ClientCommand>,
) -> (CollectionResponse, SyncKey) {
    let mut col = drafts(key);
    col.commands = commands;
    let r = sync(c, col);
    let key = r.header.sync_key.clone().unwrap();
    (r, key)
}

fn attachment_add(
    client_id: &str,
    name: &str,
    content_type: &str,
    content: &[u8],
) -> AttachmentAdd {
    AttachmentAdd {
        client_id: client_id.into(),
        method: AttachmentMethod::NORMAL,
        content_type: Some(content_type.into()),
        content: content.to_vec(),
        display_name: name.into(),
        content_id: None,
        content_location: None,
        is_inline: None,
    }
}

fn fetch_file(c: &EasClient, reference: &str) -> (ItemOperationsStatus, Option<Vec<u8>>) {
    let mut f = Fetch::new("Mailbox");
    f.file_reference = Some(reference.to_owned());
    let reply = c.post_element(
        Command::ITEM_OPERATIONS,
        &ItemOperationsRequest {
            operations: vec![Operation::Fetch(Box::new(f))],
        }
        .to_element(),
    );
    let r = ItemOperationsResponse::from_element(&reply.element()).unwrap();
    assert_eq!(r.status, ItemOperationsStatus::SUCCESS);
    let OperationResponse::Fetch(f) = &r.responses[0] else {
        panic!("not a Fetch: {r:?}")
    };
    let data = f.properties.as_ref().map(|p| {
        let file = FileProperties::from_element(p).unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(file.data.unwrap())
            .unwrap()
    });
    (f.status, data)
}

/// (DisplayName, FileReference) of each attachment of an item.
fn attachments_of(email: &Email) -> Vec<(String, String)> {
    email
        .attachments
        .as_ref()
        .map(|a| {
            a.attachments
                .iter()
                .map(|a| {
                    (
                        a.display_name.clone().unwrap_or_default(),
                        a.file_reference.clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_draft_written_on_one_device_reaches_the_other_with_its_attachments_and_edits() {
    let server = TestServer::with_alice();
    let a = device(&server, "DRAFTA", ProtocolVersion::V16_1);
    let b = device(&server, "DRAFTB", ProtocolVersion::V16_1);
    let mut key_a = start(&a);
    let mut key_b = start(&b);

    // Two attachments, one with every byte value, so that a transfer
    // encoding or charset slip shows.
    let pdf: Vec<u8> = b"%PDF-1.4\n"
        .iter()
        .copied()
        .chain((0..=255u8).cycle().take(3000))
        .collect();
    let png: Vec<u8> = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 64], b"IEND"].concat();
    let draft = Email {
        to: Some("\"Bob Builder\" <bob@example.com>".into()),
        bcc: Some("carol@example.com".into()),
        subject: Some("Lunch plans".into()),
        body: Some(Body {
            data: Some("See both files before Friday.".into()),
            ..Body::new(BodyType::PLAIN_TEXT)
        }),
        attachments: Some(Attachments {
            add: vec![
                attachment_add("att-1", "menu.pdf", "application/pdf", &pdf),
                attachment_add("att-2", "map.png", "image/png", &png),
            ],
            ..Default::default()
        }),
        ..Default::default()
    };
    let (r, key) = round(
        &a,
        &key_a,
        vec![ClientCommand::Add {
            class: None,
            client_id: ClientId::new("draft-1").unwrap(),
            application_data: draft.to_element(),
            send: false,
        }],
    );
    key_a = key;
    assert!(r.commands.is_empty(), "A's own Add is not echoed: {r:?}");
    let [
        ItemResponse::Add {
            client_id,
            server_id: Some(server_id),
            status,
            application_data: Some(data),
            ..
        },
    ] = r.responses.as_slice()
    else {
        panic!("one Add response with a ServerId and ApplicationData: {r:?}")
    };
    assert_eq!(*status, Status::SUCCESS);
    assert_eq!(client_id.as_str(), "draft-1");
    assert!(server_id.as_str().starts_with("2:"), "{server_id:?}");
    // MS-ASAIRS 2.2.2.14 / 2.2.2.24.1: each added attachment's ClientId
    // with the FileReference the server gave it.
    let given = Email::from_element(data).unwrap().attachments.unwrap();
    let refs: Vec<(Option<String>, String)> = given
        .attachments
        .iter()
        .map(|a| (a.client_id.clone(), a.file_reference.clone()))
        .collect();
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert_eq!(refs[0].0.as_deref(), Some("att-1"));
    assert_eq!(refs[1].0.as_deref(), Some("att-2"));
    let (pdf_ref, png_ref) = (refs[0].1.clone(), refs[1].1.clone());
    assert_ne!(pdf_ref, png_ref);

    // B: the draft as an Add, with both attachments under the same
    // FileReferences, its Bcc, and marked a draft.
    let (r, key) = round(&b, &key_b, vec![]);
    key_b = key;
    let [
        ServerCommand::Add {
            server_id: seen,
            application_data,
            ..
        },
    ] = r.commands.as_slice()
    else {
        panic!("B gets one Add: {r:?}")
    };
    assert_eq!(seen, server_id);
    let on_b = Email::from_element(application_data).unwrap();
    assert_eq!(on_b.subject.as_deref(), Some("Lunch plans"));
    assert_eq!(on_b.is_draft, Some(true));
    assert!(on_b.to.as_deref().unwrap().contains("bob@example.com"));
    assert_eq!(on_b.bcc.as_deref(), Some("carol@example.com"));
    assert_eq!(
        on_b.body.as_ref().and_then(|b| b.data.as_deref()),
        Some("See both files before Friday.")
    );
    assert_eq!(
        attachments_of(&on_b),
        vec![
            ("menu.pdf".to_owned(), pdf_ref.clone()),
            ("map.png".to_owned(), png_ref.clone())
        ]
    );
    // The bytes A sent, exactly.
    assert_eq!(
        fetch_file(&b, &pdf_ref),
        (ItemOperationsStatus::SUCCESS, Some(pdf.clone()))
    );
    assert_eq!(
        fetch_file(&b, &png_ref),
        (ItemOperationsStatus::SUCCESS, Some(png.clone()))
    );

    // A renames the draft and deletes the PDF.
    let edit = Email {
        subject: Some("Lunch plans, Friday".into()),
        attachments: Some(Attachments {
            delete: vec![pdf_ref.clone()],
            ..Default::default()
        }),
        ..Default::default()
    };
    let (r, key) = round(
        &a,
        &key_a,
        vec![ClientCommand::Change {
            server_id: server_id.clone(),
            instance_id: None,
            application_data: edit.to_element(),
            send: false,
        }],
    );
    key_a = key;
    assert!(r.commands.is_empty(), "A's own Change is not echoed: {r:?}");
    assert!(
        r.responses.is_empty(),
        "a successful Change is silent: {r:?}"
    );

    // B: a Change with the whole new content, the PNG under its old
    // FileReference, the body kept.
    let (r, key) = round(&b, &key_b, vec![]);
    key_b = key;
    let [
        ServerCommand::Change {
            server_id: seen,
            application_data,
            ..
        },
    ] = r.commands.as_slice()
    else {
        panic!("B gets one Change: {r:?}")
    };
    assert_eq!(seen, server_id);
    let on_b = Email::from_element(application_data).unwrap();
    assert_eq!(on_b.subject.as_deref(), Some("Lunch plans, Friday"));
    assert_eq!(
        on_b.body.as_ref().and_then(|b| b.data.as_deref()),
        Some("See both files before Friday.")
    );
    assert_eq!(
        attachments_of(&on_b),
        vec![("map.png".to_owned(), png_ref.clone())]
    );
    assert_eq!(
        fetch_file(&b, &png_ref),
        (ItemOperationsStatus::SUCCESS, Some(png))
    );
    assert_eq!(
        fetch_file(&b, &pdf_ref).0,
        ItemOperationsStatus::INVALID_ATTACHMENT
    );

    // A's next Sync brings nothing: its change was never echoed.
    let (r, key) = round(&a, &key_a, vec![]);
    key_a = key;
    assert!(r.commands.is_empty(), "{r:?}");

    // A 14.1 device may not write a draft (MS-ASEMAIL: 16.0 and later):
    // Status 9 and no ServerId, and nothing reaches the others.
    let old = device(&server, "DRAFT141", ProtocolVersion::V14_1);
    let mut first = Collection::new(SyncKey::initial(), CollectionId::new(DRAFTS).unwrap());
    first.options = vec![];
    let key_old = sync(&old, first).header.sync_key.unwrap();
    let mut col = Collection::new(key_old, CollectionId::new(DRAFTS).unwrap());
    col.commands = vec![ClientCommand::Add {
        class: None,
        client_id: ClientId::new("old-1").unwrap(),
        application_data: Email {
            subject: Some("from 14.1".into()),
            ..Default::default()
        }
        .to_element(),
        send: false,
    }];
    let r = sync(&old, col);
    let [
        ItemResponse::Add {
            server_id: None,
            status,
            ..
        },
    ] = r.responses.as_slice()
    else {
        panic!("one refused Add: {r:?}")
    };
    assert_eq!(*status, Status::CANNOT_COMPLETE);
    let (r, key) = round(&b, &key_b, vec![]);
    key_b = key;
    assert!(r.commands.is_empty(), "{r:?}");

    // A deletes the draft; B gets the Delete.
    let (_, _) = round(
        &a,
        &key_a,
        vec![ClientCommand::Delete {
            server_id: server_id.clone(),
            instance_id: None,
        }],
    );
    let (r, _) = round(&b, &key_b, vec![]);
    assert!(
        matches!(r.commands.as_slice(), [ServerCommand::Delete { server_id: s, .. }] if s == server_id),
        "{r:?}"
    );
}

/// A Sync of Sent Items (folder 4) from key 0: the subjects there.
fn sent_subjects(c: &EasClient) -> Vec<String> {
    let sent = |key: &SyncKey| {
        let mut col = drafts(key);
        col.collection_id = CollectionId::new("4").unwrap();
        sync(c, col)
    };
    let key = sent(&SyncKey::initial()).header.sync_key.unwrap();
    sent(&key)
        .commands
        .iter()
        .filter_map(|c| match c {
            ServerCommand::Add {
                application_data, ..
            } => Email::from_element(application_data).unwrap().subject,
            _ => None,
        })
        .collect()
}

#[test]
fn a_draft_sent_from_sync_leaves_drafts_and_lands_in_sent_items() {
    let server = TestServer::with_alice();
    let a = device(&server, "SENDA", ProtocolVersion::V16_1);
    let b = device(&server, "SENDB", ProtocolVersion::V16_1);
    let key_a = start(&a);
    let key_b = start(&b);

    let draft = Email {
        to: Some("bob@example.com".into()),
        subject: Some("Draft to send".into()),
        body: Some(Body {
            data: Some("Going out.".into()),
            ..Body::new(BodyType::PLAIN_TEXT)
        }),
        ..Default::default()
    };
    let (r, key_a) = round(
        &a,
        &key_a,
        vec![ClientCommand::Add {
            class: None,
            client_id: ClientId::new("to-send").unwrap(),
            application_data: draft.to_element(),
            send: false,
        }],
    );
    let [
        ItemResponse::Add {
            server_id: Some(server_id),
            ..
        },
    ] = r.responses.as_slice()
    else {
        panic!("{r:?}")
    };

    // Change with Send: the edit goes out, the draft leaves Drafts, and
    // this device too is told with a Delete.
    let (r, _) = round(
        &a,
        &key_a,
        vec![ClientCommand::Change {
            server_id: server_id.clone(),
            instance_id: None,
            application_data: Email {
                subject: Some("Sent from a draft".into()),
                ..Default::default()
            }
            .to_element(),
            send: true,
        }],
    );
    assert!(r.responses.is_empty(), "a sent Change is silent: {r:?}");
    assert!(
        matches!(r.commands.as_slice(), [ServerCommand::Delete { server_id: s, .. }] if s == server_id),
        "{r:?}"
    );

    // An Add with Send: nothing is kept in Drafts, so no ServerId.
    let fresh = device(&server, "SENDC", ProtocolVersion::V16_1);
    let key_c = start(&fresh);
    let (r, _) = round(
        &fresh,
        &key_c,
        vec![ClientCommand::Add {
            class: None,
            client_id: ClientId::new("direct").unwrap(),
            application_data: Email {
                subject: Some("Sent at once".into()),
                ..draft.clone()
            }
            .to_element(),
            send: true,
        }],
    );
    let [
        ItemResponse::Add {
            server_id: None,
            status,
            ..
        },
    ] = r.responses.as_slice()
    else {
        panic!("{r:?}")
    };
    assert_eq!(*status, Status::SUCCESS);

    // B: the draft came and went; Sent Items holds both, as sent.
    let (r, _) = round(&b, &key_b, vec![]);
    assert!(r.commands.is_empty(), "{r:?}");
    let mut subjects = sent_subjects(&b);
    subjects.sort();
    assert_eq!(subjects, vec!["Sent at once", "Sent from a draft"]);

    // A draft without a recipient cannot go: Status 6, and it stays.
    let key_c = start(&fresh);
    let (r, key_c) = round(
        &fresh,
        &key_c,
        vec![ClientCommand::Add {
            class: None,
            client_id: ClientId::new("nobody").unwrap(),
            application_data: Email {
                subject: Some("To nobody".into()),
                ..Default::default()
            }
            .to_element(),
            send: false,
        }],
    );
    let [
        ItemResponse::Add {
            server_id: Some(lonely),
            ..
        },
    ] = r.responses.as_slice()
    else {
        panic!("{r:?}")
    };
    let (r, _) = round(
        &fresh,
        &key_c,
        vec![ClientCommand::Change {
            server_id: lonely.clone(),
            instance_id: None,
            application_data: Email::default().to_element(),
            send: true,
        }],
    );
    assert!(
        matches!(
            r.responses.as_slice(),
            [ItemResponse::Change { server_id: s, status, .. }]
                if s == lonely && *status == Status::CONVERSION_ERROR
        ),
        "{r:?}"
    );
    assert!(r.commands.is_empty(), "the draft stays: {r:?}");
}
