//! docker_compose: `docker compose pull` and `up -d` (or `down`) in a project folder, with the
//! Compose v2 plugin or the older `docker-compose`. What changed is read from Compose's own report.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// Picks `docker compose` when the plugin is there, else `docker-compose`.
const COMPOSE: &str = "if docker compose version >/dev/null 2>&1; then dc='docker compose'; else dc=docker-compose; fi";

/// The shell for a compose task.
pub fn command(args: &Args, check: bool) -> Result<String, String> {
    let dir = args.str("project_src").ok_or("`project_src` is required")?;
    let services: Vec<String> = match args.0.get("services") {
        Some(serde_json::Value::Array(items)) => {
            items.iter().filter_map(|i| i.as_str().map(quote)).collect()
        }
        _ => Vec::new(),
    };
    let services = if services.is_empty() {
        String::new()
    } else {
        format!(" {}", services.join(" "))
    };
    let mut steps = vec![COMPOSE.to_string(), format!("cd {}", quote(&dir))];
    if check {
        steps.push("$dc config -q".into());
        return Ok(steps.join(" && "));
    }
    match args.str("state").as_deref().unwrap_or("present") {
        "present" => {
            if args.bool("pull") == Some(true) {
                steps.push(format!("$dc pull -q{services}"));
            }
            let orphans = if args.bool("remove_orphans") == Some(true) {
                " --remove-orphans"
            } else {
                ""
            };
            steps.push(format!("$dc up -d{orphans}{services} 2>&1"));
        }
        "absent" => steps.push("$dc down 2>&1".into()),
        other => return Err(format!("`state: {other}` is not one of present, absent")),
    }
    Ok(steps.join(" && "))
}

/// Compose reports each container it touched: `Container web-1  Started`, `Recreated`, ...
pub fn changed(output: &str) -> bool {
    output.lines().any(|l| {
        let l = l.trim_end();
        [
            "Created",
            "Recreated",
            "Started",
            "Stopped",
            "Removed",
            "Pulled",
        ]
        .iter()
        .any(|w| l.ends_with(w))
            || l.starts_with("Creating ")
            || l.starts_with("Recreating ")
            || l.starts_with("Starting ")
            || l.starts_with("Stopping ")
            || l.starts_with("Removing ")
    })
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match command(args, ctx.check) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(e),
    };
    match ctx.transport.exec(&cmd, b"", ctx.timeout, ctx.sudo).await {
        Ok(o) if o.status.success() => {
            let out = String::from_utf8_lossy(&o.stdout).into_owned();
            let mut r = Outcome {
                changed: !ctx.check && changed(&out),
                skipped: ctx.check,
                ..Outcome::default()
            };
            if ctx.check {
                r.msg = "compose file is valid; check mode does not start containers".into();
            }
            r.result.insert("stdout".into(), serde_json::json!(out));
            r
        }
        Ok(o) => {
            let mut failed = Outcome::fail(format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout).trim(),
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            failed.record_command(&cmd, &o);
            failed
        }
        Err(e) => Outcome::fail(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_and_reports() {
        let a = Args(
            json!({"project_src": "/opt/app", "pull": true, "services": ["web"]})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(
            command(&a, false).unwrap(),
            format!("{COMPOSE} && cd /opt/app && $dc pull -q web && $dc up -d web 2>&1")
        );
        assert_eq!(
            command(&a, true).unwrap(),
            format!("{COMPOSE} && cd /opt/app && $dc config -q")
        );
        assert!(changed(
            " Container app-web-1  Recreated\n Container app-web-1  Started\n"
        ));
        assert!(!changed(" Container app-web-1  Running\n"));
        assert!(changed("Creating app_web_1 ... done\n"));
    }
}
