//! apt: install, remove and upgrade packages, and refresh the cache. In check mode apt simulates
//! (`-s`), so the plan comes from real apt. Whether anything changed is read from apt's summary line.

use std::sync::LazyLock;

use drover_ssh::shell::quote;
use regex::Regex;

use super::{Args, ModuleCtx, Outcome};

/// apt-get's summary line; the reinstalled and downgraded counts appear only when not zero.
static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(\d+) upgraded, (\d+) newly installed, (?:(\d+) reinstalled, )?(?:(\d+) downgraded, )?(\d+) to remove")
        .expect("valid regex")
});

/// Whether apt's output says it upgraded, installed, reinstalled, downgraded or removed anything.
pub fn changed(output: &str) -> bool {
    SUMMARY.captures_iter(output).any(|c| {
        (1..=5).any(|i| {
            c.get(i)
                .is_some_and(|m| m.as_str().parse::<u64>().unwrap_or(0) > 0)
        })
    })
}

/// apt-get's options from the task: dpkg's options (Ansible's default keeps changed config files),
/// recommends, target release, downgrades, unauthenticated packages, the lock's wait.
fn apt_options(args: &Args) -> Result<String, String> {
    let dpkg = args
        .str("dpkg_options")
        .unwrap_or_else(|| "force-confdef,force-confold".into());
    let mut opts: String = dpkg
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| format!(" -o Dpkg::Options::=--{}", quote(o)))
        .collect();
    match args.bool("install_recommends") {
        Some(true) => opts.push_str(" -o APT::Install-Recommends=yes"),
        Some(false) => opts.push_str(" -o APT::Install-Recommends=no"),
        None => {}
    }
    if let Some(release) = args.str("default_release") {
        opts.push_str(&format!(" -t {}", quote(&release)));
    }
    if args.bool("allow_downgrade") == Some(true) {
        opts.push_str(" --allow-downgrades");
    }
    if args.bool("allow_unauthenticated") == Some(true) {
        opts.push_str(" --allow-unauthenticated");
    }
    for (key, flag) in [
        (
            "allow_change_held_packages",
            " --allow-change-held-packages",
        ),
        ("force", " --force-yes"),
        ("fail_on_autoremove", " --no-remove"),
    ] {
        if args.bool(key) == Some(true) {
            opts.push_str(flag);
        }
    }
    if args.0.get("lock_timeout").is_some_and(|v| !v.is_null()) {
        let secs = args
            .num("lock_timeout")
            .filter(|n| *n >= 0.0 && n.fract() == 0.0 && n.is_finite())
            .ok_or("`lock_timeout` must be a whole number of seconds")?;
        opts.push_str(&format!(" -o DPkg::Lock::Timeout={secs}"));
    }
    Ok(opts)
}

/// A whole number parameter, or its default.
fn count(args: &Args, key: &str, default: u64) -> Result<u64, String> {
    match args.0.get(key) {
        None | Some(serde_json::Value::Null) => Ok(default),
        Some(_) => args
            .num(key)
            .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n < 1e6)
            .map(|n| n as u64)
            .ok_or_else(|| format!("`{key}` must be a whole number")),
    }
}

/// `apt-get update`, tried `update_cache_retries` times (default 5) with waits doubling from one
/// second up to `update_cache_retry_max_delay` (default 12), as Ansible's apt retries a mirror that
/// fails for a moment. It fails when every try did (`i=0` marks it), and never exits the script,
/// so what the steps are wrapped in (policy-rc.d) is still put back.
fn update_with_retries(args: &Args) -> Result<String, String> {
    let tries = count(args, "update_cache_retries", 5)?.max(1);
    let longest = count(args, "update_cache_retry_max_delay", 12)?;
    if tries == 1 {
        return Ok("apt-get update -q".into());
    }
    Ok(format!(
        "{{ i=1; d=1; while ! apt-get update -q; do if [ $i -ge {tries} ]; then i=0; break; fi; sleep $d; i=$((i+1)); d=$((d*2)); [ $d -le {longest} ] || d={longest}; done; [ $i -ne 0 ]; }}"
    ))
}

