//! Ping (MS-ASCMD 2.2.1.13): the device names folders and a heartbeat; the
//! server answers when one of them changes or the heartbeat ends.

use super::ids::CollectionId;
use super::{CommandError, child, expect_root, number, required, text, text_element};
use crate::codepages::ping as p;
use crate::number::number_enum;
use crate::wbxml::Element;

number_enum! {
    /// Ping `Status` (MS-ASCMD 2.2.3.177.11).
    pub struct Status(u8) {
        /// The heartbeat ended with no change.
        EXPIRED = 1,
        /// Folders changed: `Folders` names them.
        CHANGES = 2,
        /// An empty Ping and no earlier one to repeat.
        MISSING_PARAMETERS = 3,
        PROTOCOL_ERROR = 4,
        /// The heartbeat is out of range: `HeartbeatInterval` says the bound.
        HEARTBEAT_OUT_OF_RANGE = 5,
        /// Too many folders: `MaxFolders` says how many may be watched.
        TOO_MANY_FOLDERS = 6,
        /// The folder hierarchy changed: the device runs FolderSync.
        HIERARCHY_CHANGED = 7,
        SERVER_ERROR = 8,
    }
}

/// One watched folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub id: CollectionId,
    /// Email, Calendar, Contacts, Tasks, Notes, SMS.
    pub class: String,
}

/// A Ping request. Both parts are optional: what is left out is taken from
/// the device's previous Ping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub heartbeat_interval: Option<u32>,
    pub folders: Option<Vec<Folder>>,
}

impl Request {
    pub fn from_element(el: &Element<'_>) -> Result<Request, CommandError> {
        expect_root(el, p::Ping)?;
        let heartbeat_interval = child(el, p::HeartbeatInterval)?
            .map(|h| number(h, "a heartbeat in seconds"))
            .transpose()?;
        let folders = match child(el, p::Folders)? {
            None => None,
            Some(list) => Some(
                list.children_with(p::Folder)
                    .map(|f| {
                        let id = required(f, p::Id)?;
                        Ok(Folder {
                            id: CollectionId::new(text(id)?).map_err(|_| {
                                CommandError::invalid(p::Id, text(id).unwrap_or(""), "a folder id")
                            })?,
                            class: text(required(f, p::Class)?)?.to_owned(),
                        })
                    })
                    .collect::<Result<Vec<_>, CommandError>>()?,
            ),
        };
        Ok(Request {
            heartbeat_interval,
            folders,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        let mut el = Element::new(p::Ping);
        if let Some(h) = self.heartbeat_interval {
            el.push(text_element(p::HeartbeatInterval, h.to_string()));
        }
        if let Some(folders) = &self.folders {
            let mut list = Element::new(p::Folders);
            for f in folders {
                list.push(
                    Element::new(p::Folder)
                        .with(text_element(p::Id, f.id.as_str()))
                        .with(text_element(p::Class, f.class.clone())),
                );
            }
            el.push(list);
        }
        el
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: Status,
    /// With [`Status::CHANGES`]: the folders that changed.
    pub folders: Vec<CollectionId>,
    /// With [`Status::HEARTBEAT_OUT_OF_RANGE`]: the nearest allowed value.
    pub heartbeat_interval: Option<u32>,
    /// With [`Status::TOO_MANY_FOLDERS`]: how many may be watched.
    pub max_folders: Option<u32>,
}

impl Response {
    pub fn new(status: Status) -> Response {
        Response {
            status,
            folders: Vec::new(),
            heartbeat_interval: None,
            max_folders: None,
        }
    }

    pub fn from_element(el: &Element<'_>) -> Result<Response, CommandError> {
        expect_root(el, p::Ping)?;
        let folders = match child(el, p::Folders)? {
            None => Vec::new(),
            Some(list) => list
                .children_with(p::Folder)
                .map(|f| {
                    let t = text(f)?;
                    CollectionId::new(t)
                        .map_err(|_| CommandError::invalid(p::Folder, t, "a folder id"))
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Response {
            status: number(required(el, p::Status)?, "a Ping status")?,
            folders,
            heartbeat_interval: child(el, p::HeartbeatInterval)?
                .map(|h| number(h, "seconds"))
                .transpose()?,
            max_folders: child(el, p::MaxFolders)?
                .map(|m| number(m, "a count"))
                .transpose()?,
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        let mut el = Element::new(p::Ping).with(text_element(p::Status, self.status.as_text()));
        if !self.folders.is_empty() {
            let mut list = Element::new(p::Folders);
            for f in &self.folders {
                list.push(text_element(p::Folder, f.as_str()));
            }
            el.push(list);
        }
        if let Some(m) = self.max_folders {
            el.push(text_element(p::MaxFolders, m.to_string()));
        }
        if let Some(h) = self.heartbeat_interval {
            el.push(text_element(p::HeartbeatInterval, h.to_string()));
        }
        el
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::Limits;

    const REQUEST: &[u8] = include_bytes!("../../../fixtures/wbxml/ping-request.wbxml");
    const RESPONSE: &[u8] = include_bytes!("../../../fixtures/wbxml/ping-response.wbxml");

    #[test]
    fn the_fixtures_read_and_write_back() {
        let el = Element::decode(REQUEST, Limits::default()).unwrap();
        let req = Request::from_element(&el).unwrap();
        assert!(req.heartbeat_interval.is_some());
        assert!(!req.folders.as_ref().unwrap().is_empty());
        assert_eq!(req.to_element().encode().unwrap(), REQUEST);
        let el = Element::decode(RESPONSE, Limits::default()).unwrap();
        let resp = Response::from_element(&el).unwrap();
        assert_eq!(resp.to_element().encode().unwrap(), RESPONSE);
    }

    #[test]
    fn empty_ping_and_errors() {
        let empty = Request::from_element(&Element::new(p::Ping)).unwrap();
        assert_eq!(empty, Request::default());
        let bad = Element::new(p::Ping).with(text_element(p::HeartbeatInterval, "soon"));
        assert!(Request::from_element(&bad).is_err());
        let folderless =
            Element::new(p::Ping).with(Element::new(p::Folders).with(Element::new(p::Folder)));
        assert!(Request::from_element(&folderless).is_err());
    }
}
