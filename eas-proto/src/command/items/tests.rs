use super::*;
use crate::codepages::{moveitems, tasks};
use crate::command::airsyncbase::{Body, BodyType};
use crate::command::email::Email;
use crate::wbxml::{Limits, Tag};
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

fn cid(s: &str) -> CollectionId {
    CollectionId::new(s).unwrap()
}

fn sid(s: &str) -> ServerId {
    ServerId::new(s).unwrap()
}

#[test]
fn status_spaces_are_complete() {
    for v in 1..=4u8 {
        assert!(GetItemEstimateStatus(v).is_known());
    }
    for v in [1u8, 2, 3, 4, 5, 7] {
        assert!(MoveItemsStatus(v).is_known(), "{v}");
    }
    assert!(!MoveItemsStatus(6).is_known());
    for v in [
        1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 155, 156,
    ] {
        assert!(ItemOperationsStatus(v).is_known(), "{v}");
    }
    assert!(!ItemOperationsStatus(13).is_known());
}

#[test]
fn getitemestimate_fixtures_both_ways() {
    let bytes = fixture("getitemestimate-request");
    let req = GetItemEstimateRequest::from_element(&decode(&bytes)).unwrap();
    assert_eq!(
        req,
        GetItemEstimateRequest {
            collections: vec![EstimateCollection {
                options: vec![Options {
                    filter_type: Some(FilterType::ONE_WEEK),
                    ..Options::default()
                }],
                ..EstimateCollection::new(SyncKey::new("1").unwrap(), cid("5"))
            }],
        }
    );
    assert_eq!(req.to_element().encode().unwrap(), bytes);

    let bytes = fixture("getitemestimate-response");
    let res = GetItemEstimateResponse::from_element(&decode(&bytes)).unwrap();
    assert_eq!(
        res,
        GetItemEstimateResponse {
            status: None,
            responses: vec![EstimateResponse {
                status: GetItemEstimateStatus::SUCCESS,
                collection: Some(Estimate {
                    class: None,
                    collection_id: cid("5"),
                    estimate: Some(12),
                }),
            }],
        }
    );
    assert_eq!(res.to_element().encode().unwrap(), bytes);
}

#[test]
fn getitemestimate_in_the_12_form_and_errors() {
    let req = GetItemEstimateRequest {
        collections: vec![
            EstimateCollection {
                class: Some("Email".into()),
                filter_type: Some(FilterType::THREE_DAYS),
                ..EstimateCollection::new(SyncKey::new("3").unwrap(), cid("5"))
            },
            EstimateCollection {
                conversation_mode: Some(true),
                options: vec![
                    Options {
                        class: Some("Email".into()),
                        filter_type: Some(FilterType::ALL),
                        ..Options::default()
                    },
                    Options {
                        class: Some("SMS".into()),
                        max_items: Some(50),
                        ..Options::default()
                    },
                ],
                ..EstimateCollection::new(SyncKey::new("4").unwrap(), cid("6"))
            },
        ],
    };
    let bytes = req.to_element().encode().unwrap();
    assert_eq!(
        GetItemEstimateRequest::from_element(&decode(&bytes)).unwrap(),
        req
    );
    let res = GetItemEstimateResponse {
        status: Some(GetItemEstimateStatus::INVALID_SYNC_KEY),
        responses: vec![EstimateResponse {
            status: GetItemEstimateStatus::INVALID_COLLECTION,
            collection: Some(Estimate {
                class: Some("Email".into()),
                collection_id: cid("99"),
                estimate: None,
            }),
        }],
    };
    assert_eq!(
        GetItemEstimateResponse::from_element(&res.to_element()).unwrap(),
        res
    );

    let no_collections = Element::new(g::GetItemEstimate);
    assert_eq!(
        GetItemEstimateRequest::from_element(&no_collections),
        Err(CommandError::Missing {
            parent: g::GetItemEstimate,
            missing: g::Collections
        })
    );
    let no_key = Element::new(g::GetItemEstimate).with(
        Element::new(g::Collections)
            .with(Element::new(g::Collection).with(Element::text(g::CollectionId, "5"))),
    );
    assert_eq!(
        GetItemEstimateRequest::from_element(&no_key),
        Err(CommandError::Missing {
            parent: g::Collection,
            missing: a::SyncKey
        })
    );
    let bad_estimate = Element::new(g::GetItemEstimate).with(
        Element::new(g::Response)
            .with(Element::text(g::Status, "1"))
            .with(
                Element::new(g::Collection)
                    .with(Element::text(g::CollectionId, "5"))
                    .with(Element::text(g::Estimate, "many")),
            ),
    );
    assert!(matches!(
        GetItemEstimateResponse::from_element(&bad_estimate),
        Err(CommandError::Invalid {
            tag: g::Estimate,
            ..
        })
    ));
}

