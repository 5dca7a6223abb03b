//! `drover inventory` and bad input across the inventory: what ansible-inventory prints, and errors that
//! name file:line:col with exit code 2.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, assert_bad_input, drover_in, run_with_key_file};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../inventory/tests/fixtures")
}

fn inventory(args: &[&str]) -> Run {
    let mut full = vec!["inventory"];
    full.extend(args);
    drover_in(&common::scratch(), &full)
}

#[test]
fn list_and_graph_print_what_ansible_inventory_prints() {
    let ini = fixtures().join("ini_fleet/hosts.ini");
    let run = inventory(&["-i", ini.to_str().unwrap(), "--list"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        std::fs::read_to_string(fixtures().join("ini_fleet/expected-list.json")).unwrap()
    );
    let yaml = fixtures().join("yaml_fleet/inventory.yml");
    let run = inventory(&[
        "-i",
        ini.to_str().unwrap(),
        "-i",
        yaml.to_str().unwrap(),
        "--list",
    ]);
    assert_eq!(
        run.stdout,
        std::fs::read_to_string(fixtures().join("multi-expected-list.json")).unwrap()
    );
    let run = inventory(&["-i", yaml.to_str().unwrap(), "--graph"]);
    assert_eq!(
        run.stdout,
        std::fs::read_to_string(fixtures().join("yaml_fleet/expected-graph.txt")).unwrap()
    );
    let run = inventory(&["-i", yaml.to_str().unwrap(), "--host", "app1"]);
    let vars: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(vars["replicas"], 1);
    assert_eq!(vars["region"], "eu-central");
}

/// What a vault decrypted is never printed: a `!vault` value in group_vars shows as `********`
/// in `--host` and `--list` (ansible-inventory never prints one in the clear either).
#[test]
fn vaulted_values_are_never_printed_in_the_clear() {
    let vault = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vault/tests/fixtures");
    let dir = common::scratch().join(format!("inventory-vault-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("group_vars")).unwrap();
    std::fs::write(dir.join("hosts.ini"), "[web]\nw1 ansible_host=127.0.0.2\n").unwrap();
    std::fs::copy(vault.join("inline.yml"), dir.join("group_vars/all.yml")).unwrap();
    let (hosts, pass) = (dir.join("hosts.ini"), vault.join("password.txt"));
    for view in [&["--host", "w1"][..], &["--list"]] {
        let mut args = vec!["-i", hosts.to_str().unwrap(), "--vault-password-file"];
        args.push(pass.to_str().unwrap());
        args.extend_from_slice(view);
        let run = inventory(&args);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("\"api_token\": \"********\""),
            "{run:?}"
        );
        assert!(!run.stdout.contains("tok-12345"), "{run:?}");
        assert!(
            run.stdout.contains("\"plain_value\": \"visible\""),
            "{run:?}"
        );
    }
}

/// Writes `files` into a fresh folder and runs `drover inventory -i <first file> --list` there.
fn bad(files: &[(&str, &str)]) -> Run {
    let dir = common::scratch().join(format!("bad-{}-{}", std::process::id(), files[0].1.len()));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let run = inventory(&["-i", dir.join(files[0].0).to_str().unwrap(), "--list"]);
    std::fs::remove_dir_all(&dir).unwrap();
    run
}

#[test]
fn invalid_yaml_names_file_line_and_column() {
    let run = bad(&[("hosts.yml", "all:\n  hosts:\n    web1: {a: 1\n  vars:\n")]);
    assert_bad_input(&run, "hosts.yml:4:", "invalid YAML");
}

#[test]
fn invalid_yaml_in_group_vars_or_host_vars_names_that_file() {
    let run = bad(&[
        ("hosts.ini", "[web]\nw1\n"),
        ("group_vars/web.yml", "a: 1\nb: [\n"),
    ]);
    assert_bad_input(&run, "group_vars/web.yml:3:", "invalid YAML");
    let run = bad(&[
        ("hosts.ini", "[web]\nw1\n"),
        ("host_vars/w1.yml", "a: [1\n"),
    ]);
    assert_bad_input(&run, "host_vars/w1.yml:2:", "invalid YAML");
}

#[test]
fn a_misspelled_group_key_is_refused() {
    let run = bad(&[(
        "hosts.yml",
        "all:\n  children:\n    web:\n      hostz:\n        w1:\n",
    )]);
    assert_bad_input(
        &run,
        "hosts.yml:4:7",
        "unexpected key `hostz` in group `web`; expected hosts, vars or children",
    );
}

#[test]
fn an_unknown_group_in_children_is_refused() {
    let run = bad(&[("hosts.ini", "[web]\nw1\n\n[prod:children]\nweb\ndbs\n")]);
    assert_bad_input(
        &run,
        "hosts.ini:6:1",
        "section [prod:children] names group `dbs`, which is never defined",
    );
}

#[test]
fn a_host_range_that_does_not_parse_is_refused() {
    let run = bad(&[("hosts.ini", "[web]\nweb[01:5].example.com\n")]);
    assert_bad_input(
        &run,
        "hosts.ini:2:1",
        "bad host range in `web[01:5].example.com`",
    );
    let run = bad(&[("hosts.yml", "web:\n  hosts:\n    db-[a:3]:\n")]);
    assert_bad_input(&run, "hosts.yml:3:5", "bad host range in `db-[a:3]`");
}

#[test]
fn a_pattern_that_matches_nothing_is_bad_input() {
    let ini = fixtures().join("ini_fleet/hosts.ini");
    let run = drover_in(
        &common::scratch(),
        &["run", "-i", ini.to_str().unwrap(), "wbe", "--", "true"],
    );
    assert_bad_input(&run, "`wbe`", "matches no hosts in the inventory");
    let run = drover_in(
        &common::scratch(),
        &[
            "run",
            "-i",
            ini.to_str().unwrap(),
            "web",
            "--limit",
            "db",
            "--",
            "true",
        ],
    );
    assert_bad_input(&run, "`web --limit db`", "matches no hosts");
    let run = drover_in(
        &common::scratch(),
        &["run", "-i", ini.to_str().unwrap(), "~(web", "--", "true"],
    );
    assert_bad_input(&run, "`~(web`", "invalid regular expression");
}

#[test]
fn a_missing_inventory_or_key_is_bad_input() {
    let run = inventory(&["-i", "/nonexistent/hosts.yml", "--list"]);
    assert_bad_input(&run, "/nonexistent/hosts.yml", "cannot read");
    let dir = common::scratch().join(format!("keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = run_with_key_file(&dir, Path::new("/nonexistent/key"));
    assert_bad_input(&run, "/nonexistent/key", "cannot read");
    std::fs::write(dir.join("notakey"), "hello\n").unwrap();
    // Private, as a key file must be, so that what is refused is the content.
    std::fs::set_permissions(
        dir.join("notakey"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let run = run_with_key_file(&dir, &dir.join("notakey"));
    assert_bad_input(&run, "notakey", "not a usable private key");
}

/// Writes `files` into a folder named after `name` and runs `drover inventory -i <source> args...`.
fn hostile(name: &str, files: &[(&str, &str)], source: &str, args: &[&str]) -> Run {
    let dir = common::scratch().join(format!("hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let src = dir.join(source);
    let mut all = vec!["-i", src.to_str().unwrap()];
    all.extend(args);
    let run = inventory(&all);
    std::fs::remove_dir_all(&dir).unwrap();
    run
}

#[test]
fn group_loops_are_refused_as_ansible_refuses_them() {
    let run = hostile(
        "all-child",
        &[("h.ini", "[x]\nh1\n[x:children]\nall\n")],
        "h.ini",
        &["--list"],
    );
    assert_bad_input(
        &run,
        "h.ini:4:",
        "adding `all` as a child of `x` makes a loop of groups",
    );
    let run = hostile(
        "cycle",
        &[(
            "h.ini",
            "[a:children]\nb\n[b:children]\nc\n[c:children]\na\n",
        )],
        "h.ini",
        &["--list"],
    );
    assert_bad_input(&run, "h.ini:6:", "makes a loop of groups");
}

#[test]
fn blow_ups_are_refused_or_bounded() {
    // Aliases that expand into each other (369 bytes wanting gigabytes).
    let mut laughs = String::from("all:\n  vars:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("    a{i}: &a{i} [{refs}]\n"));
    }
    let run = hostile("laughs", &[("h.yml", &laughs)], "h.yml", &["--list"]);
    assert_bad_input(&run, "h.yml:", "grows past 2000000 nodes");
    // An INI value nested far past Python's limit stays text, as in Ansible.
    let deep = format!("h1 v={}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let run = hostile("deep-ini", &[("h.ini", &deep)], "h.ini", &["--host", "h1"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("[[[[["), "{run:?}");
    // Ranges within their own bound each, too many together.
    let lines: String = (0..10).map(|i| format!("g{i}h[1:99999]\n")).collect();
    let run = hostile("ranges", &[("h.ini", &lines)], "h.ini", &["--graph"]);
    assert_bad_input(&run, "h.ini:3:", "more than 200000 hosts in all");
}

#[test]
fn hosts_are_never_silently_dropped() {
    // A subfolder of an inventory folder is read, as Ansible reads it.
    let run = hostile(
        "subfolder",
        &[
            ("inv/a.ini", "[web]\nw1\n"),
            ("inv/prod/b.ini", "[db]\nd1\n"),
        ],
        "inv",
        &["--list"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let list = run.json();
    assert_eq!(list["db"]["hosts"], serde_json::json!(["d1"]), "{run:?}");
    // A second YAML document is refused rather than ignored.
    let run = hostile(
        "two-docs",
        &[(
            "h.yml",
            "all:\n  hosts:\n    a1:\n---\nall:\n  hosts:\n    a2:\n",
        )],
        "h.yml",
        &["--list"],
    );
    assert_bad_input(&run, "h.yml:4:1", "expected a single document");
}

#[test]
fn an_overflowing_subscript_is_an_error_not_the_first_host() {
    let dir = common::scratch().join(format!("subscript-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inv = dir.join("h.ini");
    std::fs::write(&inv, "[web]\nw1\nw2\n").unwrap();
    let run = common::drover_in(
        &dir,
        &[
            "run",
            "-i",
            inv.to_str().unwrap(),
            "web[99999999999999999999]",
            "--",
            "true",
        ],
    );
    assert_bad_input(&run, "web[99999999999999999999]", "is out of range");
}

#[test]
fn an_invalid_port_is_refused_naming_the_host() {
    for (i, port) in ["99999", "-1", "abc", "0"].iter().enumerate() {
        let dir = common::scratch().join(format!("port-{i}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let inv = dir.join("h.ini");
        std::fs::write(
            &inv,
            format!("w1 ansible_host=127.0.0.2 ansible_port={port}\n"),
        )
        .unwrap();
        let run = common::drover_in(
            &dir,
            &["run", "-i", inv.to_str().unwrap(), "all", "--", "true"],
        );
        assert_bad_input(&run, "host `w1`", "is not a port number");
    }
}

/// drover in a repository made for Ansible: ansible.cfg's `inventory` and `roles_path` (relative to
/// the file) stand in for -i and --roles-path, ANSIBLE_CONFIG names another file, a flag beats both,
/// and an ansible.cfg in a world-writable folder is not read (anybody could have planted it).
#[test]
fn ansible_cfg_gives_the_inventory_and_roles_path() {
    let repo = common::scratch().join(format!("ansible-cfg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    for (name, text) in [
        (
            "ansible.cfg",
            "[defaults]\ninventory = inventories/hosts.ini ; the lab\nroles_path = shared/roles\n",
        ),
        (
            "inventories/hosts.ini",
            "[web]\nweb01 ansible_host=10.0.0.1\n",
        ),
        ("other.ini", "db01\n"),
        ("shared/roles/base/tasks/main.yml", "- command: \"true\"\n"),
        ("playbooks/site.yml", "- hosts: web\n  roles: [base]\n"),
    ] {
        let path = repo.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let run_in = |dir: &Path, args: &[&str], env: &[(&str, &str)]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_drover"))
            .args(args)
            .current_dir(dir)
            .env("HOME", &repo)
            .env("NO_COLOR", "1")
            .env_remove("ANSIBLE_CONFIG")
            .env_remove("ANSIBLE_INVENTORY")
            .env_remove("ANSIBLE_ROLES_PATH")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run_in(&repo, &["inventory", "--graph"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("web01"), "{out}");
    let (code, out, err) = run_in(
        &repo,
        &["push", "playbooks/site.yml", "--syntax-check"],
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, _) = run_in(&repo, &["inventory", "--graph", "-i", "other.ini"], &[]);
    assert!(out.contains("db01") && !out.contains("web01"), "{out}");
    // From elsewhere, ANSIBLE_CONFIG names the file.
    let cfg = repo.join("ansible.cfg");
    let (code, out, _) = run_in(
        &repo.join("playbooks"),
        &["inventory", "--graph"],
        &[("ANSIBLE_CONFIG", cfg.to_str().unwrap())],
    );
    assert_eq!(code, 0);
    assert!(out.contains("web01"), "{out}");
    // Without it there is no inventory, and the error says where one comes from.
    let (code, _, err) = run_in(&repo.join("playbooks"), &["inventory", "--graph"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "no inventory: give -i INVENTORY, or set `inventory =` under [defaults] in ansible.cfg"
        ),
        "{err}"
    );
    // A world-writable folder's ansible.cfg is not read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&repo, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, _, err) = run_in(&repo, &["inventory", "--graph"], &[]);
    std::fs::set_permissions(&repo, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&repo).unwrap();
}
