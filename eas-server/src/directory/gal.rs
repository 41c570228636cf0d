//! A directory entry as the `Properties` of a Search result with Store
//! GAL (MS-ASCMD 2.2.3.139.2; the GAL namespace, MS-ASWBXML page 16).
//! The Search command's GAL branch calls [`super::DirectoryService::search`]
//! and this.

use eas_proto::ProtocolVersion;
use eas_proto::codepages::{gal as g, search as s};
use eas_proto::wbxml::Element;

use crate::store::DirectoryEntry;

/// `gal:Picture` Status 173: the entry has no photo. The directory keeps
/// no photos yet, so every Picture request gets this.
pub const NO_PICTURE: u8 = 173;

/// The `Properties` element for `entry`, in GAL.xsd order. `picture`: the
/// client asked for photos (Options/Picture, 14.1 and later).
pub fn properties(
    entry: &DirectoryEntry,
    version: ProtocolVersion,
    picture: bool,
) -> Element<'static> {
    let mut p = Element::new(s::Properties);
    let mut text = |tag, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            p.push(Element::text(tag, v.to_owned()));
        }
    };
    text(g::DisplayName, Some(entry.display_name.as_str()));
    text(g::Phone, entry.phone.as_deref());
    text(g::Office, entry.office.as_deref());
    text(g::Title, entry.title.as_deref());
    text(g::Company, entry.company.as_deref());
    text(g::Alias, entry.alias.as_deref());
    text(g::FirstName, entry.first_name.as_deref());
    text(g::LastName, entry.last_name.as_deref());
    text(g::HomePhone, entry.home_phone.as_deref());
    text(g::MobilePhone, entry.mobile_phone.as_deref());
    text(g::EmailAddress, Some(entry.email.as_str()));
    if picture && version >= ProtocolVersion::V14_1 {
        p.push(Element::new(g::Picture).with(Element::text(g::Status, NO_PICTURE.to_string())));
    }
    p
}

/// The most entries one GAL response carries (MS-ASCMD Range (Search):
/// GAL, default range 0-99, "maximum results returned 100").
pub const MAX_RESULTS: usize = 100;

