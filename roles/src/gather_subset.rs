//! `gather_subset`: which fact collectors run, chosen as Ansible's `get_collector_names` chooses
//! them (the minimal set always, `!name` to leave one out, a fact's own name for its collector).

use std::collections::BTreeSet;

/// One group of facts gathered and reported together, named as Ansible's collector is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Collector {
    /// Names, kernel, architecture, machine id.
    Platform,
    /// Distribution, version, release, OS family.
    Distribution,
    /// `ansible_lsb`.
    Lsb,
    /// The login user and its passwd entry.
    User,
    /// `ansible_env`.
    Env,
    /// `ansible_date_time`.
    DateTime,
    /// `ansible_service_mgr`.
    ServiceMgr,
    /// `ansible_pkg_mgr`.
    PkgMgr,
    /// `ansible_dns` from resolv.conf.
    Dns,
    /// The host's SSH public keys.
    SshPubKeys,
    /// `ansible_apparmor`.
    Apparmor,
    /// The kernel command line.
    Cmdline,
    /// `ansible_fips`.
    Fips,
    /// `ansible_local` from `*.fact` files.
    Local,
    /// `ansible_loadavg`.
    Loadavg,
    /// Memory, processors, mounts, uptime, DMI.
    Hardware,
    /// Interfaces, addresses, default routes.
    Network,
    /// Virtualization type, role and technologies.
    Virtual,
}

impl Collector {
    /// Every collector drover has, in the order their commands run.
    pub const ALL: [Collector; 18] = [
        Collector::Platform,
        Collector::Distribution,
        Collector::Lsb,
        Collector::User,
        Collector::Env,
        Collector::DateTime,
        Collector::ServiceMgr,
        Collector::PkgMgr,
        Collector::Dns,
        Collector::SshPubKeys,
        Collector::Apparmor,
        Collector::Cmdline,
        Collector::Fips,
        Collector::Local,
        Collector::Loadavg,
        Collector::Hardware,
        Collector::Network,
        Collector::Virtual,
    ];

    /// Ansible's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Collector::Platform => "platform",
            Collector::Distribution => "distribution",
            Collector::Lsb => "lsb",
            Collector::User => "user",
            Collector::Env => "env",
            Collector::DateTime => "date_time",
            Collector::ServiceMgr => "service_mgr",
            Collector::PkgMgr => "pkg_mgr",
            Collector::Dns => "dns",
            Collector::SshPubKeys => "ssh_pub_keys",
            Collector::Apparmor => "apparmor",
            Collector::Cmdline => "cmdline",
            Collector::Fips => "fips",
            Collector::Local => "local",
            Collector::Loadavg => "loadavg",
            Collector::Hardware => "hardware",
            Collector::Network => "network",
            Collector::Virtual => "virtual",
        }
    }

    /// Whether Ansible gathers it even for `gather_subset: '!all'`.
    fn minimal(self) -> bool {
        !matches!(
            self,
            Collector::Loadavg | Collector::Hardware | Collector::Network | Collector::Virtual
        )
    }

    /// The collector a subset word names: its own name or one of its facts' names (`mounts` is
    /// the hardware collector's, `default_ipv4` the network collector's).
    fn named(word: &str) -> Option<Collector> {
        if let Some(c) = Collector::ALL.into_iter().find(|c| c.name() == word) {
            return Some(c);
        }
        let c = match word {
            "all_ipv4_addresses" | "all_ipv6_addresses" | "default_ipv4" | "default_ipv6"
            | "interfaces" => Collector::Network,
            "devices" | "mounts" | "processor" | "processor_cores" | "processor_count" => {
                Collector::Hardware
            }
            "architecture" | "kernel" | "kernel_version" | "machine" | "machine_id" | "system"
            | "python_version" => Collector::Platform,
            "distribution_major_version"
            | "distribution_release"
            | "distribution_version"
            | "os_family" => Collector::Distribution,
            "effective_group_ids"
            | "effective_user_id"
            | "real_user_id"
            | "user_dir"
            | "user_gecos"
            | "user_gid"
            | "user_id"
            | "user_shell"
            | "user_uid" => Collector::User,
            "ssh_host_key_dsa_public"
            | "ssh_host_key_ecdsa_public"
            | "ssh_host_key_ed25519_public"
            | "ssh_host_key_rsa_public"
            | "ssh_host_pub_keys" => Collector::SshPubKeys,
            "virtualization_role"
            | "virtualization_tech_guest"
            | "virtualization_tech_host"
            | "virtualization_type" => Collector::Virtual,
            _ => return None,
        };
        Some(c)
    }
}

