//! The plain text query (MS-ASHTTP 2.2.1.1.1.2):
//! `Cmd=…&User=…&DeviceId=…&DeviceType=…` and command parameters.
//!
//! Parameter names are matched ignoring ASCII case, like the spec's ABNF
//! strings (RFC 5234 section 2.3) and Exchange's query reading. Their order
//! is not enforced, though the ABNF fixes one: clients keep to it, and
//! nothing is gained by refusing one that does not. Parameters the spec does
//! not define are ignored, so a client's private extra does not fail the
//! request; one given twice is refused, since which one counts would be a
//! guess. `+` is a literal plus, not a space: this is a URI query, not a
//! form, and user names may contain a plus.

use super::{
    CommandParams, DeviceId, DeviceType, QueryError, QueryForm, RequestLine, UserName, check_param,
    set_once,
};
use crate::http::Command;

pub(crate) fn parse(query: &str) -> Result<RequestLine, QueryError> {
    let mut command = None;
    let mut user = None;
    let mut device_id = None;
    let mut device_type = None;
    let mut params = CommandParams::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(param) = Param::from_name(&percent_decode(name, "parameter name")?) else {
            continue;
        };
        let field = param.name();
        let value = percent_decode(value, field)?;
        let invalid = |reason| QueryError::Invalid { field, reason };
        match param {
            Param::Cmd => {
                let cmd = Command::from_name(&value)
                    .ok_or_else(|| QueryError::UnknownCommandName(value.clone()))?;
                set_once(&mut command, field, cmd)?;
            }
            Param::User => set_once(&mut user, field, UserName::new(value).map_err(invalid)?)?,
            Param::DeviceId => {
                set_once(
                    &mut device_id,
                    field,
                    DeviceId::new(value).map_err(invalid)?,
                )?;
            }
            Param::DeviceType => set_once(
                &mut device_type,
                field,
                DeviceType::new(value).map_err(invalid)?,
            )?,
            Param::SaveInSent => set_once(&mut params.save_in_sent, field, flag(field, value)?)?,
            Param::AcceptMultiPart => {
                set_once(&mut params.accept_multipart, field, flag(field, value)?)?;
            }
            Param::Text(slot) => {
                // An empty command parameter says nothing; the ABNF has no
                // empty values, but refusing one would help no one.
                if !value.is_empty() {
                    let value = check_param(field, value)?;
                    set_once(slot.of(&mut params), field, value)?;
                }
            }
        }
    }
    Ok(RequestLine {
        form: QueryForm::Plain,
        command: command.ok_or(QueryError::Missing("Cmd"))?,
        user,
        device_id: device_id.ok_or(QueryError::Missing("DeviceId"))?,
        device_type: device_type.ok_or(QueryError::Missing("DeviceType"))?,
        protocol_version: None,
        policy_key: None,
        locale: None,
        params,
    })
}

pub(crate) fn encode(line: &RequestLine) -> String {
    let mut out = String::with_capacity(128);
    let mut push = |name: &str, value: &str| {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        percent_encode_into(&mut out, value);
    };
    push("Cmd", line.command.name().unwrap_or_default());
    if let Some(user) = &line.user {
        push("User", user.as_str());
    }
    push("DeviceId", line.device_id.as_str());
    push("DeviceType", line.device_type.as_str());
    let p = &line.params;
    for (slot, value) in TextParam::ALL.iter().map(|s| (s, s.get(p))) {
        if let Some(value) = value {
            push(slot.name(), value);
        }
    }
    let tf = |b: bool| if b { "T" } else { "F" };
    if let Some(b) = p.save_in_sent {
        push("SaveInSent", tf(b));
    }
    if let Some(b) = p.accept_multipart {
        push("AcceptMultiPart", tf(b));
    }
    out
}

#[derive(Clone, Copy)]
enum Param {
    Cmd,
    User,
    DeviceId,
    DeviceType,
    SaveInSent,
    AcceptMultiPart,
    Text(TextParam),
}

