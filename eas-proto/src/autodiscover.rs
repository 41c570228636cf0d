//! Autodiscover for mobile sync (MS-ASCMD 2.2.1.1, over the POX protocol
//! of MS-OXDSCLI): the client posts its address to
//! `/autodiscover/autodiscover.xml` and learns the URL to sync with.
//!
//! The request and response are plain XML, not WBXML. The request is read
//! into a small bounded tree first ([`MAX_REQUEST_BYTES`], [`MAX_DEPTH`],
//! [`MAX_ELEMENTS`]), with no DTD and no entities beyond XML's own, so a
//! hostile body costs nothing; elements are matched by local name, since
//! clients are not consistent about the namespace.
//!
//! Two ways to fail (MS-ASCMD 2.2.3.63): a framework error under `Response`
//! with an `ErrorCode` ([`ErrorResponse`]: 600 for a request that cannot be
//! read, 601 for a response schema we do not provide), and a mobile-sync
//! error under `Action` with a `Status` ([`Action::Error`]).

use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::Event;

use crate::number::number_enum;

pub const REQUEST_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006";
/// The only response schema this server provides; MS-ASCMD 2.2.3.1 says a
/// mobile-sync client MUST ask for it.
pub const MOBILESYNC_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";
/// The namespace of the outer `Autodiscover` element of every response.
pub const RESPONSE_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";

