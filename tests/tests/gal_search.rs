//! Search with Store GAL (MS-ASCMD 2.2.1.16) end to end, through a real
//! OpenLDAP slapd and through the embedded directory (the same people
//! imported from LDIF): a prefix query finds the entries whose names,
//! alias or address start with it, case-insensitively, sorted by display
//! name, with the GAL properties (MS-ASCMD 2.2.3.139.3: DisplayName, Phone,
//! Office, Title, Company, Alias, FirstName, LastName, HomePhone,
//! MobilePhone, EmailAddress); Range and Total when more match than the
//! range; Picture at 16.1 with its Status 173 (no photo); the Store
//! statuses of MS-ASCMD 2.2.3.177.13: 2 for an empty query, 12 for a range
//! of more than 100 entries or one past the matches, and 7 (connection
//! failed) at once when slapd is stopped.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::codepages::gal as g;
use eas_proto::command::search::{
    Picture, Query, ResultRange, STORE_GAL, SearchOption, SearchOptions, SearchRequest,
    SearchResponse, SearchStatus, StoreRequest, StoreResponse,
};
use eas_proto::http::Command;
use eas_proto::wbxml::{Element, Tag};
use eas_tests::client::EasClient;
use eas_tests::server::{ALICE_PASSWORD, TempDir, TestServer};
use eas_tests::slapd::{BASE_DN, Slapd};

/// Five people a query for "sam" finds (by display name, first name, last
/// name, alias), one it must not (a later word of the name), and the
/// people of the S/MIME tests (none of them a "sam").
fn ldif() -> String {
    let mut out = eas_tests::pki::ldif(BASE_DN);
    let person = |uid: &str, name: &str, given: &str, sn: &str, mail: &str, extra: &str| {
        format!(
            "dn: uid={uid},ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {name}\ndisplayName: {name}\ngivenName: {given}\nsn: {sn}\nmail: {mail}\n{extra}\n"
        )
    };
    out.push_str(&person(
        "sspade",
        "Sam Spade",
        "Sam",
        "Spade",
        "sam.spade@example.com",
        "telephoneNumber: +1 206 555 0100\nmobile: +1 206 555 0101\nhomePhone: +1 206 555 0102\n\
         o: Contoso\ntitle: Detective\nphysicalDeliveryOfficeName: 32/1234\n",
    ));
    out.push_str(&person(
        "sstone",
        "Samantha Stone",
        "Samantha",
        "Stone",
        "samantha@example.com",
        "",
    ));
    out.push_str(&person(
        "sortiz",
        "Samuel Ortiz",
        "Samuel",
        "Ortiz",
        "samuel@example.com",
        "",
    ));
    out.push_str(&person(
        "psampson",
        "Paula Sampson",
        "Paula",
        "Sampson",
        "paula@example.com",
        "",
    ));
    out.push_str(&person(
        "samzq",
        "Zed Quinn",
        "Zed",
        "Quinn",
        "zed@example.com",
        "",
    ));
    out.push_str(&person(
        "isaac",
        "Isaac Bassam",
        "Isaac",
        "Bassam",
        "isaac@example.com",
        "",
    ));
    out
}

/// The "sam" people in display-name order.
const SAMS: [&str; 5] = [
    "Paula Sampson",
    "Sam Spade",
    "Samantha Stone",
    "Samuel Ortiz",
    "Zed Quinn",
];

fn gal(c: &EasClient, query: &str, options: Vec<SearchOption>) -> SearchResponse {
    let req = SearchRequest {
        stores: vec![StoreRequest {
            name: STORE_GAL.into(),
            query: Query::Text(query.into()),
            options: (!options.is_empty()).then_some(SearchOptions(options)),
        }],
    };
    let reply = c.post_element(Command::SEARCH, &req.to_element());
    assert_eq!(reply.status, 200, "{}", reply.text());
    SearchResponse::from_element(&reply.element()).unwrap()
}

fn store(resp: SearchResponse) -> StoreResponse {
    assert_eq!(resp.status, SearchStatus::SUCCESS, "{resp:?}");
    resp.store.expect("a Store in the response")
}

fn range(a: u16, b: u16) -> SearchOption {
    SearchOption::Range(ResultRange::new(a, b).unwrap())
}

fn prop<'e>(p: &'e Element<'_>, tag: Tag) -> Option<&'e str> {
    p.child(tag).and_then(Element::text_content)
}

