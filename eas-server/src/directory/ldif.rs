//! LDIF (RFC 2849) content records, read to import people and groups into
//! the embedded directory: the same files `ldapadd` takes, so one LDIF can
//! fill OpenLDAP and the embedded directory alike.

use base64::Engine as _;

use super::config::LdapAttributes;
use crate::store::{DirectoryEntry, EntryKind};

/// One record: its DN and attribute values (names as written, values as
/// bytes, `::` values base64-decoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub dn: String,
    pub attributes: Vec<(String, Vec<u8>)>,
}

impl Record {
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.attributes
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    fn text(&self, name: &str) -> Option<String> {
        self.values(name)
            .next()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    fn texts(&self, name: &str) -> Vec<String> {
        self.values(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("LDIF line {line}: {message}")]
pub struct LdifError {
    pub line: usize,
    pub message: String,
}

/// Parses LDIF content records. Comments, `version:` and folded lines are
/// handled; `changetype` records other than add are refused; URL values
/// (`:<`) are refused, since an import never reads other files.
pub fn parse(text: &str) -> Result<Vec<Record>, LdifError> {
    // Unfold: a line starting with one space continues the previous one.
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix(' ') {
            match lines.last_mut() {
                Some((_, prev)) => prev.push_str(rest),
                None => {
                    return Err(LdifError {
                        line: i + 1,
                        message: "a continuation line with nothing before it".into(),
                    });
                }
            }
        } else {
            lines.push((i + 1, line.to_owned()));
        }
    }
    let mut records = Vec::new();
    let mut current: Option<Record> = None;
    for (n, line) in lines {
        if line.starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            if let Some(r) = current.take() {
                records.push(r);
            }
            continue;
        }
        let err = |message: &str| LdifError {
            line: n,
            message: message.into(),
        };
        let Some(colon) = line.find(':') else {
            return Err(err("no ':' after the attribute name"));
        };
        let name = line.get(..colon).unwrap_or("").trim().to_owned();
        let rest = line.get(colon + 1..).unwrap_or("");
        let value: Vec<u8> = if let Some(b64) = rest.strip_prefix(':') {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| err(&format!("{name}: not base64: {e}")))?
        } else if rest.starts_with('<') {
            return Err(err("URL values (:<) are not read"));
        } else {
            rest.trim_start().as_bytes().to_vec()
        };
        if name.eq_ignore_ascii_case("version") && current.is_none() {
            continue;
        }
        match current.as_mut() {
            None => {
                if !name.eq_ignore_ascii_case("dn") {
                    return Err(err("a record must start with dn:"));
                }
                current = Some(Record {
                    dn: String::from_utf8_lossy(&value).into_owned(),
                    attributes: Vec::new(),
                });
            }
            Some(record) => {
                if name.eq_ignore_ascii_case("changetype") && value != b"add" {
                    return Err(err("only content records and changetype: add are read"));
                }
                if !name.eq_ignore_ascii_case("changetype") {
                    record.attributes.push((name, value));
                }
            }
        }
    }
    if let Some(r) = current.take() {
        records.push(r);
    }
    Ok(records)
}

