//! Tasks: keywords, one module call or a block, and task files included from others.

use std::path::{Path, PathBuf};

use drover_yaml::Node;
use serde_json::Value as Json;

use crate::Vars;
use crate::error::{At, PlaybookError};
use crate::module::{self, Module, ModuleKind};
use crate::source::{Source, suggest};
use crate::syntax;

const KEYWORDS: &[&str] = &[
    "name",
    "when",
    "loop",
    "with_items",
    "loop_control",
    "register",
    "notify",
    "changed_when",
    "failed_when",
    "ignore_errors",
    "become",
    "become_user",
    "tags",
    "retries",
    "until",
    "delay",
    "run_once",
    "delegate_to",
    "delegate_facts",
    "vars",
    "listen",
    "no_log",
    "check_mode",
    "args",
    "block",
    "rescue",
    "always",
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "environment",
    "module_defaults",
    "timeout",
    "async",
    "poll",
    "ignore_unreachable",
    "become_method",
    "become_flags",
    "local_action",
    "throttle",
];

/// `loop:` (or `with_<lookup>:`) and its `loop_control`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopSpec {
    /// The items, unrendered (a list or a template that renders to one); for `with_<lookup>:`, the
    /// lookup's terms.
    pub items: Json,
    /// The lookup plugin of `with_<lookup>:` (`items` for `with_items:`); none for `loop:`.
    pub lookup: Option<String>,
    /// `loop_control.loop_var` (default `item`).
    pub loop_var: String,
    /// `loop_control.label`: how an item is shown in output.
    pub label: Option<String>,
    /// `loop_control.index_var`: a variable holding the item's index (from 0).
    pub index_var: Option<String>,
    /// `loop_control.pause`: seconds to wait between items.
    pub pause: Option<f64>,
    /// `loop_control.extended`: `ansible_loop` describes where the loop is (and, unless
    /// `extended_allitems: false`, holds every item).
    pub extended: Option<bool>,
    /// `loop_control.extended_allitems`.
    pub extended_allitems: bool,
}

impl LoopSpec {
    /// The variables of item `index` of `items`, as Ansible sets them: the loop variable,
    /// `ansible_loop_var`, the index variable (and `ansible_index_var`) and, extended,
    /// `ansible_loop`.
    pub fn item_vars(&self, items: &[Json], index: usize) -> Vars {
        let mut vars = Vars::new();
        vars.insert(self.loop_var.clone(), items[index].clone());
        vars.insert("ansible_loop_var".into(), Json::from(self.loop_var.clone()));
        if let Some(var) = &self.index_var {
            vars.insert(var.clone(), Json::from(index));
            vars.insert("ansible_index_var".into(), Json::from(var.clone()));
        }
        if self.extended == Some(true) {
            let length = items.len();
            let mut l = serde_json::Map::new();
            if self.extended_allitems {
                l.insert("allitems".into(), Json::Array(items.to_vec()));
            }
            l.insert("index".into(), Json::from(index + 1));
            l.insert("index0".into(), Json::from(index));
            l.insert("revindex".into(), Json::from(length - index));
            l.insert("revindex0".into(), Json::from(length - index - 1));
            l.insert("first".into(), Json::from(index == 0));
            l.insert("last".into(), Json::from(index + 1 == length));
            l.insert("length".into(), Json::from(length));
            if index > 0 {
                l.insert("previtem".into(), items[index - 1].clone());
            }
            if let Some(next) = items.get(index + 1) {
                l.insert("nextitem".into(), next.clone());
            }
            vars.insert("ansible_loop".into(), Json::Object(l));
        }
        vars
    }
}

/// `block:` with its `rescue:` and `always:` sections.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    /// Tasks run in order.
    pub block: Vec<Task>,
    /// Tasks run when a task of `block` fails.
    pub rescue: Vec<Task>,
    /// Tasks run in any case.
    pub always: Vec<Task>,
    /// The role these tasks belong to, for `include_role:`/`import_role:`: its defaults, vars,
    /// templates and files apply inside.
    pub role: Option<Box<crate::Role>>,
    /// The tasks of an `import_tasks:` (a static import): among handlers, each is a handler of
    /// its own, as Ansible imports them.
    pub imported: bool,
    /// An include whose file name is a template (`tasks/{{ storage_type }}.yml`): the name, rendered
    /// when the task runs, picks which of the blocks of `block` runs (by their `candidate`).
    pub choose: Option<String>,
    /// The file name this block was read from, as an include's template renders it.
    pub candidate: Option<String>,
    /// A dynamic include (`include_tasks`, `include_role`) whose file or role could not be read:
    /// why. Ansible reads them only when the include runs, so the block is one `fail` task with
    /// this message: the include fails on the hosts that reach it, and nowhere else.
    pub deferred: Option<String>,
}

/// What a task does.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskBody {
    /// Call one module.
    Module(Module),
    /// Run a block (also what an included task file becomes).
    Block(Block),
}

/// A task keyword whose value is written as a template (`ignore_errors: "{{ optional }}"`),
/// rendered when the task runs, as Ansible evaluates keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatedKeyword {
    /// `ignore_errors:`, a boolean.
    IgnoreErrors,
    /// `become:`, a boolean.
    Become,
    /// `become_user:`, a name.
    BecomeUser,
    /// `become_flags:`, sudo's options.
    BecomeFlags,
    /// `no_log:`, a boolean (true until rendered, so nothing shows before).
    NoLog,
    /// `check_mode:`, a boolean.
    CheckMode,
    /// `timeout:`, whole seconds.
    Timeout,
}

impl TemplatedKeyword {
    /// The keyword as written.
    pub fn name(self) -> &'static str {
        match self {
            TemplatedKeyword::IgnoreErrors => "ignore_errors",
            TemplatedKeyword::Become => "become",
            TemplatedKeyword::BecomeUser => "become_user",
            TemplatedKeyword::BecomeFlags => "become_flags",
            TemplatedKeyword::NoLog => "no_log",
            TemplatedKeyword::CheckMode => "check_mode",
            TemplatedKeyword::Timeout => "timeout",
        }
    }
}

/// A number a task keyword takes: written as one, or as a template (`retries: "{{ n }}"`) that is
/// rendered, and checked, when the task runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    /// Written as a number.
    Literal(f64),
    /// Written as a template.
    Template(String),
}

