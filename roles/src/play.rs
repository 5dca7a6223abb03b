//! Playbooks and plays.

use std::path::{Path, PathBuf};

use drover_yaml::Node;

use crate::error::{At, PlaybookError};
use crate::role::{self, Role};
use crate::source::Source;
use crate::task::{Layered, Task, TaskBody, inherit_layer, parse_tasks};
use crate::window::Window;
use crate::{ModuleKind, Vars};

const PLAY_KEYS: &[&str] = &[
    "name",
    "hosts",
    "vars",
    "vars_files",
    "roles",
    "pre_tasks",
    "tasks",
    "post_tasks",
    "handlers",
    "serial",
    "max_fail_percentage",
    "any_errors_fatal",
    "force_handlers",
    "become",
    "become_user",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "fact_path",
    "environment",
    "module_defaults",
    "remote_user",
    "connection",
    "collections",
    "tags",
    "impact_gate",
    "rollcall",
    "window",
    "ignore_errors",
    "ignore_unreachable",
    "no_log",
    "check_mode",
    "become_method",
    "become_flags",
    "strategy",
    "order",
    "vars_prompt",
];

/// One `vars_prompt:` entry: a variable the operator is asked for when the play starts, unless
/// `-e` gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct VarPrompt {
    /// The variable.
    pub name: String,
    /// What to ask (the name when unsaid).
    pub prompt: String,
    /// The answer when the operator just presses Enter, or when there is no terminal.
    pub default: Option<String>,
    /// The answer is not echoed, and is a secret afterwards (the default, as in Ansible).
    pub private: bool,
    /// Ask twice; the answers must match.
    pub confirm: bool,
    /// Hash the answer with `password_hash` (`sha512_crypt`, `sha256_crypt`).
    pub encrypt: Option<String>,
    /// The salt for `encrypt` (random when unsaid).
    pub salt: Option<String>,
    /// Keep template syntax in the answer as text.
    pub unsafe_text: bool,
}

/// The order a play takes its hosts in, before batching (`order:`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HostOrder {
    /// As the inventory lists them (the default).
    #[default]
    Inventory,
    /// The inventory's order, reversed.
    ReverseInventory,
    /// By name.
    Sorted,
    /// By name, reversed.
    ReverseSorted,
    /// In a random order.
    Shuffle,
}

/// What a play does before touching a host whose upgrade may restart Docker (`impact_gate:`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum ImpactGate {
    /// Nothing (the default).
    #[default]
    Off,
    /// Assess the host and journal the prediction (for the roll call and the report beside it),
    /// saying which containers are at risk, and go on.
    Warn,
    /// Assess the host and refuse it when a container would not come back.
    Risk,
}

impl ImpactGate {
    /// `off`, `warn` or `risk`.
    pub fn parse(text: &str) -> Option<ImpactGate> {
        match text {
            "off" | "false" => Some(ImpactGate::Off),
            "warn" => Some(ImpactGate::Warn),
            "risk" => Some(ImpactGate::Risk),
            _ => None,
        }
    }
}

/// One batch size of `serial` or `--batch`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BatchSize {
    /// So many hosts.
    Count(usize),
    /// This share of all the play's hosts, rounded down, at least one.
    Percent(f64),
}

/// Rolling batches, as Ansible's `serial`: the sizes in order, the last one repeating.
#[derive(Debug, Clone, PartialEq)]
pub struct Batches(pub Vec<BatchSize>);

