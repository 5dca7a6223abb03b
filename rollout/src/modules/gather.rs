//! Modules that only read the host and give what they read as facts, in the shape Ansible's give
//! it: `package_facts` (`ansible_facts.packages`, from dpkg), `service_facts`
//! (`ansible_facts.services`, from systemd) and `getent` (`getent_<database>`). They change nothing,
//! so they run in check mode too.

use std::collections::BTreeMap;

use drover_ssh::shell::quote;
use serde_json::{Map, Value as Json, json};

use super::{Args, ModuleCtx, Outcome};

/// dpkg's installed packages, one per line: status, name, version, architecture, section.
pub const PACKAGES_COMMAND: &str = "dpkg-query -W -f='${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}\\t${Section}\\n'";

/// `ansible_facts.packages` as Ansible's apt backend gives it: each installed package's name to a
/// list of its installed versions.
pub fn parse_packages(out: &str) -> Map<String, Json> {
    let mut packages: Map<String, Json> = Map::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [status, name, version, arch, section] = f[..] else {
            continue;
        };
        if !status.starts_with("ii") {
            continue;
        }
        let entry = json!({"name": name, "version": version, "arch": arch, "category": section, "source": "apt"});
        match packages.get_mut(name) {
            Some(Json::Array(list)) => list.push(entry),
            _ => {
                packages.insert(name.to_string(), json!([entry]));
            }
        }
    }
    packages
}

/// Sets `facts` as `ansible_facts.<key>` (merged with the gathered facts) and as the plain `key`.
fn facts_outcome(key: &str, value: Json) -> Outcome {
    let mut outcome = Outcome::default();
    let mut inner = Map::new();
    inner.insert(key.to_string(), value.clone());
    outcome
        .facts
        .insert("ansible_facts".into(), Json::Object(inner.clone()));
    outcome.facts.insert(key.to_string(), value);
    outcome
        .result
        .insert("ansible_facts".into(), Json::Object(inner));
    outcome
}

pub async fn package_facts(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let managers = args.list("manager");
    if let Some(other) = managers
        .iter()
        .find(|m| !matches!(m.as_str(), "auto" | "apt"))
    {
        return Outcome::bad_input(format!(
            "package_facts: `manager: {other}`: drover reads dpkg's database (auto or apt)"
        ));
    }
    match ctx.output_of(PACKAGES_COMMAND, "package_facts").await {
        Ok(o) => facts_outcome(
            "packages",
            Json::Object(parse_packages(&String::from_utf8_lossy(&o))),
        ),
        Err(e) => Outcome::fail(e),
    }
}

/// Both of systemd's listings, separated, when systemd runs; `none` when it does not.
pub const SERVICES_COMMAND: &str = "if [ -d /run/systemd/system ]; then \
    systemctl list-units --no-pager --type service --all --plain; echo '##files'; \
    systemctl list-unit-files --no-pager --type service --all; else echo none; fi";

const BAD_STATES: [&str; 3] = ["not-found", "masked", "failed"];

/// `ansible_facts.services` from the listings, as Ansible's systemd scanner builds it, and the unit
/// files systemd did not list as units (their state is asked for separately).
pub fn parse_services(out: &str) -> (BTreeMap<String, Json>, Vec<String>) {
    let mut services = BTreeMap::new();
    let (units, files) = out.split_once("##files").unwrap_or((out, ""));
    for line in units.lines().filter(|l| l.contains(".service")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        let status = BAD_STATES
            .iter()
            .find(|bad| f[..f.len() - 1].contains(bad))
            .map_or(f[2], |b| *b);
        let state = if f[3] == "running" {
            "running"
        } else {
            "stopped"
        };
        services.insert(
            f[0].to_string(),
            json!({"name": f[0], "state": state, "status": status, "source": "systemd"}),
        );
    }
    let mut unlisted = Vec::new();
    for line in files.lines().filter(|l| l.contains(".service")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [name, status, ..] = f[..] else { continue };
        match services.get_mut(name) {
            Some(s) if !BAD_STATES.contains(&s["status"].as_str().unwrap_or_default()) => {
                s["status"] = json!(status);
            }
            Some(_) => {}
            None => {
                services.insert(
                    name.to_string(),
                    json!({"name": name, "state": "unknown", "status": status, "source": "systemd"}),
                );
                unlisted.push(name.to_string());
            }
        }
    }
    (services, unlisted)
}

