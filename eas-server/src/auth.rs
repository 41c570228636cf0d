//! Who is asking: HTTP Basic credentials checked against argon2id hashes,
//! with a short-lived cache of successful logins (argon2 is deliberately
//! slow, and a phone sends its password with every request) and throttling
//! of failures.
//!
//! Passwords live in [`Password`], whose `Debug` prints nothing, so no log
//! line or trace can carry one.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use crate::store::Account;

/// A password in memory. Never printed, compared only through argon2.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Password {
        Password(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// An argon2id PHC string for a password, with a fresh random salt.
pub fn hash_password(password: &Password) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// Whether `password` matches the stored PHC string. argon2 compares in
/// constant time.
pub fn verify_password(password: &Password, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// The credentials of an `Authorization: Basic` header.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// What the user typed: a name, `DOMAIN\name` with the domain removed,
    /// or an e-mail address.
    pub login: String,
    pub password: Password,
}

/// Parses `Basic base64(login:password)`. Phones send the user name alone,
/// `DOMAIN\user` (the Exchange habit) or the e-mail address.
pub fn parse_basic(header: &str) -> Option<Credentials> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = BASE64.decode(value.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    let login = match login.rsplit_once('\\') {
        Some((_domain, user)) => user,
        None => login,
    };
    if login.is_empty() {
        return None;
    }
    Some(Credentials {
        login: login.to_owned(),
        password: Password::new(password),
    })
}

/// Remembers recent successful logins by a keyed digest of login and
/// password, never the password, for `ttl`.
#[derive(Debug)]
pub struct LoginCache {
    key: [u8; 32],
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

impl LoginCache {
    pub fn new(ttl: Duration) -> LoginCache {
        LoginCache {
            key: rand::random(),
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn digest(&self, creds: &Credentials) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(creds.login.to_lowercase().as_bytes());
        h.update([0]);
        h.update(creds.password.expose().as_bytes());
        h.finalize().into()
    }

    /// The account name these credentials logged in as recently, if any.
    pub fn get(&self, creds: &Credentials) -> Option<String> {
        let digest = self.digest(creds);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&digest) {
            Some((name, at)) if at.elapsed() < self.ttl => Some(name.clone()),
            Some(_) => {
                entries.remove(&digest);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, creds: &Credentials, account: &str) {
        let digest = self.digest(creds);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: stale entries go first when it grows.
        if entries.len() > 100_000 {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        entries.insert(digest, (account.to_owned(), Instant::now()));
    }

    /// Forgets every cached login of an account (its password changed or it
    /// was removed).
    pub fn forget(&self, account: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (name, _)| name != account);
    }
}

/// Throttles failed logins per (login, client address) and per client
/// address. A lockout is temporary and grows with repeated failures, so an
/// attacker can slow a real user down from the attacker's own address but
/// never lock the user out from theirs.
#[derive(Debug)]
pub struct Throttle {
    /// Failures allowed before a lockout starts.
    free_failures: u32,
    base: Duration,
    max: Duration,
    state: Mutex<HashMap<ThrottleKey, Failures>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ThrottleKey {
    Login(String, IpAddr),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Throttle {
    pub fn new(free_failures: u32, base: Duration, max: Duration) -> Throttle {
        Throttle {
            free_failures,
            base,
            max,
            state: Mutex::new(HashMap::new()),
        }
    }

    fn keys(login: &str, addr: IpAddr) -> [ThrottleKey; 2] {
        [
            ThrottleKey::Login(login.to_lowercase(), addr),
            ThrottleKey::Address(addr),
        ]
    }

    /// How long this login from this address must still wait, if locked.
    pub fn locked_for(&self, login: &str, addr: IpAddr) -> Option<Duration> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        Self::keys(login, addr)
            .iter()
            .enumerate()
            .filter_map(|(i, key)| {
                let f = state.get(key)?;
                // The per-address limit is ten times looser: one address may
                // carry many users (a NAT, a proxy).
                let free = if i == 0 {
                    self.free_failures
                } else {
                    self.free_failures * 10
                };
                let over = f.count.checked_sub(free.saturating_add(1))?;
                let wait = self.base.saturating_mul(1u32 << over.min(16)).min(self.max);
                wait.checked_sub(f.last.elapsed())
            })
            .max()
    }

    pub fn failed(&self, login: &str, addr: IpAddr) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.len() > 100_000 {
            let max = self.max;
            state.retain(|_, f| f.last.elapsed() < max);
        }
        for key in Self::keys(login, addr) {
            let f = state.entry(key).or_insert(Failures {
                count: 0,
                last: Instant::now(),
            });
            // Failures age out: a long quiet spell forgives them.
            if f.last.elapsed() > self.max {
                f.count = 0;
            }
            f.count = f.count.saturating_add(1);
            f.last = Instant::now();
        }
    }

    pub fn succeeded(&self, login: &str, addr: IpAddr) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.remove(&ThrottleKey::Login(login.to_lowercase(), addr));
    }
}

/// The outcome of checking credentials.
#[derive(Debug)]
pub enum AuthOutcome {
    Ok(Account),
    /// Wrong login or password; both look the same to the client.
    Denied,
    /// Too many failures: wait this long.
    Throttled(Duration),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let p = Password::new("correct horse");
        let h = hash_password(&p).unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&p, &h));
        assert!(!verify_password(&Password::new("wrong"), &h));
        assert!(!verify_password(&p, "not a hash"));
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
    }

    #[test]
    fn basic_header_forms() {
        let h = format!("Basic {}", BASE64.encode("CORP\\alice:pa:ss"));
        let c = parse_basic(&h).unwrap();
        assert_eq!(c.login, "alice");
        assert_eq!(c.password.expose(), "pa:ss");
        let c = parse_basic(&format!("basic {}", BASE64.encode("alice@example.com:x"))).unwrap();
        assert_eq!(c.login, "alice@example.com");
        assert!(parse_basic("Bearer abc").is_none());
        assert!(parse_basic("Basic !!!").is_none());
        assert!(parse_basic(&format!("Basic {}", BASE64.encode("nocolon"))).is_none());
        assert!(parse_basic(&format!("Basic {}", BASE64.encode(":pw"))).is_none());
    }

    #[test]
    fn cache_keys_on_login_and_password() {
        let cache = LoginCache::new(Duration::from_secs(60));
        let c = Credentials {
            login: "Alice".into(),
            password: Password::new("a"),
        };
        cache.put(&c, "alice");
        assert_eq!(cache.get(&c).as_deref(), Some("alice"));
        let other = Credentials {
            login: "alice".into(),
            password: Password::new("b"),
        };
        assert_eq!(cache.get(&other), None);
        cache.forget("alice");
        assert_eq!(cache.get(&c), None);
    }

    #[test]
    fn throttle_locks_per_login_and_address_and_forgives_success() {
        let t = Throttle::new(3, Duration::from_secs(10), Duration::from_secs(300));
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        for _ in 0..3 {
            t.failed("alice", a);
        }
        assert!(
            t.locked_for("alice", a).is_none(),
            "three failures are free"
        );
        t.failed("alice", a);
        let wait = t.locked_for("alice", a).unwrap();
        assert!(
            wait > Duration::from_secs(5) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        t.failed("alice", a);
        assert!(
            t.locked_for("alice", a).unwrap() > Duration::from_secs(15),
            "the wait doubles"
        );
        // The same user from another address is not locked out.
        assert!(t.locked_for("alice", b).is_none());
        t.succeeded("alice", a);
        assert!(t.locked_for("alice", a).is_none());
    }
}
