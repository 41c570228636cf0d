//! From what a client asks to a [`Filter`] over the index: a Search query
//! tree (MS-ASCMD 2.2.1.16) or a Find KQL string (2.2.1.2), with the
//! statuses the spec gives to the shapes it refuses.
//!
//! Search. `Query` holds one `And` or one `Or`. Inside an `And`, the
//! `FreeText`, `GreaterThan`, `LessThan`, `ConversationId` and nested
//! groups must all hold; `Class` elements together name the classes
//! wanted, and `CollectionId` elements together name the folders searched
//! (with their subfolders under `DeepTraversal`), as Exchange reads them.
//! An `Or` holds when one of its `FreeText`, `CollectionId`, `And` or `Or`
//! children does. Refused, as the spec says:
//!
//! - a condition directly in `Query`, more than one element in it, or
//!   `Class`, `ConversationId`, `GreaterThan` or `LessThan` anywhere but in
//!   an `And`: Status 8, SearchTooComplex (MS-ASCMD And, Class (Search),
//!   FreeText (Search), GreaterThan, LessThan, ConversationId (Search);
//!   Exchange answers 8 to an `Or` holding a `Class`, the protocol test
//!   suite's S14 TC30). The spec also says 8 for a `FreeText` outside an
//!   `And`; this server takes one inside an `Or`, which is what `Or` is for,
//!   and refuses only one directly in `Query`;
//! - groups nested deeper than [`MAX_DEPTH`] or more than [`MAX_LEAVES`]
//!   conditions: 8, our limit;
//! - an element that is not a mailbox condition (an Email property such
//!   as `email:To`, `EqualTo`), an unknown class, a second
//!   `ConversationId`, a comparison of anything but `email:DateReceived`,
//!   a `Value` that is not a date: Status 2;
//! - a `CollectionId` that is not one of the account's folders: Status 11,
//!   FolderSync required.
//!
//! With no `CollectionId` anywhere, every mail folder is searched (MS-ASCMD
//! Query (Search): "All email folders, including Draft, Inbox and
//! subfolders, Outbox, and Sent Items"; Deleted Items too, as a user
//! looking for a deleted message expects).
//!
//! Find. `FreeText` is KQL: words, `"quoted phrases"` (their words, in any
//! order), property restrictions `from:`, `to:`, `cc:`, `bcc:`,
//! `participants:`, `subject:`, `body:`, `attachment:` (also `attachments:`,
//! `attachmentnames:`), and `OR` between two terms; `AND` is the default.
//! An unknown property is searched as words.

use std::collections::BTreeSet;

use base64::Engine as _;
use eas_proto::ProtocolVersion;
use eas_proto::codepages::email;
use eas_proto::command::DateTime;
use eas_proto::command::ids::CollectionId;
use eas_proto::command::search::{Comparison, Condition};

use super::index::{Fields, Filter};
use super::text;
use crate::cmd::moveitems::is_mail_folder;
use crate::store::Folder;

/// How deep `And` and `Or` may nest.
pub const MAX_DEPTH: usize = 4;
/// How many conditions one query may hold.
pub const MAX_LEAVES: usize = 32;

/// Why a query is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The client's parameters are invalid (Search 2, Find 2).
    Invalid(String),
    /// Search 8, SearchTooComplex.
    TooComplex(String),
    /// The folder is not the account's (Search 11, Find 3).
    UnknownFolder(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Invalid(why) => write!(f, "invalid: {why}"),
            Refusal::TooComplex(why) => write!(f, "too complex: {why}"),
            Refusal::UnknownFolder(id) => write!(f, "no folder {id:?} in this mailbox"),
        }
    }
}

/// The account's folders, for turning CollectionIds into folder sets.
#[derive(Debug)]
pub struct Folders<'a> {
    pub all: &'a [Folder],
    pub deep: bool,
}

