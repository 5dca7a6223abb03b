//! The read-only commands that gather a host's facts, and the parsing of their output. Nothing here
//! changes a host: apt only simulates, and is told not to write even its binary caches; candidate
//! packages are fetched into a temporary folder that is removed; `docker` is asked only after systemd
//! says the daemon is running, because talking to a socket-activated daemon starts it.

use std::collections::BTreeMap;

use crate::apt_plan;
use crate::docker::{self, Container, Daemon, DaemonStart};
use crate::maintscripts::{self, ScriptEffects};
use crate::predict::HostFacts;

/// Prints the host's boot id. `DROVER_BOOT_ID_FILE`, when the host sets it, names another file to read:
/// the test fleet uses it to give each of its hosts (one machine) a boot id of its own.
pub const BOOT_ID_COMMAND: &str = "cat \"${DROVER_BOOT_ID_FILE:-/proc/sys/kernel/random/boot_id}\"";

/// apt without writing its package caches.
pub(crate) const APT: &str = "LANG=C apt-get -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=";

/// The first round trip: kernel, boot id, reboot state, apt's plan, holds, systemd's view of Docker,
/// free disk space. Sections start with `### name`.
pub fn base_command() -> String {
    [
        "echo '### kernel'; uname -r",
        &format!("echo '### boot_id'; {BOOT_ID_COMMAND}"),
        "echo '### reboot_required'; [ -e /run/reboot-required ] && echo yes; cat /run/reboot-required.pkgs 2>/dev/null",
        &format!("echo '### plan'; {APT} -s -q dist-upgrade 2>&1"),
        "echo '### holds'; apt-mark showhold 2>/dev/null",
        // dpkg reads the same database apt does (APT_CONFIG may move it).
        "echo '### kernels'; eval \"$(apt-config shell ST Dir::State::status/f 2>/dev/null)\"; dpkg-query --admindir=\"$(dirname \"${ST:-/var/lib/dpkg/status}\")\" -W -f '${Package} ${db:Status-Abbrev}\\n' 'linux-image-[0-9]*' 2>/dev/null",
        "echo '### systemd'; if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then for u in docker.service docker.socket; do echo \"$u $(systemctl is-enabled $u 2>/dev/null) $(systemctl is-active $u 2>/dev/null)\"; done; else echo none; fi",
        "echo '### docker_socket'; s=${DOCKER_HOST:-unix:///var/run/docker.sock}; [ -S \"${s#unix://}\" ] && command -v docker >/dev/null 2>&1 && echo yes",
        "echo '### df'; df -Pk / /var /boot 2>/dev/null",
    ]
    .join("; ")
}

/// Splits `### name` sections.
pub(crate) fn sections(output: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut current = String::new();
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            current = name.trim().to_string();
            out.entry(current.clone()).or_default();
        } else if let Some(body) = out.get_mut(&current) {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// The text of one `### name` section, trimmed.
pub fn section(output: &str, name: &str) -> String {
    sections(output)
        .get(name)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Parses the first round trip. Returns the facts so far and whether Docker should be asked.
pub fn parse_base(output: &str) -> (HostFacts, bool) {
    let s = sections(output);
    let get = |k: &str| s.get(k).map(String::as_str).unwrap_or_default();
    let reboot = get("reboot_required");
    let mut reboot_lines = reboot.lines();
    let reboot_required = reboot_lines.next() == Some("yes");
    let daemon = docker::daemon_start(get("systemd"));
    let active = get("systemd")
        .lines()
        .any(|l| l.starts_with("docker.service ") && l.ends_with(" active"));
    let ask_docker = match daemon {
        DaemonStart::Unmanaged => get("docker_socket").trim() == "yes",
        _ => active,
    };
    let facts = HostFacts {
        kernel: get("kernel").trim().to_string(),
        boot_id: get("boot_id").trim().to_string(),
        reboot_required,
        reboot_required_pkgs: if reboot_required {
            reboot_lines.map(str::to_string).collect()
        } else {
            Vec::new()
        },
        plan: apt_plan::parse(get("plan")),
        holds: get("holds")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        installed_kernels: get("kernels")
            .lines()
            .filter(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|st| st.starts_with("ii"))
            })
            .filter_map(|l| {
                l.split_whitespace()
                    .next()?
                    .strip_prefix("linux-image-")
                    .map(str::to_string)
            })
            .collect(),
        daemon: Some(daemon),
        free_kb: get("df")
            .lines()
            .skip(1)
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                Some((w.get(5)?.to_string(), w.get(3)?.parse().ok()?))
            })
            .collect(),
        ..HostFacts::default()
    };
    (facts, ask_docker)
}

