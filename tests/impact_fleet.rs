//! `drover impact` against the fleet: real apt computes each host's plan from fixture package indexes
//! (APT_CONFIG), real .debs built here carry the maintainer scripts, and a real Docker daemon per host
//! runs one container per restart policy. The hosts mirror the seeds: containerd.io 1.7 -> 2.1 with
//! docker-ce; a new kernel; only libexpat1. The report must predict exactly, and change nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Fleet, FleetOptions};

/// A candidate package in the fixture repository, with its postinst.
struct Deb {
    name: &'static str,
    version: &'static str,
    depends: &'static str,
    postinst: &'static str,
}

const RESTART_CONTAINERD: &str = "#!/bin/sh\nset -e\n# Automatically added by dh_installsystemd/13.11.4\nif [ \"$1\" = \"configure\" ] || [ \"$1\" = \"abort-upgrade\" ]; then\n\tif [ -d /run/systemd/system ]; then\n\t\tsystemctl --system daemon-reload >/dev/null || true\n\t\tif [ -n \"$2\" ]; then\n\t\t\t_dh_action=restart\n\t\telse\n\t\t\t_dh_action=start\n\t\tfi\n\t\tdeb-systemd-invoke $_dh_action 'containerd.service' >/dev/null || true\n\tfi\nfi\n";
const RESTART_DOCKER: &str = "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then\n\tsystemctl --system daemon-reload >/dev/null || true\n\tdeb-systemd-invoke restart 'docker.service' >/dev/null || true\nfi\n";
const KERNEL: &str = "#!/bin/sh\nset -e\nif [ -x /usr/share/update-notifier/notify-reboot-required ]; then\n\t/usr/share/update-notifier/notify-reboot-required\nfi\n";
const LDCONFIG: &str = "#!/bin/sh\nset -e\nldconfig\n";

const REPO: &[Deb] = &[
    Deb {
        name: "containerd.io",
        version: "2.1.5-1",
        depends: "",
        postinst: RESTART_CONTAINERD,
    },
    Deb {
        name: "docker-ce",
        version: "5:29.0.2-1~debian.12~bookworm",
        depends: "containerd.io (>= 1.7)",
        postinst: RESTART_DOCKER,
    },
    Deb {
        name: "linux-image-6.8.0-88-generic",
        version: "6.8.0-88.89",
        depends: "",
        postinst: KERNEL,
    },
    Deb {
        name: "linux-image-generic",
        version: "6.8.0.88.89",
        depends: "linux-image-6.8.0-88-generic",
        postinst: "#!/bin/sh\nexit 0\n",
    },
    Deb {
        name: "libexpat1",
        version: "2.5.0-1+deb12u1",
        depends: "",
        postinst: LDCONFIG,
    },
];

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the .debs with dpkg-deb and indexes them with dpkg-scanpackages.
fn build_repo(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for deb in REPO {
        let root = dir.join(format!("{}-build", deb.name));
        std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
        let depends = if deb.depends.is_empty() {
            String::new()
        } else {
            format!("Depends: {}\n", deb.depends)
        };
        std::fs::write(
            root.join("DEBIAN/control"),
            format!("Package: {}\nVersion: {}\nArchitecture: all\nMaintainer: drover tests <tests@drover.invalid>\n{depends}Description: drover impact fixture\n", deb.name, deb.version),
        )
        .unwrap();
        let postinst = root.join("DEBIAN/postinst");
        std::fs::write(&postinst, deb.postinst).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&postinst, std::fs::Permissions::from_mode(0o755)).unwrap();
        run(Command::new("dpkg-deb")
            .args(["--build", "--root-owner-group"])
            .arg(&root)
            .arg(dir.join(format!("{}.deb", deb.name))));
        std::fs::remove_dir_all(&root).unwrap();
    }
    let out = Command::new("dpkg-scanpackages")
        .args([".", "/dev/null"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(dir.join("Packages"), out.stdout).unwrap();
}

/// A host's apt world: its dpkg status (these installed packages), lists, cache and sources.
fn apt_world(dir: &Path, repo: &Path, installed: &[(&str, &str)]) -> PathBuf {
    for sub in [
        "lists/partial",
        "cache/archives/partial",
        "etc/apt.conf.d",
        "etc/preferences.d",
        "etc/sources.list.d",
        "state",
    ] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let status: String = installed
        .iter()
        .map(|(p, v)| format!("Package: {p}\nStatus: install ok installed\nPriority: optional\nSection: admin\nArchitecture: all\nMaintainer: x <x@x.invalid>\nVersion: {v}\nDescription: fixture\n\n"))
        .collect();
    std::fs::write(dir.join("status"), status).unwrap();
    std::fs::write(
        dir.join("etc/sources.list"),
        format!("deb [trusted=yes] file:{} ./\n", repo.display()),
    )
    .unwrap();
    let d = dir.display();
    let conf = dir.join("apt.conf");
    std::fs::write(
        &conf,
        format!(
            "Dir::State \"{d}/state\";\nDir::State::status \"{d}/status\";\nDir::State::Lists \"{d}/lists\";\nDir::Cache \"{d}/cache\";\nDir::Etc \"{d}/etc\";\nDir::Etc::SourceList \"{d}/etc/sources.list\";\nDir::Etc::SourceParts \"{d}/etc/sources.list.d\";\nDir::Etc::Parts \"{d}/etc/apt.conf.d\";\nDir::Etc::Preferences \"{d}/etc/preferences\";\nDir::Etc::PreferencesParts \"{d}/etc/preferences.d\";\n"
        ),
    )
    .unwrap();
    run(Command::new("apt-get")
        .args(["update", "-q"])
        .env("APT_CONFIG", &conf));
    conf
}

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
        apt_world(&worlds[2], &repo, &[("libexpat1", "2.5.0-1")]),
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

    // node03: only libexpat1: nothing restarts, nothing is at risk.
    let h3 = host("node03");
    assert_eq!(h3["prediction"]["restarts"], serde_json::json!([]));
    assert_eq!(h3["prediction"]["reboot"], serde_json::json!([]));
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
