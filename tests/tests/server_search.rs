//! Search (Store Mailbox) and Find against the real server, with mail put
//! in by `eas-server import` while it runs: free text over subject, body
//! and sender, Class, CollectionId, DeepTraversal, date ranges, And and
//! Or, Range paging with Total, RebuildResults, bodies per BodyPreference;
//! results that follow deliveries, moves and deletes; LongIds that fetch
//! the imported bytes and never another account's item; the statuses of
//! queries the server refuses.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashSet;

use eas_proto::ProtocolVersion;
use eas_proto::codepages::{email as e, search as s};
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::composemail::{
    Kind, Request as ComposeRequest, Response as ComposeResponse, Source, Status as ComposeStatus,
};
use eas_proto::command::email::Email;
use eas_proto::command::find::{
    Criterion, FindOptions, FindRequest, FindResponse, FindResult, FindStatus,
};
use eas_proto::command::folder::{
    FolderCreateRequest, FolderCreateResponse, FolderCreateStatus, FolderType,
};
use eas_proto::command::ids::{CollectionId, ServerId, SyncKey};
use eas_proto::command::items::{
    Fetch, FetchOptions, FetchResponse, ItemOperationsRequest, ItemOperationsResponse,
    ItemOperationsStatus, MULTIPART_CONTENT_TYPE, Move, MoveItemsRequest, MoveItemsResponse,
    MoveItemsStatus, Operation, OperationResponse, decode_multipart,
};
use eas_proto::command::search::{
    Comparison, Condition, Query, ResultRange, STORE_GAL, STORE_MAILBOX, SearchOption,
    SearchOptions, SearchRequest, SearchResponse, SearchResult, SearchStatus, StoreRequest,
    StoreResponse,
};
use eas_proto::command::sync::{Collection, MimeSupport, Options, Request, Response, Status};
use eas_proto::http::Command;
use eas_proto::wbxml::{Element, Limits};
use eas_tests::client::EasClient;
use eas_tests::server::{TempDir, TestServer};
use reqwest::Method;

const BOB_PASSWORD: &str = "bob-secret";

fn id(s: &str) -> CollectionId {
    CollectionId::new(s).unwrap()
}

/// A plain message.
fn mail(from: &str, subject: &str, date: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Alice <alice@example.com>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{}@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        subject.replace(' ', ".")
    )
    .into_bytes()
}

/// A message with a small PDF attachment.
fn with_attachment(from: &str, subject: &str, date: &str, body: &str, name: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: \"Chris Gray\" <chris@contoso.com>\r\nCc: \"Gray, Dana\" <dana@contoso.com>, ed@example.com\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <att.{name}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b1\r\nContent-Type: application/pdf; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n"
    )
    .into_bytes()
}

fn presentation() -> Vec<u8> {
    with_attachment(
        "\"Anat Kerry\" <anat@contoso.com>",
        "Presentation",
        "Wed, 04 Mar 2026 18:23:41 +0000",
        "Here is the deck for Monday.",
        "deck.pdf",
    )
}

fn lunch() -> Vec<u8> {
    mail(
        "bob@example.com",
        "Lunch plans",
        "Thu, 05 Mar 2026 09:00:00 +0000",
        "The budget meeting moved; lunch at noon?",
    )
}

fn quarterly(n: u32) -> Vec<u8> {
    mail(
        "\"Chris Gray\" <chris@contoso.com>",
        &format!("Quarterly numbers {n}"),
        &format!("Tue, {:02} Feb 2026 10:00:00 +0000", 10 + n),
        "Figures attached for review.",
    )
}

/// Twelve weekly reports, 2026-01-05 to 2026-03-23.
fn reports() -> Vec<Vec<u8>> {
    (0..12u32)
        .map(|k| {
            let day = 5 + 7 * k;
            let (month, day) = match day {
                d if d <= 31 => ("Jan", d),
                d if d <= 59 => ("Feb", d - 31),
                d => ("Mar", d - 59),
            };
            mail(
                "reports@example.com",
                &format!("Weekly report {k}"),
                &format!("Mon, {day:02} {month} 2026 08:00:00 +0000"),
                &format!("Status of project zephyr, week {k}."),
            )
        })
        .collect()
}

/// Imports messages into a user's folder (an id or a name) through the
/// running server.
fn import_into(server: &TestServer, user: &str, folder: &str, messages: &[Vec<u8>]) {
    let dir = TempDir::new("search-import");
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
}

/// A provisioned device that has done its first FolderSync; the key.
fn device(mut c: EasClient) -> (EasClient, SyncKey) {
    c.provision_fully();
    let fs = c.folder_sync(&SyncKey::initial());
    (c, fs.sync_key.unwrap())
}

fn create_folder(c: &EasClient, key: &SyncKey, parent: &str, name: &str) -> (String, SyncKey) {
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
    (
        r.server_id.unwrap().as_str().to_owned(),
        r.sync_key.unwrap(),
    )
}

// --- Search requests and answers --------------------------------------

fn and(conditions: Vec<Condition>) -> Vec<Condition> {
    vec![Condition::And(conditions)]
}

fn text(t: &str) -> Condition {
    Condition::FreeText(t.into())
}

fn folder(f: &str) -> Condition {
    Condition::CollectionId(id(f))
}

fn received(after: bool, value: &str) -> Condition {
    let c = Comparison {
        property: e::DateReceived,
        value: value.into(),
    };
    if after {
        Condition::GreaterThan(c)
    } else {
        Condition::LessThan(c)
    }
}

