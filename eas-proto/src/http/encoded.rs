//! The base64-encoded query (MS-ASHTTP 2.2.1.1.1.1), used by Windows clients
//! from protocol 12.1 on. The bytes under the base64 are:
//!
//! ```text
//! 1 byte   protocol version, times ten (141 is 14.1)
//! 1 byte   command code (2.2.1.1.1.1.2)
//! 2 bytes  locale, little-endian ([MS-LCID])
//! 1 byte   device ID length, then the device ID
//! 1 byte   policy key length (0 or 4), then the key, little-endian
//! 1 byte   device type length, then the device type
//! then command parameters to the end, each: 1 byte tag, 1 byte length,
//! value (2.2.1.1.1.1.1, tags in 2.2.1.1.1.1.3)
//! ```
//!
//! Every read goes through [`Cursor`], which can only fail, never index past
//! the end.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

use super::plain::{TextParam, percent_decode};
use super::{
    Command, CommandParams, DeviceId, DeviceType, EncodeQueryError, InvalidValue, Locale,
    PolicyKey, QueryError, QueryForm, RequestLine, UserName, check_param, set_once,
};
use crate::version::ProtocolVersion;

/// Command parameter tags (MS-ASHTTP 2.2.1.1.1.1.3).
pub mod tag {
    pub const ATTACHMENT_NAME: u8 = 0;
    pub const COLLECTION_ID: u8 = 1;
    pub const ITEM_ID: u8 = 3;
    pub const LONG_ID: u8 = 4;
    /// Not in the current table; older revisions and Horde use it.
    pub const PARENT_ID: u8 = 5;
    pub const OCCURRENCE: u8 = 6;
    pub const OPTIONS: u8 = 7;
    pub const USER: u8 = 8;
}

/// Bits of the Options parameter.
pub mod options {
    pub const SAVE_IN_SENT: u8 = 0x01;
    pub const ACCEPT_MULTIPART: u8 = 0x02;
}

/// Padding optional: clients are not consistent about it, and it carries
/// no information.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(crate) fn parse(query: &str) -> Result<RequestLine, QueryError> {
    // Some clients percent-encode `+`, `/` and `=`.
    let text = percent_decode(query, "query").map_err(|_| QueryError::BadBase64)?;
    let bytes = LENIENT
        .decode(text.as_bytes())
        .map_err(|_| QueryError::BadBase64)?;
    parse_bytes(&bytes)
}

