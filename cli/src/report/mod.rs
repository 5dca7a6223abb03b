//! `drover report`: a run, from its journal alone, as one self-contained HTML page, Markdown for a
//! change ticket, or JSON. This file builds the report's plain data from a [`RunRecord`]; `html` and
//! `markdown` lay it out.

use std::collections::BTreeMap;

use drover_rollout::{
    Condition, HostStats, HostVerdict, PushEvent, RollcallReport, RunRecord, Tally, TaskOutput,
    TaskStatus, describe_verdict,
};
use drover_upgrade::{ContainerFate, Fate, rollcall::Expected};
use jiff::Timestamp;
use serde::Serialize;

mod html;
mod markdown;

pub use html::html;
pub use markdown::markdown;

/// A run, ready to lay out.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The run id.
    pub run_id: String,
    /// The command that made it.
    pub command: String,
    /// Who ran it.
    pub owner: String,
    /// A dry run.
    pub check: bool,
    /// When it began and ended (UTC).
    pub started: Option<Timestamp>,
    /// When the last event was written.
    pub ended: Option<Timestamp>,
    /// How long it took, from its first event to its last.
    pub duration_ms: Option<u64>,
    /// Where it stands.
    pub condition: Condition,
    /// 1, plus one per `--resume`.
    pub attempts: usize,
    /// Each play: its name, budget and windows.
    pub plays: Vec<PlaySummary>,
    /// Why it stopped early, and what it did not touch.
    pub halt: Option<Halt>,
    /// The command that goes on with it.
    pub resume: Option<String>,
    /// What the operator was told along the way.
    pub notices: Vec<String>,
    /// Hosts by how they ended.
    pub tally: Tally,
    /// Journal lines that were not events this drover knows.
    pub unreadable_lines: usize,
    /// Each batch, in order.
    pub batches: Vec<Batch>,
    /// When the halt came (ms from the start).
    pub halted_at_ms: Option<u64>,
    /// When each `--resume` began (ms from the start).
    pub resumed_at_ms: Vec<u64>,
    /// Each host, in the order it was first met.
    pub hosts: Vec<HostReport>,
}

/// A play.
#[derive(Debug, Serialize)]
pub struct PlaySummary {
    /// Its name.
    pub name: String,
    /// Its failure budget in words.
    pub budget: String,
    /// Its maintenance windows (none: any time).
    pub windows: Vec<String>,
}

/// Why the run stopped before touching every host.
#[derive(Debug, Serialize)]
pub struct Halt {
    /// Why.
    pub reason: String,
    /// Hosts never touched.
    pub untouched: Vec<String>,
}

/// A batch.
#[derive(Debug, Serialize)]
pub struct Batch {
    /// Its play.
    pub play: String,
    /// 1-based.
    pub number: usize,
    /// How many batches the play had.
    pub of: usize,
    /// The attempt it was part of: 1, or 2 and on for a resumed run.
    pub attempt: usize,
    /// Its hosts.
    pub hosts: Vec<String>,
    /// When it began (ms from the start).
    pub at_ms: Option<u64>,
    /// Hosts that failed in it.
    pub failed: Vec<String>,
}

/// One host's part.
#[derive(Debug, Serialize)]
pub struct HostReport {
    /// Inventory name.
    pub host: String,
    /// How it ended.
    pub verdict: HostVerdict,
    /// Why it stopped, when it did not succeed.
    pub error: Option<String>,
    /// Its counts (the latest attempt of each play).
    pub stats: HostStats,
    /// Each task it ran, in order.
    pub tasks: Vec<TaskRow>,
    /// Reboots and Docker restarts.
    pub restarts: Vec<Restart>,
    /// Each roll call, with the prediction beside what was seen.
    pub rollcalls: Vec<Rollcall>,
    /// The impact gate's prediction, when it made one.
    pub predicted: Vec<ContainerFate>,
    /// What the impact gate warned of.
    pub warnings: Vec<String>,
    /// What ran before the first restart.
    pub snapshot: Vec<Expected>,
}

