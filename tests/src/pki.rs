//! The test PKI of fixtures/pki (made by fixtures/pki/make.sh), a loopback
//! HTTP proxy that serves its CRLs, and the people of the directory tests
//! as LDIF, for slapd and the embedded directory alike.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;

pub fn dir() -> PathBuf {
    crate::fixtures().join("pki")
}

/// A file of the test PKI.
pub fn file(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (fixtures/pki/make.sh makes the test PKI)",
            path.display()
        )
    })
}

/// A certificate's DER.
pub fn der(name: &str) -> Vec<u8> {
    file(&format!("{name}.der"))
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An HTTP proxy on loopback that answers `GET http://crl.eas.test/NAME`
/// with fixtures/pki/NAME (or NAME in the directory given to
/// [`CrlServer::serving`]), and anything for crl-down.eas.test by closing
/// the connection: the server's `[crl] http_proxy`. Stops when dropped.
#[derive(Debug)]
pub struct CrlServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
}

impl CrlServer {
    pub fn start() -> CrlServer {
        CrlServer::serving(dir())
    }

    /// Serves the `.crl` files of `crls` instead of the test PKI's.
    pub fn serving(crls: PathBuf) -> CrlServer {
        let crls = Arc::new(crls);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let (stop2, served2) = (stop.clone(), served.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let served = served2.clone();
                        let crls = crls.clone();
                        std::thread::spawn(move || serve(stream, &crls, &served));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        CrlServer { addr, stop, served }
    }

    /// `http://127.0.0.1:PORT`, for `[crl] http_proxy`.
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many CRLs it has served.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::Relaxed)
    }
}

impl Drop for CrlServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, crls: &std::path::Path, served: &AtomicUsize) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => return,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let target = line.split_whitespace().nth(1).unwrap_or("");
    let mut stream = stream;
    if let Some(name) = target.strip_prefix("http://crl.eas.test/") {
        let path = crls.join(name);
        if !name.contains('/') && name.ends_with(".crl") && path.is_file() {
            let body = std::fs::read(path).unwrap_or_default();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
            served.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    // crl-down.eas.test, or anything else: the server is unreachable.
    drop(stream);
}

/// One person of the directory tests.
#[derive(Debug, Clone)]
pub struct Person {
    pub uid: &'static str,
    pub name: &'static str,
    pub given: &'static str,
    pub surname: &'static str,
    pub mail: &'static str,
    /// userSMIMECertificate values: files of fixtures/pki.
    pub smime: Vec<&'static str>,
    /// userCertificate;binary values: files of fixtures/pki.
    pub user: Vec<&'static str>,
}

/// The people of the directory tests, and what each one's certificates
/// make of them.
pub fn people() -> Vec<Person> {
    let p = |uid, name, given, surname, mail, smime: Vec<&'static str>, user: Vec<&'static str>| {
        Person {
            uid,
            name,
            given,
            surname,
            mail,
            smime,
            user,
        }
    };
    vec![
        // A certs-only bundle in userSMIMECertificate, and two DER values
        // in userCertificate, one of them the same certificate again.
        p(
            "alice",
            "Alice Archer",
            "Alice",
            "Archer",
            "alice@example.com",
            vec!["alice.p7c"],
            vec!["alice-pss.der", "alice.der"],
        ),
        p(
            "alan",
            "Alan Ames",
            "Alan",
            "Ames",
            "alan@example.com",
            vec![],
            vec![],
        ),
        p(
            "bob",
            "Bob Baker",
            "Bob",
            "Baker",
            "bob@example.com",
            vec!["bob.p7c"],
            vec![],
        ),
        p(
            "carol",
            "Carol Cooper",
            "Carol",
            "Cooper",
            "carol@example.com",
            vec![],
            vec!["carol-expired.der"],
        ),
        p(
            "erin",
            "Erin Evans",
            "Erin",
            "Evans",
            "erin@example.com",
            vec![],
            vec!["erin-revoked.der"],
        ),
        p(
            "frank",
            "Frank Fisher",
            "Frank",
            "Fisher",
            "frank@example.com",
            vec![],
            vec!["frank-wrongeku.der"],
        ),
        // Grace's certificate is for mallory@evil.example.
        p(
            "grace",
            "Grace Green",
            "Grace",
            "Green",
            "grace@example.com",
            vec![],
            vec!["grace-wrongaddr.der"],
        ),
        p(
            "kevin",
            "Kevin King",
            "Kevin",
            "King",
            "kevin@example.com",
            vec![],
            vec!["kevin-crldown.der"],
        ),
        // Nina's key may sign, not be encrypted to.
        p(
            "nina",
            "Nina Nash",
            "Nina",
            "Nash",
            "nina@example.com",
            vec![],
            vec!["nina-signonly.der"],
        ),
    ]
}

/// The directory as LDIF under `base` (`dc=example,dc=com`): the base
/// entry, ou=people with [`people`], ou=groups with `team` (alice, bob,
/// carol) whose address is team@example.com.
pub fn ldif(base: &str) -> String {
    let mut out = String::new();
    let dc = base
        .split(',')
        .next()
        .and_then(|rdn| rdn.strip_prefix("dc="))
        .unwrap_or("example");
    out.push_str(&format!(
        "dn: {base}\nobjectClass: dcObject\nobjectClass: organization\ndc: {dc}\no: eas tests\n\n\
         dn: ou=people,{base}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{base}\nobjectClass: organizationalUnit\nou: groups\n\n"
    ));
    for p in people() {
        out.push_str(&format!(
            "dn: uid={},ou=people,{base}\nobjectClass: inetOrgPerson\nuid: {}\ncn: {}\ndisplayName: {}\ngivenName: {}\nsn: {}\nmail: {}\ntitle: Tester\n",
            p.uid, p.uid, p.name, p.name, p.given, p.surname, p.mail
        ));
        for f in &p.smime {
            out.push_str(&format!("userSMIMECertificate:: {}\n", b64(&file(f))));
        }
        for f in &p.user {
            out.push_str(&format!("userCertificate;binary:: {}\n", b64(&file(f))));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "dn: cn=team,ou=groups,{base}\nobjectClass: groupOfNames\nobjectClass: extensibleObject\ncn: team\ndisplayName: Team\nmail: team@example.com\n\
         member: uid=alice,ou=people,{base}\nmember: uid=bob,ou=people,{base}\nmember: uid=carol,ou=people,{base}\n\n"
    ));
    out
}
