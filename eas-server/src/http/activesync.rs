//! MS-ASHTTP: from an HTTP request to a typed command and back.
//!
//! The order is the spec's and Exchange's: authenticate (401), read the
//! request line (400 / 501), know the device (403 when blocked), check the
//! policy key (449 for 12.x, Status 142/144 for 14.0 and later), decode the
//! body (400), run the command, encode, trace.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use eas_proto::http::{Command, PolicyKey, RequestLine};
use eas_proto::status::Status;
use eas_proto::wbxml::Element;
use eas_proto::{ProtocolVersion, xml};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};

use super::{Body, plain, read_body, unauthorized};
use crate::auth::{self, AuthOutcome};
use crate::cmd::{self, Context, Outcome, refuse, status_449};
use crate::state::AppState;
use crate::store::{Access, Account, Device};
use crate::time;
use crate::trace::Entry;

/// What Exchange 2016 sends in `MS-Server-ActiveSync`; clients read it only
/// as "an Exchange-like server".
const SERVER_VERSION: &str = "15.1";
const VERSIONS: &str = "12.0,12.1,14.0,14.1,16.0,16.1";
const WBXML: &str = "application/vnd.ms-sync.wbxml";

pub async fn handle(
    state: &Arc<AppState>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let resp = match method {
        Method::OPTIONS => options(state, peer, req.headers()).await,
        Method::POST => post(state, peer, req).await,
        _ => {
            let mut resp = plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "ActiveSync takes OPTIONS and POST\n",
            );
            resp.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("OPTIONS,POST"));
            resp
        }
    };
    tracing::debug!(%peer, %method, status = resp.status().as_u16(), micros = started.elapsed().as_micros() as u64, "activesync");
    resp
}

/// Checks the Basic credentials, through the login cache, the throttle and
/// argon2 (on a blocking thread: it is meant to be slow).
pub async fn authenticate(
    state: &Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Account, Response<Body>> {
    let Some(creds) = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(auth::parse_basic)
    else {
        return Err(unauthorized());
    };
    let ip = peer.ip();
    // The lockout comes before the cache: a login locked out at this
    // address must not be able to try passwords against the cache, where
    // the right one would answer at once while the user is active and
    // every wrong one costs nothing.
    if let Some(wait) = state.throttle.locked_for(&creds.login, ip) {
        tracing::info!(%peer, seconds = wait.as_secs(), "login throttled");
        return Err(unauthorized());
    }
    // Nearly every request logs in from the cache. On a miss, argon2 waits
    // for one of `password_checks`; `check` looks in the cache again first,
    // so the devices of one account that log in together cost one run.
    let cached = {
        let (state, creds) = (state.clone(), creds.clone());
        tokio::task::spawn_blocking(move || cached_login(&state, &creds)).await
    };
    let outcome = match cached {
        Ok(Some(account)) => Ok(AuthOutcome::Ok(account)),
        _ => match state.password_checks.acquire().await {
            Ok(_permit) => {
                let state = state.clone();
                tokio::task::spawn_blocking(move || check(&state, &creds, ip)).await
            }
            Err(_) => Ok(AuthOutcome::Denied),
        },
    };
    match outcome {
        Ok(AuthOutcome::Ok(account)) => Ok(account),
        Ok(AuthOutcome::Denied) => Err(unauthorized()),
        Ok(AuthOutcome::Throttled(wait)) => {
            tracing::info!(%peer, seconds = wait.as_secs(), "login throttled");
            Err(unauthorized())
        }
        Err(_) => Err(plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "authentication failed unexpectedly\n",
        )),
    }
}

/// The account of credentials that logged in recently.
fn cached_login(state: &AppState, creds: &auth::Credentials) -> Option<Account> {
    let name = state.logins.get(creds)?;
    state.store.account(&name).ok().flatten()
}

fn check(state: &AppState, creds: &auth::Credentials, ip: std::net::IpAddr) -> AuthOutcome {
    if let Some(account) = cached_login(state, creds) {
        return AuthOutcome::Ok(account);
    }
    if let Some(wait) = state.throttle.locked_for(&creds.login, ip) {
        return AuthOutcome::Throttled(wait);
    }
    let account = match state.store.account_by_login(&creds.login) {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "reading accounts");
            return AuthOutcome::Denied;
        }
    };
    // An unknown login costs the same argon2 run as a wrong password, so
    // timing does not tell which names exist.
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.as_str())
        .unwrap_or("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0HbO0jE6Pz0h1G3mJ2kJm7aW6Eo2OH4pV0nB8kq2V1E");
    let ok = auth::verify_password(&creds.password, hash);
    match account {
        Some(account) if ok => {
            state.throttle.succeeded(&creds.login, ip);
            state.logins.put(creds, &account.name);
            AuthOutcome::Ok(account)
        }
        _ => {
            state.throttle.failed(&creds.login, ip);
            tracing::info!(login = %creds.login, %ip, "login failed");
            AuthOutcome::Denied
        }
    }
}

