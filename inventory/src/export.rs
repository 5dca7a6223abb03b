//! `ansible-inventory --list` JSON and `--graph` text, byte for byte as Ansible prints them.

use indexmap::IndexSet;
use serde_json::{Map, Value};

use crate::model::Inventory;

impl Inventory {
    /// The `--list` document: groups with their direct hosts and children, and `_meta.hostvars`.
    /// Like Ansible, empty keys and empty groups are left out, and so are hosts without variables.
    pub fn to_list_json(&self) -> Value {
        let mut top = Map::new();
        let mut seen = IndexSet::new();
        self.list_group("all", &mut top, &mut seen);
        let hostvars: Map<String, Value> = self
            .hosts
            .keys()
            .map(|h| (h.clone(), Value::Object(self.host_vars(h))))
            .filter(|(_, v)| v.as_object().is_some_and(|m| !m.is_empty()))
            .collect();
        // ansible-core 2.19 names the layout of the document it prints.
        top.insert(
            "_meta".into(),
            serde_json::json!({ "hostvars": hostvars, "profile": "inventory_legacy" }),
        );
        sort_keys(Value::Object(top))
    }

    fn list_group(&self, name: &str, out: &mut Map<String, Value>, seen: &mut IndexSet<String>) {
        let group = &self.groups[name];
        let mut entry = Map::new();
        if name != "all" && !group.hosts.is_empty() {
            entry.insert("hosts".into(), group.hosts.iter().cloned().collect());
        }
        if !group.children.is_empty() {
            entry.insert("children".into(), group.children.iter().cloned().collect());
        }
        if !entry.is_empty() {
            out.insert(name.to_string(), Value::Object(entry));
        }
        for child in &group.children {
            if seen.insert(child.clone()) {
                self.list_group(child, out, seen);
            }
        }
    }

    /// The `--graph` tree from `group` down, hosts after child groups, as `ansible-inventory` draws it.
    pub fn to_graph(&self, group: &str) -> Option<String> {
        self.groups.get(group)?;
        let mut lines = Vec::new();
        self.graph_group(group, 0, &mut lines);
        Some(lines.join("\n") + "\n")
    }

    fn graph_group(&self, name: &str, depth: usize, lines: &mut Vec<String>) {
        lines.push(graph_line(&format!("@{name}:"), depth));
        let group = &self.groups[name];
        for child in &group.children {
            self.graph_group(child, depth + 1, lines);
        }
        if name != "all" {
            for host in &group.hosts {
                lines.push(graph_line(host, depth + 1));
            }
        }
    }
}

fn graph_line(name: &str, depth: usize) -> String {
    if depth == 0 {
        name.to_string()
    } else {
        format!("{}--{name}", "  |".repeat(depth))
    }
}

/// Python's `json.dumps(sort_keys=True)` sorts every mapping, however deep; and a `!unsafe` value
/// (which the YAML reader wraps in a raw block) is shown as Ansible shows it.
fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        Value::String(text) => match unsafe_text(&text) {
            Some(inner) => serde_json::json!({ "__ansible_unsafe": inner }),
            None => Value::String(text),
        },
        other => other,
    }
}

/// The text of a value that is one raw block, as `!unsafe` values are read.
fn unsafe_text(text: &str) -> Option<&str> {
    let inner = text
        .strip_prefix("{% raw %}")?
        .strip_suffix("{% endraw %}")?;
    (!inner.contains("endraw")).then_some(inner)
}
