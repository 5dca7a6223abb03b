//! Ansible's YAML inventory format: groups with `hosts`, `vars` and `children`, nested to any depth.

use std::path::Path;

use drover_yaml::Node;

use crate::error::{InventoryError, Location};
use crate::hostrange;
use crate::model::Inventory;

/// Reads a YAML inventory document into `inv`.
pub fn parse(inv: &mut Inventory, path: &Path, doc: &Node) -> Result<(), InventoryError> {
    let entries = doc
        .as_map()
        .ok_or_else(|| expected(path, doc, "a mapping of groups at the top (usually `all:`)"))?;
    for (name, body) in entries {
        group_body(inv, path, &name.key_string(), body)?;
    }
    Ok(())
}

fn at(path: &Path, node: &Node) -> Location {
    Location {
        path: path.to_path_buf(),
        mark: node.mark,
    }
}

fn expected(path: &Path, node: &Node, what: &str) -> InventoryError {
    InventoryError::Invalid {
        at: at(path, node),
        message: format!("expected {what}, found {}", node.value.kind()),
    }
}

fn group_body(
    inv: &mut Inventory,
    path: &Path,
    group: &str,
    body: &Node,
) -> Result<(), InventoryError> {
    inv.add_group(group);
    if body.is_null() {
        return Ok(());
    }
    let entries = body.as_map().ok_or_else(|| {
        expected(
            path,
            body,
            &format!("group `{group}` to be a mapping with hosts, vars or children"),
        )
    })?;
    for (key, value) in entries {
        let section = key.key_string();
        if value.is_null() {
            continue;
        }
        match section.as_str() {
            "hosts" => hosts(inv, path, group, value)?,
            "vars" => {
                let vars = section_map(path, value, "vars", group)?;
                let target = &mut inv.add_group(group).vars;
                for (k, v) in vars {
                    target.insert(k.key_string(), v.to_json());
                }
            }
            "children" => {
                for (child, child_body) in section_map(path, value, "children", group)? {
                    let name = child.key_string();
                    group_body(inv, path, &name, child_body)?;
                    inv.add_child(group, &name, &at(path, child))?;
                }
            }
            other => {
                return Err(InventoryError::Invalid {
                    at: at(path, key),
                    message: format!(
                        "unexpected key `{other}` in group `{group}`; expected hosts, vars or children"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// A `hosts:`/`vars:`/`children:` value: a mapping, or a lone name that stands for `{name: null}`.
fn section_map<'a>(
    path: &Path,
    value: &'a Node,
    section: &str,
    group: &str,
) -> Result<Vec<(&'a Node, &'a Node)>, InventoryError> {
    match value.as_map() {
        Some(entries) => Ok(entries.iter().map(|(k, v)| (k, v)).collect()),
        None if value.as_str().is_some() && section != "vars" => Ok(vec![(value, &NULL)]),
        None => Err(expected(
            path,
            value,
            &format!("`{section}` of group `{group}` to be a mapping"),
        )),
    }
}

static NULL: Node = Node {
    value: drover_yaml::Value::Null,
    mark: drover_yaml::Mark { line: 0, col: 0 },
};

fn hosts(
    inv: &mut Inventory,
    path: &Path,
    group: &str,
    value: &Node,
) -> Result<(), InventoryError> {
    for (decl_node, vars) in section_map(path, value, "hosts", group)? {
        let decl = decl_node.key_string();
        let declared = hostrange::expand(&decl)
            .and_then(|d| inv.declare(d.names.len()).map(|()| d))
            .map_err(|reason| InventoryError::HostRange {
                at: at(path, decl_node),
                pattern: decl.clone(),
                reason,
            })?;
        let vars = match &vars.value {
            drover_yaml::Value::Null => &[][..],
            drover_yaml::Value::Map(entries) => &entries[..],
            _ => {
                return Err(expected(
                    path,
                    vars,
                    &format!("the variables of host `{decl}` to be a mapping"),
                ));
            }
        };
        for name in &declared.names {
            let host = inv.add_host(name, group);
            if let Some(port) = declared.port {
                host.vars.insert("ansible_port".into(), port.into());
            }
            for (k, v) in vars {
                host.vars.insert(k.key_string(), v.to_json());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Inventory, InventoryError> {
        let mut inv = Inventory::default();
        let doc = drover_yaml::parse(text).unwrap().unwrap();
        parse(&mut inv, Path::new("inv.yml"), &doc)?;
        inv.reconcile();
        Ok(inv)
    }

    #[test]
    fn nested_children_and_ranges() {
        let inv = load("all:\n  children:\n    docker:\n      children:\n        app:\n          hosts:\n            app[1:2]:\n").unwrap();
        assert_eq!(inv.group_hosts("docker"), ["app1", "app2"]);
        assert_eq!(inv.group("app").unwrap().depth, 2);
    }

    #[test]
    fn misspelled_section_is_an_error_with_position() {
        let err = load("all:\n  children:\n    web:\n      host:\n        w1:\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "inv.yml:4:7: unexpected key `host` in group `web`; expected hosts, vars or children"
        );
    }

    #[test]
    fn hosts_as_a_list_is_refused() {
        let err = load("web:\n  hosts:\n    - w1\n").unwrap_err();
        assert!(
            err.to_string().starts_with(
                "inv.yml:3:5: expected `hosts` of group `web` to be a mapping, found a list"
            ),
            "{err}"
        );
    }
}
