//! `drover push`: plays in rolling batches, a failure budget per batch and per run, handlers, check
//! and diff modes, host locks, and a journal from which a halted run resumes.
//!
//! Within a batch every host runs its play on its own (Ansible's `free` strategy): a slow host does not
//! hold the others at each task. `run_once` tasks run on whichever host gets there first, and the
//! others take its result; with `any_errors_fatal`, a failure stops the other hosts before their next
//! task.
//!
//! This file runs the batches; `host` takes one host through its play, `task` runs one task (loops,
//! retries, `run_once`, overrides), and `restart` covers what a task that restarts Docker or the
//! host needs: the snapshot before, the reconnect after, the roll call and the impact gate.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use drover_inventory::Inventory;
use drover_roles::{
    Batches, HostOrder, Module, ModuleKind, Number, Play, Playbook, Role, Task, TaskBody,
    TemplatedKeyword,
};
use drover_ssh::Become;
use drover_templates::{Engine, OMIT};
use futures::StreamExt;
use indexmap::IndexSet;
use serde_json::{Value as Json, json};
use tokio::sync::OnceCell;
use tokio::sync::mpsc::UnboundedSender;

use crate::connection::{ConnectionSettings, HostConnection, Transport};
use crate::journal::{Journal, RunStatus};
use crate::modules::{self, Args, InventoryChange, ModuleCtx, Operator, Outcome};
use crate::push_event::{HostEnd, HostStats, PushEvent, TaskOutput, TaskStatus};
use crate::{facts, lock};

mod host;
mod restart;
mod task;

/// How many failures a batch may have before the rollout halts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FailBudget {
    /// At most this many hosts.
    Count(usize),
    /// At most this share of the batch (Ansible's rule: halt when the share is exceeded).
    Percent(f64),
}

impl FailBudget {
    /// Parses `0`, `2` or `25%`.
    pub fn parse(text: &str) -> Result<FailBudget, String> {
        match text.trim().strip_suffix('%') {
            Some(p) => p.trim().parse().ok().filter(|p: &f64| (0.0..=100.0).contains(p)).map(FailBudget::Percent),
            None => text.trim().parse().ok().map(FailBudget::Count),
        }
        .ok_or_else(|| format!("`{text}` is not a failure budget; expected a number of hosts such as 0 or 2, or a share such as 25%"))
    }

    /// True when `failed` hosts out of `batch` exceed the budget.
    pub fn exceeded(self, failed: usize, batch: usize) -> bool {
        match self {
            FailBudget::Count(n) => failed > n,
            FailBudget::Percent(p) => batch > 0 && (failed as f64 * 100.0 / batch as f64) > p,
        }
    }
}

impl std::fmt::Display for FailBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailBudget::Count(0) => write!(f, "any failed host halts the rollout"),
            FailBudget::Count(n) => write!(f, "up to {n} failed host(s) per batch"),
            FailBudget::Percent(p) => write!(f, "up to {p}% failed hosts per batch"),
        }
    }
}

/// What the operator asked of this push.
pub struct PushOptions {
    /// `--batch`, overriding the plays' `serial`.
    pub batches: Option<Batches>,
    /// `--start-at-task`: earlier plays are skipped, and the play holding the task starts there.
    pub start_at: Option<String>,
    /// `-v`: each task's registered result goes with its event; `-vv`: its file:line too.
    pub verbosity: u8,
    /// Hosts worked on at once.
    pub forks: usize,
    /// `--max-fail`, when given: it wins over the plays' `max_fail_percentage`. Without either,
    /// any failure in a batch halts the rollout.
    pub max_fail: Option<FailBudget>,
    /// `--max-fail-total`: failures allowed over the whole run.
    pub max_fail_total: Option<usize>,
    /// `--limit`.
    pub limit: Option<String>,
    /// `--tags`.
    pub tags: Vec<String>,
    /// `--skip-tags`.
    pub skip_tags: Vec<String>,
    /// `-e` extra variables, the highest precedence.
    pub extra_vars: drover_roles::Vars,
    /// `--check`.
    pub check: bool,
    /// `--diff`.
    pub diff: bool,
    /// `--break-lock`.
    pub break_lock: bool,
    /// `--impact-gate`: the impact gate for every play (a play's own stricter gate wins).
    pub impact_gate: drover_roles::ImpactGate,
    /// `--force-handlers`: a host that fails still runs the handlers it was notified of.
    pub force_handlers: bool,
    /// `--ignore-window`: start batches outside the plays' maintenance windows.
    pub ignore_window: bool,
    /// `--no-remediate`: roll calls never start a container that did not come back.
    pub no_remediate: bool,
    /// `--canary N`: each play's first N hosts form a batch of their own, and the rollout halts
    /// after it if a roll call there saw a container do other than its predicted fate.
    pub canary: Option<usize>,
    /// Who answers operator checkpoints (`pause` with a prompt): `--yes`, the terminal, nobody.
    pub operator: Operator,
    /// `--step`: the operator confirms each task before it runs (once per task and batch).
    pub step: bool,
    /// `--timeout`: how long any task's remote command may run, unless the task says `timeout:`.
    pub task_timeout: Option<Duration>,
    /// How long a host lock stays valid if the run dies without removing it.
    pub lock_ttl: Duration,
    /// Who holds locks: `user@controller`.
    pub owner: String,
    /// Set (by Ctrl-C) to stop before the next task everywhere.
    pub cancel: Arc<AtomicBool>,
}

