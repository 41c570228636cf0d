use super::*;
use crate::codepages::gal;
use crate::command::airsyncbase::{Body, BodyType};
use crate::command::email::Email;
use crate::wbxml::Limits;

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

#[test]
fn statuses_are_the_specs() {
    for v in [1u8, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 173, 174, 175] {
        assert!(SearchStatus(v).is_known(), "{v}");
    }
    assert!(!SearchStatus(9).is_known());
    assert_eq!(format!("{:?}", SearchStatus::TOO_COMPLEX), "8(TOO_COMPLEX)");
}

#[test]
fn ranges() {
    assert_eq!(ResultRange::parse("0-4"), ResultRange::new(0, 4));
    assert_eq!(ResultRange::parse("999-999").map(ResultRange::len), Some(1));
    assert_eq!(ResultRange::parse("0-99").map(ResultRange::len), Some(100));
    for bad in [
        "", "0", "4-0", "0-1000", "-1-2", "a-b", "0 - 4", "0-4-5", "0000-1",
    ] {
        assert_eq!(ResultRange::parse(bad), None, "{bad}");
    }
    let el = Element::text(s::Range, "5-1");
    assert!(matches!(
        ResultRange::from_element(&el),
        Err(CommandError::Invalid { .. })
    ));
}

#[test]
fn mailbox_request_fixture_both_ways() {
    let bytes = fixture("search-mailbox-request");
    let req = SearchRequest::from_element(&decode(&bytes)).unwrap();
    assert_eq!(
        req,
        SearchRequest {
            stores: vec![StoreRequest {
                name: STORE_MAILBOX.into(),
                query: Query::Conditions(vec![Condition::And(vec![
                    Condition::CollectionId(cid("7")),
                    Condition::FreeText("Presentation".into()),
                ])]),
                options: Some(SearchOptions(vec![
                    SearchOption::RebuildResults,
                    SearchOption::Range(ResultRange { start: 0, end: 4 }),
                    SearchOption::DeepTraversal,
                ])),
            }],
        }
    );
    let options = req.stores[0].options();
    assert!(options.rebuild_results() && options.deep_traversal());
    assert_eq!(options.range(), ResultRange::new(0, 4));
    assert_eq!(req.to_element().encode().unwrap(), bytes);
}

#[test]
fn gal_request_fixture_both_ways() {
    let bytes = fixture("search-gal-request");
    let req = SearchRequest::from_element(&decode(&bytes)).unwrap();
    assert_eq!(req.stores[0].name, STORE_GAL);
    assert_eq!(req.stores[0].query, Query::Text("Anat".into()));
    assert_eq!(
        req.stores[0].options().0,
        vec![
            SearchOption::Range(ResultRange { start: 0, end: 1 }),
            SearchOption::RebuildResults,
            SearchOption::DeepTraversal,
        ]
    );
    assert_eq!(req.to_element().encode().unwrap(), bytes);
}

#[test]
fn doclib_request_fixture_both_ways() {
    let bytes = fixture("search-doclib-request");
    let req = SearchRequest::from_element(&decode(&bytes)).unwrap();
    assert_eq!(
        req.stores[0].query,
        Query::Conditions(vec![Condition::EqualTo(Comparison {
            property: dl::LinkId,
            value: r"\\myserver\myshare".into(),
        })])
    );
    assert_eq!(req.to_element().encode().unwrap(), bytes);
}

