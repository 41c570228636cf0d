//! A real OpenLDAP slapd for the directory tests: its own slapd.conf and
//! database in a temporary directory, filled with slapadd before it
//! starts, listening on a free loopback port. Dropping it stops slapd.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::mail::free_port;

pub const BASE_DN: &str = "dc=example,dc=com";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=com";
pub const ADMIN_PASSWORD: &str = "ldap-secret";

#[derive(Debug)]
pub struct Slapd {
    child: Option<Child>,
    port: u16,
    /// The ldaps:// port, when started with TLS.
    tls_port: Option<u16>,
    dir: PathBuf,
}

/// Runs openssl with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(crate::require_tool("openssl", "openssl"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running openssl: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes a CA (`slapd-ca.pem`) and a server certificate for 127.0.0.1
/// signed by it (`slapd-cert.pem`, `slapd-key.pem`) in `dir`. A
/// self-signed certificate would not do: it is a CA, and a verifier
/// rightly refuses a CA certificate as a server's own.
fn server_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=eas slapd test CA",
    ];
    ca.extend(ec);
    ca.extend(["-keyout", "slapd-ca-key.pem", "-out", "slapd-ca.pem"]);
    openssl(dir, &ca);
    let mut csr = vec!["req", "-new", "-subj", "/CN=127.0.0.1"];
    csr.extend(ec);
    csr.extend(["-keyout", "slapd-key.pem", "-out", "slapd.csr"]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("slapd-ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "slapd.csr",
            "-CA",
            "slapd-ca.pem",
            "-CAkey",
            "slapd-ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "slapd-ext.cnf",
            "-out",
            "slapd-cert.pem",
        ],
    );
    (dir.join("slapd-cert.pem"), dir.join("slapd-key.pem"))
}

impl Slapd {
    /// Starts slapd in `dir` with `ldif` loaded, on ldap:// only.
    pub fn start(dir: &Path, ldif: &str) -> Slapd {
        Slapd::launch(dir, ldif, false)
    }

    /// Starts slapd with a certificate for 127.0.0.1 from a CA of its own
    /// (see [`Slapd::ca_file`]): StartTLS on the ldap:// port, and an ldaps://
    /// port.
    pub fn start_with_tls(dir: &Path, ldif: &str) -> Slapd {
        Slapd::launch(dir, ldif, true)
    }

    fn launch(dir: &Path, ldif: &str, tls: bool) -> Slapd {
        let slapd = ["/usr/sbin/slapd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .unwrap_or_else(|| crate::require_tool("slapd", "slapd"));
        let slapadd = ["/usr/sbin/slapadd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .unwrap_or_else(|| crate::require_tool("slapadd", "slapd"));
        let schema = Path::new("/etc/ldap/schema");
        assert!(
            schema.join("inetorgperson.schema").is_file(),
            "{} has no inetorgperson.schema: reinstall the Debian package slapd",
            schema.display()
        );
        let db = dir.join("db");
        std::fs::create_dir_all(&db).unwrap();
        let conf = dir.join("slapd.conf");
        let d = dir.display();
        std::fs::write(
            &conf,
            format!(
                "include {s}/core.schema\n\
                 include {s}/cosine.schema\n\
                 include {s}/inetorgperson.schema\n\
                 pidfile {d}/slapd.pid\n\
                 modulepath /usr/lib/ldap\n\
                 moduleload back_mdb\n\
                 database mdb\n\
                 maxsize 104857600\n\
                 suffix \"{BASE_DN}\"\n\
                 rootdn \"{ADMIN_DN}\"\n\
                 rootpw {ADMIN_PASSWORD}\n\
                 directory {d}/db\n\
                 access to * by * read\n",
                s = schema.display()
            ),
        )
        .unwrap();
        if tls {
            let (cert, key) = server_certificate(dir);
            // Global directives must precede the database section.
            let conf_text = std::fs::read_to_string(&conf).unwrap();
            std::fs::write(
                &conf,
                format!(
                    "TLSCertificateFile {}\nTLSCertificateKeyFile {}\n{conf_text}",
                    cert.display(),
                    key.display()
                ),
            )
            .unwrap();
        }
        let ldif_path = dir.join("data.ldif");
        std::fs::write(&ldif_path, ldif).unwrap();
        let added = Command::new(&slapadd)
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&ldif_path)
            .output()
            .unwrap();
        assert!(
            added.status.success(),
            "slapadd: {}",
            String::from_utf8_lossy(&added.stderr)
        );
        let port = free_port();
        let tls_port = tls.then(free_port);
        let mut urls = format!("ldap://127.0.0.1:{port}/");
        if let Some(p) = tls_port {
            urls.push_str(&format!(" ldaps://127.0.0.1:{p}/"));
        }
        let child = Command::new(&slapd)
            .arg("-f")
            .arg(&conf)
            .arg("-h")
            .arg(urls)
            // -d keeps it in the foreground, as our child.
            .arg("-d")
            .arg("0")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("slapd.log")).unwrap(),
            ))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", slapd.display()));
        let mut s = Slapd {
            child: Some(child),
            port,
            tls_port,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let listening = |p: u16| TcpStream::connect(("127.0.0.1", p)).is_ok();
        while !listening(port) || !tls_port.is_none_or(listening) {
            if let Some(Ok(Some(status))) = s.child.as_mut().map(Child::try_wait) {
                panic!("slapd exited with {status}: {}", s.log());
            }
            assert!(
                Instant::now() < deadline,
                "slapd did not listen: {}",
                s.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// The ldaps:// URL, when started with TLS.
    pub fn ldaps_url(&self) -> Option<String> {
        self.tls_port.map(|p| format!("ldaps://127.0.0.1:{p}"))
    }

    /// The PEM file that verifies slapd's certificate, when started with
    /// TLS: the CA that signed it.
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.tls_port.map(|_| self.dir.join("slapd-ca.pem"))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("slapd.log")).unwrap_or_default()
    }

    /// Stops slapd and waits until its port refuses connections.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The `[directory]` and `[ldap]` configuration for this slapd.
    pub fn config(&self) -> String {
        format!(
            "[directory]\nbackend = \"ldap\"\n\n[ldap]\nurl = \"{}\"\nbind_dn = \"{ADMIN_DN}\"\nbind_password = \"{ADMIN_PASSWORD}\"\nbase_dn = \"{BASE_DN}\"\ntimeout_secs = 3\n",
            self.url()
        )
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}