/// One task, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// `name:`.
    pub name: Option<String>,
    /// Where the task starts.
    pub at: At,
    /// Its module call or block.
    pub body: TaskBody,
    /// Conditions, all of which must hold.
    pub when: Vec<String>,
    /// A loop over items.
    pub loop_spec: Option<LoopSpec>,
    /// `register:`.
    pub register: Option<String>,
    /// Handlers to notify when the task changes something.
    pub notify: Vec<String>,
    /// Overrides of "changed" (all must hold).
    pub changed_when: Option<Vec<String>>,
    /// Overrides of "failed" (any holding fails the task).
    pub failed_when: Option<Vec<String>>,
    /// Go on after a failure (none: not said here; see [`Task::ignores_errors`]).
    pub ignore_errors: Option<bool>,
    /// Go on when the host cannot be reached during this task (none: not said here).
    pub ignore_unreachable: Option<bool>,
    /// Run through sudo (None: the play's or host's setting).
    pub become_enabled: Option<bool>,
    /// Whom to become.
    pub become_user: Option<String>,
    /// sudo's options in place of `-H` (`become_flags:`).
    pub become_flags: Option<String>,
    /// Tags for `--tags` and `--skip-tags`.
    pub tags: Vec<String>,
    /// Retry until `until` holds, up to this many times.
    pub retries: Option<Number>,
    /// The condition retries wait for.
    pub until: Option<String>,
    /// Seconds between retries.
    pub delay: Number,
    /// Run on the first host of the batch only (none: not said here).
    pub run_once: Option<bool>,
    /// `delegate_to:`: the host (a name, or a template rendered when the task runs) whose connection
    /// runs the module, with this host's variables.
    pub delegate_to: Option<String>,
    /// `delegate_facts:`: facts a delegated task gathers or sets belong to the delegate (None: not
    /// said here, which is false).
    pub delegate_facts: Option<bool>,
    /// Task variables.
    pub vars: Vars,
    /// Extra topics a handler answers to.
    pub listen: Vec<String>,
    /// Hide the task's output and parameters (none: not said here; see [`Task::hides_output`]).
    pub no_log: Option<bool>,
    /// `timeout:` seconds after which the task's remote command is killed and the task fails.
    pub timeout: Option<u64>,
    /// `environment:` layers, outermost first (the play's, its blocks', the task's own): each a
    /// mapping or a template that renders to one, merged in order when the task runs.
    pub environment: Vec<Json>,
    /// `module_defaults:` layers, outermost first (the play's, its blocks', the task's own): each
    /// a mapping of module names (or `group/NAME`) to parameters, checked at load; see
    /// [`crate::module_defaults::apply`].
    pub module_defaults: Vec<Json>,
    /// `check_mode:` override.
    pub check_mode: Option<bool>,
    /// Folders where this task's `templates/` and `files/` are looked up (its role, then the playbook).
    pub search: Vec<PathBuf>,
    /// `throttle:`: at most this many hosts run the task at once (none: no limit).
    pub throttle: Option<u32>,
    /// `async:` seconds: the most the task may run (with `poll: 0`, in the background).
    pub async_seconds: Option<Number>,
    /// `poll:` seconds between checks of an async task; 0 starts it in the background and goes on.
    pub poll: Option<Number>,
    /// Keywords written as templates, rendered when the task runs into the fields above.
    pub templated: Vec<(TemplatedKeyword, String)>,
}

impl Task {
    /// Whether a failure is ignored (`ignore_errors`, its own or its block's; false when unsaid).
    pub fn ignores_errors(&self) -> bool {
        self.ignore_errors.unwrap_or(false)
    }

    /// Whether output and parameters are hidden (`no_log`, its own or its block's).
    pub fn hides_output(&self) -> bool {
        self.no_log.unwrap_or(false)
    }

    /// Whether it runs on the batch's first host only (`run_once`, its own or its block's).
    pub fn once(&self) -> bool {
        self.run_once.unwrap_or(false)
    }

    /// Whether `keyword` is said on this task, as a value or as a template.
    fn says(&self, keyword: TemplatedKeyword) -> bool {
        let literal = match keyword {
            TemplatedKeyword::IgnoreErrors => self.ignore_errors.is_some(),
            TemplatedKeyword::Become => self.become_enabled.is_some(),
            TemplatedKeyword::BecomeUser => self.become_user.is_some(),
            TemplatedKeyword::BecomeFlags => self.become_flags.is_some(),
            TemplatedKeyword::NoLog => self.no_log.is_some(),
            TemplatedKeyword::CheckMode => self.check_mode.is_some(),
            TemplatedKeyword::Timeout => self.timeout.is_some(),
        };
        literal || self.templated.iter().any(|(k, _)| *k == keyword)
    }

    /// A task with no keywords and an empty block, at `at`, looking for files in `search`.
    pub(crate) fn empty(at: At, search: &[PathBuf]) -> Task {
        Task {
            name: None,
            at,
            body: TaskBody::Block(Block::default()),

            when: Vec::new(),
            loop_spec: None,
            register: None,
            notify: Vec::new(),
            changed_when: None,
            failed_when: None,
            ignore_errors: None,
            ignore_unreachable: None,
            become_enabled: None,
            become_user: None,
            become_flags: None,
            tags: Vec::new(),
            retries: None,
            until: None,
            delay: Number::Literal(5.0),
            run_once: None,
            delegate_to: None,
            delegate_facts: None,
            vars: Vars::new(),
            listen: Vec::new(),
            no_log: None,
            timeout: None,
            environment: Vec::new(),
            module_defaults: Vec::new(),
            check_mode: None,
            search: search.to_vec(),
            templated: Vec::new(),
            async_seconds: None,
            poll: None,
            throttle: None,
        }
    }
}

/// Reads a list of tasks. `search` lists the role and playbook folders for templates, files and includes.
pub fn parse_tasks(
    src: &Source,
    node: &Node,
    search: &[PathBuf],
    depth: usize,
) -> Result<Vec<Task>, PlaybookError> {
    if depth > 20 {
        return Err(src.invalid(node, "task files include each other too deeply (a loop?)"));
    }
    src.list(node, "a task list")?
        .into_iter()
        .map(|t| parse_task(src, t, search, depth))
        .collect()
}

pub(crate) fn conditions(
    src: &Source,
    node: &Node,
    what: &str,
) -> Result<Vec<String>, PlaybookError> {
    syntax::expressions(src, node, what)?;
    src.list(node, what)?
        .into_iter()
        .map(|n| match &n.value {
            drover_yaml::Value::Bool(b) => Ok(if *b { "true" } else { "false" }.to_string()),
            _ => src.string(n, what),
        })
        .collect()
}

/// A task key as drover reads it: the include and import actions may be written with their
/// collection (`ansible.builtin.include_tasks`), as ansible-lint asks; they are read as the keyword.
fn keyword(key: &str) -> &str {
    let short = key
        .strip_prefix("ansible.builtin.")
        .or_else(|| key.strip_prefix("ansible.legacy."))
        .unwrap_or(key);
    if matches!(
        short,
        "include_tasks" | "import_tasks" | "include_role" | "import_role"
    ) {
        short
    } else {
        key
    }
}

