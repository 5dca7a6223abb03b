//! acl (ansible.posix): one POSIX ACL entry set (`setfacl -m`) or removed (`setfacl -x`), or the
//! ACL read (`state: query`, the default). As the module decides it, the entry changes something
//! when `setfacl --test` shows a file whose ACL would differ (a line not ending `*,*`); the ACL
//! `getfacl` then shows is registered as `acl`. One round trip.

use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome};

/// What the task asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Present,
    Absent,
    Query,
}

/// One acl task, checked as the module checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub path: String,
    pub state: State,
    /// `etype:entity[:permissions]`, as setfacl takes it.
    pub entry: String,
    /// The directory's default ACL (`-d`).
    pub default: bool,
    pub recursive: bool,
    /// Follow a symlink (false: `--physical`).
    pub follow: bool,
    /// `--mask` (Some(true)), `--no-mask` (Some(false)) or setfacl's own choice.
    pub mask: Option<bool>,
}

/// `etype` as the module normalizes an `entry`'s first section (`u`, `g`, `m`, `o` and longer).
fn etype_of(word: &str) -> Option<&'static str> {
    match word.to_ascii_lowercase().chars().next()? {
        'u' => Some("user"),
        'g' => Some("group"),
        'm' => Some("mask"),
        'o' => Some("other"),
        _ => None,
    }
}

/// Reads and checks the task's parameters (the module's own rules and messages).
pub fn spec(args: &Args) -> Result<Acl, String> {
    let path = args.first(&["path", "name"]).ok_or("acl needs `path`")?;
    let state = match args.str("state").as_deref() {
        None | Some("query") => State::Query,
        Some("present") => State::Present,
        Some("absent") => State::Absent,
        Some(other) => return Err(format!("`state: {other}` is not present, absent or query")),
    };
    let recursive = args
        .bool("recursive")
        .or(args.bool("recurse"))
        .unwrap_or(false);
    let mask = match args.str("recalculate_mask").as_deref() {
        None | Some("default") => None,
        Some("mask") => Some(true),
        Some("no_mask") => Some(false),
        Some(other) => {
            return Err(format!(
                "`recalculate_mask: {other}` is not default, mask or no_mask"
            ));
        }
    };
    if state == State::Query && recursive {
        return Err("'recursive' MUST NOT be set when 'state=query'.".into());
    }
    if state == State::Query && mask.is_some() {
        return Err(
            "'recalculate_mask' MUST NOT be set to 'mask' or 'no_mask' when 'state=query'.".into(),
        );
    }
    let mut default = args.bool("default").unwrap_or(false);
    let (etype, entity, permissions) = match args.str("entry") {
        Some(entry) => from_entry(args, &entry, state, &mut default)?,
        None => from_fields(args, state)?,
    };
    let entry = match (state, permissions) {
        (State::Present, Some(p)) if !p.is_empty() => format!("{etype}:{entity}:{p}"),
        _ => format!("{etype}:{entity}"),
    };
    Ok(Acl {
        path,
        state,
        entry,
        default,
        recursive,
        follow: args.bool("follow").unwrap_or(true),
        mask,
    })
}

type Parts = (String, String, Option<String>);

/// `etype`, `entity` and `permissions` given one by one.
fn from_fields(args: &Args, state: State) -> Result<Parts, String> {
    let entity = args.str("entity").unwrap_or_default();
    let permissions = args.str("permissions");
    if state == State::Absent && permissions.is_some() {
        return Err("'permissions' MUST NOT be set when 'state=absent'.".into());
    }
    if state == State::Absent && entity.is_empty() {
        return Err("'entity' MUST be set when 'state=absent'.".into());
    }
    let etype = match (args.str("etype"), state) {
        (Some(e), _) => e,
        (None, State::Query) => String::new(),
        (None, _) => {
            let word = if state == State::Present {
                "present"
            } else {
                "absent"
            };
            return Err(format!("'etype' MUST be set when 'state={word}'."));
        }
    };
    Ok((etype, entity, permissions))
}

