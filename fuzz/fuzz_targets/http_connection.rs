//! One HTTP/1.1 connection from a peer that sends anything, after TLS:
//! hyper's request parsing with the server's header limit and time-out,
//! routing, Basic authentication (alice's seeds log in), the MS-ASHTTP
//! request line and headers, the body limit, and on to the command
//! handlers and Autodiscover, against a throwaway store.
//!
//! Never a panic, and every answer is an HTTP/1.1 (to a 1.0 client, 1.0)
//! status line with a status hyper would send; a request the server could
//! not read gets a 4xx, never a 500.
#![no_main]

mod common;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use eas_proto::ProtocolVersion;
use eas_server::http::{connection_builder, handle};
use eas_server::store::Store;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use libfuzzer_sys::fuzz_target;

const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000);

fuzz_target!(|data: &[u8]| {
    let mut config = common::config();
    config.limits.max_body_bytes = 64 * 1024;
    // FUZZ1 has provisioned at 14.1 with policy key 1, as the seeds say;
    // any other device id meets the provisioning gate.
    let hash = config
        .provisioning
        .policy
        .fingerprint(ProtocolVersion::V14_1);
    let device = common::device(ProtocolVersion::V14_1, Some(hash));
    let server = common::throwaway(config, |store| store.put_device(&device).expect("a device"));
    let state = server.state.clone();
    let service = service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(handle(state, PEER, req).await) }
    });
    let mut answers = Vec::new();
    common::runtime().block_on(async {
        let io = TokioIo::new(tokio::io::join(data, &mut answers));
        let _ = connection_builder(&server.state)
            .serve_connection(io, service)
            .await;
    });

    for status in status_lines(&answers) {
        // hyper answers in the request's version: 1.0 for a 1.0 client.
        let code = status
            .strip_prefix(b"HTTP/1.1 ")
            .or_else(|| status.strip_prefix(b"HTTP/1.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.parse::<u16>().ok());
        let Some(code) = code else {
            panic!("not a status line: {:?}", String::from_utf8_lossy(status));
        };
        assert!((100..600).contains(&code), "status {code}");
        // 500 is what a store failure would get; the store here is sound,
        // so a 500 is a handler treating bad input as its own fault.
        assert!(code != 500, "500 for:\n{}", String::from_utf8_lossy(data));
    }
});

/// The status line of every answer, reading each head and skipping its
/// body by Content-Length (hyper sends one with every full body); where a
/// head cannot be read the rest is left unchecked, as a client would have
/// to drop the connection there too.
fn status_lines(stream: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let Some(head_end) = rest.windows(4).position(|w| w == b"\r\n\r\n") else {
            lines.push(rest);
            break;
        };
        let head = &rest[..head_end];
        let mut fields = head.split(|&b| b == b'\n');
        let status = fields.next().unwrap_or_default();
        let status = status.strip_suffix(b"\r").unwrap_or(status);
        lines.push(status);
        let informational = status.get(9) == Some(&b'1');
        let length = fields.find_map(|f| {
            let f = std::str::from_utf8(f).ok()?.trim_end();
            let (name, value) = f.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        });
        let body = match (informational, length) {
            (true, _) => 0,
            (false, Some(n)) => n,
            (false, None) => break,
        };
        rest = rest.get(head_end + 4 + body..).unwrap_or_default();
    }
    lines
}
