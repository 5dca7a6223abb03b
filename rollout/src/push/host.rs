//! One host's part of a play: its lock, facts, tasks in order, handlers.

use super::*;

/// Reports how a host's part ended, and returns it.
fn report(run: &Run<'_>, result: HostResult, conn: Option<&HostConnection>) -> HostResult {
    run.emitter.emit(PushEvent::HostDone {
        host: result.host.clone(),
        end: result.end(),
        stats: result.stats,
        error: result.stop.as_ref().map(|s| s.msg.clone()),
        traffic: conn
            .filter(|c| matches!(c.connection, crate::connection::Connection::Ssh(_)))
            .map(|c| c.traffic.counts()),
    });
    result
}

/// Takes `host` through `play`, within its batch: connect, lock, the play's sections and handlers,
/// unlock. Its end is reported as a [`PushEvent::HostDone`] and returned.
pub(super) async fn run_host(
    run: &Run<'_>,
    (play_index, play): (usize, &Play),
    host: &str,
    batch: &[String],
    shared: &BatchShared,
) -> HostResult {
    let inv_vars = run.inventory().template_vars(host);
    // However this host's part ends, the others stop waiting for its facts.
    let _gathered = Arrival(&shared.gathering, host);
    let mut result = HostResult {
        host: host.to_string(),
        stats: HostStats::default(),
        stop: None,
        disagreements: Vec::new(),
    };
    // The play's remote_user and connection apply where the host's variables say nothing.
    let mut conn_vars = inv_vars.clone();
    for (key, value) in [
        ("ansible_user", &play.remote_user),
        ("ansible_connection", &play.connection),
    ] {
        if let Some(v) = value {
            conn_vars.entry(key).or_insert_with(|| serde_json::json!(v));
        }
    }
    let conn = match HostConnection::resolve(host, &conn_vars, run.settings) {
        Ok(conn) => conn,
        Err(e) => {
            result.stats.failed = 1;
            result.stop = Some(Stop::bad_input(e));
            return report(run, result, None);
        }
    };
    let transport = match Transport::open(&conn, run.settings).await {
        Ok(t) => t,
        Err(e) => {
            result.stats.unreachable = 1;
            result.stop = Some(Stop::failed(e.to_string()));
            return report(run, result, Some(&conn));
        }
    };
    let mut h = HostRun {
        run,
        play,
        play_index,
        shared,
        host: host.to_string(),
        conn,
        transport,
        // An earlier play's facts stay with the host, below a new gathering's.
        base: inv_vars
            .into_iter()
            .chain(run.live.gathered_by(host))
            .collect(),
        // Facts, set_fact values and registered results of earlier plays stay with the host.
        facts: run.live.own(host),
        notified: IndexSet::new(),
        resumed_handlers: Vec::new(),
        stats: HostStats::default(),
        batch,
        snapshot: None,
        disagreements: Vec::new(),
        early: None,
        snapshot_taken: false,
        loop_scopes: Vec::new(),
        delegates: HashMap::new(),
        reconnect: false,
        seeking: run
            .opts
            .start_at
            .clone()
            .filter(|_| run.start_play == Some(play_index)),
    };
    let gate = match play.impact_gate.max(run.opts.impact_gate) {
        drover_roles::ImpactGate::Off => Ok(()),
        mode => h.impact_gate(mode).await,
    };
    // The facts the play gathers are asked for at the same time as the lock (two channels at
    // once: a round trip less on every host); read-only, they are thrown away when the lock is
    // refused. A play that gathers none takes the lock with its first command instead, in the
    // same exec (a round trip less again).
    let gathers = play.gather_facts && h.gather_condition() == Ok(true);
    let (locked, early) = match gate {
        Ok(()) if !gathers && h.lock_with_first_command().await => (Ok(()), None),
        Ok(()) => {
            let facts = async {
                match gathers {
                    true => Some(h.run_gather().await),
                    false => None,
                }
            };
            let (locked, early) = tokio::join!(h.take_lock(), facts);
            (locked, early)
        }
        Err(e) => (Err((e, false)), None),
    };
    h.early = early;
    let locked = locked.map_err(|(msg, unreachable)| {
        if unreachable {
            h.stats.unreachable = 1;
        }
        msg
    });
    let outcome = match locked {
        Ok(()) => {
            h.resume_pending_handlers();
            let played = match h.play_sections().await {
                Err(stop) if stop.cause == StopCause::Failed && h.forces_handlers() => {
                    // The first failure is what the host reports; a handler's own shows on its line.
                    let _ = h.flush_handlers().await;
                    Err(stop)
                }
                played => played,
            };
            // A refused lock is why the host stopped, whatever its first command made of it.
            let played = h.check_lock().await.and(played);
            h.unlock().await;
            played
        }
        Err(msg) => Err(Stop::failed(msg)),
    };
    if let Err(stop) = &outcome {
        shared
            .stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(host.to_string());
        let counted = h.stats.failed > 0 || h.stats.unreachable > 0;
        if !counted && stop.cause != StopCause::Interrupted {
            h.stats.failed = 1;
        }
    }
    result.stats = h.stats;
    result.stop = outcome.err();
    result.disagreements = std::mem::take(&mut h.disagreements);
    let result = report(run, result, Some(&h.conn));
    h.transport.close().await;
    result
}

