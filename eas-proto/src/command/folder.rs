//! The folder hierarchy commands (MS-ASCMD 2.2.1.3 to 2.2.1.6): FolderSync
//! brings the client's folder list up to date; FolderCreate, FolderUpdate
//! (rename or move) and FolderDelete change it. All four share one
//! synchronization key, the hierarchy's, which each successful answer
//! advances.
//!
//! Elements are written in the order of the schemas (MS-ASCMD section 6,
//! FolderSyncResponse.xsd and friends): the response `Changes` is a
//! sequence of `Count`, then every `Update`, then every `Delete`, then
//! every `Add`, which is why [`FolderChanges`] keeps three lists.

use super::fields::{Sink, Tree, num, opt, req, string};
use super::ids::{CollectionId, SyncKey};
use super::{CommandError, expect_root};
use crate::codepages::folderhierarchy as f;
use crate::number::number_enum;
use crate::wbxml::{Element, EncodeError};

number_enum! {
    /// The kind of a folder (MS-ASCMD 2.2.3.186.3, Type (FolderSync)).
    /// FolderCreate accepts only the user-created ones.
    pub struct FolderType(u8) {
        /// A user-created folder of no particular kind.
        USER_GENERIC = 1,
        INBOX = 2,
        DRAFTS = 3,
        DELETED_ITEMS = 4,
        SENT_ITEMS = 5,
        OUTBOX = 6,
        TASKS = 7,
        CALENDAR = 8,
        CONTACTS = 9,
        NOTES = 10,
        JOURNAL = 11,
        USER_MAIL = 12,
        USER_CALENDAR = 13,
        USER_CONTACTS = 14,
        USER_TASKS = 15,
        USER_JOURNAL = 16,
        USER_NOTES = 17,
        UNKNOWN = 18,
        RECIPIENT_INFORMATION_CACHE = 19,
    }
}

impl FolderType {
    /// Whether a client may create, rename or delete a folder of this type:
    /// 1 and 12 to 17. The others are the account's special folders.
    pub fn is_user_created(self) -> bool {
        matches!(self.0, 1 | 12..=17)
    }

    /// The class of the items this folder holds by default (the `Class`
    /// of Sync and GetItemEstimate), where there is one.
    pub fn item_class(self) -> Option<&'static str> {
        match self.0 {
            2..=6 | 12 => Some("Email"),
            7 | 15 => Some("Tasks"),
            8 | 13 => Some("Calendar"),
            9 | 14 => Some("Contacts"),
            10 | 17 => Some("Notes"),
            _ => None,
        }
    }
}

number_enum! {
    /// `Status` of a FolderSync response (MS-ASCMD 2.2.3.177.5).
    pub struct FolderSyncStatus(u8) {
        SUCCESS = 1,
        SERVER_ERROR = 6,
        /// The client's key is not the server's: it starts over from 0.
        INVALID_SYNC_KEY = 9,
        MALFORMED_REQUEST = 10,
        UNKNOWN_ERROR = 11,
        CODE_UNKNOWN = 12,
    }
}

number_enum! {
    /// `Status` of a FolderCreate response (MS-ASCMD 2.2.3.177.3).
    pub struct FolderCreateStatus(u8) {
        SUCCESS = 1,
        /// The parent already holds a folder of this name.
        ALREADY_EXISTS = 2,
        /// The parent is a special system folder (the recipient
        /// information cache).
        SPECIAL_PARENT = 3,
        PARENT_NOT_FOUND = 5,
        SERVER_ERROR = 6,
        INVALID_SYNC_KEY = 9,
        MALFORMED_REQUEST = 10,
        UNKNOWN_ERROR = 11,
        CODE_UNKNOWN = 12,
    }
}

