//! Docker on a host: how the daemon is started (service or socket only), how it stops (its shutdown
//! budget, systemd's deadline, what its unit requires), live-restore, and every container with its
//! restart policy, compose labels, health and what decides whether it comes back after a daemon
//! restart (the daemon's own "manually stopped" flag, its stop timeout and signal, whether its main
//! process handles that signal), from `docker inspect` and the daemon's own state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// What decides whether it comes back after a daemon restart or a reboot.
    #[serde(default)]
    pub lifecycle: Lifecycle,
}

/// What decides a container's fate when the daemon stops and starts again (moby's restart manager
/// and its shutdown): read-only facts, each `None` where drover could not read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lifecycle {
    /// `HasBeenManuallyStopped` from the daemon's own state (`config.v2.json` under its data root,
    /// readable by root only): an `unless-stopped` container so flagged is never started again.
    pub manually_stopped: Option<bool>,
    /// Seconds Docker waits after the stop signal before it kills (`Config.StopTimeout`; unset: 10;
    /// negative: forever).
    pub stop_timeout: Option<i64>,
    /// The stop signal (`Config.StopSignal`; unset: SIGTERM).
    pub stop_signal: Option<String>,
    /// Whether the container's main process catches its stop signal (`SigCgt` of its
    /// `/proc/PID/status`). A namespace's PID 1 that does not is not ended by it: Docker kills it
    /// after the stop timeout, and it exits 137.
    pub handles_stop_signal: Option<bool>,
    /// Resident memory of its main process, in KiB.
    pub rss_kb: Option<u64>,
    /// `on-failure:N`'s N (0: no limit).
    pub max_retries: u64,
    /// It has run at least once (Docker never starts a container that was only created).
    pub started_before: bool,
    /// Sources of its bind mounts.
    pub binds: Vec<String>,
    /// Its bind-mount sources on filesystems that systemd may mount after Docker starts at boot,
    /// each with why.
    pub late_binds: Vec<String>,
}

impl Lifecycle {
    /// Seconds Docker waits for it to stop before killing it; `None`: forever.
    pub fn stop_wait(&self) -> Option<u64> {
        match self.stop_timeout {
            None => Some(10),
            Some(n) => u64::try_from(n).ok(),
        }
    }
}

/// The daemon itself: versions, live-restore, and what bounds its shutdown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Daemon {
    /// live-restore is on: containers keep running while the daemon restarts.
    pub live_restore: bool,
    /// Docker's version (`docker info`'s ServerVersion).
    pub version: String,
    /// containerd's version.
    pub containerd_version: String,
    /// The main PID of dockerd: a new one after the roll call means the daemon restarted.
    pub pid: Option<u64>,
    /// `shutdown-timeout` (daemon.json or the command line); Docker's default is 15.
    pub shutdown_timeout: Option<i64>,
    /// Seconds systemd gives docker.service to stop before it kills dockerd (`TimeoutStopUSec`);
    /// `None`: no limit or no systemd.
    pub systemd_stop_limit: Option<u64>,
    /// Whether restarting containerd.service restarts docker.service (docker.service `Requires`,
    /// `BindsTo` or is `PartOf` it); `None` when systemd could not say.
    pub follows_containerd: Option<bool>,
    /// The units docker.service starts after (`After`, implicit ones included).
    pub after: Vec<String>,
}

impl Daemon {
    /// How long dockerd's own shutdown waits for its containers: `shutdown-timeout`, raised to
    /// the longest stop timeout plus 5 s (moby's `ShutdownTimeout`); `None`: forever.
    pub fn shutdown_budget(&self, containers: &[Container]) -> Option<u64> {
        let mut budget = match self.shutdown_timeout {
            None => 15,
            Some(n) => u64::try_from(n).ok()?,
        };
        for c in containers {
            budget = budget.max(c.lifecycle.stop_wait()? + 5);
        }
        Some(budget)
    }

    /// What really bounds a daemon stop: dockerd's own budget or systemd's deadline, the shorter.
    pub fn stop_deadline(&self, containers: &[Container]) -> Option<u64> {
        match (self.shutdown_budget(containers), self.systemd_stop_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
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
                lifecycle: Lifecycle {
                    stop_timeout: c["Config"]["StopTimeout"].as_i64(),
                    stop_signal: c["Config"]["StopSignal"].as_str().map(str::to_string),
                    max_retries: c["HostConfig"]["RestartPolicy"]["MaximumRetryCount"]
                        .as_u64()
                        .unwrap_or(0),
                    started_before: c["State"]["StartedAt"]
                        .as_str()
                        .is_some_and(|t| !t.starts_with("0001-")),
                    binds: c["Mounts"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|m| m["Type"] == "bind")
                        .filter_map(|m| m["Source"].as_str().map(str::to_string))
                        .collect(),
                    ..Lifecycle::default()
                },
            }
        })
        .collect())
}