/// The second round trip, when the daemon runs: the daemon (versions, live-restore, its main PID,
/// what bounds its shutdown, its unit's relations), every container, the daemon's own "manually
/// stopped" flag of each (its state files; root only, silently absent otherwise), and the stop-signal
/// mask and memory of each running container's main process. Read-only.
pub const DOCKER_COMMAND: &str = concat!(
    "i=$(docker info --format '{{.LiveRestoreEnabled}} {{.ServerVersion}} {{.DockerRootDir}}' 2>/dev/null); ",
    "echo '### info'; echo \"$i\"; ",
    "echo '### containerd'; containerd --version 2>/dev/null; ",
    "echo '### daemon_json'; cat /etc/docker/daemon.json 2>/dev/null; echo; ",
    "echo '### dockerd'; p=$(systemctl show -p MainPID --value docker.service 2>/dev/null); ",
    "[ \"${p:-0}\" -gt 0 ] 2>/dev/null || p=$(pidof dockerd 2>/dev/null | cut -d' ' -f1); ",
    "[ -n \"$p\" ] && { echo \"$p\"; tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null; echo; }; ",
    "echo '### units'; [ -d /run/systemd/system ] && systemctl show -p Id,Requires,BindsTo,PartOf,TimeoutStopUSec,After docker.service containerd.service 2>/dev/null; ",
    "echo '### containers'; ids=$(docker ps -aq --no-trunc); [ -z \"$ids\" ] || docker inspect $ids; ",
    "echo '### flags'; r=${i##* }; for f in \"$r\"/containers/*/config.v2.json; do ",
    "[ -r \"$f\" ] && echo \"$(basename \"$(dirname \"$f\")\") $(grep -o '\"HasBeenManuallyStopped\":[a-z]*' \"$f\")\"; done; ",
    // Each bind source not on /: its mount point, that mount point's fstab entry (type and
    // options), and its systemd mount unit.
    "echo '### binds'; [ -z \"$ids\" ] || docker inspect -f '{{range .Mounts}}{{if eq .Type \"bind\"}}{{println .Source}}{{end}}{{end}}' $ids | sort -u | while read -r s; do ",
    "[ -n \"$s\" ] || continue; t=$(findmnt -n -o TARGET -T \"$s\" 2>/dev/null | head -n 1); [ -n \"$t\" ] && [ \"$t\" != / ] || continue; ",
    "echo \"$s|$t|$(findmnt -s -n -o FSTYPE,OPTIONS --mountpoint \"$t\" 2>/dev/null | head -n 1)|$(systemd-escape -p --suffix=mount \"$t\" 2>/dev/null)\"; done; ",
    "echo '### procs'; [ -z \"$ids\" ] || docker inspect -f '{{.Id}} {{.State.Pid}}' $ids | while read -r id pid; do ",
    "[ \"$pid\" -gt 0 ] 2>/dev/null && echo \"$id $(sed -n 's/^SigCgt:[[:space:]]*//p; s/^VmRSS:[[:space:]]*\\([0-9]*\\).*/rss \\1/p' /proc/$pid/status 2>/dev/null | tr '\\n' ' ')\"; done; true",
);