number_enum! {
    /// `Status` of a FolderUpdate response (MS-ASCMD 2.2.3.177.6).
    pub struct FolderUpdateStatus(u8) {
        SUCCESS = 1,
        /// A folder of that name exists, or the folder is a special one.
        ALREADY_EXISTS_OR_SPECIAL = 2,
        /// The folder is the recipient information cache.
        RECIPIENT_INFORMATION_FOLDER = 3,
        NOT_FOUND = 4,
        PARENT_NOT_FOUND = 5,
        SERVER_ERROR = 6,
        INVALID_SYNC_KEY = 9,
        MALFORMED_REQUEST = 10,
        UNKNOWN_ERROR = 11,
    }
}

number_enum! {
    /// `Status` of a FolderDelete response (MS-ASCMD 2.2.3.177.4).
    pub struct FolderDeleteStatus(u8) {
        SUCCESS = 1,
        /// A special folder (Inbox, Outbox, Drafts, Contacts, the
        /// recipient information cache, ...), which clients cannot delete.
        SPECIAL_FOLDER = 3,
        NOT_FOUND = 4,
        SERVER_ERROR = 6,
        INVALID_SYNC_KEY = 9,
        MALFORMED_REQUEST = 10,
        UNKNOWN_ERROR = 11,
    }
}

fn sync_key(el: &Element<'_>) -> Result<SyncKey, CommandError> {
    SyncKey::from_element(el)
}

fn folder_id(el: &Element<'_>) -> Result<CollectionId, CommandError> {
    CollectionId::from_element(el)
}

/// A FolderSync request: the client's hierarchy key, `0` for everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderSyncRequest {
    pub sync_key: SyncKey,
}

impl FolderSyncRequest {
    pub fn from_element(el: &Element<'_>) -> Result<FolderSyncRequest, CommandError> {
        expect_root(el, f::FolderSync)?;
        Ok(FolderSyncRequest {
            sync_key: req(el, f::SyncKey, sync_key)?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(f::FolderSync, |s| {
            s.text(f::SyncKey, self.sync_key.as_str())
        })
    }
}

/// One folder as FolderSync describes it in `Add` and `Update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub server_id: CollectionId,
    /// [`CollectionId::root`] for a top-level folder.
    pub parent_id: CollectionId,
    pub display_name: String,
    pub folder_type: FolderType,
}

impl Folder {
    fn from_element(el: &Element<'_>) -> Result<Folder, CommandError> {
        Ok(Folder {
            server_id: req(el, f::ServerId, folder_id)?,
            parent_id: req(el, f::ParentId, folder_id)?,
            display_name: req(el, f::DisplayName, string)?,
            folder_type: req(el, f::Type, num("a folder type"))?,
        })
    }

    fn emit<S: Sink>(&self, s: &mut S, tag: crate::wbxml::Tag) -> Result<(), EncodeError> {
        s.start(tag)?;
        s.text(f::ServerId, self.server_id.as_str())?;
        s.text(f::ParentId, self.parent_id.as_str())?;
        s.text(f::DisplayName, &self.display_name)?;
        s.number(f::Type, self.folder_type.0)?;
        s.end()
    }
}

/// What changed in the hierarchy since the client's key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderChanges {
    /// The number of changes that follow. [`FolderChanges::new`] counts
    /// them; a value read from a response is kept as it was.
    pub count: Option<u32>,
    /// Folders renamed or moved.
    pub updates: Vec<Folder>,
    /// Folders removed, by id.
    pub deletes: Vec<CollectionId>,
    pub adds: Vec<Folder>,
}

