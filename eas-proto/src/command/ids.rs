//! The identifiers of the AirSync and FolderHierarchy code pages, validated
//! once when read so the server can store and compare them without looking
//! again.
//!
//! The schemas bound all four to 64 characters (AirSync.xsd and
//! FolderHierarchy.xsd of MS-ASCMD section 6: `xs:maxLength value="64"`,
//! and `minLength 1` for the folder ids and the folder sync key). Control
//! characters are refused too: the values go into logs and storage keys.
//!
//! A folder has one id everywhere: the `ServerId` FolderSync gives it is the
//! `CollectionId` of Sync, GetItemEstimate and ItemOperations, the
//! `ParentId` of its children and the `SrcFldId`/`DstFldId` of MoveItems.
//! All of them are [`CollectionId`] here. An item's id is a [`ServerId`].

use std::fmt;

use super::{CommandError, text};
use crate::http::InvalidValue;
use crate::wbxml::Element;

fn check(value: &str, max: usize) -> Result<(), InvalidValue> {
    if value.is_empty() {
        return Err(InvalidValue::Empty);
    }
    let len = value.chars().count();
    if len > max {
        return Err(InvalidValue::TooLong { len, max });
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(InvalidValue::Control(u32::from(c)));
    }
    Ok(())
}

macro_rules! text_id {
    ($(#[$meta:meta])* $name:ident, $expected:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = 64;

            pub fn new(value: impl Into<String>) -> Result<$name, InvalidValue> {
                let value = value.into();
                check(&value, Self::MAX_LEN)?;
                Ok($name(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }

            pub(crate) fn from_element(el: &Element<'_>) -> Result<$name, CommandError> {
                let t = text(el)?;
                $name::new(t).map_err(|_| CommandError::invalid(el.tag, t, $expected))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<$name, InvalidValue> {
                $name::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidValue;

            fn try_from(s: &str) -> Result<$name, InvalidValue> {
                $name::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;

            fn try_from(s: String) -> Result<$name, InvalidValue> {
                $name::new(s)
            }
        }
    };
}

text_id! {
    /// A synchronization key (MS-ASCMD `SyncKey`): the server's
    /// name for the state a client has acknowledged, for the folder
    /// hierarchy or for one collection. `0` asks for a fresh start.
    SyncKey,
    "a synchronization key of 1 to 64 characters"
}

text_id! {
    /// A folder's id: `CollectionId` in Sync, `ServerId` and `ParentId` in
    /// the folder commands (where `0` names the root), `SrcFldId` and
    /// `DstFldId` in MoveItems.
    CollectionId,
    "a folder id of 1 to 64 characters"
}

text_id! {
    /// An item's id within the account (`ServerId` in Sync, `SrcMsgId` and
    /// `DstMsgId` in MoveItems).
    ServerId,
    "an item id of 1 to 64 characters"
}

text_id! {
    /// The client's temporary id for an item it adds (`ClientId` in Sync),
    /// until the server answers with the [`ServerId`].
    ClientId,
    "a client id of 1 to 64 characters"
}

impl SyncKey {
    /// The key `0`, which starts a synchronization over (MS-ASCMD 2.2.1.21
    /// and 2.2.1.5).
    pub fn initial() -> SyncKey {
        SyncKey("0".to_owned())
    }

    pub fn is_initial(&self) -> bool {
        self.0 == "0"
    }
}

impl CollectionId {
    /// The `ParentId` of a top-level folder (MS-ASCMD `ParentId`).
    pub fn root() -> CollectionId {
        CollectionId("0".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codepages::airsync as a;

    #[test]
    fn identifiers_are_bounded() {
        assert_eq!(SyncKey::new("0").unwrap(), SyncKey::initial());
        assert!(SyncKey::initial().is_initial());
        assert!(!SyncKey::new("1").unwrap().is_initial());
        assert_eq!(CollectionId::root().as_str(), "0");
        assert_eq!(ServerId::new("5:1").unwrap().to_string(), "5:1");
        assert_eq!(
            format!("{:?}", ClientId::new("7").unwrap()),
            "ClientId(\"7\")"
        );
        assert_eq!(ServerId::new(""), Err(InvalidValue::Empty));
        assert!(ServerId::new("x".repeat(64)).is_ok());
        assert_eq!(
            ServerId::new("é".repeat(65)),
            Err(InvalidValue::TooLong { len: 65, max: 64 })
        );
        assert_eq!(CollectionId::new("a\u{7}"), Err(InvalidValue::Control(7)));
        assert_eq!("12".parse::<CollectionId>().unwrap().into_string(), "12");
    }

    #[test]
    fn read_from_elements() {
        let el = Element::text(a::SyncKey, "42");
        assert_eq!(SyncKey::from_element(&el).unwrap().as_str(), "42");
        assert!(matches!(
            SyncKey::from_element(&Element::new(a::SyncKey)),
            Err(CommandError::Invalid {
                tag: a::SyncKey,
                ..
            })
        ));
        let nested = Element::new(a::ServerId).with(Element::new(a::Status));
        assert_eq!(
            ServerId::from_element(&nested),
            Err(CommandError::NotText { tag: a::ServerId })
        );
    }
}
