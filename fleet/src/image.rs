//! The Debian image of the container fleet: a rootfs built with `debootstrap` from Debian's packages
//! (through the mirror apt's own sources name; no image is pulled), made into a fleet host (its own
//! PID 1, sshd settings, an unprivileged sudoer, an apt source on the fleet's repository) and imported
//! into Docker. It is built once per machine and recipe: the tag is a hash of everything below, so a
//! changed recipe builds a new image and the old one is removed.
//!
//! One image serves both boots of [`crate::Boot`]: plain (sshd under a small init, starts in a
//! second) and systemd as PID 1 with containerd and Docker (Debian's `docker.io`) as services. It has
//! no Python: drover needs none on its hosts, and the fleet's tests check that. Its
//! [`Flavour::Python`] adds the tools Debian ships only as Python programs (Docker Compose as
//! `docker-compose` 1.29, `ufw` and `firewalld`), NetworkManager and Apache, the last three disabled
//! at boot: for the tests that need them (the examples deploy with Compose; the ufw, firewalld,
//! nmcli and apache2_module modules drive the others), never for the tests that prove drover needs no Python.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's packages on every host, beyond debootstrap's minbase (which brings apt, dpkg, passwd,
/// util-linux, tar, gzip...). What the modules need on a host, and systemd, dbus and Docker for the
/// systemd boot.
const PACKAGES: &[&str] = &[
    "openssh-server",
    "sudo",
    "cron",
    "iproute2",
    "curl",
    "ca-certificates",
    "procps",
    "gnupg",
    "unzip",
    "xz-utils",
    "tzdata",
    "busybox-static",
    "git",
    "bzip2",
    "zip",
    "kmod",
    "locales",
    "acl",
    "make",
    "systemd-sysv",
    "dbus",
    // As on an installed Debian server: logind sessions, and users' own managers (systemctl --user).
    "libpam-systemd",
    "docker.io",
];

/// PID 1 of a fleet host. Every start of the container is a boot: a fresh boot id is bound over the
/// kernel's (drover reads `/proc/sys/kernel/random/boot_id` as on any host), and a missing host key
/// is made (so removing it gives the host a new key at its next boot).
const BOOT: &str = r#"#!/bin/sh
# PID 1 of a drover fleet host: a fresh boot id for every start of the container, a host key if
# there is none, then systemd (DROVER_BOOT=systemd) or sshd under this small init.
set -e
mkdir -p /run/drover /run/sshd
cat /proc/sys/kernel/random/uuid > /run/drover/boot_id
mount --bind /run/drover/boot_id /proc/sys/kernel/random/boot_id
[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -C "$(hostname)" -f /etc/ssh/ssh_host_ed25519_key
if [ "$DROVER_BOOT" = systemd ]; then
    exec /sbin/init
fi
/usr/sbin/sshd -D -e &
trap 'exit 0' TERM INT
# Killing sshd leaves the host up without it, as on a real host.
while :; do sleep 86400 & wait $! || true; done
"#;

/// `shutdown` and `reboot` on a host booted without systemd: PID 1 exits and Docker (restart policy
/// `always`) starts the container again, which is a reboot. Under systemd, the real command.
const POWER: &str = r#"#!/bin/sh
# A drover fleet host's power button: without systemd, PID 1 exits and Docker starts the container
# again (a reboot); under systemd, the real command.
if [ -d /run/systemd/system ]; then
    exec "/sbin/$(basename "$0")" "$@"
fi
kill -TERM 1
"#;

const SSHD: &str = "# drover fleet host: one host key (made at first boot), keys only, many sessions.\n\
HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
KbdInteractiveAuthentication no\nMaxStartups 200:30:400\nMaxSessions 100\n";

/// Docker inside a host: vfs storage (nothing else works on top of the outer engine's
/// fuse-overlayfs), no bridge and no iptables (containers run with `--network none`).
const DAEMON_JSON: &str =
    "{\"storage-driver\": \"vfs\", \"iptables\": false, \"bridge\": \"none\"}\n";

/// The fleet's own repository, mounted read-only at /srv/repo; nothing else, so apt never reaches
/// out of the test.
const SOURCES: &str = "deb [trusted=yes] file:/srv/repo ./\n";

const SUDOERS: &str = "ops ALL=(ALL:ALL) NOPASSWD: ALL\n";

/// Changes with any change to the recipe's steps that is not in the texts above.
const RECIPE_VERSION: &str = "2";

/// What a host carries beyond [`PACKAGES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavour {
    /// Nothing more: no Python.
    #[default]
    Base,
    /// Debian's tools written in Python, installed over the base: `docker-compose` (Compose 1.29),
    /// `ufw` and `firewalld`; NetworkManager, which the nmcli module drives; and Apache, whose
    /// modules apache2_module turns on and off. firewalld, NetworkManager and Apache are not
    /// started at boot.
    Python,
}

