//! Command-line arguments. Help texts teach: each command says what it does and shows examples.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  success on every host
  1  drover itself failed
  2  bad input (arguments, inventory, pattern, key file); nothing was run
  3  at least one host failed
  4  no host failed, but at least one was unreachable
  5  a play refused to start outside its maintenance window (window:); resume later
  130  interrupted (Ctrl-C); a push can be resumed with --resume";

/// drover: an agentless push orchestrator over SSH for fleets of Docker hosts.
#[derive(Parser)]
#[command(name = "drover", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Ansible Vault passwords for encrypted vars files, inventories and `!vault` values.
    #[command(flatten)]
    pub vault: VaultArgs,
}

/// Where the vault passwords come from (any subcommand; also ANSIBLE_VAULT_PASSWORD_FILE and
/// ansible.cfg's `vault_password_file`/`vault_identity_list`).
#[derive(clap::Args, Debug, Default)]
pub struct VaultArgs {
    /// A file holding the vault password (trailing whitespace dropped), or an executable that
    /// prints it. Repeatable.
    #[arg(
        long = "vault-password-file",
        visible_alias = "vault-pass-file",
        value_name = "FILE",
        global = true
    )]
    pub vault_password_file: Vec<PathBuf>,
    /// A vault id and where its password comes from: `ID@FILE`, `ID@prompt`, or a FILE alone (id
    /// `default`). Repeatable; a vault naming an id tries that password first.
    #[arg(long = "vault-id", value_name = "[ID@]SOURCE", global = true)]
    pub vault_id: Vec<String>,
    /// Ask for the vault password on the terminal.
    #[arg(
        short = 'J',
        long = "ask-vault-pass",
        visible_alias = "ask-vault-password",
        global = true
    )]
    pub ask_vault_pass: bool,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Show an inventory as Ansible sees it: hosts, groups and merged variables.
    #[command(after_help = "Examples:
  drover inventory -i hosts.ini --graph
  drover inventory -i inventory/ --list | jq '._meta.hostvars.web01'
  drover inventory -i prod.yml -i extra.ini --host web01")]
    Inventory(InventoryArgs),
    /// Run one shell command on every host a pattern selects.
    #[command(after_help = "Examples:
  drover run -i hosts.ini all -- uptime
  drover run -i hosts.ini 'web:&prod:!web3' --forks 20 -- 'apt list --upgradable'
  drover run -i hosts.ini docker --become --json -- docker ps --format '{{.Names}}' | jq .
  drover run -i hosts.ini all --output-dir logs/ -- journalctl -b -u docker   # logs/<host>.stdout

Patterns: all, *, a group, a host, globs (web*), regexes (~web0[1-3]), a:b (either), a:&b (both), \
a:!b (a but not b), and subscripts (web[0], web[1:3]). A pattern that matches nothing is an error.

The command runs through the remote user's shell, like `ssh host COMMAND`; words after `--` are \
joined with spaces. Host keys are checked against ~/.ssh/known_hosts: an unknown key is refused \
unless --accept-new is given, a changed key is always refused.")]
    Run(RunArgs),
    /// Push a playbook to the hosts in rolling batches, halting at the first batch that fails.
    #[command(after_help = "Examples:
  drover push -i hosts.ini site.yml --batch 1       # one host at a time, stop at the first failure
  drover push -i hosts.ini site.yml --batch 1,5,50% --max-fail 10%
  drover push -i hosts.ini site.yml --check --diff  # change nothing, show what would change
  drover push site.yml --syntax-check               # in CI: does every task and template parse?
  drover push --resume 20261123T204500-1a2b         # finish a halted run, skipping finished hosts

Every run writes a journal in .drover/runs/<id>/ (events.jsonl, state.json, fetched files). A host is \
locked for the run's duration ($HOME/.drover/lock on the host), so two runs never touch one host at \
once; --break-lock clears a lock left behind by a run that died.

