//! npm: Node.js packages in a project folder or installed globally, with the host's npm, as
//! community.general.npm does. What is installed is asked of npm itself (`npm ls`, `npm outdated`,
//! whose exit status says whether the package, or every dependency of the folder's package.json, is
//! there and valid), so a second run reports ok. No Python, no JSON parsing on the host.

use drover_ssh::shell::{quote, split_words};

use super::{Args, ModuleCtx, Outcome};

/// What the task wants of its package (or of the folder's dependencies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Installed when missing or invalid.
    Present,
    /// Installed when missing, updated when npm says it is outdated.
    Latest,
    /// Uninstalled when installed.
    Absent,
}

/// The task, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// `name` or `name@version`; none means the folder's package.json.
    pub package: Option<String>,
    /// The project folder (made when missing); ignored with `global`, as Ansible ignores it.
    pub path: Option<String>,
    pub global: bool,
    pub state: State,
    /// `npm ci` instead of the state's logic: always a change, as in Ansible.
    pub ci: bool,
    /// The npm command's words.
    pub executable: Vec<String>,
    /// Options every npm command gets (`--global`, `--registry URL`, ...).
    pub options: Vec<String>,
    /// `--production` (`--omit=dev`), for install, update and ci only.
    pub production: bool,
}

impl Spec {
    pub fn from_args(args: &Args) -> Result<Spec, String> {
        let state = match args.str("state").as_deref() {
            None | Some("present") => State::Present,
            Some("latest") => State::Latest,
            Some("absent") => State::Absent,
            Some(other) => {
                return Err(format!(
                    "npm: `state: {other}` is not present, latest or absent"
                ));
            }
        };
        let name = args.str("name");
        let global = args.bool("global") == Some(true);
        let path = args.str("path");
        if path.is_none() && !global {
            return Err("npm: path must be specified when not using global".into());
        }
        if state == State::Absent && name.is_none() {
            return Err("npm: uninstalling a package is only available for named packages".into());
        }
        let package = match (name, args.str("version")) {
            (Some(n), Some(v)) => Some(format!("{n}@{v}")),
            (Some(n), None) => Some(n),
            (None, Some(_)) => return Err("npm: `version` goes with `name`".into()),
            (None, None) => None,
        };
        let executable = match args.str("executable") {
            Some(e) => split_words(&e).map_err(|e| format!("npm: `executable`: {e}"))?,
            None => Vec::new(),
        };
        let mut options = Vec::new();
        if global {
            options.push("--global".to_string());
        }
        let flags = [
            ("ignore_scripts", "--ignore-scripts"),
            ("unsafe_perm", "--unsafe-perm"),
            ("no_optional", "--no-optional"),
            ("no_bin_links", "--no-bin-links"),
            ("force", "--force"),
        ];
        for (key, flag) in flags {
            if args.bool(key) == Some(true) {
                options.push(flag.to_string());
            }
        }
        if let Some(r) = args.str("registry") {
            options.extend(["--registry".to_string(), r]);
        }
        Ok(Spec {
            package,
            path: if global { None } else { path },
            global,
            state,
            ci: args.bool("ci") == Some(true),
            executable,
            options,
            production: args.bool("production") == Some(true),
        })
    }

    /// `npm SUBCOMMAND [--production] OPTIONS [PACKAGE]`, as words for the shell.
    fn npm(&self, sub: &str, with_package: bool) -> String {
        let mut words = vec!["\"$@\"".to_string(), sub.to_string()];
        if self.production && matches!(sub, "install" | "update" | "ci") {
            words.push("--production".into());
        }
        words.extend(self.options.iter().map(|o| quote(o)));
        match &self.package {
            Some(p) if with_package => words.push(quote(p)),
            _ => {}
        }
        words.join(" ")
    }

