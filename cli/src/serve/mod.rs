//! `tracker serve`: a foreground service hosting many runs in one process,
//! under one runtime supervisor, sharing the provider clients; driven over an
//! HTTP/JSON API on a private Unix socket ([`api`]), by `tracker submit`,
//! `ps`, `logs` and `cancel` ([`client`]).
//!
//! It logs with `tracing` to stderr (`RUST_LOG` filters, `--log-format json`
//! for one JSON object per line). SIGINT or SIGTERM stops it: it stops
//! taking requests, cancels its runs (their checkpoints are kept) and removes
//! its socket; the next service resumes them. So does a service started after
//! one that crashed.

pub mod api;
pub mod client;
pub mod events;
pub mod gates;
pub mod ledger;
pub mod plans;
mod records;
pub mod requests;
pub mod runs;
pub mod service;
pub mod socket;
pub mod spending;
pub mod tcp;

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use actix::Actor;
use anyhow::{anyhow, Context as _, Result};
use tracker_actors::store::Durability;

use crate::args::{LogFormat, ServeArgs};
use crate::exit;
use crate::signals::Interrupts;
use service::{Recover, Runs, Service};

/// How long stopping waits for cancelled runs to end.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// How long clients still connected once the runs have stopped and every
/// event stream has ended may keep the service from exiting.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// Runs the service until a signal stops it.
pub fn run(args: &ServeArgs) -> Result<u8> {
    init_logs(args.log_format);
    let open_files = raise_open_file_limit();
    let socket = socket::socket_path(args.socket.as_deref());
    socket::prepare(&socket)?;
    let state = args.state_dir.clone().unwrap_or_else(socket::state_dir);
    tracker_runtime::private_files::create_dir_all(&state)
        .map_err(|e| anyhow!("state directory {}: {e}", state.display()))?;
    // One service per state directory: two would resume each other's runs.
    let _state_lock = tracker_actors::run_lock::RunLock::acquire(&state).map_err(|e| match e {
        tracker_actors::run_lock::LockError::Busy { owner, .. } => anyhow!(
            "state directory {}: another tracker service{} uses it; stop it first",
            state.display(),
            owner.map_or_else(String::new, |pid| format!(" (process {pid})"))
        ),
        e => anyhow!("state directory {}: {e}", state.display()),
    })?;
    let listen = match args.listen {
        Some(addr) => {
            tcp::check_address(addr, args.allow_remote)?;
            let (token, token_file) = tcp::token(&state)?;
            let listener = std::net::TcpListener::bind(addr)
                .with_context(|| format!("cannot listen on {addr}"))?;
            listener.set_nonblocking(true)?;
            Some((listener, token, token_file))
        }
        None => None,
    };
    let durability = if args.no_fsync {
        Durability::NoSync
    } else {
        Durability::Sync
    };
    let limits = service::Limits {
        max_runs: args.max_runs,
        max_agent_sessions: args.max_agent_sessions,
        provider_concurrency: args.provider_concurrency,
        max_cost: args.max_cost,
    };
    let ledger = ledger::Ledger::open(&state, durability, args.max_cost)
        .map_err(|e| anyhow!("state directory {}: spending: {e}", state.display()))?;
    let system = actix::System::new();
    system.block_on(async move {
        let shared = service::Shared::new(limits.max_cost, Some(ledger));
        let runs = Arc::clone(&shared.runs);
        let service = Service::new(&state, limits, durability, shared.clone()).start();
        let resumed = service
            .send(Recover)
            .await
            .map_err(|e| anyhow!("service: {e}"))?;
        let listener = tokio::net::UnixListener::bind(&socket)
            .with_context(|| format!("cannot listen on {}", socket.display()))?;
        socket::restrict(&socket)?;
        let tcp = listen
            .as_ref()
            .and_then(|(listener, _, _)| listener.local_addr().ok())
            .map(|addr| addr.to_string());
        let token_file = listen
            .as_ref()
            .map(|(_, _, file)| file.display().to_string());
        tracing::info!(
            socket = %socket.display(),
            tcp,
            token_file,
            state = %state.display(),
            max_runs = limits.max_runs,
            max_agent_sessions = limits.max_agent_sessions,
            open_files,
            resumed,
            "tracker service listening"
        );
        let mut interrupts = Interrupts::listen()?;
        let app = api::router(api::Api {
            service,
            shared: shared.clone(),
        });
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let tcp_server = match listen {
            Some((listener, token, _)) => {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let mut stopped = stopped.clone();
                let served = axum::serve(listener, tcp::guarded(app.clone(), token))
                    .with_graceful_shutdown(async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    });
                Some(actix::spawn(async move { served.await }))
            }
            None => None,
        };
        let running = Arc::clone(&runs);
        let stopping_shared = shared.clone();
        let stop = async move {
            let signal = interrupts.next().await;
            tracing::info!(signal = signal.what(), "stopping");
            // This future runs as a plain tokio task (the server's), where
            // actix cannot spawn.
            tokio::spawn(async move {
                let signal = interrupts.next().await;
                tracing::warn!(signal = signal.what(), "stopping at once");
                std::process::exit(128 + signal.number());
            });
            // No new runs from here on.
            stopping_shared
                .stopping
                .store(true, std::sync::atomic::Ordering::SeqCst);
            // Cancelled first, then given a bounded time to end: their event
            // streams then end, so the connections following them close and
            // the servers can stop.
            cancel_runs(&running).await;
            wait_for_runs(&running).await;
            // Whatever still streams is ended: followers of a run that did
            // not stop in time, and of every run's events.
            for run in going(&running) {
                run.events.close();
            }
            stopping_shared.all_events.close();
            let _ = stopping.send(true);
        };
        // Once stopped, clients still connected (one that stopped reading an
        // event stream blocks its connection's last write for as long as it
        // likes) get a few seconds, then the process leaves without them.
        let mut stop_seen = stopped.clone();
        let serving = std::future::IntoFuture::into_future(
            axum::serve(listener, app).with_graceful_shutdown(stop),
        );
        let served = tokio::select! {
            served = serving => served,
            () = async {
                let _ = stop_seen.wait_for(|stop| *stop).await;
                tokio::time::sleep(DRAIN_GRACE).await;
            } => {
                tracing::warn!(
                    grace = ?DRAIN_GRACE,
                    "clients still connected after the stop; their connections are closed"
                );
                Ok(())
            }
        };
        let _ = std::fs::remove_file(&socket);
        served.map_err(|e| anyhow!("serving {}: {e}", socket.display()))?;
        if let Some(tcp_server) = tcp_server {
            match tokio::time::timeout(DRAIN_GRACE, tcp_server).await {
                Ok(Ok(Err(e))) => tracing::warn!(error = %e, "the TCP listener failed"),
                Err(_) => tracing::warn!("TCP clients still connected after the stop; closed"),
                Ok(_) => {}
            }
        }
        Ok(exit::OK)
    })
}