impl Param {
    fn from_name(name: &str) -> Option<Param> {
        let fixed = [
            ("Cmd", Param::Cmd),
            ("User", Param::User),
            ("DeviceId", Param::DeviceId),
            ("DeviceType", Param::DeviceType),
            ("SaveInSent", Param::SaveInSent),
            ("AcceptMultiPart", Param::AcceptMultiPart),
        ];
        fixed
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, p)| p)
            .or_else(|| {
                TextParam::ALL
                    .iter()
                    .find(|t| t.name().eq_ignore_ascii_case(name))
                    .map(|&t| Param::Text(t))
            })
    }

    fn name(self) -> &'static str {
        match self {
            Param::Cmd => "Cmd",
            Param::User => "User",
            Param::DeviceId => "DeviceId",
            Param::DeviceType => "DeviceType",
            Param::SaveInSent => "SaveInSent",
            Param::AcceptMultiPart => "AcceptMultiPart",
            Param::Text(t) => t.name(),
        }
    }
}

/// The string-valued command parameters, shared with the base64 form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextParam {
    AttachmentName,
    CollectionId,
    ItemId,
    LongId,
    ParentId,
    Occurrence,
}

impl TextParam {
    pub(crate) const ALL: [TextParam; 6] = [
        TextParam::AttachmentName,
        TextParam::CollectionId,
        TextParam::ItemId,
        TextParam::LongId,
        TextParam::ParentId,
        TextParam::Occurrence,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            TextParam::AttachmentName => "AttachmentName",
            TextParam::CollectionId => "CollectionId",
            TextParam::ItemId => "ItemId",
            TextParam::LongId => "LongId",
            TextParam::ParentId => "ParentId",
            TextParam::Occurrence => "Occurrence",
        }
    }

    pub(crate) fn of(self, p: &mut CommandParams) -> &mut Option<String> {
        match self {
            TextParam::AttachmentName => &mut p.attachment_name,
            TextParam::CollectionId => &mut p.collection_id,
            TextParam::ItemId => &mut p.item_id,
            TextParam::LongId => &mut p.long_id,
            TextParam::ParentId => &mut p.parent_id,
            TextParam::Occurrence => &mut p.occurrence,
        }
    }

    pub(crate) fn get(self, p: &CommandParams) -> Option<&str> {
        match self {
            TextParam::AttachmentName => p.attachment_name.as_deref(),
            TextParam::CollectionId => p.collection_id.as_deref(),
            TextParam::ItemId => p.item_id.as_deref(),
            TextParam::LongId => p.long_id.as_deref(),
            TextParam::ParentId => p.parent_id.as_deref(),
            TextParam::Occurrence => p.occurrence.as_deref(),
        }
    }
}

/// `T` or `F` (MS-ASHTTP 2.2.1.1.1.2.5), in either case.
fn flag(field: &'static str, value: String) -> Result<bool, QueryError> {
    if value.eq_ignore_ascii_case("T") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("F") {
        Ok(false)
    } else {
        Err(QueryError::NotAFlag { field, value })
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; the result must be UTF-8. `field` names what is
/// decoded, for the error.
pub(crate) fn percent_decode(s: &str, field: &'static str) -> Result<String, QueryError> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = bytes.next().and_then(hex_value);
            let lo = bytes.next().and_then(hex_value);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(QueryError::BadPercentEncoding),
            }
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).map_err(|_| QueryError::Invalid {
        field,
        reason: super::InvalidValue::NotUtf8,
    })
}

