//! [`ProgressView`]: the orchestrator's progress events, drawn as they come. On a terminal, a
//! live view on stderr with one line per step (a spinner while it runs, its elapsed time and
//! retries, then its outcome), drawn with indicatif; off a terminal (CI logs), one plain line
//! per event on stderr; with `--stream`, one JSON line per event on stdout; with `--output
//! json` alone, nothing. Every mode remembers which steps finished, for an interruption's
//! report.

use crate::{error::Interruption, output::Output};
use aci_cmk_encrypted_deployment::progress::{ProgressEvent, ProgressSink, StepAction, StepId};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::{
    collections::BTreeMap,
    io::IsTerminal,
    sync::{Arc, Mutex},
    time::Duration,
};

/// How events are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// indicatif on a terminal.
    Live,
    /// One line per event on stderr.
    Plain,
    /// JSON lines on stdout.
    Stream,
    /// Nothing (one JSON document at the end).
    Quiet,
}

/// What the view knows of the run.
#[derive(Debug, Default)]
struct State {
    /// Finished steps, in the order they finished.
    finished: Vec<(StepId, StepAction)>,
    /// Started steps not finished yet, with how often each retried.
    running: BTreeMap<StepId, u32>,
    /// The live view's line of each step.
    bars: BTreeMap<StepId, ProgressBar>,
}

/// Draws progress events and remembers which steps finished.
#[derive(Debug)]
pub struct ProgressView {
    mode: Mode,
    command: &'static str,
    output: Output,
    multi: MultiProgress,
    state: Mutex<State>,
}

impl ProgressView {
    /// A view of `command`'s events, in the mode `output` and stderr call for.
    pub fn new(output: Output, command: &'static str) -> Arc<Self> {
        let mode = if output.is_stream() {
            Mode::Stream
        } else if output.is_json() {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Live
        } else {
            Mode::Plain
        };
        let multi = MultiProgress::with_draw_target(if mode == Mode::Live {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        Arc::new(Self {
            mode,
            command,
            output,
            multi,
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A spinner with `message` on the live view while something without steps runs
    /// (connecting, reading); it goes away when the returned bar is dropped or finished.
    pub fn busy(&self, message: &str) -> Option<Busy> {
        (self.mode == Mode::Live).then(|| {
            let bar = self.multi.add(ProgressBar::new_spinner());
            bar.set_style(style("{spinner:.cyan} {msg} {elapsed:.dim}"));
            bar.set_message(message.to_owned());
            bar.enable_steady_tick(Duration::from_millis(100));
            Busy(bar)
        })
    }

    /// What finished and what was in flight, and marks the live lines of the steps in flight
    /// as interrupted.
    pub fn interruption(&self) -> Interruption {
        let state = self.state();
        for (step, bar) in &state.bars {
            if state.running.contains_key(step) {
                bar.set_style(style("{prefix:<26.yellow} {msg:.yellow}"));
                bar.set_prefix(format!("! {}", step.title()));
                bar.abandon_with_message("interrupted".to_owned());
            }
        }
        Interruption {
            command: self.command,
            finished: state.finished.clone(),
            in_flight: state.running.keys().copied().collect(),
        }
    }

    /// The live line of `step`, made when its first event comes.
    fn bar(&self, state: &mut State, step: StepId) -> ProgressBar {
        state
            .bars
            .entry(step)
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(style("{spinner:.cyan} {prefix:<24} {msg} {elapsed:.dim}"));
                bar.set_prefix(step.title());
                bar.enable_steady_tick(Duration::from_millis(100));
                bar
            })
            .clone()
    }

    fn live(&self, state: &mut State, event: &ProgressEvent) {
        // A finished line: a mark before the title, its own colours, no spinner.
        let finish = |bar: &ProgressBar, step: StepId, mark: &str, template: &str| {
            bar.set_style(style(template));
            bar.set_prefix(format!("{mark} {}", step.title()));
        };
        match event {
            ProgressEvent::Started { step } => self.bar(state, *step).set_message("running"),
            ProgressEvent::Retried {
                step,
                attempt,
                reason,
            } => self.bar(state, *step).set_message(format!(
                "waiting for propagation (attempt {attempt}: {})",
                first_line(reason)
            )),
            ProgressEvent::Done {
                step,
                action,
                duration,
            } => {
                let retries = retries_note(state.running.get(step).copied().unwrap_or(0));
                let bar = self.bar(state, *step);
                finish(&bar, *step, "✓", "{prefix:<26.green} {msg}");
                bar.finish_with_message(format!("{action} ({}){retries}", seconds(*duration)));
            }
            ProgressEvent::Skipped { step, reason } => {
                let bar = self.bar(state, *step);
                finish(&bar, *step, "-", "{prefix:<26.dim} {msg:.dim}");
                bar.finish_with_message(format!("skipped: {reason}"));
            }
            ProgressEvent::Failed { step, error } => {
                let bar = self.bar(state, *step);
                finish(&bar, *step, "✗", "{prefix:<26.red} {msg:.red}");
                bar.abandon_with_message(format!("FAILED: {}", first_line(error)));
            }
            _ => {}
        }
    }

    fn plain(&self, state: &State, event: &ProgressEvent) {
        let line = match event {
            ProgressEvent::Started { step } => format!("{}: started", step.title()),
            ProgressEvent::Retried {
                step,
                attempt,
                reason,
            } => format!(
                "{}: waiting for propagation, attempt {attempt}: {}",
                step.title(),
                first_line(reason)
            ),
            ProgressEvent::Done {
                step,
                action,
                duration,
            } => {
                let retries = state.running.get(step).copied().unwrap_or(0);
                format!(
                    "{}: {action} ({}){}",
                    step.title(),
                    seconds(*duration),
                    retries_note(retries)
                )
            }
            ProgressEvent::Skipped { step, reason } => {
                format!("{}: skipped: {reason}", step.title())
            }
            ProgressEvent::Failed { step, error } => {
                format!("{}: FAILED: {}", step.title(), first_line(error))
            }
            _ => return,
        };
        eprintln!("{line}");
    }
}

impl ProgressSink for ProgressView {
    fn event(&self, event: &ProgressEvent) {
        let mut state = self.state();
        match self.mode {
            Mode::Live => self.live(&mut state, event),
            Mode::Plain => self.plain(&state, event),
            Mode::Stream => self.output.event(self.command, event),
            Mode::Quiet => {}
        }
        match event {
            ProgressEvent::Started { step } => {
                state.running.insert(*step, 0);
            }
            ProgressEvent::Retried { step, .. } => {
                *state.running.entry(*step).or_default() += 1;
            }
            ProgressEvent::Done { step, action, .. } => {
                state.running.remove(step);
                state.finished.push((*step, *action));
            }
            ProgressEvent::Skipped { step, .. } | ProgressEvent::Failed { step, .. } => {
                state.running.remove(step);
            }
            _ => {}
        }
    }
}

/// A spinner of [`ProgressView::busy`]; dropping it clears it.
#[derive(Debug)]
pub struct Busy(ProgressBar);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn seconds(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

fn retries_note(retries: u32) -> String {
    match retries {
        0 => String::new(),
        1 => ", 1 retry".to_owned(),
        n => format!(", {n} retries"),
    }
}
