//! Roll call: a snapshot of what ran before a host was changed, and the verdict on each container
//! afterwards. Pure: the executor takes the snapshot, waits, polls, and asks for verdicts.

use serde::{Deserialize, Serialize};

use crate::docker::{Container, Daemon, Lifecycle};
use crate::fate::{self, Event, Fate, Outcome};

/// What ran on a host before it was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The host.
    pub host: String,
    /// Its boot id then.
    pub boot_id: String,
    /// Every container that was running then.
    pub containers: Vec<Expected>,
    /// The daemon then (its main PID tells a daemon restart; what bounds its shutdown decides
    /// the fates).
    #[serde(default)]
    pub daemon: Daemon,
    /// The containers that were not running then: not expected back, but a daemon start may start
    /// some of them (`always`, even when stopped by hand), and the roll call says so.
    #[serde(default)]
    pub stopped: Vec<Container>,
}

/// A container expected back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// Name.
    pub name: String,
    /// Container id then.
    pub id: String,
    /// Image reference.
    pub image: String,
    /// Image id then.
    pub image_id: String,
    /// Restart policy.
    pub restart_policy: String,
    /// Compose project, if any.
    pub compose_project: Option<String>,
    /// Compose service, if any.
    pub compose_service: Option<String>,
    /// Health then, if it has a healthcheck.
    pub health: Option<String>,
    /// Restart count then.
    pub restart_count: u64,
    /// Published ports then.
    pub ports: Vec<String>,
    /// What decided its fate then.
    #[serde(default)]
    pub lifecycle: Lifecycle,
}

impl Expected {
    /// The container as it was when the snapshot was taken.
    pub fn as_running(&self) -> Container {
        Container {
            name: self.name.clone(),
            id: self.id.clone(),
            image: self.image.clone(),
            image_id: self.image_id.clone(),
            state: "running".into(),
            restart_policy: self.restart_policy.clone(),
            compose_project: self.compose_project.clone(),
            compose_service: self.compose_service.clone(),
            health: self.health.clone(),
            restart_count: self.restart_count,
            exit_code: 0,
            ports: self.ports.clone(),
            lifecycle: self.lifecycle.clone(),
        }
    }
}

/// A fate and why.
pub type Fated = (Fate, String);

/// A fate predicted for what really happened, and how it held up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Predicted {
    /// The fate.
    pub fate: Fate,
    /// Why, in words.
    pub why: String,
    /// Against what the roll call saw.
    pub outcome: Outcome,
}

impl Snapshot {
    /// The running containers of `containers`.
    pub fn new(host: &str, boot_id: &str, daemon: Daemon, containers: &[Container]) -> Snapshot {
        Snapshot {
            host: host.to_string(),
            boot_id: boot_id.to_string(),
            daemon,
            containers: containers
                .iter()
                .filter(|c| c.state == "running")
                .map(|c| Expected {
                    name: c.name.clone(),
                    id: c.id.clone(),
                    image: c.image.clone(),
                    image_id: c.image_id.clone(),
                    restart_policy: c.restart_policy.clone(),
                    compose_project: c.compose_project.clone(),
                    compose_service: c.compose_service.clone(),
                    health: c.health.clone(),
                    restart_count: c.restart_count,
                    ports: c.ports.clone(),
                    lifecycle: c.lifecycle.clone(),
                })
                .collect(),
            stopped: containers
                .iter()
                .filter(|c| c.state != "running")
                .cloned()
                .collect(),
        }
    }

    /// What happened between the snapshot and now: a new boot id is a reboot, a new dockerd a
    /// daemon restart.
    pub fn event(&self, boot_id_now: &str, daemon_now: &Daemon) -> Event {
        if !boot_id_now.is_empty() && boot_id_now != self.boot_id {
            Event::Reboot
        } else if self.daemon.pid.is_some() && daemon_now.pid != self.daemon.pid {
            Event::DaemonRestart
        } else {
            Event::Nothing
        }
    }

    /// Each expected container's fate for `event`, then each stopped one's, as the snapshot's
    /// facts predict them.
    pub fn fates(&self, event: Event) -> (Vec<Fated>, Vec<Fated>) {
        let running: Vec<Container> = self.containers.iter().map(Expected::as_running).collect();
        let all: Vec<Container> = running.iter().chain(&self.stopped).cloned().collect();
        let host = fate::Host {
            daemon: &self.daemon,
            start: None,
            containers: &all,
            major_jump: false,
        };
        let of = |list: &[Container]| list.iter().map(|c| fate::fate(c, event, host)).collect();
        (of(&running), of(&self.stopped))
    }
}

