//! An ActiveSync client built on eas-proto: request lines in either query
//! form, the MS-ASHTTP headers, typed request bodies in, typed responses out.
//! It does what a phone does, no more, so a test reads like a phone's
//! conversation with the server.

use std::fmt;

use base64::Engine as _;
use eas_proto::ProtocolVersion;
use eas_proto::command::folder::{FolderSyncRequest, FolderSyncResponse};
use eas_proto::command::ids::SyncKey;
use eas_proto::command::provision::{
    self, AckStatus, POLICY_TYPE_WBXML, PolicyStatus, RequestBody, WipeStatus,
};
use eas_proto::command::settings;
use eas_proto::command::sync;
use eas_proto::http::{
    Command, CommandParams, DeviceId, DeviceType, Locale, PolicyKey, QueryForm, RequestLine,
    UserName,
};
use eas_proto::wbxml::{Element, Limits};
use reqwest::Method;
use reqwest::header::HeaderMap;

pub const WBXML: &str = "application/vnd.ms-sync.wbxml";

/// One device of one account, as the server sees it.
pub struct EasClient {
    http: reqwest::blocking::Client,
    /// `https://127.0.0.1:PORT`.
    base: String,
    pub login: String,
    pub password: String,
    pub device_id: String,
    pub device_type: String,
    pub version: ProtocolVersion,
    /// The key sent with every request: `X-MS-PolicyKey` in the plain form,
    /// the Policy key field in the base64 form.
    pub policy_key: Option<PolicyKey>,
    pub form: QueryForm,
    pub user_agent: String,
}

impl fmt::Debug for EasClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EasClient")
            .field("login", &self.login)
            .field("device_id", &self.device_id)
            .field("version", &self.version)
            .field("policy_key", &self.policy_key)
            .field("form", &self.form)
            .finish_non_exhaustive()
    }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The WBXML body of a 200 answer.
    pub fn element(&self) -> Element<'_> {
        assert_eq!(
            self.status,
            200,
            "expected 200, got {self:?} {}",
            self.text()
        );
        assert_eq!(self.header("content-type"), Some(WBXML), "{self:?}");
        Element::decode(&self.body, Limits::default())
            .unwrap_or_else(|e| panic!("the server's WBXML: {e}: {:02x?}", self.body))
    }

    pub fn settings(&self) -> settings::Response {
        settings::Response::from_element(&self.element())
            .unwrap_or_else(|e| panic!("a Settings response: {e}"))
    }

    pub fn provision(&self) -> provision::Response {
        provision::Response::from_element(&self.element())
            .unwrap_or_else(|e| panic!("a Provision response: {e}"))
    }
}

impl EasClient {
    pub fn new(
        http: reqwest::blocking::Client,
        base: String,
        login: &str,
        password: &str,
        device_id: &str,
        version: ProtocolVersion,
    ) -> EasClient {
        EasClient {
            http,
            base,
            login: login.to_owned(),
            password: password.to_owned(),
            device_id: device_id.to_owned(),
            device_type: "TestPhone".to_owned(),
            version,
            policy_key: None,
            form: QueryForm::Plain,
            user_agent: "eas-tests/1.0".to_owned(),
        }
    }

    /// The request line for `command`, in this client's form: the base64
    /// form carries the version and the policy key itself.
    pub fn request_line(&self, command: Command) -> RequestLine {
        let base64 = self.form == QueryForm::Base64;
        RequestLine {
            form: self.form,
            command,
            user: Some(UserName::new(self.login.clone()).unwrap()),
            device_id: DeviceId::new(self.device_id.clone()).unwrap(),
            device_type: DeviceType::new(self.device_type.clone()).unwrap(),
            protocol_version: base64.then_some(self.version),
            policy_key: if base64 { self.policy_key } else { None },
            locale: base64.then_some(Locale::EN_US),
            params: CommandParams::default(),
        }
    }

    pub fn query(&self, command: Command) -> String {
        let line = self.request_line(command);
        match self.form {
            QueryForm::Plain => line.to_plain_query(),
            QueryForm::Base64 => line.to_base64_query().unwrap(),
        }
    }

