//! Autodiscover for mobile sync (MS-ASCMD 2.2.1.1): a phone given only an
//! e-mail address and a password learns this server's ActiveSync URL.
//!
//! The request must authenticate, like Exchange's: a phone sends the same
//! credentials it will sync with, and the answer describes the account that
//! logged in, never another one named in the body.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use eas_proto::autodiscover::{
    Action, ErrorResponse, MobileSyncResponse, Request as AdRequest, Response as AdResponse,
    Server, User,
};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::activesync::authenticate;
use super::{Body, plain, read_body};
use crate::state::AppState;

pub async fn handle(
    state: &Arc<AppState>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    if req.method() != Method::POST {
        let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "Autodiscover takes POST\n");
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    let account = match authenticate(state, peer, req.headers()).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let body = match read_body(state, req.into_body()).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let answer = match AdRequest::parse(&body) {
        Err(e) => {
            tracing::info!(%peer, error = %e, "bad autodiscover request");
            AdResponse::Error(ErrorResponse::invalid_request())
        }
        Ok(request) if !request.wants_mobilesync() => {
            AdResponse::Error(ErrorResponse::provider_not_found())
        }
        Ok(request) => {
            if !request.email_address.eq_ignore_ascii_case(&account.email) {
                tracing::info!(%peer, account = %account.name, asked = %request.email_address, "autodiscover for another address; answering for the account that logged in");
            }
            AdResponse::MobileSync(MobileSyncResponse {
                culture: "en:us".into(),
                user: User {
                    display_name: Some(account.display_name.clone()),
                    email_address: account.email.clone(),
                },
                action: Action::Settings(vec![Server::mobile_sync(format!(
                    "{}/Microsoft-Server-ActiveSync",
                    state.public_url
                ))]),
            })
        }
    };
    let mut resp = Response::new(Full::new(Bytes::from(answer.to_xml())));
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    resp
}
