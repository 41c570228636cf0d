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
    dir: PathBuf,
}

impl Slapd {
    /// Starts slapd in `dir` with `ldif` loaded.
    pub fn start(dir: &Path, ldif: &str) -> Slapd {
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
        let child = Command::new(&slapd)
            .arg("-f")
            .arg(&conf)
            .arg("-h")
            .arg(format!("ldap://127.0.0.1:{port}/"))
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
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
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
