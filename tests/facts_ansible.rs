//! drover's facts held against Ansible's own setup module on the same real Debian host (systemd
//! as PID 1), gathered moments apart: every fact drover reports must be one Ansible reports, with
//! the same value where the value does not change from second to second; every fact Ansible
//! reports that drover lacks must be one docs/facts.md lists as not gathered.
//!
//! Ansible needs Python on the host; the fleet's image has none, so the controller's own Python
//! (the one ansible-core was installed with by scripts/install-deps) is mounted read-only into the
//! host for this test only.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use common::{DebianFleet, DebianOptions, assert_bad_input, drover, push_args};
use serde_json::{Map, Value as Json};

/// Ansible's facts that drover does not gather (docs/facts.md says why).
const NOT_GATHERED: &[&str] = &[
    "device_links",
    "devices",
    "distribution_file_parsed",
    "distribution_file_path",
    "distribution_file_variety",
    "fibre_channel_wwn",
    "hostnqn",
    "is_chroot",
    "iscsi_iqn",
    "lvm",
    "python",
    "python_version",
    "selinux",
    "selinux_python_present",
    "system_capabilities",
    "system_capabilities_enforced",
    "systemd",
];

/// Facts that change between two gatherings a second apart: compared by presence only.
const MOVING: &[&str] = &[
    "date_time",
    "env",
    "loadavg",
    "uptime_seconds",
    "memfree_mb",
    "memory_mb",
    "mounts",
];

/// The `ansible` program installed by scripts/install-deps, or None (loudly) where it is missing
/// and DROVER_REQUIRE_DOCKER is not set.
fn ansible() -> Option<PathBuf> {
    let path = std::env::var_os("DROVER_ANSIBLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/drover-ansible/bin/ansible"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("DROVER_REQUIRE_DOCKER").is_none(),
        "{} is missing (scripts/install-deps installs ansible-core there) and DROVER_REQUIRE_DOCKER is set",
        path.display()
    );
    eprintln!("SKIPPED: no ansible-core at {}", path.display());
    None
}

/// The Python installation ansible-core runs on (its base prefix, where libpython lives).
fn python_prefix(ansible: &std::path::Path) -> PathBuf {
    let python = ansible.with_file_name("python3");
    let out = Command::new(&python)
        .args(["-c", "import sys; print(sys.base_prefix)"])
        .output()
        .expect("run ansible-core's python");
    let prefix = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    // The prefix is mounted over the host's own path: never one of the host's system folders.
    assert!(
        !["", "/", "/usr", "/usr/local", "/opt"].contains(&prefix.to_string_lossy().as_ref()),
        "ansible-core's Python lives in {}: make its virtualenv with a Python installed in a folder of its own (scripts/install-deps does)",
        prefix.display()
    );
    prefix
}

/// Ansible's facts for deb01, from `ansible deb01 -m setup`, with `ansible_` taken off the names.
fn ansible_facts(fleet: &DebianFleet, ansible: &std::path::Path, args: &str) -> Map<String, Json> {
    let python = python_prefix(ansible).join("bin/python3");
    // An empty configuration: no ansible.cfg of this machine's changes what Ansible does.
    let config = fleet.dir().join("ansible.cfg");
    std::fs::write(&config, "[defaults]\n").unwrap();
    let out = Command::new(ansible)
        .args(["deb01", "-i"])
        .arg(fleet.inventory())
        .args(["-m", "setup", "-a", args, "-e"])
        .arg(format!("ansible_python_interpreter={}", python.display()))
        .env("ANSIBLE_HOME", fleet.dir().join("ansible-home"))
        .env("ANSIBLE_CONFIG", &config)
        .env(
            "ANSIBLE_SSH_ARGS",
            format!(
                "-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o ControlMaster=no",
                fleet.known_hosts().display()
            ),
        )
        .output()
        .expect("run ansible");
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text
        .find('{')
        .unwrap_or_else(|| panic!("ansible printed no result: {text} {out:?}"));
    let doc: Json = serde_json::from_str(&text[start..]).expect("ansible's JSON");
    let facts = doc["ansible_facts"]
        .as_object()
        .unwrap_or_else(|| panic!("{doc}"));
    facts
        .iter()
        .map(|(k, v)| {
            (
                k.strip_prefix("ansible_").unwrap_or(k).to_string(),
                v.clone(),
            )
        })
        .collect()
}