/// The ansible-core release whose behaviour drover is held against (its fixtures were rendered by
/// it), as `ansible_version` gives it to templates that print or compare it.
const ANSIBLE_VERSION: (u32, u32, u32) = (2, 19, 14);

/// The play's magic variables that do not change from task to task: `ansible_version`,
/// `ansible_play_name`, `ansible_verbosity`, `ansible_forks` and the role name lists.
pub(super) fn play_magic(play: &Play, opts: &super::PushOptions) -> drover_roles::Vars {
    let (major, minor, revision) = ANSIBLE_VERSION;
    let full = format!("{major}.{minor}.{revision}");
    // Role names as sets, sorted (Ansible's come from a Python set, in no order of their own).
    let names = |dependency: bool| -> Vec<String> {
        let set: std::collections::BTreeSet<&String> = (play.roles.iter())
            .chain(&play.included_roles)
            .filter(|r| r.is_dependency == dependency)
            .map(|r| &r.name)
            .collect();
        set.into_iter().cloned().collect()
    };
    let (named, dependent) = (names(false), names(true));
    let mut all: Vec<String> = named.iter().chain(&dependent).cloned().collect();
    all.sort();
    all.dedup();
    let mut vars = drover_roles::Vars::new();
    vars.insert(
        "ansible_version".into(),
        json!({"full": full, "string": full, "major": major, "minor": minor, "revision": revision}),
    );
    vars.insert("ansible_play_name".into(), json!(play.name));
    vars.insert("ansible_verbosity".into(), json!(opts.verbosity));
    vars.insert("ansible_forks".into(), json!(opts.forks));
    vars.insert("ansible_role_names".into(), json!(all));
    vars.insert("ansible_play_role_names".into(), json!(named));
    vars.insert("ansible_dependent_role_names".into(), json!(dependent));
    vars
}

/// Marks a host as arrived at the end of fact gathering when dropped.
struct Arrival<'a>(&'a super::Gathering, &'a str);

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        self.0.arrive(self.1);
    }
}

