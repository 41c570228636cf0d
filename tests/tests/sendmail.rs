//! Sending mail: SendMail, SmartReply and SmartForward against the real
//! server, with S/MIME messages built by openssl as a phone builds them,
//! delivered to other users of the server and, through a smarthost that
//! records every byte (`eas_tests::smtpd`), to other domains; the durable
//! queue, its retries and its reports; out-of-office replies.
//!
//! What a recipient syncs (MIMESupport 2, BodyPreference 4) must be the
//! sender's message under one Received line, nothing else changed; what
//! the sender's Sent Items hold must be the message itself.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::composemail::{Kind, Request, Response, Source, Status};
use eas_proto::command::email::Email;
use eas_proto::command::ids::{CollectionId, SyncKey};
use eas_proto::command::settings::{
    self, Audience, BodyType as OofBodyType, Oof, OofMessage, OofRequest, OofState,
};
use eas_proto::command::sync::{Collection, MimeSupport, Options, ServerCommand};
use eas_proto::http::{Command, CommandParams};
use eas_tests::client::{EasClient, Reply};
use eas_tests::mail::{free_port, mailbox_list, mailbox_show};
use eas_tests::server::{ALICE_PASSWORD, TestServer};
use eas_tests::smime::{Pki, User, body_of, message, text_entity};
use eas_tests::smtpd::{Behaviour, Smarthost};

const BOB_PASSWORD: &str = "bob-secret";
const CAROL_PASSWORD: &str = "carol-secret";

fn server_with(config: &str) -> TestServer {
    let mut server = TestServer::with_config(config);
    server.add_user("alice", "alice@example.com", ALICE_PASSWORD);
    server.add_user("bob", "bob@example.com", BOB_PASSWORD);
    server.add_user("carol", "carol@example.com", CAROL_PASSWORD);
    server.start();
    server
}

fn phone(server: &TestServer, login: &str, device: &str, version: ProtocolVersion) -> EasClient {
    let password = match login {
        "alice" => ALICE_PASSWORD,
        "bob" => BOB_PASSWORD,
        _ => CAROL_PASSWORD,
    };
    let mut c = server.client(login, password, device, version);
    c.provision_fully();
    c.folder_sync(&SyncKey::initial());
    c
}

fn command_of(kind: Kind) -> Command {
    match kind {
        Kind::SendMail => Command::SEND_MAIL,
        Kind::SmartReply => Command::SMART_REPLY,
        Kind::SmartForward => Command::SMART_FORWARD,
    }
}

/// A 14.0+ ComposeMail request.
fn compose(c: &EasClient, request: &Request) -> Reply {
    c.post_element(command_of(request.kind), &request.to_element())
}

fn send_mail(client_id: &str, mime: &[u8]) -> Request {
    let mut r = Request::new(Kind::SendMail, client_id, mime.to_vec());
    r.save_in_sent_items = true;
    r
}

/// Success is a 200 with no body at all (MS-ASCMD 2.2.1.17).
fn assert_sent(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        reply.body.is_empty(),
        "a failure: {:?}",
        Response::from_element(&reply.element())
    );
}

fn status(reply: &Reply) -> Status {
    Response::from_element(&reply.element()).unwrap().status
}

/// One item as a phone syncing MIME sees it.
#[derive(Debug, Clone)]
struct Synced {
    server_id: String,
    subject: String,
    class: String,
    mime: Vec<u8>,
}