    /// The script: prints `changed` when npm changed (or would change) something. npm's own output
    /// goes to stderr, so a failure shows it.
    pub fn command(&self, check: bool) -> String {
        let mut s = match self.executable.as_slice() {
            [] => "set -- npm; command -v npm >/dev/null || { echo 'this host has no npm: install Node.js (the nodejs and npm packages) first, or name an `executable`' >&2; exit 1; }; ".to_string(),
            words => format!(
                "set -- {}; ",
                words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
            ),
        };
        if let Some(p) = &self.path {
            let q = quote(p);
            s.push_str(&format!(
                "if [ -e {q} ] && [ ! -d {q} ]; then echo \"path \"{q}\" is not a directory\" >&2; exit 1; fi; "
            ));
            if check {
                // Nothing can be installed in a folder that does not exist yet.
                s.push_str(&format!("[ -d {q} ] || {{ echo changed; exit 0; }}; "));
            }
            s.push_str(&format!("mkdir -p {q} && cd {q} || exit 1; "));
        }
        // `npm ci` takes no package: it installs the folder's lock file.
        let act = |sub: &str| {
            if check {
                "echo changed".to_string()
            } else {
                format!("{} >&2 || exit 1; echo changed", self.npm(sub, sub != "ci"))
            }
        };
        if self.ci {
            return s + &act("ci");
        }
        let installed = format!("{} --depth=0 >/dev/null 2>&1", self.npm("ls", true));
        match self.state {
            State::Present => s.push_str(&format!("if ! {installed}; then {}; fi", act("install"))),
            State::Latest => s.push_str(&format!(
                "if ! {installed}; then {}; elif ! {} >/dev/null 2>&1; then {}; fi",
                act("install"),
                self.npm("outdated", true),
                act("update")
            )),
            State::Absent => s.push_str(&format!("if {installed}; then {}; fi", act("uninstall"))),
        }
        s
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    match Spec::from_args(args) {
        Ok(spec) => ctx.run_recorded(&spec.command(ctx.check)).await,
        Err(e) => Outcome::bad_input(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> Result<Spec, String> {
        Spec::from_args(&Args(v.as_object().unwrap().clone()))
    }

    #[test]
    fn a_global_package_is_installed_only_when_npm_does_not_list_it() {
        let s = spec(json!({"name": "pm2", "global": true, "version": "5.3.0", "registry": "http://r:4873", "path": "/ignored"})).unwrap();
        assert_eq!(
            s.command(false),
            "set -- npm; command -v npm >/dev/null || { echo 'this host has no npm: install Node.js (the nodejs and npm packages) first, or name an `executable`' >&2; exit 1; }; \
             if ! \"$@\" ls --global --registry http://r:4873 pm2@5.3.0 --depth=0 >/dev/null 2>&1; \
             then \"$@\" install --global --registry http://r:4873 pm2@5.3.0 >&2 || exit 1; echo changed; fi"
        );
    }

    #[test]
    fn a_project_folder_is_made_and_its_dependencies_installed() {
        let s = spec(json!({"path": "/srv/app dir", "production": true, "ignore_scripts": true, "executable": "/opt/node/bin/npm --loglevel=error"})).unwrap();
        assert_eq!(
            s.command(false),
            "set -- /opt/node/bin/npm --loglevel=error; \
             if [ -e '/srv/app dir' ] && [ ! -d '/srv/app dir' ]; then echo \"path \"'/srv/app dir'\" is not a directory\" >&2; exit 1; fi; \
             mkdir -p '/srv/app dir' && cd '/srv/app dir' || exit 1; \
             if ! \"$@\" ls --ignore-scripts --depth=0 >/dev/null 2>&1; then \"$@\" install --production --ignore-scripts >&2 || exit 1; echo changed; fi"
        );
        let check = s.command(true);
        assert!(
            check.contains("[ -d '/srv/app dir' ] || { echo changed; exit 0; }; ")
                && check.ends_with("then echo changed; fi"),
            "{check}"
        );
    }

    #[test]
    fn latest_updates_what_npm_calls_outdated_absent_uninstalls_ci_always_runs() {
        let latest = spec(json!({"name": "left-pad", "path": "/app", "state": "latest"}))
            .unwrap()
            .command(false);
        assert!(latest.ends_with(
            "elif ! \"$@\" outdated left-pad >/dev/null 2>&1; then \"$@\" update left-pad >&2 || exit 1; echo changed; fi"
        ), "{latest}");
        let gone = spec(json!({"name": "left-pad", "path": "/app", "state": "absent"}))
            .unwrap()
            .command(false);
        assert!(gone.ends_with("if \"$@\" ls left-pad --depth=0 >/dev/null 2>&1; then \"$@\" uninstall left-pad >&2 || exit 1; echo changed; fi"), "{gone}");
        let ci = spec(json!({"path": "/app", "ci": true, "production": true}))
            .unwrap()
            .command(false);
        assert!(
            ci.ends_with("cd /app || exit 1; \"$@\" ci --production >&2 || exit 1; echo changed"),
            "{ci}"
        );
    }

    #[test]
    fn what_ansible_refuses_is_refused() {
        for (args, msg) in [
            (json!({"name": "x"}), "path must be specified"),
            (
                json!({"path": "/a", "state": "absent"}),
                "only available for named",
            ),
            (
                json!({"path": "/a", "state": "removed"}),
                "not present, latest or absent",
            ),
            (json!({"path": "/a", "version": "1"}), "goes with `name`"),
        ] {
            assert!(spec(args).unwrap_err().contains(msg), "{msg}");
        }
    }
}
