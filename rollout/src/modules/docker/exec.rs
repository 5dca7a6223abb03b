//! docker_container_exec (community.docker): a command run in a running container with `docker
//! exec`, its words passed as they are (no shell), as the module runs it. The command's exit code
//! is registered as `rc`, not a failure (as the module reports it); a missing container fails.

use drover_ssh::shell::{quote, split_words};
use serde_json::Value as Json;

use super::super::{Args, ModuleCtx, Outcome};

/// What the script prints on standard error when the container is not there.
const NO_CONTAINER: &str = "drover: no such container";

/// The task's command as words: `argv`, or `command` split as Ansible splits it (shlex).
fn words(args: &Args) -> Result<Vec<String>, String> {
    match (
        args.0.get("argv").filter(|v| !v.is_null()),
        args.str("command"),
    ) {
        (Some(_), Some(_)) => Err("`argv` and `command` are mutually exclusive".into()),
        (Some(_), None) => Ok(args.list("argv")),
        (None, Some(command)) => split_words(&command).map_err(|e| format!("`command`: {e}")),
        (None, None) => Err("needs `argv` or `command`".into()),
    }
}

/// The `docker exec` line, after a check that the container is there.
pub fn command(args: &Args) -> Result<String, String> {
    let container = args.str("container").ok_or("needs `container`")?;
    let argv = words(args)?;
    if argv.is_empty() {
        return Err("the command is empty".into());
    }
    let detach = args.bool("detach") == Some(true);
    if detach && args.str("stdin").is_some() {
        return Err("If detach=true, stdin cannot be provided.".into());
    }
    let mut opts: Vec<String> = Vec::new();
    for (on, flag) in [
        (args.str("stdin").is_some(), "-i"),
        (args.bool("tty") == Some(true), "-t"),
        (detach, "-d"),
    ] {
        if on {
            opts.push(flag.into());
        }
    }
    for (key, flag) in [("user", "-u"), ("chdir", "-w")] {
        if let Some(value) = args.str(key) {
            opts.extend([flag.into(), value]);
        }
    }
    match args.0.get("env") {
        None | Some(Json::Null) => {}
        Some(Json::Object(env)) => {
            for (name, value) in env {
                let Json::String(value) = value else {
                    return Err(format!(
                        "Non-string value found for env option. Ambiguous env options must be wrapped in quotes to avoid them being interpreted. Key: {name}"
                    ));
                };
                opts.extend(["-e".into(), format!("{name}={value}")]);
            }
        }
        Some(other) => return Err(format!("`env`: expected a mapping, found {other}")),
    }
    let c = quote(&container);
    let line: Vec<String> = (opts.iter().chain(std::iter::once(&"--".to_string())))
        .chain(std::iter::once(&container))
        .chain(argv.iter())
        .map(|w| quote(w))
        .collect();
    Ok(format!(
        "docker container inspect -- {c} >/dev/null 2>&1 || {{ echo {} >&2; exit 1; }}; exec docker exec {}",
        quote(NO_CONTAINER),
        line.join(" ")
    ))
}

/// `docker_container_exec`.
pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let line = match command(args) {
        Ok(l) => l,
        Err(e) => return Outcome::bad_input(format!("docker_container_exec: {e}")),
    };
    let stdin = match args.str("stdin") {
        Some(text) if args.bool("stdin_add_newline") != Some(false) => text + "\n",
        Some(text) => text,
        None => String::new(),
    };
    let out = match ctx.exec(&line, stdin.as_bytes()).await {
        Ok(out) => out,
        Err(e) => return Outcome::fail(e.to_string()),
    };
    if String::from_utf8_lossy(&out.stderr).trim_end() == NO_CONTAINER {
        return Outcome::fail(format!(
            "Could not find container \"{}\"",
            args.str("container").unwrap_or_default()
        ));
    }
    let mut o = super::super::command::ran(&out, args.bool("strip_empty_ends") != Some(false));
    o.failed = false;
    o.msg.clear();
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;
    use serde_json::json;

    #[test]
    fn the_command_is_words_never_a_shell_line() {
        let line = command(&args(json!({
            "container": "web",
            "command": "sh -c 'echo $HOME; id'",
            "user": "www-data",
            "chdir": "/srv",
            "env": {"A": "1 2"},
            "stdin": "x",
        })))
        .unwrap();
        assert_eq!(
            line,
            "docker container inspect -- web >/dev/null 2>&1 || { echo 'drover: no such container' >&2; exit 1; }; exec docker exec -i -u www-data -w /srv -e 'A=1 2' -- web sh -c 'echo $HOME; id'"
        );
        let argv = command(&args(
            json!({"container": "-x", "argv": ["ls", "a b"], "detach": true}),
        ))
        .unwrap();
        assert!(
            argv.ends_with("exec docker exec -d -- -x ls 'a b'"),
            "{argv}"
        );
        assert!(
            command(&args(
                json!({"container": "w", "argv": ["a"], "command": "b"})
            ))
            .is_err()
        );
        assert!(
            command(&args(
                json!({"container": "w", "command": "a", "env": {"N": 1}})
            ))
            .is_err()
        );
        assert!(
            command(&args(
                json!({"container": "w", "command": "a", "detach": true, "stdin": "x"})
            ))
            .is_err()
        );
    }
}
