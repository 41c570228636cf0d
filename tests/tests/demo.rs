//! `serve --demo`: an empty data directory gets users whose passwords are
//! printed, and a mailbox a phone can sync at once, S/MIME mail included.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashSet;

use eas_proto::ProtocolVersion;
use eas_proto::command::email::Email;
use eas_proto::command::ids::{CollectionId, SyncKey};
use eas_proto::command::sync::{Collection, Request, Response, ServerCommand};
use eas_proto::http::Command;
use eas_tests::server::TestServer;

#[test]
fn demo_users_can_log_in_and_sync_a_varied_mailbox() {
    let mut server = TestServer::new();
    server.serve_args(&["--demo"]);
    server.start();
    let banner = server.stdout();
    let password = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("alice@example.com"))
        .map(|p| p.trim().to_owned())
        .unwrap_or_else(|| panic!("no password for alice in the banner:\n{banner}"));
    assert!(
        banner.contains("bob@example.com") && banner.contains("carol@example.com"),
        "{banner}"
    );

    let mut c = server.client(
        "alice@example.com",
        &password,
        "DEMO1",
        ProtocolVersion::V16_1,
    );
    c.provision_fully();
    let folders = c.folder_sync(&SyncKey::initial()).changes.unwrap().adds;
    assert!(
        folders.iter().any(|f| f.display_name == "Projects"),
        "a user folder"
    );

    let mut key = SyncKey::initial();
    let mut classes = HashSet::new();
    let mut items = 0;
    let mut attachments = 0;
    loop {
        let mut col = Collection::new(key.clone(), CollectionId::new("1").unwrap());
        col.window_size = Some(100);
        let r = c.post_element(
            Command::SYNC,
            &Request {
                collections: vec![col],
                ..Default::default()
            }
            .to_element(),
        );
        let resp = Response::from_element(&r.element()).unwrap();
        let col = &resp.collections[0];
        for cmd in &col.commands {
            if let ServerCommand::Add {
                application_data, ..
            } = cmd
            {
                let e = Email::from_element(application_data).unwrap();
                classes.insert(e.message_class.unwrap());
                attachments += usize::from(e.attachments.is_some());
                items += 1;
            }
        }
        let initial = key.is_initial();
        key = col.header.sync_key.clone().unwrap();
        if !initial && !col.header.more_available {
            break;
        }
    }
    assert!(items > 200, "a few hundred messages: {items}");
    assert!(attachments > 10, "{attachments} with attachments");
    for class in [
        "IPM.Note",
        "IPM.Note.SMIME",
        "IPM.Note.SMIME.MultipartSigned",
    ] {
        assert!(classes.contains(class), "{class} missing from {classes:?}");
    }

    // A second start does not load the demo again (the banner of both
    // starts is in stdout; only the first lists demo users).
    server.terminate();
    server.start();
    assert_eq!(
        server.stdout().matches("demo users").count(),
        1,
        "{}",
        server.stdout()
    );
}
