//! `drover report` and `drover runs` on a journal kept from a real run: the incident test's
//! (`tests/incident.rs`), halted at the first host by a failed roll call, with the impact gate's
//! prediction beside it, then resumed through a reboot of every host. The Markdown is held against
//! a golden file; `DROVER_BLESS=1` writes it anew after a deliberate change (and the journal itself
//! comes from `DROVER_KEEP_RUN=tests/fixtures/report/runs cargo test --test incident`).

mod common;

use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/report")
}

/// The one run kept in the fixtures.
fn run_id() -> String {
    let mut ids: Vec<String> = std::fs::read_dir(fixtures().join("runs"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids.remove(0)
}

fn drover(args: &[&str]) -> common::Run {
    let runs = fixtures().join("runs");
    let mut all = args.to_vec();
    all.extend(["--runs-dir", runs.to_str().unwrap()]);
    common::drover_in(&std::env::temp_dir(), &all)
}

#[test]
fn the_markdown_of_a_real_run_matches_its_golden_file() {
    let id = run_id();
    let md = drover(&["report", &id, "--format", "markdown"]);
    assert_eq!(md.code, 0, "{md:?}");
    let golden = fixtures().join("incident.md");
    if std::env::var_os("DROVER_BLESS").is_some() {
        std::fs::write(&golden, &md.stdout).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    assert!(
        md.stdout == want,
        "the report differs from {}; if the change is meant, run with DROVER_BLESS=1\n{}",
        golden.display(),
        md.stdout
    );
}

#[test]
fn the_same_run_as_json_html_and_in_the_list() {
    let id = run_id();
    let json = drover(&["report", &id, "--format", "json"]);
    assert_eq!(json.code, 0, "{json:?}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["condition"], "done");
    assert_eq!(doc["attempts"], 2);
    let deb01 = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "deb01")
        .unwrap();
    // The failed roll call, with the prediction beside what was seen.
    let first = &deb01["rollcalls"][0];
    let no = first["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "app-no")
        .unwrap();
    assert_eq!(no["back"], false, "{no}");
    assert!(
        no["predicted"]
            .as_str()
            .unwrap()
            .starts_with("WILL NOT RETURN: restart: no: nothing starts it again"),
        "{no}"
    );
    assert_eq!(deb01["restarts"].as_array().unwrap().len(), 2, "{deb01}");

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("run.html");
    let html = drover(&["report", "last", "-o", page.to_str().unwrap()]);
    assert_eq!(html.code, 0, "{html:?}");
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(text.starts_with("<!doctype html>"), "{text}");
    assert!(!text.contains("<script"), "a script in the page");
    assert!(text.contains("default-src 'none'"), "no CSP");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&page).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let listed = drover(&["runs"]);
    assert_eq!(listed.code, 0, "{listed:?}");
    let line = listed.stdout.lines().nth(1).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[0], id);
    let status = words.iter().position(|w| *w == "done").unwrap();
    assert_eq!(
        words[status + 1..status + 5],
        ["0", "2", "0", "0"],
        "{line}"
    );

    let missing = drover(&["report", "20990101T000000-0000"]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing.stderr.contains("no run `20990101T000000-0000`"),
        "{missing:?}"
    );
    let bad = drover(&["report", "../etc"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}
