//! A container's fate when its host's Docker daemon restarts or the host reboots, decided as moby
//! decides it, from facts read on the host (not from the restart policy's name alone):
//! - A daemon that shuts down stops its containers without flagging them "manually stopped"
//!   (`daemon/kill.go` flags only when the daemon is not shutting down), so at its next start
//!   `always` and unflagged `unless-stopped` containers start again, and `on-failure` ones when
//!   their last exit code is not 0 and retries are left (`restartmanager.ShouldRestart`).
//! - A container still alive when the new daemon starts (its stop outran systemd's deadline for
//!   docker.service, or the daemon's own shutdown budget) is stopped by `restore()` and flagged:
//!   an `unless-stopped` one then never starts again, through every later restart.
//! - A stopped container that policy allows is started by every daemon start (`always` even when
//!   stopped by hand); one that was only created is not.
//! - live-restore keeps running containers running across a daemon restart (not a reboot).
//! - Restarting containerd alone leaves dockerd and the containers' shims running, unless
//!   docker.service requires, binds to or is part of containerd.service.

use serde::{Deserialize, Serialize};

use crate::docker::{Container, Daemon, DaemonStart};

/// What happens to the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Neither Docker nor the host restarts.
    Nothing,
    /// containerd restarts; Docker does not.
    ContainerdRestart,
    /// The Docker daemon stops and starts again.
    DaemonRestart,
    /// The host reboots.
    Reboot,
}

/// What happens to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Nothing that happens touches it.
    Unaffected,
    /// live-restore keeps it running across the daemon restart.
    KeepsRunning,
    /// It stops and Docker starts it again.
    #[serde(alias = "restarts_by_itself")]
    ComesBack,
    /// It is stopped now, and the daemon's start will start it.
    WillStart,
    /// It may stay down; the reason names the uncertainty.
    AtRisk,
    /// It will stay down.
    WillNotReturn,
    /// It is stopped now and stays stopped.
    AlreadyStopped,
}

impl Fate {
    /// Whether the container is expected to be running afterwards (a roll call's verdict can be
    /// held against it), `None` for "at risk".
    pub fn expects_running(self) -> Option<bool> {
        match self {
            Fate::Unaffected | Fate::KeepsRunning | Fate::ComesBack | Fate::WillStart => Some(true),
            Fate::WillNotReturn | Fate::AlreadyStopped => Some(false),
            Fate::AtRisk => None,
        }
    }

    /// The fate in the operator's words, as tables show it.
    pub fn label(self) -> &'static str {
        match self {
            Fate::Unaffected => "unaffected",
            Fate::KeepsRunning => "keeps running",
            Fate::ComesBack => "comes back",
            Fate::WillStart => "WILL START",
            Fate::AtRisk => "AT RISK",
            Fate::WillNotReturn => "WILL NOT RETURN",
            Fate::AlreadyStopped => "stays stopped",
        }
    }
}

/// How a prediction held up against what the roll call saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It did what was predicted.
    Match,
    /// Predicted not to come back (or at risk), and it did not.
    TrueAlarm,
    /// Predicted not to come back (or at risk), and it came back.
    FalseAlarm,
    /// Predicted to come back, and it did not.
    Miss,
}

impl Outcome {
    /// Compares a predicted fate with whether the container runs (by itself) afterwards.
    pub fn of(fate: Fate, running: bool) -> Outcome {
        match (fate, running) {
            (Fate::WillNotReturn | Fate::AtRisk, false) => Outcome::TrueAlarm,
            (Fate::WillNotReturn | Fate::AtRisk, true) => Outcome::FalseAlarm,
            // A container said to stay stopped that a daemon start started is a surprise too.
            (f, r) if f.expects_running() == Some(r) => Outcome::Match,
            _ => Outcome::Miss,
        }
    }
}

/// The host around a container: its daemon, how it starts at boot, all its containers (they share
/// the shutdown budget), and whether Docker's version jumps.
#[derive(Debug, Clone, Copy)]
pub struct Host<'a> {
    /// The daemon.
    pub daemon: &'a Daemon,
    /// How systemd starts it.
    pub start: Option<DaemonStart>,
    /// Every container of the host.
    pub containers: &'a [Container],
    /// Docker or containerd jumps a major version.
    pub major_jump: bool,
}

/// The fate of `c` through `events` in turn: a container is down for good after the first event
/// that leaves it down (a flag set at the daemon restart survives the reboot after it); one that
/// comes back meets the next event as it was.
pub fn through(c: &Container, events: &[Event], host: Host) -> (Fate, String) {
    let mut fated = fate(c, Event::Nothing, host);
    for (i, event) in events.iter().enumerate() {
        fated = fate(c, *event, host);
        if fated.0.expects_running() != Some(true) && i + 1 < events.len() {
            fated
                .1
                .push_str(&format!(" (at the {}, before the reboot)", event.words()));
            break;
        }
    }
    fated
}

