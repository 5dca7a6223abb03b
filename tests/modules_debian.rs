//! Modules that change a host's state, on real Debian hosts of the container fleet (their own users,
//! groups and packages): each run for real, then again to show it changes nothing the second time,
//! and under --check to show it changes nothing at all.

mod common;

use common::{DebianOptions, Run, drover, push_args};

/// A SHA-512 crypt hash of `s3cret` (Python's crypt.crypt('s3cret', '$6$drover01$')).
const HASH: &str = "$6$drover01$pK8JBjvqLWaWf9ncGqCs5IVCQt7L2iP7JuE2igoR8DYNMH7A8l8vWOdR2qZp0oZVbE5b9k/7m5tJmCkvhDmQe1";

fn push(fleet: &common::DebianFleet, name: &str, playbook: &str, extra: &[&str]) -> Run {
    let path = fleet.dir().join(format!("{name}.yml"));
    std::fs::write(&path, playbook).unwrap();
    let runs = fleet.dir().join("runs");
    drover(fleet, &push_args(&path, &runs, extra))
}

/// A user's groups, sorted.
fn groups(fleet: &common::DebianFleet, user: &str) -> Vec<String> {
    let out = fleet.exec(0, &format!("id -Gn {user}")).unwrap();
    let mut v: Vec<String> = out.split_whitespace().map(String::from).collect();
    v.sort();
    v
}

fn recap(run: &Run) -> &str {
    run.stdout
        .lines()
        .find(|l| l.starts_with("deb01 "))
        .unwrap_or_default()
}

#[test]
fn users_and_groups_are_made_changed_and_removed_only_where_they_differ() {
    let Some(fleet) = common::debian_fleet(
        "users_and_groups_are_made_changed_and_removed_only_where_they_differ",
        &DebianOptions::default(),
    ) else {
        return;
    };
    let make = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - group:\n        name: deployers\n        gid: 2500\n    - user:\n        name: deploy\n        groups: [deployers, docker]\n        shell: /bin/bash\n        home: /srv/deploy/home\n        comment: Deploy user\n        password: \"{HASH}\"\n      register: created\n    - copy:\n        content: \"{{{{ created.uid }}}} {{{{ created.home }}}} {{{{ created.password }}}}\"\n        dest: /root/created\n"
    );
    let run = push(&fleet, "make", &make, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=3"), "{run:?}");
    let passwd = fleet.exec(0, "getent passwd deploy").unwrap();
    assert!(
        passwd.ends_with(":Deploy user:/srv/deploy/home:/bin/bash\n"),
        "{passwd}"
    );
    assert_eq!(groups(&fleet, "deploy"), ["deploy", "deployers", "docker"]);
    assert_eq!(
        fleet
            .exec(0, "getent group deployers | cut -d: -f3")
            .unwrap(),
        "2500\n"
    );
    assert_eq!(
        fleet
            .exec(0, "getent shadow deploy | cut -d: -f2")
            .unwrap()
            .trim(),
        HASH
    );
    assert!(fleet.exec(0, "test -d /srv/deploy/home").is_ok());
    let uid = passwd.split(':').nth(2).unwrap();
    assert_eq!(
        fleet.exec(0, "cat /root/created").unwrap(),
        format!("{uid} /srv/deploy/home NOT_LOGGING_PASSWORD")
    );
    // The hash is never shown or journaled.
    let journal = std::fs::read_dir(fleet.dir().join("runs"))
        .unwrap()
        .flatten()
        .map(|r| std::fs::read_to_string(r.path().join("events.jsonl")).unwrap())
        .collect::<String>();
    assert!(
        !journal.contains("drover01$") && !run.stdout.contains("drover01$"),
        "{journal}"
    );

    // The same again: nothing differs, nothing changes.
    let run = push(&fleet, "make", &make, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=0"), "{run:?}");

    // --check reports the change and makes none.
    let change = "- hosts: all\n  gather_facts: false\n  tasks:\n    - user:\n        name: deploy\n        shell: /bin/sh\n        groups: sudo\n        append: true\n";
    let run = push(&fleet, "change", change, &["--check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        fleet
            .exec(0, "getent passwd deploy")
            .unwrap()
            .ends_with(":/bin/bash\n")
    );
    let run = push(&fleet, "change", change, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        groups(&fleet, "deploy"),
        ["deploy", "deployers", "docker", "sudo"]
    );
    assert!(
        fleet
            .exec(0, "getent passwd deploy")
            .unwrap()
            .ends_with(":/bin/sh\n")
    );

    // A missing group is refused with Ansible's words; absent removes the user and its home.
    let run = push(
        &fleet,
        "bad",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - user:\n        name: deploy\n        group: nosuchgroup\n",
        &[],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout.contains("Group nosuchgroup does not exist"),
        "{run:?}"
    );
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - user:\n        name: deploy\n        state: absent\n        remove: true\n    - group:\n        name: deployers\n        state: absent\n";
    let run = push(&fleet, "gone", gone, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert!(fleet.exec(0, "getent passwd deploy").is_err());
    assert!(fleet.exec(0, "getent group deployers").is_err());
    assert!(fleet.exec(0, "test -e /srv/deploy/home").is_err());
    let run = push(&fleet, "gone", gone, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
}
