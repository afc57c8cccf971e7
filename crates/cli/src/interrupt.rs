//! Ctrl-C and SIGTERM: the command's future is dropped, which abandons the calls in flight
//! and sends no more (the orchestrator runs no request in a task of its own; ADR 004).

use std::future::Future;

/// The command was interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupted;

/// Runs `work` until it ends or Ctrl-C / SIGTERM comes; then `work` is dropped.
pub async fn or_interrupted<F: Future>(work: F) -> Result<F::Output, Interrupted> {
    tokio::select! {
        output = work => Ok(output),
        () = signal() => Err(Interrupted),
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM; never, if no handler can be installed.
pub async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = async {
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    term.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = ctrl_c => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