/// Escapes everything but RFC 3986's unreserved characters.
fn percent_encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 0x0F] {
                let digit = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
                out.push(char::from(digit));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::InvalidValue;

    fn parse(q: &str) -> Result<RequestLine, QueryError> {
        super::parse(q)
    }

    #[test]
    fn a_smart_reply_from_an_android_client() {
        let line = parse(
            "Cmd=SmartReply&User=CONTOSO%5Cchris&DeviceId=androidc1234567890&DeviceType=Android\
             &ItemId=5%3A12&CollectionId=5&SaveInSent=T&LongId=RgAAAA%2Bx%2F&Occurrence=2024-01-02",
        )
        .unwrap();
        assert_eq!(line.command, Command::SMART_REPLY);
        assert_eq!(line.user.unwrap().as_str(), "CONTOSO\\chris");
        assert_eq!(line.device_id.as_str(), "androidc1234567890");
        assert_eq!(line.device_type.as_str(), "Android");
        assert_eq!(
            line.params,
            CommandParams {
                item_id: Some("5:12".into()),
                collection_id: Some("5".into()),
                long_id: Some("RgAAAA+x/".into()),
                occurrence: Some("2024-01-02".into()),
                save_in_sent: Some(true),
                ..CommandParams::default()
            }
        );
        assert_eq!(line.form, QueryForm::Plain);
        assert_eq!(line.protocol_version, None);
        assert_eq!(line.policy_key, None);
    }

    #[test]
    fn names_ignore_case_and_plus_stays_plus() {
        let line = parse(
            "cmd=foldersync&user=a+b%40example.com&deviceid=X&DEVICETYPE=iPhone&attachmentname=a.txt&acceptmultipart=f",
        )
        .unwrap();
        assert_eq!(line.command, Command::FOLDER_SYNC);
        assert_eq!(line.user.unwrap().as_str(), "a+b@example.com");
        assert_eq!(line.params.attachment_name.as_deref(), Some("a.txt"));
        assert_eq!(line.params.accept_multipart, Some(false));
    }

    #[test]
    fn tolerates_extra_and_empty_parameters() {
        let line = parse("Cmd=Ping&DeviceId=X&DeviceType=Y&&Foo=bar&ItemId=&").unwrap();
        assert_eq!(line.command, Command::PING);
        assert_eq!(line.params, CommandParams::default());
        assert_eq!(line.user, None);
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(
            parse("User=a&DeviceId=X&DeviceType=Y"),
            Err(QueryError::Missing("Cmd"))
        );
        assert_eq!(
            parse("Cmd=Sync&DeviceType=Y"),
            Err(QueryError::Missing("DeviceId"))
        );
        assert_eq!(
            parse("Cmd=Sync&DeviceId=X"),
            Err(QueryError::Missing("DeviceType"))
        );
        assert_eq!(
            parse("Cmd=Sync&Cmd=Ping&DeviceId=X&DeviceType=Y"),
            Err(QueryError::Duplicate("Cmd"))
        );
        assert_eq!(
            parse("Cmd=Sync&DeviceId=X&DeviceType=Y&ItemId=1&itemid=2"),
            Err(QueryError::Duplicate("ItemId"))
        );
        assert_eq!(
            parse("Cmd=GetHierarchy&DeviceId=X&DeviceType=Y"),
            Err(QueryError::UnknownCommandName("GetHierarchy".into()))
        );
        assert_eq!(
            parse("Cmd=&DeviceId=X&DeviceType=Y"),
            Err(QueryError::UnknownCommandName(String::new()))
        );
        assert_eq!(
            parse("Cmd=Sync&DeviceId=..%2F..%2Fetc&DeviceType=Y"),
            Err(QueryError::Invalid {
                field: "DeviceId",
                reason: InvalidValue::PathCharacter('/')
            })
        );
        assert_eq!(
            parse("Cmd=Sync&DeviceId=&DeviceType=Y"),
            Err(QueryError::Invalid {
                field: "DeviceId",
                reason: InvalidValue::Empty
            })
        );
        assert_eq!(
            parse("Cmd=Sync&DeviceId=X&DeviceType=Y&SaveInSent=yes"),
            Err(QueryError::NotAFlag {
                field: "SaveInSent",
                value: "yes".into()
            })
        );
        assert_eq!(
            parse("Cmd=Sync&DeviceId=X%2&DeviceType=Y"),
            Err(QueryError::BadPercentEncoding)
        );
        assert_eq!(
            parse("Cmd=Sync&DeviceId=X%zz&DeviceType=Y"),
            Err(QueryError::BadPercentEncoding)
        );
        assert_eq!(
            parse("Cmd=Sync&DeviceId=X%FF&DeviceType=Y"),
            Err(QueryError::Invalid {
                field: "DeviceId",
                reason: InvalidValue::NotUtf8
            })
        );
        // A parameter this server does not read cannot fail the request.
        assert!(parse("Cmd=Sync&DeviceId=X&DeviceType=Y&Extra=%FF%zz").is_ok());
        assert_eq!(
            parse("Cmd=Sync&DeviceId=X&DeviceType=Y&ItemId=a%0Ab"),
            Err(QueryError::Invalid {
                field: "ItemId",
                reason: InvalidValue::Control(10)
            })
        );
    }

    #[test]
    fn percent_coding_both_ways() {
        let mut out = String::new();
        percent_encode_into(&mut out, "a b+c/é~");
        assert_eq!(out, "a%20b%2Bc%2F%C3%A9~");
        assert_eq!(percent_decode(&out, "x").unwrap(), "a b+c/é~");
        assert_eq!(percent_decode("%41%62", "x").unwrap(), "Ab");
    }
}
