//! `eas-server serve`: open the store, load or make the TLS identity, bind,
//! say where to connect, and serve until Ctrl-C, SIGTERM, or a store that
//! can no longer write (then exit 1: see `store::failure`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::admin;
use crate::cli::ServeArgs;
use crate::config::Config;
use crate::http::{self, tls};
use crate::state::AppState;
use crate::store::{RedbStore, Store, StoreError};
use crate::trace::Traces;

pub fn run(data: &Path, args: ServeArgs) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if let Some(lmtp) = args.lmtp {
        config.lmtp.listen = lmtp.to_string();
    }
    let lmtp_listen: Option<std::net::SocketAddr> = match config.lmtp.listen.trim() {
        "" => None,
        addr => Some(addr.parse().with_context(|| {
            format!("[lmtp] listen = {addr:?} is not an address and port like 127.0.0.1:2424")
        })?),
    };
    init_logging();
    let open_files = raise_open_files_limit();
    create_private_dir(data)?;
    let store_path = data.join("eas.redb");
    let store = RedbStore::open(&store_path).map_err(|e| match e {
        StoreError::Locked => anyhow::anyhow!(
            "{} is in use: another eas-server runs with --data {}; stop it or choose another data directory",
            store_path.display(),
            data.display()
        ),
        other => anyhow::Error::from(other).context(format!("opening the store {}", store_path.display())),
    })?;
    let store: Arc<dyn Store> = Arc::new(store);
    let demo_users = if args.demo {
        match crate::demo::load(store.as_ref())? {
            Some(users) => Some(users),
            None => {
                eprintln!(
                    "--demo: {} already has users; nothing was loaded",
                    data.display()
                );
                None
            }
        }
    } else {
        None
    };
    let traced = store.traces()?;
    let users = store.list_accounts()?.len();

    let listen = config.server.listen;
    let scheme = if args.http { "http" } else { "https" };
    let public_url = if config.server.public_url.is_empty() {
        format!("{scheme}://{listen}")
    } else {
        config.server.public_url.trim_end_matches('/').to_owned()
    };
    let identity = if args.http {
        None
    } else {
        Some(match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => tls::load(cert, key)?,
            _ => tls::self_signed(data, &listen.ip().to_string())?,
        })
    };

    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(config.server.blocking_threads(cores))
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        // A file-size limit (RLIMIT_FSIZE) kills a process that writes past
        // it unless SIGXFSZ is handled. tokio's handler stays installed
        // once registered, so the write fails with EFBIG instead, and the
        // store latches that like a full disk.
        if let Err(e) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(
            libc::SIGXFSZ,
        )) {
            tracing::warn!(error = %e, "SIGXFSZ not handled: a file-size limit would kill the server");
        }
        let shutdown = shutdown_signal()?;
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen} (is the port in use?)"))?;
        let bound = listener.local_addr()?;
        let traces = Traces::new(data, traced);
        let state = Arc::new(AppState::new(config, store, traces, public_url.replace(&listen.to_string(), &bound.to_string())));
        admin::listen(state.clone(), data).await?;
        crate::mail::queue::spawn(state.clone());
        let lmtp_bound = match lmtp_listen {
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening for LMTP on {addr} (is the port in use?)"))?;
                let bound = listener.local_addr()?;
                let lmtp = crate::mail::lmtp::spawn(state.clone(), listener);
                Some((bound, lmtp))
            }
            None => None,
        };

        let mut banner = format!(
            "eas-server listening on {scheme}://{bound}\n  ActiveSync URL: {}/Microsoft-Server-ActiveSync\n  data directory: {}\n",
            state.public_url,
            data.display()
        );
        let acceptor = match identity {
            Some(identity) => {
                banner.push_str(&format!(
                    "  TLS certificate: {}{}\n  SHA-256 fingerprint: {}\n",
                    identity.cert_path.display(),
                    if identity.self_signed { " (self-signed: phones will ask you to trust it; compare this fingerprint)" } else { "" },
                    identity.fingerprint()
                ));
                Some(TlsAcceptor::from(tls::server_config(identity)?))
            }
            None => {
                banner.push_str("  plain HTTP: put a TLS-terminating proxy in front of it\n");
                None
            }
        };
        if let Some(limit) = open_files {
            banner.push_str(&format!(
                "  open files limit: {limit} (each phone holding a Ping keeps a connection open)\n"
            ));
        }
        if let Some((bound, _)) = &lmtp_bound {
            banner.push_str(&format!(
                "  LMTP: {bound} (an MTA delivers into users' Inboxes here)\n"
            ));
        }
        banner.push_str(&format!(
            "  on a phone: add an Exchange account with your e-mail address and password, server {}\n",
            state.public_url.split("://").nth(1).unwrap_or(&state.public_url)
        ));
        if let Some(demo) = &demo_users {
            banner.push_str("  demo users (passwords made for this data directory; keep them):\n");
            for (name, password) in demo {
                banner.push_str(&format!("    {name}@example.com  {password}\n"));
            }
            banner.push_str("  S/MIME demo keys and certificates: fixtures/demo/smime/\n");
        }
        if users == 0 {
            banner.push_str(&format!(
                "  no users yet: eas-server --data {} user add NAME --email ADDR --password-stdin\n",
                data.display()
            ));
        }
        // The blank line ends the banner, so a reader (a person, or the
        // tests' harness) knows it has the whole of it.
        println!("{banner}");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();

        let grace = std::time::Duration::from_secs(state.config.server.shutdown_grace_secs);
        http::serve(state, listener, acceptor, shutdown).await;
        if let Some((_, lmtp)) = lmtp_bound {
            // Sessions answer 421 at their next command once `stopping`
            // is set; a delivery under way finishes and is answered.
            if tokio::time::timeout(grace, lmtp).await.is_err() {
                tracing::warn!("shutdown grace period over; closing the remaining LMTP sessions");
            }
        }
        let _ = std::fs::remove_file(admin::socket_path(data));
        if let Some(failure) = crate::store::failure::failure() {
            anyhow::bail!(
                "stopped because the store could not write {} ({failure}). \
                 Everything acknowledged is on disk. Free space or fix the disk, then start eas-server again",
                store_path.display()
            );
        }
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}

/// Ctrl-C, SIGTERM, or a store that can no longer write (see
/// `store::failure`): each ends `serve` the same graceful way.
///
/// The handlers are installed here, when it is called, not when the future
/// is first polled: `serve` calls it before it binds anything, so a SIGTERM
/// that follows the banner at once is never met by the default action (the
/// process killed with LMTP sessions open and nothing logged).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("handling SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("handling SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = term.recv() => {},
            failure = crate::store::failure::failed() => {
                tracing::error!("stopping: the store failed ({failure})");
            }
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}

/// Raises the soft limit on open files to the hard limit. Every phone holds
/// a connection (Ping, Sync with Wait) for minutes at a time, so the common
/// soft default of 1024 would turn phones away while memory and CPU are
/// plentiful; the hard limit is the administrator's to set.
fn raise_open_files_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open files limit");
            None
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EAS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: a log redirected to a file or journald
    // stays plain text that grep and log shippers read.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
    }
    Ok(())
}
