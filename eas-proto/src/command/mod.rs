//! Typed requests and responses, one module per command.
//!
//! Each module has a `Request` and a `Response`, both with `from_element`
//! and `to_element`: the server reads requests and writes responses, the
//! test client does the opposite, and the round trip is tested both ways.
//!
//! Reading is strict about what the spec requires and lenient about what it
//! does not mention: a required element missing, an element given twice
//! where one is allowed, or a value of the wrong type is a [`CommandError`],
//! which the server answers with the command's protocol-error status; an
//! element the module does not know is skipped, as a newer client's
//! additions should be.

pub mod airsyncbase;
pub mod composemail;
pub mod email;
mod fields;
pub mod find;
pub mod folder;
pub mod ids;
pub mod items;
pub mod ping;
pub mod provision;
pub mod resolverecipients;
pub mod search;
pub mod settings;
pub mod sync;
pub mod validatecert;

use std::fmt;
use std::str::FromStr;

use crate::wbxml::{Element, Tag};

/// Why a request (or response) document does not have the command's shape.
/// Always the peer's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    #[error("the document is {found}, not {expected}")]
    WrongRoot { expected: Tag, found: Tag },
    #[error("{parent} has no {missing}")]
    Missing { parent: Tag, missing: Tag },
    #[error("{parent} has more than one {tag}")]
    Duplicate { parent: Tag, tag: Tag },
    #[error("{parent} has both {first} and {second}, which exclude each other")]
    Conflict {
        parent: Tag,
        first: Tag,
        second: Tag,
    },
    #[error("{tag} holds {value:?}, which is not {expected}")]
    Invalid {
        tag: Tag,
        /// The offending text, cut to [`MAX_QUOTED`] characters.
        value: String,
        expected: &'static str,
    },
    #[error("{tag} holds elements or opaque data where text belongs")]
    NotText { tag: Tag },
}

/// How much of an invalid value an error repeats: enough to recognise it in
/// a log, not enough to fill one.
pub const MAX_QUOTED: usize = 64;

impl CommandError {
    pub(crate) fn invalid(tag: Tag, value: &str, expected: &'static str) -> CommandError {
        CommandError::Invalid {
            tag,
            value: value.chars().take(MAX_QUOTED).collect(),
            expected,
        }
    }
}

pub(crate) fn expect_root(el: &Element<'_>, tag: Tag) -> Result<(), CommandError> {
    if el.tag == tag {
        Ok(())
    } else {
        Err(CommandError::WrongRoot {
            expected: tag,
            found: el.tag,
        })
    }
}

/// The child with this tag, if there is exactly one; two are an error.
pub(crate) fn child<'e, 'a>(
    el: &'e Element<'a>,
    tag: Tag,
) -> Result<Option<&'e Element<'a>>, CommandError> {
    let mut found = el.children_with(tag);
    let first = found.next();
    if found.next().is_some() {
        return Err(CommandError::Duplicate {
            parent: el.tag,
            tag,
        });
    }
    Ok(first)
}

pub(crate) fn required<'e, 'a>(
    el: &'e Element<'a>,
    tag: Tag,
) -> Result<&'e Element<'a>, CommandError> {
    child(el, tag)?.ok_or(CommandError::Missing {
        parent: el.tag,
        missing: tag,
    })
}

/// The element's text; an empty element has the empty string.
pub(crate) fn text<'e>(el: &'e Element<'_>) -> Result<&'e str, CommandError> {
    if el.is_empty() {
        return Ok("");
    }
    el.text_content()
        .ok_or(CommandError::NotText { tag: el.tag })
}

pub(crate) fn child_text(el: &Element<'_>, tag: Tag) -> Result<Option<String>, CommandError> {
    child(el, tag)?
        .map(|c| text(c).map(str::to_owned))
        .transpose()
}

/// A number (or number newtype) in decimal; white space around it forgiven.
pub(crate) fn number<T: FromStr>(
    el: &Element<'_>,
    expected: &'static str,
) -> Result<T, CommandError> {
    let t = text(el)?;
    t.trim_matches(|c: char| c.is_ascii_whitespace())
        .parse()
        .map_err(|_| CommandError::invalid(el.tag, t, expected))
}

/// MS-ASDTYPE 2.1: a boolean is `0` or `1`.
pub(crate) fn boolean(el: &Element<'_>) -> Result<bool, CommandError> {
    match text(el)? {
        "0" => Ok(false),
        "1" => Ok(true),
        other => Err(CommandError::invalid(el.tag, other, "0 or 1")),
    }
}