#[test]
fn moveitems_fixtures_both_ways() {
    let bytes = fixture("moveitems-request");
    let req = MoveItemsRequest::from_element(&decode(&bytes)).unwrap();
    assert_eq!(
        req.moves,
        [Move {
            src_msg_id: sid("5:1"),
            src_fld_id: cid("5"),
            dst_fld_id: cid("14"),
        }]
    );
    assert_eq!(req.to_element().encode().unwrap(), bytes);

    let bytes = fixture("moveitems-response");
    let res = MoveItemsResponse::from_element(&decode(&bytes)).unwrap();
    assert_eq!(
        res,
        MoveItemsResponse {
            status: None,
            responses: vec![MoveResponse {
                src_msg_id: sid("5:1"),
                status: MoveItemsStatus::SUCCESS,
                dst_msg_id: Some(sid("14:1")),
            }],
        }
    );
    assert_eq!(res.to_element().encode().unwrap(), bytes);

    let missing_dst = Element::new(moveitems::MoveItems).with(
        Element::new(moveitems::Move)
            .with(Element::text(moveitems::SrcMsgId, "5:1"))
            .with(Element::text(moveitems::SrcFldId, "5")),
    );
    assert_eq!(
        MoveItemsRequest::from_element(&missing_dst),
        Err(CommandError::Missing {
            parent: moveitems::Move,
            missing: moveitems::DstFldId
        })
    );
    let failed = MoveItemsResponse {
        status: None,
        responses: vec![MoveResponse {
            src_msg_id: sid("5:1"),
            status: MoveItemsStatus::INVALID_SOURCE,
            dst_msg_id: None,
        }],
    };
    assert_eq!(
        MoveItemsResponse::from_element(&failed.to_element()).unwrap(),
        failed
    );
}

#[test]
fn itemoperations_fetch_fixtures_both_ways() {
    let bytes = fixture("itemoperations-fetch-request");
    let req = ItemOperationsRequest::from_element(&decode(&bytes)).unwrap();
    assert_eq!(
        req.operations,
        [Operation::Fetch(Box::new(Fetch {
            collection_id: Some(cid("11")),
            server_id: Some(sid("11:1")),
            options: Some(FetchOptions {
                body_preferences: vec![BodyPreference {
                    truncation_size: Some(256),
                    all_or_none: Some(false),
                    ..BodyPreference::new(BodyType::PLAIN_TEXT)
                }],
                ..FetchOptions::default()
            }),
            ..Fetch::new(STORE_MAILBOX)
        }))]
    );
    assert_eq!(req.to_element().encode().unwrap(), bytes);

    let bytes = fixture("itemoperations-fetch-response");
    let res = ItemOperationsResponse::from_element(&decode(&bytes)).unwrap();
    assert_eq!(res.status, ItemOperationsStatus::SUCCESS);
    let [OperationResponse::Fetch(fetch)] = res.responses.as_slice() else {
        panic!("{:?}", res.responses);
    };
    assert_eq!(fetch.status, ItemOperationsStatus::SUCCESS);
    assert_eq!(fetch.collection_id, Some(cid("11")));
    assert_eq!(fetch.server_id, Some(sid("11:1")));
    assert_eq!(fetch.class.as_deref(), Some("Tasks"));
    let props = fetch.properties.as_ref().unwrap();
    assert_eq!(
        props.child(tasks::Subject).and_then(|e| e.text_content()),
        Some("TPS Reports for August 2009")
    );
    assert_eq!(
        Body::from_element(props.child(b::Body).unwrap()).unwrap(),
        Body {
            estimated_data_size: Some(52),
            data: Some("Must complete TPS reports using the new cover sheet.".into()),
            ..Body::new(BodyType::PLAIN_TEXT)
        }
    );
    assert_eq!(res.to_element().encode().unwrap(), bytes);
}

