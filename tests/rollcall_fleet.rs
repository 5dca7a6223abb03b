//! Roll call on real Debian hosts with systemd and Docker (the container fleet): exactly the
//! containers that did not come back after a real `systemctl restart docker`, remediation, and a
//! push --batch 1 that halts after the first host whose roll call fails after a real reboot.

mod common;

use common::{DebianFleet, DebianOptions};
use drover_fleet::Boot;

fn fleet(test: &str, n: usize) -> Option<DebianFleet> {
    common::debian_fleet(
        test,
        &DebianOptions {
            hosts: n,
            boot: Boot::Systemd,
            ..DebianOptions::default()
        },
    )
}

/// A container from the busybox image (see [`common::busybox`]).
fn container(fleet: &DebianFleet, host: usize, name: &str, extra: &[&str]) {
    common::busybox(fleet, host, name, extra, &[]);
}

fn verdicts(doc: &serde_json::Value) -> Vec<(String, String, bool)> {
    let mut v: Vec<(String, String, bool)> = doc[0]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
                c["remediated"].as_bool().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn verify_names_exactly_what_did_not_come_back_and_remediation_starts_it() {
    let Some(fleet) = fleet("rollcall verify", 1) else {
        return;
    };
    fleet.build_busybox_image(0).unwrap();
    for policy in ["always", "unless-stopped", "on-failure", "no"] {
        container(&fleet, 0, &format!("app-{policy}"), &["--restart", policy]);
    }
    container(
        &fleet,
        0,
        "app-unhealthy",
        &[
            "--restart",
            "always",
            "--health-cmd",
            "/bin/busybox false",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
        ],
    );
    let runs = fleet.dir().join("runs");
    let runs = runs.to_str().unwrap();
    let snap = common::drover(&fleet, &["snapshot", "all", "--runs-dir", runs]);
    assert_eq!(snap.code, 0, "{snap:?}");
    let id = snap.stdout.trim().to_string();

    // A real daemon restart, as a docker-ce upgrade's postinst does.
    fleet.exec(0, "systemctl restart docker").unwrap();
    let run = common::drover(
        &fleet,
        &[
            "verify",
            "all",
            "--against",
            &id,
            "--runs-dir",
            runs,
            "--window",
            "1",
            "--deadline",
            "15",
            "--remediate",
            "none",
            "--json",
        ],
    );
    assert_eq!(run.code, 3, "{run:?}");
    let doc = run.json();
    let s = |x: &str| x.to_string();
    // The snapshot's facts predicted each fate for what happened, and every prediction held.
    assert_eq!(doc[0]["event"], "daemon_restart", "{doc}");
    let predicted: Vec<(String, String, String)> = {
        let mut v: Vec<_> = doc[0]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let p = &c["predicted"];
                (
                    c["name"].as_str().unwrap().to_string(),
                    p["fate"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{c}"))
                        .to_string(),
                    p["outcome"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let triple = |a: &str, b: &str, c: &str| (s(a), s(b), s(c));
    assert_eq!(
        predicted,
        [
            triple("app-always", "comes_back", "match"),
            triple("app-no", "will_not_return", "true_alarm"),
            // busybox's sleep, PID 1, does not handle SIGTERM: the stop kills it.
            triple("app-on-failure", "comes_back", "match"),
            triple("app-unhealthy", "comes_back", "match"),
            triple("app-unless-stopped", "comes_back", "match"),
        ],
        "{doc}"
    );
    assert_eq!(
        verdicts(&doc),
        [
            (s("app-always"), s("came_back"), false),
            (s("app-no"), s("exited"), false),
            // Killed (exit 137) by the daemon's shutdown, so on-failure restarts it.
            (s("app-on-failure"), s("came_back"), false),
            (s("app-unhealthy"), s("unhealthy"), false),
            (s("app-unless-stopped"), s("came_back"), false),
        ]
    );

    let run = common::drover(
        &fleet,
        &[
            "verify",
            "all",
            "--against",
            &id,
            "--runs-dir",
            runs,
            "--window",
            "1",
            "--deadline",
            "10",
            "--json",
        ],
    );
    assert_eq!(
        run.code, 3,
        "the unhealthy container stays a failure: {run:?}"
    );
    let v = verdicts(&run.json());
    // Remediation is the default: the container that had exited is started.
    assert!(v.contains(&(s("app-no"), s("came_back"), true)), "{v:?}");
    assert!(
        v.contains(&(s("app-unhealthy"), s("unhealthy"), false)),
        "{v:?}"
    );
    assert_eq!(
        fleet
            .docker(0, &["inspect", "-f", "{{.State.Status}}", "app-no"])
            .unwrap()
            .trim(),
        "running"
    );
}

#[test]
fn a_batch_one_push_halts_after_the_first_host_whose_roll_call_fails() {
    let Some(fleet) = fleet("rollcall push", 3) else {
        return;
    };
    for i in 0..3 {
        fleet.build_busybox_image(i).unwrap();
        container(&fleet, i, "app-always", &["--restart", "always"]);
    }
    container(&fleet, 1, "app-no", &["--restart", "no"]);
    let pb = fleet.dir().join("patch.yml");
    std::fs::write(
        &pb,
        "- hosts: fleet\n  gather_facts: false\n  rollcall:\n    window: 1\n    deadline: 12\n    remediate: none\n  tasks:\n    - name: reboot into the new kernel\n      reboot:\n        stable_for: 0\n",
    )
    .unwrap();
    let boot_ids: Vec<String> = (0..3).map(|i| fleet.boot_id(i)).collect();
    let runs = fleet.dir().join("runs");
    let run = common::drover(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--batch",
            "1",
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("deb01        ok       [roll call after `reboot into the new kernel`]: 1 container(s) came back"), "{run:?}");
    assert!(run.stdout.contains("deb02        FAILED   [roll call after `reboot into the new kernel`]: did not come back: app-no (exited with code"), "{run:?}");
    assert!(
        run.stdout.contains("HALTED: batch 2") && run.stdout.contains("not touched: deb03"),
        "{run:?}"
    );
    assert_ne!(fleet.boot_id(0), boot_ids[0]);
    assert_ne!(fleet.boot_id(1), boot_ids[1]);
    assert_eq!(
        fleet.boot_id(2),
        boot_ids[2],
        "deb03 was rebooted although the rollout halted"
    );
    // The snapshot and the roll call are in the run folder.
    let id = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    assert!(id.join("snapshots/deb02.json").exists() && id.join("rollcalls/deb02.json").exists());
}