pub(crate) fn text_element(tag: Tag, value: impl Into<String>) -> Element<'static> {
    Element::text(tag, value.into())
}

pub(crate) fn bool_element(tag: Tag, value: bool) -> Element<'static> {
    Element::text(tag, if value { "1" } else { "0" })
}

/// A date and time as MS-ASDTYPE 2.3 writes it: `2009-12-24T00:00:00.000Z`,
/// always UTC. The milliseconds are optional here, since clients drop
/// them; the text is kept as the client wrote it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(String);

impl DateTime {
    pub fn parse(text: &str) -> Option<DateTime> {
        let b = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = b.get(r)?;
            if !s.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(s).ok()?.parse().ok()
        };
        let at = |i: usize, c: u8| b.get(i) == Some(&c);
        let shape = at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':');
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        let fraction_ok = match b.get(19..) {
            Some([b'Z']) => true,
            Some([b'.', rest @ .., b'Z']) => {
                (1..=7).contains(&rest.len()) && rest.iter().all(u8::is_ascii_digit)
            }
            _ => false,
        };
        let ranges = year >= 1
            && (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && hour <= 23
            && minute <= 59
            && second <= 60;
        (shape && fraction_ok && ranges).then(|| DateTime(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn from_element(el: &Element<'_>) -> Result<DateTime, CommandError> {
        let t = text(el)?;
        DateTime::parse(t).ok_or_else(|| {
            CommandError::invalid(el.tag, t, "a date and time like 2009-12-24T00:00:00.000Z")
        })
    }
}

impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DateTime({})", self.0)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret the client sends, such as the device recovery password: its
/// `Debug` prints nothing of it, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that stores it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codepages::provision as p;

    #[test]
    fn helpers_say_what_is_wrong() {
        let doc = Element::new(p::Provision)
            .with(Element::text(p::Status, "1"))
            .with(Element::text(p::PolicyKey, "a"))
            .with(Element::text(p::PolicyKey, "b"))
            .with(Element::new(p::Policies).with(Element::new(p::Policy)));
        assert_eq!(expect_root(&doc, p::Provision), Ok(()));
        assert_eq!(
            expect_root(&doc, p::Policy),
            Err(CommandError::WrongRoot {
                expected: p::Policy,
                found: p::Provision
            })
        );
        assert_eq!(
            child(&doc, p::PolicyKey),
            Err(CommandError::Duplicate {
                parent: p::Provision,
                tag: p::PolicyKey
            })
        );
        assert_eq!(
            required(&doc, p::Data).unwrap_err().to_string(),
            "Provision:Provision has no Provision:Data"
        );
        let status = required(&doc, p::Status).unwrap();
        assert_eq!(number::<u8>(status, "a number"), Ok(1));
        assert_eq!(boolean(status), Ok(true));
        let policies = required(&doc, p::Policies).unwrap();
        assert_eq!(
            text(policies),
            Err(CommandError::NotText { tag: p::Policies })
        );
        let long = Element::text(p::Status, "9".repeat(200));
        match number::<u8>(&long, "a number") {
            Err(CommandError::Invalid { value, .. }) => assert_eq!(value.len(), MAX_QUOTED),
            other => panic!("{other:?}"),
        }
        assert_eq!(text(&Element::new(p::Status)), Ok(""));
        assert!(boolean(&Element::text(p::Status, "true")).is_err());
    }

    #[test]
    fn date_times() {
        for ok in [
            "2009-12-24T00:00:00.000Z",
            "2010-01-04T23:59:59Z",
            "2024-02-29T12:30:00.1234567Z",
        ] {
            assert_eq!(DateTime::parse(ok).map(|d| d.0), Some(ok.to_owned()));
        }
        for bad in [
            "",
            "2009-12-24",
            "2009-12-24T00:00:00.000",
            "2009-12-24 00:00:00.000Z",
            "2009-13-24T00:00:00.000Z",
            "2009-12-00T00:00:00.000Z",
            "2009-12-24T24:00:00.000Z",
            "2009-12-24T00:00:00.Z",
            "2009-12-24T00:00:00.000+01:00",
            "２009-12-24T00:00:00.000Z",
        ] {
            assert_eq!(DateTime::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(..)");
        assert_eq!(s.expose(), "hunter2");
    }
}