/// The shell for an apt task: non-interactive, with [`apt_options`].
pub fn command(args: &Args, check: bool) -> Result<String, String> {
    let apt = format!(
        "DEBIAN_FRONTEND=noninteractive apt-get -y -q{}{}",
        if check { " -s" } else { "" },
        apt_options(args)?
    );
    let purge = if args.bool("purge") == Some(true) {
        " --purge"
    } else {
        ""
    };
    let names: Vec<String> = match args
        .0
        .get("name")
        .or_else(|| args.0.get("pkg"))
        .or_else(|| args.0.get("package"))
    {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(s)) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    let mut steps = Vec::new();
    // As in Ansible, `cache_valid_time` implies `update_cache`, and skips the update while the
    // lists are younger than that many seconds.
    let valid_for = match args.0.get("cache_valid_time") {
        None | Some(serde_json::Value::Null) => None,
        Some(_) => Some(
            args.num("cache_valid_time")
                .filter(|n| *n >= 0.0 && n.fract() == 0.0 && n.is_finite())
                .ok_or("`cache_valid_time` must be a whole number of seconds")? as u64,
        ),
    };
    if (args.bool("update_cache") == Some(true) || valid_for.is_some()) && !check {
        let update = update_with_retries(args)?;
        steps.push(match valid_for {
            Some(n) => format!(
                "{{ [ $(( $(date +%s) - $(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0) )) -lt {n} ] || {update}; }}"
            ),
            None => update,
        });
    }
    match args.str("upgrade").as_deref() {
        None | Some("no") | Some("false") => {}
        Some("dist" | "full") => steps.push(format!("{apt} dist-upgrade")),
        Some("safe" | "yes" | "true") => steps.push(format!("{apt} upgrade")),
        Some(other) => {
            return Err(format!(
                "`upgrade: {other}` is not one of dist, full, safe, yes, no"
            ));
        }
    }
    if !names.is_empty() {
        let quoted = names.iter().map(|n| quote(n)).collect::<Vec<_>>().join(" ");
        let step = match args.str("state").as_deref().unwrap_or("present") {
            "present" | "installed" if args.bool("only_upgrade") != Some(true) => {
                // Only what is missing: `present` never upgrades an installed package.
                format!(
                    "missing=$(for p in {quoted}; do dpkg-query -W -f='${{Status}}' \"$p\" 2>/dev/null | grep -q 'install ok installed' || printf '%s ' \"$p\"; done); [ -z \"$missing\" ] || {apt} install $missing"
                )
            }
            "present" | "installed" | "latest" if args.bool("only_upgrade") == Some(true) => {
                format!("{apt} install --only-upgrade {quoted}")
            }
            "latest" => format!("{apt} install {quoted}"),
            "absent" | "removed" => format!("{apt} remove{purge} {quoted}"),
            other => {
                return Err(format!(
                    "`state: {other}` is not one of present, latest, absent"
                ));
            }
        };
        steps.push(step);
    }
    if let Some(deb) = args.str("deb") {
        steps.push(deb_step(&deb, &apt));
    }
    if args.bool("autoremove") == Some(true) {
        steps.push(format!("{apt} autoremove{purge}"));
    }
    for (key, what) in [("autoclean", "autoclean"), ("clean", "clean")] {
        if args.bool(key) == Some(true) {
            steps.push(format!("{apt} {what}"));
        }
    }
    if steps.is_empty() {
        return Err("apt needs `name`, `deb`, `upgrade`, `update_cache`, `autoremove`, `autoclean` or `clean`".into());
    }
    let steps = steps.join(" && ");
    match args.0.get("policy_rc_d") {
        None | Some(serde_json::Value::Null) => Ok(steps),
        Some(_) if check => Ok(steps),
        Some(_) => {
            let code = args
                .num("policy_rc_d")
                .filter(|n| n.fract() == 0.0 && (0.0..=255.0).contains(n))
                .ok_or("`policy_rc_d` must be an exit code (0 to 255)")?;
            Ok(with_policy_rc_d(&steps, code as u8))
        }
    }
}