impl Flavour {
    /// The image's repository name in the local Docker engine.
    fn repository(self) -> &'static str {
        match self {
            Flavour::Base => "drover-fleet/debian",
            Flavour::Python => "drover-fleet/debian-python",
        }
    }

    /// Debian's packages this flavour adds to the base.
    fn packages(self) -> &'static [&'static str] {
        match self {
            Flavour::Base => &[],
            Flavour::Python => &[
                "docker-compose",
                "ufw",
                "firewalld",
                "network-manager",
                "apache2",
            ],
        }
    }

    /// Services its packages enable that stay off until a test starts them: firewalld would take
    /// over every Python-flavour host's netfilter (ufw's tests among them), NetworkManager its
    /// network interfaces.
    fn disabled(self) -> &'static [&'static str] {
        match self {
            Flavour::Base => &[],
            Flavour::Python => &[
                "firewalld.service",
                "NetworkManager.service",
                "NetworkManager-wait-online.service",
                "apache2.service",
            ],
        }
    }

    /// `<repository>:<recipe hash>`.
    fn tag(self, codename: &str) -> String {
        format!("{}:{:016x}", self.repository(), recipe_hash(codename, self))
    }
}

/// A built image of the fleet's Debian host.
#[derive(Debug, Clone)]
pub struct Image {
    /// `drover-fleet/debian:<recipe hash>` (`debian-python` for [`Flavour::Python`]).
    pub tag: String,
    /// How long this call took to make it (zero when it was already built).
    pub build_time: Duration,
}

/// The fleet's folder on this machine for the image build and its lock (kept between runs).
fn work_dir() -> PathBuf {
    PathBuf::from("/var/tmp/drover-fleet")
}

impl Image {
    /// The image of this flavour for the current recipe, built now if this machine does not have
    /// it yet (with every other flavour it lacks: one debootstrap serves them all). Concurrent
    /// callers (parallel test binaries) wait for one build under a file lock.
    pub fn ensure(flavour: Flavour) -> io::Result<Image> {
        let codename = os_codename()?;
        let tag = flavour.tag(&codename);
        if image_exists(&tag) {
            return Ok(Image {
                tag,
                build_time: Duration::ZERO,
            });
        }
        fs::create_dir_all(work_dir())?;
        let lock = fs::File::create(work_dir().join("build.lock"))?;
        lock.lock()?;
        let started = Instant::now();
        let missing: Vec<Flavour> = [Flavour::Base, Flavour::Python]
            .into_iter()
            .filter(|f| !image_exists(&f.tag(&codename)))
            .collect();
        if !missing.is_empty() {
            build(&codename, &missing)?;
            for flavour in missing {
                remove_older_images(flavour.repository(), &flavour.tag(&codename));
            }
        }
        Ok(Image {
            tag,
            build_time: started.elapsed(),
        })
    }
}

/// The release of this machine (`bookworm`): the hosts are built of the same.
fn os_codename() -> io::Result<String> {
    let text = fs::read_to_string("/etc/os-release")?;
    text.lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|c| c.trim_matches('"').to_string())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| io::Error::other("/etc/os-release names no VERSION_CODENAME: the Debian fleet needs a Debian machine"))
}

