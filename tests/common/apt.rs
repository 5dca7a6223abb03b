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
    /// Its `Depends:` relations; a newline and further control fields may follow
    /// (`dpkg\nConflicts: other`).
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

/// A kernel's postinst as Ubuntu's (the incident's host) behaves: update-notifier's hook asks for a
/// reboot in /run/reboot-required. For the container fleet's hosts only: on the loopback fleet,
/// maintainer scripts run on this machine.
const KERNEL_ASKS_REBOOT: &str = "#!/bin/sh\nset -e\necho '*** System restart required ***' > /run/reboot-required\necho \"$DPKG_MAINTSCRIPT_PACKAGE\" >> /run/reboot-required.pkgs\n";

/// The incident's kernel packages (seeds/003), before and after: installed and upgraded for real on
/// the container fleet's hosts.
pub const KERNEL_DEBS: &[Deb] = &[
    Deb {
        name: "linux-image-6.8.0-87-generic",
        version: "6.8.0-87.88",
        depends: "",
        postinst: KERNEL_ASKS_REBOOT,
    },
    Deb {
        name: "linux-image-generic",
        version: "6.8.0.87.88",
        depends: "linux-image-6.8.0-87-generic",
        postinst: "#!/bin/sh\nexit 0\n",
    },
    Deb {
        name: "linux-image-6.8.0-88-generic",
        version: "6.8.0-88.89",
        depends: "",
        postinst: KERNEL_ASKS_REBOOT,
    },
    Deb {
        name: "linux-image-generic",
        version: "6.8.0.88.89",
        depends: "linux-image-6.8.0-88-generic",
        postinst: "#!/bin/sh\nexit 0\n",
    },
];

