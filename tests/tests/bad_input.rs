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
    expect_status(
        &c,
        Command::SETTINGS,
        wbxml(A_FOLDER_SYNC),
        "Settings",
        "2",
    );
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
