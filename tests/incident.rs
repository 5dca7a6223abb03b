//! The incident drover exists for (seeds/003), end to end on real Debian hosts with systemd and a
//! Docker daemon: containers with each restart policy; `drover impact` predicts; `drover push
//! --batch 1` upgrades containerd.io 1.7 -> 2.1 and docker-ce 28 -> 29 (the Docker the hosts run,
//! packaged under Docker's names, with debhelper's maintainer scripts) and a kernel. The postinsts
//! really restart containerd and Docker through systemd; the roll call after the upgrade finds the
//! `restart: no` container down, and the `unless-stopped` one whose stop outlasts systemd's deadline
//! for docker.service (the mechanism of the seeds' incident: a shutdown that overran) flagged as
//! manually stopped by the new daemon and down too; the rollout (told not to remediate) halts before
//! the second host. drover's prediction named both, and why, before anything was touched, and is
//! held against what happened. Then the operator's fix (`restart: always`, systemd's default
//! deadline) and `--resume`: each host upgrades, really reboots for its kernel, and every container
//! comes back.

mod common;

use std::collections::BTreeMap;

use common::apt::{KERNEL_DEBS, build_repo_of, docker_ce_debs};
use common::{DebianOptions, drover, push_args};
use drover_fleet::Boot;

const PLAYBOOK: &str = r#"- hosts: all
  rollcall:
    window: 2
    deadline: 20
  tasks:
    - name: upgrade every package (containerd.io, docker-ce and the kernel among them)
      apt:
        upgrade: dist
        update_cache: true
    - name: does the new kernel need a reboot
      stat:
        path: /run/reboot-required
      register: reboot_required
    - name: reboot into the new kernel
      reboot:
        stable_for: 1
      when: reboot_required.stat.exists
"#;

const POLICIES: [&str; 4] = ["always", "unless-stopped", "on-failure", "no"];