/// Builds, on a host of the container fleet, Docker's own packages as the incident's host had them:
/// `containerd.io` 1.7.27-1 and 2.1.5-1, `docker-ce` 5:28.3.2 and 5:29.0.2, made of the real
/// containerd and Docker that host runs (Debian's `containerd` and `docker.io`, repackaged under
/// Docker's names, conflicting with and replacing them as Docker's do) with the maintainer scripts
/// debhelper writes for their units: enable on install, restart on upgrade. Copies them into `repo`
/// (from this machine's cache of them, after the first time).
pub fn docker_ce_debs(fleet: &drover_fleet::DebianFleet, repo: &Path) {
    const SCRIPT: &str = r#"c='Depends: runc
Conflicts: containerd
Replaces: containerd
Provides: containerd
'
k='Depends: containerd.io (>= 1.7), runc, iptables
Conflicts: docker.io
Replaces: docker.io
'
for v in 1.7.27-1 2.1.5-1; do pack containerd.io $v "$c" containerd.service containerd; done
for v in 5:28.3.2-1~debian.12~bookworm 5:29.0.2-1~debian.12~bookworm; do pack docker-ce $v "$k" "docker.service docker.socket" docker.io; done
"#;
    // Made once per image and machine: they are that image's Docker, and packing them takes half a
    // minute of the 2 cores every test shares.
    let tag = fleet.image().tag.replace([':', '/'], "_");
    let cache = PathBuf::from("/var/tmp/drover-fleet/docker-ce-debs").join(tag);
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(cache.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    if !cache.exists() {
        let partial = cache.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        repack(fleet, SCRIPT, &partial);
        std::fs::rename(&partial, &cache).unwrap();
    }
    std::fs::create_dir_all(repo).unwrap();
    for deb in std::fs::read_dir(&cache).unwrap() {
        let deb = deb.unwrap().path();
        std::fs::copy(&deb, repo.join(deb.file_name().unwrap())).unwrap();
    }
}

/// A security update of `package` as a host of the container fleet has it installed: its files
/// repackaged as version `<installed>+fleet1`, copied into `repo`. Returns that version.
pub fn security_update_deb(
    fleet: &drover_fleet::DebianFleet,
    package: &str,
    repo: &Path,
) -> String {
    let version = fleet
        .exec(0, &format!("dpkg-query -W -f '${{Version}}' {package}"))
        .expect("the package is installed");
    let next = format!("{version}+fleet1");
    repack(
        fleet,
        &format!("pack {package} '{next}' '' '' {package}\n"),
        repo,
    );
    next
}

/// Runs `script` on the fleet's first host after [`PACK`], and copies the .debs it made into
/// `repo`.
fn repack(fleet: &drover_fleet::DebianFleet, script: &str, repo: &Path) {
    fleet
        .exec(0, &format!("{PACK}{script}"))
        .expect("repackage on the host");
    std::fs::create_dir_all(repo).unwrap();
    fleet.copy_from(0, "/var/tmp/debs/.", repo).unwrap();
}

/// Shell functions to repackage what a host has installed: `pack NAME VERSION CONTROL-LINES UNITS
/// FROM-PACKAGES...` writes /var/tmp/debs/NAME_VERSION.deb of the files of FROM-PACKAGES, with
/// debhelper's postinst for UNITS.
const PACK: &str = r#"set -e
out=/var/tmp/debs; rm -rf $out; mkdir -p $out
arch=$(dpkg --print-architecture)
# debhelper 13.11's postinst blocks for these units: unmask and enable, then start or restart.
postinst() {
    printf '#!/bin/sh\nset -e\n'
    [ $# -gt 0 ] || return 0
    for u in "$@"; do
        cat <<EOF
# Automatically added by dh_installsystemd/13.11.4
if [ "\$1" = "configure" ] || [ "\$1" = "abort-upgrade" ] || [ "\$1" = "abort-deconfigure" ] || [ "\$1" = "abort-remove" ] ; then
	deb-systemd-helper unmask '$u' >/dev/null || true
	if deb-systemd-helper --quiet was-enabled '$u'; then
		deb-systemd-helper enable '$u' >/dev/null || true
	else
		deb-systemd-helper update-state '$u' >/dev/null || true
	fi
fi
# End automatically added section
EOF
    done
    cat <<EOF
# Automatically added by dh_installsystemd/13.11.4
if [ "\$1" = "configure" ] || [ "\$1" = "abort-upgrade" ] || [ "\$1" = "abort-deconfigure" ] || [ "\$1" = "abort-remove" ] ; then
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "\$2" ]; then
			_dh_action=restart
		else
			_dh_action=start
		fi
		deb-systemd-invoke \$_dh_action $(for u in "$@"; do printf "'%s' " "$u"; done)>/dev/null || true
	fi
fi
# End automatically added section
EOF
}
# pack NAME VERSION CONTROL-LINES UNITS FROM-PACKAGES...
pack() {
    name=$1 version=$2 control=$3 units=$4; shift 4
    d=$(mktemp -d)
    dpkg-query -L "$@" | grep '^/' | while read -r f; do
        [ -d "$f" ] || echo "${f#/}"
    done > $d.list
    tar -C / -cf - -T $d.list | tar -C $d -xf -
    mkdir -p $d/DEBIAN
    printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: drover tests <tests@drover.invalid>\n%sDescription: drover fixture: %s repackaged\n' \
        "$name" "$version" "$arch" "$control" "$*" > $d/DEBIAN/control
    postinst $units > $d/DEBIAN/postinst
    chmod 755 $d/DEBIAN/postinst
    dpkg-deb -Znone --build --root-owner-group $d "$out/${name}_$(echo $version | tr : _).deb" >/dev/null
    rm -rf $d $d.list
}
"#;

pub fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds [`REPO`]'s .debs with dpkg-deb and indexes them with dpkg-scanpackages.
pub fn build_repo(dir: &Path) {
    build_repo_of(dir, &REPO.iter().collect::<Vec<_>>());
}

/// Builds these .debs with dpkg-deb and indexes them, with every other .deb in `dir`, with
/// dpkg-scanpackages (every version: `apt-get install name=version` can pick an older one).
pub fn build_repo_of(dir: &Path, debs: &[&Deb]) {
    std::fs::create_dir_all(dir).unwrap();
    for deb in debs {
        let file = format!("{}_{}", deb.name, deb.version.replace(':', "%3a"));
        let root = dir.join(format!("{file}-build"));
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
            .arg(dir.join(format!("{file}.deb"))));
        std::fs::remove_dir_all(&root).unwrap();
    }
    let out = Command::new("dpkg-scanpackages")
        .args(["-m", ".", "/dev/null"])
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