/// The largest request body read. Real requests are under 500 bytes.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;
pub const MAX_DEPTH: usize = 8;
pub const MAX_ELEMENTS: usize = 64;
/// The longest text of one element: an address is at most 254 characters
/// (RFC 5321), a schema URI about 90.
pub const MAX_FIELD_LEN: usize = 512;
/// Responses are larger (URLs, messages), and come from servers we asked.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Why an Autodiscover document could not be read. The server answers
/// every one with [`ErrorCode::INVALID_REQUEST`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AutodiscoverError {
    #[error("the document is {size} bytes long, more than {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the document is not UTF-8")]
    NotUtf8,
    #[error("XML at byte {offset}: {message}")]
    Syntax { offset: u64, message: String },
    #[error("a document type declaration is not accepted")]
    DocType,
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
    #[error("more than {0} elements")]
    TooManyElements(usize),
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
    #[error("the root element is {0}, not Autodiscover")]
    WrongRoot(String),
    #[error("no {0} element")]
    Missing(&'static str),
    #[error("more than one {0} element")]
    Duplicate(&'static str),
    #[error("{field} is longer than {limit} characters")]
    TooLong { field: &'static str, limit: usize },
    #[error("{0} contains a control character")]
    Control(&'static str),
    #[error("{field} holds {value:?}, which is not {expected}")]
    Invalid {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// An element of the parsed tree: local name, attributes, text, children.
#[derive(Debug)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &'static str) -> Result<Option<&Node>, AutodiscoverError> {
        let mut found = self.children.iter().filter(|c| c.name == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(AutodiscoverError::Duplicate(name));
        }
        Ok(first)
    }

    fn required(&self, name: &'static str) -> Result<&Node, AutodiscoverError> {
        self.child(name)?.ok_or(AutodiscoverError::Missing(name))
    }

    /// The trimmed text of a child, checked for length and control
    /// characters.
    fn field(&self, name: &'static str) -> Result<Option<String>, AutodiscoverError> {
        let Some(node) = self.child(name)? else {
            return Ok(None);
        };
        let t = node.text.trim();
        if t.chars().count() > MAX_FIELD_LEN {
            return Err(AutodiscoverError::TooLong {
                field: name,
                limit: MAX_FIELD_LEN,
            });
        }
        if t.chars().any(char::is_control) {
            return Err(AutodiscoverError::Control(name));
        }
        Ok(Some(t.to_owned()))
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_owned()
}

/// Reads a whole document into a tree, within the limits.
fn parse_tree(body: &[u8], max_bytes: usize) -> Result<Node, AutodiscoverError> {
    if body.len() > max_bytes {
        return Err(AutodiscoverError::TooLarge {
            size: body.len(),
            limit: max_bytes,
        });
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|_| AutodiscoverError::NotUtf8)?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    let mut elements = 0usize;
    loop {
        let offset = reader.buffer_position();
        let event = reader.read_event().map_err(|e| AutodiscoverError::Syntax {
            offset: reader.error_position(),
            message: e.to_string(),
        })?;
        let syntax = |message: &str| AutodiscoverError::Syntax {
            offset,
            message: message.to_owned(),
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if root.is_some() {
                    return Err(syntax("a second root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(AutodiscoverError::TooDeep(MAX_DEPTH));
                }
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(AutodiscoverError::TooManyElements(MAX_ELEMENTS));
                }
                let mut attributes = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| syntax(&e.to_string()))?;
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| syntax(&e.to_string()))?;
                    attributes.push((local(attr.key.as_ref()), value.into_owned()));
                }
                let node = Node {
                    name: local(start.name().as_ref()),
                    attributes,
                    text: String::new(),
                    children: Vec::new(),
                };
                if matches!(event, Event::Empty(_)) {
                    close(node, &mut stack, &mut root);
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                if let Some(node) = stack.pop() {
                    close(node, &mut stack, &mut root);
                }
            }
            Event::Text(t) => append(&mut stack, &t.xml10_content(), offset)?,
            Event::CData(c) => append(&mut stack, &c.xml10_content(), offset)?,
            Event::GeneralRef(r) => {
                let unknown = || AutodiscoverError::UnknownEntity(String::from(&*r));
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) if c != '\0' => c.to_string(),
                    Ok(Some(_)) | Err(_) => return Err(unknown()),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(unknown)?
                        .to_owned(),
                };
                append(&mut stack, &resolved, offset)?;
            }
            Event::DocType(_) => return Err(AutodiscoverError::DocType),
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(AutodiscoverError::Syntax {
            offset: reader.buffer_position(),
            message: "the document ends inside an element".into(),
        });
    }
    root.ok_or(AutodiscoverError::Missing("root"))
}

fn close(node: Node, stack: &mut [Node], root: &mut Option<Node>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
}

fn append(stack: &mut [Node], text: &str, offset: u64) -> Result<(), AutodiscoverError> {
    match stack.last_mut() {
        Some(node) => {
            node.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(AutodiscoverError::Syntax {
            offset,
            message: "text outside the root element".into(),
        }),
    }
}

fn root(body: &[u8], max_bytes: usize) -> Result<Node, AutodiscoverError> {
    let root = parse_tree(body, max_bytes)?;
    if root.name != "Autodiscover" {
        return Err(AutodiscoverError::WrongRoot(root.name));
    }
    Ok(root)
}

/// An Autodiscover request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub email_address: String,
    /// The schema the client reads. Required by the spec; a client that
    /// names none is given mobile sync, the only schema here, rather than
    /// an error it may not understand.
    pub acceptable_response_schema: Option<String>,
}

impl Request {
    pub fn parse(body: &[u8]) -> Result<Request, AutodiscoverError> {
        let root = root(body, MAX_REQUEST_BYTES)?;
        let request = root.required("Request")?;
        let email_address = request
            .field("EMailAddress")?
            .filter(|e| !e.is_empty())
            .ok_or(AutodiscoverError::Missing("EMailAddress"))?;
        Ok(Request {
            email_address,
            acceptable_response_schema: request
                .field("AcceptableResponseSchema")?
                .filter(|s| !s.is_empty()),
        })
    }

    /// Whether the client asked for what this server provides; if not, the
    /// answer is [`ErrorResponse::provider_not_found`].
    pub fn wants_mobilesync(&self) -> bool {
        self.acceptable_response_schema
            .as_deref()
            .is_none_or(|s| s == MOBILESYNC_SCHEMA)
    }

    /// The request as a client sends it.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(384);
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        let _ = writeln!(out, "<Autodiscover xmlns=\"{REQUEST_SCHEMA}\">");
        out.push_str("  <Request>\n");
        element(&mut out, 2, "EMailAddress", &self.email_address);
        if let Some(schema) = &self.acceptable_response_schema {
            element(&mut out, 2, "AcceptableResponseSchema", schema);
        }
        out.push_str("  </Request>\n</Autodiscover>\n");
        out
    }
}

