//! One simulated phone: its own TLS connection from one of the fleet's
//! source addresses, Provision in two phases, FolderSync, the first Sync
//! of the Inbox, then Ping after Ping, fetching the Inbox after each
//! Status 2, as phones do.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use eas_proto::ProtocolVersion;
use eas_proto::command::airsyncbase::{BodyPreference, BodyType};
use eas_proto::command::folder::{FolderSyncRequest, FolderSyncResponse, FolderSyncStatus};
use eas_proto::command::ids::{CollectionId, SyncKey};
use eas_proto::command::ping;
use eas_proto::command::provision::{self, AckStatus, POLICY_TYPE_WBXML, RequestBody};
use eas_proto::command::sync::{self, Collection, Options, ServerCommand};
use eas_proto::http::{
    Command, CommandParams, DeviceId, DeviceType, PolicyKey, QueryForm, RequestLine, UserName,
};
use eas_proto::wbxml::{Element, Limits};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsConnector;

use crate::stats::{Stats, lock};

const WBXML: &str = "application/vnd.ms-sync.wbxml";
/// The Inbox's collection id on this server.
const INBOX: &str = "1";
/// Any request but a Ping must be answered within this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// One account as the devices and the mail injector share it.
#[derive(Debug)]
pub(crate) struct Account {
    pub(crate) login: String,
    pub(crate) authorization: HeaderValue,
    /// When each message to this account was handed to LMTP (the end of
    /// DATA), in order.
    pub(crate) deliveries: std::sync::Mutex<Vec<Instant>>,
}

/// What every device shares.
pub(crate) struct Fleet {
    pub(crate) server: SocketAddr,
    pub(crate) host: HeaderValue,
    pub(crate) tls: TlsConnector,
    pub(crate) sources: Vec<Ipv4Addr>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) heartbeat: u32,
    pub(crate) version: ProtocolVersion,
    pub(crate) stats: Stats,
    /// Set once the run is over: devices stop after their current request.
    pub(crate) stop: watch::Receiver<bool>,
    /// Bounds how many devices set up at once.
    pub(crate) setup: Semaphore,
}

/// A failure, by the kind the report counts it under.
type Failure = String;

