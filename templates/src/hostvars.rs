//! `hostvars`: every host's variables as a template sees them while the run goes on. The
//! inventory's are fixed; facts, `set_fact` values and registered results join as each host makes
//! them (and facts a delegated task gathered with `delegate_facts`), so
//! `hostvars[other].ansible_default_ipv4` reads what that host gathered, as in Ansible.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use minijinja::value::{Enumerator, Object, Value};
use serde_json::{Map, Value as Json};

use crate::filters::data_value;

/// Variables hosts set during a run, shared by every host's run (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct LiveVars(Arc<RwLock<Live>>);

#[derive(Debug, Default)]
struct Live {
    /// The facts each host gathered (`gather_facts`), below everything else a play sets.
    gathered: HashMap<String, Map<String, Json>>,
    /// What each host set for itself: module facts, set_fact, registered results.
    own: HashMap<String, Map<String, Json>>,
    /// Facts other hosts' tasks gathered for it (`delegate_facts: true`).
    delegated: HashMap<String, Map<String, Json>>,
}

impl LiveVars {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Live> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Live> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// `host` gathered these facts.
    pub fn gathered(&self, host: &str, facts: &Map<String, Json>) {
        let mut live = self.write();
        let entry = live.gathered.entry(host.to_string()).or_default();
        entry.extend(facts.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// The facts `host` gathered so far in the run (an earlier play's, for a play that gathers none).
    pub fn gathered_by(&self, host: &str) -> Map<String, Json> {
        self.read().gathered.get(host).cloned().unwrap_or_default()
    }

    /// `host` set these variables for itself.
    pub fn set(&self, host: &str, vars: &Map<String, Json>) {
        let mut live = self.write();
        let own = live.own.entry(host.to_string()).or_default();
        own.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// Facts another host's delegated task gathered for `host`.
    pub fn delegate(&self, host: &str, facts: &Map<String, Json>) {
        let mut live = self.write();
        let entry = live.delegated.entry(host.to_string()).or_default();
        entry.extend(facts.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// What `host` set for itself so far (an earlier play's facts, set_fact values and registered
    /// results, which stay with the host for the rest of the run, as in Ansible).
    pub fn own(&self, host: &str) -> Map<String, Json> {
        self.read().own.get(host).cloned().unwrap_or_default()
    }

    /// The facts other hosts gathered for `host` (its own tasks see them too).
    pub fn delegated_to(&self, host: &str) -> Map<String, Json> {
        self.read().delegated.get(host).cloned().unwrap_or_default()
    }
}

/// The `hostvars` object: a host's inventory variables, then its gathered facts, then what was
/// delegated to it, then what it set itself.
#[derive(Debug)]
pub(crate) struct HostVars {
    pub(crate) fixed: Map<String, Json>,
    pub(crate) live: LiveVars,
}

impl Object for HostVars {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let host = key.as_str()?;
        let mut vars = self.fixed.get(host)?.as_object()?.clone();
        let live = self.live.read();
        let layers = [
            live.gathered.get(host),
            live.delegated.get(host),
            live.own.get(host),
        ];
        for layer in layers.into_iter().flatten() {
            vars.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Some(data_value(&vars))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let hosts: Vec<Value> = self.fixed.keys().map(|h| Value::from(h.as_str())).collect();
        Enumerator::Values(hosts)
    }
}
