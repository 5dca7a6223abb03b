//! alternatives (community.general): a Debian alternative (`update-alternatives`) installed,
//! selected, set back to automatic or removed, as community.general's module decides from
//! `update-alternatives --query`: one query, then only the commands that change something.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// An alternatives group as `update-alternatives --query` shows it.
#[derive(Debug, Default, PartialEq)]
struct Group {
    link: String,
    auto: bool,
    value: String,
    /// Each alternative's path and priority.
    choices: Vec<(String, i64)>,
}

/// Reads `--query` output (RFC 822-like stanzas).
fn parse_query(text: &str) -> Group {
    let mut group = Group::default();
    let mut path: Option<String> = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        match key {
            "Link" => group.link = value,
            "Status" => group.auto = value == "auto",
            "Value" => group.value = value,
            "Alternative" => path = Some(value),
            "Priority" => {
                if let (Some(p), Ok(n)) = (path.take(), value.parse()) {
                    group.choices.push((p, n));
                }
            }
            _ => {}
        }
    }
    group
}

/// The task, read.
struct Spec {
    name: String,
    path: Option<String>,
    link: Option<String>,
    priority: i64,
    state: String,
}

fn spec(args: &Args) -> Result<Spec, String> {
    let state = args.str("state").unwrap_or_else(|| "selected".into());
    if !["present", "selected", "auto", "absent"].contains(&state.as_str()) {
        return Err(format!(
            "`state` must be present, selected, auto or absent, not `{state}`"
        ));
    }
    let path = args.str("path");
    if path.is_none() && state != "auto" {
        return Err(format!("`path` is needed with state {state}"));
    }
    Ok(Spec {
        name: args.str("name").ok_or("alternatives needs `name`")?,
        path,
        link: args.str("link"),
        priority: args.num("priority").map_or(50, |p| p as i64),
        state,
    })
}

/// The update-alternatives commands that bring `found` (None: no such group) to the task's state.
fn plan(spec: &Spec, found: Option<&Group>) -> Result<Vec<String>, String> {
    let name = quote(&spec.name);
    let mut cmds = Vec::new();
    let listed = |g: &Group, p: &str| g.choices.iter().find(|(c, _)| c == p).map(|c| c.1);
    match spec.state.as_str() {
        "absent" => {
            let path = spec.path.as_deref().unwrap_or_default();
            if found.is_some_and(|g| listed(g, path).is_some()) {
                cmds.push(format!(
                    "update-alternatives --remove {name} {}",
                    quote(path)
                ));
            }
        }
        "auto" => {
            if let Some(path) = &spec.path {
                cmds.extend(install(spec, found, path)?);
            }
            if found.is_none_or(|g| !g.auto) && (found.is_some() || !cmds.is_empty()) {
                cmds.push(format!("update-alternatives --auto {name}"));
            }
        }
        _ => {
            let path = spec.path.as_deref().unwrap_or_default();
            cmds.extend(install(spec, found, path)?);
            let chosen = found.is_some_and(|g| !g.auto && g.value == path);
            if spec.state == "selected" && !chosen {
                cmds.push(format!("update-alternatives --set {name} {}", quote(path)));
            }
        }
    }
    Ok(cmds)
}

/// `--install` when `path` is not in the group with the task's priority (or there is no group).
fn install(spec: &Spec, found: Option<&Group>, path: &str) -> Result<Option<String>, String> {
    let current = found.and_then(|g| g.choices.iter().find(|(c, _)| c == path).map(|c| c.1));
    if current == Some(spec.priority) {
        return Ok(None);
    }
    let link = match (&spec.link, found) {
        (Some(l), _) => l.clone(),
        (None, Some(g)) if !g.link.is_empty() => g.link.clone(),
        _ => {
            return Err(format!(
                "`link` is needed: there is no alternatives group `{}` yet",
                spec.name
            ));
        }
    };
    Ok(Some(format!(
        "update-alternatives --install {} {} {} {}",
        quote(&link),
        quote(&spec.name),
        quote(path),
        spec.priority
    )))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match spec(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(format!("alternatives: {e}")),
    };
    let query = format!(
        "update-alternatives --query {} 2>/dev/null || true",
        quote(&spec.name)
    );
    let found = match ctx.output_of(&query, "alternatives").await {
        Ok(out) => Some(parse_query(&String::from_utf8_lossy(&out))).filter(|g| !g.link.is_empty()),
        Err(e) => return Outcome::fail(e),
    };
    let cmds = match plan(&spec, found.as_ref()) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(format!("alternatives: {e}")),
    };
    let mut out = Outcome {
        changed: !cmds.is_empty(),
        ..Outcome::default()
    };
    if !cmds.is_empty() && !ctx.check {
        let script = format!("{} >/dev/null", cmds.join(" && "));
        if let Err(e) = ctx.output_of(&script, "alternatives").await {
            return Outcome::fail(e);
        }
    }
    out.msg = cmds.join("; ");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EDITOR: &str = "Name: editor\nLink: /usr/bin/editor\nStatus: auto\nBest: /bin/nano\nValue: /bin/nano\n\nAlternative: /bin/nano\nPriority: 40\n\nAlternative: /usr/bin/vim.tiny\nPriority: 15\n";

    fn planned(v: serde_json::Value, found: Option<&str>) -> Result<Vec<String>, String> {
        let spec = spec(&Args(v.as_object().unwrap().clone()))?;
        plan(&spec, found.map(parse_query).as_ref())
    }

    #[test]
    fn only_what_differs_is_done() {
        let g = parse_query(EDITOR);
        assert_eq!(
            (g.auto, g.value.as_str(), g.choices.len()),
            (true, "/bin/nano", 2)
        );
        // Listed with its priority, but the group is automatic: selecting it sets it.
        assert_eq!(
            planned(
                json!({"name": "editor", "path": "/usr/bin/vim.tiny", "priority": 15}),
                Some(EDITOR)
            ),
            Ok(vec![
                "update-alternatives --set editor /usr/bin/vim.tiny".to_string()
            ])
        );
        assert_eq!(
            planned(
                json!({"name": "editor", "path": "/usr/bin/vim.tiny", "priority": 15, "state": "present"}),
                Some(EDITOR)
            ),
            Ok(vec![])
        );
        assert_eq!(
            planned(
                json!({"name": "editor", "path": "/bin/ed", "state": "present"}),
                Some(EDITOR)
            ),
            Ok(vec![
                "update-alternatives --install /usr/bin/editor editor /bin/ed 50".to_string()
            ])
        );
        assert_eq!(
            planned(json!({"name": "editor", "state": "auto"}), Some(EDITOR)),
            Ok(vec![])
        );
        assert_eq!(
            planned(
                json!({"name": "editor", "path": "/bin/nano", "state": "absent"}),
                Some(EDITOR)
            ),
            Ok(vec![
                "update-alternatives --remove editor /bin/nano".to_string()
            ])
        );
        assert!(
            planned(json!({"name": "x", "path": "/bin/true"}), None)
                .unwrap_err()
                .contains("`link` is needed")
        );
        assert!(planned(json!({"name": "x"}), None).is_err());
    }
}
