//! Docker on a host: how the daemon is started (service or socket only), live-restore, and every
//! container with its restart policy, compose labels and health, from `docker inspect`.

use serde::Serialize;
use serde_json::Value as Json;

/// How systemd runs the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DaemonStart {
    /// docker.service is enabled: the daemon starts at boot.
    Service,
    /// Only docker.socket is enabled: the daemon starts when something first talks to it.
    SocketOnly,
    /// Neither is enabled.
    Disabled,
    /// No systemd to ask (the daemon is managed otherwise).
    Unmanaged,
}

impl DaemonStart {
    /// What it means for the containers, in the operator's words.
    pub fn describe(self) -> &'static str {
        match self {
            DaemonStart::Service => "docker.service is enabled: the daemon starts at boot",
            DaemonStart::SocketOnly => {
                "only docker.socket is enabled: after a reboot the daemon (and its containers) starts only when something first talks to it"
            }
            DaemonStart::Disabled => {
                "neither docker.service nor docker.socket is enabled: after a reboot no container comes back until Docker is started by hand"
            }
            DaemonStart::Unmanaged => {
                "unmanaged: the host has no systemd, so drover cannot tell whether Docker starts at boot (an init script or supervisor may start it)"
            }
        }
    }
}

/// One container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Container {
    /// Name, without the leading slash.
    pub name: String,
    /// Container id.
    pub id: String,
    /// Image reference as given.
    pub image: String,
    /// Image id it runs.
    pub image_id: String,
    /// `running`, `exited`, `restarting`, ...
    pub state: String,
    /// Restart policy: `always`, `unless-stopped`, `on-failure`, `no`.
    pub restart_policy: String,
    /// Compose project label.
    pub compose_project: Option<String>,
    /// Compose service label.
    pub compose_service: Option<String>,
    /// Health status, when it has a healthcheck.
    pub health: Option<String>,
    /// How often Docker restarted it.
    pub restart_count: u64,
    /// Exit code of its last run.
    pub exit_code: i64,
    /// Published ports, as `0.0.0.0:8080->80/tcp`.
    pub ports: Vec<String>,
}

/// Reads systemctl's answers: lines `UNIT ENABLED ACTIVE`, or `none` without systemd.
pub fn daemon_start(systemctl: &str) -> DaemonStart {
    if systemctl.trim() == "none" {
        return DaemonStart::Unmanaged;
    }
    let enabled = |unit: &str| {
        systemctl.lines().any(|l| {
            let mut w = l.split_whitespace();
            w.next() == Some(unit)
                && matches!(w.next(), Some("enabled" | "static" | "enabled-runtime"))
        })
    };
    match (enabled("docker.service"), enabled("docker.socket")) {
        (true, _) => DaemonStart::Service,
        (false, true) => DaemonStart::SocketOnly,
        (false, false) => DaemonStart::Disabled,
    }
}

/// Parses `docker inspect` output (a JSON array).
pub fn containers(inspect: &str) -> Result<Vec<Container>, String> {
    if inspect.trim().is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<Json> = serde_json::from_str(inspect)
        .map_err(|e| format!("docker inspect output is not JSON: {e}"))?;
    let s = |v: &Json| v.as_str().unwrap_or_default().to_string();
    Ok(items
        .iter()
        .map(|c| {
            let labels = &c["Config"]["Labels"];
            let label = |k: &str| labels.get(k).and_then(Json::as_str).map(str::to_string);
            Container {
                name: s(&c["Name"]).trim_start_matches('/').to_string(),
                id: s(&c["Id"]),
                image: s(&c["Config"]["Image"]),
                image_id: s(&c["Image"]),
                state: s(&c["State"]["Status"]),
                restart_policy: match s(&c["HostConfig"]["RestartPolicy"]["Name"]).as_str() {
                    "" => "no".to_string(),
                    p => p.to_string(),
                },
                compose_project: label("com.docker.compose.project"),
                compose_service: label("com.docker.compose.service"),
                health: c["State"]["Health"]["Status"].as_str().map(str::to_string),
                restart_count: c["RestartCount"].as_u64().unwrap_or(0),
                exit_code: c["State"]["ExitCode"].as_i64().unwrap_or(0),
                ports: published_ports(&c["NetworkSettings"]["Ports"]),
            }
        })
        .collect())
}

/// `NetworkSettings.Ports` as `host_ip:host_port->port/proto`, sorted.
fn published_ports(ports: &Json) -> Vec<String> {
    let mut out: Vec<String> = ports
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(port, bindings)| {
            bindings.as_array().into_iter().flatten().map(move |b| {
                format!(
                    "{}:{}->{port}",
                    b["HostIp"].as_str().unwrap_or_default(),
                    b["HostPort"].as_str().unwrap_or_default()
                )
            })
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ports_read_as_docker_ps_shows_them() {
        let ports = serde_json::json!({"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}], "9000/tcp": null});
        assert_eq!(
            published_ports(&ports),
            ["0.0.0.0:8080->80/tcp", ":::8080->80/tcp"]
        );
    }

    #[test]
    fn daemon_start_modes() {
        assert_eq!(
            daemon_start("docker.service enabled active\ndocker.socket enabled active\n"),
            DaemonStart::Service
        );
        assert_eq!(
            daemon_start("docker.service disabled inactive\ndocker.socket enabled active\n"),
            DaemonStart::SocketOnly
        );
        assert_eq!(daemon_start("none\n"), DaemonStart::Unmanaged);
    }
}