/// One task on one host (one loop item).
#[derive(Debug, Serialize)]
pub struct TaskRow {
    /// `role : name`.
    pub task: String,
    /// The loop item's label.
    pub item: Option<String>,
    /// How it ended.
    pub status: TaskStatus,
    /// When it began (ms from the start).
    pub start_ms: Option<u64>,
    /// How long it took.
    pub duration_ms: Option<u64>,
    /// Its message.
    pub msg: String,
    /// Its diff, with `--diff`.
    pub diff: Option<String>,
    /// A failed command: how it was run and what it printed (never with `no_log`).
    pub output: Option<TaskOutput>,
}

/// A restart of Docker or the host.
#[derive(Debug, Serialize)]
pub struct Restart {
    /// The task that made it.
    pub task: String,
    /// A reboot (else Docker).
    pub reboot: bool,
    /// When (ms from the start).
    pub at_ms: Option<u64>,
}

/// A roll call.
#[derive(Debug, Serialize)]
pub struct Rollcall {
    /// The task it followed.
    pub after: String,
    /// When it ended (ms from the start).
    pub at_ms: Option<u64>,
    /// The boot id changed: the host rebooted.
    pub rebooted: bool,
    /// The Docker service itself was wrong.
    pub daemon_problem: Option<String>,
    /// Every container expected back.
    pub containers: Vec<ContainerCall>,
}

/// A container in a roll call: what was predicted and what was seen.
#[derive(Debug, Serialize)]
pub struct ContainerCall {
    /// Its name.
    pub name: String,
    /// Its restart policy.
    pub restart_policy: String,
    /// The impact gate's fate for it, and why (none without the gate).
    pub predicted: Option<String>,
    /// What the roll call saw.
    pub observed: String,
    /// It came back.
    pub back: bool,
    /// drover started it.
    pub remediated: bool,
}

/// A part of a failed command's record, in the order a report shows them.
pub enum OutputPart<'a> {
    /// The command as the module ran it.
    Command(String),
    /// Its exit code.
    Rc(i64),
    /// A stream that printed something: its name and text.
    Stream(&'static str, &'a str),
}

/// The parts of `o` that say something.
pub fn output_parts(o: &TaskOutput) -> Vec<OutputPart<'_>> {
    let mut parts = Vec::new();
    if let Some(cmd) = &o.cmd {
        parts.push(OutputPart::Command(
            cmd.as_str().map_or_else(|| cmd.to_string(), str::to_string),
        ));
    }
    parts.extend(o.rc.map(OutputPart::Rc));
    for (name, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        if !text.is_empty() {
            parts.push(OutputPart::Stream(name, text));
        }
    }
    parts
}

/// Milliseconds from `t0` to `t`.
fn offset(t0: Option<Timestamp>, t: Option<Timestamp>) -> Option<u64> {
    let ms = t?.duration_since(t0?).as_millis();
    u64::try_from(ms.max(0)).ok()
}

/// A fate in words, as `drover impact` says it.
fn fate_words(fate: Fate, why: &str) -> String {
    format!("{}: {why}", fate.label())
}

impl Batch {
    /// `2/5`, and the attempt when the run was resumed: `1/4 (attempt 2)`.
    pub fn label(&self) -> String {
        match self.attempt {
            0 | 1 => format!("{}/{}", self.number, self.of),
            n => format!("{}/{} (attempt {n})", self.number, self.of),
        }
    }
}

