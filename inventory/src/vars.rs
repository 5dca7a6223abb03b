//! Variable precedence, as Ansible's VariableManager merges inventory variables for one host.
//!
//! Lowest to highest: `all` from inventory files; other groups from inventory files, shallow first;
//! `group_vars/all`; `group_vars/<group>`, shallow first; the host's inventory vars; `host_vars/<host>`.
//! Groups of equal depth are ordered by `ansible_group_priority`, then by name. Merging replaces whole
//! values (Ansible's default `hash_behaviour=replace`).

use crate::Vars;
use crate::model::{Group, Inventory};

impl Inventory {
    /// A host's inventory variables, merged with Ansible's precedence. Empty for an unknown host.
    pub fn host_vars(&self, host: &str) -> Vars {
        let Some(h) = self.hosts.get(host) else {
            return self.implicit_localhost_vars(host);
        };
        let all = &self.groups["all"];
        let mut groups: Vec<&Group> = self
            .host_groups(host)
            .iter()
            .filter(|g| *g != "all")
            .map(|g| &self.groups[g])
            .collect();
        groups.sort_by(|a, b| {
            (a.depth, a.priority(), &a.name).cmp(&(b.depth, b.priority(), &b.name))
        });

        let mut out = all.vars.clone();
        for g in &groups {
            merge(&mut out, &g.vars);
        }
        for layer in &all.file_vars {
            merge(&mut out, layer);
        }
        for source in 0..all.file_vars.len() {
            // A group made during the run (group_by, add_host) has no files.
            for layer in groups.iter().filter_map(|g| g.file_vars.get(source)) {
                merge(&mut out, layer);
            }
        }
        merge(&mut out, &h.vars);
        for layer in &h.file_vars {
            merge(&mut out, layer);
        }
        out
    }
}

impl Inventory {
    /// The implicit localhost's variables, as Ansible gives them: the `all` group's, and a local
    /// connection. Nothing for another unknown name.
    fn implicit_localhost_vars(&self, host: &str) -> Vars {
        if !crate::pattern::IMPLICIT_LOCALHOST.contains(&host) {
            return Vars::new();
        }
        let all = &self.groups["all"];
        let mut out = all.vars.clone();
        for layer in &all.file_vars {
            merge(&mut out, layer);
        }
        out.insert("ansible_connection".into(), "local".into());
        out
    }

    /// A host's variables as templates see them: its inventory variables, plus `inventory_hostname`,
    /// `inventory_hostname_short` and `group_names`. (`groups`, the same for every host, is
    /// [`Inventory::groups_var`].)
    pub fn template_vars(&self, host: &str) -> Vars {
        let mut vars = self.host_vars(host);
        vars.insert("inventory_hostname".into(), host.into());
        // As Ansible's Host.get_magic_vars: an address is its own short name, and group_names is
        // sorted.
        let short = if host.parse::<std::net::IpAddr>().is_ok() {
            host
        } else {
            host.split('.').next().unwrap_or(host)
        };
        vars.insert("inventory_hostname_short".into(), short.into());
        let mut names: Vec<String> = self
            .host_groups(host)
            .into_iter()
            .filter(|g| g != "all")
            .collect();
        names.sort();
        vars.insert("group_names".into(), names.into());
        if let Some(file) = self.hosts.get(host).and_then(|h| h.source.as_ref()) {
            let dir = file.parent().unwrap_or(file);
            vars.insert("inventory_file".into(), file.display().to_string().into());
            vars.insert("inventory_dir".into(), dir.display().to_string().into());
        }
        vars
    }

    /// `hostvars`: every host's variables, magic variables included, by host name.
    pub fn hostvars_var(&self) -> serde_json::Value {
        let hosts: Vars = self
            .hosts()
            .map(|h| (h.name.clone(), self.template_vars(&h.name).into()))
            .collect();
        hosts.into()
    }

    /// `groups`: every group and its hosts, in inventory order.
    pub fn groups_var(&self) -> serde_json::Value {
        let groups: Vars = self
            .groups()
            .map(|g| (g.name.clone(), self.group_hosts(&g.name).into()))
            .collect();
        groups.into()
    }
}

fn merge(into: &mut Vars, from: &Vars) {
    into.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use crate::Inventory;

    #[test]
    fn child_group_beats_parent_and_host_beats_both() {
        let text = "[prod:children]\nweb\n[web]\nw1 tier=host\nw2\n[prod:vars]\ntier=prod\nx=1\n[web:vars]\ntier=web\n";
        let inv = Inventory::from_text(Path::new("i.ini"), text).unwrap();
        assert_eq!(inv.host_vars("w1")["tier"], json!("host"));
        assert_eq!(inv.host_vars("w2")["tier"], json!("web"));
        assert_eq!(inv.host_vars("w2")["x"], json!(1));
    }

    /// As ansible-core 2.19's Host.get_magic_vars.
    #[test]
    fn magic_variables_are_ansibles() {
        let text =
            "[zeta]\nweb1.example.com\n10.0.0.5\n[alpha:children]\nzeta\n[mid]\nweb1.example.com\n";
        let inv = Inventory::from_text(Path::new("i.ini"), text).unwrap();
        let web = inv.template_vars("web1.example.com");
        assert_eq!(web["group_names"], json!(["alpha", "mid", "zeta"]));
        assert_eq!(web["inventory_hostname_short"], json!("web1"));
        let ip = inv.template_vars("10.0.0.5");
        assert_eq!(ip["inventory_hostname_short"], json!("10.0.0.5"));
    }

    #[test]
    fn same_depth_groups_merge_by_name() {
        let text = "[b]\nh\n[a]\nh\n[a:vars]\nv=a\n[b:vars]\nv=b\n";
        let inv = Inventory::from_text(Path::new("i.ini"), text).unwrap();
        assert_eq!(inv.host_vars("h")["v"], json!("b"));
    }
}
