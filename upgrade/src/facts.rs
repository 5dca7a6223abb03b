//! The read-only commands that gather a host's facts, and the parsing of their output. Nothing here
//! changes a host: apt only simulates, and is told not to write even its binary caches; candidate
//! packages are fetched into a temporary folder that is removed; `docker` is asked only after systemd
//! says the daemon is running, because talking to a socket-activated daemon starts it.

use std::collections::BTreeMap;

use crate::apt_plan;
use crate::docker::{self, DaemonStart};
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

/// The second round trip, when the daemon runs: live-restore and every container.
pub const DOCKER_COMMAND: &str = "docker info --format '{{.LiveRestoreEnabled}}'; echo '### containers'; ids=$(docker ps -aq); [ -z \"$ids\" ] || docker inspect $ids";

/// Adds the Docker round trip's answers to `facts`.
pub fn parse_docker(output: &str, facts: &mut HostFacts) -> Result<(), String> {
    let (info, containers) = output
        .split_once("### containers\n")
        .unwrap_or((output, ""));
    facts.live_restore = info.trim() == "true";
    facts.containers = docker::containers(containers)?;
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
