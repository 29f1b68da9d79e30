//! Progress on stderr, fed by the client's [`Event`]s: task waits, retries
//! and the pages of a listing.
//!
//! Three modes, chosen once per run ([`Mode::detect`]):
//!
//! - **Bar** (stderr is a terminal): one line redrawn in place with
//!   `indicatif`: the task, its status, the time waited, the time to the
//!   next poll and the retries so far; for a listing, the pages read. Retry
//!   notes print above it; when the wait ends the line is replaced by the
//!   plain line of the final status, so the screen keeps a record.
//! - **Lines** (anything else: a file, a pipe, CI): the plain lines the
//!   command always printed, one per status change and one per retry, and
//!   no control character at all.
//! - **Quiet** (`--quiet`): nothing.
//!
//! Every other stderr line of the command (errors, the `-v` request lines)
//! goes through [`terminal::suspend`], which takes the bar off the screen
//! while the line is written and puts it back under it, so the two never
//! garble.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use coxedge_images::{Event, Task, TaskStatus};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::format;
use crate::terminal;

/// How often the bar is redrawn while nothing happens (the clock and the
/// countdown move).
const TICK: Duration = Duration::from_millis(100);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing (`--quiet`).
    Quiet,
    /// Plain lines, no control characters.
    Lines,
    /// A line redrawn in place.
    Bar,
}

impl Mode {
    /// `Quiet` with `--quiet`, `Bar` when stderr is a terminal, `Lines`
    /// otherwise.
    pub fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if terminal::stderr_is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the bar shows, shared with its renderer (which runs on indicatif's
/// ticker thread). Never locked while a bar method is called, since the
/// renderer runs under the bar's own lock.
#[derive(Debug, Default)]
struct View {
    /// When the next task poll goes out, if one is due.
    next_poll_at: Option<Instant>,
    /// Retries so far in the wait, and the last one's reason.
    retries: u32,
    last_retry: Option<String>,
}

/// The longest retry reason shown on the bar (the whole reason is on the
/// line printed above it).
const MAX_REASON: usize = 40;

/// Shows the progress of one run; cloned into the client's event observer.
#[derive(Clone)]
pub struct Progress {
    mode: Mode,
    state: Arc<Mutex<State>>,
    view: Arc<Mutex<View>>,
}

#[derive(Default)]
struct State {
    /// The bar on screen.
    bar: Option<ProgressBar>,
    /// The task being waited for, if any.
    task: Option<Followed>,
    /// Pages read in the current listing, and images gathered.
    pages: Option<(u32, usize, Option<u64>)>,
}

/// The task being waited for.
struct Followed {
    /// The status last shown as a line (Lines mode) or on the bar.
    shown: TaskStatus,
    /// The task as last seen.
    last: Task,
    /// When the wait started.
    started: Instant,
}

impl Progress {
    /// Progress shown as `mode` says.
    pub fn new(mode: Mode) -> Progress {
        Progress {
            mode,
            state: Arc::default(),
            view: Arc::default(),
        }
    }

    /// Starts following the wait for `task`: its line (or the bar) shows
    /// now.
    pub fn follow(&self, task: &Task) {
        *lock(&self.view) = View::default();
        let mut state = lock(&self.state);
        state.task = Some(Followed {
            shown: task.status.clone(),
            last: task.clone(),
            started: Instant::now(),
        });
        match self.mode {
            Mode::Quiet => {}
            Mode::Lines => terminal::eprint_line(&format::progress_line(task, Duration::ZERO)),
            Mode::Bar => {
                let bar = self.bar(&mut state, true);
                bar.set_message(task_message(task));
            }
        }
    }

    /// The task as last seen, if a wait was followed.
    pub fn last(&self) -> Option<Task> {
        lock(&self.state).task.as_ref().map(|t| t.last.clone())
    }

    /// Ends what is shown: the bar leaves the screen and, after a task
    /// wait, the final status stays as a plain line.
    pub fn finish(&self) {
        let (bar, task) = {
            let mut state = lock(&self.state);
            state.pages = None;
            let task = state
                .task
                .as_ref()
                .map(|t| (t.last.clone(), t.started.elapsed()));
            (state.bar.take(), task)
        };
        let Some(bar) = bar else { return };
        terminal::hide_bar();
        bar.finish_and_clear();
        if let Some((task, elapsed)) = task {
            terminal::eprint_line(&format::progress_line(&task, elapsed));
        }
    }

    /// Takes one event of the client.
    pub fn event(&self, event: &Event) {
        match event {
            Event::Retrying {
                reason,
                attempt,
                wait,
                ..
            } => self.retrying(reason, *attempt, *wait),
            Event::TaskPolled {
                task,
                elapsed,
                next_poll,
                ..
            } => self.task_polled(task, *elapsed, *next_poll),
            Event::Page {
                page,
                gathered,
                record_count,
                ..
            } => self.page(*page, *gathered, *record_count),
            _ => {}
        }
    }

    /// A request failed and is retried after `wait`.
    fn retrying(&self, reason: &str, attempt: u32, wait: Duration) {
        // The reason may carry server text: cleaned as every stderr line.
        let line = format!(
            "coxedge-images: attempt {attempt} failed ({}); retrying in {:.1} s",
            format::clean(reason),
            wait.as_secs_f64()
        );
        match self.mode {
            Mode::Quiet => {}
            Mode::Lines => terminal::eprint_line(&line),
            Mode::Bar => {
                let state = lock(&self.state);
                if state.task.is_some() {
                    let mut view = lock(&self.view);
                    view.retries += 1;
                    view.last_retry =
                        Some(format::clean(reason).chars().take(MAX_REASON).collect());
                    view.next_poll_at = Some(Instant::now() + wait);
                }
                match &state.bar {
                    Some(bar) => bar.println(&line),
                    None => terminal::eprint_line(&line),
                }
            }
        }
    }

    /// A poll of the followed task was answered; the next one is due in
    /// `next_poll` (`None`: the wait is over).
    fn task_polled(&self, task: &Task, elapsed: Duration, next_poll: Option<Duration>) {
        let mut state = lock(&self.state);
        let Some(followed) = state.task.as_mut() else {
            return;
        };
        let changed = followed.shown != task.status;
        followed.shown = task.status.clone();
        followed.last = task.clone();
        match self.mode {
            Mode::Quiet => {}
            Mode::Lines => {
                if changed {
                    terminal::eprint_line(&format::progress_line(task, elapsed));
                }
            }
            Mode::Bar => {
                lock(&self.view).next_poll_at = next_poll.map(|wait| Instant::now() + wait);
                if let Some(bar) = &state.bar {
                    bar.set_message(task_message(task));
                }
            }
        }
    }

    /// Page `page` of a listing was read: `gathered` distinct images so
    /// far, of the server's `record_count`. Shown on a terminal only (the
    /// plain output of a listing has no progress lines).
    fn page(&self, page: u32, gathered: usize, record_count: Option<u64>) {
        if self.mode != Mode::Bar {
            return;
        }
        let mut state = lock(&self.state);
        state.pages = Some((page, gathered, record_count));
        let mut message = format!(
            "listing images: {page} page{} read, {gathered}",
            if page == 1 { "" } else { "s" }
        );
        if let Some(total) = record_count {
            let _ = write!(message, " of {total}");
        }
        message.push_str(" images");
        let bar = self.bar(&mut state, false);
        bar.set_message(message);
    }

    /// The bar on screen, made (and registered for [`terminal::suspend`])
    /// if there is none; `countdown` adds the time to the next poll.
    fn bar(&self, state: &mut State, countdown: bool) -> ProgressBar {
        if let Some(bar) = &state.bar {
            return bar.clone();
        }
        let view = Arc::clone(&self.view);
        let retries = Arc::clone(&self.view);
        let template = if countdown {
            "{spinner} {msg} · {waited} · {next}{retries}"
        } else {
            "{spinner} {msg} · {waited}"
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .with_key(
                "waited",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", seconds(state.elapsed()));
                },
            )
            .with_key(
                "next",
                move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let at = lock(&view).next_poll_at;
                    let _ = match at {
                        Some(at) => match at.checked_duration_since(Instant::now()) {
                            Some(left) if left >= Duration::from_millis(50) => {
                                write!(w, "next poll in {}", seconds(left))
                            }
                            _ => write!(w, "polling"),
                        },
                        None => write!(w, "polling"),
                    };
                },
            )
            .with_key(
                "retries",
                move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let view = lock(&retries);
                    if view.retries > 0 {
                        let _ = write!(
                            w,
                            " · {} retr{} (last: {})",
                            view.retries,
                            if view.retries == 1 { "y" } else { "ies" },
                            view.last_retry.as_deref().unwrap_or("?")
                        );
                    }
                },
            );
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(style);
        bar.enable_steady_tick(TICK);
        terminal::show_bar(&bar);
        state.bar = Some(bar.clone());
        bar
    }
}

