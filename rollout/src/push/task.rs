//! One task on one host: its module call, loop items, retries, `run_once` and result overrides.

use super::*;

impl HostRun<'_> {
    pub(super) async fn run_module_task(
        &mut self,
        task: &Task,
        module: &Module,
        role: Option<&Role>,
    ) -> Result<(), Stop> {
        let settled;
        let task = if task.templated.is_empty() {
            task
        } else {
            settled = self
                .settle_keywords(task, role)
                .map_err(|e| self.template_failure(task, Some(module), role, e))?;
            &settled
        };
        // A looped task's `when` is asked of each item (below), as in Ansible.
        if task.loop_spec.is_none() && !self.conditions_hold(task, role).await? {
            self.skip_task(task, module, role, None);
            return Ok(());
        }
        self.run_started_task(task, module, role).await
    }

    /// The task with its keywords written as templates (`ignore_errors: "{{ optional }}"`)
    /// rendered with its variables, as Ansible evaluates them before the task runs.
    fn settle_keywords(&self, task: &Task, role: Option<&Role>) -> Result<Task, String> {
        let vars = self.task_vars(task, role);
        let mut settled = task.clone();
        settled.templated.clear();
        for (keyword, text) in &task.templated {
            let name = format!("{} {}", task.at, keyword.name());
            let value = self
                .run
                .engine
                .render_value(&name, &Json::String(text.clone()), &vars)
                .map_err(|e| e.to_string())?;
            let flag = || match &value {
                Json::Bool(b) => Ok(*b),
                Json::Number(n) => Ok(n.as_f64() != Some(0.0)),
                Json::String(s) => drover_roles::truth(s)
                    .ok_or_else(|| format!("{name}: `{text}` gave `{s}`, which is not a boolean")),
                Json::Null => Ok(false),
                other => Err(format!(
                    "{name}: `{text}` gave {other}, which is not a boolean"
                )),
            };
            match keyword {
                TemplatedKeyword::IgnoreErrors => settled.ignore_errors = Some(flag()?),
                TemplatedKeyword::Become => settled.become_enabled = Some(flag()?),
                TemplatedKeyword::NoLog => settled.no_log = Some(flag()?),
                TemplatedKeyword::CheckMode => settled.check_mode = Some(flag()?),
                TemplatedKeyword::BecomeUser => {
                    settled.become_user = Some(match &value {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                }
                TemplatedKeyword::BecomeFlags => {
                    settled.become_flags = Some(match &value {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                }
                TemplatedKeyword::Timeout => {
                    let seconds = match &value {
                        Json::Number(n) => n.as_f64(),
                        Json::String(s) => s.trim().parse::<f64>().ok(),
                        _ => None,
                    }
                    .filter(|n| *n >= 0.0 && n.fract() == 0.0)
                    .ok_or_else(|| {
                        format!("{name}: `{text}` gave {value}, not a whole number of seconds")
                    })?;
                    settled.timeout = Some(seconds as u64);
                }
            }
        }
        Ok(settled)
    }

    /// `--step`: whether the operator lets `task` run, asked once per task and batch (the first host
    /// there asks, the others take the same answer): `y` runs it, `c` runs it and every later task
    /// without asking, anything else (Enter too) skips it, as ansible-playbook's `--step` does.
    async fn operator_runs(&self, task: &Task, module: &Module, role: Option<&Role>) -> bool {
        let run = self.run;
        if !run.opts.step {
            return true;
        }
        let label = Self::task_label(task, Some(module), role);
        let cell = self.shared.step(task, &label);
        // A task the operator already answered for the batch keeps that answer, even when a
        // faster host has since been told to continue: a host that gets there late must not run
        // what was refused.
        if let Some(answer) = cell.get() {
            return *answer;
        }
        if run.step_continue.load(Ordering::SeqCst) {
            return true;
        }
        *cell
            .get_or_init(|| async {
                if run.step_continue.load(Ordering::SeqCst) {
                    return true;
                }
                let ask = match &run.opts.operator {
                    Operator::Ask(ask) => ask.clone(),
                    // --yes answers every question; without a terminal the CLI refuses --step.
                    Operator::Yes | Operator::Absent => return true,
                };
                let question = format!("Perform task: TASK: {label} (N)o/(y)es/(c)ontinue:");
                let answer = tokio::task::spawn_blocking(move || ask.ask(&question)).await;
                match answer {
                    Ok(Ok(a)) => match a.trim().to_ascii_lowercase().as_str() {
                        "y" | "yes" => true,
                        "c" | "continue" => {
                            run.step_continue.store(true, Ordering::SeqCst);
                            true
                        }
                        _ => false,
                    },
                    _ => false,
                }
            })
            .await
    }

    /// Reports a task skipped (its `when` said no, for every item of a loop when it has one),
    /// registering it as Ansible does (with each item's result for a loop).
    fn skip_task(
        &mut self,
        task: &Task,
        module: &Module,
        role: Option<&Role>,
        results: Option<Vec<Json>>,
    ) {
        self.stats.skipped += 1;
        self.emit_task(
            task,
            Some(module),
            role,
            TaskStatus::Skipped,
            TaskReport::default(),
        );
        if let Some(reg) = &task.register {
            let mut r = json!({"skipped": true, "changed": false, "failed": false});
            if let Some(results) = results {
                r["results"] = Json::Array(results);
            }
            self.set_host_vars(&[(reg.clone(), r)].into_iter().collect());
        }
    }

    async fn run_started_task(
        &mut self,
        task: &Task,
        module: &Module,
        role: Option<&Role>,
    ) -> Result<(), Stop> {
        if !self.operator_runs(task, module, role).await {
            self.stats.skipped += 1;
            let report = TaskReport {
                msg: "skipped: the operator answered no (--step)".into(),
                ..TaskReport::default()
            };
            self.emit_task(task, Some(module), role, TaskStatus::Skipped, report);
            return Ok(());
        }
        // Held until the task ends on this host: at most `throttle` hosts run it at once.
        let _permit = match task.throttle {
            Some(limit) => self.shared.throttle(task, limit).acquire_owned().await.ok(),
            None => None,
        };
        self.run.emitter.emit(PushEvent::TaskStarted {
            host: self.host.clone(),
            task: Self::task_label(task, Some(module), role),
            at: task.at.to_string(),
        });
        if !self.snapshot_taken && restart::may_restart_docker_or_host(module) {
            self.take_snapshot().await;
        }
        let vars = self.task_vars(task, role);
        let items = match task.loop_spec {
            None => None,
            Some(_) => Some(
                self.loop_items(task, &vars)
                    .map_err(|e| self.template_failure(task, Some(module), role, e))?,
            ),
        };
        let mut outcome = match items {
            None => {
                self.run_once_or_here(task, module, role, &vars, None)
                    .await?
            }
            Some(items) => {
                let spec = task.loop_spec.as_ref().expect("loop spec");
                let mut results = Vec::new();
                let mut total = Outcome::default();
                let mut ran = false;
                for (index, item) in items.iter().cloned().enumerate() {
                    if let (Some(pause), true) = (spec.pause, index > 0) {
                        let pause = modules::seconds(pause).map_err(|e| {
                            Stop::bad_input(format!("{}: loop_control.pause: {e}", task.at))
                        })?;
                        tokio::time::sleep(pause).await;
                    }
                    let mut item_vars = vars.clone();
                    item_vars.extend(spec.item_vars(&items, index));
                    if !self.conditions_hold_with((task, Some(module)), role, &item_vars)? {
                        let mut r = json!({"skipped": true, "changed": false, "failed": false});
                        r[&spec.loop_var] = item;
                        results.push(r);
                        continue;
                    }
                    ran = true;
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
                    total.unreachable |= one.unreachable;
                    total.flush_handlers |= one.flush_handlers;
                    merge_facts(&mut total.facts, &one.facts);
                    total.inventory.extend(one.inventory.iter().cloned());
                    if one.failed && total.msg.is_empty() {
                        total.msg = one.msg.clone();
                    }
                    let mut r = one.registered();
                    r[&spec.loop_var] = item;
                    results.push(r);
                }
                // Every item skipped (or none at all): the task is skipped, as in Ansible.
                if !ran {
                    self.skip_task(task, module, role, Some(results));
                    return Ok(());
                }
                total.result.insert("results".into(), Json::Array(results));
                total
            }
        };
        self.check_lock().await?;
        if !outcome.failed && !outcome.inventory.is_empty() {
            outcome.changed |= self.change_inventory(&outcome.inventory);
        }
        let notify = if outcome.changed && !outcome.failed {
            self.notify_names(task, module, role, &vars)?
        } else {
            Vec::new()
        };
        if let Some(missing) = notify.iter().find(|n| {
            !host::play_handlers(self.play)
                .any(|(h, r)| drover_roles::handler_answers(r.map(|r| r.name.as_str()), h, n))
        }) {
            // As Ansible: the change is made, but nothing would act on it.
            outcome.failed = true;
            outcome.msg = format!(
                "The requested handler '{missing}' was not found in either the main handlers list nor in the listening handlers list"
            );
        }
        if let Some(reg) = &task.register {
            self.set_host_vars(&[(reg.clone(), outcome.registered())].into_iter().collect());
        }
        // Module facts under `ansible_facts` join the gathered ones, which live in the base vars.
        if outcome.facts.contains_key("ansible_facts")
            && !self.facts.contains_key("ansible_facts")
            && let Some(gathered) = self.base.get("ansible_facts")
        {
            self.facts.insert("ansible_facts".into(), gathered.clone());
        }
        self.set_host_vars(&outcome.facts);
        let status = self.count(task, &outcome);
        // A loop has reported each item as it ended.
        if task.loop_spec.is_none() {
            self.emit_outcome(task, module, role, status, &outcome, None);
        }
        if outcome.changed && !outcome.failed {
            self.notified.extend(notify);
            self.journal_pending_handlers();
        }
        if !outcome.failed && self.restarts_docker_or_host(module, &outcome) {
            self.run.emitter.emit(PushEvent::Restarted {
                host: self.host.clone(),
                task: Self::task_label(task, Some(module), role),
                reboot: module.kind == ModuleKind::Reboot,
            });
            self.rollcall(task).await?;
        }
        // A compose or container change is on purpose: what runs now (new images included) is what must come back.
        if matches!(
            module.kind,
            ModuleKind::DockerCompose | ModuleKind::DockerContainer
        ) && outcome.changed
            && !outcome.failed
        {
            self.take_snapshot().await;
        }
        if outcome.flush_handlers {
            self.flush_handlers().await?;
        }
        match status {
            TaskStatus::Failed | TaskStatus::Unreachable => {
                let msg = format!(
                    "task `{}` failed: {}",
                    Self::task_label(task, Some(module), role),
                    outcome.msg
                );
                Err(if outcome.bad_input {
                    Stop::bad_input(msg)
                } else {
                    Stop::failed(msg)
                })
            }
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
            TaskStatus::Unreachable => self.stats.unreachable = 1,
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
        // add_host runs once for the play, as Ansible's bypasses the host loop.
        if !(task.once() || matches!(module.kind, ModuleKind::Pause | ModuleKind::AddHost)) {
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
        // Variables whose values are templates render now, with the loop item set; one that still
        // cannot is an error where the task uses it, as in Ansible.
        // A task file included while the run goes was not checked at load.
        if let Some(msg) = module.missing(&task.module_defaults) {
            return Err(self.template_failure(task, Some(module), role, msg));
        }
        let mut vars = vars.clone();
        let unsettled = self.run.engine.settle_vars(&mut vars);
        let vars = &vars;
        let args = match self
            .run
            .engine
            .render_value(
                &format!("{}", module.at),
                &Json::Object(drover_roles::module_defaults::apply(
                    &task.module_defaults,
                    module,
                )),
                vars,
            )
            .map_err(|e| unsettled.explain(e))
        {
            Ok(Json::Object(mut map)) => {
                map.retain(|_, v| v.as_str() != Some(OMIT));
                Args(map)
            }
            Ok(_) => Args(serde_json::Map::new()),
            Err(e) => return Err(self.template_failure(task, Some(module), role, e.to_string())),
        };
        let sudo = self.sudo_for(task);
        let env = match self.environment(task, vars) {
            Ok(e) => e,
            Err(e) => return Err(self.template_failure(task, Some(module), role, e)),
        };
        let label = Self::task_label(task, Some(module), role);
        let outcome = match self
            .attempts(task, (module, &label), vars, args, (sudo.as_ref(), &env))
            .await
        {
            Ok(o) => o,
            Err(msg) => return Err(self.template_failure(task, Some(module), role, msg)),
        };
        if item.is_some() {
            let status = status_of(task, &outcome);
            self.emit_outcome(task, module, role, status, &outcome, item);
        }
        Ok(outcome)
    }

    /// Runs the module, retrying while `until` is false, with `changed_when`/`failed_when` applied
    /// to each attempt: every module goes this way, `reboot` and `wait_for_connection` (which
    /// replace the host's connection) included. An error is a template or variable problem.
    async fn attempts(
        &mut self,
        task: &Task,
        (module, label): (&Module, &str),
        vars: &drover_roles::Vars,
        args: Args,
        (sudo, env): (Option<&Become>, &[(String, String)]),
    ) -> Result<Outcome, String> {
        let retries = match &task.retries {
            None => 0,
            Some(n) => self.number(task, n, ("retries", true), vars)? as u32,
        };
        let delay = self.number(task, &task.delay, ("delay", false), vars)?;
        let attempts = retries + 1;
        let check = task.check_mode.unwrap_or(self.run.opts.check);
        let background = self.async_settings(task, module, vars)?;
        let delegate = match self.delegate(task, module, vars).await? {
            Ok(d) => d,
            // The delegate is unreachable: this host's task fails, as under Ansible.
            Err(unreachable) => return Ok(Outcome::fail(unreachable)),
        };
        if self.reconnect && delegate.is_none() {
            match Transport::open(&self.conn, self.run.settings).await {
                Ok(t) => {
                    self.transport = t;
                    self.reconnect = false;
                }
                Err(e) => {
                    return Ok(Outcome {
                        failed: true,
                        unreachable: true,
                        msg: format!("still unreachable: {e}"),
                        ..Outcome::default()
                    });
                }
            }
        }
        // -vvv: each command line as it is sent, never a no_log task's.
        let run = self.run;
        let host = self.host.clone();
        let become_user = sudo.map(|b| b.user.clone());
        let tell = move |line: &str| {
            run.emitter.emit(PushEvent::Exec {
                host: host.clone(),
                task: label.to_string(),
                as_user: become_user.clone(),
                command: line.to_string(),
            });
        };
        let trace: Option<&(dyn Fn(&str) + Sync)> =
            (run.opts.verbosity >= 3 && task.no_log != Some(true)).then_some(&tell);
        let mut outcome = Outcome::default();
        for attempt in 1..=attempts {
            outcome = match module.kind {
                ModuleKind::Reboot | ModuleKind::WaitForConnection => {
                    self.reconnect_module(module.kind, &args, sudo, check).await
                }
                _ => {
                    let transport = delegate
                        .as_ref()
                        .and_then(|d| self.delegates.get(d))
                        .unwrap_or(&self.transport);
                    let ctx = ModuleCtx {
                        host: &self.host,
                        transport,
                        sudo,
                        check,
                        diff: self.run.opts.diff,
                        engine: &self.run.engine,
                        vars,
                        search: &task.search,
                        run_dir: &self.run.run_dir,
                        operator: &self.run.opts.operator,
                        // `async` with polling is the most the task may take.
                        timeout: [
                            task.timeout.map(Duration::from_secs),
                            self.run.opts.task_timeout,
                            background.map(|(seconds, _)| Duration::from_secs(seconds)),
                        ]
                        .into_iter()
                        .flatten()
                        .min(),
                        env,
                        lost: std::cell::Cell::new(false),
                        trace,
                        verbosity: run.opts.verbosity,
                    };
                    let mut outcome = match background {
                        Some((seconds, true)) => {
                            modules::async_job::start(module.kind, &args, &ctx, seconds).await
                        }
                        _ => modules::run(module, Args(args.0.clone()), &ctx).await,
                    };
                    if ctx.lost.get() {
                        outcome.failed = true;
                        outcome.unreachable = true;
                    }
                    outcome
                }
            };
            if outcome.unreachable {
                // A delegate's connection is opened again when next needed; this host's by the next task.
                match &delegate {
                    Some(d) => drop(self.delegates.remove(d)),
                    None => self.reconnect = true,
                }
                break;
            }
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
                    tokio::time::sleep(
                        modules::seconds(delay).map_err(|e| format!("{}: delay: {e}", task.at))?,
                    )
                    .await
                }
                false => {
                    outcome.failed = true;
                    outcome.msg = format!("`until: {until}` still false after {attempts} attempts");
                }
            }
        }
        // delegate_facts: what the task gathered or set belongs to the host it ran on.
        if task.delegate_facts == Some(true)
            && let Some(target) = &delegate
        {
            self.run.live.delegate(target, &outcome.facts);
            outcome.facts.clear();
        }
        Ok(outcome)
    }

    /// Sets variables of this host's (registered results, facts, set_fact values) for its later
    /// tasks and for other hosts' `hostvars`.
    pub(super) fn set_host_vars(&mut self, new: &serde_json::Map<String, Json>) {
        if new.is_empty() {
            return;
        }
        merge_facts(&mut self.facts, new);
        let merged: serde_json::Map<String, Json> = new
            .keys()
            .filter_map(|k| Some((k.clone(), self.facts.get(k)?.clone())))
            .collect();
        self.run.live.set(&self.host, &merged);
    }

    /// `async:` seconds and whether the task goes to the background (`poll: 0`); none without
    /// `async`.
    fn async_settings(
        &self,
        task: &Task,
        module: &Module,
        vars: &drover_roles::Vars,
    ) -> Result<Option<(u64, bool)>, String> {
        let Some(seconds) = &task.async_seconds else {
            return Ok(None);
        };
        let seconds = self.number(task, seconds, ("async", true), vars)? as u64;
        // Ansible's default poll interval is 15 s; drover keeps the connection open instead of
        // polling, so only 0 (the background) changes what happens.
        let poll = match &task.poll {
            Some(p) => self.number(task, p, ("poll", true), vars)?,
            None => 15.0,
        };
        let background = poll == 0.0;
        if background && !matches!(module.kind, ModuleKind::Command | ModuleKind::Shell) {
            return Err(format!(
                "{}: `poll: 0` runs command and shell in the background; `{}` cannot run that way",
                task.at,
                module.name()
            ));
        }
        Ok(Some((seconds.max(1), background)))
    }

    /// The host a `delegate_to:` task runs on, its connection opened (once per host run) from that
    /// host's inventory variables (the implicit localhost is the controller). None when the task is
    /// not delegated, or delegated to this host itself; the inner error when the delegate cannot be
    /// reached (the task fails), the outer one for bad input.
    async fn delegate(
        &mut self,
        task: &Task,
        module: &Module,
        vars: &drover_roles::Vars,
    ) -> Result<Result<Option<String>, String>, String> {
        let Some(written) = &task.delegate_to else {
            return Ok(Ok(None));
        };
        let target = self
            .run
            .engine
            .render_str(&format!("{} delegate_to", task.at), written, vars)
            .map_err(|e| e.to_string())?
            .trim()
            .to_string();
        if target.is_empty() {
            return Err(format!("{}: delegate_to `{written}` is empty", task.at));
        }
        if target == self.host {
            return Ok(Ok(None));
        }
        if matches!(
            module.kind,
            ModuleKind::Reboot | ModuleKind::WaitForConnection
        ) {
            return Err(format!(
                "{}: {} cannot be delegated: it waits for this host's own connection",
                task.at,
                module.name()
            ));
        }
        if !self.delegates.contains_key(&target) {
            let conn = HostConnection::resolve(
                &target,
                &self.run.inventory().template_vars(&target),
                self.run.settings,
            )
            .map_err(|e| format!("{}: delegate_to: {e}", task.at))?;
            match Transport::open(&conn, self.run.settings).await {
                Ok(transport) => self.delegates.insert(target.clone(), transport),
                Err(e) => return Ok(Err(format!("delegate_to `{target}` is unreachable: {e}"))),
            };
        }
        Ok(Ok(Some(target)))
    }

    /// `changed_when` and `failed_when`, evaluated with the task's result registered.
    fn apply_overrides(
        &self,
        task: &Task,
        outcome: &mut Outcome,
        vars: &drover_roles::Vars,
    ) -> Result<(), String> {
        // As Ansible: a skipped result (a command in check mode) is not judged; its registered
        // value has no `stdout` or `rc` for the conditions to read.
        if outcome.skipped || (task.changed_when.is_none() && task.failed_when.is_none()) {
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

    /// Reports a module's outcome (of the task, or of one loop item).
    fn emit_outcome(
        &self,
        task: &Task,
        module: &Module,
        role: Option<&Role>,
        status: TaskStatus,
        outcome: &Outcome,
        item: Option<String>,
    ) {
        // A failure shows what the command printed; a success keeps its output to `register`.
        let output = matches!(status, TaskStatus::Failed | TaskStatus::Ignored)
            .then(|| TaskOutput::of(&outcome.result))
            .flatten();
        let report = TaskReport {
            msg: outcome.msg.clone(),
            item,
            diff: outcome.diff.clone(),
            output,
            result: (self.run.opts.verbosity >= 1).then(|| Box::new(outcome.registered())),
        };
        self.emit_task(task, Some(module), role, status, report);
    }

    /// Makes `add_host`'s and `group_by`'s changes in the run's inventory, and in the `groups` and
    /// `hostvars` templates see; whether any changed it.
    fn change_inventory(&mut self, changes: &[InventoryChange]) -> bool {
        let mut inventory = self
            .run
            .inventory
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let mut changed = false;
        let mut touched = Vec::new();
        for change in changes {
            let (made, host) = change.apply(&mut inventory, &self.host);
            changed |= made;
            touched.push(host.to_string());
        }
        if changed {
            let mut hostvars = serde_json::Map::new();
            let mut groups = serde_json::Map::new();
            // The host's own variables (group_names, a joined group's vars) change for its next
            // task, below the facts it gathered, as they were put together when the play began.
            if touched.contains(&self.host) {
                self.base = inventory
                    .template_vars(&self.host)
                    .into_iter()
                    .chain(self.run.live.gathered_by(&self.host))
                    .collect();
            }
            for host in touched {
                // `ungrouped` loses a host that joins a group.
                for group in inventory
                    .host_groups(&host)
                    .into_iter()
                    .chain(["ungrouped".into()])
                {
                    groups.insert(group.clone(), inventory.group_hosts(&group).into());
                }
                hostvars.insert(host.clone(), inventory.template_vars(&host).into());
            }
            self.run.live.update_inventory(hostvars, groups);
            drop(inventory);
            self.run
                .emitter
                .write(|j| j.inventory_changed(&self.host, changes));
        }
        changed
    }

    /// The handler names a changed task notifies, templates rendered (a role may name its handler
    /// by a variable).
    fn notify_names(
        &mut self,
        task: &Task,
        module: &Module,
        role: Option<&Role>,
        vars: &drover_roles::Vars,
    ) -> Result<Vec<String>, Stop> {
        let mut names = Vec::with_capacity(task.notify.len());
        for name in &task.notify {
            if !name.contains("{{") {
                names.push(name.clone());
                continue;
            }
            match self.run.engine.render_str("notify", name, vars) {
                Ok(rendered) => names.push(rendered),
                Err(e) => {
                    let msg = format!("{}: notify: {e}", task.at);
                    return Err(self.template_failure(task, Some(module), role, msg));
                }
            }
        }
        Ok(names)
    }
}

impl HostRun<'_> {
    /// The task's `environment:` layers rendered with its variables and merged in order (a later
    /// layer's variable wins): names checked, values as text.
    fn environment(
        &self,
        task: &Task,
        vars: &drover_roles::Vars,
    ) -> Result<Vec<(String, String)>, String> {
        let mut env: Vec<(String, String)> = Vec::new();
        for layer in &task.environment {
            let rendered = self
                .run
                .engine
                .render_value(&format!("{} environment", task.at), layer, vars)
                .map_err(|e| e.to_string())?;
            let Json::Object(map) = rendered else {
                return Err(format!(
                    "{}: environment: expected a mapping of variable names to values, found {rendered}",
                    task.at
                ));
            };
            for (name, value) in map {
                if !drover_roles::env_name(&name) {
                    return Err(format!(
                        "{}: environment: `{name}` is not a variable name",
                        task.at
                    ));
                }
                let text = match value {
                    Json::Null => continue,
                    Json::String(s) => s,
                    other => other.to_string(),
                };
                env.retain(|(k, _)| *k != name);
                env.push((name, text));
            }
        }
        Ok(env)
    }
}

fn status_of(task: &Task, outcome: &Outcome) -> TaskStatus {
    // Ansible counts an ignored unreachable task as ok and ignored; the host goes on.
    if outcome.unreachable {
        return if task.ignore_unreachable == Some(true) {
            TaskStatus::Ignored
        } else {
            TaskStatus::Unreachable
        };
    }
    match (
        outcome.failed,
        task.ignores_errors(),
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

/// Adds a module's facts to the host's: `ansible_facts` is merged key by key (a module such as
/// package_facts adds `ansible_facts.packages` beside the gathered facts); anything else is set.
fn merge_facts(facts: &mut serde_json::Map<String, Json>, new: &serde_json::Map<String, Json>) {
    for (key, value) in new {
        match (facts.get_mut(key), value) {
            (Some(Json::Object(old)), Json::Object(more)) if key == "ansible_facts" => {
                old.extend(more.clone());
            }
            _ => {
                facts.insert(key.clone(), value.clone());
            }
        }
    }
}