/// The deprecated `entry: [default:]etype:entity[:perms]` shorthand.
fn from_entry(args: &Args, entry: &str, state: State, default: &mut bool) -> Result<Parts, String> {
    if ["etype", "entity", "permissions"]
        .iter()
        .any(|k| args.str(k).is_some())
    {
        return Err(
            "'entry' MUST NOT be set when 'entity', 'etype' or 'permissions' are set.".into(),
        );
    }
    let colons = entry.matches(':').count();
    match state {
        State::Present if !(2..=3).contains(&colons) => {
            return Err(
                "'entry' MUST have 3 or 4 sections divided by ':' when 'state=present'.".into(),
            );
        }
        State::Absent if !(1..=2).contains(&colons) => {
            return Err(
                "'entry' MUST have 2 or 3 sections divided by ':' when 'state=absent'.".into(),
            );
        }
        State::Query => return Err("'entry' MUST NOT be set when 'state=query'.".into()),
        _ => {}
    }
    let mut parts: Vec<&str> = entry.split(':').collect();
    if entry.to_ascii_lowercase().starts_with('d') {
        *default = true;
        parts.remove(0);
    }
    let (Some(t), Some(e)) = (parts.first(), parts.get(1)) else {
        return Err(format!("`entry: {entry}` is not etype:entity:permissions"));
    };
    let etype = etype_of(t)
        .ok_or_else(|| format!("`entry: {entry}`: `{t}` is not user, group, mask or other"))?;
    Ok((
        etype.to_string(),
        (*e).to_string(),
        parts.get(2).map(|p| (*p).to_string()),
    ))
}

/// The options setfacl and getfacl share, as the module passes them.
fn options(acl: &Acl, set: bool) -> String {
    let mut opts = String::new();
    if acl.default {
        opts.push_str(" -d");
    }
    if acl.recursive {
        opts.push_str(" --recursive");
    }
    match acl.mask {
        Some(true) if set => opts.push_str(" --mask"),
        Some(false) if set => opts.push_str(" --no-mask"),
        _ => {}
    }
    if !acl.follow {
        opts.push_str(" --physical");
    }
    opts
}

/// Marks where the ACL `getfacl` shows begins in the script's output.
const ACL_MARK: &str = "--acl--";

/// The script: prints `changed` when the entry changes (under --check: would change) the ACL,
/// then the mark and the ACL as getfacl shows it afterwards.
pub fn command(acl: &Acl, check: bool) -> String {
    let path = quote(&acl.path);
    let mut script = format!(
        "{{ [ -e {path} ] || [ -L {path} ]; }} || {{ echo 'Path not found or not accessible.' >&2; exit 1; }}; "
    );
    let set = match acl.state {
        State::Present => Some(format!(
            "setfacl{} -m {} -- {path}",
            options(acl, true),
            quote(&acl.entry)
        )),
        State::Absent => Some(format!(
            "setfacl{} -x {} -- {path}",
            options(acl, true),
            quote(&acl.entry)
        )),
        State::Query => None,
    };
    if let Some(set) = set {
        let test = set.replacen("setfacl", "setfacl --test", 1);
        let apply = if check {
            String::new()
        } else if acl.state == State::Absent {
            // As the module does: a removal's own status is not checked.
            format!("; {set} || true")
        } else {
            format!("; {set} || exit 1")
        };
        script.push_str(&format!(
            "t=$({test}) || exit 1; if printf '%s\\n' \"$t\" | grep -v '^#' | grep -v '^$' | grep -qv '[*],[*]$'; then echo changed{apply}; fi; "
        ));
    }
    script.push_str(&format!(
        "echo {ACL_MARK} && getfacl --absolute-names --omit-header{} -- {path}",
        options(acl, false)
    ));
    script
}

