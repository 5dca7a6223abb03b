//! Lint and fix on compose files and templates of real-world shape: anchors and merge keys, x- fields,
//! profiles, restart under nested Jinja conditionals and loops, {% raw %}, $$ and ${VAR:-x}, trailing
//! spaces, CRLF. Every fixed file re-parses, equals its input except on restart lines, validates against
//! the official compose-spec schema once rendered, passes `docker-compose config -q` where that is
//! installed, and does not change when fixed again.

use std::path::{Path, PathBuf};

use drover_compose::{Options, fix, lint};

const FIXTURES: &[&str] = &[
    "srsilo-compose.yml.j2",
    "vpipe-compose.yml",
    "anchors-compose.yaml",
    "nested-compose.yml.j2",
];

/// Fixtures using compose-spec fields newer than Debian's docker-compose 1.29, which rejects them
/// whatever their restart policies: `depends_on.<svc>.restart` came with Compose v2.17.
const NEWER_THAN_COMPOSE_V1: &[&str] = &["vpipe-compose.yml"];

fn fixture(name: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

fn findings(name: &str) -> Vec<(usize, String, bool)> {
    let (path, text) = fixture(name);
    lint(&path, &text, &Options::default())
        .unwrap()
        .into_iter()
        .map(|f| (f.line, f.service, f.fix.is_some()))
        .collect()
}

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn lint_finds_exactly_the_policies_that_do_not_survive() {
    assert_eq!(
        findings("srsilo-compose.yml.j2"),
        [(7, s("lapisOpen"), true), (18, s("silo"), true)]
    );
    assert_eq!(
        findings("vpipe-compose.yml"),
        [
            (3, s("redis"), true),
            (7, s("streamlit"), true),
            (16, s("worker"), true)
        ]
    );
    assert_eq!(
        findings("anchors-compose.yaml"),
        [
            (3, s("api"), true),
            (3, s("web"), true),
            (3, s("metrics"), true),
            (23, s("cache"), true),
            (29, s("queue"), false),
            (30, s("batch"), false),
        ]
    );
    assert_eq!(
        findings("nested-compose.yml.j2"),
        [(8, s("{{ app.name }}"), true), (13, s("proxy"), true)]
    );
}

#[test]
fn messages_say_why() {
    let (path, text) = fixture("anchors-compose.yaml");
    let all = lint(&path, &text, &Options::default()).unwrap();
    assert!(
        all[0].message.contains("(inherited from line 3)"),
        "{}",
        all[0].message
    );
    assert!(
        all[3]
            .message
            .contains("unquoted, `no` is the boolean false in YAML 1.1"),
        "{}",
        all[3].message
    );
    assert!(
        all[4]
            .message
            .contains("deploy.restart_policy.condition: on-failure conflicts with restart: always"),
        "{}",
        all[4].message
    );
}

/// The lines that differ, as (before, after) pairs of changed or added lines.
fn changed_lines(before: &str, after: &str) -> Vec<String> {
    similar::TextDiff::from_lines(before, after)
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| c.value().to_string())
        .collect()
}

fn render(name: &str, text: &str) -> String {
    if !name.ends_with(".j2") {
        return text.to_string();
    }
    let (_, vars) = fixture(&name.replace(".j2", ".vars.yml"));
    let vars = drover_yaml::parse(&vars).unwrap().unwrap().to_json();
    drover_templates::Engine::new()
        .render_file(name, text, vars.as_object().unwrap())
        .unwrap()
}

