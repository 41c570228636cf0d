//! The identifiers a request line carries, validated once at the edge so the
//! rest of the server can store and compare them without looking again.

use std::fmt;

/// Why a value from the request line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidValue {
    #[error("is empty")]
    Empty,
    #[error("is {len} characters long, more than {max}")]
    TooLong { len: usize, max: usize },
    #[error("contains the control character U+{0:04X}")]
    Control(u32),
    #[error("contains {0:?}, which cannot be part of a file name")]
    PathCharacter(char),
    #[error("is not UTF-8")]
    NotUtf8,
    #[error("is not a decimal 32-bit unsigned integer")]
    NotU32,
}

fn check_text(s: &str, max: usize) -> Result<(), InvalidValue> {
    if s.is_empty() {
        return Err(InvalidValue::Empty);
    }
    let len = s.chars().count();
    if len > max {
        return Err(InvalidValue::TooLong { len, max });
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(InvalidValue::Control(u32::from(c)));
    }
    Ok(())
}

/// The client's device identifier (MS-ASHTTP 2.2.1.1.1.2.3).
///
/// The spec allows 1 to 32 letters and digits; real clients send more:
/// Android builds send long hexadecimal or prefixed ids, some send `-` and
/// `_`, and Samsung's client cuts its id to the last 16 characters only in
/// the base64 form. So any text up to [`DeviceId::MAX_LEN`] characters is
/// accepted, except what would make it unsafe as one file name component:
/// control characters, `/`, `\`, `..`, and `.` alone. Comparison is exact,
/// as a client sends the same id on every request.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(String);

impl DeviceId {
    pub const MAX_LEN: usize = 128;

    pub fn new(id: impl Into<String>) -> Result<DeviceId, InvalidValue> {
        let id = id.into();
        check_text(&id, Self::MAX_LEN)?;
        if let Some(c) = id.chars().find(|c| matches!(c, '/' | '\\')) {
            return Err(InvalidValue::PathCharacter(c));
        }
        if id == "." || id.contains("..") {
            return Err(InvalidValue::PathCharacter('.'));
        }
        Ok(DeviceId(id))
    }