Unlike Ansible, the default failure budget is 0: one failed host halts the rollout after its batch.")]
    Push(Box<PushArgs>),
    /// Before an upgrade: what it will restart, whether it needs a reboot, and which containers will not
    /// come back on their own. Read-only.
    #[command(after_help = "Examples:
  drover impact -i hosts.ini                               # a summary, then a table per host
  drover impact -i hosts.ini docker --format markdown > change-ticket.md
  drover impact -i hosts.ini --fail-on risk --format json  # CI: exit 3 if any container is at risk
  drover impact -i hosts.ini --compose roles/app/templates/docker-compose.yml.j2

Per host: apt's plan (apt-get -s dist-upgrade: versions, security origin, kept-back, held and phased \
packages), what each candidate package's maintainer scripts restart (the .deb is fetched into a \
temporary folder and its scripts read; a built-in table covers packages that cannot be fetched), the \
reboot state, and Docker (service or socket-only, live-restore, versions, its shutdown deadline, and \
per container the restart policy, the daemon's own \"manually stopped\" flag, the stop timeout and \
whether its main process handles the stop signal). Each container gets a fate, with the reason: \
unaffected, keeps running (live-restore), comes back, WILL START (stopped now, started by the daemon's \
start), AT RISK (the reason names the uncertainty), WILL NOT RETURN, or stays stopped. \
Nothing on the hosts is changed.")]
    Impact(ImpactArgs),
    /// Record each host's boot id and running containers, for a later `drover verify`.
    #[command(after_help = "Example:
  id=$(drover snapshot -i hosts.ini docker)   # prints the snapshot's id
  # ... restart the daemon, reboot, patch by hand ...
  drover verify -i hosts.ini docker --against $id")]
    Snapshot(SnapshotArgs),
    /// Roll call: check that every container recorded in a snapshot (or a push run) came back.
    #[command(after_help = "Examples:
  drover verify -i hosts.ini docker --against 20261123T204500-1a2b
  drover verify -i hosts.ini web01 --against $id --remediate none --window 10

Each container must be present and running, with the same image id, healthy (when it has a \
healthcheck), and not restart-looping: its restart count must stay the same for the stability window. \
docker.service must be enabled and active, not only socket-activated. A container that exited is \
started (`docker start`) and checked again unless `--remediate none`; the report says which drover \
started, the daemon's \"manually stopped\" flag it found on each, and the fate the snapshot predicted for \
what happened (a reboot, a daemon restart) beside what was seen. Exit code 0: everything came back; \
3: something did not.")]
    Verify(VerifyArgs),
    /// The runs in the runs folder, newest first: when, how long, what, how it ended.
    #[command(after_help = "Examples:
  drover runs
  drover runs --json | jq '.[0]'

Status: done, halted (a failure budget stopped it), refused (outside its maintenance window), \
interrupted (Ctrl-C), running (a process holds it now), died (it says running but no process \
holds it: the controller died; resume it), snapshot (a `drover snapshot`). Hosts: ok, changed, \
failed (or unreachable), untouched (the rollout halted before their batch).")]
    Runs(RunsArgs),
    /// A run's report from its journal: one self-contained HTML page, Markdown for a change ticket,
    /// or JSON.
    #[command(after_help = "Examples:
  drover report last -o patch-window.html        # open it in a browser; nothing is fetched
  drover report 20261123T204500-1a2b --format markdown >> CHANGE-1234.md
  drover push -i hosts.ini site.yml --batch 1 --report run.html   # written when the run ends

