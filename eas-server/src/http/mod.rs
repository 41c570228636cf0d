//! The HTTP front: accept (TLS by default), read a request within its time
//! and size limits, route it, answer. Three layers, each in its own place:
//! this module speaks HTTP, [`activesync`] adapts MS-ASHTTP to typed
//! commands, and `cmd::*` does the work without seeing bytes or sockets.

pub mod activesync;
pub mod autodiscover;
pub mod gate;
pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::state::AppState;

pub type Body = Full<Bytes>;

/// Serves until `shutdown` completes, then lets in-flight requests finish
/// for the configured grace period.
pub async fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let http = connection_builder(&state);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(pass) = state.connections.enter(&peer.ip()) else {
            tracing::warn!(
                %peer,
                max = state.config.limits.max_connections_per_address,
                "connection refused: this address holds the most connections allowed"
            );
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let for_service = state.clone();
        let service = service_fn(move |req| {
            let state = for_service.clone();
            async move { Ok::<_, Infallible>(handle(state, peer, req).await) }
        });
        match &tls {
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let timeout = Duration::from_secs(state.config.server.tls_handshake_timeout_secs);
                let http = http.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let _pass = pass;
                    let tls = match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let conn = http.serve_connection(TokioIo::new(tls), service);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            None => {
                let conn = http.serve_connection(TokioIo::new(stream), service);
                let fut = graceful.watch(conn);
                tokio::spawn(async move {
                    let _pass = pass;
                    if let Err(e) = fut.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    // Held requests (Ping, Sync with Wait) answer now instead of holding
    // the shutdown for their whole heartbeat.
    state.stopping.send_replace(true);
    let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(grace) => tracing::warn!("shutdown grace period over; closing the remaining connections"),
    }
}

/// How every connection speaks HTTP/1.1: the header time-out and the
/// header size limit are hyper's to enforce, before any handler runs.
pub fn connection_builder(state: &AppState) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(state.config.server.header_timeout_secs))
        .max_buf_size(state.config.limits.max_header_bytes.max(8192))
        .keep_alive(true);
    http
}

/// Routes one request by its path. Public with [`connection_builder`] so
/// that the `http_connection` fuzz target runs what `serve` runs, on bytes
/// instead of a socket.
pub async fn handle(
    state: Arc<AppState>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let path = req.uri().path();
    let is = |p: &str| path.eq_ignore_ascii_case(p);
    if is("/Microsoft-Server-ActiveSync")
        || is("/Microsoft-Server-ActiveSync/")
        || is("/Microsoft-Server-ActiveSync/default.eas")
    {
        activesync::handle(&state, peer, req).await
    } else if is("/autodiscover/autodiscover.xml") {
        autodiscover::handle(&state, peer, req).await
    } else {
        plain(
            StatusCode::NOT_FOUND,
            "not found: ActiveSync lives at /Microsoft-Server-ActiveSync\n",
        )
    }
}

/// Reads the whole body within the size and time limits.
pub async fn read_body(state: &AppState, body: Incoming) -> Result<Bytes, Response<Body>> {
    let limit = state.config.limits.max_body_bytes;
    let timeout = Duration::from_secs(state.config.server.body_timeout_secs);
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body larger than {limit} bytes\n"),
        )),
        Ok(Err(_)) => Err(plain(
            StatusCode::BAD_REQUEST,
            "the request body could not be read\n",
        )),
        Err(_) => Err(plain(
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive in time\n",
        )),
    }
}

/// A short text answer.
pub fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::copy_from_slice(text.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// 401 with the Basic challenge. libsoup-based clients (GNOME Evolution's
/// EAS backend) send no credentials until they see it.
pub fn unauthorized() -> Response<Body> {
    let mut resp = plain(StatusCode::UNAUTHORIZED, "authentication required\n");
    resp.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"eas\", charset=\"UTF-8\""),
    );
    resp
}
