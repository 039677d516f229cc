//! The listener: accepts TCP connections, serves each with hyper's HTTP/1 connection
//! (keep-alive, HTTP/1.0, `Expect: 100-continue`), and shuts down gracefully: stop
//! accepting, let in-flight requests finish, then close the store. With `serve --record`
//! each SOAP call also goes through [`record`].

pub mod http;
pub mod record;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::app::App;
use record::Recorder;

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
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little, keep serving.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let header_read_timeout = app.config.header_read_timeout;
                let app = app.clone();
                let recorder = recorder.clone();
                let service = service_fn(move |request| {
                    let app = app.clone();
                    let recorder = recorder.clone();
                    async move {
                        Ok::<_, Infallible>(match recorder {
                            None => http::handle(&app, request).await,
                            Some(recorder) => record::handle(&app, &recorder, request).await,
                        })
                    }
                });
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_read_timeout)
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
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