number_enum! {
    /// The `ErrorCode` of a framework error (MS-ASCMD 2.2.3.64).
    pub struct ErrorCode(u16) {
        /// The request could not be read.
        INVALID_REQUEST = 600,
        /// No provider serves the requested response schema.
        PROVIDER_NOT_FOUND = 601,
    }
}

number_enum! {
    /// The `Status` of a mobile-sync error (MS-ASCMD 2.2.3.177.1). Success
    /// is never sent: the element appears only with an error.
    pub struct Status(u8) {
        SUCCESS = 1,
        PROTOCOL_ERROR = 2,
    }
}

/// What kind of server a `Server` element describes (MS-ASCMD 2.2.3.186.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerType {
    /// The URL to sync with.
    MobileSync,
    /// A URL to enroll for a client certificate.
    CertEnroll,
    Other(String),
}

impl ServerType {
    fn parse(s: &str) -> ServerType {
        match s {
            "MobileSync" => ServerType::MobileSync,
            "CertEnroll" => ServerType::CertEnroll,
            other => ServerType::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ServerType::MobileSync => "MobileSync",
            ServerType::CertEnroll => "CertEnroll",
            ServerType::Other(s) => s,
        }
    }
}

/// One `Server` of the `Settings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub server_type: ServerType,
    pub url: String,
    /// Exchange repeats the URL here.
    pub name: Option<String>,
    /// For CertEnroll: the certificate's template name.
    pub server_data: Option<String>,
}

impl Server {
    /// The server to sync with, at this URL.
    pub fn mobile_sync(url: impl Into<String>) -> Server {
        let url = url.into();
        Server {
            server_type: ServerType::MobileSync,
            name: Some(url.clone()),
            url,
            server_data: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub display_name: Option<String>,
    pub email_address: String,
}

/// A mobile-sync error, under `Action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    pub status: Status,
    pub message: Option<String>,
    pub debug_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Where to sync: one `Server` per type.
    Settings(Vec<Server>),
    /// Ask again for this other address.
    Redirect(String),
    Error(ActionError),
}

/// The mobile-sync answer (MS-ASCMD 2.2.3.153.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileSyncResponse {
    /// A culture such as `en:us`, the form the spec's examples use.
    pub culture: String,
    pub user: User,
    pub action: Action,
}

/// A framework error, under `Response` (MS-ASCMD 2.2.3.63).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    pub code: ErrorCode,
    pub message: String,
    pub debug_data: Option<String>,
    /// The time of day the request came in, `HH:MM:SS.fffffff`.
    pub time: Option<String>,
    /// A number identifying the answering server.
    pub id: Option<u32>,
}

impl ErrorResponse {
    pub fn invalid_request() -> ErrorResponse {
        ErrorResponse {
            code: ErrorCode::INVALID_REQUEST,
            message: "Invalid Request".into(),
            debug_data: None,
            time: None,
            id: None,
        }
    }