impl Event {
    /// The event in words.
    pub fn words(self) -> &'static str {
        match self {
            Event::Nothing => "nothing",
            Event::ContainerdRestart => "containerd restart",
            Event::DaemonRestart => "Docker restart",
            Event::Reboot => "reboot",
        }
    }
}

/// Memory a dying process frees per second, for the estimate of how long a big one takes to exit
/// after SIGKILL: a rough figure, so what it decides is only ever "at risk".
const FREED_KIB_PER_SEC: u64 = 8 * 1024 * 1024;

/// The fate of `c` when `event` happens on `host`, and why, in words.
pub fn fate(c: &Container, event: Event, host: Host) -> (Fate, String) {
    let running = c.state == "running";
    match event {
        Event::Nothing if running => {
            return (
                Fate::Unaffected,
                "neither the Docker daemon nor the host restarts".into(),
            );
        }
        Event::ContainerdRestart if running => {
            return (
                Fate::Unaffected,
                "containerd restarts, but docker.service does not require it: Docker and the container's shim keep running".into(),
            );
        }
        Event::Nothing | Event::ContainerdRestart => {
            return (Fate::AlreadyStopped, "it is not running now".into());
        }
        Event::DaemonRestart | Event::Reboot => {}
    }
    let reboot = event == Event::Reboot;
    if reboot
        && matches!(
            host.start,
            Some(DaemonStart::SocketOnly | DaemonStart::Disabled)
        )
    {
        let why = match host.start {
            Some(DaemonStart::SocketOnly) => {
                "docker.service is not enabled (socket activation only), so nothing starts the daemon after the reboot"
            }
            _ => "Docker is not enabled at boot",
        };
        let fate = if running {
            Fate::WillNotReturn
        } else {
            Fate::AlreadyStopped
        };
        return (fate, why.into());
    }
    let fated = if running {
        running_fate(c, event, host)
    } else {
        stopped(c)
    };
    match (fated.0, c.lifecycle.late_binds.first()) {
        (Fate::ComesBack | Fate::WillStart, Some(late)) if reboot => (
            Fate::AtRisk,
            format!(
                "its bind mount {late}: at boot Docker may start it before the filesystem is there, and then the start fails (or, with -v, runs on an empty folder), and Docker does not retry"
            ),
        ),
        _ => fated,
    }
}

/// A running container's fate when the daemon restarts or the host reboots.
fn running_fate(c: &Container, event: Event, host: Host) -> (Fate, String) {
    let reboot = event == Event::Reboot;
    if !reboot && host.daemon.live_restore {
        let mut why = String::from("live-restore keeps it running while the daemon restarts");
        if host.major_jump {
            why.push_str(
                " (across a major version jump: it kept containers running in tests of Docker 26 -> 28 and containerd 1.7 -> 2.1, but Docker does not promise it)",
            );
        }
        return (Fate::KeepsRunning, why);
    }
    let policy = c.restart_policy.as_str();
    if policy == "always" {
        return (
            Fate::ComesBack,
            "restart: always: Docker starts it again".into(),
        );
    }
    if policy == "no" || policy.is_empty() {
        return (
            Fate::WillNotReturn,
            "restart: no: nothing starts it again".into(),
        );
    }
    let stop = stop_time(c);
    if policy == "unless-stopped" {
        if !reboot && let Some(overrun) = overrun(c, &stop, host) {
            return overrun;
        }
        return (
            Fate::ComesBack,
            format!(
                "unless-stopped, not flagged as manually stopped: Docker starts it again{}",
                stop.budget_words(host)
            ),
        );
    }
    on_failure(c)
}

/// `on-failure[:N]`: back when it exits non-zero on its stop signal and retries are left.
fn on_failure(c: &Container) -> (Fate, String) {
    let l = &c.lifecycle;
    if l.max_retries > 0 && c.restart_count >= l.max_retries {
        return (
            Fate::WillNotReturn,
            format!(
                "on-failure:{} has used its {} restarts",
                l.max_retries, c.restart_count
            ),
        );
    }
    let signal = l.stop_signal.as_deref().unwrap_or("SIGTERM");
    let killed = crate::docker::signal_number(signal) == Some(9);
    match (killed, l.handles_stop_signal) {
        (true, _) => (
            Fate::ComesBack,
            "on-failure, stopped with SIGKILL: it exits 137 and Docker starts it again".into(),
        ),
        (false, Some(false)) => (
            Fate::ComesBack,
            format!(
                "on-failure: its main process ignores {signal}, so Docker kills it after {} (exit 137) and starts it again",
                seconds(l.stop_wait())
            ),
        ),
        (false, Some(true)) => (
            Fate::AtRisk,
            format!(
                "on-failure: its main process handles {signal}; it comes back only if it then exits non-zero, and most programs exit 0"
            ),
        ),
        (false, None) => (
            Fate::AtRisk,
            format!(
                "on-failure: it comes back only if it exits non-zero on {signal}; drover could not read whether its main process handles it"
            ),
        ),
    }
}

