use super::*;
use crate::codepages::{calendar, contacts, notes, tasks};
use crate::command::airsyncbase::BodyType;
use crate::command::email::Email;
use crate::wbxml::{Limits, NodeRef};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../fixtures/wbxml/{name}.wbxml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn decode(bytes: &[u8]) -> Element<'static> {
    Element::decode(bytes, Limits::default())
        .unwrap()
        .into_owned()
}

fn key(s: &str) -> SyncKey {
    SyncKey::new(s).unwrap()
}

fn cid(s: &str) -> CollectionId {
    CollectionId::new(s).unwrap()
}

fn sid(s: &str) -> ServerId {
    ServerId::new(s).unwrap()
}

#[test]
fn every_sync_status_has_a_name() {
    for v in [1u8, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16] {
        assert!(Status(v).is_known(), "{v}");
    }
    for v in [0u8, 2, 10, 11, 17] {
        assert!(!Status(v).is_known(), "{v}");
    }
    assert_eq!(MimeTruncation::DO_NOT_TRUNCATE.limit(), Some(None));
    assert_eq!(MimeTruncation::OVER_7168.limit(), Some(Some(7168)));
    assert_eq!(MimeTruncation(9).limit(), None);
    assert!(FilterType::INCOMPLETE_TASKS.is_known());
}

#[test]
fn the_email_request_fixture_both_ways() {
    let bytes = fixture("sync-email-request");
    let req = Request::from_element(&decode(&bytes)).unwrap();
    let expected = Request {
        collections: vec![Collection {
            deletes_as_moves: Some(Toggle::Set(true)),
            get_changes: Some(Toggle::Empty),
            window_size: Some(100),
            options: vec![Options {
                filter_type: Some(FilterType::ONE_WEEK),
                body_preferences: vec![BodyPreference {
                    truncation_size: Some(5120),
                    ..BodyPreference::new(BodyType::HTML)
                }],
                mime_support: Some(MimeSupport::NEVER),
                ..Options::default()
            }],
            ..Collection::new(key("1"), cid("5"))
        }],
        ..Request::default()
    };
    assert_eq!(req, expected);
    assert!(req.collections[0].wants_changes());
    assert_eq!(req.to_element().encode().unwrap(), bytes);
}

#[test]
fn client_adds_fixtures_both_ways() {
    // Calendar: GetChanges 0 and an Add.
    let bytes = fixture("sync-calendar-request");
    let doc = decode(&bytes);
    let req = Request::from_element(&doc).unwrap();
    let coll = &req.collections[0];
    assert_eq!(coll.sync_key, key("4"));
    assert_eq!(coll.collection_id, cid("1"));
    assert_eq!(coll.get_changes, Some(Toggle::Set(false)));
    assert!(!coll.wants_changes());
    let [
        ClientCommand::Add {
            class: None,
            client_id,
            application_data,
            send: false,
        },
    ] = coll.commands.as_slice()
    else {
        panic!("{:?}", coll.commands);
    };
    assert_eq!(client_id.as_str(), "230");
    assert_eq!(
        application_data
            .child(calendar::Subject)
            .and_then(|e| e.text_content()),
        Some("Budget review")
    );
    assert_eq!(req.to_element().encode().unwrap(), bytes);

    // Contacts, with non-ASCII text.
    let bytes = fixture("sync-contacts-request");
    let req = Request::from_element(&decode(&bytes)).unwrap();
    let coll = &req.collections[0];
    assert_eq!(coll.get_changes, None);
    assert!(coll.wants_changes());
    let ClientCommand::Add {
        application_data, ..
    } = &coll.commands[0]
    else {
        panic!("{:?}", coll.commands);
    };
    assert_eq!(
        application_data
            .child(contacts::HomeAddressCity)
            .and_then(|e| e.text_content()),
        Some("Zürich")
    );
    assert_eq!(req.to_element().encode().unwrap(), bytes);

    // Tasks.
    let bytes = fixture("sync-tasks-request");
    let req = Request::from_element(&decode(&bytes)).unwrap();
    let coll = &req.collections[0];
    assert_eq!(coll.sync_key, key("301865454"));
    assert_eq!(coll.deletes_as_moves, Some(Toggle::Set(true)));
    assert_eq!(coll.get_changes, Some(Toggle::Set(true)));
    assert_eq!(coll.window_size, Some(100));
    let ClientCommand::Add { client_id, .. } = &coll.commands[0] else {
        panic!("{:?}", coll.commands);
    };
    assert_eq!(client_id.as_str(), "4717a10e-492d-45af-9fe3-227f74385b13");
    assert_eq!(req.to_element().encode().unwrap(), bytes);
}

