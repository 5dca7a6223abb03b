//! git_config (community.general): one setting of git's configuration in a scope (system by
//! default, global, local in `repo`, or a `file`), read with `git config --get-all` and set
//! (`--replace-all` or `--add`) or unset (`--unset-all`) only when it differs, as the module
//! decides it.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// What the task asks for.
#[derive(Debug, PartialEq)]
struct Setting {
    /// The folder git runs in: the repository for `local`, else `/`.
    cwd: String,
    /// `git config --includes` and the scope's option.
    base: Vec<String>,
    name: String,
    /// None: unset it.
    value: Option<String>,
    add: bool,
}

impl Setting {
    fn from_args(args: &Args) -> Result<Setting, String> {
        let name = args.str("name").ok_or("needs `name`")?;
        if name.is_empty() || name.starts_with('-') {
            return Err(format!("`name: {name}` is not a setting's name"));
        }
        let scope = args.str("scope").unwrap_or_else(|| "system".into());
        let mut base = vec!["git".to_string(), "config".into(), "--includes".into()];
        let mut cwd = "/".to_string();
        match scope.as_str() {
            "file" => {
                let file = args.str("file").ok_or("scope file needs `file`")?;
                base.extend(["-f".into(), file]);
            }
            "local" => {
                cwd = args.str("repo").ok_or("scope local needs `repo`")?;
                base.push("--local".into());
            }
            "global" | "system" => base.push(format!("--{scope}")),
            other => {
                return Err(format!(
                    "`scope: {other}` is not file, local, global or system"
                ));
            }
        }
        let value = if args.present()? {
            let value = args.str("value").filter(|v| !v.is_empty());
            Some(value.ok_or("If state=present, a value must be specified.")?)
        } else {
            None
        };
        let add = match args.str("add_mode").as_deref().unwrap_or("replace-all") {
            "add" => true,
            "replace-all" => false,
            other => return Err(format!("`add_mode: {other}` is not add or replace-all")),
        };
        Ok(Setting {
            cwd,
            base,
            name,
            value,
            add,
        })
    }

    /// `words` run in the setting's folder, in the C locale, as the module runs git.
    fn line(&self, words: &[String]) -> String {
        let words: Vec<String> = self.base.iter().chain(words).map(|w| quote(w)).collect();
        format!("cd {} && LC_ALL=C {}", quote(&self.cwd), words.join(" "))
    }

    /// Reads the values; exit code 1 (not set) is no error, so the status is printed last.
    fn read(&self) -> String {
        format!(
            "{}; echo \"rc=$?\"",
            self.line(&["--get-all".into(), self.name.clone()])
        )
    }

    /// The change to make, when the values read (`old`) are not already as asked.
    fn change(&self, old: &[&str]) -> Option<String> {
        let words = match &self.value {
            None if old.is_empty() => return None,
            None => vec!["--unset-all".to_string(), self.name.clone()],
            Some(v) if old.contains(&v.as_str()) && (old.len() == 1 || self.add) => return None,
            Some(v) => {
                let mode = if self.add { "--add" } else { "--replace-all" };
                vec![mode.to_string(), self.name.clone(), v.clone()]
            }
        };
        Some(self.line(&words))
    }
}

/// The values and git's exit code from what [`Setting::read`] printed.
fn parse_read(out: &str) -> (Vec<&str>, i32) {
    let mut lines: Vec<&str> = out.lines().collect();
    let rc = lines
        .pop()
        .and_then(|l| l.strip_prefix("rc="))
        .and_then(|c| c.parse().ok())
        .unwrap_or(2);
    (lines, rc)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let setting = match Setting::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(format!("git_config: {e}")),
    };
    let out = match ctx.exec(&setting.read(), b"").await {
        Ok(out) => out,
        Err(e) => return Outcome::fail(e.to_string()),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let (old, rc) = parse_read(&text);
    if rc >= 2 {
        return Outcome::fail(format!(
            "git_config: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let Some(change) = setting.change(&old) else {
        return Outcome::default();
    };
    ctx.make_change(&change, b"", "git_config").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;
    use serde_json::json;

    fn setting(v: serde_json::Value) -> Setting {
        Setting::from_args(&args(v)).unwrap()
    }

    #[test]
    fn settings_change_only_where_they_differ_as_the_module_decides() {
        let s = setting(json!({"name": "user.name", "value": "Ops Team", "scope": "global"}));
        assert_eq!(
            s.read(),
            "cd / && LC_ALL=C git config --includes --global --get-all user.name; echo \"rc=$?\""
        );
        assert_eq!(s.change(&["Ops Team"]), None);
        assert_eq!(
            s.change(&["Ops Team", "Other"]).unwrap(),
            "cd / && LC_ALL=C git config --includes --global --replace-all user.name 'Ops Team'"
        );
        let added = setting(
            json!({"name": "safe.directory", "value": "/srv/a", "add_mode": "add", "scope": "file", "file": "/etc/x.conf"}),
        );
        assert_eq!(added.change(&["/srv/b", "/srv/a"]), None);
        assert!(
            added
                .change(&["/srv/b"])
                .unwrap()
                .ends_with("-f /etc/x.conf --add safe.directory /srv/a")
        );
        let gone = setting(
            json!({"name": "core.editor", "state": "absent", "scope": "local", "repo": "/srv/app"}),
        );
        assert_eq!(gone.change(&[]), None);
        assert_eq!(
            gone.change(&["vim"]).unwrap(),
            "cd /srv/app && LC_ALL=C git config --includes --local --unset-all core.editor"
        );
        assert!(Setting::from_args(&args(json!({"name": "a.b"}))).is_err());
        assert!(
            Setting::from_args(&args(
                json!({"name": "a.b", "value": "x", "scope": "local"})
            ))
            .is_err()
        );
        assert_eq!(parse_read("x\ny\nrc=0\n"), (vec!["x", "y"], 0));
        assert_eq!(parse_read("rc=1\n"), (vec![], 1));
    }
}
