//! Support for the end-to-end tests: the real `eas-server` binary, the
//! fixtures, and the peer tools the tests run against.
//!
//! A missing tool fails the test that needs it, naming the Debian package;
//! nothing is skipped silently.
//!
//! Failing loudly is this crate's job, so it may panic where the server may not.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub mod client;
pub mod libwbxml2;
pub mod mail;
pub mod pki;
pub mod postfix;
pub mod server;
pub mod slapd;
pub mod smime;
pub mod smtpd;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// `fixtures/` at the workspace root.
pub fn fixtures() -> PathBuf {
    workspace_root().join("fixtures")
}

/// The path of a program the tests need, or a panic that says which Debian
/// package provides it.
pub fn require_tool(program: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
    match found {
        Some(path) => path,
        None => panic!(
            "this test needs `{program}`, from the Debian package {package}: \
             run scripts/install-test-deps (or apt-get install {package})"
        ),
    }
}

/// The `eas-server` binary, built once per test process with the same
/// profile as the tests, so the tests never run a stale binary.
pub fn eas_server() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // Benchmarks run a release build they name here.
        if let Some(bin) = std::env::var_os("EAS_SERVER_BIN") {
            return PathBuf::from(bin);
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        // Cargo gives a test binary the variables it gives a crate
        // (CARGO_PKG_NAME=eas-tests, CARGO_MANIFEST_DIR, ...). Passed on,
        // they look like a changed environment to build scripts that watch
        // them (ring's does), and everything above ring is rebuilt here and
        // again by the next `cargo test`.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let set_for_the_crate = ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_BIN_"]
                .iter()
                .any(|p| name.starts_with(p))
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                ]
                .contains(&name.as_ref());
            if set_for_the_crate {
                build.env_remove(name.as_ref());
            }
        }
        let status = build
            .args([
                "build",
                "--quiet",
                "-p",
                "eas-server",
                "--bin",
                "eas-server",
            ])
            .current_dir(workspace_root())
            .status()
            .unwrap_or_else(|e| panic!("running cargo to build eas-server: {e}"));
        assert!(status.success(), "building eas-server failed");
        // The test binary is target/<profile>/deps/<name>; the server sits
        // two levels up from it.
        let exe =
            std::env::current_exe().unwrap_or_else(|e| panic!("locating the test binary: {e}"));
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .unwrap_or_else(|| panic!("unexpected test binary location {}", exe.display()));
        let bin = profile_dir.join("eas-server");
        assert!(bin.is_file(), "eas-server not found at {}", bin.display());
        bin
    })
    .clone()
}