async fn options(state: &Arc<AppState>, peer: SocketAddr, headers: &HeaderMap) -> Response<Body> {
    if let Err(resp) = authenticate(state, peer, headers).await {
        return resp;
    }
    let mut resp = Response::new(Full::new(Bytes::new()));
    let h = resp.headers_mut();
    h.insert(ALLOW, HeaderValue::from_static("OPTIONS,POST"));
    h.insert("Public", HeaderValue::from_static("OPTIONS,POST"));
    h.insert(
        "MS-Server-ActiveSync",
        HeaderValue::from_static(SERVER_VERSION),
    );
    h.insert("MS-ASProtocolVersions", HeaderValue::from_static(VERSIONS));
    let commands = cmd::IMPLEMENTED
        .iter()
        .filter_map(|c| c.name())
        .collect::<Vec<_>>()
        .join(",");
    if let Ok(v) = HeaderValue::from_str(&commands) {
        h.insert("MS-ASProtocolCommands", v);
    }
    resp
}

/// The parts of a request the pipeline and the trace need.
struct Exchange<'a> {
    state: &'a Arc<AppState>,
    uri: String,
    headers: HeaderMap,
    request_xml: String,
    notes: Vec<String>,
    /// Whether this account and device are traced, so the decoded
    /// response is kept for the trace.
    traced: bool,
}