/// A stopped container at the daemon's next start.
fn stopped(c: &Container) -> (Fate, String) {
    let l = &c.lifecycle;
    if !l.started_before || c.state == "created" {
        return (
            Fate::AlreadyStopped,
            "created but never started: Docker does not start it".into(),
        );
    }
    let policy = c.restart_policy.as_str();
    match policy {
        "always" => (
            Fate::WillStart,
            "stopped now, restart: always: the daemon starts it when it starts, even if it was stopped by hand".into(),
        ),
        "unless-stopped" => match l.manually_stopped {
            Some(false) => (
                Fate::WillStart,
                "stopped now but not flagged as manually stopped: the daemon starts it when it starts".into(),
            ),
            Some(true) => (
                Fate::AlreadyStopped,
                "stopped and flagged as manually stopped: stays stopped".into(),
            ),
            None => (
                Fate::AlreadyStopped,
                "stopped; stays stopped if it was stopped by hand (drover could not read the daemon's flag: that needs root)".into(),
            ),
        },
        p if p.starts_with("on-failure")
            && c.exit_code != 0
            && (l.max_retries == 0 || c.restart_count < l.max_retries) =>
        {
            (
                Fate::WillStart,
                format!(
                    "stopped with exit code {}, on-failure: the daemon starts it when it starts",
                    c.exit_code
                ),
            )
        }
        _ => (Fate::AlreadyStopped, "it is not running now".into()),
    }
}

/// How long a container takes to stop: `sure` seconds it certainly takes (it ignores its stop
/// signal, so Docker waits the whole stop timeout), `maybe` seconds it may take (a handler may
/// take the whole timeout, and a big process takes a while to exit once killed); `None`: forever.
struct StopTime {
    sure: Option<u64>,
    maybe: Option<u64>,
}

impl StopTime {
    fn budget_words(&self, host: Host) -> String {
        match (self.maybe, host.daemon.stop_deadline(host.containers)) {
            (Some(m), Some(d)) => format!(
                " (it stops within {} of the {} budget)",
                seconds(Some(m)),
                seconds(Some(d))
            ),
            _ => String::new(),
        }
    }
}

fn stop_time(c: &Container) -> StopTime {
    let l = &c.lifecycle;
    let exit = l.rss_kb.unwrap_or(0) / FREED_KIB_PER_SEC;
    let wait = l.stop_wait();
    let sure = match l.handles_stop_signal {
        Some(false) => wait,
        _ => Some(0),
    };
    StopTime {
        sure,
        maybe: wait.map(|w| w + exit),
    }
}

/// An `unless-stopped` container whose stop may outrun the daemon's stop deadline: the new daemon
/// finds it alive, stops it and flags it.
fn overrun(c: &Container, stop: &StopTime, host: Host) -> Option<(Fate, String)> {
    let deadline = host.daemon.stop_deadline(host.containers)?;
    let who = if host
        .daemon
        .systemd_stop_limit
        .is_some_and(|s| s == deadline)
    {
        "systemd kills dockerd"
    } else {
        "dockerd gives up waiting"
    };
    let flagged = "the new daemon finds it still running, stops it and flags it as manually stopped, and unless-stopped never starts it again";
    let signal = c.lifecycle.stop_signal.as_deref().unwrap_or("SIGTERM");
    if stop.sure.is_none_or(|s| s >= deadline) {
        return Some((
            Fate::WillNotReturn,
            format!(
                "its main process ignores {signal}, so Docker waits {} before killing it, but {who} after {}: {flagged}",
                seconds(stop.sure),
                seconds(Some(deadline))
            ),
        ));
    }
    if stop.maybe.is_none_or(|m| m >= deadline) {
        let big = c
            .lifecycle
            .rss_kb
            .filter(|kb| *kb >= FREED_KIB_PER_SEC)
            .map(|kb| format!(" and {} GiB in use", kb / (1024 * 1024)))
            .unwrap_or_default();
        return Some((
            Fate::AtRisk,
            format!(
                "stop timeout {}{big}: it may outlive the {} shutdown deadline ({who} then), and a container still running when the new daemon starts is flagged as manually stopped and never started again",
                seconds(c.lifecycle.stop_wait()),
                seconds(Some(deadline))
            ),
        ));
    }
    None
}