impl Folders<'_> {
    /// The folder a CollectionId names and, when deep, every folder below.
    fn resolve(&self, id: &CollectionId) -> Result<BTreeSet<u32>, Refusal> {
        let folder = id
            .as_str()
            .parse::<u32>()
            .ok()
            .filter(|n| self.all.iter().any(|f| f.id == *n))
            .ok_or_else(|| Refusal::UnknownFolder(id.as_str().to_owned()))?;
        let mut out = BTreeSet::from([folder]);
        if self.deep {
            let mut queue = vec![folder];
            while let Some(parent) = queue.pop() {
                for child in self.all.iter().filter(|f| f.parent == parent) {
                    if out.insert(child.id) {
                        queue.push(child.id);
                    }
                }
            }
        }
        Ok(out)
    }

    fn mail(&self) -> BTreeSet<u32> {
        self.all
            .iter()
            .filter(|f| is_mail_folder(f))
            .map(|f| f.id)
            .collect()
    }

    fn every(&self) -> BTreeSet<u32> {
        self.all.iter().map(|f| f.id).collect()
    }
}

fn words(text: &str, fields: Fields) -> Filter {
    let words: Vec<String> = text::terms(text).collect();
    if words.is_empty() {
        Filter::All
    } else {
        Filter::Words { words, fields }
    }
}

/// The classes a Search may name (MS-ASCMD Class (Search)).
fn class_is_email(class: &str, version: ProtocolVersion) -> Result<bool, Refusal> {
    let known = ["Email", "Calendar", "Contacts", "Tasks", "Notes", "SMS"];
    let Some(name) = known.iter().find(|k| k.eq_ignore_ascii_case(class.trim())) else {
        return Err(Refusal::Invalid(format!("no class {class:?}")));
    };
    if matches!(*name, "Notes" | "SMS") && version < ProtocolVersion::V14_0 {
        return Err(Refusal::Invalid(format!(
            "class {name} needs protocol 14.0 or later"
        )));
    }
    Ok(*name == "Email")
}

/// Days since the epoch of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the epoch of an MS-ASDTYPE date and time; before
/// 1970 is 0.
pub fn epoch_millis(value: &DateTime) -> u64 {
    let t = value.as_str();
    let n = |r: std::ops::Range<usize>| t.get(r).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let days = days_from_civil(n(0..4), n(5..7), n(8..10));
    let secs = days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19);
    let fraction = t
        .get(20..t.len().saturating_sub(1))
        .filter(|f| !f.is_empty())
        .map_or(0, |f| {
            let digits: String = f.chars().chain(std::iter::repeat('0')).take(3).collect();
            digits.parse::<i64>().unwrap_or(0)
        });
    u64::try_from(secs * 1000 + fraction).unwrap_or(0)
}

fn received(c: &Comparison) -> Result<u64, Refusal> {
    if c.property != email::DateReceived {
        return Err(Refusal::Invalid(format!(
            "{} is not a property a mailbox search compares",
            c.property
        )));
    }
    DateTime::parse(c.value.trim())
        .map(|d| epoch_millis(&d))
        .ok_or_else(|| Refusal::Invalid(format!("{:?} is not a date and time", c.value)))
}

/// A ConversationId as clients send it: 32 hex digits (a GUID, with or
/// without braces and dashes) or the base64 of the 16 bytes Sync gave.
fn conversation(value: &str) -> Result<[u8; 16], Refusal> {
    let hex: String = value
        .chars()
        .filter(|c| !matches!(c, '{' | '}' | '-'))
        .collect();
    let bytes = if hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        (0..16)
            .filter_map(|i| {
                hex.get(i * 2..i * 2 + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect::<Vec<u8>>()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .unwrap_or_default()
    };
    bytes
        .try_into()
        .map_err(|_| Refusal::Invalid(format!("{value:?} is not a ConversationId")))
}

fn tag_name(c: &Condition) -> &'static str {
    match c {
        Condition::And(_) => "And",
        Condition::Or(_) => "Or",
        Condition::FreeText(_) => "FreeText",
        Condition::Class(_) => "Class",
        Condition::CollectionId(_) => "CollectionId",
        Condition::ConversationId(_) => "ConversationId",
        Condition::GreaterThan(_) => "GreaterThan",
        Condition::LessThan(_) => "LessThan",
        Condition::EqualTo(_) => "EqualTo",
        Condition::Unknown(_) => "an unknown element",
    }
}

fn not_a_condition(c: &Condition) -> Refusal {
    match c {
        Condition::EqualTo(_) => Refusal::Invalid("EqualTo is for document libraries".into()),
        Condition::Unknown(tag) => Refusal::Invalid(format!("{tag} is not a search condition")),
        other => Refusal::Invalid(format!("{} here", tag_name(other))),
    }
}

struct SearchCompiler<'a> {
    folders: &'a Folders<'a>,
    version: ProtocolVersion,
    leaves: usize,
    conversation: bool,
    any_folder: bool,
}