/// Ansible's collectors that drover does not have: asking for one is refused, leaving one out
/// (`!python`) is accepted.
const NOT_GATHERED: &[&str] = &[
    "caps",
    "chroot",
    "is_chroot",
    "system_capabilities",
    "system_capabilities_enforced",
    "python",
    "selinux",
    "systemd",
    "iscsi",
    "nvme",
    "fibre_channel_wwn",
    "facter",
    "ohai",
];

/// The collectors a `gather_subset` list selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subsets {
    /// The list as written (Ansible reports it back as the `gather_subset` fact).
    pub spec: Vec<String>,
    /// The collectors to run.
    pub collectors: BTreeSet<Collector>,
}

impl Default for Subsets {
    /// `gather_subset: [all]`, Ansible's default.
    fn default() -> Self {
        Subsets {
            spec: vec!["all".into()],
            collectors: Collector::ALL.into_iter().collect(),
        }
    }
}

impl Subsets {
    /// Reads a `gather_subset` list (an empty one is `all`) as Ansible's `get_collector_names`
    /// does; a word naming nothing, or a collector drover lacks, is an error naming the word.
    pub fn parse(spec: &[String]) -> Result<Subsets, String> {
        if spec.is_empty() {
            return Ok(Subsets::default());
        }
        let minimal: BTreeSet<Collector> =
            Collector::ALL.into_iter().filter(|c| c.minimal()).collect();
        let every: BTreeSet<Collector> = Collector::ALL.into_iter().collect();
        let mut added = minimal.clone();
        let mut excluded = BTreeSet::new();
        let mut explicit = BTreeSet::new();
        for word in spec.iter().map(|w| w.trim()) {
            match word {
                "min" => added.extend(minimal.iter().copied()),
                "all" => added.extend(every.iter().copied()),
                "!min" => excluded.extend(minimal.iter().copied()),
                "!all" => excluded.extend(every.difference(&minimal).copied()),
                _ => {
                    let (negated, name) = match word.strip_prefix('!') {
                        Some(n) => (true, n),
                        None => (false, word),
                    };
                    match (Collector::named(name), negated) {
                        (Some(c), true) => {
                            excluded.insert(c);
                        }
                        (Some(c), false) => {
                            explicit.insert(c);
                            added.insert(c);
                        }
                        (None, true) => {}
                        (None, false) if NOT_GATHERED.contains(&name) => {
                            return Err(format!(
                                "gather_subset `{name}`: drover does not gather these facts (it needs no Python, SELinux or capability tools on hosts); leave it out or write `!{name}`"
                            ));
                        }
                        (None, false) => {
                            return Err(format!(
                                "gather_subset `{name}` is not a fact subset; expected all, min, {} or a fact's name",
                                Collector::ALL.map(Collector::name).join(", ")
                            ));
                        }
                    }
                }
            }
        }
        let dropped: BTreeSet<Collector> = excluded.difference(&explicit).copied().collect();
        Ok(Subsets {
            spec: spec.to_vec(),
            collectors: added.difference(&dropped).copied().collect(),
        })
    }

    /// Whether collector `c` runs.
    pub fn has(&self, c: Collector) -> bool {
        self.collectors.contains(&c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(spec: &[&str]) -> Vec<&'static str> {
        let spec: Vec<String> = spec.iter().map(|s| s.to_string()).collect();
        Subsets::parse(&spec)
            .unwrap()
            .collectors
            .into_iter()
            .map(Collector::name)
            .collect()
    }

    /// The selections ansible-core 2.19's setup made for these lists on the same machine.
    #[test]
    fn subsets_are_chosen_as_ansible_chooses_them() {
        assert_eq!(names(&[]).len(), 18);
        assert_eq!(names(&["all"]).len(), 18);
        let min = names(&["!all"]);
        assert!(!min.contains(&"hardware") && min.contains(&"platform"));
        // A lone exclusion keeps only the minimal set, as Ansible does.
        assert_eq!(names(&["!hardware"]), min);
        assert!(names(&["network"]).contains(&"network"));
        assert!(!names(&["network"]).contains(&"hardware"));
        assert!(names(&["mounts"]).contains(&"hardware"));
        assert_eq!(names(&["!all", "!min"]), Vec::<&str>::new());
        assert!(names(&["!all", "virtual"]).contains(&"virtual"));
        assert!(!names(&["all", "!network"]).contains(&"network"));
        assert!(names(&["!python"]).contains(&"platform"));
    }

    #[test]
    fn unknown_or_missing_subsets_are_refused() {
        let err = Subsets::parse(&["python".into()]).unwrap_err();
        assert!(err.contains("`!python`"), "{err}");
        let err = Subsets::parse(&["hardwre".into()]).unwrap_err();
        assert!(err.contains("not a fact subset"), "{err}");
    }
}