    /// The Device ID field of the base64 query (MS-ASHTTP 2.2.1.1.1.1).
    ///
    /// The spec's own example carries the text of the id (`v140Device`), and
    /// so do Android clients. Windows Mobile-era clients put a raw 16-byte
    /// GUID there instead, which Z-Push and Horde turn into hexadecimal.
    /// Both are met here: bytes that are a valid id as text are that id,
    /// anything else becomes its upper-case hexadecimal form, so a binary id
    /// maps to the same string on every request.
    pub fn from_field(bytes: &[u8]) -> Result<DeviceId, InvalidValue> {
        if bytes.is_empty() {
            return Err(InvalidValue::Empty);
        }
        if let Some(id) = std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| DeviceId::new(s).ok())
        {
            return Ok(id);
        }
        let mut hex = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            hex.push_str(&format!("{b:02X}"));
        }
        DeviceId::new(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({:?})", self.0)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The client's device type (MS-ASHTTP 2.2.1.1.1.2.4): `iPhone`, `Android`,
/// `SAMSUNGSMG991B`, `WindowsMail`. Free text to the spec; only bounded and
/// stripped of control characters here, since it is shown to people.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeviceType(String);

impl DeviceType {
    pub const MAX_LEN: usize = 128;

    pub fn new(device_type: impl Into<String>) -> Result<DeviceType, InvalidValue> {
        let device_type = device_type.into();
        check_text(&device_type, Self::MAX_LEN)?;
        Ok(DeviceType(device_type))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceType({:?})", self.0)
    }
}

impl fmt::Display for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `User` of the request line (MS-ASHTTP 2.2.1.1.1.2.2): the name the
/// client logs in with, often `DOMAIN\user` or an address. It is for logs
/// only; who the request acts for is decided by the Authorization header.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserName(String);

impl UserName {
    pub const MAX_LEN: usize = 256;

    pub fn new(name: impl Into<String>) -> Result<UserName, InvalidValue> {
        let name = name.into();
        check_text(&name, Self::MAX_LEN)?;
        Ok(UserName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserName({:?})", self.0)
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A policy key (MS-ASPROV 2.2.2.42): the server's name for the policy a
/// device has acknowledged. The spec types the element as a string that
/// SHOULD be a 32-bit unsigned integer; this server only ever issues such
/// keys, so anything else is refused.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyKey(pub u32);

impl PolicyKey {
    /// The key of a device that holds no policy: clients reset to it before
    /// an initial Provision (MS-ASPROV 3.1.5.1.1), and some send it as
    /// `X-MS-PolicyKey: 0`.
    pub const NONE: PolicyKey = PolicyKey(0);

    /// The decimal form of `X-MS-PolicyKey` and of the `PolicyKey` element.
    /// Surrounding white space is forgiven; signs and other digits are not.
    pub fn parse(text: &str) -> Result<PolicyKey, InvalidValue> {
        let digits = text.trim_matches(|c: char| c.is_ascii_whitespace());
        if digits.is_empty() {
            return Err(InvalidValue::Empty);
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::NotU32);
        }
        digits
            .parse::<u32>()
            .map(PolicyKey)
            .map_err(|_| InvalidValue::NotU32)
    }

    /// The Policy key field of the base64 query: four bytes, little-endian.
    pub const fn from_le_bytes(bytes: [u8; 4]) -> PolicyKey {
        PolicyKey(u32::from_le_bytes(bytes))
    }

    pub const fn is_none(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for PolicyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyKey({})", self.0)
    }
}

impl fmt::Display for PolicyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The Locale field of the base64 query: a Windows language id ([MS-LCID]),
/// such as 0x0409 for en-US. The plain form has none; the HTTP layer can
/// fall back to Accept-Language.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Locale(pub u16);

impl Locale {
    pub const EN_US: Locale = Locale(0x0409);
}

impl fmt::Debug for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Locale(0x{:04X})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_from_real_clients_and_unsafe_ones() {
        for ok in [
            "ApplF17ABCDEF12",
            "androidc1234567890abcdef",
            "SEC1A2B3C4D5E6F7",
            "a-b_c.d",
            &"x".repeat(DeviceId::MAX_LEN),
        ] {
            assert_eq!(DeviceId::new(ok).map(|d| d.0), Ok(ok.to_owned()));
        }
        assert_eq!(DeviceId::new(""), Err(InvalidValue::Empty));
        assert_eq!(
            DeviceId::new("x".repeat(DeviceId::MAX_LEN + 1)),
            Err(InvalidValue::TooLong {
                len: DeviceId::MAX_LEN + 1,
                max: DeviceId::MAX_LEN
            })
        );
        assert_eq!(DeviceId::new("a/b"), Err(InvalidValue::PathCharacter('/')));
        assert_eq!(
            DeviceId::new("a\\b"),
            Err(InvalidValue::PathCharacter('\\'))
        );
        assert_eq!(DeviceId::new(".."), Err(InvalidValue::PathCharacter('.')));
        assert_eq!(DeviceId::new("a..b"), Err(InvalidValue::PathCharacter('.')));
        assert_eq!(DeviceId::new("."), Err(InvalidValue::PathCharacter('.')));
        assert_eq!(DeviceId::new("a\0b"), Err(InvalidValue::Control(0)));
        assert_eq!(DeviceId::new("a\nb"), Err(InvalidValue::Control(10)));
    }

    #[test]
    fn device_id_fields_as_text_or_hex() {
        assert_eq!(
            DeviceId::from_field(b"v140Device").map(|d| d.0),
            Ok("v140Device".to_owned())
        );
        let guid = [
            0x6F, 0x24, 0xCA, 0xD5, 0x99, 0xA5, 0xBF, 0x1A, 0x69, 0x02, 0x46, 0xB8, 0xC6, 0x8F,
            0xAE, 0x8D,
        ];
        assert_eq!(
            DeviceId::from_field(&guid).map(|d| d.0),
            Ok("6F24CAD599A5BF1A690246B8C68FAE8D".to_owned())
        );
        // Text that would be unsafe as an id is kept as hex, not refused.
        assert_eq!(
            DeviceId::from_field(b"../x").map(|d| d.0),
            Ok("2E2E2F78".to_owned())
        );
        assert_eq!(DeviceId::from_field(b""), Err(InvalidValue::Empty));
        assert!(matches!(
            DeviceId::from_field(&[0xFF; 65]),
            Err(InvalidValue::TooLong { len: 130, .. })
        ));
    }

    #[test]
    fn policy_keys() {
        assert_eq!(PolicyKey::parse("1307199584"), Ok(PolicyKey(1_307_199_584)));
        assert_eq!(PolicyKey::parse(" 0 "), Ok(PolicyKey::NONE));
        assert_eq!(PolicyKey::parse("4294967295"), Ok(PolicyKey(u32::MAX)));
        assert_eq!(PolicyKey::parse("4294967296"), Err(InvalidValue::NotU32));
        assert_eq!(PolicyKey::parse("+5"), Err(InvalidValue::NotU32));
        assert_eq!(PolicyKey::parse("-1"), Err(InvalidValue::NotU32));
        assert_eq!(PolicyKey::parse("0x10"), Err(InvalidValue::NotU32));
        assert_eq!(PolicyKey::parse(""), Err(InvalidValue::Empty));
        assert_eq!(
            PolicyKey::from_le_bytes([0x60, 0x2F, 0xEA, 0x4D]),
            PolicyKey(0x4DEA_2F60)
        );
        assert_eq!(PolicyKey(42).to_string(), "42");
        assert!(PolicyKey::NONE.is_none());
    }

    #[test]
    fn names_and_types() {
        assert!(UserName::new("CONTOSO\\chris").is_ok());
        assert_eq!(UserName::new("a\u{7f}"), Err(InvalidValue::Control(0x7f)));
        assert!(DeviceType::new("SAMSUNGSMG991B").is_ok());
        assert_eq!(DeviceType::new(""), Err(InvalidValue::Empty));
        assert_eq!(format!("{:?}", Locale::EN_US), "Locale(0x0409)");
    }
}