#[test]
fn itemoperations_document_library_fixtures_both_ways() {
    let link = r"\\EXCH-D-810\DocumentShare\Word Document.docx";
    let bytes = fixture("itemoperations-doclib-request");
    let req = ItemOperationsRequest::from_element(&decode(&bytes)).unwrap();
    assert_eq!(
        req.operations,
        [Operation::Fetch(Box::new(Fetch {
            link_id: Some(link.into()),
            ..Fetch::new(STORE_DOCUMENT_LIBRARY)
        }))]
    );
    assert_eq!(req.to_element().encode().unwrap(), bytes);

    let bytes = fixture("itemoperations-doclib-response");
    let res = ItemOperationsResponse::from_element(&decode(&bytes)).unwrap();
    let [OperationResponse::Fetch(fetch)] = res.responses.as_slice() else {
        panic!("{:?}", res.responses);
    };
    assert_eq!(fetch.link_id.as_deref(), Some(link));
    let props = FileProperties::from_element(fetch.properties.as_ref().unwrap()).unwrap();
    let expected = FileProperties {
        data: Some("UEsDBBQABgAIAAAAIQDd/+ImYzsK".into()),
        version: DateTime::parse("2009-11-11T19:15:45.177Z"),
        ..FileProperties::default()
    };
    assert_eq!(props, expected);
    // Built from typed values: the fixture again.
    let built = ItemOperationsResponse {
        status: ItemOperationsStatus::SUCCESS,
        responses: vec![OperationResponse::Fetch(FetchResponse {
            link_id: Some(link.into()),
            properties: Some(expected.to_element()),
            ..FetchResponse::new(ItemOperationsStatus::SUCCESS)
        })],
    };
    assert_eq!(built, res);
    assert_eq!(built.to_element().encode().unwrap(), bytes);
}

#[test]
fn every_operation_round_trips() {
    let schema = Element::new(io::Schema)
        .with(Element::new(crate::codepages::email::Subject))
        .with(Element::new(b::Body));
    let req = ItemOperationsRequest {
        operations: vec![
            Operation::Fetch(Box::new(Fetch {
                long_id: Some("RgAAAAD".into()),
                file_reference: None,
                options: Some(FetchOptions {
                    schema: Some(schema),
                    range: Some(ByteRange { start: 0, end: 999 }),
                    user_name: Some("CONTOSO\\chris".into()),
                    password: Some(Secret::new("hunter2")),
                    mime_support: Some(MimeSupport::ALWAYS),
                    body_preferences: vec![BodyPreference::new(BodyType::MIME)],
                    body_part_preferences: vec![BodyPreference::new(BodyType::HTML)],
                    rights_management_support: Some(true),
                }),
                remove_rights_management_protection: true,
                ..Fetch::new(STORE_MAILBOX)
            })),
            Operation::Fetch(Box::new(Fetch {
                file_reference: Some("5%3a1%3a0".into()),
                ..Fetch::new(STORE_MAILBOX)
            })),
            Operation::EmptyFolderContents {
                collection_id: cid("3"),
                delete_sub_folders: true,
            },
            Operation::EmptyFolderContents {
                collection_id: cid("4"),
                delete_sub_folders: false,
            },
            Operation::Move {
                conversation_id: vec![0x2C, 0x80, 0xFF, 0x00],
                dst_fld_id: cid("14"),
                move_always: true,
            },
        ],
    };
    let bytes = req.to_element().encode().unwrap();
    let back = ItemOperationsRequest::from_element(&decode(&bytes)).unwrap();
    assert_eq!(back, req);
    // The password is kept but never printed.
    assert!(!format!("{back:?}").contains("hunter2"));

    let email = Email {
        subject: Some("Hi".into()),
        read: Some(true),
        ..Email::default()
    };
    let res = ItemOperationsResponse {
        status: ItemOperationsStatus::SUCCESS,
        responses: vec![
            OperationResponse::Fetch(FetchResponse {
                collection_id: Some(cid("5")),
                server_id: Some(sid("5:1")),
                class: Some("Email".into()),
                properties: Some(email.to_element_as(io::Properties)),
                ..FetchResponse::new(ItemOperationsStatus::SUCCESS)
            }),
            OperationResponse::Fetch(FetchResponse {
                file_reference: Some("5%3a1%3a0".into()),
                properties: Some(
                    FileProperties {
                        content_type: Some("application/pdf".into()),
                        range: Some(ByteRange { start: 0, end: 9 }),
                        total: Some(5_000_000_000),
                        part: Some(1),
                        ..FileProperties::default()
                    }
                    .to_element(),
                ),
                ..FetchResponse::new(ItemOperationsStatus::SUCCESS)
            }),
            OperationResponse::Fetch(FetchResponse {
                long_id: Some("RgAAAAD".into()),
                ..FetchResponse::new(ItemOperationsStatus::NOT_FOUND)
            }),
            OperationResponse::EmptyFolderContents {
                status: ItemOperationsStatus::SUCCESS,
                collection_id: cid("3"),
            },
            OperationResponse::Move {
                status: ItemOperationsStatus::SUCCESS,
                conversation_id: vec![0x2C, 0x80, 0xFF, 0x00],
            },
        ],
    };
    let bytes = res.to_element().encode().unwrap();
    let back = ItemOperationsResponse::from_element(&decode(&bytes)).unwrap();
    assert_eq!(back, res);
    let OperationResponse::Fetch(first) = &back.responses[0] else {
        panic!();
    };
    assert_eq!(
        Email::from_element(first.properties.as_ref().unwrap()).unwrap(),
        email
    );
    let OperationResponse::Fetch(second) = &back.responses[1] else {
        panic!();
    };
    let props = FileProperties::from_element(second.properties.as_ref().unwrap()).unwrap();
    assert_eq!(props.total, Some(5_000_000_000));
    assert_eq!(props.part, Some(1));
    // A failure of the whole request is the status alone.
    let failed = ItemOperationsResponse {
        status: ItemOperationsStatus::PROTOCOL_ERROR,
        responses: vec![],
    };
    assert_eq!(
        failed.to_element(),
        Element::new(io::ItemOperations).with(Element::text(io::Status, "2"))
    );
}

