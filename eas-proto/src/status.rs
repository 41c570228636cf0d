//! The status values every command shares (MS-ASCMD 2.2.3.177: the values
//! 101 to 177 appear in each command's Status table with the same meaning).
//! Command-specific values (Sync's 3, FolderSync's 9, ...) live beside their
//! command.

use std::fmt;

/// A status value as sent in a command's top-level `Status` element. Any
/// number is representable, so a value we do not know survives a round trip.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Status(pub u16);

macro_rules! statuses {
    ($($name:ident = $value:literal,)*) => {
        impl Status {
            $(pub const $name: Status = Status($value);)*

            /// The spec's name for a common status, if this is one.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    SUCCESS = 1,
    INVALID_CONTENT = 101,
    INVALID_WBXML = 102,
    INVALID_XML = 103,
    INVALID_DATE_TIME = 104,
    INVALID_COMBINATION_OF_IDS = 105,
    INVALID_IDS = 106,
    INVALID_MIME = 107,
    DEVICE_ID_MISSING_OR_INVALID = 108,
    DEVICE_TYPE_MISSING_OR_INVALID = 109,
    SERVER_ERROR = 110,
    SERVER_ERROR_RETRY_LATER = 111,
    ACTIVE_DIRECTORY_ACCESS_DENIED = 112,
    MAILBOX_QUOTA_EXCEEDED = 113,
    MAILBOX_SERVER_OFFLINE = 114,
    SEND_QUOTA_EXCEEDED = 115,
    MESSAGE_RECIPIENT_UNRESOLVED = 116,
    MESSAGE_REPLY_NOT_ALLOWED = 117,
    MESSAGE_PREVIOUSLY_SENT = 118,
    MESSAGE_HAS_NO_RECIPIENT = 119,
    MAIL_SUBMISSION_FAILED = 120,
    MESSAGE_REPLY_FAILED = 121,
    ATTACHMENT_IS_TOO_LARGE = 122,
    USER_HAS_NO_MAILBOX = 123,
    USER_CANNOT_BE_ANONYMOUS = 124,
    USER_PRINCIPAL_COULD_NOT_BE_FOUND = 125,
    USER_DISABLED_FOR_SYNC = 126,
    USER_ON_NEW_MAILBOX_CANNOT_SYNC = 127,
    USER_ON_LEGACY_MAILBOX_CANNOT_SYNC = 128,
    DEVICE_IS_BLOCKED_FOR_THIS_USER = 129,
    ACCESS_DENIED = 130,
    ACCOUNT_DISABLED = 131,
    SYNC_STATE_NOT_FOUND = 132,
    SYNC_STATE_LOCKED = 133,
    SYNC_STATE_CORRUPT = 134,
    SYNC_STATE_ALREADY_EXISTS = 135,
    SYNC_STATE_VERSION_INVALID = 136,
    COMMAND_NOT_SUPPORTED = 137,
    VERSION_NOT_SUPPORTED = 138,
    DEVICE_NOT_FULLY_PROVISIONABLE = 139,
    REMOTE_WIPE_REQUESTED = 140,
    LEGACY_DEVICE_ON_STRICT_POLICY = 141,
    DEVICE_NOT_PROVISIONED = 142,
    POLICY_REFRESH = 143,
    INVALID_POLICY_KEY = 144,
    EXTERNALLY_MANAGED_DEVICES_NOT_ALLOWED = 145,
    NO_RECURRENCE_IN_CALENDAR = 146,
    UNEXPECTED_ITEM_CLASS = 147,
    REMOTE_SERVER_HAS_NO_SSL = 148,
    INVALID_STORED_REQUEST = 149,
    ITEM_NOT_FOUND = 150,
    TOO_MANY_FOLDERS = 151,
    NO_FOLDERS_FOUND = 152,
    ITEMS_LOST_AFTER_MOVE = 153,
    FAILURE_IN_MOVE_OPERATION = 154,
    MOVE_COMMAND_DISALLOWED_FOR_NON_PERSISTENT_MOVE_ACTION = 155,
    MOVE_COMMAND_INVALID_DESTINATION_FOLDER = 156,
    AVAILABILITY_TOO_MANY_RECIPIENTS = 160,
    AVAILABILITY_DL_LIMIT_REACHED = 161,
    AVAILABILITY_TRANSIENT_FAILURE = 162,
    AVAILABILITY_FAILURE = 163,
    BODY_PART_PREFERENCE_TYPE_NOT_SUPPORTED = 164,
    DEVICE_INFORMATION_REQUIRED = 165,
    INVALID_ACCOUNT_ID = 166,
    ACCOUNT_SEND_DISABLED = 167,
    IRM_FEATURE_DISABLED = 168,
    IRM_TRANSIENT_ERROR = 169,
    IRM_PERMANENT_ERROR = 170,
    IRM_INVALID_TEMPLATE_ID = 171,
    IRM_OPERATION_NOT_PERMITTED = 172,
    NO_PICTURE = 173,
    PICTURE_TOO_LARGE = 174,
    PICTURE_LIMIT_REACHED = 175,
    BODY_PART_CONVERSATION_TOO_LARGE = 176,
    MAXIMUM_DEVICES_REACHED = 177,
}

impl Status {
    pub fn as_text(self) -> String {
        self.0.to_string()
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{}({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_unknown_values() {
        assert_eq!(
            format!("{}", Status::DEVICE_NOT_PROVISIONED),
            "142(DEVICE_NOT_PROVISIONED)"
        );
        assert_eq!(format!("{}", Status(999)), "999");
        assert_eq!(Status::MAXIMUM_DEVICES_REACHED.0, 177);
        assert_eq!(Status(144).name(), Some("INVALID_POLICY_KEY"));
    }
}
