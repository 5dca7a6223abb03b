//! Host facts in one round trip, named and shaped as Ansible's setup module gives them: one POSIX
//! sh command made of a section per collector (`gather_subset` chooses them), its `key=value`
//! lines parsed here. No Python on the host.

mod hardware;
mod network;
mod system;
mod virtualization;

use serde_json::{Map, Value as Json, json};

pub use drover_roles::{Collector, Subsets};

/// Where Ansible looks for local facts (`ansible_local`) unless `fact_path` says otherwise.
pub const DEFAULT_FACT_PATH: &str = "/etc/ansible/facts.d";

/// What to gather: the collectors and where local facts live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gather {
    /// The collectors chosen by `gather_subset`.
    pub subsets: Subsets,
    /// The folder of `*.fact` files (`fact_path`).
    pub fact_path: String,
}

impl Default for Gather {
    fn default() -> Self {
        Gather {
            subsets: Subsets::default(),
            fact_path: DEFAULT_FACT_PATH.into(),
        }
    }
}

impl Gather {
    /// The command that prints the chosen facts: each collector's `key=value` lines (a fact whose
    /// source is missing is left out), then `__env__` and the environment when `env` is chosen.
    pub fn command(&self) -> String {
        let mut sh: Vec<String> = Vec::new();
        let has = |c| self.subsets.has(c);
        if has(Collector::Platform) {
            sh.push(system::PLATFORM.into());
        }
        if has(Collector::Distribution) || has(Collector::PkgMgr) {
            sh.push(system::DISTRIBUTION.into());
        }
        for (c, section) in [
            (Collector::Lsb, system::LSB),
            (Collector::User, system::USER),
            (Collector::DateTime, system::DATE_TIME),
            (Collector::ServiceMgr, system::SERVICE_MGR),
            (Collector::Dns, system::DNS),
            (Collector::SshPubKeys, system::SSH_PUB_KEYS),
            (Collector::Apparmor, system::APPARMOR),
            (Collector::Cmdline, system::CMDLINE),
            (Collector::Fips, system::FIPS),
            (Collector::Loadavg, system::LOADAVG),
            (Collector::Hardware, hardware::COMMAND),
            (Collector::Network, network::COMMAND),
            (Collector::Virtual, virtualization::COMMAND),
        ] {
            if has(c) {
                sh.push(section.into());
            }
        }
        if has(Collector::Local) {
            sh.push(system::local_command(&self.fact_path));
        }
        if has(Collector::Env) {
            sh.push("echo __env__; env".into());
        }
        // Every section may end in a failed test; the facts are what was printed.
        sh.push("true".into());
        sh.join("\n")
    }

    /// Reads the command's output into variables: `ansible_*` for every fact, and `ansible_facts`.
    pub fn parse(&self, output: &str) -> Map<String, Json> {
        let (head, env_text) = output.split_once("__env__\n").unwrap_or((output, ""));
        let f = Fields(head.lines().filter_map(|l| l.split_once('=')).collect());
        let mut facts = Map::new();
        let has = |c| self.subsets.has(c);
        if has(Collector::Platform) {
            system::platform(&f, &mut facts);
        }
        let distribution = system::distribution(&f);
        if has(Collector::Distribution) {
            facts.extend(distribution.facts);
        }
        if has(Collector::PkgMgr) {
            facts.insert("pkg_mgr".into(), json!(distribution.pkg_mgr));
        }
        let sections: [(Collector, Parser); 13] = [
            (Collector::Lsb, system::lsb),
            (Collector::User, system::user),
            (Collector::DateTime, system::date_time),
            (Collector::ServiceMgr, system::service_mgr),
            (Collector::Dns, system::dns),
            (Collector::SshPubKeys, system::ssh_pub_keys),
            (Collector::Apparmor, system::apparmor),
            (Collector::Cmdline, system::cmdline),
            (Collector::Fips, system::fips),
            (Collector::Local, system::local),
            (Collector::Loadavg, system::loadavg),
            (Collector::Hardware, hardware::parse),
            (Collector::Virtual, virtualization::parse),
        ];
        for (c, parse) in sections {
            if has(c) {
                parse(&f, &mut facts);
            }
        }
        if has(Collector::Network) {
            network::parse(&f, &mut facts);
        }
        if has(Collector::Env) {
            facts.insert("env".into(), system::env(env_text));
        }
        let mut vars = Map::new();
        for (k, v) in &facts {
            vars.insert(format!("ansible_{k}"), v.clone());
        }
        facts.insert("gather_subset".into(), json!(self.subsets.spec));
        facts.insert("module_setup".into(), json!(true));
        vars.insert("gather_subset".into(), json!(self.subsets.spec));
        vars.insert("module_setup".into(), json!(true));
        vars.insert("ansible_facts".into(), Json::Object(facts));
        vars
    }
}

/// A collector's reader: its facts from the output's lines.
type Parser = fn(&Fields, &mut Map<String, Json>);

/// The `key=value` lines of the command's output, in order.
pub(crate) struct Fields<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Fields<'a> {
    /// The first value of `key` ("" when there is none).
    fn get(&self, key: &str) -> &'a str {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("", |(_, v)| v.trim())
    }

    /// Every value of `key`, in order.
    fn all(&self, key: &'a str) -> impl Iterator<Item = &'a str> + '_ {
        self.0
            .iter()
            .filter(move |(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// What `grep -H '' FILE` printed for `path` under `key` (`key=PATH:VALUE` lines).
    fn file(&self, key: &'a str, path: &str) -> Option<&'a str> {
        self.all(key)
            .find_map(|l| l.strip_prefix(path)?.strip_prefix(':'))
    }

    /// Whether a line `key=...` was printed.
    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| *k == key)
    }
}

/// The facts with all collectors, as `gather_facts: true` gathers them (a test helper).
#[cfg(test)]
pub(crate) fn parse_all(output: &str) -> Map<String, Json> {
    Gather::default().parse(output)
}
