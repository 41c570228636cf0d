//! ActiveSync protocol versions (MS-ASHTTP 2.2.1.1.2.4, `MS-ASProtocolVersion`).

use std::fmt;
use std::str::FromStr;

/// A protocol version this crate knows about.
///
/// 2.5 is listed so that the code page table can say exactly what the spec
/// says; the server itself offers 12.0 and later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolVersion {
    V2_5,
    V12_0,
    V12_1,
    V14_0,
    V14_1,
    V16_0,
    V16_1,
}

impl ProtocolVersion {
    /// Every version, oldest first.
    pub const ALL: [ProtocolVersion; 7] = [
        Self::V2_5,
        Self::V12_0,
        Self::V12_1,
        Self::V14_0,
        Self::V14_1,
        Self::V16_0,
        Self::V16_1,
    ];

    /// The form used in headers and in `MS-ASProtocolVersions`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V2_5 => "2.5",
            Self::V12_0 => "12.0",
            Self::V12_1 => "12.1",
            Self::V14_0 => "14.0",
            Self::V14_1 => "14.1",
            Self::V16_0 => "16.0",
            Self::V16_1 => "16.1",
        }
    }

    /// The single-byte form used by the base64-encoded query
    /// (MS-ASHTTP 2.2.1.1.1.1: the version times ten, so 12.1 is 121).
    pub const fn as_byte(self) -> u8 {
        match self {
            Self::V2_5 => 25,
            Self::V12_0 => 120,
            Self::V12_1 => 121,
            Self::V14_0 => 140,
            Self::V14_1 => 141,
            Self::V16_0 => 160,
            Self::V16_1 => 161,
        }
    }

    pub const fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            25 => Self::V2_5,
            120 => Self::V12_0,
            121 => Self::V12_1,
            140 => Self::V14_0,
            141 => Self::V14_1,
            160 => Self::V16_0,
            161 => Self::V16_1,
            _ => return None,
        })
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol version string that is not one of [`ProtocolVersion::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown ActiveSync protocol version {0:?} (known: 2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1)"
)]
pub struct UnknownVersion(pub String);

impl FromStr for ProtocolVersion {
    type Err = UnknownVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim())
            .ok_or_else(|| UnknownVersion(s.to_owned()))
    }
}

/// A set of protocol versions: which versions define a code page tag.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Versions(u8);

impl Versions {
    /// Every version ("All" in MS-ASWBXML's tables).
    pub const ALL: Versions = Versions::since(ProtocolVersion::V2_5);

    /// `first` and every later version.
    pub const fn since(first: ProtocolVersion) -> Versions {
        let mut bits = 0u8;
        let mut i = first as usize;
        while i < ProtocolVersion::ALL.len() {
            bits |= 1 << i;
            i += 1;
        }
        Versions(bits)
    }

    /// Exactly the versions listed.
    pub const fn only(list: &[ProtocolVersion]) -> Versions {
        let mut bits = 0u8;
        let mut rest = list;
        while let [first, tail @ ..] = rest {
            bits |= first.bit();
            rest = tail;
        }
        Versions(bits)
    }

    pub const fn contains(self, version: ProtocolVersion) -> bool {
        self.0 & version.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = ProtocolVersion> {
        ProtocolVersion::ALL
            .into_iter()
            .filter(move |v| self.contains(*v))
    }
}

impl fmt::Debug for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::ALL {
            return f.write_str("All");
        }
        f.debug_list()
            .entries(self.iter().map(|v| v.as_str()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_and_only() {
        let v = Versions::since(ProtocolVersion::V14_0);
        assert!(!v.contains(ProtocolVersion::V12_1));
        assert!(v.contains(ProtocolVersion::V14_0));
        assert!(v.contains(ProtocolVersion::V16_1));
        let o = Versions::only(&[ProtocolVersion::V2_5, ProtocolVersion::V12_0]);
        assert_eq!(format!("{o:?}"), r#"["2.5", "12.0"]"#);
        assert!(Versions::ALL.contains(ProtocolVersion::V2_5));
    }

    #[test]
    fn parses_and_prints() {
        for v in ProtocolVersion::ALL {
            assert_eq!(v.as_str().parse::<ProtocolVersion>(), Ok(v));
            assert_eq!(ProtocolVersion::from_byte(v.as_byte()), Some(v));
        }
        assert!("13.0".parse::<ProtocolVersion>().is_err());
        assert_eq!(ProtocolVersion::from_byte(0), None);
    }
}
