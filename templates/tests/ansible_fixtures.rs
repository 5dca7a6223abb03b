//! Every case in fixtures/cases.json rendered by drover must equal what Ansible itself rendered
//! (fixtures/regenerate.py wrote fixtures/expected.json with ansible-core's Templar).

use std::path::Path;

use drover_templates::Engine;

/// The cases and what ansible-core rendered for them.
fn fixtures() -> (serde_json::Value, serde_json::Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    (read("cases.json"), read("expected.json"))
}

fn lookup_root() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lookup_root")
        .display()
        .to_string()
}

#[test]
fn filters_and_tests_render_as_ansible_renders_them() {
    let (cases, expected) = fixtures();
    let mut vars = cases["vars"].as_object().unwrap().clone();
    // Lookups find files where regenerate.py's loader has its base folder.
    vars.insert("__drover_search".into(), serde_json::json!([lookup_root()]));
    let vars = &vars;
    // .cargo/config.toml sets DROVER_FIXTURE_ENV, which one case reads through lookup('env').
    assert_eq!(
        std::env::var("DROVER_FIXTURE_ENV").as_deref(),
        Ok("from-env")
    );
    let engine = Engine::new();
    let mut failures = Vec::new();
    for result in expected["results"].as_array().unwrap() {
        let template = result["template"].as_str().unwrap();
        let got = engine.render_str("case", template, vars);
        match (&got, result.get("output")) {
            (Ok(out), Some(want)) if out == want.as_str().unwrap() => {}
            (Err(_), None) => {}
            _ => failures.push(format!(
                "{template}\n   ansible: {}\n   drover:  {got:?}",
                result.get("output").unwrap_or(&result["error"])
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        expected["results"].as_array().unwrap().len(),
        failures.join("\n")
    );
}

/// Template files (the `template` module): string literals are Python strings there, `indent` keeps
/// the trailing newline, the newline after `{% raw %}` stays, FQCN filter and test names work.
#[test]
fn template_files_render_as_the_template_module_renders_them() {
    let (cases, expected) = fixtures();
    let vars = cases["vars"].as_object().unwrap();
    let engine = Engine::new();
    let files = expected["files"].as_array().unwrap();
    assert_eq!(files.len(), cases["files"].as_array().unwrap().len());
    for file in files {
        let template = file["template"].as_str().unwrap();
        let got = engine.render_file("case.j2", template, vars);
        assert_eq!(
            got.as_deref().ok(),
            file["output"].as_str(),
            "{template:?}: {got:?}"
        );
    }
}