#[test]
fn itemoperations_errors_say_which_element() {
    let no_store = Element::new(io::ItemOperations).with(Element::new(io::Fetch));
    assert_eq!(
        ItemOperationsRequest::from_element(&no_store),
        Err(CommandError::Missing {
            parent: io::Fetch,
            missing: io::Store
        })
    );
    let bad_range = Element::new(io::ItemOperations).with(
        Element::new(io::Fetch)
            .with(Element::text(io::Store, "DocumentLibrary"))
            .with(Element::new(io::Options).with(Element::text(io::Range, "10-"))),
    );
    assert!(matches!(
        ItemOperationsRequest::from_element(&bad_range),
        Err(CommandError::Invalid { tag: io::Range, .. })
    ));
    let move_without_destination = Element::new(io::ItemOperations)
        .with(Element::new(io::Move).with(Element::opaque(io::ConversationId, vec![1u8])));
    assert_eq!(
        ItemOperationsRequest::from_element(&move_without_destination),
        Err(CommandError::Missing {
            parent: io::Move,
            missing: io::DstFldId
        })
    );
    assert_eq!(
        ItemOperationsResponse::from_element(&Element::new(io::ItemOperations)),
        Err(CommandError::Missing {
            parent: io::ItemOperations,
            missing: io::Status
        })
    );
    for ok in ["0-0", "0-999999999", "5-3"] {
        assert!(ByteRange::parse(ok).is_some(), "{ok}");
    }
    for bad in [
        "",
        "-",
        "1-",
        "-1",
        "1-2-3",
        "a-b",
        "1234567890-1",
        " 1-2",
        "+1-2",
    ] {
        assert_eq!(ByteRange::parse(bad), None, "{bad}");
    }
}

#[test]
fn multipart_known_answer() {
    let wbxml = [0x03, 0x01, 0x6A, 0x00, 0x45, 0x01];
    let attachment = b"hello";
    let body = encode_multipart(&[&wbxml, attachment]).unwrap();
    let mut expected = Vec::new();
    expected.extend_from_slice(&[2, 0, 0, 0]); // PartsCount
    expected.extend_from_slice(&[20, 0, 0, 0, 6, 0, 0, 0]); // WBXML at 20, 6 bytes
    expected.extend_from_slice(&[26, 0, 0, 0, 5, 0, 0, 0]); // data at 26, 5 bytes
    expected.extend_from_slice(&wbxml);
    expected.extend_from_slice(attachment);
    assert_eq!(body, expected);
    assert_eq!(
        decode_multipart(&body).unwrap(),
        [&wbxml[..], &attachment[..]]
    );
    assert_eq!(multipart_head(&[6, 5]).unwrap(), expected[..20]);
    // An empty part is fine.
    let body = encode_multipart(&[&wbxml, b""]).unwrap();
    assert_eq!(decode_multipart(&body).unwrap(), [&wbxml[..], &b""[..]]);
}

