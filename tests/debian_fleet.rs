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
