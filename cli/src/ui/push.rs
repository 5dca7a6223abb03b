//! What an operator sees during a push: a header per play and batch, a line per task and host, diffs,
//! why a rollout halted and which hosts it did not touch, and a PLAY RECAP. With `--json` every event
//! is a line of JSON on stdout instead.

use std::path::Path;

use console::style;
use drover_rollout::{HostStats, PushEvent, PushSummary, TaskOutput, TaskStatus};

/// Lines of a failed command's stream shown on the terminal; `--json` and the journal keep more.
const SHOWN_LINES: usize = 20;

/// A failed command under its task line: how it ran, its exit code, and the end of what it printed.
fn show_output(output: &TaskOutput) {
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
        eprintln!("      cmd: {line}");
    }
    if let Some(rc) = output.rc {
        eprintln!("      rc: {rc}");
    }
    for (name, text) in [("stderr", &output.stderr), ("stdout", &output.stdout)] {
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() {
            continue;
        }
        let shown = &lines[lines.len().saturating_sub(SHOWN_LINES)..];
        if shown.len() < lines.len() {
            eprintln!(
                "      {name} (last {} of {} lines):",
                shown.len(),
                lines.len()
            );
        } else {
            eprintln!("      {name}:");
        }
        for line in shown {
            eprintln!("        {}", style(line).dim());
        }
    }
}

/// Renders push events.
pub struct PushView {
    json: bool,
    /// Hosts whose failure a task line has already shown, so the host's end does not repeat it.
    failure_shown: std::collections::HashSet<String>,
}

impl PushView {
    /// A text view, or a JSON-lines view.
    pub fn new(json: bool) -> PushView {
        PushView {
            json,
            failure_shown: Default::default(),
        }
    }

    /// Shows one event.
    pub fn show(&mut self, event: &PushEvent) {
        if self.json {
            println!("{}", serde_json::to_string(event).unwrap_or_default());
            return;
        }
        match event {
            PushEvent::RunStarted { run_id, check } => {
                let mode = if *check {
                    " (check mode: nothing will be changed)"
                } else {
                    ""
                };
                eprintln!("{} {run_id}{mode}", style("RUN").bold());
            }
            PushEvent::PlayStarted {
                play,
                hosts,
                already_done,
            } => {
                eprintln!(
                    "\n{} [{play}] {} host(s)",
                    style("PLAY").bold(),
                    hosts.len()
                );
                if !already_done.is_empty() {
                    eprintln!("  already done in this run: {}", already_done.join(", "));
                }
            }
            PushEvent::BatchStarted { batch, of, hosts } => {
                eprintln!(
                    "{} {batch}/{of}: {}",
                    style("BATCH").bold().cyan(),
                    hosts.join(", ")
                );
            }
            PushEvent::Task {
                host,
                task,
                status,
                msg,
                item,
                diff,
                output,
            } => {
                let label = match status {
                    TaskStatus::Ok => style("ok").green(),
                    TaskStatus::Changed => style("changed").yellow(),
                    TaskStatus::Failed => style("FAILED").red().bold(),
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
                if *status == TaskStatus::Failed {
                    self.failure_shown.insert(host.clone());
                }
                eprintln!("  {host:<12} {label:<8} [{task}]{item}{msg}");
                if let Some(output) = output {
                    show_output(output);
                }
                if let Some(diff) = diff {
                    for line in diff.lines() {
                        let line = match line.chars().next() {
                            Some('+') if !line.starts_with("+++") => style(line).green(),
                            Some('-') if !line.starts_with("---") => style(line).red(),
                            _ => style(line).dim(),
                        };
                        eprintln!("      {line}");
                    }
                }
            }
            PushEvent::HostDone {
                host,
                error: Some(error),
                stats,
            } if stats.unreachable > 0 => {
                eprintln!("  {host:<12} {} {error}", style("UNREACHABLE").red().bold());
            }
            // A host that failed before any task (its lock, the impact gate, bad connection
            // variables) says why here; a task's failure was shown on its own line.
            PushEvent::HostDone {
                host,
                error: Some(error),
                ..
            } if !self.failure_shown.contains(host) => {
                eprintln!("  {host:<12} {} {error}", style("FAILED").red().bold());
            }
            PushEvent::HostDone { .. } | PushEvent::BatchDone { .. } => {}
            PushEvent::Notice { message } => {
                eprintln!("{} {message}", style("NOTE:").yellow().bold());
            }
            PushEvent::Halted { reason, untouched } => {
                eprintln!("\n{} {reason}", style("HALTED:").red().bold());
                if !untouched.is_empty() {
                    eprintln!("  not touched: {}", untouched.join(", "));
                }
            }
            PushEvent::RunDone { recap, .. } => {
                eprintln!("\n{}", style("PLAY RECAP").bold());
                for (host, s) in recap {
                    eprintln!("{host:<20} : {}", recap_line(s));
                }
            }
        }
    }

    /// Says where the journal is and how to resume.
    pub fn footer(&self, run_dir: &Path, summary: &PushSummary) {
        if self.json {
            return;
        }
        eprintln!("\njournal: {}", run_dir.display());
        if summary.status != "completed" {
            let id = run_dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            eprintln!("resume with: drover push --resume {id}");
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
