//! ActiveSync commands by name and code (MS-ASHTTP 2.2.1.1.1.1.2).

use std::fmt;

/// An ActiveSync command: the `Cmd=` of the plain query, the Command code
/// byte of the base64 query.
///
/// A number newtype, so that a code this crate does not know can still be
/// held and logged; [`Command::is_known`] says whether it is one of the
/// table's. Codes 5 to 8 are absent from the spec's table: they were 2.5's
/// GetHierarchy, CreateCollection, DeleteCollection and MoveCollection (as
/// old Android clients and BlueMind still number them), which no version
/// this server speaks has, so they parse as unknown.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Command(pub u8);

macro_rules! commands {
    ($($konst:ident = $code:literal, $name:literal;)*) => {
        impl Command {
            $(
                #[doc = concat!("`", $name, "`, code ", stringify!($code), ".")]
                pub const $konst: Command = Command($code);
            )*

            /// Every command of the table, in code order.
            pub const ALL: &'static [Command] = &[$(Command::$konst),*];

            /// The command's name as the plain query spells it.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $code => Some($name), )*
                    _ => None,
                }
            }
        }
    };
}

commands! {
    SYNC = 0, "Sync";
    SEND_MAIL = 1, "SendMail";
    SMART_FORWARD = 2, "SmartForward";
    SMART_REPLY = 3, "SmartReply";
    GET_ATTACHMENT = 4, "GetAttachment";
    FOLDER_SYNC = 9, "FolderSync";
    FOLDER_CREATE = 10, "FolderCreate";
    FOLDER_DELETE = 11, "FolderDelete";
    FOLDER_UPDATE = 12, "FolderUpdate";
    MOVE_ITEMS = 13, "MoveItems";
    GET_ITEM_ESTIMATE = 14, "GetItemEstimate";
    MEETING_RESPONSE = 15, "MeetingResponse";
    SEARCH = 16, "Search";
    SETTINGS = 17, "Settings";
    PING = 18, "Ping";
    ITEM_OPERATIONS = 19, "ItemOperations";
    PROVISION = 20, "Provision";
    RESOLVE_RECIPIENTS = 21, "ResolveRecipients";
    VALIDATE_CERT = 22, "ValidateCert";
    // 16.1's Find. MS-ASHTTP's table as stored here ends at ValidateCert;
    // 23 is the code Microsoft's own protocol test suites and grommunio-sync
    // give Find.
    FIND = 23, "Find";
}

impl Command {
    pub const fn code(self) -> u8 {
        self.0
    }

    pub const fn is_known(self) -> bool {
        self.name().is_some()
    }

    /// The command with this name, ignoring ASCII case: the spec's ABNF
    /// strings are case-insensitive (RFC 5234 section 2.3) and Exchange
    /// reads its query case-insensitively, so `Cmd=foldersync` works there.
    pub fn from_name(name: &str) -> Option<Command> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
    }

    /// The command with this code, if the table has it.
    pub fn from_code(code: u8) -> Option<Command> {
        Some(Command(code)).filter(|c| c.is_known())
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Command({})", self.0),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_table() {
        let table: Vec<(u8, &str)> = Command::ALL
            .iter()
            .map(|c| (c.code(), c.name().unwrap()))
            .collect();
        assert_eq!(
            table,
            [
                (0, "Sync"),
                (1, "SendMail"),
                (2, "SmartForward"),
                (3, "SmartReply"),
                (4, "GetAttachment"),
                (9, "FolderSync"),
                (10, "FolderCreate"),
                (11, "FolderDelete"),
                (12, "FolderUpdate"),
                (13, "MoveItems"),
                (14, "GetItemEstimate"),
                (15, "MeetingResponse"),
                (16, "Search"),
                (17, "Settings"),
                (18, "Ping"),
                (19, "ItemOperations"),
                (20, "Provision"),
                (21, "ResolveRecipients"),
                (22, "ValidateCert"),
                (23, "Find"),
            ]
        );
    }

    #[test]
    fn names_and_codes_both_ways() {
        for &c in Command::ALL {
            assert_eq!(Command::from_code(c.code()), Some(c));
            assert_eq!(Command::from_name(c.name().unwrap()), Some(c));
        }
        assert_eq!(Command::from_name("foldersync"), Some(Command::FOLDER_SYNC));
        assert_eq!(Command::from_name("FOLDERSYNC"), Some(Command::FOLDER_SYNC));
        assert_eq!(Command::from_name("GetHierarchy"), None);
        assert_eq!(Command::from_name(""), None);
        for code in 5..=8 {
            assert_eq!(Command::from_code(code), None);
        }
        assert_eq!(Command::from_code(24), None);
        assert_eq!(format!("{:?}", Command(99)), "Command(99)");
        assert_eq!(Command::PROVISION.to_string(), "Provision");
    }
}
