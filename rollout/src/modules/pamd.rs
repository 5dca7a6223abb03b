//! pamd (community.general): one rule of a PAM service file (/etc/pam.d/NAME), found by its type,
//! control and module path, and changed as community.general's module changes it: its type,
//! control, path or arguments updated; a rule put before or after it; arguments added or removed;
//! or the rule removed. When anything changed the whole file is written as the module writes it
//! (each rule re-spaced, and its `# Updated by Ansible` line on the second line), so a file edited
//! by drover reads as one edited by Ansible; nothing changes, nothing is written.

use std::sync::LazyLock;

use drover_roles::module::PAM_TYPES;
use regex::Regex;

use super::files::{FileTarget, Remote, ensure_content, read_state};
use super::{Args, ModuleCtx, Outcome};

/// A rule line, as the module's RULE_REGEX reads it.
static RULE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<type>-?(?:auth|account|session|password))\s+(?P<control>\[.*\]|\S*)\s+(?P<path>\S*)\s*(?P<args>.*)\s*",
    )
    .expect("valid regex")
});

/// One argument: a bracketed group (to the last `]`) or a word.
static ARG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\[.*\]|\S*)").expect("valid regex"));

const SIMPLE_CONTROLS: &[&str] = &[
    "required",
    "requisite",
    "sufficient",
    "optional",
    "include",
    "substack",
    "definitive",
];

const CONTROL_VALUES: &[&str] = &[
    "success",
    "open_err",
    "symbol_err",
    "service_err",
    "system_err",
    "buf_err",
    "perm_denied",
    "auth_err",
    "cred_insufficient",
    "authinfo_unavail",
    "user_unknown",
    "maxtries",
    "new_authtok_reqd",
    "acct_expired",
    "session_err",
    "cred_unavail",
    "cred_expired",
    "cred_err",
    "no_module_data",
    "conv_err",
    "authtok_err",
    "authtok_recover_err",
    "authtok_lock_busy",
    "authtok_disable_aging",
    "try_again",
    "ignore",
    "abort",
    "authtok_expired",
    "module_unknown",
    "bad_item",
    "conv_again",
    "incomplete",
    "default",
];

const CONTROL_ACTIONS: &[&str] = &["ignore", "bad", "die", "ok", "done", "reset"];

/// One line of a service file.
#[derive(Debug, Clone, PartialEq)]
enum Line {
    /// A comment, an `@include` or a blank line: kept as it is.
    Other(String),
    Rule(Rule),
}

/// A rule: `type control module-path arguments`.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    kind: String,
    /// As the module keeps it: a bracketed control with ` = ` made `=`.
    control: String,
    path: String,
    args: Vec<String>,
}

/// A control as the module compares it.
fn normalised(control: &str) -> String {
    if control.starts_with('[') {
        format!("[{}]", control.replace(" = ", "=").replace(['[', ']'], ""))
    } else {
        control.to_string()
    }
}

