//! Bad input given on the command line rather than in the inventory: extra-vars files, compose files
//! for `drover impact`, key files. Each is refused with exit 2 and an `error:` line naming the file
//! (and line and column where there is one), before any host is contacted.

mod common;

use std::path::PathBuf;

use common::{assert_bad_input, drover_in, run_with_key_file};

/// A folder with a one-host inventory (hosts.ini), a one-task playbook (pb.yml) and `files`.
fn workdir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = common::scratch().join(format!("bad-input-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hosts.ini"), "[web]\nw1 ansible_host=127.0.0.2\n").unwrap();
    std::fs::write(
        dir.join("pb.yml"),
        "- hosts: all\n  tasks:\n    - command: \"true\"\n",
    )
    .unwrap();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn an_extra_vars_file_that_is_bad_yaml_missing_or_not_a_mapping_is_refused() {
    let dir = workdir(
        "extra-vars",
        &[("bad.yml", "x: 1\ny: {a: [\n"), ("list.yml", "- 1\n")],
    );
    let push = |file: &str| {
        let arg = format!("@{}", dir.join(file).display());
        let (pb, inv) = (dir.join("pb.yml"), dir.join("hosts.ini"));
        let args = [
            "push",
            pb.to_str().unwrap(),
            "-i",
            inv.to_str().unwrap(),
            "-e",
            &arg,
        ];
        drover_in(&dir, &args)
    };
    assert_bad_input(&push("bad.yml"), "/bad.yml:3:1", "invalid YAML");
    assert_bad_input(&push("missing.yml"), "/missing.yml", "No such file");
    assert_bad_input(
        &push("list.yml"),
        "/list.yml",
        "expected a mapping of variables",
    );
}

#[test]
fn a_compose_file_for_impact_that_is_bad_yaml_names_its_line() {
    let dir = workdir(
        "impact-compose",
        &[("c.yml", "services:\n  a:\n    image: x\n    restart: [no\n")],
    );
    let (inv, compose) = (dir.join("hosts.ini"), dir.join("c.yml"));
    let args = [
        "impact",
        "-i",
        inv.to_str().unwrap(),
        "--compose",
        compose.to_str().unwrap(),
    ];
    let run = drover_in(&dir, &args);
    assert_bad_input(&run, "/c.yml (rendered for w1):5:1", "invalid YAML");
}

#[test]
fn a_key_file_that_cannot_be_read_is_refused_before_connecting() {
    // Tests run as root, for whom a mode-000 file is still readable; a folder in place of the key
    // is the read failure that root gets too.
    let dir = workdir("key", &[]);
    std::fs::create_dir_all(dir.join("keydir")).unwrap();
    let run = run_with_key_file(&dir, &dir.join("keydir"));
    assert_bad_input(&run, "keydir", "cannot read: Is a directory");
}

#[test]
fn a_key_file_readable_by_others_is_refused_as_openssh_refuses_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workdir("key-open", &[("id_open", "not even a key\n")]);
    let key = dir.join("id_open");
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
        let run = run_with_key_file(&dir, &key);
        assert_bad_input(
            &run,
            "id_open",
            &format!("is readable by others (mode {mode:04o})"),
        );
    }
    // At 0600 the same file gets as far as being read as a key.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = run_with_key_file(&dir, &key);
    assert_bad_input(&run, "id_open", "not a usable private key");
}

#[test]
fn malformed_yaml_in_a_vars_file_or_a_role_names_that_file() {
    let dir = workdir("roles", &[("vars.yml", "a: 1\n")]);
    std::fs::create_dir_all(dir.join("roles/web/defaults")).unwrap();
    std::fs::create_dir_all(dir.join("roles/web/tasks")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write(
        "site.yml",
        "- hosts: all\n  vars_files:\n    - vars.yml\n  roles:\n    - web\n",
    );
    write("roles/web/tasks/main.yml", "- debug: msg=hi\n");
    write("roles/web/defaults/main.yml", "x: 1\n");
    let push = || {
        let (pb, inv) = (dir.join("site.yml"), dir.join("hosts.ini"));
        drover_in(
            &dir,
            &["push", pb.to_str().unwrap(), "-i", inv.to_str().unwrap()],
        )
    };
    write("vars.yml", "a: [1\n");
    assert_bad_input(&push(), "vars.yml:2:1", "invalid YAML");
    write("vars.yml", "a: 1\n");
    write("roles/web/defaults/main.yml", "x: {1\n");
    assert_bad_input(&push(), "roles/web/defaults/main.yml:2:1", "invalid YAML");
    write("roles/web/defaults/main.yml", "x: 1\n");
    write("roles/web/tasks/main.yml", "- debug: msg=hi\n  when: [\n");
    assert_bad_input(&push(), "roles/web/tasks/main.yml:3:1", "invalid YAML");
}

#[test]
fn an_output_dir_that_cannot_be_made_or_a_bad_max_output_is_refused() {
    let dir = workdir("output", &[("file", "")]);
    let inv = dir.join("hosts.ini");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "-i", inv.to_str().unwrap(), "all"];
        args.extend(extra);
        args.extend(["--", "true"]);
        drover_in(&dir, &args)
    };
    // A path under a plain file cannot be a folder.
    let under_file = dir.join("file/out");
    assert_bad_input(
        &run(&["--output-dir", under_file.to_str().unwrap()]),
        &format!("--output-dir {}", under_file.display()),
        "Not a directory",
    );
    assert_bad_input(
        &run(&["--max-output", "10MB"]),
        "--max-output",
        "`10MB` is not a size",
    );
}

