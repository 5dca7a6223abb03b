//! pip: Python packages installed with the host's pip (or in a virtualenv the task names, made
//! first with `virtualenv_command`), as Ansible's pip module does. drover itself needs no Python on
//! the host; this module is for hosts whose roles install Python software. Changed when the set of
//! installed packages changed (`pip freeze` before and after), so a second run reports ok.

use drover_ssh::shell::{quote, split_words};

use super::{Args, ModuleCtx, Outcome};

/// What the task wants of its packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Present,
    Latest,
    Absent,
    ForceReinstall,
}

/// The task, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub names: Vec<String>,
    pub requirements: Option<String>,
    pub state: State,
    pub virtualenv: Option<String>,
    /// The virtualenv command's words.
    pub venv_command: Vec<String>,
    pub venv_python: Option<String>,
    pub venv_site_packages: bool,
    pub extra: Vec<String>,
    pub executable: Option<String>,
    pub chdir: Option<String>,
    pub editable: bool,
}

/// A requirement's bare name (what `pip show` takes), or None when it is a path, URL or has a
/// version specifier (pip decides then).
fn bare_name(req: &str) -> Option<&str> {
    let ok = !req.is_empty()
        && req
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(req)
}

impl Spec {
    pub fn from_args(args: &Args) -> Result<Spec, String> {
        let mut names = args.list("name");
        let state = match args.str("state").as_deref() {
            None | Some("present") => State::Present,
            Some("latest") => State::Latest,
            Some("absent") => State::Absent,
            Some("forcereinstall") => State::ForceReinstall,
            Some(other) => {
                return Err(format!(
                    "pip: `state: {other}` is not present, latest, absent or forcereinstall"
                ));
            }
        };
        if let Some(v) = args.str("version") {
            match names.as_mut_slice() {
                [one] => *one = format!("{one}=={v}"),
                _ => return Err("pip: `version` goes with exactly one `name`".into()),
            }
        }
        let requirements = args.str("requirements");
        if names.is_empty() && requirements.is_none() {
            return Err("pip needs `name` or `requirements`".into());
        }
        let words = |key: &str, default: &str| -> Result<Vec<String>, String> {
            let text = args.str(key).unwrap_or_else(|| default.to_string());
            split_words(&text).map_err(|e| format!("pip: `{key}`: {e}"))
        };
        let virtualenv = args.str("virtualenv");
        if virtualenv.is_some() && args.str("executable").is_some() {
            return Err("pip: give `virtualenv` or `executable`, not both".into());
        }
        Ok(Spec {
            names,
            requirements,
            state,
            virtualenv,
            venv_command: words("virtualenv_command", "virtualenv")?,
            venv_python: args.str("virtualenv_python"),
            venv_site_packages: args.bool("virtualenv_site_packages") == Some(true),
            extra: {
                let mut e = words("extra_args", "")?;
                if args.bool("break_system_packages") == Some(true) {
                    e.push("--break-system-packages".into());
                }
                e
            },
            executable: args.str("executable"),
            chdir: args.str("chdir"),
            editable: args.bool("editable") == Some(true),
        })
    }