/// Reads the Docker round trip's answers.
pub fn parse_docker_state(output: &str) -> Result<(Daemon, Vec<Container>), String> {
    let s = sections(output);
    let get = |k: &str| s.get(k).map(String::as_str).unwrap_or_default();
    let mut info = get("info").split_whitespace();
    let mut daemon = Daemon {
        live_restore: info.next() == Some("true"),
        version: info.next().unwrap_or_default().to_string(),
        containerd_version: get("containerd")
            .split_whitespace()
            .find(|w| w.starts_with(|c: char| c.is_ascii_digit()) || w.starts_with('v'))
            .map(|v| v.trim_start_matches('v').to_string())
            .unwrap_or_default(),
        ..Daemon::default()
    };
    let mut dockerd = get("dockerd").lines();
    daemon.pid = dockerd.next().and_then(|p| p.trim().parse().ok());
    daemon.shutdown_timeout =
        docker::shutdown_timeout(get("daemon_json"), dockerd.next().unwrap_or_default());
    docker::unit_relations(get("units"), &mut daemon);
    let mut containers = docker::containers(get("containers"))?;
    docker::add_lifecycle(&mut containers, get("flags"), get("procs"));
    docker::add_late_binds(&mut containers, get("binds"), &daemon);
    Ok((daemon, containers))
}

/// Adds the Docker round trip's answers to `facts`.
pub fn parse_docker(output: &str, facts: &mut HostFacts) -> Result<(), String> {
    (facts.docker, facts.containers) = parse_docker_state(output)?;
    Ok(())
}

/// Fetches the candidate packages into a temporary folder, extracts their control archives and prints
/// their preinst, postinst and prerm, each after `### PACKAGE SCRIPT`; then removes the folder.
pub fn scripts_command(packages: &[(String, String)]) -> String {
    let specs: Vec<String> = packages
        .iter()
        .map(|(p, v)| drover_shell::quote(&format!("{p}={v}")))
        .collect();
    format!(
        "d=$(mktemp -d) && cd \"$d\" && {{ {APT} download -q {} >/dev/null 2>&1 || for s in {}; do {APT} download -q \"$s\" >/dev/null 2>&1; done; }}; \
         for f in *.deb; do [ -e \"$f\" ] || continue; n=${{f%%_*}}; mkdir \"$n.ctl\" && dpkg-deb -e \"$f\" \"$n.ctl\" && for s in preinst postinst prerm; do [ -f \"$n.ctl/$s\" ] && {{ echo \"### $n $s\"; cat \"$n.ctl/$s\"; }}; done; done; cd / && rm -rf \"$d\"",
        specs.join(" "),
        specs.join(" ")
    )
}

