//! The container fleet itself: real Debian hosts with their own hostname, address, host key, users,
//! dpkg database and apt source, no Python, and faults that are real (reboot, power off, a new host
//! key, a silent network drop, sshd killed), as drover sees them over SSH.

mod common;

use common::*;

#[test]
fn each_host_is_its_own_debian_machine_without_python() {
    let Some(fleet) = debian_fleet(
        "each_host_is_its_own_debian_machine_without_python",
        &DebianOptions {
            hosts: 2,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    let run = drover(
        &fleet,
        &[
            "run",
            "all",
            "--json",
            "--",
            "hostname; id -un; test -d /srv/repo && echo repo; command -v python3 python || echo no-python",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    for (i, h) in fleet.hosts().iter().enumerate() {
        let out = doc["hosts"][&h.name]["stdout"]
            .as_str()
            .unwrap_or_else(|| panic!("{doc}"));
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [h.name.as_str(), "root", "repo", "no-python"],
            "{doc}"
        );
        // Its own dpkg database and /etc: a change on one host is not on the other.
        fleet
            .exec(i, &format!("echo {} > /etc/drover-test", h.name))
            .unwrap();
    }
    assert_eq!(
        fleet.exec(0, "cat /etc/drover-test").unwrap().trim(),
        "deb01"
    );
    assert_eq!(
        fleet.exec(1, "cat /etc/drover-test").unwrap().trim(),
        "deb02"
    );
    assert_ne!(fleet.host_key(0).unwrap(), fleet.host_key(1).unwrap());
    assert_ne!(fleet.hosts()[0].addr, fleet.hosts()[1].addr);
}

#[test]
fn a_reboot_through_drover_is_a_real_one() {
    let Some(fleet) = debian_fleet(
        "a_reboot_through_drover_is_a_real_one",
        &DebianOptions::default(),
    ) else {
        return;
    };
    let before = fleet.boot_id(0);
    assert_eq!(before.len(), 36, "{before}");
    let playbook = fleet.dir().join("reboot.yml");
    std::fs::write(
        &playbook,
        "- hosts: all\n  tasks:\n    - shell: echo up > /run/before; echo kept > /var/tmp/kept\n    - reboot:\n        reboot_timeout: 90\n        stable_for: 1\n    - command: cat /proc/sys/kernel/random/boot_id /var/tmp/kept\n      register: after\n    - copy:\n        content: \"{{ after.stdout }}\"\n        dest: /var/tmp/seen\n    - shell: test ! -e /run/before\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let run = drover(&fleet, &push_args(&playbook, &runs, &["--json"]));
    assert_eq!(run.code, 0, "{run:?}");
    let after = fleet.boot_id(0);
    assert_ne!(before, after, "the boot id did not change");
    // drover read the new boot id, what was on disk stayed and what was in /run (a tmpfs) went.
    let seen = fleet.exec(0, "cat /var/tmp/seen").unwrap();
    assert_eq!(seen, format!("{after}\nkept"));
}

#[test]
fn faults_are_real_and_each_host_is_reported_for_its_own() {
    let Some(fleet) = debian_fleet(
        "faults_are_real_and_each_host_is_reported_for_its_own",
        &DebianOptions {
            hosts: 4,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    fleet.power_off(1).unwrap();
    fleet.new_host_key_at_next_boot(2).unwrap();
    fleet.reboot(2).unwrap();
    fleet.kill_sshd(3).unwrap();
    let run = drover(&fleet, &["run", "all", "--json", "--", "true"]);
    assert_eq!(run.code, 4, "{run:?}");
    let doc = run.json();
    let host = |n: &str| &doc["hosts"][n];
    assert_eq!(host("deb01")["status"], "ok", "{doc}");
    // Powered off: nothing answers on its network, so the connection times out.
    assert_eq!(host("deb02")["status"], "unreachable", "{doc}");
    assert!(
        host("deb02")["msg"].as_str().unwrap().contains("timed out"),
        "{doc}"
    );
    // Up without sshd: refused at once.
    assert_eq!(host("deb04")["status"], "unreachable", "{doc}");
    assert!(
        host("deb04")["msg"]
            .as_str()
            .unwrap()
            .contains("Connection refused"),
        "{doc}"
    );
    assert_eq!(host("deb03")["status"], "unreachable", "{doc}");
    assert!(
        host("deb03")["msg"]
            .as_str()
            .unwrap()
            .contains("HOST KEY CHANGED"),
        "{doc}"
    );

    // A silent drop: no answer at all, so the connection times out; restored, the host answers.
    fleet.drop_traffic(0).unwrap();
    let started = std::time::Instant::now();
    let run = drover(
        &fleet,
        &[
            "run",
            "deb01",
            "--connect-timeout",
            "3",
            "--json",
            "--",
            "true",
        ],
    );
    assert_eq!(run.code, 4, "{run:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{run:?}"
    );
    assert_eq!(
        run.json()["hosts"]["deb01"]["status"],
        "unreachable",
        "{run:?}"
    );
    fleet.restore_traffic(0).unwrap();
    fleet.power_on(1).unwrap();
    let run = drover(&fleet, &["run", "deb01:deb02", "--", "true"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_full_disk_fails_the_write_and_leaves_no_temporary_file() {
    let Some(fleet) = debian_fleet(
        "a_full_disk_fails_the_write_and_leaves_no_temporary_file",
        &DebianOptions {
            small_disk: Some(("/srv/small".into(), 64 * 1024)),
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    let playbook = fleet.dir().join("fill.yml");
    std::fs::write(
        &playbook,
        "- hosts: all\n  tasks:\n    - copy:\n        content: \"{{ 'x' * 200000 }}\"\n        dest: /srv/small/big\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let run = drover(&fleet, &push_args(&playbook, &runs, &[]));
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("No space left on device"), "{run:?}");
    assert_eq!(fleet.exec(0, "ls -A /srv/small").unwrap(), "");
}