impl SearchCompiler<'_> {
    fn leaf(&mut self) -> Result<(), Refusal> {
        self.leaves += 1;
        if self.leaves > MAX_LEAVES {
            return Err(Refusal::TooComplex(format!(
                "more than {MAX_LEAVES} conditions"
            )));
        }
        Ok(())
    }

    fn group(&mut self, c: &Condition, depth: usize) -> Result<Filter, Refusal> {
        if depth > MAX_DEPTH {
            return Err(Refusal::TooComplex(format!(
                "groups nested more than {MAX_DEPTH} deep"
            )));
        }
        match c {
            Condition::And(items) => self.and(items, depth),
            Condition::Or(items) => self.or(items, depth),
            other => Err(not_a_condition(other)),
        }
    }

    fn and(&mut self, items: &[Condition], depth: usize) -> Result<Filter, Refusal> {
        let mut parts = Vec::new();
        let mut classes: Vec<bool> = Vec::new();
        let mut folders = BTreeSet::new();
        for c in items {
            self.leaf()?;
            match c {
                Condition::And(_) | Condition::Or(_) => parts.push(self.group(c, depth + 1)?),
                Condition::FreeText(t) => parts.push(words(t, Fields::ALL)),
                Condition::Class(class) => classes.push(class_is_email(class, self.version)?),
                Condition::CollectionId(id) => {
                    self.any_folder = true;
                    folders.extend(self.folders.resolve(id)?);
                }
                Condition::ConversationId(v) => {
                    if self.conversation {
                        return Err(Refusal::Invalid("more than one ConversationId".into()));
                    }
                    self.conversation = true;
                    parts.push(Filter::Conversation(conversation(v)?));
                }
                Condition::GreaterThan(cmp) => parts.push(Filter::ReceivedAfter(received(cmp)?)),
                Condition::LessThan(cmp) => parts.push(Filter::ReceivedBefore(received(cmp)?)),
                Condition::EqualTo(_) | Condition::Unknown(_) => return Err(not_a_condition(c)),
            }
        }
        // Every item here is of the Email class.
        if !classes.is_empty() && !classes.contains(&true) {
            parts.push(Filter::Nothing);
        }
        if !folders.is_empty() {
            parts.push(Filter::Folders(folders));
        }
        Ok(Filter::And(parts))
    }

    fn or(&mut self, items: &[Condition], depth: usize) -> Result<Filter, Refusal> {
        let mut parts = Vec::new();
        for c in items {
            self.leaf()?;
            parts.push(match c {
                Condition::And(_) | Condition::Or(_) => self.group(c, depth + 1)?,
                Condition::FreeText(t) => words(t, Fields::ALL),
                Condition::CollectionId(id) => {
                    self.any_folder = true;
                    Filter::Folders(self.folders.resolve(id)?)
                }
                Condition::Class(_)
                | Condition::ConversationId(_)
                | Condition::GreaterThan(_)
                | Condition::LessThan(_) => {
                    return Err(Refusal::TooComplex(format!(
                        "{} outside an And",
                        tag_name(c)
                    )));
                }
                Condition::EqualTo(_) | Condition::Unknown(_) => return Err(not_a_condition(c)),
            });
        }
        Ok(Filter::Or(parts))
    }
}