fn mime_options() -> Options {
    Options {
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

/// Every item of a folder with its MIME, by a sync from key 0.
fn folder_mime(c: &EasClient, folder: &str) -> Vec<Synced> {
    let id = CollectionId::new(folder).unwrap();
    let mut first = Collection::new(SyncKey::initial(), id.clone());
    first.options = vec![mime_options()];
    let mut key = c.sync(first).collections[0]
        .header
        .sync_key
        .clone()
        .unwrap();
    let mut out = Vec::new();
    loop {
        let mut col = Collection::new(key.clone(), id.clone());
        col.options = vec![mime_options()];
        col.window_size = Some(100);
        let r = c.sync(col);
        let cr = &r.collections[0];
        key = cr.header.sync_key.clone().unwrap();
        for cmd in &cr.commands {
            if let ServerCommand::Add {
                server_id,
                application_data,
                ..
            } = cmd
            {
                let e = Email::from_element(application_data).unwrap();
                let body = e.body.clone().expect("a body");
                assert_eq!(body.body_type, BodyType::MIME);
                out.push(Synced {
                    server_id: server_id.as_str().to_owned(),
                    subject: e.subject.clone().unwrap_or_default(),
                    class: e.message_class.clone().unwrap_or_default(),
                    mime: body.data.unwrap_or_default().into_bytes(),
                });
            }
        }
        if !cr.header.more_available {
            return out;
        }
    }
}

/// Waits until `user`'s folder holds `n` messages (local delivery runs in
/// the queue worker, a moment after the 200).
fn wait_for_items(server: &TestServer, user: &str, folder: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = mailbox_list(server, user, Some(folder)).len();
        if got >= n {
            assert_eq!(got, n, "{user}'s {folder}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{user}'s {folder} has {got} messages, not {n}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn by_subject<'a>(items: &'a [Synced], subject: &str) -> &'a Synced {
    items
        .iter()
        .find(|i| i.subject == subject)
        .unwrap_or_else(|| {
            panic!(
                "no {subject:?} among {:?}",
                items.iter().map(|i| &i.subject).collect::<Vec<_>>()
            )
        })
}

/// What a recipient holds is `sent` under one Received field, nothing
/// else changed.
fn assert_received_as_sent(received: &[u8], sent: &[u8]) {
    assert!(
        received.ends_with(sent),
        "not the sent bytes:\n--- received ---\n{}\n--- sent ---\n{}",
        String::from_utf8_lossy(received),
        String::from_utf8_lossy(sent)
    );
    let prefix = String::from_utf8_lossy(&received[..received.len() - sent.len()]).into_owned();
    assert!(prefix.starts_with("Received: from "), "{prefix}");
    for line in prefix.split_terminator("\r\n").skip(1) {
        assert!(
            line.starts_with(['\t', ' ']),
            "more than a Received field: {prefix}"
        );
    }
    assert!(prefix.ends_with("\r\n"), "{prefix}");
}

/// `message` without one of its header fields.
fn without_field(message: &[u8], field: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(message).into_owned();
    let at = text.find(field).expect("the field");
    let end = text[at..].find("\r\n").unwrap() + at + 2;
    [&message[..at], &message[end..]].concat()
}

struct People {
    pki: Pki,
    alice: User,
    bob: User,
    carol: User,
}

fn people() -> People {
    let pki = Pki::new();
    let alice = pki.user("alice", "alice@example.com");
    let bob = pki.user("bob", "bob@example.com");
    let carol = pki.user("carol", "carol@example.com");
    People {
        pki,
        alice,
        bob,
        carol,
    }
}

/// The four kinds of S/MIME message a phone sends, signed by alice,
/// encrypted to `to` (and alice, for her Sent Items).
fn smime_kinds(p: &People, to: &User, text: &str) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let inner = text_entity(text);
    vec![
        (
            "clear-signed",
            p.pki.sign_clear(&p.alice, &inner),
            "IPM.Note.SMIME.MultipartSigned",
        ),
        (
            "opaque-signed",
            p.pki.sign_opaque(&p.alice, &inner),
            "IPM.Note.SMIME",
        ),
        (
            "encrypted",
            p.pki.encrypt(&[to, &p.alice], &inner),
            "IPM.Note.SMIME",
        ),
        (
            "signed-then-encrypted",
            p.pki
                .encrypt(&[to, &p.alice], &p.pki.sign_clear(&p.alice, &inner)),
            "IPM.Note.SMIME",
        ),
    ]
}

/// openssl, as the recipient `who`, gets the text back out of `received`:
/// verifying, decrypting, or decrypting then verifying.
fn open_as(p: &People, who: &User, kind: &str, received: &[u8], text: &str) {
    let content = match kind {
        "clear-signed" | "opaque-signed" => p
            .pki
            .verify(received)
            .unwrap_or_else(|e| panic!("openssl smime -verify of the {kind} message failed: {e}")),
        "encrypted" => p
            .pki
            .decrypt(received, who)
            .unwrap_or_else(|e| panic!("openssl smime -decrypt failed: {e}")),
        _ => {
            let signed = p
                .pki
                .decrypt(received, who)
                .unwrap_or_else(|e| panic!("openssl smime -decrypt failed: {e}"));
            p.pki
                .verify(&signed)
                .unwrap_or_else(|e| panic!("verifying the decrypted message failed: {e}"))
        }
    };
    assert!(
        String::from_utf8_lossy(&content).contains(text),
        "{kind}: {}",
        String::from_utf8_lossy(&content)
    );
}

#[test]
fn smime_sent_with_sendmail_reaches_bob_and_sent_items_byte_for_byte() {
    let server = server_with("");
    let p = people();
    let alice = phone(&server, "alice", "SENDSMIME1", ProtocolVersion::V16_1);
    let alice12 = phone(&server, "alice", "SENDSMIME12", ProtocolVersion::V12_1);
    let text = "Hello Bob, caf\u{e9} at noon.\r\n.a line that starts with a dot";

    let mut sent: Vec<(String, &'static str, Vec<u8>, &'static str)> = Vec::new();
    for (i, (kind, entity, class)) in smime_kinds(&p, &p.bob, text).into_iter().enumerate() {
        // 14.0+ form.
        let subject = format!("{kind} (16.1)");
        let mime = message(
            "Alice <alice@example.com>",
            &["Bob <bob@example.com>"],
            &subject,
            &format!("{kind}-16@example.com"),
            &entity,
        );
        assert_sent(&compose(&alice, &send_mail(&format!("smime-{i}"), &mime)));
        sent.push((subject, kind, mime, class));
        // 12.x form: message/rfc822 with SaveInSent=T.
        let subject = format!("{kind} (12.1)");
        let mime = message(
            "Alice <alice@example.com>",
            &["bob@example.com"],
            &subject,
            &format!("{kind}-12@example.com"),
            &entity,
        );
        let reply = alice12.post_rfc822(
            Command::SEND_MAIL,
            CommandParams {
                save_in_sent: Some(true),
                ..Default::default()
            },
            &mime,
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert!(reply.body.is_empty());
        sent.push((subject, kind, mime, class));
    }
    // One with a Bcc to carol: she gets it, nobody sees the Bcc but alice.
    let entity = p.pki.sign_clear(&p.alice, &text_entity(text));
    let mut with_bcc = b"Bcc: carol@example.com\r\n".to_vec();
    with_bcc.extend_from_slice(&message(
        "Alice <alice@example.com>",
        &["bob@example.com"],
        "with a Bcc",
        "bcc@example.com",
        &entity,
    ));
    assert_sent(&compose(&alice, &send_mail("smime-bcc", &with_bcc)));

    wait_for_items(&server, "bob", "Inbox", sent.len() + 1);
    wait_for_items(&server, "carol", "Inbox", 1);
    let bob = phone(&server, "bob", "SENDSMIMEBOB", ProtocolVersion::V16_1);
    let inbox = folder_mime(&bob, "1");
    for (subject, kind, mime, class) in &sent {
        let got = by_subject(&inbox, subject);
        assert_eq!(&got.class, class, "{subject}");
        assert_received_as_sent(&got.mime, mime);
        // The CMS (or multipart/signed) body is the very bytes alice sent.
        assert_eq!(body_of(&got.mime), body_of(mime), "{subject}");
        open_as(&p, &p.bob, kind, &got.mime, "Hello Bob");
    }
    let bcc_copy = by_subject(&inbox, "with a Bcc");
    let without_bcc = without_field(&with_bcc, "Bcc: ");
    assert_received_as_sent(&bcc_copy.mime, &without_bcc);
    open_as(&p, &p.bob, "clear-signed", &bcc_copy.mime, "Hello Bob");
    let carol = phone(&server, "carol", "SENDSMIMECAROL", ProtocolVersion::V14_1);
    let carols = folder_mime(&carol, "1");
    assert_received_as_sent(&carols[0].mime, &without_bcc);

    // Sent Items hold exactly what alice sent, Bcc included.
    let sent_items = folder_mime(&alice, "4");
    assert_eq!(sent_items.len(), sent.len() + 1);
    for (subject, kind, mime, class) in &sent {
        let copy = by_subject(&sent_items, subject);
        assert_eq!(&copy.mime, mime, "{subject}");
        assert_eq!(&copy.class, class);
        open_as(&p, &p.alice, kind, &copy.mime, "Hello Bob");
    }
    assert_eq!(by_subject(&sent_items, "with a Bcc").mime, with_bcc);

    // The same ClientId again: Status 118, and nothing is sent twice.
    let again = compose(&alice, &send_mail("smime-0", &sent[0].2));
    assert_eq!(status(&again), Status::MESSAGE_PREVIOUSLY_SENT);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        mailbox_list(&server, "bob", Some("Inbox")).len(),
        sent.len() + 1
    );
    assert_eq!(
        mailbox_list(&server, "alice", Some("4")).len(),
        sent.len() + 1
    );

    // Without a smarthost, mail to another domain comes back as a report.
    let away = message(
        "alice@example.com",
        &["someone@elsewhere.example"],
        "to nowhere",
        "nowhere@example.com",
        &text_entity("hello"),
    );
    assert_sent(&compose(&alice, &send_mail("nowhere", &away)));
    let report = wait_for_report(&server, "alice", "Undeliverable: to nowhere");
    assert!(
        report.contains("Final-Recipient: rfc822; someone@elsewhere.example"),
        "{report}"
    );
    assert!(report.contains("Status: 5.4.4"), "{report}");

    // Refusals, each with the spec's status.
    let no_rcpt = message(
        "alice@example.com",
        &[],
        "nobody",
        "n@example.com",
        b"\r\nx\r\n",
    );
    let no_rcpt = String::from_utf8(no_rcpt)
        .unwrap()
        .replace("To: \r\n", "")
        .into_bytes();
    assert_eq!(
        status(&compose(&alice, &send_mail("no-rcpt", &no_rcpt))),
        Status::MESSAGE_HAS_NO_RECIPIENT
    );
    let mut other_account = send_mail("acct", &away);
    other_account.account_id = Some("bob@example.com".into());
    assert_eq!(
        status(&compose(&alice, &other_account)),
        Status::INVALID_ACCOUNT_ID
    );
    let reply = alice12.post_rfc822(
        Command::SEND_MAIL,
        CommandParams::default(),
        b"not a message",
    );
    assert_eq!(reply.status, 400, "{}", reply.text());
}

fn wait_for_report(server: &TestServer, user: &str, subject: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(item) = mailbox_list(server, user, Some("Inbox"))
            .into_iter()
            .find(|i| i.subject == subject)
        {
            let raw = mailbox_show(server, user, item.id);
            let text = String::from_utf8_lossy(&raw).into_owned();
            assert!(
                text.contains("Content-Type: multipart/report; report-type=delivery-status"),
                "{text}"
            );
            assert!(
                text.contains("Content-Type: message/delivery-status"),
                "{text}"
            );
            assert!(text.contains("Action: failed"), "{text}");
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no {subject:?} in {user}'s Inbox\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn smart_reply_and_forward_compose_plain_mail_and_keep_smime_as_it_is() {
    let server = server_with("");
    let p = people();
    let alice = phone(&server, "alice", "SMARTALICE", ProtocolVersion::V16_1);
    let alice12 = phone(&server, "alice", "SMARTALICE12", ProtocolVersion::V12_1);
    let bob = phone(&server, "bob", "SMARTBOB", ProtocolVersion::V16_1);

    // bob writes to alice: one plain message, one clear-signed.
    let plain = message(
        "Bob <bob@example.com>",
        &["alice@example.com"],
        "Lunch?",
        "lunch@example.com",
        &text_entity("Lunch tomorrow?\r\n.at noon"),
    );
    assert_sent(&compose(&bob, &send_mail("b1", &plain)));
    let signed = message(
        "Bob <bob@example.com>",
        &["alice@example.com"],
        "Signed plans",
        "signed@example.com",
        &p.pki.sign_clear(&p.bob, &text_entity("Signed by Bob")),
    );
    assert_sent(&compose(&bob, &send_mail("b2", &signed)));
    wait_for_items(&server, "alice", "Inbox", 2);
    let inbox = folder_mime(&alice, "1");
    let lunch = by_subject(&inbox, "Lunch?").clone();
    let plans = by_subject(&inbox, "Signed plans").clone();
    let source = |item: &Synced| Source {
        folder_id: Some("1".into()),
        item_id: Some(item.server_id.clone()),
        ..Default::default()
    };

    // A plain reply: the server adds the quoted original after alice's part.
    let own_part = text_entity("Yes, at noon.");
    let reply_mime = message(
        "Alice <alice@example.com>",
        &["bob@example.com"],
        "Re: Lunch?",
        "re-lunch@example.com",
        &own_part,
    );
    let mut reply = Request::new(Kind::SmartReply, "r1", reply_mime.clone());
    reply.source = Some(source(&lunch));
    reply.save_in_sent_items = true;
    assert_sent(&compose(&alice, &reply));

    // A plain forward to carol: the original attached byte for byte.
    let fwd_mime = message(
        "Alice <alice@example.com>",
        &["carol@example.com"],
        "Fwd: Lunch?",
        "fwd-lunch@example.com",
        &text_entity("See below."),
    );
    let mut forward = Request::new(Kind::SmartForward, "f1", fwd_mime);
    forward.source = Some(source(&lunch));
    assert_sent(&compose(&alice, &forward));

    // An S/MIME reply without ReplaceMime goes as it is.
    let signed_reply = message(
        "Alice <alice@example.com>",
        &["bob@example.com"],
        "Re: Signed plans",
        "re-signed@example.com",
        &p.pki
            .sign_clear(&p.alice, &text_entity("Signed reply from Alice")),
    );
    let mut r = Request::new(Kind::SmartReply, "r2", signed_reply.clone());
    r.source = Some(source(&plans));
    assert_sent(&compose(&alice, &r));

    // ReplaceMime: the whole message is the client's; here encrypted to carol.
    let encrypted_fwd = message(
        "Alice <alice@example.com>",
        &["carol@example.com"],
        "Fwd: Signed plans",
        "fwd-signed@example.com",
        &p.pki
            .encrypt(&[&p.carol, &p.alice], &text_entity("Forwarded, encrypted")),
    );
    let mut f = Request::new(Kind::SmartForward, "f2", encrypted_fwd.clone());
    f.source = Some(source(&plans));
    f.replace_mime = true;
    assert_sent(&compose(&alice, &f));

    // A plain reply to a signed original: refused, no broken signature.
    let mut bad = Request::new(Kind::SmartReply, "r3", reply_mime.clone());
    bad.source = Some(source(&plans));
    assert_eq!(
        status(&compose(&alice, &bad)),
        Status::MESSAGE_REPLY_NOT_ALLOWED
    );
    let mut bad = Request::new(Kind::SmartForward, "f3", reply_mime.clone());
    bad.source = Some(source(&plans));
    assert_eq!(
        status(&compose(&alice, &bad)),
        Status::MESSAGE_REPLY_NOT_ALLOWED
    );
    // Sources that are not there.
    let mut ghost = Request::new(Kind::SmartReply, "r4", reply_mime.clone());
    ghost.source = Some(Source {
        folder_id: Some("1".into()),
        item_id: Some("1:999999".into()),
        ..Default::default()
    });
    assert_eq!(status(&compose(&alice, &ghost)), Status::ITEM_NOT_FOUND);
    let mut long = Request::new(Kind::SmartReply, "r5", reply_mime.clone());
    long.source = Some(Source {
        long_id: Some("RgAAAAD".into()),
        ..Default::default()
    });
    assert_eq!(status(&compose(&alice, &long)), Status::ITEM_NOT_FOUND);
    // bob's item ids are not alice's to reply to.
    let bobs_sent = folder_mime(&bob, "4");
    let mut foreign = Request::new(Kind::SmartReply, "r6", reply_mime.clone());
    foreign.source = Some(Source {
        folder_id: Some("4".into()),
        item_id: Some(bobs_sent[0].server_id.clone()),
        ..Default::default()
    });
    assert_eq!(status(&compose(&alice, &foreign)), Status::ITEM_NOT_FOUND);

    // The 12.x form: ItemId and CollectionId in the query.
    let reply12 = message(
        "Alice <alice@example.com>",
        &["bob@example.com"],
        "Re: Lunch? (12.1)",
        "re-lunch-12@example.com",
        &text_entity("Yes, from 12.1."),
    );
    let r12 = alice12.post_rfc822(
        Command::SMART_REPLY,
        CommandParams {
            item_id: Some(lunch.server_id.clone()),
            collection_id: Some("1".into()),
            save_in_sent: Some(true),
            ..Default::default()
        },
        &reply12,
    );
    assert_eq!(r12.status, 200, "{}", r12.text());
    let refused12 = alice12.post_rfc822(
        Command::SMART_REPLY,
        CommandParams {
            item_id: Some(plans.server_id.clone()),
            collection_id: Some("1".into()),
            ..Default::default()
        },
        &reply12,
    );
    assert_eq!(refused12.status, 403, "{}", refused12.text());

    wait_for_items(&server, "bob", "Inbox", 3);
    wait_for_items(&server, "carol", "Inbox", 2);
    let bob_inbox = folder_mime(&bob, "1");
    // The composed reply: alice's part byte for byte, then the quote.
    let composed = &by_subject(&bob_inbox, "Re: Lunch?").mime;
    let text = String::from_utf8_lossy(composed).into_owned();
    assert!(
        text.contains("In-Reply-To: <lunch@example.com>\r\n"),
        "{text}"
    );
    // Header fields may be folded (RFC 5322 2.2.3); compare them unfolded.
    let unfolded = text.replace("\r\n\t", " ").replace("\r\n ", " ");
    assert!(
        unfolded.contains("Content-Type: multipart/mixed; boundary="),
        "{text}"
    );
    assert!(
        composed
            .windows(own_part.len())
            .any(|w| w == own_part.as_slice()),
        "alice's part is not there byte for byte:\n{text}"
    );
    assert!(
        text.contains("> Lunch tomorrow?\r\n> .at noon\r\n"),
        "{text}"
    );
    let composed12 =
        String::from_utf8_lossy(&by_subject(&bob_inbox, "Re: Lunch? (12.1)").mime).into_owned();
    assert!(composed12.contains("> Lunch tomorrow?"), "{composed12}");
    // The S/MIME reply as alice built it.
    let got = &by_subject(&bob_inbox, "Re: Signed plans").mime;
    assert_received_as_sent(got, &signed_reply);
    open_as(&p, &p.bob, "clear-signed", got, "Signed reply from Alice");

    let carol = phone(&server, "carol", "SMARTCAROL", ProtocolVersion::V16_1);
    let carol_inbox = folder_mime(&carol, "1");
    // The forward carries alice's stored original, every byte of it.
    let fwd = &by_subject(&carol_inbox, "Fwd: Lunch?").mime;
    assert!(
        fwd.windows(lunch.mime.len())
            .any(|w| w == lunch.mime.as_slice()),
        "the original is not attached byte for byte:\n{}",
        String::from_utf8_lossy(fwd)
    );
    assert!(String::from_utf8_lossy(fwd).contains("Content-Type: message/rfc822"));
    let enc = &by_subject(&carol_inbox, "Fwd: Signed plans").mime;
    assert_received_as_sent(enc, &encrypted_fwd);
    open_as(&p, &p.carol, "encrypted", enc, "Forwarded, encrypted");

    // alice's Sent Items hold the reply as it went out.
    let sent = folder_mime(&alice, "4");
    let reply_copy = &by_subject(&sent, "Re: Lunch?").mime;
    assert!(reply_copy.ends_with(b"--\r\n"));
    assert!(
        composed.ends_with(reply_copy),
        "the Sent Items copy is not what bob got"
    );
}

/// The smarthost configuration for a server whose smarthost is the test's.
fn smarthost_config(port: u16, extra: &str) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nhelo_name = \"eas.test\"\ntimeout_secs = 10\n[queue]\nretry_min_secs = 1\nretry_max_secs = 1\n{extra}"
    )
}

fn queue_list(server: &TestServer) -> String {
    server.cli_ok(&["queue", "list"], "")
}

#[test]
fn queued_mail_survives_a_restart_and_goes_out_when_the_smarthost_returns() {
    let port = free_port();
    let mut server = server_with(&smarthost_config(port, ""));
    let p = people();
    let alice = phone(&server, "alice", "QUEUEALICE", ProtocolVersion::V16_1);

    // The smarthost is down: the message is still acknowledged, bob gets
    // his copy at once, the rest waits.
    let signed = p
        .pki
        .sign_clear(&p.alice, &text_entity("To the world.\r\n.dot"));
    let mut mime = b"Bcc: y@remote.example\r\n".to_vec();
    mime.extend_from_slice(&message(
        "Alice <alice@example.com>",
        &["x@remote.example", "bob@example.com"],
        "while the smarthost is down",
        "down@example.com",
        &signed,
    ));
    assert_sent(&compose(&alice, &send_mail("q1", &mime)));
    let doomed = message(
        "alice@example.com",
        &["z@remote.example"],
        "to be removed",
        "removed@example.com",
        &text_entity("never sent"),
    );
    assert_sent(&compose(&alice, &send_mail("q2", &doomed)));
    wait_for_items(&server, "bob", "Inbox", 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = queue_list(&server);
        if list.contains("last error") {
            assert!(list.contains("<x@remote.example>: pending"), "{list}");
            assert!(list.contains("<y@remote.example>: pending"), "{list}");
            assert!(list.contains("<bob@example.com>: delivered"), "{list}");
            break;
        }
        assert!(Instant::now() < deadline, "{list}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A crash, and a start: the queue is still there.
    server.kill();
    server.start();
    // A restarted server listens on a new port: the phone reconnects.
    let alice = phone(&server, "alice", "QUEUEALICE", ProtocolVersion::V16_1);
    let list = queue_list(&server);
    assert!(list.contains("<x@remote.example>: pending"), "{list}");
    assert!(list.contains("to be removed"), "{list}");
    let removed_id = list
        .lines()
        .zip(list.lines().skip(1))
        .find(|(_, next)| next.contains("to be removed"))
        .map(|(line, _)| line.split_whitespace().next().unwrap().to_owned())
        .unwrap();
    let out = server.cli_ok(&["queue", "remove", &removed_id], "");
    assert!(out.contains("removed"), "{out}");

    // The smarthost comes back: the message goes, byte for byte (BDAT).
    let smarthost = Smarthost::start_on(port, Behaviour::default());
    server.cli_ok(&["queue", "retry", "--all"], "");
    let got = smarthost.wait_for(1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "{got:?}");
    let relayed = &got[0];
    assert!(relayed.via_bdat);
    assert!(
        relayed.mail_from.starts_with("FROM:<alice@example.com>"),
        "{}",
        relayed.mail_from
    );
    let mut rcpt = relayed.rcpt_to.clone();
    rcpt.sort();
    assert_eq!(rcpt, ["x@remote.example", "y@remote.example"]);
    let bob = phone(&server, "bob", "QUEUEBOB", ProtocolVersion::V16_1);
    let bobs = folder_mime(&bob, "1");
    // The smarthost got exactly what bob got: one Received line over the
    // message without its Bcc.
    assert_eq!(relayed.data, bobs[0].mime);
    assert_received_as_sent(&relayed.data, &without_field(&mime, "Bcc: "));
    p.pki.verify(&relayed.data).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !queue_list(&server).contains("the queue is empty") {
        assert!(Instant::now() < deadline, "{}", queue_list(&server));
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(smarthost);

    // DATA, when the smarthost offers no CHUNKING: dots stuffed and
    // unstuffed, 8-bit declared.
    let smarthost = Smarthost::start_on(
        port,
        Behaviour {
            chunking: false,
            ..Behaviour::default()
        },
    );
    let dotty = message(
        "alice@example.com",
        &["x@remote.example"],
        "dots",
        "dots@example.com",
        &text_entity(".\r\n..two\r\n.\r\ncaf\u{e9}"),
    );
    assert_sent(&compose(&alice, &send_mail("q3", &dotty)));
    let got = smarthost.wait_for(1, Duration::from_secs(30));
    assert!(!got[0].via_bdat);
    assert!(
        got[0].mail_from.contains("BODY=8BITMIME"),
        "{}",
        got[0].mail_from
    );
    assert_received_as_sent(&got[0].data, &dotty);
    drop(smarthost);

    // Neither CHUNKING nor 8BITMIME: an 8-bit message is not re-encoded;
    // it comes back with 5.6.3.
    let smarthost = Smarthost::start_on(
        port,
        Behaviour {
            chunking: false,
            eight_bit_mime: false,
            ..Behaviour::default()
        },
    );
    let eight = message(
        "alice@example.com",
        &["x@remote.example"],
        "eight bits",
        "eight@example.com",
        &text_entity("caf\u{e9}"),
    );
    assert_sent(&compose(&alice, &send_mail("q4", &eight)));
    let report = wait_for_report(&server, "alice", "Undeliverable: eight bits");
    assert!(report.contains("Status: 5.6.3"), "{report}");
    assert!(smarthost.delivered().is_empty());
}

#[test]
fn refusals_and_expiry_come_back_as_reports() {
    let smarthost = Smarthost::start(Behaviour {
        refuse: vec![(
            "nobody@remote.example".into(),
            "550 5.1.1 <nobody@remote.example>: Recipient address rejected".into(),
        )],
        ..Behaviour::default()
    });
    let server = server_with(&smarthost_config(smarthost.port(), "lifetime_secs = 3\n"));
    let alice = phone(&server, "alice", "REPORTALICE", ProtocolVersion::V16_1);
    let mime = message(
        "alice@example.com",
        &["ok@remote.example", "nobody@remote.example"],
        "one refused",
        "refused@example.com",
        &text_entity("hello"),
    );
    assert_sent(&compose(&alice, &send_mail("p1", &mime)));
    let got = smarthost.wait_for(1, Duration::from_secs(30));
    assert_eq!(got[0].rcpt_to, ["ok@remote.example"]);
    let report = wait_for_report(&server, "alice", "Undeliverable: one refused");
    assert!(
        report.contains(
            "Final-Recipient: rfc822; nobody@remote.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "Diagnostic-Code: smtp; 550 5.1.1 <nobody@remote.example>: Recipient address rejected"
        ),
        "{report}"
    );
    assert!(
        report.contains("Content-Type: text/rfc822-headers\r\n\r\nReceived: "),
        "{report}"
    );
    assert!(!report.contains("ok@remote.example\r\nAction"), "{report}");
    // The report is a message alice's phone syncs like any other.
    let inbox = folder_mime(&alice, "1");
    assert_eq!(
        by_subject(&inbox, "Undeliverable: one refused").class,
        "IPM.Note"
    );
    drop(smarthost);

    // The smarthost gone for longer than the lifetime: a report, 4.4.7.
    let mime = message(
        "alice@example.com",
        &["late@remote.example"],
        "too late",
        "late@example.com",
        &text_entity("hello"),
    );
    assert_sent(&compose(&alice, &send_mail("p2", &mime)));
    let report = wait_for_report(&server, "alice", "Undeliverable: too late");
    assert!(report.contains("Status: 4.4.7"), "{report}");
    assert!(queue_list(&server).contains("the queue is empty"));
}

#[test]
fn out_of_office_answers_once_per_sender() {
    let server = server_with("");
    let bob = phone(&server, "bob", "OOFBOB", ProtocolVersion::V16_1);
    let set = bob.settings(&settings::Request {
        oof: Some(OofRequest::Set(Oof {
            state: Some(OofState::GLOBAL),
            start_time: None,
            end_time: None,
            messages: vec![OofMessage {
                audience: Audience::Internal,
                enabled: Some(true),
                reply_message: Some("Bob is away this week.".into()),
                body_type: Some(OofBodyType::Text),
            }],
        })),
        ..Default::default()
    });
    assert_eq!(set.status, 200);
    let alice = phone(&server, "alice", "OOFALICE", ProtocolVersion::V16_1);
    for i in 0..2 {
        let mime = message(
            "alice@example.com",
            &["bob@example.com"],
            &format!("question {i}"),
            &format!("q{i}@example.com"),
            &text_entity("Are you there?"),
        );
        assert_sent(&compose(&alice, &send_mail(&format!("oof-{i}"), &mime)));
    }
    wait_for_items(&server, "bob", "Inbox", 2);
    wait_for_items(&server, "alice", "Inbox", 1);
    std::thread::sleep(Duration::from_millis(500));
    let inbox = mailbox_list(&server, "alice", Some("Inbox"));
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert!(
        inbox[0].subject.starts_with("Automatic reply: question"),
        "{inbox:?}"
    );
    let raw = String::from_utf8(mailbox_show(&server, "alice", inbox[0].id)).unwrap();
    assert!(raw.contains("Auto-Submitted: auto-replied\r\n"), "{raw}");
    assert!(raw.contains("Bob is away this week."), "{raw}");
    // The reply itself gets no reply, and bob's Sent Items stay his own.
    assert!(mailbox_list(&server, "bob", Some("Inbox")).len() == 2);
    assert!(mailbox_list(&server, "bob", Some("4")).is_empty());
}

#[test]
fn a_store_that_cannot_write_says_retry_later_and_nothing_is_half_sent() {
    let mut server = server_with("");
    // About 1 MB: more than the store's file has room for once frozen.
    let big = |subject: &str| {
        message(
            "alice@example.com",
            &["bob@example.com"],
            subject,
            &format!("{}@example.com", subject.replace(' ', "-")),
            &text_entity(&"All the figures, line by line.\r\n".repeat(30_000)),
        )
    };
    let sent_12 = CommandParams {
        save_in_sent: Some(true),
        ..Default::default()
    };
    for (round, version) in [ProtocolVersion::V16_1, ProtocolVersion::V12_1]
        .into_iter()
        .enumerate()
    {
        let alice = phone(&server, "alice", &format!("FULL{round}"), version);
        let mime = big(&format!("figures {round}"));
        let client_id = format!("full-{round}");
        // The 12.x form has no ClientId and no Status: the MIME is the body.
        let send = |alice: &EasClient| {
            if version == ProtocolVersion::V12_1 {
                alice.post_rfc822(Command::SEND_MAIL, sent_12.clone(), &mime)
            } else {
                compose(alice, &send_mail(&client_id, &mime))
            }
        };
        server.freeze_store_size();
        // MS-ASCMD 2.2.2: 111, a transient error the client retries; a
        // 12.x client, which has no Status here, gets HTTP 503.
        let refused = send(&alice);
        if version == ProtocolVersion::V12_1 {
            assert_eq!(refused.status, 503, "{}", refused.text());
        } else {
            assert_eq!(status(&refused), Status::SERVER_ERROR_RETRY_LATER);
        }
        let (exit, _) = server.wait_for_exit(Instant::now());
        assert!(!exit.success(), "{exit:?}");

        // Back with room: nothing of the refused message was queued, sent
        // or filed, so the client's retry (the same ClientId at 16.1) is
        // the one and only copy.
        server.start();
        assert_eq!(mailbox_list(&server, "bob", Some("Inbox")).len(), round);
        assert_eq!(
            mailbox_list(&server, "alice", Some("Sent Items")).len(),
            round
        );
        assert!(queue_list(&server).contains("the queue is empty"));
        let alice = phone(&server, "alice", &format!("FULL{round}"), version);
        let again = send(&alice);
        if version == ProtocolVersion::V12_1 {
            assert_eq!(again.status, 200, "{}", again.text());
        } else {
            assert_sent(&again);
        }
        wait_for_items(&server, "bob", "Inbox", round + 1);
        wait_for_items(&server, "alice", "Sent Items", round + 1);
    }
}
