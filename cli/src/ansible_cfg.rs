//! Configuration, as ansible-core finds and reads it, for the settings drover shares with Ansible,
//! and drover's own in a `[drover]` section of the same file. Each setting also comes from its
//! environment variable. Precedence as Ansible's: a flag beats the variable, which beats the file,
//! which beats the default. The file is the first of `$ANSIBLE_CONFIG`, ./ansible.cfg (not in a
//! world-writable folder, which Ansible refuses too: anybody could plant one there), ~/.ansible.cfg,
//! /etc/ansible/ansible.cfg. `drover config` shows every setting and where its value came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::args::{Command, ConnectArgs};

/// What kind of value a setting holds, for reading it and for refusing a bad one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Text.
    Text,
    /// A path (relative to the file's folder, or to the current folder for a variable).
    Path,
    /// Paths separated by `sep`.
    Paths(char),
    /// Words separated by commas.
    List,
    /// A whole number.
    Count,
    /// A boolean (Ansible's truth table).
    Bool,
}

/// One setting drover reads.
struct Spec {
    section: &'static str,
    key: &'static str,
    /// Other names of the key in the file.
    aliases: &'static [&'static str],
    env: &'static str,
    kind: Kind,
    /// What it does in drover.
    what: &'static str,
    /// What drover uses when nothing sets it, where that is not a flag's default.
    default: Option<&'static str>,
}

const fn spec(
    section: &'static str,
    key: &'static str,
    env: &'static str,
    kind: Kind,
    what: &'static str,
) -> Spec {
    Spec {
        section,
        key,
        aliases: &[],
        env,
        kind,
        what,
        default: None,
    }
}

/// Every setting drover reads, in the order `drover config` shows them.
const SPECS: &[Spec] = &[
    Spec {
        aliases: &["hostfile"],
        ..spec(
            "defaults",
            "inventory",
            "ANSIBLE_INVENTORY",
            Kind::Paths(','),
            "-i: the inventory",
        )
    },
    Spec {
        default: Some(DEFAULT_ROLES_PATH),
        ..spec(
            "defaults",
            "roles_path",
            "ANSIBLE_ROLES_PATH",
            Kind::Paths(':'),
            "--roles-path: where roles are found",
        )
    },
    Spec {
        aliases: &["collections_paths"],
        default: Some(DEFAULT_COLLECTIONS_PATH),
        ..spec(
            "defaults",
            "collections_path",
            "ANSIBLE_COLLECTIONS_PATH",
            Kind::Paths(':'),
            "where roles named with their collection (NS.COLL.ROLE) are found, in ansible_collections/NS/COLL/roles/",
        )
    },
    spec(
        "defaults",
        "remote_user",
        "ANSIBLE_REMOTE_USER",
        Kind::Text,
        "-u: the remote user",
    ),
    spec(
        "defaults",
        "private_key_file",
        "ANSIBLE_PRIVATE_KEY_FILE",
        Kind::Path,
        "--private-key",
    ),
    spec(
        "defaults",
        "forks",
        "ANSIBLE_FORKS",
        Kind::Count,
        "--forks: hosts worked on at once",
    ),
    spec(
        "defaults",
        "timeout",
        "ANSIBLE_TIMEOUT",
        Kind::Count,
        "--connect-timeout: seconds to connect and log in",
    ),
    spec(
        "defaults",
        "host_key_checking",
        "ANSIBLE_HOST_KEY_CHECKING",
        Kind::Bool,
        "false is --accept-new: unknown keys recorded; a changed key is still refused",
    ),
    spec(
        "defaults",
        "vault_password_file",
        "ANSIBLE_VAULT_PASSWORD_FILE",
        Kind::Path,
        "--vault-password-file",
    ),
    spec(
        "defaults",
        "vault_identity_list",
        "ANSIBLE_VAULT_IDENTITY_LIST",
        Kind::List,
        "--vault-id",
    ),
    spec(
        "privilege_escalation",
        "become",
        "ANSIBLE_BECOME",
        Kind::Bool,
        "--become",
    ),
    spec(
        "privilege_escalation",
        "become_user",
        "ANSIBLE_BECOME_USER",
        Kind::Text,
        "--become-user",
    ),
    spec(
        "privilege_escalation",
        "become_method",
        "ANSIBLE_BECOME_METHOD",
        Kind::Text,
        "sudo (drover becomes with sudo only)",
    ),
    spec(
        "privilege_escalation",
        "become_flags",
        "ANSIBLE_BECOME_FLAGS",
        Kind::Text,
        "become_flags (play, block, task) or ansible_become_flags (host)",
    ),
    spec(
        "privilege_escalation",
        "become_ask_pass",
        "ANSIBLE_BECOME_ASK_PASS",
        Kind::Bool,
        "-K: ask for the sudo password",
    ),
    spec(
        "drover",
        "known_hosts",
        "DROVER_KNOWN_HOSTS",
        Kind::Path,
        "--known-hosts",
    ),
    spec(
        "drover",
        "runs_dir",
        "DROVER_RUNS_DIR",
        Kind::Path,
        "--runs-dir: where run journals go",
    ),
    spec(
        "drover",
        "batch",
        "DROVER_BATCH",
        Kind::Text,
        "push --batch: batch sizes",
    ),
];

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// An environment variable.
    Env(&'static str),
    /// A line of the configuration file.
    File(PathBuf, usize),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Env(name) => write!(f, "${name}"),
            Origin::File(path, line) => write!(f, "{}:{line}", path.display()),
        }
    }
}

