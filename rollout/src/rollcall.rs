//! Roll call over SSH: snapshot a host's running containers before it is changed, and afterwards
//! poll until every one of them is back (and stays back for a stability window) or a deadline passes.

use std::time::{Duration, Instant};

use drover_ssh::shell::quote;
use drover_upgrade::docker;
use drover_upgrade::facts::BOOT_ID_COMMAND as BOOT_ID;
use drover_upgrade::rollcall::{Snapshot, Verdict, verdict};
use serde::{Deserialize, Serialize};

use crate::connection::{HostConnection, Transport};

/// How a roll call waits.
#[derive(Debug, Clone)]
pub struct RollcallOptions {
    /// Give up after this long.
    pub deadline: Duration,
    /// Containers must stay back (same restart count) this long.
    pub window: Duration,
    /// `docker start` containers that did not come back, then check again.
    pub remediate: bool,
    /// Image ids the run deployed on purpose.
    pub intended_images: Vec<String>,
}

impl Default for RollcallOptions {
    fn default() -> Self {
        RollcallOptions {
            deadline: Duration::from_secs(300),
            window: Duration::from_secs(30),
            remediate: false,
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
    /// Every expected container.
    pub containers: Vec<ContainerResult>,
}

impl RollcallReport {
    /// Everything came back.
    pub fn ok(&self) -> bool {
        self.daemon_problem.is_none() && self.containers.iter().all(|c| c.verdict.ok())
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

/// Records the host's boot id and its running containers, in one round trip.
pub async fn snapshot(t: &Transport, host: &HostConnection) -> Result<Snapshot, String> {
    let out = exec(
        t,
        host,
        &format!("{BOOT_ID} && echo '### containers' && {INSPECT_ALL}"),
    )
    .await?;
    let (boot_id, inspect) = out
        .split_once("### containers\n")
        .ok_or("no container list in the snapshot output")?;
    let containers = docker::containers(inspect)?;
    Ok(Snapshot::new(&host.name, boot_id.trim(), &containers))
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

/// Polls until every expected container is back for a whole window, or the deadline passes.
pub async fn verify(
    t: &Transport,
    host: &HostConnection,
    snap: &Snapshot,
    opts: &RollcallOptions,
) -> RollcallReport {
    let started = Instant::now();
    let mut first_ok: Vec<Option<u64>> = vec![None; snap.containers.len()];
    let mut results = poll(t, host, snap, opts, started, &mut first_ok).await;
    if opts.remediate && results.iter().any(|r| !r.verdict.ok()) {
        let names: Vec<String> = results
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Exited { .. }))
            .map(|r| quote(&r.name))
            .collect();
        if !names.is_empty() {
            let _ = exec(t, host, &format!("docker start {}", names.join(" "))).await;
            let again = poll(t, host, snap, opts, Instant::now(), &mut first_ok).await;
            for (r, a) in results.iter_mut().zip(again) {
                if names.contains(&quote(&r.name)) {
                    r.remediated = true;
                    r.verdict = a.verdict;
                }
            }
        }
    }
    RollcallReport {
        host: host.name.clone(),
        boot_id_before: snap.boot_id.clone(),
        boot_id_after: exec(t, host, BOOT_ID)
            .await
            .unwrap_or_default()
            .trim()
            .to_string(),
        daemon_problem: daemon_problem(t, host).await,
        containers: results,
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
        })
        .collect()
}
