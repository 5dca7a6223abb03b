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

/// A one-host fleet whose apt repository holds `debs` (built now), and that repository's folder.
fn fleet_with_debs(
    test: &str,
    debs: &[&common::apt::Deb],
) -> Option<(common::DebianFleet, std::path::PathBuf)> {
    let repo = common::scratch().join(format!("apt-repo-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    common::apt::build_repo_of(&repo, debs);
    let fleet = common::debian_fleet(
        test,
        &DebianOptions {
            repo: Some(repo.clone()),
            ..DebianOptions::default()
        },
    )?;
    Some((fleet, repo))
}

/// A one-host fleet of the default image, named for the test.
fn one_host(test: &str) -> Option<common::DebianFleet> {
    common::debian_fleet(test, &DebianOptions::default())
}

/// The run failed on a task (exit 3), which said `what`.
fn assert_task_failed(run: &Run, what: &str) {
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains(what), "expected `{what}` in {run:?}");
}

/// Names that resolve to the host itself, with a certificate for them (/root/c.pem, its key
/// /root/k.pem) that the host trusts: a stand-in for a service on the internet, served over TLS on
/// the host so that certificates are checked as they would be.
fn stand_in_tls(fleet: &common::DebianFleet, names: &[&str]) {
    let sans: Vec<String> = names.iter().map(|n| format!("DNS:{n}")).collect();
    fleet
        .exec(
            0,
            &format!(
                "echo '127.0.0.1 {}' >> /etc/hosts && cd /root && \
                 openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN={} -addext subjectAltName={} 2>/dev/null && \
                 cp c.pem /usr/local/share/ca-certificates/stand-in.crt && update-ca-certificates >/dev/null 2>&1",
                names.join(" "),
                names[0],
                sans.join(",")
            ),
        )
        .unwrap();
}

fn recap(run: &Run) -> &str {
    run.stdout
        .lines()
        .find(|l| l.starts_with("deb01 "))
        .unwrap_or_default()
}

#[test]
fn users_and_groups_are_made_changed_and_removed_only_where_they_differ() {
    let Some(fleet) =
        one_host("users_and_groups_are_made_changed_and_removed_only_where_they_differ")
    else {
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
    let change = "- hosts: all\n  gather_facts: false\n  tasks:\n    - user:\n        name: deploy\n        shell: /bin/sh\n        groups: sudo\n        append: true\n        password_expire_min: 1\n        password_expire_max: 60\n        password_expire_warn: 10\n        expires: 1893456000\n";
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
    // Password aging, as chage set it in shadow; asked again, it is as asked.
    assert_eq!(
        fleet
            .exec(0, "getent shadow deploy | cut -d: -f4-6")
            .unwrap(),
        "1:60:10\n"
    );
    // 2030-01-01 is day 21915 since 1970.
    assert_eq!(
        fleet.exec(0, "getent shadow deploy | cut -d: -f8").unwrap(),
        "21915\n"
    );
    let run = push(&fleet, "change", change, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let never =
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - user: {name: deploy, expires: -1}\n";
    let run = push(&fleet, "never", never, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "getent shadow deploy | cut -d: -f8").unwrap(),
        "\n"
    );

    // A new user's home from a skeleton, with a umask and a uid range; a group from a gid range,
    // removed with force while it is that user's primary group.
    fleet
        .exec(
            0,
            "mkdir -p /etc/drover-skel && echo hello > /etc/drover-skel/welcome",
        )
        .unwrap();
    let skel = "- hosts: all\n  gather_facts: false\n  tasks:\n    - group: {name: crew, gid_min: 4100, gid_max: 4200}\n    - user: {name: sailor, group: crew, skeleton: /etc/drover-skel, umask: \"0077\", uid_min: 3100, uid_max: 3200}\n";
    let run = push(&fleet, "skel", skel, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let ids = fleet
        .exec(0, "id -u sailor; getent group crew | cut -d: -f3; stat -c %a /home/sailor; cat /home/sailor/welcome")
        .unwrap();
    let ids: Vec<&str> = ids.lines().collect();
    assert!(
        ("3100".."3201").contains(&ids[0]) && ids[0].len() == 4,
        "{ids:?}"
    );
    assert!(
        ("4100".."4201").contains(&ids[1]) && ids[1].len() == 4,
        "{ids:?}"
    );
    assert_eq!(ids[2..], ["700", "hello"]);
    let kept =
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - group: {name: crew, state: absent}\n";
    assert_task_failed(&push(&fleet, "kept", kept, &[]), "primary group");
    let forced = "- hosts: all\n  gather_facts: false\n  tasks:\n    - group: {name: crew, state: absent, force: true}\n";
    assert_eq!(push(&fleet, "forced", forced, &[]).code, 0);
    assert!(fleet.exec(0, "getent group crew").is_err());

    // A missing group is refused with Ansible's words; absent removes the user and its home.
    let run = push(
        &fleet,
        "bad",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - user:\n        name: deploy\n        group: nosuchgroup\n",
        &[],
    );
    assert_task_failed(&run, "Group nosuchgroup does not exist");
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

/// The fingerprint of tests/fixtures/apt/drover-test-key.asc (made by make-test-key.sh there).
const KEY_FPR: &str = "51F2FADFEA9894E6964DE7468682EAD8EC261092";

#[test]
fn apt_keys_and_sources_are_added_once_and_removed() {
    let Some(fleet) = one_host("apt_keys_and_sources_are_added_once_and_removed") else {
        return;
    };
    let key = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/apt/drover-test-key.asc"
    ))
    .unwrap();
    // The key served over HTTP on the host itself (busybox httpd), and a second local repository.
    fleet.exec(0, "mkdir -p /srv/www").unwrap();
    fleet.write_file(0, "/srv/www/key.asc", &key).unwrap();
    fleet
        .exec(0, "busybox httpd -p 127.0.0.1:8088 -h /srv/www && mkdir -p /var/local/extra && : > /var/local/extra/Packages")
        .unwrap();
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - apt_key:\n        url: http://127.0.0.1:8088/key.asc\n    - apt_key:\n        id: \"{short}\"\n        data: \"{{{{ lookup_key }}}}\"\n        keyring: /etc/apt/trusted.gpg.d/drover.gpg\n    - apt_repository:\n        repo: deb [trusted=yes] file:/srv/repo ./\n    - apt_repository:\n        repo: \"deb [trusted=yes]   file:/var/local/extra ./\"\n        filename: extra\n",
        short = &KEY_FPR[24..],
    );
    let vars = fleet.dir().join("key.yml");
    std::fs::write(
        &vars,
        format!("lookup_key: {}\n", serde_json::to_string(&key).unwrap()),
    )
    .unwrap();
    let at = format!("@{}", vars.display());
    let run = push(&fleet, "keys", &play, &["-e", &at, "--diff"]);
    assert_eq!(run.code, 0, "{run:?}");
    // The fleet's own source is already in sources.list: only the new one is added.
    assert!(recap(&run).contains("changed=3"), "{run:?}");
    assert!(
        run.stdout
            .contains("+deb [trusted=yes] file:/var/local/extra ./"),
        "{run:?}"
    );
    assert_eq!(
        fleet
            .exec(0, "cat /etc/apt/sources.list.d/extra.list")
            .unwrap(),
        "deb [trusted=yes] file:/var/local/extra ./\n"
    );
    // apt-get update ran with it.
    assert!(
        fleet
            .exec(0, "ls /var/lib/apt/lists/ | grep -q var_local_extra")
            .is_ok()
    );
    for keyring in ["", " --keyring /etc/apt/trusted.gpg.d/drover.gpg"] {
        let exported = fleet
            .exec(0, &format!("apt-key{keyring} export {KEY_FPR} 2>/dev/null"))
            .unwrap();
        assert!(
            exported.contains("BEGIN PGP PUBLIC KEY BLOCK"),
            "{keyring}: {exported}"
        );
    }
    let run = push(&fleet, "keys", &play, &["-e", &at]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");

    let gone = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - apt_key:\n        id: \"{KEY_FPR}\"\n        state: absent\n    - apt_repository:\n        repo: deb [trusted=yes] file:/var/local/extra ./\n        state: absent\n"
    );
    let run = push(&fleet, "gone", &gone, &["--check"]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert!(
        fleet
            .exec(0, "test -e /etc/apt/sources.list.d/extra.list")
            .is_ok()
    );
    let run = push(&fleet, "gone", &gone, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert!(
        fleet
            .exec(0, "test -e /etc/apt/sources.list.d/extra.list")
            .is_err()
    );
    assert!(
        !fleet
            .exec(0, &format!("apt-key export {KEY_FPR} 2>/dev/null"))
            .unwrap()
            .contains("BEGIN")
    );
}

/// Makes `name` in `dir` from `files` (path, text): a .tar.gz with tar, a .zip with Python's zipfile.
fn archive(dir: &std::path::Path, name: &str, files: &[(&str, &str)]) {
    let src = dir.join(format!("{name}.d"));
    for (path, text) in files {
        let p = src.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let top: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let out = if name.ends_with(".zip") {
        std::process::Command::new("python3")
            .args(["-m", "zipfile", "-c"])
            .arg(dir.join(name))
            .args(&top)
            .current_dir(&src)
            .output()
    } else {
        std::process::Command::new("tar")
            .arg("czf")
            .arg(dir.join(name))
            .args(&top)
            .current_dir(&src)
            .output()
    }
    .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn archives_are_unpacked_only_when_what_is_there_differs() {
    let Some(fleet) = one_host("archives_are_unpacked_only_when_what_is_there_differs") else {
        return;
    };
    let files = fleet.dir().join("files");
    std::fs::create_dir_all(&files).unwrap();
    archive(
        &files,
        "app.tar.gz",
        &[
            ("app-1.0/bin/app", "#!/bin/sh\necho app\n"),
            ("app-1.0/README.md", "docs\n"),
        ],
    );
    archive(
        &files,
        "web.zip",
        &[
            ("index.html", "<h1>hi</h1>\n"),
            ("css/site.css", "body{}\n"),
        ],
    );
    fleet
        .exec(0, "mkdir -p /srv/www /opt/app /srv/web /srv/fetched")
        .unwrap();
    let zip = std::fs::read(files.join("web.zip")).unwrap();
    // The zip also on the host (remote_src) and served over HTTP there (a URL).
    let b64 = {
        use std::io::Write;
        let mut child = std::process::Command::new("base64")
            .arg("-w0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&zip).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    fleet.exec(0, &format!("echo {b64} | base64 -d > /srv/www/web.zip && cp /srv/www/web.zip /var/tmp/web.zip && busybox httpd -p 127.0.0.1:8089 -h /srv/www")).unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - unarchive:\n        src: app.tar.gz\n        dest: /opt/app\n        extra_opts: [--strip-components=1]\n        exclude: ['*.md']\n        owner: ops\n        list_files: true\n      register: app\n    - copy:\n        content: \"{{ app.files | join(',') }}\"\n        dest: /root/members\n    - unarchive:\n        src: /var/tmp/web.zip\n        remote_src: true\n        dest: /srv/web\n        mode: \"0750\"\n    - unarchive:\n        src: http://127.0.0.1:8089/web.zip\n        dest: /srv/fetched\n        creates: /srv/fetched/done\n";
    let run = push(&fleet, "unpack", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=4"), "{run:?}");
    assert_eq!(fleet.exec(0, "sh /opt/app/bin/app").unwrap(), "app\n");
    assert!(
        fleet.exec(0, "test -e /opt/app/README.md").is_err(),
        "excluded"
    );
    assert_eq!(
        fleet.exec(0, "stat -c %U /opt/app/bin/app").unwrap(),
        "ops\n"
    );
    let mut members: Vec<String> = fleet
        .exec(0, "cat /root/members")
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    members.sort();
    assert_eq!(members, ["bin", "bin/app"]);
    assert_eq!(
        fleet
            .exec(
                0,
                "cat /srv/web/css/site.css; stat -c %a /srv/web/index.html"
            )
            .unwrap(),
        "body{}\n750\n"
    );
    assert_eq!(
        fleet.exec(0, "cat /srv/fetched/index.html").unwrap(),
        "<h1>hi</h1>\n"
    );
    assert_eq!(
        fleet
            .exec(0, "ls -A /opt/app /srv/web | grep -c drover || true")
            .unwrap(),
        "0\n",
        "no work folder left"
    );

    // Nothing differs: nothing changes.
    let run = push(&fleet, "unpack", play, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    // A changed file is found; --check says so and leaves it; a run puts it back.
    fleet
        .exec(
            0,
            "echo changed > /srv/web/index.html; touch /srv/fetched/done",
        )
        .unwrap();
    let run = push(&fleet, "unpack", play, &["--check"]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(recap(&run).contains("skipped=1"), "creates: {run:?}");
    assert_eq!(
        fleet.exec(0, "cat /srv/web/index.html").unwrap(),
        "changed\n"
    );
    let run = push(&fleet, "unpack", play, &[]);
    // Only the zip differs; the fetched one is skipped, since `creates` exists now.
    assert!(
        recap(&run).contains("changed=1  unreachable=0  failed=0  skipped=1"),
        "{run:?}"
    );
    assert_eq!(
        fleet.exec(0, "cat /srv/web/index.html").unwrap(),
        "<h1>hi</h1>\n"
    );
}

#[test]
fn a_block_of_lines_is_managed_between_its_markers() {
    let Some(fleet) = one_host("a_block_of_lines_is_managed_between_its_markers") else {
        return;
    };
    let original = fleet.exec(0, "cat /etc/ssh/sshd_config").unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - blockinfile:\n        path: /etc/ssh/sshd_config\n        block: |\n          Match User ops\n            X11Forwarding no\n";
    let run = push(&fleet, "block", play, &["--diff"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        run.stdout.contains("+# BEGIN ANSIBLE MANAGED BLOCK"),
        "{run:?}"
    );
    let now = fleet.exec(0, "cat /etc/ssh/sshd_config").unwrap();
    assert!(now.ends_with("\n# BEGIN ANSIBLE MANAGED BLOCK\nMatch User ops\n  X11Forwarding no\n# END ANSIBLE MANAGED BLOCK\n"), "{now}");
    // sshd accepts what it became, and a second run changes nothing.
    fleet.exec(0, "sshd -t").unwrap();
    let run = push(&fleet, "block", play, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - blockinfile:\n        path: /etc/ssh/sshd_config\n        state: absent\n";
    let run = push(&fleet, "gone", gone, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(fleet.exec(0, "cat /etc/ssh/sshd_config").unwrap(), original);
}

#[test]
fn authorized_keys_let_a_new_key_in_and_keep_others_out() {
    let Some(fleet) = one_host("authorized_keys_let_a_new_key_in_and_keep_others_out") else {
        return;
    };
    let key = fleet.dir().join("ops_key");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "ops@drover", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    // An inventory that logs in as ops with a key of its own (the inventory's settings win over -u).
    let client = fleet.client_key();
    let inv = common::inventory_variant(
        &fleet,
        "ops.ini",
        &format!(
            "ansible_user=root\nansible_ssh_private_key_file={}",
            client.display()
        ),
        &format!(
            "ansible_user=ops\nansible_ssh_private_key_file={}",
            key.display()
        ),
    );
    let as_ops = || common::drover_with(&fleet, &inv, &["run", "all", "--", "id -un"], &[]);
    assert_eq!(as_ops().code, 4, "the new key is not let in yet");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - authorized_key:\n        user: ops\n        key: \"{}\"\n        key_options: no-port-forwarding\n",
        public.trim()
    );
    let run = push(&fleet, "key", &play, &["--diff"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        run.stdout.contains("+no-port-forwarding ssh-ed25519 "),
        "{run:?}"
    );
    let login = as_ops();
    assert_eq!(login.code, 0, "{login:?}");
    assert!(login.stdout.contains("ops"), "{login:?}");
    assert_eq!(
        fleet
            .exec(
                0,
                "stat -c '%a %U' /home/ops/.ssh /home/ops/.ssh/authorized_keys"
            )
            .unwrap(),
        "700 ops\n600 ops\n"
    );
    let run = push(&fleet, "key", &play, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    // exclusive: the fleet's own key is no longer let in as ops; root is untouched.
    let only = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - authorized_key:\n        user: ops\n        key: \"{}\"\n        key_options: no-port-forwarding\n        exclusive: true\n",
        public.trim()
    );
    let run = push(&fleet, "only", &only, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "wc -l < /home/ops/.ssh/authorized_keys")
            .unwrap()
            .trim(),
        "1"
    );
    let gone = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - authorized_key:\n        user: ops\n        key: \"{}\"\n        state: absent\n",
        public.trim()
    );
    let run = push(&fleet, "gone", &gone, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(as_ops().code, 4, "the removed key is still let in");
}

#[test]
fn host_name_and_time_zone_are_set_where_debian_keeps_them() {
    let Some(fleet) = one_host("host_name_and_time_zone_are_set_where_debian_keeps_them") else {
        return;
    };
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - hostname:\n        name: web01.example.org\n    - timezone:\n        name: Europe/Zurich\n    - copy:\n        content: \"{{ ansible_hostname }}\"\n        dest: /root/short\n";
    let run = push(&fleet, "names", play, &["--diff"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=3"), "{run:?}");
    assert!(
        run.stdout.contains("+hostname = web01.example.org"),
        "{run:?}"
    );
    // Ansible's Debian strategy: the file now, the running name at the next boot.
    assert_eq!(
        fleet.exec(0, "cat /etc/hostname").unwrap(),
        "web01.example.org\n"
    );
    assert_eq!(fleet.exec(0, "hostname").unwrap(), "deb01\n");
    assert_eq!(fleet.exec(0, "cat /root/short").unwrap(), "web01");
    assert_eq!(
        fleet
            .exec(0, "cat /etc/timezone; readlink /etc/localtime; date +%Z")
            .unwrap()
            .lines()
            .take(2)
            .collect::<Vec<_>>(),
        ["Europe/Zurich", "/usr/share/zoneinfo/Europe/Zurich"]
    );
    let run = push(&fleet, "names", play, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let bad = push(
        &fleet,
        "bad",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - timezone:\n        name: Mars/Olympus\n",
        &[],
    );
    assert_eq!(bad.code, 3, "{bad:?}");
    assert!(
        bad.stdout
            .contains("given timezone Mars/Olympus is not available"),
        "{bad:?}"
    );
}

#[test]
fn apt_installs_purges_and_installs_a_deb_file_once() {
    const HELLO: common::apt::Deb = common::apt::Deb {
        name: "drover-hello",
        version: "1.0-1",
        depends: "",
        postinst: "#!/bin/sh\nset -e\necho configured > /var/lib/drover-hello\n",
    };
    let Some((fleet, repo)) = fleet_with_debs(
        "apt_installs_purges_and_installs_a_deb_file_once",
        &[&HELLO],
    ) else {
        return;
    };
    let status = |p: &str| {
        fleet
            .exec(
                0,
                &format!("dpkg-query -W -f='${{db:Status-Abbrev}}' {p} 2>/dev/null || echo none"),
            )
            .unwrap()
    };
    let install = "- hosts: all\n  gather_facts: false\n  tasks:\n    - apt:\n        name: drover-hello\n        update_cache: true\n        install_recommends: false\n        lock_timeout: 60\n";
    let run = push(&fleet, "install", install, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(status("drover-hello").trim(), "ii");
    assert_eq!(
        fleet.exec(0, "cat /var/lib/drover-hello").unwrap(),
        "configured\n"
    );
    let run = push(&fleet, "install", install, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let purge = "- hosts: all\n  gather_facts: false\n  tasks:\n    - apt:\n        name: drover-hello\n        state: absent\n        purge: true\n        autoclean: true\n";
    let run = push(&fleet, "purge", purge, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        status("drover-hello").trim(),
        "none",
        "purged, not only removed"
    );
    // A .deb file on the host: installed once.
    let deb = std::fs::read_dir(&repo)
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "deb"))
        .unwrap()
        .path();
    fleet.exec(0, "mkdir -p /var/tmp/debs").unwrap();
    fleet
        .exec(
            0,
            &format!(
                "cp /srv/repo/{} /var/tmp/debs/hello.deb",
                deb.file_name().unwrap().to_string_lossy()
            ),
        )
        .unwrap();
    let file = "- hosts: all\n  gather_facts: false\n  tasks:\n    - apt:\n        deb: /var/tmp/debs/hello.deb\n";
    let run = push(&fleet, "deb", file, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(status("drover-hello").trim(), "ii");
    let run = push(&fleet, "deb", file, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    drop(fleet);
    let _ = std::fs::remove_dir_all(&repo);
}

/// apt's guards as Ansible's apt passes them: a held package is installed only with
/// `allow_change_held_packages`; `fail_on_autoremove` fails rather than remove a package that
/// conflicts; `update_cache_retries` tries a failing `apt-get update` that many times.
#[test]
fn apt_held_packages_removals_and_update_retries_are_as_asked() {
    const fn deb(name: &'static str, depends: &'static str) -> common::apt::Deb {
        common::apt::Deb {
            name,
            version: "1.0-1",
            depends,
            postinst: "#!/bin/sh\nexit 0\n",
        }
    }
    const OLD: common::apt::Deb = deb("drover-old", "");
    const NEW: common::apt::Deb = deb("drover-new", "dpkg\nConflicts: drover-old");
    const HELD: common::apt::Deb = deb("drover-held", "");
    let Some((fleet, repo)) = fleet_with_debs(
        "apt_held_packages_removals_and_update_retries_are_as_asked",
        &[&OLD, &NEW, &HELD],
    ) else {
        return;
    };
    let installed = |p: &str| {
        fleet
            .exec(
                0,
                &format!("dpkg-query -W -f='${{db:Status-Abbrev}}' {p} 2>/dev/null || true"),
            )
            .unwrap()
            .trim()
            == "ii"
    };
    let apt = |name: &str, params: &str| {
        let play = format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - apt:\n        name: {name}\n        update_cache: true\n{params}"
        );
        push(&fleet, name, &play, &[])
    };
    assert_eq!(apt("drover-old", "").code, 0);
    fleet.exec(0, "apt-mark hold drover-held").unwrap();
    assert_task_failed(&apt("drover-held", ""), "Held packages were changed");
    assert!(!installed("drover-held"));
    let run = apt("drover-held", "        allow_change_held_packages: true\n");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(installed("drover-held"));
    let kept = apt("drover-new", "        fail_on_autoremove: true\n");
    assert_eq!(kept.code, 3, "{kept:?}");
    assert!(installed("drover-old") && !installed("drover-new"));
    let run = apt("drover-new", "");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(!installed("drover-old") && installed("drover-new"));
    fleet
        .exec(
            0,
            "echo 'deb [trusted=yes] file:/srv/no-such-repo ./' > /etc/apt/sources.list.d/gone.list",
        )
        .unwrap();
    let update = "- hosts: all\n  gather_facts: false\n  tasks:\n    - apt:\n        update_cache: true\n        update_cache_retries: 3\n        update_cache_retry_max_delay: 1\n";
    let run = push(&fleet, "update", update, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    // The failure's message is apt-get's standard error: one complaint a try.
    let message = run.stdout.split("      cmd:").next().unwrap_or_default();
    assert_eq!(
        message
            .matches("Failed to fetch file:/srv/no-such-repo")
            .count(),
        3,
        "three tries: {run:?}"
    );
    drop(fleet);
    let _ = std::fs::remove_dir_all(&repo);
}

/// sudoers: a rule file written once, as community.general writes it (0440), that sudo then
/// honours; a rule visudo refuses is never written; absent removes the file. kernel_blacklist:
/// a line added once, trailing spaces dropped as the module writes the file, and removed.
/// git_config: set, added beside other values and unset, each only when it differs.
/// filesystem: made on a file once, another kind refused unless forced, wiped. openssh_keypair:
/// made, kept, commented, made anew and removed. openssl_dhparam: made, kept, made anew.
/// selinux and seport: refused where SELinux's tools are not (their changes are unit-tested as
/// plans: SELinux cannot run in the fleet's containers).
#[test]
fn small_system_modules_settle_on_a_real_host() {
    let Some(fleet) = one_host("small_system_modules_settle_on_a_real_host") else {
        return;
    };
    fleet.exec(0, "useradd -m app").unwrap();
    let rule = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.sudoers:\n        name: 91-app\n        user: app\n        commands: [/usr/bin/id, /usr/bin/true]\n";
    let run = push(&fleet, "rule", rule, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet
            .exec(
                0,
                "stat -c %a /etc/sudoers.d/91-app; cat /etc/sudoers.d/91-app"
            )
            .unwrap(),
        "440\napp ALL=NOPASSWD: /usr/bin/id, /usr/bin/true\n"
    );
    assert_eq!(
        fleet
            .exec(0, "su app -c 'sudo -n /usr/bin/id -un'")
            .unwrap(),
        "root\n"
    );
    let run = push(&fleet, "rule", rule, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let bad = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.sudoers: {name: 92-bad, user: app, commands: [sleep]}\n";
    assert_task_failed(&push(&fleet, "bad", bad, &[]), "fully-qualified");
    assert!(fleet.exec(0, "test -e /etc/sudoers.d/92-bad").is_err());
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.sudoers: {name: 91-app, state: absent}\n";
    let run = push(&fleet, "gone", gone, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(fleet.exec(0, "test -e /etc/sudoers.d/91-app").is_err());

    // kernel_blacklist on the same host: a line added once to the default file, removed again.
    let blacklist = |state: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.kernel_blacklist: {{name: pcspkr, state: {state}}}\n    - kernel_blacklist: {{name: nouveau, blacklist_file: /etc/modprobe.d/gpu.conf}}\n"
        )
    };
    fleet
        .exec(
            0,
            "printf '# local\\nblacklist floppy   \\n' > /etc/modprobe.d/blacklist-ansible.conf",
        )
        .unwrap();
    let run = push(&fleet, "blacklist", &blacklist("present"), &[]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    let read = || {
        fleet
            .exec(
                0,
                "cat /etc/modprobe.d/blacklist-ansible.conf /etc/modprobe.d/gpu.conf",
            )
            .unwrap()
    };
    assert_eq!(
        read(),
        "# local\nblacklist floppy\nblacklist pcspkr\nblacklist nouveau\n"
    );
    let run = push(&fleet, "blacklist", &blacklist("present"), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let run = push(&fleet, "blacklist", &blacklist("absent"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(read(), "# local\nblacklist floppy\nblacklist nouveau\n");

    // git_config: a global setting set once; values added beside others; all unset.
    let git = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.git_config: {name: user.name, value: Ops Team, scope: global}\n    - git_config: {name: safe.directory, value: /srv/a, scope: global, add_mode: add}\n    - git_config: {name: safe.directory, value: /srv/b, scope: global, add_mode: add}\n";
    let run = push(&fleet, "git", git, &[]);
    assert!(recap(&run).contains("changed=3"), "{run:?}");
    let values = || {
        fleet
            .exec(0, "cd / && git config --global --get user.name; git config --global --get-all safe.directory; true")
            .unwrap()
    };
    assert_eq!(values(), "Ops Team\n/srv/a\n/srv/b\n");
    let run = push(&fleet, "git", git, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let unset = "- hosts: all\n  gather_facts: false\n  tasks:\n    - git_config: {name: safe.directory, scope: global, state: absent}\n";
    let run = push(&fleet, "unset", unset, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(values(), "Ops Team\n");

    // filesystem on a file: made once, another kind refused unless forced, wiped when absent.
    fleet.exec(0, "truncate -s 32M /root/disk.img").unwrap();
    let fs = |extra: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.filesystem: {{dev: /root/disk.img, {extra}}}\n"
        )
    };
    let found = || {
        fleet
            .exec(
                0,
                "blkid -c /dev/null -o value -s TYPE /root/disk.img; true",
            )
            .unwrap()
    };
    let run = push(&fleet, "fs", &fs("fstype: ext4, opts: -L data"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(found(), "ext4\n");
    let run = push(&fleet, "fs", &fs("fstype: ext4"), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    assert_task_failed(
        &push(&fleet, "swap", &fs("fstype: swap"), &[]),
        "already used as ext4",
    );
    let run = push(&fleet, "swap", &fs("fstype: swap, force: true"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(found(), "swap\n");
    let run = push(&fleet, "wipe", &fs("state: absent"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(found(), "");

    // openssh_keypair: made once with ssh-keygen (owned as asked), kept while it matches, its
    // comment updated, made anew when the size differs, removed when absent.
    let key = |extra: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.crypto.openssh_keypair: {{path: /home/app/deploy_key, owner: app, {extra}}}\n      register: key\n    - copy: {{content: \"{{{{ key.fingerprint }}}} {{{{ key.size }}}} {{{{ key.comment }}}}\", dest: /root/key-facts}}\n"
        )
    };
    let facts = || fleet.exec(0, "cat /root/key-facts").unwrap();
    let run = push(&fleet, "key", &key("size: 2048, comment: deploy"), &[]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    let made = fleet
        .exec(0, "stat -c '%U %a' /home/app/deploy_key /home/app/deploy_key.pub; ssh-keygen -l -f /home/app/deploy_key.pub")
        .unwrap();
    assert!(made.starts_with("app 600\napp 644\n2048 SHA256:"), "{made}");
    assert!(made.trim_end().ends_with("deploy (RSA)"), "{made}");
    let fingerprint = made
        .lines()
        .nth(2)
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_string();
    assert_eq!(facts(), format!("{fingerprint} 2048 deploy"));
    let run = push(&fleet, "key", &key("size: 2048, comment: deploy"), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let run = push(&fleet, "key", &key("size: 2048, comment: ops"), &[]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(
        facts(),
        format!("{fingerprint} 2048 ops"),
        "the same key, its comment updated"
    );
    let run = push(&fleet, "key", &key("size: 3072, comment: ops"), &[]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert!(facts().ends_with(" 3072 ops") && !facts().starts_with(&fingerprint));
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.crypto.openssh_keypair: {path: /home/app/deploy_key, state: absent}\n";
    let run = push(&fleet, "key-gone", gone, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(fleet.exec(0, "ls /home/app/deploy_key*").is_err());

    // openssl_dhparam: made once, kept while valid and of its size, made anew for another size.
    let dh = |size: u32| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.crypto.openssl_dhparam: {{path: /etc/ssl/dh.pem, size: {size}, mode: \"0640\"}}\n"
        )
    };
    let bits = || {
        fleet
            .exec(0, "stat -c %a /etc/ssl/dh.pem; openssl dhparam -check -text -noout -in /etc/ssl/dh.pem 2>&1 | grep -o '([0-9]* bit)'")
            .unwrap()
    };
    let run = push(&fleet, "dh", &dh(512), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(bits(), "640\n(512 bit)\n");
    let run = push(&fleet, "dh", &dh(512), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let run = push(&fleet, "dh", &dh(768), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(bits(), "640\n(768 bit)\n");

    // selinux on a host without SELinux's tools fails, as the module fails without libselinux.
    let selinux = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.posix.selinux: {state: permissive, policy: targeted}\n";
    assert_task_failed(
        &push(&fleet, "selinux", selinux, &[]),
        "SELinux's tools (getenforce, setenforce) are not on this host",
    );
    let seport = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.seport: {ports: 2222, proto: tcp, setype: ssh_port_t}\n";
    assert_task_failed(
        &push(&fleet, "seport", seport, &[]),
        "semanage is not on this host",
    );
}

#[test]
fn facts_modules_read_packages_services_and_databases() {
    let Some(fleet) = common::debian_fleet(
        "facts_modules_read_packages_services_and_databases",
        &DebianOptions {
            boot: drover_fleet::Boot::Systemd,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    let play = r#"- hosts: all
  tasks:
    - package_facts:
        manager: auto
    - service_facts:
    - getent:
        database: passwd
        key: ops
    - tempfile:
        state: directory
        suffix: .build
      register: scratch
    - raw: test -d {{ scratch.path }} && echo made
      register: made
    - assert:
        that:
          - "'openssh-server' in ansible_facts.packages"
          - "ansible_facts.packages['sudo'][0].source == 'apt'"
          - "ansible_facts.services['ssh.service'].state == 'running'"
          - "services['docker.service'].status == 'enabled'"
          - "getent_passwd.ops[4] == '/home/ops'"
          - "ansible_facts.distribution == 'Debian'"
          - "scratch.path.endswith('.build')"
          - "made.stdout == 'made'"
"#;
    let run = push(&fleet, "facts", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("failed=0"), "{run:?}");
    // tempfile does not run under --check (Ansible's does not support it): nothing is made.
    let count = "ls -d /tmp/*.build | wc -l";
    let before = fleet.exec(0, count).unwrap();
    let scratch = "- hosts: all\n  gather_facts: false\n  tasks:\n    - tempfile: {state: directory, suffix: .build}\n";
    let checked = push(&fleet, "scratch", scratch, &["--check"]);
    assert!(recap(&checked).contains("skipped=1"), "{checked:?}");
    assert_eq!(fleet.exec(0, count).unwrap(), before);
}

#[test]
fn validate_refuses_a_bad_file_and_backup_keeps_the_old_one() {
    let Some(fleet) = one_host("validate_refuses_a_bad_file_and_backup_keeps_the_old_one") else {
        return;
    };
    let sudoers = |content: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        content: \"{content}\\n\"\n        dest: /etc/sudoers.d/deploy\n        mode: \"0440\"\n        validate: visudo -cf %s\n        backup: true\n      register: written\n    - lineinfile:\n        path: /etc/motd\n        line: patched by drover\n        owner: ops\n        backup: true\n        create: true\n"
        )
    };
    // A broken sudoers line never reaches /etc/sudoers.d (sudo would stop working).
    let run = push(
        &fleet,
        "bad",
        &sudoers("deploy ALL=(ALL NOPASSWD: ALL"),
        &[],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(fleet.exec(0, "test -e /etc/sudoers.d/deploy").is_err());
    assert_eq!(
        fleet
            .exec(0, "ls -A /etc/sudoers.d | grep -c drover || true")
            .unwrap(),
        "0\n",
        "no temporary file left"
    );
    let run = push(
        &fleet,
        "good",
        &sudoers("deploy ALL=(ALL) NOPASSWD: ALL"),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet.exec(0, "stat -c %a /etc/sudoers.d/deploy").unwrap(),
        "440\n"
    );
    let motd = fleet
        .exec(0, "stat -c %U /etc/motd; tail -1 /etc/motd")
        .unwrap();
    assert_eq!(motd, "ops\npatched by drover\n");
    // A change keeps the old file beside it, named as Ansible names it.
    let run = push(
        &fleet,
        "again",
        &sudoers("deploy ALL=(ALL) NOPASSWD: /usr/bin/apt-get"),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let backups = fleet
        .exec(
            0,
            "ls /etc/sudoers.d/ | grep '^deploy\\.[0-9]*\\.[0-9-]*@[0-9:]*~$'",
        )
        .unwrap();
    assert_eq!(backups.lines().count(), 1, "{backups}");
    let old = fleet
        .exec(0, &format!("cat /etc/sudoers.d/{}", backups.trim()))
        .unwrap();
    assert_eq!(old, "deploy ALL=(ALL) NOPASSWD: ALL\n");
}

#[test]
fn an_ini_option_is_set_once() {
    let Some(fleet) = one_host("an_ini_option_is_set_once") else {
        return;
    };
    fleet
        .write_file(0, "/etc/app.ini", "[server]\n# port = 80\nhost = 0.0.0.0\n")
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.ini_file:\n        path: /etc/app.ini\n        section: server\n        option: port\n        value: \"8080\"\n        mode: \"0640\"\n        backup: true\n";
    let run = push(&fleet, "ini", play, &["--check", "--diff"]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(run.stdout.contains("+port = 8080"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /etc/app.ini").unwrap(),
        "[server]\n# port = 80\nhost = 0.0.0.0\n"
    );
    let run = push(&fleet, "ini", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "cat /etc/app.ini; stat -c %a /etc/app.ini")
            .unwrap(),
        "[server]\nport = 8080\nhost = 0.0.0.0\n640\n"
    );
    let run = push(&fleet, "ini", play, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
}

#[test]
fn cron_jobs_live_in_crontabs_and_cron_files() {
    let Some(fleet) = one_host("cron_jobs_live_in_crontabs_and_cron_files") else {
        return;
    };
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - cron:\n        name: MAILTO\n        env: true\n        job: ops@example.org\n        user: ops\n    - cron:\n        name: backup\n        minute: \"0\"\n        hour: \"3\"\n        job: /usr/local/bin/backup >/dev/null\n        user: ops\n    - cron:\n        name: renew\n        special_time: daily\n        job: certbot renew -q\n        user: root\n        cron_file: certbot\n";
    let run = push(&fleet, "cron", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=3"), "{run:?}");
    let crontab = fleet.exec(0, "crontab -u ops -l").unwrap();
    assert!(crontab.ends_with("MAILTO=\"ops@example.org\"\n#Ansible: backup\n0 3 * * * /usr/local/bin/backup >/dev/null\n"), "{crontab}");
    assert_eq!(
        fleet.exec(0, "cat /etc/cron.d/certbot").unwrap(),
        "#Ansible: renew\n@daily root certbot renew -q\n"
    );
    let run = push(&fleet, "cron", play, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - cron:\n        name: backup\n        user: ops\n        state: absent\n    - cron:\n        name: renew\n        cron_file: certbot\n        state: absent\n";
    let run = push(&fleet, "gone", gone, &[]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert!(
        !fleet
            .exec(0, "crontab -u ops -l")
            .unwrap()
            .contains("backup")
    );
    assert!(
        fleet.exec(0, "test -e /etc/cron.d/certbot").is_err(),
        "a cron file left empty is removed"
    );
}

#[test]
fn a_package_is_held_and_released() {
    let Some(fleet) = one_host("a_package_is_held_and_released") else {
        return;
    };
    let hold = |s: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - dpkg_selections:\n        name: sudo\n        selection: {s}\n"
        )
    };
    let run = push(&fleet, "hold", &hold("hold"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(fleet.exec(0, "apt-mark showhold").unwrap(), "sudo\n");
    let run = push(&fleet, "hold", &hold("hold"), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let run = push(&fleet, "release", &hold("install"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(fleet.exec(0, "apt-mark showhold").unwrap(), "");
}

#[test]
fn a_deb822_source_and_its_key_are_written_once_and_removed() {
    let Some(fleet) = one_host("a_deb822_source_and_its_key_are_written_once_and_removed") else {
        return;
    };
    let key = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/apt/drover-test-key.asc"
    ))
    .unwrap();
    fleet
        .exec(
            0,
            "mkdir -p /srv/www /var/local/extra && : > /var/local/extra/Packages",
        )
        .unwrap();
    fleet.write_file(0, "/srv/www/key.asc", &key).unwrap();
    fleet
        .exec(0, "busybox httpd -p 127.0.0.1:8090 -h /srv/www")
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - deb822_repository:\n        name: Local Extra\n        uris: file:/var/local/extra\n        suites: ./\n        signed_by: http://127.0.0.1:8090/key.asc\n        trusted: true\n    - apt:\n        update_cache: true\n";
    let run = push(&fleet, "source", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "cat /etc/apt/sources.list.d/local-extra.sources")
            .unwrap(),
        "X-Repolib-Name: Local Extra\nSigned-By: /etc/apt/keyrings/local-extra.asc\nSuites: ./\nTrusted: yes\nTypes: deb\nURIs: file:/var/local/extra\n"
    );
    assert_eq!(
        fleet
            .exec(0, "cat /etc/apt/keyrings/local-extra.asc")
            .unwrap(),
        key
    );
    assert!(
        fleet
            .exec(0, "ls /var/lib/apt/lists/ | grep -q var_local_extra")
            .is_ok(),
        "apt read the source"
    );
    let run = push(&fleet, "source", play, &[]);
    assert!(
        recap(&run).contains("changed=1"),
        "only apt-get update: {run:?}"
    );
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - deb822_repository:\n        name: Local Extra\n        state: absent\n";
    let run = push(&fleet, "gone", gone, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(fleet.exec(0, "test -e /etc/apt/sources.list.d/local-extra.sources || test -e /etc/apt/keyrings/local-extra.asc").is_err());
}

#[test]
fn a_sysctl_setting_is_kept_in_its_file_and_a_failed_reload_is_reported() {
    let Some(fleet) =
        one_host("a_sysctl_setting_is_kept_in_its_file_and_a_failed_reload_is_reported")
    else {
        return;
    };
    let play = |value: &str, reload: bool| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - sysctl:\n        name: net.ipv4.ip_forward\n        value: \"{value}\"\n        sysctl_file: /etc/sysctl.d/60-forward.conf\n        reload: {reload}\n"
        )
    };
    let run = push(&fleet, "file", &play("yes", false), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /etc/sysctl.d/60-forward.conf").unwrap(),
        "net.ipv4.ip_forward=1\n"
    );
    let run = push(&fleet, "file", &play("yes", false), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    // A container's /proc/sys is read-only: the reload fails, and says so.
    let run = push(&fleet, "reload", &play("no", true), &[]);
    assert_task_failed(&run, "setting net.ipv4.ip_forward failed");
}

#[test]
fn a_touch_that_preserves_times_changes_nothing_the_second_time() {
    let Some(fleet) = one_host("a_touch_that_preserves_times_changes_nothing_the_second_time")
    else {
        return;
    };
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - file:\n        path: /etc/app.flag\n        state: touch\n        access_time: preserve\n        modification_time: preserve\n    - file:\n        path: /etc/app.stamp\n        state: touch\n        modification_time: \"202001020304.05\"\n        access_time: preserve\n";
    let run = push(&fleet, "touch", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "date -r /etc/app.stamp '+%Y-%m-%d %H:%M:%S'")
            .unwrap(),
        "2020-01-02 03:04:05\n"
    );
    let run = push(&fleet, "touch", play, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
}

#[test]
fn find_selects_old_logs_for_a_cleanup() {
    let Some(fleet) = one_host("find_selects_old_logs_for_a_cleanup") else {
        return;
    };
    fleet
        .exec(
            0,
            "mkdir -p /var/log/app/sub && cd /var/log/app && echo error here > old.log && echo fine > new.log && echo x > keep.txt \
             && echo error > sub/deep.log && echo error > .hidden.log && touch -d '10 days ago' old.log sub/deep.log .hidden.log",
        )
        .unwrap();
    let play = r#"- hosts: all
  gather_facts: false
  tasks:
    - find:
        paths: /var/log/app
        patterns: "*.log"
        age: 1w
        recurse: true
      register: old
    - find:
        paths: /var/log/app
        contains: "^error"
      register: errors
    - file:
        path: "{{ item.path }}"
        state: absent
      loop: "{{ old.files }}"
    - assert:
        that:
          - old.matched == 2
          - errors.files | map(attribute='path') | list == ['/var/log/app/old.log']
"#;
    let run = push(&fleet, "find", play, &["--check"]);
    assert!(recap(&run).contains("failed=0"), "{run:?}");
    assert!(
        fleet.exec(0, "test -e /var/log/app/old.log").is_ok(),
        "--check removed a file"
    );
    let run = push(&fleet, "find", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let left = fleet
        .exec(0, "cd /var/log/app && find . -type f | sort")
        .unwrap();
    assert_eq!(left, "./.hidden.log\n./keep.txt\n./new.log\n");
}

/// A playbook written for several distributions, as real ones are: dnf, yum_repository, rpm_key,
/// zypper and pacman behind `when: ansible_os_family == ...` load and are skipped on Debian while
/// the apt branch runs; yum_repository (a file) runs for real in a folder of the host's; and dnf on a
/// host without it fails with the reason, not a shell's "not found".
#[test]
fn other_distributions_modules_load_skip_on_debian_and_say_why_they_cannot_run() {
    let Some(fleet) =
        one_host("other_distributions_modules_load_skip_on_debian_and_say_why_they_cannot_run")
    else {
        return;
    };
    let branches = "- hosts: all\n  tasks:\n    - name: docker repo key (RedHat)\n      rpm_key:\n        key: https://download.docker.com/linux/centos/gpg\n        state: present\n      when: ansible_os_family == 'RedHat'\n    - name: packages (RedHat)\n      ansible.builtin.yum:\n        name: [curl, git]\n        state: latest\n        update_cache: true\n      when: ansible_os_family == 'RedHat'\n    - name: packages (Suse)\n      community.general.zypper:\n        name: curl\n      when: ansible_os_family == 'Suse'\n    - name: packages (Arch)\n      community.general.pacman:\n        name: curl\n        update_cache: true\n      when: ansible_os_family == 'Archlinux'\n    - name: packages (Debian)\n      package:\n        name: curl\n      when: ansible_os_family == 'Debian'\n";
    let run = push(&fleet, "branches", branches, &["--syntax-check"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = push(&fleet, "branches", branches, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("skipped=4"), "{run:?}");

    // yum_repository writes its file as ansible-core does; again, nothing changes; --check and
    // --diff show the change without making it; absent removes the file it emptied.
    fleet.exec(0, "mkdir -p /srv/yum.repos.d").unwrap();
    let repo = |desc: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - yum_repository:\n        name: docker-ce-stable\n        description: {desc}\n        baseurl: https://download.docker.com/linux/centos/$releasever/$basearch/stable\n        gpgcheck: true\n        gpgkey: https://download.docker.com/linux/centos/gpg\n        reposdir: /srv/yum.repos.d\n        file: docker-ce\n"
        )
    };
    let run = push(&fleet, "repo", &repo("Docker CE Stable"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "cat /srv/yum.repos.d/docker-ce.repo")
            .unwrap(),
        "[docker-ce-stable]\nbaseurl = https://download.docker.com/linux/centos/$releasever/$basearch/stable\ngpgcheck = 1\ngpgkey = https://download.docker.com/linux/centos/gpg\nname = Docker CE Stable\n\n"
    );
    let run = push(&fleet, "repo", &repo("Docker CE Stable"), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let run = push(&fleet, "repo", &repo("Docker CE"), &["--check", "--diff"]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(run.stdout.contains("+name = Docker CE\n"), "{run:?}");
    assert!(
        fleet
            .exec(
                0,
                "grep -x 'name = Docker CE Stable' /srv/yum.repos.d/docker-ce.repo"
            )
            .is_ok()
    );
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - yum_repository:\n        name: docker-ce-stable\n        reposdir: /srv/yum.repos.d\n        file: docker-ce\n        state: absent\n";
    let run = push(&fleet, "gone", gone, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        fleet
            .exec(0, "test -e /srv/yum.repos.d/docker-ce.repo")
            .is_err()
    );

    // dnf where there is none: the task fails with the reason.
    let run = push(
        &fleet,
        "dnf",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - dnf:\n        name: curl\n",
        &[],
    );
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("this host has neither dnf nor yum"),
        "{run:?}"
    );
}

/// setup as a task: facts gathered mid-play (the play gathers none), filtered, set for later tasks
/// and registered; a subset drover cannot answer is refused, not answered with fewer facts.
#[test]
fn setup_as_a_task_gathers_filtered_facts() {
    let Some(fleet) = one_host("setup_as_a_task_gathers_filtered_facts") else {
        return;
    };
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - setup:\n        filter: [ansible_os_family, ansible_pkg_mgr, ansible_distribution*]\n      register: gathered\n    - copy:\n        content: \"{{ ansible_os_family }} {{ ansible_pkg_mgr }} {{ ansible_distribution_release }} {{ ansible_kernel | default('unset') }} {{ gathered.ansible_facts.os_family }}\"\n        dest: /root/facts\n";
    let run = push(&fleet, "setup", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /root/facts").unwrap(),
        "Debian apt bookworm unset Debian"
    );
    let run = push(
        &fleet,
        "subset",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - setup:\n        gather_subset: [python]\n",
        &[],
    );
    // Facts drover does not gather are refused, not answered with fewer facts than asked.
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("gather_subset `python`"), "{run:?}");
}

/// copy with a folder as `src`: `site` puts the folder itself under dest, `site/` what it holds;
/// folders it makes get `directory_mode`, files `mode`; again, nothing changes; a changed file
/// shows under --check --diff and changes nothing until run for real.
#[test]
fn copy_of_a_folder_puts_its_tree() {
    let Some(fleet) = one_host("copy_of_a_folder_puts_its_tree") else {
        return;
    };
    let site = fleet.dir().join("files/site");
    std::fs::create_dir_all(site.join("conf")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>hello</h1>\n").unwrap();
    std::fs::write(site.join("conf/app.conf"), "port = 8080\n").unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        src: site\n        dest: /srv/www\n        directory_mode: \"0750\"\n        mode: \"0640\"\n    - copy:\n        src: site/\n        dest: /srv/flat\n";
    let run = push(&fleet, "tree", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "cd /srv && find www flat -printf '%p %m\\n' | sort")
            .unwrap(),
        "flat 755\nflat/conf 755\nflat/conf/app.conf 644\nflat/index.html 644\nwww 755\nwww/site 750\nwww/site/conf 750\nwww/site/conf/app.conf 640\nwww/site/index.html 640\n"
    );
    let run = push(&fleet, "tree", play, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    std::fs::write(site.join("conf/app.conf"), "port = 9090\n").unwrap();
    let run = push(&fleet, "tree", play, &["--check", "--diff"]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert!(run.stdout.contains("+port = 9090"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /srv/www/site/conf/app.conf").unwrap(),
        "port = 8080\n"
    );
    let run = push(&fleet, "tree", play, &[]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /srv/flat/conf/app.conf").unwrap(),
        "port = 9090\n"
    );
}

/// git: a clone at a tag, left alone the second time, moved to a branch, local changes kept unless
/// forced, and a new upstream commit seen under --check without moving anything.
#[test]
fn git_checkouts_follow_their_version() {
    let Some(fleet) = one_host("git_checkouts_follow_their_version") else {
        return;
    };
    let commit = |msg: &str| {
        fleet
            .exec(0, &format!("cd /srv/src && echo {msg} > f && git add f && git -c user.name=t -c user.email=t@example.com commit -q -m {msg} && git rev-parse HEAD"))
            .unwrap()
            .trim()
            .to_string()
    };
    fleet.exec(0, "git init -q -b main /srv/src").unwrap();
    let one = commit("one");
    fleet.exec(0, "cd /srv/src && git tag v1").unwrap();
    let two = commit("two");
    let head = || {
        fleet
            .exec(0, "git -C /srv/app rev-parse HEAD")
            .unwrap()
            .trim()
            .to_string()
    };
    let play = |version: &str, force: bool| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - git:\n        repo: /srv/src\n        dest: /srv/app\n        version: {version}\n        force: {force}\n      register: checkout\n    - copy:\n        content: \"{{{{ checkout.before }}}} {{{{ checkout.after }}}}\"\n        dest: /root/checkout\n"
        )
    };
    let run = push(&fleet, "git", &play("v1", false), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(head(), one);
    assert_eq!(
        fleet.exec(0, "cat /root/checkout").unwrap(),
        format!(" {one}")
    );
    let run = push(&fleet, "git", &play("v1", false), &[]);
    assert!(
        recap(&run).contains("changed=1"),
        "only the copy changes: {run:?}"
    );
    assert_eq!(
        fleet.exec(0, "cat /root/checkout").unwrap(),
        format!("{one} {one}")
    );
    let run = push(&fleet, "git", &play("main", false), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(head(), two);
    // A local change is kept (and the task fails) unless force.
    fleet.exec(0, "echo mine > /srv/app/f").unwrap();
    let run = push(&fleet, "git", &play("main", false), &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("Local modifications exist in the destination: /srv/app (force=no)."),
        "{run:?}"
    );
    assert_eq!(fleet.exec(0, "cat /srv/app/f").unwrap(), "mine\n");
    let run = push(&fleet, "git", &play("main", true), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(fleet.exec(0, "cat /srv/app/f").unwrap(), "two\n");
    // Upstream moves: --check sees it and moves nothing; the real run moves.
    let three = commit("three");
    let run = push(&fleet, "git", &play("main", false), &["--check"]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(head(), two);
    let run = push(&fleet, "git", &play("main", false), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(head(), three);
}

/// mount: a tmpfs written to fstab and mounted, left alone the second time, remounted when its
/// options change, unmounted, and gone from fstab with absent (systemd's host: it may mount).
#[test]
fn mount_keeps_fstab_and_the_mount() {
    let Some(fleet) = common::debian_fleet(
        "mount_keeps_fstab_and_the_mount",
        &DebianOptions {
            boot: drover_fleet::Boot::Systemd,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    let play = |state: &str, size: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.posix.mount:\n        path: /mnt/cache\n        src: tmpfs\n        fstype: tmpfs\n        opts: size={size}\n        state: {state}\n"
        )
    };
    let options = || {
        fleet
            .exec(0, "findmnt -n -o OPTIONS /mnt/cache")
            .unwrap_or_default()
    };
    let run = push(&fleet, "mount", &play("mounted", "1m"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        fleet
            .exec(0, "grep -x 'tmpfs /mnt/cache tmpfs size=1m 0 0' /etc/fstab")
            .is_ok()
    );
    assert!(options().contains("size=1024k"), "{}", options());
    let run = push(&fleet, "mount", &play("mounted", "1m"), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let run = push(
        &fleet,
        "mount",
        &play("mounted", "2m"),
        &["--check", "--diff"],
    );
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        run.stdout.contains("+tmpfs /mnt/cache tmpfs size=2m 0 0"),
        "{run:?}"
    );
    assert!(options().contains("size=1024k"), "{}", options());
    let run = push(&fleet, "mount", &play("mounted", "2m"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(options().contains("size=2048k"), "{}", options());
    let run = push(&fleet, "mount", &play("unmounted", "2m"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(fleet.exec(0, "mountpoint -q /mnt/cache").is_err());
    assert!(fleet.exec(0, "grep -q /mnt/cache /etc/fstab").is_ok());
    let run = push(&fleet, "mount", &play("absent", "2m"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(fleet.exec(0, "grep -q /mnt/cache /etc/fstab").is_err());
}

/// archive: a folder packed as a tar.gz (members named from its parent), left alone until a source
/// is newer, a zip of two folders, and one file compressed as itself.
#[test]
fn archive_packs_only_when_a_source_is_newer() {
    let Some(fleet) = one_host("archive_packs_only_when_a_source_is_newer") else {
        return;
    };
    fleet
        .exec(0, "mkdir -p /srv/logs/cache /srv/conf /srv/backup && echo a > /srv/logs/a.log && echo c > /srv/logs/cache/c && echo x > /srv/conf/x && echo one > /srv/one.log && touch -d '2020-01-01' /srv/logs/a.log /srv/logs/cache/c /srv/conf/x /srv/one.log")
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.archive:\n        path: /srv/logs\n        dest: /srv/backup/logs.tgz\n        exclude_path: [/srv/logs/cache]\n    - archive:\n        path: [/srv/logs, /srv/conf]\n        dest: /srv/backup/all.zip\n        format: zip\n    - archive:\n        path: /srv/one.log\n";
    let run = push(&fleet, "archive", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=3"), "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "tar -tzf /srv/backup/logs.tgz | sort")
            .unwrap(),
        "logs/\nlogs/a.log\n"
    );
    assert_eq!(
        fleet
            .exec(0, "unzip -Z1 /srv/backup/all.zip | sort")
            .unwrap(),
        "conf/\nconf/x\nlogs/\nlogs/a.log\nlogs/cache/\nlogs/cache/c\n"
    );
    assert_eq!(fleet.exec(0, "gzip -dc /srv/one.log.gz").unwrap(), "one\n");
    let run = push(&fleet, "archive", play, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    fleet.exec(0, "echo b > /srv/logs/b.log").unwrap();
    let run = push(&fleet, "archive", play, &["--check"]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "tar -tzf /srv/backup/logs.tgz | sort")
            .unwrap(),
        "logs/\nlogs/a.log\n"
    );
    let run = push(&fleet, "archive", play, &[]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "tar -tzf /srv/backup/logs.tgz | sort")
            .unwrap(),
        "logs/\nlogs/a.log\nlogs/b.log\n"
    );
}

/// Parameters real roles use that drover refused before: file `recurse`, slurp's `path`, an
/// `until` written as a list, and systemd's `masked` (on a host with systemd).
#[test]
fn recurse_masked_slurp_path_and_until_lists() {
    let Some(fleet) = common::debian_fleet(
        "recurse_masked_slurp_path_and_until_lists",
        &DebianOptions {
            boot: drover_fleet::Boot::Systemd,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    fleet
        .exec(0, "mkdir -p /srv/r/a/b && echo x > /srv/r/a/f && echo y > /srv/r/a/b/g && chmod -R 755 /srv/r")
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - file:\n        path: /srv/r\n        state: directory\n        mode: \"0750\"\n        owner: ops\n        recurse: true\n    - systemd:\n        name: cron\n        masked: true\n    - slurp:\n        path: /srv/r/a/f\n      register: f\n    - command: \"true\"\n      register: t\n      until: [t.rc == 0, \"'x' in (f.content | b64decode)\"]\n      retries: 2\n      delay: 0\n";
    let run = push(&fleet, "params", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=3"), "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "find /srv/r -printf '%P %m %u\\n' | sort")
            .unwrap(),
        " 750 ops\na 750 ops\na/b 750 ops\na/b/g 750 ops\na/f 750 ops\n"
    );
    assert_eq!(
        fleet.exec(0, "systemctl is-enabled cron || true").unwrap(),
        "masked\n"
    );
    let run = push(&fleet, "params", play, &[]);
    assert!(
        recap(&run).contains("changed=1"),
        "only the command: {run:?}"
    );
    let unmask = "- hosts: all\n  gather_facts: false\n  tasks:\n    - systemd:\n        name: cron\n        masked: false\n";
    let run = push(&fleet, "unmask", unmask, &["--check"]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "systemctl is-enabled cron || true").unwrap(),
        "masked\n"
    );
    let run = push(&fleet, "unmask", unmask, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_ne!(
        fleet.exec(0, "systemctl is-enabled cron || true").unwrap(),
        "masked\n"
    );
}

/// copy with remote_src: `validate` checks the new file before it replaces the old (a bad one is
/// refused and the old stays), `backup` keeps the old one beside it.
#[test]
fn remote_copy_validates_and_backs_up() {
    let Some(fleet) = one_host("remote_copy_validates_and_backs_up") else {
        return;
    };
    fleet
        .exec(0, "mkdir -p /srv/conf && echo 'ok old' > /srv/conf/app.conf && echo 'bad' > /tmp/bad.conf && echo 'ok new' > /tmp/good.conf")
        .unwrap();
    let play = |src: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        src: {src}\n        remote_src: true\n        dest: /srv/conf/app.conf\n        validate: grep -q ok %s\n        backup: true\n      register: c\n    - copy:\n        content: \"{{{{ c.backup_file | default('none') }}}}\"\n        dest: /root/backup\n"
        )
    };
    let run = push(&fleet, "bad", &play("/tmp/bad.conf"), &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("validation of the new /srv/conf/app.conf failed"),
        "{run:?}"
    );
    assert_eq!(fleet.exec(0, "cat /srv/conf/app.conf").unwrap(), "ok old\n");
    assert_eq!(
        fleet.exec(0, "ls /srv/conf").unwrap(),
        "app.conf\n",
        "no backup, no temporary file left"
    );
    let run = push(&fleet, "good", &play("/tmp/good.conf"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(fleet.exec(0, "cat /srv/conf/app.conf").unwrap(), "ok new\n");
    let backup = fleet.exec(0, "cat /root/backup").unwrap();
    assert!(
        backup.starts_with("/srv/conf/app.conf.") && backup.ends_with('~'),
        "{backup}"
    );
    assert_eq!(
        fleet.exec(0, &format!("cat '{backup}'")).unwrap(),
        "ok old\n"
    );
    // Again: the file is the same, so nothing is copied and no backup is made (only the report of
    // it changes).
    let run = push(&fleet, "good", &play("/tmp/good.conf"), &[]);
    assert!(run.stdout.contains("ok       [copy]"), "{run:?}");
    assert_eq!(fleet.exec(0, "cat /root/backup").unwrap(), "none");
}

/// A symbolic mode as real roles write it (`u=rwX,g=rX,o=`): folders get x, files keep theirs, on
/// the path and with `recurse` under it; a second run changes nothing; --check changes nothing.
#[test]
fn symbolic_modes_as_chmod_reads_them() {
    let Some(fleet) = one_host("symbolic_modes_as_chmod_reads_them") else {
        return;
    };
    fleet
        .exec(0, "mkdir -p /srv/s/d && echo x > /srv/s/f && echo y > /srv/s/d/run.sh && chmod 777 /srv/s /srv/s/d && chmod 666 /srv/s/f && chmod 777 /srv/s/d/run.sh")
        .unwrap();
    let play = |mode: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - file:\n        path: /srv/s\n        state: directory\n        mode: \"{mode}\"\n        recurse: true\n"
        )
    };
    let modes = || {
        fleet
            .exec(0, "find /srv/s -printf '%P %m\\n' | sort")
            .unwrap()
    };
    let run = push(&fleet, "sym", &play("u=rwX,g=rX,o="), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(modes(), " 750\nd 750\nd/run.sh 750\nf 640\n");
    let run = push(&fleet, "sym", &play("u=rwX,g=rX,o="), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let run = push(&fleet, "sym", &play("u=rwX,g=rX,o=rX"), &["--check"]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(modes(), " 750\nd 750\nd/run.sh 750\nf 640\n");
}

/// copy and template with `force: false`: a file already there stays as it is; a missing one is
/// made.
#[test]
fn force_false_leaves_a_file_that_is_there() {
    let Some(fleet) = one_host("force_false_leaves_a_file_that_is_there") else {
        return;
    };
    fleet
        .exec(0, "mkdir -p /srv/f && echo mine > /srv/f/kept")
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        content: \"new\\n\"\n        dest: \"{{ item }}\"\n        force: false\n      loop: [/srv/f/kept, /srv/f/made]\n";
    let run = push(&fleet, "force", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /srv/f/kept /srv/f/made").unwrap(),
        "mine\nnew\n"
    );
    let run = push(&fleet, "force", play, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
}

/// Gathered facts hold what the host itself says: the distribution's major version, memory, CPUs,
/// the default route's interface, address and gateway, the machine id, the user, the date; a
/// fact drover has no source for is absent rather than made up.
#[test]
fn gathered_facts_match_the_host() {
    let Some(fleet) = one_host("gathered_facts_match_the_host") else {
        return;
    };
    let play = "- hosts: all\n  tasks:\n    - copy:\n        content: \"{{ ansible_distribution_major_version }}|{{ ansible_memtotal_mb }}|{{ ansible_processor_vcpus }}|{{ ansible_default_ipv4.interface }}|{{ ansible_default_ipv4.address }}/{{ ansible_default_ipv4.prefix }}|{{ ansible_default_ipv4.gateway }}|{{ ansible_machine_id }}|{{ ansible_user_id }}|{{ ansible_date_time.date }}|{{ ansible_default_ipv4.address in ansible_all_ipv4_addresses }}|{{ ansible_default_ipv4.macaddress }}\"\n        dest: /root/facts\n";
    let run = push(&fleet, "facts", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let expected = fleet
        .exec(
            0,
            r#"dev=$(ip route show default | awk '{print $5}'); printf '%s|%s|%s|%s|%s|%s|%s|%s|%s|True|%s' "$(. /etc/os-release; echo ${VERSION_ID%%.*})" "$(( $(awk '/^MemTotal/{print $2}' /proc/meminfo) / 1024 ))" "$(nproc --all)" "$dev" "$(ip -4 -o addr show dev $dev | awk '{print $4; exit}')" "$(ip route show default | awk '{print $3}')" "$(cat /etc/machine-id)" "$(id -un)" "$(date +%F)" "$(cat /sys/class/net/$dev/address)""#,
        )
        .unwrap();
    assert_eq!(fleet.exec(0, "cat /root/facts").unwrap(), expected);
}

/// ufw on a host that has it (the fleet's Python flavour: ufw is a Python program): SSH allowed,
/// then the firewall on with incoming denied (drover's next tasks still get through), a rule
/// inserted first, logging set; a second run changes nothing; --check tells a new rule and a
/// change of policy without making them; a rule deleted. The host's own `ufw status` is the proof.
#[test]
fn ufw_allows_ssh_enables_the_firewall_and_changes_only_what_differs() {
    let Some(fleet) = common::debian_fleet(
        "ufw_allows_ssh_enables_the_firewall_and_changes_only_what_differs",
        &DebianOptions {
            flavour: drover_fleet::Flavour::Python,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.ufw:\n        rule: allow\n        port: \"22\"\n        proto: tcp\n        comment: ssh for drover\n    - ufw:\n        state: enabled\n        policy: deny\n    - ufw:\n        rule: deny\n        from_ip: 10.99.0.0/16\n        insert: 0\n        insert_relative_to: first-ipv4\n    - ufw:\n        logging: medium\n    - command: \"true\"\n";
    let run = push(&fleet, "firewall", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=5"), "{run:?}");
    let status = fleet.exec(0, "ufw status verbose").unwrap();
    assert!(status.contains("Status: active"), "{status}");
    assert!(status.contains("Logging: on (medium)"), "{status}");
    assert!(status.contains("Default: deny (incoming)"), "{status}");
    assert!(
        status.contains(
            "22/tcp                     ALLOW IN    Anywhere                   # ssh for drover"
        ),
        "{status}"
    );
    let numbered = fleet.exec(0, "ufw status numbered").unwrap();
    assert!(
        numbered.contains("[ 1] Anywhere                   DENY IN     10.99.0.0/16"),
        "{numbered}"
    );
    // Applied again: nothing changes (the command task always does).
    let again = push(&fleet, "firewall", play, &[]);
    assert!(recap(&again).contains("changed=1"), "{again:?}");
    // --check: a new rule and a new policy are told, not made.
    let next = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ufw:\n        rule: allow\n        port: \"443\"\n        proto: tcp\n    - ufw:\n        default: allow\n        direction: outgoing\n    - ufw:\n        default: deny\n        direction: incoming\n";
    let before = fleet.exec(0, "ufw status verbose").unwrap();
    let checked = push(&fleet, "next", next, &["--check"]);
    assert_eq!(checked.code, 0, "{checked:?}");
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert_eq!(fleet.exec(0, "ufw status verbose").unwrap(), before);
    // Delete: the rule goes, once.
    let delete = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ufw:\n        rule: deny\n        from_ip: 10.99.0.0/16\n        delete: true\n";
    let run = push(&fleet, "delete", delete, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        !fleet
            .exec(0, "ufw status")
            .unwrap()
            .contains("10.99.0.0/16")
    );
    let run = push(&fleet, "delete", delete, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let checked = push(&fleet, "delete", delete, &["--check"]);
    assert!(recap(&checked).contains("changed=0"), "{checked:?}");
}

/// firewalld on a host with systemd that has it (the Python flavour; not started at boot). While the
/// daemon is stopped, a task without `offline` is refused and one with it changes the permanent
/// configuration through firewall-offline-cmd. With the daemon running: a port in both
/// configurations, a zone made, its target set, a rich rule in the running configuration only,
/// masquerading on; a second run changes nothing; --check tells a removal without making it; the
/// port removed from both. firewall-cmd itself is the proof, and SSH stays open throughout.
#[test]
fn firewalld_changes_each_configuration_only_where_it_differs() {
    let Some(fleet) = common::debian_fleet(
        "firewalld_changes_each_configuration_only_where_it_differs",
        &DebianOptions {
            flavour: drover_fleet::Flavour::Python,
            boot: drover_fleet::Boot::Systemd,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    let offline = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.posix.firewalld:\n        service: https\n        permanent: true\n        offline: true\n        state: enabled\n";
    let run = push(&fleet, "offline", offline, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "firewall-offline-cmd --query-service=https")
            .unwrap()
            .trim(),
        "yes"
    );
    let online_only = "- hosts: all\n  gather_facts: false\n  tasks:\n    - firewalld:\n        service: http\n        state: enabled\n";
    assert_task_failed(
        &push(&fleet, "down", online_only, &[]),
        "firewalld is not running: start it, or give `offline: true`",
    );

    fleet.exec(0, "systemctl start firewalld").unwrap();
    let rule = "rule family=\"ipv4\" source address=\"10.9.0.0/16\" accept";
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - firewalld:\n        port: 8081/tcp\n        permanent: true\n        immediate: true\n        state: enabled\n    - firewalld:\n        zone: custom\n        permanent: true\n        state: present\n    - firewalld:\n        zone: custom\n        target: DROP\n        permanent: true\n        state: present\n    - firewalld:\n        rich_rule: '{rule}'\n        zone: public\n        state: enabled\n    - firewalld:\n        masquerade: \"yes\"\n        zone: public\n        permanent: true\n        state: enabled\n"
    );
    let run = push(&fleet, "online", &play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=5"), "{run:?}");
    let ask = |q: &str| {
        fleet
            .exec(0, &format!("firewall-cmd {q}"))
            .map(|o| o.trim().to_string())
    };
    assert_eq!(ask("--query-port=8081/tcp").unwrap(), "yes");
    assert_eq!(ask("--permanent --query-port=8081/tcp").unwrap(), "yes");
    assert!(
        ask("--permanent --get-zones")
            .unwrap()
            .split(' ')
            .any(|z| z == "custom")
    );
    assert_eq!(
        ask("--permanent --zone=custom --get-target").unwrap(),
        "DROP"
    );
    assert_eq!(ask(&format!("--query-rich-rule='{rule}'")).unwrap(), "yes");
    assert!(
        ask(&format!("--permanent --query-rich-rule='{rule}'")).is_err(),
        "the rich rule was for the running configuration only"
    );
    assert_eq!(ask("--permanent --query-masquerade").unwrap(), "yes");
    let again = push(&fleet, "online", &play, &[]);
    assert!(recap(&again).contains("changed=0"), "{again:?}");

    let remove = "- hosts: all\n  gather_facts: false\n  tasks:\n    - firewalld:\n        port: 8081/tcp\n        permanent: true\n        immediate: true\n        state: disabled\n";
    let checked = push(&fleet, "remove", remove, &["--check"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert_eq!(ask("--query-port=8081/tcp").unwrap(), "yes");
    let run = push(&fleet, "remove", remove, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(ask("--query-port=8081/tcp").is_err());
    assert!(ask("--permanent --query-port=8081/tcp").is_err());
    let run = push(&fleet, "remove", remove, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
}

/// nmcli with the host's own NetworkManager (eth0, the host's SSH, left unmanaged; a veth pair
/// stands in for the host's NICs, since this kernel offers no dummy, bond or VLAN devices to a
/// container: those profiles are made but not activated). A bridge with a port and a static ethernet
/// profile made and brought up, a VLAN and a dummy profile made; a second run changes nothing (every
/// setting read back as NetworkManager normalises it); --check --diff tells a change of address
/// without making it; then made; `down` and `absent`, each once. nmcli and `ip` are the proof.
#[test]
fn nmcli_keeps_profiles_as_described_and_brings_them_up() {
    let Some(fleet) = common::debian_fleet(
        "nmcli_keeps_profiles_as_described_and_brings_them_up",
        &DebianOptions {
            flavour: drover_fleet::Flavour::Python,
            boot: drover_fleet::Boot::Systemd,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    fleet
        .exec(
            0,
            "printf '[main]\\nno-auto-default=*\\n[keyfile]\\nunmanaged-devices=interface-name:eth0\\n' > /etc/NetworkManager/conf.d/drover-test.conf; \
             systemctl start NetworkManager && ip link add v0 type veth peer name v1",
        )
        .unwrap();
    let play = |lan_ip: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.nmcli:\n        conn_name: br0\n        type: bridge\n        ifname: br0\n        ip4: 10.20.0.1/24\n        stp: false\n        state: present\n    - nmcli:\n        conn_name: br0-port\n        type: bridge-slave\n        ifname: v0\n        master: br0\n        state: up\n    - nmcli:\n        conn_name: lan\n        type: ethernet\n        ifname: v1\n        ip4: ['{lan_ip}', 10.21.1.1/24]\n        gw4: 10.21.0.254\n        dns4: [9.9.9.9, 1.1.1.1]\n        dns4_search: [example.test]\n        ip6: fd00:21::1/64\n        mac: 52:54:00:ab:cd:ef\n        mtu: 1400\n        route_metric4: 50\n        state: up\n    - nmcli:\n        conn_name: vlan20\n        type: vlan\n        ifname: br0.20\n        vlanid: 20\n        vlandev: br0\n        autoconnect: false\n        state: present\n    - nmcli:\n        conn_name: dummy0\n        type: dummy\n        autoconnect: false\n        state: present\n"
        )
    };
    let first = play("10.21.0.1/24");
    let run = push(&fleet, "nm", &first, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=5"), "{run:?}");
    let nm = |q: &str| fleet.exec(0, q).unwrap().trim().to_string();
    assert_eq!(
        nm("nmcli -g GENERAL.STATE connection show lan"),
        "activated"
    );
    assert_eq!(
        nm("nmcli -g GENERAL.STATE connection show br0-port"),
        "activated"
    );
    assert!(
        nm("ip -br addr show v1").contains("10.21.0.1/24"),
        "{}",
        nm("ip addr")
    );
    assert!(nm("ip -br addr show br0").contains("10.20.0.1/24"));
    assert_eq!(
        nm("nmcli -g connection.master connection show br0-port"),
        "br0"
    );
    assert_eq!(
        nm("nmcli -g ipv4.dns,802-3-ethernet.mtu connection show lan"),
        "9.9.9.9,1.1.1.1\n1400"
    );
    assert_eq!(
        nm("nmcli -g vlan.id,vlan.parent connection show vlan20"),
        "20\nbr0"
    );
    assert_eq!(
        nm("nmcli -g ipv4.method connection show dummy0"),
        "disabled"
    );
    let again = push(&fleet, "nm", &first, &[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(recap(&again).contains("changed=0"), "{again:?}");

    let moved = play("10.21.0.2/24");
    let checked = push(&fleet, "nm", &moved, &["--check", "--diff"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert!(
        checked
            .stdout
            .contains("-ipv4.addresses: 10.21.0.1/24, 10.21.1.1/24")
            && checked
                .stdout
                .contains("+ipv4.addresses: 10.21.0.2/24,10.21.1.1/24"),
        "{checked:?}"
    );
    assert!(nm("ip -br addr show v1").contains("10.21.0.1/24"));
    let run = push(&fleet, "nm", &moved, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        nm("nmcli -g ipv4.addresses connection show lan"),
        "10.21.0.2/24, 10.21.1.1/24"
    );

    let down = "- hosts: all\n  gather_facts: false\n  tasks:\n    - nmcli:\n        conn_name: lan\n        state: down\n";
    let run = push(&fleet, "down", down, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(nm("nmcli -g GENERAL.STATE connection show lan"), "");
    let run = push(&fleet, "down", down, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - nmcli:\n        conn_name: '{{ item }}'\n        state: absent\n      loop: [lan, br0-port, br0, vlan20, dummy0]\n";
    let run = push(&fleet, "gone", gone, &[]);
    assert_eq!(run.stdout.matches("changed  [nmcli]").count(), 5, "{run:?}");
    assert_eq!(nm("nmcli -g NAME connection show"), "");
    let run = push(&fleet, "gone", gone, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    assert_task_failed(
        &push(&fleet, "down", down, &[]),
        "no connection named lan exists",
    );
}

/// systemd's other scopes: a user's own manager (`scope: user`, the task become the user, as
/// Ansible runs it; the user lingers, so their manager runs without a login) starts and enables a
/// unit of theirs; every user's defaults (`scope: global`) enable a unit for all. Applied again,
/// nothing changes; the user's own systemctl and the global one are the proof.
#[test]
fn systemd_user_and_global_scopes() {
    let Some(fleet) = common::debian_fleet(
        "systemd_user_and_global_scopes",
        &DebianOptions {
            boot: drover_fleet::Boot::Systemd,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    fleet
        .exec(
            0,
            "set -e; loginctl enable-linger ops; \
             for i in $(seq 100); do [ -S /run/user/$(id -u ops)/systemd/private ] && break; sleep 0.2; done; \
             d=/home/ops/.config/systemd/user; mkdir -p $d; \
             printf '[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/true\\n[Install]\\nWantedBy=default.target\\n' > $d/hello.service; \
             chown -R ops: /home/ops/.config; \
             mkdir -p /etc/systemd/user; \
             printf '[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=default.target\\n' > /etc/systemd/user/agent.service",
        )
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - systemd:\n        name: hello.service\n        scope: user\n        state: started\n        enabled: true\n      become: true\n      become_user: ops\n    - ansible.builtin.systemd_service:\n        name: agent.service\n        scope: global\n        enabled: true\n";
    let run = push(&fleet, "scopes", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    let user = |q: &str| {
        fleet
            .exec(
                0,
                &format!("runuser -u ops -- env XDG_RUNTIME_DIR=/run/user/$(id -u ops) systemctl --user {q} hello.service"),
            )
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(user("is-active"), "active");
    assert_eq!(user("is-enabled"), "enabled");
    assert_eq!(
        fleet
            .exec(0, "systemctl --global is-enabled agent.service")
            .unwrap()
            .trim(),
        "enabled"
    );
    let again = push(&fleet, "scopes", play, &[]);
    assert!(recap(&again).contains("changed=0"), "{again:?}");
}

/// `script`: a script of the controller's runs on the host with its arguments (quoted as written,
/// through the host's shell), in `chdir`, with `executable`; its output and rc are registered; a
/// failing script fails the task with its output; `creates` skips; nothing is left in the host's
/// temporary folder.
#[test]
fn script_runs_the_controllers_script_on_the_host_and_leaves_nothing() {
    let Some(fleet) = one_host("script_runs_the_controllers_script_on_the_host_and_leaves_nothing")
    else {
        return;
    };
    let files = fleet.dir().join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(
        files.join("report.sh"),
        "#!/bin/sh\necho \"args=$#:$1|$2 in $(pwd) as $(id -un)\"\necho warn >&2\n[ -n \"$BASH_VERSION\" ] && echo bash\nexit 0\n",
    )
    .unwrap();
    std::fs::write(files.join("fail.sh"), "#!/bin/sh\necho broken; exit 3\n").unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - script: report.sh 'two words' $HOME\n      args:\n        chdir: /etc\n        executable: /bin/bash\n      register: out\n    - copy:\n        content: \"{{ out.stdout }}|{{ out.stderr }}|{{ out.rc }}\"\n        dest: /root/out\n    - ansible.builtin.script:\n        cmd: fail.sh\n        creates: /etc/hostname\n";
    let before = fleet.exec(0, "ls -A /tmp | wc -l").unwrap();
    let run = push(&fleet, "script", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /root/out").unwrap(),
        "args=2:two words|/root in /etc as root\nbash|warn|0"
    );
    assert!(
        run.stdout
            .contains("skipped  [script]: /etc/hostname exists"),
        "{run:?}"
    );
    assert_eq!(fleet.exec(0, "ls -A /tmp | wc -l").unwrap(), before);
    let fail = "- hosts: all\n  gather_facts: false\n  tasks:\n    - script: fail.sh\n";
    let run = push(&fleet, "fail", fail, &[]);
    assert_task_failed(&run, "broken");
    assert!(run.stdout.contains("non-zero return code 3"), "{run:?}");
    // In check mode a script does not run.
    let run = push(&fleet, "fail", fail, &["--check"]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// known_hosts: a host's key added once (ssh's own `ssh-keygen -F` finds it, hashed or not), a
/// changed key of the same type replaced, --check and --diff, the host removed; the file's folder
/// made 0700.
#[test]
fn known_hosts_keeps_one_key_per_host_and_type_where_ssh_finds_it() {
    let Some(fleet) = one_host("known_hosts_keeps_one_key_per_host_and_type_where_ssh_finds_it")
    else {
        return;
    };
    // Two real keys, made on the host.
    let key = |n: &str| {
        fleet
            .exec(
                0,
                &format!(
                    "ssh-keygen -q -t ed25519 -N '' -f /tmp/{n} && cut -d' ' -f1,2 /tmp/{n}.pub"
                ),
            )
            .unwrap()
            .trim()
            .to_string()
    };
    let (old, new) = (key("k1"), key("k2"));
    let play = |k: &str, extra: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - known_hosts:\n        name: git.example\n        key: git.example {k}\n        path: /srv/ssh/known_hosts\n    - ansible.builtin.known_hosts:\n        name: \"[git.example]:2222\"\n        key: \"[git.example]:2222 {k}\"\n        hash_host: true\n{extra}"
        )
    };
    let run = push(&fleet, "kh", &play(&old, ""), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(fleet.exec(0, "stat -c %a /srv/ssh").unwrap(), "700\n");
    let found = |name: &str, file: &str| {
        fleet
            .exec(
                0,
                &format!("ssh-keygen -F '{name}' -f {file} | grep -v '^#'"),
            )
            .unwrap_or_default()
    };
    assert!(found("git.example", "/srv/ssh/known_hosts").contains(&old));
    let hashed = found("[git.example]:2222", "/root/.ssh/known_hosts");
    assert!(
        hashed.starts_with("|1|") && hashed.contains(&old),
        "{hashed}"
    );
    let run = push(&fleet, "kh", &play(&old, ""), &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    // The host's key changed: --check and --diff tell, then it is replaced.
    let checked = push(&fleet, "kh", &play(&new, ""), &["--check", "--diff"]);
    assert!(recap(&checked).contains("changed=2"), "{checked:?}");
    assert!(
        checked.stdout.contains(&format!("+git.example {new}")),
        "{checked:?}"
    );
    assert!(found("git.example", "/srv/ssh/known_hosts").contains(&old));
    let run = push(&fleet, "kh", &play(&new, ""), &[]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    let now = found("git.example", "/srv/ssh/known_hosts");
    assert!(now.contains(&new) && !now.contains(&old), "{now}");
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - known_hosts:\n        name: git.example\n        path: /srv/ssh/known_hosts\n        state: absent\n";
    let run = push(&fleet, "gone", gone, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(found("git.example", "/srv/ssh/known_hosts"), "");
    // A key that does not begin with the host's name is refused.
    let run = push(
        &fleet,
        "bad",
        &play(&format!("other {new}"), "").replace("key: git.example ", "key: "),
        &[],
    );
    assert_eq!(run.code, 2, "{run:?}");
}

/// modprobe on a real kernel: `overlay` is there (loaded or built in, as /sys/module shows), so
/// nothing is loaded; kept across boots in modules-load.d with its options in modprobe.d, once;
/// --check leaves the files; persistent absent takes them out; a module the kernel does not
/// have fails with modprobe's own error.
#[test]
fn modprobe_keeps_a_module_across_boots_and_loads_only_what_is_missing() {
    let Some(fleet) =
        one_host("modprobe_keeps_a_module_across_boots_and_loads_only_what_is_missing")
    else {
        return;
    };
    let keep = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.modprobe:\n        name: overlay\n        params: redirect_dir=on\n        persistent: present\n";
    let run = push(&fleet, "keep", keep, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "cat /etc/modules-load.d/overlay.conf")
            .unwrap(),
        "overlay\n"
    );
    assert_eq!(
        fleet.exec(0, "cat /etc/modprobe.d/overlay.conf").unwrap(),
        "options overlay redirect_dir=on\n"
    );
    let run = push(&fleet, "keep", keep, &[]);
    assert!(recap(&run).contains("changed=0"), "{run:?}");
    let drop = keep.replace("persistent: present", "persistent: absent");
    let checked = push(&fleet, "drop", &drop, &["--check"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert_eq!(
        fleet
            .exec(0, "cat /etc/modules-load.d/overlay.conf")
            .unwrap(),
        "overlay\n"
    );
    let run = push(&fleet, "drop", &drop, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet
            .exec(
                0,
                "cat /etc/modules-load.d/overlay.conf /etc/modprobe.d/overlay.conf"
            )
            .unwrap(),
        ""
    );
    let missing = "- hosts: all\n  gather_facts: false\n  tasks:\n    - modprobe:\n        name: drover_no_such_module\n";
    let run = push(&fleet, "missing", missing, &[]);
    assert_task_failed(&run, "drover_no_such_module");
}

/// debconf: an answer set once (debconf-show reads it back), --check and --diff, a boolean given as
/// `yes`; a password set and never printed or journaled.
#[test]
fn debconf_sets_an_answer_once_and_never_shows_a_password() {
    let Some(fleet) = one_host("debconf_sets_an_answer_once_and_never_shows_a_password") else {
        return;
    };
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debconf:\n        name: tzdata\n        question: tzdata/Areas\n        vtype: select\n        value: Europe\n    - ansible.builtin.debconf:\n        name: drover-fixture\n        question: drover-fixture/enabled\n        vtype: boolean\n        value: \"yes\"\n";
    let checked = push(&fleet, "answers", play, &["--check", "--diff"]);
    assert!(recap(&checked).contains("changed=2"), "{checked:?}");
    assert!(
        checked.stdout.contains("+tzdata/Areas: Europe"),
        "{checked:?}"
    );
    let run = push(&fleet, "answers", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert!(
        fleet
            .exec(0, "debconf-show tzdata")
            .unwrap()
            .contains("tzdata/Areas: Europe"),
    );
    let again = push(&fleet, "answers", play, &[]);
    assert!(recap(&again).contains("changed=0"), "{again:?}");
    let secret = "s3cret-debconf-pw";
    let pw = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debconf:\n        name: drover-fixture\n        question: drover-fixture/password\n        vtype: password\n        value: {secret}\n"
    );
    let run = push(&fleet, "pw", &pw, &["--diff", "-vvv"]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{run:?}"
    );
    common::assert_not_journaled(&fleet.dir().join("runs"), secret);
    assert!(
        fleet
            .exec(
                0,
                "grep -A3 'Name: drover-fixture/password' /var/cache/debconf/passwords.dat"
            )
            .unwrap()
            .contains(secret)
    );
}

/// alternatives on a real dpkg: a new group installed and selected, a second alternative installed
/// without taking over, selected by hand, the group back to automatic, one removed; each applied
/// again changes nothing, and --check changes nothing.
#[test]
fn alternatives_are_installed_selected_and_removed_as_update_alternatives_shows_them() {
    let Some(fleet) = one_host(
        "alternatives_are_installed_selected_and_removed_as_update_alternatives_shows_them",
    ) else {
        return;
    };
    let task = |body: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.alternatives:\n{body}"
        )
    };
    let value = || {
        fleet
            .exec(0, "update-alternatives --query drover-tool | grep -E '^(Status|Value):' | tr '\\n' ' '")
            .unwrap()
    };
    let first = task(
        "        name: drover-tool\n        link: /usr/local/bin/drover-tool\n        path: /bin/true\n        priority: 10\n",
    );
    let checked = push(&fleet, "first", &first, &["--check"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert_eq!(value(), "");
    let run = push(&fleet, "first", &first, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(value(), "Status: manual Value: /bin/true ");
    assert!(recap(&push(&fleet, "first", &first, &[])).contains("changed=0"));
    // A second, higher alternative installed only: the manual choice stays.
    let second = task(
        "        name: drover-tool\n        path: /bin/false\n        priority: 20\n        state: present\n",
    );
    assert!(recap(&push(&fleet, "second", &second, &[])).contains("changed=1"));
    assert_eq!(value(), "Status: manual Value: /bin/true ");
    assert!(recap(&push(&fleet, "second", &second, &[])).contains("changed=0"));
    // Automatic: the highest priority wins.
    let auto = task("        name: drover-tool\n        state: auto\n");
    assert!(recap(&push(&fleet, "auto", &auto, &[])).contains("changed=1"));
    assert_eq!(value(), "Status: auto Value: /bin/false ");
    assert!(recap(&push(&fleet, "auto", &auto, &[])).contains("changed=0"));
    let gone = task("        name: drover-tool\n        path: /bin/false\n        state: absent\n");
    assert!(recap(&push(&fleet, "gone", &gone, &[])).contains("changed=1"));
    assert_eq!(value(), "Status: auto Value: /bin/true ");
    assert!(recap(&push(&fleet, "gone", &gone, &[])).contains("changed=0"));
    // A group that does not exist, without a link: the task fails saying what is missing.
    let nolink = task("        name: drover-none\n        path: /bin/true\n");
    let run = push(&fleet, "nolink", &nolink, &[]);
    assert_task_failed(&run, "`link` is needed");
}

/// pam_limits on Debian's own limits.conf: a limit added at the end, raised in place, kept by
/// use_max, shown by --diff and left alone by --check; applied again, nothing changes.
#[test]
fn pam_limits_sets_one_limit_in_debians_limits_conf() {
    let Some(fleet) = one_host("pam_limits_sets_one_limit_in_debians_limits_conf") else {
        return;
    };
    let play = |value: &str, extra: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.pam_limits:\n        domain: docker\n        limit_type: '-'\n        limit_item: nofile\n        value: '{value}'\n{extra}"
        )
    };
    let limits = || {
        fleet
            .exec(0, "grep -v '^#' /etc/security/limits.conf | grep . || true")
            .unwrap()
    };
    let original = fleet.exec(0, "cat /etc/security/limits.conf").unwrap();
    let checked = push(&fleet, "limits", &play("65536", ""), &["--check", "--diff"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert!(
        checked.stdout.contains("+docker\t-\tnofile\t65536"),
        "{checked:?}"
    );
    assert_eq!(
        fleet.exec(0, "cat /etc/security/limits.conf").unwrap(),
        original
    );
    let run = push(&fleet, "limits", &play("65536", ""), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(limits(), "docker\t-\tnofile\t65536\n");
    assert!(
        fleet
            .exec(0, "cat /etc/security/limits.conf")
            .unwrap()
            .starts_with(&original)
    );
    assert!(recap(&push(&fleet, "limits", &play("65536", ""), &[])).contains("changed=0"));
    // A lower value under use_max keeps the file's; without it, the value is replaced in place.
    let lower = play("1024", "        use_max: true\n");
    assert!(recap(&push(&fleet, "lower", &lower, &[])).contains("changed=0"));
    let run = push(
        &fleet,
        "raise",
        &play("1048576", "        backup: true\n"),
        &[],
    );
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(limits(), "docker\t-\tnofile\t1048576\n");
    assert_eq!(
        fleet
            .exec(0, "ls /etc/security/limits.conf.*~ | wc -l")
            .unwrap()
            .trim(),
        "1"
    );
}

/// assemble on a host: its fragments joined in name order (held against ansible-core's assemble on
/// the same fragments: a newline after one that lacks it, hidden ones in), again changed=0, a new
/// fragment changes it (--check first leaves it); the controller's fragments with remote_src: false.
#[test]
fn assemble_joins_fragments_from_the_host_or_the_controller() {
    let Some(fleet) = one_host("assemble_joins_fragments_from_the_host_or_the_controller") else {
        return;
    };
    fleet
        .exec(0, "mkdir -p /etc/app.d && printf b > /etc/app.d/20-b && printf 'a\\n' > /etc/app.d/10-a && printf 'h\\n' > /etc/app.d/.hidden")
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - assemble:\n        src: /etc/app.d\n        dest: /etc/app.conf\n        mode: '0640'\n";
    let run = push(&fleet, "assemble", play, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(fleet.exec(0, "cat /etc/app.conf").unwrap(), "h\na\nb");
    assert_eq!(
        fleet.exec(0, "stat -c %a /etc/app.conf").unwrap().trim(),
        "640"
    );
    assert!(recap(&push(&fleet, "assemble", play, &[])).contains("changed=0"));
    fleet.exec(0, "printf 'c\\n' > /etc/app.d/30-c").unwrap();
    let checked = push(&fleet, "assemble", play, &["--check", "--diff"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert!(checked.stdout.contains("+c"), "{checked:?}");
    assert_eq!(fleet.exec(0, "cat /etc/app.conf").unwrap(), "h\na\nb");
    assert!(recap(&push(&fleet, "assemble", play, &[])).contains("changed=1"));
    assert_eq!(fleet.exec(0, "cat /etc/app.conf").unwrap(), "h\na\nb\nc\n");
    // From the controller: a folder beside the playbook, with a delimiter.
    let local = fleet.dir().join("parts");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("1"), "one\n").unwrap();
    std::fs::write(local.join("2"), "two\n").unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - assemble:\n        src: parts\n        remote_src: false\n        dest: /etc/parts.conf\n        delimiter: '# --'\n";
    let run = push(&fleet, "local", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /etc/parts.conf").unwrap(),
        "one\n# --\ntwo\n"
    );
}

/// locale_gen with Debian's locales: a locale generated once (locale -a shows it), --check leaves
/// it, absent removes it, and one Debian does not know fails saying so.
#[test]
fn locale_gen_generates_a_locale_once_and_removes_it() {
    let Some(fleet) = one_host("locale_gen_generates_a_locale_once_and_removes_it") else {
        return;
    };
    let play = |name: &str, state: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.locale_gen:\n        name: {name}\n        state: {state}\n"
        )
    };
    let has = || {
        fleet
            .exec(0, "locale -a")
            .unwrap()
            .lines()
            .any(|l| l == "nl_NL.utf8")
    };
    let checked = push(&fleet, "nl", &play("nl_NL.UTF-8", "present"), &["--check"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert!(!has());
    let run = push(&fleet, "nl", &play("nl_NL.UTF-8", "present"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(has());
    assert!(recap(&push(&fleet, "nl", &play("nl_NL.UTF-8", "present"), &[])).contains("changed=0"));
    let run = push(&fleet, "nl", &play("nl_NL.UTF-8", "absent"), &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(!has());
    assert!(recap(&push(&fleet, "nl", &play("nl_NL.UTF-8", "absent"), &[])).contains("changed=0"));
    let run = push(&fleet, "bogus", &play("xx_XX.UTF-8", "present"), &[]);
    assert_task_failed(&run, "not available on your system");
}

/// ansible.posix.acl with Debian's acl tools: an entry set once (getfacl shows it, the registered
/// `acl` lists it), --check leaves the file alone, a default entry on a folder, removal, and a
/// query that changes nothing.
#[test]
fn acl_sets_an_entry_once_and_removes_it() {
    let Some(fleet) = one_host("acl_sets_an_entry_once_and_removes_it") else {
        return;
    };
    fleet
        .exec(0, "mkdir -p /srv/share && touch /srv/share/f")
        .unwrap();
    let play = |body: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.posix.acl:\n{body}      register: a\n    - copy:\n        content: \"{{{{ a.acl | join(',') }}}}\"\n        dest: /root/acl\n"
        )
    };
    let set = play(
        "        path: /srv/share/f\n        entity: nobody\n        etype: user\n        permissions: rw\n        state: present\n",
    );
    let entries = || {
        fleet
            .exec(0, "getfacl --omit-header --absolute-names /srv/share/f")
            .unwrap()
    };
    let checked = push(&fleet, "set", &set, &["--check"]);
    assert!(checked.stdout.contains("changed  [acl]"), "{checked:?}");
    assert!(!entries().contains("user:nobody:"), "{}", entries());
    let run = push(&fleet, "set", &set, &[]);
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert!(entries().contains("user:nobody:rw-\n"), "{}", entries());
    assert!(
        fleet
            .exec(0, "cat /root/acl")
            .unwrap()
            .contains("user:nobody:rw-,group::r--"),
        "{}",
        fleet.exec(0, "cat /root/acl").unwrap()
    );
    assert!(recap(&push(&fleet, "set", &set, &[])).contains("changed=0"));
    // The older `entry` shorthand, for a folder's default ACL.
    let default = play(
        "        path: /srv/share\n        entry: default:group:daemon:rX\n        state: present\n",
    );
    assert!(recap(&push(&fleet, "default", &default, &[])).contains("changed=2"));
    let defaults = fleet
        .exec(0, "getfacl -d --omit-header /srv/share")
        .unwrap();
    assert!(defaults.contains("group:daemon:r-x"), "{defaults}");
    assert!(recap(&push(&fleet, "default", &default, &[])).contains("changed=0"));
    let remove = play(
        "        path: /srv/share/f\n        entity: nobody\n        etype: user\n        state: absent\n",
    );
    assert!(recap(&push(&fleet, "remove", &remove, &[])).contains("changed=2"));
    assert!(!entries().contains("user:nobody:"), "{}", entries());
    assert!(recap(&push(&fleet, "remove", &remove, &[])).contains("changed=0"));
    let query = play("        path: /srv/share/f\n");
    assert!(recap(&push(&fleet, "query", &query, &[])).contains("changed=0"));
    let missing = play("        path: /srv/none\n");
    let run = push(&fleet, "missing", &missing, &[]);
    assert_task_failed(&run, "Path not found or not accessible.");
}

/// community.general.make with Debian's make: a target built once (make -q then says it is up
/// to date, so the second run changes nothing), --check only asks, `params` reach the Makefile,
/// and a failing recipe fails the task with make's own error.
#[test]
fn make_builds_a_target_only_when_it_is_out_of_date() {
    let Some(fleet) = one_host("make_builds_a_target_only_when_it_is_out_of_date") else {
        return;
    };
    fleet
        .exec(
            0,
            "mkdir -p /srv/app && cd /srv/app && echo one > in.txt && printf 'out.txt: in.txt\\n\\techo \"$(GREETING)\" | cat - in.txt > out.txt\\nbroken:\\n\\tfalse\\n' > Makefile",
        )
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.make:\n        chdir: /srv/app\n        target: out.txt\n        params:\n          GREETING: hello there\n      register: built\n    - copy:\n        content: \"{{ built.command }}\"\n        dest: /root/make-command\n";
    let run = push(&fleet, "make", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /srv/app/out.txt").unwrap(),
        "hello there\none\n"
    );
    assert_eq!(
        fleet.exec(0, "cat /root/make-command").unwrap(),
        "/usr/bin/gmake out.txt 'GREETING=hello there'"
    );
    assert!(recap(&push(&fleet, "make", play, &[])).contains("changed=0"));
    fleet
        .exec(0, "sleep 1; echo two > /srv/app/in.txt")
        .unwrap();
    let checked = push(&fleet, "make", play, &["--check"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert_eq!(
        fleet.exec(0, "cat /srv/app/out.txt").unwrap(),
        "hello there\none\n"
    );
    assert!(recap(&push(&fleet, "make", play, &[])).contains("changed=1"));
    assert_eq!(
        fleet.exec(0, "cat /srv/app/out.txt").unwrap(),
        "hello there\ntwo\n"
    );
    let broken = "- hosts: all\n  gather_facts: false\n  tasks:\n    - make:\n        chdir: /srv/app\n        target: broken\n";
    let run = push(&fleet, "broken", broken, &[]);
    assert_task_failed(&run, "[Makefile:4: broken] Error 1");
}

/// community.general.htpasswd: a user added to a file in a folder that does not exist yet (Apache's
/// apr1 hash, mode and owner as asked), left alone while its hash verifies the password, its hash
/// replaced when the password changes (not under --check), a bcrypt user beside it, one removed;
/// the password is never printed or journaled.
#[test]
fn htpasswd_keeps_a_user_whose_hash_verifies_and_replaces_it_otherwise() {
    let Some(fleet) =
        one_host("htpasswd_keeps_a_user_whose_hash_verifies_and_replaces_it_otherwise")
    else {
        return;
    };
    let play = |user: &str, password: &str, extra: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.htpasswd:\n        path: /etc/nginx/auth/htpasswd\n        name: {user}\n        password: {password}\n        mode: \"0640\"\n        group: www-data\n{extra}"
        )
    };
    let line = |user: &str| {
        fleet
            .exec(0, "cat /etc/nginx/auth/htpasswd")
            .unwrap()
            .lines()
            .find(|l| l.starts_with(&format!("{user}:")))
            .map(String::from)
    };
    let run = push(
        &fleet,
        "add",
        &play("alice", "Tr0ub4dor-3", ""),
        &["--diff"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(!run.stdout.contains("Tr0ub4dor-3") && !run.stderr.contains("Tr0ub4dor-3"));
    let first = line("alice").unwrap();
    assert!(first.starts_with("alice:$apr1$"), "{first}");
    assert_eq!(
        fleet
            .exec(0, "stat -c '%a %G' /etc/nginx/auth/htpasswd")
            .unwrap(),
        "640 www-data\n"
    );
    assert!(
        recap(&push(&fleet, "add", &play("alice", "Tr0ub4dor-3", ""), &[])).contains("changed=0")
    );
    let checked = push(
        &fleet,
        "new",
        &play("alice", "correct-horse", ""),
        &["--check"],
    );
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert_eq!(line("alice").unwrap(), first);
    assert!(
        recap(&push(
            &fleet,
            "new",
            &play("alice", "correct-horse", ""),
            &[]
        ))
        .contains("changed=1")
    );
    assert_ne!(line("alice").unwrap(), first);
    assert!(
        recap(&push(
            &fleet,
            "new",
            &play("alice", "correct-horse", ""),
            &[]
        ))
        .contains("changed=0")
    );
    let bcrypt = play("bob", "hunter22", "        crypt_scheme: bcrypt\n");
    assert!(recap(&push(&fleet, "bob", &bcrypt, &[])).contains("changed=1"));
    assert!(line("bob").unwrap().starts_with("bob:$2y$12$"));
    assert!(recap(&push(&fleet, "bob", &bcrypt, &[])).contains("changed=0"));
    let remove = "- hosts: all\n  gather_facts: false\n  tasks:\n    - htpasswd:\n        path: /etc/nginx/auth/htpasswd\n        name: alice\n        state: absent\n";
    assert!(recap(&push(&fleet, "remove", remove, &[])).contains("changed=1"));
    assert_eq!(line("alice"), None);
    assert!(line("bob").is_some());
    assert!(recap(&push(&fleet, "remove", remove, &[])).contains("changed=0"));
    for secret in ["Tr0ub4dor-3", "correct-horse", "hunter22"] {
        common::assert_not_journaled(&fleet.dir().join("runs"), secret);
    }
}

/// ansible.posix.synchronize (push) without rsync: a folder's tree sent as rsync -a sends it
/// (modes, times, a symbolic link, an excluded folder left out), nothing sent again when nothing
/// differs, only the changed file sent after an edit (not under --check), `delete` removing what
/// the source lacks, and a single file sent to a path of its own.
#[test]
fn synchronize_sends_only_what_rsyncs_quick_check_finds_different() {
    let Some(fleet) = one_host("synchronize_sends_only_what_rsyncs_quick_check_finds_different")
    else {
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    let site = fleet.dir().join("site");
    std::fs::create_dir_all(site.join("conf/.git")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>hi</h1>\n").unwrap();
    std::fs::write(site.join("conf/app.env"), "SECRET=1\n").unwrap();
    std::fs::set_permissions(
        site.join("conf/app.env"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(site.join("conf/.git/HEAD"), "ref\n").unwrap();
    std::os::unix::fs::symlink("index.html", site.join("home.html")).unwrap();
    let play = |extra: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.posix.synchronize:\n        src: site/\n        dest: /srv/site\n        rsync_opts: ['--exclude=.git']\n{extra}      register: sent\n    - copy:\n        content: \"{{{{ sent.stdout_lines | join('\\n') }}}}\"\n        dest: /root/sent\n"
        )
    };
    let run = push(&fleet, "sync", &play(""), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "cd /srv/site && find . | sort && stat -c '%a %n' conf/app.env && readlink home.html")
            .unwrap(),
        ".\n./conf\n./conf/app.env\n./home.html\n./index.html\n600 conf/app.env\nindex.html\n"
    );
    let mtime = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    assert_eq!(
        fleet
            .exec(0, "stat -c %Y /srv/site/index.html")
            .unwrap()
            .trim(),
        mtime(&site.join("index.html")).to_string()
    );
    assert!(
        fleet
            .exec(0, "cat /root/sent")
            .unwrap()
            .contains("<<CHANGED>><f+++++++++ index.html")
    );
    // The module's own status: the copy after it records what it registered, which differs.
    let status = |run: &Run| {
        run.stdout
            .lines()
            .find(|l| l.trim_start().starts_with("deb01 ") && l.ends_with("[synchronize]"))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(String::from)
    };
    let again = push(&fleet, "sync", &play(""), &[]);
    assert_eq!(status(&again).as_deref(), Some("ok"), "{again:?}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(site.join("index.html"), "<h1>hello</h1>\n").unwrap();
    fleet.exec(0, "touch /srv/site/stray").unwrap();
    let checked = push(
        &fleet,
        "sync",
        &play("        delete: true\n"),
        &["--check"],
    );
    assert!(
        checked
            .stdout
            .contains("changed  [ansible.posix.synchronize]")
            || recap(&checked).contains("changed="),
        "{checked:?}"
    );
    assert_eq!(
        fleet.exec(0, "cat /srv/site/index.html").unwrap(),
        "<h1>hi</h1>\n"
    );
    let run = push(&fleet, "sync", &play("        delete: true\n"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /srv/site/index.html").unwrap(),
        "<h1>hello</h1>\n"
    );
    assert_eq!(
        fleet.exec(0, "cat /root/sent").unwrap(),
        "<<CHANGED>><f.st...... index.html\n<<CHANGED>>*deleting   stray"
    );
    let again = push(&fleet, "sync", &play("        delete: true\n"), &[]);
    assert_eq!(status(&again).as_deref(), Some("ok"), "{again:?}");
    // One file to a path of its own.
    let one = "- hosts: all\n  gather_facts: false\n  tasks:\n    - synchronize:\n        src: site/index.html\n        dest: /srv/front.html\n";
    assert!(recap(&push(&fleet, "one", one, &[])).contains("changed=1"));
    assert_eq!(
        fleet.exec(0, "cat /srv/front.html").unwrap(),
        "<h1>hello</h1>\n"
    );
    assert!(recap(&push(&fleet, "one", one, &[])).contains("changed=0"));
}

/// apt's `policy_rc_d`: while apt installs, /usr/sbin/policy-rc.d answers with the code asked for
/// (what a package's maintainer script sees, here 101: do not start), and afterwards the host is
/// as it was: no policy where there was none, the operator's own put back where there was one.
#[test]
fn apt_policy_rc_d_holds_only_while_apt_runs() {
    const SVC: common::apt::Deb = common::apt::Deb {
        name: "drover-svc",
        version: "1.0-1",
        depends: "",
        postinst: "#!/bin/sh\nif [ -x /usr/sbin/policy-rc.d ]; then /usr/sbin/policy-rc.d drover-svc start; echo \"policy $?\" > /var/lib/drover-svc; else echo 'no policy' > /var/lib/drover-svc; fi\n",
    };
    let Some((fleet, repo)) = fleet_with_debs("apt_policy_rc_d_holds_only_while_apt_runs", &[&SVC])
    else {
        return;
    };
    let install = "- hosts: all\n  gather_facts: false\n  tasks:\n    - apt:\n        name: drover-svc\n        update_cache: true\n        policy_rc_d: 101\n";
    let remove = "- hosts: all\n  gather_facts: false\n  tasks:\n    - apt:\n        name: drover-svc\n        state: absent\n";
    let run = push(&fleet, "install", install, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /var/lib/drover-svc").unwrap(),
        "policy 101\n"
    );
    assert_eq!(
        fleet
            .exec(0, "ls /usr/sbin/policy-rc.d 2>&1 || true")
            .unwrap(),
        "ls: cannot access '/usr/sbin/policy-rc.d': No such file or directory\n"
    );
    // The operator's own policy is put back after apt ran under drover's.
    fleet
        .exec(0, "printf '#!/bin/sh\\nexit 104\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d")
        .unwrap();
    assert_eq!(push(&fleet, "remove", remove, &[]).code, 0);
    let run = push(&fleet, "install", install, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /var/lib/drover-svc").unwrap(),
        "policy 101\n"
    );
    assert_eq!(
        fleet
            .exec(
                0,
                "cat /usr/sbin/policy-rc.d; ls /usr/sbin/ | grep -c policy"
            )
            .unwrap(),
        "#!/bin/sh\nexit 104\n1\n"
    );
    drop(fleet);
    let _ = std::fs::remove_dir_all(&repo);
}

/// community.general.slack against a stand-in for Slack on the host itself: `hooks.slack.com` and
/// `slack.com` resolve to 127.0.0.1, where `openssl s_server` (with a certificate the host is made
/// to trust, so certificates are checked as they would be) takes one request and gives Slack's
/// answer. The webhook gets the payload community.general builds; the Web API gets the bearer token
/// and its `ts` is registered; the token is in no command line, output or journal.
#[test]
fn slack_posts_the_payload_and_keeps_the_token_out_of_sight() {
    let Some(fleet) = one_host("slack_posts_the_payload_and_keeps_the_token_out_of_sight") else {
        return;
    };
    stand_in_tls(&fleet, &["hooks.slack.com", "slack.com"]);
    // One request taken, `body` answered, the request kept in /root/request.
    let serve = |body: &str| {
        fleet
            .write_file(
                0,
                "/root/response",
                &format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
            )
            .unwrap();
        fleet
            .exec(
                0,
                "cd /root && rm -f request && nohup sh -c '{ sleep 1; cat response; sleep 5; } | timeout 30 openssl s_server -quiet -accept 443 -naccept 1 -cert c.pem -key k.pem > request' >/dev/null 2>&1 & sleep 0.5",
            )
            .unwrap();
    };
    let webhook = "T0DROVER/B0DROVER/s3cretHOOK";
    serve("ok");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.slack:\n        token: {webhook}\n        msg: \"Patched {{{{ inventory_hostname }}}}\"\n        channel: ops\n        prepend_hash: auto\n        color: warning\n"
    );
    let run = push(&fleet, "hook", &play, &["-vvv"]);
    assert_eq!(run.code, 0, "{run:?}");
    let request = fleet.exec(0, "sleep 1; cat /root/request").unwrap();
    assert!(
        request.starts_with("POST /services/T0DROVER/B0DROVER/s3cretHOOK HTTP/1.1"),
        "{request}"
    );
    assert!(
        request.ends_with(r##"{"attachments":[{"text":"Patched deb01","color":"warning","mrkdwn_in":["text"]}],"channel":"#ops","username":"Ansible","icon_url":"https://docs.ansible.com/favicon/favicon.ico","link_names":1}"##),
        "{request}"
    );
    // --check posts nothing.
    fleet.exec(0, "rm -f /root/request").unwrap();
    let checked = push(&fleet, "hook", &play, &["--check"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert_eq!(
        fleet
            .exec(0, "ls /root/request 2>/dev/null | wc -l")
            .unwrap(),
        "0\n"
    );
    serve(r#"{"ok":true,"channel":"C0OPS","ts":"1700000000.000100"}"#);
    let api = "- hosts: all\n  gather_facts: false\n  tasks:\n    - slack:\n        token: xoxb-s3cret-API\n        msg: done\n        channel: C0OPS\n      register: posted\n    - copy:\n        content: \"{{ posted.ts }} {{ posted.channel }}\"\n        dest: /root/posted\n";
    let run = push(&fleet, "api", api, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let request = fleet.exec(0, "sleep 1; cat /root/request").unwrap();
    assert!(
        request.starts_with("POST /api/chat.postMessage HTTP/1.1"),
        "{request}"
    );
    assert!(
        request.contains("Authorization: Bearer xoxb-s3cret-API"),
        "{request}"
    );
    assert_eq!(
        fleet.exec(0, "cat /root/posted").unwrap(),
        "1700000000.000100 C0OPS"
    );
    for secret in ["s3cretHOOK", "xoxb-s3cret-API"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
        common::assert_not_journaled(&fleet.dir().join("runs"), secret);
    }
}

/// community.general.github_release against a stand-in for GitHub's API on the host itself:
/// `api.github.com` resolves to 127.0.0.1, where `openssl s_server -WWW` (its certificate trusted
/// by the host) serves the API's answers as files. The latest release's tag is registered, with and
/// without a token (the token's login checked first, at /user, as the module checks it); a release
/// whose tag exists is not made again; the token is never shown.
#[test]
fn github_release_reads_the_latest_tag_through_githubs_api() {
    let Some(fleet) = one_host("github_release_reads_the_latest_tag_through_githubs_api") else {
        return;
    };
    stand_in_tls(&fleet, &["api.github.com"]);
    fleet
        .exec(
            0,
            "mkdir -p /srv/gh/repos/neovim/neovim/releases/tags && cd /srv/gh && \
             echo '{\"tag_name\": \"v0.11.5\"}' > repos/neovim/neovim/releases/latest && \
             echo '{\"tag_name\": \"v0.11.4\"}' > repos/neovim/neovim/releases/tags/v0.11.4 && \
             echo '{\"login\": \"drover\"}' > user && \
             (nohup timeout 120 openssl s_server -quiet -WWW -accept 443 -cert /root/c.pem -key /root/k.pem >/dev/null 2>&1 &) && sleep 0.5",
        )
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.github_release:\n        user: neovim\n        repo: neovim\n        action: latest_release\n      register: anonymous\n    - github_release:\n        user: neovim\n        repo: neovim\n        action: latest_release\n        token: ghp_s3cretTOKEN\n      register: logged_in\n    - github_release:\n        user: neovim\n        repo: neovim\n        action: create_release\n        tag: v0.11.4\n        token: ghp_s3cretTOKEN\n      register: again\n    - copy:\n        content: \"{{ anonymous.tag }} {{ logged_in.tag }} {{ again.changed }} {{ again.msg }}\"\n        dest: /root/tags\n";
    let run = push(&fleet, "gh", play, &["-vvv"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /root/tags").unwrap(),
        "v0.11.5 v0.11.5 False Release for tag v0.11.4 already exists."
    );
    assert!(
        !run.stdout.contains("s3cretTOKEN") && !run.stderr.contains("s3cretTOKEN"),
        "{run:?}"
    );
    common::assert_not_journaled(&fleet.dir().join("runs"), "s3cretTOKEN");
}

/// user's `generate_ssh_key`: a pair made with the host's ssh-keygen for the new user, in a
/// `.ssh` folder of its own (0700), owned by it; the registered public key is the file's; applied
/// again, the existing key is kept; --check on another user makes nothing.
#[test]
fn user_generates_an_ssh_key_once() {
    let Some(fleet) = one_host("user_generates_an_ssh_key_once") else {
        return;
    };
    let play = |user: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - user:\n        name: {user}\n        generate_ssh_key: true\n        ssh_key_type: ed25519\n        ssh_key_comment: \"{user}@drover\"\n      register: made\n    - copy:\n        content: \"{{{{ made.ssh_public_key }}}}\\n{{{{ made.ssh_key_file }}}}\\n\"\n        dest: /root/key-{user}\n"
        )
    };
    let run = push(&fleet, "key", &play("builder"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fleet
            .exec(0, "stat -c '%a %U' /home/builder/.ssh /home/builder/.ssh/id_ed25519 /home/builder/.ssh/id_ed25519.pub")
            .unwrap(),
        "700 builder\n600 builder\n644 builder\n"
    );
    let public = fleet
        .exec(0, "cat /home/builder/.ssh/id_ed25519.pub")
        .unwrap();
    assert!(public.ends_with(" builder@drover\n"), "{public}");
    assert_eq!(
        fleet.exec(0, "cat /root/key-builder").unwrap(),
        format!("{public}/home/builder/.ssh/id_ed25519\n")
    );
    assert!(recap(&push(&fleet, "key", &play("builder"), &[])).contains("changed=0"));
    assert_eq!(
        fleet
            .exec(0, "cat /home/builder/.ssh/id_ed25519.pub")
            .unwrap(),
        public
    );
    let checked = push(&fleet, "other", &play("tester"), &["--check"]);
    assert!(checked.stdout.contains("changed  [user]"), "{checked:?}");
    assert_eq!(
        fleet
            .exec(0, "ls /home/tester 2>&1 | head -1 || true")
            .unwrap(),
        "ls: cannot access '/home/tester': No such file or directory\n"
    );
}

/// ansible.builtin.iptables with the host's iptables (docker.io brings it): a rule appended once
/// (`iptables -C` finds it the second time), --check leaves the chain, a rule inserted at the top,
/// one removed, the FORWARD policy set once; `iptables -S` shows each.
#[test]
fn iptables_keeps_one_rule_and_a_policy() {
    let Some(fleet) = one_host("iptables_keeps_one_rule_and_a_policy") else {
        return;
    };
    let task = |body: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.iptables:\n{body}"
        )
    };
    let rules = || {
        fleet
            .exec(0, "iptables -S INPUT; iptables -S FORWARD | head -n1")
            .unwrap()
    };
    let web = task(
        "        chain: INPUT\n        protocol: tcp\n        destination_port: \"8080\"\n        ctstate: [NEW]\n        jump: ACCEPT\n        comment: web in\n",
    );
    let checked = push(&fleet, "web", &web, &["--check"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert!(!rules().contains("8080"), "{}", rules());
    let run = push(&fleet, "web", &web, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        rules().contains("-A INPUT -p tcp -m tcp --dport 8080 -m conntrack --ctstate NEW -m comment --comment \"web in\" -j ACCEPT"),
        "{}",
        rules()
    );
    assert!(recap(&push(&fleet, "web", &web, &[])).contains("changed=0"));
    let first = task(
        "        chain: INPUT\n        action: insert\n        source: 192.0.2.0/24\n        jump: DROP\n",
    );
    assert!(recap(&push(&fleet, "first", &first, &[])).contains("changed=1"));
    assert!(
        rules().starts_with("-P INPUT ACCEPT\n-A INPUT -s 192.0.2.0/24 -j DROP\n"),
        "{}",
        rules()
    );
    let gone = web.replace(
        "        jump: ACCEPT\n",
        "        jump: ACCEPT\n        state: absent\n",
    );
    assert!(recap(&push(&fleet, "gone", &gone, &[])).contains("changed=1"));
    assert!(!rules().contains("8080"), "{}", rules());
    assert!(recap(&push(&fleet, "gone", &gone, &[])).contains("changed=0"));
    let policy = task("        chain: FORWARD\n        policy: DROP\n");
    assert!(recap(&push(&fleet, "policy", &policy, &[])).contains("changed=1"));
    assert!(rules().ends_with("-P FORWARD DROP\n"), "{}", rules());
    assert!(recap(&push(&fleet, "policy", &policy, &[])).contains("changed=0"));
}

/// lineinfile's `backrefs` and `firstmatch` and its last-match rule for insertbefore, as
/// ansible-core 2.19 edited the same file: the groups of the match fill the line, a regexp that
/// finds nothing adds nothing, and a second run changes nothing.
#[test]
fn lineinfile_backrefs_and_firstmatch_edit_as_ansible_does() {
    let Some(fleet) = one_host("lineinfile_backrefs_and_firstmatch_edit_as_ansible_does") else {
        return;
    };
    fleet
        .write_file(0, "/etc/app.conf", "a\n# x\nport=80\n# x\n")
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - lineinfile:\n        path: /etc/app.conf\n        regexp: '^port=(\\d+)'\n        line: 'port=\\1 # kept'\n        backrefs: true\n    - lineinfile:\n        path: /etc/app.conf\n        regexp: '^absent=(\\d+)'\n        line: 'x=\\1'\n        backrefs: true\n    - lineinfile:\n        path: /etc/app.conf\n        line: LAST\n        insertbefore: '^# x'\n    - lineinfile:\n        path: /etc/app.conf\n        line: FIRST\n        insertbefore: '^# x'\n        firstmatch: true\n";
    let run = push(&fleet, "lif", play, &[]);
    assert!(recap(&run).contains("changed=3"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "cat /etc/app.conf").unwrap(),
        "a\nFIRST\n# x\nport=80 # kept\nLAST\n# x\n"
    );
    assert!(recap(&push(&fleet, "lif", play, &[])).contains("changed=0"));
}

/// file with `state: link`, as Ansible's file module makes links: a link pointed again, a file in
/// its place refused (and replaced with `force`), a `src` that does not exist refused (and linked
/// to with `force`); applied again, nothing changes.
#[test]
fn file_links_replace_only_links_unless_forced() {
    let Some(fleet) = one_host("file_links_replace_only_links_unless_forced") else {
        return;
    };
    fleet
        .exec(
            0,
            "mkdir -p /srv/releases/1 /srv/releases/2 && echo keep > /srv/plain",
        )
        .unwrap();
    let link = |dest: &str, src: &str, force: bool| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - file:\n        path: {dest}\n        src: {src}\n        state: link\n        force: {force}\n"
        )
    };
    let run = push(
        &fleet,
        "one",
        &link("/srv/current", "releases/1", false),
        &[],
    );
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    let run = push(
        &fleet,
        "two",
        &link("/srv/current", "releases/2", false),
        &[],
    );
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "readlink /srv/current").unwrap(),
        "releases/2\n"
    );
    assert!(
        recap(&push(
            &fleet,
            "two",
            &link("/srv/current", "releases/2", false),
            &[]
        ))
        .contains("changed=0")
    );
    let run = push(
        &fleet,
        "plain",
        &link("/srv/plain", "/srv/releases/1", false),
        &[],
    );
    assert_task_failed(
        &run,
        "refusing to convert from file to symlink for /srv/plain",
    );
    assert_eq!(fleet.exec(0, "cat /srv/plain").unwrap(), "keep\n");
    let run = push(
        &fleet,
        "missing",
        &link("/srv/next", "releases/3", false),
        &[],
    );
    assert_task_failed(&run, "src file does not exist, use \"force=yes\"");
    let run = push(
        &fleet,
        "forced",
        &link("/srv/plain", "/srv/releases/1", true),
        &[],
    );
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(
        fleet.exec(0, "readlink /srv/plain").unwrap(),
        "/srv/releases/1\n"
    );
    let run = push(
        &fleet,
        "dangling",
        &link("/srv/next", "releases/3", true),
        &[],
    );
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert_eq!(fleet.exec(0, "readlink /srv/next").unwrap(), "releases/3\n");
}

/// get_url's `owner` and `group`, and basic authentication: busybox httpd on the host asks for
/// credentials; with `url_username`/`url_password` (never in the command line or the journal) the
/// file comes down owned as asked; a second run keeps it; without them the server's 401 fails the task.
#[test]
fn get_url_authenticates_and_owns_the_file_as_asked() {
    let Some(fleet) = one_host("get_url_authenticates_and_owns_the_file_as_asked") else {
        return;
    };
    fleet
        .exec(
            0,
            "mkdir -p /srv/www && echo release > /srv/www/tool.txt && echo '/:fetcher:Pa55word' > /etc/httpd-auth.conf && \
             busybox httpd -p 127.0.0.1:8091 -h /srv/www -c /etc/httpd-auth.conf",
        )
        .unwrap();
    let play = |auth: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - get_url:\n        url: http://127.0.0.1:8091/tool.txt\n        dest: /usr/local/share/tool.txt\n        owner: www-data\n        group: www-data\n        mode: \"0640\"\n{auth}"
        )
    };
    let auth = "        url_username: fetcher\n        url_password: Pa55word\n";
    let run = push(&fleet, "fetch", &play(auth), &["-vvv"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        !run.stdout.contains("Pa55word") && !run.stderr.contains("Pa55word"),
        "{run:?}"
    );
    common::assert_not_journaled(&fleet.dir().join("runs"), "Pa55word");
    assert_eq!(
        fleet
            .exec(
                0,
                "stat -c '%a %U %G' /usr/local/share/tool.txt; cat /usr/local/share/tool.txt"
            )
            .unwrap(),
        "640 www-data www-data\nrelease\n"
    );
    assert!(recap(&push(&fleet, "fetch", &play(auth), &[])).contains("changed=0"));
    let run = push(&fleet, "denied", &play("        force: true\n"), &[]);
    assert_task_failed(&run, "401");
}

/// community.general.snap on a Debian host without snapd (snapd cannot run in the fleet's
/// containers): the Ubuntu branch a real playbook guards it with is skipped, and run anyway the task
/// fails saying snap is missing, never as a silent success.
#[test]
fn snap_without_snapd_is_skipped_by_its_guard_or_fails_plainly() {
    let Some(fleet) = one_host("snap_without_snapd_is_skipped_by_its_guard_or_fails_plainly")
    else {
        return;
    };
    let play = |guard: &str| {
        format!(
            "- hosts: all\n  tasks:\n    - community.general.snap:\n        name: microk8s\n        classic: true\n        channel: 1.30/stable\n{guard}"
        )
    };
    let run = push(
        &fleet,
        "guarded",
        &play("      when: ansible_distribution == 'Ubuntu'\n"),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("skipped=1"), "{run:?}");
    let run = push(&fleet, "bare", &play(""), &[]);
    assert_task_failed(&run, "snap is not installed on this host");
}

/// expect: a program's prompts answered in a terminal (`script`, not pexpect), its words never a
/// shell line; a list of answers runs out and stops it at once; a prompt nobody answers stops it
/// after `timeout`; in check mode nothing runs.
#[test]
fn expect_answers_prompts_in_a_terminal_and_stops_what_it_cannot_answer() {
    let Some(fleet) =
        one_host("expect_answers_prompts_in_a_terminal_and_stops_what_it_cannot_answer")
    else {
        return;
    };
    fleet
        .exec(
            0,
            "printf '#!/bin/sh\\nprintf \"arg=%%s\\\\n\" \"$1\"\\nprintf \"Name? \"; read n\\nprintf \"Password: \"; read p1\\nprintf \"PASSWORD: \"; read p2\\necho \"hello $n $p1 $p2\"\\n' > /root/ask.sh && chmod +x /root/ask.sh && \
             printf '#!/bin/sh\\nprintf \"Question? \"; read a; sleep 300\\n' > /root/hang.sh && chmod +x /root/hang.sh",
        )
        .unwrap();
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: converse\n      expect:\n        command: /root/ask.sh \"two words; touch /root/injected\"\n        responses:\n          \"Name\\\\?\": drover\n          \"(?i)password:\": [first, second]\n      register: talked\n    - copy:\n        content: \"{{ talked.stdout }}|{{ talked.rc }}|{{ talked.cmd }}\"\n        dest: /root/talked\n      when: not ansible_check_mode\n";
    let check = push(&fleet, "expect", play, &["--check"]);
    assert_eq!(check.code, 0, "{check:?}");
    assert!(recap(&check).contains("skipped=2"), "{check:?}");
    let run = push(&fleet, "expect", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    // The terminal's line ends; the answers not echoed; the argument one word.
    assert_eq!(
        fleet.exec(0, "cat /root/talked").unwrap(),
        "arg=two words; touch /root/injected\r\nName? Password: PASSWORD: hello drover first second|0|/root/ask.sh \"two words; touch /root/injected\""
    );
    assert!(fleet.exec(0, "test ! -e /root/injected").is_ok());

    let ran_out = "- hosts: all\n  gather_facts: false\n  tasks:\n    - expect:\n        command: /root/ask.sh x\n        responses:\n          \"Name\\\\?\": drover\n          \"(?i)password:\": [only]\n";
    let began = std::time::Instant::now();
    let run = push(&fleet, "ran-out", ran_out, &[]);
    assert_task_failed(
        &run,
        "No remaining responses for '(?i)password:', output was ' '",
    );
    assert!(
        began.elapsed() < std::time::Duration::from_secs(20),
        "{run:?}"
    );

    let hang = "- hosts: all\n  gather_facts: false\n  tasks:\n    - expect:\n        command: /root/hang.sh\n        responses:\n          \"Question\\\\?\": yes\n        timeout: 2\n";
    let run = push(&fleet, "hang", hang, &[]);
    assert_task_failed(&run, "command exceeded timeout");
    // Stopped, not left behind.
    assert_eq!(
        fleet
            .exec(
                0,
                "pgrep -fa '[a]sk.sh|[h]ang.sh|[s]leep 300|[s]cript -qec' || true"
            )
            .unwrap(),
        ""
    );
}

/// community.crypto on the host's openssl: a CA key (ECC, encrypted), its CSR from
/// openssl_csr_pipe and a self-signed CA certificate; a server key, CSR (SANs, an awkward
/// organization) and a certificate the CA signs. openssl itself verifies the chain; a second run
/// keeps every file (only the pipe, which has no earlier CSR, says changed); a new common name
/// makes a new CSR and certificate; the passphrase is never shown, even with -vvv.
#[test]
fn openssl_keys_csrs_and_certificates_are_made_once_and_verify() {
    let Some(fleet) = one_host("openssl_keys_csrs_and_certificates_are_made_once_and_verify")
    else {
        return;
    };
    let play = |cn: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  vars:\n    ca_pass: \"Pa55 phrase; $(id)\"\n  tasks:\n\
             \x20   - file: {{path: /etc/ssl/drover, state: directory, mode: \"0700\"}}\n\
             \x20   - community.crypto.openssl_privatekey:\n        path: /etc/ssl/drover/ca.key\n        type: ECC\n        curve: secp384r1\n        passphrase: \"{{{{ ca_pass }}}}\"\n        cipher: auto\n\
             \x20   - community.crypto.openssl_csr_pipe:\n        privatekey_path: /etc/ssl/drover/ca.key\n        privatekey_passphrase: \"{{{{ ca_pass }}}}\"\n        common_name: Drover Test CA\n        use_common_name_for_san: false\n        basic_constraints: [\"CA:TRUE\"]\n        basic_constraints_critical: true\n        key_usage: [keyCertSign, cRLSign]\n        key_usage_critical: true\n      register: ca_csr\n\
             \x20   - community.crypto.x509_certificate:\n        path: /etc/ssl/drover/ca.crt\n        csr_content: \"{{{{ ca_csr.csr }}}}\"\n        privatekey_path: /etc/ssl/drover/ca.key\n        privatekey_passphrase: \"{{{{ ca_pass }}}}\"\n        provider: selfsigned\n\
             \x20   - openssl_privatekey:\n        path: /etc/ssl/drover/web.key\n        size: 2048\n        mode: \"0640\"\n        group: www-data\n\
             \x20   - openssl_csr:\n        path: /etc/ssl/drover/web.csr\n        privatekey_path: /etc/ssl/drover/web.key\n        common_name: {cn}\n        subject_alt_name: [\"DNS:{cn}\", \"IP:192.0.2.10\"]\n        extended_key_usage: [serverAuth]\n        organization_name: \"A/B+C, Inc.\"\n\
             \x20   - community.crypto.x509_certificate:\n        path: /etc/ssl/drover/web.crt\n        csr_path: /etc/ssl/drover/web.csr\n        provider: ownca\n        ownca_path: /etc/ssl/drover/ca.crt\n        ownca_privatekey_path: /etc/ssl/drover/ca.key\n        ownca_privatekey_passphrase: \"{{{{ ca_pass }}}}\"\n        ownca_not_before: \"+0s\"\n        ownca_not_after: +30d\n        mode: \"0644\"\n"
        )
    };
    let run = push(&fleet, "pki", &play("web01.example"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=7"), "{run:?}");
    let host = |cmd: &str| fleet.exec(0, cmd).unwrap();
    assert_eq!(
        host("cd /etc/ssl/drover && openssl verify -CAfile ca.crt web.crt"),
        "web.crt: OK\n"
    );
    assert_eq!(
        host("openssl x509 -in /etc/ssl/drover/web.crt -noout -subject -nameopt RFC2253"),
        "subject=CN=web01.example,O=A/B\\+C\\, Inc.\n"
    );
    let text = host("openssl x509 -in /etc/ssl/drover/web.crt -noout -text");
    assert!(
        text.contains("DNS:web01.example, IP Address:192.0.2.10"),
        "{text}"
    );
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    let ca = host("openssl x509 -in /etc/ssl/drover/ca.crt -noout -text");
    assert!(
        ca.contains("CA:TRUE") && ca.contains("Certificate Sign, CRL Sign"),
        "{ca}"
    );
    assert_eq!(
        host(
            "head -n 2 /etc/ssl/drover/ca.key; stat -c '%a %U:%G' /etc/ssl/drover/ca.key /etc/ssl/drover/web.key /etc/ssl/drover/web.crt"
        ),
        "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n600 root:root\n640 root:www-data\n644 root:root\n"
    );
    let before = host("md5sum /etc/ssl/drover/*");

    let again = push(&fleet, "pki", &play("web01.example"), &["-vvv"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(recap(&again).contains("changed=1"), "{again:?}");
    assert_eq!(host("md5sum /etc/ssl/drover/*"), before);
    assert!(
        !again.stdout.contains("Pa55 phrase") && !again.stderr.contains("Pa55 phrase"),
        "{again:?}"
    );

    let renamed = push(&fleet, "pki", &play("web02.example"), &[]);
    assert_eq!(renamed.code, 0, "{renamed:?}");
    assert!(recap(&renamed).contains("changed=3"), "{renamed:?}");
    assert_eq!(
        host("openssl x509 -in /etc/ssl/drover/web.crt -noout -subject -nameopt RFC2253"),
        "subject=CN=web02.example,O=A/B\\+C\\, Inc.\n"
    );
    assert_eq!(
        host("cd /etc/ssl/drover && openssl verify -CAfile ca.crt web.crt"),
        "web.crt: OK\n"
    );
}

/// apache2_module on a host with Debian's own Apache: modules enabled and disabled only where
/// `apache2ctl -M` says otherwise (`a2query` is the proof), --check changing nothing, a wrong
/// identifier failing as the module fails, and a configuration Apache cannot read failing the
/// task, or with `ignore_configcheck` counting as off with its warning.
#[test]
fn apache_modules_are_enabled_and_disabled_as_apache_itself_reports_them() {
    let Some(fleet) = common::debian_fleet(
        "apache_modules_are_enabled_and_disabled_as_apache_itself_reports_them",
        &DebianOptions {
            flavour: drover_fleet::Flavour::Python,
            ..DebianOptions::default()
        },
    ) else {
        return;
    };
    let enabled = |m: &str| fleet.exec(0, &format!("a2query -q -m {m}")).is_ok();
    assert!(!enabled("headers") && enabled("status"));
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.apache2_module:\n        name: headers\n    - apache2_module:\n        name: status\n        state: absent\n        force: true\n";
    let run = push(&fleet, "apache", play, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(recap(&run).contains("changed=2"), "{run:?}");
    assert!(enabled("headers") && !enabled("status"));
    let again = push(&fleet, "apache", play, &[]);
    assert!(recap(&again).contains("changed=0"), "{again:?}");

    let off = "- hosts: all\n  gather_facts: false\n  tasks:\n    - apache2_module:\n        name: headers\n        state: absent\n";
    let checked = push(&fleet, "apache-off", off, &["--check"]);
    assert!(recap(&checked).contains("changed=1"), "{checked:?}");
    assert!(enabled("headers"));

    let wrong = "- hosts: all\n  gather_facts: false\n  tasks:\n    - apache2_module:\n        name: rewrite\n        identifier: nosuch_module\n";
    let failed = push(&fleet, "apache-wrong", wrong, &[]);
    assert_task_failed(
        &failed,
        "Maybe the module identifier (nosuch_module) was guessed incorrectly",
    );

    fleet
        .exec(0, "echo 'NoSuchDirective on' >> /etc/apache2/apache2.conf")
        .unwrap();
    let broken = push(&fleet, "apache-off", off, &[]);
    assert_task_failed(&broken, "Error executing /usr/sbin/apache2ctl");
    assert!(enabled("headers"));
    let ignoring = off.replace(
        "state: absent\n",
        "state: absent\n        ignore_configcheck: true\n",
    );
    let ignored = push(&fleet, "apache-ignore", &ignoring, &[]);
    assert_eq!(ignored.code, 0, "{ignored:?}");
    assert!(recap(&ignored).contains("changed=0"), "{ignored:?}");
    assert!(
        ignored
            .stdout
            .contains("Error executing /usr/sbin/apache2ctl"),
        "{ignored:?}"
    );
}

/// pamd on Debian's own /etc/pam.d/sshd, as devsec.hardening's ssh_hardening uses it: the dynamic
/// MOTD rules removed (with a backup), --check first (nothing written), then for real, then again
/// (nothing to change); an argument added to a rule in place.
#[test]
fn pamd_edits_debians_sshd_service_as_community_general_does() {
    let Some(fleet) = one_host("pamd_edits_debians_sshd_service_as_community_general_does") else {
        return;
    };
    let original = fleet.exec(0, "cat /etc/pam.d/sshd").unwrap();
    assert!(original.contains("pam_motd.so"), "{original}");
    let motd = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.pamd:\n        name: sshd\n        type: session\n        control: optional\n        module_path: pam_motd.so\n        state: absent\n        backup: true\n      register: motd\n    - copy:\n        content: \"{{ motd.change_count }} {{ motd.backupdest }}\"\n        dest: /root/pamd\n";
    let checked = push(&fleet, "motd", motd, &["--check"]);
    assert!(recap(&checked).contains("changed=2"), "{checked:?}");
    assert_eq!(fleet.exec(0, "cat /etc/pam.d/sshd").unwrap(), original);
    let run = push(&fleet, "motd", motd, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let now = fleet.exec(0, "cat /etc/pam.d/sshd").unwrap();
    assert!(!now.contains("pam_motd.so"), "{now}");
    assert_eq!(
        now.lines()
            .nth(1)
            .map(|l| l.starts_with("# Updated by Ansible - ")),
        Some(true),
        "{now}"
    );
    assert!(
        now.contains("\nsession    required pam_limits.so\n"),
        "{now}"
    );
    let (count, backup) = {
        let said = fleet.exec(0, "cat /root/pamd").unwrap();
        let (c, b) = said.split_once(' ').unwrap();
        (c.to_string(), b.to_string())
    };
    assert_eq!(count, "2");
    assert_eq!(fleet.exec(0, &format!("cat '{backup}'")).unwrap(), original);
    // Again: the pamd task finds nothing to remove (its count, copied, is what changes).
    let again = push(&fleet, "motd", motd, &[]);
    assert!(again.stdout.contains("ok       [pamd]"), "{again:?}");
    assert_eq!(fleet.exec(0, "cat /root/pamd").unwrap(), "0 ");
    let args = "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.pamd:\n        name: sshd\n        type: account\n        control: required\n        module_path: pam_nologin.so\n        state: args_present\n        module_arguments: [file=/etc/nologin.drover]\n";
    let run = push(&fleet, "args", args, &[]);
    assert!(recap(&run).contains("changed=1"), "{run:?}");
    assert!(
        fleet
            .exec(0, "cat /etc/pam.d/sshd")
            .unwrap()
            .contains("\naccount    required pam_nologin.so file=/etc/nologin.drover\n")
    );
    assert!(recap(&push(&fleet, "args", args, &[])).contains("changed=0"));
}