/// drover's facts for deb01, from `drover run deb01 -m setup`, named as in `ansible_facts`.
fn drover_facts(fleet: &DebianFleet, args: &str) -> Map<String, Json> {
    let run = drover(
        fleet,
        &["run", "deb01", "-m", "setup", "-a", args, "--json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    run.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .find(|e| e["event"] == "task" && e["host"] == "deb01")
        .and_then(|e| e["result"]["ansible_facts"].as_object().cloned())
        .unwrap_or_else(|| panic!("no facts in {run:?}"))
}

/// A list of strings as a set (Ansible's order follows directory listings and Python sets).
fn as_set(v: &Json) -> Option<BTreeSet<String>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_str().map(String::from))
        .collect()
}

/// Holds drover's facts against Ansible's; returns every difference found.
fn differences(ansible: &Map<String, Json>, drover: &Map<String, Json>) -> Vec<String> {
    let mut diffs = Vec::new();
    for k in drover.keys() {
        if !ansible.contains_key(k) {
            diffs.push(format!("drover has `{k}`, Ansible does not"));
        }
    }
    for k in ansible.keys() {
        if !drover.contains_key(k) && !NOT_GATHERED.contains(&k.as_str()) {
            diffs.push(format!("Ansible has `{k}`, drover does not"));
        }
    }
    for (k, a) in ansible {
        let Some(d) = drover.get(k) else { continue };
        if MOVING.contains(&k.as_str()) {
            continue;
        }
        let same = match (as_set(a), as_set(d)) {
            (Some(a), Some(d)) => a == d,
            _ => a == d,
        };
        if !same {
            diffs.push(format!("`{k}`: Ansible {a}, drover {d}"));
        }
    }
    diffs
}

/// The facts that move are compared on what stays put: each mount's device, type, options and
/// total size; the date's day and zone; the login environment.
fn moving_differences(ansible: &Map<String, Json>, drover: &Map<String, Json>) -> Vec<String> {
    let mut diffs = Vec::new();
    let by_mount = |facts: &Map<String, Json>| -> Map<String, Json> {
        facts["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["mount"].as_str().unwrap().to_string(), m.clone()))
            .collect()
    };
    let (am, dm) = (by_mount(ansible), by_mount(drover));
    if am.keys().collect::<BTreeSet<_>>() != dm.keys().collect::<BTreeSet<_>>() {
        diffs.push(format!(
            "mount points: Ansible {:?}, drover {:?}",
            am.keys(),
            dm.keys()
        ));
    }
    for (mount, a) in &am {
        let Some(d) = dm.get(mount) else { continue };
        for field in [
            "device",
            "fstype",
            "options",
            "dump",
            "passno",
            "uuid",
            "size_total",
            "block_size",
            "block_total",
            "inode_total",
        ] {
            if a[field] != d[field] {
                diffs.push(format!(
                    "mount {mount} {field}: Ansible {}, drover {}",
                    a[field], d[field]
                ));
            }
        }
    }
    let (at, dt) = (&ansible["date_time"], &drover["date_time"]);
    let keys = |v: &Json| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
    };
    if keys(at) != keys(dt) {
        diffs.push(format!("date_time keys: Ansible {at}, drover {dt}"));
    }
    for field in [
        "year",
        "month",
        "day",
        "tz",
        "tz_dst",
        "tz_offset",
        "weekday",
    ] {
        if at[field] != dt[field] {
            diffs.push(format!("date_time.{field}: Ansible {at}, drover {dt}"));
        }
    }
    for var in ["HOME", "USER", "LOGNAME", "SHELL"] {
        if ansible["env"][var] != drover["env"][var] {
            diffs.push(format!(
                "env {var}: Ansible {}, drover {}",
                ansible["env"][var], drover["env"][var]
            ));
        }
    }
    let memory = |f: &Map<String, Json>| f["memory_mb"]["real"]["total"].clone();
    if memory(ansible) != memory(drover) {
        diffs.push("memory_mb.real.total differs".into());
    }
    diffs
}

