//! A Postfix instance of a test's own: its config_directory,
//! queue_directory and data_directory in a temporary directory, listening
//! on free loopback ports, stopped when dropped. Its master starts as root
//! and its daemons run as the `postfix` user, as the Debian package sets
//! them up, so a test that uses it must run as root (scripts/test and CI
//! do).

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every service an instance needs, none chrooted; the listeners come
/// from the test.
const SERVICES: &str = "pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
lmtp      unix  - - n -  - lmtp
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
";

/// A running Postfix; dropping it stops Postfix.
#[derive(Debug)]
pub struct Postfix {
    postfix: PathBuf,
    config: PathBuf,
    maillog: PathBuf,
}

/// The `postfix` user's uid and gid, as /etc/passwd has them.
pub fn postfix_ids() -> (String, String) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let entry = passwd
        .lines()
        .find(|l| l.starts_with("postfix:"))
        .unwrap_or_else(|| {
            panic!("there is no postfix user: reinstall the Debian package postfix")
        });
    let fields: Vec<&str> = entry.split(':').collect();
    match (fields.get(2), fields.get(3)) {
        (Some(uid), Some(gid)) => ((*uid).to_owned(), (*gid).to_owned()),
        _ => panic!("a malformed postfix entry in /etc/passwd: {entry}"),
    }
}

/// Makes `dir` (created if missing) the `postfix` user's.
pub fn give_to_postfix(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let chown = Command::new(crate::require_tool("chown", "coreutils"))
        .arg("postfix")
        .arg(dir)
        .status()
        .unwrap_or_else(|e| panic!("running chown: {e}"));
    assert!(chown.success(), "chown postfix {}", dir.display());
}

impl Postfix {
    /// Starts Postfix in `dir`: `main` is added to the common main.cf
    /// (names, domains, transports), `listeners` are the master.cf lines of
    /// its smtpd listeners.
    pub fn start(dir: &Path, main: &str, listeners: &str) -> Postfix {
        let postfix = ["/usr/sbin/postfix", "/usr/bin/postfix"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .unwrap_or_else(|| crate::require_tool("postfix", "postfix"));
        let uid = std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(u32::MAX);
        assert_eq!(
            uid, 0,
            "this test runs a Postfix instance, whose master must start as root \
             (it drops to the postfix user): run the tests as root"
        );
        postfix_ids();
        let config = dir.join("conf");
        for d in [&config, &dir.join("queue")] {
            std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("creating {}: {e}", d.display()));
        }
        // Postfix keeps its lock and caches in data_directory, as its user.
        give_to_postfix(&dir.join("data"));
        let d = dir.display();
        let main_cf = format!(
            "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_header_rewrite_clients =
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
biff = no
{main}"
        );
        std::fs::write(config.join("main.cf"), main_cf).unwrap_or_else(|e| panic!("main.cf: {e}"));
        std::fs::write(config.join("master.cf"), format!("{listeners}{SERVICES}"))
            .unwrap_or_else(|e| panic!("master.cf: {e}"));
        let out = Command::new(&postfix)
            .arg("-c")
            .arg(&config)
            .arg("start")
            .output()
            .unwrap_or_else(|e| panic!("running postfix start: {e}"));
        let instance = Postfix {
            postfix,
            config,
            maillog: dir.join("maillog"),
        };
        assert!(
            out.status.success(),
            "postfix start failed: {}{}\nmaillog:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            instance.log()
        );
        instance
    }

    /// What Postfix logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.maillog).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new(&self.postfix)
            .arg("-c")
            .arg(&self.config)
            .arg("stop")
            .output();
        if std::thread::panicking() {
            eprintln!("--- postfix maillog ---\n{}--- end ---", self.log());
        }
    }
}
