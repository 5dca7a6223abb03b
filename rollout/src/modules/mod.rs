//! Module implementations. Each builds its remote commands with pure functions (tested as exact
//! strings) and runs them through the host's transport; in check mode nothing is changed.

pub use inventory_change::InventoryChange;

mod accounts;
mod acl;
mod alternatives;
#[cfg(test)]
mod ansible_fixtures;
mod apache2_module;
mod apt;
mod apt_key;
mod apt_repository;
mod archive;
mod assemble;
pub(crate) mod async_job;
mod authorized_key;
mod blockinfile;
mod command;
mod compose_lint;
mod control;
mod copy_tree;
mod cron;
mod crypto;
mod curl;
mod deb822_repository;
mod debconf;
mod docker;
mod docker_compose;
mod dpkg_selections;
mod expect;
pub(crate) mod files;
mod filesystem;
mod find;
mod firewalld;
mod foreign_packages;
mod gather;
mod get_url;
mod git;
mod git_config;
mod github_release;
mod hostname;
mod htpasswd;
mod include_vars;
mod ini_file;
mod inventory_change;
mod iptables;
mod kernel_blacklist;
mod known_hosts;
pub mod lineinfile;
mod locale_gen;
mod make;
mod modprobe;
mod mount;
mod nmcli;
mod npm;
mod openssh_keypair;
mod package;
mod pam_limits;
mod pamd;
mod pip;
mod probe;
mod remote_copy;
mod replace;
mod rpm_key;
mod selinux;
mod selinux_context;
mod seport;
mod service;
mod slack;
mod snap;
mod ssh_key;
mod stat;
mod sudoers;
mod synchronize;
mod sysctl;
mod tempfile;
mod timezone;
mod ufw;
mod unarchive;
mod uri;
mod version_check;
mod wait;
mod yum_repository;
mod zypper_repository;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_bounded() {
        assert_eq!(
            seconds(1.5).unwrap(),
            std::time::Duration::from_millis(1500)
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e300, 604_801.0] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        let args = Args(
            serde_json::json!({"timeout": "abc", "delay": 2})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert!(args.seconds("timeout", 1.0).is_err());
        assert_eq!(args.seconds("delay", 0.0).unwrap().as_secs(), 2);
        assert_eq!(args.seconds("other", 3.0).unwrap().as_secs(), 3);
    }
}

use std::path::{Path, PathBuf};

use drover_roles::{CheckMode, Module, ModuleKind};
use drover_ssh::Become;
use drover_templates::Engine;
use serde_json::{Value as Json, json};

use crate::connection::Transport;

/// Everything a module needs to run on one host.
pub struct ModuleCtx<'a> {
    /// The host's inventory name.
    pub host: &'a str,
    /// Its open transport.
    pub transport: &'a Transport,
    /// sudo settings for this task, if any.
    pub sudo: Option<&'a Become>,
    /// Change nothing, report what would change.
    pub check: bool,
    /// Produce diffs of file changes.
    pub diff: bool,
    /// The template engine.
    pub engine: &'a Engine,
    /// The host's variables at this task.
    pub vars: &'a drover_roles::Vars,
    /// Folders for `templates/` and `files/`.
    pub search: &'a [PathBuf],
    /// The run's folder, for fetched files.
    pub run_dir: &'a Path,
    /// Who answers operator checkpoints.
    pub operator: &'a Operator,
    /// The task's `timeout:` (or push's `--timeout`): remote commands running longer are killed.
    pub timeout: Option<std::time::Duration>,
    /// The task's `environment:` (with its blocks' and play's), rendered: set for every command
    /// the module runs.
    pub env: &'a [(String, String)],
    /// Set when a command could not run because the connection is lost (the host is unreachable).
    pub lost: std::cell::Cell<bool>,
    /// Told every command line before it runs (`-vvv`; none for a `no_log` task).
    pub trace: Option<&'a (dyn Fn(&str) + Sync)>,
    /// How many `-v` the run was given (`debug`'s `verbosity` is shown from that many on).
    pub verbosity: u8,
}

