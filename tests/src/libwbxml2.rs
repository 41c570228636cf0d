//! Debian's libwbxml2 (`libwbxml2-utils`) as an independent WBXML
//! implementation, driven through its command-line tools.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use eas_proto::codepages::{self, ContentKind};
use eas_proto::wbxml::{Element, NodeRef, Tag};
use quick_xml::NsReader;
use quick_xml::events::Event as XmlEvent;
use quick_xml::name::ResolveResult;

use crate::require_tool;

/// The doctype that makes libwbxml2 pick its ActiveSync tables, with the
/// MS-ASCMD namespaces (`AirSync:`) rather than its older SynCE ones.
const DOCTYPE: &str = r#"<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">"#;

fn run(program: &str, args: &[&str], input: &[u8]) -> Result<Vec<u8>, String> {
    let path = require_tool(program, "libwbxml2-utils");
    let mut child = Command::new(path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .map_err(|e| format!("writing to {program}: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for {program}: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{program}: {}", stderr.trim()));
    }
    Ok(out.stdout)
}

/// XML (in our form, or any form libwbxml2 reads) to WBXML, by libwbxml2.
/// `-a` writes the anonymous header EAS clients send (public id 1), `-n` no
/// string table.
pub fn encode(xml: &str) -> Result<Vec<u8>, String> {
    let with_doctype = match xml.split_once("?>") {
        Some((decl, rest)) if xml.starts_with("<?xml") => format!("{decl}?>\n{DOCTYPE}{rest}"),
        _ => format!("{DOCTYPE}\n{xml}"),
    };
    run(
        "xml2wbxml",
        &["-a", "-n", "-o", "-", "-"],
        with_doctype.as_bytes(),
    )
}

/// WBXML to XML, by libwbxml2, compact (no indentation it would add).
pub fn decode(wbxml: &[u8]) -> Result<String, String> {
    let out = run(
        "wbxml2xml",
        &["-m", "0", "-l", "ACTIVESYNC", "-o", "-", "-"],
        wbxml,
    )?;
    String::from_utf8(out).map_err(|e| format!("wbxml2xml wrote non-UTF-8: {e}"))
}

