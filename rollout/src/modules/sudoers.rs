//! sudoers (community.general): one rule in a file of /etc/sudoers.d, written as the module
//! writes it (`USER HOST=(RUNAS)NOEXEC:NOPASSWD:SETENV: COMMANDS`, mode 0440) when its content or
//! mode differs, checked first with `visudo -c` (`validation: detect` when visudo is there,
//! `required`, or `absent`); `state: absent` removes the file. One round trip.

use drover_ssh::shell::{quote, temp_path, write_via};

use super::{Args, ModuleCtx, Outcome};

/// The rule's line, as community.general's sudoers formats it.
fn rule(args: &Args) -> Result<String, String> {
    let owner = match (args.str("user"), args.str("group")) {
        (Some(_), Some(_)) => return Err("`user` and `group` are mutually exclusive".into()),
        (Some(user), None) => user,
        (None, Some(group)) => format!("%{group}"),
        (None, None) => return Err("state present needs `user` or `group`".into()),
    };
    let commands = args.list("commands");
    if commands.is_empty() {
        return Err("state present needs `commands`".into());
    }
    let flag = |key: &str, default: bool, text: &'static str| {
        if args.bool(key).unwrap_or(default) {
            text
        } else {
            ""
        }
    };
    let runas = args
        .str("runas")
        .map(|r| format!("({r})"))
        .unwrap_or_default();
    Ok(format!(
        "{owner} {host}={runas}{noexec}{nopasswd}{setenv} {commands}\n",
        host = args.str("host").unwrap_or_else(|| "ALL".into()),
        noexec = flag("noexec", false, "NOEXEC:"),
        nopasswd = flag("nopassword", true, "NOPASSWD:"),
        setenv = flag("setenv", false, "SETENV:"),
        commands = commands.join(", "),
    ))
}

/// The rule's file: `name` in `sudoers_path`.
fn file(args: &Args) -> Result<String, String> {
    let name = args.str("name").ok_or("sudoers needs `name`")?;
    if name.is_empty() || name.contains('/') {
        return Err(format!("`name: {name}` is not a file name"));
    }
    let dir = args
        .str("sudoers_path")
        .unwrap_or_else(|| "/etc/sudoers.d".into());
    Ok(format!("{}/{name}", dir.trim_end_matches('/')))
}

/// The script; the rule's line comes on standard input. Prints `changed` when it changed (in
/// check mode: would change) the file.
pub fn command(args: &Args, check: bool) -> Result<(String, String), String> {
    let path = file(args)?;
    let f = quote(&path);
    if !args.present()? {
        let act = if check {
            "echo changed".to_string()
        } else {
            format!("rm -f -- {f} && echo changed")
        };
        return Ok((format!("if [ -e {f} ]; then {act}; fi"), String::new()));
    }
    let line = rule(args)?;
    let validate = match args.str("validation").as_deref().unwrap_or("detect") {
        "absent" => String::new(),
        "detect" => {
            "if command -v visudo >/dev/null 2>&1; then visudo -c -f \"$t\" >&2 || exit 1; fi; "
                .into()
        }
        "required" => "visudo -c -f \"$t\" >&2 || exit 1; ".into(),
        other => {
            return Err(format!(
                "`validation: {other}` is not absent, detect or required"
            ));
        }
    };
    let write = if check {
        "echo changed".to_string()
    } else {
        format!(
            "{{ {}; }} < \"$t\" && echo changed",
            write_via(&path, &temp_path(&path), "440", None)
        )
    };
    // The rule is checked by visudo from a private copy, then compared with the file (content
    // and mode 0440, as the module compares them) before anything is written.
    Ok((
        format!(
            "t=$(mktemp) || exit 1; trap 'rm -f -- \"$t\"' EXIT; cat > \"$t\" || exit 1; {validate}\
             if [ -f {f} ] && cmp -s -- \"$t\" {f} && [ \"$(stat -c %a -- {f})\" = 440 ]; then exit 0; fi; {write}"
        ),
        line,
    ))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    match command(args, ctx.check) {
        Ok((script, line)) => ctx.change_script(&script, line.as_bytes(), "sudoers").await,
        Err(e) => Outcome::bad_input(format!("sudoers: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;
    use serde_json::json;

    #[test]
    fn rules_are_written_as_the_module_writes_them() {
        let line = |v| rule(&args(v)).unwrap();
        assert_eq!(
            line(
                json!({"name": "x", "user": "deploy", "commands": ["/usr/bin/systemctl restart app", "/bin/true"]})
            ),
            "deploy ALL=NOPASSWD: /usr/bin/systemctl restart app, /bin/true\n"
        );
        assert_eq!(
            line(
                json!({"name": "x", "group": "ops", "commands": "ALL", "nopassword": false, "runas": "root", "setenv": true, "noexec": true, "host": "web"})
            ),
            "%ops web=(root)NOEXEC:SETENV: ALL\n"
        );
        assert!(
            rule(&args(
                json!({"name": "x", "user": "a", "group": "b", "commands": "ALL"})
            ))
            .is_err()
        );
        assert!(rule(&args(json!({"name": "x", "user": "a"}))).is_err());
        assert!(file(&args(json!({"name": "../x"}))).is_err());
        assert_eq!(
            file(&args(
                json!({"name": "91-app", "sudoers_path": "/etc/sudoers.d/"})
            ))
            .unwrap(),
            "/etc/sudoers.d/91-app"
        );
    }
}