async fn post(state: &Arc<AppState>, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
    if *state.stopping.borrow() {
        // The server is shutting down: come back to it, or to its successor.
        let mut resp = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is restarting\n",
        );
        resp.headers_mut()
            .insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("30"));
        return resp;
    }
    let account = match authenticate(state, peer, req.headers()).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    // Held until the answer is built: a held Ping counts for its whole
    // heartbeat.
    let Some(_pass) = state.requests.enter(&account.name) else {
        tracing::warn!(
            account = %account.name,
            %peer,
            max = state.config.limits.max_requests_per_account,
            "request refused: the account has the most requests in progress allowed"
        );
        let mut resp = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many requests in progress for this account; try again later\n",
        );
        resp.headers_mut()
            .insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("30"));
        return resp;
    };
    let (parts, body) = req.into_parts();
    let query = parts.uri.query().unwrap_or("");
    let mut line = match RequestLine::parse(query) {
        Ok(line) => line,
        Err(e) if e.is_unknown_command() => {
            return plain(StatusCode::NOT_IMPLEMENTED, &format!("{e}\n"));
        }
        Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("bad request line: {e}\n")),
    };
    // The plain query leaves AcceptMultiPart to a header (MS-ASHTTP
    // 2.2.1.1.2.5); the handlers read it from the line either way.
    if line.params.accept_multipart.is_none() {
        line.params.accept_multipart = parts
            .headers
            .get("MS-ASAcceptMultiPart")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().eq_ignore_ascii_case("T"));
    }
    let version = match protocol_version(&line, &parts.headers) {
        Ok(v) => v,
        Err(msg) => return plain(StatusCode::BAD_REQUEST, &msg),
    };
    let policy_key = match line.policy_key {
        Some(k) => Some(k),
        None => match parts
            .headers
            .get("X-MS-PolicyKey")
            .map(|v| v.to_str().map(PolicyKey::parse))
        {
            None => None,
            Some(Ok(Ok(k))) => Some(k),
            Some(_) => return plain(StatusCode::BAD_REQUEST, "X-MS-PolicyKey is not a number\n"),
        },
    };
    let mut ex = Exchange {
        state,
        uri: parts.uri.to_string(),
        headers: parts.headers,
        request_xml: String::new(),
        notes: Vec::new(),
        traced: false,
    };
    let user_agent = ex
        .headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut device = match register_device(state, &account, &line, version, &user_agent).await {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    let body = match read_body(state, body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let resp = run(
        &mut ex,
        &account,
        &mut device,
        &line,
        version,
        policy_key,
        &body,
    )
    .await;
    finish(&ex, &account, &device, resp)
}

fn protocol_version(line: &RequestLine, headers: &HeaderMap) -> Result<ProtocolVersion, String> {
    let version = match line.protocol_version {
        Some(v) => v,
        None => {
            let Some(header) = headers.get("MS-ASProtocolVersion") else {
                return Err("missing MS-ASProtocolVersion header\n".into());
            };
            header
                .to_str()
                .ok()
                .and_then(|s| s.parse::<ProtocolVersion>().ok())
                .ok_or_else(|| format!("unsupported MS-ASProtocolVersion {header:?}; this server speaks {VERSIONS}\n"))?
        }
    };
    if version == ProtocolVersion::V2_5 {
        return Err(format!(
            "protocol 2.5 is not supported; this server speaks {VERSIONS}\n"
        ));
    }
    Ok(version)
}

/// Finds or records the device, refreshing what it says about itself.
/// Writes only when something changed, so a busy phone costs no fsync per
/// request.
async fn register_device(
    state: &Arc<AppState>,
    account: &Account,
    line: &RequestLine,
    version: ProtocolVersion,
    user_agent: &str,
) -> Result<Device, Response<Body>> {
    let state2 = state.clone();
    let account_name = account.name.clone();
    let device_id = line.device_id.as_str().to_owned();
    let device_type = line.device_type.as_str().to_owned();
    let user_agent = user_agent.to_owned();
    let result = tokio::task::spawn_blocking(move || -> anyhow::Result<Device> {
        let now = time::now();
        let existing = state2.store.device(&account_name, &device_id)?;
        let mut device = existing.clone().unwrap_or_else(|| Device {
            account: account_name.clone(),
            device_id: device_id.clone(),
            device_type: device_type.clone(),
            user_agent: user_agent.clone(),
            first_seen: now,
            last_seen: now,
            protocol_version: version.to_string(),
            info: Default::default(),
            policy: Default::default(),
            access: state2.config.device_access(&device_type, None, &user_agent),
            access_by_admin: false,
            wipe: None,
            recovery_password: None,
            held: Vec::new(),
            suspected_clone: false,
        });
        if now.saturating_sub(device.last_seen) >= 60 {
            device.last_seen = now;
        }
        device.device_type = device_type;
        device.user_agent = user_agent;
        device.protocol_version = version.to_string();
        if !device.access_by_admin {
            let model = device.info.get("Model").cloned();
            device.access = state2.config.device_access(
                &device.device_type,
                model.as_deref(),
                &device.user_agent,
            );
        }
        if existing.as_ref() != Some(&device) {
            state2.store.put_device(&device)?;
        }
        Ok(device)
    })
    .await;
    match result {
        Ok(Ok(device)) => Ok(device),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "recording a device");
            Err(plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server could not record the device\n",
            ))
        }
        Err(_) => Err(plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server failed\n",
        )),
    }
}

async fn run(
    ex: &mut Exchange<'_>,
    account: &Account,
    device: &mut Device,
    line: &RequestLine,
    version: ProtocolVersion,
    policy_key: Option<PolicyKey>,
    body: &Bytes,
) -> Response<Body> {
    let state = ex.state;
    let command = line.command;
    ex.traced = state.traces.is_on(&account.name, &device.device_id);
    // The body first: a malformed one is answered 400 whatever else is wrong.
    let limits = state.config.wbxml_limits();
    // A message body (12.x SendMail and friends) is not WBXML: it goes to
    // the command untouched.
    let is_message = ex
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim().to_ascii_lowercase().starts_with("message/rfc822"));
    let request = if body.is_empty() || is_message {
        None
    } else {
        match Element::decode(body, limits) {
            Ok(el) => {
                if ex.traced {
                    ex.request_xml = xml::to_xml(&crate::trace::for_trace(&el));
                }
                Some(el)
            }
            Err(e) => {
                ex.notes.push(format!("request body refused: {e}"));
                tracing::info!(account = %account.name, device = %device.device_id, error = %e, "bad WBXML");
                return plain(
                    StatusCode::BAD_REQUEST,
                    &format!("the request body is not valid WBXML: {e}\n"),
                );
            }
        }
    };

    let outcome = 'gate: {
        match device.access {
            Access::Allowed => {}
            Access::Blocked | Access::Quarantined => {
                ex.notes
                    .push(format!("device access is {:?}", device.access));
                break 'gate refuse(
                    command,
                    version,
                    StatusCode::FORBIDDEN,
                    Status::DEVICE_IS_BLOCKED_FOR_THIS_USER,
                );
            }
        }
        if command != Command::PROVISION {
            if let Some(reason) = crate::provisioning::gate(state, device, policy_key) {
                ex.notes.push(reason.note());
                break 'gate refuse(command, version, status_449(), reason.status());
            }
        }
        let mut ctx = Context {
            state,
            account,
            device,
            version,
            line,
            raw_body: is_message.then_some(&body[..]),
            notes: &mut ex.notes,
        };
        match cmd::dispatch(&mut ctx, request.as_ref()).await {
            Some(outcome) => outcome,
            None => {
                ex.notes.push(format!("{command} is not implemented yet"));
                Outcome::Http(StatusCode::NOT_IMPLEMENTED)
            }
        }
    };
    respond(ex, outcome)
}

