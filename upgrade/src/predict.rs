//! The prediction: which units an upgrade restarts, whether it needs a reboot, and each container's
//! fate. A pure function of the facts, so it is tested with fixtures of real output.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::apt_plan::AptPlan;
use crate::docker::{Container, Daemon, DaemonStart};
use crate::fate::{self, Event, Fate};
use crate::known;
use crate::maintscripts::ScriptEffects;

/// Everything gathered from one host, read-only.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// The running kernel.
    pub kernel: String,
    /// The boot id.
    pub boot_id: String,
    /// /run/reboot-required exists.
    pub reboot_required: bool,
    /// /run/reboot-required.pkgs.
    pub reboot_required_pkgs: Vec<String>,
    /// apt's plan.
    pub plan: AptPlan,
    /// `apt-mark showhold`.
    pub holds: Vec<String>,
    /// Installed kernel images, as their `uname -r` names (`6.8.0-88-generic`).
    pub installed_kernels: Vec<String>,
    /// Maintainer-script effects of the candidate packages that could be fetched.
    pub scripts: BTreeMap<String, ScriptEffects>,
    /// How systemd starts Docker.
    pub daemon: Option<DaemonStart>,
    /// The daemon: versions, live-restore, what bounds its shutdown.
    pub docker: Daemon,
    /// The containers (empty when Docker is absent or was not asked).
    pub containers: Vec<Container>,
    /// Free kilobytes per mount point (/, /var, /boot).
    pub free_kb: BTreeMap<String, u64>,
}

/// Where a prediction comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Read from the candidate package's maintainer scripts.
    MaintainerScript,
    /// drover's table of well-known packages (the scripts could not be read).
    Table,
    /// Follows from another restart (docker.service requires, binds to or is part of containerd).
    Dependency,
}

/// A unit that will restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitRestart {
    /// The unit.
    pub unit: String,
    /// The package whose upgrade restarts it.
    pub package: String,
    /// How drover knows.
    pub source: Source,
}

/// A container's predicted fate and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerFate {
    /// Container name.
    pub name: String,
    /// Its restart policy.
    pub restart_policy: String,
    /// Compose project and service, when it has them.
    pub compose: Option<String>,
    /// The fate.
    pub fate: Fate,
    /// Why, in words.
    pub why: String,
}

/// One host's prediction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Prediction {
    /// Units that restart.
    pub restarts: Vec<UnitRestart>,
    /// Why a reboot is needed (empty: none).
    pub reboot: Vec<String>,
    /// The Docker daemon restarts.
    pub docker_restarts: bool,
    /// Each container's fate.
    pub containers: Vec<ContainerFate>,
    /// Other things to know: major version jumps, sshd or network restarts, full disks.
    pub warnings: Vec<String>,
}

impl Prediction {
    /// Some container is at risk or will not return.
    pub fn risky(&self) -> bool {
        self.containers
            .iter()
            .any(|c| matches!(c.fate, Fate::AtRisk | Fate::WillNotReturn))
    }
}

/// The first number of a Debian version, after any epoch: `5:28.3.2` is 28, `1.7.27-1` is 1.
/// The major version (the first number after any epoch), unless the version is a date: tzdata
/// `2025b`, ca-certificates `20250419`, debian-archive-keyring `2023.3` move their "major" every
/// year, and a warning on every Debian host teaches operators to skip warnings.
fn major(version: &str) -> Option<u64> {
    let n = first_number(version)?;
    let digits = n.to_string().len();
    let dated = (digits == 4 && (1990..2200).contains(&n))
        || (digits == 8 && (19_900_101..22_000_000).contains(&n));
    (!dated).then_some(n)
}

fn first_number(version: &str) -> Option<u64> {
    let v = version.split_once(':').map_or(version, |(_, v)| v);
    v.split(|c: char| !c.is_ascii_digit())
        .find(|p| !p.is_empty())?
        .parse()
        .ok()
}