impl Report {
    /// The report of `record`.
    pub fn of(record: &RunRecord) -> Report {
        let t0 = record.started();
        let at = |ts| offset(t0, ts);
        let host_ends = record.host_ends();
        let verdicts: Vec<(String, HostVerdict)> = host_ends
            .iter()
            .map(|(host, ends)| (host.clone(), HostVerdict::of(ends)))
            .collect();
        let mut hosts: Vec<HostReport> = host_ends
            .iter()
            .map(|(host, ends)| HostReport {
                host: host.clone(),
                verdict: HostVerdict::of(ends),
                // The last play's reason, when several stopped it.
                error: ends.iter().rev().find_map(|e| e.error.clone()),
                stats: ends
                    .iter()
                    .fold(HostStats::default(), |sum, e| sum + e.stats),
                tasks: Vec::new(),
                restarts: Vec::new(),
                rollcalls: Vec::new(),
                predicted: Vec::new(),
                warnings: Vec::new(),
                snapshot: record
                    .snapshots
                    .get(host)
                    .map(|s| s.containers.clone())
                    .unwrap_or_default(),
            })
            .collect();
        let index: BTreeMap<String, usize> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.host.clone(), i))
            .collect();
        let condition = record.condition();
        let mut report = Report {
            run_id: record.id.clone(),
            command: record.command(),
            owner: String::new(),
            check: false,
            started: t0,
            ended: record.ended(),
            duration_ms: record.duration_ms(),
            condition,
            attempts: record.attempts(),
            plays: Vec::new(),
            halt: None,
            resume: condition
                .resumable()
                .then(|| format!("drover push --resume {}", record.id)),
            notices: Vec::new(),
            tally: Tally::of(&verdicts),
            unreadable_lines: record.unreadable,
            batches: Vec::new(),
            halted_at_ms: None,
            resumed_at_ms: Vec::new(),
            hosts: Vec::new(),
        };
        // Per host: when its current task began.
        let mut since: BTreeMap<&str, Option<Timestamp>> = BTreeMap::new();
        let mut attempt = 0usize;
        for e in &record.events {
            let host_of = |h: &str| index.get(h).copied();
            match &e.event {
                PushEvent::RunStarted { check, owner, .. } => {
                    attempt += 1;
                    report.check |= *check;
                    if report.owner.is_empty() {
                        report.owner.clone_from(owner);
                    }
                    if report.attempts > 1 && e.ts != t0 {
                        report.resumed_at_ms.extend(at(e.ts));
                    }
                }
                PushEvent::PlayStarted {
                    play: name,
                    budget,
                    windows,
                    ..
                } => {
                    if !report.plays.iter().any(|p| &p.name == name) {
                        report.plays.push(PlaySummary {
                            name: name.clone(),
                            budget: budget.clone(),
                            windows: windows.clone(),
                        });
                    }
                }
                PushEvent::BatchStarted { batch, of, hosts } => report.batches.push(Batch {
                    play: report
                        .plays
                        .last()
                        .map(|p| p.name.clone())
                        .unwrap_or_default(),
                    number: *batch,
                    of: *of,
                    attempt,
                    hosts: hosts.clone(),
                    at_ms: at(e.ts),
                    failed: Vec::new(),
                }),
                PushEvent::BatchDone { failed, .. } => {
                    if let Some(b) = report.batches.last_mut() {
                        b.failed.clone_from(failed);
                    }
                }
                PushEvent::TaskStarted { host, .. } => {
                    since.insert(host, e.ts);
                }
                PushEvent::Task {
                    host,
                    task,
                    status,
                    msg,
                    item,
                    diff,
                    output,
                    ..
                } => {
                    // A skipped task took no time; a loop's next item, or a roll call, begins
                    // where the last one ended.
                    let began = match status {
                        TaskStatus::Skipped => e.ts,
                        _ => since.get(host.as_str()).copied().flatten().or(e.ts),
                    };
                    since.insert(host, e.ts);
                    if let Some(i) = host_of(host) {
                        hosts[i].tasks.push(TaskRow {
                            task: task.clone(),
                            item: item.clone(),
                            status: *status,
                            start_ms: at(began),
                            duration_ms: offset(began, e.ts),
                            msg: msg.clone(),
                            diff: diff.clone(),
                            output: output.clone(),
                        });
                    }
                }
                PushEvent::Predicted {
                    host,
                    containers,
                    warnings,
                } => {
                    if let Some(i) = host_of(host) {
                        hosts[i].predicted.clone_from(containers);
                        hosts[i].warnings.clone_from(warnings);
                    }
                }
                PushEvent::Restarted { host, task, reboot } => {
                    if let Some(i) = host_of(host) {
                        hosts[i].restarts.push(Restart {
                            task: task.clone(),
                            reboot: *reboot,
                            at_ms: at(e.ts),
                        });
                    }
                }
                PushEvent::Rollcall { task, report: rc } => {
                    if let Some(i) = host_of(&rc.host) {
                        let call = rollcall(task, rc, &hosts[i].predicted, at(e.ts));
                        hosts[i].rollcalls.push(call);
                    }
                }
                PushEvent::Notice { message } => report.notices.push(message.clone()),
                PushEvent::Halted { reason, untouched } => {
                    report.halted_at_ms = at(e.ts);
                    report.halt = Some(Halt {
                        reason: reason.clone(),
                        untouched: untouched.clone(),
                    });
                }
                // Each host's ends come from the record (host_ends), over all attempts.
                PushEvent::Exec { .. } | PushEvent::RunDone { .. } | PushEvent::HostDone { .. } => {
                }
            }
        }
        // A run that went on after a halt (resumed to the end) has no halt left to report.
        if !matches!(
            report.condition,
            Condition::Halted | Condition::Refused | Condition::Interrupted
        ) {
            report.halt = None;
        }
        report.hosts = hosts;
        report
    }

    /// How long the run took in words, and over how many attempts: `3 min 05 s (over 2 attempts:
    /// resumed 1 time(s))`.
    pub fn duration_text(&self) -> Option<String> {
        let resumed = match self.attempts {
            0 | 1 => String::new(),
            n => format!(" (over {n} attempts: resumed {} time(s))", n - 1),
        };
        self.duration_ms
            .map(|ms| format!("{}{resumed}", duration_words(ms)))
    }
}

