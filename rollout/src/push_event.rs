//! What a push reports, event by event. The journal records these; the CLI renders them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a task ended on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Ran, changed nothing.
    Ok,
    /// Ran and changed something (or would have, in check mode).
    Changed,
    /// Failed.
    Failed,
    /// The host could not be reached (or was lost) while running it.
    Unreachable,
    /// Failed, but `ignore_errors` let the host go on.
    Ignored,
    /// Did not run (`when`, check mode, `creates`).
    Skipped,
}

/// How a host's part of a play ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostEnd {
    /// Every task ran (some may have failed with `ignore_errors`, or been rescued).
    Done,
    /// A task, the lock, the impact gate or a roll call failed; the rest of its play did not run.
    Failed,
    /// It could not be reached, or was lost; the rest of its play did not run.
    Unreachable,
    /// Ctrl-C stopped it between tasks: it is neither done nor failed, and `--resume` redoes it.
    Interrupted,
}

/// Per-host counts for the recap, as Ansible's PLAY RECAP has them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStats {
    /// Tasks that ran without change.
    pub ok: usize,
    /// Tasks that changed something.
    pub changed: usize,
    /// 1 if the host could not be reached.
    pub unreachable: usize,
    /// Tasks that failed.
    pub failed: usize,
    /// Tasks skipped.
    pub skipped: usize,
    /// Blocks whose failure was rescued.
    pub rescued: usize,
    /// Failures ignored by `ignore_errors`.
    pub ignored: usize,
}

impl std::ops::Add for HostStats {
    type Output = HostStats;

    /// The counts of two parts (two batches, two plays, two attempts of a play) together.
    fn add(self, b: HostStats) -> HostStats {
        HostStats {
            ok: self.ok + b.ok,
            changed: self.changed + b.changed,
            unreachable: self.unreachable + b.unreachable,
            failed: self.failed + b.failed,
            skipped: self.skipped + b.skipped,
            rescued: self.rescued + b.rescued,
            ignored: self.ignored + b.ignored,
        }
    }
}

/// What a failed command printed, kept for the operator, `--json` and the journal. Each stream
/// keeps its last [`TaskOutput::MAX_STREAM`] bytes (the end is where a failure says why), and says
/// how much it dropped before them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskOutput {
    /// The command as the module ran it (`command`: its words; others: the line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<serde_json::Value>,
    /// Its exit code (-1 when it was killed by a signal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rc: Option<i64>,
    /// The end of its standard output.
    pub stdout: String,
    /// The end of its standard error.
    pub stderr: String,
}

impl TaskOutput {
    /// The most of each stream an event keeps.
    pub const MAX_STREAM: usize = 64 * 1024;

    /// The output recorded in a module's result, if it ran a command.
    pub fn of(result: &serde_json::Map<String, serde_json::Value>) -> Option<TaskOutput> {
        let text = |key: &str| result.get(key).and_then(|v| v.as_str()).map(tail);
        let (stdout, stderr) = (text("stdout"), text("stderr"));
        let rc = result.get("rc").and_then(serde_json::Value::as_i64);
        if stdout.is_none() && stderr.is_none() && rc.is_none() {
            return None;
        }
        Some(TaskOutput {
            cmd: result.get("cmd").cloned(),
            rc,
            stdout: stdout.unwrap_or_default(),
            stderr: stderr.unwrap_or_default(),
        })
    }
}

impl PushEvent {
    /// A task's end with only a message (fact gathering, a roll call): no item, diff, output or
    /// result.
    pub fn task_line(host: &str, task: &str, status: TaskStatus, msg: String) -> PushEvent {
        PushEvent::Task {
            host: host.to_string(),
            task: task.to_string(),
            status,
            msg,
            item: None,
            diff: None,
            output: None,
            result: None,
            at: None,
        }
    }

    /// The event with every value a vault revealed replaced by `********`, in all it says about
    /// a task's result (message, loop item, diff, command and output), a host's end, a notice or
    /// a halt: what a vault decrypts is a secret, on the terminal, in `--json` and in the journal.
    pub fn hiding_secrets(mut self) -> PushEvent {
        if !drover_vault::any_revealed() {
            return self;
        }
        let hide = |s: &mut String| {
            if let std::borrow::Cow::Owned(h) = drover_vault::hide(s) {
                *s = h;
            }
        };
        match &mut self {
            PushEvent::Task {
                msg,
                item,
                diff,
                output,
                result,
                ..
            } => {
                hide(msg);
                if let Some(r) = result {
                    hide_json(r);
                }
                item.iter_mut().chain(diff.iter_mut()).for_each(hide);
                if let Some(o) = output {
                    hide(&mut o.stdout);
                    hide(&mut o.stderr);
                    if let Some(cmd) = &mut o.cmd {
                        hide_json(cmd);
                    }
                }
            }
            PushEvent::HostDone { error, .. } => error.iter_mut().for_each(hide),
            PushEvent::Notice { message } => hide(message),
            PushEvent::Exec { command, .. } => hide(command),
            PushEvent::Halted { reason, .. } => hide(reason),
            _ => {}
        }
        self
    }
}

/// Hides revealed secrets in every string of `value`.
fn hide_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(h) = drover_vault::hide(s) {
                *s = h;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(hide_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(hide_json),
        _ => {}
    }
}