#[test]
fn multipart_errors() {
    assert_eq!(multipart_head(&[]), Err(MultipartError::NoParts));
    assert_eq!(encode_multipart(&[]), Err(MultipartError::NoParts));
    assert_eq!(decode_multipart(&[]), Err(MultipartError::Truncated(0)));
    assert_eq!(
        decode_multipart(&[1, 0, 0]),
        Err(MultipartError::Truncated(3))
    );
    assert_eq!(
        decode_multipart(&[0, 0, 0, 0]),
        Err(MultipartError::NoParts)
    );
    assert_eq!(
        decode_multipart(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]),
        Err(MultipartError::TooManyParts {
            count: u32::MAX,
            len: 8
        })
    );
    // One part claimed at offset 12 with 1 byte, in a 12-byte body.
    let past_end = [1, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0];
    assert_eq!(
        decode_multipart(&past_end),
        Err(MultipartError::PartOutOfBounds {
            index: 0,
            offset: 12,
            length: 1,
            len: 12
        })
    );
    // An offset and length whose sum overflows.
    let overflow = [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    assert!(matches!(
        decode_multipart(&overflow),
        Err(MultipartError::PartOutOfBounds { index: 0, .. })
    ));
    // Parts may point anywhere inside the body, the head included.
    let head_itself = [1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0];
    assert_eq!(decode_multipart(&head_itself).unwrap(), [&head_itself[..4]]);
}

fn item_tag() -> impl Strategy<Value = Tag> {
    let mut tags: Vec<Tag> = [5u8, 6, 20]
        .iter()
        .flat_map(|p| crate::codepages::page(*p).unwrap().tags.iter())
        .map(|d| d.tag)
        .collect();
    tags.extend([
        a::SyncKey,
        a::CollectionId,
        a::ServerId,
        a::Options,
        a::FilterType,
        a::Class,
        b::FileReference,
        b::BodyPreference,
        b::Type,
        dl::LinkId,
        search::LongId,
    ]);
    proptest::sample::select(tags)
}

fn tree() -> impl Strategy<Value = Element<'static>> {
    let leaf = (
        item_tag(),
        proptest::option::of(proptest::sample::select(vec!["0", "1", "3", "x", "0-9"])),
    )
        .prop_map(|(tag, t)| match t {
            Some(t) => Element::text(tag, t),
            None => Element::new(tag),
        });
    leaf.prop_recursive(5, 64, 6, |inner| {
        (item_tag(), proptest::collection::vec(inner, 0..6)).prop_map(|(tag, kids)| {
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
        for root in [g::GetItemEstimate, m::MoveItems, io::ItemOperations] {
            el.tag = root;
            if let Ok(r) = GetItemEstimateRequest::from_element(&el) {
                prop_assert_eq!(GetItemEstimateRequest::from_element(&r.to_element()), Ok(r));
            }
            if let Ok(r) = GetItemEstimateResponse::from_element(&el) {
                prop_assert_eq!(GetItemEstimateResponse::from_element(&r.to_element()), Ok(r));
            }
            if let Ok(r) = MoveItemsRequest::from_element(&el) {
                prop_assert_eq!(MoveItemsRequest::from_element(&r.to_element()), Ok(r));
            }
            if let Ok(r) = MoveItemsResponse::from_element(&el) {
                prop_assert_eq!(MoveItemsResponse::from_element(&r.to_element()), Ok(r));
            }
            if let Ok(r) = ItemOperationsRequest::from_element(&el) {
                prop_assert_eq!(ItemOperationsRequest::from_element(&r.to_element()), Ok(r));
            }
            if let Ok(r) = ItemOperationsResponse::from_element(&el) {
                prop_assert_eq!(ItemOperationsResponse::from_element(&r.to_element()), Ok(r));
            }
            if let Ok(p) = FileProperties::from_element(&el) {
                prop_assert_eq!(FileProperties::from_element(&p.to_element()), Ok(p));
            }
        }
    }

    #[test]
    fn multipart_decoding_never_panics(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(parts) = decode_multipart(&body) {
            prop_assert!(!parts.is_empty());
        }
    }

    #[test]
    fn multipart_round_trips(parts in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..32), 1..6)
    ) {
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let body = encode_multipart(&refs).unwrap();
        prop_assert_eq!(decode_multipart(&body).unwrap(), refs);
    }
}
