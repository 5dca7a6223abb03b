//! git: a checkout of a repository at a version (a branch, a tag or a commit), as Ansible's git
//! module keeps it: cloned when missing, fetched and moved to the version otherwise, refusing to
//! throw away local changes unless `force`; changed when HEAD moved. Registers `before` and
//! `after` (the commits). Git never prompts (a missing credential fails at once); SSH options
//! (`accept_hostkey`, `accept_newhostkey`, `key_file`, `ssh_opts`) go through GIT_SSH_COMMAND.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome, reports_change};

/// The task, read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spec {
    pub repo: String,
    pub dest: String,
    pub version: String,
    pub remote: String,
    pub force: bool,
    pub depth: Option<u32>,
    pub clone: bool,
    pub update: bool,
    pub bare: bool,
    pub recursive: bool,
    pub single_branch: bool,
    pub refspec: Option<String>,
    pub executable: Option<String>,
    /// The ssh command line for GIT_SSH_COMMAND, when the task sets SSH options.
    pub ssh: Option<String>,
}

impl Spec {
    pub fn from_args(args: &Args) -> Result<Spec, String> {
        let repo = args.first(&["repo", "name"]).ok_or("git needs `repo`")?;
        let dest = args.str("dest").ok_or("git needs `dest`")?;
        let depth = match args.num("depth") {
            Some(d) if d >= 1.0 => Some(d as u32),
            Some(d) => return Err(format!("git: `depth: {d}` is not a positive number")),
            None => None,
        };
        let mut ssh = Vec::new();
        if args.bool("accept_hostkey") == Some(true) {
            ssh.push("-o StrictHostKeyChecking=no".to_string());
        } else if args.bool("accept_newhostkey") == Some(true) {
            ssh.push("-o StrictHostKeyChecking=accept-new".to_string());
        }
        if let Some(key) = args.str("key_file") {
            ssh.push(format!("-i {} -o IdentitiesOnly=yes", quote(&key)));
        }
        if let Some(opts) = args.str("ssh_opts") {
            ssh.push(opts);
        }
        Ok(Spec {
            repo,
            dest,
            version: args.str("version").unwrap_or_else(|| "HEAD".into()),
            remote: args.str("remote").unwrap_or_else(|| "origin".into()),
            force: args.bool("force") == Some(true),
            depth,
            clone: args.bool("clone") != Some(false),
            update: args.bool("update") != Some(false),
            bare: args.bool("bare") == Some(true),
            recursive: args.bool("recursive") != Some(false),
            single_branch: args.bool("single_branch") == Some(true),
            refspec: args.str("refspec"),
            executable: args.str("executable"),
            ssh: (!ssh.is_empty()).then(|| format!("ssh -o BatchMode=yes {}", ssh.join(" "))),
        })
    }