    /// The script: prints `changed` when the virtualenv was made or the packages changed (or would).
    pub fn command(&self, check: bool) -> String {
        let mut s = String::new();
        if let Some(dir) = &self.chdir {
            s.push_str(&format!("cd {} || exit 1; ", quote(dir)));
        }
        match (&self.virtualenv, &self.executable) {
            (Some(venv), _) => {
                let v = quote(venv);
                let mut make: Vec<String> = self.venv_command.iter().map(|w| quote(w)).collect();
                let is_venv_module = self.venv_command.iter().any(|w| w == "venv");
                if self.venv_site_packages {
                    make.push("--system-site-packages".into());
                }
                if let (Some(py), false) = (&self.venv_python, is_venv_module) {
                    make.push(format!("-p {}", quote(py)));
                }
                let act = if check {
                    "echo changed; exit 0".to_string()
                } else {
                    format!("{} {v} >/dev/null || exit 1; echo changed", make.join(" "))
                };
                s.push_str(&format!(
                    "if [ ! -x {v}/bin/python ]; then {act}; fi; pip={v}/bin/pip; "
                ));
            }
            (None, Some(exe)) => s.push_str(&format!("pip={}; ", quote(exe))),
            (None, None) => s.push_str("pip=$(command -v pip3 || command -v pip); "),
        }
        s.push_str("[ -n \"$pip\" ] || { echo 'this host has no pip: install python3-pip first, or name a virtualenv' >&2; exit 1; }; ");
        s.push_str("snap() { \"$pip\" freeze --all 2>/dev/null | LC_ALL=C sort | cksum; }; before=$(snap); ");
        let extra: String = self
            .extra
            .iter()
            .map(|w| format!(" {}", quote(w)))
            .collect();
        let e = if self.editable { " -e" } else { "" };
        let names: String = self
            .names
            .iter()
            .map(|n| format!("{e} {}", quote(n)))
            .collect();
        let req = self
            .requirements
            .as_ref()
            .map(|r| format!(" -r {}", quote(r)))
            .unwrap_or_default();
        let run = |cmd: String| {
            if check {
                "echo changed".to_string()
            } else {
                format!("{{ {cmd} || exit 1; }}")
            }
        };
        match self.state {
            State::Present => {
                // Only what is missing goes to pip; a path, URL or version specifier always does.
                let mut all_bare = true;
                let mut test = String::from("missing=");
                for n in &self.names {
                    match bare_name(n) {
                        Some(b) => test.push_str(&format!(
                            "; \"$pip\" show -q {} >/dev/null 2>&1 || missing=1",
                            quote(b)
                        )),
                        None => all_bare = false,
                    }
                }
                if !all_bare || self.requirements.is_some() {
                    test.push_str("; missing=1");
                }
                s.push_str(&format!(
                    "{test}; if [ -n \"$missing\" ]; then {}; fi; ",
                    run(format!("\"$pip\" install -q{extra}{names}{req}"))
                ));
            }
            State::Latest => s.push_str(&format!(
                "{}; ",
                run(format!("\"$pip\" install -q -U{extra}{names}{req}"))
            )),
            State::ForceReinstall => s.push_str(&format!(
                "{}; echo changed; ",
                run(format!(
                    "\"$pip\" install -q -U --force-reinstall{extra}{names}{req}"
                ))
            )),
            State::Absent => {
                let mut test = String::from("set --");
                for n in &self.names {
                    let b = bare_name(n).unwrap_or(n);
                    test.push_str(&format!(
                        "; \"$pip\" show -q {q} >/dev/null 2>&1 && set -- \"$@\" {q}",
                        q = quote(b)
                    ));
                }
                s.push_str(&format!(
                    "{test}; if [ $# -gt 0 ]; then {}; fi; ",
                    run(format!("\"$pip\" uninstall -q -y{extra} \"$@\""))
                ));
                if let Some(r) = &self.requirements {
                    s.push_str(&format!(
                        "{}; ",
                        run(format!("\"$pip\" uninstall -q -y -r {}", quote(r)))
                    ));
                }
            }
        }
        s.push_str("[ \"$before\" = \"$(snap)\" ] || echo changed");
        s
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match Spec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let mut out = ctx.run_recorded(&spec.command(ctx.check)).await;
    out.result
        .insert("name".into(), serde_json::json!(spec.names));
    if let Some(v) = &spec.virtualenv {
        out.result.insert("virtualenv".into(), serde_json::json!(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> Spec {
        Spec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn only_missing_packages_go_to_pip() {
        let s = spec(
            json!({"name": ["docker", "requests>=2"], "virtualenv": "/opt/venv", "virtualenv_command": "python3 -m venv"}),
        );
        let c = s.command(false);
        assert!(c.starts_with("if [ ! -x /opt/venv/bin/python ]; then python3 -m venv /opt/venv >/dev/null || exit 1; echo changed; fi; pip=/opt/venv/bin/pip; "), "{c}");
        assert!(c.contains("missing=; \"$pip\" show -q docker >/dev/null 2>&1 || missing=1; missing=1; if [ -n \"$missing\" ]; then { \"$pip\" install -q docker 'requests>=2' || exit 1; }; fi; "), "{c}");
        let one = spec(json!({"name": "docker", "version": "7.1.0"}));
        assert!(
            one.command(false)
                .contains("pip=$(command -v pip3 || command -v pip); ")
        );
        assert!(one.command(false).contains("install -q docker==7.1.0"));
        let gone =
            spec(json!({"name": "docker", "state": "absent", "break_system_packages": true}));
        assert!(gone.command(false).contains("if [ $# -gt 0 ]; then { \"$pip\" uninstall -q -y --break-system-packages \"$@\" || exit 1; }; fi"));
        assert!(
            !spec(json!({"name": "x"}))
                .command(true)
                .contains("install -q")
        );
        assert!(
            Spec::from_args(&Args(
                json!({"name": ["a", "b"], "version": "1"})
                    .as_object()
                    .unwrap()
                    .clone()
            ))
            .is_err()
        );
    }
}