/// Whether the script changed something, and the ACL lines as the module registers them
/// (comments left out, each trimmed, a last empty line dropped).
pub fn report(stdout: &str) -> (bool, Vec<String>) {
    let (head, acl) = stdout
        .split_once(&format!("{ACL_MARK}\n"))
        .unwrap_or((stdout, ""));
    let changed = head.lines().any(|l| l == "changed");
    let mut lines: Vec<String> = acl
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.trim().to_string())
        .collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    (changed, lines)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let acl = match spec(args) {
        Ok(a) => a,
        Err(e) => return Outcome::bad_input(format!("acl: {e}")),
    };
    let stdout = match ctx.output_of(&command(&acl, ctx.check), "acl").await {
        Ok(o) => String::from_utf8_lossy(&o).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    let (changed, lines) = report(&stdout);
    let msg = match acl.state {
        State::Present => format!("{} is present", acl.entry),
        State::Absent => format!("{} is absent", acl.entry),
        State::Query => "current acl".to_string(),
    };
    let mut out = Outcome {
        changed,
        msg,
        ..Outcome::default()
    };
    out.result.insert("acl".into(), json!(lines));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::modules::args;

    #[test]
    fn fields_and_entry_make_the_same_entry() {
        let a = spec(&args(json!({"path": "/srv", "entity": "joe", "etype": "user", "permissions": "rwX", "state": "present", "default": true}))).unwrap();
        let b = spec(&args(
            json!({"name": "/srv", "entry": "default:user:joe:rwX", "state": "present"}),
        ))
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.entry, "user:joe:rwX");
        let gone = spec(&args(
            json!({"path": "/srv", "entry": "g:staff", "state": "absent"}),
        ))
        .unwrap();
        assert_eq!((gone.entry.as_str(), gone.default), ("group:staff", false));
    }

    #[test]
    fn the_modules_own_rules_are_kept() {
        let refuse = |v| spec(&args(v)).unwrap_err();
        assert!(refuse(json!({"path": "/a", "state": "absent", "etype": "user", "entity": "joe", "permissions": "r"})).contains("'permissions' MUST NOT"));
        assert!(
            refuse(json!({"path": "/a", "state": "absent", "etype": "user"}))
                .contains("'entity' MUST be set")
        );
        assert!(
            refuse(json!({"path": "/a", "state": "present", "entity": "joe"}))
                .contains("'etype' MUST be set when 'state=present'")
        );
        assert!(refuse(json!({"path": "/a", "recursive": true})).contains("'recursive' MUST NOT"));
        assert!(
            refuse(
                json!({"path": "/a", "entry": "user:joe:r", "etype": "user", "state": "present"})
            )
            .contains("'entry' MUST NOT")
        );
        assert!(
            refuse(json!({"path": "/a", "entry": "user:joe", "state": "present"}))
                .contains("3 or 4 sections")
        );
        assert!(refuse(json!({"entity": "joe"})).contains("needs `path`"));
    }

    #[test]
    fn the_script_tests_before_it_sets() {
        let acl = spec(&args(json!({"path": "/srv/a b", "entity": "joe", "etype": "user", "permissions": "rw", "state": "present", "recurse": true, "follow": false, "recalculate_mask": "no_mask"}))).unwrap();
        assert_eq!(
            command(&acl, false),
            "{ [ -e '/srv/a b' ] || [ -L '/srv/a b' ]; } || { echo 'Path not found or not accessible.' >&2; exit 1; }; \
             t=$(setfacl --test --recursive --no-mask --physical -m user:joe:rw -- '/srv/a b') || exit 1; \
             if printf '%s\\n' \"$t\" | grep -v '^#' | grep -v '^$' | grep -qv '[*],[*]$'; then echo changed; \
             setfacl --recursive --no-mask --physical -m user:joe:rw -- '/srv/a b' || exit 1; fi; \
             echo --acl-- && getfacl --absolute-names --omit-header --recursive --physical -- '/srv/a b'"
        );
        let checked = command(&acl, true);
        assert!(checked.contains("then echo changed; fi"), "{checked}");
        let query = spec(&args(json!({"path": "/x", "default": "yes"}))).unwrap();
        assert_eq!(
            command(&query, false),
            "{ [ -e /x ] || [ -L /x ]; } || { echo 'Path not found or not accessible.' >&2; exit 1; }; echo --acl-- && getfacl --absolute-names --omit-header -d -- /x"
        );
    }

    #[test]
    fn the_report_is_the_acl_getfacl_shows() {
        let (changed, acl) =
            report("changed\n--acl--\nuser::rw-\nuser:joe:rw-\t#effective:r--\n\n");
        assert!(changed);
        assert_eq!(acl, ["user::rw-", "user:joe:rw-\t#effective:r--"]);
        let (changed, acl) = report("--acl--\n# file: x\nother::r--\n");
        assert!(!changed);
        assert_eq!(acl, ["other::r--"]);
    }
}