#[test]
fn the_email_response_fixture_tree_and_stream() {
    let bytes = fixture("sync-email-response");
    let res = Response::from_element(&decode(&bytes)).unwrap();
    assert_eq!(res.status, None);
    let coll = &res.collections[0];
    assert_eq!(
        coll.header,
        CollectionHeader::new(key("2"), cid("5"), Status::SUCCESS)
    );
    let [
        ServerCommand::Add {
            class: None,
            server_id,
            application_data,
        },
    ] = coll.commands.as_slice()
    else {
        panic!("{:?}", coll.commands);
    };
    assert_eq!(server_id, &sid("5:1"));
    let email = Email::from_element(application_data).unwrap();
    assert_eq!(email, crate::command::email::tests::fixture_email());
    assert_eq!(res.to_element().encode().unwrap(), bytes);

    // Streamed item by item from the typed email: the fixture, byte for byte.
    let mut w = SyncResponseWriter::new(Vec::new()).unwrap();
    w.begin_collection(&CollectionHeader::new(key("2"), cid("5"), Status::SUCCESS))
        .unwrap();
    w.add(&sid("5:1"), |w| email.write_children(w)).unwrap();
    assert_eq!(w.commands_written(), 1);
    w.end_collection().unwrap();
    assert_eq!(w.finish().unwrap(), bytes);
}

