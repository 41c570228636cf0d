//! GetItemEstimate, MoveItems and ItemOperations against the real server,
//! with mail put in by `eas-server import` while it runs: estimates before
//! and after Sync rounds, moves and their statuses, fetches whose bytes are
//! the imported ones (inline and multipart), attachments and ranges,
//! emptying folders, moving conversations, and one account never reaching
//! another's items.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::email::Email;
use eas_proto::command::folder::{
    FolderCreateRequest, FolderCreateResponse, FolderCreateStatus, FolderSyncRequest,
    FolderSyncResponse, FolderType,
};
use eas_proto::command::ids::{CollectionId, ServerId, SyncKey};
use eas_proto::command::items::{
    ByteRange, EstimateCollection, Fetch, FetchOptions, FetchResponse, FileProperties,
    GetItemEstimateRequest, GetItemEstimateResponse, GetItemEstimateStatus, ItemOperationsRequest,
    ItemOperationsResponse, ItemOperationsStatus, MULTIPART_CONTENT_TYPE, Move, MoveItemsRequest,
    MoveItemsResponse, MoveItemsStatus, Operation, OperationResponse, decode_multipart,
};
use eas_proto::command::sync::{
    Collection, FilterType, MimeSupport, Options, ServerCommand, Status,
};
use eas_proto::http::{Command, QueryForm};
use eas_proto::wbxml::{Element, Limits};
use eas_tests::client::{EasClient, Reply};
use eas_tests::server::{TempDir, TestServer};
use reqwest::Method;
use sha2::{Digest, Sha256};

const BOB_PASSWORD: &str = "bob-secret";

fn id(s: &str) -> CollectionId {
    CollectionId::new(s).unwrap()
}

fn message(i: usize) -> Vec<u8> {
    format!(
        "From: \"Sender {i}\" <sender{i}@example.com>\r\nTo: Alice <alice@example.com>\r\nSubject: Message {i}\r\nDate: Sun, 29 Nov 2026 10:{:02}:00 +0000\r\nMessage-ID: <m{i}@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello number {i}, caf\u{e9}.\r\n",
        i % 60
    )
    .into_bytes()
}

/// PDF-looking bytes with every byte value in them.
fn pdf_bytes() -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend((0..3000u32).map(|i| (i * 7 % 256) as u8));
    pdf.extend_from_slice(b"\n%%EOF\n");
    pdf
}

/// A message with a text part and `attachment` as a base64 PDF.
fn with_attachment(subject: &str, marker: &str, attachment: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(attachment);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: Bob <bob@example.com>\r\nTo: Alice <alice@example.com>\r\nSubject: {subject}\r\nDate: Sun, 29 Nov 2026 11:00:00 +0000\r\nMessage-ID: <{marker}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{marker}: the report is attached.\r\n--b1\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

/// A message in ISO-8859-1, 8bit: its bytes are not UTF-8.
fn latin1_message() -> Vec<u8> {
    b"From: Zo\xe9 <zoe@example.com>\r\nTo: Alice <alice@example.com>\r\nSubject: Caf\xe9\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <latin1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nCaf\xe9 cr\xe8me, d\xe9j\xe0 vu.\r\n"
        .to_vec()
}

fn threaded(subject: &str, n: usize) -> Vec<u8> {
    format!(
        "From: Carol <carol@example.com>\r\nTo: Alice <alice@example.com>\r\nSubject: {subject}\r\nDate: Sun, 29 Nov 2026 13:{n:02}:00 +0000\r\nMessage-ID: <t{n}@example.com>\r\nContent-Type: text/plain\r\n\r\nthread message {n}\r\n"
    )
    .into_bytes()
}

/// Imports messages into a user's folder through the running server.
fn import_into(server: &TestServer, user: &str, folder: &str, messages: &[Vec<u8>]) -> TempDir {
    let dir = TempDir::new("items-import");
    for (i, m) in messages.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i:04}.eml")), m).unwrap();
    }
    server.cli_ok(
        &[
            "import",
            "--user",
            user,
            "--folder",
            folder,
            dir.path().to_str().unwrap(),
        ],
        "",
    );
    dir
}

fn import(server: &TestServer, messages: &[Vec<u8>]) -> TempDir {
    import_into(server, "alice", "Inbox", messages)
}

/// A provisioned device that has done its first FolderSync; the key.
fn device(mut c: EasClient) -> (EasClient, SyncKey) {
    c.provision_fully();
    let fs = c.folder_sync(&SyncKey::initial());
    (c, fs.sync_key.unwrap())
}

fn alice(server: &TestServer, device_id: &str) -> EasClient {
    device(server.alice(device_id, ProtocolVersion::V16_1)).0
}

