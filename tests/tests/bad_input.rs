//! Malformed input to the real server, and the answer each gets
//! (docs/bad-input.md, "No bad-input coverage"):
//!
//! - per command, an empty body, a document of another command, a document
//!   missing a required element and a value of the wrong type: the HTTP
//!   status and the command's Status, at 14.1 (16.1 for Find) and at 12.1
//!   where the answer differs (MoveItems, GetItemEstimate, ComposeMail);
//! - request lines the server cannot read (no DeviceId or DeviceType, an
//!   unsafe DeviceId, a damaged base64 query, protocol 2.5 or 99.0, a
//!   policy key that is not a number);
//! - wrong methods and paths, and Autodiscover requests it cannot read;
//! - Provision, Settings, Sync and folder requests that are well formed
//!   but ask for what the server refuses.
//!
//! After each refusal the server must still serve a good request.
//!
//! Requests are written in the XML form of MS-ASCMD's examples and sent as
//! WBXML; answers are read by element path, so a test states the exact
//! Status the client gets.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use eas_proto::ProtocolVersion;
use eas_proto::autodiscover::{ErrorCode, Response as AdResponse};
use eas_proto::http::{Command, CommandParams, QueryForm};
use eas_proto::wbxml::{Element, Limits};
use eas_proto::xml;
use eas_tests::client::{EasClient, Reply};
use eas_tests::server::TestServer;
use reqwest::Method;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A document in the XML form, as the WBXML a client posts.
fn wbxml(text: &str) -> Vec<u8> {
    xml::from_xml(text, Limits::default())
        .unwrap_or_else(|e| panic!("test document {text}: {e:?}"))
        .encode()
        .unwrap()
}

/// The element at `path` (tag names, `/`-separated) under the root of a
/// 200 WBXML answer, or `None`.
fn find<'e, 'a>(root: &'e Element<'a>, path: &str) -> Option<&'e Element<'a>> {
    path.split('/').try_fold(root, |el, name| {
        el.elements().find(|c| c.tag.name() == Some(name))
    })
}

/// The text at `path` in a 200 WBXML answer; panics, showing the answer,
/// when it is not there.
fn text_at(reply: &Reply, path: &str) -> String {
    let root = reply.element();
    find(&root, path)
        .and_then(Element::text_content)
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no {path} in {}", xml::to_xml(&root)))
}

/// The root's name and its Status: how a command refuses a whole request.
fn refusal(reply: &Reply) -> (String, String) {
    let root = reply.element();
    let name = root.tag.name().unwrap_or("?").to_owned();
    (name, text_at(reply, "Status"))
}

fn provisioned(server: &TestServer, device: &str, version: ProtocolVersion) -> EasClient {
    let mut c = server.alice(device, version);
    c.provision_fully();
    c
}

/// A new connection still gets full service: OPTIONS, and a Settings
/// request answered with alice's address.
fn still_serves(server: &TestServer, device: &EasClient) {
    let mut fresh = server.alice(&device.device_id, device.version);
    fresh.policy_key = device.policy_key;
    assert_eq!(fresh.options(true).status, 200);
    let info = fresh.user_information();
    assert_eq!(text_at(&info, "Status"), "1");
    assert!(
        xml::to_xml(&info.element()).contains("alice@example.com"),
        "{}",
        xml::to_xml(&info.element())
    );
}

/// Posts `body` as `command` and checks the whole request is refused with
/// this Status under the command's own root element.
fn expect_status(c: &EasClient, command: Command, body: Vec<u8>, root: &str, status: &str) {
    let reply = c.post(command, body);
    assert_eq!(
        refusal(&reply),
        (root.to_owned(), status.to_owned()),
        "{command} answered {}",
        xml::to_xml(&reply.element())
    );
}