pub async fn service_facts(_args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let out = match ctx.output_of(SERVICES_COMMAND, "service_facts").await {
        Ok(o) => String::from_utf8_lossy(&o).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    if out.trim() == "none" {
        return Outcome {
            skipped: true,
            msg: "Failed to find any services: systemd does not run on this host".into(),
            ..Outcome::default()
        };
    }
    let (mut services, unlisted) = parse_services(&out);
    if !unlisted.is_empty() {
        let names: Vec<String> = unlisted.iter().map(|n| quote(n)).collect();
        let cmd = format!(
            "for u in {}; do printf '%s %s\\n' \"$u\" \"$(systemctl show -p ActiveState --value \"$u\")\"; done",
            names.join(" ")
        );
        if let Ok(o) = ctx.output_of(&cmd, "service_facts").await {
            for line in String::from_utf8_lossy(&o).lines() {
                if let Some((name, state)) = line.split_once(' ')
                    && let Some(s) = services.get_mut(name)
                    && !state.is_empty()
                {
                    s["state"] = json!(state);
                }
            }
        }
    }
    facts_outcome("services", Json::Object(services.into_iter().collect()))
}

/// Databases whose fields are separated by `:` (others by whitespace), as Ansible picks.
const COLON_DATABASES: [&str; 5] = ["passwd", "group", "shadow", "gshadow", "initgroups"];

/// `getent_<database>`: each line's first field to the rest; a key seen twice to a list of them.
pub fn parse_getent(out: &str, split: Option<&str>, database: &str) -> Map<String, Json> {
    let mut results: Map<String, Json> = Map::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for line in out.lines() {
        let record: Vec<&str> = match split {
            Some(s) => line.split(s).collect(),
            None if COLON_DATABASES.contains(&database) => line.split(':').collect(),
            None => line.split_whitespace().collect(),
        };
        let Some((key, rest)) = record.split_first() else {
            continue;
        };
        let rest = json!(rest);
        let count = seen.entry(key.to_string()).or_insert(0);
        *count += 1;
        match (*count, results.get_mut(*key)) {
            (1, _) | (_, None) => {
                results.insert(key.to_string(), rest);
            }
            (2, Some(first)) => *first = json!([first.clone(), rest]),
            (_, Some(Json::Array(list))) => list.push(rest),
            (_, Some(_)) => {}
        }
    }
    results
}

pub async fn getent(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(database) = args.str("database") else {
        return Outcome::bad_input("getent needs `database`");
    };
    if !database
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Outcome::bad_input(format!("getent: `{database}` is not a database name"));
    }
    let key = args.str("key");
    let mut cmd = String::from("getent");
    if let Some(service) = args.str("service") {
        cmd.push_str(&format!(" -s {}", quote(&service)));
    }
    cmd.push_str(&format!(" {}", quote(&database)));
    if let Some(k) = &key {
        cmd.push_str(&format!(" {}", quote(k)));
    }
    let out = match ctx.exec(&cmd, b"").await {
        Ok(o) => o,
        Err(e) => return Outcome::fail(format!("getent: {e}")),
    };
    let code = match out.status {
        drover_ssh::ExitStatus::Code(c) => Some(c),
        _ => None,
    };
    let fail_key = args.bool("fail_key").unwrap_or(true);
    let results = parse_getent(
        &String::from_utf8_lossy(&out.stdout),
        args.str("split").as_deref(),
        &database,
    );
    match code {
        Some(0) => facts_outcome(&format!("getent_{database}"), Json::Object(results)),
        // 2: a key not found; without fail_key, the key is there with no value.
        Some(2) if !fail_key => {
            let mut missing = Map::new();
            missing.insert(key.unwrap_or_default(), Json::Null);
            facts_outcome(&format!("getent_{database}"), Json::Object(missing))
        }
        Some(2) => Outcome::fail("One or more supplied key could not be found in the database."),
        Some(1) => Outcome::fail("Missing arguments, or database unknown."),
        Some(3) => Outcome::fail("Enumeration not supported on this database."),
        _ => Outcome::fail(format!(
            "getent: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// The gathered facts whose names match one of `filter`'s glob patterns (all without a filter):
/// `ansible_*` names are matched as written, and `ansible_facts` keeps the matching facts.
pub fn filter_facts(
    facts: Map<String, Json>,
    filter: &[String],
) -> Result<Map<String, Json>, String> {
    if filter.is_empty() {
        return Ok(facts);
    }
    let globs = filter
        .iter()
        .map(|p| {
            globset::Glob::new(p)
                .map(|g| g.compile_matcher())
                .map_err(|e| format!("setup: filter `{p}`: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let keep = |name: &str| globs.iter().any(|g| g.is_match(name));
    let mut out: Map<String, Json> = facts
        .iter()
        .filter(|(k, _)| k.as_str() != "ansible_facts" && keep(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(Json::Object(inner)) = facts.get("ansible_facts") {
        let kept: Map<String, Json> = inner
            .iter()
            .filter(|(k, _)| keep(&format!("ansible_{k}")) || keep(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.insert("ansible_facts".into(), Json::Object(kept));
    }
    Ok(out)
}

/// setup: gathers facts as a task (as `gather_facts` does before a play), registered as
/// `ansible_facts` and set for the host's later tasks.
pub async fn setup(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    // gather_facts' `parallel` runs several fact modules side by side; drover gathers with one,
    // so either way there is one gatherer to run.
    let _ = args.bool("parallel");
    let words: Vec<String> = args
        .list("gather_subset")
        .iter()
        .flat_map(|w| w.split(',').map(|p| p.trim().to_string()))
        .collect();
    let subsets = match crate::facts::Subsets::parse(&words) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(format!("setup: {e}")),
    };
    let gather = crate::facts::Gather {
        subsets,
        fact_path: args
            .str("fact_path")
            .unwrap_or_else(|| crate::facts::DEFAULT_FACT_PATH.to_string()),
    };
    let timeout = match args.seconds("gather_timeout", 60.0) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("setup: {e}")),
    };
    let ran = ctx.exec_for(&gather.command(), b"", Some(timeout)).await;
    let facts = match ran {
        Ok(o) if o.status.success() => gather.parse(&String::from_utf8_lossy(&o.stdout)),
        Ok(o) => {
            return Outcome::fail(format!(
                "setup: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Err(e) => return Outcome::fail(format!("setup: {e}")),
    };
    let facts = match filter_facts(facts, &args.list("filter")) {
        Ok(f) => f,
        Err(e) => return Outcome::bad_input(e),
    };
    let mut outcome = Outcome::default();
    outcome.result.insert(
        "ansible_facts".into(),
        facts.get("ansible_facts").cloned().unwrap_or(json!({})),
    );
    outcome.facts = facts;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_filters_facts() {
        let facts = crate::facts::parse_all(
            "nodename=web01\nkernel=6.1.0\narch=x86_64\nid=debian\ncodename=bookworm\nversion=12\n__env__\nHOME=/root\n",
        );
        let kept = filter_facts(facts, &["ansible_distribution*".into()]).unwrap();
        assert_eq!(kept["ansible_distribution"], "Debian");
        assert_eq!(kept["ansible_distribution_release"], "bookworm");
        assert!(kept.get("ansible_kernel").is_none());
        assert_eq!(kept["ansible_facts"]["distribution_version"], "12");
        assert!(kept["ansible_facts"].get("kernel").is_none());
    }

    #[test]
    fn packages_are_read_from_dpkg() {
        let out = "ii \tbash\t5.2.15-2+b7\tamd64\tshells\nrc \told\t1.0\tamd64\tadmin\nii \tlibc6\t2.36-9\tamd64\tlibs\nii \tlibc6\t2.36-9\ti386\tlibs\n";
        let p = parse_packages(out);
        assert_eq!(
            p["bash"],
            json!([{"name": "bash", "version": "5.2.15-2+b7", "arch": "amd64", "category": "shells", "source": "apt"}])
        );
        assert!(
            !p.contains_key("old"),
            "removed, configuration left: not installed"
        );
        assert_eq!(p["libc6"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn services_are_read_as_ansible_reads_them() {
        let out = "ssh.service loaded active running OpenBSD Secure Shell server\n\
                   docker.service loaded failed failed Docker Application Container Engine\n\
                   ##files\n\
                   UNIT FILE STATE VENDOR PRESET\n\
                   ssh.service enabled enabled\n\
                   docker.service enabled enabled\n\
                   rsync.service disabled enabled\n";
        let (s, unlisted) = parse_services(out);
        assert_eq!(
            s["ssh.service"],
            json!({"name": "ssh.service", "state": "running", "status": "enabled", "source": "systemd"})
        );
        assert_eq!(s["docker.service"]["status"], "failed");
        assert_eq!(s["docker.service"]["state"], "stopped");
        assert_eq!(unlisted, ["rsync.service"]);
    }

    #[test]
    fn getent_splits_as_ansible_does() {
        let p = parse_getent("root:x:0:0:root:/root:/bin/bash\n", None, "passwd");
        assert_eq!(
            p["root"],
            json!(["x", "0", "0", "root", "/root", "/bin/bash"])
        );
        let h = parse_getent(
            "127.0.0.1       localhost\n::1 localhost ip6-localhost\n::1 again\n",
            None,
            "hosts",
        );
        assert_eq!(h["127.0.0.1"], json!(["localhost"]));
        assert_eq!(h["::1"], json!([["localhost", "ip6-localhost"], ["again"]]));
    }
}
