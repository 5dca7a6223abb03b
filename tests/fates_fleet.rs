//! The fate model held against real Docker daemons: on a Debian host with systemd and Docker (the
//! container fleet), one container per case (restart policies `always`, `unless-stopped`,
//! `on-failure` whose program ignores or handles SIGTERM, `on-failure:3` with its retries used up,
//! `no`, an `unless-stopped` container flagged by `docker stop`, a stopped `always` one), then a
//! real event: a Docker restart, a containerd restart, a reboot, a Docker restart whose stop outlasts
//! systemd's deadline, a reboot with a bind-mount source on a filesystem mounted after Docker, and a
//! Docker restart under live-restore. `drover snapshot` before,
//! `drover verify` after: every container's predicted fate (from the snapshot's facts, for the event
//! the roll call saw) beside what it did, asserted exactly. No miss; the false alarms are only where
//! the prediction names its uncertainty (none happen here: the one uncertain case, a program that
//! handles SIGTERM, really exits 0 and stays down).

mod common;

use common::DebianOptions;
use drover_fleet::{Boot, DebianFleet};

/// The cases every scenario starts from.
fn containers(fleet: &DebianFleet) {
    fleet
        .exec(
            0,
            "ids=$(docker ps -aq); [ -z \"$ids\" ] || docker rm -f $ids >/dev/null",
        )
        .unwrap();
    common::busybox(fleet, 0, "always", &["--restart", "always"], &[]);
    common::busybox(
        fleet,
        0,
        "unless-stopped",
        &["--restart", "unless-stopped"],
        &[],
    );
    common::busybox(fleet, 0, "on-failure", &["--restart", "on-failure"], &[]);
    // A program that handles SIGTERM and exits 0, as most servers do.
    common::busybox(
        fleet,
        0,
        "on-failure-clean",
        &["--restart", "on-failure"],
        &[
            "/bin/busybox",
            "sh",
            "-c",
            "trap 'exit 0' TERM; while :; do /bin/busybox sleep 1; done",
        ],
    );
    // Fails three times (a count kept in a volume), then runs: its three retries are spent.
    common::busybox(
        fleet,
        0,
        "on-failure-3",
        &["--restart", "on-failure:3", "-v", "/state"],
        &[
            "/bin/busybox",
            "sh",
            "-c",
            "n=$(/bin/busybox cat /state/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /state/n; [ $n -gt 3 ] || exit 1; exec /bin/busybox sleep 100000",
        ],
    );
    common::busybox(fleet, 0, "no", &["--restart", "no"], &[]);
    common::busybox(fleet, 0, "flagged", &["--restart", "unless-stopped"], &[]);
    common::busybox(fleet, 0, "stopped-always", &["--restart", "always"], &[]);
    fleet
        .docker(0, &["stop", "flagged", "stopped-always"])
        .unwrap();
    // Wait for on-failure-3 to use its retries.
    for _ in 0..100 {
        let state = fleet
            .docker(
                0,
                &[
                    "inspect",
                    "-f",
                    "{{.RestartCount}} {{.State.Status}}",
                    "on-failure-3",
                ],
            )
            .unwrap();
        if state.trim() == "3 running" {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("on-failure-3 did not settle after three restarts");
}

/// `drover snapshot`, then `event`, then `drover verify`: each container's (name, predicted fate,
/// outcome), sorted, and the event the roll call saw.
fn called(fleet: &DebianFleet, event: impl FnOnce()) -> (String, Vec<(String, String, String)>) {
    let runs = fleet.dir().join("runs");
    let runs = runs.to_str().unwrap();
    let snap = common::drover(fleet, &["snapshot", "all", "--runs-dir", runs]);
    assert_eq!(snap.code, 0, "{snap:?}");
    event();
    let verify = common::drover(
        fleet,
        &[
            "verify",
            "all",
            "--against",
            snap.stdout.trim(),
            "--runs-dir",
            runs,
            "--window",
            "1",
            "--deadline",
            "8",
            "--remediate",
            "none",
            "--json",
        ],
    );
    let doc = verify.json();
    let host = &doc[0];
    let mut rows: Vec<(String, String, String)> = ["containers", "stopped"]
        .iter()
        .flat_map(|k| host[k].as_array().cloned().unwrap_or_default())
        .map(|c| {
            let p = &c["predicted"];
            let text = |v: &serde_json::Value| {
                v.as_str()
                    .unwrap_or_else(|| panic!("no prediction: {c}"))
                    .to_string()
            };
            (text(&c["name"]), text(&p["fate"]), text(&p["outcome"]))
        })
        .collect();
    rows.sort();
    (host["event"].as_str().unwrap_or_default().to_string(), rows)
}

fn rows(expected: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    v.sort();
    v
}

/// Every running case kept running (`running`, as predicted), the flagged one stopped, the stopped
/// `always` one as `stopped_always` says.
fn untouched(running: &str, stopped_always: &str) -> Vec<(String, String, String)> {
    let mut expected: Vec<(&str, &str, &str)> = [
        "always",
        "unless-stopped",
        "on-failure",
        "on-failure-clean",
        "on-failure-3",
        "no",
    ]
    .iter()
    .map(|name| (*name, running, "match"))
    .collect();
    expected.push(("flagged", "already_stopped", "match"));
    expected.push(("stopped-always", stopped_always, "match"));
    rows(&expected)
}

/// A graceful daemon stop (by a restart or a reboot), live-restore off: what moby does.
const GRACEFUL: &[(&str, &str, &str)] = &[
    ("always", "comes_back", "match"),
    ("unless-stopped", "comes_back", "match"),
    ("on-failure", "comes_back", "match"),
    ("on-failure-clean", "at_risk", "true_alarm"),
    ("on-failure-3", "will_not_return", "true_alarm"),
    ("no", "will_not_return", "true_alarm"),
    ("flagged", "already_stopped", "match"),
    // Started by the daemon's start although it was stopped by hand.
    ("stopped-always", "will_start", "match"),
];

#[test]
fn predicted_fates_hold_against_real_daemons_event_by_event() {
    let Some(fleet) = common::debian_fleet(
        "predicted_fates_hold_against_real_daemons_event_by_event",
        &DebianOptions {
            hosts: 1,
            boot: Boot::Systemd,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    fleet.build_busybox_image(0).unwrap();

    // A Docker restart, as docker-ce's postinst does.
    containers(&fleet);
    let (event, got) = called(&fleet, || {
        fleet.exec(0, "systemctl restart docker").unwrap();
    });
    assert_eq!(event, "daemon_restart");
    assert_eq!(got, rows(GRACEFUL), "docker restart");

    // containerd alone: docker.service only Wants it, so Docker and every container keep running.
    containers(&fleet);
    let (event, got) = called(&fleet, || {
        fleet.exec(0, "systemctl restart containerd").unwrap();
    });
    assert_eq!(event, "nothing");
    assert_eq!(
        got,
        untouched("unaffected", "already_stopped"),
        "containerd restart"
    );

    // A reboot: the daemon stops everything gracefully at shutdown and starts at boot.
    containers(&fleet);
    let (event, got) = called(&fleet, || fleet.reboot(0).unwrap());
    assert_eq!(event, "reboot");
    assert_eq!(got, rows(GRACEFUL), "reboot");

    // A stop that outlasts systemd's deadline for docker.service: systemd kills dockerd while an
    // unless-stopped container is still stopping; the new daemon finds it alive, stops it and
    // flags it, and it never comes back. `always` ignores the flag.
    fleet
        .exec(
            0,
            "mkdir -p /etc/systemd/system/docker.service.d && \
             printf '[Service]\\nTimeoutStopSec=3s\\n' > /etc/systemd/system/docker.service.d/deadline.conf && \
             systemctl daemon-reload && ids=$(docker ps -aq) && docker rm -f $ids >/dev/null",
        )
        .unwrap();
    common::busybox(
        &fleet,
        0,
        "slow-unless-stopped",
        &["--restart", "unless-stopped", "--stop-timeout", "10"],
        &[],
    );
    common::busybox(
        &fleet,
        0,
        "slow-always",
        &["--restart", "always", "--stop-timeout", "10"],
        &[],
    );
    common::busybox(
        &fleet,
        0,
        "quick-unless-stopped",
        &["--restart", "unless-stopped"],
        &[],
    );
    let (event, got) = called(&fleet, || {
        fleet.exec(0, "systemctl restart docker").unwrap();
    });
    assert_eq!(event, "daemon_restart");
    assert_eq!(
        got,
        rows(&[
            ("slow-unless-stopped", "will_not_return", "true_alarm"),
            ("slow-always", "comes_back", "match"),
            ("quick-unless-stopped", "comes_back", "match"),
        ]),
        "a stop that overruns"
    );
    assert_eq!(
        fleet
            .docker(
                0,
                &["inspect", "-f", "{{.State.Status}}", "slow-unless-stopped"]
            )
            .unwrap()
            .trim(),
        "exited"
    );
    fleet
        .exec(
            0,
            "rm /etc/systemd/system/docker.service.d/deadline.conf && systemctl daemon-reload",
        )
        .unwrap();

    // A bind-mount source on a filesystem fstab mounts late (`nofail`, here after docker.service
    // on purpose, as a slow disk or a network share would be): at the reboot Docker starts
    // before it, the start fails, and Docker never tries again. The same container on / comes
    // back.
    fleet
        .exec(
            0,
            "ids=$(docker ps -aq); [ -z \"$ids\" ] || docker rm -f $ids >/dev/null; \
             mkdir -p /srv/disk/app /srv/early /mnt/late && \
             echo '/srv/disk /mnt/late none bind,nofail,x-systemd.after=docker.service 0 0' >> /etc/fstab && \
             systemctl daemon-reload && systemctl start mnt-late.mount && test -d /mnt/late/app",
        )
        .unwrap();
    for (name, source) in [
        ("late-mount", "/mnt/late/app"),
        ("early-mount", "/srv/early"),
    ] {
        common::busybox(
            &fleet,
            0,
            name,
            &[
                "--restart",
                "always",
                "--mount",
                &format!("type=bind,source={source},target=/data"),
            ],
            &[],
        );
    }
    let (event, got) = called(&fleet, || fleet.reboot(0).unwrap());
    assert_eq!(event, "reboot");
    assert_eq!(
        got,
        rows(&[
            ("late-mount", "at_risk", "true_alarm"),
            ("early-mount", "comes_back", "match"),
        ]),
        "a late mount"
    );
    fleet
        .exec(
            0,
            "sed -i '/mnt\\/late/d' /etc/fstab && systemctl daemon-reload",
        )
        .unwrap();

    // live-restore: running containers keep running across the daemon restart, whatever their
    // policy; the daemon's start still starts a stopped `always` container.
    fleet
        .exec(
            0,
            "sed -i 's/^{/{\"live-restore\": true, /' /etc/docker/daemon.json && systemctl restart docker",
        )
        .unwrap();
    containers(&fleet);
    let (event, got) = called(&fleet, || {
        fleet.exec(0, "systemctl restart docker").unwrap();
    });
    assert_eq!(event, "daemon_restart");
    assert_eq!(
        got,
        untouched("keeps_running", "will_start"),
        "live-restore"
    );
}

/// `push --canary 1`: the first host is a rehearsal. Its roll call passes (every container runs
/// again; the `restart: no` one because drover started it), but one came back although drover
/// feared it would not (an `on-failure` program that
/// handles SIGTERM and exits 3): the prediction disagreed, so the rollout halts before the second
/// host. Resumed, the play goes on without a second canary.
#[test]
fn a_canary_whose_prediction_disagrees_halts_the_rollout() {
    let Some(fleet) = common::debian_fleet(
        "a_canary_whose_prediction_disagrees_halts_the_rollout",
        &DebianOptions {
            hosts: 2,
            boot: Boot::Systemd,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    let dockerd = |i: usize| {
        fleet
            .exec(i, "systemctl show -p MainPID --value docker")
            .unwrap()
    };
    for i in 0..2 {
        fleet.build_busybox_image(i).unwrap();
        common::busybox(
            &fleet,
            i,
            "exits-3",
            &["--restart", "on-failure"],
            &[
                "/bin/busybox",
                "sh",
                "-c",
                "trap 'exit 3' TERM; while :; do /bin/busybox sleep 1; done",
            ],
        );
    }
    // restart: no stays down, as predicted (no disagreement), and the roll call starts it again:
    // remediation is the default.
    common::busybox(&fleet, 0, "stays-down", &[], &[]);
    let before = [dockerd(0), dockerd(1)];
    let pb = fleet.dir().join("restart.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  rollcall:\n    window: 1\n    deadline: 15\n  tasks:\n    - name: restart docker\n      service:\n        name: docker\n        state: restarted\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &["--canary", "1"]));
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout.contains(
            "deb01        ok       [roll call after `restart docker`]: 2 container(s) came back (1 started by drover: stays-down)"
        ),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("the canary batch of play `all` did not go as predicted: deb01: exits-3 was predicted AT RISK (on-failure: its main process handles SIGTERM; it comes back only if it then exits non-zero, and most programs exit 0), but it runs"),
        "{run:?}"
    );
    assert!(run.stdout.contains("not touched: deb02"), "{run:?}");
    assert_ne!(dockerd(0), before[0]);
    assert_eq!(dockerd(1), before[1], "the halt did not spare deb02");

    let id = common::only_run(&runs);
    let id = id.file_name().unwrap().to_str().unwrap();
    let resumed = common::drover(
        &fleet,
        &["push", "--resume", id, "--runs-dir", runs.to_str().unwrap()],
    );
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_ne!(dockerd(1), before[1]);
}

/// Docker's own upgrade under live-restore (containerd.io 1.7 -> 2.1 and docker-ce 28 -> 29, made of
/// the Docker the host runs, with debhelper's maintainer scripts that really restart both daemons):
/// `drover impact` predicts every running container keeps running, warning that a major version
/// jump is not promised; the push's roll call after the upgrade predicts the same for the Docker
/// restart it saw, and every container kept its process.
#[test]
fn an_upgrade_under_live_restore_keeps_every_container_running() {
    let repo = common::scratch().join(format!("fates-repo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    common::apt::build_repo_of(&repo, &[]);
    let Some(fleet) = common::debian_fleet(
        "an_upgrade_under_live_restore_keeps_every_container_running",
        &DebianOptions {
            hosts: 1,
            boot: Boot::Systemd,
            repo: Some(repo.clone()),
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    common::apt::docker_ce_debs(&fleet, &repo);
    common::apt::build_repo_of(&repo, &[]);
    fleet
        .exec(
            0,
            "export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && \
             apt-get install -y -q containerd.io=1.7.27-1 docker-ce=5:28.3.2-1~debian.12~bookworm >/dev/null && \
             sed -i 's/^{/{\"live-restore\": true, /' /etc/docker/daemon.json && systemctl restart docker",
        )
        .unwrap();
    fleet.build_busybox_image(0).unwrap();
    for policy in ["always", "unless-stopped", "on-failure", "no"] {
        common::busybox(&fleet, 0, policy, &["--restart", policy], &[]);
    }
    let pids = || {
        fleet
            .exec(
                0,
                "docker inspect -f '{{.Name}} {{.State.Pid}}' $(docker ps -q) | sort",
            )
            .unwrap()
    };
    let before = pids();

    let impact = common::drover(&fleet, &["impact", "all", "--format", "json"]);
    assert_eq!(impact.code, 0, "{impact:?}");
    let host = &impact.json()["hosts"][0];
    for c in host["prediction"]["containers"].as_array().unwrap() {
        assert_eq!(c["fate"], "keeps_running", "{c}");
        assert!(
            c["why"]
                .as_str()
                .unwrap()
                .contains("across a major version jump"),
            "{c}"
        );
    }

    let pb = fleet.dir().join("upgrade.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  rollcall:\n    window: 1\n    deadline: 20\n  tasks:\n    - name: upgrade Docker\n      apt:\n        upgrade: dist\n        update_cache: true\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "dpkg-query -W -f '${Version}' docker-ce")
            .unwrap(),
        "5:29.0.2-1~debian.12~bookworm"
    );
    let rollcall: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::only_run(&runs).join("rollcalls/deb01.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rollcall["event"], "daemon_restart", "{rollcall}");
    for c in rollcall["containers"].as_array().unwrap() {
        assert_eq!(c["verdict"], "came_back", "{c}");
        assert_eq!(c["predicted"]["fate"], "keeps_running", "{c}");
        assert_eq!(c["predicted"]["outcome"], "match", "{c}");
    }
    assert_eq!(
        pids(),
        before,
        "live-restore kept every container's process"
    );
    drop(fleet);
    let _ = std::fs::remove_dir_all(&repo);
}
