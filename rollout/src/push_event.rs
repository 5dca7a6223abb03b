//! What a push reports, event by event. The journal records these; the CLI renders them.

use std::collections::BTreeMap;

use serde::Serialize;

/// How a task ended on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Ran, changed nothing.
    Ok,
    /// Ran and changed something (or would have, in check mode).
    Changed,
    /// Failed.
    Failed,
    /// Failed, but `ignore_errors` let the host go on.
    Ignored,
    /// Did not run (`when`, check mode, `creates`).
    Skipped,
}

/// Per-host counts for the recap, as Ansible's PLAY RECAP has them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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

/// One step of a push.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PushEvent {
    /// The run began.
    RunStarted {
        /// The run id (and journal folder name).
        run_id: String,
        /// Whether this is a dry run.
        check: bool,
    },
    /// A play began.
    PlayStarted {
        /// Its name.
        play: String,
        /// Its hosts still to do, in order.
        hosts: Vec<String>,
        /// Hosts skipped because a resumed run finished them already.
        already_done: Vec<String>,
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
    /// A task ended on a host.
    Task {
        /// The host.
        host: String,
        /// `role : name` or the task's name or module.
        task: String,
        /// How it ended.
        status: TaskStatus,
        /// A message, when there is one.
        #[serde(skip_serializing_if = "String::is_empty")]
        msg: String,
        /// The loop item's label, for loops.
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<String>,
        /// A unified diff, with `--diff`.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
    },
    /// A host finished its part of the play.
    HostDone {
        /// The host.
        host: String,
        /// Its counts.
        stats: HostStats,
        /// Why it stopped, if it did not succeed.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
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
        /// `completed`, `halted`, `refused` (outside the maintenance window) or `interrupted`.
        status: String,
        /// Counts per host.
        recap: BTreeMap<String, HostStats>,
    },
}