    /// The script: prints `before:SHA`, `after:SHA` and `changed`; in check mode it asks the
    /// remote where the version is and moves nothing.
    pub fn command(&self, check: bool) -> String {
        let git = self
            .executable
            .as_deref()
            .map_or_else(|| "git".to_string(), quote);
        let (repo, dest, version, remote) = (
            quote(&self.repo),
            quote(&self.dest),
            quote(&self.version),
            quote(&self.remote),
        );
        let mut s = String::from("export GIT_TERMINAL_PROMPT=0; ");
        if let Some(ssh) = &self.ssh {
            s.push_str(&format!("export GIT_SSH_COMMAND={}; ", quote(ssh)));
        }
        s.push_str(&format!("g={git}; d={dest}; v={version}; r={remote}; "));
        let depth = self
            .depth
            .map(|d| format!(" --depth {d}"))
            .unwrap_or_default();
        // The remote's commit for the version (a commit's own id when it names one).
        let remote_sha = format!(
            "rs=$(\"$g\" ls-remote {repo} \"$v\" \"refs/heads/$v\" \"refs/tags/$v^{{}}\" \"refs/tags/$v\" 2>/dev/null | awk 'NR==1{{print $1}}'); [ -n \"$rs\" ] || rs=\"$v\"; "
        );
        let present = if self.bare {
            "[ -f \"$d/HEAD\" ]"
        } else {
            "[ -e \"$d/.git\" ]"
        };
        // Clone.
        s.push_str(&format!("if ! {present}; then echo before:; "));
        if !self.clone {
            s.push_str("echo after:; exit 0; fi; ");
        } else if check {
            s.push_str(&format!(
                "{remote_sha}echo \"after:$rs\"; echo changed; exit 0; fi; "
            ));
        } else {
            let mut clone = format!("\"$g\" clone --origin {remote}{depth}");
            if self.single_branch {
                clone.push_str(" --single-branch");
            }
            if self.bare {
                clone.push_str(" --bare");
            }
            if self.recursive && !self.bare {
                clone.push_str(" --recursive");
            }
            // A branch or tag is cloned as such; a commit is checked out after.
            s.push_str(&format!(
                "if [ \"$v\" != HEAD ] && \"$g\" ls-remote --exit-code {repo} \"refs/heads/$v\" \"refs/tags/$v\" >/dev/null 2>&1; then {clone} --branch \"$v\" {repo} \"$d\" || exit 1; \
                 else {clone} {repo} \"$d\" || exit 1; if [ \"$v\" != HEAD ]; then \"$g\" -C \"$d\" checkout -q --force \"$v\" || exit 1; fi; fi; \
                 echo \"after:$(\"$g\" -C \"$d\" rev-parse HEAD)\"; echo changed; exit 0; fi; "
            ));
        }
        // Update.
        s.push_str("cd \"$d\" || exit 1; before=$(\"$g\" rev-parse HEAD 2>/dev/null); echo \"before:$before\"; ");
        s.push_str(&format!(
            "if [ \"$(\"$g\" remote get-url {remote} 2>/dev/null)\" != {repo} ]; then {}echo changed; fi; ",
            if check {
                String::new()
            } else {
                format!("\"$g\" remote set-url {remote} {repo} 2>/dev/null || \"$g\" remote add {remote} {repo} || exit 1; ")
            }
        ));
        if !self.bare && self.force {
            // Local changes to tracked files go, and that is a change.
            s.push_str(&format!(
                "if [ -n \"$(\"$g\" status --porcelain --untracked-files=no)\" ]; then {}echo changed; fi; ",
                if check { "" } else { "\"$g\" reset -q --hard || exit 1; " }
            ));
        }
        if !self.bare && !self.force {
            s.push_str(&format!(
                "if [ -n \"$(\"$g\" status --porcelain --untracked-files=no)\" ]; then echo {} >&2; exit 1; fi; ",
                quote(&format!(
                    "Local modifications exist in the destination: {} (force=no).",
                    self.dest
                ))
            ));
        }
        if !self.update {
            s.push_str("echo \"after:$before\"; exit 0");
            return s;
        }
        if check {
            s.push_str(&format!(
                "{remote_sha}echo \"after:$rs\"; [ \"$rs\" = \"$before\" ] || echo changed"
            ));
            return s;
        }
        let refspec = self
            .refspec
            .as_ref()
            .map(|r| format!(" {}", quote(r)))
            .unwrap_or_default();
        s.push_str(&format!(
            "\"$g\" fetch -q --tags --force{depth} {remote}{refspec} || exit 1; "
        ));
        if self.bare {
            s.push_str(&format!(
                "\"$g\" fetch -q --force{depth} {remote} '+refs/heads/*:refs/heads/*' || exit 1; "
            ));
        } else {
            s.push_str(&format!(
                "if [ \"$v\" = HEAD ]; then \"$g\" remote set-head {remote} -a >/dev/null 2>&1; \"$g\" reset -q --hard {remote}/HEAD || exit 1; \
                 elif \"$g\" rev-parse -q --verify \"refs/remotes/$r/$v\" >/dev/null; then \"$g\" checkout -q --force -B \"$v\" \"$r/$v\" || exit 1; \
                 else \"$g\" checkout -q --force \"$v\" || exit 1; fi; "
            ));
            if self.recursive {
                s.push_str("if [ -f .gitmodules ]; then \"$g\" submodule -q update --init --recursive || exit 1; fi; ");
            }
        }
        s.push_str("after=$(\"$g\" rev-parse HEAD); echo \"after:$after\"; [ \"$after\" = \"$before\" ] || echo changed");
        s
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match Spec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    match ctx.output_of(&spec.command(ctx.check), "git").await {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o);
            let get = |k: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(k))
                    .unwrap_or_default()
                    .to_string()
            };
            let mut out = Outcome {
                changed: reports_change(&o),
                ..Outcome::default()
            };
            let (before, after) = (get("before:"), get("after:"));
            if ctx.diff && out.changed {
                out.diff = Some(format!("-{before}\n+{after}\n"));
            }
            out.result.insert(
                "before".into(),
                if before.is_empty() {
                    serde_json::Value::Null
                } else {
                    before.into()
                },
            );
            out.result.insert("after".into(), after.into());
            out
        }
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> Spec {
        Spec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn the_script_never_prompts_and_keeps_local_changes_unless_forced() {
        let s = spec(
            json!({"repo": "git@example.com:ops/app.git", "dest": "/srv/app", "version": "v1.2", "accept_newhostkey": true, "key_file": "/root/.ssh/deploy"}),
        );
        let c = s.command(false);
        assert!(c.starts_with("export GIT_TERMINAL_PROMPT=0; export GIT_SSH_COMMAND='ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -i /root/.ssh/deploy -o IdentitiesOnly=yes'; g=git; d=/srv/app; v=v1.2; r=origin; "), "{c}");
        assert!(
            c.contains("Local modifications exist in the destination: /srv/app (force=no)."),
            "{c}"
        );
        assert!(c.contains("\"$g\" clone --origin origin --recursive --branch \"$v\" git@example.com:ops/app.git \"$d\" || exit 1; "), "{c}");
        let forced = spec(json!({"repo": "r", "dest": "/d", "force": true, "depth": 1}));
        let c = forced.command(false);
        assert!(!c.contains("Local modifications"), "{c}");
        assert!(
            c.contains("fetch -q --tags --force --depth 1 origin || exit 1"),
            "{c}"
        );
        // Check mode moves nothing: it asks the remote.
        let c = s.command(true);
        assert!(
            !c.contains(" clone ") && !c.contains(" fetch ") && !c.contains("checkout"),
            "{c}"
        );
        assert!(
            c.ends_with("echo \"after:$rs\"; [ \"$rs\" = \"$before\" ] || echo changed"),
            "{c}"
        );
        assert!(
            Spec::from_args(&Args(
                json!({"repo": "r", "dest": "/d", "depth": 0})
                    .as_object()
                    .unwrap()
                    .clone()
            ))
            .is_err()
        );
    }
}
