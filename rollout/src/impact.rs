//! `drover impact`: gathers each host's upgrade facts read-only, in parallel, and predicts what the
//! upgrade will restart and which containers will not come back.

use std::time::Duration;

use drover_upgrade::apt_plan::AptPlan;
use drover_upgrade::docker::{Daemon, DaemonStart};
use drover_upgrade::{Prediction, facts, predict};
use serde::Serialize;

use crate::connection::{ConnectionSettings, HostConnection, Transport};

/// One host's impact report.
#[derive(Debug, Clone, Serialize)]
pub struct HostImpact {
    /// The host.
    pub host: String,
    /// Why the host could not be assessed, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The running kernel.
    pub kernel: String,
    /// The boot id.
    pub boot_id: String,
    /// apt's plan.
    pub plan: AptPlan,
    /// Held packages.
    pub held: Vec<String>,
    /// How systemd starts Docker.
    pub docker: Option<DaemonStart>,
    /// The Docker daemon: versions, live-restore, what bounds its shutdown (default when Docker
    /// was not asked).
    pub daemon: Daemon,
    /// Seconds a Docker stop may take before dockerd gives up or systemd kills it (`None`:
    /// unbounded, or no Docker).
    pub stop_deadline: Option<u64>,
    /// The prediction.
    pub prediction: Prediction,
}

impl HostImpact {
    fn failed(host: &str, error: String) -> HostImpact {
        HostImpact {
            host: host.to_string(),
            error: Some(error),
            kernel: String::new(),
            boot_id: String::new(),
            plan: AptPlan::default(),
            held: Vec::new(),
            docker: None,
            daemon: Daemon::default(),
            stop_deadline: None,
            prediction: Prediction::default(),
        }
    }
}

const LIMIT: Option<Duration> = Some(Duration::from_secs(600));

async fn run(t: &Transport, host: &HostConnection, cmd: &str) -> Result<String, String> {
    let out = t
        .exec(cmd, b"", LIMIT, host.sudo.as_ref())
        .await
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Assesses a host over an open transport.
pub(crate) async fn assess_on(t: &Transport, host: &HostConnection) -> Result<HostImpact, String> {
    let (mut facts, ask_docker) = facts::parse_base(&run(t, host, &facts::base_command()).await?);
    if ask_docker {
        facts::parse_docker(&run(t, host, facts::DOCKER_COMMAND).await?, &mut facts)?;
    }
    let packages: Vec<(String, String)> = facts
        .plan
        .upgrades
        .iter()
        .map(|u| (u.package.clone(), u.candidate.clone()))
        .collect();
    if !packages.is_empty() {
        facts.scripts =
            facts::parse_scripts(&run(t, host, &facts::scripts_command(&packages)).await?);
    }
    Ok(HostImpact {
        host: host.name.clone(),
        error: None,
        kernel: facts.kernel.clone(),
        boot_id: facts.boot_id.clone(),
        held: facts.holds.clone(),
        docker: facts.daemon,
        daemon: facts.docker.clone(),
        stop_deadline: ask_docker
            .then(|| facts.docker.stop_deadline(&facts.containers))
            .flatten(),
        prediction: predict(&facts),
        plan: facts.plan,
    })
}

/// Assesses every host over one connection each, changing nothing, at most `forks` at once, in the
/// hosts' order.
pub async fn impact(
    hosts: Vec<HostConnection>,
    settings: &ConnectionSettings,
    forks: usize,
) -> Vec<HostImpact> {
    crate::fan_out::over_connections(&hosts, settings, forks, async |t, host| {
        assess_on(t, host).await
    })
    .await
    .into_iter()
    .zip(&hosts)
    .map(|(result, host)| {
        result
            .and_then(|r| r)
            .unwrap_or_else(|e| HostImpact::failed(&host.name, e))
    })
    .collect()
}
