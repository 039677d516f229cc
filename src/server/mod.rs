//! The listener: accepts TCP connections, serves each with hyper's HTTP/1 connection
//! (keep-alive, HTTP/1.0, `Expect: 100-continue`), and shuts down gracefully: stop
//! accepting, let in-flight requests finish, then close the store. With `serve --record`
//! each SOAP call also goes through [`record`].

pub mod http;
pub mod record;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::app::App;
use crate::wire::guard::{Busy, DEFAULT_MAX_HEADERS, TimedIo};
use record::Recorder;

/// First wait after a failed accept; doubles per failure in a row up to the maximum.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Largest read buffer of one connection (or `--max-header-bytes`, if larger).
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Idle connections closed per failed accept when descriptors run out.
const ACCEPT_EVICT: usize = 8;
/// Refusals being written at once; past it a connection over the cap is just closed.
const MAX_REFUSING: usize = 64;

/// Answers a connection over the cap with `503` and `Retry-After`, then closes it, all
/// within a second; when many refusals are already being written, closes it at once.
fn refuse(stream: tokio::net::TcpStream, refusing: &Arc<AtomicUsize>) {
    if refusing.fetch_add(1, Ordering::AcqRel) >= MAX_REFUSING {
        refusing.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    let refusing = refusing.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let mut stream = stream;
        let text = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 32\r\nConnection: close\r\n\r\ntoo many connections; try again\n";
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            stream.write_all(text).await?;
            stream.shutdown().await
        })
        .await;
        refusing.fetch_sub(1, Ordering::AcqRel);
    });
}

/// Serves until `shutdown` completes, then drains connections and closes the store.
///
/// # Errors
///
/// Never for a single bad connection; only if the listener itself fails for good.
pub async fn run(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    run_recording(listener, app, shutdown, None).await
}

/// [`run`], writing every SOAP call as a fixture case when `recorder` is given
/// (`serve --record`, see [`crate::server::record`]).
///
/// # Errors
///
/// As [`run`].
pub async fn run_recording(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
    recorder: Option<Arc<Recorder>>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let refusing = Arc::new(AtomicUsize::new(0));
    let mut backoff = ACCEPT_BACKOFF_MIN;
    let mut failures = 0u64;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of descriptors (EMFILE / ENFILE) and the like: close the
                        // oldest idle connections to give some back, wait (doubling up to
                        // a second, never spinning), keep serving. One log line per streak.
                        let out_of_fds = matches!(e.raw_os_error(), Some(23 | 24));
                        let closed = if out_of_fds {
                            app.connections.close_oldest_idle(ACCEPT_EVICT)
                        } else {
                            0
                        };
                        if failures == 0 {
                            tracing::warn!(error = %e, closed_idle = closed, "accept failed; backing off");
                        }
                        failures += 1;
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                        continue;
                    }
                };
                if failures > 0 {
                    tracing::info!(failures, "accepting again");
                    failures = 0;
                }
                backoff = ACCEPT_BACKOFF_MIN;
                let _ = stream.set_nodelay(true);
                let Some(ticket) = app.connections.admit() else {
                    refuse(stream, &refusing);
                    continue;
                };
                let config = &app.config;
                let app = app.clone();
                let busy = ticket.busy.clone();
                let recorder = recorder.clone();
                let service = service_fn(move |request| {
                    let app = app.clone();
                    let busy = Busy::new(&busy);
                    let recorder = recorder.clone();
                    async move {
                        let response = match recorder {
                            None => http::handle(&app, request).await,
                            Some(recorder) => record::handle(&app, &recorder, request).await,
                        };
                        drop(busy);
                        Ok::<_, Infallible>(response)
                    }
                });
                let mut builder = http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(config.header_read_timeout)
                    .max_header_size(config.max_header_bytes)
                    // hyper's read buffer otherwise grows to ~400 KiB on every connection
                    // streaming a body; bodies are bounded by the body budget instead.
                    .max_buf_size(config.max_header_bytes.max(READ_BUFFER_BYTES))
                    .keep_alive(true);
                if config.max_headers != DEFAULT_MAX_HEADERS {
                    builder.max_headers(config.max_headers);
                }
                let io = TokioIo::new(TimedIo::new(stream, config.write_timeout));
                let connection = graceful.watch(builder.serve_connection(io, service));
                tokio::spawn(async move {
                    tokio::select! {
                        ended = connection => {
                            if let Err(e) = ended {
                                tracing::debug!(%peer, error = %e, "connection ended with an error");
                            }
                        }
                        () = ticket.close.notified() => {
                            tracing::debug!(%peer, "idle connection closed to make room");
                        }
                    }
                    drop(ticket);
                });
            }
            () = &mut shutdown => break,
        }
    }
    app.shutting_down.store(true, Ordering::Relaxed);
    drop(listener);
    tracing::info!("shutting down: draining in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(app.config.drain_timeout) => tracing::warn!("drain timed out; closing anyway"),
    }
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || db.close()).await.ok();
    let stats = app.db.stats();
    tracing::info!(
        commits = stats.commits.load(Ordering::Relaxed),
        writes = stats.writes.load(Ordering::Relaxed),
        reads = stats.reads.load(Ordering::Relaxed),
        checkpoints = stats.checkpoints.load(Ordering::Relaxed),
        "store closed"
    );
    Ok(())
}

/// Logs the store counters (commits, writes, reads since start) each time the process
/// receives SIGUSR1, so an operator or `bench/run.sh` can read writes-per-commit of a
/// window without an HTTP endpoint. Runs until the runtime stops.
pub async fn log_stats_on_sigusr1(db: crate::store::Db) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
            tracing::warn!("cannot install the SIGUSR1 handler; store stats only at shutdown");
            return;
        };
        while usr1.recv().await.is_some() {
            let stats = db.stats();
            tracing::info!(
                commits = stats.commits.load(Ordering::Relaxed),
                writes = stats.writes.load(Ordering::Relaxed),
                reads = stats.reads.load(Ordering::Relaxed),
                checkpoints = stats.checkpoints.load(Ordering::Relaxed),
                "store stats"
            );
        }
    }
    #[cfg(not(unix))]
    {
        let _ = db;
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