fn create_folder(
    c: &EasClient,
    key: &SyncKey,
    parent: &str,
    name: &str,
) -> (CollectionId, SyncKey) {
    let r = FolderCreateResponse::from_element(
        &c.post_element(
            Command::FOLDER_CREATE,
            &FolderCreateRequest {
                sync_key: key.clone(),
                parent_id: id(parent),
                display_name: name.into(),
                folder_type: FolderType::USER_MAIL,
            }
            .to_element(),
        )
        .element(),
    )
    .unwrap();
    assert_eq!(r.status, FolderCreateStatus::SUCCESS);
    (r.server_id.unwrap(), r.sync_key.unwrap())
}

fn text_options() -> Options {
    Options {
        body_preferences: vec![BodyPreference {
            body_type: BodyType::PLAIN_TEXT,
            truncation_size: Some(200),
            all_or_none: None,
            preview: None,
        }],
        ..Default::default()
    }
}

/// Sync key 0 of a folder; the key it gives.
fn prime(c: &EasClient, folder: &str) -> SyncKey {
    let mut first = Collection::new(SyncKey::initial(), id(folder));
    first.options = vec![text_options()];
    let r = c.sync(first);
    assert_eq!(r.collections[0].header.status, Status::SUCCESS);
    r.collections[0].header.sync_key.clone().unwrap()
}

/// One Sync round with a window; the new key and the commands.
fn round(c: &EasClient, folder: &str, key: &SyncKey, window: u32) -> (SyncKey, Vec<ServerCommand>) {
    let mut col = Collection::new(key.clone(), id(folder));
    col.window_size = Some(window);
    let mut r = c.sync(col);
    let col = r.collections.remove(0);
    assert_eq!(col.header.status, Status::SUCCESS);
    (col.header.sync_key.unwrap(), col.commands)
}

/// Sync rounds until nothing more is available.
fn sync_all(c: &EasClient, folder: &str, key: &SyncKey) -> (SyncKey, Vec<ServerCommand>) {
    let (key, commands) = round(c, folder, key, 512);
    (key, commands)
}

fn added(commands: &[ServerCommand]) -> Vec<(ServerId, Email)> {
    commands
        .iter()
        .filter_map(|c| match c {
            ServerCommand::Add {
                server_id,
                application_data,
                ..
            } => Some((
                server_id.clone(),
                Email::from_element(application_data).unwrap(),
            )),
            _ => None,
        })
        .collect()
}

fn deleted(commands: &[ServerCommand]) -> Vec<ServerId> {
    commands
        .iter()
        .filter_map(|c| match c {
            ServerCommand::Delete { server_id, .. } => Some(server_id.clone()),
            _ => None,
        })
        .collect()
}

fn by_subject<'a>(items: &'a [(ServerId, Email)], subject: &str) -> &'a (ServerId, Email) {
    items
        .iter()
        .find(|(_, e)| e.subject.as_deref() == Some(subject))
        .unwrap_or_else(|| panic!("no {subject:?} among {items:?}"))
}

fn estimate(c: &EasClient, collections: Vec<EstimateCollection>) -> GetItemEstimateResponse {
    let reply = c.post_element(
        Command::GET_ITEM_ESTIMATE,
        &GetItemEstimateRequest { collections }.to_element(),
    );
    GetItemEstimateResponse::from_element(&reply.element()).unwrap()
}

fn estimate_one(
    c: &EasClient,
    folder: &str,
    key: &SyncKey,
) -> (GetItemEstimateStatus, Option<u32>) {
    let r = estimate(c, vec![EstimateCollection::new(key.clone(), id(folder))]);
    assert_eq!(r.status, None);
    let resp = &r.responses[0];
    let col = resp.collection.as_ref().unwrap();
    assert_eq!(col.collection_id, id(folder));
    (resp.status, col.estimate)
}

fn move_items(c: &EasClient, moves: &[(&str, &str, &str)]) -> MoveItemsResponse {
    let request = MoveItemsRequest {
        moves: moves
            .iter()
            .map(|(item, src, dst)| Move {
                src_msg_id: ServerId::new(*item).unwrap(),
                src_fld_id: id(src),
                dst_fld_id: id(dst),
            })
            .collect(),
    };
    MoveItemsResponse::from_element(
        &c.post_element(Command::MOVE_ITEMS, &request.to_element())
            .element(),
    )
    .unwrap()
}

fn item_ops(c: &EasClient, operations: Vec<Operation>) -> Reply {
    c.post_element(
        Command::ITEM_OPERATIONS,
        &ItemOperationsRequest { operations }.to_element(),
    )
}

