//! Tasks that restart Docker or the host: the roll-call snapshot before them, waiting for the host
//! to come back after a reboot, the roll call itself, and the impact gate.

use super::*;

/// Modules that may restart the Docker daemon or the host, judged before they run: the host's
/// containers are recorded just before the first of them, so a play without one costs no snapshot.
pub(super) fn may_restart_docker_or_host(module: &Module) -> bool {
    matches!(
        module.kind,
        ModuleKind::Reboot | ModuleKind::Apt | ModuleKind::Service | ModuleKind::Systemd
    )
}

impl HostRun<'_> {
    /// Keeps `value` as this host's evidence in the run folder's `folder` (`snapshots`,
    /// `rollcalls`); a write that fails is reported, and the run goes on.
    fn keep(&self, folder: &str, value: &impl serde::Serialize) {
        self.run
            .emitter
            .write(|j| j.keep(folder, &self.host, value));
    }

    /// Records the running containers (when Docker answers and the play has roll calls), in the run
    /// folder too: before the first task that may restart Docker or the host, and after a compose
    /// change.
    pub(super) async fn take_snapshot(&mut self) {
        self.snapshot_taken = true;
        if !self.play.rollcall.enabled {
            return;
        }
        if let Ok(snap) = crate::rollcall::snapshot(&self.transport, &self.conn).await {
            self.keep("snapshots", &snap);
            self.snapshot = Some(snap);
        }
    }

    /// A task that can restart the Docker daemon or the host: a reboot, a changed apt run that touched
    /// Docker, containerd or runc, or a service task on docker or containerd.
    pub(super) fn restarts_docker_or_host(&self, module: &Module, outcome: &Outcome) -> bool {
        let touches = |text: &str| {
            ["docker", "containerd", "runc"]
                .iter()
                .any(|w| text.contains(w))
        };
        match module.kind {
            ModuleKind::Reboot => outcome.changed,
            ModuleKind::Apt => {
                outcome.changed
                    && outcome
                        .result
                        .get("stdout")
                        .and_then(Json::as_str)
                        .is_some_and(touches)
            }
            ModuleKind::Service | ModuleKind::Systemd => {
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
    pub(super) async fn rollcall(&mut self, task: &Task) -> Result<(), Stop> {
        let Some(snap) = self.snapshot.clone() else {
            return Ok(());
        };
        let spec = &self.play.rollcall;
        let opts = crate::rollcall::RollcallOptions {
            deadline: Duration::from_secs(spec.deadline),
            window: Duration::from_secs(spec.window),
            remediate: spec.remediate && !self.run.opts.no_remediate,
            intended_images: Vec::new(),
        };
        let report = crate::rollcall::verify(&self.transport, &self.conn, &snap, &opts).await;
        self.keep("rollcalls", &report);
        self.disagreements.extend(report.disagreements());
        let after = task.name.clone().unwrap_or_else(|| "task".into());
        let label = format!("roll call after `{after}`");
        self.run.emitter.emit(PushEvent::Rollcall {
            task: after,
            report: report.clone(),
        });
        if report.ok() {
            self.stats.ok += 1;
            let started: Vec<&str> = report
                .containers
                .iter()
                .filter(|c| c.remediated)
                .map(|c| c.name.as_str())
                .collect();
            let mut msg = format!("{} container(s) came back", report.containers.len());
            if !started.is_empty() {
                msg.push_str(&format!(
                    " ({} started by drover: {})",
                    started.len(),
                    started.join(", ")
                ));
            }
            self.run.emitter.emit(PushEvent::task_line(
                &self.host,
                &label,
                TaskStatus::Ok,
                msg,
            ));
            return Ok(());
        }
        self.stats.failed += 1;
        let msg = format!("did not come back: {}", report.failures().join(", "));
        self.run.emitter.emit(PushEvent::task_line(
            &self.host,
            &label,
            TaskStatus::Failed,
            msg.clone(),
        ));
        Err(Stop::failed(format!("{label} failed: {msg}")))
    }

    /// Assesses the host's upgrade impact and journals the prediction; with `risk`, refuses the
    /// host when it puts a container at risk, saying which and why; with `warn`, says so and goes on.
    pub(super) async fn impact_gate(
        &mut self,
        mode: drover_roles::ImpactGate,
    ) -> Result<(), String> {
        let report = crate::impact::assess_on(&self.transport, &self.conn)
            .await
            .map_err(|e| format!("impact gate: cannot assess the host: {e}"))?;
        self.run.emitter.emit(PushEvent::Predicted {
            host: self.host.clone(),
            containers: report.prediction.containers.clone(),
            warnings: report.prediction.warnings.clone(),
        });
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
        let what = format!(
            "{} container(s) would not come back on their own: {}",
            risky.len(),
            risky.join("; ")
        );
        if mode == drover_roles::ImpactGate::Warn {
            self.run.emitter.emit(PushEvent::Notice {
                message: format!("{}: impact gate (warn): {what}; going on", self.host),
            });
            return Ok(());
        }
        Err(format!("impact gate refused the host: {what}"))
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
    pub(super) async fn reconnect_module(
        &mut self,
        module: ModuleKind,
        args: &Args,
        sudo: Option<&Become>,
        check: bool,
    ) -> Outcome {
        let rebooting = module == ModuleKind::Reboot;
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
        let waits = (|| {
            Ok::<_, String>((
                args.seconds(
                    if rebooting {
                        "reboot_timeout"
                    } else {
                        "timeout"
                    },
                    600.0,
                )?,
                args.seconds("stable_for", if rebooting { 30.0 } else { 0.0 })?,
                args.seconds("pre_reboot_delay", 0.0)?,
                args.seconds("post_reboot_delay", 0.0)?,
                args.seconds("delay", 0.0)?,
                match args.0.get("connect_timeout") {
                    None | Some(Json::Null) => None,
                    Some(_) => Some(args.seconds("connect_timeout", 0.0)?),
                },
            ))
        })();
        let (timeout, stable_for, pre_delay, post_delay, delay, connect_timeout) = match waits {
            Ok(w) => w,
            Err(e) => return Outcome::bad_input(format!("{module}: {e}")),
        };
        let started = std::time::Instant::now();
        let before = if rebooting {
            let before = match self.boot_id(sudo).await {
                Ok(id) => id,
                Err(e) => {
                    return Outcome::fail(format!("reading the boot id before the reboot: {e}"));
                }
            };
            tokio::time::sleep(pre_delay).await;
            // `msg` is what shutdown tells logged-in users, as in Ansible's reboot.
            let cmd = args.str("reboot_command").unwrap_or_else(|| {
                let msg = args
                    .str("msg")
                    .unwrap_or_else(|| "Reboot initiated by drover".into());
                format!("shutdown -r now {}", drover_ssh::shell::quote(&msg))
            });
            // The connection may drop before the command returns; what counts is the boot id.
            let _ = self
                .transport
                .exec(&cmd, b"", Some(Duration::from_secs(10)), sudo)
                .await;
            let old = std::mem::replace(&mut self.transport, Transport::Lost);
            old.close().await;
            Some(before)
        } else {
            tokio::time::sleep(delay).await;
            None
        };
        if let Err(msg) = self
            .wait_until_back(before.as_deref(), started, (timeout, connect_timeout), sudo)
            .await
        {
            // Not back as asked (perhaps still shutting down on an old connection): its state is
            // unknown, so the host is given up and nothing more runs for it.
            let old = std::mem::replace(&mut self.transport, Transport::Lost);
            old.close().await;
            return Outcome::fail(msg);
        }
        tokio::time::sleep(post_delay).await;
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
        (timeout, connect_timeout): (Duration, Option<Duration>),
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
            // `connect_timeout` bounds each attempt (the run's own connect timeout otherwise).
            let attempt = Transport::open(&self.conn, self.run.settings);
            let opened = match connect_timeout {
                Some(limit) => tokio::time::timeout(limit, attempt)
                    .await
                    .unwrap_or_else(|_| {
                        Err(drover_ssh::SshError::ConnectTimeout {
                            addr: self.host.to_string(),
                            after: limit,
                        })
                    }),
                None => attempt.await,
            };
            match opened {
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
}
