//! docker_compose (and community.docker's docker_compose_v2): `up -d` (after `pull` when asked),
//! `stop`, `restart` or `down` in a project folder, with the Compose v2 plugin or the older
//! `docker-compose`. What changed is read from Compose's own report.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// Picks `docker compose` when the plugin is there, else `docker-compose`.
const COMPOSE: &str = "if docker compose version >/dev/null 2>&1; then dc='docker compose'; else dc=docker-compose; fi";

/// One of a parameter's words, or the default when it is not given.
fn choice<'a>(
    args: &Args,
    key: &str,
    words: &[&'a str],
    default: &'a str,
) -> Result<&'a str, String> {
    match args.str(key) {
        None => Ok(default),
        Some(v) => words
            .iter()
            .find(|w| **w == v)
            .copied()
            .ok_or_else(|| format!("`{key}: {v}` is not one of {}", words.join(", "))),
    }
}

/// The shell for a compose task: Compose's global options (`files`, `project_name`, `env_files`,
/// `profiles`), then the state's command with the task's options, as community.docker's
/// docker_compose_v2 runs them.
pub fn command(args: &Args, check: bool) -> Result<String, String> {
    let dir = args.str("project_src").ok_or("`project_src` is required")?;
    let services: String = args
        .list("services")
        .iter()
        .map(|s| format!(" {}", quote(s)))
        .collect();
    let mut global = String::new();
    for f in args.list("files") {
        global.push_str(&format!(" -f {}", quote(&f)));
    }
    if let Some(p) = args.str("project_name") {
        global.push_str(&format!(" -p {}", quote(&p)));
    }
    for f in args.list("env_files") {
        global.push_str(&format!(" --env-file {}", quote(&f)));
    }
    for p in args.list("profiles") {
        global.push_str(&format!(" --profile {}", quote(&p)));
    }
    let dc = format!("$dc{global}");
    let mut steps = vec![COMPOSE.to_string(), format!("cd {}", quote(&dir))];
    if check {
        steps.push(format!("{dc} config -q"));
        return Ok(steps.join(" && "));
    }
    let timeout = match args.num("timeout") {
        Some(t) if t >= 0.0 => format!(" --timeout {}", t as u64),
        Some(t) => return Err(format!("`timeout: {t}` is not a number of seconds")),
        None => String::new(),
    };
    let state = choice(
        args,
        "state",
        &["present", "absent", "stopped", "restarted"],
        "present",
    )?;
    // The older docker_compose module said `stopped: true` for state stopped.
    let state = if state == "present" && args.bool("stopped") == Some(true) {
        "stopped"
    } else {
        state
    };
    match state {
        "present" => {
            // `pull: true` is the older docker_compose module's spelling of always.
            let pull = match args.str("pull").as_deref() {
                Some("true" | "yes") => "always",
                Some("false" | "no") => "policy",
                _ => choice(
                    args,
                    "pull",
                    &["always", "missing", "never", "policy"],
                    "policy",
                )?,
            };
            let mut up = String::from(" -d");
            if pull == "always" {
                steps.push(format!("{dc} pull -q{services}"));
            } else if pull == "never" {
                up.push_str(" --pull never");
            }
            // `build: true` is the older module's spelling of always.
            let build = match args.str("build").as_deref() {
                Some("true" | "yes") => "always",
                Some("false" | "no") => "policy",
                _ => choice(args, "build", &["always", "never", "policy"], "policy")?,
            };
            match build {
                "always" => up.push_str(" --build"),
                "never" => up.push_str(" --no-build"),
                _ => {}
            }
            match choice(
                args,
                "recreate",
                &["always", "never", "auto", "smart"],
                "auto",
            )? {
                "always" => up.push_str(" --force-recreate"),
                "never" => up.push_str(" --no-recreate"),
                _ => {}
            }
            if args.bool("dependencies") == Some(false) {
                up.push_str(" --no-deps");
            }
            if args.bool("remove_orphans") == Some(true) {
                up.push_str(" --remove-orphans");
            }
            if args.bool("wait") == Some(true) {
                up.push_str(" --wait");
                if let Some(t) = args.num("wait_timeout") {
                    up.push_str(&format!(" --wait-timeout {}", t as u64));
                }
            }
            steps.push(format!("{dc} up{up}{timeout}{services} 2>&1"));
            if args.bool("restarted") == Some(true) {
                steps.push(format!("{dc} restart{timeout}{services} 2>&1"));
            }
        }
        "stopped" => steps.push(format!("{dc} stop{timeout}{services} 2>&1")),
        "restarted" => steps.push(format!("{dc} restart{timeout}{services} 2>&1")),
        _ => {
            let mut down = String::new();
            if args.bool("remove_volumes") == Some(true) {
                down.push_str(" -v");
            }
            if args.str("remove_images").is_some() {
                let rmi = choice(args, "remove_images", &["all", "local"], "local")?;
                down.push_str(&format!(" --rmi {rmi}"));
            }
            if args.bool("remove_orphans") == Some(true) {
                down.push_str(" --remove-orphans");
            }
            steps.push(format!("{dc} down{down}{timeout} 2>&1"));
        }
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
            "Restarted",
        ]
        .iter()
        .any(|w| l.ends_with(w))
            || l.starts_with("Creating ")
            || l.starts_with("Recreating ")
            || l.starts_with("Starting ")
            || l.starts_with("Stopping ")
            || l.starts_with("Removing ")
            || l.starts_with("Restarting ")
    })
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match command(args, ctx.check) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(e),
    };
    match ctx.exec(&cmd, b"").await {
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

    use crate::modules::args;

    #[test]
    fn the_older_modules_spellings_are_read() {
        assert_eq!(
            command(&args(json!({"project_src": "/a", "build": true, "pull": true, "recreate": "smart", "restarted": true})), false).unwrap(),
            format!("{COMPOSE} && cd /a && $dc pull -q && $dc up -d --build 2>&1 && $dc restart 2>&1")
        );
        assert_eq!(
            command(
                &args(json!({"project_src": "/a", "build": false, "stopped": true})),
                false
            )
            .unwrap(),
            format!("{COMPOSE} && cd /a && $dc stop 2>&1")
        );
    }

    #[test]
    fn compose_v2_options_become_compose_flags() {
        assert_eq!(
            command(&args(json!({"project_src": "/opt/app", "files": ["base.yml", "prod.yml"], "project_name": "shop",
                "profiles": ["web"], "pull": "always", "build": "never", "recreate": "always", "dependencies": false,
                "wait": true, "wait_timeout": 60, "timeout": 20})), false).unwrap(),
            format!("{COMPOSE} && cd /opt/app && $dc -f base.yml -f prod.yml -p shop --profile web pull -q && \
                     $dc -f base.yml -f prod.yml -p shop --profile web up -d --no-build --force-recreate --no-deps --wait --wait-timeout 60 --timeout 20 2>&1")
        );
        assert_eq!(
            command(
                &args(
                    json!({"project_src": "/opt/app", "state": "restarted", "services": ["web"]})
                ),
                false
            )
            .unwrap(),
            format!("{COMPOSE} && cd /opt/app && $dc restart web 2>&1")
        );
        assert_eq!(
            command(&args(json!({"project_src": "/opt/app", "state": "absent", "remove_volumes": true, "remove_images": "local"})), false).unwrap(),
            format!("{COMPOSE} && cd /opt/app && $dc down -v --rmi local 2>&1")
        );
        assert!(
            command(
                &args(json!({"project_src": "/opt/app", "pull": "never"})),
                false
            )
            .unwrap()
            .contains("up -d --pull never 2>&1")
        );
        assert!(
            command(
                &args(json!({"project_src": "/x", "build": "sometimes"})),
                false
            )
            .is_err()
        );
    }

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