fn item_ops_ok(c: &EasClient, operations: Vec<Operation>) -> Vec<OperationResponse> {
    let r = ItemOperationsResponse::from_element(&item_ops(c, operations).element()).unwrap();
    assert_eq!(r.status, ItemOperationsStatus::SUCCESS);
    r.responses
}

fn mime_options() -> FetchOptions {
    FetchOptions {
        mime_support: Some(MimeSupport::ALWAYS),
        body_preferences: vec![BodyPreference {
            body_type: BodyType::MIME,
            truncation_size: None,
            all_or_none: None,
            preview: None,
        }],
        ..Default::default()
    }
}

fn fetch_item(folder: Option<&str>, server_id: &str, options: Option<FetchOptions>) -> Operation {
    let mut f = Fetch::new("Mailbox");
    f.collection_id = folder.map(id);
    f.server_id = Some(ServerId::new(server_id).unwrap());
    f.options = options;
    Operation::Fetch(Box::new(f))
}

fn fetch_file(reference: &str, range: Option<&str>) -> Operation {
    let mut f = Fetch::new("Mailbox");
    f.file_reference = Some(reference.to_owned());
    f.options = range.map(|r| FetchOptions {
        range: ByteRange::parse(r),
        ..Default::default()
    });
    Operation::Fetch(Box::new(f))
}

fn fetched(r: &OperationResponse) -> &FetchResponse {
    match r {
        OperationResponse::Fetch(f) => f,
        other => panic!("not a Fetch: {other:?}"),
    }
}

fn fetched_email(r: &OperationResponse) -> Email {
    let f = fetched(r);
    assert_eq!(f.status, ItemOperationsStatus::SUCCESS, "{f:?}");
    assert_eq!(f.class.as_deref(), Some("Email"));
    Email::from_element(f.properties.as_ref().unwrap()).unwrap()
}

fn fetched_file(r: &OperationResponse) -> FileProperties {
    let f = fetched(r);
    assert_eq!(f.status, ItemOperationsStatus::SUCCESS, "{f:?}");
    FileProperties::from_element(f.properties.as_ref().unwrap()).unwrap()
}

fn unbase64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn file_reference(email: &Email) -> String {
    email.attachments.as_ref().unwrap().attachments[0]
        .file_reference
        .clone()
}

#[test]
fn get_item_estimate_counts_what_the_next_sync_brings() {
    let server = TestServer::with_alice();
    let _dir = import(&server, &(0..5).map(message).collect::<Vec<_>>());
    let c = alice(&server, "GIE1");

    // Before any Sync, and with key 0: the state is not primed (3).
    assert_eq!(
        estimate_one(&c, "1", &SyncKey::initial()),
        (GetItemEstimateStatus::SYNC_STATE_NOT_PRIMED, None)
    );
    assert_eq!(
        estimate_one(&c, "1", &SyncKey::new("abcdef:1").unwrap()).0,
        GetItemEstimateStatus::SYNC_STATE_NOT_PRIMED
    );

    let key1 = prime(&c, "1");
    assert_eq!(
        estimate_one(&c, "1", &key1),
        (GetItemEstimateStatus::SUCCESS, Some(5))
    );
    // Asking does not move the key: the same answer, and Sync still takes it.
    assert_eq!(estimate_one(&c, "1", &key1).1, Some(5));
    let (key2, batch) = round(&c, "1", &key1, 2);
    assert_eq!(batch.len(), 2);
    assert_eq!(estimate_one(&c, "1", &key2).1, Some(3));
    let (key3, batch) = round(&c, "1", &key2, 100);
    assert_eq!(batch.len(), 3);
    assert_eq!(estimate_one(&c, "1", &key3).1, Some(0));

    // New mail counts; the previous key counts the batch it would get again.
    let _more = import(&server, &[message(10), message(11)]);
    assert_eq!(estimate_one(&c, "1", &key3).1, Some(2));
    assert_eq!(estimate_one(&c, "1", &key2).1, Some(3 + 2));

    // An unknown key (4), an unknown collection (2), a folder never synced
    // (3), each in its own Response, in order.
    let r = estimate(
        &c,
        vec![
            EstimateCollection::new(SyncKey::new("bogus:7").unwrap(), id("1")),
            EstimateCollection::new(key3.clone(), id("4242")),
            EstimateCollection::new(key3.clone(), id("3")),
            EstimateCollection::new(key3.clone(), id("1")),
        ],
    );
    let statuses: Vec<_> = r.responses.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![
            GetItemEstimateStatus::INVALID_SYNC_KEY,
            GetItemEstimateStatus::INVALID_COLLECTION,
            GetItemEstimateStatus::SYNC_STATE_NOT_PRIMED,
            GetItemEstimateStatus::SUCCESS,
        ]
    );
    assert_eq!(
        r.responses[3].collection.as_ref().unwrap().estimate,
        Some(2)
    );
    // 14.0 and later: no Class in the answer.
    assert!(
        r.responses
            .iter()
            .all(|r| r.collection.as_ref().unwrap().class.is_none())
    );

    // Another device's key is not this device's (4); the Sync then brings
    // what the estimate said.
    let other = alice(&server, "GIE2");
    prime(&other, "1");
    assert_eq!(
        estimate_one(&other, "1", &key3).0,
        GetItemEstimateStatus::INVALID_SYNC_KEY
    );
    let (_, batch) = sync_all(&c, "1", &key3);
    assert_eq!(batch.len(), 2);

    // A body that is not a GetItemEstimate: the common status 103.
    let bad = c.post_element(
        Command::GET_ITEM_ESTIMATE,
        &MoveItemsRequest::default().to_element(),
    );
    assert_eq!(
        GetItemEstimateResponse::from_element(&bad.element())
            .unwrap()
            .status,
        Some(GetItemEstimateStatus(103))
    );
}