fn respond(ex: &mut Exchange<'_>, outcome: Outcome) -> Response<Body> {
    match outcome {
        Outcome::Wbxml(el) => match el.encode() {
            Ok(bytes) => {
                let mut resp = Response::new(Full::new(Bytes::from(bytes)));
                resp.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(WBXML));
                if ex.traced {
                    ex.notes.push(format!(
                        "response:\n{}",
                        xml::to_xml(&crate::trace::for_trace(&el))
                    ));
                }
                resp
            }
            Err(e) => {
                tracing::error!(error = %e, "encoding a response");
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server could not encode its response\n",
                )
            }
        },
        Outcome::Encoded(bytes) => {
            if ex.traced {
                // A body holding raw MIME that is not UTF-8 cannot be shown
                // as XML; the trace says so instead.
                let xml = match Element::decode(&bytes, eas_proto::wbxml::Limits::default()) {
                    Ok(el) => xml::to_xml(&el),
                    Err(e) => format!("({} bytes of WBXML, not shown as XML: {e})", bytes.len()),
                };
                ex.notes.push(format!("response:\n{xml}"));
            }
            let mut resp = Response::new(Full::new(Bytes::from(bytes)));
            resp.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(WBXML));
            resp
        }
        Outcome::Multipart(bytes) => {
            if ex.traced {
                // The WBXML part as XML; the other parts by their sizes.
                let parts = eas_proto::command::items::decode_multipart(&bytes).unwrap_or_default();
                let xml = match parts
                    .first()
                    .map(|wbxml| Element::decode(wbxml, eas_proto::wbxml::Limits::default()))
                {
                    Some(Ok(el)) => xml::to_xml(&el),
                    Some(Err(e)) => format!("(WBXML that does not decode: {e})"),
                    None => "(no parts)".to_owned(),
                };
                let sizes: Vec<String> =
                    parts.iter().skip(1).map(|p| p.len().to_string()).collect();
                ex.notes.push(format!(
                    "response:\n<!-- multipart; parts after the WBXML, in bytes: [{}] -->\n{xml}",
                    sizes.join(", ")
                ));
            }
            let mut resp = Response::new(Full::new(Bytes::from(bytes)));
            resp.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(eas_proto::command::items::MULTIPART_CONTENT_TYPE),
            );
            resp
        }
        Outcome::Empty => Response::new(Full::new(Bytes::new())),
        Outcome::Http(status) => plain(
            status,
            &format!("{}\n", status.canonical_reason().unwrap_or("")),
        ),
    }
}

fn finish(
    ex: &Exchange<'_>,
    account: &Account,
    device: &Device,
    mut resp: Response<Body>,
) -> Response<Body> {
    resp.headers_mut().insert(
        "MS-Server-ActiveSync",
        HeaderValue::from_static(SERVER_VERSION),
    );
    if ex.state.traces.is_on(&account.name, &device.device_id) {
        let (response_body, notes): (String, Vec<String>) = {
            let mut body = String::new();
            let mut notes = Vec::new();
            for n in &ex.notes {
                match n.strip_prefix("response:\n") {
                    Some(xml) => body = xml.to_owned(),
                    None => notes.push(n.clone()),
                }
            }
            (body, notes)
        };
        ex.state.traces.record(
            &account.name,
            &device.device_id,
            &Entry {
                method: "POST",
                uri: &ex.uri,
                request_headers: &ex.headers,
                request_body: &ex.request_xml,
                status: resp.status().as_u16(),
                response_headers: resp.headers(),
                response_body: &response_body,
                notes: &notes,
            },
        );
    }
    resp
}