/// A reader over the decoded bytes whose every accessor can fail.
struct Cursor<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], QueryError> {
        if n > self.rest.len() {
            return Err(QueryError::Truncated {
                field,
                offset: self.offset + self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        self.offset += n;
        Ok(head)
    }

    fn byte(&mut self, field: &'static str) -> Result<u8, QueryError> {
        match self.take(1, field)? {
            [b] => Ok(*b),
            _ => Err(QueryError::Truncated {
                field,
                offset: self.offset,
            }),
        }
    }

    /// A length byte and that many bytes.
    fn counted(&mut self, field: &'static str) -> Result<&'a [u8], QueryError> {
        let len = self.byte(field)?;
        self.take(usize::from(len), field)
    }
}

fn utf8(field: &'static str, bytes: &[u8]) -> Result<String, QueryError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| QueryError::Invalid {
        field,
        reason: InvalidValue::NotUtf8,
    })
}

/// Parses the bytes under the base64.
pub fn parse_bytes(bytes: &[u8]) -> Result<RequestLine, QueryError> {
    let mut c = Cursor {
        rest: bytes,
        offset: 0,
    };
    let version_byte = c.byte("protocol version")?;
    // 2.5 and 12.0 "MUST" use the plain form; such a query is still read,
    // and the server refuses versions it does not offer in one place.
    let version =
        ProtocolVersion::from_byte(version_byte).ok_or(QueryError::UnknownVersion(version_byte))?;
    let code = c.byte("command code")?;
    let command = Command::from_code(code).ok_or(QueryError::UnknownCommandCode(code))?;
    let locale = match c.take(2, "locale")? {
        [lo, hi] => Locale(u16::from_le_bytes([*lo, *hi])),
        _ => return Err(QueryError::BadBase64),
    };
    let device_id =
        DeviceId::from_field(c.counted("device ID")?).map_err(|reason| QueryError::Invalid {
            field: "DeviceId",
            reason,
        })?;
    let policy_key = match c.byte("policy key length")? {
        0 => None,
        4 => match c.take(4, "policy key")? {
            [a, b, cc, d] => Some(PolicyKey::from_le_bytes([*a, *b, *cc, *d])),
            _ => return Err(QueryError::BadBase64),
        },
        n => return Err(QueryError::BadPolicyKeyLength(n)),
    };
    let device_type =
        DeviceType::new(utf8("DeviceType", c.counted("device type")?)?).map_err(|reason| {
            QueryError::Invalid {
                field: "DeviceType",
                reason,
            }
        })?;

    let mut user = None;
    let mut params = CommandParams::default();
    let mut options_seen = false;
    while !c.rest.is_empty() {
        let offset = c.offset;
        let tag = c.byte("parameter tag")?;
        let value = c.counted("parameter value")?;
        let text_param = match tag {
            tag::ATTACHMENT_NAME => Some(TextParam::AttachmentName),
            tag::COLLECTION_ID => Some(TextParam::CollectionId),
            tag::ITEM_ID => Some(TextParam::ItemId),
            tag::LONG_ID => Some(TextParam::LongId),
            tag::PARENT_ID => Some(TextParam::ParentId),
            tag::OCCURRENCE => Some(TextParam::Occurrence),
            tag::OPTIONS => {
                if options_seen {
                    return Err(QueryError::Duplicate("Options"));
                }
                options_seen = true;
                let [bits] = value else {
                    return Err(QueryError::BadOptionsLength(
                        u8::try_from(value.len()).unwrap_or(u8::MAX),
                    ));
                };
                params.save_in_sent = Some(bits & options::SAVE_IN_SENT != 0);
                params.accept_multipart = Some(bits & options::ACCEPT_MULTIPART != 0);
                None
            }
            tag::USER => {
                let name =
                    UserName::new(utf8("User", value)?).map_err(|reason| QueryError::Invalid {
                        field: "User",
                        reason,
                    })?;
                set_once(&mut user, "User", name)?;
                None
            }
            tag => return Err(QueryError::UnknownParameterTag { tag, offset }),
        };
        if let Some(p) = text_param {
            let field = p.name();
            let value = check_param(field, utf8(field, value)?)?;
            set_once(p.of(&mut params), field, value)?;
        }
    }
    Ok(RequestLine {
        form: QueryForm::Base64,
        command,
        user,
        device_id,
        device_type,
        protocol_version: Some(version),
        policy_key,
        locale: Some(locale),
        params,
    })
}

fn push_counted(
    out: &mut Vec<u8>,
    field: &'static str,
    value: &[u8],
) -> Result<(), EncodeQueryError> {
    let len = u8::try_from(value.len()).map_err(|_| EncodeQueryError::FieldTooLong {
        field,
        len: value.len(),
    })?;
    out.push(len);
    out.extend_from_slice(value);
    Ok(())
}

pub(crate) fn encode(line: &RequestLine) -> Result<String, EncodeQueryError> {
    let version = line
        .protocol_version
        .ok_or(EncodeQueryError::NoProtocolVersion)?;
    let mut out = Vec::with_capacity(64);
    out.push(version.as_byte());
    out.push(line.command.code());
    out.extend_from_slice(&line.locale.unwrap_or(Locale::EN_US).0.to_le_bytes());
    push_counted(&mut out, "DeviceId", line.device_id.as_str().as_bytes())?;
    match line.policy_key {
        Some(key) => {
            out.push(4);
            out.extend_from_slice(&key.0.to_le_bytes());
        }
        None => out.push(0),
    }
    push_counted(&mut out, "DeviceType", line.device_type.as_str().as_bytes())?;
    let p = &line.params;
    let tags = [
        (tag::ATTACHMENT_NAME, TextParam::AttachmentName),
        (tag::COLLECTION_ID, TextParam::CollectionId),
        (tag::ITEM_ID, TextParam::ItemId),
        (tag::LONG_ID, TextParam::LongId),
        (tag::PARENT_ID, TextParam::ParentId),
        (tag::OCCURRENCE, TextParam::Occurrence),
    ];
    for (tag, param) in tags {
        if let Some(value) = param.get(p) {
            out.push(tag);
            push_counted(&mut out, param.name(), value.as_bytes())?;
        }
    }
    if p.save_in_sent.is_some() || p.accept_multipart.is_some() {
        let mut bits = 0;
        if p.save_in_sent == Some(true) {
            bits |= options::SAVE_IN_SENT;
        }
        if p.accept_multipart == Some(true) {
            bits |= options::ACCEPT_MULTIPART;
        }
        out.extend_from_slice(&[tag::OPTIONS, 1, bits]);
    }
    if let Some(user) = &line.user {
        out.push(tag::USER);
        push_counted(&mut out, "User", user.as_str().as_bytes())?;
    }
    Ok(STANDARD.encode(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds the bytes of a query field by field, as the spec lays them out.
    fn layout(
        version: u8,
        command: u8,
        device_id: &[u8],
        key: Option<u32>,
        device_type: &[u8],
        params: &[(u8, &[u8])],
    ) -> Vec<u8> {
        let mut b = vec![version, command, 0x09, 0x04, device_id.len() as u8];
        b.extend_from_slice(device_id);
        match key {
            Some(k) => {
                b.push(4);
                b.extend_from_slice(&k.to_le_bytes());
            }
            None => b.push(0),
        }
        b.push(device_type.len() as u8);
        b.extend_from_slice(device_type);
        for (tag, value) in params {
            b.push(*tag);
            b.push(value.len() as u8);
            b.extend_from_slice(value);
        }
        b
    }

    #[test]
    fn the_spec_example_byte_by_byte() {
        let bytes = STANDARD
            .decode("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l")
            .unwrap();
        assert_eq!(
            bytes,
            layout(140, 0, b"v140Device", None, b"SmartPhone", &[])
        );
    }

    #[test]
    fn a_smart_forward_with_every_parameter() {
        let bytes = layout(
            141,
            2,
            b"WP8DEVICE01",
            Some(3_735_928_559),
            b"WP8",
            &[
                (1, b"5"),
                (3, b"5:17"),
                (6, b"2024-05-01T09:00:00.000Z"),
                (7, &[0x03]),
                (8, b"chris@contoso.com"),
                (0, b"att.txt"),
                (4, b"RgAAAAx"),
                (5, b"7"),
            ],
        );
        let query = STANDARD.encode(&bytes);
        let line = RequestLine::parse(&query).unwrap();
        assert_eq!(line.form, QueryForm::Base64);
        assert_eq!(line.protocol_version, Some(ProtocolVersion::V14_1));
        assert_eq!(line.command, Command::SMART_FORWARD);
        assert_eq!(line.locale, Some(Locale(0x0409)));
        assert_eq!(line.device_id.as_str(), "WP8DEVICE01");
        assert_eq!(line.policy_key, Some(PolicyKey(0xDEAD_BEEF)));
        assert_eq!(line.device_type.as_str(), "WP8");
        assert_eq!(line.user.unwrap().as_str(), "chris@contoso.com");
        assert_eq!(
            line.params,
            CommandParams {
                attachment_name: Some("att.txt".into()),
                collection_id: Some("5".into()),
                item_id: Some("5:17".into()),
                long_id: Some("RgAAAAx".into()),
                parent_id: Some("7".into()),
                occurrence: Some("2024-05-01T09:00:00.000Z".into()),
                save_in_sent: Some(true),
                accept_multipart: Some(true),
            }
        );
    }

    #[test]
    fn padding_and_percent_encoding_are_forgiven() {
        // 16 bytes: base64 with two padding characters.
        let bytes = layout(121, 18, b"AB", None, b"CDEF", &[(7, &[0x01])]);
        let padded = STANDARD.encode(&bytes);
        assert!(padded.ends_with('='), "{padded}");
        let unpadded = padded.trim_end_matches('=');
        let escaped = padded
            .replace('=', "%3D")
            .replace('+', "%2B")
            .replace('/', "%2F");
        for q in [padded.as_str(), unpadded, escaped.as_str()] {
            let line = RequestLine::parse(q).unwrap();
            assert_eq!(line.command, Command::PING);
            assert_eq!(line.params.save_in_sent, Some(true));
            assert_eq!(line.params.accept_multipart, Some(false));
        }
    }

    #[test]
    fn a_binary_device_id_becomes_hex() {
        let bytes = layout(161, 9, &[0x00, 0xFF, 0x10], None, b"WindowsMail", &[]);
        let line = parse_bytes(&bytes).unwrap();
        assert_eq!(line.device_id.as_str(), "00FF10");
        assert_eq!(line.protocol_version, Some(ProtocolVersion::V16_1));
        assert_eq!(line.command, Command::FOLDER_SYNC);
    }

    #[test]
    fn says_what_is_wrong() {
        let ok = layout(140, 0, b"D", None, b"T", &[]);
        assert!(parse_bytes(&ok).is_ok());
        assert_eq!(
            parse_bytes(&[]),
            Err(QueryError::Truncated {
                field: "protocol version",
                offset: 0
            })
        );
        assert_eq!(
            parse_bytes(&layout(130, 0, b"D", None, b"T", &[])),
            Err(QueryError::UnknownVersion(130))
        );
        assert_eq!(
            parse_bytes(&layout(140, 7, b"D", None, b"T", &[])),
            Err(QueryError::UnknownCommandCode(7))
        );
        assert_eq!(
            parse_bytes(&layout(140, 0, b"", None, b"T", &[])),
            Err(QueryError::Invalid {
                field: "DeviceId",
                reason: InvalidValue::Empty
            })
        );
        assert_eq!(
            parse_bytes(&layout(140, 0, b"D", None, b"", &[])),
            Err(QueryError::Invalid {
                field: "DeviceType",
                reason: InvalidValue::Empty
            })
        );
        // Every proper prefix of a valid query is truncated somewhere, but
        // the one that ends where the parameters begin (byte 18).
        let full = layout(140, 3, b"DEV", Some(1), b"TYPE", &[(3, b"ITEM")]);
        assert!(parse_bytes(full.get(..18).unwrap()).is_ok());
        for cut in (0..full.len()).filter(|&c| c != 18) {
            assert!(
                matches!(
                    parse_bytes(full.get(..cut).unwrap()),
                    Err(QueryError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
        // A device ID length that runs past the end.
        assert_eq!(
            parse_bytes(&[140, 0, 9, 4, 200, b'x']),
            Err(QueryError::Truncated {
                field: "device ID",
                offset: 6
            })
        );
        let mut bad_key = layout(140, 0, b"D", None, b"T", &[]);
        if let Some(len) = bad_key.get_mut(6) {
            *len = 2;
        }
        assert_eq!(
            parse_bytes(&bad_key),
            Err(QueryError::BadPolicyKeyLength(2))
        );
        let unknown_tag = layout(140, 0, b"D", None, b"T", &[(2, b"x")]);
        assert_eq!(
            parse_bytes(&unknown_tag),
            Err(QueryError::UnknownParameterTag { tag: 2, offset: 9 })
        );
        assert_eq!(
            parse_bytes(&layout(140, 0, b"D", None, b"T", &[(7, &[1, 2])])),
            Err(QueryError::BadOptionsLength(2))
        );
        assert_eq!(
            parse_bytes(&layout(140, 0, b"D", None, b"T", &[(7, &[])])),
            Err(QueryError::BadOptionsLength(0))
        );
        assert_eq!(
            parse_bytes(&layout(140, 0, b"D", None, b"T", &[(3, b"a"), (3, b"b")])),
            Err(QueryError::Duplicate("ItemId"))
        );
        assert_eq!(
            parse_bytes(&layout(140, 0, b"D", None, b"T", &[(3, &[0xC3])])),
            Err(QueryError::Invalid {
                field: "ItemId",
                reason: InvalidValue::NotUtf8
            })
        );
        assert_eq!(RequestLine::parse("jAAJ!!!"), Err(QueryError::BadBase64));
        assert_eq!(RequestLine::parse("%zz"), Err(QueryError::BadBase64));
    }

    #[test]
    fn encodes_what_it_parses() {
        let bytes = layout(141, 20, b"DEV", Some(7), b"WP", &[(8, b"u")]);
        let line = parse_bytes(&bytes).unwrap();
        let query = line.to_base64_query().unwrap();
        assert_eq!(STANDARD.decode(query).unwrap(), bytes);
        let mut no_version = line.clone();
        no_version.protocol_version = None;
        assert_eq!(
            no_version.to_base64_query(),
            Err(EncodeQueryError::NoProtocolVersion)
        );
    }
}
