//! command, shell and raw. `shell` (and `raw`) hand their text to the remote shell; `command` never does: its
//! words (Ansible's shlex split of the free form, or `argv`) are quoted one by one, so `;`, `|`,
//! `$( )`, backticks, redirections and newlines reach the program as plain arguments, whatever a
//! variable, loop item or registered output put into them. Only what Ansible's `command` expands
//! itself is expanded: a leading `~` and `$NAME` from the environment. In check mode both are
//! skipped, as in Ansible.

use drover_roles::ModuleKind;
use drover_ssh::shell::{command_word, quote, split_words};
use serde_json::json;

use super::{Args, ModuleCtx, Outcome};

/// The program and its arguments of a `command` task: `argv`, or the free form split as Ansible
/// splits it.
pub fn command_argv(args: &Args) -> Result<Vec<String>, String> {
    if let Some(words) = args.0.get("argv") {
        let serde_json::Value::Array(words) = words else {
            return Err("command: `argv` must be a list of words".into());
        };
        return Ok(words
            .iter()
            .map(|w| w.as_str().map_or_else(|| w.to_string(), str::to_string))
            .collect());
    }
    let text = args
        .str("_raw_params")
        .or_else(|| args.str("cmd"))
        .ok_or("command needs a command (free form, `cmd` or `argv`)")?;
    let words = split_words(&text).map_err(|e| format!("command: cannot split `{text}`: {e}"))?;
    if words.is_empty() {
        return Err("command: the command is empty".into());
    }
    Ok(words)
}