/// `steps` run with /usr/sbin/policy-rc.d exiting `code` (101: services are not started), as
/// Ansible's apt does: a policy already there is put aside and put back afterwards, whatever the
/// steps did. The script is written under a temp name and renamed into place, never through a
/// link planted at its name.
pub fn with_policy_rc_d(steps: &str, code: u8) -> String {
    format!(
        "keep=$(mktemp -d) || exit 1; \
         [ ! -e /usr/sbin/policy-rc.d ] && [ ! -L /usr/sbin/policy-rc.d ] || mv /usr/sbin/policy-rc.d \"$keep/\" || exit 1; \
         t=$(mktemp /usr/sbin/.policy-rc.d.XXXXXX) && printf '#!/bin/sh\\nexit {code}\\n' > \"$t\" && chmod 0755 \"$t\" && mv -f \"$t\" /usr/sbin/policy-rc.d || exit 1; \
         ( {steps} ); rc=$?; \
         rm -f /usr/sbin/policy-rc.d; \
         [ ! -e \"$keep/policy-rc.d\" ] && [ ! -L \"$keep/policy-rc.d\" ] || mv \"$keep/policy-rc.d\" /usr/sbin/policy-rc.d; \
         rmdir \"$keep\"; exit $rc"
    )
}

/// A .deb file (on the host, or a URL it fetches) installed with its dependencies, unless that
/// version of that package is installed already.
fn deb_step(deb: &str, apt: &str) -> String {
    let fetch = if deb.contains("://") {
        format!(
            "d=$(mktemp --suffix=.deb) && trap 'rm -f \"$d\"' EXIT && curl -fsSL -- {} > \"$d\"",
            quote(deb)
        )
    } else {
        format!("d={}", quote(deb))
    };
    format!(
        "{fetch} && p=$(dpkg-deb -f \"$d\" Package) && v=$(dpkg-deb -f \"$d\" Version) && \
         if [ \"$(dpkg-query -W -f='${{Status}} ${{Version}}' \"$p\" 2>/dev/null)\" = \"install ok installed $v\" ]; then :; \
         else case \"$d\" in /*) ;; *) d=./$d;; esac; {apt} install \"$d\"; fi"
    )
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match command(args, ctx.check) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(e),
    };
    match ctx.exec(&cmd, b"").await {
        Ok(o) => {
            let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
            // A task that only refreshes the lists is changed when it refreshed them (not when
            // `cache_valid_time` said they were fresh), as Ansible's `cache_updated`.
            let bare_update = ![
                "name",
                "pkg",
                "package",
                "deb",
                "upgrade",
                "autoremove",
                "autoclean",
                "clean",
            ]
            .iter()
            .any(|k| args.0.get(*k).is_some_and(|v| !v.is_null()));
            let cache_updated = stdout
                .lines()
                .any(|l| l.starts_with("Reading package lists"));
            let mut out = Outcome {
                changed: changed(&stdout) || (bare_update && cache_updated),
                failed: !o.status.success(),
                ..Outcome::default()
            };
            if out.failed {
                out.msg = String::from_utf8_lossy(&o.stderr).trim().to_string();
            }
            out.record_command(&cmd, &o);
            out.result
                .insert("stdout".into(), serde_json::json!(stdout));
            out.result
                .insert("cache_updated".into(), serde_json::json!(cache_updated));
            out
        }
        Err(e) => Outcome::fail(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::modules::args;

    #[test]
    fn summaries_from_real_apt_output() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        assert!(!changed(
            &std::fs::read_to_string(dir.join("apt-install-installed.txt")).unwrap()
        ));
        assert!(changed(
            &std::fs::read_to_string(dir.join("apt-install-new.txt")).unwrap()
        ));
        // apt-get names downgrades and reinstalls only when there are some.
        assert!(changed(
            "0 upgraded, 0 newly installed, 1 downgraded, 0 to remove and 0 not upgraded.\n"
        ));
        assert!(changed(
            "0 upgraded, 0 newly installed, 1 reinstalled, 0 to remove and 0 not upgraded.\n"
        ));
        assert!(!changed(
            "0 upgraded, 0 newly installed, 0 to remove and 3 not upgraded.\n"
        ));
    }

    #[test]
    fn policy_rc_d_wraps_the_steps_and_puts_back_what_was_there() {
        let cmd = command(
            &args(json!({"name": "nginx", "state": "latest", "policy_rc_d": 101})),
            false,
        )
        .unwrap();
        assert!(
            cmd.starts_with("keep=$(mktemp -d) || exit 1; [ ! -e /usr/sbin/policy-rc.d ]"),
            "{cmd}"
        );
        assert!(
            cmd.contains("printf '#!/bin/sh\\nexit 101\\n' > \"$t\""),
            "{cmd}"
        );
        assert!(
            cmd.contains("( DEBIAN_FRONTEND=noninteractive apt-get -y -q"),
            "{cmd}"
        );
        assert!(cmd.ends_with("rmdir \"$keep\"; exit $rc"), "{cmd}");
        let checked = command(&args(json!({"name": "nginx", "policy_rc_d": 101})), true).unwrap();
        assert!(
            !checked.contains("policy-rc.d"),
            "--check writes nothing: {checked}"
        );
        assert!(command(&args(json!({"name": "nginx", "policy_rc_d": 300})), false).is_err());
    }

    #[test]
    fn commands_are_exact() {
        let apt = "DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";
        assert_eq!(
            command(
                &args(json!({"upgrade": "dist", "update_cache": true, "update_cache_retries": 1})),
                false
            )
            .unwrap(),
            format!("apt-get update -q && {apt} dist-upgrade")
        );
        let retried = "{ i=1; d=1; while ! apt-get update -q; do if [ $i -ge 5 ]; then i=0; break; fi; sleep $d; i=$((i+1)); d=$((d*2)); [ $d -le 12 ] || d=12; done; [ $i -ne 0 ]; }";
        assert_eq!(
            command(&args(json!({"update_cache": true})), false).unwrap(),
            retried
        );
        assert_eq!(
            command(
                &args(json!({"name": "x", "state": "latest", "force": true, "fail_on_autoremove": true, "allow_change_held_packages": true})),
                false
            )
            .unwrap(),
            format!("{apt} --allow-change-held-packages --force-yes --no-remove install x")
        );
        assert_eq!(
            command(
                &args(
                    json!({"upgrade": "dist", "cache_valid_time": 3600, "update_cache_retries": 1})
                ),
                false
            )
            .unwrap(),
            format!(
                "{{ [ $(( $(date +%s) - $(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0) )) -lt 3600 ] || apt-get update -q; }} && {apt} dist-upgrade"
            )
        );
        assert!(
            command(
                &args(json!({"upgrade": "dist", "cache_valid_time": -1})),
                false
            )
            .is_err()
        );
        assert_eq!(
            command(
                &args(json!({"name": ["docker-ce", "containerd.io"], "state": "latest"})),
                false
            )
            .unwrap(),
            format!("{apt} install docker-ce containerd.io")
        );
        assert_eq!(
            command(
                &args(json!({"name": "libexpat1", "only_upgrade": true})),
                true
            )
            .unwrap(),
            "DEBIAN_FRONTEND=noninteractive apt-get -y -q -s -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install --only-upgrade libexpat1"
        );
        assert!(
            command(&args(json!({"name": "x", "state": "present"})), false)
                .unwrap()
                .starts_with("missing=$(for p in x; do dpkg-query")
        );
        assert!(command(&args(json!({})), false).is_err());
        assert_eq!(
            command(&args(json!({"name": "nginx", "state": "absent", "purge": true, "autoremove": true, "autoclean": true, "dpkg_options": "force-confnew", "install_recommends": false, "default_release": "bookworm-backports", "lock_timeout": 120})), false).unwrap(),
            "DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confnew -o APT::Install-Recommends=no -t bookworm-backports -o DPkg::Lock::Timeout=120 remove --purge nginx && \
             DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confnew -o APT::Install-Recommends=no -t bookworm-backports -o DPkg::Lock::Timeout=120 autoremove --purge && \
             DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confnew -o APT::Install-Recommends=no -t bookworm-backports -o DPkg::Lock::Timeout=120 autoclean"
        );
        assert_eq!(
            command(&args(json!({"deb": "https://example.org/x.deb"})), true).unwrap(),
            format!(
                "d=$(mktemp --suffix=.deb) && trap 'rm -f \"$d\"' EXIT && curl -fsSL -- https://example.org/x.deb > \"$d\" && p=$(dpkg-deb -f \"$d\" Package) && v=$(dpkg-deb -f \"$d\" Version) && \
                 if [ \"$(dpkg-query -W -f='${{Status}} ${{Version}}' \"$p\" 2>/dev/null)\" = \"install ok installed $v\" ]; then :; \
                 else case \"$d\" in /*) ;; *) d=./$d;; esac; {} install \"$d\"; fi",
                apt.replace(" -q", " -q -s")
            )
        );
    }
}
