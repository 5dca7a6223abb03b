//! Hosts and groups as Ansible builds them: a DAG of groups under `all`, hosts in declaration order.

use indexmap::{IndexMap, IndexSet};

use crate::Vars;
use crate::error::{InventoryError, Location};

/// A managed host.
#[derive(Debug, Clone, Default)]
pub struct Host {
    /// The inventory name (`inventory_hostname`).
    pub name: String,
    /// Variables set on the host in inventory files.
    pub vars: Vars,
    /// Variables from `host_vars/` files, one map per inventory source, in source order.
    pub file_vars: Vec<Vars>,
    /// The groups the host was put in directly, in order.
    pub groups: IndexSet<String>,
    /// The inventory file that first named it (`inventory_file`; `inventory_dir` is its folder).
    pub source: Option<std::path::PathBuf>,
}

/// A group of hosts and groups.
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// Variables set on the group in inventory files.
    pub vars: Vars,
    /// Variables from `group_vars/` files, one map per inventory source, in source order.
    pub file_vars: Vec<Vars>,
    /// Hosts put directly in this group, in order.
    pub hosts: IndexSet<String>,
    /// Child groups, in order.
    pub children: IndexSet<String>,
    /// Parent groups, in order.
    pub parents: IndexSet<String>,
    /// Distance from `all`; deeper groups' variables win.
    pub depth: usize,
}

impl Group {
    fn named(name: &str) -> Self {
        Group {
            name: name.to_string(),
            ..Group::default()
        }
    }

    /// `ansible_group_priority`: among groups of one depth, a higher priority is merged later and wins.
    pub fn priority(&self) -> i64 {
        self.vars
            .get("ansible_group_priority")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(1)
    }
}

/// A whole inventory, from one or more sources.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub(crate) hosts: IndexMap<String, Host>,
    pub(crate) groups: IndexMap<String, Group>,
    /// Host declarations read so far, ranges expanded (see [`MAX_DECLARED`]).
    declared: usize,
}

/// The most host declarations one inventory may make, ranges expanded and every group a host is
/// listed in counted: far beyond any fleet, and it keeps lines such as `h[1:99999]`, repeated, from
/// eating the controller's memory where each line alone is within its own bound.
pub const MAX_DECLARED: usize = 200_000;

impl Default for Inventory {
    fn default() -> Self {
        let mut inv = Inventory {
            hosts: IndexMap::new(),
            groups: IndexMap::new(),
            declared: 0,
        };
        inv.add_group("all");
        inv.add_group("ungrouped");
        inv.groups["all"].children.insert("ungrouped".into());
        inv.groups["ungrouped"].parents.insert("all".into());
        inv
    }
}

impl Inventory {
    /// Every host, in declaration order.
    pub fn hosts(&self) -> impl Iterator<Item = &Host> {
        self.hosts.values()
    }

    /// A host by inventory name.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }

    /// Every group, in creation order (`all` and `ungrouped` first).
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// A group by name.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    pub(crate) fn add_group(&mut self, name: &str) -> &mut Group {
        self.groups
            .entry(name.to_string())
            .or_insert_with(|| Group::named(name))
    }

    /// Counts `n` more host declarations against [`MAX_DECLARED`]; the reason when over.
    pub(crate) fn declare(&mut self, n: usize) -> Result<(), String> {
        self.declared = self.declared.saturating_add(n);
        if self.declared > MAX_DECLARED {
            return Err(format!(
                "the inventory declares more than {MAX_DECLARED} hosts in all (ranges expanded, every group counted)"
            ));
        }
        Ok(())
    }

    pub(crate) fn add_host(&mut self, name: &str, group: &str) -> &mut Host {
        self.add_group(group).hosts.insert(name.to_string());
        let host = self.hosts.entry(name.to_string()).or_insert_with(|| Host {
            name: name.to_string(),
            ..Host::default()
        });
        host.groups.insert(group.to_string());
        host
    }

    /// Makes `child` a child of `parent`, refusing loops.
    pub(crate) fn add_child(
        &mut self,
        parent: &str,
        child: &str,
        at: &Location,
    ) -> Result<(), InventoryError> {
        // Every group sits under `all`, so `all` below another group would be a loop too.
        if parent == child || child == "all" || self.ancestors(parent).contains(child) {
            return Err(InventoryError::GroupLoop {
                at: at.clone(),
                parent: parent.into(),
                child: child.into(),
            });
        }
        self.add_group(parent).children.insert(child.to_string());
        self.add_group(child).parents.insert(parent.to_string());
        Ok(())
    }

    /// Every group above `group`, nearest first.
    pub(crate) fn ancestors(&self, group: &str) -> IndexSet<String> {
        let mut out = IndexSet::new();
        let mut todo: Vec<&str> = vec![group];
        while let Some(g) = todo.pop() {
            for p in self.groups.get(g).into_iter().flat_map(|g| &g.parents) {
                if out.insert(p.clone()) {
                    todo.push(p);
                }
            }
        }
        out
    }

    /// The group itself and every group below it.
    pub(crate) fn descendants(&self, group: &str) -> IndexSet<String> {
        let mut out = IndexSet::from([group.to_string()]);
        let mut i = 0;
        while i < out.len() {
            let g = out[i].clone();
            for c in self.groups.get(&g).into_iter().flat_map(|g| &g.children) {
                out.insert(c.clone());
            }
            i += 1;
        }
        out
    }

    /// Every group a host belongs to, directly or through parents, `all` included.
    pub fn host_groups(&self, host: &str) -> IndexSet<String> {
        let mut out = IndexSet::new();
        for g in self.hosts.get(host).into_iter().flat_map(|h| &h.groups) {
            out.insert(g.clone());
            out.extend(self.ancestors(g));
        }
        out.insert("all".into());
        out
    }

    /// Hosts of a group and of all its descendants, in declaration order.
    pub fn group_hosts(&self, group: &str) -> Vec<&str> {
        if group == "all" {
            return self.hosts.keys().map(String::as_str).collect();
        }
        let groups = self.descendants(group);
        self.hosts
            .values()
            .filter(|h| h.groups.iter().any(|g| groups.contains(g)))
            .map(|h| h.name.as_str())
            .collect()
    }

    /// What Ansible does once every source is read: parentless groups go under `all`, hosts in no group
    /// go to `ungrouped`, and depths are computed.
    pub(crate) fn reconcile(&mut self) {
        let orphans: Vec<String> = self
            .groups
            .values()
            .filter(|g| g.name != "all" && g.parents.is_empty())
            .map(|g| g.name.clone())
            .collect();
        for name in orphans {
            self.groups["all"].children.insert(name.clone());
            self.groups[&name].parents.insert("all".into());
        }
        let lonely: Vec<String> = self
            .hosts
            .values()
            .filter(|h| h.groups.iter().all(|g| g == "all"))
            .map(|h| h.name.clone())
            .collect();
        for name in lonely {
            self.add_host(&name, "ungrouped");
        }
        // A host listed under `ungrouped` and also in a real group is not ungrouped.
        let ungrouped: Vec<String> = self.groups["ungrouped"].hosts.iter().cloned().collect();
        for name in ungrouped {
            if self.hosts[&name]
                .groups
                .iter()
                .any(|g| g != "all" && g != "ungrouped")
            {
                self.groups["ungrouped"].hosts.shift_remove(&name);
                self.hosts[&name].groups.shift_remove("ungrouped");
            }
        }
        self.compute_depths();
    }

    fn compute_depths(&mut self) {
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for name in names {
            let depth = self.depth_of(&name);
            self.groups[&name].depth = depth;
        }
    }

    fn depth_of(&self, group: &str) -> usize {
        self.groups[group]
            .parents
            .iter()
            .map(|p| self.depth_of(p) + 1)
            .max()
            .unwrap_or(0)
    }
}