/// `12 s`, or `forever`.
fn seconds(s: Option<u64>) -> String {
    s.map_or_else(|| "forever".into(), |s| format!("{s} s"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::Lifecycle;

    fn container(policy: &str, state: &str, lifecycle: Lifecycle) -> Container {
        Container {
            name: format!("app-{policy}"),
            id: "id".into(),
            image: "img".into(),
            image_id: "sha256:a".into(),
            state: state.into(),
            restart_policy: policy.into(),
            compose_project: None,
            compose_service: None,
            health: None,
            restart_count: 0,
            exit_code: if state == "exited" { 137 } else { 0 },
            ports: Vec::new(),
            lifecycle: Lifecycle {
                started_before: true,
                ..lifecycle
            },
        }
    }

    fn ignores_term() -> Lifecycle {
        Lifecycle {
            handles_stop_signal: Some(false),
            manually_stopped: Some(false),
            ..Lifecycle::default()
        }
    }

    fn host<'a>(daemon: &'a Daemon, containers: &'a [Container]) -> Host<'a> {
        Host {
            daemon,
            start: Some(DaemonStart::Service),
            containers,
            major_jump: false,
        }
    }

    fn fates(event: Event, daemon: &Daemon, containers: &[Container]) -> Vec<Fate> {
        containers
            .iter()
            .map(|c| fate(c, event, host(daemon, containers)).0)
            .collect()
    }

    #[test]
    fn a_graceful_daemon_restart_brings_back_what_moby_brings_back() {
        let daemon = Daemon {
            systemd_stop_limit: Some(90),
            ..Daemon::default()
        };
        let handles = Lifecycle {
            handles_stop_signal: Some(true),
            ..ignores_term()
        };
        let cs = [
            container("always", "running", ignores_term()),
            container("unless-stopped", "running", ignores_term()),
            container("on-failure", "running", ignores_term()),
            container("on-failure", "running", handles),
            container("no", "running", ignores_term()),
        ];
        assert_eq!(
            fates(Event::DaemonRestart, &daemon, &cs),
            [
                Fate::ComesBack,
                Fate::ComesBack,
                Fate::ComesBack,
                Fate::AtRisk,
                Fate::WillNotReturn
            ]
        );
        let (_, why) = fate(&cs[1], Event::DaemonRestart, host(&daemon, &cs));
        assert_eq!(
            why,
            "unless-stopped, not flagged as manually stopped: Docker starts it again (it stops within 10 s of the 15 s budget)"
        );
        let (_, why) = fate(&cs[2], Event::DaemonRestart, host(&daemon, &cs));
        assert_eq!(
            why,
            "on-failure: its main process ignores SIGTERM, so Docker kills it after 10 s (exit 137) and starts it again"
        );
    }

    #[test]
    fn a_stop_that_outruns_systemd_flags_unless_stopped() {
        let daemon = Daemon {
            systemd_stop_limit: Some(5),
            ..Daemon::default()
        };
        let slow = Lifecycle {
            stop_timeout: Some(30),
            ..ignores_term()
        };
        let cs = [
            container("unless-stopped", "running", slow.clone()),
            container("always", "running", slow),
        ];
        let (f, why) = fate(&cs[0], Event::DaemonRestart, host(&daemon, &cs));
        assert_eq!(f, Fate::WillNotReturn);
        assert_eq!(
            why,
            "its main process ignores SIGTERM, so Docker waits 30 s before killing it, but systemd kills dockerd after 5 s: the new daemon finds it still running, stops it and flags it as manually stopped, and unless-stopped never starts it again"
        );
        // The flag set at the upgrade's Docker restart survives the reboot after it.
        let (f, why) = through(
            &cs[0],
            &[Event::DaemonRestart, Event::Reboot],
            host(&daemon, &cs),
        );
        assert_eq!(f, Fate::WillNotReturn);
        assert!(
            why.ends_with("(at the Docker restart, before the reboot)"),
            "{why}"
        );
        // always ignores the flag; a reboot starts from nothing, so nothing is flagged.
        assert_eq!(
            fates(Event::DaemonRestart, &daemon, &cs)[1],
            Fate::ComesBack
        );
        assert_eq!(
            fates(Event::Reboot, &daemon, &cs),
            [Fate::ComesBack, Fate::ComesBack]
        );
    }

    #[test]
    fn the_incidents_grace_period_zero_and_huge_memory_is_at_risk() {
        let daemon = Daemon::default();
        let cs = [container(
            "unless-stopped",
            "running",
            Lifecycle {
                stop_timeout: Some(0),
                handles_stop_signal: Some(true),
                rss_kb: Some(300 * 1024 * 1024),
                ..ignores_term()
            },
        )];
        let (f, why) = fate(&cs[0], Event::DaemonRestart, host(&daemon, &cs));
        assert_eq!(f, Fate::AtRisk);
        assert!(
            why.starts_with("stop timeout 0 s and 300 GiB in use: it may outlive the 15 s shutdown deadline (dockerd gives up waiting then)"),
            "{why}"
        );
    }

    #[test]
    fn stopped_containers_that_the_daemon_starts() {
        let daemon = Daemon::default();
        let flagged = Lifecycle {
            manually_stopped: Some(true),
            ..Lifecycle::default()
        };
        let mut on_failure_0 = container("on-failure", "exited", Lifecycle::default());
        on_failure_0.exit_code = 0;
        let cs = [
            container("always", "exited", flagged.clone()),
            container("unless-stopped", "exited", flagged),
            container("unless-stopped", "exited", ignores_term()),
            container("on-failure", "exited", Lifecycle::default()),
            on_failure_0,
            container("no", "exited", Lifecycle::default()),
        ];
        assert_eq!(
            fates(Event::Reboot, &daemon, &cs),
            [
                Fate::WillStart,
                Fate::AlreadyStopped,
                Fate::WillStart,
                Fate::WillStart,
                Fate::AlreadyStopped,
                Fate::AlreadyStopped
            ]
        );
        let mut created = container("always", "created", Lifecycle::default());
        created.lifecycle.started_before = false;
        assert_eq!(
            fate(&created, Event::Reboot, host(&daemon, &[])).0,
            Fate::AlreadyStopped
        );
    }

    #[test]
    fn live_restore_containerd_alone_and_used_up_retries() {
        let live = Daemon {
            live_restore: true,
            ..Daemon::default()
        };
        let cs = [container("no", "running", ignores_term())];
        assert_eq!(
            fates(Event::DaemonRestart, &live, &cs),
            [Fate::KeepsRunning]
        );
        assert_eq!(fates(Event::Reboot, &live, &cs), [Fate::WillNotReturn]);
        assert_eq!(
            fates(Event::ContainerdRestart, &Daemon::default(), &cs),
            [Fate::Unaffected]
        );
        let mut spent = container(
            "on-failure",
            "running",
            Lifecycle {
                max_retries: 3,
                ..ignores_term()
            },
        );
        spent.restart_count = 3;
        assert_eq!(
            fate(&spent, Event::DaemonRestart, host(&Daemon::default(), &[])),
            (
                Fate::WillNotReturn,
                "on-failure:3 has used its 3 restarts".to_string()
            )
        );
    }

    #[test]
    fn a_bind_mount_on_a_late_filesystem_is_at_risk_at_a_reboot_only() {
        let late = Lifecycle {
            late_binds: vec!["/mnt/data/app: /mnt/data is mounted from fstab with nofail, so nothing makes docker.service wait for it".into()],
            ..ignores_term()
        };
        let cs = [container("always", "running", late)];
        let daemon = Daemon::default();
        let (f, why) = fate(&cs[0], Event::Reboot, host(&daemon, &cs));
        assert_eq!(f, Fate::AtRisk);
        assert!(
            why.starts_with("its bind mount /mnt/data/app: /mnt/data is mounted"),
            "{why}"
        );
        assert_eq!(fates(Event::DaemonRestart, &daemon, &cs), [Fate::ComesBack]);
    }

    #[test]
    fn outcomes() {
        assert_eq!(Outcome::of(Fate::ComesBack, true), Outcome::Match);
        assert_eq!(Outcome::of(Fate::ComesBack, false), Outcome::Miss);
        assert_eq!(Outcome::of(Fate::WillNotReturn, false), Outcome::TrueAlarm);
        assert_eq!(Outcome::of(Fate::WillNotReturn, true), Outcome::FalseAlarm);
        assert_eq!(Outcome::of(Fate::AtRisk, true), Outcome::FalseAlarm);
        assert_eq!(Outcome::of(Fate::AtRisk, false), Outcome::TrueAlarm);
        assert_eq!(Outcome::of(Fate::AlreadyStopped, false), Outcome::Match);
        assert_eq!(Outcome::of(Fate::AlreadyStopped, true), Outcome::Miss);
        assert_eq!(Outcome::of(Fate::WillStart, false), Outcome::Miss);
    }
}
