//! zypper_repository: an openSUSE repository as zypper keeps it, a file
//! /etc/zypp/repos.d/NAME.repo, written whole with the task's settings (so a second run changes
//! nothing and --diff shows the file), then `zypper refresh` of it where the task asks (`runrefresh`,
//! or `auto_import_keys` after a change). Like zypper, this runs on openSUSE hosts only: drover's
//! test fleet is Debian (see foreign_packages.rs).

use drover_ssh::shell::quote;

use super::files::{FileTarget, WriteOpts, ensure_content};
use super::{Args, ModuleCtx, Outcome};

/// The repository file zypper reads for the task.
pub fn repo_file(args: &Args) -> Result<String, String> {
    let name = args.str("name").ok_or("zypper_repository needs `name`")?;
    let url = args
        .str("repo")
        .ok_or("zypper_repository: state is present but `repo` is missing")?;
    if url.ends_with(".repo") {
        return Err("zypper_repository: a `.repo` file as `repo` is not supported; give the repository's URL (and its settings as parameters)".into());
    }
    let bit = |key: &str, default: bool| u8::from(args.bool(key).unwrap_or(default));
    let mut text = format!(
        "[{name}]\nname={}\nenabled={}\nautorefresh={}\nbaseurl={url}\n",
        args.str("description").unwrap_or_else(|| name.clone()),
        bit("enabled", true),
        bit("autorefresh", true),
    );
    if let Some(p) = args.str("priority") {
        if !p.parse::<u32>().is_ok_and(|p| (1..=200).contains(&p)) {
            return Err(format!(
                "zypper_repository: `priority: {p}` is not 1 to 200"
            ));
        }
        text.push_str(&format!("priority={p}\n"));
    }
    text.push_str(&format!(
        "gpgcheck={}\n",
        1 - bit("disable_gpg_check", false)
    ));
    Ok(text)
}

/// The refresh after the file: with keys imported when `auto_import_keys`.
pub fn refresh_command(name: &str, import_keys: bool) -> String {
    let keys = if import_keys {
        " --gpg-auto-import-keys"
    } else {
        ""
    };
    format!("zypper -n{keys} refresh {}", quote(name))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(name) = args.str("name") else {
        return Outcome::bad_input("zypper_repository needs `name`");
    };
    if name.contains('/') {
        return Outcome::bad_input("zypper_repository: `name` names a file: no `/` in it");
    }
    let path = format!("/etc/zypp/repos.d/{name}.repo");
    let mut out = match args.str("state").as_deref() {
        None | Some("present") => {
            let text = match repo_file(args) {
                Ok(t) => t,
                Err(e) => return Outcome::bad_input(e),
            };
            let target = FileTarget {
                path: path.clone(),
                write: WriteOpts {
                    mode: Some(super::files::FileMode::Octal(0o644)),
                    ..WriteOpts::default()
                },
                ..FileTarget::default()
            };
            ensure_content(ctx, &target, text.as_bytes()).await
        }
        Some("absent") => {
            let p = quote(&path);
            let rm = if ctx.check {
                String::new()
            } else {
                format!("rm -f -- {p} && ")
            };
            let cmd = format!("if [ -e {p} ]; then {rm}echo changed; fi");
            match ctx.output_of(&cmd, "zypper_repository").await {
                Ok(o) => Outcome {
                    changed: super::reports_change(&o),
                    ..Outcome::default()
                },
                Err(e) => Outcome::fail(e),
            }
        }
        Some(other) => {
            return Outcome::bad_input(format!(
                "zypper_repository: `state: {other}` is not present or absent"
            ));
        }
    };
    let import_keys = args.bool("auto_import_keys") == Some(true);
    let refresh = args.bool("runrefresh") == Some(true) || (import_keys && out.changed);
    if !out.failed
        && refresh
        && !ctx.check
        && args.str("state").as_deref() != Some("absent")
        && let Err(e) = ctx
            .output_of(&refresh_command(&name, import_keys), "zypper_repository")
            .await
    {
        out = Outcome::fail(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::modules::args;

    #[test]
    fn the_repository_file_holds_every_setting() {
        assert_eq!(
            repo_file(&args(json!({"name": "docker-ce", "repo": "https://download.docker.com/linux/sles/15/x86_64/stable", "priority": 90, "autorefresh": false, "disable_gpg_check": true, "description": "Docker CE"}))).unwrap(),
            "[docker-ce]\nname=Docker CE\nenabled=1\nautorefresh=0\nbaseurl=https://download.docker.com/linux/sles/15/x86_64/stable\npriority=90\ngpgcheck=0\n"
        );
        assert_eq!(
            repo_file(&args(
                json!({"name": "x", "repo": "http://r", "enabled": false})
            ))
            .unwrap(),
            "[x]\nname=x\nenabled=0\nautorefresh=1\nbaseurl=http://r\ngpgcheck=1\n"
        );
        assert!(repo_file(&args(json!({"name": "x", "repo": "http://r/x.repo"}))).is_err());
        assert!(
            repo_file(&args(
                json!({"name": "x", "repo": "http://r", "priority": 0})
            ))
            .is_err()
        );
        assert_eq!(
            refresh_command("docker-ce", true),
            "zypper -n --gpg-auto-import-keys refresh docker-ce"
        );
    }
}
