//! `hostvars`: every host's variables as a template sees them while the run goes on. The
//! inventory's are fixed; facts, `set_fact` values and registered results join as each host makes
//! them (and facts a delegated task gathered with `delegate_facts`), so
//! `hostvars[other].ansible_default_ipv4` reads what that host gathered, as in Ansible.
//!
//! A run keeps these for every host until it ends, so they are kept small: each variable as its
//! compact JSON text (read back when a template looks), and gathered facts once, under
//! `ansible_facts` (the `ansible_*` names are made again when read).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use minijinja::value::{Enumerator, Object, Value};
use serde_json::{Map, Value as Json};

use crate::filters::data_value;

/// Variables hosts set during a run, shared by every host's run (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct LiveVars(Arc<RwLock<Live>>);

/// Variables, each as its JSON text, in the order they were first set.
type Layer = Vec<(String, Box<str>)>;

#[derive(Debug, Default)]
struct Live {
    /// The facts each host gathered (`gather_facts`), below everything else a play sets.
    gathered: HashMap<String, Layer>,
    /// Facts other hosts' tasks gathered for it (`delegate_facts: true`).
    delegated: HashMap<String, Layer>,
    /// What each host set for itself: module facts, set_fact, registered results.
    own: HashMap<String, Layer>,
    /// Each host's inventory variables, and `groups`: as the run's inventory holds them now
    /// (`add_host` and `group_by` change them).
    inventory: Map<String, Json>,
    groups: Map<String, Json>,
    /// The run's extra variables (`-e`): every host's, over everything else, as in Ansible.
    extra: Map<String, Json>,
}

/// Sets `vars` in `layer`, each as JSON text.
fn store(layer: &mut Layer, vars: &Map<String, Json>) {
    for (key, value) in vars {
        let text: Box<str> = value.to_string().into();
        match layer.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = text,
            None => layer.push((key.clone(), text)),
        }
    }
}

/// Reads `layer` back into `into`, over what it holds.
fn load(layer: Option<&Layer>, into: &mut Map<String, Json>) {
    for (key, text) in layer.into_iter().flatten() {
        if let Ok(value) = serde_json::from_str(text) {
            into.insert(key.clone(), value);
        }
    }
}