/// The last [`TaskOutput::MAX_STREAM`] bytes of `text` (on a character boundary), saying how many
/// came before.
fn tail(text: &str) -> String {
    if text.len() <= TaskOutput::MAX_STREAM {
        return text.to_string();
    }
    let mut start = text.len() - TaskOutput::MAX_STREAM;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!(
        "[drover: {start} bytes before this are not kept]\n{}",
        &text[start..]
    )
}

/// One step of a push.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PushEvent {
    /// The run began.
    RunStarted {
        /// The run id (and journal folder name).
        run_id: String,
        /// Whether this is a dry run.
        check: bool,
        /// Who ran it: `user@controller`, as host locks name it.
        #[serde(default)]
        owner: String,
    },
    /// A play began.
    PlayStarted {
        /// Its name.
        play: String,
        /// Its hosts still to do, in order.
        hosts: Vec<String>,
        /// Hosts skipped because a resumed run finished them already.
        already_done: Vec<String>,
        /// Its failure budget per batch, in words.
        #[serde(default)]
        budget: String,
        /// Its maintenance windows (none: any time).
        #[serde(default)]
        windows: Vec<String>,
    },
    /// A batch began.
    BatchStarted {
        /// 1-based batch number.
        batch: usize,
        /// How many batches the play has.
        of: usize,
        /// Its hosts.
        hosts: Vec<String>,
    },
    /// A host began a task (its `when:` held): the UI shows which task each host is in and for how
    /// long, so a hanging task can be told from a slow one.
    TaskStarted {
        /// The host.
        host: String,
        /// `role : name` or the task's name or module, as its [`PushEvent::Task`] will say.
        task: String,
        /// Where the task is written (`file:line:col`; the play's place for fact gathering): two
        /// tasks of one name are two tasks. Empty in journals written before it was kept.
        #[serde(default)]
        at: String,
    },
    /// `-vvv`: a command a task runs on a host, as sent (before sudo wraps it; `become` says
    /// whom it runs as). Never for a `no_log` task.
    Exec {
        /// The host.
        host: String,
        /// The task.
        task: String,
        /// The user sudo runs it as, when the task becomes one.
        as_user: Option<String>,
        /// The command line.
        command: String,
    },
    /// A task ended on a host.
    Task {
        /// The host.
        host: String,
        /// `role : name` or the task's name or module.
        task: String,
        /// How it ended.
        status: TaskStatus,
        /// A message, when there is one.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        msg: String,
        /// The loop item's label, for loops.
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<String>,
        /// A unified diff, with `--diff`.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
        /// What a failed (or ignored) command printed, and how it was run; never with `no_log`.
        #[serde(skip_serializing_if = "Option::is_none")]
        output: Option<TaskOutput>,
        /// The task's registered result, with `-v` (never with `no_log`).
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<Box<serde_json::Value>>,
        /// Where the task is written (`file:line:col`), with `-vv`.
        #[serde(skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// A host finished its part of the play.
    HostDone {
        /// The host.
        host: String,
        /// How its part ended.
        end: HostEnd,
        /// Its counts.
        stats: HostStats,
        /// Why it stopped, if it did not succeed.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// What its SSH sessions cost in this play: channels, execs, bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        traffic: Option<drover_ssh::TrafficCounts>,
    },
    /// The impact gate's prediction for a host, made before the host is touched.
    Predicted {
        /// The host.
        host: String,
        /// Each container's predicted fate.
        containers: Vec<drover_upgrade::ContainerFate>,
        /// What else the prediction warns of.
        warnings: Vec<String>,
    },
    /// A task restarted Docker or the host; a roll call follows when the host had containers.
    Restarted {
        /// The host.
        host: String,
        /// The task.
        task: String,
        /// It was a reboot.
        reboot: bool,
    },
    /// A roll call's result, container by container.
    Rollcall {
        /// The task it followed.
        task: String,
        /// What came back.
        report: crate::rollcall::RollcallReport,
    },
    /// A batch ended.
    BatchDone {
        /// 1-based batch number.
        batch: usize,
        /// Hosts that failed or were unreachable in it.
        failed: Vec<String>,
    },
    /// Something the operator should know that is not a failure (a window ignored with
    /// `--ignore-window`, a checkpoint passed with `--yes`).
    Notice {
        /// What happened.
        message: String,
    },
    /// The rollout stopped before touching every host.
    Halted {
        /// Why.
        reason: String,
        /// Hosts never touched.
        untouched: Vec<String>,
    },
    /// The run ended.
    RunDone {
        /// How it ended.
        status: crate::journal::RunStatus,
        /// Counts per host.
        recap: BTreeMap<String, HostStats>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_commands_output_is_kept_by_its_end() {
        let result = json!({"cmd": ["false"], "rc": 1, "stdout": "", "stderr": "boom"});
        assert_eq!(
            TaskOutput::of(result.as_object().unwrap()),
            Some(TaskOutput {
                cmd: Some(json!(["false"])),
                rc: Some(1),
                stdout: String::new(),
                stderr: "boom".into(),
            })
        );
        assert_eq!(
            TaskOutput::of(json!({"dest": "/x"}).as_object().unwrap()),
            None
        );
        let long = format!("{}é{}", "a".repeat(TaskOutput::MAX_STREAM), "the reason");
        let kept = tail(&long);
        assert!(kept.starts_with("[drover: "), "{}", &kept[..40]);
        assert!(kept.ends_with("the reason"));
        assert!(kept.len() < TaskOutput::MAX_STREAM + 64);
    }
}