/// A setting's value as written, where it came from, and the folder relative paths start from.
#[derive(Debug, Clone, PartialEq)]
struct Value {
    text: String,
    origin: Origin,
    base: PathBuf,
}

/// The settings found, by `section.key`, and the file's keys drover does not read.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AnsibleCfg {
    /// The file they came from.
    pub path: Option<PathBuf>,
    values: BTreeMap<String, Value>,
    /// `(section, key, line)` of the file's settings drover does not use.
    unused: Vec<(String, String, usize)>,
}

/// Ansible's roles_path when nothing sets it: where `ansible-galaxy install` puts roles, then the
/// system's folders.
const DEFAULT_ROLES_PATH: &str = "~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles";

/// Ansible's collections path when nothing sets it.
const DEFAULT_COLLECTIONS_PATH: &str = "~/.ansible/collections:/usr/share/ansible/collections";

/// A default path list, `~` made the home folder.
fn default_paths(list: &str) -> Vec<PathBuf> {
    list.split(':')
        .map(|p| path_from(p, Path::new("/")))
        .collect()
}

/// A path setting as Ansible reads it (`unfrackpath`): environment variables expanded, then `~/`
/// made the home folder's, then a relative path made relative to `base` (the configuration file's
/// folder).
fn path_from(value: &str, base: &Path) -> PathBuf {
    let value = &expand_vars(value, |name| std::env::var(name).ok());
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (value.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ if value == "~" => {
            std::env::var_os("HOME").map_or_else(|| PathBuf::from("~"), PathBuf::from)
        }
        _ => base.join(value),
    }
}

/// `$NAME` and `${NAME}` replaced by `lookup(NAME)`, as Python's `os.path.expandvars`: a name
/// that is not set, or a `$` not followed by a name, stays as written.
fn expand_vars(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match lookup(name).filter(|_| !name.is_empty()) {
            Some(value) => {
                out.push_str(&value);
                rest = &after[len..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn id(section: &str, key: &str) -> String {
    format!("{section}.{key}")
}

/// Reads a configuration file as Python's configparser reads it for Ansible (`;` and `#` start a
/// comment line, ` ;` an inline one), with paths relative to `base`.
pub fn parse(text: &str, path: &Path, base: &Path) -> AnsibleCfg {
    let mut cfg = AnsibleCfg {
        path: Some(path.to_path_buf()),
        ..AnsibleCfg::default()
    };
    let mut section = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            continue;
        };
        let key = key.trim();
        let value = value.split(" ;").next().unwrap_or_default().trim();
        match SPECS
            .iter()
            .find(|s| s.section == section && (s.key == key || s.aliases.contains(&key)))
        {
            Some(s) => {
                cfg.values.insert(
                    id(s.section, s.key),
                    Value {
                        text: value.to_string(),
                        origin: Origin::File(path.to_path_buf(), n + 1),
                        base: base.to_path_buf(),
                    },
                );
            }
            None => cfg.unused.push((section.clone(), key.to_string(), n + 1)),
        }
    }
    cfg
}

/// Whether a folder is writable by anybody (a planted ansible.cfg there is not read).
fn world_writable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o002 != 0)
}