    pub fn provider_not_found() -> ErrorResponse {
        ErrorResponse {
            code: ErrorCode::PROVIDER_NOT_FOUND,
            message: "The requested response schema is not available".into(),
            debug_data: None,
            time: None,
            id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    MobileSync(MobileSyncResponse),
    Error(ErrorResponse),
}

fn escape_into(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

fn element(out: &mut String, depth: usize, name: &str, text: &str) {
    out.push_str(&"  ".repeat(depth));
    let _ = write!(out, "<{name}>");
    escape_into(out, text, false);
    let _ = writeln!(out, "</{name}>");
}

fn open(out: &mut String, depth: usize, name: &str) {
    out.push_str(&"  ".repeat(depth));
    let _ = writeln!(out, "<{name}>");
}

fn close_tag(out: &mut String, depth: usize, name: &str) {
    out.push_str(&"  ".repeat(depth));
    let _ = writeln!(out, "</{name}>");
}

impl Response {
    /// The response document, laid out like the spec's examples.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(768);
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        let _ = writeln!(out, "<Autodiscover xmlns=\"{RESPONSE_SCHEMA}\">");
        match self {
            Response::MobileSync(r) => {
                let _ = writeln!(out, "  <Response xmlns=\"{MOBILESYNC_SCHEMA}\">");
                element(&mut out, 2, "Culture", &r.culture);
                open(&mut out, 2, "User");
                if let Some(name) = &r.user.display_name {
                    element(&mut out, 3, "DisplayName", name);
                }
                element(&mut out, 3, "EMailAddress", &r.user.email_address);
                close_tag(&mut out, 2, "User");
                open(&mut out, 2, "Action");
                match &r.action {
                    Action::Settings(servers) => {
                        open(&mut out, 3, "Settings");
                        for s in servers {
                            open(&mut out, 4, "Server");
                            element(&mut out, 5, "Type", s.server_type.as_str());
                            element(&mut out, 5, "Url", &s.url);
                            if let Some(name) = &s.name {
                                element(&mut out, 5, "Name", name);
                            }
                            if let Some(data) = &s.server_data {
                                element(&mut out, 5, "ServerData", data);
                            }
                            close_tag(&mut out, 4, "Server");
                        }
                        close_tag(&mut out, 3, "Settings");
                    }
                    Action::Redirect(address) => element(&mut out, 3, "Redirect", address),
                    Action::Error(e) => {
                        open(&mut out, 3, "Error");
                        element(&mut out, 4, "Status", &e.status.as_text());
                        if let Some(m) = &e.message {
                            element(&mut out, 4, "Message", m);
                        }
                        if let Some(d) = &e.debug_data {
                            element(&mut out, 4, "DebugData", d);
                        }
                        close_tag(&mut out, 3, "Error");
                    }
                }
                close_tag(&mut out, 2, "Action");
            }
            Response::Error(e) => {
                out.push_str("  <Response>\n    <Error");
                if let Some(time) = &e.time {
                    out.push_str(" Time=\"");
                    escape_into(&mut out, time, true);
                    out.push('"');
                }
                if let Some(id) = e.id {
                    let _ = write!(out, " Id=\"{id}\"");
                }
                out.push_str(">\n");
                element(&mut out, 3, "ErrorCode", &e.code.as_text());
                element(&mut out, 3, "Message", &e.message);
                match &e.debug_data {
                    Some(d) => element(&mut out, 3, "DebugData", d),
                    None => out.push_str("      <DebugData />\n"),
                }
                out.push_str("    </Error>\n");
            }
        }
        out.push_str("  </Response>\n</Autodiscover>\n");
        out
    }

    /// Reads a response, as the test client does.
    pub fn parse(body: &[u8]) -> Result<Response, AutodiscoverError> {
        let root = root(body, MAX_RESPONSE_BYTES)?;
        let response = root.required("Response")?;
        if let Some(error) = response.child("Error")? {
            let code = error.field("ErrorCode")?.unwrap_or_default();
            let code = code.parse().map_err(|_| AutodiscoverError::Invalid {
                field: "ErrorCode",
                value: code.chars().take(32).collect(),
                expected: "a number",
            })?;
            return Ok(Response::Error(ErrorResponse {
                code,
                message: error.field("Message")?.unwrap_or_default(),
                debug_data: error.field("DebugData")?.filter(|d| !d.is_empty()),
                time: error.attribute("Time").map(str::to_owned),
                id: error.attribute("Id").and_then(|id| id.parse().ok()),
            }));
        }
        let user = response.required("User")?;
        let action = response.required("Action")?;
        let action = if let Some(settings) = action.child("Settings")? {
            let servers = settings
                .children
                .iter()
                .filter(|c| c.name == "Server")
                .map(|s| {
                    Ok(Server {
                        server_type: ServerType::parse(&s.field("Type")?.unwrap_or_default()),
                        url: s.field("Url")?.ok_or(AutodiscoverError::Missing("Url"))?,
                        name: s.field("Name")?,
                        server_data: s.field("ServerData")?,
                    })
                })
                .collect::<Result<_, AutodiscoverError>>()?;
            Action::Settings(servers)
        } else if let Some(redirect) = action.field("Redirect")? {
            Action::Redirect(redirect)
        } else {
            let error = action.required("Error")?;
            let status = error.field("Status")?.unwrap_or_default();
            Action::Error(ActionError {
                status: status.parse().map_err(|_| AutodiscoverError::Invalid {
                    field: "Status",
                    value: status.chars().take(32).collect(),
                    expected: "a number",
                })?,
                message: error.field("Message")?,
                debug_data: error.field("DebugData")?,
            })
        };
        Ok(Response::MobileSync(MobileSyncResponse {
            culture: response.field("Culture")?.unwrap_or_default(),
            user: User {
                display_name: user.field("DisplayName")?,
                email_address: user.field("EMailAddress")?.unwrap_or_default(),
            },
            action,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A request as MS-ASCMD 2.2.1.1 describes it, laid out like the
    /// spec's examples (pretty-printed, so the schema has white space).
    const SPEC_REQUEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006">
    <Request>
        <EMailAddress>chris@woodgrovebank.com</EMailAddress>
        <AcceptableResponseSchema>
            http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006
        </AcceptableResponseSchema>
    </Request>
</Autodiscover>"#;

    #[test]
    fn the_spec_request() {
        let req = Request::parse(SPEC_REQUEST.as_bytes()).unwrap();
        assert_eq!(req.email_address, "chris@woodgrovebank.com");
        assert_eq!(
            req.acceptable_response_schema.as_deref(),
            Some(MOBILESYNC_SCHEMA)
        );
        assert!(req.wants_mobilesync());
        assert_eq!(Request::parse(req.to_xml().as_bytes()), Ok(req));
    }

    #[test]
    fn other_schemas_prefixes_and_missing_schema() {
        let outlook = r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>a@b.c</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"#;
        let req = Request::parse(outlook.as_bytes()).unwrap();
        assert!(!req.wants_mobilesync());
        let prefixed = "\u{feff}<a:Autodiscover xmlns:a=\"x\"><a:Request><a:EMailAddress>a&amp;b@c.d</a:EMailAddress></a:Request></a:Autodiscover>";
        let req = Request::parse(prefixed.as_bytes()).unwrap();
        assert_eq!(req.email_address, "a&b@c.d");
        assert_eq!(req.acceptable_response_schema, None);
        assert!(req.wants_mobilesync());
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let parse = |s: &str| Request::parse(s.as_bytes()).unwrap_err();
        assert_eq!(
            Request::parse(&vec![b' '; MAX_REQUEST_BYTES + 1]).unwrap_err(),
            AutodiscoverError::TooLarge {
                size: MAX_REQUEST_BYTES + 1,
                limit: MAX_REQUEST_BYTES
            }
        );
        assert_eq!(
            Request::parse(b"<Autodiscover>\xff</Autodiscover>").unwrap_err(),
            AutodiscoverError::NotUtf8
        );
        assert_eq!(parse(""), AutodiscoverError::Missing("root"));
        assert_eq!(
            parse("<Other/>"),
            AutodiscoverError::WrongRoot("Other".into())
        );
        assert_eq!(
            parse("<Autodiscover/>"),
            AutodiscoverError::Missing("Request")
        );
        assert_eq!(
            parse("<Autodiscover><Request/></Autodiscover>"),
            AutodiscoverError::Missing("EMailAddress")
        );
        assert_eq!(
            parse("<Autodiscover><Request><EMailAddress> </EMailAddress></Request></Autodiscover>"),
            AutodiscoverError::Missing("EMailAddress")
        );
        assert_eq!(
            parse("<Autodiscover><Request/><Request/></Autodiscover>"),
            AutodiscoverError::Duplicate("Request")
        );
        assert_eq!(
            parse(
                "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><Autodiscover><Request><EMailAddress>&a;</EMailAddress></Request></Autodiscover>"
            ),
            AutodiscoverError::DocType
        );
        assert_eq!(
            parse(
                "<Autodiscover><Request><EMailAddress>&a;</EMailAddress></Request></Autodiscover>"
            ),
            AutodiscoverError::UnknownEntity("a".into())
        );
        assert_eq!(
            parse(
                "<Autodiscover><Request><EMailAddress>a&#0;b</EMailAddress></Request></Autodiscover>"
            ),
            AutodiscoverError::UnknownEntity("#0".into())
        );
        assert_eq!(
            parse(
                "<Autodiscover><Request><EMailAddress>a&#7;b</EMailAddress></Request></Autodiscover>"
            ),
            AutodiscoverError::Control("EMailAddress")
        );
        let long = format!(
            "<Autodiscover><Request><EMailAddress>{}</EMailAddress></Request></Autodiscover>",
            "a".repeat(MAX_FIELD_LEN + 1)
        );
        assert_eq!(
            parse(&long),
            AutodiscoverError::TooLong {
                field: "EMailAddress",
                limit: MAX_FIELD_LEN
            }
        );
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(parse(&deep), AutodiscoverError::TooDeep(MAX_DEPTH));
        let many = format!(
            "<Autodiscover>{}</Autodiscover>",
            "<x/>".repeat(MAX_ELEMENTS)
        );
        assert_eq!(
            parse(&many),
            AutodiscoverError::TooManyElements(MAX_ELEMENTS)
        );
        assert!(matches!(
            parse("<Autodiscover><Request></Autodiscover>"),
            AutodiscoverError::Syntax { .. }
        ));
        assert!(matches!(
            parse("<Autodiscover><Request>"),
            AutodiscoverError::Syntax { .. }
        ));
        assert!(matches!(
            parse("<Autodiscover/><Autodiscover/>"),
            AutodiscoverError::Syntax { .. }
        ));
    }

    #[test]
    fn the_settings_response() {
        let res = Response::MobileSync(MobileSyncResponse {
            culture: "en:us".into(),
            user: User {
                display_name: Some("Chris Gray".into()),
                email_address: "chris@woodgrovebank.com".into(),
            },
            action: Action::Settings(vec![Server::mobile_sync(
                "https://loandept.woodgrovebank.com/Microsoft-Server-ActiveSync",
            )]),
        });
        let xml = res.to_xml();
        assert_eq!(
            xml,
            r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">
    <Culture>en:us</Culture>
    <User>
      <DisplayName>Chris Gray</DisplayName>
      <EMailAddress>chris@woodgrovebank.com</EMailAddress>
    </User>
    <Action>
      <Settings>
        <Server>
          <Type>MobileSync</Type>
          <Url>https://loandept.woodgrovebank.com/Microsoft-Server-ActiveSync</Url>
          <Name>https://loandept.woodgrovebank.com/Microsoft-Server-ActiveSync</Name>
        </Server>
      </Settings>
    </Action>
  </Response>
</Autodiscover>
"#
        );
        assert_eq!(Response::parse(xml.as_bytes()), Ok(res));
    }

    #[test]
    fn the_spec_error_response() {
        // MS-ASCMD 4.2.2, "Response - Case Error".
        let spec = r#"<?xml version="1.0" encoding="utf-8"?>
 <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
     <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">
         <Culture>en:us</Culture>
         <User>
            <EMailAddress>chris@woodgrovebank.com</EMailAddress>
        </User>
        <Action>
            <Error>
                <Status>2</Status>
                <Message>The directory service could not be reached</Message>
                <DebugData>MailUser</DebugData>
            </Error>
        </Action>
     </Response>
 </Autodiscover>"#;
        let res = Response::parse(spec.as_bytes()).unwrap();
        let expected = Response::MobileSync(MobileSyncResponse {
            culture: "en:us".into(),
            user: User {
                display_name: None,
                email_address: "chris@woodgrovebank.com".into(),
            },
            action: Action::Error(ActionError {
                status: Status::PROTOCOL_ERROR,
                message: Some("The directory service could not be reached".into()),
                debug_data: Some("MailUser".into()),
            }),
        });
        assert_eq!(res, expected);
        assert_eq!(Response::parse(expected.to_xml().as_bytes()), Ok(expected));
    }

    #[test]
    fn framework_errors_and_redirects() {
        let mut e = ErrorResponse::provider_not_found();
        e.time = Some("16:56:32.6164027".into());
        e.id = Some(1_054_084_152);
        let xml = Response::Error(e.clone()).to_xml();
        assert!(
            xml.contains("<Error Time=\"16:56:32.6164027\" Id=\"1054084152\">"),
            "{xml}"
        );
        assert!(xml.contains("<ErrorCode>601</ErrorCode>"), "{xml}");
        assert!(xml.contains("<DebugData />"), "{xml}");
        assert_eq!(Response::parse(xml.as_bytes()), Ok(Response::Error(e)));
        let invalid = Response::Error(ErrorResponse::invalid_request());
        assert!(invalid.to_xml().contains("<ErrorCode>600</ErrorCode>"));
        assert_eq!(Response::parse(invalid.to_xml().as_bytes()), Ok(invalid));

        let redirect = Response::MobileSync(MobileSyncResponse {
            culture: "en:us".into(),
            user: User {
                display_name: None,
                email_address: "a@old.example".into(),
            },
            action: Action::Redirect("a<&>@new.example".into()),
        });
        let xml = redirect.to_xml();
        assert!(
            xml.contains("<Redirect>a&lt;&amp;&gt;@new.example</Redirect>"),
            "{xml}"
        );
        assert_eq!(Response::parse(xml.as_bytes()), Ok(redirect));
    }

    proptest! {
        #[test]
        fn any_text_is_answered_without_panic(s in ".{0,400}") {
            let _ = Request::parse(s.as_bytes());
            let _ = Response::parse(s.as_bytes());
        }

        #[test]
        fn xml_shaped_text_is_answered_without_panic(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("<Autodiscover>".to_owned()),
                    Just("</Autodiscover>".to_owned()),
                    Just("<Request>".to_owned()),
                    Just("</Request>".to_owned()),
                    Just("<EMailAddress>".to_owned()),
                    Just("</EMailAddress>".to_owned()),
                    Just("<Response><Error><ErrorCode>".to_owned()),
                    Just("&amp;".to_owned()),
                    Just("&#x1F600;".to_owned()),
                    "[a-z@.<>/&;#\"= ]{0,8}",
                ],
                0..24,
            )
        ) {
            let s = parts.concat();
            let _ = Request::parse(s.as_bytes());
            let _ = Response::parse(s.as_bytes());
        }

        #[test]
        fn requests_round_trip(
            email in "[a-zA-Z0-9.+&<>_-]{1,40}@[a-z]{1,20}\\.[a-z]{2,5}",
            schema in proptest::option::of("[ -~]{1,60}"),
        ) {
            let schema = schema.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
            let req = Request { email_address: email, acceptable_response_schema: schema };
            prop_assert_eq!(Request::parse(req.to_xml().as_bytes()), Ok(req));
        }
    }
}
