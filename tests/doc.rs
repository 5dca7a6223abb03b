//! The module reference comes from the modules' own declarations: `drover doc` prints it, and
//! docs/modules.md is exactly its Markdown, so the reference cannot drift from what drover accepts.

mod common;

use std::path::Path;

fn doc(args: &[&str]) -> common::Run {
    let mut all = vec!["doc"];
    all.extend(args);
    common::drover_in(&common::scratch(), &all)
}

#[test]
fn docs_modules_md_is_what_drover_doc_writes() {
    let run = doc(&["--markdown"]);
    assert_eq!(run.code, 0, "{run:?}");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/modules.md");
    let kept = std::fs::read_to_string(&file).unwrap();
    assert!(
        kept == run.stdout,
        "docs/modules.md is out of date: run `drover doc --markdown > docs/modules.md`"
    );
    // Every module drover accepts is in it, with its parameters.
    for spec in drover_roles::MODULES {
        assert!(
            kept.contains(&format!("\n## {}\n", spec.name)),
            "{}",
            spec.name
        );
        for p in spec.params {
            assert!(
                kept.contains(&format!("| `{}` |", p.name)),
                "{}.{}",
                spec.name,
                p.name
            );
        }
    }
}

#[test]
fn one_module_by_any_of_its_names_and_an_unknown_one_refused() {
    let run = doc(&["ansible.builtin.apt"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("apt: "), "{run:?}");
    assert!(
        run.stdout
            .contains("  update_cache       boolean: run apt-get update first"),
        "{run:?}"
    );
    let run = doc(&["community.docker.docker_compose_v2"]);
    assert!(run.stdout.starts_with("docker_compose: "), "{run:?}");
    let run = doc(&["docker_swarm_service"]);
    common::assert_bad_input(&run, "`docker_swarm_service`", "drover doc");
    let run = doc(&[]);
    assert!(
        run.stdout.lines().count() > drover_roles::MODULES.len(),
        "{run:?}"
    );
}
