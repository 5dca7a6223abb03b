//! hostname: the host's name, as Ansible's module sets it on Debian. By default (Ansible's Debian
//! strategy) only /etc/hostname changes, and the running name with the next boot; `use: systemd`
//! (or `debian`, which Ansible maps to it) sets both through hostnamectl. One round trip; the new
//! name becomes `ansible_hostname` and `ansible_nodename` for later tasks.

use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome, setting_report};

/// A valid host name: RFC 1123 labels, at most 253 characters.
fn valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The script: prints the name before (`was:NAME`) and `changed` when it set (or would set) it.
pub fn command(name: &str, systemd: bool, check: bool) -> String {
    let n = quote(name);
    let act = |cmd: &str| {
        if check {
            String::new()
        } else {
            format!("{cmd} || exit 1; ")
        }
    };
    if systemd {
        return format!(
            "[ -d /run/systemd/system ] || {{ echo 'use: systemd needs systemd running on the host' >&2; exit 1; }}; \
             cur=$(hostname); perm=$(hostnamectl --static); \
             if [ \"$cur\" != {n} ]; then echo \"was:$cur\"; else echo \"was:$perm\"; fi; \
             if [ \"$cur\" != {n} ]; then {}echo changed; fi; \
             if [ \"$perm\" != {n} ]; then {}echo changed; fi",
            act(&format!("hostnamectl --transient set-hostname {n}")),
            act(&format!("hostnamectl --static set-hostname {n}")),
        );
    }
    // /etc/hostname is written in place (containers bind-mount it, so it cannot be renamed over),
    // never through a symlink.
    format!(
        "cur=$(cat /etc/hostname 2>/dev/null | sed 's/^[[:space:]]*//;s/[[:space:]]*$//'); echo \"was:$cur\"; \
         if [ \"$cur\" != {n} ]; then {}echo changed; fi",
        act(&format!(
            "if [ -L /etc/hostname ]; then echo '/etc/hostname is a symlink: not written through' >&2; exit 1; fi; printf '%s\\n' {n} > /etc/hostname"
        )),
    )
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(name) = args.str("name") else {
        return Outcome::bad_input("hostname needs `name`");
    };
    if !valid(&name) {
        return Outcome::bad_input(format!("hostname: `{name}` is not a valid host name"));
    }
    let systemd = matches!(args.str("use").as_deref(), Some("systemd" | "debian"));
    let out = match ctx
        .output_of(&command(&name, systemd, ctx.check), "hostname")
        .await
    {
        Ok(o) => o,
        Err(e) => return Outcome::fail(e),
    };
    let (before, changed) = setting_report(&out);
    let mut outcome = Outcome {
        changed,
        ..Outcome::default()
    };
    outcome.result.insert("name".into(), json!(name));
    if outcome.changed && ctx.diff {
        outcome.diff = Some(format!("-hostname = {before}\n+hostname = {name}\n"));
    }
    let short = name.split('.').next().unwrap_or_default();
    outcome
        .facts
        .insert("ansible_hostname".into(), json!(short));
    outcome.facts.insert("ansible_nodename".into(), json!(name));
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_set_as_ansible_sets_them_on_debian() {
        assert!(valid("web-01.example.org"));
        for bad in ["", "-web", "web_01", "a..b", "web;reboot", &"x".repeat(64)] {
            assert!(!valid(bad), "{bad}");
        }
        assert_eq!(
            command("web01", false, false),
            "cur=$(cat /etc/hostname 2>/dev/null | sed 's/^[[:space:]]*//;s/[[:space:]]*$//'); echo \"was:$cur\"; \
             if [ \"$cur\" != web01 ]; then if [ -L /etc/hostname ]; then echo '/etc/hostname is a symlink: not written through' >&2; exit 1; fi; printf '%s\\n' web01 > /etc/hostname || exit 1; echo changed; fi"
        );
        assert_eq!(
            command("web01", true, true),
            "[ -d /run/systemd/system ] || { echo 'use: systemd needs systemd running on the host' >&2; exit 1; }; \
             cur=$(hostname); perm=$(hostnamectl --static); \
             if [ \"$cur\" != web01 ]; then echo \"was:$cur\"; else echo \"was:$perm\"; fi; \
             if [ \"$cur\" != web01 ]; then echo changed; fi; \
             if [ \"$perm\" != web01 ]; then echo changed; fi"
        );
    }
}