/// Who answers operator checkpoints (`pause` with a prompt). The executor never reads the
/// terminal itself: the CLI hands it a [`Prompt`].
#[derive(Clone)]
pub enum Operator {
    /// `--yes`: every checkpoint passes without asking (the journal notes it).
    Yes,
    /// Ask through this prompt.
    Ask(std::sync::Arc<dyn Prompt>),
    /// Nobody can answer (no terminal): a checkpoint fails its task.
    Absent,
}

/// Asks the operator a question and waits for the answer (a blocking call: the executor makes it
/// on a thread of its own).
pub trait Prompt: Send + Sync {
    /// The answer to `question`, without its line end.
    fn ask(&self, question: &str) -> std::io::Result<String>;
}

/// `cmd` with `env` exported first (names checked when the environment was rendered, values
/// quoted), so every command of a module sees the task's environment, under sudo too.
pub fn with_environment(env: &[(String, String)], cmd: &str) -> String {
    if env.is_empty() {
        return cmd.to_string();
    }
    let assignments: Vec<String> = env
        .iter()
        .map(|(k, v)| format!("{k}={}", drover_ssh::shell::quote(v)))
        .collect();
    format!("export {}; {cmd}", assignments.join(" "))
}

impl ModuleCtx<'_> {
    /// Runs `cmd` on the host as every module command runs: with the task's environment, sudo
    /// and timeout.
    pub async fn exec(
        &self,
        cmd: &str,
        stdin: &[u8],
    ) -> Result<drover_ssh::Output, drover_ssh::SshError> {
        self.exec_for(cmd, stdin, self.timeout).await
    }

    /// [`ModuleCtx::exec`] with a timeout of the module's own (a probe that must not hang).
    pub async fn exec_for(
        &self,
        cmd: &str,
        stdin: &[u8],
        timeout: Option<std::time::Duration>,
    ) -> Result<drover_ssh::Output, drover_ssh::SshError> {
        let mut all = drover_ssh::Collect::default();
        let status = self.run_into(cmd, stdin, timeout, &mut all).await?;
        Ok(all.into_output(status))
    }

    /// Runs `cmd` as [`ModuleCtx::exec`] does, handing its output to `sink` as it arrives (a sink
    /// that converses answers it: `expect`).
    pub async fn exec_into(
        &self,
        cmd: &str,
        sink: &mut dyn drover_ssh::OutputSink,
    ) -> Result<drover_ssh::ExitStatus, drover_ssh::SshError> {
        self.run_into(cmd, b"", self.timeout, sink).await
    }

    /// Every module command goes here: the task's environment exported, the line traced (-vvv),
    /// sudo, and a lost connection noted.
    async fn run_into(
        &self,
        cmd: &str,
        stdin: &[u8],
        timeout: Option<std::time::Duration>,
        sink: &mut dyn drover_ssh::OutputSink,
    ) -> Result<drover_ssh::ExitStatus, drover_ssh::SshError> {
        let line = with_environment(self.env, cmd);
        if let Some(trace) = self.trace {
            trace(&line);
        }
        let out = self
            .transport
            .exec_into(&line, stdin, timeout, self.sudo, sink)
            .await;
        if out
            .as_ref()
            .is_err_and(drover_ssh::SshError::is_unreachable)
        {
            self.lost.set(true);
        }
        out
    }

    /// Runs `cmd` on the host (the task's sudo and timeout) and gives its standard output; a
    /// failure is `what` with the command's standard error, or with why it could not run.
    pub async fn output_of(&self, cmd: &str, what: &str) -> Result<Vec<u8>, String> {
        self.output_with(cmd, b"", what).await
    }

    /// [`ModuleCtx::output_of`] with `stdin` given to the command (content to write, a key).
    pub async fn output_with(
        &self,
        cmd: &str,
        stdin: &[u8],
        what: &str,
    ) -> Result<Vec<u8>, String> {
        match self.exec(cmd, stdin).await {
            Ok(o) if o.status.success() => Ok(o.stdout),
            Ok(o) => Err(format!(
                "{what}: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Err(format!("{what}: {e}")),
        }
    }

    /// Runs a module's script (with `stdin`) whose output says `changed` when it changed
    /// something: the task's outcome, failed as `what` when the script fails.
    pub async fn change_script(&self, cmd: &str, stdin: &[u8], what: &str) -> Outcome {
        match self.output_with(cmd, stdin, what).await {
            Ok(out) => Outcome {
                changed: reports_change(&out),
                ..Outcome::default()
            },
            Err(e) => Outcome::fail(e),
        }
    }

    /// Makes a change the module has decided on: `cmd` run (with `stdin`) and the task changed,
    /// or, in check mode, only said to change; a failure is `what` with the command's error.
    pub async fn make_change(&self, cmd: &str, stdin: &[u8], what: &str) -> Outcome {
        if !self.check
            && let Err(e) = self.output_with(cmd, stdin, what).await
        {
            return Outcome::fail(e);
        }
        Outcome {
            changed: true,
            ..Outcome::default()
        }
    }

    /// [`ModuleCtx::change_script`] for a script built from the task's parameters (no standard
    /// input): what could not be built is bad input, named `what`.
    pub async fn built_script(&self, built: Result<String, String>, what: &str) -> Outcome {
        match built {
            Ok(cmd) => self.change_script(&cmd, b"", what).await,
            Err(e) => Outcome::bad_input(format!("{what}: {e}")),
        }
    }

    /// Runs a module's script and records it as a command-like module's result (`cmd`, `rc`,
    /// `stdout`, `stderr`), so a failure shows what it printed: changed when it printed a `changed`
    /// line, failed (with its standard error) when it did not succeed.
    pub async fn run_recorded(&self, cmd: &str) -> Outcome {
        match self.exec(cmd, b"").await {
            Ok(o) => {
                let mut out = Outcome {
                    changed: reports_change(&o.stdout),
                    failed: !o.status.success(),
                    ..Outcome::default()
                };
                if out.failed {
                    out.msg = String::from_utf8_lossy(&o.stderr).trim().to_string();
                }
                out.record_command(cmd, &o);
                out
            }
            Err(e) => Outcome::fail(e.to_string()),
        }
    }
}

/// Whether a module's report (its command's output) says it changed something: a `changed` line.
fn reports_change(stdout: &[u8]) -> bool {
    String::from_utf8_lossy(stdout)
        .lines()
        .any(|l| l == "changed")
}

/// A setting module's report: what the setting was (its `was:` line) and whether it `changed`.
fn setting_report(stdout: &[u8]) -> (String, bool) {
    let text = String::from_utf8_lossy(stdout);
    let before = text
        .lines()
        .find_map(|l| l.strip_prefix("was:"))
        .unwrap_or_default();
    (before.to_string(), reports_change(stdout))
}

/// A scalar value as text: a string as it is, a number or boolean as written.
pub fn scalar_text(v: &Json) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// A value's items as text: a list's items (numbers and booleans as their text), or one scalar.
pub fn json_words(value: &Json) -> Vec<String> {
    let text = |v: &Json| {
        v.as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string())
    };
    match value {
        Json::Null => Vec::new(),
        Json::Array(items) => items.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

/// What a module did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// It changed something (or would have, in check mode).
    pub changed: bool,
    /// It failed.
    pub failed: bool,
    /// It did nothing because it does not run in check mode or a condition said so.
    pub skipped: bool,
    /// A message for the operator.
    pub msg: String,
    /// The registered result (`rc`, `stdout`, ...).
    pub result: serde_json::Map<String, Json>,
    /// A unified diff of what changed, with `--diff`.
    pub diff: Option<String>,
    /// Facts set by `set_fact`.
    pub facts: serde_json::Map<String, Json>,
    /// `meta: flush_handlers` was asked for.
    pub flush_handlers: bool,
    /// It failed because of bad input (a template or variable error), not because of the host.
    pub bad_input: bool,
    /// It failed because the host could not be reached (its connection was lost).
    pub unreachable: bool,
    /// Changes to the run's inventory (`add_host`, `group_by`).
    pub inventory: Vec<InventoryChange>,
}

impl Outcome {
    /// A failure with a message.
    pub fn fail(msg: impl Into<String>) -> Outcome {
        Outcome {
            failed: true,
            msg: msg.into(),
            ..Outcome::default()
        }
    }

    /// A failure caused by the playbook (a template or variable error).
    pub fn bad_input(msg: impl Into<String>) -> Outcome {
        Outcome {
            bad_input: true,
            ..Outcome::fail(msg)
        }
    }

    /// Records what a remote command did, as Ansible's command-like modules register it (`cmd`,
    /// `rc`, `stdout`, `stderr`), so a failure can show it and later tasks can read it.
    pub fn record_command(&mut self, cmd: &str, out: &drover_ssh::Output) {
        let rc = match out.status {
            drover_ssh::ExitStatus::Code(c) => i64::from(c),
            _ => -1,
        };
        self.result.insert("cmd".into(), json!(cmd));
        self.result.insert("rc".into(), json!(rc));
        self.result.insert(
            "stdout".into(),
            json!(String::from_utf8_lossy(&out.stdout).trim_end_matches('\n')),
        );
        self.result.insert(
            "stderr".into(),
            json!(String::from_utf8_lossy(&out.stderr).trim_end_matches('\n')),
        );
    }

    /// The result as Ansible registers it.
    pub fn registered(&self) -> Json {
        let mut r = self.result.clone();
        r.insert("changed".into(), json!(self.changed));
        r.insert("failed".into(), json!(self.failed));
        if self.skipped {
            r.insert("skipped".into(), json!(true));
        }
        if self.unreachable {
            r.insert("unreachable".into(), json!(true));
        }
        if !self.msg.is_empty() {
            r.entry("msg").or_insert(json!(self.msg));
        }
        Json::Object(r)
    }
}

/// The longest wait drover accepts anywhere (a week): a longer one is a typo, and values such as
/// `1e300` would overflow the clock.
pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// A number of seconds as a duration: finite, not negative, at most [`MAX_WAIT`].
pub fn seconds(value: f64) -> Result<std::time::Duration, String> {
    if !(value.is_finite() && value >= 0.0) {
        return Err("not a number of seconds".into());
    }
    if value > MAX_WAIT.as_secs_f64() {
        return Err(format!(
            "longer than drover waits for anything (at most {} s, a week)",
            MAX_WAIT.as_secs()
        ));
    }
    Ok(std::time::Duration::from_secs_f64(value))
}

/// Rendered module parameters, with helpers to read them.
pub struct Args(pub serde_json::Map<String, Json>);

impl Args {
    /// A string parameter (numbers and booleans are turned into text).
    pub fn str(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Json::String(s) => Some(s.clone()),
            Json::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A list parameter's items (one value is a list of one; absent is empty).
    pub fn list(&self, key: &str) -> Vec<String> {
        self.0.get(key).map(json_words).unwrap_or_default()
    }

    /// `state: present` (the default) or `absent`, as most modules take it.
    pub fn present(&self) -> Result<bool, String> {
        match self.str("state").as_deref() {
            None | Some("present") => Ok(true),
            Some("absent") => Ok(false),
            Some(other) => Err(format!("`state: {other}` is not present or absent")),
        }
    }

    /// The first present of several spellings.
    pub fn first(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.str(k))
    }

    /// A boolean parameter with Ansible's truthiness.
    pub fn bool(&self, key: &str) -> Option<bool> {
        drover_roles::module::truthy(self.0.get(key)?)
    }

    /// A parameter in seconds (`default` when absent), bounded as [`seconds`] says.
    pub fn seconds(&self, key: &str, default: f64) -> Result<std::time::Duration, String> {
        let value = match self.0.get(key) {
            None | Some(Json::Null) => default,
            Some(_) => self
                .num(key)
                .ok_or_else(|| format!("`{key}` is not a number of seconds"))?,
        };
        seconds(value).map_err(|e| format!("`{key}: {value}`: {e}"))
    }

    /// A number parameter.
    pub fn num(&self, key: &str) -> Option<f64> {
        match self.0.get(key)? {
            Json::Number(n) => n.as_f64(),
            Json::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// A file mode, octal ([`Args::mode`]) or symbolic as chmod takes it (`u+x`, `a=r,u+w`).
    pub fn file_mode(&self, key: &str) -> Result<Option<files::FileMode>, String> {
        match (self.mode(key), self.0.get(key)) {
            (Ok(m), _) => Ok(m.map(files::FileMode::Octal)),
            (Err(_), Some(Json::String(s))) if drover_roles::module::symbolic_mode(s) => {
                Ok(Some(files::FileMode::Symbolic(s.clone())))
            }
            (Err(_), Some(Json::String(s))) => Err(format!(
                "`{key}`: `{s}` is not a file mode: octal such as \"0644\", or symbolic such as \"u+x\""
            )),
            (Err(e), _) => Err(e),
        }
    }

    /// A file mode: an octal string (`"0644"`) or a number YAML already read as octal (`0644`).
    pub fn mode(&self, key: &str) -> Result<Option<u32>, String> {
        match self.0.get(key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()).map(Some).ok_or_else(|| format!("`{key}`: {n} is not a file mode")),
            Some(Json::String(s)) => u32::from_str_radix(s.trim_start_matches("0o"), 8)
                .map(Some)
                .map_err(|_| format!("`{key}`: `{s}` is not an octal file mode such as \"0644\" (symbolic modes are not supported)")),
            Some(other) => Err(format!("`{key}`: {other} is not a file mode")),
        }
    }
}

/// A module's parameters from a JSON mapping, for unit tests.
#[cfg(test)]
pub(crate) fn args(v: Json) -> Args {
    Args(v.as_object().cloned().unwrap_or_default())
}

/// Runs `module` with rendered `args`. (`reboot` and `wait_for_connection` replace the host's
/// connection, so the host's run calls them itself: see push/restart.rs.)
pub async fn run(module: &Module, args: Args, ctx: &ModuleCtx<'_>) -> Outcome {
    use ModuleKind as M;
    // A module that cannot predict is skipped under --check, whatever its own code does: the
    // command family first says why (creates/removes) itself.
    let says_why = matches!(module.kind, M::Command | M::Shell | M::Raw | M::Script);
    if ctx.check && module.kind.spec().check_mode == CheckMode::Skipped && !says_why {
        return Outcome {
            skipped: true,
            msg: format!("{} does not run in check mode", module.kind.name()),
            ..Outcome::default()
        };
    }
    if module.kind.spec().writes_files()
        && let Some(refused) = selinux_context::refusal(&args, ctx).await
    {
        return refused;
    }
    match module.kind {
        M::Command | M::Shell | M::Raw => command::run(module.kind, &args, ctx).await,
        M::Script => command::script(&args, ctx).await,
        M::KnownHosts => known_hosts::run(&args, ctx).await,
        M::Modprobe => modprobe::run(&args, ctx).await,
        M::KernelBlacklist => kernel_blacklist::run(&args, ctx).await,
        M::Alternatives => alternatives::run(&args, ctx).await,
        M::PamLimits => pam_limits::run(&args, ctx).await,
        M::Pamd => pamd::run(&args, ctx).await,
        M::Sudoers => sudoers::run(&args, ctx).await,
        M::Selinux => selinux::run(&args, ctx).await,
        M::Seport => seport::run(&args, ctx).await,
        M::Assemble => assemble::run(&args, ctx).await,
        M::LocaleGen => locale_gen::run(&args, ctx).await,
        M::Acl => acl::run(&args, ctx).await,
        M::Make => make::run(&args, ctx).await,
        M::Expect => expect::run(&args, ctx).await,
        M::OpensslPrivatekey => crypto::privatekey(&args, ctx).await,
        M::OpensslCsr => crypto::csr(&args, ctx, false).await,
        M::OpensslCsrPipe => crypto::csr(&args, ctx, true).await,
        M::X509Certificate => crypto::certificate(&args, ctx).await,
        M::OpensshKeypair => openssh_keypair::run(&args, ctx).await,
        M::OpensslDhparam => crypto::dhparam(&args, ctx).await,
        M::Htpasswd => htpasswd::run(&args, ctx).await,
        M::Synchronize => synchronize::run(&args, ctx).await,
        M::Slack => slack::run(&args, ctx).await,
        M::GithubRelease => github_release::run(&args, ctx).await,
        M::Iptables => iptables::run(&args, ctx).await,
        M::Snap => snap::run(&args, ctx).await,
        M::Debconf => debconf::run(&args, ctx).await,
        M::Copy | M::Template => files::copy_or_template(module.kind, &args, ctx).await,
        M::File => files::file(&args, ctx).await,
        M::Filesystem => filesystem::run(&args, ctx).await,
        M::Lineinfile => files::lineinfile(&args, ctx).await,
        M::Replace => files::replace(&args, ctx).await,
        M::Fetch => files::fetch(&args, ctx).await,
        M::AddHost => inventory_change::add_host(&args),
        M::GroupBy => inventory_change::group_by(&args),
        M::Debug | M::SetFact | M::Assert | M::Fail | M::Pause | M::Meta => {
            control::run(module.kind, &args, ctx).await
        }
        M::Apt => apt::run(&args, ctx).await,
        M::Package => package::run(&args, ctx).await,
        M::Service | M::Systemd => service::run(&args, ctx).await,
        M::DockerCompose => docker_compose::run(&args, ctx).await,
        M::DockerContainer => docker::container::run(&args, ctx).await,
        M::DockerNetwork => docker::network::run(&args, ctx).await,
        M::DockerVolume => docker::volume::run(&args, ctx).await,
        M::DockerPrune => docker::prune::run(&args, ctx).await,
        M::DockerContainerInfo => docker::container::info(&args, ctx).await,
        M::DockerContainerExec => docker::exec::run(&args, ctx).await,
        M::DockerImage => docker::image::run(&args, ctx).await,
        M::DockerImageInfo => docker::image::info(&args, ctx).await,
        M::DockerLogin => docker::login::run(&args, ctx).await,
        M::Uri => uri::run(&args, ctx).await,
        M::GetUrl => get_url::run(&args, ctx).await,
        M::WaitFor => wait::run(&args, ctx).await,
        M::Stat => stat::run(&args, ctx).await,
        M::IncludeVars => include_vars::run(&args, ctx),
        M::AptRepository => apt_repository::run(&args, ctx).await,
        M::AptKey => apt_key::run(&args, ctx).await,
        M::Unarchive => unarchive::run(&args, ctx).await,
        M::Blockinfile => blockinfile::run(&args, ctx).await,
        M::AuthorizedKey => authorized_key::run(&args, ctx).await,
        M::Hostname => hostname::run(&args, ctx).await,
        M::Timezone => timezone::run(&args, ctx).await,
        M::Ufw => ufw::run(&args, ctx).await,
        M::Firewalld => firewalld::run(&args, ctx).await,
        M::Tempfile => tempfile::run(&args, ctx).await,
        M::PackageFacts => gather::package_facts(&args, ctx).await,
        M::ServiceFacts => gather::service_facts(&args, ctx).await,
        M::Setup => gather::setup(&args, ctx).await,
        M::Git => git::run(&args, ctx).await,
        M::GitConfig => git_config::run(&args, ctx).await,
        M::Mount => mount::run(&args, ctx).await,
        M::Archive => archive::run(&args, ctx).await,
        M::Pip => pip::run(&args, ctx).await,
        M::Npm => npm::run(&args, ctx).await,
        M::Apache2Module => apache2_module::run(&args, ctx).await,
        M::Nmcli => nmcli::run(&args, ctx).await,
        M::Getent => gather::getent(&args, ctx).await,
        M::IniFile => ini_file::run(&args, ctx).await,
        M::Cron => cron::run(&args, ctx).await,
        M::DpkgSelections => dpkg_selections::run(&args, ctx).await,
        M::Deb822Repository => deb822_repository::run(&args, ctx).await,
        M::Sysctl => sysctl::run(&args, ctx).await,
        M::Find => find::run(&args, ctx).await,
        M::Dnf => foreign_packages::run(foreign_packages::Manager::Dnf, &args, ctx).await,
        M::Zypper => foreign_packages::run(foreign_packages::Manager::Zypper, &args, ctx).await,
        M::Pacman => foreign_packages::run(foreign_packages::Manager::Pacman, &args, ctx).await,
        M::RpmKey => rpm_key::run(&args, ctx).await,
        M::YumRepository => yum_repository::run(&args, ctx).await,
        M::ZypperRepository => zypper_repository::run(&args, ctx).await,
        M::User => accounts::user(&args, ctx).await,
        M::Group => accounts::group(&args, ctx).await,
        M::Ping => probe::ping(&args, ctx).await,
        M::AsyncStatus => async_job::status(&args, ctx).await,
        M::Slurp => probe::slurp(&args, ctx).await,
        M::ComposeLint => compose_lint::run(&args, ctx),
        M::VersionCheck => version_check::run(&args, ctx).await,
        M::Reboot | M::WaitForConnection => Outcome::fail(format!(
            "{} runs through the host's connection, not as a plain module",
            module.name()
        )),
    }
}
