//! `drover push`: plays in rolling batches, a failure budget per batch and per run, handlers, check
//! and diff modes, host locks, and a journal from which a halted run resumes.
//!
//! Within a batch every host runs its play on its own (Ansible's `free` strategy): a slow host does not
//! hold the others at each task. `run_once` tasks run on whichever host gets there first, and the
//! others take its result; with `any_errors_fatal`, a failure stops the other hosts before their next
//! task.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use drover_inventory::Inventory;
use drover_roles::{Batches, Module, Number, Play, Playbook, Role, Task, TaskBody};
use drover_ssh::Become;
use drover_templates::{Engine, OMIT};
use futures::StreamExt;
use indexmap::IndexSet;
use serde_json::{Value as Json, json};
use tokio::sync::OnceCell;
use tokio::sync::mpsc::UnboundedSender;

use crate::connection::{ConnectionSettings, HostConnection, Transport};
use crate::journal::Journal;
use crate::modules::{self, Args, ModuleCtx, Outcome};
use crate::push_event::{HostStats, PushEvent, TaskStatus};
use crate::{facts, lock};

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

/// What the operator asked of this push.
pub struct PushOptions {
    /// `--batch`, overriding the plays' `serial`.
    pub batches: Option<Batches>,
    /// Hosts worked on at once.
    pub forks: usize,
    /// `--max-fail` (default 0: any failure in a batch halts the rollout).
    pub max_fail: FailBudget,
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
    /// `--impact-gate risk`: the impact gate for every play.
    pub impact_gate: bool,
    /// `--ignore-window`: start batches outside the plays' maintenance windows.
    pub ignore_window: bool,
    /// `--yes`: operator checkpoints (`pause` with a prompt) continue without asking.
    pub yes: bool,
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
    /// `completed`, `halted` or `interrupted`.
    pub status: String,
    /// Counts per host.
    pub recap: BTreeMap<String, HostStats>,
    /// Some host failed because of a template or variable error (bad input, exit code 2).
    pub bad_input: bool,
}

/// What a failed `no_log` task says in place of its output.
pub const NO_LOG_FAILED: &str = "failed; the output is hidden because the task has `no_log: true`";

/// Sends events to the UI and records them in the journal.
struct Emitter<'a> {
    ui: &'a UnboundedSender<PushEvent>,
    journal: &'a Mutex<Journal>,
}

impl Emitter<'_> {
    fn emit(&self, event: PushEvent) {
        if let Ok(mut j) = self.journal.lock() {
            let _ = j.record(&event);
        }
        let _ = self.ui.send(event);
    }
}

/// Everything shared by the hosts of a run.
struct Run<'a> {
    inventory: &'a Inventory,
    settings: &'a ConnectionSettings,
    opts: &'a PushOptions,
    engine: Engine,
    emitter: Emitter<'a>,
    run_id: String,
    /// The journal's folder; fetched files go under it.
    run_dir: std::path::PathBuf,
    playbook_dir: String,
    /// `groups`: every group and its hosts.
    groups: Json,
    /// `hostvars`, only built when the playbook mentions it (it is O(hosts²) to hand to every host).
    hostvars: Option<Json>,
}

