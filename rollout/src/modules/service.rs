//! service and systemd through systemctl. Each step first asks systemctl whether it is needed, so a
//! second run changes nothing; in check mode the steps print `changed` instead of acting.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// The shell for a service task; prints `changed` for each step it took.
pub fn command(args: &Args, check: bool) -> Result<String, String> {
    let act = |cmd: String| {
        if check {
            "echo changed".to_string()
        } else {
            format!("{cmd} && echo changed")
        }
    };
    let mut steps = vec!["set -e".to_string()];
    if args.bool("daemon_reload") == Some(true) {
        steps.push(act("systemctl daemon-reload".into()));
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
                "[ \"$(systemctl is-enabled {u} 2>/dev/null)\" = masked ] || {{ {}; }}",
                act(format!("systemctl mask {u}"))
            ));
        }
        Some(false) => {
            let u = unit()?;
            steps.push(format!(
                "if [ \"$(systemctl is-enabled {u} 2>/dev/null)\" = masked ]; then {}; fi",
                act(format!("systemctl unmask {u}"))
            ));
        }
    }
    match args.str("state").as_deref() {
        None => {}
        Some("started") => {
            let u = unit()?;
            steps.push(format!(
                "systemctl is-active --quiet {u} || {{ {}; }}",
                act(format!("systemctl start {u}"))
            ));
        }
        Some("stopped") => {
            let u = unit()?;
            steps.push(format!(
                "if systemctl is-active --quiet {u}; then {}; fi",
                act(format!("systemctl stop {u}"))
            ));
        }
        Some("restarted") => steps.push(act(format!("systemctl restart {}", unit()?))),
        Some("reloaded") => steps.push(act(format!("systemctl reload {}", unit()?))),
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
                "systemctl is-enabled --quiet {u} || {{ {}; }}",
                act(format!("systemctl enable {u}"))
            ));
        }
        Some(false) => {
            let u = unit()?;
            steps.push(format!(
                "if systemctl is-enabled --quiet {u}; then {}; fi",
                act(format!("systemctl disable {u}"))
            ));
        }
    }
    if steps.len() == 1 {
        return Err("service needs `state`, `enabled`, `masked` or `daemon_reload`".into());
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
}
