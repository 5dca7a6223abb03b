//! What each host is doing right now, and for how long: a live display on stderr when it is a
//! terminal (a ticking line for the run, one per busy host), and a "still running" line on stdout
//! every [`QUIET_LIMIT`] when it is not, so that a log shows a hanging task as hanging.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Busy hosts shown one per line; the others are counted on the run's line.
const SHOWN_HOSTS: usize = 8;

/// How long output without a terminal may stay silent while hosts work.
pub const QUIET_LIMIT: Duration = Duration::from_secs(15);

/// One busy host: its task and since when.
struct Busy {
    task: String,
    since: Instant,
    line: Option<ProgressBar>,
}

/// The hosts at work and the display that shows them.
pub struct Activity {
    multi: MultiProgress,
    run_line: ProgressBar,
    busy: IndexMap<String, Busy>,
    terminal: bool,
    /// What the run is at: `batch 2/5`.
    stage: String,
    /// When output was last written (for the "still running" lines without a terminal).
    last_output: Instant,
}

impl Activity {
    /// The display, empty until [`Activity::begin`].
    pub fn new() -> Activity {
        Activity {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(5)),
            run_line: ProgressBar::hidden(),
            busy: IndexMap::new(),
            terminal: std::io::stderr().is_terminal(),
            stage: "starting".into(),
            last_output: Instant::now(),
        }
    }

    /// Starts the run's line: it ticks from now on.
    pub fn begin(&mut self) {
        self.run_line = self.multi.add(ProgressBar::new_spinner());
        self.run_line.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        self.run_line.enable_steady_tick(Duration::from_millis(200));
        self.last_output = Instant::now();
        self.summarize();
    }

    /// Asks the operator a question on the terminal, the live lines set aside meanwhile.
    pub fn prompt(&self) -> std::sync::Arc<dyn drover_rollout::Prompt> {
        std::sync::Arc::new(TerminalPrompt(self.multi.clone()))
    }

    /// Prints `text` on stdout above the live lines.
    pub fn print(&mut self, text: &str) {
        self.multi.suspend(|| println!("{text}"));
        self.last_output = Instant::now();
    }

    /// Prints `text` on stderr above the live lines.
    pub fn eprint(&mut self, text: &str) {
        self.multi.suspend(|| eprintln!("{text}"));
    }

    /// `host` began `task`.
    pub fn started(&mut self, host: &str, task: &str) {
        let shown = self.busy.values().filter(|b| b.line.is_some()).count();
        let busy = self.busy.entry(host.to_string()).or_insert_with(|| Busy {
            task: String::new(),
            since: Instant::now(),
            line: None,
        });
        busy.task = task.to_string();
        busy.since = Instant::now();
        if busy.line.is_none() && shown < SHOWN_HOSTS && self.terminal {
            let line = self.multi.add(ProgressBar::new_spinner());
            line.set_style(
                ProgressStyle::with_template("  {prefix:<14} {elapsed:>4}  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            line.set_prefix(host.to_string());
            line.enable_steady_tick(Duration::from_millis(500));
            busy.line = Some(line);
        }
        if let Some(line) = &busy.line {
            line.reset_elapsed();
            line.set_message(format!("[{task}]"));
        }
        self.summarize();
    }

    /// `host` is done with its play (or stopped).
    pub fn finished(&mut self, host: &str) {
        if let Some(busy) = self.busy.shift_remove(host)
            && let Some(line) = busy.line
        {
            line.finish_and_clear();
            self.multi.remove(&line);
        }
        self.summarize();
    }

    /// The run's line says what is going on: `batch 2/5: 3 hosts busy (1 not shown)`.
    pub fn set_stage(&mut self, stage: String) {
        self.stage = stage;
        self.summarize();
    }

    fn summarize(&self) {
        let hidden = self.busy.values().filter(|b| b.line.is_none()).count();
        let mut text = format!("{} · {} host(s) busy", self.stage, self.busy.len());
        if hidden > 0 {
            text.push_str(&format!(", {hidden} not shown"));
        }
        self.run_line.set_message(text);
    }

    /// Which task each busy host is in and for how long, longest first: `node01 [install] 2m05s`.
    pub fn waiting_for(&self, at_most: usize) -> String {
        let mut busy: Vec<(&String, &Busy)> = self.busy.iter().collect();
        busy.sort_by_key(|(_, b)| b.since);
        let mut parts: Vec<String> = busy
            .iter()
            .take(at_most)
            .map(|(host, b)| format!("{host} [{}] {}", b.task, duration(b.since.elapsed())))
            .collect();
        if busy.len() > at_most {
            parts.push(format!("and {} more", busy.len() - at_most));
        }
        parts.join(", ")
    }

    /// Called every second: without a terminal, a quiet log says which hosts are still at work.
    pub fn tick(&mut self) -> Option<String> {
        if self.terminal || self.busy.is_empty() || self.last_output.elapsed() < QUIET_LIMIT {
            return None;
        }
        self.last_output = Instant::now();
        Some(format!("  ... still running: {}", self.waiting_for(5)))
    }

    /// Removes the live lines.
    pub fn finish(&mut self) {
        for (_, busy) in self.busy.drain(..) {
            if let Some(line) = busy.line {
                line.finish_and_clear();
            }
        }
        self.run_line.finish_and_clear();
        let _ = self.multi.clear();
    }
}

/// The operator at the terminal: the question on stderr, the answer from stdin.
struct TerminalPrompt(MultiProgress);

impl drover_rollout::Prompt for TerminalPrompt {
    fn ask(&self, question: &str) -> std::io::Result<String> {
        self.0.suspend(|| {
            eprint!("[pause] {question}: ");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            Ok(line.trim_end_matches(['\n', '\r']).to_string())
        })
    }
}

/// `4s`, `2m05s`, `1h02m`.
fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(Duration::from_millis(4_900)), "4s");
        assert_eq!(duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(duration(Duration::from_secs(3_720)), "1h02m");
    }

    #[test]
    fn waiting_for_names_the_longest_busy_hosts_first() {
        let mut a = Activity::new();
        a.begin();
        a.started("node02", "slow");
        a.started("node01", "slower");
        a.busy.get_mut("node02").unwrap().since -= Duration::from_secs(70);
        a.started("node03", "x");
        assert_eq!(a.waiting_for(1), "node02 [slow] 1m10s, and 2 more");
        a.finished("node02");
        assert!(
            a.waiting_for(5)
                .starts_with("node01 [slower] 0s, node03 [x] 0s")
        );
        a.finish();
    }
}