#[test]
fn mailbox_response_fixture_both_ways() {
    let bytes = fixture("search-mailbox-response");
    let res = SearchResponse::from_element(&decode(&bytes)).unwrap();
    assert_eq!(res.status, SearchStatus::SUCCESS);
    let store = res.store.as_ref().unwrap();
    assert_eq!(store.status, SearchStatus::SUCCESS);
    assert_eq!(store.range, ResultRange::new(0, 0));
    assert_eq!(store.total, Some(1));
    let r = &store.results[0];
    assert_eq!(r.class.as_deref(), Some("Email"));
    assert_eq!(
        r.long_id.as_deref(),
        Some("RgAAAACe5Xr5YZxASJAFrqPHB%2fEiBwCt1yEXMW8JQpVhG6tZKgLoAAAAGTDOAAAJ")
    );
    assert_eq!(r.collection_id, Some(cid("7")));
    let email = Email::from_element(r.properties.as_ref().unwrap()).unwrap();
    assert_eq!(email.subject.as_deref(), Some("Presentation"));
    assert_eq!(email.read, Some(true));
    assert_eq!(
        email.body,
        Some(Body {
            estimated_data_size: Some(27),
            truncated: Some(true),
            ..Body::new(BodyType::PLAIN_TEXT)
        })
    );
    assert_eq!(res.to_element().encode().unwrap(), bytes);

    // The same response streamed, the properties written by the Email type.
    let mut w = SearchResponseWriter::new(Vec::new(), SearchStatus::SUCCESS).unwrap();
    w.result(
        r.class.as_deref(),
        r.long_id.as_deref(),
        r.collection_id.as_ref(),
        |w| email.write_children(w),
    )
    .unwrap();
    let streamed = w.finish(store.range, store.total).unwrap();
    assert_eq!(streamed, bytes);
}

#[test]
fn gal_and_doclib_response_fixtures_both_ways() {
    for name in ["search-gal-response", "search-doclib-response"] {
        let bytes = fixture(name);
        let res = SearchResponse::from_element(&decode(&bytes)).unwrap();
        assert_eq!(res.to_element().encode().unwrap(), bytes, "{name}");
        let store = res.store.unwrap();
        assert!(store.results.iter().all(|r| r.long_id.is_none()), "{name}");
        if name == "search-gal-response" {
            let props = store.results[0].properties.as_ref().unwrap();
            assert_eq!(
                props
                    .child(gal::EmailAddress)
                    .and_then(|e| e.text_content()),
                Some("anat@contoso.com")
            );
        } else {
            assert_eq!((store.results.len(), store.total), (2, Some(2)));
        }
    }
}

#[test]
fn every_query_shape_round_trips_and_unknown_elements_are_kept() {
    let date = |v: &str| Comparison {
        property: e::DateReceived,
        value: v.into(),
    };
    let req = SearchRequest {
        stores: vec![StoreRequest {
            name: STORE_MAILBOX.into(),
            query: Query::Conditions(vec![Condition::And(vec![
                Condition::Class("Email".into()),
                Condition::CollectionId(cid("1")),
                Condition::Or(vec![
                    Condition::FreeText("alpha".into()),
                    Condition::And(vec![Condition::FreeText("beta gamma".into())]),
                ]),
                Condition::ConversationId("0123456789ABCDEF0123456789ABCDEF".into()),
                Condition::GreaterThan(date("2026-01-01T00:00:00.000Z")),
                Condition::LessThan(date("2026-12-31T00:00:00.000Z")),
                Condition::Unknown(e::To),
            ])]),
            options: Some(SearchOptions(vec![
                SearchOption::MimeSupport(MimeSupport::ALWAYS),
                SearchOption::BodyPreference(BodyPreference::new(BodyType::MIME)),
                SearchOption::BodyPartPreference(BodyPreference::new(BodyType::HTML)),
                SearchOption::RightsManagementSupport(true),
                SearchOption::UserName("u".into()),
                SearchOption::Password(Secret::new("p")),
                SearchOption::Picture(Picture {
                    max_size: Some(100),
                    max_pictures: None,
                }),
                SearchOption::Range(ResultRange { start: 10, end: 19 }),
                SearchOption::Range(ResultRange { start: 0, end: 1 }),
            ])),
        }],
    };
    let bytes = req.to_element().encode().unwrap();
    let back = SearchRequest::from_element(&decode(&bytes)).unwrap();
    assert_eq!(back, req);
    let o = back.stores[0].options();
    assert_eq!(
        o.range(),
        ResultRange::new(10, 19),
        "the first Range counts"
    );
    assert_eq!(o.mime_support(), Some(MimeSupport::ALWAYS));
    assert_eq!(
        o.body_preferences(),
        vec![BodyPreference::new(BodyType::MIME)]
    );
    assert_eq!(o.picture().and_then(|p| p.max_size), Some(100));
    assert!(!o.deep_traversal() && !o.rebuild_results());
    assert!(
        !format!("{o:?}").contains("\"p\""),
        "the password stays secret"
    );
}