/// How a push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSummary {
    /// How the run ended.
    pub status: RunStatus,
    /// Counts per host.
    pub recap: BTreeMap<String, HostStats>,
    /// Some host failed because of a template or variable error (bad input, exit code 2).
    pub bad_input: bool,
}

/// Puts a play's hosts in the order its `order:` asks for, before they are batched.
fn arrange<S: Ord>(order: HostOrder, hosts: &mut [S]) {
    match order {
        HostOrder::Inventory => {}
        HostOrder::ReverseInventory => hosts.reverse(),
        HostOrder::Sorted => hosts.sort_unstable(),
        HostOrder::ReverseSorted => hosts.sort_unstable_by(|a, b| b.cmp(a)),
        HostOrder::Shuffle => {
            for i in (1..hosts.len()).rev() {
                let mut bits = [0u8; 8];
                // Without the OS's random source the order stays the inventory's.
                if getrandom::fill(&mut bits).is_err() {
                    return;
                }
                let j = (u64::from_le_bytes(bits) % (i as u64 + 1)) as usize;
                hosts.swap(i, j);
            }
        }
    }
}

/// What a failed `no_log` task says in place of its output.
pub const NO_LOG_FAILED: &str = "failed; the output is hidden because the task has `no_log: true`";

/// Sends events to the UI and records them in the journal: the one writer of the run folder during a
/// push, which tells the operator when a write fails instead of dropping the error.
struct Emitter<'a> {
    ui: &'a UnboundedSender<PushEvent>,
    journal: &'a Mutex<Journal>,
    /// A write failed and the operator has been told (once: a full disk fails every write).
    journal_failed: AtomicBool,
}

impl Emitter<'_> {
    fn emit(&self, event: PushEvent) {
        let event = event.hiding_secrets();
        self.write(|j| j.record(&event));
        let _ = self.ui.send(event);
    }

    /// Reads from the journal.
    fn read<T: Default>(&self, read: impl FnOnce(&Journal) -> T) -> T {
        self.journal.lock().map(|j| read(&j)).unwrap_or_default()
    }

    /// Writes to the journal; the first failure is reported to the operator.
    fn write(&self, write: impl FnOnce(&mut Journal) -> std::io::Result<()>) {
        let result = match self.journal.lock() {
            Ok(mut j) => write(&mut j),
            Err(_) => Err(std::io::Error::other("a thread panicked while writing it")),
        };
        if let Err(e) = result
            && !self.journal_failed.swap(true, Ordering::SeqCst)
        {
            let _ = self.ui.send(PushEvent::Notice {
                message: format!(
                    "cannot write the run journal: {e}; events from here on may be missing from it, and --resume may redo hosts that finished"
                ),
            });
        }
    }
}

/// Everything shared by the hosts of a run.
struct Run<'a> {
    /// The run's inventory: the one given, with what `add_host` and `group_by` have added.
    inventory: RwLock<Inventory>,
    settings: &'a ConnectionSettings,
    opts: &'a PushOptions,
    engine: Engine,
    /// What each host sets during the run (facts, set_fact, register), for `hostvars`.
    live: drover_templates::LiveVars,
    emitter: Emitter<'a>,
    run_id: String,
    /// The journal's folder; fetched files go under it.
    run_dir: std::path::PathBuf,
    playbook_dir: String,
    /// The play `--start-at-task` starts in (usize::MAX when no task matches).
    start_play: Option<usize>,
    /// `--step` answered `c`: the rest of the run goes on without asking.
    step_continue: AtomicBool,
}