/// The configuration file Ansible would read, if any.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ANSIBLE_CONFIG").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return Some(if p.is_dir() { p.join("ansible.cfg") } else { p }).filter(|p| p.is_file());
    }
    let cwd = std::env::current_dir().ok();
    let local = cwd
        .as_ref()
        .filter(|d| !world_writable(d))
        .map(|d| d.join("ansible.cfg"));
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ansible.cfg"));
    [local, home, Some(PathBuf::from("/etc/ansible/ansible.cfg"))]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
}

/// The configuration here: the file's settings, then the environment's over them; each checked.
pub fn load() -> Result<AnsibleCfg, String> {
    let mut cfg = match find() {
        Some(path) => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            parse(&text, &path, &base)
        }
        None => AnsibleCfg::default(),
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    for s in SPECS {
        if let Some(v) = std::env::var(s.env).ok().filter(|v| !v.is_empty()) {
            cfg.values.insert(
                id(s.section, s.key),
                Value {
                    text: v,
                    origin: Origin::Env(s.env),
                    base: cwd.clone(),
                },
            );
        }
    }
    cfg.check()?;
    Ok(cfg)
}

impl AnsibleCfg {
    fn value(&self, section: &str, key: &str) -> Option<&Value> {
        self.values.get(&id(section, key))
    }

    fn text(&self, section: &str, key: &str) -> Option<String> {
        self.value(section, key).map(|v| v.text.clone())
    }

    fn path(&self, section: &str, key: &str) -> Option<PathBuf> {
        self.value(section, key)
            .map(|v| path_from(&v.text, &v.base))
    }

    fn paths(&self, section: &str, key: &str, sep: char) -> Vec<PathBuf> {
        self.value(section, key).map_or_else(Vec::new, |v| {
            v.text
                .split(sep)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| path_from(p, &v.base))
                .collect()
        })
    }

    fn flag(&self, section: &str, key: &str) -> Option<bool> {
        self.value(section, key)
            .and_then(|v| drover_roles::truth(&v.text))
    }

    fn count(&self, section: &str, key: &str) -> Option<u64> {
        self.value(section, key)
            .and_then(|v| v.text.trim().parse().ok())
    }

    /// Refuses a value that is not what its setting takes, naming where it came from.
    fn check(&self) -> Result<(), String> {
        for s in SPECS {
            let Some(v) = self.value(s.section, s.key) else {
                continue;
            };
            let bad = match s.kind {
                Kind::Count => v.text.trim().parse::<u64>().map_or(true, |n| n == 0),
                Kind::Bool => drover_roles::truth(&v.text).is_none(),
                _ => false,
            };
            if bad {
                return Err(format!(
                    "{}: [{}] {} = `{}` is not {}",
                    v.origin,
                    s.section,
                    s.key,
                    v.text,
                    if s.kind == Kind::Bool {
                        "true or false"
                    } else {
                        "a whole number above 0"
                    }
                ));
            }
            if s.key == "become_method" && !matches!(v.text.trim(), "sudo" | "ansible.builtin.sudo")
            {
                return Err(format!(
                    "{}: become_method `{}` is not supported; drover becomes with sudo",
                    v.origin, v.text
                ));
            }
        }
        Ok(())
    }

    /// The vault password file, if configured.
    pub fn vault_password_file(&self) -> Option<PathBuf> {
        self.path("defaults", "vault_password_file")
    }

    /// The vault ids, if configured.
    pub fn vault_identity_list(&self) -> Vec<String> {
        self.text("defaults", "vault_identity_list")
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `drover config`'s report: each setting, its value and where it came from, then the file's
    /// settings drover does not use.
    pub fn report(&self) -> String {
        let mut out = match &self.path {
            Some(p) => format!("configuration file: {}\n\n", p.display()),
            None => "configuration file: none (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg)\n\n".into(),
        };
        for s in SPECS {
            let name = format!("[{}] {}", s.section, s.key);
            match self.value(s.section, s.key) {
                Some(v) => out.push_str(&format!(
                    "{name:<36} = {:<28} from {}\n{:<39}{}\n",
                    v.text, v.origin, "", s.what
                )),
                None => {
                    let default = s
                        .default
                        .map_or(String::new(), |d| format!("; drover uses {d}"));
                    out.push_str(&format!(
                        "{name:<36}   (not set: ${}{default})\n{:<39}{}\n",
                        s.env, "", s.what
                    ))
                }
            }
        }
        if !self.unused.is_empty() {
            out.push_str("\nin the file, not used by drover:\n");
            for (section, key, line) in &self.unused {
                out.push_str(&format!("  [{section}] {key} (line {line})\n"));
            }
        }
        out.push_str("\na flag on the command line wins over all of these\n");
        out
    }
}

