//! The MS-ASHTTP request line: which command, for which device, with which
//! command parameters, read from the query of `POST /Microsoft-Server-ActiveSync?…`.
//!
//! The query comes in two forms (MS-ASHTTP 2.2.1.1.1):
//!
//! - plain text, `Cmd=Sync&User=chris&DeviceId=ABC&DeviceType=iPhone` plus
//!   command parameters, percent-encoded ([`plain`]);
//! - base64 of a byte layout (2.2.1.1.1.1), which also carries what the
//!   plain form leaves to headers: the protocol version, the policy key and
//!   a locale ([`encoded`]).
//!
//! [`RequestLine::parse`] tells them apart and returns one [`RequestLine`].
//! Fields a form does not carry are `None`, and the HTTP layer fills them
//! from headers: `protocol_version` from `MS-ASProtocolVersion`,
//! `policy_key` from `X-MS-PolicyKey`, `accept_multipart` from
//! `MS-ASAcceptMultiPart`, `locale` from `Accept-Language`.
//!
//! Every error is the client's fault and says what was wrong; no input
//! panics (see the property tests).

mod command;
pub mod encoded;
mod ids;
pub mod plain;

pub use command::Command;
pub use ids::{DeviceId, DeviceType, InvalidValue, Locale, PolicyKey, UserName};

use crate::version::ProtocolVersion;

/// The longest query accepted, in bytes. The base64 form cannot be longer
/// than about 3 KiB (every field is at most 255 bytes); a plain query with
/// every parameter at its longest stays well below this.
pub const MAX_QUERY_LEN: usize = 8 * 1024;

/// The longest value of a command parameter (an item id, an attachment
/// name), in characters. Real ones are tens of characters.
pub const MAX_PARAMETER_LEN: usize = 1024;

/// Which form the query was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryForm {
    Plain,
    Base64,
}

/// Everything the query of one request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub form: QueryForm,
    pub command: Command,
    /// Optional in both forms: the spec's base64 example has none, and the
    /// account is decided by the Authorization header anyway.
    pub user: Option<UserName>,
    pub device_id: DeviceId,
    pub device_type: DeviceType,
    /// Base64 form only; else `MS-ASProtocolVersion`.
    pub protocol_version: Option<ProtocolVersion>,
    /// Base64 form only, and only when its length field is 4; else
    /// `X-MS-PolicyKey`.
    pub policy_key: Option<PolicyKey>,
    /// Base64 form only.
    pub locale: Option<Locale>,
    pub params: CommandParams,
}