#[test]
fn get_item_estimate_in_12_1_takes_class_and_filter_in_the_collection() {
    let server = TestServer::with_alice();
    let _dir = import(&server, &(0..3).map(message).collect::<Vec<_>>());
    let (c, _) = device(server.alice("GIE12", ProtocolVersion::V12_1));
    let mut first = Collection::new(SyncKey::initial(), id("1"));
    first.class = Some("Email".into());
    first.options = vec![text_options()];
    let key = c.sync(first).collections[0]
        .header
        .sync_key
        .clone()
        .unwrap();
    let mut col = EstimateCollection::new(key.clone(), id("1"));
    col.class = Some("Email".into());
    col.filter_type = Some(FilterType(0));
    let r = estimate(&c, vec![col]);
    let e = r.responses[0].collection.as_ref().unwrap();
    assert_eq!(r.responses[0].status, GetItemEstimateStatus::SUCCESS);
    assert_eq!((e.class.as_deref(), e.estimate), (Some("Email"), Some(3)));

    // The Inbox does not hold calendar items: Status 2.
    let mut wrong = EstimateCollection::new(key, id("1"));
    wrong.class = Some("Calendar".into());
    let r = estimate(&c, vec![wrong]);
    assert_eq!(
        r.responses[0].status,
        GetItemEstimateStatus::INVALID_COLLECTION
    );
}

#[test]
fn move_items_moves_and_answers_every_status() {
    let mut server = TestServer::with_alice();
    server.add_user("bob", "bob@example.com", BOB_PASSWORD);
    let _dir = import(&server, &(0..3).map(message).collect::<Vec<_>>());
    let (a, fkey) = device(server.alice("MOVE_A", ProtocolVersion::V16_1));
    let b = alice(&server, "MOVE_B");
    let (archive, _) = create_folder(&a, &fkey, "1", "Archive");
    let archive = archive.as_str().to_owned();

    let ka = prime(&a, "1");
    let (ka, inbox) = sync_all(&a, "1", &ka);
    let inbox = added(&inbox);
    assert_eq!(inbox.len(), 3);
    let m0 = by_subject(&inbox, "Message 0").0.as_str().to_owned();
    let m1 = by_subject(&inbox, "Message 1").0.as_str().to_owned();
    let kb = prime(&b, "1");
    let (kb, _) = sync_all(&b, "1", &kb);
    let karchive = prime(&a, &archive);

    let r = move_items(
        &a,
        &[
            (&m0, "1", &archive),
            // Moved already: not in the Inbox any more.
            (&m0, "1", &archive),
            (&m1, "1", "4242"),
            // Calendar holds no mail.
            (&m1, "1", "6"),
            (&m1, "1", "1"),
            ("1:999999", "1", &archive),
            // The ServerId names another folder than SrcFldId.
            (&m1, "3", &archive),
        ],
    );
    assert_eq!(r.status, None);
    let statuses: Vec<_> = r.responses.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![
            MoveItemsStatus::SUCCESS,
            MoveItemsStatus::INVALID_SOURCE,
            MoveItemsStatus::INVALID_DESTINATION,
            MoveItemsStatus::INVALID_DESTINATION,
            MoveItemsStatus::SAME_SOURCE_AND_DESTINATION,
            MoveItemsStatus::INVALID_SOURCE,
            MoveItemsStatus::INVALID_SOURCE,
        ]
    );
    assert_eq!(r.responses[0].src_msg_id.as_str(), m0);
    let new_id = r.responses[0].dst_msg_id.clone().unwrap();
    assert!(new_id.as_str().starts_with(&format!("{archive}:")));
    assert!(r.responses[1..].iter().all(|r| r.dst_msg_id.is_none()));

    // The destination's Sync brings it under its new id, with its content.
    assert_eq!(estimate_one(&a, &archive, &karchive).1, Some(1));
    let (karchive, moved) = sync_all(&a, &archive, &karchive);
    let moved = added(&moved);
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].0, new_id);
    assert_eq!(moved[0].1.subject.as_deref(), Some("Message 0"));
    assert_eq!(estimate_one(&a, &archive, &karchive).1, Some(0));
    // Both devices' Inbox Syncs drop it.
    let (_, changes) = sync_all(&a, "1", &ka);
    assert_eq!(deleted(&changes), vec![ServerId::new(m0.clone()).unwrap()]);
    let (kb, changes) = sync_all(&b, "1", &kb);
    assert_eq!(deleted(&changes), vec![ServerId::new(m0.clone()).unwrap()]);

    // Bob names Alice's item: not his, Status 1; it stays where it is.
    let bob = device(server.client("bob", BOB_PASSWORD, "MOVE_BOB", ProtocolVersion::V16_1)).0;
    let r = move_items(&bob, &[(&m1, "1", "3")]);
    assert_eq!(r.responses[0].status, MoveItemsStatus::INVALID_SOURCE);
    let (_, changes) = sync_all(&b, "1", &kb);
    assert!(changes.is_empty(), "{changes:?}");

    // The move survives a restart (it was durable before the answer).
    server.kill();
    server.start();
    let mut a = server.alice("MOVE_A", ProtocolVersion::V16_1);
    a.provision_fully();
    let (_, again) = sync_all(&a, &archive, &karchive);
    assert!(again.is_empty());
}

