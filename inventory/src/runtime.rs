//! Changes a run makes to its inventory, as Ansible's `add_host` and `group_by` make them: hosts
//! and groups that later plays' `hosts:` patterns, `groups` and `hostvars` see.

use crate::{Inventory, Vars};

impl Inventory {
    /// `add_host`: puts `name` in the inventory (in `ungrouped` if new and given no group), in each
    /// of `groups` (made under `all` if new), with `vars` over its own. Whether anything changed.
    pub fn add_runtime_host(&mut self, name: &str, groups: &[String], vars: &Vars) -> bool {
        let mut changed = !self.hosts.contains_key(name);
        for group in groups {
            changed |= self.join(name, group, &[]);
        }
        if changed && groups.is_empty() {
            self.add_host(name, "ungrouped");
        }
        let host = self
            .hosts
            .get_mut(name)
            .expect("the host was just added to a group");
        for (key, value) in vars {
            if host.vars.get(key) != Some(value) {
                host.vars.insert(key.clone(), value.clone());
                changed = true;
            }
        }
        self.reconcile();
        changed
    }

    /// `group_by`: puts `host` in `group`, making the group under each of `parents` (under `all`
    /// when none) if it is new. Whether anything changed.
    pub fn group_host(&mut self, host: &str, group: &str, parents: &[String]) -> bool {
        let changed = self.join(host, group, parents);
        self.reconcile();
        changed
    }

    /// Adds `host` to `group`, a new group under `parents`; whether it was not there already.
    fn join(&mut self, host: &str, group: &str, parents: &[String]) -> bool {
        if !self.groups.contains_key(group) {
            self.add_group(group);
            for parent in parents.iter().filter(|p| *p != group && *p != "all") {
                self.add_group(parent);
                // A new group has no children, so it cannot close a loop.
                self.groups[parent.as_str()]
                    .children
                    .insert(group.to_string());
                self.groups[group].parents.insert(parent.clone());
            }
        }
        let already = self
            .hosts
            .get(host)
            .is_some_and(|h| h.groups.contains(group));
        self.add_host(host, group);
        !already
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::Inventory;

    fn inventory() -> Inventory {
        Inventory::from_text(
            std::path::Path::new("hosts"),
            "web1\n[db]\ndb1 ansible_port=2222\n",
        )
        .unwrap()
    }

    #[test]
    fn add_host_makes_a_host_and_its_groups_that_patterns_and_vars_see() {
        let mut inv = inventory();
        let vars = json!({"ansible_host": "10.0.0.9"});
        let groups = vec!["launched".to_string(), "db".to_string()];
        assert!(inv.add_runtime_host("new1", &groups, vars.as_object().unwrap()));
        assert_eq!(inv.select("launched", None).unwrap(), vec!["new1"]);
        assert_eq!(inv.select("db", None).unwrap(), vec!["db1", "new1"]);
        assert_eq!(inv.host_vars("new1")["ansible_host"], "10.0.0.9");
        assert!(!inv.add_runtime_host("new1", &groups, vars.as_object().unwrap()));
        assert!(inv.add_runtime_host("new2", &[], &serde_json::Map::new()));
        assert!(inv.select("ungrouped", None).unwrap().contains(&"new2"));
        // An existing host only joins.
        assert!(inv.add_runtime_host("web1", &["launched".into()], &serde_json::Map::new()));
        assert_eq!(inv.select("ungrouped", None).unwrap(), vec!["new2"]);
        assert_eq!(inv.groups_var()["launched"], json!(["web1", "new1"]));
    }

    #[test]
    fn group_by_puts_a_host_in_a_group_under_its_parents() {
        let mut inv = inventory();
        let parents = vec!["os".to_string()];
        assert!(inv.group_host("db1", "os_Debian", &parents));
        assert!(!inv.group_host("db1", "os_Debian", &parents));
        assert!(inv.group_host("web1", "os_Debian", &parents));
        assert_eq!(inv.select("os", None).unwrap(), vec!["web1", "db1"]);
        assert_eq!(inv.select("os_Debian:&db", None).unwrap(), vec!["db1"]);
        assert!(inv.host_groups("web1").contains("os"));
    }
}