/// Streams a parsed response through the writer, collection by collection.
fn stream(res: &Response) -> Vec<u8> {
    assert_eq!(res.status, None);
    let mut w = SyncResponseWriter::new(Vec::new()).unwrap();
    for c in &res.collections {
        w.begin_collection(&c.header).unwrap();
        for cmd in &c.commands {
            match cmd {
                ServerCommand::Add {
                    class: None,
                    server_id,
                    application_data,
                } => w
                    .add(server_id, |w| {
                        for node in application_data.nodes() {
                            match node {
                                NodeRef::Element(child) => child.write_to(w)?,
                                NodeRef::Text(t) => w.text(t)?,
                                NodeRef::Opaque(d) => w.opaque(d)?,
                            }
                        }
                        Ok(())
                    })
                    .unwrap(),
                other => w.command(other).unwrap(),
            }
        }
        for r in &c.responses {
            w.response(r).unwrap();
        }
        w.end_collection().unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn the_other_response_fixtures_both_ways() {
    for name in [
        "sync-contacts-response",
        "sync-tasks-notes-response",
        "sync-calendar-response",
        "sync-rm-response",
    ] {
        let bytes = fixture(name);
        let res = Response::from_element(&decode(&bytes)).unwrap();
        assert_eq!(res.to_element().encode().unwrap(), bytes, "{name}");
        assert_eq!(stream(&res), bytes, "{name} streamed");
    }

    let res = Response::from_element(&decode(&fixture("sync-contacts-response"))).unwrap();
    assert_eq!(res.collections[0].header.class.as_deref(), Some("Contacts"));

    let res = Response::from_element(&decode(&fixture("sync-tasks-notes-response"))).unwrap();
    assert_eq!(res.collections.len(), 2);
    assert_eq!(res.collections[0].header.sync_key, Some(key("301865455")));
    let ServerCommand::Add {
        application_data, ..
    } = &res.collections[1].commands[0]
    else {
        panic!();
    };
    assert_eq!(
        application_data
            .child(notes::Subject)
            .and_then(|e| e.text_content()),
        Some("Parking")
    );
    let ServerCommand::Add {
        application_data, ..
    } = &res.collections[0].commands[0]
    else {
        panic!();
    };
    assert!(application_data.child(tasks::DateCompleted).is_some());

    let res = Response::from_element(&decode(&fixture("sync-calendar-response"))).unwrap();
    assert_eq!(
        res.collections[0].responses,
        [ItemResponse::Add {
            class: None,
            client_id: ClientId::new("230").unwrap(),
            server_id: Some(sid("1:7")),
            status: Status::SUCCESS,
            application_data: None,
        }]
    );
}

fn rich_request() -> Request {
    let data =
        Element::new(a::ApplicationData).with(Element::text(crate::codepages::email::Read, "1"));
    Request {
        collections: vec![
            Collection {
                class: Some("Email".into()),
                supported: Some(vec![]),
                deletes_as_moves: Some(Toggle::Empty),
                get_changes: Some(Toggle::Set(false)),
                window_size: Some(25),
                conversation_mode: Some(true),
                options: vec![
                    Options {
                        class: Some("Email".into()),
                        filter_type: Some(FilterType::ONE_MONTH),
                        body_preferences: vec![
                            BodyPreference {
                                truncation_size: Some(200),
                                all_or_none: Some(true),
                                preview: Some(100),
                                ..BodyPreference::new(BodyType::PLAIN_TEXT)
                            },
                            BodyPreference::new(BodyType::MIME),
                        ],
                        body_part_preferences: vec![BodyPreference::new(BodyType::HTML)],
                        conflict: Some(Conflict::SERVER_WINS),
                        mime_support: Some(MimeSupport::SMIME_ONLY),
                        mime_truncation: Some(MimeTruncation::DO_NOT_TRUNCATE),
                        max_items: None,
                        rights_management_support: Some(true),
                    },
                    Options {
                        class: Some("SMS".into()),
                        filter_type: Some(FilterType::ALL),
                        ..Options::default()
                    },
                ],
                commands: vec![
                    ClientCommand::Add {
                        class: Some("SMS".into()),
                        client_id: ClientId::new("c-1").unwrap(),
                        application_data: data.clone(),
                        send: true,
                    },
                    ClientCommand::Change {
                        server_id: sid("5:1"),
                        instance_id: Some("20240101T000000Z".into()),
                        application_data: data,
                        send: false,
                    },
                    ClientCommand::Delete {
                        server_id: sid("5:2"),
                        instance_id: None,
                    },
                    ClientCommand::Fetch {
                        server_id: sid("5:3"),
                    },
                ],
                ..Collection::new(key("7"), cid("5"))
            },
            Collection {
                supported: Some(vec![contacts::FirstName, contacts::LastName]),
                ..Collection::new(SyncKey::initial(), cid("2"))
            },
        ],
        wait: Some(5),
        heartbeat_interval: Some(600),
        window_size: Some(100),
        partial: true,
    }
}

fn rich_response() -> Response {
    let data = Element::new(a::ApplicationData)
        .with(Element::text(crate::codepages::email::Subject, "Hi"));
    Response {
        status: None,
        limit: None,
        collections: vec![
            CollectionResponse {
                header: CollectionHeader {
                    class: Some("Email".into()),
                    more_available: true,
                    ..CollectionHeader::new(key("8"), cid("5"), Status::SUCCESS)
                },
                commands: vec![
                    ServerCommand::Add {
                        class: Some("SMS".into()),
                        server_id: sid("5:9"),
                        application_data: data.clone(),
                    },
                    ServerCommand::Change {
                        class: None,
                        server_id: sid("5:1"),
                        application_data: data.clone(),
                    },
                    ServerCommand::Delete {
                        class: None,
                        server_id: sid("5:2"),
                    },
                    ServerCommand::SoftDelete {
                        server_id: sid("5:3"),
                    },
                ],
                responses: vec![
                    ItemResponse::Add {
                        class: Some("SMS".into()),
                        client_id: ClientId::new("c-1").unwrap(),
                        server_id: Some(sid("5:10")),
                        status: Status::SUCCESS,
                        application_data: Some(data.clone()),
                    },
                    ItemResponse::Change {
                        class: None,
                        server_id: sid("5:4"),
                        status: Status::OBJECT_NOT_FOUND,
                        application_data: None,
                    },
                    ItemResponse::Delete {
                        server_id: sid("5:5"),
                        status: Status::OBJECT_NOT_FOUND,
                    },
                    ItemResponse::Fetch {
                        server_id: Some(sid("5:3")),
                        status: Status::SUCCESS,
                        application_data: Some(data),
                    },
                ],
            },
            CollectionResponse {
                header: CollectionHeader {
                    sync_key: None,
                    ..CollectionHeader::new(key("0"), cid("9"), Status::INVALID_SYNC_KEY)
                },
                commands: vec![],
                responses: vec![],
            },
        ],
    }
}

#[test]
fn everything_a_request_can_say_round_trips() {
    let req = rich_request();
    let el = req.to_element();
    let bytes = el.encode().unwrap();
    assert_eq!(Request::from_element(&decode(&bytes)).unwrap(), req);
    // Strict order of MS-ASCMD 2.2.3.29.2, 12.x Class first.
    let coll = el
        .child(a::Collections)
        .and_then(|c| c.child(a::Collection))
        .unwrap();
    let order: Vec<Tag> = coll.elements().map(|e| e.tag).collect();
    assert_eq!(
        order,
        [
            a::Class,
            a::SyncKey,
            a::CollectionId,
            a::Supported,
            a::DeletesAsMoves,
            a::GetChanges,
            a::WindowSize,
            a::ConversationMode,
            a::Options,
            a::Options,
            a::Commands
        ]
    );
    let top: Vec<Tag> = el.elements().map(|e| e.tag).collect();
    assert_eq!(
        top,
        [
            a::Collections,
            a::Wait,
            a::HeartbeatInterval,
            a::WindowSize,
            a::Partial
        ]
    );
    // An empty request, as sent to repeat the cached one.
    let empty = Element::new(a::Sync);
    assert_eq!(Request::from_element(&empty).unwrap(), Request::default());
    assert_eq!(Request::default().to_element(), empty);
}

#[test]
fn everything_a_response_can_say_round_trips_tree_and_stream() {
    let res = rich_response();
    let el = res.to_element();
    let bytes = el.encode().unwrap();
    assert_eq!(Response::from_element(&decode(&bytes)).unwrap(), res);
    let coll = el
        .child(a::Collections)
        .and_then(|c| c.child(a::Collection))
        .unwrap();
    let order: Vec<Tag> = coll.elements().map(|e| e.tag).collect();
    assert_eq!(
        order,
        [
            a::Class,
            a::SyncKey,
            a::CollectionId,
            a::Status,
            a::MoreAvailable,
            a::Commands,
            a::Responses
        ]
    );
    assert_eq!(stream(&res), bytes);

    // The same, written with the writer's own item calls.
    let mut w = SyncResponseWriter::new(Vec::new()).unwrap();
    let first = &res.collections[0];
    w.begin_collection(&first.header).unwrap();
    let subject = |w: &mut Writer<Vec<u8>>| w.text_element(crate::codepages::email::Subject, "Hi");
    w.add_of_class("SMS", &sid("5:9"), subject).unwrap();
    w.change(&sid("5:1"), subject).unwrap();
    w.delete(&sid("5:2")).unwrap();
    w.soft_delete(&sid("5:3")).unwrap();
    assert_eq!(w.commands_written(), 4);
    for r in &first.responses {
        w.response(r).unwrap();
    }
    w.end_collection().unwrap();
    w.collection(&res.collections[1]).unwrap();
    assert_eq!(w.commands_written(), 0);
    assert_eq!(w.finish().unwrap(), bytes);
}

#[test]
fn whole_request_failures() {
    let res = Response {
        limit: Some(59),
        ..Response::failure(Status::INVALID_WAIT_OR_HEARTBEAT)
    };
    let el = res.to_element();
    assert_eq!(
        el,
        Element::new(a::Sync)
            .with(Element::text(a::Status, "14"))
            .with(Element::text(a::Limit, "59"))
    );
    assert_eq!(Response::from_element(&el).unwrap(), res);
    let empty = SyncResponseWriter::new(Vec::new())
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(empty, Response::default().to_element().encode().unwrap());
}

#[test]
fn the_writer_refuses_calls_out_of_order() {
    let header = CollectionHeader::new(key("1"), cid("1"), Status::SUCCESS);
    let out_of_order = |r: Result<(), WriteError>| {
        assert!(matches!(r, Err(WriteError::OutOfOrder { .. })), "{r:?}");
    };
    let mut w = SyncResponseWriter::new(Vec::new()).unwrap();
    out_of_order(w.delete(&sid("1:1")));
    out_of_order(w.response(&ItemResponse::Delete {
        server_id: sid("1:1"),
        status: Status::OBJECT_NOT_FOUND,
    }));
    out_of_order(w.end_collection());
    w.begin_collection(&header).unwrap();
    out_of_order(w.begin_collection(&header));
    w.response(&ItemResponse::Delete {
        server_id: sid("1:1"),
        status: Status::OBJECT_NOT_FOUND,
    })
    .unwrap();
    out_of_order(w.delete(&sid("1:2")));
    w.end_collection().unwrap();

    let mut w = SyncResponseWriter::new(Vec::new()).unwrap();
    w.begin_collection(&header).unwrap();
    assert!(matches!(
        w.finish(),
        Err(WriteError::OutOfOrder { call: "finish", .. })
    ));

    // A closure that leaves an element open is caught.
    let mut w = SyncResponseWriter::new(Vec::new()).unwrap();
    w.begin_collection(&header).unwrap();
    out_of_order(w.add(&sid("1:1"), |w| w.start(a::Class)));
    // And an encoding error inside it is passed on.
    let mut w = SyncResponseWriter::new(Vec::new()).unwrap();
    w.begin_collection(&header).unwrap();
    assert!(matches!(
        w.add(&sid("1:1"), |w| w.text_element(a::Class, "a\0b")),
        Err(WriteError::Encode(EncodeError::NulInText { .. }))
    ));
}

#[test]
fn malformed_requests_say_which_element() {
    let coll = |children: Vec<Element<'static>>| {
        let mut c = Element::new(a::Collection);
        for k in children {
            c.push(k);
        }
        Element::new(a::Sync).with(Element::new(a::Collections).with(c))
    };
    let err = |el: Element<'static>| Request::from_element(&el).unwrap_err();
    assert_eq!(
        err(coll(vec![Element::text(a::CollectionId, "5")])),
        CommandError::Missing {
            parent: a::Collection,
            missing: a::SyncKey
        }
    );
    assert_eq!(
        err(coll(vec![Element::text(a::SyncKey, "1")])),
        CommandError::Missing {
            parent: a::Collection,
            missing: a::CollectionId
        }
    );
    let base = || {
        vec![
            Element::text(a::SyncKey, "1"),
            Element::text(a::CollectionId, "5"),
        ]
    };
    let with = |extra: Element<'static>| {
        let mut v = base();
        v.push(extra);
        coll(v)
    };
    assert!(matches!(
        err(with(Element::text(a::WindowSize, "-3"))),
        CommandError::Invalid {
            tag: a::WindowSize,
            ..
        }
    ));
    assert!(matches!(
        err(with(Element::text(a::GetChanges, "2"))),
        CommandError::Invalid {
            tag: a::GetChanges,
            ..
        }
    ));
    assert!(matches!(
        err(with(
            Element::new(a::Options).with(Element::text(a::FilterType, "300"))
        )),
        CommandError::Invalid {
            tag: a::FilterType,
            ..
        }
    ));
    assert_eq!(
        err(with(Element::new(a::Commands).with(
            Element::new(a::Add).with(Element::new(a::ApplicationData))
        ))),
        CommandError::Missing {
            parent: a::Add,
            missing: a::ClientId
        }
    );
    assert_eq!(
        err(with(Element::new(a::Commands).with(
            Element::new(a::Change).with(Element::text(a::ServerId, "5:1"))
        ))),
        CommandError::Missing {
            parent: a::Change,
            missing: a::ApplicationData
        }
    );
    assert!(
        err(with(Element::new(a::Commands).with(
            Element::new(a::Fetch).with(Element::text(a::ServerId, "x".repeat(65)))
        )))
        .to_string()
        .contains("AirSync:ServerId")
    );
    assert_eq!(
        err(Element::new(a::Sync)
            .with(Element::text(a::Wait, "5"))
            .with(Element::text(a::Wait, "6"))),
        CommandError::Duplicate {
            parent: a::Sync,
            tag: a::Wait
        }
    );
    assert_eq!(
        err(Element::new(a::Collection)),
        CommandError::WrongRoot {
            expected: a::Sync,
            found: a::Collection
        }
    );
    // Unknown elements are skipped; unknown commands too.
    let lenient = with(
        Element::new(a::Commands)
            .with(Element::new(a::SoftDelete))
            .with(Element::new(a::Fetch).with(Element::text(a::ServerId, "5:1"))),
    );
    let req = Request::from_element(&lenient).unwrap();
    assert_eq!(req.collections[0].commands.len(), 1);
}