/// Signal numbers of the names Docker accepts as a stop signal (x86 and arm numbering).
pub(crate) fn signal_number(name: &str) -> Option<u32> {
    let name = name.trim_start_matches("SIG");
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    let table = [
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("KILL", 9),
        ("USR1", 10),
        ("USR2", 12),
        ("TERM", 15),
        ("PWR", 30),
        ("WINCH", 28),
    ];
    if let Some(rt) = name.strip_prefix("RTMIN") {
        return 34u32.checked_add_signed(rt.trim_start_matches('+').parse().unwrap_or(0));
    }
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// Whether a `SigCgt` mask (hex) has `signal` caught.
pub fn catches(sigcgt: &str, signal: &str) -> Option<bool> {
    let mask = u64::from_str_radix(sigcgt.trim(), 16).ok()?;
    let n = signal_number(signal)?;
    (1..=64).contains(&n).then(|| mask & (1 << (n - 1)) != 0)
}

/// Adds what only root or /proc can tell: `flags` lines `ID "HasBeenManuallyStopped":BOOL` from
/// the daemon's state, `procs` lines `ID SIGCGT rss KIB` of each running container's main process.
pub fn add_lifecycle(containers: &mut [Container], flags: &str, procs: &str) {
    let by_id = |text: &str| -> BTreeMap<String, String> {
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(id, rest)| (id.to_string(), rest.trim().to_string()))
            .collect()
    };
    let (flags, procs) = (by_id(flags), by_id(procs));
    for c in containers {
        let l = &mut c.lifecycle;
        l.manually_stopped = flags.get(&c.id).and_then(|f| match f.rsplit(':').next() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        });
        if let Some(p) = procs.get(&c.id) {
            // /proc/PID/status has VmRSS before SigCgt; `rss KIB` marks the one.
            let mut words = p.split_whitespace();
            let signal = l.stop_signal.as_deref().unwrap_or("SIGTERM");
            while let Some(w) = words.next() {
                if w == "rss" {
                    l.rss_kb = words.next().and_then(|kb| kb.parse().ok());
                } else {
                    l.handles_stop_signal = catches(w, signal);
                }
            }
        }
    }
}

/// A systemd time span as `systemctl show` prints it (`1min 30s`, `90s`, `500ms`, `infinity`), in
/// whole seconds; `None` for infinity or what cannot be read.
pub fn timespan_secs(text: &str) -> Option<u64> {
    let mut micros: u128 = 0;
    for word in text.split_whitespace() {
        let split = word.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = word.split_at(split);
        let n: u128 = n.parse().ok()?;
        let scale: u128 = match unit {
            "us" => 1,
            "ms" => 1_000,
            "s" => 1_000_000,
            "min" => 60_000_000,
            "h" => 3_600_000_000,
            "d" => 86_400_000_000,
            _ => return None,
        };
        micros += n * scale;
    }
    (micros > 0).then(|| u64::try_from(micros / 1_000_000).unwrap_or(u64::MAX))
}

/// Reads `systemctl show -p Id,Requires,BindsTo,PartOf,TimeoutStopUSec docker.service
/// containerd.service`: docker.service's stop deadline, and whether a containerd restart takes
/// Docker with it.
pub fn unit_relations(show: &str, daemon: &mut Daemon) {
    for block in show.split("\n\n") {
        let props: BTreeMap<&str, &str> = block.lines().filter_map(|l| l.split_once('=')).collect();
        if props.get("Id") != Some(&"docker.service") {
            continue;
        }
        daemon.systemd_stop_limit = props.get("TimeoutStopUSec").and_then(|t| timespan_secs(t));
        daemon.after = props
            .get("After")
            .map(|a| a.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        daemon.follows_containerd = Some(["Requires", "BindsTo", "PartOf"].iter().any(|k| {
            props
                .get(k)
                .is_some_and(|v| v.split_whitespace().any(|u| u == "containerd.service"))
        }));
    }
}

/// Filesystems systemd mounts once the network is up (`remote-fs.target`).
const NETWORK_FS: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "ceph",
    "glusterfs",
    "fuse.sshfs",
    "fuse.glusterfs",
    "fuse.cephfs",
];

