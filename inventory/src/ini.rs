//! Ansible's INI inventory format.
//!
//! Hosts before any section are ungrouped; `[g]` lists hosts with inline `key=value` vars (shell-split,
//! then read as Python literals), `[g:vars]` sets group vars and `[g:children]` nests groups. A group named
//! in `:children` or `:vars` must be defined somewhere in the file.

use std::path::Path;
use std::sync::LazyLock;

use indexmap::IndexMap;
use regex::Regex;

use crate::error::{InventoryError, Location};
use crate::hostrange;
use crate::model::Inventory;
use crate::pyliteral::ini_value;

static SECTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$").expect("valid regex")
});
static GROUP_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^:\]\s]+)\s*(?:[#;].*)?$").expect("valid regex"));

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Hosts,
    Vars,
    Children,
}

/// A group named before it is defined, waiting for its definition.
struct Pending {
    at: Location,
    section: String,
    /// Parents waiting to adopt it, from `[parent:children]` sections.
    parents: Vec<String>,
}

/// Reads an INI inventory into `inv`.
pub fn parse(inv: &mut Inventory, path: &Path, text: &str) -> Result<(), InventoryError> {
    let mut group = "ungrouped".to_string();
    let mut section = Section::Hosts;
    let mut pending: IndexMap<String, Pending> = IndexMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let at = Location::new(path, n + 1, raw.len() - raw.trim_start().len() + 1);
        if let Some(caps) = SECTION.captures(line) {
            group = caps[1].to_string();
            section = match caps.get(2).map(|m| m.as_str()) {
                None | Some("hosts") => Section::Hosts,
                Some("vars") => Section::Vars,
                Some("children") => Section::Children,
                Some(other) => {
                    return Err(invalid(
                        at,
                        format!(
                            "section [{group}:{other}] has an unknown type; expected [{group}], [{group}:vars] or [{group}:children]"
                        ),
                    ));
                }
            };
            open_section(inv, &mut pending, &group, section, &at)?;
            continue;
        }
        if line.starts_with('[') {
            return Err(invalid(
                at,
                format!(
                    "`{line}` is not a valid section header; expected [group], [group:vars] or [group:children] with no spaces"
                ),
            ));
        }
        match section {
            Section::Hosts => host_line(inv, &group, line, &at)?,
            Section::Vars => vars_line(inv, &group, line, at)?,
            Section::Children => children_line(inv, &mut pending, &group, line, at)?,
        }
    }
    match pending.into_iter().next() {
        Some((name, p)) => Err(InventoryError::UndefinedGroup {
            at: p.at,
            section: p.section,
            group: name,
        }),
        None => Ok(()),
    }
}

fn invalid(at: Location, message: String) -> InventoryError {
    InventoryError::Invalid { at, message }
}

/// Creates the section's group; a definition settles any earlier forward reference to it.
fn open_section(
    inv: &mut Inventory,
    pending: &mut IndexMap<String, Pending>,
    group: &str,
    section: Section,
    at: &Location,
) -> Result<(), InventoryError> {
    if inv.group(group).is_none() && section == Section::Vars && !pending.contains_key(group) {
        pending.insert(
            group.to_string(),
            Pending {
                at: at.clone(),
                section: format!("{group}:vars"),
                parents: Vec::new(),
            },
        );
    }
    inv.add_group(group);
    if section != Section::Vars
        && let Some(waiting) = pending.shift_remove(group)
    {
        for parent in waiting.parents {
            inv.add_child(&parent, group, at)?;
        }
    }
    Ok(())
}