/// The hierarchy key of a FolderSync from key 0.
fn folder_sync_key(c: &EasClient) -> String {
    let reply = c.post(
        Command::FOLDER_SYNC,
        wbxml(r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>"#),
    );
    assert_eq!(text_at(&reply, "Status"), "1");
    text_at(&reply, "SyncKey")
}

/// A FolderSync document: a valid request for the wrong command.
const A_FOLDER_SYNC: &str =
    r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>"#;

#[test]
fn folder_commands_answer_malformed_bodies_with_status_10() {
    let server = TestServer::with_alice();
    let c = provisioned(&server, "BADFOLD1", ProtocolVersion::V14_1);
    let key = folder_sync_key(&c);

    // FolderSync: empty; a FolderCreate document; no SyncKey.
    for body in [
        Vec::new(),
        wbxml(&format!(
            r#"<FolderCreate xmlns="FolderHierarchy:"><SyncKey>{key}</SyncKey><ParentId>0</ParentId><DisplayName>x</DisplayName><Type>1</Type></FolderCreate>"#
        )),
        wbxml(r#"<FolderSync xmlns="FolderHierarchy:"/>"#),
    ] {
        expect_status(&c, Command::FOLDER_SYNC, body, "FolderSync", "10");
    }
    still_serves(&server, &c);

    // FolderCreate: empty; a FolderSync; no DisplayName; Type not a number.
    for body in [
        Vec::new(),
        wbxml(A_FOLDER_SYNC),
        wbxml(&format!(
            r#"<FolderCreate xmlns="FolderHierarchy:"><SyncKey>{key}</SyncKey><ParentId>0</ParentId><Type>1</Type></FolderCreate>"#
        )),
        wbxml(&format!(
            r#"<FolderCreate xmlns="FolderHierarchy:"><SyncKey>{key}</SyncKey><ParentId>0</ParentId><DisplayName>x</DisplayName><Type>mail</Type></FolderCreate>"#
        )),
    ] {
        expect_status(&c, Command::FOLDER_CREATE, body, "FolderCreate", "10");
    }
    still_serves(&server, &c);

    // FolderUpdate: empty; a FolderSync; no ServerId.
    for body in [
        Vec::new(),
        wbxml(A_FOLDER_SYNC),
        wbxml(&format!(
            r#"<FolderUpdate xmlns="FolderHierarchy:"><SyncKey>{key}</SyncKey><ParentId>0</ParentId><DisplayName>x</DisplayName></FolderUpdate>"#
        )),
    ] {
        expect_status(&c, Command::FOLDER_UPDATE, body, "FolderUpdate", "10");
    }
    still_serves(&server, &c);

    // FolderDelete: empty; a FolderSync; no ServerId.
    for body in [
        Vec::new(),
        wbxml(A_FOLDER_SYNC),
        wbxml(&format!(
            r#"<FolderDelete xmlns="FolderHierarchy:"><SyncKey>{key}</SyncKey></FolderDelete>"#
        )),
    ] {
        expect_status(&c, Command::FOLDER_DELETE, body, "FolderDelete", "10");
    }
    still_serves(&server, &c);

    // None of it moved the hierarchy key: the key from before still works.
    let created = c.post(
        Command::FOLDER_CREATE,
        wbxml(&format!(
            r#"<FolderCreate xmlns="FolderHierarchy:"><SyncKey>{key}</SyncKey><ParentId>0</ParentId><DisplayName>Kept</DisplayName><Type>12</Type></FolderCreate>"#
        )),
    );
    assert_eq!(text_at(&created, "Status"), "1");
}

#[test]
fn sync_and_ping_answer_malformed_bodies_with_status_4() {
    let server = TestServer::with_alice();
    for (device, version) in [
        ("BADSYNC14", ProtocolVersion::V14_1),
        ("BADSYNC12", ProtocolVersion::V12_1),
    ] {
        let c = provisioned(&server, device, version);
        folder_sync_key(&c);
        // Sync: a FolderSync document; a Collection without its SyncKey;
        // WindowSize not a number. (Empty is Status 13, server_sync.rs.)
        for body in [
            wbxml(A_FOLDER_SYNC),
            wbxml(
                r#"<Sync xmlns="AirSync:"><Collections><Collection><CollectionId>1</CollectionId></Collection></Collections></Sync>"#,
            ),
            wbxml(
                r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>1</CollectionId></Collection></Collections><WindowSize>many</WindowSize></Sync>"#,
            ),
        ] {
            expect_status(&c, Command::SYNC, body, "Sync", "4");
        }
        still_serves(&server, &c);

        // Ping: a FolderSync document; a Folder without its Id;
        // HeartbeatInterval not a number. (Empty is Status 3, server_ping.rs.)
        for body in [
            wbxml(A_FOLDER_SYNC),
            wbxml(
                r#"<Ping xmlns="Ping:"><HeartbeatInterval>60</HeartbeatInterval><Folders><Folder><Class>Email</Class></Folder></Folders></Ping>"#,
            ),
            wbxml(
                r#"<Ping xmlns="Ping:"><HeartbeatInterval>soon</HeartbeatInterval><Folders><Folder><Id>1</Id><Class>Email</Class></Folder></Folders></Ping>"#,
            ),
        ] {
            expect_status(&c, Command::PING, body, "Ping", "4");
        }
        still_serves(&server, &c);
    }
}

/// MoveItems and GetItemEstimate documents that are wrong in each way.
fn bad_move_items() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        wbxml(A_FOLDER_SYNC),
        // No DstFldId.
        wbxml(
            r#"<MoveItems xmlns="Move:"><Move><SrcMsgId>1:1</SrcMsgId><SrcFldId>1</SrcFldId></Move></MoveItems>"#,
        ),
    ]
}

fn bad_estimates() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        wbxml(A_FOLDER_SYNC),
        // A Collection without its CollectionId.
        wbxml(
            r#"<GetItemEstimate xmlns="GetItemEstimate:"><Collections><Collection><airsync:SyncKey xmlns:airsync="AirSync:">0</airsync:SyncKey></Collection></Collections></GetItemEstimate>"#,
        ),
    ]
}

#[test]
fn move_items_and_get_item_estimate_answer_103_from_14_and_400_in_12() {
    let server = TestServer::with_alice();
    let c14 = provisioned(&server, "BADMOVE14", ProtocolVersion::V14_1);
    folder_sync_key(&c14);
    for body in bad_move_items() {
        // The common status InvalidXML (MS-ASCMD 2.2.2), on the root.
        expect_status(&c14, Command::MOVE_ITEMS, body, "MoveItems", "103");
    }
    for body in bad_estimates() {
        expect_status(
            &c14,
            Command::GET_ITEM_ESTIMATE,
            body,
            "GetItemEstimate",
            "103",
        );
    }
    still_serves(&server, &c14);

    let c12 = provisioned(&server, "BADMOVE12", ProtocolVersion::V12_1);
    folder_sync_key(&c12);
    for body in bad_move_items() {
        let reply = c12.post(Command::MOVE_ITEMS, body);
        assert_eq!(reply.status, 400, "{}", reply.text());
    }
    for body in bad_estimates() {
        let reply = c12.post(Command::GET_ITEM_ESTIMATE, body);
        assert_eq!(reply.status, 400, "{}", reply.text());
    }
    still_serves(&server, &c12);
}

const WBXML_POLICY: &str = "MS-EAS-Provisioning-WBXML";

fn policy_request(policy_type: &str, ack: Option<(&str, &str)>) -> Vec<u8> {
    let ack = ack.map_or(String::new(), |(key, status)| {
        format!("<PolicyKey>{key}</PolicyKey><Status>{status}</Status>")
    });
    wbxml(&format!(
        r#"<Provision xmlns="Provision:"><Policies><Policy><PolicyType>{policy_type}</PolicyType>{ack}</Policy></Policies></Provision>"#
    ))
}

