//! ResolveRecipients benchmark: one request for 50 recipients with
//! CertificateRetrieval 2, through the real server over TLS, with the
//! directory in a real OpenLDAP slapd on loopback; cold (the directory
//! asked for every recipient, `cache_ttl_secs = 0`) against warm (the
//! directory cache holds every answer).
//!
//! Run (a release server, measured from outside):
//!   cargo build --release -p eas-server -p eas-tests --bin eas-server --bin bench-resolve
//!   EAS_SERVER_BIN=target/release/eas-server target/release/bench-resolve [ROUNDS] [PER_ROUND]
//!
//! Setup: a PKI made with openssl in a temporary directory (an RSA 3072
//! root, an RSA 2048 intermediate, 50 RSA 2048 user certificates for
//! emailProtection; the intermediate and the users name CRL distribution
//! points), the two CRLs served over HTTP on loopback, slapd holding 50 inetOrgPerson entries each with
//! its certificate in userCertificate;binary, and two release servers on
//! the same slapd and trust anchors: "cold" with `cache_ttl_secs = 0`
//! and "warm" with the default 300 s. Both check revocation; the CRLs are
//! fetched once per server, on its first request (reported apart), and
//! kept until their nextUpdate after that, so the steady-state figures
//! compare the directory alone: 50 LDAP searches against 50 cache hits.
//! Every other step (TLS, WBXML, chain validation of 50 certificates and
//! the CRL check, the response of ~60 KB) is in both.
//!
//! ROUNDS (5) rounds alternate PER_ROUND (20) requests to each server, so
//! a change in the machine's load falls on both. Every response is
//! checked: 50 recipients, each with exactly its published certificate.

// A benchmark: it should stop loudly on any surprise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, Instant};

use eas_proto::ProtocolVersion;
use eas_proto::command::resolverecipients::{
    CertificateRetrieval, Options, Request, Response, Status,
};
use eas_proto::http::Command;
use eas_tests::client::EasClient;
use eas_tests::pki::{CrlServer, b64};
use eas_tests::server::{ALICE_PASSWORD, TempDir, TestServer};
use eas_tests::slapd::{BASE_DN, Slapd};

const RECIPIENTS: usize = 50;