/// Tags libwbxml2 0.11.8 names otherwise than MS-ASWBXML 16.1 does, with
/// the same token: mostly the names of EAS 2.5/12.0 (`Recurrence_Type`,
/// `Attendee_Email`, `BusinessCity`) and one typo (`ihsManagementInformation`).
/// The token is what the wire carries; the name is only its XML face.
pub const NAMES: &[(u8, u8, &str)] = &[
    (1, 0x07, "AssistantTelephoneNumber"),
    (1, 0x0D, "BusinessCity"),
    (1, 0x0E, "BusinessCountry"),
    (1, 0x0F, "BusinessPostalCode"),
    (1, 0x10, "BusinessState"),
    (1, 0x11, "BusinessStreet"),
    (1, 0x21, "HomeCity"),
    (1, 0x22, "HomeCountry"),
    (1, 0x23, "HomePostalCode"),
    (1, 0x24, "HomeState"),
    (1, 0x25, "HomeStreet"),
    (1, 0x2D, "OtherCity"),
    (1, 0x2E, "OtherCountry"),
    (1, 0x2F, "OtherPostalCode"),
    (1, 0x30, "OtherState"),
    (1, 0x31, "OtherStreet"),
    (2, 0x09, "AttOId"),
    (2, 0x19, "Reply-To"),
    (2, 0x1D, "DTStamp"),
    (2, 0x29, "Recurrence_Type"),
    (2, 0x2A, "Recurrence_Until"),
    (2, 0x2B, "Recurrence_Occurrences"),
    (2, 0x2C, "Recurrence_Interval"),
    (2, 0x2D, "Recurrence_DayOfWeek"),
    (2, 0x2E, "Recurrence_DayOfMonth"),
    (2, 0x2F, "Recurrence_WeekOfMonth"),
    (2, 0x30, "Recurrence_MonthOfYear"),
    (2, 0x3B, "FlagStatus"),
    (4, 0x05, "TimeZone"),
    (4, 0x09, "Attendee_Email"),
    (4, 0x0A, "Attendee_Name"),
    (4, 0x11, "DTStamp"),
    (4, 0x15, "Exception_Deleted"),
    (4, 0x16, "Exception_StartTime"),
    (4, 0x19, "Organizer_Email"),
    (4, 0x1A, "Organizer_Name"),
    (4, 0x1C, "Recurrence_Type"),
    (4, 0x1D, "Recurrence_Until"),
    (4, 0x1E, "Recurrence_Occurrences"),
    (4, 0x1F, "Recurrence_Interval"),
    (4, 0x20, "Recurrence_DayOfWeek"),
    (4, 0x21, "Recurrence_DayOfMonth"),
    (4, 0x22, "Recurrence_WeekOfMonth"),
    (4, 0x23, "Recurrence_MonthOfYear"),
    (4, 0x29, "Attendee_Status"),
    (4, 0x2A, "Attendee_Type"),
    (9, 0x0D, "UTCDueDate"),
    (9, 0x10, "Recurrence_Type"),
    (9, 0x11, "Recurrence_Start"),
    (9, 0x12, "Recurrence_Until"),
    (9, 0x13, "Recurrence_Occurrences"),
    (9, 0x14, "Recurrence_Interval"),
    (9, 0x15, "Recurrence_DayOfMonth"),
    (9, 0x16, "Recurrence_DayOfWeek"),
    (9, 0x17, "Recurrence_WeekOfMonth"),
    (9, 0x18, "Recurrence_MonthOfYear"),
    (9, 0x19, "Recurrence_Regenerate"),
    (9, 0x1A, "Recurrence_DeadOccur"),
    (9, 0x1F, "UTCStartDate"),
    (14, 0x10, "DeviceEncryptionEnabled"),
    (18, 0x1F, "SmtpAddress"),
    (18, 0x2B, "ihsManagementInformation"),
    (21, 0x10, "MIME"),
    (21, 0x17, "ForwardeeName"),
    (21, 0x18, "ForwardeeEmail"),
    (24, 0x12, "RMOwner"),
    (24, 0x18, "RemoveRightsManagementDistribution"),
];

/// Tags libwbxml2 0.11.8 does not know at all: the whole of page 25 (Find,
/// new in 16.1), MeetingResponse's ProposedStartTime/ProposedEndTime (16.0)
/// and Provision's AccountOnlyRemoteWipe (16.1). It decodes them as
/// `unknown` and cannot encode them.
pub fn lacks(tag: Tag) -> bool {
    matches!(
        (tag.page(), tag.token()),
        (25, _) | (8, 0x10) | (8, 0x11) | (14, 0x3B)
    )
}

/// Tags whose inline strings libwbxml2 shows as base64 in XML as if they
/// were opaque (and so encodes back as OPAQUE): Search's ConversationId,
/// which MS-ASCMD 2.2.3.35.2 defines as a string.
pub fn binary_in_its_xml(tag: Tag) -> bool {
    (tag.page(), tag.token()) == (15, 0x20)
}

/// libwbxml2 spells page 16's namespace `Gal:`; MS-ASCMD writes `GAL:`.
fn their_namespace(page: u8) -> String {
    match page {
        16 => "Gal:".to_owned(),
        _ => codepages::page(page).map_or_else(|| format!("Page{page}:"), |p| p.namespace()),
    }
}

fn their_name(tag: Tag) -> String {
    NAMES
        .iter()
        .find(|(p, t, _)| (*p, *t) == (tag.page(), tag.token()))
        .map(|(_, _, n)| (*n).to_owned())
        .or_else(|| tag.name().map(str::to_owned))
        .unwrap_or_else(|| format!("Tag_{:02X}", tag.token()))
}