/// Reads the scripts round trip: effects per package that could be fetched.
pub fn parse_scripts(output: &str) -> BTreeMap<String, ScriptEffects> {
    let mut texts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        if let Some(head) = line.strip_prefix("### ") {
            let pkg = head
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            texts.entry(pkg.clone()).or_default().push(String::new());
            current = Some(pkg);
        } else if let Some(pkg) = &current
            && let Some(last) = texts.get_mut(pkg).and_then(|v| v.last_mut())
        {
            last.push_str(line);
            last.push('\n');
        }
    }
    texts
        .into_iter()
        .map(|(pkg, scripts)| {
            let refs: Vec<&str> = scripts.iter().map(String::as_str).collect();
            (pkg, maintscripts::effects(&refs))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_output_parses() {
        let out = "### kernel\n6.8.0-87-generic\n### boot_id\nabc\n### reboot_required\nyes\nlinux-image-6.8.0-88-generic\n### plan\nInst libexpat1 [2.5.0-1] (2.5.0-1+deb12u1 Debian-Security:12/bookworm-security [amd64])\n### holds\ndocker-ce\n### kernels\nlinux-image-6.8.0-87-generic ii \nlinux-image-6.8.0-88-generic ii \nlinux-image-6.8.0-80-generic rc \n### systemd\ndocker.service enabled active\ndocker.socket enabled active\n### docker_socket\nyes\n### df\nFilesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 100 50 2048 50% /\n";
        let (facts, ask) = parse_base(out);
        assert!(ask);
        assert_eq!(facts.kernel, "6.8.0-87-generic");
        assert!(facts.reboot_required);
        assert_eq!(facts.reboot_required_pkgs, ["linux-image-6.8.0-88-generic"]);
        assert_eq!(facts.plan.upgrades[0].package, "libexpat1");
        assert!(facts.plan.upgrades[0].security);
        assert_eq!(facts.holds, ["docker-ce"]);
        assert_eq!(
            facts.installed_kernels,
            ["6.8.0-87-generic", "6.8.0-88-generic"]
        );
        assert_eq!(facts.daemon, Some(DaemonStart::Service));
        assert_eq!(facts.free_kb["/"], 2048);
    }

    #[test]
    fn docker_state_reads_the_daemon_its_units_and_each_containers_lifecycle() {
        let out = r#"### info
false 20.10.24+dfsg1 /var/lib/docker
### containerd
containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1
### daemon_json
{"storage-driver": "vfs", "shutdown-timeout": 20}

### dockerd
4242
/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock --shutdown-timeout=7
### units
Id=docker.service
Requires=docker.socket system.slice
BindsTo=
PartOf=
TimeoutStopUSec=1min 30s

Id=containerd.service
Requires=system.slice
BindsTo=
PartOf=
TimeoutStopUSec=1min 30s
### containers
[{"Id": "aaa", "Name": "/web", "State": {"Status": "running", "StartedAt": "2026-12-01T10:00:00Z", "Pid": 99}, "Config": {"StopTimeout": 30, "StopSignal": "SIGQUIT"}, "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}}, "Mounts": [{"Type": "bind", "Source": "/srv/web"}, {"Type": "volume", "Source": "/var/lib/docker/volumes/x"}]},
 {"Id": "bbb", "Name": "/old", "State": {"Status": "exited", "StartedAt": "0001-01-01T00:00:00Z", "Pid": 0}, "Config": {}, "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}}}]
### flags
aaa "HasBeenManuallyStopped":false
bbb "HasBeenManuallyStopped":true
### procs
aaa rss 2048 0000000000004004
"#;
        let (daemon, containers) = parse_docker_state(out).unwrap();
        assert!(!daemon.live_restore);
        assert_eq!(daemon.version, "20.10.24+dfsg1");
        assert_eq!(daemon.containerd_version, "1.6.20~ds1");
        assert_eq!(daemon.pid, Some(4242));
        assert_eq!(daemon.shutdown_timeout, Some(7), "the command line wins");
        assert_eq!(daemon.systemd_stop_limit, Some(90));
        assert_eq!(daemon.follows_containerd, Some(false));
        let web = &containers[0].lifecycle;
        assert_eq!(web.manually_stopped, Some(false));
        assert_eq!(web.stop_timeout, Some(30));
        // SIGQUIT is signal 3: bit 2 of 0x4004.
        assert_eq!(web.handles_stop_signal, Some(true));
        assert_eq!(web.rss_kb, Some(2048));
        assert_eq!(web.max_retries, 3);
        assert!(web.started_before);
        assert_eq!(web.binds, ["/srv/web"]);
        let old = &containers[1].lifecycle;
        assert_eq!(old.manually_stopped, Some(true));
        assert!(!old.started_before);
        assert_eq!(old.handles_stop_signal, None);
        assert_eq!(daemon.shutdown_budget(&containers), Some(35));
    }

    #[test]
    fn socket_only_docker_is_not_asked() {
        let (_, ask) = parse_base(
            "### systemd\ndocker.service disabled inactive\ndocker.socket enabled active\n### docker_socket\nyes\n",
        );
        assert!(!ask, "asking would start a socket-activated daemon");
    }

    #[test]
    fn scripts_are_grouped_by_package() {
        let out = "### containerd.io postinst\n#!/bin/sh\nsystemctl try-restart containerd.service\n### containerd.io prerm\n#!/bin/sh\n### libexpat1 postinst\n#!/bin/sh\nldconfig\n";
        let effects = parse_scripts(out);
        assert!(
            effects["containerd.io"]
                .restarts
                .contains("containerd.service")
        );
        assert!(effects["libexpat1"].restarts.is_empty());
    }
}