/// FNV-1a over the recipe: stable across Rust versions and machines, unlike std's hasher.
fn recipe_hash(codename: &str, flavour: Flavour) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = [
        RECIPE_VERSION,
        codename,
        &PACKAGES.join(","),
        &flavour.packages().join(","),
        &flavour.disabled().join(","),
        BOOT,
        POWER,
        SSHD,
        DAEMON_JSON,
        SOURCES,
        SUDOERS,
    ];
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn image_exists(tag: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", tag])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The Debian mirror apt's own sources name for `codename`: from one-line `deb URI SUITE ...`
/// entries or deb822 stanzas (`URIs:` and `Suites:`), the first that carries the release itself.
pub(crate) fn debian_mirror(sources: &[String], codename: &str) -> Option<String> {
    for text in sources {
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first() != Some(&"deb") {
                continue;
            }
            // Options in brackets come before the URI.
            let rest: Vec<&str> = match words.iter().position(|w| w.ends_with(']')) {
                Some(end) if words[1].starts_with('[') => words[end + 1..].to_vec(),
                _ => words[1..].to_vec(),
            };
            if rest.len() >= 2 && rest[1] == codename {
                return Some(rest[0].to_string());
            }
        }
        for stanza in text.split("\n\n") {
            let field = |name: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(str::trim)
            };
            let (Some(uris), Some(suites)) = (field("URIs:"), field("Suites:")) else {
                continue;
            };
            if field("Types:").is_some_and(|t| !t.split_whitespace().any(|t| t == "deb")) {
                continue;
            }
            if suites.split_whitespace().any(|s| s == codename) {
                return uris.split_whitespace().next().map(str::to_string);
            }
        }
    }
    None
}

/// apt's source files on this machine, one-line list first.
fn apt_sources() -> Vec<String> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
        more.sort();
        files.extend(more);
    }
    files
        .iter()
        .filter_map(|f| fs::read_to_string(f).ok())
        .collect()
}

/// Runs a build step, with its output in the error when it fails.
fn step(cmd: &mut Command, what: &str) -> io::Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| io::Error::other(format!("{what}: {e} (run scripts/install-deps)")))?;
    if out.status.success() {
        return Ok(());
    }
    let tail = |b: &[u8]| {
        let text = String::from_utf8_lossy(b);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    };
    Err(io::Error::other(format!(
        "{what} failed ({}):\n{}\n{}",
        out.status,
        tail(&out.stdout),
        tail(&out.stderr)
    )))
}

fn write_file(root: &Path, path: &str, text: &str, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = root.join(path.trim_start_matches('/'));
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(&path, text)?;
    fs::set_permissions(&path, fs::Permissions::from_mode(mode))
}

/// Builds the rootfs in a folder of its own, makes it a fleet host and imports it as each of these
/// flavours, adding their packages in turn (the flavours only add).
fn build(codename: &str, flavours: &[Flavour]) -> io::Result<()> {
    let mirror = debian_mirror(&apt_sources(), codename).ok_or_else(|| {
        io::Error::other(format!(
            "apt's sources name no Debian mirror for {codename}"
        ))
    })?;
    let root = work_dir().join(format!("rootfs-{}", std::process::id()));
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    let result = (|| {
        step(
            Command::new("debootstrap")
                .arg("--variant=minbase")
                .arg(format!("--include={}", PACKAGES.join(",")))
                .args([codename, &root.to_string_lossy(), &mirror]),
            "debootstrap",
        )?;
        customise(&root)?;
        for flavour in flavours {
            add_packages(&root, &mirror, codename, flavour.packages())?;
            if !flavour.disabled().is_empty() {
                step(
                    Command::new("chroot")
                        .arg(&root)
                        .args(["systemctl", "disable"])
                        .args(flavour.disabled()),
                    "systemctl disable in the rootfs",
                )?;
            }
            remove_apt_downloads(&root)?;
            import(&root, &flavour.tag(codename))?;
        }
        Ok(())
    })();
    let _ = fs::remove_dir_all(&root);
    result
}

/// Makes a fresh rootfs a fleet host.
fn customise(root: &Path) -> io::Result<()> {
    write_file(root, "/usr/local/sbin/drover-boot", BOOT, 0o755)?;
    write_file(root, "/usr/local/sbin/shutdown", POWER, 0o755)?;
    write_file(root, "/usr/local/sbin/reboot", POWER, 0o755)?;
    write_file(
        root,
        "/etc/ssh/sshd_config.d/drover-fleet.conf",
        SSHD,
        0o644,
    )?;
    write_file(root, "/etc/docker/daemon.json", DAEMON_JSON, 0o644)?;
    write_file(root, "/etc/apt/sources.list", SOURCES, 0o644)?;
    write_file(root, "/etc/sudoers.d/ops", SUDOERS, 0o440)?;
    write_file(root, "/srv/repo/.keep", "", 0o644)?;
    // The keys debootstrap's openssh-server made would be every host's: each host makes its own.
    for entry in fs::read_dir(root.join("etc/ssh"))?.flatten() {
        if entry.file_name().to_string_lossy().starts_with("ssh_host_") {
            fs::remove_file(entry.path())?;
        }
    }
    if let Ok(dir) = fs::read_dir(root.join("etc/apt/sources.list.d")) {
        for entry in dir.flatten() {
            fs::remove_file(entry.path())?;
        }
    }
    step(
        Command::new("chroot").arg(root).args([
            "useradd",
            "--create-home",
            "--shell",
            "/bin/bash",
            "--groups",
            "sudo",
            "ops",
        ]),
        "useradd ops in the rootfs",
    )
}