/// One HTTP/1.1 connection; its driver task ends with it.
struct Link {
    send: SendRequest<Full<Bytes>>,
    driver: tokio::task::AbortHandle,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

pub(crate) struct Device {
    index: usize,
    account: usize,
    id: String,
    policy_key: Option<PolicyKey>,
    inbox_key: SyncKey,
    link: Option<Link>,
    fleet: Arc<Fleet>,
}

impl Drop for Device {
    fn drop(&mut self) {
        if self.link.take().is_some() {
            self.fleet.stats.connected.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Runs device `index` until the fleet stops or the device gives up.
pub(crate) async fn run(fleet: Arc<Fleet>, index: usize) {
    let account = index % fleet.accounts.len().max(1);
    let mut device = Device {
        index,
        account,
        id: format!("FLEET{index:06}"),
        policy_key: None,
        inbox_key: SyncKey::initial(),
        link: None,
        fleet: fleet.clone(),
    };
    let set_up = {
        let Ok(_permit) = fleet.setup.acquire().await else {
            return;
        };
        let mut attempt = 0;
        loop {
            match device.set_up().await {
                Ok(()) => break true,
                Err(e) => {
                    fleet.stats.error(format!("setup: {e}"));
                    device.disconnect();
                    attempt += 1;
                    if attempt >= 3 || *fleet.stop.borrow() {
                        break false;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    };
    if !set_up {
        fleet.stats.failed.fetch_add(1, Ordering::Relaxed);
        return;
    }
    fleet.stats.set_up.fetch_add(1, Ordering::Relaxed);
    device.ping_loop().await;
}

impl Device {
    async fn connect(&mut self) -> Result<(), Failure> {
        let fleet = &self.fleet;
        let source = fleet
            .sources
            .get(self.index % fleet.sources.len().max(1))
            .copied()
            .unwrap_or(Ipv4Addr::LOCALHOST);
        let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {}", e.kind()))?;
        // Bound before connecting, so each source address has its own
        // range of ephemeral ports.
        socket
            .bind(SocketAddr::new(source.into(), 0))
            .map_err(|e| format!("bind {source}: {}", e.kind()))?;
        let tcp = tokio::time::timeout(REQUEST_TIMEOUT, socket.connect(fleet.server))
            .await
            .map_err(|_| "connect: timeout".to_owned())?
            .map_err(|e| format!("connect: {}", e.kind()))?;
        let _ = tcp.set_nodelay(true);
        let name = rustls::pki_types::ServerName::IpAddress(fleet.server.ip().into());
        let tls = tokio::time::timeout(REQUEST_TIMEOUT, fleet.tls.connect(name, tcp))
            .await
            .map_err(|_| "TLS handshake: timeout".to_owned())?
            .map_err(|e| format!("TLS handshake: {}", e.kind()))?;
        let (send, conn) = hyper::client::conn::http1::Builder::new()
            .handshake(TokioIo::new(tls))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        })
        .abort_handle();
        self.link = Some(Link { send, driver });
        fleet.stats.connected.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn disconnect(&mut self) {
        if self.link.take().is_some() {
            self.fleet.stats.connected.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// POSTs a command; the body of a 200 answer.
    async fn post(
        &mut self,
        command: Command,
        el: &Element<'_>,
        within: Duration,
    ) -> Result<Bytes, Failure> {
        let fleet = self.fleet.clone();
        let account = fleet
            .accounts
            .get(self.account)
            .ok_or_else(|| "no such account".to_owned())?;
        let body = el
            .encode()
            .map_err(|e| format!("encoding {command}: {e}"))?;
        let line = RequestLine {
            form: QueryForm::Plain,
            command,
            user: UserName::new(account.login.clone()).ok(),
            device_id: DeviceId::new(self.id.clone()).map_err(|e| e.to_string())?,
            device_type: DeviceType::new("FleetPhone").map_err(|e| e.to_string())?,
            protocol_version: None,
            policy_key: None,
            locale: None,
            params: CommandParams::default(),
        };
        let mut request = hyper::Request::post(format!(
            "/Microsoft-Server-ActiveSync?{}",
            line.to_plain_query()
        ))
        .header(HOST, fleet.host.clone())
        .header(AUTHORIZATION, account.authorization.clone())
        .header(CONTENT_TYPE, WBXML)
        .header(USER_AGENT, "eas-fleet/1.0")
        .header("MS-ASProtocolVersion", fleet.version.as_str());
        if let Some(key) = self.policy_key {
            request = request.header("X-MS-PolicyKey", key.to_string());
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("building {command}: {e}"))?;
        if self.link.is_none() {
            self.connect().await?;
        }
        let link = self
            .link
            .as_mut()
            .ok_or_else(|| "not connected".to_owned())?;
        let exchange = async {
            link.send.ready().await?;
            let response = link.send.send_request(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body))
        };
        let outcome = tokio::time::timeout(within, exchange).await;
        let (status, body) = match outcome {
            Err(_) => {
                self.disconnect();
                return Err(format!(
                    "{command}: no answer within {} s",
                    within.as_secs()
                ));
            }
            Ok(Err(e)) => {
                self.disconnect();
                return Err(format!("{command}: connection: {e}"));
            }
            Ok(Ok(answer)) => answer,
        };
        fleet.stats.requests.fetch_add(1, Ordering::Relaxed);
        if status != 200 {
            return Err(format!("{command}: HTTP {status}"));
        }
        Ok(body)
    }

    async fn set_up(&mut self) -> Result<(), Failure> {
        self.connect().await?;
        self.policy_key = None;
        // Provision, phase one: the policy and a temporary key.
        let download = provision::Request {
            device_information: None,
            body: RequestBody::Download {
                policy_type: POLICY_TYPE_WBXML.to_owned(),
            },
        };
        let body = self
            .post(Command::PROVISION, &download.to_element(), REQUEST_TIMEOUT)
            .await?;
        let temporary = decode(&body, provision::Response::from_element)?
            .policy
            .and_then(|p| p.policy_key)
            .ok_or_else(|| "Provision: no temporary key".to_owned())?;
        // Phase two: acknowledged, the final key.
        let ack = provision::Request {
            device_information: None,
            body: RequestBody::Acknowledge {
                policy_type: POLICY_TYPE_WBXML.to_owned(),
                policy_key: temporary,
                status: AckStatus::SUCCESS,
            },
        };
        let body = self
            .post(Command::PROVISION, &ack.to_element(), REQUEST_TIMEOUT)
            .await?;
        let key = decode(&body, provision::Response::from_element)?
            .policy
            .and_then(|p| p.policy_key)
            .ok_or_else(|| "Provision: no final key".to_owned())?;
        self.policy_key = Some(key);

        let folders = FolderSyncRequest {
            sync_key: SyncKey::initial(),
        };
        let body = self
            .post(Command::FOLDER_SYNC, &folders.to_element(), REQUEST_TIMEOUT)
            .await?;
        let status = decode(&body, FolderSyncResponse::from_element)?.status;
        if status != FolderSyncStatus::SUCCESS {
            return Err(format!("FolderSync: Status {}", u8::from(status)));
        }
        self.inbox_key = SyncKey::initial();
        self.sync_inbox().await?;
        Ok(())
    }

    /// Syncs the Inbox until nothing more waits; the items added.
    async fn sync_inbox(&mut self) -> Result<u64, Failure> {
        let mut added = 0;
        loop {
            let initial = self.inbox_key.is_initial();
            let inbox = CollectionId::new(INBOX).map_err(|e| e.to_string())?;
            let mut collection = Collection::new(self.inbox_key.clone(), inbox);
            collection.window_size = Some(100);
            collection.options = vec![Options {
                body_preferences: vec![BodyPreference {
                    body_type: BodyType::HTML,
                    truncation_size: Some(5120),
                    all_or_none: None,
                    preview: None,
                }],
                ..Default::default()
            }];
            let request = sync::Request {
                collections: vec![collection],
                ..Default::default()
            };
            let body = self
                .post(Command::SYNC, &request.to_element(), REQUEST_TIMEOUT)
                .await?;
            if body.is_empty() {
                // Nothing changed.
                return Ok(added);
            }
            let response = decode(&body, sync::Response::from_element)?;
            if let Some(status) = response.status {
                return Err(format!("Sync: Status {}", u8::from(status)));
            }
            let collection = response
                .collections
                .first()
                .ok_or_else(|| "Sync: no collection".to_owned())?;
            if collection.header.status != sync::Status::SUCCESS {
                return Err(format!(
                    "Sync: collection Status {}",
                    u8::from(collection.header.status)
                ));
            }
            if let Some(key) = &collection.header.sync_key {
                self.inbox_key = key.clone();
            }
            added += collection
                .commands
                .iter()
                .filter(|c| matches!(c, ServerCommand::Add { .. }))
                .count() as u64;
            if !initial && !collection.header.more_available {
                return Ok(added);
            }
        }
    }

    async fn ping_loop(&mut self) {
        let fleet = self.fleet.clone();
        let stats = &fleet.stats;
        let inbox = match CollectionId::new(INBOX) {
            Ok(id) => id,
            Err(_) => return,
        };
        let ping = ping::Request {
            heartbeat_interval: Some(fleet.heartbeat),
            folders: Some(vec![ping::Folder {
                id: inbox,
                class: "Email".into(),
            }]),
        }
        .to_element();
        let within = Duration::from_secs(u64::from(fleet.heartbeat) + 120);
        let mut failures = 0u32;
        while !*fleet.stop.borrow() {
            let sent = Instant::now();
            stats.holding.fetch_add(1, Ordering::Relaxed);
            let answer = self.post(Command::PING, &ping, within).await;
            stats.holding.fetch_sub(1, Ordering::Relaxed);
            let answered = Instant::now();
            if *fleet.stop.borrow() {
                return;
            }
            let status = match answer.and_then(|body| decode(&body, ping::Response::from_element)) {
                Ok(response) => response.status,
                Err(e) => {
                    stats.error(e);
                    failures += 1;
                    if failures >= 5 {
                        stats.gave_up.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
            };
            stats.ping_answer(u8::from(status));
            if status == ping::Status::CHANGES {
                self.note_latency(sent, answered);
                match self.sync_inbox().await {
                    Ok(n) => {
                        stats.items.fetch_add(n, Ordering::Relaxed);
                    }
                    Err(e) => stats.error(e),
                }
            } else if status != ping::Status::EXPIRED {
                stats.error(format!("Ping: Status {}", u8::from(status)));
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }

    /// Records how long the first message delivered while the Ping was
    /// held took to end it. A Ping that found changes already waiting
    /// (delivered between its Sync and itself) is counted apart.
    fn note_latency(&self, sent: Instant, answered: Instant) {
        let stats = &self.fleet.stats;
        let Some(account) = self.fleet.accounts.get(self.account) else {
            return;
        };
        let first = {
            let deliveries = lock(&account.deliveries);
            let i = deliveries.partition_point(|t| *t < sent);
            deliveries.get(i).copied()
        };
        match first {
            Some(t) if t <= answered => lock(&stats.latencies).push(answered - t),
            _ => {
                stats.immediate.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn decode<T>(
    body: &[u8],
    parse: impl Fn(&Element<'_>) -> Result<T, eas_proto::command::CommandError>,
) -> Result<T, Failure> {
    let el = Element::decode(body, Limits::default()).map_err(|e| format!("WBXML: {e}"))?;
    parse(&el).map_err(|e| format!("response: {e}"))
}
