//! What `apt-get -s dist-upgrade` would do: every upgrade with its current and candidate version and
//! origin, new installs, removals, and the packages held or kept back.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// One package apt would install or upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upgrade {
    /// Package name.
    pub package: String,
    /// The installed version; none for a new install.
    pub current: Option<String>,
    /// The version apt would install.
    pub candidate: String,
    /// Where it comes from, as apt names the archives (`Debian-Security:12/bookworm-security`).
    pub origins: Vec<String>,
    /// Whether any origin is a security archive.
    pub security: bool,
}

/// The plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AptPlan {
    /// Upgrades and new installs, in apt's order.
    pub upgrades: Vec<Upgrade>,
    /// Packages apt would remove.
    pub removals: Vec<String>,
    /// Packages apt keeps back (held, or needing removals in `upgrade`).
    pub kept_back: Vec<String>,
    /// Upgrades deferred by phased updates (Ubuntu).
    pub phased: Vec<String>,
}

static INST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Inst (\S+)(?: \[([^\]]+)\])? \((\S+) ([^\[]*?)(?: \[[^\]]*\])?\)")
        .expect("valid regex")
});

/// Parses apt's simulated run (`LANG=C apt-get -s dist-upgrade`).
pub fn parse(output: &str) -> AptPlan {
    let mut plan = AptPlan::default();
    let mut list: Option<&mut Vec<String>> = None;
    for line in output.lines() {
        if let Some(caps) = INST.captures(line) {
            let origins: Vec<String> = caps[4]
                .split(", ")
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect();
            plan.upgrades.push(Upgrade {
                package: caps[1].to_string(),
                current: caps.get(2).map(|m| m.as_str().to_string()),
                candidate: caps[3].to_string(),
                security: origins
                    .iter()
                    .any(|o| o.to_ascii_lowercase().contains("security")),
                origins,
            });
            list = None;
            continue;
        }
        if let Some(rest) = line.strip_prefix("Remv ") {
            plan.removals.push(
                rest.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            );
            list = None;
            continue;
        }
        if line.starts_with("The following packages have been kept back")
            || line.starts_with("The following held packages")
        {
            list = Some(&mut plan.kept_back);
            continue;
        }
        if line.starts_with("The following upgrades have been deferred due to phasing") {
            list = Some(&mut plan.phased);
            continue;
        }
        match (&mut list, line.starts_with("  ")) {
            (Some(names), true) => names.extend(line.split_whitespace().map(str::to_string)),
            _ => list = None,
        }
    }
    plan.kept_back.sort();
    plan.kept_back.dedup();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn real_debian_plan() {
        let plan = parse(&fixture("apt-dist-upgrade.txt"));
        assert_eq!(plan.upgrades.len(), 131);
        let bash = plan.upgrades.iter().find(|u| u.package == "bash").unwrap();
        assert_eq!(bash.current.as_deref(), Some("5.2.15-2+b8"));
        assert_eq!(bash.candidate, "5.2.15-2+b13");
        assert!(!bash.security);
        let gcrypt = plan
            .upgrades
            .iter()
            .find(|u| u.package == "libgcrypt20")
            .unwrap();
        assert!(gcrypt.security);
        assert_eq!(
            gcrypt.origins,
            [
                "Debian:12.15/oldstable",
                "Debian-Security:12/oldstable-security"
            ]
        );
    }

    #[test]
    fn new_installs_removals_kept_back_and_phasing() {
        let out = "The following packages have been kept back:\n  docker-ce linux-image-generic\nThe following upgrades have been deferred due to phasing:\n  libexpat1\nInst linux-image-6.8.0-88 (6.8.0-88.89 Ubuntu:24.04/noble-updates [amd64])\nRemv old-pkg [1.0]\n";
        let plan = parse(out);
        assert_eq!(plan.kept_back, ["docker-ce", "linux-image-generic"]);
        assert_eq!(plan.phased, ["libexpat1"]);
        assert_eq!(plan.upgrades[0].current, None);
        assert_eq!(plan.removals, ["old-pkg"]);
    }
}
