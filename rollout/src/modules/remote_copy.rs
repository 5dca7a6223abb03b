//! `copy` with `remote_src: true`: a file already on the host copied to `dest` on the host, through
//! an exclusive temporary file beside it, only when the contents differ. A new file gets `mode` (or
//! 0644, as a default umask gives); a file already there keeps its mode unless `mode` says otherwise.
//! `validate` checks the temporary file before it replaces `dest`; `backup` keeps the old one as
//! Ansible names it.

use drover_ssh::shell::{quote, temp_path};
use serde_json::json;

use super::files::{WriteOpts, ownership_fix_at, validate_command_var};
use super::{Args, ModuleCtx, Outcome};

/// The shell for the copy; it prints `changed` for each thing it changed (in check mode: would).
pub fn command(
    src: &str,
    dest: &str,
    opts: &WriteOpts,
    owner: (Option<&str>, Option<&str>),
    check: bool,
) -> Result<String, String> {
    let mode = opts.mode.as_ref();
    let name = src.rsplit('/').next().unwrap_or(src);
    let validate = match &opts.validate {
        Some(v) => format!(
            "{{ {} >&2 || {{ echo \"validation of the new $d failed: {}\" >&2; false; }}; }} && ",
            validate_command_var(v, "t")?,
            v.replace(['"', '\\', '$', '`'], "")
        ),
        None => String::new(),
    };
    let backup = if opts.backup {
        "b=; if [ -f \"$d\" ]; then b=\"$d\".$$.$(date +%Y-%m-%d@%H:%M:%S)~; cp -p -- \"$d\" \"$b\" || exit 1; echo \"backup $b\"; fi; "
    } else {
        ""
    };
    let copy = if check {
        "echo changed".to_string()
    } else {
        format!(
            "m=$([ -e \"$d\" ] && stat -L -c %a -- \"$d\" || echo 644) && {new}t=\"$(dirname -- \"$d\")/{tmp}\" && \
             (umask 077; set -C; : > \"$t\") && {{ cat -- \"$s\" > \"$t\" && chmod \"$m\" \"$t\" && {validate}{{ {backup}mv -f -- \"$t\" \"$d\"; }} && echo changed || {{ rm -f -- \"$t\"; exit 1; }}; }}",
            new = mode.map_or_else(String::new, |m| format!("m={} && ", m.resolved("$m"))),
            tmp = temp_path(name).trim_start_matches("./"),
        )
    };
    let act = |cmd: String| {
        if check {
            "echo changed".to_string()
        } else {
            format!("{cmd} && echo changed")
        }
    };
    let mode_fix = mode.map_or_else(String::new, |m| {
        let w = m.resolved("$(stat -L -c %a -- \"$d\")");
        let fix = act(format!("chmod {w} -- \"$d\""));
        let present = if check { "[ ! -e \"$d\" ] || " } else { "" };
        format!("; {{ {present}[ \"$(stat -L -c %a -- \"$d\")\" = {w} ] || {{ {fix}; }}; }}")
    });
    let owner_fix =
        ownership_fix_at("\"$d\"", owner.0, owner.1, act).map_or_else(String::new, |f| {
            let present = if check { "[ ! -e \"$d\" ] || " } else { "" };
            format!("; {{ {present}{f}; }}")
        });
    Ok(format!(
        "s={}; d={}; [ -d \"$d\" ] && d=\"$d\"/{}; [ -f \"$s\" ] || {{ echo \"$s is not a file on the host\" >&2; exit 1; }}; \
         if [ -f \"$d\" ] && cmp -s -- \"$s\" \"$d\"; then :; else {copy}; fi{mode_fix}{owner_fix}",
        quote(src),
        quote(dest),
        quote(name)
    ))
}