/// The command parameters (MS-ASHTTP 2.2.1.1.1.2.5 and 2.2.1.1.1.1.3).
/// Each is `None` when the query does not give it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandParams {
    /// GetAttachment.
    pub attachment_name: Option<String>,
    /// SmartForward, SmartReply: the folder of the source message.
    pub collection_id: Option<String>,
    /// SmartForward, SmartReply: the source message.
    pub item_id: Option<String>,
    /// SmartForward, SmartReply: a Search result instead of an item.
    pub long_id: Option<String>,
    /// Only in older revisions of the spec's table (tag 5 of the base64
    /// form); Horde still reads it, so it is kept rather than refused.
    pub parent_id: Option<String>,
    /// SmartForward, SmartReply: one occurrence of a recurring meeting.
    pub occurrence: Option<String>,
    /// SendMail, SmartForward, SmartReply before 14.0: `SaveInSent=T`, or
    /// bit 0x01 of the base64 Options parameter.
    pub save_in_sent: Option<bool>,
    /// ItemOperations: bit 0x02 of the base64 Options parameter; the plain
    /// form normally uses the `MS-ASAcceptMultiPart` header instead.
    pub accept_multipart: Option<bool>,
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    #[error("the query is empty")]
    Empty,
    #[error("the query is {len} bytes long, more than {max}")]
    TooLong { len: usize, max: usize },
    #[error("the query has no {0} parameter")]
    Missing(&'static str),
    #[error("the query gives {0} more than once")]
    Duplicate(&'static str),
    #[error("a '%' in the query is not followed by two hexadecimal digits")]
    BadPercentEncoding,
    #[error("{field} {reason}")]
    Invalid {
        field: &'static str,
        reason: InvalidValue,
    },
    #[error("{field}={value:?} is neither T nor F")]
    NotAFlag { field: &'static str, value: String },
    #[error("unknown command {0:?}")]
    UnknownCommandName(String),
    #[error("unknown command code {0}")]
    UnknownCommandCode(u8),
    #[error("the query is neither plain text nor valid base64")]
    BadBase64,
    #[error("the base64 query ends inside its {field} (byte {offset})")]
    Truncated { field: &'static str, offset: usize },
    #[error("protocol version byte {0} names no ActiveSync version")]
    UnknownVersion(u8),
    #[error("policy key length {0}: only 0 and 4 are defined")]
    BadPolicyKeyLength(u8),
    #[error("unknown command parameter tag {tag} at byte {offset}")]
    UnknownParameterTag { tag: u8, offset: usize },
    #[error("the Options parameter is {0} bytes long, not 1")]
    BadOptionsLength(u8),
}

impl QueryError {
    /// The request names a command this server does not know: Exchange
    /// answers those with HTTP 501 rather than 400.
    pub fn is_unknown_command(&self) -> bool {
        matches!(
            self,
            QueryError::UnknownCommandName(_) | QueryError::UnknownCommandCode(_)
        )
    }
}

/// Why a request line could not be written as a query (client side).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeQueryError {
    #[error("the base64 form needs a protocol version")]
    NoProtocolVersion,
    #[error("{field} is {len} bytes long; the base64 form holds at most 255")]
    FieldTooLong { field: &'static str, len: usize },
}

impl RequestLine {
    /// Parses the query (everything after `?`, still percent-encoded).
    ///
    /// The forms are told apart by their alphabets: base64 has no `&`, and
    /// `=` only as trailing padding, while every plain query has `Cmd=`.
    pub fn parse(query: &str) -> Result<RequestLine, QueryError> {
        if query.len() > MAX_QUERY_LEN {
            return Err(QueryError::TooLong {
                len: query.len(),
                max: MAX_QUERY_LEN,
            });
        }
        if query.is_empty() {
            return Err(QueryError::Empty);
        }
        let unpadded = query.trim_end_matches('=');
        if unpadded.contains('=') || unpadded.contains('&') {
            plain::parse(query)
        } else {
            encoded::parse(query)
        }
    }

    /// The plain form of this request line: what a client built on this
    /// crate sends for protocol 12.0 and whenever headers carry the rest.
    pub fn to_plain_query(&self) -> String {
        plain::encode(self)
    }

    /// The base64 form, in the standard alphabet with padding, as Windows
    /// clients send it. It carries the protocol version, so needs one.
    pub fn to_base64_query(&self) -> Result<String, EncodeQueryError> {
        encoded::encode(self)
    }
}

fn check_param(field: &'static str, value: String) -> Result<String, QueryError> {
    if value.is_empty() {
        return Err(QueryError::Invalid {
            field,
            reason: InvalidValue::Empty,
        });
    }
    let len = value.chars().count();
    if len > MAX_PARAMETER_LEN {
        return Err(QueryError::Invalid {
            field,
            reason: InvalidValue::TooLong {
                len,
                max: MAX_PARAMETER_LEN,
            },
        });
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(QueryError::Invalid {
            field,
            reason: InvalidValue::Control(u32::from(c)),
        });
    }
    Ok(value)
}

/// Stores a parameter that may appear once.
fn set_once<T>(slot: &mut Option<T>, field: &'static str, value: T) -> Result<(), QueryError> {
    if slot.is_some() {
        return Err(QueryError::Duplicate(field));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_spec_example_in_both_forms_is_one_request() {
        // MS-ASHTTP 2.2.1.1.1: "The following two examples are equivalent."
        let plain =
            RequestLine::parse("Cmd=Sync&User=rmjones&DeviceId=v140Device&DeviceType=SmartPhone")
                .unwrap();
        let b64 = RequestLine::parse("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l").unwrap();
        assert_eq!(plain.form, QueryForm::Plain);
        assert_eq!(b64.form, QueryForm::Base64);
        for line in [&plain, &b64] {
            assert_eq!(line.command, Command::SYNC);
            assert_eq!(line.device_id.as_str(), "v140Device");
            assert_eq!(line.device_type.as_str(), "SmartPhone");
            assert_eq!(line.params, CommandParams::default());
        }
        assert_eq!(plain.user.as_ref().map(|u| u.as_str()), Some("rmjones"));
        assert_eq!(plain.protocol_version, None);
        assert_eq!(b64.user, None);
        assert_eq!(b64.protocol_version, Some(ProtocolVersion::V14_0));
        assert_eq!(b64.locale, Some(Locale::EN_US));
        assert_eq!(b64.policy_key, None);
    }

    #[test]
    fn refuses_empty_and_oversized_queries() {
        assert_eq!(RequestLine::parse(""), Err(QueryError::Empty));
        let long = "A".repeat(MAX_QUERY_LEN + 1);
        assert_eq!(
            RequestLine::parse(&long),
            Err(QueryError::TooLong {
                len: MAX_QUERY_LEN + 1,
                max: MAX_QUERY_LEN
            })
        );
        assert!(RequestLine::parse("Cmd=Sync&DeviceId=a&DeviceType=b&x=y").is_ok());
        assert!(
            RequestLine::parse("Cmd=Bogus&DeviceId=a&DeviceType=b")
                .unwrap_err()
                .is_unknown_command()
        );
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[A-Za-z0-9 ._@%+&=/:\\\\é-]{{1,{max}}}"))
            .unwrap()
            .prop_filter("no dot pairs", |s| !s.contains(".."))
    }

    fn device_id() -> impl Strategy<Value = DeviceId> {
        proptest::string::string_regex("[A-Za-z0-9._-]{1,40}")
            .unwrap()
            .prop_filter_map("valid id", |s| DeviceId::new(s).ok())
    }

    prop_compose! {
        fn request_line(form: QueryForm)(
            command in proptest::sample::select(Command::ALL),
            user in proptest::option::of(text(30).prop_map(|s| UserName::new(s).unwrap())),
            device_id in device_id(),
            device_type in text(20).prop_map(|s| DeviceType::new(s).unwrap()),
            version in proptest::sample::select(&ProtocolVersion::ALL[..]),
            policy_key in proptest::option::of(any::<u32>().prop_map(PolicyKey)),
            locale in any::<u16>().prop_map(Locale),
            strings in proptest::collection::vec(proptest::option::of(text(60)), 6),
            options in proptest::option::of(any::<(bool, bool)>()),
        ) -> RequestLine {
            let s = |i: usize| strings.get(i).cloned().flatten();
            let base64 = form == QueryForm::Base64;
            RequestLine {
                form,
                command,
                user,
                device_id,
                device_type,
                protocol_version: base64.then_some(version),
                policy_key: policy_key.filter(|_| base64),
                locale: base64.then_some(locale),
                params: CommandParams {
                    attachment_name: s(0),
                    collection_id: s(1),
                    item_id: s(2),
                    long_id: s(3),
                    parent_id: s(4),
                    occurrence: s(5),
                    save_in_sent: options.map(|o| o.0),
                    accept_multipart: options.map(|o| o.1),
                },
            }
        }
    }

    proptest! {
        #[test]
        fn any_string_is_answered_without_panic(query in ".{0,300}") {
            let _ = RequestLine::parse(&query);
        }

        #[test]
        fn any_bytes_as_base64_are_answered_without_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..300)
        ) {
            let _ = encoded::parse_bytes(&bytes);
            use base64::Engine as _;
            let query = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let _ = RequestLine::parse(&query);
        }

        #[test]
        fn plain_queries_round_trip(line in request_line(QueryForm::Plain)) {
            let query = line.to_plain_query();
            prop_assert_eq!(RequestLine::parse(&query), Ok(line), "{}", query);
        }

        #[test]
        fn base64_queries_round_trip(line in request_line(QueryForm::Base64)) {
            let query = line.to_base64_query().unwrap();
            prop_assert_eq!(RequestLine::parse(&query), Ok(line), "{}", query);
        }
    }
}
