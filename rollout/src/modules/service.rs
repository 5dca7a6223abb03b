//! service and systemd through systemctl. Each step first asks systemctl whether it is needed, so a
//! second run changes nothing; in check mode the steps print `changed` instead of acting.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// `systemctl` for the task's `scope`: the system manager, the user's own (`--user`, as the
/// user the task runs as, with `XDG_RUNTIME_DIR` found as Ansible finds it when the session has
/// none) or every user's defaults (`--global`: enabling and masking only).
fn systemctl(args: &Args) -> Result<(String, &'static str), String> {
    match args.str("scope").as_deref() {
        None | Some("system") => Ok((String::new(), "systemctl")),
        Some("user") => Ok((
            "export XDG_RUNTIME_DIR=\"${XDG_RUNTIME_DIR:-/run/user/$(id -u)}\"".into(),
            "systemctl --user",
        )),
        Some("global") => {
            if args.str("state").is_some() || args.bool("daemon_reload") == Some(true) {
                return Err("`scope: global` has no running units: it takes `enabled` and `masked`, not `state` or `daemon_reload`".into());
            }
            Ok((String::new(), "systemctl --global"))
        }
        Some(other) => Err(format!(
            "`scope: {other}` is not one of system, user, global"
        )),
    }
}

/// The shell for a service task; prints `changed` for each step it took.
pub fn command(args: &Args, check: bool) -> Result<String, String> {
    let act = |cmd: String| {
        if check {
            "echo changed".to_string()
        } else {
            format!("{cmd} && echo changed")
        }
    };
    let (env, sc) = systemctl(args)?;
    // `no_block` and `force` go with the verbs that take them, as Ansible's module passes them.
    let no_block = if args.bool("no_block") == Some(true) {
        " --no-block"
    } else {
        ""
    };
    let force = if args.bool("force") == Some(true) {
        " --force"
    } else {
        ""
    };
    let mut steps = vec!["set -e".to_string()];
    if !env.is_empty() {
        steps.push(env);
    }
    if args.bool("daemon_reload") == Some(true) {
        steps.push(act(format!("{sc} daemon-reload")));
    }
    if args.bool("daemon_reexec") == Some(true) {
        steps.push(act(format!("{sc} daemon-reexec")));
    }
    let name = args.str("name");
    let unit = || {
        name.as_deref()
            .map(quote)
            .ok_or("`name` is required for state and enabled")
    };
    // A masked unit cannot start: mask and unmask come first, as in Ansible's systemd module.
    match args.bool("masked") {
        None => {}
        Some(true) => {
            let u = unit()?;
            steps.push(format!(
                "[ \"$({sc} is-enabled {u} 2>/dev/null)\" = masked ] || {{ {}; }}",
                act(format!("{sc}{force} mask {u}"))
            ));
        }
        Some(false) => {
            let u = unit()?;
            steps.push(format!(
                "if [ \"$({sc} is-enabled {u} 2>/dev/null)\" = masked ]; then {}; fi",
                act(format!("{sc} unmask {u}"))
            ));
        }
    }
    match args.str("state").as_deref() {
        None => {}
        Some("started") => {
            let u = unit()?;
            steps.push(format!(
                "{sc} is-active --quiet {u} || {{ {}; }}",
                act(format!("{sc}{no_block} start {u}"))
            ));
        }
        Some("stopped") => {
            let u = unit()?;
            steps.push(format!(
                "if {sc} is-active --quiet {u}; then {}; fi",
                act(format!("{sc}{no_block} stop {u}"))
            ));
        }
        Some("restarted") => steps.push(act(format!("{sc}{no_block} restart {}", unit()?))),
        Some("reloaded") => steps.push(act(format!("{sc}{no_block} reload {}", unit()?))),
        Some(other) => {
            return Err(format!(
                "`state: {other}` is not one of started, stopped, restarted, reloaded"
            ));
        }
    }
    match args.bool("enabled") {
        None => {}
        Some(true) => {
            let u = unit()?;
            steps.push(format!(
                "{sc} is-enabled --quiet {u} || {{ {}; }}",
                act(format!("{sc}{force} enable {u}"))
            ));
        }
        Some(false) => {
            let u = unit()?;
            steps.push(format!(
                "if {sc} is-enabled --quiet {u}; then {}; fi",
                act(format!("{sc}{force} disable {u}"))
            ));
        }
    }
    if steps.len() == 1 + usize::from(steps.get(1).is_some_and(|s| s.starts_with("export "))) {
        return Err(
            "service needs `state`, `enabled`, `masked`, `daemon_reload` or `daemon_reexec`".into(),
        );
    }
    Ok(steps.join("; "))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match command(args, ctx.check) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(e),
    };
    match ctx.exec(&cmd, b"").await {
        Ok(o) if o.status.success() => Outcome {
            changed: String::from_utf8_lossy(&o.stdout).contains("changed"),
            ..Outcome::default()
        },
        Ok(o) => Outcome::fail(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => Outcome::fail(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_are_exact() {
        let a = Args(
            json!({"name": "docker", "state": "started", "enabled": true})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(
            command(&a, false).unwrap(),
            "set -e; systemctl is-active --quiet docker || { systemctl start docker && echo changed; }; systemctl is-enabled --quiet docker || { systemctl enable docker && echo changed; }"
        );
        let a = Args(
            json!({"name": "ssh", "state": "restarted", "daemon_reload": true})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(
            command(&a, true).unwrap(),
            "set -e; echo changed; echo changed"
        );
        let a = Args(
            json!({"name": "x", "state": "bounced"})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert!(command(&a, false).is_err());
    }

    #[test]
    fn scopes_no_block_and_force() {
        let args = |v: serde_json::Value| Args(v.as_object().unwrap().clone());
        assert_eq!(
            command(
                &args(json!({"name": "sync.timer", "scope": "user", "state": "started", "enabled": true, "no_block": true, "force": true})),
                false
            )
            .unwrap(),
            "set -e; export XDG_RUNTIME_DIR=\"${XDG_RUNTIME_DIR:-/run/user/$(id -u)}\"; systemctl --user is-active --quiet sync.timer || { systemctl --user --no-block start sync.timer && echo changed; }; systemctl --user is-enabled --quiet sync.timer || { systemctl --user --force enable sync.timer && echo changed; }"
        );
        assert_eq!(
            command(
                &args(json!({"name": "agent.service", "scope": "global", "enabled": true})),
                false
            )
            .unwrap(),
            "set -e; systemctl --global is-enabled --quiet agent.service || { systemctl --global enable agent.service && echo changed; }"
        );
        assert_eq!(
            command(&args(json!({"daemon_reexec": true})), false).unwrap(),
            "set -e; systemctl daemon-reexec && echo changed"
        );
        for bad in [
            json!({"name": "a", "scope": "global", "state": "started"}),
            json!({"name": "a", "scope": "session", "state": "started"}),
            json!({"scope": "user"}),
        ] {
            assert!(command(&args(bad.clone()), false).is_err(), "{bad}");
        }
    }
}