fn openssl(dir: &Path, args: &[&str], san: Option<&str>) {
    let mut cmd = Process::new("openssl");
    cmd.args(args).current_dir(dir);
    cmd.env("SAN", san.unwrap_or("none@example.com"));
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("openssl (Debian package openssl): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The bench PKI in `dir`: trust/root.pem, trust/intermediate.pem,
/// bench-intermediate.crl, and userNN.der for each recipient.
fn make_pki(dir: &Path) -> Vec<Vec<u8>> {
    let ca = dir.join("ca");
    std::fs::create_dir_all(&ca).unwrap();
    std::fs::create_dir_all(dir.join("trust")).unwrap();
    std::fs::write(ca.join("index.txt"), "").unwrap();
    std::fs::write(ca.join("crlnumber"), "1000\n").unwrap();
    std::fs::write(
        dir.join("bench.cnf"),
        format!(
            "[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\nCN = placeholder\n\
             [ root ]\nbasicConstraints = critical, CA:true\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n\
             [ inter ]\nbasicConstraints = critical, CA:true, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n\
             crlDistributionPoints = URI:http://crl.eas.test/bench-root.crl\n\
             [ user ]\nbasicConstraints = critical, CA:false\nkeyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = emailProtection\n\
             subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\nsubjectAltName = email:$ENV::SAN\n\
             crlDistributionPoints = URI:http://crl.eas.test/bench-intermediate.crl\n\
             [ ca ]\ndefault_ca = c\n[ c ]\ndatabase = {ca}/index.txt\ncrlnumber = {ca}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 3650\n",
            ca = ca.display()
        ),
    )
    .unwrap();
    let key = |name: &str, bits: &str| {
        openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                &format!("rsa_keygen_bits:{bits}"),
                "-out",
                name,
            ],
            None,
        );
    };
    key("root.key", "3072");
    key("intermediate.key", "2048");
    key("user.key", "2048");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-config",
            "bench.cnf",
            "-key",
            "root.key",
            "-subj",
            "/O=eas bench/CN=eas Bench Root CA",
            "-extensions",
            "root",
            "-days",
            "7300",
            "-out",
            "trust/root.pem",
        ],
        None,
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-config",
            "bench.cnf",
            "-key",
            "intermediate.key",
            "-subj",
            "/O=eas bench/CN=eas Bench Intermediate CA",
            "-out",
            "intermediate.csr",
        ],
        None,
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "intermediate.csr",
            "-CA",
            "trust/root.pem",
            "-CAkey",
            "root.key",
            "-set_serial",
            "2",
            "-days",
            "7300",
            "-extfile",
            "bench.cnf",
            "-extensions",
            "inter",
            "-out",
            "trust/intermediate.pem",
        ],
        None,
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-config",
            "bench.cnf",
            "-key",
            "user.key",
            "-subj",
            "/O=eas bench/CN=Bench User",
            "-out",
            "user.csr",
        ],
        None,
    );
    let mut ders = Vec::new();
    for i in 0..RECIPIENTS {
        let out = format!("user{i:02}.der");
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "user.csr",
                "-CA",
                "trust/intermediate.pem",
                "-CAkey",
                "intermediate.key",
                "-set_serial",
                &(1000 + i).to_string(),
                "-days",
                "3650",
                "-extfile",
                "bench.cnf",
                "-extensions",
                "user",
                "-outform",
                "DER",
                "-out",
                &out,
            ],
            Some(&address(i)),
        );
        ders.push(std::fs::read(dir.join(&out)).unwrap());
    }
    for (issuer, key, cert) in [
        ("root", "root.key", "trust/root.pem"),
        ("intermediate", "intermediate.key", "trust/intermediate.pem"),
    ] {
        let pem = format!("{issuer}.crl.pem");
        openssl(
            dir,
            &[
                "ca",
                "-gencrl",
                "-config",
                "bench.cnf",
                "-keyfile",
                key,
                "-cert",
                cert,
                "-out",
                &pem,
            ],
            None,
        );
        openssl(
            dir,
            &[
                "crl",
                "-in",
                &pem,
                "-outform",
                "DER",
                "-out",
                &format!("bench-{issuer}.crl"),
            ],
            None,
        );
    }
    ders
}

fn address(i: usize) -> String {
    format!("bench{i:02}@example.com")
}

fn ldif(ders: &[Vec<u8>]) -> String {
    let mut out = format!(
        "dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: eas bench\n\n\
         dn: ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: people\n\n"
    );
    for (i, der) in ders.iter().enumerate() {
        out.push_str(&format!(
            "dn: uid=bench{i:02},ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\nuid: bench{i:02}\n\
             cn: Bench User {i:02}\ndisplayName: Bench User {i:02}\ngivenName: Bench\nsn: User {i:02}\n\
             mail: {}\ntitle: Tester\nuserCertificate;binary:: {}\n\n",
            address(i),
            b64(der)
        ));
    }
    out
}

fn server(slapd: &Slapd, crl: &CrlServer, trust: &Path, ttl: u64) -> TestServer {
    let config = format!(
        "[provisioning]\nenforce = false\n\n[crl]\nhttp_proxy = \"{}\"\nfetch_timeout_secs = 5\n\n{}",
        crl.proxy_url(),
        slapd.config().replace(
            "[directory]\n",
            &format!(
                "[directory]\ntrust_dir = \"{}\"\ncache_ttl_secs = {ttl}\n",
                trust.display()
            )
        )
    );
    TestServer::with_alice_and_config(&config)
}

fn request() -> Vec<u8> {
    Request {
        to: (0..RECIPIENTS).map(address).collect(),
        options: Options {
            certificate_retrieval: Some(CertificateRetrieval::FULL),
            ..Options::default()
        },
    }
    .to_element()
    .encode()
    .unwrap()
}