#[test]
fn item_operations_fetch_serves_the_stored_bytes() {
    let server = TestServer::with_alice();
    let pdf = pdf_bytes();
    let plain = message(1);
    let report = with_attachment("Report", "alice-report", &pdf);
    let latin1 = latin1_message();
    let _dir = import(&server, &[plain.clone(), report.clone(), latin1.clone()]);
    server.cli_ok(&["trace", "on", "alice"], "");
    let mut c = alice(&server, "IOFETCH");
    let key = prime(&c, "1");
    let (_, inbox) = sync_all(&c, "1", &key);
    let inbox = added(&inbox);
    let plain_id = by_subject(&inbox, "Message 1").0.as_str().to_owned();
    let (report_id, report_email) = by_subject(&inbox, "Report");
    let report_id = report_id.as_str().to_owned();
    let reference = file_reference(report_email);
    let latin1_id = inbox
        .iter()
        .find(|(sid, _)| sid.as_str() != plain_id && sid.as_str() != report_id)
        .unwrap()
        .0
        .as_str()
        .to_owned();

    // MIME, by CollectionId and ServerId: exactly the imported bytes.
    let r = item_ops_ok(
        &c,
        vec![fetch_item(Some("1"), &plain_id, Some(mime_options()))],
    );
    let f = fetched(&r[0]);
    assert_eq!(
        (
            f.collection_id.clone(),
            f.server_id.as_ref().map(|s| s.as_str().to_owned())
        ),
        (Some(id("1")), Some(plain_id.clone()))
    );
    let email = fetched_email(&r[0]);
    assert_eq!(email.subject.as_deref(), Some("Message 1"));
    let body = email.body.unwrap();
    assert_eq!(body.body_type, BodyType::MIME);
    assert_eq!(
        Sha256::digest(body.data.unwrap().as_bytes()),
        Sha256::digest(&plain)
    );
    // Without MIME: the text, and the attachment listed.
    let r = item_ops_ok(&c, vec![fetch_item(Some("1"), &report_id, None)]);
    let email = fetched_email(&r[0]);
    assert_eq!(email.body.as_ref().unwrap().body_type, BodyType::PLAIN_TEXT);
    assert_eq!(file_reference(&email), reference);
    assert!(email.body.unwrap().data.unwrap().contains("alice-report"));

    // Not UTF-8: the WBXML string holds the stored bytes as they are.
    let reply = item_ops(
        &c,
        vec![fetch_item(Some("1"), &latin1_id, Some(mime_options()))],
    );
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .body
            .windows(latin1.len())
            .any(|w| w == latin1.as_slice()),
        "the raw message is in the response"
    );

    // The attachment: its decoded bytes, base64 in Data.
    let r = item_ops_ok(&c, vec![fetch_file(&reference, None)]);
    assert_eq!(
        fetched(&r[0]).file_reference.as_deref(),
        Some(reference.as_str())
    );
    let file = fetched_file(&r[0]);
    assert_eq!(file.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(unbase64(file.data.as_deref().unwrap()), pdf);

    // Ranges: as asked, cut at the end, or refused (8).
    let total = pdf.len() as u64;
    let r = item_ops_ok(
        &c,
        vec![
            fetch_file(&reference, Some("10-29")),
            fetch_file(&reference, Some("3000-999999")),
            fetch_file(&reference, Some("999990-999999")),
            fetch_file(&reference, Some("20-10")),
        ],
    );
    let first = fetched_file(&r[0]);
    assert_eq!(first.range, ByteRange::parse("10-29"));
    assert_eq!(first.total, Some(total));
    assert_eq!(unbase64(first.data.as_deref().unwrap()), &pdf[10..30]);
    let tail = fetched_file(&r[1]);
    assert_eq!(
        tail.range,
        Some(ByteRange {
            start: 3000,
            end: (total - 1) as u32
        })
    );
    assert_eq!(unbase64(tail.data.as_deref().unwrap()), &pdf[3000..]);
    assert_eq!(fetched(&r[2]).status, ItemOperationsStatus::INVALID_RANGE);
    assert_eq!(fetched(&r[3]).status, ItemOperationsStatus::INVALID_RANGE);

    // What is not there, and what this server does not keep.
    let mut long = Fetch::new("Mailbox");
    long.long_id = Some("RgAAAAAaa".into());
    let library = Fetch::new("DocumentLibrary");
    let r = item_ops_ok(
        &c,
        vec![
            fetch_item(Some("1"), "1:999999", None),
            fetch_item(Some("3"), &plain_id, None),
            fetch_file("999999:0", None),
            fetch_file(&format!("{}:7", reference.split(':').next().unwrap()), None),
            fetch_file("not-a-reference", None),
            Operation::Fetch(Box::new(long)),
            Operation::Fetch(Box::new(library)),
        ],
    );
    let statuses: Vec<_> = r.iter().map(|r| fetched(r).status).collect();
    assert_eq!(
        statuses,
        vec![
            ItemOperationsStatus::NOT_FOUND,
            ItemOperationsStatus::NOT_FOUND,
            ItemOperationsStatus::INVALID_ATTACHMENT,
            ItemOperationsStatus::INVALID_ATTACHMENT,
            ItemOperationsStatus::INVALID_ATTACHMENT,
            ItemOperationsStatus::NOT_FOUND,
            ItemOperationsStatus::UNKNOWN_STORE,
        ]
    );
    assert!(r.iter().all(|r| fetched(r).properties.is_none()));

    // Multipart, asked by header: bodies and files in parts, byte for byte.
    let ops = ItemOperationsRequest {
        operations: vec![
            fetch_item(Some("1"), &latin1_id, Some(mime_options())),
            fetch_file(&reference, None),
            fetch_item(Some("1"), "1:999999", None),
        ],
    };
    let path = format!(
        "/Microsoft-Server-ActiveSync?{}",
        c.query(Command::ITEM_OPERATIONS)
    );
    let mut headers = c.headers();
    headers.push(("MS-ASAcceptMultiPart".into(), "T".into()));
    let reply = c.send(
        Method::POST,
        &path,
        &headers,
        ops.to_element().encode().unwrap(),
        true,
    );
    check_multipart(&reply, &latin1, &pdf);

    // The same asked by the base64 query's flag.
    c.form = QueryForm::Base64;
    let mut line = c.request_line(Command::ITEM_OPERATIONS);
    line.params.accept_multipart = Some(true);
    let path = format!(
        "/Microsoft-Server-ActiveSync?{}",
        line.to_base64_query().unwrap()
    );
    let reply = c.send(
        Method::POST,
        &path,
        &c.headers(),
        ops.to_element().encode().unwrap(),
        true,
    );
    check_multipart(&reply, &latin1, &pdf);

    // A body that is not an ItemOperations: Status 2.
    let bad = c.post_element(
        Command::ITEM_OPERATIONS,
        &MoveItemsRequest::default().to_element(),
    );
    let bad = ItemOperationsResponse::from_element(&bad.element()).unwrap();
    assert_eq!(bad.status, ItemOperationsStatus::PROTOCOL_ERROR);

    // The trace shows a multipart answer's WBXML and its parts' sizes.
    let dir = server.data().join("traces/alice/IOFETCH");
    let trace: String = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let sizes = format!(
        "multipart; parts after the WBXML, in bytes: [{}, {}]",
        latin1.len(),
        pdf.len()
    );
    assert!(trace.contains(&sizes), "no {sizes:?} in the trace");
    assert!(trace.contains("<Part>2</Part>"), "{trace}");
}

