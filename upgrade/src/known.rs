//! What well-known packages restart when upgraded, for when their maintainer scripts cannot be read.

/// Units a package's upgrade restarts, and whether it needs a reboot.
pub struct Known {
    /// Package name, or a prefix ending in `*`.
    pub package: &'static str,
    /// Units restarted.
    pub restarts: &'static [&'static str],
    /// A reboot is needed to finish it.
    pub reboot: bool,
}

/// The table. containerd's restart takes Docker with it (docker.service requires containerd).
pub const KNOWN: &[Known] = &[
    Known {
        package: "containerd.io",
        restarts: &["containerd.service", "docker.service"],
        reboot: false,
    },
    Known {
        package: "containerd",
        restarts: &["containerd.service", "docker.service"],
        reboot: false,
    },
    Known {
        package: "docker-ce",
        restarts: &["docker.service"],
        reboot: false,
    },
    Known {
        package: "docker.io",
        restarts: &["docker.service"],
        reboot: false,
    },
    Known {
        package: "docker-ce-cli",
        restarts: &[],
        reboot: false,
    },
    Known {
        package: "runc",
        restarts: &[],
        reboot: false,
    },
    Known {
        package: "openssh-server",
        restarts: &["ssh.service"],
        reboot: false,
    },
    Known {
        package: "systemd",
        restarts: &["systemd-journald.service", "systemd-logind.service"],
        reboot: false,
    },
    Known {
        package: "libc6",
        restarts: &[],
        reboot: true,
    },
    Known {
        package: "dbus",
        restarts: &[],
        reboot: true,
    },
    Known {
        package: "linux-image-*",
        restarts: &[],
        reboot: true,
    },
];

/// The table's entry for a package.
pub fn lookup(package: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| match k.package.strip_suffix('*') {
        Some(prefix) => package.starts_with(prefix),
        None => k.package == package,
    })
}