/// The directory entries of the records: people (records with a mail
/// attribute) and groups (groupOfNames, group). Group members are given
/// by DN; they become the ids of the entries made from those DNs.
pub fn entries(records: &[Record], attrs: &LdapAttributes) -> Vec<DirectoryEntry> {
    let id_of = |r: &Record| -> String {
        r.text(&attrs.alias)
            .or_else(|| r.text(&attrs.common_name))
            .unwrap_or_else(|| r.dn.clone())
            .to_ascii_lowercase()
    };
    let ids: Vec<(String, String)> = records
        .iter()
        .map(|r| (r.dn.to_ascii_lowercase(), id_of(r)))
        .collect();
    let mut out = Vec::new();
    for r in records {
        let classes: Vec<String> = r
            .texts("objectClass")
            .into_iter()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let members = r.texts(&attrs.member);
        let is_group = !members.is_empty()
            || classes
                .iter()
                .any(|c| matches!(c.as_str(), "groupofnames" | "group" | "groupofuniquenames"));
        let mut addresses: Vec<String> = r
            .texts(&attrs.mail)
            .into_iter()
            .map(|m| m.trim().to_ascii_lowercase())
            .collect();
        for p in r.texts(&attrs.proxy_addresses) {
            if let Some(a) = p.strip_prefix("smtp:").or_else(|| p.strip_prefix("SMTP:")) {
                let a = a.trim().to_ascii_lowercase();
                if !addresses.contains(&a) {
                    addresses.push(a);
                }
            }
        }
        if addresses.is_empty() && !is_group {
            continue;
        }
        let member_ids = members
            .iter()
            .map(|dn| {
                let dn = dn.to_ascii_lowercase();
                ids.iter()
                    .find(|(d, _)| *d == dn)
                    .map_or(dn.clone(), |(_, id)| id.clone())
            })
            .collect();
        let bytes = |name: &str| -> Vec<Vec<u8>> { r.values(name).map(<[u8]>::to_vec).collect() };
        out.push(DirectoryEntry {
            id: id_of(r),
            kind: if is_group {
                EntryKind::Group
            } else {
                EntryKind::Person
            },
            display_name: r
                .text(&attrs.display_name)
                .or_else(|| r.text(&attrs.common_name))
                .unwrap_or_else(|| r.dn.clone()),
            email: addresses.first().cloned().unwrap_or_default(),
            addresses,
            first_name: r.text(&attrs.first_name),
            last_name: r.text(&attrs.last_name),
            alias: r.text(&attrs.alias),
            title: r.text(&attrs.title),
            company: r.text(&attrs.company),
            office: r.text(&attrs.office),
            phone: r.text(&attrs.phone),
            mobile_phone: r.text(&attrs.mobile_phone),
            home_phone: r.text(&attrs.home_phone),
            smime_certificates: bytes(&attrs.smime_certificate),
            user_certificates: bytes(&attrs.user_certificate),
            members: member_ids,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "version: 1\n\
        # people\n\
        dn: uid=alice,ou=people,dc=example,dc=com\n\
        objectClass: inetOrgPerson\n\
        uid: alice\n\
        cn: Alice Archer\n\
        sn: Archer\n\
        displayName: Alice\n  Archer\n\
        mail: Alice@Example.com\n\
        userCertificate;binary:: AQID\n\
        \n\
        dn: cn=team,ou=groups,dc=example,dc=com\n\
        objectClass: groupOfNames\n\
        cn: team\n\
        mail: team@example.com\n\
        member: uid=alice,ou=people,dc=example,dc=com\n";

    #[test]
    fn people_and_groups() {
        let records = parse(SAMPLE).unwrap();
        assert_eq!(records.len(), 2);
        let entries = entries(&records, &LdapAttributes::default());
        let alice = &entries[0];
        assert_eq!(alice.id, "alice");
        assert_eq!(alice.display_name, "Alice Archer");
        assert_eq!(alice.email, "alice@example.com");
        assert_eq!(alice.user_certificates, vec![vec![1, 2, 3]]);
        let team = &entries[1];
        assert_eq!(team.kind, EntryKind::Group);
        assert_eq!(team.members, vec!["alice"]);
    }

    #[test]
    fn damaged_ldif_says_where() {
        assert_eq!(parse("cn: x\n").unwrap_err().line, 1);
        assert_eq!(parse("dn: a\nmail:: !!\n").unwrap_err().line, 2);
        assert!(parse("dn: a\njpegPhoto:< file:///etc/passwd\n").is_err());
        assert!(parse(" x\n").is_err());
        assert!(parse("dn: a\nchangetype: delete\n").is_err());
    }
}