/// A template that does not parse is refused when the playbook is read, with its position, before
/// any host is touched; `--syntax-check` does only that, without an inventory.
#[test]
fn templates_that_do_not_parse_are_refused_before_any_host_is_touched() {
    let dir = workdir(
        "syntax",
        &[
            (
                "format.yml",
                "- hosts: all\n  tasks:\n    - shell: docker ps --format '{{.Names}}'\n",
            ),
            (
                "when.yml",
                "- hosts: all\n  tasks:\n    - command: \"true\"\n      when: x ==\n",
            ),
            (
                "file.yml",
                "- hosts: all\n  tasks:\n    - template: {src: app.j2, dest: /tmp/app}\n",
            ),
            ("app.j2", "line 1\n{% if x %}\n{{ y }\n{% endif %}\n"),
        ],
    );
    let check = |pb: &str| drover_in(&dir, &["push", "--syntax-check", pb]);
    let format = dir.join("format.yml");
    assert_bad_input(
        &check(format.to_str().unwrap()),
        &format!("{}:3:14: shell: syntax error", format.display()),
        "{% raw %}",
    );
    let when = dir.join("when.yml");
    assert_bad_input(
        &check(when.to_str().unwrap()),
        &format!("{}:4:13: when", when.display()),
        "cannot parse expression `x ==`",
    );
    let file = dir.join("file.yml");
    assert_bad_input(
        &check(file.to_str().unwrap()),
        &format!(
            "{}:3:7: template {}:3",
            file.display(),
            dir.join("app.j2").display()
        ),
        "syntax error",
    );
    // A real push is refused the same way, before it connects to anyone or writes a journal.
    let runs = dir.join("runs");
    let inv = dir.join("hosts.ini");
    let push = drover_in(
        &dir,
        &[
            "push",
            "-i",
            inv.to_str().unwrap(),
            file.to_str().unwrap(),
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    );
    assert_bad_input(&push, "file.yml:3:7: template", "syntax error");
    assert!(!runs.exists(), "a refused push leaves no journal");

    std::fs::write(dir.join("app.j2"), "{{ y }}\n").unwrap();
    let ok = check(file.to_str().unwrap());
    assert_eq!(ok.code, 0, "{ok:?}");
    assert_eq!(
        ok.stdout,
        format!("playbook: {}: 1 play, syntax OK\n", file.display())
    );
}

#[test]
fn what_drover_would_ignore_is_refused_when_the_playbook_is_read() {
    let cases = [
        (
            "- hosts: all\n  module_defaults:\n    command:\n      chdir_typo: /srv\n  tasks:\n    - command: \"true\"\n",
            "pb.yml:4:7",
            "unknown key `chdir_typo` in module_defaults for module `command`",
        ),
        (
            "- hosts: all\n  tasks:\n    - file: {path: /srv, state: directory, attributes: +i}\n",
            "pb.yml:3:",
            "unknown key `attributes` in module `file`",
        ),
        (
            "- hosts: all\n  tasks:\n    - copy: {content: x, dest: /tmp/x, unsafe_writes: true}\n",
            "pb.yml:3:",
            "unknown key `unsafe_writes` in module `copy`",
        ),
        (
            "- hosts: all\n  tasks:\n    - reboot: {}\n      retries: 3\n      until: false\n",
            "pb.yml:4:7",
            "`until`/`retries` are not supported on it",
        ),
    ];
    for (i, (playbook, at, what)) in cases.into_iter().enumerate() {
        let dir = workdir(&format!("ignored-{i}"), &[("pb.yml", playbook)]);
        let pb = dir.join("pb.yml");
        let run = drover_in(&dir, &["push", pb.to_str().unwrap(), "--syntax-check"]);
        assert_bad_input(&run, at, what);
    }
    // A handler reached through `listen` or `role : name` is found.
    let dir = workdir(
        "notify-ok",
        &[(
            "pb.yml",
            "- hosts: all\n  tasks:\n    - command: \"true\"\n      notify: [restart web, \"{{ dynamic }}\"]\n  handlers:\n    - name: bounce\n      command: \"true\"\n      listen: restart web\n",
        )],
    );
    let run = drover_in(
        &dir,
        &[
            "push",
            dir.join("pb.yml").to_str().unwrap(),
            "--syntax-check",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn waits_and_templates_that_would_blow_up_are_refused() {
    let dir = workdir("blow-up", &[("t.j2", "{{ 'x' | indent(10**10) }}\n")]);
    let inv = dir.join("hosts.ini");
    for flag in ["--timeout", "--connect-timeout"] {
        let run = drover_in(
            &dir,
            &[
                "run",
                "-i",
                inv.to_str().unwrap(),
                "all",
                flag,
                "1e300",
                "--",
                "true",
            ],
        );
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.contains("longer than drover waits for anything"),
            "{run:?}"
        );
        assert!(!run.stderr.contains("panicked"), "{run:?}");
    }
    let started = std::time::Instant::now();
    let run = drover_in(
        &dir,
        &[
            "render",
            "-i",
            inv.to_str().unwrap(),
            dir.join("t.j2").to_str().unwrap(),
            "--host",
            "w1",
        ],
    );
    assert_bad_input(&run, "t.j2:1", "more work or output than drover allows");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// Ansible flags drover lacks say what drover does instead, and never suggest passing them after
/// `--` (where `drover run` would make them part of the shell command).
#[test]
fn ansible_flags_drover_lacks_say_what_to_do_instead() {
    let dir = workdir("ansible-flags", &[]);
    let (pb, inv) = (dir.join("pb.yml"), dir.join("hosts.ini"));
    let (pb, inv) = (pb.to_str().unwrap(), inv.to_str().unwrap());
    let cases: [(&[&str], &str, &str); 5] = [
        (
            &["run", "-i", inv, "all", "--step", "--", "uptime"],
            "`--step`",
            "drover push",
        ),
        // push has --step, which needs a terminal to ask at.
        (&["push", "-i", inv, pb, "--step"], "`--step`", "terminal"),
        (&["push", "-i", inv, pb, "-vvvv"], "`-vvvv`", "--json"),
        (
            &["push", "-i", inv, pb, "--connection", "paramiko"],
            "`--connection`",
            "over SSH",
        ),
        (
            &["push", "-i", inv, pb, "--ask-pass"],
            "`--ask-pass`",
            "keys only",
        ),
    ];
    for (args, flag, what) in cases {
        let run = drover_in(&dir, args);
        assert_bad_input(&run, flag, what);
        assert!(!run.stderr.contains("use '--"), "{run:?}");
    }
}

/// Each module parameter has a declared type, checked when the playbook loads for a value written
/// as it is (file:line:col); a template waits for the run.
#[test]
fn a_module_parameter_of_the_wrong_type_is_refused_at_load() {
    let cases = [
        (
            "apt:\n        name: x\n        update_cache: maybe",
            "5:23",
            "`update_cache`: expected boolean, found \"maybe\"",
        ),
        (
            "copy:\n        dest: /x\n        mode: u+rwq",
            "5:15",
            "`mode`: expected octal or symbolic mode",
        ),
        (
            "service:\n        name: x\n        state: bounced",
            "5:16",
            "`state`: expected one of started, stopped, restarted, reloaded",
        ),
        (
            "docker_compose:\n        project_src: /srv\n        pull: sometimes",
            "5:15",
            "`pull`: expected one of always, missing, never, policy",
        ),
        ("wait_for: port=eighty", "3:17", "`port`: expected number"),
    ];
    for (i, (task, at, what)) in cases.iter().enumerate() {
        let name = format!("types-{i}");
        let dir = workdir(&name, &[]);
        let pb = dir.join("t.yml");
        std::fs::write(&pb, format!("- hosts: all\n  tasks:\n    - {task}\n")).unwrap();
        let run = drover_in(&dir, &["push", pb.to_str().unwrap(), "--syntax-check"]);
        assert_bad_input(&run, &format!("t.yml:{at}"), what);
    }
    // A template is the run's to check.
    let dir = workdir("types-template", &[]);
    let pb = dir.join("t.yml");
    std::fs::write(&pb, "- hosts: all\n  tasks:\n    - apt:\n        name: x\n        update_cache: \"{{ refresh }}\"\n").unwrap();
    let run = drover_in(&dir, &["push", pb.to_str().unwrap(), "--syntax-check"]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// With no roles_path set, roles are looked for where Ansible looks by default: a role that
/// `ansible-galaxy install` put in ~/.ansible/roles is found; a missing one names every folder
/// looked in, the playbook's own among them.
#[test]
fn galaxy_roles_are_found_in_the_default_roles_path() {
    let dir = workdir(
        "galaxy-roles",
        &[
            (
                "site.yml",
                "- hosts: all\n  roles:\n    - geerlingguy.docker\n",
            ),
            (
                ".ansible/roles/geerlingguy.docker/tasks/main.yml",
                "- command: \"true\"\n",
            ),
            ("missing.yml", "- hosts: all\n  roles:\n    - nosuch.role\n"),
        ],
    );
    let check = |pb: &str| {
        drover_in(
            &dir,
            &["push", "--syntax-check", dir.join(pb).to_str().unwrap()],
        )
    };
    let run = check("site.yml");
    assert_eq!(run.code, 0, "{run:?}");
    let d = dir.display();
    assert_bad_input(
        &check("missing.yml"),
        "missing.yml:3:7: role `nosuch.role` not found",
        &format!(
            "looked in {d}/roles, {d}/.ansible/roles, /usr/share/ansible/roles, /etc/ansible/roles, {d}"
        ),
    );
}

/// A role named with its collection is found where `ansible-galaxy collection install` puts it:
/// `collections/` beside the playbook, the collections path (ANSIBLE_COLLECTIONS_PATH), and by
/// default ~/.ansible/collections; a missing one says where it was looked for.
#[test]
fn collection_roles_are_found_in_the_collections_paths() {
    let dir = workdir(
        "collection-roles",
        &[
            (
                "site.yml",
                "- hosts: all\n  roles:\n    - devsec.hardening.os_hardening\n    - acme.web.nginx\n    - acme.db.pg\n",
            ),
            (
                ".ansible/collections/ansible_collections/devsec/hardening/roles/os_hardening/tasks/main.yml",
                "- command: \"true\"\n",
            ),
            (
                "collections/ansible_collections/acme/web/roles/nginx/tasks/main.yml",
                "- command: \"true\"\n",
            ),
            (
                "elsewhere/ansible_collections/acme/db/roles/pg/tasks/main.yml",
                "- command: \"true\"\n",
            ),
            (
                "missing.yml",
                "- hosts: all\n  roles:\n    - acme.web.nosuch\n",
            ),
        ],
    );
    let d = dir.display();
    let path = format!("{d}/elsewhere:{d}/.ansible/collections");
    let check = |pb: &str, path: &str| {
        common::drover_env(
            &dir,
            &["push", "--syntax-check", dir.join(pb).to_str().unwrap()],
            &[("ANSIBLE_COLLECTIONS_PATH", path)],
        )
    };
    let run = check("site.yml", &path);
    assert_eq!(run.code, 0, "{run:?}");
    assert_bad_input(
        &check("missing.yml", &path),
        "missing.yml:3:7: role `acme.web.nosuch` not found",
        &format!(
            "looked in {d}/roles, {d}/collections/ansible_collections, {d}/.ansible/roles, /usr/share/ansible/roles, /etc/ansible/roles, {d}/elsewhere/ansible_collections, {d}/.ansible/collections/ansible_collections, {d}"
        ),
    );
}

/// ansible.cfg's `vault_password_file` naming a file this machine lacks is a warning while
/// `--vault-password-file` gives a password (as ansible-playbook reads them: every source is
/// tried, and only none answering is an error); without the flag it is refused, naming the file.
#[test]
fn a_missing_configured_vault_password_file_is_a_warning_beside_a_given_one() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vault/tests/fixtures");
    let vars = std::fs::read_to_string(fixtures.join("vars-1.1.yml")).unwrap();
    let dir = workdir(
        "vault-cfg",
        &[
            (
                "ansible.cfg",
                "[defaults]\nvault_password_file = ~/no-such-vault-pass\n",
            ),
            ("secret.yml", &vars),
            (
                "pb.yml",
                "- hosts: all\n  vars_files: [secret.yml]\n  tasks:\n    - command: \"true\"\n",
            ),
        ],
    );
    let pass = fixtures.join("password.txt");
    let (pb, inv, cfg) = (
        dir.join("pb.yml"),
        dir.join("hosts.ini"),
        dir.join("ansible.cfg"),
    );
    let check = |extra: &[&str]| {
        let mut args = vec!["push", pb.to_str().unwrap(), "-i", inv.to_str().unwrap()];
        args.push("--syntax-check");
        args.extend_from_slice(extra);
        common::drover_env(&dir, &args, &[("ANSIBLE_CONFIG", cfg.to_str().unwrap())])
    };
    let given = check(&["--vault-password-file", pass.to_str().unwrap()]);
    assert_eq!(given.code, 0, "{given:?}");
    assert!(
        given.stderr.contains("warning: vault password file")
            && given.stderr.contains("no-such-vault-pass"),
        "{given:?}"
    );
    assert_bad_input(&check(&[]), "no-such-vault-pass", "vault password file");
}
