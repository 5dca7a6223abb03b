//! dnf (and yum, which ansible-core hands to dnf), zypper and pacman: the package managers of other
//! distributions. Real playbooks carry them behind `when: ansible_os_family == ...` beside their apt
//! tasks; drover accepts them with Ansible's parameters so those playbooks load and their Debian
//! branch runs, and builds their commands here as tested strings. drover's test fleet is Debian:
//! these commands are not run against Fedora, openSUSE or Arch hosts here.
//!
//! One script shape for the three: what is missing (or present) is found package by package, only
//! that is handed to the manager, and the task is changed when the installed set changed (a
//! checksum of the package database's list before and after), so a second run reports ok.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// Which manager a task names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    /// `dnf`, or `yum` where the host has no dnf.
    Dnf,
    /// openSUSE's `zypper`.
    Zypper,
    /// Arch's `pacman`.
    Pacman,
}

/// What the task asks of its packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Present,
    Latest,
    Absent,
    /// zypper's `dist-upgrade`.
    DistUpgrade,
}

/// A task, read from its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub manager: Manager,
    pub names: Vec<String>,
    pub want: Want,
    /// Refresh the repositories' metadata first.
    pub refresh: bool,
    /// Upgrade every installed package (`name: '*'` with latest; pacman's `upgrade`).
    pub upgrade_all: bool,
    /// With latest: upgrade only what is installed, install nothing new.
    pub update_only: bool,
    /// dnf's `autoremove`: remove what nothing needs any more.
    pub autoremove: bool,
    /// Options for install, upgrade and remove, each one word.
    pub options: Vec<String>,
    /// Options for the metadata refresh.
    pub refresh_options: Vec<String>,
    /// Options for upgrading everything.
    pub upgrade_options: Vec<String>,
    /// zypper's `type` (package, pattern, patch, product, srcpackage, application).
    pub kind: Option<String>,
}

fn flag(args: &Args, key: &str, word: &str) -> Option<String> {
    (args.bool(key) == Some(true)).then(|| word.to_string())
}

fn each(args: &Args, key: &str, prefix: &str) -> Vec<String> {
    args.list(key)
        .into_iter()
        .map(|v| format!("{prefix}{v}"))
        .collect()
}