    /// The headers a phone sends with a POST in this client's form.
    /// `MS-ASProtocolVersion` and `X-MS-PolicyKey` go only with the plain
    /// form; MS-ASHTTP 2.2.1.1.2.8 says the base64 form carries them.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut h = vec![
            ("Content-Type".to_owned(), WBXML.to_owned()),
            ("User-Agent".to_owned(), self.user_agent.clone()),
        ];
        if self.form == QueryForm::Plain {
            h.push((
                "MS-ASProtocolVersion".to_owned(),
                self.version.as_str().to_owned(),
            ));
            if let Some(key) = self.policy_key {
                h.push(("X-MS-PolicyKey".to_owned(), key.to_string()));
            }
        }
        h
    }

    pub fn authorization(&self) -> String {
        let creds = format!("{}:{}", self.login, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(creds)
        )
    }

    /// A request with exactly these headers (and this client's
    /// credentials, when `auth`).
    pub fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        auth: bool,
    ) -> Reply {
        self.try_send(method, path_and_query, headers, body, auth)
            .unwrap_or_else(|e| panic!("{path_and_query}: {e:?}"))
    }

    /// Like [`EasClient::send`], for requests the server may answer by
    /// closing the connection.
    pub fn try_send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        auth: bool,
    ) -> Result<Reply, reqwest::Error> {
        let mut req = self
            .http
            .request(method, format!("{}{path_and_query}", self.base));
        if auth {
            req = req.header("Authorization", self.authorization());
        }
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        let resp = req.body(body).send()?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes()?.to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// `OPTIONS /Microsoft-Server-ActiveSync`, with or without credentials.
    pub fn options(&self, auth: bool) -> Reply {
        self.send(
            Method::OPTIONS,
            "/Microsoft-Server-ActiveSync",
            &[("User-Agent".to_owned(), self.user_agent.clone())],
            Vec::new(),
            auth,
        )
    }

    /// POSTs a body under this client's request line and headers.
    pub fn post(&self, command: Command, body: Vec<u8>) -> Reply {
        let path = format!("/Microsoft-Server-ActiveSync?{}", self.query(command));
        self.send(Method::POST, &path, &self.headers(), body, true)
    }

    pub fn post_element(&self, command: Command, el: &Element<'_>) -> Reply {
        self.post(command, el.encode().unwrap())
    }

    /// FolderSync from `key` (`SyncKey::initial()` for the whole hierarchy).
    pub fn folder_sync(&self, key: &SyncKey) -> FolderSyncResponse {
        let reply = self.post_element(
            Command::FOLDER_SYNC,
            &FolderSyncRequest {
                sync_key: key.clone(),
            }
            .to_element(),
        );
        FolderSyncResponse::from_element(&reply.element())
            .unwrap_or_else(|e| panic!("a FolderSync response: {e}\n{}", reply.text()))
    }

    /// A Sync of one collection, with nothing else in the request.
    pub fn sync(&self, collection: sync::Collection) -> sync::Response {
        self.sync_request(&sync::Request {
            collections: vec![collection],
            ..Default::default()
        })
    }

    /// A Sync request as given.
    pub fn sync_request(&self, request: &sync::Request) -> sync::Response {
        let reply = self.post_element(Command::SYNC, &request.to_element());
        sync::Response::from_element(&reply.element())
            .unwrap_or_else(|e| panic!("a Sync response: {e}\n{}", reply.text()))
    }

    /// The 12.x form of SendMail, SmartReply and SmartForward: the message
    /// itself as `message/rfc822`, the rest (ItemId, CollectionId,
    /// SaveInSent) in the query's `params`.
    pub fn post_rfc822(&self, command: Command, params: CommandParams, mime: &[u8]) -> Reply {
        let mut line = self.request_line(command);
        line.params = params;
        let query = match self.form {
            QueryForm::Plain => line.to_plain_query(),
            QueryForm::Base64 => line.to_base64_query().unwrap(),
        };
        let headers: Vec<(String, String)> = self
            .headers()
            .into_iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("content-type") {
                    (k, "message/rfc822".to_owned())
                } else {
                    (k, v)
                }
            })
            .collect();
        self.send(
            Method::POST,
            &format!("/Microsoft-Server-ActiveSync?{query}"),
            &headers,
            mime.to_vec(),
            true,
        )
    }

    pub fn settings(&self, request: &settings::Request) -> Reply {
        self.post_element(Command::SETTINGS, &request.to_element())
    }

    /// Settings with `UserInformation/Get`, the simplest request that
    /// proves the device may sync.
    pub fn user_information(&self) -> Reply {
        self.settings(&settings::Request {
            user_information: true,
            ..Default::default()
        })
    }

    pub fn provision(&self, body: RequestBody) -> Reply {
        let request = provision::Request {
            device_information: None,
            body,
        };
        self.post_element(Command::PROVISION, &request.to_element())
    }

    /// Phase one: ask for the policy.
    pub fn download_policy(&self) -> Reply {
        self.provision(RequestBody::Download {
            policy_type: POLICY_TYPE_WBXML.to_owned(),
        })
    }

    /// Phase two: acknowledge `key` as fully applied.
    pub fn acknowledge(&self, key: PolicyKey) -> Reply {
        self.provision(RequestBody::Acknowledge {
            policy_type: POLICY_TYPE_WBXML.to_owned(),
            policy_key: key,
            status: AckStatus::SUCCESS,
        })
    }

    /// Both phases, as a phone does after its first 449 / 142; keeps and
    /// returns the final key.
    pub fn provision_fully(&mut self) -> PolicyKey {
        let temporary = self.download_policy().provision();
        let policy = temporary.policy.expect("a Policy in phase one");
        assert_eq!(policy.status, PolicyStatus::SUCCESS);
        let key = policy.policy_key.expect("a temporary key");
        let done = self.acknowledge(key).provision();
        assert_eq!(done.status, provision::Status::SUCCESS);
        let policy = done.policy.expect("a Policy in phase two");
        assert_eq!(policy.status, PolicyStatus::SUCCESS);
        let key = policy.policy_key.expect("a final key");
        self.policy_key = Some(key);
        key
    }

    /// Acknowledges a remote wipe as carried out.
    pub fn acknowledge_wipe(&self, account_only: bool) -> Reply {
        self.provision(if account_only {
            RequestBody::AccountOnlyRemoteWipeAck(WipeStatus::SUCCESS)
        } else {
            RequestBody::RemoteWipeAck(WipeStatus::SUCCESS)
        })
    }
}