impl FolderChanges {
    /// Changes with their `Count`.
    pub fn new(adds: Vec<Folder>, updates: Vec<Folder>, deletes: Vec<CollectionId>) -> Self {
        let total = adds.len() + updates.len() + deletes.len();
        FolderChanges {
            count: Some(u32::try_from(total).unwrap_or(u32::MAX)),
            updates,
            deletes,
            adds,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.updates.is_empty() && self.deletes.is_empty() && self.adds.is_empty()
    }

    fn from_element(el: &Element<'_>) -> Result<FolderChanges, CommandError> {
        let mut out = FolderChanges {
            count: opt(el, f::Count, num("a count"))?,
            ..FolderChanges::default()
        };
        for child in el.elements() {
            match child.tag {
                f::Update => out.updates.push(Folder::from_element(child)?),
                f::Delete => out.deletes.push(req(child, f::ServerId, folder_id)?),
                f::Add => out.adds.push(Folder::from_element(child)?),
                _ => {}
            }
        }
        Ok(out)
    }

    fn emit<S: Sink>(&self, s: &mut S) -> Result<(), EncodeError> {
        s.start(f::Changes)?;
        s.opt_number(f::Count, self.count)?;
        for folder in &self.updates {
            folder.emit(s, f::Update)?;
        }
        for id in &self.deletes {
            s.start(f::Delete)?;
            s.text(f::ServerId, id.as_str())?;
            s.end()?;
        }
        for folder in &self.adds {
            folder.emit(s, f::Add)?;
        }
        s.end()
    }
}

/// A FolderSync response. On failure only `status` is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderSyncResponse {
    pub status: FolderSyncStatus,
    pub sync_key: Option<SyncKey>,
    pub changes: Option<FolderChanges>,
}