fn names(s: &StoreResponse) -> Vec<String> {
    s.results
        .iter()
        .map(|r| {
            prop(r.properties.as_ref().unwrap(), g::DisplayName)
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Everything a GAL search must answer, whichever directory holds the
/// people of [`ldif`].
fn check_gal(c: &EasClient) {
    // All of them, in order, with Range and Total.
    let all = store(gal(c, "sam", vec![]));
    assert_eq!(all.status, SearchStatus::SUCCESS);
    assert_eq!(names(&all), SAMS);
    assert_eq!(all.total, Some(5));
    assert_eq!(all.range, ResultRange::new(0, 4));
    // Case does not matter.
    assert_eq!(names(&store(gal(c, "SAM", vec![]))), SAMS);

    // Every property the entry has, as the spec lists them.
    let spade = all.results[1].properties.as_ref().unwrap();
    let expect = [
        (g::DisplayName, "Sam Spade"),
        (g::Phone, "+1 206 555 0100"),
        (g::Office, "32/1234"),
        (g::Title, "Detective"),
        (g::Company, "Contoso"),
        (g::Alias, "sspade"),
        (g::FirstName, "Sam"),
        (g::LastName, "Spade"),
        (g::HomePhone, "+1 206 555 0102"),
        (g::MobilePhone, "+1 206 555 0101"),
        (g::EmailAddress, "sam.spade@example.com"),
    ];
    for (tag, value) in expect {
        assert_eq!(prop(spade, tag), Some(value), "{tag:?} in {spade:?}");
    }
    // In GAL.xsd's order, and nothing else (no photo asked for).
    let tags: Vec<Tag> = spade.elements().map(|e| e.tag).collect();
    assert_eq!(tags, expect.map(|(t, _)| t));
    // An entry without phones has none, not empty ones.
    let stone = all.results[2].properties.as_ref().unwrap();
    assert_eq!(prop(stone, g::EmailAddress), Some("samantha@example.com"));
    assert_eq!(prop(stone, g::FirstName), Some("Samantha"));
    assert!(stone.child(g::Phone).is_none());
    assert!(stone.child(g::Picture).is_none());

    // More match than the range: the range asked for, and the Total.
    let first = store(gal(c, "sam", vec![range(0, 1)]));
    assert_eq!(first.status, SearchStatus::SUCCESS);
    assert_eq!(names(&first), SAMS[..2]);
    assert_eq!(first.range, ResultRange::new(0, 1));
    assert_eq!(first.total, Some(5));
    let rest = store(gal(c, "sam", vec![range(2, 9)]));
    assert_eq!(rest.status, SearchStatus::SUCCESS);
    assert_eq!(names(&rest), SAMS[2..]);
    assert_eq!(rest.range, ResultRange::new(2, 4));
    assert_eq!(rest.total, Some(5));

    // A narrower prefix; an address prefix.
    let samu = store(gal(c, "Samu", vec![]));
    assert_eq!(names(&samu), ["Samuel Ortiz"]);
    assert_eq!(samu.total, Some(1));
    let by_mail = store(gal(c, "sam.sp", vec![]));
    assert_eq!(names(&by_mail), ["Sam Spade"]);

    // No match: Status 1, no Result, Total 0, no Range.
    let none = store(gal(c, "zzzz", vec![]));
    assert_eq!(none.status, SearchStatus::SUCCESS);
    assert!(none.results.is_empty(), "{none:?}");
    assert_eq!(none.total, Some(0));
    assert_eq!(none.range, None);

    // Pictures at 16.1: each result says it has none (Status 173).
    let pics = store(gal(
        c,
        "sam",
        vec![
            range(0, 2),
            SearchOption::Picture(Picture {
                max_size: Some(10_240),
                max_pictures: Some(2),
            }),
        ],
    ));
    assert_eq!(pics.status, SearchStatus::SUCCESS);
    assert_eq!(pics.results.len(), 3);
    for r in &pics.results {
        let p = r.properties.as_ref().unwrap();
        let picture = p.child(g::Picture).expect("a gal:Picture per result");
        assert_eq!(
            prop(picture, g::Status),
            Some(SearchStatus::NO_PICTURE.0.to_string().as_str()),
            "{p:?}"
        );
        assert!(picture.child(g::Data).is_none());
    }

    // An empty query: Status 2 (a search parameter is invalid).
    for q in ["", "   "] {
        let empty = store(gal(c, q, vec![]));
        assert_eq!(empty.status, SearchStatus::INVALID_REQUEST, "{q:?}");
        assert!(empty.results.is_empty());
    }

    // A range of more than 100 entries: its first 100 and Status 12; a
    // range past the matches: Status 12 and nothing.
    let wide = store(gal(c, "sam", vec![range(0, 149)]));
    assert_eq!(wide.status, SearchStatus::END_OF_RANGE);
    assert_eq!(names(&wide), SAMS);
    let past = store(gal(c, "sam", vec![range(10, 19)]));
    assert_eq!(past.status, SearchStatus::END_OF_RANGE);
    assert!(past.results.is_empty());
    assert_eq!(past.total, Some(5));
}

fn client(server: &TestServer) -> EasClient {
    server.client(
        "alice",
        ALICE_PASSWORD,
        "galsearch1",
        ProtocolVersion::V16_1,
    )
}

const NO_PROVISIONING: &str = "[provisioning]\nenforce = false\n\n";

#[test]
fn gal_search_through_slapd() {
    let dir = TempDir::new("gal-slapd");
    let slapd = Slapd::start(dir.path(), &ldif());
    let server = TestServer::with_alice_and_config(&format!("{NO_PROVISIONING}{}", slapd.config()));
    check_gal(&client(&server));
}

#[test]
fn gal_search_through_the_embedded_directory() {
    let mut server = TestServer::with_config(NO_PROVISIONING);
    server.add_user("alice", "alice@example.com", ALICE_PASSWORD);
    let dir = TempDir::new("gal-ldif");
    let path = dir.path().join("people.ldif");
    std::fs::write(&path, ldif()).unwrap();
    server.cli_ok(&["directory", "import", path.to_str().unwrap()], "");
    server.start();
    check_gal(&client(&server));
}

#[test]
fn gal_search_with_slapd_stopped_is_status_7_at_once() {
    let dir = TempDir::new("gal-slapd-down");
    let mut slapd = Slapd::start(dir.path(), &ldif());
    let config = slapd
        .config()
        .replace("[directory]\n", "[directory]\ncache_ttl_secs = 0\n");
    let server = TestServer::with_alice_and_config(&format!("{NO_PROVISIONING}{config}"));
    let c = client(&server);
    assert_eq!(store(gal(&c, "sam", vec![])).total, Some(5));
    slapd.stop();
    for _ in 0..2 {
        let started = Instant::now();
        let resp = gal(&c, "sam", vec![]);
        let took = started.elapsed();
        assert_eq!(resp.status, SearchStatus::SUCCESS, "{resp:?}");
        let s = resp.store.unwrap();
        assert_eq!(s.status, SearchStatus::CONNECTION_FAILED, "{s:?}");
        assert!(s.results.is_empty());
        assert!(took < Duration::from_secs(10), "answered after {took:?}");
    }
    let log = server.log();
    assert!(
        log.contains("GAL search: the directory did not answer"),
        "{log}"
    );
}

/// A directory that takes the connection but never answers (a hung
/// server): Status 10, the search timed out, within the configured LDAP
/// time-out rather than a hang; not Status 7, which says it could not be
/// reached.
#[test]
fn gal_search_of_a_directory_that_never_answers_is_status_10() {
    // The kernel completes the handshake from the listen backlog; nothing
    // ever reads or writes.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hung.local_addr().unwrap().port();
    let config = format!(
        "{NO_PROVISIONING}[directory]\nbackend = \"ldap\"\ncache_ttl_secs = 0\n\n[ldap]\nurl = \"ldap://127.0.0.1:{port}\"\nbind_dn = \"cn=admin,{BASE_DN}\"\nbind_password = \"x\"\nbase_dn = \"{BASE_DN}\"\ntimeout_secs = 1\n"
    );
    let server = TestServer::with_alice_and_config(&config);
    let c = client(&server);
    let started = Instant::now();
    let resp = gal(&c, "sam", vec![]);
    let took = started.elapsed();
    assert_eq!(resp.status, SearchStatus::SUCCESS, "{resp:?}");
    let s = resp.store.unwrap();
    assert_eq!(s.status, SearchStatus::TIMED_OUT, "{s:?}\n{}", server.log());
    assert!(s.results.is_empty());
    assert!(took < Duration::from_secs(10), "answered after {took:?}");
    drop(hung);
}
