//! Words: how a message's text and a query's text are cut into the terms
//! the index keeps, and the text of a message worth searching.
//!
//! A term is a run of letters and digits, lower-cased, at most
//! [`MAX_TERM_CHARS`] characters: `"Chris Gray" <chris.gray@contoso.com>`
//! gives `chris`, `gray`, `chris`, `gray`, `contoso`, `com`. A query word
//! matches every term it begins (MS-ASCMD Query (Search): "a prefix-string
//! match", case-insensitive: "John" finds "Johnson", not "Littlejohn").

use mail_parser::{MessageParser, MimeHeaders as _};

/// Longer runs (base64 left in a body, hashes) are cut to this.
pub const MAX_TERM_CHARS: usize = 40;

/// How much of a message's text is indexed: enough for any letter a person
/// writes, not the megabytes of a forwarded log.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The terms of `text`, in order, repeats included.
pub fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .take(MAX_TERM_CHARS)
                .flat_map(char::to_lowercase)
                .collect()
        })
}

/// The searchable text of a message beyond its headers: its text parts
/// (HTML ones as text) and its attachments' names, cut to
/// [`MAX_BODY_BYTES`]. S/MIME encrypted and opaque-signed messages have
/// none the server can read.
pub fn message_text(raw: &[u8]) -> (String, String) {
    if matches!(
        smime_core::classify(raw),
        smime_core::Classification::Enveloped
            | smime_core::Classification::OpaqueSigned
            | smime_core::Classification::CertsOnly
    ) {
        return (String::new(), String::new());
    }
    let Some(msg) = MessageParser::default().parse(raw) else {
        return (String::new(), String::new());
    };
    let mut body = String::new();
    for i in 0..msg.text_body_count() {
        if body.len() >= MAX_BODY_BYTES {
            break;
        }
        if let Some(t) = msg.body_text(i) {
            body.push_str(cut(&t, MAX_BODY_BYTES - body.len()));
            body.push('\n');
        }
    }
    let names = msg
        .attachments()
        .filter_map(|a| a.attachment_name())
        .collect::<Vec<_>>()
        .join("\n");
    (body, names)
}

/// The longest prefix of at most `n` bytes that ends on a character.
fn cut(s: &str, n: usize) -> &str {
    let mut end = n.min(s.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// The display names in an address list as the summary keeps it
/// (`"Name" <addr>, other@example.com`): the name where there is one, else
/// the address; joined by `; ` as DisplayTo is.
pub fn display_names(list: &str) -> String {
    split_addresses(list)
        .iter()
        .map(|a| {
            let a = a.trim();
            match (a.find('"'), a.rfind('"')) {
                (Some(open), Some(close)) if close > open => {
                    a.get(open + 1..close).unwrap_or(a).to_owned()
                }
                _ => a.trim_matches(['<', '>']).to_owned(),
            }
        })
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Splits at the commas outside quotes.
fn split_addresses(list: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(list.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(list.get(start..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_lower_case_runs_of_letters_and_digits() {
        let t: Vec<String> =
            terms("\"Chris Gray\" <chris.gray@contoso.com>, Q3-2026 Café ÉTÉ").collect();
        assert_eq!(
            t,
            [
                "chris", "gray", "chris", "gray", "contoso", "com", "q3", "2026", "café", "été"
            ]
        );
        let long = "x".repeat(100);
        assert_eq!(terms(&long).next().map(|t| t.len()), Some(MAX_TERM_CHARS));
        assert_eq!(terms(" \t.,;").count(), 0);
    }

    #[test]
    fn message_text_reads_parts_and_attachment_names_but_not_cms() {
        let raw = b"Subject: a\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\nContent-Type: text/html\r\n\r\n<p>Quarterly <b>numbers</b></p>\r\n--y\r\nContent-Type: application/pdf; name=\"budget-2026.pdf\"\r\nContent-Disposition: attachment; filename=\"budget-2026.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--y--\r\n";
        let (body, names) = message_text(raw);
        assert!(
            body.contains("Quarterly") && body.contains("numbers"),
            "{body}"
        );
        assert!(!body.contains("<b>"), "{body}");
        assert_eq!(names, "budget-2026.pdf");
        let enveloped = b"Subject: s\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMIIB\r\n";
        assert_eq!(message_text(enveloped), (String::new(), String::new()));
        let big = format!("Subject: b\r\n\r\n{}\r\n", "word ".repeat(40_000));
        assert!(message_text(big.as_bytes()).0.len() <= MAX_BODY_BYTES + 1);
    }

    #[test]
    fn display_names_of_address_lists() {
        assert_eq!(
            display_names("\"Gray, Chris\" <chris@contoso.com>, anat@contoso.com, \"Bo\" <b@x>"),
            "Gray, Chris; anat@contoso.com; Bo"
        );
        assert_eq!(display_names(""), "");
        assert_eq!(cut("héllo", 2), "h");
    }
}
