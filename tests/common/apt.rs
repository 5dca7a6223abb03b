//! A fixture package repository (real .debs with real maintainer scripts, built with dpkg-deb and
//! indexed with dpkg-scanpackages) and per-host apt worlds: each host's APT_CONFIG points apt at its own
//! dpkg database and a root of its own, so apt really installs there and never touches this machine's
//! packages. Maintainer scripts run outside that root (dpkg's --force-script-chrootless, with
//! DPKG_ROOT set), as the fixtures' scripts only restart units under systemd or run ldconfig.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A candidate package in the fixture repository, with its postinst.
pub struct Deb {
    pub name: &'static str,
    pub version: &'static str,
    pub depends: &'static str,
    pub postinst: &'static str,
}

const RESTART_CONTAINERD: &str = "#!/bin/sh\nset -e\n# Automatically added by dh_installsystemd/13.11.4\nif [ \"$1\" = \"configure\" ] || [ \"$1\" = \"abort-upgrade\" ]; then\n\tif [ -d /run/systemd/system ]; then\n\t\tsystemctl --system daemon-reload >/dev/null || true\n\t\tif [ -n \"$2\" ]; then\n\t\t\t_dh_action=restart\n\t\telse\n\t\t\t_dh_action=start\n\t\tfi\n\t\tdeb-systemd-invoke $_dh_action 'containerd.service' >/dev/null || true\n\tfi\nfi\n";
const RESTART_DOCKER: &str = "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then\n\tsystemctl --system daemon-reload >/dev/null || true\n\tdeb-systemd-invoke restart 'docker.service' >/dev/null || true\nfi\n";
const KERNEL: &str = "#!/bin/sh\nset -e\nif [ -x /usr/share/update-notifier/notify-reboot-required ]; then\n\t/usr/share/update-notifier/notify-reboot-required\nfi\n";
const LDCONFIG: &str = "#!/bin/sh\nset -e\nldconfig\n";

pub const REPO: &[Deb] = &[
    Deb {
        name: "containerd.io",
        version: "2.1.5-1",
        depends: "",
        postinst: RESTART_CONTAINERD,
    },
    Deb {
        name: "docker-ce",
        version: "5:29.0.2-1~debian.12~bookworm",
        depends: "containerd.io (>= 1.7)",
        postinst: RESTART_DOCKER,
    },
    Deb {
        name: "linux-image-6.8.0-88-generic",
        version: "6.8.0-88.89",
        depends: "",
        postinst: KERNEL,
    },
    Deb {
        name: "linux-image-generic",
        version: "6.8.0.88.89",
        depends: "linux-image-6.8.0-88-generic",
        postinst: "#!/bin/sh\nexit 0\n",
    },
    Deb {
        name: "libexpat1",
        version: "2.5.0-1+deb12u1",
        depends: "",
        postinst: LDCONFIG,
    },
    // Date-versioned: their "major" number is a year, and a jump in it means nothing.
    Deb {
        name: "tzdata",
        version: "2026f-0+deb12u1",
        depends: "",
        postinst: "#!/bin/sh\nexit 0\n",
    },
    Deb {
        name: "ca-certificates",
        version: "20250419",
        depends: "",
        postinst: "#!/bin/sh\nexit 0\n",
    },
];

pub fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the .debs with dpkg-deb and indexes them with dpkg-scanpackages.
pub fn build_repo(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for deb in REPO {
        let root = dir.join(format!("{}-build", deb.name));
        std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
        let depends = if deb.depends.is_empty() {
            String::new()
        } else {
            format!("Depends: {}\n", deb.depends)
        };
        std::fs::write(
            root.join("DEBIAN/control"),
            format!("Package: {}\nVersion: {}\nArchitecture: all\nMaintainer: drover tests <tests@drover.invalid>\n{depends}Description: drover impact fixture\n", deb.name, deb.version),
        )
        .unwrap();
        let postinst = root.join("DEBIAN/postinst");
        std::fs::write(&postinst, deb.postinst).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&postinst, std::fs::Permissions::from_mode(0o755)).unwrap();
        run(Command::new("dpkg-deb")
            .args(["--build", "--root-owner-group"])
            .arg(&root)
            .arg(dir.join(format!("{}.deb", deb.name))));
        std::fs::remove_dir_all(&root).unwrap();
    }
    let out = Command::new("dpkg-scanpackages")
        .args([".", "/dev/null"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(dir.join("Packages"), out.stdout).unwrap();
}

/// A host's apt world: its dpkg status (these installed packages), lists, cache and sources.
/// A host's apt world in `dir`: its dpkg database under `dir/root` (with these installed packages),
/// lists, cache and sources. Returns its APT_CONFIG file.
pub fn apt_world(dir: &Path, repo: &Path, installed: &[(&str, &str)]) -> PathBuf {
    for sub in [
        "lists/partial",
        "cache/archives/partial",
        "etc/apt.conf.d",
        "etc/preferences.d",
        "etc/sources.list.d",
        "state",
        "root/var/lib/dpkg/info",
        "root/var/lib/dpkg/updates",
        "root/var/lib/dpkg/triggers",
    ] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let status: String = installed
        .iter()
        .map(|(p, v)| format!("Package: {p}\nStatus: install ok installed\nPriority: optional\nSection: admin\nArchitecture: all\nMaintainer: x <x@x.invalid>\nVersion: {v}\nDescription: fixture\n\n"))
        .collect();
    std::fs::write(dir.join("root/var/lib/dpkg/status"), status).unwrap();
    std::fs::write(dir.join("root/var/lib/dpkg/available"), "").unwrap();
    std::fs::write(
        dir.join("etc/sources.list"),
        format!("deb [trusted=yes] file:{} ./\n", repo.display()),
    )
    .unwrap();
    let d = dir.display();
    let conf = dir.join("apt.conf");
    std::fs::write(
        &conf,
        format!(
            "Dir::State \"{d}/state\";\nDir::State::status \"{d}/root/var/lib/dpkg/status\";\nDir::State::Lists \"{d}/lists\";\nDir::Cache \"{d}/cache\";\nDir::Etc \"{d}/etc\";\nDir::Etc::SourceList \"{d}/etc/sources.list\";\nDir::Etc::SourceParts \"{d}/etc/sources.list.d\";\nDir::Etc::Parts \"{d}/etc/apt.conf.d\";\nDir::Etc::Preferences \"{d}/etc/preferences\";\nDir::Etc::PreferencesParts \"{d}/etc/preferences.d\";\nDPkg::Options {{ \"--root={d}/root\"; \"--force-script-chrootless\"; }};\n"
        ),
    )
    .unwrap();
    run(Command::new("apt-get")
        .args(["update", "-q"])
        .env("APT_CONFIG", &conf));
    conf
}

/// The version of `package` installed in a world.
pub fn installed_version(dir: &Path, package: &str) -> Option<String> {
    let status = std::fs::read_to_string(dir.join("root/var/lib/dpkg/status")).ok()?;
    status
        .split("\n\n")
        .find(|stanza| stanza.lines().any(|l| l == format!("Package: {package}")))?
        .lines()
        .find_map(|l| l.strip_prefix("Version: ").map(str::to_string))
}