#[test]
fn provision_refuses_bad_documents_policy_types_partial_and_stray_acknowledgements() {
    let server = TestServer::with_alice();
    let mut c = provisioned(&server, "BADPROV1", ProtocolVersion::V14_1);

    // Not a Provision document; an Acknowledge whose Status is not a number.
    for body in [
        wbxml(A_FOLDER_SYNC),
        policy_request(WBXML_POLICY, Some(("1", "yes"))),
    ] {
        expect_status(&c, Command::PROVISION, body, "Provision", "2");
    }
    still_serves(&server, &c);

    // A policy type this server does not hand out: the command succeeds,
    // the Policy says UnknownPolicyType (MS-ASPROV 2.2.2.54.2) and
    // carries no key.
    let unknown = c.post(
        Command::PROVISION,
        policy_request("MS-WAP-Provisioning-XML", None),
    );
    assert_eq!(text_at(&unknown, "Status"), "1");
    assert_eq!(text_at(&unknown, "Policies/Policy/Status"), "3");
    assert!(find(&unknown.element(), "Policies/Policy/PolicyKey").is_none());
    still_serves(&server, &c);

    // A wipe acknowledgement when no wipe was asked for: Status 2.
    let stray = c.post(
        Command::PROVISION,
        wbxml(r#"<Provision xmlns="Provision:"><RemoteWipe><Status>1</Status></RemoteWipe></Provision>"#),
    );
    assert_eq!(refusal(&stray), ("Provision".to_owned(), "2".to_owned()));
    still_serves(&server, &c);

    // The policy applied only partly (Status 2), full compliance being
    // required: Status 139 DeviceNotFullyProvisionable, no final key, and
    // the device keeps the key it had.
    let phase_one = c.post(Command::PROVISION, policy_request(WBXML_POLICY, None));
    let temporary = text_at(&phase_one, "Policies/Policy/PolicyKey");
    let partial = c.post(
        Command::PROVISION,
        policy_request(WBXML_POLICY, Some((&temporary, "2"))),
    );
    assert_eq!(text_at(&partial, "Status"), "139");
    assert!(find(&partial.element(), "Policies/Policy/PolicyKey").is_none());
    still_serves(&server, &c);
    // ... and may provision again.
    c.provision_fully();
    still_serves(&server, &c);
}

#[test]
fn settings_refuses_bad_out_of_office_and_a_device_password_the_policy_denies() {
    let server = TestServer::with_alice();
    let c = provisioned(&server, "BADSET1", ProtocolVersion::V14_1);

    // Not a Settings document: Status 2.
    expect_status(&c, Command::SETTINGS, wbxml(A_FOLDER_SYNC), "Settings", "2");
    still_serves(&server, &c);

    // Oof Set: time-based without a window; EndTime before StartTime;
    // OofState 7. Each Oof Status 5 InvalidArguments, the command's 1.
    for set in [
        "<OofState>2</OofState>",
        "<OofState>2</OofState><StartTime>2026-12-02T00:00:00.000Z</StartTime><EndTime>2026-12-01T00:00:00.000Z</EndTime>",
        "<OofState>7</OofState>",
    ] {
        let reply = c.post(
            Command::SETTINGS,
            wbxml(&format!(
                r#"<Settings xmlns="Settings:"><Oof><Set>{set}</Set></Oof></Settings>"#
            )),
        );
        assert_eq!(text_at(&reply, "Status"), "1", "{set}");
        assert_eq!(text_at(&reply, "Oof/Status"), "5", "{set}");
    }
    // Nothing of it was kept: out of office is still off.
    let get = c.post(
        Command::SETTINGS,
        wbxml(r#"<Settings xmlns="Settings:"><Oof><Get><BodyType>Text</BodyType></Get></Oof></Settings>"#),
    );
    assert_eq!(text_at(&get, "Oof/Status"), "1");
    assert_eq!(text_at(&get, "Oof/Get/OofState"), "0");
    still_serves(&server, &c);

    // The default policy does not enable password recovery: DevicePassword
    // Status 7 DeniedByPolicy.
    let password = c.post(
        Command::SETTINGS,
        wbxml(r#"<Settings xmlns="Settings:"><DevicePassword><Set><Password>1234</Password></Set></DevicePassword></Settings>"#),
    );
    assert_eq!(text_at(&password, "Status"), "1");
    assert_eq!(text_at(&password, "DevicePassword/Status"), "7");
    still_serves(&server, &c);
}

/// A Find of the Inbox for `text`, with these Options.
fn find_request(search_id: &str, options: &str) -> Vec<u8> {
    wbxml(&format!(
        r#"<Find xmlns="Find:" xmlns:airsync="AirSync:"><SearchId>{search_id}</SearchId><ExecuteSearch><MailBoxSearchCriterion><Query><airsync:Class>Email</airsync:Class><airsync:CollectionId>1</airsync:CollectionId><FreeText>hello</FreeText></Query><Options>{options}</Options></MailBoxSearchCriterion></ExecuteSearch></Find>"#
    ))
}

#[test]
fn find_and_resolve_recipients_answer_malformed_bodies_with_their_protocol_error() {
    let server = TestServer::with_alice();
    let c = provisioned(&server, "BADFIND1", ProtocolVersion::V16_1);
    folder_sync_key(&c);
    let search_id = "5E3D2A7C-0B7E-4B8A-9D7B-3C1B2E0F4A11";

    // Find: empty; a FolderSync; no ExecuteSearch; Range not a range.
    // Status 2 InvalidRequest.
    for body in [
        Vec::new(),
        wbxml(A_FOLDER_SYNC),
        wbxml(&format!(
            r#"<Find xmlns="Find:"><SearchId>{search_id}</SearchId></Find>"#
        )),
        find_request(search_id, "<Range>all</Range>"),
    ] {
        expect_status(&c, Command::FIND, body, "Find", "2");
    }
    // The same request with a proper range is answered.
    let good = c.post(Command::FIND, find_request(search_id, "<Range>0-9</Range>"));
    assert_eq!(text_at(&good, "Status"), "1");
    still_serves(&server, &c);

    // ResolveRecipients: empty; a FolderSync; no To; MaxCertificates not a
    // number. Status 5 ProtocolError.
    for body in [
        Vec::new(),
        wbxml(A_FOLDER_SYNC),
        wbxml(
            r#"<ResolveRecipients xmlns="ResolveRecipients:"><Options><MaxAmbiguousRecipients>5</MaxAmbiguousRecipients></Options></ResolveRecipients>"#,
        ),
        wbxml(
            r#"<ResolveRecipients xmlns="ResolveRecipients:"><To>alice@example.com</To><Options><CertificateRetrieval>2</CertificateRetrieval><MaxCertificates>ten</MaxCertificates></Options></ResolveRecipients>"#,
        ),
    ] {
        expect_status(
            &c,
            Command::RESOLVE_RECIPIENTS,
            body,
            "ResolveRecipients",
            "5",
        );
    }
    still_serves(&server, &c);
}

/// A message as the base64 that the XML form of `Mime` (opaque) holds.
fn mime_base64() -> String {
    BASE64.encode(b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nhello\r\n")
}

fn compose(root: &str, inner: &str) -> Vec<u8> {
    let mime = mime_base64();
    wbxml(&format!(
        r#"<{root} xmlns="ComposeMail:"><ClientId>c-{root}</ClientId>{inner}<Mime>{mime}</Mime></{root}>"#
    ))
}

#[test]
fn compose_mail_answers_bad_documents_and_ids_by_version() {
    let server = TestServer::with_alice();
    let c = provisioned(&server, "BADMAIL14", ProtocolVersion::V14_1);
    folder_sync_key(&c);

    // No body at all: Status 101 InvalidContent.
    for command in [
        Command::SEND_MAIL,
        Command::SMART_REPLY,
        Command::SMART_FORWARD,
    ] {
        let name = command.name().unwrap();
        expect_status(&c, command, Vec::new(), name, "101");
    }
    still_serves(&server, &c);

    // A FolderSync; a SmartReply sent as SendMail; a SendMail without its
    // Mime: Status 103 InvalidXML, under the command's root.
    let source = "<Source><FolderId>1</FolderId><ItemId>1:1</ItemId></Source>";
    for body in [
        wbxml(A_FOLDER_SYNC),
        compose("SmartReply", source),
        wbxml(
            r#"<SendMail xmlns="ComposeMail:"><ClientId>c-nomime</ClientId><SaveInSentItems/></SendMail>"#,
        ),
    ] {
        expect_status(&c, Command::SEND_MAIL, body, "SendMail", "103");
    }
    still_serves(&server, &c);

    // SmartReply without Source; SmartForward naming both ItemId and
    // LongId; SmartReply naming neither: Status 105 InvalidCombinationOfIds.
    for (command, body) in [
        (Command::SMART_REPLY, compose("SmartReply", "")),
        (
            Command::SMART_FORWARD,
            compose(
                "SmartForward",
                "<Source><FolderId>1</FolderId><ItemId>1:1</ItemId><LongId>RgAAAAAaa</LongId></Source>",
            ),
        ),
        (
            Command::SMART_REPLY,
            compose("SmartReply", "<Source><FolderId>1</FolderId></Source>"),
        ),
    ] {
        let name = command.name().unwrap();
        expect_status(&c, command, body, name, "105");
    }
    still_serves(&server, &c);

    // 12.1 has no response document: the same refusals are HTTP 400.
    let c12 = provisioned(&server, "BADMAIL12", ProtocolVersion::V12_1);
    let empty = c12.post(Command::SEND_MAIL, Vec::new());
    assert_eq!(empty.status, 400, "{}", empty.text());
    let message = b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: re\r\n\r\nhi\r\n";
    for command in [Command::SMART_REPLY, Command::SMART_FORWARD] {
        // No ItemId or LongId in the query.
        let reply = c12.post_rfc822(command, CommandParams::default(), message);
        assert_eq!(reply.status, 400, "{command}: {}", reply.text());
        // Both.
        let both = CommandParams {
            item_id: Some("1:1".into()),
            long_id: Some("RgAAAAAaa".into()),
            collection_id: Some("1".into()),
            ..Default::default()
        };
        let reply = c12.post_rfc822(command, both, message);
        assert_eq!(reply.status, 400, "{command}: {}", reply.text());
    }
    still_serves(&server, &c12);
}

/// POSTs a valid Settings body under this query and these headers.
fn post_query(c: &EasClient, query: &str, headers: &[(String, String)]) -> Reply {
    let body = wbxml(
        r#"<Settings xmlns="Settings:"><UserInformation><Get/></UserInformation></Settings>"#,
    );
    c.send(
        Method::POST,
        &format!("/Microsoft-Server-ActiveSync?{query}"),
        headers,
        body,
        true,
    )
}

/// `c`'s headers with `name` set to `value` (or removed, for `None`).
fn with_header(c: &EasClient, name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = c
        .headers()
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .collect();
    if let Some(v) = value {
        headers.push((name.to_owned(), v.to_owned()));
    }
    headers
}

fn assert_400(reply: &Reply, says: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(
        reply.text().contains(says),
        "expected {says:?} in {:?}",
        reply.text()
    );
}

#[test]
fn request_lines_the_server_cannot_read_are_400() {
    let server = TestServer::with_alice();
    let c = provisioned(&server, "BADLINE1", ProtocolVersion::V14_1);
    let headers = c.headers();

    // Missing DeviceId, missing DeviceType.
    let reply = post_query(&c, "Cmd=Settings&User=alice&DeviceType=TestPhone", &headers);
    assert_400(&reply, "the query has no DeviceId parameter");
    let reply = post_query(&c, "Cmd=Settings&User=alice&DeviceId=BADLINE1", &headers);
    assert_400(&reply, "the query has no DeviceType parameter");
    still_serves(&server, &c);

    // DeviceIds that would be paths, or are empty (MS-ASHTTP 2.2.1.1.1.2.3
    // allows letters and digits; eas-proto's DeviceId refuses separators).
    for id in ["..%2F..%2Fetc", "a%2Fb", "a%5Cb", "..", ""] {
        let reply = post_query(
            &c,
            &format!("Cmd=Settings&User=alice&DeviceId={id}&DeviceType=TestPhone"),
            &headers,
        );
        assert_400(&reply, "DeviceId");
    }
    // None of them was recorded as a device.
    let devices = server.cli_ok(&["device", "list", "alice"], "");
    assert!(
        !devices.contains("etc") && !devices.contains("a/b"),
        "{devices}"
    );
    still_serves(&server, &c);

    // The base64 form: not base64 at all; a valid query cut short.
    let mut b64 = server.alice("BADLINE1", ProtocolVersion::V14_1);
    b64.form = QueryForm::Base64;
    b64.policy_key = c.policy_key;
    let whole = BASE64.decode(b64.query(Command::SETTINGS)).unwrap();
    let cut = BASE64.encode(&whole[..whole.len() / 2]);
    let reply = post_query(&b64, "!!!!", &b64.headers());
    assert_400(&reply, "neither plain text nor valid base64");
    let reply = post_query(&b64, &cut, &b64.headers());
    assert_400(&reply, "the base64 query ends inside");
    // The whole query is served.
    let reply = post_query(&b64, &BASE64.encode(&whole), &b64.headers());
    assert_eq!(text_at(&reply, "Status"), "1");
    still_serves(&server, &c);

    // MS-ASProtocolVersion 2.5 (not spoken) and 99.0 (no such version):
    // 400 naming the versions spoken.
    let query = c.query(Command::SETTINGS);
    let reply = post_query(
        &c,
        &query,
        &with_header(&c, "MS-ASProtocolVersion", Some("2.5")),
    );
    assert_400(&reply, "protocol 2.5 is not supported");
    assert_400(&reply, "12.0,12.1,14.0,14.1,16.0,16.1");
    let reply = post_query(
        &c,
        &query,
        &with_header(&c, "MS-ASProtocolVersion", Some("99.0")),
    );
    assert_400(&reply, "unsupported MS-ASProtocolVersion");
    assert_400(&reply, "12.0,12.1,14.0,14.1,16.0,16.1");
    still_serves(&server, &c);

    // X-MS-PolicyKey that is not a u32.
    for key in ["abc", "-1", "4294967296", ""] {
        let reply = post_query(&c, &query, &with_header(&c, "X-MS-PolicyKey", Some(key)));
        assert_400(&reply, "X-MS-PolicyKey is not a number");
    }
    still_serves(&server, &c);
}

#[test]
fn wrong_methods_paths_commands_and_unreadable_autodiscover() {
    let server = TestServer::with_alice_and_config("[limits]\nmax_body_bytes = 4096\n");
    let c = provisioned(&server, "BADHTTP1", ProtocolVersion::V14_1);

    // A command of the protocol this server does not implement: 501.
    let meeting = c.post(
        Command::MEETING_RESPONSE,
        wbxml(r#"<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>1</UserResponse><CollectionId>1</CollectionId><RequestId>1:1</RequestId></Request></MeetingResponse>"#),
    );
    assert_eq!(meeting.status, 501, "{}", meeting.text());
    still_serves(&server, &c);

    // GET (and PUT) on ActiveSync: 405 with the methods it takes.
    for method in [Method::GET, Method::PUT] {
        let reply = c.send(
            method.clone(),
            &format!(
                "/Microsoft-Server-ActiveSync?{}",
                c.query(Command::SETTINGS)
            ),
            &c.headers(),
            Vec::new(),
            true,
        );
        assert_eq!(reply.status, 405, "{method}: {}", reply.text());
        assert_eq!(reply.header("allow"), Some("OPTIONS,POST"), "{method}");
    }
    still_serves(&server, &c);

    // A path the server does not serve: 404, with or without credentials.
    for (path, auth) in [
        ("/", true),
        ("/Microsoft-Server-ActiveSync/other", true),
        ("/ews/exchange.asmx", false),
    ] {
        let reply = c.send(Method::POST, path, &c.headers(), Vec::new(), auth);
        assert_eq!(reply.status, 404, "{path}: {}", reply.text());
    }
    still_serves(&server, &c);

    // Autodiscover takes POST only.
    let reply = c.send(
        Method::GET,
        "/autodiscover/autodiscover.xml",
        &[],
        Vec::new(),
        true,
    );
    assert_eq!(reply.status, 405, "{}", reply.text());
    assert_eq!(reply.header("allow"), Some("POST"));

    // Requests it cannot read: 200 with the error document, code 600.
    let xml_header = [(
        "Content-Type".to_owned(),
        "text/xml; charset=utf-8".to_owned(),
    )];
    for body in [
        &b""[..],
        b"<Autodiscover",
        b"<NotAutodiscover/>",
        b"\xff\xfe not utf-8",
        br#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"><Request><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>"#,
    ] {
        let reply = c.send(
            Method::POST,
            "/autodiscover/autodiscover.xml",
            &xml_header,
            body.to_vec(),
            true,
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        match AdResponse::parse(&reply.body) {
            Ok(AdResponse::Error(e)) => assert_eq!(e.code, ErrorCode::INVALID_REQUEST),
            other => panic!("expected error 600 for {body:?}, got {other:?}"),
        }
    }
    // A body over max_body_bytes (4096): 413.
    let reply = c.send(
        Method::POST,
        "/autodiscover/autodiscover.xml",
        &xml_header,
        vec![b' '; 5000],
        true,
    );
    assert_eq!(reply.status, 413, "{}", reply.text());
    still_serves(&server, &c);
}

/// A Sync of the Inbox (CollectionId 1) under `key`, with `inner` inside
/// the Collection and `outer` after Collections.
fn inbox_sync(key: &str, inner: &str, outer: &str) -> Vec<u8> {
    wbxml(&format!(
        r#"<Sync xmlns="AirSync:" xmlns:email="Email:"><Collections><Collection><SyncKey>{key}</SyncKey><CollectionId>1</CollectionId>{inner}</Collection></Collections>{outer}</Sync>"#
    ))
}

/// Imports one message into alice's Inbox through the running server.
fn import_one(server: &TestServer) {
    let dir = eas_tests::server::TempDir::new("bad-input-import");
    std::fs::write(
        dir.path().join("0.eml"),
        "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: one\r\nMessage-ID: <one@example.com>\r\n\r\nhello\r\n",
    )
    .unwrap();
    server.cli_ok(
        &["import", "--user", "alice", dir.path().to_str().unwrap()],
        "",
    );
}

#[test]
fn sync_refuses_bad_waits_client_adds_and_unreadable_changes() {
    let server = TestServer::with_alice();
    import_one(&server);
    let c = provisioned(&server, "BADSYNC2", ProtocolVersion::V14_1);
    folder_sync_key(&c);
    let first = c.post(Command::SYNC, inbox_sync("0", "", ""));
    assert_eq!(text_at(&first, "Collections/Collection/Status"), "1");
    let key = text_at(&first, "Collections/Collection/SyncKey");

    // Wait outside 1..=59 minutes: Status 14 InvalidWaitOrHeartbeat, Limit
    // the nearest bound (MS-ASCMD 2.2.3.90).
    for (wait, limit) in [("0", "1"), ("60", "59"), ("1000", "59")] {
        let reply = c.post(
            Command::SYNC,
            inbox_sync(&key, "", &format!("<Wait>{wait}</Wait>")),
        );
        assert_eq!(text_at(&reply, "Status"), "14", "Wait {wait}");
        assert_eq!(text_at(&reply, "Limit"), limit, "Wait {wait}");
    }
    // Wait and HeartbeatInterval together: Status 4 ProtocolError.
    let both = c.post(
        Command::SYNC,
        inbox_sync(
            &key,
            "",
            "<Wait>5</Wait><HeartbeatInterval>300</HeartbeatInterval>",
        ),
    );
    assert_eq!(refusal(&both), ("Sync".to_owned(), "4".to_owned()));
    still_serves(&server, &c);

    // None of them spent the key: it still fetches the imported message.
    let fetched = c.post(Command::SYNC, inbox_sync(&key, "", ""));
    assert_eq!(text_at(&fetched, "Collections/Collection/Status"), "1");
    let server_id = text_at(&fetched, "Collections/Collection/Commands/Add/ServerId");
    let key = text_at(&fetched, "Collections/Collection/SyncKey");

    // Two Options for one class: the collection's Status 4.
    let options = "<Options><FilterType>0</FilterType></Options>";
    let twice = c.post(
        Command::SYNC,
        inbox_sync(&key, &format!("{options}{options}"), ""),
    );
    assert_eq!(text_at(&twice, "Collections/Collection/Status"), "4");

    // An Add of Email outside Drafts (here the Inbox): clients do not
    // create mail; the Add's Status 9 CannotComplete, no ServerId.
    let add = c.post(
        Command::SYNC,
        inbox_sync(
            &key,
            "<Commands><Add><ClientId>new-1</ClientId><ApplicationData><email:Subject>mine</email:Subject></ApplicationData></Add></Commands>",
            "",
        ),
    );
    assert_eq!(text_at(&add, "Collections/Collection/Status"), "1");
    assert_eq!(
        text_at(&add, "Collections/Collection/Responses/Add/ClientId"),
        "new-1"
    );
    assert_eq!(
        text_at(&add, "Collections/Collection/Responses/Add/Status"),
        "9"
    );
    assert!(
        find(
            &add.element(),
            "Collections/Collection/Responses/Add/ServerId"
        )
        .is_none()
    );
    let key = text_at(&add, "Collections/Collection/SyncKey");

    // A Change whose Read is not 0 or 1: the Change's Status 6
    // ConversionError; the message stays unread.
    let change = c.post(
        Command::SYNC,
        inbox_sync(
            &key,
            &format!("<Commands><Change><ServerId>{server_id}</ServerId><ApplicationData><email:Read>maybe</email:Read></ApplicationData></Change></Commands>"),
            "",
        ),
    );
    assert_eq!(text_at(&change, "Collections/Collection/Status"), "1");
    assert_eq!(
        text_at(&change, "Collections/Collection/Responses/Change/ServerId"),
        server_id
    );
    assert_eq!(
        text_at(&change, "Collections/Collection/Responses/Change/Status"),
        "6"
    );
    still_serves(&server, &c);

    // Another device sees the message once, still unread, and nothing else.
    let other = provisioned(&server, "BADSYNC3", ProtocolVersion::V14_1);
    folder_sync_key(&other);
    let first = other.post(Command::SYNC, inbox_sync("0", "", ""));
    let key = text_at(&first, "Collections/Collection/SyncKey");
    let seen = other.post(Command::SYNC, inbox_sync(&key, "", ""));
    let root = seen.element();
    let commands = find(&root, "Collections/Collection/Commands").expect("Commands");
    assert_eq!(commands.elements().count(), 1, "{}", xml::to_xml(&root));
    assert_eq!(
        text_at(
            &seen,
            "Collections/Collection/Commands/Add/ApplicationData/Read"
        ),
        "0"
    );
}

/// Creates a mail folder under the root; returns its ServerId and the new
/// hierarchy key.
fn create_folder(c: &EasClient, key: &str, name: &str) -> (String, String) {
    let reply = c.post(
        Command::FOLDER_CREATE,
        wbxml(&format!(
            r#"<FolderCreate xmlns="FolderHierarchy:"><SyncKey>{key}</SyncKey><ParentId>0</ParentId><DisplayName>{name}</DisplayName><Type>12</Type></FolderCreate>"#
        )),
    );
    assert_eq!(text_at(&reply, "Status"), "1", "creating {name}");
    (text_at(&reply, "ServerId"), text_at(&reply, "SyncKey"))
}

fn folder_update(key: &str, server_id: &str, parent: &str, name: &str) -> Vec<u8> {
    wbxml(&format!(
        r#"<FolderUpdate xmlns="FolderHierarchy:"><SyncKey>{key}</SyncKey><ServerId>{server_id}</ServerId><ParentId>{parent}</ParentId><DisplayName>{name}</DisplayName></FolderUpdate>"#
    ))
}

fn folder_delete(key: &str, server_id: &str) -> Vec<u8> {
    wbxml(&format!(
        r#"<FolderDelete xmlns="FolderHierarchy:"><SyncKey>{key}</SyncKey><ServerId>{server_id}</ServerId></FolderDelete>"#
    ))
}

#[test]
fn folder_commands_refuse_stale_keys_bad_parents_names_and_types() {
    let server = TestServer::with_alice();
    let c = provisioned(&server, "BADFOLD2", ProtocolVersion::V14_1);
    let key0 = folder_sync_key(&c);
    let (_a, key1) = create_folder(&c, &key0, "A");
    let (b, key2) = create_folder(&c, &key1, "B");

    // The key before the last change: Status 9 InvalidSyncKey.
    expect_status(
        &c,
        Command::FOLDER_UPDATE,
        folder_update(&key1, &b, "0", "B2"),
        "FolderUpdate",
        "9",
    );
    expect_status(
        &c,
        Command::FOLDER_DELETE,
        folder_delete(&key1, &b),
        "FolderDelete",
        "9",
    );
    // An unknown parent: 5 ParentNotFound; a blank name: 10; a name taken
    // under that parent: 2.
    for (parent, name, status) in [("999", "B2", "5"), ("0", "   ", "10"), ("0", "A", "2")] {
        let reply = c.post(
            Command::FOLDER_UPDATE,
            folder_update(&key2, &b, parent, name),
        );
        assert_eq!(
            refusal(&reply),
            ("FolderUpdate".to_owned(), status.to_owned()),
            "parent {parent}, name {name:?}"
        );
    }
    // FolderCreate of a type that is not a user folder type (2, the
    // Inbox), and of a blank name: 10 MalformedRequest.
    for (folder_type, name) in [("2", "Inbox2"), ("12", "   ")] {
        let reply = c.post(
            Command::FOLDER_CREATE,
            wbxml(&format!(
                r#"<FolderCreate xmlns="FolderHierarchy:"><SyncKey>{key2}</SyncKey><ParentId>0</ParentId><DisplayName>{name}</DisplayName><Type>{folder_type}</Type></FolderCreate>"#
            )),
        );
        assert_eq!(
            refusal(&reply),
            ("FolderCreate".to_owned(), "10".to_owned()),
            "type {folder_type}, name {name:?}"
        );
    }
    still_serves(&server, &c);

    // No refusal moved the key: it deletes B now.
    let deleted = c.post(Command::FOLDER_DELETE, folder_delete(&key2, &b));
    assert_eq!(text_at(&deleted, "Status"), "1");
}

/// `eas-server ARGS` against the running server's data directory: its exit
/// status and what it said on stderr.
fn cli_refused(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args, "");
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} succeeded: {said}");
    said
}

#[test]
fn the_admin_cli_refuses_bad_certificate_and_ldif_files_and_changes_nothing() {
    let server = TestServer::with_alice();
    let dir = eas_tests::server::TempDir::new("bad-admin-files");
    let path = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let junk = path(
        "junk.pem",
        b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
    );
    let said = cli_refused(&server, &["cert", "publish", "alice", &junk]);
    assert!(said.contains("the file holds no certificate"), "{said}");
    let empty = path("empty.der", b"");
    let said = cli_refused(&server, &["cert", "publish", "alice", &empty]);
    assert!(said.contains("the file holds no certificate"), "{said}");
    let good = path("alice.pem", &eas_tests::pki::file("alice.pem"));
    let said = cli_refused(&server, &["cert", "publish", "nobody", &good]);
    assert!(
        said.contains("there is no user or directory entry nobody"),
        "{said}"
    );

    // LDIF: an attribute before its dn, a URL reference (which would read
    // a file on the server), bad base64: refused with the line named.
    for (ldif, line) in [
        (
            "cn: x\ndn: cn=x,dc=example\nmail: x@example.com\n",
            "line 1",
        ),
        (
            "dn: cn=x,dc=example\nmail: x@example.com\njpegPhoto:< file:///etc/passwd\n",
            "line 3",
        ),
        (
            "dn: cn=x,dc=example\nmail: x@example.com\nmail:: !!\n",
            "line 3",
        ),
    ] {
        let file = path("bad.ldif", ldif.as_bytes());
        let said = cli_refused(&server, &["directory", "import", &file]);
        assert!(said.contains(line), "{ldif:?}: {said}");
    }

    // Nothing was published or imported: the good certificate is new to
    // alice, and x@example.com is nobody.
    let said = server.cli_ok(&["cert", "publish", "alice", &good], "");
    assert!(said.contains("published for alice"), "{said}");
    let said = cli_refused(&server, &["cert", "publish", "x@example.com", &good]);
    assert!(
        said.contains("there is no user or directory entry x@example.com"),
        "{said}"
    );
}

#[test]
fn a_policy_changed_since_the_device_accepted_it_is_143_or_449_until_it_provisions_again() {
    let mut server = TestServer::with_config("");
    server.add_user(
        "alice",
        "alice@example.com",
        eas_tests::server::ALICE_PASSWORD,
    );
    server.start();
    let before14 = provisioned(&server, "POLICY14", ProtocolVersion::V14_1);
    let before12 = provisioned(&server, "POLICY12", ProtocolVersion::V12_1);
    still_serves(&server, &before14);

    // The administrator tightens the policy and restarts the server.
    server.terminate();
    let config = server.data().parent().unwrap().join("config.toml");
    std::fs::write(
        &config,
        "[provisioning.policy]\ndevice_password_enabled = true\nmin_device_password_length = 6\n",
    )
    .unwrap();
    server.start();
    // The same devices, with the keys they hold (the port is new).
    let mut phone14 = server.alice("POLICY14", ProtocolVersion::V14_1);
    phone14.policy_key = before14.policy_key;
    let mut phone12 = server.alice("POLICY12", ProtocolVersion::V12_1);
    phone12.policy_key = before12.policy_key;

    // Both devices hold keys to the old policy: 143 from 14.0, 449 before.
    let (root, status) = refusal(&phone14.user_information());
    assert_eq!((root.as_str(), status.as_str()), ("Settings", "143"));
    assert_eq!(phone12.user_information().status, 449);
    // The new policy, accepted, lets them in again.
    phone14.provision_fully();
    phone12.provision_fully();
    still_serves(&server, &phone14);
    still_serves(&server, &phone12);
}

#[test]
fn compose_mail_refuses_a_headerless_reply_and_an_unreadable_forwardee() {
    use eas_proto::command::composemail::{Forwardee, Kind, Request, Response, Source};
    use eas_proto::command::ids::{CollectionId, SyncKey};
    use eas_proto::command::sync::{
        Collection, Request as SyncRequest, Response as SyncResponse, ServerCommand,
    };

    let server = TestServer::with_alice();
    let dir = eas_tests::server::TempDir::new("bad-compose");
    std::fs::write(
        dir.path().join("m.eml"),
        "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: plans\r\nMessage-ID: <plans@example.com>\r\n\r\nLunch?\r\n",
    )
    .unwrap();
    server.cli_ok(
        &["import", "--user", "alice", dir.path().to_str().unwrap()],
        "",
    );
    let c = provisioned(&server, "BADMAIL16", ProtocolVersion::V16_1);
    c.folder_sync(&SyncKey::initial());
    let inbox = CollectionId::new("1").unwrap();
    let sync = |key: SyncKey| {
        let reply = c.post_element(
            Command::SYNC,
            &SyncRequest {
                collections: vec![Collection::new(key, inbox.clone())],
                ..Default::default()
            }
            .to_element(),
        );
        SyncResponse::from_element(&reply.element()).unwrap()
    };
    let first = sync(SyncKey::initial());
    let items = sync(first.collections[0].header.sync_key.clone().unwrap());
    let server_id = items.collections[0]
        .commands
        .iter()
        .find_map(|command| match command {
            ServerCommand::Add { server_id, .. } => Some(server_id.clone()),
            _ => None,
        })
        .expect("the imported message");
    let source = Source {
        folder_id: Some("1".into()),
        item_id: Some(server_id.as_str().into()),
        ..Default::default()
    };
    let status = |kind: Kind, request: &Request| {
        let command = match kind {
            Kind::SmartReply => Command::SMART_REPLY,
            _ => Command::SMART_FORWARD,
        };
        let reply = c.post_element(command, &request.to_element());
        assert_eq!(reply.status, 200, "{}", reply.text());
        Response::from_element(&reply.element()).unwrap().status.0
    };

    // A reply whose MIME has no header block (the server must put the
    // quoted original after the client's part): 121 MessageReplyFailed.
    let mut reply = Request::new(
        Kind::SmartReply,
        "bad-reply",
        b"just words, no header\r\n".to_vec(),
    );
    reply.source = Some(source.clone());
    assert_eq!(status(Kind::SmartReply, &reply), 121);

    // A 16.x Forwardee that is no address: 116 MessageRecipientUnresolved.
    let mut forward = Request::new(
        Kind::SmartForward,
        "bad-forwardee",
        b"From: alice@example.com\r\nSubject: Fwd: plans\r\n\r\nsee below\r\n".to_vec(),
    );
    forward.source = Some(source);
    forward.forwardees = vec![Forwardee {
        name: None,
        email: "not an address".into(),
    }];
    assert_eq!(status(Kind::SmartForward, &forward), 116);

    // Neither left anything in the queue.
    let queue = server.cli_ok(&["queue", "list"], "");
    assert!(!queue.contains("not an address"), "{queue}");
    still_serves(&server, &c);
}
