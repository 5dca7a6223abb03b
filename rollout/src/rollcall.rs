//! Roll call over SSH: snapshot a host's running containers before it is changed, and afterwards
//! poll until every one of them is back (and stays back for a stability window) or a deadline passes.

use std::time::{Duration, Instant};

use drover_ssh::shell::quote;
use drover_upgrade::docker::{self, Container, Daemon};
use drover_upgrade::facts::{self, BOOT_ID_COMMAND as BOOT_ID};
use drover_upgrade::rollcall::{Predicted, Snapshot, Verdict, verdict};
use drover_upgrade::{Event, Outcome};
use serde::{Deserialize, Serialize};

use crate::connection::{HostConnection, Transport};

/// How a roll call waits.
#[derive(Debug, Clone)]
pub struct RollcallOptions {
    /// Give up after this long.
    pub deadline: Duration,
    /// Containers must stay back (same restart count) this long.
    pub window: Duration,
    /// `docker start` containers that were running before and did not come back, then check
    /// again (the default).
    pub remediate: bool,
    /// Image ids the run deployed on purpose.
    pub intended_images: Vec<String>,
}

impl Default for RollcallOptions {
    fn default() -> Self {
        RollcallOptions {
            deadline: Duration::from_secs(300),
            window: Duration::from_secs(30),
            remediate: true,
            intended_images: Vec::new(),
        }
    }
}

/// One container's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerResult {
    /// Name.
    pub name: String,
    /// Restart policy.
    pub restart_policy: String,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Seconds until it was first seen back (or until the roll call ended).
    pub after_secs: u64,
    /// `docker start` was run for it.
    pub remediated: bool,
    /// The daemon's "manually stopped" flag as the roll call found it, before any remediation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manually_stopped: Option<bool>,
    /// The fate the snapshot's facts predicted for what happened, held against what was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted: Option<Predicted>,
}

/// A host's roll call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RollcallReport {
    /// The host.
    pub host: String,
    /// The boot id before and after: they differ when the host rebooted.
    pub boot_id_before: String,
    /// The boot id after.
    pub boot_id_after: String,
    /// Problems with the Docker service itself (such as only socket-activated).
    pub daemon_problem: Option<String>,
    /// What happened to the daemon between the snapshot and the roll call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    /// Every expected container.
    pub containers: Vec<ContainerResult>,
    /// The containers that were stopped at the snapshot: whether each runs now (a daemon start
    /// starts some), against its predicted fate. They do not decide the roll call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopped: Vec<StoppedResult>,
}

/// A container that was stopped at the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoppedResult {
    /// Name.
    pub name: String,
    /// Restart policy.
    pub restart_policy: String,
    /// It runs now.
    pub running: bool,
    /// The daemon's "manually stopped" flag as the roll call found it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manually_stopped: Option<bool>,
    /// Its predicted fate, held against whether it runs now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted: Option<Predicted>,
}

impl RollcallReport {
    /// Everything came back.
    pub fn ok(&self) -> bool {
        self.daemon_problem.is_none() && self.containers.iter().all(|c| c.verdict.ok())
    }

    /// The containers that did other than their predicted fate, in words: `NAME predicted FATE,
    /// but ...`.
    pub fn disagreements(&self) -> Vec<String> {
        let running = self.containers.iter().map(|c| {
            let seen = if c.verdict.running() {
                "it runs".to_string()
            } else {
                describe(&c.verdict)
            };
            (&c.name, &c.predicted, seen)
        });
        let stopped = self.stopped.iter().map(|c| {
            let seen = if c.running {
                "it runs"
            } else {
                "it stays stopped"
            };
            (&c.name, &c.predicted, seen.to_string())
        });
        running
            .chain(stopped)
            .filter_map(|(name, p, seen)| {
                let p = p.as_ref()?;
                matches!(p.outcome, Outcome::Miss | Outcome::FalseAlarm).then(|| {
                    format!(
                        "{name} was predicted {} ({}), but {seen}",
                        p.fate.label(),
                        p.why
                    )
                })
            })
            .collect()
    }