#[test]
fn malformed_responses_say_which_element() {
    let doc =
        |c: Element<'static>| Element::new(a::Sync).with(Element::new(a::Collections).with(c));
    let err = |el: Element<'static>| Response::from_element(&el).unwrap_err();
    assert_eq!(
        err(doc(Element::new(a::Collection)
            .with(Element::text(a::SyncKey, "1"))
            .with(Element::text(a::CollectionId, "5")))),
        CommandError::Missing {
            parent: a::Collection,
            missing: a::Status
        }
    );
    assert!(matches!(
        err(doc(Element::new(a::Collection)
            .with(Element::text(a::CollectionId, "5"))
            .with(Element::text(a::Status, "one")))),
        CommandError::Invalid { tag: a::Status, .. }
    ));
    assert_eq!(
        err(doc(Element::new(a::Collection)
            .with(Element::text(a::CollectionId, "5"))
            .with(Element::text(a::Status, "1"))
            .with(Element::new(a::Responses).with(
                Element::new(a::Add).with(Element::text(a::ClientId, "1"))
            )))),
        CommandError::Missing {
            parent: a::Add,
            missing: a::Status
        }
    );
}

fn sync_tag() -> impl Strategy<Value = Tag> {
    let mut tags: Vec<Tag> = crate::codepages::page(0)
        .unwrap()
        .tags
        .iter()
        .map(|d| d.tag)
        .collect();
    tags.extend([
        b::BodyPreference,
        b::Type,
        b::TruncationSize,
        b::Preview,
        b::InstanceId,
        email2::Send,
        rm::RightsManagementSupport,
    ]);
    proptest::sample::select(tags)
}