/// Arguments as the module splits them.
fn arguments<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    items
        .iter()
        .flat_map(|a| {
            ARG.find_iter(a.as_ref())
                .map(|m| m.as_str().to_string())
                .filter(|m| !m.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Rule {
    fn new(kind: &str, control: &str, path: &str, args: Vec<String>) -> Rule {
        Rule {
            kind: kind.to_string(),
            control: normalised(control),
            path: path.to_string(),
            args,
        }
    }

    fn parse(line: &str) -> Result<Rule, String> {
        let c = RULE
            .captures(line)
            .ok_or_else(|| format!("not a PAM rule: {line}"))?;
        Ok(Rule::new(
            &c["type"],
            &c["control"],
            &c["path"],
            arguments(&[&c["args"]]),
        ))
    }

    fn matches(&self, key: &Key) -> bool {
        self.kind == key.kind && self.control == key.control && self.path == key.path
    }

    /// Why the rule is not one PAM takes, if it is not.
    fn invalid(&self) -> Option<String> {
        let line = self.to_string();
        if !PAM_TYPES.contains(&self.kind.as_str()) {
            return Some(format!(
                "Rule type, {}, is not valid in rule {line}",
                self.kind
            ));
        }
        match self
            .control
            .strip_prefix('[')
            .and_then(|c| c.strip_suffix(']'))
        {
            None if !SIMPLE_CONTROLS.contains(&self.control.as_str()) => Some(format!(
                "Rule control, {}, is not valid in rule {line}",
                self.control
            )),
            None => None,
            Some(inner) => inner.split(' ').find_map(|pair| {
                let (value, action) = pair.split_once('=').unwrap_or((pair, ""));
                if !CONTROL_VALUES.contains(&value) {
                    Some(format!(
                        "Rule control value, {value}, is not valid in rule {line}"
                    ))
                } else if !CONTROL_ACTIONS.contains(&action) && action.parse::<u32>().is_err() {
                    Some(format!(
                        "Rule control action, {action}, is not valid in rule {line}"
                    ))
                } else {
                    None
                }
            }),
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:<11}{} {}", self.kind, self.control, self.path)?;
        if !self.args.is_empty() {
            write!(f, " {}", self.args.join(" "))?;
        }
        Ok(())
    }
}

/// Type, control and module path: what finds a rule, or makes a new one.
#[derive(Debug, Clone)]
struct Key {
    kind: String,
    control: String,
    path: String,
}

/// What to do to the rules found.
#[derive(Debug, Clone)]
enum Action {
    /// `updated`: what is given of the new type, control, path and arguments.
    Update {
        kind: Option<String>,
        control: Option<String>,
        path: Option<String>,
        args: Option<Vec<String>>,
    },
    Before(Rule),
    After(Rule),
    ArgsPresent(Vec<String>),
    ArgsAbsent(Vec<String>),
    Absent,
}

/// The task, read.
#[derive(Debug, Clone)]
struct Task {
    key: Key,
    action: Action,
}

impl Task {
    fn from_args(args: &Args) -> Result<Task, String> {
        let need = |k: &str| args.str(k).ok_or(format!("pamd needs `{k}`"));
        let key = Key {
            kind: need("type")?,
            control: need("control")?,
            path: need("module_path")?,
        };
        let module_args = args.0.get("module_arguments").filter(|v| !v.is_null());
        let given = module_args.map(|v| {
            let items = super::json_words(v);
            // An empty list, or a list of one empty string, is no arguments.
            arguments(&items)
        });
        let new = |k: &str| args.str(k);
        let new_rule = || -> Result<Rule, String> {
            Ok(Rule::new(
                &new("new_type").ok_or("state before and after need `new_type`")?,
                &new("new_control").ok_or("state before and after need `new_control`")?,
                &new("new_module_path").ok_or("state before and after need `new_module_path`")?,
                given.clone().unwrap_or_default(),
            ))
        };
        let listed = |state: &str| {
            given
                .clone()
                .ok_or(format!("state {state} needs `module_arguments`"))
        };
        let action = match args.str("state").as_deref().unwrap_or("updated") {
            "updated" => Action::Update {
                kind: new("new_type"),
                control: new("new_control"),
                path: new("new_module_path"),
                args: given.clone(),
            },
            "before" => Action::Before(new_rule()?),
            "after" => Action::After(new_rule()?),
            "args_present" => {
                let add = listed("args_present")?;
                if add.iter().any(|a| a.starts_with('[')) {
                    return Err("Unable to process bracketed '[' complex arguments with 'args_present'. Please use 'updated'.".into());
                }
                Action::ArgsPresent(add)
            }
            "args_absent" => Action::ArgsAbsent(listed("args_absent")?),
            "absent" => Action::Absent,
            other => {
                return Err(format!(
                    "`state: {other}` is not one of updated, before, after, args_present, args_absent, absent"
                ));
            }
        };
        for kind in std::iter::once(&key.kind).chain(new("new_type").as_ref()) {
            if !PAM_TYPES.contains(&kind.as_str()) {
                return Err(format!(
                    "`{kind}` is not a PAM rule type ({})",
                    PAM_TYPES.join(", ")
                ));
            }
        }
        Ok(Task { key, action })
    }
}

/// The service file, read.
fn parse(text: &str) -> Result<Vec<Line>, String> {
    text.lines()
        .map(|line| {
            let start = line.trim_start();
            if start.starts_with('#') || start.starts_with("@include") || line.trim().is_empty() {
                Ok(Line::Other(line.to_string()))
            } else {
                Rule::parse(line).map(Line::Rule)
            }
        })
        .collect()
}

/// The neighbouring rule of line `at`, passing comments and blank lines by (an `@include` is no
/// rule, and stops the search, as the module's linked list has it).
fn neighbour(lines: &[Line], at: usize, forward: bool) -> Option<&Line> {
    let mut i = at;
    loop {
        i = if forward { i + 1 } else { i.checked_sub(1)? };
        match lines.get(i)? {
            Line::Other(text) if !text.trim_start().starts_with("@include") => continue,
            line => return Some(line),
        }
    }
}

/// Whether `line` is a rule like `rule` (same type, control, path).
fn same_rule(line: Option<&Line>, rule: &Rule) -> bool {
    matches!(line, Some(Line::Rule(r)) if r.kind == rule.kind && r.control == rule.control && r.path == rule.path)
}

/// `key=value` arguments and plain ones, bracketed ones passed by.
fn split_args(args: &[String]) -> (Vec<&str>, Vec<(&str, &str)>) {
    let mut simple = Vec::new();
    let mut pairs = Vec::new();
    for a in args.iter().filter(|a| !a.starts_with('[')) {
        match a.split_once('=') {
            Some((k, v)) => pairs.push((k, v)),
            None => simple.push(a.as_str()),
        }
    }
    (simple, pairs)
}

/// `args_present` on one rule: plain arguments and keys it lacks are added, a key with another
/// value gets the new one. Whether it changed.
fn add_arguments(rule: &mut Rule, add: &[String]) -> bool {
    let (simple, pairs) = split_args(add);
    let have = rule.args.clone();
    let (have_simple, have_pairs) = split_args(&have);
    let mut extra: Vec<String> = Vec::new();
    for s in simple {
        if !have_simple.contains(&s) && !extra.iter().any(|e| e == s) {
            extra.push(s.to_string());
        }
    }
    let mut changed = false;
    for (k, v) in pairs {
        match have_pairs.iter().find(|(hk, _)| *hk == k) {
            None => extra.push(format!("{k}={v}")),
            Some((_, hv)) if *hv != v => {
                let old = format!("{k}={hv}");
                if let Some(slot) = rule.args.iter_mut().find(|a| **a == old) {
                    *slot = format!("{k}={v}");
                    changed = true;
                }
            }
            Some(_) => {}
        }
    }
    changed |= !extra.is_empty();
    rule.args.extend(extra);
    changed
}

/// Applies the task to the lines: how many rules it changed.
fn apply(lines: &mut Vec<Line>, task: &Task) -> usize {
    let found: Vec<usize> = (0..lines.len())
        .filter(|i| matches!(&lines[*i], Line::Rule(r) if r.matches(&task.key)))
        .collect();
    let mut changes = 0;
    match &task.action {
        Action::Absent => {
            lines.retain(|l| !matches!(l, Line::Rule(r) if r.matches(&task.key)));
            changes = found.len();
        }
        Action::Update {
            kind,
            control,
            path,
            args,
        } => {
            for i in found {
                let Line::Rule(rule) = &mut lines[i] else {
                    continue;
                };
                let before = rule.clone();
                if let Some(k) = kind {
                    rule.kind = k.clone();
                }
                if let Some(c) = control {
                    rule.control = normalised(c);
                }
                if let Some(p) = path {
                    rule.path = p.clone();
                }
                if let Some(a) = args {
                    rule.args = a.clone();
                }
                changes += usize::from(*rule != before);
            }
        }
        Action::Before(new) | Action::After(new) => {
            let forward = matches!(task.action, Action::After(_));
            // From the last found, so that insertions leave the earlier indices as they are.
            for i in found.into_iter().rev() {
                if !same_rule(neighbour(lines, i, forward), new) {
                    lines.insert(if forward { i + 1 } else { i }, Line::Rule(new.clone()));
                    changes += 1;
                }
            }
        }
        Action::ArgsPresent(add) => {
            for i in found {
                if let Line::Rule(rule) = &mut lines[i] {
                    changes += usize::from(add_arguments(rule, add));
                }
            }
        }
        Action::ArgsAbsent(remove) => {
            for i in found {
                if let Line::Rule(rule) = &mut lines[i]
                    && rule.args.iter().any(|a| remove.contains(a))
                {
                    rule.args.retain(|a| !remove.contains(a));
                    changes += 1;
                }
            }
        }
    }
    changes
}

/// The file as the module writes it: every line (rules re-spaced), with its mark on the second.
fn render(lines: &[Line], mark: &str) -> String {
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| match l {
            Line::Other(text) => text.clone(),
            Line::Rule(r) => r.to_string(),
        })
        .collect();
    if out.len() <= 1 {
        out.insert(0, String::new());
        out.insert(1, mark.to_string());
    } else if out[1].starts_with("# Updated by Ansible") {
        out[1] = mark.to_string();
    } else {
        out.insert(1, mark.to_string());
    }
    out.join("\n") + "\n"
}

/// The file after the task, and how many rules changed; an error when a rule is not one PAM takes.
fn edit(text: &str, task: &Task, mark: &str) -> Result<(String, usize), String> {
    let mut lines = parse(text)?;
    let changes = apply(&mut lines, task);
    if let Some(why) = lines.iter().find_map(|l| match l {
        Line::Rule(r) => r.invalid(),
        Line::Other(_) => None,
    }) {
        return Err(why);
    }
    Ok((render(&lines, mark), changes))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let task = match Task::from_args(args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("pamd: {e}")),
    };
    let Some(name) = args.str("name") else {
        return Outcome::bad_input("pamd needs `name`");
    };
    let dir = args.str("path").unwrap_or_else(|| "/etc/pam.d".into());
    let file = format!("{}/{name}", dir.trim_end_matches('/'));
    let before = match read_state(ctx, &file).await {
        Ok(Remote::File { content, .. }) => String::from_utf8_lossy(&content).into_owned(),
        Ok(Remote::Missing) => {
            return Outcome::fail(format!("Unable to open/read PAM module file {file}"));
        }
        Err(e) => return Outcome::fail(e),
    };
    // The module's mark, its time in ISO form (the controller's clock, in UTC).
    let now = humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string();
    let mark = format!("# Updated by Ansible - {}", now.trim_end_matches('Z'));
    let (after, changes) = match edit(&before, &task, &mark) {
        Ok(e) => e,
        Err(e) => return Outcome::fail(format!("pamd: {file}: {e}")),
    };
    let mut out = if changes == 0 {
        Outcome::default()
    } else {
        let target = match FileTarget::from_args(file.clone(), args) {
            Ok(t) => t,
            Err(e) => return Outcome::bad_input(format!("pamd: {e}")),
        };
        ensure_content(ctx, &target, after.as_bytes()).await
    };
    out.result
        .insert("change_count".into(), serde_json::json!(changes));
    // The module names its backup `backupdest` ('' when none was made).
    let backup = out.result.get("backup_file").cloned();
    out.result.insert(
        "backupdest".into(),
        backup.unwrap_or_else(|| serde_json::json!("")),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SSHD: &str = "# PAM configuration for the Secure Shell service\n\n@include common-auth\naccount    required     pam_nologin.so\nsession [success=ok ignore=ignore module_unknown=ignore default=bad]        pam_selinux.so close\nsession    optional     pam_motd.so  motd=/run/motd.dynamic\nsession    optional     pam_motd.so noupdate\nsession    required     pam_limits.so\n";
    const MARK: &str = "# Updated by Ansible - 2026-12-04T20:00:00.000000";

    fn task(v: serde_json::Value) -> Task {
        Task::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    fn motd(extra: serde_json::Value) -> Task {
        let mut v = json!({"name": "sshd", "type": "session", "control": "optional", "module_path": "pam_motd.so"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        task(v)
    }

    /// tasks.yml's tasks, applied in turn to sshd.orig, give what ansible-playbook made of them
    /// (sshd.expected, by regenerate.sh there), the module's mark aside.
    #[test]
    fn the_fixture_tasks_edit_as_community_general_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pamd");
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        let play = drover_yaml::parse(&read("tasks.yml"))
            .unwrap()
            .unwrap()
            .to_json();
        let mut text = read("sshd.orig");
        for t in play[0]["tasks"].as_array().unwrap() {
            let args = t["community.general.pamd"].as_object().unwrap().clone();
            let (after, _) = edit(&text, &task(json!(args)), MARK).unwrap();
            text = after;
        }
        let ours: String = (text.lines())
            .filter(|l| !l.starts_with("# Updated by Ansible"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(ours, read("sshd.expected"));
    }

    #[test]
    fn rules_are_read_and_written_as_the_module_spaces_them() {
        let lines = parse(SSHD).unwrap();
        let Line::Rule(selinux) = &lines[4] else {
            panic!("{lines:?}")
        };
        assert_eq!(
            selinux.control,
            "[success=ok ignore=ignore module_unknown=ignore default=bad]"
        );
        assert_eq!(selinux.args, ["close"]);
        assert_eq!(
            selinux.to_string(),
            "session    [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so close"
        );
        assert_eq!(
            normalised("[success = 1 default=ignore]"),
            "[success=1 default=ignore]"
        );
        assert_eq!(arguments(&["a=1 [b c] d"]), ["a=1", "[b c]", "d"]);
    }

    #[test]
    fn absent_removes_every_matching_rule_and_marks_the_file() {
        let (after, changes) = edit(SSHD, &motd(json!({"state": "absent"})), MARK).unwrap();
        assert_eq!(changes, 2);
        assert_eq!(
            after,
            format!(
                "# PAM configuration for the Secure Shell service\n{MARK}\n\n@include common-auth\naccount    required pam_nologin.so\nsession    [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so close\nsession    required pam_limits.so\n"
            )
        );
        // Again: nothing matches, nothing changes; an earlier mark is replaced, not added to.
        let (again, changes) = edit(
            &after,
            &motd(json!({"state": "absent"})),
            "# Updated by Ansible - later",
        )
        .unwrap();
        assert_eq!(changes, 0);
        assert!(
            again.lines().nth(1) == Some("# Updated by Ansible - later"),
            "{again}"
        );
    }

    #[test]
    fn rules_are_updated_inserted_and_their_arguments_changed() {
        let limits = |extra: serde_json::Value| {
            let mut v = json!({"name": "sshd", "type": "session", "control": "required", "module_path": "pam_limits.so"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            task(v)
        };
        let (after, n) = edit(SSHD, &limits(json!({"new_control": "requisite"})), MARK).unwrap();
        assert_eq!(n, 1);
        assert!(
            after.contains("\nsession    requisite pam_limits.so\n"),
            "{after}"
        );
        let umask = json!({"state": "after", "new_type": "session", "new_control": "optional", "new_module_path": "pam_umask.so", "module_arguments": ["umask=0027"]});
        let (after, n) = edit(SSHD, &limits(umask.clone()), MARK).unwrap();
        assert_eq!(n, 1);
        assert!(
            after.ends_with(
                "session    required pam_limits.so\nsession    optional pam_umask.so umask=0027\n"
            ),
            "{after}"
        );
        // Already there after it: no change.
        assert_eq!(edit(&after, &limits(umask), MARK).unwrap().1, 0);
        let before = json!({"state": "before", "new_type": "session", "new_control": "required", "new_module_path": "pam_env.so"});
        let (after, n) = edit(SSHD, &limits(before), MARK).unwrap();
        assert_eq!(n, 1);
        assert!(
            after.contains("session    required pam_env.so\nsession    required pam_limits.so\n"),
            "{after}"
        );
        // args_present adds what is missing and changes a key's value; args_absent removes.
        let (after, n) = edit(SSHD, &motd(json!({"state": "args_present", "module_arguments": ["motd=/etc/motd", "noupdate"]})), MARK).unwrap();
        assert_eq!(n, 2);
        assert!(after.contains("session    optional pam_motd.so motd=/etc/motd noupdate\nsession    optional pam_motd.so noupdate motd=/etc/motd\n"), "{after}");
        let (after, n) = edit(
            &after,
            &motd(json!({"state": "args_absent", "module_arguments": "noupdate"})),
            MARK,
        )
        .unwrap();
        assert_eq!(n, 2);
        assert!(after.contains("session    optional pam_motd.so motd=/etc/motd\nsession    optional pam_motd.so motd=/etc/motd\n"), "{after}");
        // A control PAM does not take is refused, as the module refuses it.
        let bad = edit(SSHD, &limits(json!({"new_control": "sometimes"})), MARK).unwrap_err();
        assert_eq!(
            bad,
            "Rule control, sometimes, is not valid in rule session    sometimes pam_limits.so"
        );
        assert!(Task::from_args(&Args(json!({"name": "x", "type": "auth", "control": "required", "module_path": "p", "state": "args_present", "module_arguments": ["[a b]"]}).as_object().unwrap().clone())).unwrap_err().contains("bracketed"));
    }
}
