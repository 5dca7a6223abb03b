//! What an operator sees during a push, on stdout as ansible-playbook prints it: a header per play,
//! batch and task, a line per task and host, diffs, a failed command's output, why a rollout halted
//! and which hosts it did not touch, and a PLAY RECAP. With `--json` every event is a line of JSON on
//! stdout instead. Either way the live display of busy hosts is on stderr, on a terminal only.

use std::path::Path;

use console::style;
use drover_rollout::{
    HostEnd, HostStats, PushEvent, PushSummary, RunStatus, TaskOutput, TaskStatus,
};

use super::activity::Activity;

/// Lines of a failed command's stream shown on the terminal; `--json` and the journal keep more.
const SHOWN_LINES: usize = 20;

/// A failed command under its task line: how it ran, its exit code, and the end of what it printed.
fn output_lines(output: &TaskOutput) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(cmd) = &output.cmd {
        let line = match cmd {
            serde_json::Value::Array(words) => words
                .iter()
                .map(|w| {
                    w.as_str()
                        .map_or_else(|| w.to_string(), drover_ssh::shell::quote)
                })
                .collect::<Vec<_>>()
                .join(" "),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push(format!("      cmd: {line}"));
    }
    if let Some(rc) = output.rc {
        out.push(format!("      rc: {rc}"));
    }
    for (name, text) in [("stderr", &output.stderr), ("stdout", &output.stdout)] {
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() {
            continue;
        }
        let shown = &lines[lines.len().saturating_sub(SHOWN_LINES)..];
        if shown.len() < lines.len() {
            out.push(format!(
                "      {name} (last {} of {} lines):",
                shown.len(),
                lines.len()
            ));
        } else {
            out.push(format!("      {name}:"));
        }
        out.extend(shown.iter().map(|l| format!("        {}", style(l).dim())));
    }
    out
}

/// Renders push events.
pub struct PushView {
    json: bool,
    activity: Activity,
    /// The task whose `TASK [...]` header was printed last: its name, and where it is written when
    /// a task start said so.
    header: Option<(String, Option<String>)>,
    /// Hosts whose failure a task line has already shown, so the host's end does not repeat it.
    failure_shown: std::collections::HashSet<String>,
}

impl PushView {
    /// A text view, or a JSON-lines view; the live display starts with the run.
    pub fn new(json: bool) -> PushView {
        PushView {
            json,
            activity: Activity::new(),
            header: None,
            failure_shown: Default::default(),
        }
    }

    /// A line of human output (none with `--json`).
    fn say(&mut self, text: impl AsRef<str>) {
        if !self.json {
            self.activity.print(text.as_ref());
        }
    }

    /// `TASK [name]`, when a task of another name than the last one announced shows up.
    fn announce(&mut self, task: &str) {
        if self.header.as_ref().is_none_or(|(name, _)| name != task) {
            self.header = Some((task.to_string(), None));
            self.say(format!("\n{} [{task}]", style("TASK").bold()));
        }
    }

    /// `TASK [name]` for a task that starts, unless it is the very task announced last: two tasks
    /// of one name in a row get a header each, as in Ansible.
    fn announce_start(&mut self, task: &str, at: &str) {
        let this = (task.to_string(), Some(at.to_string()));
        let same = self
            .header
            .as_ref()
            .is_some_and(|(name, place)| name == task && place.as_deref().is_none_or(|p| p == at));
        if !same {
            self.say(format!("\n{} [{task}]", style("TASK").bold()));
        }
        self.header = Some(this);
    }