fn tree() -> impl Strategy<Value = Element<'static>> {
    let leaf = (
        sync_tag(),
        proptest::option::of(proptest::sample::select(vec!["0", "1", "5", "x", "99999"])),
    )
        .prop_map(|(tag, t)| match t {
            Some(t) => Element::text(tag, t),
            None => Element::new(tag),
        });
    leaf.prop_recursive(6, 96, 6, |inner| {
        (sync_tag(), proptest::collection::vec(inner, 0..6)).prop_map(|(tag, kids)| {
            let mut el = Element::new(tag);
            for k in kids {
                el.push(k);
            }
            el
        })
    })
}

proptest! {
    #[test]
    fn any_tree_is_answered_without_panic(mut el in tree()) {
        let _ = Request::from_element(&el);
        el.tag = a::Sync;
        if let Ok(req) = Request::from_element(&el) {
            prop_assert_eq!(Request::from_element(&req.to_element()), Ok(req));
        }
        if let Ok(res) = Response::from_element(&el) {
            let built = res.to_element();
            prop_assert_eq!(Response::from_element(&built), Ok(res.clone()));
            if res.status.is_none() && res.limit.is_none() {
                prop_assert_eq!(stream(&res), built.encode().unwrap());
            }
        }
    }
}

#[test]
fn collection_defaults_follow_the_spec() {
    let mut c = Collection::new(SyncKey::initial(), cid("5"));
    assert!(!c.wants_changes(), "key 0 without GetChanges");
    assert!(c.deletes_are_moves());
    assert_eq!(c.window(), 100);
    c.sync_key = key("3");
    assert!(c.wants_changes());
    c.get_changes = Some(Toggle::Set(false));
    assert!(!c.wants_changes());
    c.deletes_as_moves = Some(Toggle::Empty);
    assert!(c.deletes_are_moves());
    c.deletes_as_moves = Some(Toggle::Set(false));
    assert!(!c.deletes_are_moves());
    for (asked, got) in [(0, 512), (1, 1), (512, 512), (513, 512), (u32::MAX, 512)] {
        c.window_size = Some(asked);
        assert_eq!(c.window(), got, "{asked}");
    }

    let email = Options {
        filter_type: Some(FilterType::ONE_WEEK),
        ..Options::default()
    };
    let sms = Options {
        class: Some("SMS".into()),
        ..Options::default()
    };
    c.options = vec![email.clone(), sms.clone()];
    assert_eq!(c.options_for("Email", "Email"), Some(&email));
    assert_eq!(c.options_for("SMS", "Email"), Some(&sms));
    assert_eq!(c.options_for("Calendar", "Email"), None);
    assert!(!c.redefines_options());
    c.options.push(Options {
        class: Some("SMS".into()),
        filter_type: Some(FilterType::ALL),
        ..Options::default()
    });
    assert!(c.redefines_options());
}
