//! `drover impact` against real Debian hosts with systemd and Docker (the container fleet): real apt
//! on each host's own dpkg database computes its plan from the fleet's repository, the candidates'
//! real maintainer scripts say what restarts, and each host's Docker runs one container per restart
//! policy. The hosts mirror the seeds: containerd.io 1.7 -> 2.1 with docker-ce (the hosts' own Docker
//! under Docker's names); a new kernel; only libexpat1 and date-versioned packages. The report must
//! predict exactly, and change nothing.

mod common;

use common::apt::{Deb, KERNEL_DEBS, build_repo_of, docker_ce_debs};
use common::{DebianFleet, DebianOptions};
use drover_fleet::Boot;

/// Newer than what Debian 12 ships on the hosts: nothing in their maintainer scripts restarts
/// anything, and tzdata and ca-certificates are versioned by date.
const LIBRARIES: &[Deb] = &[
    Deb {
        name: "libexpat1",
        version: "2.5.0-1+deb12u9",
        depends: "",
        postinst: "#!/bin/sh\nset -e\nldconfig\n",
    },
    Deb {
        name: "tzdata",
        version: "2026z-0+deb12u1",
        depends: "",
        postinst: "#!/bin/sh\nexit 0\n",
    },
    Deb {
        name: "ca-certificates",
        version: "20990419",
        depends: "",
        postinst: "#!/bin/sh\nexit 0\n",
    },
];

/// Everything the check must not change on a host: dpkg's database, apt's lists and caches, and
/// every container's state.
fn snapshot(fleet: &DebianFleet) -> Vec<String> {
    (0..fleet.hosts().len())
        .map(|i| {
            fleet
                .exec(
                    i,
                    "find /var/lib/dpkg /var/lib/apt /var/cache/apt -type f | sort | xargs sha256sum; \
                     docker ps -a --format '{{.Names}} {{.State}} {{.Image}}'",
                )
                .unwrap()
        })
        .collect()
}

#[test]
fn impact_predicts_restarts_reboots_and_container_fates_without_changing_anything() {
    let repo = common::scratch().join(format!("impact-repo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    let debs: Vec<&Deb> = KERNEL_DEBS.iter().chain(LIBRARIES).collect();
    build_repo_of(&repo, &debs);
    let Some(fleet) = common::debian_fleet(
        "impact_fleet",
        &DebianOptions {
            hosts: 3,
            boot: Boot::Systemd,
            repo: Some(repo.clone()),
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    docker_ce_debs(&fleet, &repo);
    build_repo_of(&repo, &[]);
    // deb01 runs the incident's Docker, deb02 the old kernel; every host has Debian's libraries.
    let installs = [
        "containerd.io=1.7.27-1 docker-ce=5:28.3.2-1~debian.12~bookworm",
        "linux-image-generic=6.8.0.87.88",
        "",
    ];
    for (i, packages) in installs.iter().enumerate() {
        fleet
            .exec(
                i,
                &format!(
                    "export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && \
                     {{ [ -z '{packages}' ] || apt-get install -y -q {packages} >/dev/null; }}"
                ),
            )
            .unwrap();
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
    let before = snapshot(&fleet);
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
    // busybox's sleep, PID 1, ignores SIGTERM: Docker kills it (137) within the shutdown budget,
    // so on-failure and unflagged unless-stopped come back; restart: no does not.
    let expected = expect(&[
        ("app-always", "comes_back"),
        ("app-unless-stopped", "comes_back"),
        ("app-on-failure", "comes_back"),
        ("app-no", "will_not_return"),
    ]);

    // deb01: containerd.io 1.7 -> 2.1 and docker-ce: both daemons restart, from the packages' own scripts.
    let h1 = host("deb01");
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
    assert_eq!(sorted(fates(&h1)), expected);
    // Docker's two packages and the three libraries every host has.
    assert_eq!(h1["plan"]["upgrades"].as_array().unwrap().len(), 5, "{h1}");

    // deb02: a new kernel through linux-image-generic: a reboot, no daemon restart.
    let h2 = host("deb02");
    assert_eq!(h2["prediction"]["restarts"], serde_json::json!([]));
    assert_eq!(
        h2["prediction"]["reboot"],
        // Installing the old kernel asked for a reboot (its postinst, as Ubuntu's), not yet done.
        serde_json::json!([
            "/run/reboot-required is already set (linux-image-6.8.0-87-generic)",
            "linux-image-6.8.0-88-generic 6.8.0-88.89"
        ])
    );
    assert_eq!(sorted(fates(&h2)), expected);

    // deb03: libexpat1 and the date-versioned tzdata and ca-certificates: nothing restarts,
    // nothing is at risk, and no "major version jump" cries wolf over a new year.
    let h3 = host("deb03");
    assert_eq!(h3["prediction"]["restarts"], serde_json::json!([]));
    assert_eq!(h3["prediction"]["reboot"], serde_json::json!([]));
    assert_eq!(h3["plan"]["upgrades"].as_array().unwrap().len(), 3, "{h3}");
    assert_eq!(h3["prediction"]["warnings"], serde_json::json!([]), "{h3}");
    assert_eq!(h3["risky"], false);
    assert!(fates(&h3).iter().all(|(_, f)| f == "unaffected"), "{h3}");

    // The check changed nothing: apt's status, lists and caches, and every container's state.
    assert_eq!(snapshot(&fleet), before, "impact modified a host");

    // The same report for people.
    let md = common::drover(&fleet, &["impact", "deb01", "--format", "markdown"]);
    assert_eq!(md.code, 0, "{md:?}");
    assert!(
        md.stdout
            .contains("| app-unless-stopped | unless-stopped | comes back | unless-stopped, not flagged as manually stopped: Docker starts it again (it stops within 10 s of the 15 s budget) |")
            && md.stdout.contains("| app-no | no | WILL NOT RETURN | restart: no: nothing starts it again |"),
        "{md:?}"
    );
    let table = common::drover(&fleet, &["impact", "deb03"]);
    assert!(
        table.stdout.contains(
            "1 host(s): 0 need a reboot, 0 restart Docker; containers: 0 at risk, 0 will not return"
        ),
        "{table:?}"
    );
    // How Docker starts at boot is said in words, from systemd's own answer.
    assert!(
        table
            .stdout
            .contains("docker      docker.service is enabled: the daemon starts at boot"),
        "{table:?}"
    );
    // The same analysis as a gate: push refuses the host whose containers would not come back.
    let pb = fleet.dir().join("gated.yml");
    std::fs::write(&pb, "- hosts: all\n  gather_facts: false\n  impact_gate: risk\n  tasks:\n    - shell: touch \"$HOME/patched\"\n").unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--limit",
            "deb01:deb03",
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
        .find(|e| e["event"] == "host_done" && e["host"] == "deb01")
        .unwrap();
    let why = refused["error"].as_str().unwrap();
    assert!(
        why.starts_with(
            "impact gate refused the host: 1 container(s) would not come back on their own"
        ),
        "{why}"
    );
    assert!(
        why.contains("app-no (no: restart: no: nothing starts it again)"),
        "{why}"
    );
    assert!(
        fleet.exec(0, "test -e /root/patched").is_err(),
        "the gate let a risky host be touched"
    );
    assert!(
        fleet.exec(2, "test -e /root/patched").is_ok(),
        "the gate stopped a safe host"
    );
    drop(fleet);
    let _ = std::fs::remove_dir_all(&repo);
}