    /// Shows one event.
    pub fn show(&mut self, event: &PushEvent) {
        self.follow(event);
        if self.json {
            let line = serde_json::to_string(event).unwrap_or_default();
            self.activity.print(&line);
            return;
        }
        match event {
            PushEvent::RunStarted { run_id, check, .. } => {
                let mode = if *check {
                    " (check mode: nothing will be changed)"
                } else {
                    ""
                };
                self.say(format!("{} {run_id}{mode}", style("RUN").bold()));
            }
            PushEvent::PlayStarted {
                play,
                hosts,
                already_done,
                ..
            } => {
                self.header = None;
                self.say(format!(
                    "\n{} [{play}] {} host(s)",
                    style("PLAY").bold(),
                    hosts.len()
                ));
                if !already_done.is_empty() {
                    self.say(format!(
                        "  already done in this run: {}",
                        already_done.join(", ")
                    ));
                }
            }
            PushEvent::BatchStarted { batch, of, hosts } => {
                self.header = None;
                self.say(format!(
                    "{} {batch}/{of}: {}",
                    style("BATCH").bold().cyan(),
                    hosts.join(", ")
                ));
            }
            PushEvent::TaskStarted { task, at, .. } => self.announce_start(task, at),
            // -vvv: the command line, as Ansible's `<host> EXEC ...` lines.
            PushEvent::Exec {
                host,
                task,
                as_user,
                command,
            } => {
                self.announce(task);
                let via = as_user
                    .as_ref()
                    .map_or_else(String::new, |u| format!(" (sudo -u {u})"));
                self.say(format!("  <{host}> EXEC{via} {command}"));
            }
            PushEvent::Task {
                host,
                task,
                status,
                msg,
                item,
                diff,
                output,
                result,
                at,
            } => {
                self.announce(task);
                let label = match status {
                    TaskStatus::Ok => style("ok").green(),
                    TaskStatus::Changed => style("changed").yellow(),
                    TaskStatus::Failed => style("FAILED").red().bold(),
                    TaskStatus::Unreachable => style("UNREACHABLE").red().bold(),
                    TaskStatus::Ignored => style("ignored").magenta(),
                    TaskStatus::Skipped => style("skipped").cyan(),
                };
                let item = item
                    .as_ref()
                    .map_or_else(String::new, |i| format!(" (item={i})"));
                let msg = if msg.is_empty() {
                    String::new()
                } else {
                    format!(": {msg}")
                };
                if matches!(status, TaskStatus::Failed | TaskStatus::Unreachable) {
                    self.failure_shown.insert(host.clone());
                }
                let at = at.as_ref().map_or_else(String::new, |a| format!(" ({a})"));
                self.say(format!("  {host:<12} {label:<8} [{task}]{item}{msg}{at}"));
                // -v: the registered result, as Ansible's `=> {...}`.
                if let Some(result) = result {
                    let text = serde_json::to_string_pretty(result).unwrap_or_default();
                    for line in text.lines() {
                        self.say(format!("      {line}"));
                    }
                }
                for line in output.iter().flat_map(output_lines) {
                    self.say(line);
                }
                for line in diff.iter().flat_map(|d| d.lines()) {
                    let line = match line.chars().next() {
                        Some('+') if !line.starts_with("+++") => style(line).green(),
                        Some('-') if !line.starts_with("---") => style(line).red(),
                        _ => style(line).dim(),
                    };
                    self.say(format!("      {line}"));
                }
            }
            PushEvent::HostDone {
                host,
                end,
                error: Some(error),
                ..
            } => {
                // A failure a task line showed is not repeated; one before any task (the lock, the
                // impact gate, bad connection variables, the connection) says why here.
                let label = match end {
                    HostEnd::Interrupted => style("interrupted").yellow().bold(),
                    _ if self.failure_shown.contains(host) => return,
                    HostEnd::Unreachable => style("UNREACHABLE").red().bold(),
                    _ => style("FAILED").red().bold(),
                };
                self.say(format!("  {host:<12} {label} {error}"));
            }
            // The task lines say these; `--json`, the journal and `drover report` keep the detail.
            PushEvent::HostDone { .. }
            | PushEvent::BatchDone { .. }
            | PushEvent::Predicted { .. }
            | PushEvent::Restarted { .. }
            | PushEvent::Rollcall { .. } => {}
            PushEvent::Notice { message } => {
                self.say(format!("{} {message}", style("NOTE:").yellow().bold()));
            }
            PushEvent::Halted { reason, untouched } => {
                self.say(format!("\n{} {reason}", style("HALTED:").red().bold()));
                if !untouched.is_empty() {
                    self.say(format!("  not touched: {}", untouched.join(", ")));
                }
            }
            PushEvent::RunDone { recap, .. } => {
                self.say(format!("\n{}", style("PLAY RECAP").bold()));
                for (host, s) in recap {
                    self.say(format!("{host:<20} : {}", recap_line(s)));
                }
            }
        }
    }

    /// Asks the operator on the terminal (a `pause` checkpoint), the live display set aside.
    pub fn prompt(&self) -> std::sync::Arc<dyn drover_rollout::Prompt> {
        self.activity.prompt()
    }

    /// Keeps the live display in step with the run.
    fn follow(&mut self, event: &PushEvent) {
        match event {
            PushEvent::RunStarted { .. } => self.activity.begin(),
            PushEvent::PlayStarted { play, .. } => {
                self.activity.set_stage(format!("play `{play}`"))
            }
            PushEvent::BatchStarted { batch, of, hosts } => {
                self.activity.set_stage(format!("batch {batch}/{of}"));
                for host in hosts {
                    self.activity.started(host, "connecting");
                }
            }
            PushEvent::TaskStarted { host, task, .. } => self.activity.started(host, task),
            PushEvent::HostDone { host, .. } => self.activity.finished(host),
            PushEvent::RunDone { .. } => self.activity.finish(),
            _ => {}
        }
    }

    /// Called every second: a quiet log says which hosts are still at work.
    pub fn tick(&mut self) {
        if let Some(line) = self.activity.tick() {
            self.say(line);
        }
    }

    /// The first Ctrl-C: says at once that it was heard and what drover now waits for.
    pub fn interrupted(&mut self) {
        let waiting = self.activity.waiting_for(10);
        let waiting = if waiting.is_empty() {
            String::new()
        } else {
            format!(" Waiting for the tasks running now: {waiting}.")
        };
        self.activity.eprint(&format!(
            "{} Ctrl-C received: no new task starts; each host stops after its current task and is released.{waiting} Press Ctrl-C again to stop at once (host locks then stay until they expire, or --break-lock).",
            style("INTERRUPTED:").yellow().bold()
        ));
    }

    /// Says where the journal is and how to resume.
    pub fn footer(&mut self, run_dir: &Path, summary: &PushSummary) {
        self.activity.finish();
        self.say(format!("\njournal: {}", run_dir.display()));
        if summary.status != RunStatus::Completed {
            let id = run_dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            self.say(format!("resume with: drover push --resume {id}"));
        }
    }
}

fn recap_line(s: &HostStats) -> String {
    let n = |name: &str, v: usize, bad: bool| {
        let text = format!("{name}={v}");
        if bad && v > 0 {
            style(text).red().to_string()
        } else {
            text
        }
    };
    [
        n("ok", s.ok, false),
        n("changed", s.changed, false),
        n("unreachable", s.unreachable, true),
        n("failed", s.failed, true),
        n("skipped", s.skipped, false),
        n("rescued", s.rescued, false),
        n("ignored", s.ignored, false),
    ]
    .join("  ")
}