The page has the summary (command, who, when, budget, window, result, halt reason, untouched \
hosts, the resume command), a timeline with a lane per host (grouped by batch; reboots, roll \
calls, the halt and resumes marked), each host's tasks with a failed task's command, rc and \
output (never a no_log task's), and each roll call beside the impact prediction.")]
    Report(ReportArgs),
    /// Render a template with one host's variables, or every matching host's into a folder.
    #[command(after_help = "Examples:
  drover render -i hosts.ini roles/app/templates/docker-compose.yml.j2 --host web01
  drover render -i hosts.ini docker-compose.yml.j2 --out rendered/ 'docker:!legacy'")]
    Render(RenderArgs),
    /// Lint or fix restart policies in compose files and compose templates.
    #[command(subcommand)]
    Compose(ComposeCommand),
    /// The modules drover runs in playbooks: their parameters, types and check-mode behaviour.
    #[command(after_help = "Examples:
  drover doc                    # every module, one line each
  drover doc apt                # one module's parameters
  drover doc --markdown         # the whole reference (docs/modules.md is this output)")]
    Doc(DocArgs),
    /// Show the configuration drover uses (ansible.cfg's shared settings, its [drover] section, their
    /// ANSIBLE_*/DROVER_* variables): each value and where it came from.
    #[command(after_help = "Example:
  drover config     # inventory, roles_path, forks, become, known_hosts, ... and their origins

Precedence, as Ansible's: a flag beats the environment variable, which beats the file. The file is \
the first of $ANSIBLE_CONFIG, ./ansible.cfg (not in a world-writable folder), ~/.ansible.cfg and \
/etc/ansible/ansible.cfg. Settings of the file drover does not use are listed too.")]
    Config,
}

/// `drover render`.
#[derive(Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub source: InventorySource,
    /// The template.
    pub template: PathBuf,
    /// Hosts to render for, with --out (default: all).
    pub pattern: Option<String>,
    /// Render for this host and print the result.
    #[arg(long, conflicts_with = "out", required_unless_present = "out")]
    pub host: Option<String>,
    /// Render for every matching host into DIR/<host>/<template name without .j2>.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Extra variables: key=value, a JSON object, or @file.yml (repeatable).
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
}

/// `drover doc`.
#[derive(Args)]
pub struct DocArgs {
    /// A module, by its name or an alias (`ansible.builtin.apt`).
    pub module: Option<String>,
    /// Print the whole reference as Markdown.
    #[arg(long, conflicts_with = "module")]
    pub markdown: bool,
}