fn host_line(
    inv: &mut Inventory,
    group: &str,
    line: &str,
    at: &Location,
) -> Result<(), InventoryError> {
    let tokens = shlex::split(line).ok_or_else(|| {
        invalid(
            at.clone(),
            "unbalanced quotes in host line; expected `host key=value ...`".into(),
        )
    })?;
    let Some((decl, assignments)) = tokens.split_first() else {
        return Ok(());
    };
    let declared = hostrange::expand(decl)
        .and_then(|d| inv.declare(d.names.len()).map(|()| d))
        .map_err(|reason| InventoryError::HostRange {
            at: at.clone(),
            pattern: decl.clone(),
            reason,
        })?;
    let mut vars = Vec::new();
    for token in assignments {
        let (key, value) = token.split_once('=').ok_or_else(|| {
            invalid(
                column_of(at, line, token),
                format!("expected a key=value host variable, found `{token}`"),
            )
        })?;
        vars.push((key.to_string(), ini_value(value)));
    }
    for name in &declared.names {
        let host = inv.add_host(name, group);
        if let Some(port) = declared.port {
            host.vars.insert("ansible_port".into(), port.into());
        }
        host.vars.extend(vars.iter().cloned());
    }
    Ok(())
}

fn vars_line(
    inv: &mut Inventory,
    group: &str,
    line: &str,
    at: Location,
) -> Result<(), InventoryError> {
    let (key, value) = line.split_once('=').ok_or_else(|| {
        invalid(
            at,
            format!("expected key=value in [{group}:vars], found `{line}`"),
        )
    })?;
    inv.add_group(group)
        .vars
        .insert(key.trim().to_string(), ini_value(value.trim()));
    Ok(())
}

fn children_line(
    inv: &mut Inventory,
    pending: &mut IndexMap<String, Pending>,
    group: &str,
    line: &str,
    at: Location,
) -> Result<(), InventoryError> {
    let child = GROUP_NAME
        .captures(line)
        .map(|c| c[1].to_string())
        .ok_or_else(|| {
            invalid(
                at.clone(),
                format!("expected a group name in [{group}:children], found `{line}`"),
            )
        })?;
    if inv.group(&child).is_some() {
        return inv.add_child(group, &child, &at);
    }
    pending
        .entry(child)
        .or_insert_with(|| Pending {
            at,
            section: format!("{group}:children"),
            parents: Vec::new(),
        })
        .parents
        .push(group.to_string());
    Ok(())
}

/// The location of `token` within its line, for errors about one word of it.
fn column_of(at: &Location, line: &str, token: &str) -> Location {
    let offset = line.find(token).unwrap_or(0);
    Location::new(&at.path, at.mark.line, at.mark.col + offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(text: &str) -> Result<Inventory, InventoryError> {
        let mut inv = Inventory::default();
        parse(&mut inv, Path::new("hosts.ini"), text)?;
        inv.reconcile();
        Ok(inv)
    }

    #[test]
    fn children_may_be_defined_after_use() {
        let inv = load("[prod:children]\nweb\n[web]\nw1 port=22 name='x y'\n").unwrap();
        assert_eq!(inv.group_hosts("prod"), ["w1"]);
        assert_eq!(inv.host("w1").unwrap().vars["port"], json!(22));
        assert_eq!(inv.host("w1").unwrap().vars["name"], json!("x y"));
    }

    #[test]
    fn undefined_child_names_line_and_section() {
        let err = load("[web]\nw1\n\n[prod:children]\nweb\ndbs\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "hosts.ini:6:1: section [prod:children] names group `dbs`, which is never defined; expected a [dbs] or [dbs:children] section"
        );
    }

    #[test]
    fn vars_for_undefined_group_is_refused() {
        let err = load("[web]\nw1\n[ghost:vars]\nx=1\n").unwrap_err();
        assert!(
            matches!(err, InventoryError::UndefinedGroup { ref group, .. } if group == "ghost"),
            "{err}"
        );
    }

    #[test]
    fn bad_range_and_bad_assignment_have_positions() {
        let err = load("[web]\n  web[01:5]\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("hosts.ini:2:3: bad host range in `web[01:5]`"),
            "{err}"
        );
        let err = load("[web]\nw1 port=22 oops\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("hosts.ini:2:12: expected a key=value host variable"),
            "{err}"
        );
    }
}