    /// The containers that did not come back, in words.
    pub fn failures(&self) -> Vec<String> {
        let mut out: Vec<String> = self.daemon_problem.iter().cloned().collect();
        out.extend(
            self.containers
                .iter()
                .filter(|c| !c.verdict.ok())
                .map(|c| format!("{} ({})", c.name, describe(&c.verdict))),
        );
        out
    }
}

/// A verdict in words.
pub fn describe(v: &Verdict) -> String {
    match v {
        Verdict::CameBack => "came back".into(),
        Verdict::Missing => "missing".into(),
        Verdict::Exited { code } => format!("exited with code {code}"),
        Verdict::Restarting => "restarting in a loop".into(),
        Verdict::Unhealthy { health } => health.clone(),
        Verdict::ImageChanged { now } => format!("image changed to {now}"),
    }
}

const INSPECT_ALL: &str =
    "ids=$(docker ps -aq) && { [ -z \"$ids\" ] && echo '[]' || docker inspect $ids; }";

async fn exec(t: &Transport, host: &HostConnection, cmd: &str) -> Result<String, String> {
    let out = t
        .exec(cmd, b"", Some(Duration::from_secs(120)), host.sudo.as_ref())
        .await
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The host's boot id, its daemon and every container with what decides its fate, in one round
/// trip. An error when Docker does not answer.
async fn state(
    t: &Transport,
    host: &HostConnection,
) -> Result<(String, Daemon, Vec<Container>), String> {
    let out = exec(
        t,
        host,
        &format!(
            "echo '### boot_id'; {BOOT_ID}; echo; {}",
            facts::DOCKER_COMMAND
        ),
    )
    .await?;
    let boot_id = facts::section(&out, "boot_id");
    let (daemon, containers) = facts::parse_docker_state(&out)?;
    if daemon.version.is_empty() {
        return Err("the Docker daemon does not answer".into());
    }
    Ok((boot_id, daemon, containers))
}

/// Records the host's boot id, its daemon and its running containers, in one round trip.
pub async fn snapshot(t: &Transport, host: &HostConnection) -> Result<Snapshot, String> {
    let (boot_id, daemon, containers) = state(t, host).await?;
    Ok(Snapshot::new(&host.name, &boot_id, daemon, &containers))
}

async fn observe(t: &Transport, host: &HostConnection) -> Option<Vec<docker::Container>> {
    docker::containers(&exec(t, host, INSPECT_ALL).await.ok()?).ok()
}

/// systemd's view: docker.service must be enabled and active, not merely socket-activated.
async fn daemon_problem(t: &Transport, host: &HostConnection) -> Option<String> {
    let cmd = "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo \"$(systemctl is-enabled docker.service 2>/dev/null) $(systemctl is-active docker.service 2>/dev/null)\"; else echo none; fi";
    let out = exec(t, host, cmd).await.ok()?;
    match out.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["none"] | ["enabled", "active"] => None,
        other => Some(format!(
            "docker.service is {} (it must be enabled and active, not only socket-activated)",
            other.join(" and ")
        )),
    }
}