/// The runs still going.
fn going(runs: &Runs) -> Vec<Arc<service::RunEntry>> {
    runs.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .filter(|run| !matches!(run.state(), service::RunState::Finished(_)))
        .cloned()
        .collect()
}

/// Cancels every run still going; their records stay, so the next service
/// resumes them.
async fn cancel_runs(runs: &Runs) {
    for run in going(runs) {
        run.stop().await;
    }
}

/// Waits (a bounded time) for the cancelled runs to end.
async fn wait_for_runs(runs: &Runs) {
    let going = going(runs);
    let ended = async {
        for run in &going {
            let mut offset = 0;
            loop {
                let slice = run.events.read_from(offset).await;
                if slice.closed {
                    break;
                }
                offset += slice.lines.len();
            }
        }
    };
    if tokio::time::timeout(STOP_GRACE, ended).await.is_err() {
        tracing::warn!("some runs did not stop in time");
    }
}

/// Raises the soft limit on open files to the hard one: every running run
/// holds a few files, a waiting one one (its directory's lock), and the
/// usual soft limit of 1,024 would cap the service far below what the
/// machine allows. Returns the limit in force.
fn raise_open_file_limit() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(e) => {
                tracing::warn!(error = %e, soft, "cannot raise the open-file limit");
                soft
            }
        },
        Ok((soft, _)) => soft,
        Err(_) => 0,
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