#[test]
fn drover_gathers_the_facts_ansible_gathers_on_the_same_debian_host() {
    let Some(ansible) = ansible() else { return };
    let Some(fleet) = common::debian_fleet(
        "drover_gathers_the_facts_ansible_gathers_on_the_same_debian_host",
        &DebianOptions {
            boot: drover_fleet::Boot::Systemd,
            controller_mounts: vec![python_prefix(&ansible)],
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    // Local facts of each kind Ansible reads: JSON, INI, and a program whose output is JSON.
    fleet
        .exec(
            0,
            "mkdir -p /etc/ansible/facts.d && cd /etc/ansible/facts.d \
             && printf '{\"app\": {\"port\": 8080}}\\n' > app.fact \
             && printf '[db]\\nHost = db01\\nport = 5432\\n' > db.fact \
             && printf '#!/bin/sh\\necho \"{\\\\\"made\\\\\": \\\\\"$(hostname)\\\\\"}\"\\n' > run.fact \
             && chmod +x run.fact",
        )
        .unwrap();
    for args in [
        "gather_subset=all",
        "gather_subset=!all",
        "gather_subset=!all,network,virtual",
    ] {
        let theirs = ansible_facts(&fleet, &ansible, args);
        let ours = drover_facts(&fleet, args);
        let mut diffs = differences(&theirs, &ours);
        if args == "gather_subset=all" {
            diffs.extend(moving_differences(&theirs, &ours));
        }
        assert!(
            diffs.is_empty(),
            "{args}: drover's facts differ from Ansible's:\n{}",
            diffs.join("\n")
        );
        if args == "gather_subset=all" {
            // Not vacuous: the facts roles read most are there, with this host's values.
            assert_eq!(ours["hostname"], "deb01");
            assert_eq!(ours["distribution"], "Debian");
            assert_eq!(ours["distribution_major_version"], "12");
            assert_eq!(ours["service_mgr"], "systemd");
            assert_eq!(ours["virtualization_type"], theirs["virtualization_type"]);
            assert_eq!(
                ours["default_ipv4"]["address"],
                fleet.hosts()[0].addr.to_string()
            );
            assert_eq!(ours["local"]["db"]["db"]["host"], "db01");
            assert_eq!(ours["local"]["run"]["made"], "deb01");
            assert!(ours["mounts"].as_array().is_some_and(|m| !m.is_empty()));
        }
    }

    // A play's own gather_subset, fact_path and gather_timeout are honoured, not just the setup
    // task's: network facts and local facts from another folder, and no hardware facts.
    fleet
        .exec(
            0,
            "mkdir -p /srv/facts && printf '{\"k\": 7}' > /srv/facts/mine.fact",
        )
        .unwrap();
    let play = fleet.dir().join("subset.yml");
    std::fs::write(
        &play,
        "- hosts: all\n  gather_subset: ['!all', network]\n  fact_path: /srv/facts\n  gather_timeout: 30\n  tasks:\n    - debug:\n        msg: \"{{ ansible_default_ipv4.address }} {{ ansible_mounts is defined }} {{ ansible_local.mine.k }} {{ ansible_local.app is defined }}\"\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let run = drover(&fleet, &push_args(&play, &runs, &["-v"]));
    assert_eq!(run.code, 0, "{run:?}");
    let expected = format!("{} False 7 False", fleet.hosts()[0].addr);
    assert!(run.stdout.contains(&expected), "{run:?}");
    // A subset that names nothing is refused at load, where it is written.
    std::fs::write(
        &play,
        "- hosts: all\n  gather_subset: [hardwre]\n  tasks: []\n",
    )
    .unwrap();
    let run = drover(&fleet, &push_args(&play, &runs, &[]));
    assert_bad_input(
        &run,
        "subset.yml:2:18",
        "gather_subset `hardwre` is not a fact subset",
    );
}
