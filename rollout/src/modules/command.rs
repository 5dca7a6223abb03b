//! command and shell. Both run through the remote shell; `command` refuses shell syntax in the
//! sense that its argv form is quoted word by word. In check mode they are skipped, as in Ansible.

use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome};

/// The command line to run, with `chdir`, `creates` and `removes` folded in.
pub fn command_line(module: &str, args: &Args) -> Result<String, String> {
    let base = match (
        args.str("_raw_params").or_else(|| args.str("cmd")),
        args.0.get("argv"),
    ) {
        (_, Some(serde_json::Value::Array(words))) => words
            .iter()
            .map(|w| quote(&w.as_str().map_or_else(|| w.to_string(), str::to_string)))
            .collect::<Vec<_>>()
            .join(" "),
        (Some(cmd), _) => cmd,
        (None, _) => {
            return Err(format!(
                "{module} needs a command (free form, `cmd` or `argv`)"
            ));
        }
    };
    let base = match args.str("executable") {
        Some(sh) if module == "shell" => format!("{} -c {}", quote(&sh), quote(&base)),
        _ => base,
    };
    Ok(match args.str("chdir") {
        Some(dir) => format!("cd {} && {base}", quote(&dir)),
        None => base,
    })
}

pub async fn run(module: &str, args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    if let Some(path) = args.str("creates")
        && exists(ctx, &path).await
    {
        return Outcome {
            skipped: true,
            msg: format!("{path} exists"),
            ..Outcome::default()
        };
    }
    if let Some(path) = args.str("removes")
        && !exists(ctx, &path).await
    {
        return Outcome {
            skipped: true,
            msg: format!("{path} does not exist"),
            ..Outcome::default()
        };
    }
    if ctx.check {
        return Outcome {
            skipped: true,
            msg: "command tasks do not run in check mode".into(),
            ..Outcome::default()
        };
    }
    let line = match command_line(module, args) {
        Ok(l) => l,
        Err(e) => return Outcome::fail(e),
    };
    let stdin = args.str("stdin").map(|s| s + "\n").unwrap_or_default();
    match ctx
        .transport
        .exec(&line, stdin.as_bytes(), ctx.timeout, ctx.sudo)
        .await
    {
        Ok(out) => {
            let stdout = String::from_utf8_lossy(&out.stdout)
                .trim_end_matches('\n')
                .to_string();
            let stderr = String::from_utf8_lossy(&out.stderr)
                .trim_end_matches('\n')
                .to_string();
            let rc = match out.status {
                drover_ssh::ExitStatus::Code(c) => i64::from(c),
                _ => -1,
            };
            let mut o = Outcome {
                changed: true,
                failed: rc != 0,
                ..Outcome::default()
            };
            if rc != 0 {
                o.msg = format!("non-zero return code {rc}");
            }
            o.result.insert("rc".into(), json!(rc));
            o.result.insert(
                "stdout_lines".into(),
                json!(stdout.lines().collect::<Vec<_>>()),
            );
            o.result.insert(
                "stderr_lines".into(),
                json!(stderr.lines().collect::<Vec<_>>()),
            );
            o.result.insert("stdout".into(), json!(stdout));
            o.result.insert("stderr".into(), json!(stderr));
            o.result.insert("cmd".into(), json!(line));
            o
        }
        Err(e) => Outcome::fail(e.to_string()),
    }
}

async fn exists(ctx: &ModuleCtx<'_>, path: &str) -> bool {
    let cmd = format!("[ -e {} ]", quote(path));
    ctx.transport
        .exec(&cmd, b"", ctx.timeout, ctx.sudo)
        .await
        .is_ok_and(|o| o.status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: serde_json::Value) -> Args {
        Args(v.as_object().unwrap().clone())
    }

    #[test]
    fn command_lines_are_exact() {
        assert_eq!(
            command_line(
                "shell",
                &args(json!({"_raw_params": "ls | wc -l", "chdir": "/srv/my app"}))
            )
            .unwrap(),
            "cd '/srv/my app' && ls | wc -l"
        );
        assert_eq!(
            command_line("command", &args(json!({"argv": ["echo", "a b", "$HOME"]}))).unwrap(),
            "echo 'a b' '$HOME'"
        );
        assert_eq!(
            command_line(
                "shell",
                &args(json!({"cmd": "echo $0", "executable": "/bin/bash"}))
            )
            .unwrap(),
            "/bin/bash -c 'echo $0'"
        );
        assert!(command_line("command", &args(json!({}))).is_err());
    }
}
