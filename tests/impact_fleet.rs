//! `drover impact` against the fleet: real apt computes each host's plan from fixture package indexes
//! (APT_CONFIG), real .debs built here carry the maintainer scripts, and a real Docker daemon per host
//! runs one container per restart policy. The hosts mirror the seeds: containerd.io 1.7 -> 2.1 with
//! docker-ce; a new kernel; only libexpat1. The report must predict exactly, and change nothing.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::apt::{apt_world, build_repo};
use common::{Fleet, FleetOptions};

/// Everything the check must not change: apt's files and each daemon's containers.
fn snapshot(worlds: &[PathBuf], fleet: &Fleet) -> Vec<String> {
    let mut out = Vec::new();
    for w in worlds {
        let out_ls = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "cd {} && find . -type f | sort | xargs sha256sum",
                w.display()
            ))
            .output()
            .unwrap();
        out.push(String::from_utf8_lossy(&out_ls.stdout).into_owned());
    }
    for i in 0..fleet.hosts().len() {
        out.push(
            fleet
                .docker(
                    i,
                    &["ps", "-a", "--format", "{{.Names}} {{.State}} {{.Image}}"],
                )
                .unwrap_or_default(),
        );
    }
    out
}

#[test]
fn impact_predicts_restarts_reboots_and_container_fates_without_changing_anything() {
    if !common::docker_available("impact_fleet") {
        return;
    }
    let scratch = common::scratch().join(format!("impact-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let repo = scratch.join("repo");
    build_repo(&repo);
    let worlds = [
        scratch.join("docker-host"),
        scratch.join("kernel-host"),
        scratch.join("expat-host"),
    ];
    let confs = [
        apt_world(
            &worlds[0],
            &repo,
            &[
                ("containerd.io", "1.7.27-1"),
                ("docker-ce", "5:28.3.2-1~debian.12~bookworm"),
            ],
        ),
        apt_world(&worlds[1], &repo, &[("linux-image-generic", "6.8.0.87.88")]),
        apt_world(
            &worlds[2],
            &repo,
            &[
                ("libexpat1", "2.5.0-1"),
                ("tzdata", "2025b-0+deb12u1"),
                ("ca-certificates", "20230311"),
            ],
        ),
    ];
    let opts = FleetOptions {
        hosts: 3,
        docker: true,
        host_env: confs
            .iter()
            .map(|c| vec![("APT_CONFIG".to_string(), c.display().to_string())])
            .collect(),
        ..FleetOptions::default()
    };
    let fleet = Fleet::start(&common::scratch(), &opts).expect("fleet with docker daemons");
    for i in 0..3 {
        fleet.build_busybox_image(i).unwrap();
        for policy in ["always", "unless-stopped", "on-failure", "no"] {
            let name = format!("app-{policy}");
            let restart = format!("--restart={policy}");
            fleet
                .docker(
                    i,
                    &[
                        "run",
                        "-d",
                        "--name",
                        &name,
                        &restart,
                        "--network",
                        "none",
                        "--label",
                        "com.docker.compose.project=silo",
                        "--label",
                        &format!("com.docker.compose.service={policy}"),
                        "drover/busybox:1",
                    ],
                )
                .unwrap();
        }
    }
    let before = snapshot(&worlds, &fleet);
    let run = common::drover(
        &fleet,
        &["impact", "all", "--format", "json", "--fail-on", "risk"],
    );
    assert_eq!(run.code, 3, "--fail-on risk: {run:?}");
    let doc = run.json();
    let host = |n: &str| {
        doc["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["host"] == n)
            .unwrap()
            .clone()
    };
    let fates = |h: &serde_json::Value| -> Vec<(String, String)> {
        h["prediction"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["fate"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let sorted = |mut v: Vec<(String, String)>| {
        v.sort();
        v
    };
    let expect = |pairs: &[(&str, &str)]| {
        sorted(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    };
    let at_risk = expect(&[
        ("app-always", "restarts_by_itself"),
        ("app-unless-stopped", "at_risk"),
        ("app-on-failure", "will_not_return"),
        ("app-no", "will_not_return"),
    ]);

    // node01: containerd.io 1.7 -> 2.1 and docker-ce: both daemons restart, from the packages' own scripts.
    let h1 = host("node01");
    assert_eq!(h1["error"], serde_json::Value::Null, "{h1}");
    let units: Vec<(String, String, String)> = h1["prediction"]["restarts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["unit"].as_str().unwrap().into(),
                r["package"].as_str().unwrap().into(),
                r["source"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        units,
        [
            (
                "containerd.service".into(),
                "containerd.io".into(),
                "maintainer_script".into()
            ),
            (
                "docker.service".into(),
                "docker-ce".into(),
                "maintainer_script".into()
            )
        ]
    );
    assert_eq!(h1["prediction"]["reboot"], serde_json::json!([]));
    assert!(
        h1["prediction"]["warnings"]
            .to_string()
            .contains("containerd.io 1.7.27-1 -> 2.1.5-1 is a major version jump"),
        "{h1}"
    );
    assert_eq!(sorted(fates(&h1)), at_risk);
    assert_eq!(h1["plan"]["upgrades"].as_array().unwrap().len(), 2);

    // node02: a new kernel through linux-image-generic: a reboot, no daemon restart.
    let h2 = host("node02");
    assert_eq!(h2["prediction"]["restarts"], serde_json::json!([]));
    assert_eq!(
        h2["prediction"]["reboot"],
        serde_json::json!(["linux-image-6.8.0-88-generic 6.8.0-88.89"])
    );
    assert_eq!(sorted(fates(&h2)), at_risk);

    // node03: libexpat1 and the date-versioned tzdata and ca-certificates: nothing restarts,
    // nothing is at risk, and no "major version jump" cries wolf over a new year.
    let h3 = host("node03");
    assert_eq!(h3["prediction"]["restarts"], serde_json::json!([]));
    assert_eq!(h3["prediction"]["reboot"], serde_json::json!([]));
    assert_eq!(h3["plan"]["upgrades"].as_array().unwrap().len(), 3, "{h3}");
    assert_eq!(h3["prediction"]["warnings"], serde_json::json!([]), "{h3}");
    assert_eq!(h3["risky"], false);
    assert!(fates(&h3).iter().all(|(_, f)| f == "unaffected"), "{h3}");

    // The check changed nothing: apt's status, lists and caches, and every container's state.
    assert_eq!(snapshot(&worlds, &fleet), before, "impact modified a host");

    // The same report for people.
    let md = common::drover(&fleet, &["impact", "node01", "--format", "markdown"]);
    assert_eq!(md.code, 0, "{md:?}");
    assert!(
        md.stdout
            .contains("| app-unless-stopped | unless-stopped | AT RISK |"),
        "{md:?}"
    );
    let table = common::drover(&fleet, &["impact", "node03"]);
    assert!(
        table.stdout.contains(
            "1 host(s): 0 need a reboot, 0 restart Docker; containers: 0 at risk, 0 will not return"
        ),
        "{table:?}"
    );
    // The test hosts have no systemd: how Docker starts at boot is said in words, not as a code.
    assert!(
        table
            .stdout
            .contains("docker      unmanaged: the host has no systemd, so drover cannot tell whether Docker starts at boot"),
        "{table:?}"
    );
    // The same analysis as a gate: push refuses the host whose containers would not come back.
    let pb = scratch.join("gated.yml");
    std::fs::write(&pb, "- hosts: all\n  gather_facts: false\n  impact_gate: risk\n  tasks:\n    - shell: touch \"$HOME/patched\"\n").unwrap();
    let runs = scratch.join("runs");
    let run = common::drover(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--limit",
            "node01:node03",
            "--runs-dir",
            runs.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(run.code, 3, "{run:?}");
    let refused = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "host_done" && e["host"] == "node01")
        .unwrap();
    let why = refused["error"].as_str().unwrap();
    assert!(
        why.starts_with(
            "impact gate refused the host: 3 container(s) would not come back on their own"
        ),
        "{why}"
    );
    assert!(
        why.contains("app-unless-stopped (unless-stopped: "),
        "{why}"
    );
    assert!(
        !fleet.hosts()[0].state.join("home/patched").exists(),
        "the gate let a risky host be touched"
    );
    assert!(
        fleet.hosts()[2].state.join("home/patched").exists(),
        "the gate stopped a safe host"
    );
    drop(fleet);
    let _ = std::fs::remove_dir_all(&scratch);
}