/// What the fact gathering at the start of a play is called while it runs, as in Ansible.
const GATHERING_FACTS: &str = "Gathering Facts";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl HostRun<'_> {
    /// The command that takes the host lock: exit 0 when taken, 3 with the holder's line when
    /// another run holds it.
    fn lock_command(&self) -> String {
        let line = lock::lock_line(
            &self.run.run_id,
            &self.run.opts.owner,
            now() + self.run.opts.lock_ttl.as_secs(),
            std::process::id(),
        );
        lock::acquire_command(&self.run.run_id, &line, self.run.opts.break_lock)
    }

    /// Why the lock command refused, from its exit code and what it printed.
    fn lock_refusal(&self, code: u32, said: &str) -> String {
        if code == 3 {
            lock::describe_holder(said.trim(), now(), &self.run.opts.owner, |pid| {
                std::path::Path::new(&format!("/proc/{pid}")).exists()
            })
        } else {
            format!(
                "cannot take the host lock {}: {}",
                lock::LOCK_PATH,
                said.trim()
            )
        }
    }

    /// Takes the host lock; the error says why not, and whether the host could not be reached.
    async fn take_lock(&self) -> Result<(), (String, bool)> {
        let cmd = self.lock_command();
        match self
            .transport
            .exec(&cmd, b"", Some(Duration::from_secs(30)), None)
            .await
        {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => {
                let code = match o.status {
                    drover_ssh::ExitStatus::Code(c) => c,
                    _ => u32::MAX,
                };
                let said = if code == 3 { o.stdout } else { o.stderr };
                Err((
                    self.lock_refusal(code, &String::from_utf8_lossy(&said)),
                    false,
                ))
            }
            Err(e) => Err((e.to_string(), true)),
        }
    }

    /// Arranges for the host lock to be taken by the host's first command, in the same exec;
    /// false where the transport cannot (the controller itself).
    async fn lock_with_first_command(&self) -> bool {
        self.transport.before_next(self.lock_command()).await
    }

    /// Fails the host when the lock its first command was to take was refused: that command, and
    /// so its task, did not run.
    pub(super) async fn check_lock(&self) -> Result<(), Stop> {
        match self.transport.refused_ahead().await {
            Some((code, said)) => Err(Stop::failed(self.lock_refusal(code, &said))),
            None => Ok(()),
        }
    }

    /// How this play gathers facts, when it does.
    fn gather(&self) -> facts::Gather {
        facts::Gather {
            subsets: self.play.gather_subset.clone(),
            fact_path: (self.play.fact_path.clone())
                .unwrap_or_else(|| facts::DEFAULT_FACT_PATH.into()),
        }
    }

    /// The fact gathering's one command, within the play's `gather_timeout`.
    async fn run_gather(&self) -> Result<drover_ssh::Output, drover_ssh::SshError> {
        self.transport
            .exec(
                &self.gather().command(),
                b"",
                Some(Duration::from_secs_f64(self.play.gather_timeout)),
                None,
            )
            .await
    }

    async fn unlock(&self) {
        // A lock never taken (no command ran, or it was refused) is not released.
        if self.transport.cancel_before_next().await
            || self.transport.refused_ahead().await.is_some()
        {
            return;
        }
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
            let gathered = match self.gathering_wanted() {
                Ok(true) => self.gather_facts().await,
                Ok(false) => {
                    self.skip_gathering();
                    Ok(())
                }
                Err(e) => Err(e),
            };
            self.shared.gathering.arrive(&self.host);
            gathered?;
            // The others' facts are bounded in coming: each gathers within its own deadline.
            let limit = Duration::from_secs_f64(self.play.gather_timeout) + Duration::from_secs(30);
            self.shared.gathering.wait(limit).await;
        }
        let play = self.play;
        self.run_tasks(&play.pre_tasks, None, &[]).await?;
        self.flush_handlers().await?;
        for role in &play.roles {
            self.run_tasks(&role.tasks, Some(role), &[]).await?;
        }
        self.run_tasks(&play.tasks, None, &[]).await?;
        // Handlers a halted attempt left pending run with the main section's, after its tasks
        // have put the host back as it was (a config re-rendered, then the restart).
        let resumed = std::mem::take(&mut self.resumed_handlers);
        self.notified.extend(resumed);
        self.flush_handlers().await?;
        self.run_tasks(&play.post_tasks, None, &[]).await?;
        self.flush_handlers().await
    }

    /// Whether the play's `gather_when` (an import's `when:`) holds for this host.
    fn gather_condition(&self) -> Result<bool, String> {
        let mut vars = self.base.clone();
        vars.extend(self.play.vars.clone());
        vars.extend(self.run.opts.extra_vars.clone());
        for cond in &self.play.gather_when {
            let at = format!("{} import_playbook when", self.play.at);
            match self.run.engine.eval_bool(&at, cond, &vars) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => return Err(format!("{e} (host {})", self.host)),
            }
        }
        Ok(true)
    }

    /// [`HostRun::gather_condition`], a template error failing the host.
    fn gathering_wanted(&mut self) -> Result<bool, Stop> {
        self.gather_condition().map_err(|e| {
            self.stats.failed += 1;
            Stop::bad_input(e)
        })
    }

    /// Reports the fact gathering an import's `when:` skipped for this host.
    fn skip_gathering(&mut self) {
        self.stats.skipped += 1;
        self.run.emitter.emit(PushEvent::task_line(
            &self.host,
            GATHERING_FACTS,
            TaskStatus::Skipped,
            String::new(),
        ));
    }

    /// Gathers facts, reported (and counted) as Ansible's `Gathering Facts` task is.
    async fn gather_facts(&mut self) -> Result<(), Stop> {
        self.run.emitter.emit(PushEvent::TaskStarted {
            host: self.host.clone(),
            task: GATHERING_FACTS.into(),
            at: self.play.at.to_string(),
        });
        let gather = self.gather();
        let ran = match self.early.take() {
            Some(ran) => ran,
            None => self.run_gather().await,
        };
        let result = match ran {
            Ok(o) if o.status.success() => {
                let facts = gather.parse(&String::from_utf8_lossy(&o.stdout));
                self.run.live.gathered(&self.host, &facts);
                self.base.extend(facts);
                Ok(())
            }
            Ok(o) => Err(format!(
                "gathering facts: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => {
                self.stats.unreachable = 1;
                Err(e.to_string())
            }
        };
        let status = match &result {
            Ok(()) => {
                self.stats.ok += 1;
                TaskStatus::Ok
            }
            Err(_) if self.stats.unreachable > 0 => TaskStatus::Unreachable,
            Err(_) => {
                self.stats.failed += 1;
                TaskStatus::Failed
            }
        };
        self.run.emitter.emit(PushEvent::task_line(
            &self.host,
            GATHERING_FACTS,
            status,
            result.as_ref().err().cloned().unwrap_or_default(),
        ));
        result.map_err(Stop::failed)
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
                    return Err(Stop::interrupted());
                }
                // A host that is gone runs nothing more: not its always: tasks, not its handlers,
                // and not on the controller in its place.
                if matches!(self.transport, Transport::Lost) {
                    return Err(Stop::failed(
                        "the host is lost (it did not come back); nothing more runs for it".into(),
                    ));
                }
                if self.shared.fatal.load(Ordering::SeqCst) {
                    return Err(Stop::failed("stopped: another host of the batch failed and the play sets any_errors_fatal".into()));
                }
                let tags: Vec<String> = inherited_tags.iter().chain(&task.tags).cloned().collect();
                match &task.body {
                    TaskBody::Block(block) if task.loop_spec.is_some() => {
                        self.run_looped_block(task, block, role, &tags).await?;
                    }
                    TaskBody::Block(block) => {
                        if !self.conditions_hold(task, role).await? {
                            continue;
                        }
                        let block = self.chosen(task, block, role, &drover_roles::Vars::new())?;
                        self.run_block(block, role, &tags).await?;
                    }
                    TaskBody::Module(module) => {
                        if let Some(pattern) = &self.seeking {
                            let label = Self::task_label(task, Some(module), role);
                            if !crate::listing::starts_here(&label, pattern) {
                                continue;
                            }
                            self.seeking = None;
                        }
                        if self.selected(&tags) {
                            self.run_module_task(task, module, role).await?;
                        }
                    }
                }
            }
            Ok(())
        })
    }

    /// A looped block or include (`include_tasks: x.yml` with `loop:`): its tasks once per item,
    /// with the loop variable set for them; `when` is asked of each item.
    async fn run_looped_block(
        &mut self,
        task: &Task,
        block: &drover_roles::Block,
        role: Option<&Role>,
        tags: &[String],
    ) -> Result<(), Stop> {
        let spec = task.loop_spec.as_ref().expect("a looped block");
        let vars = self.task_vars(task, role);
        let items = self
            .loop_items(task, &vars)
            .map_err(|e| self.template_failure(task, None, role, e))?;
        for index in 0..items.len() {
            let scope = spec.item_vars(&items, index);
            let mut item_vars = vars.clone();
            item_vars.extend(scope.clone());
            if !self.conditions_hold_with((task, None), role, &item_vars)? {
                continue;
            }
            let chosen = self.chosen(task, block, role, &scope)?;
            self.loop_scopes.push(scope);
            let ran = self.run_block(chosen, role, tags).await;
            self.loop_scopes.pop();
            ran?;
        }
        Ok(())
    }

    /// The block an include runs: itself, or, when its file name is a template, the block of the
    /// file the name renders to now (with `scope`, a loop item's variables); a name that renders to
    /// a file not found at load fails the task.
    fn chosen<'b>(
        &mut self,
        task: &Task,
        block: &'b drover_roles::Block,
        role: Option<&Role>,
        scope: &drover_roles::Vars,
    ) -> Result<&'b drover_roles::Block, Stop> {
        let Some(template) = &block.choose else {
            return Ok(block);
        };
        let mut vars = self.task_vars(task, role);
        vars.extend(scope.clone());
        let at = format!("{} include", task.at);
        let name = match self.run.engine.render_str(&at, template, &vars) {
            Ok(name) => name,
            Err(e) => return Err(self.template_failure(task, None, role, e.to_string())),
        };
        let found = block.block.iter().find_map(|t| match &t.body {
            TaskBody::Block(b) if b.candidate.as_deref() == Some(name.as_str()) => Some(b),
            _ => None,
        });
        found.ok_or_else(|| {
            let known: Vec<&str> = (block.block.iter())
                .filter_map(|t| match &t.body {
                    TaskBody::Block(b) => b.candidate.as_deref(),
                    TaskBody::Module(_) => None,
                })
                .collect();
            let msg = format!(
                "{at}: the task file `{name}` (from `{template}`) is not one found when the playbook was read ({})",
                known.join(", ")
            );
            self.template_failure(task, None, role, msg)
        })
    }

    /// A loop's items, rendered: a list, or an error naming the task.
    pub(super) fn loop_items(
        &self,
        task: &Task,
        vars: &drover_roles::Vars,
    ) -> Result<Vec<serde_json::Value>, String> {
        let Some(spec) = &task.loop_spec else {
            return Ok(Vec::new());
        };
        let name = format!("{} loop", task.at);
        if let Some(plugin) = &spec.lookup {
            let action = match &task.body {
                drover_roles::TaskBody::Module(m) => m.name(),
                drover_roles::TaskBody::Block(_) => "",
            };
            return self
                .run
                .engine
                .loop_items(&name, plugin, &spec.items, action, vars)
                .map_err(|e| e.to_string());
        }
        match self.run.engine.render_value(&name, &spec.items, vars) {
            Ok(serde_json::Value::Array(items)) => Ok(items),
            Ok(other) => Err(format!("{}: loop needs a list, found {other}", task.at)),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A block's tasks, its `rescue:` when they fail, then its `always:`.
    fn run_block<'t>(
        &'t mut self,
        block: &'t drover_roles::Block,
        role: Option<&'t Role>,
        tags: &'t [String],
    ) -> futures::future::LocalBoxFuture<'t, Result<(), Stop>> {
        Box::pin(async move {
            // An included role's tasks run with that role's variables and files.
            let role = block.role.as_deref().or(role);
            let outcome = self.run_tasks(&block.block, role, tags).await;
            let outcome = match outcome {
                Err(stop) if !block.rescue.is_empty() && stop.cause == StopCause::Failed => {
                    self.stats.rescued += 1;
                    self.stats.failed = self.stats.failed.saturating_sub(1);
                    self.run_tasks(&block.rescue, role, tags).await
                }
                other => other,
            };
            let always = self.run_tasks(&block.always, role, tags).await;
            outcome?;
            always
        })
    }

    /// A task keyword's number (`retries`, `delay`), rendering it when written as a template;
    /// `whole` when it counts something.
    pub(super) fn number(
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
        let tags: Vec<&str> = task_tags
            .iter()
            .chain(&self.play.tags)
            .map(String::as_str)
            .collect();
        crate::listing::tags_select(&tags, &self.run.opts.tags, &self.run.opts.skip_tags)
    }

    /// Variables for a task, lowest precedence first: role defaults, inventory and facts, play vars,
    /// role vars, task vars, registered results and facts, extra vars; then the magic variables.
    pub(super) fn task_vars(&self, task: &Task, role: Option<&Role>) -> drover_roles::Vars {
        let mut vars = role.map(|r| r.defaults.clone()).unwrap_or_default();
        vars.extend(self.base.clone());
        vars.extend(self.play.vars.clone());
        if let Some(r) = role {
            vars.extend(r.vars.clone());
        }
        vars.extend(task.vars.clone());
        for scope in &self.loop_scopes {
            vars.extend(scope.clone());
        }
        // Facts other hosts' tasks gathered for this one (`delegate_facts`), under its own.
        vars.extend(self.run.live.delegated_to(&self.host));
        vars.extend(self.facts.clone());
        vars.extend(self.run.opts.extra_vars.clone());
        vars.insert("play_hosts".into(), json!(self.batch));
        vars.insert("ansible_play_batch".into(), json!(self.batch));
        // The batch's hosts still active (a host that failed has stopped its part).
        let stopped = self
            .shared
            .stopped
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        let active: Vec<&String> = self.batch.iter().filter(|h| !stopped.contains(h)).collect();
        vars.insert("ansible_play_hosts".into(), json!(active));
        vars.insert(
            "ansible_play_hosts_all".into(),
            json!(self.shared.play_hosts),
        );
        let tags = &self.run.opts.tags;
        vars.insert(
            "ansible_run_tags".into(),
            if tags.is_empty() {
                json!(["all"])
            } else {
                json!(tags)
            },
        );
        vars.insert("ansible_skip_tags".into(), json!(self.run.opts.skip_tags));
        vars.insert("playbook_dir".into(), json!(self.run.playbook_dir));
        // For evidence folders, audit lines and alert silences that name the run.
        vars.insert("drover_run_id".into(), json!(self.run.run_id));
        vars.insert("ansible_check_mode".into(), json!(self.run.opts.check));
        vars.insert("ansible_diff_mode".into(), json!(self.run.opts.diff));
        if let Some(r) = role {
            vars.insert("role_path".into(), json!(r.path.display().to_string()));
            vars.insert("role_name".into(), json!(r.name));
        }
        vars.extend(self.shared.play_magic.clone());
        // As Ansible: a host's address is its name unless the inventory says otherwise, and a
        // play that gathered nothing has empty facts.
        if !vars.contains_key("ansible_host") {
            vars.insert("ansible_host".into(), json!(self.host));
        }
        vars.entry("ansible_facts".to_string())
            .or_insert_with(|| json!({}));
        vars.insert(
            "ansible_search_path".into(),
            json!(
                (role.into_iter())
                    .flat_map(|r| [r.path.clone(), r.path.join("tasks")])
                    .map(|p| p.display().to_string())
                    .chain([self.run.playbook_dir.clone()])
                    .collect::<Vec<_>>()
            ),
        );
        vars.insert(
            "__drover_search".into(),
            json!(
                task.search
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
            ),
        );
        // Facts and registered results are data: what they hold is never rendered again (a command's
        // output with `{{` in it stays as it is), unless an extra var of the same name replaces it.
        let data: Vec<&String> = (self.facts.keys())
            .filter(|k| !self.run.opts.extra_vars.contains_key(*k))
            .collect();
        vars.insert(drover_templates::RENDERED.into(), json!(data));
        self.run.engine.resolve_vars(&mut vars);
        vars
    }

    pub(super) fn task_label(task: &Task, module: Option<&Module>, role: Option<&Role>) -> String {
        let name = task
            .name
            .clone()
            .unwrap_or_else(|| module.map_or("block", Module::name).to_string());
        match role {
            Some(r) => format!("{} : {name}", r.name),
            None => name,
        }
    }

    pub(super) async fn conditions_hold(
        &mut self,
        task: &Task,
        role: Option<&Role>,
    ) -> Result<bool, Stop> {
        if task.when.is_empty() {
            return Ok(true);
        }
        let vars = self.task_vars(task, role);
        self.conditions_hold_with((task, None), role, &vars)
    }

    /// [`HostRun::conditions_hold`] with the variables given (a loop's item among them: a looped
    /// task's `when` is asked of each item, as in Ansible).
    pub(super) fn conditions_hold_with(
        &mut self,
        (task, module): (&Task, Option<&Module>),
        role: Option<&Role>,
        vars: &drover_roles::Vars,
    ) -> Result<bool, Stop> {
        for cond in &task.when {
            match self
                .run
                .engine
                .eval_bool(&format!("{} when", task.at), cond, vars)
            {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => return Err(self.template_failure(task, module, role, e.to_string())),
            }
        }
        Ok(true)
    }

    pub(super) fn template_failure(
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
            TaskReport {
                msg: msg.clone(),
                ..TaskReport::default()
            },
        );
        Stop::bad_input(msg)
    }

    pub(super) fn emit_task(
        &self,
        task: &Task,
        module: Option<&Module>,
        role: Option<&Role>,
        status: TaskStatus,
        report: TaskReport,
    ) {
        // A failed command's message and output are where a secret would show.
        let report = match (task.hides_output(), status) {
            (false, _) => report,
            (true, TaskStatus::Failed) => TaskReport {
                msg: NO_LOG_FAILED.to_string(),
                ..TaskReport::default()
            },
            (true, _) => TaskReport::default(),
        };
        self.run.emitter.emit(PushEvent::Task {
            host: self.host.clone(),
            task: Self::task_label(task, module, role),
            status,
            msg: report.msg,
            item: report.item,
            diff: report.diff,
            output: report.output,
            result: report.result,
            at: (self.run.opts.verbosity >= 2).then(|| task.at.to_string()),
        });
    }

    /// The task's become settings over the play's over the host's.
    pub(super) fn sudo_for(&self, task: &Task) -> Option<Become> {
        let mut sudo = become_for(
            task.become_enabled.or(self.play.become_enabled),
            task.become_user
                .clone()
                .or_else(|| self.play.become_user.clone()),
            &self.conn,
            (
                &self.run.settings.become_user,
                self.run.settings.become_password.as_deref(),
            ),
        );
        // The task's become_flags over the host's (ansible_become_flags) over ansible.cfg's.
        if let Some(b) = &mut sudo
            && task.become_flags.is_some()
        {
            b.flags = task.become_flags.clone();
        }
        sudo
    }

    /// Handlers this host was notified of in an earlier attempt at this play (a halted run now
    /// resumed): they run after the main tasks, as if the notifying task had changed again.
    fn resume_pending_handlers(&mut self) {
        let pending = self
            .run
            .emitter
            .read(|j| j.pending_handlers(self.play_index, &self.host));
        if pending.is_empty() {
            return;
        }
        self.run.emitter.emit(PushEvent::Notice {
            message: format!(
                "{}: handlers notified before the run stopped will run: {}",
                self.host,
                pending.join(", ")
            ),
        });
        self.resumed_handlers = pending;
    }

    /// Keeps the journal's record of this host's pending handlers in step.
    pub(super) fn journal_pending_handlers(&self) {
        let pending: Vec<String> = self
            .notified
            .iter()
            .chain(&self.resumed_handlers)
            .cloned()
            .collect();
        self.run
            .emitter
            .write(|j| j.set_pending_handlers(self.play_index, &self.host, &pending));
    }

    /// Whether a failed host still runs its notified handlers (`force_handlers`).
    fn forces_handlers(&self) -> bool {
        (self.play.force_handlers || self.run.opts.force_handlers)
            && !matches!(self.transport, Transport::Lost)
    }

    /// Runs the notified handlers, in the order they are defined, once each.
    pub(super) fn flush_handlers(
        &mut self,
    ) -> futures::future::LocalBoxFuture<'_, Result<(), Stop>> {
        Box::pin(async move {
            if self.notified.is_empty() {
                return Ok(());
            }
            let notified = std::mem::take(&mut self.notified);
            for (handler, role) in play_handlers(self.play) {
                let answers = notified.iter().any(|n| {
                    drover_roles::handler_answers(role.map(|r| r.name.as_str()), handler, n)
                });
                if !answers {
                    continue;
                }
                match &handler.body {
                    TaskBody::Module(module) => self.run_module_task(handler, module, role).await?,
                    // An included task file notified by its name: all its tasks, in order.
                    TaskBody::Block(_) => {
                        self.run_tasks(std::slice::from_ref(handler), role, &[])
                            .await?
                    }
                }
            }
            // Only now are they done: a host stopped halfway runs them all again on resume.
            self.journal_pending_handlers();
            Ok(())
        })
    }
}

