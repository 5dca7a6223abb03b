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