/// Polls until every expected container is back for a whole window, or the deadline passes; then
/// holds each container's predicted fate (for what really happened: a reboot, a daemon restart or
/// neither) against what came back by itself, records the "manually stopped" flags it finds, and
/// with `remediate` starts what had exited and checks again.
pub async fn verify(
    t: &Transport,
    host: &HostConnection,
    snap: &Snapshot,
    opts: &RollcallOptions,
) -> RollcallReport {
    let started = Instant::now();
    let mut first_ok: Vec<Option<u64>> = vec![None; snap.containers.len()];
    let mut results = poll(t, host, snap, opts, started, &mut first_ok).await;
    let now = state(t, host).await.ok();
    let event = now
        .as_ref()
        .map(|(boot_id, daemon, _)| snap.event(boot_id, daemon));
    let found = |name: &str| {
        now.as_ref()
            .and_then(|(_, _, cs)| cs.iter().find(|c| c.name == name))
    };
    for r in &mut results {
        r.manually_stopped = found(&r.name).and_then(|c| c.lifecycle.manually_stopped);
    }
    let mut stopped: Vec<StoppedResult> = snap
        .stopped
        .iter()
        .map(|c| StoppedResult {
            name: c.name.clone(),
            restart_policy: c.restart_policy.clone(),
            running: found(&c.name).is_some_and(|c| c.state == "running"),
            manually_stopped: found(&c.name).and_then(|c| c.lifecycle.manually_stopped),
            predicted: None,
        })
        .collect();
    if let Some(event) = event {
        let (running, was_stopped) = snap.fates(event);
        for (r, (fate, why)) in results.iter_mut().zip(running) {
            r.predicted = Some(Predicted {
                outcome: Outcome::of(fate, r.verdict.running()),
                fate,
                why,
            });
        }
        for (r, (fate, why)) in stopped.iter_mut().zip(was_stopped) {
            r.predicted = Some(Predicted {
                outcome: Outcome::of(fate, r.running),
                fate,
                why,
            });
        }
    }
    if opts.remediate {
        remediate(t, host, snap, opts, &mut results, &mut first_ok).await;
    }
    let boot_id_after = match &now {
        Some((boot_id, _, _)) => boot_id.clone(),
        None => exec(t, host, BOOT_ID)
            .await
            .unwrap_or_default()
            .trim()
            .to_string(),
    };
    RollcallReport {
        host: host.name.clone(),
        boot_id_before: snap.boot_id.clone(),
        boot_id_after,
        daemon_problem: daemon_problem(t, host).await,
        event,
        containers: results,
        stopped,
    }
}

/// `docker start` for every container that exited, then a second roll call of them.
async fn remediate(
    t: &Transport,
    host: &HostConnection,
    snap: &Snapshot,
    opts: &RollcallOptions,
    results: &mut [ContainerResult],
    first_ok: &mut [Option<u64>],
) {
    let names: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Exited { .. }))
        .map(|r| quote(&r.name))
        .collect();
    if names.is_empty() {
        return;
    }
    let _ = exec(t, host, &format!("docker start {}", names.join(" "))).await;
    let again = poll(t, host, snap, opts, Instant::now(), first_ok).await;
    for (r, a) in results.iter_mut().zip(again) {
        if names.contains(&quote(&r.name)) {
            r.remediated = true;
            r.verdict = a.verdict;
        }
    }
}

async fn poll(
    t: &Transport,
    host: &HostConnection,
    snap: &Snapshot,
    opts: &RollcallOptions,
    started: Instant,
    first_ok: &mut [Option<u64>],
) -> Vec<ContainerResult> {
    let judge = |now: &[docker::Container], later: &[docker::Container]| -> Vec<Verdict> {
        snap.containers
            .iter()
            .map(|e| {
                verdict(
                    e,
                    now.iter().find(|c| c.name == e.name),
                    later.iter().find(|c| c.name == e.name),
                    &opts.intended_images,
                )
            })
            .collect()
    };
    let mut last: Vec<Verdict> = vec![Verdict::Missing; snap.containers.len()];
    loop {
        if let Some(now) = observe(t, host).await {
            let instant = judge(&now, &now);
            for (i, v) in instant.iter().enumerate() {
                if v.ok() && first_ok[i].is_none() {
                    first_ok[i] = Some(started.elapsed().as_secs());
                }
            }
            last = instant.clone();
            if instant.iter().all(Verdict::ok) {
                tokio::time::sleep(opts.window).await;
                if let Some(later) = observe(t, host).await {
                    last = judge(&now, &later);
                    if last.iter().all(Verdict::ok) {
                        break;
                    }
                }
            }
        }
        if started.elapsed() >= opts.deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    snap.containers
        .iter()
        .zip(last)
        .enumerate()
        .map(|(i, (e, verdict))| ContainerResult {
            name: e.name.clone(),
            restart_policy: e.restart_policy.clone(),
            after_secs: first_ok[i].unwrap_or(started.elapsed().as_secs()),
            verdict,
            remediated: false,
            manually_stopped: None,
            predicted: None,
        })
        .collect()
}