impl PlaySummary {
    /// Its maintenance windows in words (`any time` without one).
    pub fn window_text(&self) -> String {
        if self.windows.is_empty() {
            "any time".to_string()
        } else {
            self.windows.join("; ")
        }
    }
}

impl HostReport {
    /// The time its tasks took, in words (empty when it ran none).
    pub fn busy_text(&self) -> String {
        if self.tasks.is_empty() {
            return String::new();
        }
        duration_words(self.tasks.iter().filter_map(|t| t.duration_ms).sum())
    }
}

/// A roll call with each container's predicted fate beside its verdict.
fn rollcall(
    after: &str,
    rc: &RollcallReport,
    predicted: &[ContainerFate],
    at_ms: Option<u64>,
) -> Rollcall {
    Rollcall {
        after: after.to_string(),
        at_ms,
        rebooted: rc.boot_id_before != rc.boot_id_after,
        daemon_problem: rc.daemon_problem.clone(),
        containers: rc
            .containers
            .iter()
            .map(|c| ContainerCall {
                name: c.name.clone(),
                restart_policy: c.restart_policy.clone(),
                // The gate's prediction for the planned change, else the roll call's own for
                // what happened.
                predicted: predicted
                    .iter()
                    .find(|p| p.name == c.name)
                    .map(|p| fate_words(p.fate, &p.why))
                    .or_else(|| c.predicted.as_ref().map(|p| fate_words(p.fate, &p.why))),
                observed: describe_verdict(&c.verdict),
                back: c.verdict.ok(),
                remediated: c.remediated,
            })
            .collect(),
    }
}

/// A duration as an operator reads it: `850 ms`, `12.4 s`, `3 min 05 s`, `2 h 03 min`.
pub fn duration_words(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {:02} s", ms / 60_000, ms / 1000 % 60),
        _ => format!("{} h {:02} min", ms / 3_600_000, ms / 60_000 % 60),
    }
}

/// A time as `2026-12-04 10:00:00 UTC`.
pub fn time_words(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A host's verdict in words.
pub fn verdict_words(v: HostVerdict) -> &'static str {
    match v {
        HostVerdict::Ok => "ok",
        HostVerdict::Changed => "changed",
        HostVerdict::Failed => "FAILED",
        HostVerdict::Interrupted => "interrupted",
        HostVerdict::Untouched => "untouched",
    }
}

/// A task status in words.
pub fn status_words(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Ok => "ok",
        TaskStatus::Changed => "changed",
        TaskStatus::Failed => "FAILED",
        TaskStatus::Unreachable => "UNREACHABLE",
        TaskStatus::Ignored => "ignored",
        TaskStatus::Skipped => "skipped",
    }
}

/// The tally in words: `3 ok, 1 changed, 1 failed, 2 untouched`.
pub fn tally_words(t: &Tally) -> String {
    let parts = [
        (t.ok, "ok"),
        (t.changed, "changed"),
        (t.failed, "failed"),
        (t.interrupted, "interrupted"),
        (t.untouched, "untouched"),
    ];
    let words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
    if words.is_empty() {
        "no host".into()
    } else {
        words.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_an_operator_says_them() {
        assert_eq!(duration_words(850), "850 ms");
        assert_eq!(duration_words(12_440), "12.4 s");
        assert_eq!(duration_words(185_000), "3 min 05 s");
        assert_eq!(duration_words(7_380_000), "2 h 03 min");
    }
}