/// Search with Store GAL (MS-ASCMD 2.2.1.16): entries whose names or
/// addresses start with the Query text (case-insensitive), sorted by
/// display name, the Range asked for (0-99 by default) with Total.
///
/// - The directory is always asked for the same number of entries
///   (`[directory] max_results`, or the end of the range if that is
///   further), so every page of one query is cut from the same sorted
///   list, and one cached answer serves them all. Total is exact up to
///   that number; beyond it, it is that number plus one (MS-ASCMD calls
///   Total an estimate).
/// - A range of more than 100 entries gets its first 100 and Status 12
///   (the maximum range has been exceeded), as Store Mailbox does; so does
///   a range that starts past the last match.
/// - No match: no `Result` at all (MS-ASCMD Result (Search): the empty
///   `Result` is the mailbox's, not the GAL's), Total 0.
/// - An empty query, or conditions instead of text: Status 2 (one or more
///   of the client's search parameters was invalid).
/// - A directory that cannot be reached: Status 7, the connection failed;
///   one reached that does not answer within the LDAP time-out: Status 10,
///   the search timed out.
pub async fn search(
    ctx: &mut crate::cmd::Context<'_>,
    request: eas_proto::command::search::StoreRequest,
) -> crate::cmd::Outcome {
    use eas_proto::command::search::{
        Query, ResultRange, SearchResponse, SearchResult, SearchStatus, StoreResponse,
    };
    let refused =
        |status| crate::cmd::Outcome::Wbxml(SearchResponse::store_status(status).to_element());
    let Query::Text(text) = &request.query else {
        ctx.notes
            .push("a GAL query is text, not conditions; Status 2".into());
        return refused(SearchStatus::INVALID_REQUEST);
    };
    if text.trim().is_empty() {
        ctx.notes.push("an empty GAL query; Status 2".into());
        return refused(SearchStatus::INVALID_REQUEST);
    }
    let options = request.options();
    let asked = options.range().unwrap_or(ResultRange { start: 0, end: 99 });
    let picture = options.picture().is_some();
    let directory = &ctx.state.directory;
    let limit = usize::from(asked.end)
        .saturating_add(1)
        .max(directory.config.max_results.max(1));
    let found = match directory.search(text, limit).await {
        Ok(m) => m,
        Err(e) => {
            // MS-ASCMD 2.2.3.177.13: 10 is the search timing out, 7 the
            // connection to the directory failing.
            let status = match e {
                super::DirectoryError::TimedOut(_) => SearchStatus::TIMED_OUT,
                _ => SearchStatus::CONNECTION_FAILED,
            };
            tracing::warn!(account = %ctx.account.name, error = %e, "GAL search: the directory did not answer");
            ctx.notes
                .push(format!("GAL {text:?}: {e}; Status {}", status.0));
            return refused(status);
        }
    };
    let mut status = SearchStatus::SUCCESS;
    let start = usize::from(asked.start);
    let mut take = asked.len();
    if take > MAX_RESULTS {
        take = MAX_RESULTS;
        status = SearchStatus::END_OF_RANGE;
        ctx.notes.push(format!(
            "GAL Range {} is more than {MAX_RESULTS} entries; Status 12",
            asked.as_text()
        ));
    }
    if found.total > 0 && start >= found.entries.len() {
        status = SearchStatus::END_OF_RANGE;
        ctx.notes.push(format!(
            "GAL Range {} starts past the {} matches; Status 12",
            asked.as_text(),
            found.entries.len()
        ));
    }
    let results: Vec<SearchResult> = found
        .entries
        .iter()
        .skip(start)
        .take(take)
        .map(|e| SearchResult {
            properties: Some(properties(e, ctx.version, picture)),
            ..SearchResult::default()
        })
        .collect();
    ctx.notes.push(format!(
        "GAL {text:?}: {} matches, {} returned",
        found.total,
        results.len()
    ));
    let returned = results.len();
    let range = (returned > 0)
        .then(|| {
            let first = u16::try_from(start).ok()?;
            let last = u16::try_from(start + returned - 1).ok()?;
            ResultRange::new(first, last)
        })
        .flatten();
    crate::cmd::Outcome::Wbxml(
        SearchResponse {
            status: SearchStatus::SUCCESS,
            store: Some(StoreResponse {
                status,
                results,
                range,
                total: Some(u32::try_from(found.total).unwrap_or(u32::MAX)),
            }),
        }
        .to_element(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_entry_writes_as_the_fixture() {
        let anat = DirectoryEntry {
            id: "anat".into(),
            display_name: "Anat Kerry".into(),
            email: "anat@contoso.com".into(),
            phone: Some("(206) 555-0100".into()),
            office: Some("32/1234".into()),
            title: Some("Program Manager".into()),
            company: Some("Contoso".into()),
            alias: Some("anat".into()),
            first_name: Some("Anat".into()),
            last_name: Some("Kerry".into()),
            home_phone: Some("(206) 555-0102".into()),
            mobile_phone: Some("(206) 555-0101".into()),
            ..Default::default()
        };
        let fixture = include_bytes!("../../../fixtures/wbxml/search-gal-response.wbxml");
        let doc = Element::decode(fixture, eas_proto::wbxml::Limits::default()).unwrap();
        let expected = doc
            .child(s::Response)
            .and_then(|r| r.child(s::Store))
            .and_then(|st| st.child(s::Result))
            .and_then(|r| r.child(s::Properties))
            .unwrap();
        assert_eq!(&properties(&anat, ProtocolVersion::V14_1, false), expected);
        let with_picture = properties(&anat, ProtocolVersion::V16_1, true);
        assert!(with_picture.child(g::Picture).is_some());
        assert!(
            properties(&anat, ProtocolVersion::V14_0, true)
                .child(g::Picture)
                .is_none()
        );
    }
}
