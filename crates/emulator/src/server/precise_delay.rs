//! [`precise_delay`]: an injected latency that ends when it should. A tokio sleep ends on the
//! next millisecond tick of tokio's timer wheel after its deadline, so a 50 ms latency rule
//! answered after 50.5 to 52 ms; over a chain of dependent requests that drift read as the
//! client's time. One timer thread, woken by the operating system's timed wait (tens of
//! microseconds late, not up to a millisecond), ends every pending delay at its deadline; it
//! sleeps while none is pending, and costs nothing unless a latency rule fires.

use std::collections::BinaryHeap;
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// One pending delay: its deadline and whom to wake.
struct Pending {
    deadline: Instant,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    /// The earliest deadline is the greatest, so the max-heap yields it first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.deadline.cmp(&self.deadline)
    }
}

/// The timer thread's inbox, started on first use; `None` if the thread could not be started.
fn timer() -> Option<&'static Sender<Pending>> {
    static TIMER: OnceLock<Option<Sender<Pending>>> = OnceLock::new();
    TIMER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel();
            std::thread::Builder::new()
                .name("latency-timer".into())
                .spawn(move || run(&rx))
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// Ends each pending delay at its deadline; waits for new ones meanwhile.
fn run(inbox: &Receiver<Pending>) {
    let mut pending = BinaryHeap::new();
    loop {
        let now = Instant::now();
        while pending.peek().is_some_and(|p: &Pending| p.deadline <= now) {
            if let Some(due) = pending.pop() {
                // A delay whose request was abandoned has no one to wake.
                let _ = due.wake.send(());
            }
        }
        let next = match pending.peek() {
            None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(p) => inbox.recv_timeout(p.deadline.saturating_duration_since(now)),
        };
        match next {
            Ok(p) => pending.push(p),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Waits `delay`, ending within tens of microseconds of it (a tokio sleep if the timer thread
/// could not be started).
pub async fn precise_delay(delay: Duration) {
    let deadline = Instant::now() + delay;
    let (wake, woken) = oneshot::channel();
    let sent = timer().is_some_and(|t| t.send(Pending { deadline, wake }).is_ok());
    if !sent || woken.await.is_err() {
        tokio::time::sleep_until(deadline.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delays_end_in_deadline_order_and_not_before_their_deadline() {
        let started = Instant::now();
        let mut order = Vec::new();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for ms in [30u64, 10, 20] {
            let tx = tx.clone();
            tokio::spawn(async move {
                precise_delay(Duration::from_millis(ms)).await;
                let _ = tx.send((ms, started.elapsed()));
            });
        }
        drop(tx);
        while let Some((ms, elapsed)) = rx.recv().await {
            assert!(elapsed >= Duration::from_millis(ms), "{ms} ms ended early");
            order.push(ms);
        }
        assert_eq!(order, [10, 20, 30]);
    }

    #[tokio::test]
    async fn an_abandoned_delay_does_not_stop_the_timer() {
        let abandoned = tokio::spawn(precise_delay(Duration::from_millis(5)));
        abandoned.abort();
        precise_delay(Duration::from_millis(10)).await;
    }
}