fn tag_from_their_name(ns: &str, name: &str) -> Result<Tag, String> {
    let page =
        codepages::page_by_namespace(ns).ok_or_else(|| format!("unknown namespace {ns:?}"))?;
    NAMES
        .iter()
        .find(|(p, _, n)| *p == page.number && *n == name)
        .and_then(|(p, t, _)| Tag::try_new(*p, *t))
        .or_else(|| page.tag_by_name(name).map(|d| d.tag))
        .ok_or_else(|| format!("{ns} has no element {name:?}"))
}

/// Our document as XML in libwbxml2's vocabulary: its names, and a default
/// namespace on each element whose page differs from its parent's, the way
/// its own output does.
pub fn to_their_xml(root: &Element<'_>) -> String {
    fn write(out: &mut String, el: &Element<'_>, parent_page: Option<u8>) {
        let name = their_name(el.tag);
        out.push('<');
        out.push_str(&name);
        if parent_page != Some(el.tag.page()) {
            out.push_str(&format!(" xmlns=\"{}\"", their_namespace(el.tag.page())));
        }
        if el.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for node in el.nodes() {
            match node {
                NodeRef::Element(child) => write(out, child, Some(el.tag.page())),
                NodeRef::Text(t) if binary_in_its_xml(el.tag) => {
                    out.push_str(&BASE64.encode(t.as_bytes()))
                }
                NodeRef::Text(t) => out.push_str(&quick_xml::escape::escape(t)),
                NodeRef::Opaque(d) => out.push_str(&BASE64.encode(d)),
            }
        }
        out.push_str("</");
        out.push_str(&name);
        out.push('>');
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    write(&mut out, root, None);
    out
}

/// libwbxml2's XML back into our document model, mapping its names.
pub fn from_their_xml(xml: &str) -> Result<Element<'static>, String> {
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<(Element<'static>, String)> = Vec::new();
    let mut root = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let ns = match ns {
            ResolveResult::Bound(ns) => Some(ns.into_inner().to_owned()),
            _ => None,
        };
        match event {
            XmlEvent::Start(ref s) | XmlEvent::Empty(ref s) => {
                let local = s.local_name();
                let ns = ns.ok_or_else(|| format!("<{}> has no namespace", local.as_ref()))?;
                let tag = tag_from_their_name(&ns, local.as_ref())?;
                stack.push((Element::new(tag), String::new()));
                if matches!(event, XmlEvent::Empty(_)) {
                    close(&mut stack, &mut root)?;
                }
            }
            XmlEvent::End(_) => close(&mut stack, &mut root)?,
            XmlEvent::Text(t) => {
                if let Some((_, text)) = stack.last_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            XmlEvent::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(|| format!("unknown entity {}", &*r))?
                        .to_owned(),
                };
                if let Some((_, text)) = stack.last_mut() {
                    text.push_str(&c);
                }
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    root.ok_or_else(|| "no root element".to_owned())
}

fn close(
    stack: &mut Vec<(Element<'static>, String)>,
    root: &mut Option<Element<'static>>,
) -> Result<(), String> {
    let (mut el, text) = stack.pop().ok_or("unbalanced end")?;
    if !text.is_empty() && el.is_empty() {
        let opaque = codepages::tag_def(el.tag).is_some_and(|d| d.content == ContentKind::Opaque);
        if opaque {
            let data = BASE64
                .decode(&text)
                .map_err(|e| format!("{}: {e}", el.tag))?;
            el.push_opaque(data);
        } else if binary_in_its_xml(el.tag) {
            let data = BASE64
                .decode(&text)
                .map_err(|e| format!("{}: {e}", el.tag))?;
            let text = String::from_utf8(data).map_err(|e| format!("{}: {e}", el.tag))?;
            el.push_text(text);
        } else {
            el.push_text(text);
        }
    }
    match stack.last_mut() {
        Some((parent, _)) => parent.push(el),
        None => *root = Some(el),
    }
    Ok(())
}