/// One batch's shared state.
#[derive(Default)]
struct BatchShared {
    fatal: AtomicBool,
    run_once: Mutex<HashMap<String, Arc<OnceCell<Outcome>>>>,
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
    let mentions_hostvars = std::fs::read_to_string(&playbook.path)
        .is_ok_and(|t| t.contains("hostvars"))
        || playbook
            .plays
            .iter()
            .flat_map(|p| &p.roles)
            .any(|r| role_mentions(r, "hostvars"));
    let run = Run {
        inventory,
        settings,
        opts,
        engine: Engine::new(),
        emitter: Emitter {
            ui,
            journal: &journal,
        },
        run_id: run_id.clone(),
        run_dir,
        playbook_dir: playbook
            .path
            .parent()
            .map_or_else(|| ".".into(), |p| p.display().to_string()),
        groups: inventory.groups_var(),
        hostvars: mentions_hostvars.then(|| hostvars_var(inventory)),
    };
    run.emitter.emit(PushEvent::RunStarted {
        run_id,
        check: opts.check,
    });
    let mut recap: BTreeMap<String, HostStats> = BTreeMap::new();
    let mut bad_input = false;
    let mut total_failed = 0;
    let mut status = "completed".to_string();
    'plays: for (index, play) in playbook.plays.iter().enumerate() {
        let hosts = match inventory.select(&play.hosts, opts.limit.as_deref()) {
            Ok(h) => h,
            Err(e) => {
                run.emitter.emit(PushEvent::Halted {
                    reason: format!("play `{}`: {e}", play.name),
                    untouched: Vec::new(),
                });
                status = "halted".into();
                break;
            }
        };
        let done: Vec<String> = journal
            .lock()
            .map(|j| j.done(index).to_vec())
            .unwrap_or_default();
        let (already_done, todo): (Vec<&str>, Vec<&str>) =
            hosts.into_iter().partition(|h| done.iter().any(|d| d == h));
        run.emitter.emit(PushEvent::PlayStarted {
            play: play.name.clone(),
            hosts: todo.iter().map(|h| h.to_string()).collect(),
            already_done: already_done.iter().map(|h| h.to_string()).collect(),
        });
        let sizes = opts
            .batches
            .as_ref()
            .or(play.serial.as_ref())
            .map_or_else(|| vec![todo.len()], |b| b.sizes(todo.len()));
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
                    status = "refused".into();
                    break 'plays;
                }
            }
            start += size;
            run.emitter.emit(PushEvent::BatchStarted {
                batch: b + 1,
                of: sizes.len(),
                hosts: batch.clone(),
            });
            let shared = BatchShared::default();
            let results: Vec<HostResult> = futures::stream::iter(batch.iter())
                .map(|h| run_host(&run, play, h, &batch, &shared))
                .buffer_unordered(opts.forks.max(1))
                .collect()
                .await;
            let mut failed = Vec::new();
            for r in &results {
                recap.insert(
                    r.host.clone(),
                    add(recap.get(&r.host).copied().unwrap_or_default(), r.stats),
                );
                bad_input |= r.bad_input;
                if r.error.is_some() {
                    failed.push(r.host.clone());
                } else if let Ok(mut j) = journal.lock() {
                    let _ = j.host_done(index, &r.host);
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
                status = "interrupted".into();
                Some("interrupted by the operator".to_string())
            } else if budget(play, opts).exceeded(failed.len(), batch.len()) {
                status = "halted".into();
                Some(format!(
                    "batch {} of play `{}` failed on {} of {} host(s) ({}), over the failure budget",
                    b + 1,
                    play.name,
                    failed.len(),
                    batch.len(),
                    failed.join(", ")
                ))
            } else if opts.max_fail_total.is_some_and(|n| total_failed > n) {
                status = "halted".into();
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
    if let Ok(mut j) = journal.lock() {
        let _ = j.finish(&status);
    }
    run.emitter.emit(PushEvent::RunDone {
        status: status.clone(),
        recap: recap.clone(),
    });
    PushSummary {
        status,
        recap,
        bad_input,
    }
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

/// The batch failure budget: `max_fail_percentage` of the play, unless `--max-fail` was given.
fn budget(play: &Play, opts: &PushOptions) -> FailBudget {
    match (play.max_fail_percentage, opts.max_fail) {
        (Some(p), FailBudget::Count(0)) => FailBudget::Percent(p),
        (_, given) => given,
    }
}

fn add(a: HostStats, b: HostStats) -> HostStats {
    HostStats {
        ok: a.ok + b.ok,
        changed: a.changed + b.changed,
        unreachable: a.unreachable + b.unreachable,
        failed: a.failed + b.failed,
        skipped: a.skipped + b.skipped,
        rescued: a.rescued + b.rescued,
        ignored: a.ignored + b.ignored,
    }
}

fn role_mentions(role: &Role, word: &str) -> bool {
    ["tasks", "handlers", "templates"].iter().any(|sub| {
        std::fs::read_dir(role.path.join(sub))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(word)))
    })
}

fn hostvars_var(inv: &Inventory) -> Json {
    Json::Object(
        inv.hosts()
            .map(|h| (h.name.clone(), Json::Object(inv.host_vars(&h.name))))
            .collect(),
    )
}

/// One host's part of a play.
struct HostResult {
    host: String,
    stats: HostStats,
    error: Option<String>,
    bad_input: bool,
}

/// A task failure that stops the host, and whether it came from bad input (a template error).
struct Stop {
    msg: String,
    bad_input: bool,
}

/// A host working through a play.
struct HostRun<'a> {
    run: &'a Run<'a>,
    play: &'a Play,
    shared: &'a BatchShared,
    host: String,
    conn: HostConnection,
    transport: Transport,
    /// Inventory variables and facts, merged once.
    base: drover_roles::Vars,
    /// `register:` results and `set_fact` facts.
    facts: drover_roles::Vars,
    notified: IndexSet<String>,
    stats: HostStats,
    batch: &'a [String],
    /// What ran before the host was touched, for the roll call.
    snapshot: Option<drover_upgrade::rollcall::Snapshot>,
    /// Whether a snapshot was attempted (it fails on a host without Docker, and is not retried).
    snapshot_taken: bool,
}

async fn run_host(
    run: &Run<'_>,
    play: &Play,
    host: &str,
    batch: &[String],
    shared: &BatchShared,
) -> HostResult {
    let inv_vars = run.inventory.template_vars(host);
    let conn = HostConnection::resolve(host, &inv_vars, run.settings);
    let mut result = HostResult {
        host: host.to_string(),
        stats: HostStats::default(),
        error: None,
        bad_input: false,
    };
    let transport = match Transport::open(&conn, run.settings).await {
        Ok(t) => t,
        Err(e) => {
            result.stats.unreachable = 1;
            result.error = Some(e.to_string());
            run.emitter.emit(PushEvent::HostDone {
                host: host.to_string(),
                stats: result.stats,
                error: result.error.clone(),
            });
            return result;
        }
    };
    let mut h = HostRun {
        run,
        play,
        shared,
        host: host.to_string(),
        conn,
        transport,
        base: inv_vars,
        facts: drover_roles::Vars::new(),
        notified: IndexSet::new(),
        stats: HostStats::default(),
        batch,
        snapshot: None,
        snapshot_taken: false,
    };
    let gate = if play.impact_gate || run.opts.impact_gate {
        h.impact_gate().await
    } else {
        Ok(())
    };
    let outcome = match gate.and(h.lock().await) {
        Ok(()) => {
            let played = h.play_sections().await;
            h.unlock().await;
            played
        }
        Err(msg) => Err(Stop {
            msg,
            bad_input: false,
        }),
    };
    if let Err(stop) = outcome {
        if h.stats.failed == 0 && h.stats.unreachable == 0 {
            h.stats.failed = 1;
        }
        result.error = Some(stop.msg);
        result.bad_input = stop.bad_input;
    }
    result.stats = h.stats;
    run.emitter.emit(PushEvent::HostDone {
        host: host.to_string(),
        stats: result.stats,
        error: result.error.clone(),
    });
    h.transport.close().await;
    result
}