impl FolderSyncResponse {
    pub fn from_element(el: &Element<'_>) -> Result<FolderSyncResponse, CommandError> {
        expect_root(el, f::FolderSync)?;
        Ok(FolderSyncResponse {
            status: req(el, f::Status, num("a FolderSync status"))?,
            sync_key: opt(el, f::SyncKey, sync_key)?,
            changes: opt(el, f::Changes, FolderChanges::from_element)?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(f::FolderSync, |s| {
            s.number(f::Status, self.status.0)?;
            s.opt_text(f::SyncKey, self.sync_key.as_ref().map(SyncKey::as_str))?;
            match &self.changes {
                Some(changes) => changes.emit(s),
                None => Ok(()),
            }
        })
    }
}

/// A FolderCreate request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderCreateRequest {
    pub sync_key: SyncKey,
    pub parent_id: CollectionId,
    pub display_name: String,
    /// One of the user-created types ([`FolderType::is_user_created`]).
    pub folder_type: FolderType,
}

impl FolderCreateRequest {
    pub fn from_element(el: &Element<'_>) -> Result<FolderCreateRequest, CommandError> {
        expect_root(el, f::FolderCreate)?;
        Ok(FolderCreateRequest {
            sync_key: req(el, f::SyncKey, sync_key)?,
            parent_id: req(el, f::ParentId, folder_id)?,
            display_name: req(el, f::DisplayName, string)?,
            folder_type: req(el, f::Type, num("a folder type"))?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(f::FolderCreate, |s| {
            s.text(f::SyncKey, self.sync_key.as_str())?;
            s.text(f::ParentId, self.parent_id.as_str())?;
            s.text(f::DisplayName, &self.display_name)?;
            s.number(f::Type, self.folder_type.0)
        })
    }
}

/// A FolderCreate response: the new key and the new folder's id on
/// success, the status alone otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderCreateResponse {
    pub status: FolderCreateStatus,
    pub sync_key: Option<SyncKey>,
    pub server_id: Option<CollectionId>,
}

impl FolderCreateResponse {
    pub fn from_element(el: &Element<'_>) -> Result<FolderCreateResponse, CommandError> {
        expect_root(el, f::FolderCreate)?;
        Ok(FolderCreateResponse {
            status: req(el, f::Status, num("a FolderCreate status"))?,
            sync_key: opt(el, f::SyncKey, sync_key)?,
            server_id: opt(el, f::ServerId, folder_id)?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(f::FolderCreate, |s| {
            s.number(f::Status, self.status.0)?;
            s.opt_text(f::SyncKey, self.sync_key.as_ref().map(SyncKey::as_str))?;
            s.opt_text(
                f::ServerId,
                self.server_id.as_ref().map(CollectionId::as_str),
            )
        })
    }
}

/// A FolderUpdate request: rename `server_id` to `display_name` and put it
/// under `parent_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderUpdateRequest {
    pub sync_key: SyncKey,
    pub server_id: CollectionId,
    pub parent_id: CollectionId,
    pub display_name: String,
}

impl FolderUpdateRequest {
    pub fn from_element(el: &Element<'_>) -> Result<FolderUpdateRequest, CommandError> {
        expect_root(el, f::FolderUpdate)?;
        Ok(FolderUpdateRequest {
            sync_key: req(el, f::SyncKey, sync_key)?,
            server_id: req(el, f::ServerId, folder_id)?,
            parent_id: req(el, f::ParentId, folder_id)?,
            display_name: req(el, f::DisplayName, string)?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(f::FolderUpdate, |s| {
            s.text(f::SyncKey, self.sync_key.as_str())?;
            s.text(f::ServerId, self.server_id.as_str())?;
            s.text(f::ParentId, self.parent_id.as_str())?;
            s.text(f::DisplayName, &self.display_name)
        })
    }
}

/// A FolderUpdate response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderUpdateResponse {
    pub status: FolderUpdateStatus,
    pub sync_key: Option<SyncKey>,
}

impl FolderUpdateResponse {
    pub fn from_element(el: &Element<'_>) -> Result<FolderUpdateResponse, CommandError> {
        expect_root(el, f::FolderUpdate)?;
        Ok(FolderUpdateResponse {
            status: req(el, f::Status, num("a FolderUpdate status"))?,
            sync_key: opt(el, f::SyncKey, sync_key)?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(f::FolderUpdate, |s| {
            s.number(f::Status, self.status.0)?;
            s.opt_text(f::SyncKey, self.sync_key.as_ref().map(SyncKey::as_str))
        })
    }
}

/// A FolderDelete request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderDeleteRequest {
    pub sync_key: SyncKey,
    pub server_id: CollectionId,
}

impl FolderDeleteRequest {
    pub fn from_element(el: &Element<'_>) -> Result<FolderDeleteRequest, CommandError> {
        expect_root(el, f::FolderDelete)?;
        Ok(FolderDeleteRequest {
            sync_key: req(el, f::SyncKey, sync_key)?,
            server_id: req(el, f::ServerId, folder_id)?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(f::FolderDelete, |s| {
            s.text(f::SyncKey, self.sync_key.as_str())?;
            s.text(f::ServerId, self.server_id.as_str())
        })
    }
}

/// A FolderDelete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderDeleteResponse {
    pub status: FolderDeleteStatus,
    pub sync_key: Option<SyncKey>,
}

impl FolderDeleteResponse {
    pub fn from_element(el: &Element<'_>) -> Result<FolderDeleteResponse, CommandError> {
        expect_root(el, f::FolderDelete)?;
        Ok(FolderDeleteResponse {
            status: req(el, f::Status, num("a FolderDelete status"))?,
            sync_key: opt(el, f::SyncKey, sync_key)?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        Tree::build(f::FolderDelete, |s| {
            s.number(f::Status, self.status.0)?;
            s.opt_text(f::SyncKey, self.sync_key.as_ref().map(SyncKey::as_str))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::{Limits, Tag};
    use proptest::prelude::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../fixtures/wbxml/{name}.wbxml",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn decode(bytes: &[u8]) -> Element<'_> {
        Element::decode(bytes, Limits::default()).unwrap()
    }

    fn id(s: &str) -> CollectionId {
        CollectionId::new(s).unwrap()
    }

    fn key(s: &str) -> SyncKey {
        SyncKey::new(s).unwrap()
    }

    fn folder(server_id: &str, parent: &str, name: &str, t: FolderType) -> Folder {
        Folder {
            server_id: id(server_id),
            parent_id: id(parent),
            display_name: name.into(),
            folder_type: t,
        }
    }

    #[test]
    fn every_folder_type_has_a_name() {
        for v in 1..=19u8 {
            assert!(FolderType(v).is_known(), "{v}");
        }
        assert!(!FolderType(0).is_known());
        assert!(!FolderType(20).is_known());
        assert_eq!(
            format!("{:?}", FolderType(19)),
            "19(RECIPIENT_INFORMATION_CACHE)"
        );
        let user: Vec<u8> = (0..=20u8)
            .filter(|v| FolderType(*v).is_user_created())
            .collect();
        assert_eq!(user, [1, 12, 13, 14, 15, 16, 17]);
        assert_eq!(FolderType::INBOX.item_class(), Some("Email"));
        assert_eq!(FolderType::USER_CALENDAR.item_class(), Some("Calendar"));
        assert_eq!(FolderType::JOURNAL.item_class(), None);
    }

    #[test]
    fn foldersync_request_fixture_both_ways() {
        let bytes = fixture("foldersync-request");
        let req = FolderSyncRequest::from_element(&decode(&bytes)).unwrap();
        assert_eq!(req.sync_key, SyncKey::initial());
        assert_eq!(req.to_element().encode().unwrap(), bytes);
    }

    #[test]
    fn foldersync_response_fixture_both_ways() {
        let bytes = fixture("foldersync-response");
        let res = FolderSyncResponse::from_element(&decode(&bytes)).unwrap();
        let expected = FolderSyncResponse {
            status: FolderSyncStatus::SUCCESS,
            sync_key: Some(key("1")),
            changes: Some(FolderChanges::new(
                vec![
                    folder("1", "0", "Calendar", FolderType::CALENDAR),
                    folder("2", "0", "Contacts", FolderType::CONTACTS),
                    folder("3", "0", "Deleted Items", FolderType::DELETED_ITEMS),
                    folder("4", "0", "Drafts", FolderType::DRAFTS),
                    folder("5", "0", "Inbox", FolderType::INBOX),
                ],
                vec![],
                vec![],
            )),
        };
        assert_eq!(res, expected);
        assert_eq!(expected.to_element().encode().unwrap(), bytes);
    }

    #[test]
    fn foldersync_changes_fixture_both_ways() {
        let bytes = fixture("foldersync-changes-response");
        let res = FolderSyncResponse::from_element(&decode(&bytes)).unwrap();
        let expected = FolderSyncResponse {
            status: FolderSyncStatus::SUCCESS,
            sync_key: Some(key("5")),
            changes: Some(FolderChanges::new(
                vec![],
                vec![folder("12", "0", "Projects", FolderType::USER_MAIL)],
                vec![id("13")],
            )),
        };
        assert_eq!(res, expected);
        assert_eq!(expected.to_element().encode().unwrap(), bytes);
    }

    #[test]
    fn foldercreate_fixtures_both_ways() {
        let bytes = fixture("foldercreate-request");
        let req = FolderCreateRequest::from_element(&decode(&bytes)).unwrap();
        assert_eq!(
            req,
            FolderCreateRequest {
                sync_key: key("1"),
                parent_id: id("5"),
                display_name: "Archive 2009".into(),
                folder_type: FolderType::USER_MAIL,
            }
        );
        assert_eq!(req.to_element().encode().unwrap(), bytes);

        let bytes = fixture("foldercreate-response");
        let res = FolderCreateResponse::from_element(&decode(&bytes)).unwrap();
        assert_eq!(
            res,
            FolderCreateResponse {
                status: FolderCreateStatus::SUCCESS,
                sync_key: Some(key("2")),
                server_id: Some(id("13")),
            }
        );
        assert_eq!(res.to_element().encode().unwrap(), bytes);
    }

    #[test]
    fn folderupdate_fixtures_both_ways() {
        let bytes = fixture("folderupdate-request");
        let req = FolderUpdateRequest::from_element(&decode(&bytes)).unwrap();
        assert_eq!(
            req,
            FolderUpdateRequest {
                sync_key: key("3"),
                server_id: id("12"),
                parent_id: CollectionId::root(),
                display_name: "Projects".into(),
            }
        );
        assert_eq!(req.to_element().encode().unwrap(), bytes);

        let bytes = fixture("folderupdate-response");
        let res = FolderUpdateResponse::from_element(&decode(&bytes)).unwrap();
        assert_eq!(res.status, FolderUpdateStatus::SUCCESS);
        assert_eq!(res.sync_key, Some(key("4")));
        assert_eq!(res.to_element().encode().unwrap(), bytes);
    }

    #[test]
    fn folderdelete_fixtures_both_ways() {
        let bytes = fixture("folderdelete-request");
        let req = FolderDeleteRequest::from_element(&decode(&bytes)).unwrap();
        assert_eq!(req.sync_key, key("2"));
        assert_eq!(req.server_id, id("13"));
        assert_eq!(req.to_element().encode().unwrap(), bytes);

        let bytes = fixture("folderdelete-response");
        let res = FolderDeleteResponse::from_element(&decode(&bytes)).unwrap();
        assert_eq!(res.status, FolderDeleteStatus::SUCCESS);
        assert_eq!(res.sync_key, Some(key("3")));
        assert_eq!(res.to_element().encode().unwrap(), bytes);
    }

    #[test]
    fn failures_carry_only_the_status() {
        let res = FolderSyncResponse {
            status: FolderSyncStatus::INVALID_SYNC_KEY,
            sync_key: None,
            changes: None,
        };
        let el = res.to_element();
        assert_eq!(
            el,
            Element::new(f::FolderSync).with(Element::text(f::Status, "9"))
        );
        assert_eq!(FolderSyncResponse::from_element(&el).unwrap(), res);
        let res = FolderDeleteResponse {
            status: FolderDeleteStatus::SPECIAL_FOLDER,
            sync_key: None,
        };
        assert_eq!(
            FolderDeleteResponse::from_element(&res.to_element()).unwrap(),
            res
        );
        // An unknown status survives.
        let el = Element::new(f::FolderCreate).with(Element::text(f::Status, "140"));
        let res = FolderCreateResponse::from_element(&el).unwrap();
        assert_eq!(res.status, FolderCreateStatus(140));
        assert_eq!(res.to_element(), el);
    }

    #[test]
    fn malformed_documents_say_what_is_wrong() {
        assert_eq!(
            FolderSyncRequest::from_element(&Element::new(f::FolderSync)),
            Err(CommandError::Missing {
                parent: f::FolderSync,
                missing: f::SyncKey
            })
        );
        assert_eq!(
            FolderSyncRequest::from_element(&Element::new(f::FolderCreate)),
            Err(CommandError::WrongRoot {
                expected: f::FolderSync,
                found: f::FolderCreate
            })
        );
        let two_keys = Element::new(f::FolderSync)
            .with(Element::text(f::SyncKey, "1"))
            .with(Element::text(f::SyncKey, "2"));
        assert_eq!(
            FolderSyncRequest::from_element(&two_keys),
            Err(CommandError::Duplicate {
                parent: f::FolderSync,
                tag: f::SyncKey
            })
        );
        let bad_type = Element::new(f::FolderCreate)
            .with(Element::text(f::SyncKey, "1"))
            .with(Element::text(f::ParentId, "0"))
            .with(Element::text(f::DisplayName, "x"))
            .with(Element::text(f::Type, "mail"));
        assert!(matches!(
            FolderCreateRequest::from_element(&bad_type),
            Err(CommandError::Invalid { tag: f::Type, .. })
        ));
        let no_parent = Element::new(f::FolderUpdate)
            .with(Element::text(f::SyncKey, "1"))
            .with(Element::text(f::ServerId, "4"))
            .with(Element::text(f::DisplayName, "x"));
        assert_eq!(
            FolderUpdateRequest::from_element(&no_parent),
            Err(CommandError::Missing {
                parent: f::FolderUpdate,
                missing: f::ParentId
            })
        );
        let long_id = Element::new(f::FolderDelete)
            .with(Element::text(f::SyncKey, "1"))
            .with(Element::text(f::ServerId, "9".repeat(65)));
        assert!(matches!(
            FolderDeleteRequest::from_element(&long_id),
            Err(CommandError::Invalid {
                tag: f::ServerId,
                ..
            })
        ));
        let bad_status = Element::new(f::FolderSync).with(Element::text(f::Status, "-1"));
        assert!(FolderSyncResponse::from_element(&bad_status).is_err());
        let add_without_type = Element::new(f::FolderSync)
            .with(Element::text(f::Status, "1"))
            .with(
                Element::new(f::Changes).with(
                    Element::new(f::Add)
                        .with(Element::text(f::ServerId, "1"))
                        .with(Element::text(f::ParentId, "0"))
                        .with(Element::text(f::DisplayName, "x")),
                ),
            );
        assert_eq!(
            FolderSyncResponse::from_element(&add_without_type),
            Err(CommandError::Missing {
                parent: f::Add,
                missing: f::Type
            })
        );
    }

    fn folder_tag() -> impl Strategy<Value = Tag> {
        let tags: Vec<Tag> = crate::codepages::page(7)
            .unwrap()
            .tags
            .iter()
            .map(|d| d.tag)
            .collect();
        proptest::sample::select(tags)
    }

    fn tree() -> impl Strategy<Value = Element<'static>> {
        let leaf =
            (folder_tag(), proptest::option::of("[0-9a-z ]{0,4}")).prop_map(|(tag, t)| match t {
                Some(t) => Element::text(tag, t),
                None => Element::new(tag),
            });
        leaf.prop_recursive(4, 48, 6, |inner| {
            (folder_tag(), proptest::collection::vec(inner, 0..6)).prop_map(|(tag, kids)| {
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
            for root in [f::FolderSync, f::FolderCreate, f::FolderUpdate, f::FolderDelete] {
                el.tag = root;
                if let Ok(r) = FolderSyncRequest::from_element(&el) {
                    prop_assert_eq!(FolderSyncRequest::from_element(&r.to_element()), Ok(r));
                }
                if let Ok(r) = FolderSyncResponse::from_element(&el) {
                    prop_assert_eq!(FolderSyncResponse::from_element(&r.to_element()), Ok(r));
                }
                if let Ok(r) = FolderCreateRequest::from_element(&el) {
                    prop_assert_eq!(FolderCreateRequest::from_element(&r.to_element()), Ok(r));
                }
                if let Ok(r) = FolderCreateResponse::from_element(&el) {
                    prop_assert_eq!(FolderCreateResponse::from_element(&r.to_element()), Ok(r));
                }
                if let Ok(r) = FolderUpdateRequest::from_element(&el) {
                    prop_assert_eq!(FolderUpdateRequest::from_element(&r.to_element()), Ok(r));
                }
                if let Ok(r) = FolderUpdateResponse::from_element(&el) {
                    prop_assert_eq!(FolderUpdateResponse::from_element(&r.to_element()), Ok(r));
                }
                if let Ok(r) = FolderDeleteRequest::from_element(&el) {
                    prop_assert_eq!(FolderDeleteRequest::from_element(&r.to_element()), Ok(r));
                }
                if let Ok(r) = FolderDeleteResponse::from_element(&el) {
                    prop_assert_eq!(FolderDeleteResponse::from_element(&r.to_element()), Ok(r));
                }
            }
        }
    }
}
