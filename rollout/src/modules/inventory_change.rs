//! `add_host` and `group_by`: changes to the run's inventory, decided on the controller from the
//! task's parameters; the host's run makes them (see push/task.rs).

use drover_inventory::Inventory;
use serde_json::{Map, Value as Json};

use super::{Args, Outcome};

/// A change to the run's inventory, made once the task ends (and journaled, so that `--resume`
/// makes it again).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventoryChange {
    /// `add_host`: the host, the groups it joins, its variables.
    AddHost {
        name: String,
        groups: Vec<String>,
        vars: Map<String, Json>,
    },
    /// `group_by`: the group the task's host joins, and the parents of that group if it is new.
    GroupBy { group: String, parents: Vec<String> },
}

impl InventoryChange {
    /// Makes the change in `inventory`, for `host` (the task's host; `group_by` moves it). Whether
    /// it changed anything, and the host it is about.
    pub fn apply<'a>(&'a self, inventory: &mut Inventory, host: &'a str) -> (bool, &'a str) {
        match self {
            InventoryChange::AddHost { name, groups, vars } => {
                (inventory.add_runtime_host(name, groups, vars), name)
            }
            InventoryChange::GroupBy { group, parents } => {
                (inventory.group_host(host, group, parents), host)
            }
        }
    }
}

/// `add_host`, read as Ansible's action reads it: `name` (or `hostname`, `host`), `name:port`
/// giving `ansible_ssh_port`, groups from `groupname`, `groups` or `group` (a list or
/// comma-separated), every other parameter a variable of the host.
pub fn add_host(args: &Args) -> Outcome {
    let Some(given) = ["name", "hostname", "host"]
        .iter()
        .find_map(|k| args.str(k))
    else {
        return Outcome::fail("add_host: name, host or hostname needs to be provided");
    };
    let mut vars: Map<String, Json> = args
        .0
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "name" | "hostname" | "groupname" | "groups"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (name, port) = split_port(&given);
    if let Some(port) = port {
        vars.insert("ansible_ssh_port".into(), Json::from(port));
    }
    let listed = ["groupname", "groups", "group"]
        .iter()
        .find_map(|k| args.0.get(*k).filter(|v| !v.is_null()));
    let mut groups: Vec<String> = Vec::new();
    match listed {
        None => {}
        Some(Json::Array(items)) => {
            groups.extend(
                items
                    .iter()
                    .map(|i| drover_templates::py_str(i).trim().to_string()),
            );
        }
        Some(Json::String(s)) => groups.extend(s.split(',').map(|g| g.trim().to_string())),
        Some(other) => {
            return Outcome::fail(format!("add_host: groups must be a list, not {other}"));
        }
    }
    let mut seen = std::collections::HashSet::new();
    groups.retain(|g| !g.is_empty() && seen.insert(g.clone()));
    let mut out = Outcome::default();
    out.result.insert(
        "add_host".into(),
        serde_json::json!({"host_name": name, "groups": groups, "host_vars": vars}),
    );
    out.inventory
        .push(InventoryChange::AddHost { name, groups, vars });
    out
}

/// `group_by`: `key` (spaces become dashes), `parents` (a name or a list; `all` when not given).
pub fn group_by(args: &Args) -> Outcome {
    let Some(key) = args.str("key") else {
        return Outcome::fail("the 'key' param is required when using group_by");
    };
    let group = key.replace(' ', "-");
    let parents: Vec<String> = match args.0.get("parents") {
        None | Some(Json::Null) => vec!["all".into()],
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| drover_templates::py_str(i).replace(' ', "-"))
            .collect(),
        Some(other) => vec![drover_templates::py_str(other).replace(' ', "-")],
    };
    let mut out = Outcome::default();
    out.result
        .insert("add_group".into(), Json::from(group.clone()));
    out.result
        .insert("parent_groups".into(), Json::from(parents.clone()));
    out.inventory
        .push(InventoryChange::GroupBy { group, parents });
    out
}

/// `host:port` as Ansible's parse_address reads it: a port only after a name or IPv4 address with
/// one colon, or after a bracketed IPv6 address.
fn split_port(given: &str) -> (String, Option<u16>) {
    if let Some(rest) = given.strip_prefix('[')
        && let Some((addr, port)) = rest.split_once("]:")
        && let Ok(port) = port.parse()
    {
        return (addr.to_string(), Some(port));
    }
    match given.split_once(':') {
        Some((name, port)) if !port.contains(':') => match port.parse() {
            Ok(port) => (name.to_string(), Some(port)),
            Err(_) => (given.to_string(), None),
        },
        _ => (given.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    use crate::modules::args;

    #[test]
    fn add_host_reads_name_port_groups_and_vars_as_ansible_does() {
        let out = add_host(&args(
            json!({"hostname": "10.0.0.5:2222", "groups": "web, new ,web", "ansible_user": "ops"}),
        ));
        assert_eq!(
            out.inventory,
            vec![InventoryChange::AddHost {
                name: "10.0.0.5".into(),
                groups: vec!["web".into(), "new".into()],
                vars: json!({"ansible_user": "ops", "ansible_ssh_port": 2222})
                    .as_object()
                    .unwrap()
                    .clone(),
            }]
        );
        let out = add_host(&args(json!({"name": "fe80::1", "group": ["a"]})));
        let InventoryChange::AddHost { name, groups, vars } = &out.inventory[0] else {
            panic!("{out:?}")
        };
        assert_eq!(
            (name.as_str(), groups.clone()),
            ("fe80::1", vec!["a".to_string()])
        );
        // As in Ansible, `group` and `host` are also kept as variables (only name, hostname,
        // groupname and groups are not).
        assert_eq!(vars["group"], json!(["a"]));
        assert!(add_host(&args(json!({"groups": "x"}))).failed);
        assert_eq!(split_port("[::1]:22"), ("::1".to_string(), Some(22)));
        assert_eq!(split_port("db:x"), ("db:x".to_string(), None));
    }

    #[test]
    fn group_by_names_its_group_and_parents_with_dashes_for_spaces() {
        let out = group_by(&args(json!({"key": "os Debian 12", "parents": "by os"})));
        assert_eq!(
            out.inventory,
            vec![InventoryChange::GroupBy {
                group: "os-Debian-12".into(),
                parents: vec!["by-os".into()]
            }]
        );
        assert_eq!(out.result["add_group"], "os-Debian-12");
        let out = group_by(&args(json!({"key": "x"})));
        assert_eq!(out.result["parent_groups"], json!(["all"]));
        assert!(group_by(&args(json!({}))).failed);
    }
}