/// Which of a subcommand's options the command line gave (the configuration fills the others).
pub trait Given {
    /// Whether the option with this clap id was on the command line.
    fn given(&self, id: &str) -> bool;
}

impl Given for clap::ArgMatches {
    fn given(&self, id: &str) -> bool {
        self.try_get_raw(id).ok().flatten().is_some()
            && self.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
    }
}

fn connect_defaults(connect: &mut ConnectArgs, cfg: &AnsibleCfg, given: &dyn Given) {
    if connect.user.is_none() {
        connect.user = cfg.text("defaults", "remote_user");
    }
    if connect.private_key.is_none() {
        connect.private_key = cfg.path("defaults", "private_key_file");
    }
    if connect.known_hosts.is_none() {
        connect.known_hosts = cfg.path("drover", "known_hosts");
    }
    if !given.given("connect_timeout")
        && let Some(n) = cfg.count("defaults", "timeout")
    {
        connect.connect_timeout = std::time::Duration::from_secs(n);
    }
    if !given.given("accept_new") && cfg.flag("defaults", "host_key_checking") == Some(false) {
        connect.accept_new = true;
    }
    if !given.given("become_all") && cfg.flag("privilege_escalation", "become") == Some(true) {
        connect.become_all = true;
    }
    if !given.given("become_user")
        && let Some(user) = cfg.text("privilege_escalation", "become_user")
    {
        connect.become_user = user;
    }
    connect.become_flags = cfg.text("privilege_escalation", "become_flags");
    if !given.given("ask_become_pass")
        && cfg.flag("privilege_escalation", "become_ask_pass") == Some(true)
    {
        connect.ask_become_pass = true;
    }
}

fn inventory_default(inventory: &mut Vec<PathBuf>, cfg: &AnsibleCfg) {
    if inventory.is_empty() {
        *inventory = cfg.paths("defaults", "inventory", ',');
    }
}

fn forks_default(forks: &mut u16, cfg: &AnsibleCfg, given: &dyn Given) {
    if !given.given("forks")
        && let Some(n) = cfg.count("defaults", "forks")
    {
        *forks = u16::try_from(n).unwrap_or(u16::MAX);
    }
}

fn runs_default(runs: &mut PathBuf, cfg: &AnsibleCfg, given: &dyn Given) {
    if !given.given("runs_dir")
        && let Some(p) = cfg.path("drover", "runs_dir")
    {
        *runs = p;
    }
}

