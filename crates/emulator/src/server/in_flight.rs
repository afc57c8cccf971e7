//! The requests the server is handling right now — service, method, host and path, never
//! headers, query strings or bodies — published for those who wait on one to arrive or end.

use tokio::sync::watch;

/// A request the emulator is handling: from its arrival (so also while an injected latency
/// holds it) until its answer is logged, or until it is dropped unanswered because its client
/// hung up. Admin requests are not tracked, as they are not logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InFlightRequest {
    /// The id the emulator gave the request (the `x-ms-request-id` it answers, unless the
    /// service sends an id of its own).
    pub request_id: String,
    /// `arm`, `graph`, `keyvault`, `token` or `msi`.
    pub service: String,
    /// HTTP method.
    pub method: String,
    /// Host as addressed.
    pub host: String,
    /// Path without the query string.
    pub path: String,
}

/// The requests in flight, oldest first.
#[derive(Debug)]
pub struct InFlight {
    requests: watch::Sender<Vec<InFlightRequest>>,
}

impl Default for InFlight {
    fn default() -> Self {
        Self {
            requests: watch::Sender::new(Vec::new()),
        }
    }
}

impl InFlight {
    /// Records `request` as in flight until the returned guard is dropped: when its handling
    /// ends, or when the server drops it unanswered.
    pub fn enter(&self, request: InFlightRequest) -> InFlightGuard<'_> {
        let request_id = request.request_id.clone();
        self.requests.send_modify(|requests| requests.push(request));
        InFlightGuard {
            set: self,
            request_id,
        }
    }

    /// The requests in flight now and after every arrival and end; the receiver is woken by
    /// each.
    pub fn watch(&self) -> watch::Receiver<Vec<InFlightRequest>> {
        self.requests.subscribe()
    }

    fn leave(&self, request_id: &str) {
        self.requests.send_if_modified(|requests| {
            let before = requests.len();
            requests.retain(|r| r.request_id != request_id);
            requests.len() != before
        });
    }
}

/// Keeps a request in the [`InFlight`] set while it lives.
#[derive(Debug)]
pub struct InFlightGuard<'a> {
    set: &'a InFlight,
    request_id: String,
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.set.leave(&self.request_id);
    }
}

#[cfg(test)]
mod tests {
    use super::{InFlight, InFlightRequest};

    fn request(id: &str) -> InFlightRequest {
        InFlightRequest {
            request_id: id.to_owned(),
            service: "arm".to_owned(),
            method: "PUT".to_owned(),
            host: "localhost:8443".to_owned(),
            path: format!("/x/{id}"),
        }
    }

    fn ids(set: &InFlight) -> Vec<String> {
        set.watch()
            .borrow()
            .iter()
            .map(|r| r.request_id.clone())
            .collect()
    }

    #[test]
    fn a_request_is_in_flight_while_its_guard_lives_and_watchers_see_each_change() {
        let set = InFlight::default();
        let mut watcher = set.watch();
        let first = set.enter(request("a"));
        assert!(watcher.has_changed().expect("the set lives"));
        assert_eq!(*watcher.borrow_and_update(), vec![request("a")]);
        let second = set.enter(request("b"));
        assert_eq!(ids(&set), ["a", "b"], "oldest first");
        drop(first);
        assert!(watcher.has_changed().expect("the set lives"));
        assert_eq!(*watcher.borrow_and_update(), vec![request("b")]);
        drop(second);
        assert!(watcher.borrow_and_update().is_empty());
    }

    #[tokio::test]
    async fn a_dropped_future_holding_a_guard_leaves_the_set() {
        let set = InFlight::default();
        let mut watcher = set.watch();
        let held = async {
            let _guard = set.enter(request("held"));
            std::future::pending::<()>().await;
        };
        let mut held = Box::pin(held);
        // Polled once: the request arrives and waits (as an injected latency holds it).
        assert!(futures::poll!(held.as_mut()).is_pending());
        assert_eq!(ids(&set), ["held"]);
        watcher.borrow_and_update();
        drop(held);
        assert!(watcher.has_changed().expect("the set lives"));
        assert!(watcher.borrow().is_empty());
    }
}