/// A multipart answer to [MIME fetch of `raw`, fetch of `file`, a fetch
/// of nothing].
fn check_multipart(reply: &Reply, raw: &[u8], file: &[u8]) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(MULTIPART_CONTENT_TYPE));
    let parts = decode_multipart(&reply.body).unwrap();
    assert_eq!(parts.len(), 3, "the WBXML, the message, the file");
    let el = Element::decode(parts[0], Limits::default()).unwrap();
    let r = ItemOperationsResponse::from_element(&el).unwrap();
    assert_eq!(r.status, ItemOperationsStatus::SUCCESS);
    let body = fetched_email(&r.responses[0]).body.unwrap();
    assert_eq!(
        (body.body_type, body.data.as_deref(), body.part),
        (BodyType::MIME, None, Some(1))
    );
    assert_eq!(Sha256::digest(parts[1]), Sha256::digest(raw));
    let props = fetched_file(&r.responses[1]);
    assert_eq!((props.data.as_deref(), props.part), (None, Some(2)));
    assert_eq!(parts[2], file);
    assert_eq!(
        fetched(&r.responses[2]).status,
        ItemOperationsStatus::NOT_FOUND
    );
}

#[test]
fn item_operations_empty_folders_and_move_conversations() {
    let server = TestServer::with_alice();
    let _trash = import_into(
        &server,
        "alice",
        "Deleted Items",
        &[message(1), message(2), message(3)],
    );
    let (c, fkey) = device(server.alice("IOEMPTY", ProtocolVersion::V16_1));
    let (old, fkey) = create_folder(&c, &fkey, "3", "Old");
    let (archive, _) = create_folder(&c, &fkey, "1", "Archive");
    let (old, archive) = (old.as_str().to_owned(), archive.as_str().to_owned());
    let _old = import_into(&server, "alice", &old, &[message(4)]);

    let kt = prime(&c, "3");
    let (kt, trash) = sync_all(&c, "3", &kt);
    let trash: Vec<ServerId> = added(&trash).into_iter().map(|(s, _)| s).collect();
    assert_eq!(trash.len(), 3);

    // Deleted Items emptied; its subfolder and the subfolder's mail stay.
    let r = item_ops_ok(
        &c,
        vec![Operation::EmptyFolderContents {
            collection_id: id("3"),
            delete_sub_folders: false,
        }],
    );
    assert_eq!(
        r,
        vec![OperationResponse::EmptyFolderContents {
            status: ItemOperationsStatus::SUCCESS,
            collection_id: id("3"),
        }]
    );
    let (_, changes) = sync_all(&c, "3", &kt);
    let mut gone = deleted(&changes);
    gone.sort();
    let mut expected = trash.clone();
    expected.sort();
    assert_eq!(gone, expected);
    let ko = prime(&c, &old);
    assert_eq!(estimate_one(&c, &old, &ko).1, Some(1));

    // With DeleteSubFolders the subfolder goes too; an unknown folder is 6.
    let r = item_ops_ok(
        &c,
        vec![
            Operation::EmptyFolderContents {
                collection_id: id("3"),
                delete_sub_folders: true,
            },
            Operation::EmptyFolderContents {
                collection_id: id("4242"),
                delete_sub_folders: false,
            },
        ],
    );
    assert!(matches!(
        &r[..],
        [
            OperationResponse::EmptyFolderContents {
                status: ItemOperationsStatus::SUCCESS,
                ..
            },
            OperationResponse::EmptyFolderContents {
                status: ItemOperationsStatus::NOT_FOUND,
                ..
            },
        ]
    ));
    let fs = FolderSyncResponse::from_element(
        &c.post_element(
            Command::FOLDER_SYNC,
            &FolderSyncRequest {
                sync_key: SyncKey::initial(),
            }
            .to_element(),
        )
        .element(),
    )
    .unwrap();
    let changes = fs.changes.unwrap();
    assert!(changes.adds.iter().all(|f| f.server_id.as_str() != old));
    assert!(changes.adds.iter().any(|f| f.server_id.as_str() == archive));

    // A conversation: two messages of "Plans" move, the other stays.
    let _thread = import(
        &server,
        &[
            threaded("Plans", 1),
            threaded("RE: Plans", 2),
            threaded("Something else", 3),
        ],
    );
    let ki = prime(&c, "1");
    let (ki, inbox) = sync_all(&c, "1", &ki);
    let inbox = added(&inbox);
    let (plans_id, plans) = by_subject(&inbox, "Plans");
    let reply_id = by_subject(&inbox, "RE: Plans").0.clone();
    let conversation = plans.conversation_id.clone().unwrap();
    assert_eq!(
        by_subject(&inbox, "RE: Plans").1.conversation_id.as_ref(),
        Some(&conversation)
    );
    let ka = prime(&c, &archive);
    let move_op = |dst: &str, always: bool, conversation: &[u8]| Operation::Move {
        conversation_id: conversation.to_vec(),
        dst_fld_id: id(dst),
        move_always: always,
    };
    let r = item_ops_ok(
        &c,
        vec![
            move_op(&archive, false, &conversation),
            move_op("6", true, &conversation),
            move_op("4242", true, &conversation),
            move_op(&archive, true, &[0u8; 16]),
            move_op(&archive, true, &conversation),
        ],
    );
    let statuses: Vec<_> = r
        .iter()
        .map(|r| match r {
            OperationResponse::Move {
                status,
                conversation_id,
            } => {
                assert_eq!(conversation_id.len(), 16);
                *status
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ItemOperationsStatus::MOVE_OPTIONS_MISSING,
            ItemOperationsStatus::ACTION_NOT_SUPPORTED,
            ItemOperationsStatus::NOT_FOUND,
            ItemOperationsStatus::NOT_FOUND,
            ItemOperationsStatus::SUCCESS,
        ]
    );
    let (_, changes) = sync_all(&c, "1", &ki);
    let mut gone = deleted(&changes);
    gone.sort();
    let mut expected = vec![plans_id.clone(), reply_id];
    expected.sort();
    assert_eq!(gone, expected);
    let (_, moved) = sync_all(&c, &archive, &ka);
    let mut subjects: Vec<_> = added(&moved)
        .into_iter()
        .map(|(_, e)| e.subject.unwrap())
        .collect();
    subjects.sort();
    assert_eq!(subjects, vec!["Plans", "RE: Plans"]);
}

#[test]
fn another_accounts_items_and_attachments_are_never_served() {
    let server = TestServer::with_alice();
    server.add_user("bob", "bob@example.com", BOB_PASSWORD);
    let pdf = pdf_bytes();
    let _a = import(
        &server,
        &[
            message(1),
            message(2),
            with_attachment("Secret", "alice-secret-marker", &pdf),
        ],
    );
    let _b = import_into(
        &server,
        "bob",
        "Inbox",
        &[with_attachment("Bob's", "bob-own-marker", b"bob's file")],
    );
    let a = alice(&server, "ISO_A");
    let key = prime(&a, "1");
    let (_, inbox) = sync_all(&a, "1", &key);
    let inbox = added(&inbox);
    let (secret_id, secret) = by_subject(&inbox, "Secret");
    let reference = file_reference(secret);

    let bob = device(server.client("bob", BOB_PASSWORD, "ISO_B", ProtocolVersion::V16_1)).0;
    let kb = prime(&bob, "1");
    let (_, bob_inbox) = sync_all(&bob, "1", &kb);
    let bob_inbox = added(&bob_inbox);
    assert_eq!(bob_inbox.len(), 1);
    let (bob_id, bob_email) = &bob_inbox[0];
    let bob_reference = file_reference(bob_email);

    // Alice's ids in Bob's requests: not found; nothing of hers comes back.
    let reply = item_ops(
        &bob,
        vec![
            fetch_item(Some("1"), secret_id.as_str(), Some(mime_options())),
            fetch_item(None, secret_id.as_str(), None),
            fetch_file(&reference, None),
        ],
    );
    assert!(
        !reply
            .body
            .windows(b"alice-secret-marker".len())
            .any(|w| w == b"alice-secret-marker"),
        "none of alice's bytes in bob's answer"
    );
    let r = ItemOperationsResponse::from_element(&reply.element()).unwrap();
    let statuses: Vec<_> = r.responses.iter().map(|r| fetched(r).status).collect();
    assert_eq!(
        statuses,
        vec![
            ItemOperationsStatus::NOT_FOUND,
            ItemOperationsStatus::NOT_FOUND,
            ItemOperationsStatus::INVALID_ATTACHMENT,
        ]
    );

    // Bob's own ids give Bob's own item and file, even where the numbers
    // are the ones Alice's items have too.
    let r = item_ops_ok(
        &bob,
        vec![
            fetch_item(Some("1"), bob_id.as_str(), Some(mime_options())),
            fetch_file(&bob_reference, None),
        ],
    );
    let body = fetched_email(&r[0]).body.unwrap().data.unwrap();
    assert!(body.contains("bob-own-marker") && !body.contains("alice-secret-marker"));
    assert_eq!(
        unbase64(fetched_file(&r[1]).data.as_deref().unwrap()),
        b"bob's file"
    );

    // Alice can still fetch hers.
    let r = item_ops_ok(&a, vec![fetch_file(&reference, None)]);
    assert_eq!(unbase64(fetched_file(&r[0]).data.as_deref().unwrap()), pdf);
}