fn schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/compose-spec.json");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn docker_compose_accepts(rendered: &str) -> Option<Result<(), String>> {
    let available = std::process::Command::new("docker-compose")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        return None;
    }
    let dir = std::env::temp_dir().join(format!(
        "drover-compose-{}-{}",
        std::process::id(),
        rendered.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("docker-compose.yml"), rendered).unwrap();
    let out = std::process::Command::new("docker-compose")
        .current_dir(&dir)
        .args(["config", "-q"])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

#[test]
fn fixed_files_change_only_restart_lines_parse_validate_and_are_stable() {
    let validator = schema();
    for name in FIXTURES {
        let (path, text) = fixture(name);
        let fixed = fix(&path, &text, &Options::default()).unwrap();
        assert_ne!(fixed.text, text, "{name}: nothing was fixed");
        for line in changed_lines(&text, &fixed.text) {
            assert!(
                line.trim_start().starts_with("restart:"),
                "{name}: a line other than a restart line changed: {line:?}"
            );
        }
        // Line endings survive: a CRLF file stays all CRLF.
        if text.contains("\r\n") {
            assert_eq!(
                fixed.text.matches('\n').count(),
                fixed.text.matches("\r\n").count(),
                "{name}: CRLF lost"
            );
        }
        // What is left is only what a rewrite of restart lines cannot fix.
        assert!(fixed.remaining.iter().all(|f| f.fix.is_none()));
        assert!(
            lint(&path, &fixed.text, &Options::default())
                .unwrap()
                .iter()
                .all(|f| f.fix.is_none()),
            "{name}: fixable findings remain"
        );
        // Idempotent.
        assert_eq!(
            fix(&path, &fixed.text, &Options::default()).unwrap().text,
            fixed.text,
            "{name}: fixing twice changed more"
        );
        // Rendered, it is valid compose.
        let rendered = render(name, &fixed.text);
        let doc = drover_yaml::parse(&rendered)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{rendered}"))
            .unwrap()
            .to_json();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{name}: not valid against compose-spec.json: {errors:?}"
        );
        if !NEWER_THAN_COMPOSE_V1.contains(name)
            && let Some(result) = docker_compose_accepts(&rendered)
        {
            assert_eq!(
                result,
                Ok(()),
                "{name}: docker-compose config -q refused the fixed file"
            );
        }
    }
}

#[test]
fn the_other_policy_and_kept_services() {
    let (path, text) = fixture("srsilo-compose.yml.j2");
    let opts = Options {
        policy: "always".into(),
        keep: vec!["silo".into()],
    };
    let fixed = fix(&path, &text, &opts).unwrap();
    assert!(
        fixed
            .text
            .contains("    restart: always   # survived nothing on 2025-11-20\n")
    );
    assert!(
        fixed
            .text
            .contains("image: \"{{ silo_image }}\"\n    restart: unless-stopped\n"),
        "kept service changed"
    );
    assert!(
        fixed
            .text
            .contains("restart: \"no\"   # drover: keep-restart"),
        "a keep-restart comment was ignored"
    );
}

#[test]
fn bad_yaml_is_an_error_with_its_position() {
    let (path, text) = fixture("broken-compose.yml");
    let err = fix(&path, &text, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("broken-compose.yml:5:1: invalid YAML: while parsing a flow sequence, did not find expected ',' or ']'") || err.contains("broken-compose.yml:5:"), "{err}");
}

/// Found by the compose fuzz target: NULs where the policy should be made the YAML reader stop
/// there, and the fix then claimed to fix a line it could not rewrite. A NUL is now invalid YAML.
#[test]
fn control_characters_are_invalid_yaml_not_the_end_of_the_text() {
    let text = "services:\n  web:\n    image: nginx\n    restart:\0\0\0\0 [unless-stopped\n";
    let path = Path::new("fuzzed.yml");
    let err = fix(path, text, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fuzzed.yml:4:13:") && err.contains("control character U+0000 is not allowed"),
        "{err}"
    );
}

/// A keep comment applies to its own service only: at the end of one service's last line, or
/// indented as its body, it does not exempt the next service (the incident drover exists for).
#[test]
fn a_keep_comment_does_not_reach_the_next_service() {
    let text = "services:\n  db:\n    image: postgres\n    restart: \"no\"  # drover: keep-restart\n  app:\n    image: app\n    restart: unless-stopped\n  worker:\n    image: w\n    # drover: keep-restart\n  cron:\n    image: c\n  # drover: keep-restart\n  kept:\n    image: k\n";
    let found: Vec<(usize, String)> = lint(Path::new("keep.yml"), text, &Options::default())
        .unwrap()
        .into_iter()
        .map(|f| (f.line, f.service))
        .collect();
    assert_eq!(found, [(7, s("app")), (8, s("worker")), (11, s("cron"))]);
}