/// The bar's message for a task: its id and status.
fn task_message(task: &Task) -> String {
    format!(
        "task {} is {}",
        format::clean(task.id.as_str()),
        format::clean(task.status.as_str())
    )
}

/// `12.3 s`, or `2 min 05 s` from a minute on.
fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        let whole = duration.as_secs();
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

impl Drop for State {
    /// A bar never outlives its run (an error path that skipped
    /// [`Progress::finish`] still leaves a clean line).
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            terminal::hide_bar();
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coxedge_images::TaskId;

    fn task(status: TaskStatus) -> Task {
        Task::new("t-1".parse::<TaskId>().unwrap(), status)
    }

    #[test]
    fn durations_read_as_seconds_then_minutes() {
        assert_eq!(seconds(Duration::from_millis(1234)), "1.2 s");
        assert_eq!(seconds(Duration::from_secs(125)), "2 min 05 s");
    }

    #[test]
    fn the_message_names_the_task_and_its_status_cleaned() {
        let mut task = task(TaskStatus::Pending);
        assert_eq!(task_message(&task), "task t-1 is PENDING");
        task.status = TaskStatus::from("BAD\x1b[2J");
        assert_eq!(task_message(&task), "task t-1 is BAD?[2J");
    }

    #[test]
    fn quiet_and_lines_modes_never_make_a_bar() {
        for mode in [Mode::Quiet, Mode::Lines] {
            let progress = Progress::new(mode);
            progress.follow(&task(TaskStatus::Pending));
            progress.page(1, 10, Some(20));
            progress.retrying("HTTP 503", 1, Duration::from_millis(10));
            progress.task_polled(&task(TaskStatus::Success), Duration::from_secs(1), None);
            assert!(lock(&progress.state).bar.is_none());
            assert_eq!(progress.last().unwrap().status, TaskStatus::Success);
            progress.finish();
        }
    }
}
