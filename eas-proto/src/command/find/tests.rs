use super::*;
use crate::codepages::gal;
use crate::command::search::Picture;
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

#[test]
fn statuses_are_the_specs() {
    for v in 1..=4u8 {
        assert!(FindStatus(v).is_known());
    }
    assert!(!FindStatus(5).is_known());
}

#[test]
fn request_fixture_both_ways() {
    let bytes = fixture("find-request");
    let req = FindRequest::from_element(&decode(&bytes)).unwrap();
    assert_eq!(
        req,
        FindRequest {
            search_id: "4e4b51c5-4f4c-4c8e-9c7a-6a6b0c7d3e21".into(),
            criterion: Criterion::Mailbox {
                class: Some("Email".into()),
                collection_id: Some(CollectionId::new("5").unwrap()),
                free_text: "Presentation".into(),
                options: Some(FindOptions {
                    range: ResultRange::new(0, 4),
                    deep_traversal: true,
                    picture: None,
                }),
            },
        }
    );
    assert_eq!(req.to_element().encode().unwrap(), bytes);
}

#[test]
fn response_fixture_both_ways() {
    let bytes = fixture("find-response");
    let res = FindResponse::from_element(&decode(&bytes)).unwrap();
    let r = res.response.as_ref().unwrap();
    assert_eq!(
        (res.status, r.status),
        (FindStatus::SUCCESS, FindStatus::SUCCESS)
    );
    assert_eq!(r.store.as_deref(), Some("Mailbox"));
    assert_eq!((r.range, r.total), (ResultRange::new(0, 0), Some(1)));
    let hit = &r.results[0];
    assert_eq!(hit.server_id.as_ref().map(ServerId::as_str), Some("5:3"));
    assert_eq!(
        hit.properties,
        FindProperties {
            subject: Some("Presentation".into()),
            date_received: DateTime::parse("2016-03-04T18:23:41.000Z"),
            display_to: Some("Chris Gray".into()),
            display_cc: Some("Anat Kerry".into()),
            display_bcc: None,
            importance: Some(Importance::NORMAL),
            read: Some(false),
            is_draft: Some(false),
            preview: Some("Here is the deck for Monday.".into()),
            has_attachments: Some(true),
            from: Some("\"Anat Kerry\" <anat@contoso.com>".into()),
            other: vec![],
        }
    );
    assert_eq!(res.to_element().encode().unwrap(), bytes);
}

#[test]
fn gal_criterion_and_gal_properties_round_trip() {
    let req = FindRequest {
        search_id: "x".into(),
        criterion: Criterion::Gal {
            free_text: "anat".into(),
            options: Some(FindOptions {
                range: ResultRange::new(0, 22),
                deep_traversal: false,
                picture: Some(Picture {
                    max_size: Some(1024),
                    max_pictures: Some(2),
                }),
            }),
        },
    };
    let back = FindRequest::from_element(&decode(&req.to_element().encode().unwrap())).unwrap();
    assert_eq!(back, req);
    assert_eq!(back.criterion.options().range, ResultRange::new(0, 22));

    let res = FindResponse {
        status: FindStatus::SUCCESS,
        response: Some(FindStoreResponse {
            results: vec![FindResult {
                class: None,
                server_id: None,
                collection_id: None,
                properties: FindProperties {
                    other: vec![Element::text(gal::DisplayName, "Anat Kerry")],
                    ..Default::default()
                },
            }],
            ..FindStoreResponse::status(Some("GAL"), FindStatus::SUCCESS)
        }),
    };
    let back = FindResponse::from_element(&decode(&res.to_element().encode().unwrap())).unwrap();
    assert_eq!(back, res);
}

#[test]
fn malformed_requests_say_what_is_wrong() {
    let find = |execute: Element<'static>| {
        Element::new(f::Find)
            .with(Element::text(f::SearchId, "1"))
            .with(execute)
    };
    assert_eq!(
        FindRequest::from_element(&find(Element::new(f::ExecuteSearch))),
        Err(CommandError::Missing {
            parent: f::ExecuteSearch,
            missing: f::MailBoxSearchCriterion
        })
    );
    let both = Element::new(f::ExecuteSearch)
        .with(Element::new(f::MailBoxSearchCriterion))
        .with(Element::new(f::GalSearchCriterion));
    assert!(matches!(
        FindRequest::from_element(&find(both)),
        Err(CommandError::Conflict { .. })
    ));
    let no_text = Element::new(f::ExecuteSearch).with(
        Element::new(f::MailBoxSearchCriterion)
            .with(Element::new(f::Query).with(Element::text(a::Class, "Email"))),
    );
    assert_eq!(
        FindRequest::from_element(&find(no_text)),
        Err(CommandError::Missing {
            parent: f::Query,
            missing: f::FreeText
        })
    );
    let no_id = Element::new(f::Find).with(Element::new(f::ExecuteSearch));
    assert_eq!(
        FindRequest::from_element(&no_id),
        Err(CommandError::Missing {
            parent: f::Find,
            missing: f::SearchId
        })
    );
    let failure = FindResponse {
        status: FindStatus::INVALID_REQUEST,
        response: None,
    };
    assert_eq!(
        FindResponse::from_element(&failure.to_element()).unwrap(),
        failure
    );
}