pub async fn run(dest: &str, opts: &WriteOpts, args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(src) = args.str("src") else {
        return Outcome::bad_input("copy with remote_src needs `src`, a file on the host");
    };
    let (owner, group) = (args.str("owner"), args.str("group"));
    let cmd = match command(
        &src,
        dest,
        opts,
        (owner.as_deref(), group.as_deref()),
        ctx.check,
    ) {
        Ok(c) => c,
        Err(e) => return Outcome::bad_input(format!("copy: {e}")),
    };
    let what = format!("copy {src} to {dest} on the host");
    let stdout = match ctx.output_of(&cmd, &what).await {
        Ok(o) => o,
        Err(e) => return Outcome::fail(e),
    };
    let mut out = Outcome {
        changed: super::reports_change(&stdout),
        ..Outcome::default()
    };
    if let Some(b) = String::from_utf8_lossy(&stdout)
        .lines()
        .find_map(|l| l.strip_prefix("backup "))
    {
        out.result.insert("backup_file".into(), json!(b));
    }
    out.result.insert("src".into(), json!(src));
    out.result.insert("dest".into(), json!(dest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::files::FileMode;

    fn mode(m: Option<u32>) -> WriteOpts {
        WriteOpts {
            mode: m.map(FileMode::Octal),
            ..WriteOpts::default()
        }
    }

    #[test]
    fn the_command_copies_only_what_differs_through_an_exclusive_temp_file() {
        let cmd = command(
            "/etc/app/a b.conf",
            "/srv/",
            &mode(Some(0o640)),
            (Some("app"), None),
            false,
        )
        .unwrap();
        assert!(cmd.starts_with("s='/etc/app/a b.conf'; d=/srv/; [ -d \"$d\" ] && d=\"$d\"/'a b.conf'; [ -f \"$s\" ] || { echo \"$s is not a file on the host\" >&2; exit 1; }; if [ -f \"$d\" ] && cmp -s -- \"$s\" \"$d\"; then :; else m=$([ -e \"$d\" ] && stat -L -c %a -- \"$d\" || echo 644) && m=640 && t=\"$(dirname -- \"$d\")/.a b.conf.drover-"), "{cmd}");
        assert!(cmd.contains("(umask 077; set -C; : > \"$t\") && { cat -- \"$s\" > \"$t\" && chmod \"$m\" \"$t\" && { mv -f -- \"$t\" \"$d\"; } && echo changed || { rm -f -- \"$t\"; exit 1; }; }; fi"), "{cmd}");
        assert!(cmd.contains("; { [ \"$(stat -L -c %a -- \"$d\")\" = 640 ] || { chmod 640 -- \"$d\" && echo changed; }; }"), "{cmd}");
        assert!(cmd.contains("cur=$(stat -L -c %U:%G -- \"$d\") && case \"$cur\" in app:*) ;; *) chown app -- \"$d\" && echo changed ;; esac"), "{cmd}");
        let checked = command("/a", "/b", &mode(None), (None, None), true).unwrap();
        assert!(
            checked.ends_with("then :; else echo changed; fi"),
            "{checked}"
        );
    }

    #[test]
    fn validate_checks_the_new_file_and_backup_keeps_the_old() {
        let opts = WriteOpts {
            mode: None,
            backup: true,
            validate: Some("visudo -cf %s".into()),
        };
        let cmd = command(
            "/tmp/sudoers.new",
            "/etc/sudoers.d/ops",
            &opts,
            (None, None),
            false,
        )
        .unwrap();
        assert!(cmd.contains("chmod \"$m\" \"$t\" && { visudo -cf \"$t\" >&2 || { echo \"validation of the new $d failed: visudo -cf %s\" >&2; false; }; } && { b=; if [ -f \"$d\" ]; then b=\"$d\".$$.$(date +%Y-%m-%d@%H:%M:%S)~; cp -p -- \"$d\" \"$b\" || exit 1; echo \"backup $b\"; fi; mv -f -- \"$t\" \"$d\"; } && echo changed"), "{cmd}");
    }
}