fn range(r: &str) -> SearchOption {
    SearchOption::Range(ResultRange::parse(r).unwrap())
}

fn search_request(query: Vec<Condition>, options: Vec<SearchOption>) -> SearchRequest {
    SearchRequest {
        stores: vec![StoreRequest {
            name: STORE_MAILBOX.into(),
            query: Query::Conditions(query),
            options: Some(SearchOptions(options)),
        }],
    }
}

fn search_raw(c: &EasClient, request: &SearchRequest) -> SearchResponse {
    let reply = c.post_element(Command::SEARCH, &request.to_element());
    SearchResponse::from_element(&reply.element()).unwrap()
}

/// A search whose store answered; the store's answer.
fn search(c: &EasClient, query: Vec<Condition>, options: Vec<SearchOption>) -> StoreResponse {
    let r = search_raw(c, &search_request(query, options));
    assert_eq!(r.status, SearchStatus::SUCCESS);
    r.store.expect("a Store in the response")
}

fn store_status(c: &EasClient, query: Vec<Condition>, options: Vec<SearchOption>) -> SearchStatus {
    search(c, query, options).status
}

/// The subjects of the results, in order; none for the empty Result.
fn subjects(store: &StoreResponse) -> Vec<String> {
    store
        .results
        .iter()
        .filter(|r| r.long_id.is_some())
        .map(|r| result_email(r).subject.unwrap())
        .collect()
}

fn result_email(r: &SearchResult) -> Email {
    assert_eq!(r.class.as_deref(), Some("Email"));
    Email::from_element(r.properties.as_ref().unwrap()).unwrap()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn found(c: &EasClient, query: Vec<Condition>) -> Vec<String> {
    let store = search(c, query, vec![SearchOption::RebuildResults]);
    assert_eq!(store.status, SearchStatus::SUCCESS);
    sorted(subjects(&store))
}

fn strings(v: &[&str]) -> Vec<String> {
    sorted(v.iter().map(|s| (*s).to_owned()).collect())
}

/// The LongId of the one result of a query.
fn long_id_of(c: &EasClient, query: Vec<Condition>) -> (String, CollectionId) {
    let store = search(c, query, vec![SearchOption::RebuildResults]);
    assert_eq!(store.total, Some(1), "{store:?}");
    let r = &store.results[0];
    (r.long_id.clone().unwrap(), r.collection_id.clone().unwrap())
}

// --- ItemOperations, MoveItems, Sync -------------------------------------

fn mime_options() -> FetchOptions {
    FetchOptions {
        mime_support: Some(MimeSupport::ALWAYS),
        body_preferences: vec![BodyPreference::new(BodyType::MIME)],
        ..Default::default()
    }
}

fn fetch_long_id(c: &EasClient, long_id: &str) -> FetchResponse {
    let mut f = Fetch::new("Mailbox");
    f.long_id = Some(long_id.to_owned());
    f.options = Some(mime_options());
    let reply = c.post_element(
        Command::ITEM_OPERATIONS,
        &ItemOperationsRequest {
            operations: vec![Operation::Fetch(Box::new(f))],
        }
        .to_element(),
    );
    let r = ItemOperationsResponse::from_element(&reply.element()).unwrap();
    assert_eq!(r.status, ItemOperationsStatus::SUCCESS);
    match r.responses.into_iter().next() {
        Some(OperationResponse::Fetch(f)) => f,
        other => panic!("not a Fetch: {other:?}"),
    }
}

/// The bytes of the message a LongId names, fetched whole in a multipart
/// response (MS-ASCMD 2.2.1.10.1), where nothing can re-encode them.
fn fetch_long_id_bytes(c: &EasClient, long_id: &str) -> Vec<u8> {
    let mut f = Fetch::new("Mailbox");
    f.long_id = Some(long_id.to_owned());
    f.options = Some(mime_options());
    let body = ItemOperationsRequest {
        operations: vec![Operation::Fetch(Box::new(f))],
    }
    .to_element()
    .encode()
    .unwrap();
    let mut headers = c.headers();
    headers.push(("MS-ASAcceptMultiPart".into(), "T".into()));
    let path = format!(
        "/Microsoft-Server-ActiveSync?{}",
        c.query(Command::ITEM_OPERATIONS)
    );
    let reply = c.send(Method::POST, &path, &headers, body, true);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(MULTIPART_CONTENT_TYPE));
    let parts = decode_multipart(&reply.body).unwrap();
    let el = Element::decode(parts[0], Limits::default()).unwrap();
    let r = ItemOperationsResponse::from_element(&el).unwrap();
    let OperationResponse::Fetch(f) = &r.responses[0] else {
        panic!("{r:?}")
    };
    assert_eq!(f.status, ItemOperationsStatus::SUCCESS, "{f:?}");
    assert_eq!(f.long_id.as_deref(), Some(long_id));
    parts[1].to_vec()
}