/// `drover compose`.
#[derive(Subcommand)]
pub enum ComposeCommand {
    /// Report services whose restart policy will not survive a daemon restart or a reboot.
    #[command(after_help = "Examples:
  drover compose lint compose.yaml roles/*/templates/*compose*.j2
  drover compose lint -i hosts.ini roles/app/templates/docker-compose.yml.j2  # rendered per host

Reported: restart unless-stopped, \"no\", on-failure, or none at all; an unquoted no (a YAML 1.1 \
boolean); a policy inherited through an anchor or merge key; a Jinja default that is one of those; \
a conflict with deploy.restart_policy. Exit code 0: nothing found; 3: findings; 2: bad input.")]
    Lint(ComposeLintArgs),
    /// Rewrite those restart policies in place, changing nothing but the restart lines.
    #[command(after_help = "Examples:
  drover compose fix --check compose.yaml   # print the diff, write nothing; exit 3 if it would
  drover compose fix roles/app/templates/docker-compose.yml.j2 --keep migrate

A service meant to stop (a one-shot job) keeps its policy with a `# drover: keep-restart` comment on \
its name or restart line, or with --keep SERVICE. Comments, key order, quoting, indentation, CRLF, \
anchors and Jinja survive byte for byte; a missing policy is added at the service's indentation; an \
inherited policy is fixed once, where it is defined.")]
    Fix(ComposeFixArgs),
}

/// `drover compose lint`.
#[derive(Args)]
pub struct ComposeLintArgs {
    /// Compose files and compose templates (*.j2).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Lint templates as rendered for each host of this inventory, instead of their text.
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<PathBuf>,
    /// With -i: the hosts to render for.
    #[arg(long, default_value = "all")]
    pub hosts: String,
    /// Services to leave alone.
    #[arg(long)]
    pub keep: Vec<String>,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `drover compose fix`.
#[derive(Args)]
pub struct ComposeFixArgs {
    /// Compose files and compose templates (*.j2).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The policy to write.
    #[arg(long, default_value = "always", value_parser = ["always", "unless-stopped", "on-failure", "no"])]
    pub policy: String,
    /// Services to leave alone.
    #[arg(long)]
    pub keep: Vec<String>,
    /// Print a unified diff and write nothing; exit 3 when something would change.
    #[arg(long)]
    pub check: bool,
}

/// Where the inventory comes from.
#[derive(Args)]
pub struct InventorySource {
    /// Inventory file, folder or `host1,host2,` list; repeat to combine several.
    /// [default: ansible.cfg's `inventory`, or ANSIBLE_INVENTORY]
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<PathBuf>,
}

/// `drover inventory`.
#[derive(Args)]
pub struct InventoryArgs {
    #[command(flatten)]
    pub source: InventorySource,
    /// Print every group and host's variables as JSON, as `ansible-inventory --list` does.
    #[arg(long, conflicts_with_all = ["graph", "host"])]
    pub list: bool,
    /// Draw the group tree, from GROUP (default: all).
    #[arg(long, value_name = "GROUP", num_args = 0..=1, default_missing_value = "all", conflicts_with = "host")]
    pub graph: Option<String>,
    /// Print one host's merged variables as JSON.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
}

/// How to connect to hosts; inventory variables (ansible_user, ...) win over these per host.
#[derive(Args, Clone)]
pub struct ConnectArgs {
    /// Remote user for hosts whose inventory gives none (default: ~/.ssh/config, then your user).
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Private key for hosts whose inventory gives none. Passphrase: DROVER_SSH_PASSPHRASE or a prompt.
    #[arg(long = "private-key", value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// known_hosts file to check host keys against [default: ~/.ssh/known_hosts].
    #[arg(long = "known-hosts", value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Record unknown host keys instead of refusing them (changed keys are still refused).
    #[arg(long)]
    pub accept_new: bool,
    /// ssh_config file for HostName, User, Port, IdentityFile and ProxyJump [default: ~/.ssh/config].
    #[arg(long = "ssh-config", value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Seconds allowed to connect, exchange keys and authenticate.
    #[arg(long = "connect-timeout", value_name = "SECONDS", default_value = "10", value_parser = seconds)]
    pub connect_timeout: Duration,
    /// Do not offer the ssh-agent's keys.
    #[arg(long = "no-agent")]
    pub no_agent: bool,
    /// Run commands through sudo on every host (ansible_become per host).
    #[arg(short = 'b', long = "become")]
    pub become_all: bool,
    /// The user to become for hosts whose inventory gives no ansible_become_user.
    #[arg(long = "become-user", value_name = "USER", default_value = "root")]
    pub become_user: String,
    /// Ask for the sudo password once (or set DROVER_BECOME_PASSWORD). It is never printed or stored.
    #[arg(short = 'K', long = "ask-become-pass")]
    pub ask_become_pass: bool,
    /// sudo's options from ansible.cfg's `become_flags` (ANSIBLE_BECOME_FLAGS); no flag sets it,
    /// as ansible-playbook has none.
    #[arg(skip)]
    pub become_flags: Option<String>,
}

/// `drover run`.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: InventorySource,
    /// Hosts to run on: a host pattern such as `all`, `web`, `web:&prod`.
    pub pattern: String,
    /// Further narrow the hosts with another pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Hosts worked on at once.
    #[arg(short = 'f', long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..))]
    pub forks: u16,
    /// Seconds a command may run before it is killed and the host counted as failed.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub timeout: Option<Duration>,
    /// Print one JSON document with every host's stdout, stderr, rc, duration and timings instead of
    /// text, written as hosts finish.
    #[arg(long)]
    pub json: bool,
    /// Bytes of each host's stdout and of its stderr to hold and show (such as 512K, 16M): more than
    /// a person or a parser reads whole, while a runaway log is cut. The rest is counted, and kept
    /// only with --output-dir.
    #[arg(long, value_name = "SIZE", default_value = "16M", value_parser = size)]
    pub max_output: usize,
    /// Also write each host's whole output to DIR/<host>.stdout and DIR/<host>.stderr as it
    /// arrives.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Run this module instead of a command (`-m setup`, `-m apt -a 'name=curl state=latest'`):
    /// one task on every host, shown as a push shows it, with each host's result.
    #[arg(short = 'm', long = "module-name", value_name = "MODULE", conflicts_with_all = ["command", "output_dir"])]
    pub module: Option<String>,
    /// The module's arguments: `key=value ...` (or the free form of command and shell).
    #[arg(short = 'a', long = "args", value_name = "ARGS", requires = "module")]
    pub module_args: Option<String>,
    /// Where the journal of a module run goes.
    #[arg(
        long = "runs-dir",
        value_name = "DIR",
        default_value = ".drover/runs",
        requires = "module"
    )]
    pub runs_dir: PathBuf,
    /// The command, after `--`.
    #[arg(
        last = true,
        required_unless_present = "module",
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

/// A positive number of bytes, such as `4096`, `512K`, `16M` or `1G` (powers of 1024).
fn size(text: &str) -> Result<usize, String> {
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        _ => {
            return Err(format!(
                "`{text}` is not a size: a number of bytes, or one with K, M or G"
            ));
        }
    };
    match digits.parse::<usize>() {
        Ok(n) if n > 0 => n
            .checked_mul(1 << shift)
            .ok_or_else(|| format!("`{text}` is too large")),
        _ => Err(format!(
            "`{text}` is not a positive size such as 512K or 16M"
        )),
    }
}

/// A positive number of seconds, such as `10` or `0.5`.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 => drover_rollout::seconds(s).map_err(|e| format!("`{text}`: {e}")),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}

/// `drover push`.
#[derive(Args, Clone)]
pub struct PushArgs {
    /// Inventory file, folder or `host1,host2,` list; repeat to combine several.
    /// [default: ansible.cfg's `inventory`, or ANSIBLE_INVENTORY]
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<PathBuf>,
    /// The playbook.
    #[arg(required_unless_present = "resume")]
    pub playbook: Option<PathBuf>,
    /// Only read the playbook with its roles, task files and templates, and say what does not
    /// parse (exit 2, with file:line:col). Needs no inventory; no host is contacted.
    #[arg(long, conflicts_with = "resume")]
    pub syntax_check: bool,
    /// List each play's hosts (after --limit) and stop; no host is contacted.
    #[arg(long, conflicts_with_all = ["resume", "syntax_check"])]
    pub list_hosts: bool,
    /// List each play's tasks that --tags/--skip-tags select, with their tags, and stop.
    #[arg(long, conflicts_with_all = ["resume", "syntax_check"])]
    pub list_tasks: bool,
    /// List each play's task tags and stop.
    #[arg(long, conflicts_with_all = ["resume", "syntax_check"])]
    pub list_tags: bool,
    /// -v: show each task's registered result (as Ansible's -v); -vv: also where each task is
    /// written (file:line:col); -vvv: also every command a task runs on a host (`<host> EXEC ...`,
    /// never a no_log task's). `debug` with `verbosity: N` shows from N -v on.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Start at the first task with this name (`role : name`, the bare name, or a shell pattern):
    /// earlier plays are skipped, and so are the tasks before it in its play.
    #[arg(long = "start-at-task", value_name = "NAME", conflicts_with = "resume")]
    pub start_at_task: Option<String>,
    /// Confirm each task before it runs: `y` runs it, `c` runs it and the rest without asking,
    /// anything else skips it (asked once per task and batch, at the terminal).
    #[arg(long)]
    pub step: bool,
    /// Batch sizes: 1, 25% or 1,5,50% (the last repeats). Overrides the plays' `serial`.
    #[arg(long, value_name = "SIZES")]
    pub batch: Option<String>,
    /// Failed hosts a batch may have before the rollout halts: N or N% [default: 0].
    #[arg(long = "max-fail", value_name = "N|N%")]
    pub max_fail: Option<String>,
    /// Failed hosts the whole run may have before it halts.
    #[arg(long = "max-fail-total", value_name = "N")]
    pub max_fail_total: Option<usize>,
    /// Further narrow each play's hosts with a pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// Run only tasks with these tags (comma-separated or repeated).
    #[arg(short = 't', long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Skip tasks with these tags.
    #[arg(long = "skip-tags", value_delimiter = ',')]
    pub skip_tags: Vec<String>,
    /// Extra variables, the highest precedence: key=value, a JSON object, or @file.yml (repeatable).
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
    /// Change nothing; report what would change.
    #[arg(short = 'C', long)]
    pub check: bool,
    /// Show unified diffs of file changes.
    #[arg(short = 'D', long)]
    pub diff: bool,
    /// Continue the run with this id, skipping hosts it finished. Its settings are reused.
    #[arg(long, value_name = "RUN_ID")]
    pub resume: Option<String>,
    /// Remove a host lock left by another run before taking it.
    #[arg(long = "break-lock")]
    pub break_lock: bool,
    /// Assess each host before touching it, as `impact_gate:` in a play: `risk` refuses a host
    /// whose upgrade would leave a container down; `warn` says so and goes on. Either way the
    /// prediction is journaled, and the report shows it beside the roll call.
    #[arg(long = "impact-gate", value_parser = ["risk", "warn"])]
    pub impact_gate: Option<String>,
    /// Do not `docker start` containers that were running before a restart and did not come back
    /// (roll calls then only report them), as `rollcall: {remediate: none}` in a play.
    #[arg(long = "no-remediate")]
    pub no_remediate: bool,
    /// A rehearsal: each play's first N hosts run as a batch of their own, and the rollout halts
    /// there if a roll call saw a container do other than its predicted fate (a container predicted
    /// back that stayed down, or predicted down that came back).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub canary: Option<u32>,
    /// Seconds any task's remote command may run before it is killed and the task fails (a task's own
    /// `timeout:` wins).
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub timeout: Option<Duration>,
    /// Start batches even outside the plays' maintenance windows (`window:`); the journal notes it.
    #[arg(long = "ignore-window")]
    pub ignore_window: bool,
    /// A host whose task fails still runs the handlers it was notified of (the play keyword
    /// `force_handlers: true` does the same for one play).
    #[arg(long = "force-handlers")]
    pub force_handlers: bool,
    /// Continue at operator checkpoints (`pause` with a prompt) without asking; the journal notes it.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Seconds a host lock stays valid if the run dies without removing it.
    #[arg(long = "lock-ttl", value_name = "SECONDS", default_value_t = 3600)]
    pub lock_ttl: u64,
    /// Folders to look for roles in, after roles/ beside the playbook and before the playbook's
    /// own folder [default: ansible.cfg's `roles_path`, or ANSIBLE_ROLES_PATH, else
    /// ~/.ansible/roles, /usr/share/ansible/roles, /etc/ansible/roles].
    #[arg(long = "roles-path", value_name = "DIR")]
    pub roles_path: Vec<PathBuf>,
    /// Where run journals go.
    #[arg(long = "runs-dir", value_name = "DIR", default_value = ".drover/runs")]
    pub runs_dir: PathBuf,
    /// Write the run's report to FILE when it ends (halted or interrupted too): HTML, or Markdown
    /// for `.md`, JSON for `.json` (see `drover report`).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Hosts worked on at once.
    #[arg(short = 'f', long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..))]
    pub forks: u16,
    /// Print every event as a line of JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `drover runs`.
#[derive(Args)]
pub struct RunsArgs {
    /// Where run folders are.
    #[arg(long = "runs-dir", value_name = "DIR", default_value = ".drover/runs")]
    pub runs_dir: PathBuf,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// `drover report`.
#[derive(Args)]
pub struct ReportArgs {
    /// The run id (see `drover runs`), or `last` for the newest run.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// html (one self-contained page), markdown (for a change ticket) or json. Default: from the
    /// extension of -o (.md, .json, else html); Markdown on standard output.
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// Write to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where run folders are.
    #[arg(long = "runs-dir", value_name = "DIR", default_value = ".drover/runs")]
    pub runs_dir: PathBuf,
}

/// What `drover report` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained page: inline CSS and SVG, nothing fetched.
    Html,
    /// Tables to paste into a change ticket.
    Markdown,
    /// The report's data.
    Json,
}

impl ReportFormat {
    /// The format a file's extension asks for.
    pub fn of_path(path: &std::path::Path) -> ReportFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some("md" | "markdown") => ReportFormat::Markdown,
            Some("json") => ReportFormat::Json,
            _ => ReportFormat::Html,
        }
    }
}

/// Output formats of `drover impact`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImpactFormat {
    /// A summary and a table per host, for the terminal.
    Table,
    /// One JSON document.
    Json,
    /// Markdown, for a change ticket.
    Markdown,
}

/// `drover impact`.
#[derive(Args)]
pub struct ImpactArgs {
    #[command(flatten)]
    pub source: InventorySource,
    /// Hosts to assess.
    #[arg(default_value = "all")]
    pub pattern: String,
    /// Further narrow the hosts with another pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Hosts assessed at once.
    #[arg(short = 'f', long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..))]
    pub forks: u16,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ImpactFormat,
    /// Exit 3 when any container is at risk or will not return (or a compose file has a bad policy).
    #[arg(long = "fail-on", value_parser = ["risk"])]
    pub fail_on: Option<String>,
    /// Compose files or templates to check as rendered for each host (repeatable).
    #[arg(long = "compose", value_name = "PATH")]
    pub compose: Vec<PathBuf>,
}

/// `drover snapshot`.
#[derive(Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub source: InventorySource,
    /// Hosts to record.
    #[arg(default_value = "all")]
    pub pattern: String,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Hosts recorded at once.
    #[arg(short = 'f', long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..))]
    pub forks: u16,
    /// Where run folders go.
    #[arg(long = "runs-dir", value_name = "DIR", default_value = ".drover/runs")]
    pub runs_dir: PathBuf,
}

/// `drover verify`.
#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub source: InventorySource,
    /// Hosts to check.
    #[arg(default_value = "all")]
    pub pattern: String,
    /// The snapshot or push run to check against.
    #[arg(long, value_name = "RUN_ID")]
    pub against: String,
    /// `start` (the default): docker start the containers that had exited, then check again;
    /// `none`: only report them.
    #[arg(long, value_parser = ["start", "none"], default_value = "start")]
    pub remediate: String,
    /// Seconds to wait for everything to come back.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub deadline: u64,
    /// Seconds containers must stay back (restart count stable).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub window: u64,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Hosts checked at once.
    #[arg(short = 'f', long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..))]
    pub forks: u16,
    /// Where run folders are.
    #[arg(long = "runs-dir", value_name = "DIR", default_value = ".drover/runs")]
    pub runs_dir: PathBuf,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn sizes_are_bytes_or_powers_of_1024() {
        assert_eq!(size("4096"), Ok(4096));
        assert_eq!(size("512K"), Ok(512 << 10));
        assert_eq!(size("16M"), Ok(16 << 20));
        assert_eq!(size("1g"), Ok(1 << 30));
        for bad in ["0", "", "M", "1.5M", "10MB", "-1"] {
            assert!(size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arguments_are_consistent() {
        Cli::command().debug_assert();
    }

    /// clap rewraps each line of a help epilogue on its own: prose paragraphs are written as one line
    /// (and reflow to any terminal), but an example line longer than 100 columns would break in two
    /// in a pipe or a 100-column terminal.
    #[test]
    fn help_examples_fit_in_100_columns() {
        fn check(cmd: &clap::Command, path: &str) {
            let path = format!("{path} {}", cmd.get_name())
                .trim_start()
                .to_string();
            let epilogue = cmd
                .get_after_help()
                .map(|s| s.to_string())
                .unwrap_or_default();
            for line in epilogue.lines().filter(|l| l.starts_with("  ")) {
                assert!(
                    line.len() <= 100,
                    "`{path} --help`: {line:?} is {} columns",
                    line.len()
                );
            }
            for sub in cmd.get_subcommands() {
                check(sub, &path);
            }
        }
        check(&Cli::command(), "");
    }
}
