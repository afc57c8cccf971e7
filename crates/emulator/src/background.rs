//! [`BackgroundTasks`]: work a service goes on with after it has answered (a template
//! deployment runs after its PUT was accepted). The emulator aborts them when it stops or is
//! reset, so no task outlives the state it works on.

use std::future::Future;
use std::sync::Mutex;

use tokio::task::JoinHandle;

/// The tasks still running, so shutdown and reset can stop them.
#[derive(Debug, Default)]
pub struct BackgroundTasks {
    running: Mutex<Vec<JoinHandle<()>>>,
}

impl BackgroundTasks {
    /// Runs `work` on the runtime, independent of the request that started it.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.retain(|t| !t.is_finished());
        running.push(tokio::spawn(work));
    }

    /// Aborts every task (each stops at its next await point).
    pub fn abort_all(&self) {
        for t in self.take() {
            t.abort();
        }
    }

    /// Aborts every task and waits until each has stopped (and dropped what it held).
    pub async fn stop_all(&self) {
        for t in self.take() {
            t.abort();
            let _ = t.await;
        }
    }

    fn take(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut *self.running.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