/// The server ids of a folder's messages by subject, from a first Sync.
fn server_ids(c: &EasClient, folder: &str) -> Vec<(String, ServerId)> {
    let post = |collection: Collection| {
        let reply = c.post_element(
            Command::SYNC,
            &Request {
                collections: vec![collection],
                ..Default::default()
            }
            .to_element(),
        );
        Response::from_element(&reply.element()).unwrap()
    };
    let r = post(Collection::new(SyncKey::initial(), id(folder)));
    let key = r.collections[0].header.sync_key.clone().unwrap();
    let mut col = Collection::new(key, id(folder));
    col.window_size = Some(512);
    col.options = vec![Options::default()];
    let r = post(col);
    assert_eq!(r.collections[0].header.status, Status::SUCCESS);
    r.collections[0]
        .commands
        .iter()
        .filter_map(|cmd| match cmd {
            eas_proto::command::sync::ServerCommand::Add {
                server_id,
                application_data,
                ..
            } => Some((
                Email::from_element(application_data)
                    .unwrap()
                    .subject
                    .unwrap(),
                server_id.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn move_item(c: &EasClient, server_id: &ServerId, from: &str, to: &str) {
    let reply = c.post_element(
        Command::MOVE_ITEMS,
        &MoveItemsRequest {
            moves: vec![Move {
                src_msg_id: server_id.clone(),
                src_fld_id: id(from),
                dst_fld_id: id(to),
            }],
        }
        .to_element(),
    );
    let r = MoveItemsResponse::from_element(&reply.element()).unwrap();
    assert_eq!(r.responses[0].status, MoveItemsStatus::SUCCESS);
}

fn empty_folder(c: &EasClient, folder: &str) {
    let reply = c.post_element(
        Command::ITEM_OPERATIONS,
        &ItemOperationsRequest {
            operations: vec![Operation::EmptyFolderContents {
                collection_id: id(folder),
                delete_sub_folders: false,
            }],
        }
        .to_element(),
    );
    let r = ItemOperationsResponse::from_element(&reply.element()).unwrap();
    let OperationResponse::EmptyFolderContents { status, .. } = &r.responses[0] else {
        panic!("{r:?}")
    };
    assert_eq!(*status, ItemOperationsStatus::SUCCESS);
}

// --- The tests ------------------------------------------------------------

/// Alice's mailbox: Inbox with the presentation, lunch, two quarterly
/// messages and twelve reports; Inbox/Projects with a kickoff; Sent Items
/// with a reply.
fn mailbox() -> (TestServer, EasClient, String) {
    let server = TestServer::with_alice();
    let (c, key) = device(server.alice("search-1", ProtocolVersion::V14_1));
    let (projects, _) = create_folder(&c, &key, "1", "Projects");
    let mut inbox = vec![presentation(), lunch(), quarterly(1), quarterly(2)];
    inbox.extend(reports());
    import_into(&server, "alice", "Inbox", &inbox);
    import_into(
        &server,
        "alice",
        &projects,
        &[mail(
            "reports@example.com",
            "Zephyr kickoff",
            "Tue, 20 Jan 2026 09:30:00 +0000",
            "The zephyr project starts now.",
        )],
    );
    import_into(
        &server,
        "alice",
        "Sent Items",
        &[mail(
            "Alice <alice@example.com>",
            "Re: Presentation",
            "Thu, 05 Mar 2026 08:00:00 +0000",
            "Thanks, the deck looks good.",
        )],
    );
    (server, c, projects)
}

#[test]
fn search_finds_by_text_class_folder_date_and_and_or() {
    let (_server, c, projects) = mailbox();

    // Free text: subject, body, sender, recipients, attachment name; words
    // are prefixes and case does not matter.
    assert_eq!(
        found(&c, and(vec![text("Presentation")])),
        strings(&["Presentation", "Re: Presentation"])
    );
    assert_eq!(
        found(&c, and(vec![text("BUDGET")])),
        strings(&["Lunch plans"])
    );
    assert_eq!(
        found(&c, and(vec![text("anat")])),
        strings(&["Presentation"])
    );
    assert_eq!(
        found(&c, and(vec![text("dana")])),
        strings(&["Presentation"])
    );
    assert_eq!(
        found(&c, and(vec![text("deck.pdf")])),
        strings(&["Presentation"])
    );
    assert_eq!(
        found(&c, and(vec![text("quart")])),
        strings(&["Quarterly numbers 1", "Quarterly numbers 2"])
    );
    assert_eq!(found(&c, and(vec![text("arterly")])), Vec::<String>::new());
    assert_eq!(
        found(&c, and(vec![text("figures review chris")])),
        strings(&["Quarterly numbers 1", "Quarterly numbers 2"])
    );

    // Class: Email finds mail; a class with no items finds nothing, and
    // "nothing" is one empty Result with Total 0.
    assert_eq!(
        found(
            &c,
            and(vec![Condition::Class("Email".into()), text("lunch")])
        ),
        strings(&["Lunch plans"])
    );
    let none = search(
        &c,
        and(vec![Condition::Class("Tasks".into()), text("lunch")]),
        vec![],
    );
    assert_eq!(none.status, SearchStatus::SUCCESS);
    assert_eq!(none.results, vec![SearchResult::default()]);
    assert_eq!((none.range, none.total), (None, Some(0)));

    // CollectionId, and DeepTraversal into Inbox/Projects.
    assert_eq!(
        found(&c, and(vec![folder("4"), text("presentation")])),
        strings(&["Re: Presentation"])
    );
    let zephyr_inbox = search(&c, and(vec![folder("1"), text("zephyr")]), vec![]);
    assert_eq!(zephyr_inbox.total, Some(12));
    let deep = search(
        &c,
        and(vec![folder("1"), text("zephyr")]),
        vec![SearchOption::DeepTraversal],
    );
    assert_eq!(deep.total, Some(13));
    assert!(subjects(&deep).contains(&"Zephyr kickoff".to_owned()));
    let kickoff = deep
        .results
        .iter()
        .find(|r| result_email(r).subject.as_deref() == Some("Zephyr kickoff"))
        .unwrap();
    assert_eq!(kickoff.collection_id, Some(id(&projects)));
    // Without CollectionId every mail folder is searched.
    assert_eq!(
        search(&c, and(vec![text("zephyr")]), vec![]).total,
        Some(13)
    );

    // Date ranges on DateReceived (the Date header of imported mail).
    assert_eq!(
        found(
            &c,
            and(vec![
                text("report"),
                received(true, "2026-02-01T00:00:00.000Z"),
                received(false, "2026-03-01T00:00:00.000Z"),
            ])
        ),
        strings(&[
            "Weekly report 4",
            "Weekly report 5",
            "Weekly report 6",
            "Weekly report 7"
        ])
    );
    assert_eq!(
        found(&c, and(vec![received(true, "2026-03-04T18:23:41.000Z")])),
        strings(&[
            "Lunch plans",
            "Re: Presentation",
            "Weekly report 9",
            "Weekly report 10",
            "Weekly report 11"
        ]),
        "GreaterThan is strict"
    );

    // And inside Or, Or inside And.
    assert_eq!(
        found(
            &c,
            vec![Condition::Or(vec![
                text("lunch"),
                Condition::And(vec![folder("4"), text("deck")]),
                Condition::And(vec![text("kickoff")]),
            ])]
        ),
        strings(&["Lunch plans", "Re: Presentation", "Zephyr kickoff"])
    );
    assert_eq!(
        found(
            &c,
            and(vec![
                folder("1"),
                Condition::Or(vec![text("budget"), text("monday")]),
            ])
        ),
        strings(&["Lunch plans", "Presentation"])
    );
    assert_eq!(
        found(
            &c,
            vec![Condition::Or(vec![folder("4"), folder(&projects)])]
        ),
        strings(&["Re: Presentation", "Zephyr kickoff"])
    );
}

#[test]
fn search_pages_keeps_result_sets_and_sends_bodies_as_asked() {
    let (server, c, _) = mailbox();
    let reports =
        |opts: Vec<SearchOption>| search(&c, and(vec![folder("1"), text("weekly")]), opts);

    // Pages of 5 over 12 matches, newest first, each report exactly once.
    let mut seen = Vec::new();
    for (r, expect) in [("0-4", "0-4"), ("5-9", "5-9"), ("10-14", "10-11")] {
        let page = reports(vec![range(r)]);
        assert_eq!(page.status, SearchStatus::SUCCESS);
        assert_eq!(page.total, Some(12));
        assert_eq!(page.range, ResultRange::parse(expect));
        seen.extend(subjects(&page));
    }
    let expected: Vec<String> = (0..12)
        .rev()
        .map(|k| format!("Weekly report {k}"))
        .collect();
    assert_eq!(seen, expected, "newest first, no repeats");
    // The default range is 0-99.
    let all = reports(vec![]);
    assert_eq!(
        (all.range, all.total),
        (ResultRange::parse("0-11"), Some(12))
    );
    assert_eq!(all.results.len(), 12);

    // A kept result set: a new report delivered now does not join the set
    // until RebuildResults (MS-ASCMD RebuildResults).
    import_into(
        &server,
        "alice",
        "Inbox",
        &[mail(
            "reports@example.com",
            "Weekly report 12",
            "Mon, 30 Mar 2026 08:00:00 +0000",
            "Status of project zephyr, week 12.",
        )],
    );
    let kept = reports(vec![range("0-4")]);
    assert_eq!(kept.total, Some(12));
    assert_eq!(subjects(&kept)[0], "Weekly report 11");
    let rebuilt = reports(vec![range("0-4"), SearchOption::RebuildResults]);
    assert_eq!(rebuilt.total, Some(13));
    assert_eq!(subjects(&rebuilt)[0], "Weekly report 12");
    // A new query is built at once.
    assert_eq!(
        search(&c, and(vec![text("week 12")]), vec![]).total,
        Some(1)
    );

    // Bodies: none asked, announced only; plain text truncated; MIME whole.
    let lunch_query = || and(vec![text("budget")]);
    let plain = search(&c, lunch_query(), vec![]);
    let body = result_email(&plain.results[0]).body.unwrap();
    assert_eq!(
        (body.body_type, body.truncated, body.data.as_deref()),
        (BodyType::PLAIN_TEXT, Some(true), None)
    );
    assert!(body.estimated_data_size.unwrap() > 30);
    let truncated = search(
        &c,
        lunch_query(),
        vec![SearchOption::BodyPreference(BodyPreference {
            body_type: BodyType::PLAIN_TEXT,
            truncation_size: Some(10),
            all_or_none: None,
            preview: None,
        })],
    );
    let email = result_email(&truncated.results[0]);
    let body = email.body.unwrap();
    assert_eq!(
        (body.data.as_deref(), body.truncated),
        (Some("The budget"), Some(true))
    );
    assert_eq!(email.from.as_deref(), Some("bob@example.com"));
    assert_eq!(email.subject.as_deref(), Some("Lunch plans"));
    assert_eq!(email.read, Some(false));
    assert_eq!(
        email.date_received.unwrap().as_str(),
        "2026-03-05T09:00:00.000Z"
    );
    let mime = search(
        &c,
        lunch_query(),
        vec![
            SearchOption::MimeSupport(MimeSupport::ALWAYS),
            SearchOption::BodyPreference(BodyPreference::new(BodyType::MIME)),
        ],
    );
    let body = result_email(&mime.results[0]).body.unwrap();
    assert_eq!(body.body_type, BodyType::MIME);
    assert_eq!(body.data.unwrap().as_bytes(), lunch().as_slice());
    let with_preview = search(
        &c,
        and(vec![text("anat")]),
        vec![SearchOption::BodyPreference(BodyPreference {
            body_type: BodyType::PLAIN_TEXT,
            truncation_size: Some(0),
            all_or_none: Some(true),
            preview: Some(50),
        })],
    );
    let email = result_email(&with_preview.results[0]);
    assert_eq!(
        email.body.unwrap().preview.as_deref(),
        Some("Here is the deck for Monday.")
    );
    assert_eq!(
        email.attachments.unwrap().attachments[0]
            .display_name
            .as_deref(),
        Some("deck.pdf")
    );
}

#[test]
fn search_refuses_what_the_spec_refuses() {
    let (_server, c, _) = mailbox();
    // SearchTooComplex: conditions outside an And, two Ands, a Class or a
    // date inside an Or, nesting too deep.
    for query in [
        vec![text("lunch")],
        vec![folder("1")],
        vec![Condition::Class("Email".into())],
        vec![received(true, "2026-01-01T00:00:00Z")],
        vec![
            Condition::And(vec![text("a")]),
            Condition::And(vec![text("b")]),
        ],
        vec![Condition::Or(vec![
            Condition::Class("Email".into()),
            text("lunch"),
        ])],
        vec![Condition::Or(vec![received(false, "2026-01-01T00:00:00Z")])],
        and(vec![Condition::And(vec![Condition::And(vec![
            Condition::And(vec![Condition::And(vec![text("deep")])]),
        ])])]),
    ] {
        assert_eq!(
            store_status(&c, query.clone(), vec![]),
            SearchStatus::TOO_COMPLEX,
            "{query:?}"
        );
    }
    // Invalid: an Email property, an unknown class, a date that is not
    // one, two ConversationIds, an empty query.
    for query in [
        and(vec![text("x"), Condition::Unknown(e::To)]),
        and(vec![Condition::Class("Mail".into())]),
        and(vec![received(true, "yesterday")]),
        and(vec![
            Condition::ConversationId("0123456789abcdef0123456789abcdef".into()),
            Condition::ConversationId("0123456789abcdef0123456789abcdef".into()),
        ]),
        vec![],
    ] {
        assert_eq!(
            store_status(&c, query.clone(), vec![]),
            SearchStatus::INVALID_REQUEST,
            "{query:?}"
        );
    }
    // A folder that is not the account's: FolderSync required.
    assert_eq!(
        store_status(&c, and(vec![folder("999"), text("x")]), vec![]),
        SearchStatus::FOLDER_SYNC_REQUIRED
    );
    // Ranges: past the end, or more than 100 entries, Status 12.
    let past = search(&c, and(vec![text("weekly")]), vec![range("50-59")]);
    assert_eq!(past.status, SearchStatus::END_OF_RANGE);
    assert_eq!((past.results.len(), past.total), (0, Some(12)));
    let wide = search(&c, and(vec![text("weekly")]), vec![range("0-199")]);
    assert_eq!(wide.status, SearchStatus::END_OF_RANGE);
    assert_eq!(
        (wide.results.len(), wide.range),
        (12, ResultRange::parse("0-11"))
    );

    // A range that is not m-n with m <= n: the request is invalid.
    let bad_range = Element::new(s::Search).with(
        Element::new(s::Store)
            .with(Element::text(s::Name, STORE_MAILBOX))
            .with(
                Element::new(s::Query)
                    .with(Element::new(s::And).with(Element::text(s::FreeText, "x"))),
            )
            .with(Element::new(s::Options).with(Element::text(s::Range, "5-2"))),
    );
    let r = SearchResponse::from_element(&c.post_element(Command::SEARCH, &bad_range).element())
        .unwrap();
    assert_eq!(r.store.unwrap().status, SearchStatus::INVALID_REQUEST);
    // Not a Search at all.
    let r = c.post_element(Command::SEARCH, &Element::new(s::Store));
    let r = SearchResponse::from_element(&r.element()).unwrap();
    assert_eq!(r.store.unwrap().status, SearchStatus::INVALID_REQUEST);

    // Stores: GAL answers (tests/gal_search.rs tests what it finds);
    // DocumentLibrary is not offered; an unknown name is invalid; a text
    // query is not a mailbox query.
    let mut gal = search_request(vec![], vec![]);
    gal.stores[0].name = STORE_GAL.into();
    gal.stores[0].query = Query::Text("Anat".into());
    assert_eq!(
        search_raw(&c, &gal).store.unwrap().status,
        SearchStatus::SUCCESS
    );
    gal.stores[0].name = "DocumentLibrary".into();
    assert_eq!(
        search_raw(&c, &gal).store.unwrap().status,
        SearchStatus::ACCESS_BLOCKED
    );
    gal.stores[0].name = "Attic".into();
    assert_eq!(
        search_raw(&c, &gal).store.unwrap().status,
        SearchStatus::INVALID_REQUEST
    );
    gal.stores[0].name = STORE_MAILBOX.into();
    assert_eq!(
        search_raw(&c, &gal).store.unwrap().status,
        SearchStatus::INVALID_REQUEST
    );
    // Two Stores: the first is searched.
    let mut two = search_request(and(vec![text("budget")]), vec![]);
    two.stores.push(gal.stores[0].clone());
    assert_eq!(search_raw(&c, &two).store.unwrap().total, Some(1));
}

#[test]
fn results_follow_the_mailbox_and_long_ids_are_the_accounts_own() {
    let (server, c, projects) = mailbox();
    let quarterly_1 = quarterly(1);

    // A LongId from a result fetches the imported bytes, inline and in a
    // multipart response.
    let (long_id, in_folder) = long_id_of(&c, and(vec![text("quarterly 1")]));
    assert_eq!(in_folder, id("1"));
    assert!(long_id.len() <= 256);
    let f = fetch_long_id(&c, &long_id);
    assert_eq!(f.status, ItemOperationsStatus::SUCCESS);
    assert_eq!(f.long_id.as_deref(), Some(long_id.as_str()));
    let body = Email::from_element(f.properties.as_ref().unwrap())
        .unwrap()
        .body
        .unwrap();
    assert_eq!(body.data.unwrap().as_bytes(), quarterly_1.as_slice());
    assert_eq!(fetch_long_id_bytes(&c, &long_id), quarterly_1);

    // A new delivery is found by the next search.
    assert_eq!(found(&c, and(vec![text("invoice")])), Vec::<String>::new());
    import_into(
        &server,
        "alice",
        "Inbox",
        &[mail(
            "billing@example.com",
            "Invoice 42",
            "Fri, 06 Mar 2026 12:00:00 +0000",
            "Amount due: 12 EUR.",
        )],
    );
    assert_eq!(
        found(&c, and(vec![text("invoice")])),
        strings(&["Invoice 42"])
    );

    // A move: the result follows the item to its new folder, and the
    // LongId given before the move still fetches it.
    let ids = server_ids(&c, "1");
    let sid = &ids
        .iter()
        .find(|(s, _)| s == "Quarterly numbers 1")
        .unwrap()
        .1;
    move_item(&c, sid, "1", &projects);
    assert_eq!(
        found(&c, and(vec![folder("1"), text("quarterly")])),
        strings(&["Quarterly numbers 2"])
    );
    let moved = search(
        &c,
        and(vec![text("quarterly 1")]),
        vec![SearchOption::RebuildResults],
    );
    assert_eq!(moved.results[0].collection_id, Some(id(&projects)));
    assert_eq!(moved.results[0].long_id.as_deref(), Some(long_id.as_str()));
    assert_eq!(fetch_long_id_bytes(&c, &long_id), quarterly_1);

    // A delete: gone from new searches and from a kept result set at once,
    // and its LongId is not found.
    let kept_query = || and(vec![text("quarterly")]);
    assert_eq!(
        search(&c, kept_query(), vec![SearchOption::RebuildResults]).total,
        Some(2)
    );
    empty_folder(&c, &projects);
    let kept = search(&c, kept_query(), vec![]);
    assert_eq!(kept.total, Some(1));
    assert_eq!(subjects(&kept), vec!["Quarterly numbers 2".to_owned()]);
    assert_eq!(found(&c, and(vec![text("kickoff")])), Vec::<String>::new());
    assert_eq!(
        fetch_long_id(&c, &long_id).status,
        ItemOperationsStatus::NOT_FOUND
    );

    // Bob: his own mailbox, whose first items have the same numbers as
    // Alice's. Neither ever reaches the other's items by LongId or search.
    server.add_user("bob", "bob@example.com", BOB_PASSWORD);
    let mut bob_messages = vec![mail(
        "carol@example.com",
        "Bob only",
        "Mon, 02 Mar 2026 10:00:00 +0000",
        "A secret for bob: marmalade.",
    )];
    bob_messages.extend(reports());
    import_into(&server, "bob", "Inbox", &bob_messages);
    let (bob, _) = device(server.client("bob", BOB_PASSWORD, "bob-1", ProtocolVersion::V14_1));
    let (bob_long_id, _) = long_id_of(&bob, and(vec![text("marmalade")]));
    assert_eq!(
        found(&bob, and(vec![text("quarterly")])),
        Vec::<String>::new()
    );
    assert_eq!(
        found(&c, and(vec![text("marmalade")])),
        Vec::<String>::new()
    );
    assert_eq!(
        fetch_long_id(&c, &bob_long_id).status,
        ItemOperationsStatus::NOT_FOUND
    );
    let (alice_lunch, _) = long_id_of(&c, and(vec![text("budget")]));
    assert_eq!(
        fetch_long_id(&bob, &alice_lunch).status,
        ItemOperationsStatus::NOT_FOUND
    );
    // The same item numbers, different LongIds.
    let bob_reports: HashSet<String> = search(&bob, and(vec![text("weekly")]), vec![])
        .results
        .iter()
        .map(|r| r.long_id.clone().unwrap())
        .collect();
    let alice_reports: HashSet<String> = search(&c, and(vec![text("weekly")]), vec![])
        .results
        .iter()
        .map(|r| r.long_id.clone().unwrap())
        .collect();
    assert_eq!((bob_reports.len(), alice_reports.len()), (12, 12));
    assert!(bob_reports.is_disjoint(&alice_reports));
    for l in &alice_reports {
        assert_eq!(
            fetch_long_id(&bob, l).status,
            ItemOperationsStatus::NOT_FOUND
        );
    }
    // Garbage is not found either.
    for junk in ["", "1:5", "AAAAAAAAAAAAAAAAAAAAAAAAAAA", &"x".repeat(300)] {
        assert_eq!(
            fetch_long_id(&c, junk).status,
            ItemOperationsStatus::NOT_FOUND
        );
    }

    // A LongId names the source of SmartForward and SmartReply (MS-ASCMD
    // 2.2.3.93.1): alice forwards the lunch message found by search to bob,
    // and the server attaches the original, byte for byte.
    let forward = |client: &EasClient, kind: Kind, client_id: &str, long_id: &str| {
        let mut r = ComposeRequest::new(
            kind,
            client_id,
            b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: Fwd: Lunch plans\r\n\r\nSee below.\r\n"
                .to_vec(),
        );
        r.source = Some(Source {
            long_id: Some(long_id.to_owned()),
            ..Default::default()
        });
        let command = match kind {
            Kind::SmartReply => Command::SMART_REPLY,
            _ => Command::SMART_FORWARD,
        };
        client.post_element(command, &r.to_element())
    };
    let sent = forward(&c, Kind::SmartForward, "fwd-by-long-id", &alice_lunch);
    assert_eq!(sent.status, 200, "{}", sent.text());
    assert!(
        sent.body.is_empty(),
        "{:?}",
        ComposeResponse::from_element(&sent.element())
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let forwarded = loop {
        if let Some((_, sid)) = server_ids(&bob, "1")
            .into_iter()
            .find(|(subject, _)| subject == "Fwd: Lunch plans")
        {
            break sid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the forward never reached bob"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut f = Fetch::new("Mailbox");
    f.collection_id = Some(id("1"));
    f.server_id = Some(forwarded);
    f.options = Some(mime_options());
    let reply = bob.post_element(
        Command::ITEM_OPERATIONS,
        &ItemOperationsRequest {
            operations: vec![Operation::Fetch(Box::new(f))],
        }
        .to_element(),
    );
    let r = ItemOperationsResponse::from_element(&reply.element()).unwrap();
    let Some(OperationResponse::Fetch(f)) = r.responses.into_iter().next() else {
        panic!("no Fetch in the answer")
    };
    let mime = Email::from_element(f.properties.as_ref().unwrap())
        .unwrap()
        .body
        .unwrap()
        .data
        .unwrap();
    let original = lunch();
    assert!(
        mime.as_bytes()
            .windows(original.len())
            .any(|w| w == original.as_slice()),
        "the original is not attached byte for byte:\n{mime}"
    );
    // Bob cannot reply to alice's message through its LongId.
    let refused = forward(&bob, Kind::SmartReply, "reply-by-foreign-id", &alice_lunch);
    assert_eq!(
        ComposeResponse::from_element(&refused.element())
            .unwrap()
            .status,
        ComposeStatus::ITEM_NOT_FOUND
    );
}

// --- Find ---------------------------------------------------------------------

fn find(
    c: &EasClient,
    search_id: &str,
    free_text: &str,
    collection: Option<&str>,
    r: &str,
    deep: bool,
) -> FindResponse {
    let request = FindRequest {
        search_id: search_id.into(),
        criterion: Criterion::Mailbox {
            class: Some("Email".into()),
            collection_id: collection.map(id),
            free_text: free_text.into(),
            options: Some(FindOptions {
                range: ResultRange::parse(r),
                deep_traversal: deep,
                picture: None,
            }),
        },
    };
    let reply = c.post_element(Command::FIND, &request.to_element());
    FindResponse::from_element(&reply.element()).unwrap()
}

fn find_ok(
    c: &EasClient,
    search_id: &str,
    free_text: &str,
    collection: Option<&str>,
    r: &str,
    deep: bool,
) -> (Vec<FindResult>, Option<ResultRange>, Option<u32>) {
    let res = find(c, search_id, free_text, collection, r, deep);
    assert_eq!(res.status, FindStatus::SUCCESS, "{res:?}");
    let response = res.response.unwrap();
    assert_eq!(response.status, FindStatus::SUCCESS, "{response:?}");
    assert_eq!(response.store.as_deref(), Some("Mailbox"));
    (response.results, response.range, response.total)
}

fn find_subjects(results: &[FindResult]) -> Vec<String> {
    sorted(
        results
            .iter()
            .map(|r| r.properties.subject.clone().unwrap())
            .collect(),
    )
}

#[test]
fn find_searches_the_mailbox_by_kql() {
    let (server, _, projects) = mailbox();
    let (c, _) = device(server.alice("find-1", ProtocolVersion::V16_1));

    // Words over every field; the result's properties and ids.
    let (results, range, total) = find_ok(
        &c,
        "11111111-0000-0000-0000-000000000001",
        "presentation",
        None,
        "0-9",
        false,
    );
    assert_eq!((range, total), (ResultRange::parse("0-1"), Some(2)));
    assert_eq!(
        find_subjects(&results),
        strings(&["Presentation", "Re: Presentation"])
    );
    let hit = results
        .iter()
        .find(|r| r.properties.subject.as_deref() == Some("Presentation"))
        .unwrap();
    assert_eq!(hit.class.as_deref(), Some("Email"));
    assert_eq!(hit.collection_id, Some(id("1")));
    let p = &hit.properties;
    assert_eq!(p.from.as_deref(), Some("\"Anat Kerry\" <anat@contoso.com>"));
    assert_eq!(p.display_to.as_deref(), Some("Chris Gray"));
    assert_eq!(p.display_cc.as_deref(), Some("Gray, Dana; ed@example.com"));
    assert_eq!(p.preview.as_deref(), Some("Here is the deck for Monday."));
    assert_eq!(
        (p.has_attachments, p.read, p.is_draft),
        (Some(true), Some(false), Some(false))
    );
    assert_eq!(
        p.date_received.as_ref().unwrap().as_str(),
        "2026-03-04T18:23:41.000Z"
    );
    // Its ServerId fetches it with ItemOperations.
    let server_id = hit.server_id.clone().unwrap();
    let mut f = Fetch::new("Mailbox");
    f.collection_id = Some(id("1"));
    f.server_id = Some(server_id);
    f.options = Some(mime_options());
    let reply = c.post_element(
        Command::ITEM_OPERATIONS,
        &ItemOperationsRequest {
            operations: vec![Operation::Fetch(Box::new(f))],
        }
        .to_element(),
    );
    let r = ItemOperationsResponse::from_element(&reply.element()).unwrap();
    let OperationResponse::Fetch(f) = &r.responses[0] else {
        panic!()
    };
    let body = Email::from_element(f.properties.as_ref().unwrap())
        .unwrap()
        .body
        .unwrap();
    assert_eq!(body.data.unwrap().as_bytes(), presentation().as_slice());

    // KQL property restrictions, phrases and OR.
    let sid = "11111111-0000-0000-0000-000000000002";
    assert_eq!(
        find_subjects(&find_ok(&c, sid, "from:anat", None, "0-9", false).0),
        strings(&["Presentation"])
    );
    assert_eq!(
        find_subjects(&find_ok(&c, sid, "subject:deck", None, "0-9", false).0),
        Vec::<String>::new()
    );
    assert_eq!(
        find_subjects(&find_ok(&c, sid, "body:deck", None, "0-9", false).0),
        strings(&["Presentation", "Re: Presentation"])
    );
    assert_eq!(
        find_subjects(&find_ok(&c, sid, "subject:\"numbers quarterly\"", None, "0-9", false).0),
        strings(&["Quarterly numbers 1", "Quarterly numbers 2"])
    );
    assert_eq!(
        find_subjects(&find_ok(&c, sid, "budget OR kickoff", None, "0-9", false).0),
        strings(&["Lunch plans", "Zephyr kickoff"])
    );
    assert_eq!(
        find_subjects(&find_ok(&c, sid, "to:chris", None, "0-9", false).0),
        strings(&["Presentation"])
    );

    // CollectionId, and DeepTraversal below it.
    assert_eq!(
        find_ok(&c, sid, "zephyr", Some("1"), "0-99", false).2,
        Some(12)
    );
    assert_eq!(
        find_ok(&c, sid, "zephyr", Some("1"), "0-99", true).2,
        Some(13)
    );
    let (in_projects, _, _) = find_ok(&c, sid, "zephyr", Some(&projects), "0-9", false);
    assert_eq!(find_subjects(&in_projects), strings(&["Zephyr kickoff"]));

    // Paging through one SearchId; a new SearchId must start at 0.
    let paged = "22222222-0000-0000-0000-000000000001";
    let (first, r1, t1) = find_ok(&c, paged, "weekly", None, "0-4", false);
    let (second, r2, t2) = find_ok(&c, paged, "weekly", None, "5-9", false);
    let (third, r3, _) = find_ok(&c, paged, "weekly", None, "10-19", false);
    assert_eq!(
        (r1, r2, r3),
        (
            ResultRange::parse("0-4"),
            ResultRange::parse("5-9"),
            ResultRange::parse("10-11")
        )
    );
    assert_eq!((t1, t2), (Some(12), Some(12)));
    let all: HashSet<ServerId> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|r| r.server_id.clone().unwrap())
        .collect();
    assert_eq!(all.len(), 12);
    let fresh = find(
        &c,
        "33333333-0000-0000-0000-000000000001",
        "weekly",
        None,
        "5-9",
        false,
    );
    assert_eq!(fresh.status, FindStatus::SUCCESS);
    assert_eq!(
        fresh.response.unwrap().status,
        FindStatus::RANGE_NOT_FROM_ZERO
    );

    // A delivery is found by the next search.
    import_into(
        &server,
        "alice",
        "Inbox",
        &[mail(
            "billing@example.com",
            "Invoice 7",
            "Fri, 06 Mar 2026 12:00:00 +0000",
            "Amount due.",
        )],
    );
    assert_eq!(
        find_subjects(&find_ok(&c, sid, "invoice", None, "0-9", false).0),
        strings(&["Invoice 7"])
    );

    // What Find refuses.
    assert_eq!(
        find(&c, "", "lunch", None, "0-9", false).status,
        FindStatus::INVALID_REQUEST
    );
    assert_eq!(
        find(&c, sid, "...", None, "0-9", false).status,
        FindStatus::INVALID_REQUEST
    );
    assert_eq!(
        find(&c, sid, "lunch", Some("999"), "0-9", false).status,
        FindStatus::FOLDER_SYNC_REQUIRED
    );
    let mut tasks = FindRequest {
        search_id: sid.into(),
        criterion: Criterion::Mailbox {
            class: Some("Tasks".into()),
            collection_id: None,
            free_text: "lunch".into(),
            options: None,
        },
    };
    let r =
        FindResponse::from_element(&c.post_element(Command::FIND, &tasks.to_element()).element())
            .unwrap();
    assert_eq!(r.status, FindStatus::INVALID_REQUEST);
    tasks.criterion = Criterion::Gal {
        free_text: "anat".into(),
        options: None,
    };
    let r =
        FindResponse::from_element(&c.post_element(Command::FIND, &tasks.to_element()).element())
            .unwrap();
    assert_eq!(r.status, FindStatus::INVALID_REQUEST);
}