impl Batches {
    /// Parses `1`, `25%` or `1,5,50%`.
    pub fn parse(text: &str) -> Result<Batches, String> {
        let sizes = text
            .split(',')
            .map(|part| {
                let part = part.trim();
                match part.strip_suffix('%') {
                    Some(p) => p.trim().parse::<f64>().ok().filter(|p| *p > 0.0 && *p <= 100.0).map(BatchSize::Percent),
                    None => part.parse::<usize>().ok().filter(|n| *n > 0).map(BatchSize::Count),
                }
                .ok_or_else(|| format!("`{part}` is not a batch size; expected a number such as 1, a share such as 25%, or a list such as 1,5,50%"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Batches(sizes))
    }

    /// The sizes of the batches for `hosts` hosts; they add up to `hosts`.
    pub fn sizes(&self, hosts: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut left = hosts;
        let mut i = 0;
        while left > 0 {
            let spec = self.0[i.min(self.0.len() - 1)];
            let n = match spec {
                BatchSize::Count(n) => n,
                BatchSize::Percent(p) => ((hosts as f64 * p / 100.0) as usize).max(1),
            };
            let n = n.min(left);
            out.push(n);
            left -= n;
            i += 1;
        }
        out
    }
}

/// One play.
#[derive(Debug, Clone, PartialEq)]
pub struct Play {
    /// `name:` (or the host pattern).
    pub name: String,
    /// Where the play starts.
    pub at: At,
    /// The host pattern.
    pub hosts: String,
    /// `vars:` then `vars_files:`, merged.
    pub vars: Vars,
    /// Roles, in order.
    pub roles: Vec<Role>,
    /// `pre_tasks:`.
    pub pre_tasks: Vec<Task>,
    /// `tasks:`.
    pub tasks: Vec<Task>,
    /// `post_tasks:`.
    pub post_tasks: Vec<Task>,
    /// `handlers:` (the roles' handlers are in their roles).
    pub handlers: Vec<Task>,
    /// Roles brought in by `include_role:`/`import_role:`, for their handlers.
    pub included_roles: Vec<Role>,
    /// `serial:`.
    pub serial: Option<Batches>,
    /// `max_fail_percentage:`.
    pub max_fail_percentage: Option<f64>,
    /// `any_errors_fatal:`.
    pub any_errors_fatal: bool,
    /// `force_handlers:`: a host that fails still runs the handlers it has been notified of.
    pub force_handlers: bool,
    /// `become:`.
    pub become_enabled: Option<bool>,
    /// `become_user:`.
    pub become_user: Option<String>,
    /// `gather_facts:` (default true).
    pub gather_facts: bool,
    /// Conditions the play's fact gathering waits on: an `import_playbook:` entry's `when:`, asked
    /// of each host before it gathers (as Ansible's `_included_conditional`).
    pub gather_when: Vec<String>,
    /// `gather_subset:`: which facts the play gathers (default all).
    pub gather_subset: crate::Subsets,
    /// `gather_timeout:`: seconds the facts may take (default 60, as Ansible's setup).
    pub gather_timeout: f64,
    /// `fact_path:`: the folder of local `*.fact` files (default /etc/ansible/facts.d).
    pub fact_path: Option<String>,
    /// `remote_user:`: the user to log in as where the host has no `ansible_user`.
    pub remote_user: Option<String>,
    /// `connection:`: `local` or `ssh`, where the host has no `ansible_connection`.
    pub connection: Option<String>,
    /// `tags:`, applied to every task of the play.
    pub tags: Vec<String>,
    /// `impact_gate:`: assess each host before touching it (`warn`), and refuse it when a
    /// container would not come back (`risk`).
    pub impact_gate: ImpactGate,
    /// `rollcall:`: how the roll call after Docker or host restarts runs (`false` turns it off).
    pub rollcall: RollcallSpec,
    /// `window:`: maintenance windows; the play starts no batch outside all of them.
    pub windows: Vec<Window>,
    /// `order:`: the order hosts are taken in.
    pub order: HostOrder,
    /// `vars_prompt:`: variables asked for before the play runs (the command line answers them).
    pub vars_prompt: Vec<VarPrompt>,
}

/// `rollcall:` settings of a play.
#[derive(Debug, Clone, PartialEq)]
pub struct RollcallSpec {
    /// Roll calls run at all (default true).
    pub enabled: bool,
    /// Seconds to wait for everything to come back (default 300).
    pub deadline: u64,
    /// Seconds containers must stay back (default 30).
    pub window: u64,
    /// `docker start` what was running before and did not come back, then check again
    /// (`remediate: start`, the default; `remediate: none` turns it off).
    pub remediate: bool,
}

impl Default for RollcallSpec {
    fn default() -> Self {
        RollcallSpec {
            enabled: true,
            deadline: 300,
            window: 30,
            remediate: true,
        }
    }
}

/// A playbook: its plays, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Playbook {
    /// The playbook file.
    pub path: PathBuf,
    /// Its plays.
    pub plays: Vec<Play>,
}

impl Playbook {
    /// Reads a playbook with its roles (from `roles/` beside it, then `roles_path`), task files and
    /// vars files, checking everything it can before any host is touched.
    pub fn load(path: &Path, roles_path: &[PathBuf]) -> Result<Playbook, PlaybookError> {
        let (src, doc) = Source::load(path)?;
        Playbook::from_source(path, src, doc, (roles_path, 0))
    }

    /// Like [`Playbook::load`], with the playbook's text given; roles and included files are still
    /// read from beside `path`. For tools and fuzzing.
    pub fn from_text(
        path: &Path,
        text: &str,
        roles_path: &[PathBuf],
    ) -> Result<Playbook, PlaybookError> {
        let (src, doc) = Source::parse(path, text)?;
        Playbook::from_source(path, src, doc, (roles_path, 0))
    }

    fn from_source(
        path: &Path,
        mut src: Source,
        doc: Option<Node>,
        (roles_path, depth): (&[PathBuf], usize),
    ) -> Result<Playbook, PlaybookError> {
        let Some(doc) = doc else {
            return Ok(Playbook {
                path: path.to_path_buf(),
                plays: Vec::new(),
            });
        };
        // Ansible's order: roles/ beside the playbook, the roles path, then the playbook's own
        // folder (a role beside the playbook, or named by a path relative to it). Collections
        // beside the playbook, when there are some, come first for a role named with its collection.
        let mut search_roles = vec![src.dir().join("roles")];
        let beside = src.dir().join("collections").join(crate::role::COLLECTIONS);
        search_roles.extend(Some(beside).filter(|d| d.is_dir()));
        search_roles.extend(roles_path.iter().cloned());
        search_roles.push(src.dir().to_path_buf());
        src.roles_path = search_roles.clone();
        let mut plays = Vec::new();
        for node in src.list(&doc, "a playbook (a list of plays)")? {
            match import_of(node) {
                Some(import) => plays.extend(imported(&src, node, import, (roles_path, depth))?),
                None => plays.push(play(&src, node, &search_roles)?),
            }
        }
        Ok(Playbook {
            path: path.to_path_buf(),
            plays,
        })
    }
}

/// The `import_playbook:` value of a playbook entry, if it is one.
fn import_of(node: &Node) -> Option<&Node> {
    node.get("import_playbook")
        .or_else(|| node.get("ansible.builtin.import_playbook"))
}

/// The plays of an `import_playbook:` entry, read from the file it names (beside the importing
/// playbook, `{{ playbook_dir }}` allowed), with the entry's `vars:` and `tags:` given to each.
fn imported(
    src: &Source,
    node: &Node,
    import: &Node,
    (roles_path, depth): (&[PathBuf], usize),
) -> Result<Vec<Play>, PlaybookError> {
    if depth > 20 {
        return Err(src.invalid(import, "playbooks import each other too deeply (a loop?)"));
    }
    let entries = src.map(node, "an import_playbook entry")?;
    let key = if node.get("import_playbook").is_some() {
        "import_playbook"
    } else {
        "ansible.builtin.import_playbook"
    };
    src.check_keys(
        entries,
        &[key, "name", "vars", "tags", "when"],
        "an import_playbook entry",
    )?;
    let name = src.string(import, "import_playbook")?;
    let dir = src.dir().to_path_buf();
    let name = crate::task::known_path(&name, std::slice::from_ref(&dir)).ok_or_else(|| {
        src.invalid(import, "a playbook named by a template (beyond {{ playbook_dir }}) is not supported; name the file")
    })?;
    let path = dir.join(&name);
    if !path.is_file() {
        return Err(PlaybookError::MissingFile {
            at: src.at(import),
            what: "playbook",
            name,
            looked: crate::error::folder(&dir),
        });
    }
    let (inner, doc) = Source::load(&path)?;
    let mut plays = Playbook::from_source(&path, inner, doc, (roles_path, depth + 1))?.plays;
    let vars = match node.get("vars") {
        Some(v) => src.vars(v, "vars")?,
        None => Vars::new(),
    };
    let tags = match node.get("tags") {
        Some(t) => src.strings(t, "tags")?,
        None => Vec::new(),
    };
    let when = match node.get("when") {
        Some(w) => crate::task::conditions(src, w, "when")?,
        None => Vec::new(),
    };
    for play in &mut plays {
        if !when.is_empty() {
            condition_play(play, &when);
        }
        // The import's vars sit below the play's own.
        let mut merged = vars.clone();
        merged.extend(std::mem::take(&mut play.vars));
        play.vars = merged;
        play.tags.extend(tags.iter().cloned());
    }
    Ok(plays)
}

/// An import's `when:` on a play it brings, as Ansible forwards it: before each task of its
/// sections and its roles (handlers run when notified), and before its fact gathering.
fn condition_play(play: &mut Play, when: &[String]) {
    fn prepend(tasks: &mut [Task], when: &[String]) {
        for task in tasks {
            let own = std::mem::take(&mut task.when);
            task.when = when.iter().cloned().chain(own).collect();
        }
    }
    fn role(r: &mut Role, when: &[String]) {
        prepend(&mut r.tasks, when);
        for dep in &mut r.dependencies {
            role(dep, when);
        }
    }
    for list in [&mut play.pre_tasks, &mut play.tasks, &mut play.post_tasks] {
        prepend(list, when);
    }
    for r in &mut play.roles {
        role(r, when);
    }
    play.gather_when = when
        .iter()
        .cloned()
        .chain(std::mem::take(&mut play.gather_when))
        .collect();
}

fn play(src: &Source, node: &Node, roles_path: &[PathBuf]) -> Result<Play, PlaybookError> {
    let entries = src.map(node, "a play")?;
    src.check_keys(entries, PLAY_KEYS, "a play")?;
    let hosts = node.get("hosts").ok_or_else(|| {
        src.invalid(
            node,
            "this play has no `hosts:`; expected a host pattern such as `all` or `web`",
        )
    })?;
    let dir = src.dir().to_path_buf();
    let search = vec![dir.clone()];
    let tasks = |key: &str| {
        node.get(key)
            .map_or(Ok(Vec::new()), |n| parse_tasks(src, n, &search, 0))
    };
    let mut play = Play {
        name: String::new(),
        at: src.at(node),
        hosts: src.strings(hosts, "hosts")?.join(":"),
        vars: node
            .get("vars")
            .map_or(Ok(Vars::new()), |n| src.vars(n, "vars"))?,
        roles: Vec::new(),
        pre_tasks: tasks("pre_tasks")?,
        tasks: tasks("tasks")?,
        post_tasks: tasks("post_tasks")?,
        handlers: crate::task::handlers_of(tasks("handlers")?),
        included_roles: Vec::new(),
        serial: None,
        max_fail_percentage: None,
        any_errors_fatal: false,
        force_handlers: false,
        become_enabled: None,
        become_user: None,
        gather_facts: true,
        gather_when: Vec::new(),
        gather_subset: crate::Subsets::default(),
        gather_timeout: 60.0,
        fact_path: None,
        remote_user: None,
        connection: None,
        tags: Vec::new(),
        impact_gate: ImpactGate::Off,
        rollcall: RollcallSpec::default(),
        windows: Vec::new(),
        order: HostOrder::Inventory,
        vars_prompt: Vec::new(),
    };
    // Task keywords given to the whole play reach every task and handler, as a block's do.
    let mut keywords = crate::task::Task::empty(src.at(node), &[]);
    play.name = node
        .get("name")
        .map_or(Ok(play.hosts.clone()), |n| src.string(n, "name"))?;
    for (k, v) in entries {
        let key = k.key_string();
        if matches!(
            key.as_str(),
            "ignore_errors"
                | "ignore_unreachable"
                | "no_log"
                | "check_mode"
                | "become_method"
                | "become_flags"
        ) && crate::task::passed_keyword(src, &mut keywords, &key, v)?
        {
            continue;
        }
        match key.as_str() {
            "vars_files" => {
                for file in src.strings(v, "vars_files")? {
                    let file = crate::task::known_path(&file, std::slice::from_ref(&dir))
                        .ok_or_else(|| {
                            src.invalid(v, format!("vars file `{file}`: a name with templates beyond {{{{ playbook_dir }}}} is not supported; name the file"))
                        })?;
                    let path = dir.join(&file);
                    if !path.is_file() {
                        return Err(PlaybookError::MissingFile {
                            at: src.at(v),
                            what: "vars file",
                            name: file,
                            looked: crate::error::folder(&dir),
                        });
                    }
                    play.vars.extend(role::read_vars(&path)?);
                }
            }
            "roles" => {
                for entry in src.list(v, "roles")? {
                    let role = role::entry(src, entry, roles_path, &dir, 0)?;
                    role::with_dependencies(role, &mut play.roles);
                }
            }
            "serial" => {
                let text = src.strings(v, "serial")?.join(",");
                play.serial = Some(Batches::parse(&text).map_err(|e| src.invalid(v, e))?);
            }
            "max_fail_percentage" => {
                play.max_fail_percentage = Some(match v.value {
                    drover_yaml::Value::Int(n) => n as f64,
                    drover_yaml::Value::Float(f) => f,
                    _ => return Err(src.invalid(v, "expected max_fail_percentage to be a number")),
                })
            }
            "any_errors_fatal" => play.any_errors_fatal = src.boolean(v, "any_errors_fatal")?,
            "force_handlers" => play.force_handlers = src.boolean(v, "force_handlers")?,
            "become" => play.become_enabled = Some(src.boolean(v, "become")?),
            "become_user" => play.become_user = Some(src.string(v, "become_user")?),
            "gather_facts" => play.gather_facts = src.boolean(v, "gather_facts")?,
            "gather_subset" => {
                let words: Vec<String> = src
                    .strings(v, "gather_subset")?
                    .iter()
                    .flat_map(|w| w.split(',').map(|p| p.trim().to_string()))
                    .collect();
                play.gather_subset =
                    crate::Subsets::parse(&words).map_err(|e| src.invalid(v, e))?;
            }
            "gather_timeout" => {
                play.gather_timeout = match v.value {
                    drover_yaml::Value::Int(n) if n > 0 => n as f64,
                    drover_yaml::Value::Float(f) if f > 0.0 && f < 1e9 => f,
                    _ => {
                        return Err(
                            src.invalid(v, "expected gather_timeout to be a number of seconds")
                        );
                    }
                }
            }
            "fact_path" => play.fact_path = Some(src.string(v, "fact_path")?),
            "remote_user" => play.remote_user = Some(src.string(v, "remote_user")?),
            "connection" => {
                let c = src.string(v, "connection")?;
                play.connection = Some(match c.as_str() {
                    "ssh" | "smart" | "paramiko" => "ssh".to_string(),
                    "local" => c,
                    other => {
                        return Err(src.invalid(
                            v,
                            format!("connection: `{other}` is not supported; drover connects with ssh or runs local"),
                        ));
                    }
                });
            }
            // Modules are found by their short or full names whatever collections a play lists, so
            // the list needs nothing more than to be well formed.
            "collections" => {
                src.strings(v, "collections")?;
            }
            "tags" => play.tags = src.strings(v, "tags")?,
            // drover takes each host of a batch through the play at its own pace (Ansible's `free`);
            // under `linear`, Ansible's default, a host would wait for the others between tasks:
            // the results are the same, only the interleaving of output lines differs.
            "strategy" => match src.string(v, "strategy")?.as_str() {
                "linear" | "free" => {}
                other => {
                    return Err(src.invalid(
                        v,
                        format!("strategy: `{other}` is not supported; drover runs `free` (and `linear` as it)"),
                    ));
                }
            },
            "vars_prompt" => {
                play.vars_prompt = src
                    .list(v, "vars_prompt")?
                    .iter()
                    .map(|e| var_prompt(src, e))
                    .collect::<Result<_, _>>()?;
            }
            "order" => {
                play.order = match src.string(v, "order")?.as_str() {
                    "inventory" => HostOrder::Inventory,
                    "reverse_inventory" => HostOrder::ReverseInventory,
                    "sorted" => HostOrder::Sorted,
                    "reverse_sorted" => HostOrder::ReverseSorted,
                    "shuffle" => HostOrder::Shuffle,
                    other => {
                        return Err(src.invalid(
                            v,
                            format!("order: `{other}`; expected inventory, reverse_inventory, sorted, reverse_sorted or shuffle"),
                        ));
                    }
                };
            }
            "rollcall" => play.rollcall = rollcall_spec(src, v)?,
            "window" => {
                play.windows = src
                    .strings(v, "window")?
                    .iter()
                    .map(|w| Window::parse(w).map_err(|e| src.invalid(v, format!("window: {e}"))))
                    .collect::<Result<_, _>>()?
            }
            "impact_gate" => {
                let text = src.string(v, "impact_gate")?;
                play.impact_gate = ImpactGate::parse(&text).ok_or_else(|| {
                    src.invalid(
                        v,
                        format!("impact_gate: `{text}` is not `risk`, `warn` or `off`"),
                    )
                })?;
            }
            _ => {}
        }
    }
    let mut included = Vec::new();
    for list in [
        &play.pre_tasks,
        &play.tasks,
        &play.post_tasks,
        &play.handlers,
    ] {
        included_roles(list, &mut included);
    }
    for role in &play.roles {
        included_roles(&role.tasks, &mut included);
    }
    play.included_roles = included;
    let layers = [
        ("environment", Layered::Environment),
        ("module_defaults", Layered::ModuleDefaults),
    ];
    for (key, which) in layers {
        let Some(v) = node.get(key) else { continue };
        let layer = match which {
            Layered::Environment => crate::task::environment(src, v)?,
            Layered::ModuleDefaults => crate::module_defaults::parse(src, v)?,
        };
        for list in [
            &mut play.pre_tasks,
            &mut play.tasks,
            &mut play.post_tasks,
            &mut play.handlers,
        ] {
            inherit_layer(list, &layer, which);
        }
        for role in play.roles.iter_mut().chain(play.included_roles.iter_mut()) {
            role_layer(role, &layer, which);
        }
    }
    for list in [
        &mut play.pre_tasks,
        &mut play.tasks,
        &mut play.post_tasks,
        &mut play.handlers,
    ] {
        crate::task::pass_keywords(&keywords, list);
    }
    for role in play.roles.iter_mut().chain(play.included_roles.iter_mut()) {
        crate::task::pass_keywords(&keywords, &mut role.tasks);
        crate::task::pass_keywords(&keywords, &mut role.handlers);
    }
    check_required(&play)?;
    Ok(play)
}

/// Every module task has its required parameters, its own or from `module_defaults:`; the first
/// in file order that does not is the error.
fn check_required(play: &Play) -> Result<(), PlaybookError> {
    let mut missing: Vec<(At, String)> = play
        .all_tasks()
        .into_iter()
        .filter_map(|t| match &t.body {
            TaskBody::Module(m) => m
                .missing(&t.module_defaults)
                .map(|message| (m.at.clone(), message)),
            _ => None,
        })
        .collect();
    missing.sort_by(|a, b| {
        (&a.0.path, a.0.mark.line, a.0.mark.col).cmp(&(&b.0.path, b.0.mark.line, b.0.mark.col))
    });
    match missing.into_iter().next() {
        Some((at, message)) => Err(PlaybookError::Invalid { at, message }),
        None => Ok(()),
    }
}

/// One `vars_prompt:` entry, its keys checked.
fn var_prompt(src: &Source, node: &Node) -> Result<VarPrompt, PlaybookError> {
    let entries = src.map(node, "a vars_prompt entry")?;
    src.check_keys(
        entries,
        &[
            "name",
            "prompt",
            "default",
            "private",
            "confirm",
            "encrypt",
            "salt",
            "salt_size",
            "unsafe",
        ],
        "a vars_prompt entry",
    )?;
    let text = |key: &str| node.get(key).map(|v| src.string(v, key)).transpose();
    let flag =
        |key: &str, default: bool| node.get(key).map_or(Ok(default), |v| src.boolean(v, key));
    let name =
        text("name")?.ok_or_else(|| src.invalid(node, "a vars_prompt entry needs `name:`"))?;
    let encrypt = text("encrypt")?;
    if let Some(e) = &encrypt
        && !matches!(e.as_str(), "sha512_crypt" | "sha256_crypt")
    {
        return Err(src.invalid(
            node.get("encrypt").unwrap_or(node),
            format!("vars_prompt encrypt: `{e}` is not supported; drover has sha512_crypt and sha256_crypt"),
        ));
    }
    if let Some(v) = node.get("salt_size") {
        return Err(src.invalid(
            v,
            "vars_prompt salt_size: drover makes 16-character salts; give `salt:` to choose one",
        ));
    }
    Ok(VarPrompt {
        prompt: text("prompt")?.unwrap_or_else(|| name.clone()),
        name,
        default: node.get("default").map(|v| match v.to_json() {
            serde_json::Value::String(s) => s,
            // As Python's str gives a number or a boolean.
            serde_json::Value::Bool(b) => if b { "True" } else { "False" }.to_string(),
            other => other.to_string(),
        }),
        private: flag("private", true)?,
        confirm: flag("confirm", false)?,
        encrypt,
        salt: text("salt")?,
        unsafe_text: flag("unsafe", false)?,
    })
}

/// The play's `environment:` or `module_defaults:` for a role's tasks and handlers (and its
/// dependencies').
fn role_layer(role: &mut Role, layer: &serde_json::Value, which: Layered) {
    inherit_layer(&mut role.tasks, layer, which);
    inherit_layer(&mut role.handlers, layer, which);
    for dep in &mut role.dependencies {
        role_layer(dep, layer, which);
    }
}

impl Play {
    /// Whether a task of the play (or of its roles) is `add_host` or `group_by`: the hosts and
    /// groups later plays name may then exist only once the run gets there.
    pub fn changes_inventory(&self) -> bool {
        self.all_tasks().into_iter().any(|t| {
            matches!(&t.body, TaskBody::Module(m)
                if matches!(m.kind, ModuleKind::AddHost | ModuleKind::GroupBy))
        })
    }

    /// Every task the play holds, its roles' and handlers included, and the tasks inside blocks
    /// (`block`, `rescue`, `always`) as well as the blocks themselves.
    pub fn all_tasks(&self) -> Vec<&Task> {
        let roles = self.roles.iter().chain(&self.included_roles);
        let mut todo: Vec<&Task> = [
            &self.pre_tasks,
            &self.tasks,
            &self.post_tasks,
            &self.handlers,
        ]
        .into_iter()
        .flatten()
        .chain(roles.flat_map(|r| r.tasks.iter().chain(&r.handlers)))
        .collect();
        let mut all = Vec::with_capacity(todo.len());
        while let Some(task) = todo.pop() {
            if let TaskBody::Block(b) = &task.body {
                todo.extend(b.block.iter().chain(&b.rescue).chain(&b.always));
            }
            all.push(task);
        }
        all
    }
}

/// Whether `handler` (of `role`, or of the play itself) answers a `notify:` of `name`: by its
/// name, one of its `listen` topics, or `role : name` (as Ansible resolves them).
pub fn handler_answers(role: Option<&str>, handler: &Task, name: &str) -> bool {
    handler.name.as_deref() == Some(name)
        || handler.listen.iter().any(|l| l == name)
        || role.zip(handler.name.as_deref()).is_some_and(|(r, n)| {
            name.split_once(':')
                .is_some_and(|(a, b)| a.trim() == r && b.trim() == n)
        })
}

/// The `notify:` names that no handler of the play answers, each with the task that gives it and
/// the closest handler name. Ansible loads such a play and fails the task when it notifies (drover
/// does the same at run time); this lets `--syntax-check` and `push` warn of a typo before any
/// host is touched. A templated name is known only when the task runs, and is left to then.
pub fn unknown_notifies(play: &Play) -> Vec<(At, String)> {
    let roles: Vec<&Role> = play.roles.iter().chain(&play.included_roles).collect();
    let handlers: Vec<(Option<&str>, &Task)> = play
        .handlers
        .iter()
        .map(|h| (None, h))
        .chain(
            roles
                .iter()
                .flat_map(|r| r.handlers.iter().map(|h| (Some(r.name.as_str()), h))),
        )
        .collect();
    let mut names: Vec<&str> = handlers
        .iter()
        .filter_map(|(_, h)| h.name.as_deref())
        .collect();
    names.dedup();
    let mut unknown = Vec::new();
    for task in play.all_tasks() {
        let missing = task.notify.iter().filter(|n| {
            !n.contains("{{") && !handlers.iter().any(|(r, h)| handler_answers(*r, h, n))
        });
        for name in missing {
            let hint = crate::source::suggest(name, &names)
                .map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"));
            unknown.push((
                task.at.clone(),
                format!("notify: no handler is named or listens to `{name}`{hint}; the task will fail if it changes something"),
            ));
        }
    }
    unknown.sort_by(|a, b| {
        (&a.0.path, a.0.mark.line, a.0.mark.col).cmp(&(&b.0.path, b.0.mark.line, b.0.mark.col))
    });
    unknown
}

/// The dynamic includes of `play` that could not be read (see [`crate::Block::deferred`]): where,
/// and why, so the operator hears of them before any host is touched.
pub fn deferred_includes(play: &Play) -> Vec<(At, String)> {
    let mut found: Vec<(At, String)> = play
        .all_tasks()
        .into_iter()
        .filter_map(|task| match &task.body {
            TaskBody::Block(b) => b.deferred.clone().map(|why| (task.at.clone(), why)),
            TaskBody::Module(_) => None,
        })
        .collect();
    found.sort_by(|a, b| {
        (&a.0.path, a.0.mark.line, a.0.mark.col).cmp(&(&b.0.path, b.0.mark.line, b.0.mark.col))
    });
    found
}

/// `rollcall: false`, or a mapping of `deadline`, `window` and `remediate: start|none`.
fn rollcall_spec(src: &Source, node: &Node) -> Result<RollcallSpec, PlaybookError> {
    let mut spec = RollcallSpec::default();
    if let drover_yaml::Value::Bool(b) = node.value {
        spec.enabled = b;
        return Ok(spec);
    }
    let entries = src.map(node, "rollcall")?;
    src.check_keys(
        entries,
        &["enabled", "deadline", "window", "remediate"],
        "rollcall",
    )?;
    for (k, v) in entries {
        let seconds = |v: &Node| match v.value {
            drover_yaml::Value::Int(n) if n >= 0 => Ok(n as u64),
            _ => Err(src.invalid(v, "expected a whole number of seconds")),
        };
        match k.key_string().as_str() {
            "enabled" => spec.enabled = src.boolean(v, "enabled")?,
            "deadline" => spec.deadline = seconds(v)?,
            "window" => spec.window = seconds(v)?,
            _ => {
                spec.remediate = match src.string(v, "remediate")?.as_str() {
                    "start" => true,
                    "none" => false,
                    _ => return Err(src.invalid(v, "expected `start` or `none`")),
                }
            }
        }
    }
    Ok(spec)
}

/// Roles brought in by `include_role:`/`import_role:` anywhere in `tasks`, once each.
fn included_roles(tasks: &[Task], out: &mut Vec<Role>) {
    for t in tasks {
        if let TaskBody::Block(b) = &t.body {
            if let Some(r) = &b.role
                && !out.iter().any(|o| o.name == r.name)
            {
                out.push((**r).clone());
            }
            for list in [&b.block, &b.rescue, &b.always] {
                included_roles(list, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_follow_ansible_serial() {
        assert_eq!(Batches::parse("1").unwrap().sizes(5), [1, 1, 1, 1, 1]);
        assert_eq!(Batches::parse("25%").unwrap().sizes(10), [2, 2, 2, 2, 2]);
        assert_eq!(Batches::parse("1,5,50%").unwrap().sizes(20), [1, 5, 10, 4]);
        assert_eq!(Batches::parse("30%").unwrap().sizes(2), [1, 1]);
        assert!(Batches::parse("0").is_err());
        assert!(Batches::parse("150%").is_err());
        assert!(Batches::parse("two").is_err());
    }
}