/// Extra arguments written as one string (`extra_args: --needed --asdeps`), split on blanks into
/// words: they are passed as words, never through a shell.
fn words(args: &Args, key: &str) -> Vec<String> {
    args.str(key)
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

impl Plan {
    /// Reads the task of module `manager`.
    pub fn from_args(manager: Manager, args: &Args) -> Result<Plan, String> {
        let module = match manager {
            Manager::Dnf => "dnf",
            Manager::Zypper => "zypper",
            Manager::Pacman => "pacman",
        };
        let mut names = args.list("name");
        names.extend(args.list("pkg"));
        let want = match args.str("state").as_deref() {
            None if manager == Manager::Pacman && names.is_empty() => Want::Present,
            None | Some("present" | "installed") => Want::Present,
            Some("latest") => Want::Latest,
            Some("absent" | "removed") => Want::Absent,
            Some("dist-upgrade") if manager == Manager::Zypper => Want::DistUpgrade,
            Some(other) => return Err(format!("{module}: `state: {other}` is not supported")),
        };
        let all = names.len() == 1 && names[0] == "*";
        if all && !matches!(want, Want::Latest | Want::DistUpgrade) {
            return Err(format!("{module}: `name: '*'` goes with `state: latest`"));
        }
        let mut plan = Plan {
            manager,
            upgrade_all: (all && want == Want::Latest)
                || want == Want::DistUpgrade
                || args.bool("upgrade") == Some(true),
            names: if all { Vec::new() } else { names },
            want,
            refresh: args.bool("update_cache") == Some(true),
            update_only: args.bool("update_only") == Some(true),
            autoremove: args.bool("autoremove") == Some(true),
            options: Vec::new(),
            refresh_options: Vec::new(),
            upgrade_options: Vec::new(),
            kind: None,
        };
        match manager {
            Manager::Dnf => plan.dnf_options(args),
            Manager::Zypper => plan.zypper_options(args),
            Manager::Pacman => {
                plan.options = words(args, "extra_args");
                plan.refresh_options = words(args, "update_cache_extra_args");
                plan.upgrade_options = words(args, "upgrade_extra_args");
            }
        }
        if plan.names.is_empty() && !plan.refresh && !plan.upgrade_all && !plan.autoremove {
            return Err(format!("{module} needs `name` (or `update_cache`)"));
        }
        Ok(plan)
    }

    fn dnf_options(&mut self, args: &Args) {
        let mut o: Vec<String> = Vec::new();
        o.extend(each(args, "enablerepo", "--enablerepo="));
        o.extend(each(args, "disablerepo", "--disablerepo="));
        o.extend(each(args, "exclude", "--exclude="));
        o.extend(each(args, "enable_plugin", "--enableplugin="));
        o.extend(each(args, "disable_plugin", "--disableplugin="));
        o.extend(flag(args, "disable_gpg_check", "--nogpgcheck"));
        o.extend(args.str("releasever").map(|r| format!("--releasever={r}")));
        o.extend(args.str("conf_file").map(|c| format!("--config={c}")));
        o.extend(
            args.str("disable_excludes")
                .map(|d| format!("--disableexcludes={d}")),
        );
        o.extend(flag(args, "cacheonly", "--cacheonly"));
        // Repository options go to the refresh as well; the rest only to package operations.
        self.refresh_options = o.clone();
        o.extend(flag(args, "security", "--security"));
        o.extend(flag(args, "bugfix", "--bugfix"));
        o.extend(flag(args, "allowerasing", "--allowerasing"));
        o.extend(flag(args, "nobest", "--nobest"));
        o.extend(flag(args, "skip_broken", "--skip-broken"));
        o.extend(flag(args, "download_only", "--downloadonly"));
        o.extend(args.bool("install_weak_deps").map(|w| {
            format!(
                "--setopt=install_weak_deps={}",
                if w { "True" } else { "False" }
            )
        }));
        self.upgrade_options = o.clone();
        self.options = o;
    }

    fn zypper_options(&mut self, args: &Args) {
        let kind = args.str("type").filter(|t| t != "package");
        let mut o: Vec<String> = Vec::new();
        o.extend(kind.as_ref().map(|t| format!("--type={t}")));
        let removing = self.want == Want::Absent;
        if removing {
            o.extend(flag(args, "clean_deps", "--clean-deps"));
        } else {
            // Ansible's zypper leaves recommended packages out unless told otherwise.
            if args.bool("disable_recommends") != Some(false) {
                o.push("--no-recommends".into());
            }
            o.extend(flag(args, "force", "--force"));
            o.extend(flag(args, "oldpackage", "--oldpackage"));
            o.extend(flag(args, "allow_vendor_change", "--allow-vendor-change"));
            o.extend(flag(args, "replacefiles", "--replacefiles"));
        }
        o.extend(words(args, "extra_args"));
        self.options = o;
        self.upgrade_options = words(args, "extra_args");
        self.kind = kind;
        if args.bool("disable_gpg_check") == Some(true) {
            // A global option: it goes before the command.
            self.refresh_options.push("--no-gpg-checks".into());
        }
    }

    /// The manager's command for `what` (`install`, `upgrade`, `remove`, `refresh`, `upgrade-all`),
    /// without its arguments.
    fn verb(&self, what: &str) -> String {
        let quoted = |v: &[String]| {
            v.iter()
                .map(|w| format!(" {}", quote(w)))
                .collect::<String>()
        };
        let (opts, upgrade_opts, refresh_opts) = (
            quoted(&self.options),
            quoted(&self.upgrade_options),
            quoted(&self.refresh_options),
        );
        match self.manager {
            Manager::Dnf => match what {
                "install" => format!("\"$pm\" -y install{opts}"),
                "upgrade" => format!("\"$pm\" -y upgrade{opts}"),
                "upgrade-all" => format!("\"$pm\" -y upgrade{upgrade_opts}"),
                "remove" => format!("\"$pm\" -y remove{opts}"),
                "autoremove" => format!("\"$pm\" -y autoremove{opts}"),
                "outdated" => format!("\"$pm\" -q check-update{opts}"),
                _ => format!("\"$pm\" -y makecache{refresh_opts}"),
            },
            Manager::Zypper => {
                // zypper's global options (before the command) are its refresh options.
                let g = &refresh_opts;
                match what {
                    "install" => format!("zypper -n{g} install{opts}"),
                    "upgrade" => format!("zypper -n{g} update{opts}"),
                    "upgrade-all" if self.want == Want::DistUpgrade => {
                        format!("zypper -n{g} dist-upgrade{upgrade_opts}")
                    }
                    "upgrade-all" => format!("zypper -n{g} update{upgrade_opts}"),
                    "remove" => format!("zypper -n{g} remove{opts}"),
                    _ => format!("zypper -n{g} refresh"),
                }
            }
            Manager::Pacman => match what {
                "install" | "upgrade" => format!("pacman -S --noconfirm --needed{opts}"),
                "upgrade-all" => format!("pacman -Su --noconfirm{upgrade_opts}"),
                "remove" => format!("pacman -R --noconfirm{opts}"),
                _ => format!("pacman -Sy{refresh_opts}"),
            },
        }
    }

    /// Succeeds when package `$p` is installed.
    fn installed(&self) -> String {
        match (self.manager, &self.kind) {
            (Manager::Pacman, _) => "pacman -T \"$p\" >/dev/null 2>&1".into(),
            (Manager::Zypper, Some(kind)) => format!(
                "zypper -n -q search -i -x -t {} \"$p\" >/dev/null 2>&1",
                quote(kind)
            ),
            _ => "rpm -q --whatprovides \"$p\" >/dev/null 2>&1".into(),
        }
    }

    /// Succeeds when an installed `$p` has a newer version (check mode's prediction for latest).
    fn outdated(&self) -> String {
        match self.manager {
            Manager::Dnf => format!("{{ {} \"$p\" >/dev/null 2>&1; [ $? -eq 100 ]; }}", self.verb("outdated")),
            Manager::Zypper => "zypper -n -q list-updates 2>/dev/null | awk -F'|' '{gsub(/ /,\"\",$3); print $3}' | grep -qxF \"$p\"".into(),
            Manager::Pacman => "[ -n \"$(pacman -Qu \"$p\" 2>/dev/null)\" ]".into(),
        }
    }

    /// The shell script: prints `changed` when the installed set changed (or would, in check mode).
    pub fn script(&self, check: bool) -> String {
        let mut s = String::new();
        s.push_str(match self.manager {
            Manager::Dnf => "if command -v dnf >/dev/null 2>&1; then pm=dnf; elif command -v yum >/dev/null 2>&1; then pm=yum; else echo 'this host has neither dnf nor yum' >&2; exit 1; fi; ",
            Manager::Zypper => "command -v zypper >/dev/null 2>&1 || { echo 'this host has no zypper' >&2; exit 1; }; ",
            Manager::Pacman => "command -v pacman >/dev/null 2>&1 || { echo 'this host has no pacman' >&2; exit 1; }; ",
        });
        let snap = match self.manager {
            Manager::Pacman => "pacman -Q 2>/dev/null | cksum",
            _ => "rpm -qa 2>/dev/null | LC_ALL=C sort | cksum",
        };
        s.push_str(&format!("before=$({snap}); "));
        let act = |cmd: String| {
            if check {
                "echo changed; ".to_string()
            } else {
                format!("{cmd} || exit 1; ")
            }
        };
        if self.refresh && !check {
            s.push_str(&format!("{} || exit 1; ", self.verb("refresh")));
        }
        let names: String = self
            .names
            .iter()
            .map(|n| format!(" {}", quote(n)))
            .collect();
        let installed = self.installed();
        if !self.names.is_empty() {
            match self.want {
                Want::Present | Want::Latest
                    if !(self.update_only && self.want == Want::Latest) =>
                {
                    s.push_str(&format!(
                        "set --; for p in{names}; do {installed} || set -- \"$@\" \"$p\"; done; if [ $# -gt 0 ]; then {}fi; ",
                        act(format!("{} \"$@\"", self.verb("install")))
                    ));
                }
                _ => {}
            }
            if self.want == Want::Latest {
                let upgrade = if check {
                    format!(
                        "for p in \"$@\"; do {} && echo changed; done; ",
                        self.outdated()
                    )
                } else {
                    format!(
                        "[ $# -gt 0 ] && {{ {} \"$@\" || exit 1; }}; ",
                        self.verb("upgrade")
                    )
                };
                s.push_str(&format!(
                    "set --; for p in{names}; do {installed} && set -- \"$@\" \"$p\"; done; {upgrade}"
                ));
            }
            if self.want == Want::Absent {
                s.push_str(&format!(
                    "set --; for p in{names}; do {installed} && set -- \"$@\" \"$p\"; done; if [ $# -gt 0 ]; then {}fi; ",
                    act(format!("{} \"$@\"", self.verb("remove")))
                ));
            }
        }
        if self.upgrade_all {
            s.push_str(&if check {
                match self.manager {
                    Manager::Dnf => "\"$pm\" -q check-update >/dev/null 2>&1; [ $? -eq 100 ] && echo changed; ".to_string(),
                    Manager::Zypper => "[ -n \"$(zypper -n -q list-updates 2>/dev/null | grep '^v ')\" ] && echo changed; ".into(),
                    Manager::Pacman => "[ -n \"$(pacman -Qu 2>/dev/null)\" ] && echo changed; ".into(),
                }
            } else {
                format!("{} || exit 1; ", self.verb("upgrade-all"))
            });
        }
        if self.autoremove && self.manager == Manager::Dnf && !check {
            s.push_str(&format!("{} || exit 1; ", self.verb("autoremove")));
        }
        s.push_str(&format!("[ \"$before\" = \"$({snap})\" ] || echo changed"));
        s
    }
}

pub async fn run(manager: Manager, args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let plan = match Plan::from_args(manager, args) {
        Ok(p) => p,
        Err(e) => return Outcome::bad_input(e),
    };
    ctx.run_recorded(&plan.script(ctx.check)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(manager: Manager, v: serde_json::Value) -> Plan {
        Plan::from_args(manager, &Args(v.as_object().unwrap().clone())).unwrap()
    }

    const DNF: &str = "if command -v dnf >/dev/null 2>&1; then pm=dnf; elif command -v yum >/dev/null 2>&1; then pm=yum; else echo 'this host has neither dnf nor yum' >&2; exit 1; fi; ";
    const RPM_SNAP: &str = "rpm -qa 2>/dev/null | LC_ALL=C sort | cksum";

    #[test]
    fn dnf_installs_only_what_is_missing_with_its_repository_options() {
        let p = plan(
            Manager::Dnf,
            json!({"name": ["docker-ce", "it's"], "enablerepo": "docker", "disable_gpg_check": true, "update_cache": true, "install_weak_deps": false}),
        );
        assert_eq!(
            p.script(false),
            format!(
                "{DNF}before=$({RPM_SNAP}); \"$pm\" -y makecache --enablerepo=docker --nogpgcheck || exit 1; \
                 set --; for p in docker-ce 'it'\\''s'; do rpm -q --whatprovides \"$p\" >/dev/null 2>&1 || set -- \"$@\" \"$p\"; done; \
                 if [ $# -gt 0 ]; then \"$pm\" -y install --enablerepo=docker --nogpgcheck --setopt=install_weak_deps=False \"$@\" || exit 1; fi; \
                 [ \"$before\" = \"$({RPM_SNAP})\" ] || echo changed"
            )
        );
        // Check mode refreshes nothing and installs nothing: it says what it would do.
        let check = p.script(true);
        assert!(
            !check.contains("makecache") && !check.contains("install '"),
            "{check}"
        );
        assert!(
            check.contains("if [ $# -gt 0 ]; then echo changed; fi"),
            "{check}"
        );
    }

    #[test]
    fn everything_latest_removal_and_autoremove() {
        let all = plan(
            Manager::Dnf,
            json!({"name": "*", "state": "latest", "security": true}),
        );
        assert!(all.names.is_empty() && all.upgrade_all);
        assert!(
            all.script(false)
                .contains("\"$pm\" -y upgrade --security || exit 1; ")
        );
        assert!(
            all.script(true)
                .contains("check-update >/dev/null 2>&1; [ $? -eq 100 ] && echo changed")
        );
        let gone = plan(
            Manager::Dnf,
            json!({"name": "telnet", "state": "absent", "autoremove": true}),
        );
        let s = gone.script(false);
        assert!(s.contains("do rpm -q --whatprovides \"$p\" >/dev/null 2>&1 && set -- \"$@\" \"$p\"; done; if [ $# -gt 0 ]; then \"$pm\" -y remove \"$@\" || exit 1; fi; "), "{s}");
        assert!(s.contains("\"$pm\" -y autoremove || exit 1; "), "{s}");
        let latest = plan(
            Manager::Dnf,
            json!({"name": "nginx", "state": "latest", "update_only": true}),
        );
        let s = latest.script(false);
        assert!(
            !s.contains("install"),
            "update_only installs nothing new: {s}"
        );
        assert!(
            s.contains("[ $# -gt 0 ] && { \"$pm\" -y upgrade \"$@\" || exit 1; }; "),
            "{s}"
        );
        assert!(
            Plan::from_args(
                Manager::Dnf,
                &Args(json!({"name": "*"}).as_object().unwrap().clone())
            )
            .is_err()
        );
    }

    #[test]
    fn zypper_and_pacman_commands() {
        let z = plan(
            Manager::Zypper,
            json!({"name": "nginx", "state": "latest", "disable_gpg_check": true, "update_cache": true}),
        );
        let s = z.script(false);
        assert!(
            s.contains("zypper -n --no-gpg-checks refresh || exit 1; "),
            "{s}"
        );
        assert!(
            s.contains("zypper -n --no-gpg-checks install --no-recommends \"$@\""),
            "{s}"
        );
        assert!(
            s.contains("zypper -n --no-gpg-checks update --no-recommends \"$@\""),
            "{s}"
        );
        let dup = plan(
            Manager::Zypper,
            json!({"name": "*", "state": "dist-upgrade"}),
        );
        assert!(
            dup.script(false)
                .contains("zypper -n dist-upgrade || exit 1; ")
        );
        let pattern = plan(
            Manager::Zypper,
            json!({"name": "devel_basis", "type": "pattern"}),
        );
        assert!(
            pattern
                .script(false)
                .contains("zypper -n -q search -i -x -t pattern \"$p\"")
        );
        let pac = plan(
            Manager::Pacman,
            json!({"update_cache": true, "upgrade": true}),
        );
        let s = pac.script(false);
        assert!(
            s.contains("pacman -Sy || exit 1; pacman -Su --noconfirm || exit 1; "),
            "{s}"
        );
        assert!(
            s.ends_with("[ \"$before\" = \"$(pacman -Q 2>/dev/null | cksum)\" ] || echo changed"),
            "{s}"
        );
        let pac = plan(
            Manager::Pacman,
            json!({"name": ["git"], "extra_args": "--asdeps --noprogressbar"}),
        );
        assert!(
            pac.script(false)
                .contains("pacman -S --noconfirm --needed --asdeps --noprogressbar \"$@\"")
        );
        assert!(pac.script(false).contains("pacman -T \"$p\""));
    }
}