/// The play's handlers in the order they run: the roles' first, then the play's own.
pub(super) fn play_handlers(play: &Play) -> impl Iterator<Item = (&Task, Option<&Role>)> {
    play.roles
        .iter()
        .chain(&play.included_roles)
        .flat_map(|r| r.handlers.iter().map(move |h| (h, Some(r))))
        .chain(play.handlers.iter().map(|h| (h, None)))
}

/// Become for a task: `enabled` and `user` are the task's over the play's; the host's connection
/// (inventory `ansible_become*`, `--become`) fills in the rest, then the run's `--become-user` and
/// become password (`run_default`).
fn become_for(
    enabled: Option<bool>,
    user: Option<String>,
    conn: &HostConnection,
    run_default: (&str, Option<&str>),
) -> Option<Become> {
    match (enabled, &conn.sudo) {
        (Some(false), _) => None,
        // The inventory's become user and password apply whether or not it turned become on.
        (Some(true), _) => Some(Become {
            user: user
                .or_else(|| conn.become_user.clone())
                .unwrap_or_else(|| run_default.0.to_string()),
            password: conn
                .become_password
                .clone()
                .or_else(|| run_default.1.map(str::to_string)),
            flags: conn.become_flags.clone(),
        }),
        (None, Some(existing)) => Some(Become {
            user: user.unwrap_or_else(|| existing.user.clone()),
            password: existing.password.clone(),
            flags: existing.flags.clone(),
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(sudo: Option<&str>, inventory_user: Option<&str>) -> HostConnection {
        HostConnection {
            name: "h".into(),
            connection: crate::connection::Connection::Local,
            sudo: sudo.map(|u| Become {
                user: u.into(),
                password: Some("inv-pw".into()),
                flags: None,
            }),
            become_user: inventory_user.map(str::to_string),
            become_password: Some("inv-pw".into()),
            become_flags: None,
            traffic: Default::default(),
        }
    }

    #[test]
    fn become_takes_the_task_then_the_play_then_the_host_then_the_run() {
        let run = ("root", Some("run-pw"));
        let user = |b: Option<Become>| b.map(|b| b.user);
        // Nothing asks for it.
        assert_eq!(user(become_for(None, None, &host(None, None), run)), None);
        // The task turns it on: the inventory's become user, else the run's.
        assert_eq!(
            user(become_for(Some(true), None, &host(None, Some("app")), run)).as_deref(),
            Some("app")
        );
        assert_eq!(
            user(become_for(Some(true), None, &host(None, None), run)).as_deref(),
            Some("root")
        );
        // The task's (or play's) user wins; `become: false` wins over the inventory's become.
        assert_eq!(
            user(become_for(
                Some(true),
                Some("pg".into()),
                &host(None, Some("app")),
                run
            ))
            .as_deref(),
            Some("pg")
        );
        assert_eq!(
            user(become_for(
                Some(false),
                None,
                &host(Some("root"), None),
                run
            )),
            None
        );
        // The host already becomes someone: a task's user changes only the user.
        let b = become_for(None, Some("pg".into()), &host(Some("root"), None), run).unwrap();
        assert_eq!(
            (b.user.as_str(), b.password.as_deref()),
            ("pg", Some("inv-pw"))
        );
    }
}