/// A kernel image (`linux-image-6.8.0-88-generic`), as opposed to a metapackage that depends on one
/// (`linux-image-generic`). Kernel postinst scripts leave the reboot notice to hooks, so the name counts.
fn is_kernel_image(package: &str) -> bool {
    package
        .strip_prefix("linux-image-")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// Predicts what upgrading as planned does to the host.
pub fn predict(facts: &HostFacts) -> Prediction {
    let mut p = Prediction::default();
    let mut major_jump_in_docker = false;
    for u in &facts.plan.upgrades {
        let (units, reboot, source): (Vec<String>, bool, Source) =
            match (facts.scripts.get(&u.package), known::lookup(&u.package)) {
                (Some(e), _) => (
                    e.restarts.iter().cloned().collect(),
                    e.reboot,
                    Source::MaintainerScript,
                ),
                (None, Some(k)) => (
                    k.restarts.iter().map(|s| s.to_string()).collect(),
                    k.reboot,
                    Source::Table,
                ),
                (None, None) => (Vec::new(), false, Source::Table),
            };
        for unit in units {
            if !p.restarts.iter().any(|r| r.unit == unit) {
                p.restarts.push(UnitRestart {
                    unit,
                    package: u.package.clone(),
                    source,
                });
            }
        }
        if reboot || is_kernel_image(&u.package) {
            p.reboot.push(format!("{} {}", u.package, u.candidate));
        }
        let docker_family =
            known::lookup(&u.package).is_some_and(|k| k.restarts.contains(&"docker.service"));
        if let (Some(a), Some(b)) = (u.current.as_deref().and_then(major), major(&u.candidate))
            && a != b
        {
            major_jump_in_docker |= docker_family;
            if u.package.starts_with("containerd") && b == 2 {
                p.warnings.push(
                    "containerd 2.x: while it is unpacked, new container starts fail (\"unsupported shim version\"); running containers are not touched".into(),
                );
            }
            p.warnings.push(format!(
                "{} {} -> {} is a major version jump",
                u.package,
                u.current.as_deref().unwrap_or("?"),
                u.candidate
            ));
        }
    }
    if let Some(c) = p
        .restarts
        .iter()
        .find(|r| r.unit == "containerd.service")
        .cloned()
        && !p.restarts.iter().any(|r| r.unit == "docker.service")
        && facts.docker.follows_containerd == Some(true)
    {
        p.restarts.push(UnitRestart {
            unit: "docker.service".into(),
            package: c.package,
            source: Source::Dependency,
        });
    }
    if let Some(newest) = facts
        .installed_kernels
        .iter()
        .max_by(|a, b| crate::debversion::compare(a, b))
        && !facts.kernel.is_empty()
        && crate::debversion::compare(newest, &facts.kernel) == std::cmp::Ordering::Greater
    {
        p.reboot.insert(
            0,
            format!(
                "kernel {newest} is installed but {} is running",
                facts.kernel
            ),
        );
    }
    if facts.reboot_required {
        p.reboot.insert(
            0,
            format!(
                "/run/reboot-required is already set ({})",
                facts.reboot_required_pkgs.join(", ")
            ),
        );
    }
    p.docker_restarts = p.restarts.iter().any(|r| r.unit == "docker.service");
    if p.restarts
        .iter()
        .any(|r| r.unit == "ssh.service" || r.unit == "sshd.service")
    {
        p.warnings.push(
            "sshd restarts: open sessions normally survive, but a broken config would lock you out"
                .into(),
        );
    }
    for r in &p.restarts {
        if [
            "networking.service",
            "systemd-networkd.service",
            "NetworkManager.service",
        ]
        .contains(&r.unit.as_str())
        {
            p.warnings
                .push(format!("{} restarts: the SSH session may drop", r.unit));
        }
    }
    for (mount, free) in &facts.free_kb {
        let limit = if mount == "/boot" {
            100 * 1024
        } else {
            1024 * 1024
        };
        if *free < limit {
            p.warnings
                .push(format!("only {} MiB free on {mount}", free / 1024));
        }
    }
    // In the order they happen: the upgrade restarts the daemons, then the host reboots.
    let mut events = Vec::new();
    if p.docker_restarts {
        events.push(Event::DaemonRestart);
    } else if p.restarts.iter().any(|r| r.unit == "containerd.service") {
        events.push(Event::ContainerdRestart);
    }
    if !p.reboot.is_empty() {
        events.push(Event::Reboot);
    }
    let host = fate::Host {
        daemon: &facts.docker,
        start: facts.daemon,
        containers: &facts.containers,
        major_jump: major_jump_in_docker,
    };
    for c in &facts.containers {
        let (fate, why) = fate::through(c, &events, host);
        p.containers.push(ContainerFate {
            name: c.name.clone(),
            restart_policy: c.restart_policy.clone(),
            compose: c
                .compose_project
                .as_ref()
                .map(|proj| format!("{proj}/{}", c.compose_service.clone().unwrap_or_default())),
            fate,
            why,
        });
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apt_plan::{AptPlan, Upgrade};

    fn upgrade(pkg: &str, from: &str, to: &str) -> Upgrade {
        Upgrade {
            package: pkg.into(),
            current: Some(from.into()),
            candidate: to.into(),
            origins: vec![],
            security: false,
        }
    }

    fn inspected() -> Vec<Container> {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/docker-inspect.json"),
        )
        .unwrap();
        crate::docker::containers(&text).unwrap()
    }

    fn fates(p: &Prediction) -> Vec<(String, Fate)> {
        p.containers
            .iter()
            .map(|c| (c.name.clone(), c.fate))
            .collect()
    }

    #[test]
    fn date_versioned_packages_are_not_major_version_jumps() {
        let facts = HostFacts {
            plan: AptPlan {
                upgrades: vec![
                    upgrade("tzdata", "2025b-0+deb12u1", "2026f-0+deb12u1"),
                    upgrade("ca-certificates", "20230311", "20250419"),
                    upgrade("debian-archive-keyring", "2023.3+deb12u1", "2025.1"),
                    upgrade("runc", "1.1.15-1", "2.0.0-1"),
                    upgrade("openssl", "3.0.15-1~deb12u1", "3.0.17-1~deb12u2"),
                ],
                ..AptPlan::default()
            },
            ..HostFacts::default()
        };
        assert_eq!(
            predict(&facts).warnings,
            ["runc 1.1.15-1 -> 2.0.0-1 is a major version jump"]
        );
    }

    #[test]
    fn the_incident_containerd_upgrade_and_a_new_kernel() {
        let facts = HostFacts {
            plan: AptPlan {
                upgrades: vec![
                    upgrade("containerd.io", "1.7.27-1", "2.1.5-1"),
                    upgrade("docker-ce", "5:28.3.2-1", "5:29.0.2-1"),
                    upgrade("linux-image-generic", "6.8.0-87", "6.8.0-88"),
                ],
                ..AptPlan::default()
            },
            daemon: Some(DaemonStart::Service),
            containers: inspected(),
            ..HostFacts::default()
        };
        let p = predict(&facts);
        assert_eq!(
            p.restarts
                .iter()
                .map(|r| r.unit.as_str())
                .collect::<Vec<_>>(),
            ["containerd.service", "docker.service"]
        );
        assert!(p.restarts.iter().all(|r| r.source == Source::Table));
        assert_eq!(p.reboot, ["linux-image-generic 6.8.0-88"]);
        assert!(p.warnings.iter().any(|w| w.starts_with("containerd.io 1.7.27-1 -> 2.1.5-1 is a major version jump")));
        assert_eq!(
            fates(&p),
            [
                // A reboot: nothing outlives a shutdown, so nothing is flagged.
                ("fixture-always".to_string(), Fate::ComesBack),
                ("fixture-unless-stopped".to_string(), Fate::ComesBack),
                // Whether it exits non-zero on SIGTERM is not in `docker inspect`.
                ("fixture-on-failure".to_string(), Fate::AtRisk),
                ("fixture-no".to_string(), Fate::WillNotReturn),
                ("fixture-unhealthy".to_string(), Fate::ComesBack),
            ]
        );
        assert!(p.risky());
        assert_eq!(
            p.containers[1].compose.as_deref(),
            Some("silo/unless-stopped")
        );
    }

    #[test]
    fn a_newer_installed_kernel_means_a_pending_reboot() {
        let facts = HostFacts {
            kernel: "6.8.0-87-generic".into(),
            installed_kernels: vec!["6.8.0-87-generic".into(), "6.8.0-88-generic".into()],
            ..HostFacts::default()
        };
        assert_eq!(
            predict(&facts).reboot,
            ["kernel 6.8.0-88-generic is installed but 6.8.0-87-generic is running"]
        );
        let current = HostFacts {
            kernel: "6.8.0-88-generic".into(),
            installed_kernels: vec!["6.8.0-88-generic".into()],
            ..HostFacts::default()
        };
        assert!(predict(&current).reboot.is_empty());
    }

    #[test]
    fn live_restore_socket_activation_and_harmless_upgrades() {
        let minor = HostFacts {
            plan: AptPlan {
                upgrades: vec![upgrade("docker-ce", "5:28.3.2-1", "5:28.3.3-1")],
                ..AptPlan::default()
            },
            daemon: Some(DaemonStart::Service),
            docker: Daemon {
                live_restore: true,
                ..Daemon::default()
            },
            containers: inspected(),
            ..HostFacts::default()
        };
        assert!(
            predict(&minor)
                .containers
                .iter()
                .all(|c| c.fate == Fate::KeepsRunning)
        );
        let socket_reboot = HostFacts {
            plan: AptPlan {
                upgrades: vec![upgrade("linux-image-amd64", "6.1.0-27", "6.1.0-28")],
                ..AptPlan::default()
            },
            daemon: Some(DaemonStart::SocketOnly),
            containers: inspected(),
            ..HostFacts::default()
        };
        assert!(
            predict(&socket_reboot)
                .containers
                .iter()
                .all(|c| c.fate == Fate::WillNotReturn)
        );
        let expat = HostFacts {
            plan: AptPlan {
                upgrades: vec![upgrade("libexpat1", "2.5.0-1", "2.5.0-1+deb12u1")],
                ..AptPlan::default()
            },
            daemon: Some(DaemonStart::Service),
            containers: inspected(),
            ..HostFacts::default()
        };
        let p = predict(&expat);
        assert!(p.restarts.is_empty() && p.reboot.is_empty() && !p.risky());
        assert!(p.containers.iter().all(|c| c.fate == Fate::Unaffected));
    }
}