/// Fills what the command line left out from the configuration.
pub fn apply(command: &mut Command, cfg: &AnsibleCfg, given: &dyn Given) {
    match command {
        Command::Inventory(a) => inventory_default(&mut a.source.inventory, cfg),
        Command::Run(a) => {
            inventory_default(&mut a.source.inventory, cfg);
            connect_defaults(&mut a.connect, cfg, given);
            forks_default(&mut a.forks, cfg, given);
            runs_default(&mut a.runs_dir, cfg, given);
        }
        Command::Push(a) => {
            inventory_default(&mut a.inventory, cfg);
            connect_defaults(&mut a.connect, cfg, given);
            forks_default(&mut a.forks, cfg, given);
            runs_default(&mut a.runs_dir, cfg, given);
            if a.roles_path.is_empty() {
                a.roles_path = cfg.paths("defaults", "roles_path", ':');
            }
            if a.roles_path.is_empty() {
                a.roles_path = default_paths(DEFAULT_ROLES_PATH);
            }
            // Roles named with their collection are looked for in the collections paths too,
            // after the roles paths (role.rs reads each folder both ways).
            let mut collections = cfg.paths("defaults", "collections_path", ':');
            if collections.is_empty() {
                collections = default_paths(DEFAULT_COLLECTIONS_PATH);
            }
            (a.roles_path).extend(
                collections
                    .iter()
                    .map(|c| c.join(drover_roles::role::COLLECTIONS)),
            );
            if a.batch.is_none() {
                a.batch = cfg.text("drover", "batch");
            }
        }
        Command::Impact(a) => {
            inventory_default(&mut a.source.inventory, cfg);
            connect_defaults(&mut a.connect, cfg, given);
            forks_default(&mut a.forks, cfg, given);
        }
        Command::Render(a) => inventory_default(&mut a.source.inventory, cfg),
        Command::Snapshot(a) => {
            inventory_default(&mut a.source.inventory, cfg);
            connect_defaults(&mut a.connect, cfg, given);
            forks_default(&mut a.forks, cfg, given);
            runs_default(&mut a.runs_dir, cfg, given);
        }
        Command::Verify(a) => {
            inventory_default(&mut a.source.inventory, cfg);
            connect_defaults(&mut a.connect, cfg, given);
            forks_default(&mut a.forks, cfg, given);
            runs_default(&mut a.runs_dir, cfg, given);
        }
        Command::Runs(a) => runs_default(&mut a.runs_dir, cfg, given),
        Command::Report(a) => runs_default(&mut a.runs_dir, cfg, given),
        Command::Compose(_) | Command::Doc(_) | Command::Config => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_as_ansible_reads_them_with_their_lines() {
        let cfg = parse(
            "# a comment\n[defaults]\ninventory = inventories/homelab/hosts.yml ; inline\nroles_path = roles:/etc/ansible/roles\nremote_user=ops\nprivate_key_file = keys/id_ed25519\nhost_key_checking = False\nforks = 20\nstdout_callback = yaml\n[privilege_escalation]\nremote_user = not-this\nbecome = True\n[drover]\nruns_dir = journals\n",
            Path::new("/srv/repo/ansible.cfg"),
            Path::new("/srv/repo"),
        );
        assert_eq!(
            cfg.paths("defaults", "inventory", ','),
            [PathBuf::from("/srv/repo/inventories/homelab/hosts.yml")]
        );
        assert_eq!(
            cfg.paths("defaults", "roles_path", ':'),
            [
                PathBuf::from("/srv/repo/roles"),
                PathBuf::from("/etc/ansible/roles")
            ]
        );
        assert_eq!(cfg.text("defaults", "remote_user").as_deref(), Some("ops"));
        assert_eq!(
            cfg.path("defaults", "private_key_file"),
            Some(PathBuf::from("/srv/repo/keys/id_ed25519"))
        );
        assert_eq!(cfg.flag("defaults", "host_key_checking"), Some(false));
        assert_eq!(cfg.count("defaults", "forks"), Some(20));
        assert_eq!(cfg.flag("privilege_escalation", "become"), Some(true));
        assert_eq!(
            cfg.path("drover", "runs_dir"),
            Some(PathBuf::from("/srv/repo/journals"))
        );
        assert_eq!(
            cfg.unused,
            [
                ("defaults".to_string(), "stdout_callback".to_string(), 9),
                (
                    "privilege_escalation".to_string(),
                    "remote_user".to_string(),
                    11
                )
            ]
        );
        let report = cfg.report();
        assert!(report.contains("[defaults] forks"), "{report}");
        assert!(report.contains("from /srv/repo/ansible.cfg:8"), "{report}");
        assert!(
            report.contains("[defaults] stdout_callback (line 9)"),
            "{report}"
        );
        assert!(cfg.check().is_ok());
        let bad = parse(
            "[defaults]\nforks = lots\n",
            Path::new("a.cfg"),
            Path::new("."),
        );
        assert!(bad.check().unwrap_err().contains("a.cfg:2"));
        let su = parse(
            "[privilege_escalation]\nbecome_method = su\n",
            Path::new("a.cfg"),
            Path::new("."),
        );
        assert!(su.check().unwrap_err().contains("drover becomes with sudo"));
        // A setting with a default of its own says what applies when nothing sets it.
        let none = parse("", Path::new("a.cfg"), Path::new("."));
        assert!(
            none.report().contains(
                "(not set: $ANSIBLE_ROLES_PATH; drover uses ~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles)"
            ),
            "{}",
            none.report()
        );
    }

    #[test]
    fn environment_variables_in_paths_expand_as_python_expands_them() {
        let env = |n: &str| match n {
            "PWD" => Some("/srv/infra".to_string()),
            "HOME" => Some("/home/ops".to_string()),
            _ => None,
        };
        assert_eq!(
            expand_vars("$PWD/galaxy_roles:${HOME}/roles", env),
            "/srv/infra/galaxy_roles:/home/ops/roles"
        );
        assert_eq!(expand_vars("$UNSET/x:$:${PWD", env), "$UNSET/x:$:${PWD");
        assert_eq!(expand_vars("a$PWD-b", env), "a/srv/infra-b");
        assert_eq!(expand_vars("${}/${PWD}", env), "${}//srv/infra");
    }
}