impl Run<'_> {
    /// The run's inventory as it is now.
    fn inventory(&self) -> RwLockReadGuard<'_, Inventory> {
        self.inventory.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// One batch's shared state.
#[derive(Default)]
struct BatchShared {
    /// Every host of the play (`ansible_play_hosts_all`), a resumed run's finished ones included.
    play_hosts: Vec<String>,
    /// The play's magic variables that no task changes (`ansible_version`, the role names...),
    /// made once for the batch rather than for every task of every host.
    play_magic: drover_roles::Vars,
    /// Hosts of the batch whose part has stopped (failed or unreachable).
    stopped: Mutex<Vec<String>>,
    fatal: AtomicBool,
    run_once: Mutex<HashMap<String, Arc<OnceCell<Outcome>>>>,
    /// `throttle:`: a semaphore per task of the batch, with as many permits as it allows hosts.
    throttles: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
    /// The batch's hosts still gathering facts.
    gathering: Gathering,
    /// `--step`: the operator's answer for each task of the batch, asked by the first host there.
    steps: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<bool>>>>,
}

/// The batch's hosts still gathering facts: as under Ansible's linear strategy, no host starts its
/// tasks before every host of the batch has gathered (or stopped), so `hostvars[other]` holds the
/// other hosts' facts. Only when all the batch's hosts run at once (forks): a host waiting for one
/// not yet started would wait for nothing.
#[derive(Default)]
struct Gathering {
    /// How many have not arrived, and who has.
    left: Mutex<(usize, Vec<String>)>,
    done: tokio::sync::Notify,
}

impl Gathering {
    fn new(hosts: usize) -> Gathering {
        Gathering {
            left: Mutex::new((hosts, Vec::new())),
            done: tokio::sync::Notify::new(),
        }
    }

    /// `host` has gathered, or stopped before it could (once per host).
    fn arrive(&self, host: &str) {
        let mut left = self.left.lock().unwrap_or_else(|e| e.into_inner());
        if left.0 > 0 && !left.1.iter().any(|h| h == host) {
            left.1.push(host.to_string());
            left.0 -= 1;
            if left.0 == 0 {
                self.done.notify_waiters();
            }
        }
    }