#[test]
fn the_incident_predicted_upgraded_rebooted_and_called_the_roll() {
    let dir = common::scratch().join(format!("incident-repo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    build_repo_of(&dir, &KERNEL_DEBS.iter().collect::<Vec<_>>());
    let Some(fleet) = common::debian_fleet(
        "the_incident_predicted_upgraded_rebooted_and_called_the_roll",
        &DebianOptions {
            hosts: 2,
            boot: Boot::Systemd,
            repo: Some(dir.clone()),
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    // Docker's packages, made of the Docker the hosts run, beside the kernel's.
    docker_ce_debs(&fleet, &dir);
    build_repo_of(&dir, &[]);
    for i in 0..2 {
        fleet
            .exec(
                i,
                "export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && \
                 apt-get install -y -q containerd.io=1.7.27-1 docker-ce=5:28.3.2-1~debian.12~bookworm \
                 linux-image-generic=6.8.0.87.88 >/dev/null",
            )
            .unwrap();
        // An operator's tighter stop deadline for Docker than the slowest container's stop timeout.
        fleet
            .exec(
                i,
                "mkdir -p /etc/systemd/system/docker.service.d && \
                 printf '[Service]\\nTimeoutStopSec=4s\\n' > /etc/systemd/system/docker.service.d/deadline.conf && \
                 systemctl daemon-reload",
            )
            .unwrap();
        fleet.build_busybox_image(i).unwrap();
        fleet
            .docker(
                i,
                &[
                    "run",
                    "-d",
                    "--name",
                    "app-overrun",
                    "--restart",
                    "unless-stopped",
                    "--network",
                    "none",
                    "--stop-timeout",
                    "12",
                    "drover/busybox:1",
                ],
            )
            .unwrap();
        for policy in POLICIES {
            fleet
                .docker(
                    i,
                    &[
                        "run",
                        "-d",
                        "--name",
                        &format!("app-{policy}"),
                        "--restart",
                        policy,
                        "--network",
                        "none",
                        "--stop-timeout",
                        "2",
                        "drover/busybox:1",
                    ],
                )
                .unwrap();
        }
    }
    let started = std::time::Instant::now();
    let boots: Vec<String> = (0..2).map(|i| fleet.boot_id(i)).collect();
    let pids = |i: usize| {
        fleet
            .exec(i, "systemctl show -p MainPID --value containerd docker")
            .unwrap()
    };
    let daemons_before = pids(0);

    // Before: what drover predicts for each container of the first host.
    let impact = drover(&fleet, &["impact", "deb01", "--format", "json"]);
    assert_eq!(impact.code, 0, "{impact:?}");
    let doc = impact.json();
    let host = &doc["hosts"][0];
    let units: Vec<&str> = host["prediction"]["restarts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["containerd.service", "docker.service"], "{host}");
    let predicted: BTreeMap<String, String> = host["prediction"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["fate"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(predicted.len(), 5, "{host}");
    let overrun_why = host["prediction"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "app-overrun")
        .unwrap()["why"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        overrun_why,
        "its main process ignores SIGTERM, so Docker waits 12 s before killing it, but systemd kills dockerd after 4 s: the new daemon finds it still running, stops it and flags it as manually stopped, and unless-stopped never starts it again (at the Docker restart, before the reboot)"
    );

    // The upgrade, one host at a time: the first host's roll call after the upgrade fails.
    let playbook = fleet.dir().join("patch.yml");
    std::fs::write(&playbook, PLAYBOOK).unwrap();
    let runs = fleet.dir().join("runs");
    eprintln!("set up in {:?}", started.elapsed());
    // `--impact-gate warn` journals each host's prediction before touching it, so the report
    // puts it beside the roll call.
    let report = fleet.dir().join("incident.md");
    let run = drover(
        &fleet,
        &push_args(
            &playbook,
            &runs,
            &[
                "--batch",
                "1",
                "--impact-gate",
                "warn",
                "--no-remediate",
                "--report",
                report.to_str().unwrap(),
            ],
        ),
    );
    eprintln!("first push done at {:?}", started.elapsed());
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout.contains("deb01        FAILED   [roll call after `upgrade every package (containerd.io, docker-ce and the kernel among them)`]: did not come back: ")
            && run.stdout.contains("app-no (exited with code 137)")
            && run.stdout.contains("app-overrun (exited with code 137)"),
        "{run:?}"
    );
    assert!(run.stdout.contains("not touched: deb02"), "{run:?}");

    // The first host really upgraded, through dpkg, and its maintainer scripts really restarted
    // both daemons; it was not rebooted (the halt came first). The second is as it was.
    let version = |i: usize, p: &str| {
        fleet
            .exec(i, &format!("dpkg-query -W -f '${{Version}}' {p}"))
            .unwrap()
    };
    assert_eq!(version(0, "containerd.io"), "2.1.5-1");
    assert_eq!(version(0, "docker-ce"), "5:29.0.2-1~debian.12~bookworm");
    assert_eq!(version(1, "containerd.io"), "1.7.27-1");
    let daemons_after = pids(0);
    let pids_of = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(pids_of(&daemons_before).len(), 2, "{daemons_before}");
    for (before, after) in pids_of(&daemons_before).iter().zip(pids_of(&daemons_after)) {
        assert_ne!(
            *before, after,
            "a daemon was not restarted: {daemons_before} -> {daemons_after}"
        );
    }
    assert_eq!(fleet.boot_id(0), boots[0]);
    assert_eq!(fleet.boot_id(1), boots[1]);

    // What Docker's restart policies really did, as the roll call saw it.
    let id = common::only_run(&runs);
    let rollcall: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(id.join("rollcalls/deb01.json")).unwrap())
            .unwrap();
    let observed: BTreeMap<String, String> = rollcall["containers"]
        .as_array()
        .unwrap_or_else(|| panic!("{rollcall}"))
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        observed,
        BTreeMap::from([
            (s("app-always"), s("came_back")),
            // Killed (137) by the daemon's shutdown: not a manual stop, and a failure.
            (s("app-on-failure"), s("came_back")),
            (s("app-unless-stopped"), s("came_back")),
            (s("app-no"), s("exited")),
            // Still stopping when systemd killed dockerd: stopped and flagged by the new daemon.
            (s("app-overrun"), s("exited")),
        ]),
        "{rollcall}"
    );
    let overrun = rollcall["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "app-overrun")
        .unwrap();
    assert_eq!(overrun["manually_stopped"], true, "{overrun}");
    assert_eq!(overrun["predicted"]["fate"], "will_not_return", "{overrun}");
    assert_eq!(overrun["predicted"]["outcome"], "true_alarm", "{overrun}");

    // The prediction held against it: drover must never have promised a container back that did
    // not come back (a miss is the incident itself). False alarms are counted and shown.
    let comes_back = |fate: &str| {
        matches!(
            fate,
            "comes_back" | "unaffected" | "keeps_running" | "will_start"
        )
    };
    let mut false_alarms = Vec::new();
    for (name, verdict) in &observed {
        let fate = &predicted[name];
        if verdict != "came_back" {
            assert!(
                !comes_back(fate),
                "a miss: {name} predicted {fate}, observed {verdict}"
            );
        } else if !comes_back(fate) {
            false_alarms.push(format!("{name}: predicted {fate}, came back"));
        }
    }
    eprintln!("prediction vs roll call on deb01: false alarms {false_alarms:?}");
    assert_eq!(predicted["app-always"], "comes_back");
    assert_eq!(predicted["app-unless-stopped"], "comes_back");
    assert_eq!(predicted["app-on-failure"], "comes_back");
    assert_eq!(predicted["app-no"], "will_not_return");
    assert_eq!(predicted["app-overrun"], "will_not_return");
    assert!(false_alarms.is_empty(), "{false_alarms:?}");

    // The report written at the halt: the roll call beside the prediction, container by container.
    let md = std::fs::read_to_string(&report).unwrap();
    let row = |name: &str| {
        md.lines()
            .find(|l| {
                l.starts_with("| deb01 | upgrade every package")
                    && l.contains(&format!("| {name} |"))
            })
            .unwrap_or_else(|| panic!("no roll-call row for {name} in {md}"))
            .to_string()
    };
    assert!(
        row("app-no").contains("| no | WILL NOT RETURN: ")
            && row("app-no").ends_with("| **EXITED WITH CODE 137** |"),
        "{md}"
    );
    assert!(
        row("app-always").contains("| always | comes back: ")
            && row("app-always").ends_with("| came back |"),
        "{md}"
    );
    assert!(md.contains("| Not touched | deb02 |"), "{md}");

    // The operator's fix: a restart policy that survives, and systemd's default deadline for
    // Docker, on every host; then the run resumes.
    for i in 0..2 {
        fleet
            .docker(i, &["update", "--restart", "always", "app-no"])
            .unwrap();
        fleet
            .exec(
                i,
                "rm /etc/systemd/system/docker.service.d/deadline.conf && systemctl daemon-reload",
            )
            .unwrap();
    }
    fleet
        .docker(0, &["start", "app-no", "app-overrun"])
        .unwrap();
    let run_id = id.file_name().unwrap().to_str().unwrap().to_string();
    let run = drover(
        &fleet,
        &[
            "push",
            "--resume",
            &run_id,
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    );
    eprintln!("resumed push done at {:?}", started.elapsed());
    assert_eq!(run.code, 0, "{run:?}");
    for (i, boot) in boots.iter().enumerate() {
        assert_ne!(&fleet.boot_id(i), boot, "deb0{} was not rebooted", i + 1);
        assert_eq!(version(i, "linux-image-generic"), "6.8.0.88.89");
        let ps = fleet.docker(i, &["ps", "--format", "{{.Names}}"]).unwrap();
        assert_eq!(ps.lines().count(), 5, "deb0{}: {ps}", i + 1);
    }
    assert!(
        run.stdout.contains("deb02        ok       [roll call after `reboot into the new kernel`]: 5 container(s) came back"),
        "{run:?}"
    );
    // The resumed run rewrote the report (its saved --report): done over two attempts, each
    // host's reboot and roll call; the page of the whole run opens offline.
    let md = std::fs::read_to_string(&report).unwrap();
    assert!(md.contains(&format!("# drover run {run_id}: done")), "{md}");
    assert!(md.contains("resumed 1 time(s)"), "{md}");
    assert!(
        md.contains("| deb02 | reboot into the new kernel (rebooted) | app-no | always | "),
        "{md}"
    );
    let page = fleet.dir().join("incident.html");
    let html = common::drover_in(
        fleet.dir(),
        &[
            "report",
            "last",
            "--runs-dir",
            runs.to_str().unwrap(),
            "-o",
            page.to_str().unwrap(),
        ],
    );
    assert_eq!(html.code, 0, "{html:?}");
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(
        text.contains("<title>reboot: reboot into the new kernel</title>"),
        "{text}"
    );
    common::assert_page_opens_offline(&page);
    // tests/report.rs holds the report of this run against a golden file; its journal comes from
    // here: DROVER_KEEP_RUN=tests/fixtures/report/runs cargo test --test incident.
    if let Ok(keep) = std::env::var("DROVER_KEEP_RUN") {
        common::copy_run(&id, &std::path::Path::new(&keep).join(&run_id));
    }
    drop(fleet);
    let _ = std::fs::remove_dir_all(&dir);
}