/// The command line to run, with `chdir` folded in. For `command`, every word is quoted; for
/// `shell`, the text goes to the shell (or to `executable -c`).
pub fn command_line(module: ModuleKind, args: &Args) -> Result<String, String> {
    let base = if matches!(module, ModuleKind::Shell | ModuleKind::Raw) {
        let text = args
            .str("_raw_params")
            .or_else(|| args.str("cmd"))
            .ok_or("shell needs a command (free form or `cmd`)")?;
        match args.str("executable") {
            Some(sh) => format!("{} -c {}", quote(&sh), quote(&text)),
            None => text,
        }
    } else {
        command_argv(args)?
            .iter()
            .map(|w| command_word(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    Ok(match args.str("chdir") {
        Some(dir) => drover_ssh::shell::in_folder(&dir, &base),
        None => base,
    })
}

/// The command line to run, or the outcome when nothing runs: `creates` exists, `removes` does
/// not, check mode, or a command that cannot be read.
pub async fn line_to_run(
    module: ModuleKind,
    args: &Args,
    ctx: &ModuleCtx<'_>,
) -> Result<String, Outcome> {
    gate(args, ctx).await?;
    command_line(module, args).map_err(Outcome::fail)
}

/// Whether a command runs at all: not when `creates` exists, `removes` does not, or in check
/// mode; the outcome to report then.
pub(crate) async fn gate(args: &Args, ctx: &ModuleCtx<'_>) -> Result<(), Outcome> {
    if let Some(path) = args.str("creates")
        && exists(ctx, &path).await
    {
        return Err(Outcome {
            skipped: true,
            msg: format!("{path} exists"),
            ..Outcome::default()
        });
    }
    if let Some(path) = args.str("removes")
        && !exists(ctx, &path).await
    {
        return Err(Outcome {
            skipped: true,
            msg: format!("{path} does not exist"),
            ..Outcome::default()
        });
    }
    if ctx.check {
        return Err(Outcome {
            skipped: true,
            msg: "command tasks do not run in check mode".into(),
            ..Outcome::default()
        });
    }
    Ok(())
}

/// The free form of `script`: the script (a path on the controller) and the rest of the line, its
/// arguments, given to the remote shell as Ansible gives them.
pub fn script_parts(args: &Args) -> Result<(String, String), String> {
    let text = args
        .str("_raw_params")
        .or_else(|| args.str("cmd"))
        .ok_or("script needs a script (free form or `cmd`)")?;
    let text = text.trim();
    let words = split_words(text).map_err(|e| format!("script: cannot split `{text}`: {e}"))?;
    let script = words.first().ok_or("script: the script is empty")?.clone();
    // The arguments as written (quotes kept), after the first word however it was quoted.
    let rest = match text.strip_prefix(script.as_str()) {
        Some(rest) => rest.trim_start().to_string(),
        None => words[1..]
            .iter()
            .map(|w| quote(w))
            .collect::<Vec<_>>()
            .join(" "),
    };
    Ok((script, rest))
}

/// The remote side of `script`: the script arrives on standard input into a private folder made
/// by mktemp, runs (in `chdir`, with `executable` when given) with `rest` as its arguments through
/// the shell, and the folder goes whatever happens.
pub fn script_line(
    name: &str,
    rest: &str,
    chdir: Option<&str>,
    executable: Option<&str>,
) -> String {
    let file = format!("\"$d\"/{}", quote(name));
    let run = match executable {
        Some(e) => format!("{} {file}", quote(e)),
        None => file.clone(),
    };
    let cd = chdir.map_or_else(String::new, |d| format!("cd {} && ", quote(d)));
    let args = if rest.is_empty() {
        String::new()
    } else {
        format!(" {rest}")
    };
    format!(
        "d=$(mktemp -d) || exit 1; trap 'rm -rf \"$d\"' EXIT; cat > {file} && chmod 700 {file} && {cd}{run}{args} < /dev/null"
    )
}

/// `script`: the controller's script run on the host, reported as `command` reports.
pub async fn script(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let (script, rest) = match script_parts(args) {
        Ok(p) => p,
        Err(e) => return Outcome::bad_input(e),
    };
    let Some(path) = drover_roles::resolve_file(&script, "files", ctx.search) else {
        return Outcome::fail(format!(
            "script `{script}` not found under files/ or beside the playbook"
        ));
    };
    let body = if args.bool("decrypt") == Some(false) {
        std::fs::read(&path).map_err(|e| e.to_string())
    } else {
        drover_vault::read(&path).map_err(|e| e.to_string())
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => return Outcome::fail(format!("{}: {e}", path.display())),
    };
    if let Err(skipped) = gate(args, ctx).await {
        return skipped;
    }
    let name = path
        .file_name()
        .map_or_else(|| "script".into(), |n| n.to_string_lossy().into_owned());
    let line = script_line(
        &name,
        &rest,
        args.str("chdir").as_deref(),
        args.str("executable").as_deref(),
    );
    match ctx.exec(&line, &body).await {
        Ok(out) => ran(&out, true),
        Err(e) => Outcome::fail(e.to_string()),
    }
}

pub async fn run(module: ModuleKind, args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let line = match line_to_run(module, args, ctx).await {
        Ok(l) => l,
        Err(skipped_or_failed) => return skipped_or_failed,
    };
    let newline = if args.bool("stdin_add_newline") == Some(false) {
        ""
    } else {
        "\n"
    };
    let stdin = args.str("stdin").map(|s| s + newline).unwrap_or_default();
    match ctx.exec(&line, stdin.as_bytes()).await {
        Ok(out) => {
            // `strip_empty_ends: false` keeps the output's trailing newlines (Ansible strips them).
            let mut o = ran(&out, args.bool("strip_empty_ends") != Some(false));
            o.result
                .insert("cmd".into(), registered_cmd(module, args, &line));
            o
        }
        Err(e) => Outcome::fail(e.to_string()),
    }
}

/// A command's output as [`finished`] reports it, its trailing line ends stripped (`strip`) as
/// Ansible strips them.
pub(crate) fn ran(out: &drover_ssh::Output, strip: bool) -> Outcome {
    let text = |b: &[u8]| {
        let text = String::from_utf8_lossy(b);
        if strip {
            text.trim_end_matches(['\r', '\n']).to_string()
        } else {
            text.into_owned()
        }
    };
    let rc = match out.status {
        drover_ssh::ExitStatus::Code(c) => i64::from(c),
        _ => -1,
    };
    finished(rc, &text(&out.stdout), &text(&out.stderr))
}

/// A command that ran: changed, failed unless `rc` is 0, its `rc`, `stdout`, `stderr` and their
/// lines registered as Ansible's command module registers them.
pub fn finished(rc: i64, stdout: &str, stderr: &str) -> Outcome {
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
    o
}

/// `cmd` as Ansible registers it: the list of words for `command`, the text for `shell`.
fn registered_cmd(module: ModuleKind, args: &Args, line: &str) -> serde_json::Value {
    match (module, command_argv(args)) {
        (ModuleKind::Command, Ok(words)) => json!(words),
        _ => json!(
            args.str("_raw_params")
                .or_else(|| args.str("cmd"))
                .unwrap_or_else(|| line.to_string())
        ),
    }
}

async fn exists(ctx: &ModuleCtx<'_>, path: &str) -> bool {
    let cmd = format!("[ -e {} ]", quote(path));
    ctx.exec(&cmd, b"").await.is_ok_and(|o| o.status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::modules::args;

    #[test]
    fn a_script_runs_from_a_private_folder_with_its_arguments_through_the_shell() {
        let (script, rest) = script_parts(&args(
            json!({"_raw_params": "files/setup.sh --name 'a b' $HOME"}),
        ))
        .unwrap();
        assert_eq!(
            (script.as_str(), rest.as_str()),
            ("files/setup.sh", "--name 'a b' $HOME")
        );
        assert_eq!(
            script_line("set up.sh", &rest, Some("/srv/app"), Some("/bin/bash")),
            "d=$(mktemp -d) || exit 1; trap 'rm -rf \"$d\"' EXIT; cat > \"$d\"/'set up.sh' && chmod 700 \"$d\"/'set up.sh' && \
             cd /srv/app && /bin/bash \"$d\"/'set up.sh' --name 'a b' $HOME < /dev/null"
        );
        assert!(script_parts(&args(json!({"_raw_params": "  "}))).is_err());
    }

    #[test]
    fn command_lines_are_exact() {
        assert_eq!(
            command_line(
                ModuleKind::Shell,
                &args(json!({"_raw_params": "ls | wc -l", "chdir": "/srv/my app"}))
            )
            .unwrap(),
            "cd '/srv/my app' && {\nls | wc -l\n}"
        );
        // argv words are expanded as Ansible's run_command expands them, never split again.
        assert_eq!(
            command_line(
                ModuleKind::Command,
                &args(json!({"argv": ["echo", "a b;c", "$HOME"]}))
            )
            .unwrap(),
            r#"echo 'a b;c' "${HOME-\$HOME}""#
        );
        assert_eq!(
            command_line(
                ModuleKind::Shell,
                &args(json!({"cmd": "echo $0", "executable": "/bin/bash"}))
            )
            .unwrap(),
            "/bin/bash -c 'echo $0'"
        );
        assert!(command_line(ModuleKind::Command, &args(json!({}))).is_err());
        assert!(command_line(ModuleKind::Command, &args(json!({"_raw_params": "  "}))).is_err());
        assert!(
            command_line(
                ModuleKind::Command,
                &args(json!({"_raw_params": "echo 'a"}))
            )
            .is_err()
        );
    }

    #[test]
    fn command_never_hands_shell_syntax_to_the_shell() {
        let line = |text: &str| {
            command_line(ModuleKind::Command, &args(json!({ "_raw_params": text }))).unwrap()
        };
        assert_eq!(line("echo a; touch /x"), "echo 'a;' touch /x");
        assert_eq!(
            line("echo $(id) `id` a|b a&&b"),
            "echo '$(id)' '`id`' 'a|b' 'a&&b'"
        );
        assert_eq!(
            line("echo 'two words' \"$HOME/x\""),
            "echo 'two words' \"${HOME-\\$HOME}\"/x"
        );
        assert_eq!(line("ls ~/a *.txt"), "ls ~/a '*.txt'");
        assert_eq!(
            command_line(
                ModuleKind::Command,
                &args(json!({"cmd": "cat /etc/os-release", "chdir": "/"}))
            )
            .unwrap(),
            "cd / && {\ncat /etc/os-release\n}"
        );
    }
}
