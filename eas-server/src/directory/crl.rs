//! CRLs fetched from certificates' distribution points and cached until
//! their nextUpdate (RFC 5280 5.1.2.5), bounded by `[crl] max_cache_secs`.
//!
//! The fetch is a plain HTTP/1.1 GET on hyper's client connection: hyper
//! already serves our requests, so no other HTTP stack comes in, and the
//! few things a CRL fetch needs are ours to bound: one connect and the
//! whole response under `[crl] fetch_timeout_secs`, the body under
//! `[crl] max_bytes`, an optional HTTP proxy. A failure is remembered for
//! `[crl] retry_secs`, so a dead CRL server costs one time-out per period,
//! not one per request. Distribution points are http:// by RFC 5280's
//! advice (4.2.1.13); https:// ones are reported as unreachable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use smime_core::Crl;

use super::config::CrlConfig;

#[derive(Debug, Clone)]
enum Entry {
    Good { crl: Arc<Crl>, until: u64 },
    Failed { at: Instant, why: String },
}

#[derive(Debug)]
pub struct CrlCache {
    config: CrlConfig,
    entries: Mutex<HashMap<String, Entry>>,
}

/// An http:// URL split for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HttpUrl {
    host: String,
    port: u16,
    /// The path and query, starting with '/'.
    path: String,
}

fn parse_http_url(url: &str) -> Result<HttpUrl, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// distribution points are fetched"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("/")),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("{url}: no host"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            (h, p.parse().map_err(|_| format!("{url}: bad port"))?)
        }
        _ => (authority, 80),
    };
    Ok(HttpUrl {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        path: path.to_owned(),
    })
}

impl CrlCache {
    pub fn new(config: CrlConfig) -> CrlCache {
        CrlCache {
            config,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The CRL at `url`: cached while it is current, else fetched.
    pub async fn get(&self, url: &str) -> Result<Arc<Crl>, String> {
        let now = crate::time::now();
        let cached = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(url)
            .cloned();
        match cached {
            Some(Entry::Good { crl, until }) if now < until => return Ok(crl),
            Some(Entry::Failed { at, why })
                if at.elapsed() < Duration::from_secs(self.config.retry_secs) =>
            {
                return Err(why);
            }
            _ => {}
        }
        let fetched = self.fetch(url).await.and_then(|bytes| {
            Crl::from_bytes(&bytes).map_err(|e| format!("{url}: not a CRL: {e}"))
        });
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 10_000 {
            entries.clear();
        }
        match fetched {
            Ok(crl) => {
                let crl = Arc::new(crl);
                let cap = now.saturating_add(self.config.max_cache_secs);
                let until = crl.next_update().map_or(cap, |n| n.min(cap));
                entries.insert(
                    url.to_owned(),
                    Entry::Good {
                        crl: crl.clone(),
                        until,
                    },
                );
                Ok(crl)
            }
            Err(why) => {
                tracing::warn!(url, error = %why, "could not fetch a CRL");
                entries.insert(
                    url.to_owned(),
                    Entry::Failed {
                        at: Instant::now(),
                        why: why.clone(),
                    },
                );
                Err(why)
            }
        }
    }

    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        let timeout = Duration::from_secs(self.config.fetch_timeout_secs.max(1));
        tokio::time::timeout(timeout, self.fetch_inner(url))
            .await
            .map_err(|_| format!("{url}: no answer within {} s", timeout.as_secs()))?
    }

    async fn fetch_inner(&self, url: &str) -> Result<Vec<u8>, String> {
        let target = parse_http_url(url)?;
        let proxy = match self.config.http_proxy.trim() {
            "" => None,
            p => Some(parse_http_url(p).map_err(|e| format!("[crl] http_proxy: {e}"))?),
        };
        let (connect_host, connect_port) = match &proxy {
            Some(p) => (p.host.clone(), p.port),
            None => (target.host.clone(), target.port),
        };
        let stream = tokio::net::TcpStream::connect((connect_host.as_str(), connect_port))
            .await
            .map_err(|e| format!("{url}: connecting to {connect_host}:{connect_port}: {e}"))?;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        // Through a proxy the request names the whole URL (RFC 9112 3.2.2).
        let uri = if proxy.is_some() {
            url.to_owned()
        } else {
            target.path.clone()
        };
        let host_header = if target.port == 80 {
            target.host.clone()
        } else {
            format!("{}:{}", target.host, target.port)
        };
        let request = hyper::Request::get(uri)
            .header(hyper::header::HOST, host_header)
            .header(hyper::header::USER_AGENT, "eas-server")
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("{url}: {e}"))?;
        let result = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if !response.status().is_success() {
                return Err(format!("{url}: HTTP {}", response.status()));
            }
            let body = Limited::new(response.into_body(), self.config.max_bytes)
                .collect()
                .await
                .map_err(|e| format!("{url}: reading the body: {e}"))?;
            Ok(body.to_bytes().to_vec())
        }
        .await;
        driver.abort();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_http_url("http://crl.eas.test/a.crl").unwrap(),
            HttpUrl {
                host: "crl.eas.test".into(),
                port: 80,
                path: "/a.crl".into()
            }
        );
        assert_eq!(
            parse_http_url("http://127.0.0.1:8080").unwrap(),
            HttpUrl {
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/".into()
            }
        );
        assert!(parse_http_url("https://x/a.crl").is_err());
        assert!(parse_http_url("http:///a").is_err());
        assert!(parse_http_url("http://x:port/").is_err());
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_fast_and_is_remembered() {
        // A listener that accepts and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let cache = CrlCache::new(CrlConfig {
            fetch_timeout_secs: 1,
            ..CrlConfig::default()
        });
        let url = format!("http://{addr}/x.crl");
        let started = Instant::now();
        assert!(cache.get(&url).await.is_err());
        assert!(started.elapsed() < Duration::from_secs(3));
        let again = Instant::now();
        assert!(cache.get(&url).await.is_err());
        assert!(again.elapsed() < Duration::from_millis(100));
    }
}