#[test]
fn malformed_requests_say_what_is_wrong() {
    assert_eq!(
        SearchRequest::from_element(&Element::new(s::Search)),
        Err(CommandError::Missing {
            parent: s::Search,
            missing: s::Store
        })
    );
    let no_query = Element::new(s::Search)
        .with(Element::new(s::Store).with(Element::text(s::Name, STORE_MAILBOX)));
    assert_eq!(
        SearchRequest::from_element(&no_query),
        Err(CommandError::Missing {
            parent: s::Store,
            missing: s::Query
        })
    );
    let store = |query: Element<'static>, options: Element<'static>| {
        Element::new(s::Search).with(
            Element::new(s::Store)
                .with(Element::text(s::Name, STORE_MAILBOX))
                .with(query)
                .with(options),
        )
    };
    let bad_range = store(
        Element::new(s::Query).with(Element::new(s::And)),
        Element::new(s::Options).with(Element::text(s::Range, "9-2")),
    );
    assert!(matches!(
        SearchRequest::from_element(&bad_range),
        Err(CommandError::Invalid { tag: s::Range, .. })
    ));
    let no_value = store(
        Element::new(s::Query).with(
            Element::new(s::And)
                .with(Element::new(s::GreaterThan).with(Element::new(e::DateReceived))),
        ),
        Element::new(s::Options),
    );
    assert_eq!(
        SearchRequest::from_element(&no_value),
        Err(CommandError::Missing {
            parent: s::GreaterThan,
            missing: s::Value
        })
    );
    let no_property = store(
        Element::new(s::Query).with(
            Element::new(s::And).with(Element::new(s::LessThan).with(Element::text(s::Value, "x"))),
        ),
        Element::new(s::Options),
    );
    assert_eq!(
        SearchRequest::from_element(&no_property),
        Err(CommandError::Missing {
            parent: s::LessThan,
            missing: e::DateReceived
        })
    );
}

#[test]
fn no_match_is_an_empty_result_and_a_refusal_is_a_store_status() {
    let res = SearchResponse {
        status: SearchStatus::SUCCESS,
        store: Some(StoreResponse {
            status: SearchStatus::SUCCESS,
            results: vec![SearchResult::default()],
            range: None,
            total: Some(0),
        }),
    };
    let el = res.to_element();
    let store = el
        .child(s::Response)
        .and_then(|r| r.child(s::Store))
        .unwrap();
    assert!(store.child(s::Result).unwrap().is_empty());
    assert_eq!(SearchResponse::from_element(&el).unwrap(), res);

    let mut w = SearchResponseWriter::new(Vec::new(), SearchStatus::SUCCESS).unwrap();
    w.built(&SearchResult::default()).unwrap();
    assert_eq!(w.finish(None, Some(0)).unwrap(), el.encode().unwrap());

    let refused = SearchResponse::store_status(SearchStatus::TOO_COMPLEX);
    let back = SearchResponse::from_element(&refused.to_element()).unwrap();
    assert_eq!(back.store.unwrap().status, SearchStatus::TOO_COMPLEX);
    let failed = SearchResponse {
        status: SearchStatus::SERVER_ERROR,
        store: None,
    };
    assert_eq!(
        SearchResponse::from_element(&failed.to_element()).unwrap(),
        failed
    );
}

#[test]
fn the_writer_refuses_an_unbalanced_closure() {
    let mut w = SearchResponseWriter::new(Vec::new(), SearchStatus::SUCCESS).unwrap();
    let err = w.result(Some("Email"), Some("x"), None, |w| w.start(e::Subject));
    assert!(err.is_err());
}