/// One container's state after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Running, same image (or an intended new one), healthy, not restart-looping.
    CameBack,
    /// No container of that name.
    Missing,
    /// Not running; its last exit code.
    Exited {
        /// Exit code.
        code: i64,
    },
    /// Restarting, or its restart count grew during the stability window.
    Restarting,
    /// Its healthcheck says unhealthy (or is still starting at the deadline).
    Unhealthy {
        /// The health status.
        health: String,
    },
    /// It runs another image than before, and the run did not change it on purpose.
    ImageChanged {
        /// The image id now.
        now: String,
    },
}

impl Verdict {
    /// Whether the container counts as back.
    pub fn ok(&self) -> bool {
        *self == Verdict::CameBack
    }

    /// Whether it runs again (healthy or not): what a predicted fate is held against.
    pub fn running(&self) -> bool {
        !matches!(self, Verdict::Missing | Verdict::Exited { .. })
    }
}

/// The verdict on `expected`, from two observations a stability window apart: `now` and `later`.
/// `intended_images` are image ids the run deployed on purpose.
pub fn verdict(
    expected: &Expected,
    now: Option<&Container>,
    later: Option<&Container>,
    intended_images: &[String],
) -> Verdict {
    let (Some(now), Some(later)) = (now, later) else {
        return Verdict::Missing;
    };
    if later.state == "restarting" || later.restart_count > now.restart_count {
        return Verdict::Restarting;
    }
    if later.state != "running" {
        return Verdict::Exited {
            code: later.exit_code,
        };
    }
    if later.image_id != expected.image_id && !intended_images.contains(&later.image_id) {
        return Verdict::ImageChanged {
            now: later.image_id.clone(),
        };
    }
    match later.health.as_deref() {
        Some(h) if h != "healthy" => Verdict::Unhealthy {
            health: h.to_string(),
        },
        _ => Verdict::CameBack,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(
        name: &str,
        state: &str,
        restarts: u64,
        health: Option<&str>,
        image_id: &str,
    ) -> Container {
        Container {
            name: name.into(),
            id: "id".into(),
            image: "img".into(),
            image_id: image_id.into(),
            state: state.into(),
            restart_policy: "always".into(),
            compose_project: None,
            compose_service: None,
            health: health.map(str::to_string),
            restart_count: restarts,
            exit_code: if state == "exited" { 137 } else { 0 },
            ports: Vec::new(),
            lifecycle: Default::default(),
        }
    }

    #[test]
    fn verdicts() {
        let before = container("web", "running", 0, None, "sha256:a");
        let snap = Snapshot::new(
            "h",
            "b1",
            Daemon::default(),
            &[
                before.clone(),
                container("old", "exited", 0, None, "sha256:a"),
            ],
        );
        assert_eq!(
            snap.containers.len(),
            1,
            "only running containers are expected back"
        );
        let e = &snap.containers[0];
        let ok = container("web", "running", 0, None, "sha256:a");
        assert_eq!(verdict(e, Some(&ok), Some(&ok), &[]), Verdict::CameBack);
        assert_eq!(verdict(e, None, None, &[]), Verdict::Missing);
        let exited = container("web", "exited", 0, None, "sha256:a");
        assert_eq!(
            verdict(e, Some(&exited), Some(&exited), &[]),
            Verdict::Exited { code: 137 }
        );
        let looping = container("web", "running", 3, None, "sha256:a");
        assert_eq!(
            verdict(e, Some(&ok), Some(&looping), &[]),
            Verdict::Restarting
        );
        let sick = container("web", "running", 0, Some("unhealthy"), "sha256:a");
        assert_eq!(
            verdict(e, Some(&sick), Some(&sick), &[]),
            Verdict::Unhealthy {
                health: "unhealthy".into()
            }
        );
        let new = container("web", "running", 0, None, "sha256:b");
        assert_eq!(
            verdict(e, Some(&new), Some(&new), &[]),
            Verdict::ImageChanged {
                now: "sha256:b".into()
            }
        );
        assert_eq!(
            verdict(e, Some(&new), Some(&new), &["sha256:b".into()]),
            Verdict::CameBack
        );
    }
}
