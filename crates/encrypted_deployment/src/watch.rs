//! `watch`: a reconciler that keeps the container groups on the newest usable key version. It
//! looks on an interval, or at once when woken (by Key Vault's `KeyNewVersionCreated` events,
//! where a caller receives them), and runs `follow_latest` when there is something to move or
//! retire. It stops when its stream is dropped.

use crate::{
    Error, Orchestrator, Result,
    follow::{FollowOptions, FollowReport},
    progress::StepId,
    spec::DeploymentSpec,
};
use futures::{Stream, StreamExt, stream::BoxStream};
use std::time::Duration;

/// Options of [`Orchestrator::watch`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WatchOptions {
    /// How long to wait between looks when nothing wakes the watch (default five minutes).
    pub interval: Duration,
    /// How to follow.
    pub follow: FollowOptions,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(300),
            follow: FollowOptions::default(),
        }
    }
}

impl WatchOptions {
    /// Looks every `interval`.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Follows as `follow` says.
    pub fn with_follow(mut self, follow: FollowOptions) -> Self {
        self.follow = follow;
        self
    }
}

/// What a watch waits on between looks.
struct Watching<'a> {
    orchestrator: &'a Orchestrator,
    spec: &'a DeploymentSpec,
    options: WatchOptions,
    wake: BoxStream<'a, ()>,
    first: bool,
}

impl Watching<'_> {
    /// Waits for the interval to pass or a wake-up, whichever comes first (not before the first
    /// look).
    async fn wait(&mut self) {
        if std::mem::take(&mut self.first) {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(self.options.interval) => {}
            Some(()) = self.wake.next() => {}
        }
    }
}

/// One look: `Some` when following moved, retired or failed something.
async fn look(
    orchestrator: &Orchestrator,
    spec: &DeploymentSpec,
    follow: &FollowOptions,
) -> Option<Result<FollowReport>> {
    if !crate::desired::may_recreate(spec) {
        return Some(Err(Error::blocked(
            StepId::ContainerGroup,
            "the watch re-creates groups on new key versions: set the key's lifecycle follow = \"latest\"",
        )));
    }
    orchestrator
        .follow_latest_if_needed(spec, follow)
        .await
        .transpose()
}

impl Orchestrator {
    /// Keeps the spec's container groups (and `options.follow.groups`) on the newest usable key
    /// version: looks every `options.interval` and yields the report of each
    /// [`follow_latest`](Self::follow_latest) that had something to do (or the error of a look
    /// that failed; the watch goes on). Dropping the stream stops it, abandoning any request
    /// in flight.
    pub fn watch<'a>(
        &'a self,
        spec: &'a DeploymentSpec,
        options: WatchOptions,
    ) -> impl Stream<Item = Result<FollowReport>> + Send + 'a {
        self.watch_with(spec, options, futures::stream::pending())
    }

    /// [`watch`](Self::watch), also looking at once each time `wake` yields — feed it Key
    /// Vault's `KeyNewVersionCreated` events (an Event Grid subscription, or the emulator's
    /// event feed) so that groups move as soon as a version is created, not at the next
    /// interval.
    pub fn watch_with<'a>(
        &'a self,
        spec: &'a DeploymentSpec,
        options: WatchOptions,
        wake: impl Stream<Item = ()> + Send + 'a,
    ) -> impl Stream<Item = Result<FollowReport>> + Send + 'a {
        let watching = Watching {
            orchestrator: self,
            spec,
            options,
            wake: wake.boxed(),
            first: true,
        };
        futures::stream::unfold(watching, |mut watching| async move {
            loop {
                watching.wait().await;
                let (orchestrator, spec) = (watching.orchestrator, watching.spec);
                if let Some(report) = look(orchestrator, spec, &watching.options.follow).await {
                    return Some((report, watching));
                }
            }
        })
    }
}