/// Modules that may restart the Docker daemon or the host, judged before they run: the host's
/// containers are recorded just before the first of them, so a play without one costs no snapshot.
fn may_restart_docker_or_host(module: &Module) -> bool {
    matches!(module.name, "reboot" | "apt" | "service" | "systemd")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl HostRun<'_> {
    async fn lock(&mut self) -> Result<(), String> {
        let line = lock::lock_line(
            &self.run.run_id,
            &self.run.opts.owner,
            now() + self.run.opts.lock_ttl.as_secs(),
        );
        let cmd = lock::acquire_command(&self.run.run_id, &line, self.run.opts.break_lock);
        match self
            .transport
            .exec(&cmd, b"", Some(Duration::from_secs(30)), None)
            .await
        {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(lock::describe_holder(
                String::from_utf8_lossy(&o.stdout).trim(),
                now(),
            )),
            Err(e) => {
                self.stats.unreachable = 1;
                Err(e.to_string())
            }
        }
    }

    /// Records the running containers (when Docker answers and the play has roll calls), in the run
    /// folder too: before the first task that may restart Docker or the host, and after a compose
    /// change.
    async fn take_snapshot(&mut self) {
        self.snapshot_taken = true;
        if !self.play.rollcall.enabled {
            return;
        }
        if let Ok(snap) = crate::rollcall::snapshot(&self.transport, &self.conn).await {
            let dir = self.run.run_dir.join("snapshots");
            if std::fs::create_dir_all(&dir).is_ok() {
                let _ = std::fs::write(
                    dir.join(format!("{}.json", self.host)),
                    serde_json::to_vec_pretty(&snap).unwrap_or_default(),
                );
            }
            self.snapshot = Some(snap);
        }
    }

    /// A task that can restart the Docker daemon or the host: a reboot, a changed apt run that touched
    /// Docker, containerd or runc, or a service task on docker or containerd.
    fn restarts_docker_or_host(&self, module: &Module, outcome: &Outcome) -> bool {
        let touches = |text: &str| {
            ["docker", "containerd", "runc"]
                .iter()
                .any(|w| text.contains(w))
        };
        match module.name {
            "reboot" => outcome.changed,
            "apt" => {
                outcome.changed
                    && outcome
                        .result
                        .get("stdout")
                        .and_then(Json::as_str)
                        .is_some_and(touches)
            }
            "service" | "systemd" => {
                outcome.changed
                    && module
                        .args
                        .get("name")
                        .and_then(Json::as_str)
                        .is_some_and(touches)
                    && module
                        .args
                        .get("state")
                        .and_then(Json::as_str)
                        .is_some_and(|s| s != "started")
            }
            _ => false,
        }
    }

    /// The roll call after a restart: every container recorded before must be back.
    async fn rollcall(&mut self, task: &Task) -> Result<(), Stop> {
        let Some(snap) = self.snapshot.clone() else {
            return Ok(());
        };
        let spec = &self.play.rollcall;
        let opts = crate::rollcall::RollcallOptions {
            deadline: Duration::from_secs(spec.deadline),
            window: Duration::from_secs(spec.window),
            remediate: spec.remediate,
            intended_images: Vec::new(),
        };
        let report = crate::rollcall::verify(&self.transport, &self.conn, &snap, &opts).await;
        let dir = self.run.run_dir.join("rollcalls");
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(
                dir.join(format!("{}.json", self.host)),
                serde_json::to_vec_pretty(&report).unwrap_or_default(),
            );
        }
        let label = format!(
            "roll call after `{}`",
            task.name.clone().unwrap_or_else(|| "task".into())
        );
        if report.ok() {
            self.stats.ok += 1;
            let msg = format!("{} container(s) came back", report.containers.len());
            self.run.emitter.emit(PushEvent::Task {
                host: self.host.clone(),
                task: label,
                status: TaskStatus::Ok,
                msg,
                item: None,
                diff: None,
            });
            return Ok(());
        }
        self.stats.failed += 1;
        let msg = format!("did not come back: {}", report.failures().join(", "));
        self.run.emitter.emit(PushEvent::Task {
            host: self.host.clone(),
            task: label.clone(),
            status: TaskStatus::Failed,
            msg: msg.clone(),
            item: None,
            diff: None,
        });
        Err(Stop {
            msg: format!("{label} failed: {msg}"),
            bad_input: false,
        })
    }

    /// Refuses the host when its upgrade impact puts a container at risk, saying which and why.
    async fn impact_gate(&mut self) -> Result<(), String> {
        let report = crate::impact::assess_on(&self.transport, &self.conn)
            .await
            .map_err(|e| format!("impact gate: cannot assess the host: {e}"))?;
        let risky: Vec<String> = report
            .prediction
            .containers
            .iter()
            .filter(|c| {
                matches!(
                    c.fate,
                    drover_upgrade::Fate::AtRisk | drover_upgrade::Fate::WillNotReturn
                )
            })
            .map(|c| format!("{} ({}: {})", c.name, c.restart_policy, c.why))
            .collect();
        if risky.is_empty() {
            return Ok(());
        }
        Err(format!(
            "impact gate refused the host: {} container(s) would not come back on their own: {}",
            risky.len(),
            risky.join("; ")
        ))
    }

    async fn unlock(&self) {
        let _ = self
            .transport
            .exec(
                &lock::release_command(&self.run.run_id),
                b"",
                Some(Duration::from_secs(30)),
                None,
            )
            .await;
    }

    /// pre_tasks, roles and tasks, post_tasks; handlers run after each section, as in Ansible.
    async fn play_sections(&mut self) -> Result<(), Stop> {
        if self.play.gather_facts {
            self.gather_facts().await?;
        }
        let play = self.play;
        self.run_tasks(&play.pre_tasks, None, &[]).await?;
        self.flush_handlers().await?;
        for role in &play.roles {
            self.run_tasks(&role.tasks, Some(role), &[]).await?;
        }
        self.run_tasks(&play.tasks, None, &[]).await?;
        self.flush_handlers().await?;
        self.run_tasks(&play.post_tasks, None, &[]).await?;
        self.flush_handlers().await
    }

    async fn gather_facts(&mut self) -> Result<(), Stop> {
        match self
            .transport
            .exec(
                facts::FACTS_COMMAND,
                b"",
                Some(Duration::from_secs(60)),
                None,
            )
            .await
        {
            Ok(o) if o.status.success() => {
                self.base
                    .extend(facts::parse(&String::from_utf8_lossy(&o.stdout)));
                Ok(())
            }
            Ok(o) => Err(Stop {
                msg: format!(
                    "gathering facts: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
                bad_input: false,
            }),
            Err(e) => {
                self.stats.unreachable = 1;
                Err(Stop {
                    msg: e.to_string(),
                    bad_input: false,
                })
            }
        }
    }

    fn run_tasks<'t>(
        &'t mut self,
        tasks: &'t [Task],
        role: Option<&'t Role>,
        inherited_tags: &'t [String],
    ) -> futures::future::LocalBoxFuture<'t, Result<(), Stop>> {
        Box::pin(async move {
            for task in tasks {
                if self.run.opts.cancel.load(Ordering::SeqCst) {
                    return Err(Stop {
                        msg: "interrupted by the operator".into(),
                        bad_input: false,
                    });
                }
                if self.shared.fatal.load(Ordering::SeqCst) {
                    return Err(Stop { msg: "stopped: another host of the batch failed and the play sets any_errors_fatal".into(), bad_input: false });
                }
                let tags: Vec<String> = inherited_tags.iter().chain(&task.tags).cloned().collect();
                match &task.body {
                    TaskBody::Block(block) => {
                        if !self.conditions_hold(task, role).await? {
                            continue;
                        }
                        // An included role's tasks run with that role's variables and files.
                        let role = block.role.as_deref().or(role);
                        let outcome = self.run_tasks(&block.block, role, &tags).await;
                        let outcome = match outcome {
                            Err(stop) if !block.rescue.is_empty() && !stop.bad_input => {
                                self.stats.rescued += 1;
                                self.stats.failed = self.stats.failed.saturating_sub(1);
                                self.run_tasks(&block.rescue, role, &tags).await
                            }
                            other => other,
                        };
                        let always = self.run_tasks(&block.always, role, &tags).await;
                        outcome?;
                        always?;
                    }
                    TaskBody::Module(module) => {
                        if self.selected(&tags) {
                            self.run_module_task(task, module, role).await?;
                        }
                    }
                }
            }
            Ok(())
        })
    }

    /// A task keyword's number (`retries`, `delay`), rendering it when written as a template;
    /// `whole` when it counts something.
    fn number(
        &self,
        task: &Task,
        n: &Number,
        (what, whole): (&str, bool),
        vars: &drover_roles::Vars,
    ) -> Result<f64, String> {
        let text = match n {
            Number::Literal(x) => return Ok(*x),
            Number::Template(t) => self
                .run
                .engine
                .render_str(&format!("{} {what}", task.at), t, vars)
                .map_err(|e| e.to_string())?,
        };
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| *x >= 0.0 && x.is_finite() && (!whole || x.fract() == 0.0))
            .ok_or_else(|| {
                let kind = if whole {
                    "a whole number"
                } else {
                    "a number of seconds"
                };
                format!("{}: {what} is `{}`, expected {kind}", task.at, text.trim())
            })
    }

    /// `--tags` and `--skip-tags`, with the play's tags and Ansible's `always` and `never`.
    fn selected(&self, task_tags: &[String]) -> bool {
        let opts = self.run.opts;
        let tags: Vec<&String> = task_tags.iter().chain(&self.play.tags).collect();
        let has = |t: &str| tags.iter().any(|x| *x == t);
        if opts.skip_tags.iter().any(|t| has(t)) {
            return false;
        }
        if opts.tags.is_empty() {
            return !has("never");
        }
        has("always")
            || opts
                .tags
                .iter()
                .any(|t| has(t) || (t == "all" && !has("never")))
    }

    /// Variables for a task, lowest precedence first: role defaults, inventory and facts, play vars,
    /// role vars, task vars, registered results and facts, extra vars; then the magic variables.
    fn task_vars(&self, task: &Task, role: Option<&Role>) -> drover_roles::Vars {
        let mut vars = role.map(|r| r.defaults.clone()).unwrap_or_default();
        vars.extend(self.base.clone());
        vars.extend(self.play.vars.clone());
        if let Some(r) = role {
            vars.extend(r.vars.clone());
        }
        vars.extend(task.vars.clone());
        vars.extend(self.facts.clone());
        vars.extend(self.run.opts.extra_vars.clone());
        vars.insert("groups".into(), self.run.groups.clone());
        if let Some(hv) = &self.run.hostvars {
            vars.insert("hostvars".into(), hv.clone());
        }
        vars.insert("play_hosts".into(), json!(self.batch));
        vars.insert("ansible_play_batch".into(), json!(self.batch));
        vars.insert("playbook_dir".into(), json!(self.run.playbook_dir));
        // For evidence folders, audit lines and alert silences that name the run.
        vars.insert("drover_run_id".into(), json!(self.run.run_id));
        vars.insert("ansible_check_mode".into(), json!(self.run.opts.check));
        vars.insert("ansible_diff_mode".into(), json!(self.run.opts.diff));
        if let Some(r) = role {
            vars.insert("role_path".into(), json!(r.path.display().to_string()));
            vars.insert("role_name".into(), json!(r.name));
        }
        vars.insert(
            "__drover_search".into(),
            json!(
                task.search
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
            ),
        );
        self.run.engine.resolve_vars(&mut vars);
        vars
    }

    fn task_label(task: &Task, module: Option<&Module>, role: Option<&Role>) -> String {
        let name = task
            .name
            .clone()
            .unwrap_or_else(|| module.map_or("block", |m| m.name).to_string());
        match role {
            Some(r) => format!("{} : {name}", r.name),
            None => name,
        }
    }

    async fn conditions_hold(&mut self, task: &Task, role: Option<&Role>) -> Result<bool, Stop> {
        if task.when.is_empty() {
            return Ok(true);
        }
        let vars = self.task_vars(task, role);
        for cond in &task.when {
            match self
                .run
                .engine
                .eval_bool(&format!("{} when", task.at), cond, &vars)
            {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => return Err(self.template_failure(task, None, role, e.to_string())),
            }
        }
        Ok(true)
    }

    fn template_failure(
        &mut self,
        task: &Task,
        module: Option<&Module>,
        role: Option<&Role>,
        msg: String,
    ) -> Stop {
        let msg = format!("{msg} (host {})", self.host);
        self.stats.failed += 1;
        self.emit_task(
            task,
            module,
            role,
            TaskStatus::Failed,
            msg.clone(),
            None,
            None,
        );
        Stop {
            msg,
            bad_input: true,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_task(
        &self,
        task: &Task,
        module: Option<&Module>,
        role: Option<&Role>,
        status: TaskStatus,
        msg: String,
        item: Option<String>,
        diff: Option<String>,
    ) {
        // A failed command's message quotes its output, which is where a secret would show.
        let (msg, item, diff) = match (task.no_log, status) {
            (false, _) => (msg, item, diff),
            (true, TaskStatus::Failed) => (NO_LOG_FAILED.to_string(), None, None),
            (true, _) => (String::new(), None, None),
        };
        self.run.emitter.emit(PushEvent::Task {
            host: self.host.clone(),
            task: Self::task_label(task, module, role),
            status,
            msg,
            item,
            diff,
        });
    }

    async fn run_module_task(
        &mut self,
        task: &Task,
        module: &Module,
        role: Option<&Role>,
    ) -> Result<(), Stop> {
        if !self.conditions_hold(task, role).await? {
            self.stats.skipped += 1;
            self.emit_task(
                task,
                Some(module),
                role,
                TaskStatus::Skipped,
                String::new(),
                None,
                None,
            );
            if let Some(reg) = &task.register {
                self.facts.insert(
                    reg.clone(),
                    json!({"skipped": true, "changed": false, "failed": false}),
                );
            }
            return Ok(());
        }
        if !self.snapshot_taken && may_restart_docker_or_host(module) {
            self.take_snapshot().await;
        }
        let vars = self.task_vars(task, role);
        let items: Option<Vec<Json>> =
            match &task.loop_spec {
                None => None,
                Some(spec) => match self.run.engine.render_value(
                    &format!("{} loop", task.at),
                    &spec.items,
                    &vars,
                ) {
                    Ok(Json::Array(items)) => Some(items),
                    Ok(other) => {
                        return Err(self.template_failure(
                            task,
                            Some(module),
                            role,
                            format!("{}: loop needs a list, found {other}", task.at),
                        ));
                    }
                    Err(e) => {
                        return Err(self.template_failure(task, Some(module), role, e.to_string()));
                    }
                },
            };
        let outcome = match items {
            None => {
                self.run_once_or_here(task, module, role, &vars, None)
                    .await?
            }
            Some(items) => {
                let spec = task.loop_spec.as_ref().expect("loop spec");
                let mut results = Vec::new();
                let mut total = Outcome::default();
                for item in items {
                    let mut item_vars = vars.clone();
                    item_vars.insert(spec.loop_var.clone(), item.clone());
                    let label = match &spec.label {
                        Some(l) => self
                            .run
                            .engine
                            .render_str("loop_control.label", l, &item_vars)
                            .unwrap_or_else(|_| l.clone()),
                        None => drover_templates::py_str(&item),
                    };
                    let one = self
                        .run_once_or_here(task, module, role, &item_vars, Some(label))
                        .await?;
                    total.changed |= one.changed;
                    total.failed |= one.failed;
                    total.flush_handlers |= one.flush_handlers;
                    total.facts.extend(one.facts.clone());
                    if one.failed && total.msg.is_empty() {
                        total.msg = one.msg.clone();
                    }
                    let mut r = one.registered();
                    r[&spec.loop_var] = item;
                    results.push(r);
                }
                total.result.insert("results".into(), Json::Array(results));
                total
            }
        };
        if let Some(reg) = &task.register {
            self.facts.insert(reg.clone(), outcome.registered());
        }
        self.facts.extend(outcome.facts.clone());
        let status = self.count(task, &outcome);
        // A loop has reported each item as it ended.
        if task.loop_spec.is_none() {
            self.emit_task(
                task,
                Some(module),
                role,
                status,
                outcome.msg.clone(),
                None,
                outcome.diff.clone(),
            );
        }
        if outcome.changed && !outcome.failed {
            self.notified.extend(task.notify.iter().cloned());
        }
        if !outcome.failed && self.restarts_docker_or_host(module, &outcome) {
            self.rollcall(task).await?;
        }
        // A compose change is on purpose: what runs now (new images included) is what must come back.
        if module.name == "docker_compose" && outcome.changed && !outcome.failed {
            self.take_snapshot().await;
        }
        if outcome.flush_handlers {
            self.flush_handlers().await?;
        }
        match status {
            TaskStatus::Failed => Err(Stop {
                msg: format!(
                    "task `{}` failed: {}",
                    Self::task_label(task, Some(module), role),
                    outcome.msg
                ),
                bad_input: outcome.bad_input,
            }),
            _ => Ok(()),
        }
    }

    /// Counts a task's outcome in the host's stats and says how it ended.
    fn count(&mut self, task: &Task, outcome: &Outcome) -> TaskStatus {
        let status = status_of(task, outcome);
        match status {
            TaskStatus::Ok => self.stats.ok += 1,
            TaskStatus::Changed => {
                self.stats.ok += 1;
                self.stats.changed += 1;
            }
            TaskStatus::Failed => {
                self.stats.failed += 1;
                if self.play.any_errors_fatal {
                    self.shared.fatal.store(true, Ordering::SeqCst);
                }
            }
            TaskStatus::Ignored => self.stats.ignored += 1,
            TaskStatus::Skipped => self.stats.skipped += 1,
        }
        status
    }

    /// A `run_once` task (and `pause`, which Ansible runs once for all hosts) runs on the first host
    /// to reach it; the others take its result.
    async fn run_once_or_here(
        &mut self,
        task: &Task,
        module: &Module,
        role: Option<&Role>,
        vars: &drover_roles::Vars,
        item: Option<String>,
    ) -> Result<Outcome, Stop> {
        if !(task.run_once || module.name == "pause") {
            return self.attempt(task, module, role, vars, item).await;
        }
        let key = format!("{}|{}", task.at, item.clone().unwrap_or_default());
        let cell = {
            let mut map = self
                .shared
                .run_once
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            map.entry(key).or_default().clone()
        };
        // The first host to get here runs the task; the others wait for its result. A host whose
        // attempt stops (fails) leaves the cell empty for the next one.
        cell.get_or_try_init(|| self.attempt(task, module, role, vars, item))
            .await
            .cloned()
    }

    /// Renders the module's parameters, runs it with retries, and applies changed_when/failed_when.
    async fn attempt(
        &mut self,
        task: &Task,
        module: &Module,
        role: Option<&Role>,
        vars: &drover_roles::Vars,
        item: Option<String>,
    ) -> Result<Outcome, Stop> {
        let args = match self.run.engine.render_value(
            &format!("{}", module.at),
            &Json::Object(module.args.clone()),
            vars,
        ) {
            Ok(Json::Object(mut map)) => {
                map.retain(|_, v| v.as_str() != Some(OMIT));
                Args(map)
            }
            Ok(_) => Args(serde_json::Map::new()),
            Err(e) => return Err(self.template_failure(task, Some(module), role, e.to_string())),
        };
        let sudo = self.sudo_for(task);
        let outcome = if matches!(module.name, "reboot" | "wait_for_connection") {
            let check = task.check_mode.unwrap_or(self.run.opts.check);
            self.reconnect_module(module.name, &args, sudo.as_ref(), check)
                .await
        } else {
            match self.attempts(task, module, vars, args, sudo.as_ref()).await {
                Ok(o) => o,
                Err(msg) => return Err(self.template_failure(task, Some(module), role, msg)),
            }
        };
        if item.is_some() {
            let status = status_of(task, &outcome);
            self.emit_task(
                task,
                Some(module),
                role,
                status,
                outcome.msg.clone(),
                item,
                outcome.diff.clone(),
            );
        }
        Ok(outcome)
    }

    /// Runs the module, retrying while `until` is false. An error is a template or variable problem.
    async fn attempts(
        &self,
        task: &Task,
        module: &Module,
        vars: &drover_roles::Vars,
        args: Args,
        sudo: Option<&Become>,
    ) -> Result<Outcome, String> {
        let local = Transport::Local;
        let transport = if task.delegate_local {
            &local
        } else {
            &self.transport
        };
        let retries = match &task.retries {
            None => 0,
            Some(n) => self.number(task, n, ("retries", true), vars)? as u32,
        };
        let delay = self.number(task, &task.delay, ("delay", false), vars)?;
        let attempts = retries + 1;
        let mut outcome = Outcome::default();
        for attempt in 1..=attempts {
            let ctx = ModuleCtx {
                host: &self.host,
                transport,
                sudo,
                check: task.check_mode.unwrap_or(self.run.opts.check),
                diff: self.run.opts.diff,
                engine: &self.run.engine,
                vars,
                search: &task.search,
                run_dir: &self.run.run_dir,
                yes: self.run.opts.yes,
                timeout: task
                    .timeout
                    .map(Duration::from_secs)
                    .or(self.run.opts.task_timeout),
            };
            outcome = modules::run(module, Args(args.0.clone()), &ctx).await;
            self.apply_overrides(task, &mut outcome, vars)?;
            let Some(until) = &task.until else { break };
            let mut with_result = vars.clone();
            if let Some(reg) = &task.register {
                with_result.insert(reg.clone(), outcome.registered());
            }
            match self
                .run
                .engine
                .eval_bool(&format!("{} until", task.at), until, &with_result)
                .map_err(|e| e.to_string())?
            {
                true => break,
                false if attempt < attempts => {
                    tokio::time::sleep(Duration::from_secs_f64(delay)).await
                }
                false => {
                    outcome.failed = true;
                    outcome.msg = format!("`until: {until}` still false after {attempts} attempts");
                }
            }
        }
        Ok(outcome)
    }

    /// `changed_when` and `failed_when`, evaluated with the task's result registered.
    fn apply_overrides(
        &self,
        task: &Task,
        outcome: &mut Outcome,
        vars: &drover_roles::Vars,
    ) -> Result<(), String> {
        if task.changed_when.is_none() && task.failed_when.is_none() {
            return Ok(());
        }
        let mut with_result = vars.clone();
        if let Some(reg) = &task.register {
            with_result.insert(reg.clone(), outcome.registered());
        }
        let all = |conds: &[String]| -> Result<bool, String> {
            for c in conds {
                if !self
                    .run
                    .engine
                    .eval_bool(&format!("{}", task.at), c, &with_result)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        if let Some(conds) = &task.changed_when {
            outcome.changed = all(conds)?;
        }
        if let Some(conds) = &task.failed_when {
            outcome.failed = all(conds)?;
            if !outcome.failed {
                outcome.msg.clear();
            } else if outcome.msg.is_empty() {
                outcome.msg = format!("failed_when: {}", conds.join(" and "));
            }
        }
        Ok(())
    }

    /// The task's become settings over the play's over the host's.
    fn sudo_for(&self, task: &Task) -> Option<Become> {
        let enabled = task.become_enabled.or(self.play.become_enabled);
        let user = task
            .become_user
            .clone()
            .or_else(|| self.play.become_user.clone());
        match (enabled, &self.conn.sudo) {
            (Some(false), _) => None,
            (Some(true), existing) => Some(Become {
                user: user
                    .or_else(|| existing.as_ref().map(|b| b.user.clone()))
                    .unwrap_or_else(|| self.run.settings.become_user.clone()),
                password: existing
                    .as_ref()
                    .and_then(|b| b.password.clone())
                    .or_else(|| self.run.settings.become_password.clone()),
            }),
            (None, Some(existing)) => Some(Become {
                user: user.unwrap_or_else(|| existing.user.clone()),
                password: existing.password.clone(),
            }),
            (None, None) => None,
        }
    }

    async fn boot_id(&self, sudo: Option<&Become>) -> Result<String, String> {
        match self
            .transport
            .exec(
                drover_upgrade::facts::BOOT_ID_COMMAND,
                b"",
                Some(Duration::from_secs(30)),
                sudo,
            )
            .await
        {
            Ok(o) if o.status.success() => {
                Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
            }
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// `reboot` and `wait_for_connection`, which replace the host's connection. A reboot counts only
    /// when the boot id has changed (a mere reconnect is not one), and the host must then stay up for
    /// `stable_for` seconds. A host key that changed across the reboot ends the wait at once.
    async fn reconnect_module(
        &mut self,
        module: &str,
        args: &Args,
        sudo: Option<&Become>,
        check: bool,
    ) -> Outcome {
        let rebooting = module == "reboot";
        if check {
            let what = if rebooting {
                "would reboot"
            } else {
                "would wait for the connection"
            };
            return Outcome {
                skipped: true,
                msg: what.into(),
                ..Outcome::default()
            };
        }
        let timeout = Duration::from_secs_f64(
            args.num(if rebooting {
                "reboot_timeout"
            } else {
                "timeout"
            })
            .unwrap_or(600.0),
        );
        let stable_for = Duration::from_secs_f64(args.num("stable_for").unwrap_or(if rebooting {
            30.0
        } else {
            0.0
        }));
        let started = std::time::Instant::now();
        let before = if rebooting {
            let before = match self.boot_id(sudo).await {
                Ok(id) => id,
                Err(e) => {
                    return Outcome::fail(format!("reading the boot id before the reboot: {e}"));
                }
            };
            tokio::time::sleep(Duration::from_secs_f64(
                args.num("pre_reboot_delay").unwrap_or(0.0),
            ))
            .await;
            let cmd = args
                .str("reboot_command")
                .unwrap_or_else(|| "shutdown -r now 'Reboot initiated by drover'".into());
            // The connection may drop before the command returns; what counts is the boot id.
            let _ = self
                .transport
                .exec(&cmd, b"", Some(Duration::from_secs(10)), sudo)
                .await;
            let old = std::mem::replace(&mut self.transport, Transport::Local);
            old.close().await;
            Some(before)
        } else {
            tokio::time::sleep(Duration::from_secs_f64(args.num("delay").unwrap_or(0.0))).await;
            None
        };
        if let Err(msg) = self
            .wait_until_back(before.as_deref(), started, timeout, sudo)
            .await
        {
            return Outcome::fail(msg);
        }
        tokio::time::sleep(Duration::from_secs_f64(
            args.num("post_reboot_delay").unwrap_or(0.0),
        ))
        .await;
        let back_id = self.boot_id(sudo).await.unwrap_or_default();
        tokio::time::sleep(stable_for).await;
        match self.boot_id(sudo).await {
            Ok(id) if id == back_id => {}
            Ok(_) => {
                return Outcome::fail(format!(
                    "the host rebooted again within the {}s stability window",
                    stable_for.as_secs()
                ));
            }
            Err(e) => {
                return Outcome::fail(format!(
                    "the host went away within the {}s stability window: {e}",
                    stable_for.as_secs()
                ));
            }
        }
        let test = args.str("test_command").unwrap_or_else(|| "whoami".into());
        match self
            .transport
            .exec(&test, b"", Some(Duration::from_secs(60)), sudo)
            .await
        {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return Outcome::fail(format!(
                    "test command `{test}` failed after the reboot: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
            Err(e) => return Outcome::fail(e.to_string()),
        }
        let mut out = Outcome {
            changed: rebooting,
            ..Outcome::default()
        };
        out.result.insert("rebooted".into(), json!(rebooting));
        out.result
            .insert("elapsed".into(), json!(started.elapsed().as_secs()));
        out
    }

    /// Reconnects with backoff until the host answers (with a new boot id, if `before` is given).
    async fn wait_until_back(
        &mut self,
        before: Option<&str>,
        started: std::time::Instant,
        timeout: Duration,
        sudo: Option<&Become>,
    ) -> Result<(), String> {
        let mut pause = Duration::from_millis(500);
        let mut last = String::from("not reachable");
        loop {
            if started.elapsed() >= timeout {
                return Err(format!(
                    "the host did not come back within {}s ({last})",
                    timeout.as_secs()
                ));
            }
            let alive = before.is_none()
                && matches!(self.transport, Transport::Ssh(_))
                && self
                    .transport
                    .exec("true", b"", Some(Duration::from_secs(10)), None)
                    .await
                    .is_ok_and(|o| o.status.success());
            if alive {
                return Ok(());
            }
            match Transport::open(&self.conn, self.run.settings).await {
                Ok(t) => {
                    let old = std::mem::replace(&mut self.transport, t);
                    old.close().await;
                    match (before, self.boot_id(sudo).await) {
                        (None, Ok(_)) => return Ok(()),
                        (Some(old), Ok(id)) if id != old => return Ok(()),
                        (Some(_), Ok(_)) => {
                            last = "reachable, but the boot id has not changed yet".into()
                        }
                        (_, Err(e)) => last = e,
                    }
                }
                Err(e) if e.is_host_key_or_auth() => return Err(format!("after the reboot: {e}")),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    /// Runs the notified handlers, in the order they are defined, once each.
    fn flush_handlers(&mut self) -> futures::future::LocalBoxFuture<'_, Result<(), Stop>> {
        Box::pin(async move {
            if self.notified.is_empty() {
                return Ok(());
            }
            let notified = std::mem::take(&mut self.notified);
            let play = self.play;
            let handlers = play
                .roles
                .iter()
                .chain(&play.included_roles)
                .flat_map(|r| r.handlers.iter().map(move |h| (h, Some(r))))
                .chain(play.handlers.iter().map(|h| (h, None)));
            for (handler, role) in handlers {
                let answers = handler
                    .name
                    .iter()
                    .chain(&handler.listen)
                    .any(|n| notified.contains(n));
                if answers && let TaskBody::Module(module) = &handler.body {
                    self.run_module_task(handler, module, role).await?;
                }
            }
            Ok(())
        })
    }
}

fn status_of(task: &Task, outcome: &Outcome) -> TaskStatus {
    match (
        outcome.failed,
        task.ignore_errors,
        outcome.skipped,
        outcome.changed,
    ) {
        (true, true, _, _) => TaskStatus::Ignored,
        (true, false, _, _) => TaskStatus::Failed,
        (_, _, true, _) => TaskStatus::Skipped,
        (_, _, _, true) => TaskStatus::Changed,
        _ => TaskStatus::Ok,
    }
}