/// Gathered facts without their `ansible_*` copies (they are `ansible_facts`' entries).
fn compact(facts: &Map<String, Json>) -> Map<String, Json> {
    let inner = facts.get("ansible_facts").and_then(Json::as_object);
    facts
        .iter()
        .filter(|(k, _)| {
            !k.strip_prefix("ansible_")
                .is_some_and(|name| inner.is_some_and(|i| i.contains_key(name)))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The `ansible_*` names again, from `ansible_facts`.
fn expand(vars: &mut Map<String, Json>) {
    let Some(Json::Object(inner)) = vars.get("ansible_facts").cloned() else {
        return;
    };
    for (name, value) in inner {
        if !matches!(name.as_str(), "gather_subset" | "module_setup") {
            vars.insert(format!("ansible_{name}"), value);
        }
    }
}

impl LiveVars {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Live> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Live> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The inventory's hosts (each with its variables) and groups (`groups`) from now on.
    pub fn set_inventory(&self, hostvars: &Json, groups: &Json) {
        let mut live = self.write();
        live.inventory = hostvars.as_object().cloned().unwrap_or_default();
        live.groups = groups.as_object().cloned().unwrap_or_default();
    }

    /// Some hosts' inventory variables and some groups' hosts, as they are now (after `add_host`
    /// or `group_by`); the others stay as they were.
    pub fn update_inventory(&self, hostvars: Map<String, Json>, groups: Map<String, Json>) {
        let mut live = self.write();
        live.inventory.extend(hostvars);
        live.groups.extend(groups);
    }

    /// The run's extra variables (`-e`), which every host's `hostvars` holds over all else.
    pub fn set_extra(&self, extra: &Map<String, Json>) {
        self.write().extra = extra.clone();
    }

    /// `host` gathered these facts.
    pub fn gathered(&self, host: &str, facts: &Map<String, Json>) {
        let mut live = self.write();
        store(
            live.gathered.entry(host.to_string()).or_default(),
            &compact(facts),
        );
    }

    /// The facts `host` gathered so far in the run (an earlier play's, for a play that gathers none).
    pub fn gathered_by(&self, host: &str) -> Map<String, Json> {
        let mut facts = Map::new();
        load(self.read().gathered.get(host), &mut facts);
        expand(&mut facts);
        facts
    }

    /// `host` set these variables for itself.
    pub fn set(&self, host: &str, vars: &Map<String, Json>) {
        store(self.write().own.entry(host.to_string()).or_default(), vars);
    }

    /// What `host` set for itself so far (an earlier play's facts, set_fact values and registered
    /// results, which stay with the host for the rest of the run, as in Ansible).
    pub fn own(&self, host: &str) -> Map<String, Json> {
        let mut vars = Map::new();
        load(self.read().own.get(host), &mut vars);
        vars
    }

    /// Facts another host's delegated task gathered for `host`.
    pub fn delegate(&self, host: &str, facts: &Map<String, Json>) {
        store(
            self.write().delegated.entry(host.to_string()).or_default(),
            facts,
        );
    }

    /// The facts other hosts gathered for `host` (its own tasks see them too).
    pub fn delegated_to(&self, host: &str) -> Map<String, Json> {
        let mut facts = Map::new();
        load(self.read().delegated.get(host), &mut facts);
        facts
    }
}

/// The `hostvars` object: a host's inventory variables, then its gathered facts, then what was
/// delegated to it, then what it set itself, then the run's extra variables.
#[derive(Debug)]
pub(crate) struct HostVars(pub(crate) LiveVars);

impl Object for HostVars {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let host = key.as_str()?;
        let live = self.0.read();
        let mut vars = live.inventory.get(host)?.as_object()?.clone();
        let mut gathered = Map::new();
        load(live.gathered.get(host), &mut gathered);
        expand(&mut gathered);
        vars.extend(gathered);
        load(live.delegated.get(host), &mut vars);
        load(live.own.get(host), &mut vars);
        vars.extend(live.extra.clone());
        Some(data_value(&vars))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        names(&self.0.read().inventory)
    }
}

/// A live map's keys, as a template enumerates them (`| list`, `in`, loops).
fn names(map: &Map<String, Json>) -> Enumerator {
    Enumerator::Values(map.keys().map(|k| Value::from(k.as_str())).collect())
}

/// The `groups` object: each group's hosts, as the run's inventory holds them now.
#[derive(Debug)]
pub(crate) struct Groups(pub(crate) LiveVars);

impl Object for Groups {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.read().groups.get(key.as_str()?).map(data_value)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        names(&self.0.read().groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gathered_facts_are_kept_once_and_read_under_both_names() {
        let live = LiveVars::default();
        let facts = json!({"ansible_kernel": "6.1", "ansible_facts": {"kernel": "6.1", "gather_subset": ["all"]}, "gather_subset": ["all"]});
        live.gathered("h", facts.as_object().unwrap());
        let stored = live.read().gathered["h"].len();
        assert_eq!(stored, 2, "ansible_kernel is not kept twice");
        let back = live.gathered_by("h");
        assert_eq!(back["ansible_kernel"], "6.1");
        assert_eq!(back["ansible_facts"]["kernel"], "6.1");
        assert_eq!(back["gather_subset"], json!(["all"]));
        assert!(back.get("ansible_gather_subset").is_none());
        live.set("h", json!({"said": {"stdout": "hi"}}).as_object().unwrap());
        live.set(
            "h",
            json!({"said": {"stdout": "again"}}).as_object().unwrap(),
        );
        assert_eq!(live.own("h")["said"]["stdout"], "again");
    }

    #[test]
    fn templates_read_hostvars_as_a_mapping() {
        let live = LiveVars::default();
        let mut engine = crate::Engine::new();
        engine.add_inventory(
            &json!({"a": {"x": 1}, "b": {}}),
            &json!({"all": ["a", "b"]}),
            live.clone(),
        );
        live.set("b", json!({"y": "set"}).as_object().unwrap());
        let out = engine
            .render_str(
                "t",
                "{{ hostvars['a'].x }} {{ hostvars | list }} {{ hostvars.b | to_json }} {{ 'a' in hostvars }} {{ hostvars.c is defined }}",
                &crate::Vars::new(),
            )
            .unwrap();
        assert_eq!(out, r#"1 ['a', 'b'] {"y": "set"} True False"#);
        // Extra variables are every host's, over what it set itself.
        live.set_extra(json!({"y": "extra", "z": 2}).as_object().unwrap());
        let out = engine
            .render_str(
                "t",
                "{{ hostvars.a.z }} {{ hostvars.b.y }}",
                &crate::Vars::new(),
            )
            .unwrap();
        assert_eq!(out, "2 extra");
    }
}