fn parse_task(
    src: &Source,
    node: &Node,
    search: &[PathBuf],
    depth: usize,
) -> Result<Task, PlaybookError> {
    let entries = src.map(node, "a task")?;
    let mut task = Task::empty(src.at(node), search);
    let module_keys: Vec<&(Node, Node)> = entries
        .iter()
        .filter(|(k, _)| {
            let key = k.key_string();
            !KEYWORDS.contains(&keyword(&key)) && !key.starts_with("with_")
        })
        .collect();
    let args = entries
        .iter()
        .find(|(k, _)| k.key_string() == "args")
        .map(|(_, v)| v);
    let mut body = None;
    let mut block = Block::default();
    let mut loop_control = None;
    let mut unrolled_loop = false;
    let mut local_action = None;
    for (k, v) in entries {
        if passed_keyword(src, &mut task, keyword(&k.key_string()), v)? {
            continue;
        }
        match keyword(&k.key_string()) {
            "name" => task.name = Some(src.string(v, "name")?),
            "when" => task.when = conditions(src, v, "when")?,
            key if key == "loop" || key.starts_with("with_") => {
                if task.loop_spec.is_some() {
                    return Err(src.invalid(
                        k,
                        "a task has one loop: `loop:` or one `with_<lookup>:`, not both",
                    ));
                }
                syntax::templates(src, v, key)?;
                task.loop_spec = Some(LoopSpec {
                    items: v.to_json(),
                    lookup: loop_lookup(src, k, key)?,
                    loop_var: "item".into(),
                    label: None,
                    index_var: None,
                    pause: None,
                    extended: None,
                    extended_allitems: true,
                });
            }
            "loop_control" => loop_control = Some(v),
            "register" => task.register = Some(src.string(v, "register")?),
            "notify" => task.notify = src.strings(v, "notify")?,
            "changed_when" => task.changed_when = Some(conditions(src, v, "changed_when")?),
            "failed_when" => task.failed_when = Some(conditions(src, v, "failed_when")?),
            "tags" => task.tags = src.strings(v, "tags")?,
            "retries" => task.retries = Some(number_or_template(src, v, "retries", true)?),
            // A list of conditions holds when each does, as `when:`'s.
            "until" => {
                let all = conditions(src, v, "until")?;
                task.until = Some(match all.as_slice() {
                    [one] => one.clone(),
                    many => many
                        .iter()
                        .map(|c| format!("({c})"))
                        .collect::<Vec<_>>()
                        .join(" and "),
                });
            }
            "delay" => task.delay = number_or_template(src, v, "delay", false)?,
            "async" => task.async_seconds = Some(number_or_template(src, v, "async", true)?),
            "poll" => task.poll = Some(number_or_template(src, v, "poll", true)?),
            "vars" => {
                syntax::templates(src, v, "vars")?;
                task.vars = src.vars(v, "vars")?;
            }
            "listen" => task.listen = src.strings(v, "listen")?,
            "local_action" => {
                local_action = Some(local_action_call(src, v)?);
                task.delegate_to = Some("localhost".into());
            }
            "block" => block.block = parse_tasks(src, v, search, depth + 1)?,
            "rescue" => block.rescue = parse_tasks(src, v, search, depth + 1)?,
            "always" => block.always = parse_tasks(src, v, search, depth + 1)?,
            which @ ("include_tasks" | "import_tasks") => {
                let imported = which == "import_tasks";
                let read = unroll_include(src, v, entries, search, depth).and_then(|u| match u {
                    Some(unrolled) => Ok((unrolled, None, true)),
                    None => include(src, v, search, depth).map(|(b, c)| (b, c, false)),
                });
                let (mut block, choose) = match read {
                    Ok((block, choose, unrolled)) => {
                        unrolled_loop |= unrolled;
                        (block, choose)
                    }
                    Err(e) if !imported => {
                        body = Some(deferred(src, v, search, "include_tasks", &e));
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                for chosen in &mut block {
                    match (&choose, &mut chosen.body) {
                        (Some(_), TaskBody::Block(b)) => apply(src, v, search, &mut b.block)?,
                        _ => apply(src, v, search, std::slice::from_mut(chosen))?,
                    }
                }
                body = Some(TaskBody::Block(Block {
                    block,
                    imported,
                    choose,
                    ..Block::default()
                }));
            }
            which @ ("include_role" | "import_role") => {
                let mut role = match include_role(src, v, search, depth) {
                    Ok(role) => role,
                    Err(e) if which == "include_role" => {
                        body = Some(deferred(src, v, search, "include_role", &e));
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let mut tasks = dependency_tasks(&mut role, &src.at(v), search);
                tasks.append(&mut role.tasks);
                apply(src, v, search, &mut tasks)?;
                body = Some(TaskBody::Block(Block {
                    block: tasks,
                    role: Some(Box::new(role)),
                    ..Block::default()
                }));
            }
            "args" => {}
            _ => {}
        }
    }
    if let (Some(lc), Some(spec)) = (loop_control, task.loop_spec.as_mut()) {
        let lc_entries = src.map(lc, "loop_control")?;
        src.check_keys(
            lc_entries,
            &[
                "loop_var",
                "label",
                "pause",
                "index_var",
                "extended",
                "extended_allitems",
            ],
            "loop_control",
        )?;
        if let Some(v) = lc.get("extended") {
            spec.extended = Some(src.boolean(v, "loop_control.extended")?);
        }
        if let Some(v) = lc.get("extended_allitems") {
            spec.extended_allitems = src.boolean(v, "loop_control.extended_allitems")?;
        }
        if let Some(var) = lc.get("loop_var") {
            spec.loop_var = src.string(var, "loop_var")?;
        }
        if let Some(var) = lc.get("index_var") {
            spec.index_var = Some(src.string(var, "index_var")?);
        }
        if let Some(pause) = lc.get("pause") {
            spec.pause = Some(f64::from(count(src, pause, "loop_control.pause")?));
        }
        if let Some(label) = lc.get("label") {
            syntax::templates(src, label, "loop_control.label")?;
            spec.label = Some(src.string(label, "label")?);
        }
    }
    // An unrolled include has run its loop already: each item is a block of its own, and `when`
    // is asked of each item, as for a loop.
    if unrolled_loop {
        task.loop_spec = None;
        let when = std::mem::take(&mut task.when);
        if let Some(TaskBody::Block(b)) = &mut body {
            for item in &mut b.block {
                item.when = when.clone();
            }
        }
    }
    let has_block = entries.iter().any(|(k, _)| k.key_string() == "block");
    task.body = match (body, has_block, module_keys.as_slice()) {
        (None, false, []) if let Some((key, value)) = &local_action => {
            TaskBody::Module(module_call(src, key, value, args, &task.search)?)
        }
        (_, _, extra) if local_action.is_some() => {
            return Err(src.invalid(
                extra.first().map_or(node, |(k, _)| k),
                format!(
                    "`local_action:` names the task's module; this task also names {}",
                    extra
                        .iter()
                        .map(|(k, _)| format!("`{}`", k.key_string()))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            ));
        }
        (Some(b), false, []) => b,
        (None, true, []) => TaskBody::Block(block),
        (None, false, [(k, v)]) => TaskBody::Module(module_call(src, k, v, args, &task.search)?),
        (None, false, []) => {
            return Err(src.invalid(
                node,
                "this task names no module; expected one such as `command:` or `template:`",
            ));
        }
        (_, _, extra) => return Err(conflict(src, extra, node)),
    };
    if let TaskBody::Module(m) = &task.body
        && matches!(m.kind, ModuleKind::Reboot | ModuleKind::WaitForConnection)
        && let Some((key, _)) = entries
            .iter()
            .find(|(k, _)| matches!(k.key_string().as_str(), "until" | "retries"))
    {
        return Err(src.invalid(
            key,
            format!("`{}` waits for the host itself (reboot_timeout, timeout); `until`/`retries` are not supported on it", m.name()),
        ));
    }
    check_async(src, entries, node, &task)?;
    if let TaskBody::Block(b) = &mut task.body
        && !task.vars.is_empty()
    {
        for list in [&mut b.block, &mut b.rescue, &mut b.always] {
            inherit_vars(list, &task.vars);
        }
    }
    let keywords = Keywords::of(&task);
    if let TaskBody::Block(b) = &mut task.body {
        for list in [&mut b.block, &mut b.rescue, &mut b.always] {
            keywords.inherit(list);
        }
    }
    if let TaskBody::Block(b) = &mut task.body {
        for list in [&mut b.block, &mut b.rescue, &mut b.always] {
            pass_layers(&task.environment, &task.module_defaults, list);
        }
    }
    Ok(task)
}

/// `async`/`poll` where drover can honour them: `poll` only with `async`; on a module task other
/// than reboot and wait_for_connection; in the background (`poll: 0`) for command and shell only.
fn check_async(
    src: &Source,
    entries: &[(Node, Node)],
    node: &Node,
    task: &Task,
) -> Result<(), PlaybookError> {
    let key = |name: &str| {
        entries
            .iter()
            .find(|(k, _)| k.key_string() == name)
            .map_or(node, |(k, _)| k)
    };
    let Some(seconds) = &task.async_seconds else {
        if task.poll.is_some() {
            return Err(src.invalid(
                key("poll"),
                "`poll:` without `async:` does nothing; give `async: SECONDS` too",
            ));
        }
        return Ok(());
    };
    let TaskBody::Module(m) = &task.body else {
        return Err(src.invalid(
            key("async"),
            "`async:` goes on a module task, not on a block or include",
        ));
    };
    if matches!(m.kind, ModuleKind::Reboot | ModuleKind::WaitForConnection) {
        return Err(src.invalid(
            key("async"),
            format!(
                "`{}` waits for the host itself; `async:` is not supported on it",
                m.name()
            ),
        ));
    }
    if let Number::Literal(n) = seconds
        && *n < 1.0
    {
        return Err(src.invalid(key("async"), "`async:` needs at least 1 second"));
    }
    let background = matches!(task.poll, Some(Number::Literal(p)) if p == 0.0);
    if background && !matches!(m.kind, ModuleKind::Command | ModuleKind::Shell) {
        return Err(src.invalid(
            key("poll"),
            format!("`poll: 0` runs command and shell in the background; `{}` cannot run that way (use a poll of 1 or more: the task then waits at most `async` seconds)", m.name()),
        ));
    }
    Ok(())
}

/// Reads one of the keywords a block, an include or a role entry passes to the tasks inside
/// (see [`Keywords`]) into `task`. False when `key` is not one of them.
pub(crate) fn passed_keyword(
    src: &Source,
    task: &mut Task,
    key: &str,
    v: &Node,
) -> Result<bool, PlaybookError> {
    match key {
        "ignore_errors" => {
            task.ignore_errors = flag(
                src,
                v,
                (&mut task.templated, TemplatedKeyword::IgnoreErrors),
            )?;
        }
        "become" => {
            task.become_enabled = flag(src, v, (&mut task.templated, TemplatedKeyword::Become))?;
        }
        "become_user" => {
            let user = src.string(v, "become_user")?;
            if user.contains("{{") {
                syntax::templates(src, v, "become_user")?;
                task.templated
                    .push((TemplatedKeyword::BecomeUser, user.clone()));
            }
            task.become_user = Some(user);
        }
        "become_flags" => {
            let flags = src.string(v, "become_flags")?;
            if flags.contains("{{") {
                syntax::templates(src, v, "become_flags")?;
                task.templated
                    .push((TemplatedKeyword::BecomeFlags, flags.clone()));
            }
            task.become_flags = Some(flags);
        }
        "timeout" => match number_or_template(src, v, "timeout", true)? {
            Number::Literal(n) => task.timeout = Some(n as u64),
            Number::Template(t) => task.templated.push((TemplatedKeyword::Timeout, t)),
        },
        "run_once" => task.run_once = Some(src.boolean(v, "run_once")?),
        "throttle" => task.throttle = Some(count(src, v, "throttle")?).filter(|n| *n > 0),
        "ignore_unreachable" => {
            task.ignore_unreachable = Some(src.boolean(v, "ignore_unreachable")?);
        }
        "delegate_to" => {
            syntax::templates(src, v, "delegate_to")?;
            task.delegate_to = Some(src.string(v, "delegate_to")?);
        }
        "delegate_facts" => task.delegate_facts = Some(src.boolean(v, "delegate_facts")?),
        // Until a templated no_log renders, it hides: a secret never shows by mistake.
        "no_log" => {
            task.no_log =
                Some(flag(src, v, (&mut task.templated, TemplatedKeyword::NoLog))?.unwrap_or(true));
        }
        "check_mode" => {
            task.check_mode = flag(src, v, (&mut task.templated, TemplatedKeyword::CheckMode))?;
        }
        "environment" => task.environment.push(environment(src, v)?),
        "module_defaults" => task
            .module_defaults
            .push(crate::module_defaults::parse(src, v)?),
        // sudo is how drover becomes; another method is refused rather than run as sudo.
        "become_method" => {
            let method = src.string(v, "become_method")?;
            if !matches!(method.as_str(), "sudo" | "ansible.builtin.sudo") {
                return Err(src.invalid(
                    v,
                    format!("become_method: `{method}` is not supported; drover becomes with sudo"),
                ));
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Passes `parent`'s keywords to `tasks`, as a block passes its own (a task's own value wins).
/// Handlers as Ansible reads them: the tasks an `import_tasks:` brings in are handlers each, by
/// their own names, with the import's keywords, conditions, tags and variables passed to them (an
/// `include_tasks:` stays one handler, run whole when notified by its name).
pub(crate) fn handlers_of(tasks: Vec<Task>) -> Vec<Task> {
    let mut out = Vec::new();
    for task in tasks {
        match &task.body {
            TaskBody::Block(b) if b.imported && task.loop_spec.is_none() => {
                let mut children = b.block.clone();
                pass_keywords(&task, &mut children);
                for child in &mut children {
                    child.when.splice(0..0, task.when.iter().cloned());
                    child.tags.extend(task.tags.iter().cloned());
                    for (k, v) in &task.vars {
                        child.vars.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                out.extend(handlers_of(children));
            }
            _ => out.push(task),
        }
    }
    out
}

pub(crate) fn pass_keywords(parent: &Task, tasks: &mut [Task]) {
    Keywords::of(parent).inherit(tasks);
    pass_layers(&parent.environment, &parent.module_defaults, tasks);
}

/// Gives `tasks` a parent's `environment:` and `module_defaults:` layers, beneath their own.
fn pass_layers(environment: &[Json], module_defaults: &[Json], tasks: &mut [Task]) {
    for layer in environment.iter().rev() {
        inherit_layer(tasks, layer, Layered::Environment);
    }
    for layer in module_defaults.iter().rev() {
        inherit_layer(tasks, layer, Layered::ModuleDefaults);
    }
}

/// The keywords a block passes to its tasks, as Ansible's blocks do: a task's own value wins.
struct Keywords {
    ignore_errors: Option<bool>,
    ignore_unreachable: Option<bool>,
    become_enabled: Option<bool>,
    become_user: Option<String>,
    become_flags: Option<String>,
    no_log: Option<bool>,
    check_mode: Option<bool>,
    timeout: Option<u64>,
    run_once: Option<bool>,
    throttle: Option<u32>,
    delegate_to: Option<String>,
    delegate_facts: Option<bool>,
    templated: Vec<(TemplatedKeyword, String)>,
}

impl Keywords {
    fn of(task: &Task) -> Keywords {
        Keywords {
            ignore_errors: task.ignore_errors,
            ignore_unreachable: task.ignore_unreachable,
            become_enabled: task.become_enabled,
            become_user: task.become_user.clone(),
            become_flags: task.become_flags.clone(),
            no_log: task.no_log,
            check_mode: task.check_mode,
            timeout: task.timeout,
            run_once: task.run_once,
            throttle: task.throttle,
            delegate_to: task.delegate_to.clone(),
            delegate_facts: task.delegate_facts,
            templated: task.templated.clone(),
        }
    }

    /// Fills what each task (and, through nested blocks, theirs) leaves unsaid.
    fn inherit(&self, tasks: &mut [Task]) {
        for t in tasks.iter_mut() {
            for (keyword, text) in &self.templated {
                if !t.says(*keyword) {
                    t.templated.push((*keyword, text.clone()));
                    if *keyword == TemplatedKeyword::NoLog {
                        t.no_log = Some(true);
                    }
                    if *keyword == TemplatedKeyword::BecomeUser {
                        t.become_user = Some(text.clone());
                    }
                    if *keyword == TemplatedKeyword::BecomeFlags {
                        t.become_flags = Some(text.clone());
                    }
                }
            }
            t.ignore_errors = t.ignore_errors.or(self.ignore_errors);
            t.ignore_unreachable = t.ignore_unreachable.or(self.ignore_unreachable);
            t.become_enabled = t.become_enabled.or(self.become_enabled);
            t.become_user = t.become_user.clone().or_else(|| self.become_user.clone());
            t.become_flags = (t.become_flags.clone()).or_else(|| self.become_flags.clone());
            t.no_log = t.no_log.or(self.no_log);
            t.check_mode = t.check_mode.or(self.check_mode);
            t.timeout = t.timeout.or(self.timeout);
            t.run_once = t.run_once.or(self.run_once);
            t.throttle = t.throttle.or(self.throttle);
            t.delegate_to = t.delegate_to.clone().or_else(|| self.delegate_to.clone());
            t.delegate_facts = t.delegate_facts.or(self.delegate_facts);
            let inner = Keywords::of(t);
            if let TaskBody::Block(b) = &mut t.body {
                for list in [&mut b.block, &mut b.rescue, &mut b.always] {
                    inner.inherit(list);
                }
            }
        }
    }
}

/// An `environment:` value: a mapping of variable names (checked here) to values, or a template
/// that renders to one (checked when the task runs).
pub fn environment(src: &Source, v: &Node) -> Result<Json, PlaybookError> {
    syntax::templates(src, v, "environment")?;
    match &v.value {
        drover_yaml::Value::Map(entries) => {
            for (k, _) in entries {
                let name = k.key_string();
                if !env_name(&name) {
                    return Err(src.invalid(
                        k,
                        format!("environment: `{name}` is not a variable name (letters, digits and _, not starting with a digit)"),
                    ));
                }
            }
            Ok(v.to_json())
        }
        drover_yaml::Value::Str(t) if t.contains("{{") => Ok(v.to_json()),
        _ => Err(src.invalid(
            v,
            "environment: expected a mapping of variable names to values, or a template that gives one",
        )),
    }
}

/// Whether `name` can be an environment variable's name in a shell.
pub fn env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A keyword whose values are layers a block (or an include, or the play) passes to its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layered {
    /// `environment:`.
    Environment,
    /// `module_defaults:`.
    ModuleDefaults,
}

/// A block's (or an include's, or the play's) `environment:` or `module_defaults:` applies to
/// every task in it, below the tasks' own: it goes first among their layers.
pub fn inherit_layer(tasks: &mut [Task], layer: &Json, which: Layered) {
    for t in tasks {
        let layers = match which {
            Layered::Environment => &mut t.environment,
            Layered::ModuleDefaults => &mut t.module_defaults,
        };
        layers.insert(0, layer.clone());
        if let TaskBody::Block(b) = &mut t.body {
            for list in [&mut b.block, &mut b.rescue, &mut b.always] {
                inherit_layer(list, layer, which);
            }
        }
    }
}

/// A block's (or an include's) `vars:` apply to every task in it, below the tasks' own vars.
fn inherit_vars(tasks: &mut [Task], vars: &crate::Vars) {
    for t in tasks {
        let mut merged = vars.clone();
        merged.extend(std::mem::take(&mut t.vars));
        t.vars = merged;
        if let TaskBody::Block(b) = &mut t.body {
            for list in [&mut b.block, &mut b.rescue, &mut b.always] {
                inherit_vars(list, vars);
            }
        }
    }
}

/// Explains a task with more than one action, or an unknown key next to its module.
fn conflict(src: &Source, extra: &[&(Node, Node)], task: &Node) -> PlaybookError {
    let unknown = extra
        .iter()
        .find(|(k, _)| module::find(&k.key_string()).is_none());
    match unknown {
        Some((k, _)) => {
            let key = k.key_string();
            let hint = suggest(&key, KEYWORDS)
                .map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"));
            src.invalid(k, format!("unknown key `{key}` in task{hint}; a task takes one module and these keywords: {}", KEYWORDS.join(", ")))
        }
        None => src.invalid(
            task,
            format!(
                "a task runs one module, but this one names {}",
                extra
                    .iter()
                    .map(|(k, _)| format!("`{}`", k.key_string()))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ),
    }
}

fn module_call(
    src: &Source,
    key: &Node,
    value: &Node,
    args: Option<&Node>,
    search: &[PathBuf],
) -> Result<Module, PlaybookError> {
    let module = Module::parse(src, key, value, args)?;
    match &value.value {
        // `key=value` words: their values as parse_kv decoded them (`\"` is `"`).
        drover_yaml::Value::Str(_) => syntax::parsed(src, value, &module.args, module.name())?,
        _ => syntax::templates(src, value, module.name())?,
    }
    if let Some(args) = args {
        syntax::templates(src, args, module.name())?;
    }
    // `copy` with `remote_src` copies a file already on the host (and `unarchive` may read one there
    // or fetch a URL): nothing to find here.
    let truthy = |key: &str| module.args.get(key).and_then(module::truthy);
    let remote_src = truthy("remote_src") == Some(true);
    let remote_archive = remote_src
        || truthy("copy") == Some(false)
        || module.arg_str("src").is_some_and(|s| s.contains("://"));
    if let Some((what, sub)) = match module.kind {
        ModuleKind::Template => Some(("template", "templates")),
        ModuleKind::Copy if !remote_src => Some(("file", "files")),
        ModuleKind::Unarchive if !remote_archive => Some(("archive", "files")),
        _ => None,
    } && let Some(name) = module.arg_str("src").filter(|s| !s.contains("{{"))
    {
        match resolve(name, sub, search) {
            None if module.kind == ModuleKind::Copy && resolve_dir(name, sub, search).is_some() => {
            }
            None => {
                return Err(PlaybookError::MissingFile {
                    at: module.at.clone(),
                    what,
                    name: name.to_string(),
                    looked: looked(sub, search),
                });
            }
            Some(path) if module.kind == ModuleKind::Template => {
                syntax::template_file(src, key, &path)?
            }
            Some(_) => {}
        }
    }
    Ok(module)
}

/// Finds `name` under each search folder's `sub` folder, then the folder itself.
pub fn resolve(name: &str, sub: &str, search: &[PathBuf]) -> Option<PathBuf> {
    let path = Path::new(name);
    if path.is_absolute() {
        return path.exists().then(|| path.to_path_buf());
    }
    search
        .iter()
        .flat_map(|d| [d.join(sub).join(name), d.join(name)])
        .find(|p| p.is_file())
}

/// Finds the folder `name` under each search folder's `sub` folder, then the folder itself (copy
/// with a folder as `src`).
pub fn resolve_dir(name: &str, sub: &str, search: &[PathBuf]) -> Option<PathBuf> {
    let path = Path::new(name.trim_end_matches('/'));
    if path.is_absolute() {
        return path.is_dir().then(|| path.to_path_buf());
    }
    search
        .iter()
        .flat_map(|d| [d.join(sub).join(path), d.join(path)])
        .find(|p| p.is_dir())
}

fn looked(sub: &str, search: &[PathBuf]) -> String {
    search
        .iter()
        .map(|d| crate::error::folder(&d.join(sub)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A file name whose only templates are `playbook_dir` and, in a role, `role_path`: both are known
/// when the playbook is read, so they are put in then. None when another template remains. `search`
/// ends with the playbook's folder and, in a role, starts with the role's.
pub fn known_path(name: &str, search: &[PathBuf]) -> Option<String> {
    put_known(name, search).filter(|n| !n.contains("{{") && !n.contains("{%"))
}

/// `name` with `playbook_dir` and `role_path` put in (other templates left as they are); None when
/// it names `role_path` outside a role.
fn put_known(name: &str, search: &[PathBuf]) -> Option<String> {
    static KNOWN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\{\{-?\s*(playbook_dir|role_path)\s*-?\}\}").expect("valid regex")
    });
    // Absolute, as Ansible's are: the name is then found wherever the include is read from.
    let absolute = |p: &Path| {
        // A playbook named without a folder has "" as its folder: the current one.
        let p = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        };
        std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
    };
    let playbook_dir = absolute(search.last()?).display().to_string();
    let role_path = (search.len() > 1).then(|| absolute(&search[0]).display().to_string());
    let mut missing = false;
    let out = KNOWN.replace_all(name, |c: &regex::Captures| match &c[1] {
        "playbook_dir" => playbook_dir.clone(),
        _ => role_path.clone().unwrap_or_else(|| {
            missing = true;
            String::new()
        }),
    });
    (!missing).then(|| out.into_owned())
}

/// The folder of a playbook (or any file) as Ansible's `playbook_dir` gives it: absolute, the
/// current folder for a name without one.
pub fn absolute_dir(file: &Path) -> PathBuf {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// The lookup plugin of a `with_<lookup>:` key (none for `loop:`), refused at load when drover has
/// no such plugin.
fn loop_lookup(src: &Source, k: &Node, key: &str) -> Result<Option<String>, PlaybookError> {
    let Some(plugin) = key.strip_prefix("with_") else {
        return Ok(None);
    };
    match drover_templates::lookup_plugin(plugin) {
        Some(name) => Ok(Some(name.to_string())),
        None => Err(src.invalid(
            k,
            format!(
                "`{key}`: drover has no lookup plugin `{plugin}`; with_ loops take {} (or use `loop:`)",
                drover_templates::LOOKUP_PLUGINS.join(", ")
            ),
        )),
    }
}

/// `local_action:`'s module as a key node and its arguments: `local_action: shell echo hi` (the
/// first word names the module, the rest is its free form) or a mapping with `module:`.
fn local_action_call(src: &Source, v: &Node) -> Result<(Node, Node), PlaybookError> {
    let named = |name: &str, mark| Node {
        value: drover_yaml::Value::Str(name.to_string()),
        mark,
    };
    match &v.value {
        drover_yaml::Value::Str(text) => {
            let text = text.trim();
            let (name, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
            let args = if rest.trim().is_empty() {
                Node {
                    value: drover_yaml::Value::Null,
                    mark: v.mark,
                }
            } else {
                named(rest.trim(), v.mark)
            };
            Ok((named(name, v.mark), args))
        }
        drover_yaml::Value::Map(entries) => {
            let module = entries
                .iter()
                .find(|(k, _)| k.key_string() == "module")
                .ok_or_else(|| src.invalid(v, "local_action: a mapping needs `module: NAME`"))?;
            let name = src.string(&module.1, "module")?;
            let rest: Vec<(Node, Node)> = entries
                .iter()
                .filter(|(k, _)| k.key_string() != "module")
                .cloned()
                .collect();
            Ok((
                named(&name, module.1.mark),
                Node {
                    value: drover_yaml::Value::Map(rest),
                    mark: v.mark,
                },
            ))
        }
        _ => Err(src.invalid(
            v,
            "local_action: expected `MODULE ARGS` or a mapping with `module:`",
        )),
    }
}

/// A dynamic include that could not be read, as the block it stands for: one `fail` task saying
/// why (see [`Block::deferred`]). The message is text, never a template.
fn deferred(
    src: &Source,
    node: &Node,
    search: &[PathBuf],
    which: &str,
    e: &PlaybookError,
) -> TaskBody {
    let why = format!(
        "{e} (Ansible reads what `{which}` names only when it runs; it fails on the hosts that reach it)"
    );
    let mut args = serde_json::Map::new();
    args.insert(
        "msg".into(),
        Json::String(format!(
            "{{% raw %}}{}{{% endraw %}}",
            why.replace("endraw", "end raw")
        )),
    );
    let mut fail = Task::empty(src.at(node), search);
    fail.body = TaskBody::Module(Module {
        kind: crate::ModuleKind::Fail,
        args,
        at: src.at(node),
    });
    TaskBody::Block(Block {
        block: vec![fail],
        deferred: Some(why),
        ..Block::default()
    })
}

/// The task file an include names (`include_tasks: x.yml` or its `file:`).
fn include_name(src: &Source, node: &Node) -> Result<String, PlaybookError> {
    if let drover_yaml::Value::Map(entries) = &node.value {
        src.check_keys(entries, &["file", "apply"], "include_tasks")?;
    }
    match node.get("file") {
        Some(f) => src.string(f, "file"),
        None => src.string(node, "the task file"),
    }
}

/// `apply:` of an include (`include_tasks: {file: x.yml, apply: {become: true, tags: [web]}}`):
/// task keywords given to every included task, a task's own value winning, as a block gives its.
fn apply(
    src: &Source,
    node: &Node,
    search: &[PathBuf],
    tasks: &mut [Task],
) -> Result<(), PlaybookError> {
    let Some(apply) = node.get("apply") else {
        return Ok(());
    };
    let mut keywords = Task::empty(src.at(apply), search);
    for (k, v) in src.map(apply, "apply")? {
        let key = k.key_string();
        if key == "tags" {
            keywords.tags = src.strings(v, "tags")?;
        } else if !passed_keyword(src, &mut keywords, &key, v)? {
            return Err(src.invalid(
                k,
                format!("apply: `{key}` is not a keyword drover gives included tasks; expected tags, become, become_user, become_flags, ignore_errors, ignore_unreachable, no_log, check_mode, timeout, run_once, throttle, delegate_to, environment"),
            ));
        }
    }
    for t in tasks.iter_mut() {
        t.tags.extend(keywords.tags.iter().cloned());
    }
    pass_keywords(&keywords, tasks);
    Ok(())
}

/// `include_tasks: "tasks/{{ item }}.yml"` over a literal `loop:` (or `with_items:`) list: the
/// files are known when the playbook is read, so each is read then, as a block with the loop
/// variable set for its tasks. None when the include is not of that shape.
fn unroll_include(
    src: &Source,
    node: &Node,
    entries: &[(Node, Node)],
    search: &[PathBuf],
    depth: usize,
) -> Result<Option<Vec<Task>>, PlaybookError> {
    let Some(name) = put_known(&include_name(src, node)?, search) else {
        return Ok(None);
    };
    let find = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| k.key_string() == key)
            .map(|(_, v)| v)
    };
    let Some(drover_yaml::Value::Seq(items)) = find("loop")
        .or_else(|| find("with_items"))
        .map(|n| &n.value)
    else {
        return Ok(None);
    };
    let loop_var = find("loop_control")
        .and_then(|lc| lc.get("loop_var"))
        .and_then(|v| match &v.value {
            drover_yaml::Value::Str(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "item".into());
    let var = regex::Regex::new(&format!(
        r"\{{\{{-?\s*{}\s*-?\}}\}}",
        regex::escape(&loop_var)
    ))
    .expect("valid regex");
    if !name.contains("{{") || !var.is_match(&name) {
        return Ok(None);
    }
    let mut blocks = Vec::new();
    for item in items {
        let text = match &item.value {
            drover_yaml::Value::Str(s) => s.clone(),
            drover_yaml::Value::Int(n) => n.to_string(),
            _ => return Ok(None),
        };
        let file = var.replace_all(&name, text.as_str()).into_owned();
        if file.contains("{{") || file.contains("{%") {
            return Ok(None);
        }
        let mut tasks = include_file(src, node, &file, search, depth)?;
        let mut vars = Vars::new();
        vars.insert(loop_var.clone(), item.to_json());
        inherit_vars(&mut tasks, &vars);
        let mut block = Task::empty(src.at(item), search);
        block.vars = vars;
        block.body = TaskBody::Block(Block {
            block: tasks,
            ..Block::default()
        });
        blocks.push(block);
    }
    Ok(Some(blocks))
}

/// The tasks an include brings in: its file's, or, when its name is a template, one block per file
/// the name can render to (see [`Block::choose`]).
fn include(
    src: &Source,
    node: &Node,
    search: &[PathBuf],
    depth: usize,
) -> Result<(Vec<Task>, Option<String>), PlaybookError> {
    let written = include_name(src, node)?;
    if let Some(name) = known_path(&written, search) {
        return Ok((include_file(src, node, &name, search, depth)?, None));
    }
    let template = put_known(&written, search)
        .filter(|t| !t.contains("{%"))
        .ok_or_else(|| {
            src.invalid(
                node,
                "a task file named by a template takes `{{ ... }}` only (and {{ role_path }} inside a role)",
            )
        })?;
    let mut blocks = Vec::new();
    let mut first_error = None;
    for name in candidate_files(src, &template, search) {
        match include_file(src, node, &name, search, depth) {
            Ok(tasks) => {
                let mut block = Task::empty(src.at(node), search);
                block.body = TaskBody::Block(Block {
                    block: tasks,
                    candidate: Some(name),
                    ..Block::default()
                });
                blocks.push(block);
            }
            // A file the name never renders to is not Ansible's to read either.
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match (blocks.is_empty(), first_error) {
        (true, Some(e)) => Err(src.invalid(
            node,
            format!("no file matching `{template}` is a task file that can be read: {e}"),
        )),
        (true, None) => Err(src.invalid(
            node,
            format!("no task file matches `{template}` (each `{{{{ ... }}}}` read as `*`)"),
        )),
        (false, _) => Ok((blocks, Some(template))),
    }
}

/// The files a templated task file name can render to: each `{{ ... }}` read as `*` within one
/// path component, looked for where [`include_file`] looks; each named as the template would
/// render it (the first folder's file wins a name). At most 200.
fn candidate_files(src: &Source, template: &str, search: &[PathBuf]) -> Vec<String> {
    static EXPR: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\{\{.*?\}\}").expect("valid regex"));
    let pattern = EXPR.replace_all(template, "*").into_owned();
    let Ok(glob) = globset::GlobBuilder::new(&pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
    else {
        return Vec::new();
    };
    // Walked from the folder the pattern names before its first wildcard.
    let parts: Vec<&str> = pattern.split('/').collect();
    let fixed = parts.iter().take_while(|p| !p.contains('*')).count();
    let prefix = parts[..fixed].join("/");
    let depth = parts.len() - fixed;
    let mut dirs = vec![src.dir().to_path_buf()];
    dirs.extend(search.iter().map(|d| d.join("tasks")));
    dirs.extend(search.iter().cloned());
    let mut names: Vec<String> = Vec::new();
    for dir in &dirs {
        // A playbook named without a folder is in the current one.
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir.as_path()
        };
        let base = if prefix.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(&prefix)
        };
        for file in walk_files(&base, depth, 2000) {
            let Ok(rel) = file.strip_prefix(&base) else {
                continue;
            };
            let name = if prefix.is_empty() {
                rel.display().to_string()
            } else {
                format!("{prefix}/{}", rel.display())
            };
            if glob.is_match(&name) && !names.contains(&name) && names.len() < 200 {
                names.push(name);
            }
        }
    }
    names.sort();
    names
}

/// The files under `dir` at most `depth` levels down, at most `limit` entries looked at.
fn walk_files(dir: &Path, depth: usize, limit: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut queue = vec![(dir.to_path_buf(), 0)];
    let mut seen = 0;
    while let Some((d, level)) = queue.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > limit {
                return out;
            }
            let path = entry.path();
            if path.is_dir() && level + 1 < depth {
                queue.push((path, level + 1));
            } else if path.is_file() {
                out.push(path);
            }
        }
    }
    out
}

/// Reads the task file `name`: beside the including file, in the role's or playbook's tasks/, or
/// in the playbook's folder (where Ansible finds `tasks/x.yml` named from a file under tasks/).
fn include_file(
    src: &Source,
    node: &Node,
    name: &str,
    search: &[PathBuf],
    depth: usize,
) -> Result<Vec<Task>, PlaybookError> {
    let name = name.to_string();
    let mut dirs = vec![src.dir().to_path_buf()];
    dirs.extend(search.iter().map(|d| d.join("tasks")));
    dirs.extend(search.iter().cloned());
    let found = dirs
        .iter()
        .map(|d| d.join(&name))
        .find(|p| p.is_file())
        .ok_or_else(|| PlaybookError::MissingFile {
            at: src.at(node),
            what: "task file",
            name: name.clone(),
            looked: dirs
                .iter()
                .map(|d| crate::error::folder(d))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let (mut inner, doc) = Source::load(&found)?;
    inner.roles_path = src.roles_path.clone();
    match doc {
        Some(doc) => parse_tasks(&inner, &doc, search, depth + 1),
        None => Ok(Vec::new()),
    }
}

/// `include_role:`/`import_role:` with `name:` and optionally `tasks_from:`: the role, loaded from
/// the roles path, with the tasks to run.
/// A role's dependencies as blocks that run before its tasks, each with its own role (variables,
/// files, handlers) and its own dependencies first, as `include_role` runs them in Ansible.
fn dependency_tasks(role: &mut crate::Role, at: &At, search: &[PathBuf]) -> Vec<Task> {
    std::mem::take(&mut role.dependencies)
        .into_iter()
        .map(|mut dep| {
            let mut block = dependency_tasks(&mut dep, at, search);
            block.append(&mut dep.tasks);
            let mut task = Task::empty(at.clone(), search);
            task.body = TaskBody::Block(Block {
                block,
                role: Some(Box::new(dep)),
                ..Block::default()
            });
            task
        })
        .collect()
}

fn include_role(
    src: &Source,
    node: &Node,
    search: &[PathBuf],
    depth: usize,
) -> Result<crate::Role, PlaybookError> {
    let entries = src.map(node, "include_role")?;
    src.check_keys(entries, &["name", "tasks_from", "apply"], "include_role")?;
    let name_node = node
        .get("name")
        .ok_or_else(|| src.invalid(node, "include_role needs `name: ROLE`"))?;
    let tasks_from = node
        .get("tasks_from")
        .map(|n| src.string(n, "tasks_from"))
        .transpose()?;
    // A task's search list ends with the playbook's folder.
    let playbook_dir = search
        .last()
        .cloned()
        .unwrap_or_else(|| src.dir().to_path_buf());
    crate::role::load_with(
        &src.string(name_node, "name")?,
        src.at(name_node),
        &src.roles_path,
        &playbook_dir,
        tasks_from.as_deref(),
        depth + 1,
    )
}

/// A boolean keyword: true or false (also `yes`/`no` written as strings), or a template recorded
/// in `templated` to render when the task runs (then none).
fn flag(
    src: &Source,
    node: &Node,
    (templated, keyword): (&mut Vec<(TemplatedKeyword, String)>, TemplatedKeyword),
) -> Result<Option<bool>, PlaybookError> {
    if let drover_yaml::Value::Str(text) = &node.value {
        if text.contains("{{") {
            syntax::templates(src, node, keyword.name())?;
            templated.push((keyword, text.clone()));
            return Ok(None);
        }
        if let Some(b) = crate::truth(text) {
            return Ok(Some(b));
        }
    }
    src.boolean(node, keyword.name()).map(Some)
}

fn count(src: &Source, node: &Node, what: &str) -> Result<u32, PlaybookError> {
    match node.value {
        drover_yaml::Value::Int(n) if n >= 0 => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
        _ => Err(src.invalid(node, format!("expected {what} to be a whole number"))),
    }
}

/// A non-negative number (whole when `whole`), or a template to render when the task runs.
fn number_or_template(
    src: &Source,
    node: &Node,
    what: &str,
    whole: bool,
) -> Result<Number, PlaybookError> {
    if let drover_yaml::Value::Str(text) = &node.value
        && text.contains("{{")
    {
        syntax::templates(src, node, what)?;
        return Ok(Number::Template(text.clone()));
    }
    if whole {
        count(src, node, what).map(|n| Number::Literal(f64::from(n)))
    } else {
        number(src, node, what).map(Number::Literal)
    }
}

fn number(src: &Source, node: &Node, what: &str) -> Result<f64, PlaybookError> {
    match node.value {
        drover_yaml::Value::Int(n) if n >= 0 => Ok(n as f64),
        drover_yaml::Value::Float(f) if f >= 0.0 => Ok(f),
        _ => Err(src.invalid(node, format!("expected {what} to be a number of seconds"))),
    }
}