/// The filter of a Search of the mailbox: `conditions` are `Query`'s
/// children.
pub fn search_filter(
    conditions: &[Condition],
    folders: &Folders<'_>,
    version: ProtocolVersion,
) -> Result<Filter, Refusal> {
    let mut c = SearchCompiler {
        folders,
        version,
        leaves: 0,
        conversation: false,
        any_folder: false,
    };
    let filter = match conditions {
        [] => return Err(Refusal::Invalid("an empty query".into())),
        [group @ (Condition::And(_) | Condition::Or(_))] => c.group(group, 1)?,
        [other @ (Condition::EqualTo(_) | Condition::Unknown(_))] => {
            return Err(not_a_condition(other));
        }
        [leaf] => {
            return Err(Refusal::TooComplex(format!(
                "{} directly in Query, outside an And",
                tag_name(leaf)
            )));
        }
        many => {
            if let Some(bad) = many
                .iter()
                .find(|c| matches!(c, Condition::EqualTo(_) | Condition::Unknown(_)))
            {
                return Err(not_a_condition(bad));
            }
            return Err(Refusal::TooComplex(format!(
                "{} elements in Query, not one And",
                many.len()
            )));
        }
    };
    Ok(if c.any_folder {
        filter
    } else {
        Filter::And(vec![filter, Filter::Folders(folders.mail())])
    })
}

/// The property restrictions of KQL this server knows.
fn kql_property(name: &str) -> Option<Fields> {
    Some(match name.to_ascii_lowercase().as_str() {
        "from" => Fields::FROM,
        "to" => Fields::TO,
        "cc" => Fields::CC,
        "bcc" => Fields::TO.union(Fields::CC),
        "participants" => Fields::FROM.union(Fields::TO).union(Fields::CC),
        "subject" => Fields::SUBJECT,
        "body" => Fields::BODY,
        "attachment" | "attachments" | "attachmentnames" => Fields::ATTACHMENTS,
        _ => return None,
    })
}