/// One request: its latency and the response's size, checked.
fn resolve(c: &EasClient, body: &[u8], ders: &[Vec<u8>]) -> (Duration, usize) {
    let t = Instant::now();
    let reply = c.post(Command::RESOLVE_RECIPIENTS, body.to_vec());
    let took = t.elapsed();
    let r = Response::from_element(&reply.element()).unwrap();
    assert_eq!(r.status, Status::SUCCESS, "{r:?}");
    assert_eq!(r.responses.len(), RECIPIENTS);
    for (i, resp) in r.responses.iter().enumerate() {
        assert_eq!(resp.status, Status::SUCCESS, "{}: {resp:?}", address(i));
        let certs = resp.recipients[0].certificates.as_ref().unwrap();
        assert_eq!(certs.status, Status::SUCCESS, "{}: {certs:?}", address(i));
        assert_eq!(certs.certificates, vec![ders[i].clone()], "{}", address(i));
    }
    (took, reply.body.len())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let per_round: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    assert!(
        std::env::var_os("EAS_SERVER_BIN").is_some(),
        "set EAS_SERVER_BIN to a release eas-server (see the comment at the top)"
    );
    println!("load average at start: {}", loadavg());
    let dir = TempDir::new("bench-resolve");
    let t = Instant::now();
    let ders = make_pki(dir.path());
    println!(
        "PKI made in {:.1} s: {RECIPIENTS} certificates, {} bytes each",
        t.elapsed().as_secs_f64(),
        ders[0].len()
    );
    let crl = CrlServer::serving(dir.path().to_path_buf());
    let slapd_dir = dir.path().join("slapd");
    std::fs::create_dir_all(&slapd_dir).unwrap();
    let slapd = Slapd::start(&slapd_dir, &ldif(&ders));
    let trust = dir.path().join("trust");
    let cold_server = server(&slapd, &crl, &trust, 0);
    let warm_server = server(&slapd, &crl, &trust, 300);
    let cold = cold_server.client("alice", ALICE_PASSWORD, "benchcold", ProtocolVersion::V16_1);
    let warm = warm_server.client("alice", ALICE_PASSWORD, "benchwarm", ProtocolVersion::V16_1);
    let body = request();

    // First requests: each server connects to slapd and fetches the CRLs.
    let (cold_first, size) = resolve(&cold, &body, &ders);
    let (warm_first, _) = resolve(&warm, &body, &ders);
    assert_eq!(crl.served(), 4, "each server fetched the two CRLs once");
    println!(
        "request: {} bytes of WBXML; response: {size} bytes",
        body.len()
    );
    println!(
        "first request (LDAP connection, CRL fetches, directory): cold server {:.1} ms, warm server {:.1} ms (fills its cache)",
        ms(cold_first),
        ms(warm_first)
    );

    let mut cold_lat = Vec::new();
    let mut warm_lat = Vec::new();
    for _ in 0..rounds {
        for _ in 0..per_round {
            cold_lat.push(resolve(&cold, &body, &ders).0);
        }
        for _ in 0..per_round {
            warm_lat.push(resolve(&warm, &body, &ders).0);
        }
    }
    assert_eq!(crl.served(), 4, "the CRLs were kept, not fetched again");
    cold_lat.sort();
    warm_lat.sort();
    let mean = |v: &[Duration]| v.iter().sum::<Duration>() / u32::try_from(v.len()).unwrap();
    println!(
        "\n| {RECIPIENTS} recipients, CertificateRetrieval 2 ({} requests each) | p50 ms | p90 ms | max ms | mean ms | per recipient (p50) ms |",
        rounds * per_round
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (label, lat) in [
        ("cold: directory (slapd) for every recipient", &cold_lat),
        ("warm: directory cache", &warm_lat),
    ] {
        println!(
            "| {label} | {:.2} | {:.2} | {:.2} | {:.2} | {:.3} |",
            ms(percentile(lat, 0.5)),
            ms(percentile(lat, 0.9)),
            ms(*lat.last().unwrap()),
            ms(mean(lat)),
            ms(percentile(lat, 0.5)) / RECIPIENTS as f64
        );
    }
    println!(
        "\ncold / warm: p50 {:.2}x, mean {:.2}x",
        ms(percentile(&cold_lat, 0.5)) / ms(percentile(&warm_lat, 0.5)),
        ms(mean(&cold_lat)) / ms(mean(&warm_lat))
    );
    println!("load average at end: {}", loadavg());
    drop(cold_server);
    drop(warm_server);
    drop(slapd);
}
