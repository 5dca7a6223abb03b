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
    let run = run_with_key_file(&dir, &dir.join("notakey"));
    assert_bad_input(&run, "notakey", "not a usable private key");
}