/// KQL's tokens: white space separates them except inside quotes.
fn kql_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The filter of a Find of the mailbox: `free_text` is KQL; `collection`
/// the folder to search, or every folder.
pub fn find_filter(
    free_text: &str,
    collection: Option<&CollectionId>,
    folders: &Folders<'_>,
) -> Result<Filter, Refusal> {
    let tokens = kql_tokens(free_text);
    if tokens.len() > MAX_LEAVES * 2 {
        return Err(Refusal::Invalid(format!(
            "more than {} terms",
            MAX_LEAVES * 2
        )));
    }
    // Terms, with `OR` joining a term to the one before it.
    let mut terms: Vec<Filter> = Vec::new();
    let mut or_next = false;
    for token in tokens {
        match token.as_str() {
            "OR" => {
                or_next = !terms.is_empty();
                continue;
            }
            "AND" => continue,
            _ => {}
        }
        let term = match token.split_once(':') {
            Some((name, value)) => match kql_property(name) {
                Some(fields) => words(value, fields),
                None => words(&token, Fields::ALL),
            },
            None => words(&token, Fields::ALL),
        };
        if term == Filter::All {
            continue;
        }
        match (or_next, terms.pop()) {
            (true, Some(Filter::Or(mut alternatives))) => {
                alternatives.push(term);
                terms.push(Filter::Or(alternatives));
            }
            (true, Some(previous)) => terms.push(Filter::Or(vec![previous, term])),
            (_, previous) => {
                terms.extend(previous);
                terms.push(term);
            }
        }
        or_next = false;
    }
    if terms.is_empty() {
        return Err(Refusal::Invalid("nothing to search for".into()));
    }
    let scope = match collection {
        Some(id) => folders.resolve(id)?,
        None => folders.every(),
    };
    terms.push(Filter::Folders(scope));
    Ok(Filter::And(terms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::mailbox::{DEFAULT_FOLDERS, folder_type};
    use eas_proto::codepages::documentlibrary;

    fn folders() -> Vec<Folder> {
        let mut all: Vec<Folder> = DEFAULT_FOLDERS
            .iter()
            .map(|(id, name, kind)| Folder {
                id: *id,
                parent: 0,
                name: (*name).into(),
                kind: *kind,
            })
            .collect();
        all.push(Folder {
            id: 100,
            parent: 1,
            name: "Work".into(),
            kind: folder_type::USER_MAIL,
        });
        all.push(Folder {
            id: 101,
            parent: 100,
            name: "Deep".into(),
            kind: folder_type::USER_MAIL,
        });
        all
    }

    fn cid(s: &str) -> Condition {
        Condition::CollectionId(CollectionId::new(s).unwrap())
    }

    fn text(s: &str) -> Condition {
        Condition::FreeText(s.into())
    }

    fn date(value: &str) -> Comparison {
        Comparison {
            property: email::DateReceived,
            value: value.into(),
        }
    }

    fn compile(q: &[Condition], deep: bool) -> Result<Filter, Refusal> {
        let all = folders();
        search_filter(q, &Folders { all: &all, deep }, ProtocolVersion::V14_1)
    }

    fn too_complex(r: Result<Filter, Refusal>) -> bool {
        matches!(r, Err(Refusal::TooComplex(_)))
    }

    fn invalid(r: Result<Filter, Refusal>) -> bool {
        matches!(r, Err(Refusal::Invalid(_)))
    }

    #[test]
    fn an_and_of_folders_text_and_dates() {
        let f = compile(
            &[Condition::And(vec![
                Condition::Class("Email".into()),
                cid("1"),
                text("Quarterly Report"),
                Condition::GreaterThan(date("2026-01-01T00:00:00.000Z")),
                Condition::LessThan(date("2026-02-01T00:00:00Z")),
            ])],
            true,
        )
        .unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::Words {
                    words: vec!["quarterly".into(), "report".into()],
                    fields: Fields::ALL
                },
                Filter::ReceivedAfter(1_767_225_600_000),
                Filter::ReceivedBefore(1_769_904_000_000),
                Filter::Folders([1, 100, 101].into()),
            ])
        );
        // Without DeepTraversal only the folder named.
        let f = compile(&[Condition::And(vec![cid("1"), cid("4")])], false).unwrap();
        assert_eq!(f, Filter::And(vec![Filter::Folders([1, 4].into())]));
        // No folder named: the mail folders.
        let f = compile(&[Condition::And(vec![text("x")])], false).unwrap();
        let Filter::And(parts) = f else { panic!() };
        assert_eq!(parts[1], Filter::Folders([1, 2, 3, 4, 5, 100, 101].into()));
        // A class other than Email finds nothing here.
        let f = compile(
            &[Condition::And(vec![Condition::Class("Tasks".into())])],
            false,
        )
        .unwrap();
        let Filter::And(parts) = f else { panic!() };
        assert_eq!(parts[0], Filter::And(vec![Filter::Nothing]));
    }

    #[test]
    fn ors_of_text_and_folders() {
        let f = compile(
            &[Condition::Or(vec![
                text("alpha"),
                cid("4"),
                Condition::And(vec![text("beta"), cid("1")]),
            ])],
            false,
        )
        .unwrap();
        assert_eq!(
            f,
            Filter::Or(vec![
                Filter::Words {
                    words: vec!["alpha".into()],
                    fields: Fields::ALL
                },
                Filter::Folders([4].into()),
                Filter::And(vec![
                    Filter::Words {
                        words: vec!["beta".into()],
                        fields: Fields::ALL
                    },
                    Filter::Folders([1].into())
                ]),
            ])
        );
    }

    #[test]
    fn shapes_the_spec_refuses() {
        // Conditions outside an And: 8.
        assert!(too_complex(compile(&[text("x")], false)));
        assert!(too_complex(compile(&[cid("1")], false)));
        assert!(too_complex(compile(
            &[Condition::Class("Email".into())],
            false
        )));
        assert!(too_complex(compile(
            &[Condition::GreaterThan(date("2026-01-01T00:00:00Z"))],
            false
        )));
        assert!(too_complex(compile(
            &[Condition::Or(vec![
                Condition::Class("Email".into()),
                text("k")
            ])],
            false
        )));
        assert!(too_complex(compile(
            &[Condition::Or(vec![Condition::LessThan(date(
                "2026-01-01T00:00:00Z"
            ))])],
            false
        )));
        // Two Ands in Query: 8.
        assert!(too_complex(compile(
            &[Condition::And(vec![text("a")]), Condition::And(vec![])],
            false
        )));
        // Too deep, too many.
        let mut deep = Condition::And(vec![text("x")]);
        for _ in 0..MAX_DEPTH {
            deep = Condition::And(vec![deep]);
        }
        assert!(too_complex(compile(&[deep], false)));
        let many: Vec<Condition> = (0..=MAX_LEAVES).map(|i| text(&format!("w{i}"))).collect();
        assert!(too_complex(compile(&[Condition::And(many)], false)));

        // Not conditions at all, or bad values: 2.
        assert!(invalid(compile(&[], false)));
        assert!(invalid(compile(
            &[Condition::And(vec![Condition::Unknown(email::To)])],
            false
        )));
        assert!(invalid(compile(&[Condition::Unknown(email::To)], false)));
        assert!(invalid(compile(
            &[Condition::EqualTo(Comparison {
                property: documentlibrary::LinkId,
                value: "x".into()
            })],
            false
        )));
        assert!(invalid(compile(
            &[Condition::And(vec![Condition::Class("Mail".into())])],
            false
        )));
        assert!(invalid(compile(
            &[Condition::And(vec![Condition::LessThan(date("50"))])],
            false
        )));
        let conv = "0123456789abcdef0123456789ABCDEF";
        assert!(
            compile(
                &[Condition::And(vec![Condition::ConversationId(conv.into())])],
                false
            )
            .is_ok()
        );
        assert!(invalid(compile(
            &[Condition::And(vec![
                Condition::ConversationId(conv.into()),
                Condition::ConversationId(conv.into())
            ])],
            false
        )));
        assert!(invalid(compile(
            &[Condition::And(vec![Condition::ConversationId(
                "nope".into()
            )])],
            false
        )));
        // Not a folder of this account: 11.
        assert_eq!(
            compile(&[Condition::And(vec![cid("999")])], false),
            Err(Refusal::UnknownFolder("999".into()))
        );
        assert!(matches!(
            compile(&[Condition::And(vec![cid("x:1")])], false),
            Err(Refusal::UnknownFolder(_))
        ));
        // SMS needs 14.0.
        let all = folders();
        assert!(invalid(search_filter(
            &[Condition::And(vec![Condition::Class("SMS".into())])],
            &Folders {
                all: &all,
                deep: false
            },
            ProtocolVersion::V12_1
        )));
    }

    #[test]
    fn dates_to_milliseconds() {
        let ms = |s: &str| epoch_millis(&DateTime::parse(s).unwrap());
        assert_eq!(ms("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ms("2000-02-29T00:00:00.5Z"), 951_782_400_500);
        assert_eq!(ms("2026-11-29T18:59:59.123Z"), 1_795_978_799_123);
        assert_eq!(ms("1969-12-31T23:59:59Z"), 0);
    }

    #[test]
    fn kql() {
        let all = folders();
        let f = Folders {
            all: &all,
            deep: false,
        };
        let w = |words: &[&str], fields| Filter::Words {
            words: words.iter().map(|s| (*s).to_owned()).collect(),
            fields,
        };
        let every: BTreeSet<u32> = all.iter().map(|f| f.id).collect();
        assert_eq!(
            find_filter("from:anat subject:\"deck review\" monday", None, &f).unwrap(),
            Filter::And(vec![
                w(&["anat"], Fields::FROM),
                w(&["deck", "review"], Fields::SUBJECT),
                w(&["monday"], Fields::ALL),
                Filter::Folders(every),
            ])
        );
        assert_eq!(
            find_filter(
                "alpha OR beta OR gamma AND delta",
                CollectionId::new("1").ok().as_ref(),
                &f
            )
            .unwrap(),
            Filter::And(vec![
                Filter::Or(vec![
                    w(&["alpha"], Fields::ALL),
                    w(&["beta"], Fields::ALL),
                    w(&["gamma"], Fields::ALL)
                ]),
                w(&["delta"], Fields::ALL),
                Filter::Folders([1].into()),
            ])
        );
        assert_eq!(
            find_filter("weird:thing", None, &f).unwrap(),
            Filter::And(vec![
                w(&["weird", "thing"], Fields::ALL),
                Filter::Folders(all.iter().map(|f| f.id).collect())
            ])
        );
        assert!(matches!(
            find_filter("  ... ", None, &f),
            Err(Refusal::Invalid(_))
        ));
        assert!(matches!(
            find_filter("x", CollectionId::new("77").ok().as_ref(), &f),
            Err(Refusal::UnknownFolder(_))
        ));
    }
}