/// Installs more of Debian's packages into the rootfs, from the mirror (the rootfs's own apt source
/// is the fleet's repository).
fn add_packages(root: &Path, mirror: &str, codename: &str, packages: &[&str]) -> io::Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    let list = "/var/tmp/drover-build-sources.list";
    write_file(
        root,
        list,
        &format!("deb {mirror} {codename} main\n"),
        0o644,
    )?;
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("chroot");
        cmd.arg(root)
            .args(["apt-get", "-q", "-y"])
            .arg(format!("-o=Dir::Etc::SourceList={list}"))
            .arg("-o=Dir::Etc::SourceParts=/nonexistent")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    step(&mut apt(&["update"]), "apt-get update in the rootfs")?;
    step(
        apt(&["install", "--no-install-recommends"]).args(packages),
        "apt-get install in the rootfs",
    )?;
    fs::remove_file(root.join(list.trim_start_matches('/')))
}

/// Removes the downloaded .debs and the mirror's package lists: a host's only source is the fleet's
/// repository, and the image is smaller by the archives.
fn remove_apt_downloads(root: &Path) -> io::Result<()> {
    for dir in ["var/cache/apt/archives", "var/lib/apt/lists"] {
        for entry in fs::read_dir(root.join(dir))?.flatten() {
            if entry.path().is_file() && entry.file_name() != "lock" {
                fs::remove_file(entry.path())?;
            }
        }
    }
    Ok(())
}

/// `tar | docker import`, with the boot script as the image's command.
fn import(root: &Path, tag: &str) -> io::Result<()> {
    let mut tar = Command::new("tar")
        .args(["--numeric-owner", "-C"])
        .arg(root)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = tar
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("tar has no stdout"))?;
    let imported = Command::new("docker")
        .args([
            "import",
            "--change",
            "CMD [\"/usr/local/sbin/drover-boot\"]",
            "--change",
            "LABEL drover-fleet.image=debian",
            "-",
            tag,
        ])
        .stdin(stdout)
        .stdout(Stdio::null())
        .output()?;
    let tarred = tar.wait()?;
    if !tarred.success() || !imported.status.success() {
        return Err(io::Error::other(format!(
            "tar ({tarred}) | docker import ({}): {}",
            imported.status,
            String::from_utf8_lossy(&imported.stderr)
        )));
    }
    Ok(())
}

/// Removes the repository's images of earlier recipes (ignoring one still used by a running fleet).
fn remove_older_images(repository: &str, current: &str) {
    let Ok(out) = Command::new("docker")
        .args(["images", repository, "--format", "{{.Repository}}:{{.Tag}}"])
        .output()
    else {
        return;
    };
    for tag in String::from_utf8_lossy(&out.stdout).lines() {
        if tag != current {
            let _ = Command::new("docker")
                .args(["rmi", tag])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_comes_from_one_line_or_deb822_sources() {
        let deb822 = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n".to_string();
        assert_eq!(
            debian_mirror(&[deb822], "bookworm").as_deref(),
            Some("http://deb.debian.org/debian")
        );
        let list = "# comment\ndeb-src http://src.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main\n".to_string();
        assert_eq!(
            debian_mirror(&[list], "bookworm").as_deref(),
            Some("http://mirror.example/debian")
        );
        let security_only =
            "deb http://deb.debian.org/debian-security bookworm-security main\n".to_string();
        assert_eq!(debian_mirror(&[security_only], "bookworm"), None);
        let src_only =
            "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n".to_string();
        assert_eq!(debian_mirror(&[src_only], "bookworm"), None);
    }

    #[test]
    fn the_tag_changes_with_the_recipe_and_only_with_it() {
        let hash = |codename, flavour| recipe_hash(codename, flavour);
        assert_eq!(
            hash("bookworm", Flavour::Base),
            hash("bookworm", Flavour::Base)
        );
        assert_ne!(
            hash("bookworm", Flavour::Base),
            hash("trixie", Flavour::Base)
        );
        assert_ne!(
            hash("bookworm", Flavour::Base),
            hash("bookworm", Flavour::Python)
        );
    }
}