/// Whether an fstab entry (`FSTYPE OPTIONS`) for `target`, whose mount unit is `unit`, may be
/// mounted after docker.service starts at boot, and why. An ordinary local entry is required by
/// local-fs.target, which every service starts after; `nofail`, `noauto`, an automount, an explicit
/// ordering or a network filesystem take it out of that, unless docker.service is ordered after its
/// unit (or after remote-fs.target, for a network one).
pub fn late_mount(
    target: &str,
    fstab: &str,
    unit: &str,
    docker_after: &[String],
) -> Option<String> {
    let mut words = fstab.split_whitespace();
    let (fstype, options) = (words.next()?, words.next().unwrap_or_default());
    let after = |u: &str| docker_after.iter().any(|a| a == u);
    if !unit.is_empty() && after(unit) {
        return None;
    }
    if NETWORK_FS.contains(&fstype) || options.split(',').any(|o| o == "_netdev") {
        let nofail = options.split(',').any(|o| o == "nofail");
        return (!after("remote-fs.target") || nofail).then(|| {
            format!(
                "{target} is a network filesystem ({fstype}) that docker.service does not wait for"
            )
        });
    }
    let late: Vec<&str> = options
        .split(',')
        .filter(|o| {
            ["nofail", "noauto", "x-systemd.automount"].contains(o)
                || o.starts_with("x-systemd.after=")
        })
        .collect();
    (!late.is_empty()).then(|| {
        format!(
            "{target} is mounted from fstab with {}, so nothing makes docker.service wait for it",
            late.join(",")
        )
    })
}

/// Adds each container's late bind mounts from the `binds` lines `SOURCE|TARGET|FSTAB|UNIT`.
pub fn add_late_binds(containers: &mut [Container], binds: &str, daemon: &Daemon) {
    let late: BTreeMap<&str, String> = binds
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(4, '|');
            let (source, target, fstab, unit) = (f.next()?, f.next()?, f.next()?, f.next()?);
            Some((
                source,
                late_mount(target, fstab, unit.trim(), &daemon.after)?,
            ))
        })
        .collect();
    for c in containers {
        c.lifecycle.late_binds = c
            .lifecycle
            .binds
            .iter()
            .filter_map(|b| late.get(b.as_str()).map(|why| format!("{b}: {why}")))
            .collect();
    }
}

/// `shutdown-timeout` from daemon.json, overridden by dockerd's command line.
pub fn shutdown_timeout(daemon_json: &str, cmdline: &str) -> Option<i64> {
    let words: Vec<&str> = cmdline.split_whitespace().collect();
    let from_flag =
        words
            .iter()
            .enumerate()
            .find_map(|(i, w)| match w.strip_prefix("--shutdown-timeout") {
                Some(rest) if rest.starts_with('=') => rest[1..].parse().ok(),
                Some("") => words.get(i + 1)?.parse().ok(),
                _ => None,
            });
    from_flag.or_else(|| {
        serde_json::from_str::<Json>(daemon_json)
            .ok()?
            .get("shutdown-timeout")?
            .as_i64()
    })
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
    fn signal_masks_and_time_spans() {
        // Signal n is bit n-1 of the mask: SIGTERM (15) is 0x4000.
        assert_eq!(catches("0000000000004000", "SIGTERM"), Some(true));
        assert_eq!(catches("0000000000004000", "TERM"), Some(true));
        assert_eq!(catches("0000000000000000", "SIGTERM"), Some(false));
        assert_eq!(catches("0000000000000002", "SIGINT"), Some(true));
        assert_eq!(catches("0000000200000000", "SIGRTMIN+0"), Some(true));
        assert_eq!(catches("zz", "SIGTERM"), None);
        assert_eq!(catches("0", "SIGNOPE"), None);
        assert_eq!(timespan_secs("1min 30s"), Some(90));
        assert_eq!(timespan_secs("5s"), Some(5));
        assert_eq!(timespan_secs("1h 500ms"), Some(3600));
        assert_eq!(timespan_secs("infinity"), None);
        assert_eq!(
            shutdown_timeout("{\"shutdown-timeout\": 20}", "dockerd -H fd://"),
            Some(20)
        );
        assert_eq!(
            shutdown_timeout("", "dockerd --shutdown-timeout 3"),
            Some(3)
        );
        assert_eq!(shutdown_timeout("not json", ""), None);
    }

    #[test]
    fn late_mounts_are_those_nothing_orders_before_docker() {
        let after: Vec<String> = [
            "network-online.target",
            "containerd.service",
            "basic.target",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            late_mount("/srv", "ext4 rw,relatime", "srv.mount", &after),
            None
        );
        assert_eq!(
            late_mount("/mnt/data", "ext4 rw,nofail", "mnt-data.mount", &after).as_deref(),
            Some(
                "/mnt/data is mounted from fstab with nofail, so nothing makes docker.service wait for it"
            )
        );
        assert_eq!(
            late_mount("/mnt/nas", "nfs4 rw", "mnt-nas.mount", &after).as_deref(),
            Some("/mnt/nas is a network filesystem (nfs4) that docker.service does not wait for")
        );
        let waits: Vec<String> = vec!["mnt-data.mount".into(), "remote-fs.target".into()];
        assert_eq!(
            late_mount("/mnt/data", "ext4 nofail", "mnt-data.mount", &waits),
            None
        );
        assert_eq!(
            late_mount("/mnt/nas", "nfs4 rw", "mnt-nas.mount", &waits),
            None
        );
        assert_eq!(
            late_mount("/mnt/x", "", "mnt-x.mount", &after),
            None,
            "not in fstab"
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
