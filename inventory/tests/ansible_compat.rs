//! drover's `--list` and `--graph` against what `ansible-inventory` printed for the same files
//! (fixtures/regenerate.sh made the expected outputs).

use std::path::{Path, PathBuf};

use drover_inventory::Inventory;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn expected(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).unwrap()
}

/// Python's json.dumps(indent=4) layout, which serde_json's pretty printer matches with a 4-space indent.
fn pretty(value: &serde_json::Value) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    value.serialize(&mut ser).unwrap();
    String::from_utf8(out).unwrap() + "\n"
}

fn assert_list(sources: &[&str], expected_file: &str) {
    let sources: Vec<PathBuf> = sources.iter().map(|s| fixture(s)).collect();
    let inv = Inventory::load(&sources).unwrap();
    let want = expected(expected_file);
    let got = pretty(&inv.to_list_json());
    let want_json: serde_json::Value = serde_json::from_str(&want).unwrap();
    assert_eq!(
        inv.to_list_json(),
        want_json,
        "--list differs from ansible-inventory"
    );
    assert_eq!(got, want, "--list text differs from ansible-inventory");
}

#[test]
fn ini_list_matches_ansible() {
    assert_list(&["ini_fleet/hosts.ini"], "ini_fleet/expected-list.json");
}

#[test]
fn yaml_list_matches_ansible() {
    assert_list(
        &["yaml_fleet/inventory.yml"],
        "yaml_fleet/expected-list.json",
    );
}

#[test]
fn several_sources_match_ansible() {
    assert_list(
        &["ini_fleet/hosts.ini", "yaml_fleet/inventory.yml"],
        "multi-expected-list.json",
    );
}

#[test]
fn graphs_match_ansible() {
    for (src, want) in [
        ("ini_fleet/hosts.ini", "ini_fleet/expected-graph.txt"),
        ("yaml_fleet/inventory.yml", "yaml_fleet/expected-graph.txt"),
    ] {
        let inv = Inventory::load(&[fixture(src)]).unwrap();
        assert_eq!(inv.to_graph("all").unwrap(), expected(want), "{src}");
    }
}

/// `inventory_file` and `inventory_dir`, as Ansible gives them: the absolute path of the file that
/// first named the host, and its folder; a host from a `host1,host2,` list has neither.
#[test]
fn hosts_know_the_inventory_file_that_named_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("site")).unwrap();
    std::fs::write(dir.path().join("site/a.ini"), "[web]\nweb1\n").unwrap();
    std::fs::write(
        dir.path().join("site/b.yml"),
        "all:\n  hosts:\n    web1:\n    db1:\n",
    )
    .unwrap();
    let inv = Inventory::load(&[PathBuf::from("adhoc1,"), dir.path().join("site")]).unwrap();
    let site = dir.path().join("site");
    let web = inv.template_vars("web1");
    assert_eq!(
        web["inventory_file"],
        site.join("a.ini").display().to_string()
    );
    assert_eq!(web["inventory_dir"], site.display().to_string());
    assert_eq!(
        inv.template_vars("db1")["inventory_file"],
        site.join("b.yml").display().to_string()
    );
    assert!(!inv.template_vars("adhoc1").contains_key("inventory_dir"));
}
