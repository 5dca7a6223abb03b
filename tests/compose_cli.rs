//! `drover compose lint|fix` and `drover render` through the binary: exit codes, files left alone on
//! --check and on bad input, and templates linted as rendered per host.

mod common;

use std::path::{Path, PathBuf};

use common::drover_in;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../compose/tests/fixtures")
        .join(name)
}

/// A copy of a fixture in a fresh folder, to fix in place.
fn copy(name: &str, tag: &str) -> (PathBuf, PathBuf) {
    let dir = common::scratch().join(format!("compose-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::copy(fixture(name), &path).unwrap();
    (dir, path)
}

#[test]
fn lint_exit_codes_say_whether_anything_is_wrong() {
    let run = drover_in(
        &common::scratch(),
        &[
            "compose",
            "lint",
            fixture("srsilo-compose.yml.j2").to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout.contains(
            "srsilo-compose.yml.j2:7: service `lapisOpen`: restart: unless-stopped stays down"
        ),
        "{run:?}"
    );
    let (dir, path) = copy("vpipe-compose.yml", "clean");
    let run = drover_in(&dir, &["compose", "fix", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = drover_in(&dir, &["compose", "lint", path.to_str().unwrap(), "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json(), serde_json::json!([]));
}

#[test]
fn fix_check_prints_a_diff_and_writes_nothing() {
    let (dir, path) = copy("vpipe-compose.yml", "check");
    let before = std::fs::read(&path).unwrap();
    let run = drover_in(&dir, &["compose", "fix", "--check", path.to_str().unwrap()]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("+    restart: always\r\n"), "{run:?}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "--check wrote the file"
    );
    let run = drover_in(
        &dir,
        &["compose", "fix", path.to_str().unwrap(), "--keep", "worker"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(after.matches("restart: always").count(), 2);
    let run = drover_in(
        &dir,
        &[
            "compose",
            "fix",
            "--check",
            path.to_str().unwrap(),
            "--keep",
            "worker",
        ],
    );
    assert_eq!(
        run.code, 0,
        "fixing a fixed file must change nothing: {run:?}"
    );
}

#[test]
fn bad_input_leaves_every_file_byte_identical() {
    let (dir, good) = copy("vpipe-compose.yml", "bad");
    let broken = dir.join("broken-compose.yml");
    std::fs::copy(fixture("broken-compose.yml"), &broken).unwrap();
    let before = (
        std::fs::read(&good).unwrap(),
        std::fs::read(&broken).unwrap(),
    );
    let run = drover_in(
        &dir,
        &[
            "compose",
            "fix",
            good.to_str().unwrap(),
            broken.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("broken-compose.yml:5:1: invalid YAML"),
        "{run:?}"
    );
    assert_eq!(
        (
            std::fs::read(&good).unwrap(),
            std::fs::read(&broken).unwrap()
        ),
        before,
        "a file changed although the run failed"
    );
}

#[test]
fn templates_lint_as_rendered_per_host_and_render_prints_or_writes() {
    let dir = common::scratch().join(format!("compose-render-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let inv = dir.join("hosts.yml");
    std::fs::write(
        &inv,
        "all:\n  vars:\n    apps: [{name: api, image: 'example/api:1', critical: true}]\n  hosts:\n    safe:\n      proxy_restart: always\n    risky:\n      proxy_restart: unless-stopped\n",
    )
    .unwrap();
    let template = fixture("nested-compose.yml.j2");
    let run = drover_in(
        &dir,
        &[
            "compose",
            "lint",
            "-i",
            inv.to_str().unwrap(),
            template.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout
            .contains("(rendered for risky):7: service `proxy`: restart: unless-stopped"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("(rendered for safe)"), "{run:?}");
    let run = drover_in(
        &dir,
        &[
            "render",
            "-i",
            inv.to_str().unwrap(),
            template.to_str().unwrap(),
            "--host",
            "risky",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "services:\n  api:\n    image: \"example/api:1\"\n    restart: always\n  proxy:\n    image: nginx:1.25\n    restart: unless-stopped\n"
    );
    let out = dir.join("out");
    let run = drover_in(
        &dir,
        &[
            "render",
            "-i",
            inv.to_str().unwrap(),
            template.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        std::fs::read_to_string(out.join("safe/nested-compose.yml"))
            .unwrap()
            .contains("restart: always\n  proxy:")
    );
    // A failed render names the host, the template and the line.
    std::fs::write(&inv, "all:\n  hosts:\n    h1:\n").unwrap();
    let srsilo = fixture("srsilo-compose.yml.j2");
    let run = drover_in(
        &dir,
        &[
            "render",
            "-i",
            inv.to_str().unwrap(),
            srsilo.to_str().unwrap(),
            "--host",
            "h1",
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("host h1: ")
            && run.stderr.contains(
                "srsilo-compose.yml.j2:6: undefined variable (`lapis_image`, `lapis_version`)"
            ),
        "{run:?}"
    );
}

#[test]
fn fix_writes_through_a_symlink_to_its_file_and_refuses_jinja_that_does_not_parse() {
    let (dir, real) = copy("vpipe-compose.yml", "symlink");
    let link = dir.join("linked-compose.yml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let before = std::fs::read_to_string(&real).unwrap();
    let run = drover_in(&dir, &["compose", "fix", link.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    // The link is still a link, and the file it points to is the one fixed.
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let after = std::fs::read_to_string(&real).unwrap();
    assert_ne!(after, before, "the real file was not fixed");
    let lint = drover_in(&dir, &["compose", "lint", real.to_str().unwrap()]);
    assert_eq!(lint.code, 0, "{lint:?}");
    // Nothing else is left in the folder.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);

    // A template whose Jinja does not parse is bad input: exit 2, nothing written.
    let template = dir.join("compose.yml.j2");
    let text =
        "services:\n  web:\n    image: x\n    restart: unless-stopped\n    labels: {{ broken }\n";
    std::fs::write(&template, text).unwrap();
    let run = drover_in(&dir, &["compose", "fix", template.to_str().unwrap()]);
    common::assert_bad_input(&run, "compose.yml.j2:5", "syntax error");
    assert_eq!(std::fs::read_to_string(&template).unwrap(), text);
}

/// Templates real roles write, that a plain Jinja mask cannot read as YAML: a line that only splices
/// text in, a macro definition, a line that builds its own indentation. They are read (those lines
/// are not linted), the services around them are; and a service whose only policy is
/// `deploy.restart_policy` gets its condition fixed in place, as Compose v2 applies it.
#[test]
fn templates_real_roles_write_are_read_and_deploy_policies_fixed() {
    let dir = common::scratch().join(format!("compose-real-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("docker-compose.yml.j2");
    let text = "{% macro envs(vars) %}\n{% for k, v in vars.items() %}\n      {{ k }}: {{ v }}\n{% endfor %}\n{% endmacro %}\nservices:\n  web:\n    image: nginx\n    {{ web_extra_options | indent(4) }}\n    restart: unless-stopped\n  worker:\n    image: worker\n    environment:\n{{ envs(worker_env) }}\n{% for key, value in labels.items() %}\n{{ '  ' * 2 }}{{ key }}: {{ value }}\n{% endfor %}\n    deploy:\n      restart_policy:\n        condition: on-failure\n";
    std::fs::write(&path, text).unwrap();
    let run = drover_in(&dir, &["compose", "lint", path.to_str().unwrap()]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout
            .contains(":10: service `web`: restart: unless-stopped stays down"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(":20: service `worker` has no restart:, so Compose applies deploy.restart_policy.condition: on-failure"),
        "{run:?}"
    );
    let run = drover_in(&dir, &["compose", "fix", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        fixed,
        text.replace("restart: unless-stopped", "restart: always")
            .replace("condition: on-failure", "condition: any")
    );
}

/// A `# drover: keep-restart` comment on the last line of one service keeps that service only,
/// through the binary: the next service's `unless-stopped` and the one after's missing policy are
/// still reported (the incident drover exists for).
#[test]
fn a_keep_comment_on_one_service_does_not_hide_the_next() {
    let dir = common::scratch().join(format!("compose-keep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("docker-compose.yml");
    std::fs::write(
        &path,
        "services:\n  db:\n    image: postgres\n    restart: \"no\"  # drover: keep-restart\n  app:\n    image: app\n    restart: unless-stopped\n  cron:\n    image: cron\n",
    )
    .unwrap();
    let run = drover_in(&dir, &["compose", "lint", path.to_str().unwrap()]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(!run.stdout.contains("service `db`"), "{run:?}");
    assert!(
        run.stdout
            .contains(":7: service `app`: restart: unless-stopped"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains(":8: service `cron` has no restart policy"),
        "{run:?}"
    );
}

/// `drover render` writes a role template exactly as ansible-core 2.19's template module wrote it for
/// the same inventory (the expected text below is that module's output): `ansible_managed | comment`,
/// a variable whose value is a template, `hostvars`, sorted `group_names`, an included template,
/// escapes in string literals, `indent` of `to_nice_yaml`, and the file's trailing newlines.
#[test]
fn render_writes_a_template_as_the_template_module_does() {
    let dir = common::scratch().join(format!("render-ansible-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let inv = dir.join("inv.ini");
    std::fs::write(
        &inv,
        "[web]\nh1 base=/opt/app tools=\"{{ base }}/tools\"\n[db]\nh1\n",
    )
    .unwrap();
    std::fs::write(dir.join("part.inc"), "part {{ inventory_hostname }}\n").unwrap();
    let template = dir.join("app.conf.j2");
    std::fs::write(
        &template,
        "{{ ansible_managed | comment }}\npath={{ tools }}\nbase={{ hostvars['h1']['base'] }}\ngroups={{ group_names }}\n{% include \"part.inc\" %}\n{{ \"web-01\" | regex_replace(\"^(\\\\w+)-(.*)$\", \"\\\\2:\\\\1\") }}\nx:\n  {{ {'a': [1, 'b: c']} | to_nice_yaml | indent(2) }}\nend: {{ [1, 2] | to_yaml }}\n",
    )
    .unwrap();
    let run = drover_in(
        &dir,
        &[
            "render",
            "-i",
            inv.to_str().unwrap(),
            template.to_str().unwrap(),
            "--host",
            "h1",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "#\n# Ansible managed\n#\npath=/opt/app/tools\nbase=/opt/app\ngroups=['db', 'web']\npart h101:web\nx:\n  a:\n  - 1\n  - 'b: c'\n\nend: [1, 2]\n"
    );
}