    /// Waits until every host has arrived, at most `limit`.
    async fn wait(&self, limit: std::time::Duration) {
        let _ = tokio::time::timeout(limit, async {
            loop {
                let notified = self.done.notified();
                if self.left.lock().unwrap_or_else(|e| e.into_inner()).0 == 0 {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }
}

impl BatchShared {
    /// The cell holding the operator's `--step` answer for `task` in this batch.
    fn step(&self, task: &Task, label: &str) -> Arc<tokio::sync::OnceCell<bool>> {
        let mut map = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(format!("{} {label}", task.at))
            .or_default()
            .clone()
    }

    /// The semaphore that holds `task` to `limit` hosts at once.
    fn throttle(&self, task: &Task, limit: u32) -> Arc<tokio::sync::Semaphore> {
        let mut map = self.throttles.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(task.at.to_string())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(limit as usize)))
            .clone()
    }
}

/// Runs `playbook`. The journal is new or resumed; events go to `ui` as they happen.
pub async fn push(
    playbook: &Playbook,
    inventory: &Inventory,
    settings: &ConnectionSettings,
    opts: &PushOptions,
    journal: Journal,
    ui: &UnboundedSender<PushEvent>,
) -> PushSummary {
    let journal = Mutex::new(journal);
    let run_dir = journal
        .lock()
        .map(|j| j.dir().to_path_buf())
        .unwrap_or_default();
    let run_id = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // `groups` and the inventory's part of `hostvars` are the same for every host: the engine
    // converts them once; what hosts set during the run joins `hostvars` as they set it.
    // A resumed run makes again what add_host and group_by made before it stopped.
    let mut inventory = inventory.clone();
    let made: Vec<(String, InventoryChange)> = journal
        .lock()
        .map(|j| j.inventory_changes().to_vec())
        .unwrap_or_default();
    for (host, change) in &made {
        change.apply(&mut inventory, host);
    }
    let mut engine = Engine::new();
    let live = drover_templates::LiveVars::default();
    live.set_extra(&opts.extra_vars);
    engine.add_inventory(
        &inventory.hostvars_var(),
        &inventory.groups_var(),
        live.clone(),
    );
    let run = Run {
        inventory: RwLock::new(inventory),
        settings,
        opts,
        engine,
        live,
        emitter: Emitter {
            ui,
            journal: &journal,
            journal_failed: AtomicBool::new(false),
        },
        run_id: run_id.clone(),
        run_dir,
        playbook_dir: drover_roles::absolute_dir(&playbook.path)
            .display()
            .to_string(),
        start_play: opts
            .start_at
            .as_deref()
            .map(|pattern| crate::listing::start_play(playbook, pattern).unwrap_or(usize::MAX)),
        step_continue: AtomicBool::new(false),
    };
    run.emitter.emit(PushEvent::RunStarted {
        run_id,
        check: opts.check,
        owner: opts.owner.clone(),
    });
    let mut recap: BTreeMap<String, HostStats> = BTreeMap::new();
    let mut bad_input = false;
    let mut total_failed = 0;
    let mut status = RunStatus::Completed;
    'plays: for (index, play) in playbook.plays.iter().enumerate() {
        if run.start_play.is_some_and(|start| index < start) {
            run.emitter.emit(PushEvent::Notice {
                message: format!("play `{}`: before --start-at-task; skipped", play.name),
            });
            continue;
        }
        let selected = run
            .inventory()
            .select_within(&play.hosts, opts.limit.as_deref())
            .map(|h| h.into_iter().map(str::to_string).collect::<Vec<String>>());
        let hosts = match selected {
            // A group that add_host or group_by would have made, had any host got there: as
            // Ansible, the play matches no host.
            Err(_) if dynamic_before(playbook, play) => {
                run.emitter.emit(PushEvent::Notice {
                    message: format!(
                        "play `{}`: `{}` matches no host (of the inventory, or added by add_host or group_by); skipped",
                        play.name, play.hosts
                    ),
                });
                continue;
            }
            Ok(h) if h.is_empty() => {
                run.emitter.emit(PushEvent::Notice {
                    message: format!(
                        "play `{}`: no host of `{}` is in --limit; skipped",
                        play.name, play.hosts
                    ),
                });
                continue;
            }
            Ok(mut h) => {
                arrange(play.order, &mut h);
                h
            }
            Err(e) => {
                run.emitter.emit(PushEvent::Halted {
                    reason: format!("play `{}`: {e}", play.name),
                    untouched: Vec::new(),
                });
                status = RunStatus::Halted;
                break;
            }
        };
        let done: Vec<String> = run.emitter.read(|j| j.done(index).to_vec());
        let (already_done, todo): (Vec<&str>, Vec<&str>) = hosts
            .iter()
            .map(String::as_str)
            .partition(|h| done.iter().any(|d| d == h));
        run.emitter.emit(PushEvent::PlayStarted {
            play: play.name.clone(),
            hosts: todo.iter().map(|h| h.to_string()).collect(),
            already_done: already_done.iter().map(|h| h.to_string()).collect(),
            budget: budget(play, opts.max_fail).to_string(),
            windows: play.windows.iter().map(ToString::to_string).collect(),
        });
        // A resumed play whose canary already ran goes on without one.
        let canary = opts
            .canary
            .filter(|_| already_done.is_empty())
            .map_or(0, |n| n.min(todo.len()));
        let rest = todo.len() - canary;
        let mut sizes: Vec<usize> = (canary > 0).then_some(canary).into_iter().collect();
        sizes.extend(
            opts.batches
                .as_ref()
                .or(play.serial.as_ref())
                .map_or_else(|| vec![rest], |b| b.sizes(rest))
                .into_iter()
                .filter(|n| *n > 0),
        );
        let mut start = 0;
        for (b, size) in sizes.iter().enumerate() {
            let batch: Vec<String> = todo[start..start + size]
                .iter()
                .map(|h| h.to_string())
                .collect();
            if let Some(reason) = window_refusal(play) {
                if opts.ignore_window || opts.check {
                    let why = if opts.check {
                        "--check"
                    } else {
                        "--ignore-window"
                    };
                    run.emitter.emit(PushEvent::Notice {
                        message: format!(
                            "play `{}`: {reason}; going on because of {why}",
                            play.name
                        ),
                    });
                } else {
                    run.emitter.emit(PushEvent::Halted {
                        reason: format!(
                            "play `{}` refused to start batch {}: {reason}",
                            play.name,
                            b + 1
                        ),
                        untouched: todo[start..].iter().map(|h| h.to_string()).collect(),
                    });
                    status = RunStatus::Refused;
                    break 'plays;
                }
            }
            start += size;
            run.emitter.emit(PushEvent::BatchStarted {
                batch: b + 1,
                of: sizes.len(),
                hosts: batch.clone(),
            });
            let all_at_once = opts.forks.max(1) >= batch.len();
            let shared = BatchShared {
                play_hosts: already_done
                    .iter()
                    .chain(&todo)
                    .map(|h| h.to_string())
                    .collect(),
                play_magic: host::play_magic(play, opts),
                gathering: Gathering::new(if play.gather_facts && all_at_once {
                    batch.len()
                } else {
                    0
                }),
                ..BatchShared::default()
            };
            let results: Vec<HostResult> = futures::stream::iter(batch.iter())
                .map(|h| host::run_host(&run, (index, play), h, &batch, &shared))
                .buffer_unordered(opts.forks.max(1))
                .collect()
                .await;
            let mut failed = Vec::new();
            for r in &results {
                recap.insert(
                    r.host.clone(),
                    recap.get(&r.host).copied().unwrap_or_default() + r.stats,
                );
                bad_input |= r
                    .stop
                    .as_ref()
                    .is_some_and(|s| s.cause == StopCause::BadInput);
                match r.end() {
                    HostEnd::Done => {
                        run.emitter.write(|j| j.host_done(index, &r.host));
                    }
                    HostEnd::Failed | HostEnd::Unreachable => failed.push(r.host.clone()),
                    HostEnd::Interrupted => {}
                }
            }
            failed.sort_by_key(|h| batch.iter().position(|b| b == h));
            total_failed += failed.len();
            run.emitter.emit(PushEvent::BatchDone {
                batch: b + 1,
                failed: failed.clone(),
            });
            let untouched: Vec<String> = todo[start..].iter().map(|h| h.to_string()).collect();
            let reason = if opts.cancel.load(Ordering::SeqCst) {
                status = RunStatus::Interrupted;
                Some("interrupted by the operator".to_string())
            } else if budget(play, opts.max_fail).exceeded(failed.len(), batch.len()) {
                status = RunStatus::Halted;
                Some(format!(
                    "batch {} of play `{}` failed on {} of {} host(s) ({}), over the failure budget",
                    b + 1,
                    play.name,
                    failed.len(),
                    batch.len(),
                    failed.join(", ")
                ))
            } else if let Some(why) = (canary > 0 && b == 0)
                .then(|| canary_disagreement(&results))
                .flatten()
            {
                status = RunStatus::Halted;
                Some(format!(
                    "the canary batch of play `{}` did not go as predicted: {why}",
                    play.name
                ))
            } else if opts.max_fail_total.is_some_and(|n| total_failed > n) {
                status = RunStatus::Halted;
                Some(format!(
                    "{total_failed} host(s) failed in this run, over --max-fail-total"
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                run.emitter.emit(PushEvent::Halted { reason, untouched });
                break 'plays;
            }
        }
    }
    run.emitter.write(|j| j.finish(status));
    run.emitter.emit(PushEvent::RunDone {
        status,
        recap: recap.clone(),
    });
    PushSummary {
        status,
        recap,
        bad_input,
    }
}

/// Checks every play's `hosts:` pattern and the limit before anything is touched: each must select
/// hosts of the inventory, and some play must have a host the limit keeps (a play the limit leaves
/// out entirely is skipped when its turn comes, as Ansible skips it).
pub fn check_patterns(
    playbook: &Playbook,
    inventory: &Inventory,
    limit: Option<&str>,
) -> Result<(), String> {
    let mut any = false;
    for play in &playbook.plays {
        if dynamic_before(playbook, play) {
            // Its hosts may come from add_host or group_by: known when its turn comes.
            any = true;
            continue;
        }
        let hosts = inventory
            .select_within(&play.hosts, limit)
            .map_err(|e| format!("play `{}` (hosts: {}): {e}", play.name, play.hosts))?;
        any |= !hosts.is_empty();
    }
    match limit {
        Some(limit) if !any => Err(format!(
            "--limit {limit} keeps no host of any play ({})",
            playbook
                .plays
                .iter()
                .map(|p| p.hosts.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => Ok(()),
    }
}

/// Whether a play before `play` adds hosts or groups to the inventory as it runs.
fn dynamic_before(playbook: &Playbook, play: &Play) -> bool {
    playbook
        .plays
        .iter()
        .take_while(|p| !std::ptr::eq(*p, play))
        .any(Play::changes_inventory)
}

/// Why the play may not start a batch now: it has maintenance windows and none is open.
fn window_refusal(play: &Play) -> Option<String> {
    let now = jiff::Timestamp::now();
    // Any open window yields None, and so does the whole collect.
    let refusals: Vec<String> = play
        .windows
        .iter()
        .map(|w| w.refusal(now))
        .collect::<Option<_>>()?;
    (!refusals.is_empty()).then(|| refusals.join("; "))
}

/// The batch failure budget: `--max-fail` if given (`--max-fail 0` too), else the play's
/// `max_fail_percentage`, else none at all.
fn budget(play: &Play, flag: Option<FailBudget>) -> FailBudget {
    flag.or(play.max_fail_percentage.map(FailBudget::Percent))
        .unwrap_or(FailBudget::Count(0))
}

/// One host's part of a play.
struct HostResult {
    host: String,
    stats: HostStats,
    /// Why it stopped early; None when it did its whole play.
    stop: Option<Stop>,
    /// Roll-call predictions that what was seen contradicted, in words (for `--canary`).
    disagreements: Vec<String>,
}

impl HostResult {
    fn end(&self) -> HostEnd {
        match &self.stop {
            None => HostEnd::Done,
            Some(stop) if stop.cause == StopCause::Interrupted => HostEnd::Interrupted,
            Some(_) if self.stats.unreachable > 0 => HostEnd::Unreachable,
            Some(_) => HostEnd::Failed,
        }
    }
}

/// The canary's roll calls against their predictions: what disagreed, host by host.
fn canary_disagreement(results: &[HostResult]) -> Option<String> {
    let said: Vec<String> = results
        .iter()
        .filter(|r| !r.disagreements.is_empty())
        .map(|r| format!("{}: {}", r.host, r.disagreements.join("; ")))
        .collect();
    (!said.is_empty()).then(|| said.join("; "))
}

/// What a task event says beyond its status.
#[derive(Default)]
struct TaskReport {
    msg: String,
    item: Option<String>,
    diff: Option<String>,
    output: Option<TaskOutput>,
    /// The registered result, with `-v`.
    result: Option<Box<serde_json::Value>>,
}

/// Why a host stopped before the end of its play, and what that says.
struct Stop {
    msg: String,
    cause: StopCause,
}

impl Stop {
    fn failed(msg: String) -> Stop {
        Stop {
            msg,
            cause: StopCause::Failed,
        }
    }

    fn bad_input(msg: String) -> Stop {
        Stop {
            msg,
            cause: StopCause::BadInput,
        }
    }

    fn interrupted() -> Stop {
        Stop {
            msg: "interrupted by the operator".into(),
            cause: StopCause::Interrupted,
        }
    }
}

/// What ended a host's play early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopCause {
    /// A task or the host failed (a `rescue:` may take over).
    Failed,
    /// A template, variable or keyword value was bad (exit code 2; no `rescue:` hides it).
    BadInput,
    /// Ctrl-C: the host stopped between tasks; what it did counts as what it was.
    Interrupted,
}

/// A host working through a play.
struct HostRun<'a> {
    run: &'a Run<'a>,
    play: &'a Play,
    /// The play's place in the playbook, for the journal.
    play_index: usize,
    shared: &'a BatchShared,
    host: String,
    conn: HostConnection,
    transport: Transport,
    /// Inventory variables and facts, merged once.
    base: drover_roles::Vars,
    /// `register:` results and `set_fact` facts.
    facts: drover_roles::Vars,
    notified: IndexSet<String>,
    /// Handlers a halted attempt at this play left pending (from the journal), not yet notified.
    resumed_handlers: Vec<String>,
    stats: HostStats,
    batch: &'a [String],
    /// What ran before the host was touched, for the roll call.
    snapshot: Option<drover_upgrade::rollcall::Snapshot>,
    /// Roll-call predictions that what was seen contradicted, in words.
    disagreements: Vec<String>,
    /// The fact gathering's output, asked for together with the lock.
    early: Option<Result<drover_ssh::Output, drover_ssh::SshError>>,
    /// Whether a snapshot was attempted (it fails on a host without Docker, and is not retried).
    snapshot_taken: bool,
    /// The loop variables of the looped blocks and includes being run, outermost first.
    loop_scopes: Vec<drover_roles::Vars>,
    /// `--start-at-task` in its play: the pattern, until this host reaches the task it names.
    seeking: Option<String>,
    /// Connections opened for `delegate_to:` other hosts, kept for the host's later tasks.
    delegates: HashMap<String, Transport>,
    /// The connection was lost in a task whose `ignore_unreachable` let the host go on: the next
    /// task connects again.
    reconnect: bool,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_plays_order_arranges_its_hosts() {
        let arranged = |order| {
            let mut hosts = vec!["web2", "db1", "web10"];
            arrange(order, &mut hosts);
            hosts
        };
        assert_eq!(arranged(HostOrder::Inventory), ["web2", "db1", "web10"]);
        assert_eq!(
            arranged(HostOrder::ReverseInventory),
            ["web10", "db1", "web2"]
        );
        assert_eq!(arranged(HostOrder::Sorted), ["db1", "web10", "web2"]);
        assert_eq!(arranged(HostOrder::ReverseSorted), ["web2", "web10", "db1"]);
        let mut shuffled = arranged(HostOrder::Shuffle);
        shuffled.sort_unstable();
        assert_eq!(shuffled, ["db1", "web10", "web2"]);
    }

    #[test]
    fn failure_budgets_parse_and_halt_as_ansible_does() {
        assert_eq!(FailBudget::parse("2"), Ok(FailBudget::Count(2)));
        assert_eq!(FailBudget::parse(" 25% "), Ok(FailBudget::Percent(25.0)));
        for bad in ["", "x", "-1", "101%", "%"] {
            assert!(FailBudget::parse(bad).is_err(), "{bad}");
        }
        assert!(!FailBudget::Count(0).exceeded(0, 5));
        assert!(FailBudget::Count(0).exceeded(1, 5));
        assert!(!FailBudget::Count(2).exceeded(2, 5));
        // Ansible halts when the share is exceeded, not when it is reached.
        assert!(!FailBudget::Percent(40.0).exceeded(2, 5));
        assert!(FailBudget::Percent(40.0).exceeded(3, 5));
        assert!(!FailBudget::Percent(50.0).exceeded(0, 0));
    }

    fn playbook(text: &str) -> Playbook {
        Playbook::from_text(Path::new("/nonexistent/site.yml"), text, &[]).unwrap()
    }

    #[test]
    fn the_batch_budget_is_the_flag_then_the_play_then_none() {
        let pb = playbook("- hosts: all\n  max_fail_percentage: 30\n  tasks: []\n");
        assert_eq!(budget(&pb.plays[0], None), FailBudget::Percent(30.0));
        let zero = Some(FailBudget::Count(0));
        assert_eq!(budget(&pb.plays[0], zero), FailBudget::Count(0));
        let plain = playbook("- hosts: all\n  tasks: []\n");
        assert_eq!(budget(&plain.plays[0], None), FailBudget::Count(0));
    }

    #[test]
    fn patterns_are_checked_for_every_play_before_the_run() {
        let inv = Inventory::from_text(Path::new("h.ini"), "[web]\nw1\nw2\n[db]\nd1\n").unwrap();
        let two = playbook("- hosts: web\n  tasks: []\n- hosts: db\n  tasks: []\n");
        assert_eq!(check_patterns(&two, &inv, None), Ok(()));
        // A limit that leaves one play out is fine: that play is skipped.
        assert_eq!(check_patterns(&two, &inv, Some("w1")), Ok(()));
        let none = check_patterns(&two, &inv, Some("nope")).unwrap_err();
        assert!(none.contains("`nope` matches no hosts"), "{none}");
        let typo = playbook("- hosts: web\n  tasks: []\n- hosts: dbb\n  tasks: []\n");
        let err = check_patterns(&typo, &inv, None).unwrap_err();
        assert!(err.starts_with("play `dbb` (hosts: dbb):"), "{err}");
        let disjoint = check_patterns(&playbook("- hosts: db\n  tasks: []\n"), &inv, Some("web"));
        assert_eq!(
            disjoint,
            Err("--limit web keeps no host of any play (db)".to_string())
        );
    }
}
