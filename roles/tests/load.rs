//! Loading playbooks and roles, and the errors for bad ones, each with file:line:col.

use drover_roles::{Playbook, PlaybookError, TaskBody};

/// Writes `files` under a fresh folder and loads `site.yml` from it.
fn load(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Playbook, PlaybookError>) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let result = Playbook::load(&dir.path().join("site.yml"), &[]);
    (dir, result)
}

fn error(files: &[(&str, &str)]) -> String {
    let (dir, result) = load(files);
    let err = result
        .expect_err("the playbook should be refused")
        .to_string();
    err.replace(&format!("{}/", dir.path().display()), "")
}

const ROLE: &[(&str, &str)] = &[
    (
        "roles/web/tasks/main.yml",
        "- name: config\n  template:\n    src: site.conf.j2\n    dest: /etc/site.conf\n  notify: reload\n- include_tasks: extra.yml\n",
    ),
    (
        "roles/web/tasks/extra.yml",
        "- command: echo extra\n  changed_when: false\n",
    ),
    (
        "roles/web/handlers/main.yml",
        "- name: reload\n  shell: echo reloaded > /tmp/x\n",
    ),
    ("roles/web/defaults/main.yml", "port: 80\n"),
    ("roles/web/templates/site.conf.j2", "listen {{ port }}\n"),
];

#[test]
fn a_playbook_with_a_role_loads() {
    let mut files = ROLE.to_vec();
    files.push(("site.yml", "- hosts: web\n  serial: [1, '50%']\n  roles:\n    - role: web\n      port: 8080\n  tasks:\n    - debug: msg=hi\n"));
    let (_dir, pb) = load(&files);
    let pb = pb.unwrap();
    let play = &pb.plays[0];
    assert_eq!(play.hosts, "web");
    assert_eq!(play.serial.as_ref().unwrap().sizes(4), [1, 2, 1]);
    let role = &play.roles[0];
    assert_eq!(role.defaults["port"], 80);
    assert_eq!(role.vars["port"], 8080);
    assert_eq!(role.tasks.len(), 2);
    assert!(matches!(&role.tasks[0].body, TaskBody::Module(m) if m.name() == "template"));
    assert_eq!(role.tasks[0].notify, ["reload"]);
    let TaskBody::Block(included) = &role.tasks[1].body else {
        panic!("include is a block")
    };
    assert_eq!(
        included.block[0].changed_when.as_deref(),
        Some(&["false".to_string()][..])
    );
    assert_eq!(role.handlers[0].name.as_deref(), Some("reload"));
}

#[test]
fn an_unknown_module_is_named_with_a_suggestion() {
    let e = error(&[(
        "site.yml",
        "- hosts: all\n  tasks:\n    - name: x\n      templat:\n        src: a\n        dest: b\n",
    )]);
    assert_eq!(
        e,
        "site.yml:4:7: unknown module `templat`; did you mean `template`? (`drover doc` lists the modules drover has)"
    );
}

#[test]
fn a_misspelled_task_key_is_named_with_a_suggestion() {
    let e = error(&[(
        "site.yml",
        "- hosts: all\n  tasks:\n    - command: true\n      notfy: x\n",
    )]);
    assert!(
        e.starts_with("site.yml:4:7: unknown key `notfy` in task (did you mean `notify`?)"),
        "{e}"
    );
}

#[test]
fn a_misspelled_play_key_or_module_parameter_is_refused() {
    let e = error(&[("site.yml", "- hosts: all\n  task:\n    - command: true\n")]);
    assert!(
        e.starts_with("site.yml:2:3: unknown key `task` in a play; expected one of:"),
        "{e}"
    );
    assert!(e.contains("(did you mean `tasks`?)"), "{e}");
    let e = error(&[(
        "site.yml",
        "- hosts: all\n  tasks:\n    - copy:\n        content: x\n        dst: /tmp/x\n",
    )]);
    assert!(
        e.starts_with("site.yml:5:9: unknown key `dst` in module `copy`"),
        "{e}"
    );
}

#[test]
fn invalid_yaml_is_refused_with_its_position() {
    let e = error(&[("site.yml", "- hosts: all\n  tasks:\n    - command: [a, b\n")]);
    assert!(e.starts_with("site.yml:4:1: invalid YAML"), "{e}");
}

#[test]
fn a_missing_role_or_template_is_refused() {
    let e = error(&[("site.yml", "- hosts: all\n  roles:\n    - nope\n")]);
    assert!(
        e.starts_with("site.yml:3:7: role `nope` not found; looked in roles"),
        "{e}"
    );
    let e = error(&[(
        "site.yml",
        "- hosts: all\n  tasks:\n    - template:\n        src: missing.j2\n        dest: /x\n",
    )]);
    assert!(
        e.starts_with("site.yml:3:7: template `missing.j2` not found; looked in templates"),
        "{e}"
    );
}

#[test]
fn a_module_without_its_required_parameter_is_refused() {
    let e = error(&[
        (
            "site.yml",
            "- hosts: all\n  tasks:\n    - template:\n        src: a.j2\n",
        ),
        ("templates/a.j2", "a\n"),
    ]);
    assert_eq!(
        e,
        "site.yml:3:7: module `template` needs the parameter `dest`"
    );
}

#[test]
fn module_defaults_may_give_a_required_parameter() {
    let mut files = vec![(
        "site.yml",
        "- hosts: all\n  module_defaults:\n    ansible.builtin.template:\n      dest: /etc/app.conf\n  tasks:\n    - template:\n        src: a.j2\n    - block:\n        - copy:\n            content: x\n      module_defaults:\n        copy:\n          dest: /etc/x\n",
    )];
    files.push(("templates/a.j2", "a\n"));
    let (_dir, loaded) = load(&files);
    loaded.unwrap();
    // A block's defaults for another module give nothing to this one.
    let e = error(&[(
        "site.yml",
        "- hosts: all\n  tasks:\n    - block:\n        - copy:\n            content: x\n      module_defaults:\n        template:\n          dest: /etc/x\n",
    )]);
    assert_eq!(e, "site.yml:4:11: module `copy` needs the parameter `dest`");
}

#[test]
fn include_and_import_actions_are_read_with_their_collection_too() {
    let mut files = ROLE.to_vec();
    files.push((
        "site.yml",
        "- hosts: web\n  tasks:\n    - ansible.builtin.include_role:\n        name: web\n    - ansible.builtin.import_tasks: roles/web/tasks/extra.yml\n    - ansible.legacy.include_tasks: roles/web/tasks/extra.yml\n",
    ));
    let (_dir, pb) = load(&files);
    let pb = pb.unwrap();
    let tasks = &pb.plays[0].tasks;
    assert_eq!(tasks.len(), 3);
    for t in tasks {
        assert!(
            matches!(&t.body, TaskBody::Block(b) if !b.block.is_empty()),
            "{t:?}"
        );
    }
}

#[test]
fn playbook_dir_and_role_path_in_file_names_are_known_when_the_playbook_is_read() {
    let mut files = ROLE.to_vec();
    files.push(("vars/common.yml", "region: eu\n"));
    files.push((
        "roles/web/tasks/more.yml",
        "- include_tasks: \"{{ role_path }}/tasks/extra.yml\"\n",
    ));
    files.push((
        "site.yml",
        "- hosts: web\n  vars_files: [\"{{ playbook_dir }}/vars/common.yml\"]\n  tasks:\n    - include_tasks: \"{{ playbook_dir }}/roles/web/tasks/extra.yml\"\n    - include_role: {name: web, tasks_from: more}\n",
    ));
    let (_dir, pb) = load(&files);
    let pb = pb.unwrap();
    assert_eq!(pb.plays[0].vars["region"], "eu");
    assert_eq!(pb.plays[0].tasks.len(), 2);
    let err = error(&[(
        "site.yml",
        "- hosts: web\n  tasks:\n    - import_tasks: \"{{ which }}.yml\"\n",
    )]);
    // The name can only render to the playbook itself, which is no task file.
    assert!(
        err.contains("no file matching `{{ which }}.yml` is a task file that can be read"),
        "{err}"
    );
    let err = error(&[(
        "site.yml",
        "- hosts: web\n  tasks:\n    - import_tasks: \"tasks/{{ which }}.yml\"\n",
    )]);
    assert!(
        err.contains("no task file matches `tasks/{{ which }}.yml`"),
        "{err}"
    );
    // A dynamic include is read as Ansible reads it, when it runs: the playbook loads, and the
    // include stands for a failure saying why.
    let (_dir, pb) = load(&[(
        "site.yml",
        "- hosts: web\n  tasks:\n    - include_tasks: \"tasks/{{ which }}.yml\"\n",
    )]);
    let deferred = drover_roles::deferred_includes(&pb.unwrap().plays[0]);
    assert_eq!(deferred.len(), 1);
    assert!(
        deferred[0]
            .1
            .contains("no task file matches `tasks/{{ which }}.yml`"),
        "{deferred:?}"
    );
}

#[test]
fn import_playbook_brings_the_plays_of_another_file_in_place() {
    let (_dir, pb) = load(&[
        (
            "site.yml",
            "- hosts: all\n  tasks: [{debug: {msg: first}}]\n- import_playbook: plays/web.yml\n  vars: {port: 80}\n  tags: [web]\n- ansible.builtin.import_playbook: \"{{ playbook_dir }}/plays/db.yml\"\n",
        ),
        (
            "plays/web.yml",
            "- hosts: web\n  vars: {port: 8080, name: web}\n  roles: [site]\n",
        ),
        ("plays/roles/site/tasks/main.yml", "- command: \"true\"\n"),
        (
            "plays/db.yml",
            "- hosts: db\n  tasks: [{debug: {msg: db}}]\n",
        ),
    ]);
    let pb = pb.unwrap();
    let hosts: Vec<&str> = pb.plays.iter().map(|p| p.hosts.as_str()).collect();
    assert_eq!(hosts, ["all", "web", "db"]);
    assert_eq!(pb.plays[1].vars["port"], 8080, "the play's own vars win");
    assert_eq!(pb.plays[1].tags, ["web"]);
    assert_eq!(
        pb.plays[1].roles[0].name, "site",
        "roles beside the imported playbook"
    );
    let err = error(&[("site.yml", "- import_playbook: nope.yml\n")]);
    assert!(
        err.contains("site.yml:1:20: playbook `nope.yml` not found"),
        "{err}"
    );
    let err = error(&[("site.yml", "- import_playbook: site.yml\n")]);
    assert!(err.contains("import each other too deeply"), "{err}");
}

/// A role entry's keywords (`become`, `ignore_errors`, `no_log`, ...) reach the role's tasks, the
/// tasks inside its includes and its handlers, as Ansible's do; they are not role parameters.
#[test]
fn a_role_entrys_keywords_reach_its_tasks_and_handlers() {
    let mut files = ROLE.to_vec();
    files.push((
        "site.yml",
        "- hosts: web\n  roles:\n    - role: web\n      become: true\n      become_user: app\n      ignore_errors: \"{{ lenient }}\"\n      port: 8080\n",
    ));
    let (_dir, pb) = load(&files);
    let pb = pb.unwrap();
    let role = &pb.plays[0].roles[0];
    assert!(!role.vars.contains_key("become"));
    assert_eq!(role.vars["port"], 8080);
    let TaskBody::Block(included) = &role.tasks[1].body else {
        panic!("include is a block")
    };
    for task in [&role.tasks[0], &included.block[0], &role.handlers[0]] {
        assert_eq!(task.become_enabled, Some(true));
        assert_eq!(task.become_user.as_deref(), Some("app"));
        assert_eq!(
            task.templated,
            [(
                drover_roles::TemplatedKeyword::IgnoreErrors,
                "{{ lenient }}".to_string()
            )]
        );
    }
}

/// As Ansible: after roles/ and the roles path, a role is looked for beside the playbook, so a
/// role folder next to it, or a path relative to it, is found.
#[test]
fn a_role_beside_the_playbook_or_named_by_a_relative_path_is_found() {
    let task = "- command: echo hi\n  changed_when: false\n";
    let (_dir, loaded) = load(&[
        (
            "site.yml",
            "- hosts: all\n  roles:\n    - local\n    - lib/common\n",
        ),
        ("local/tasks/main.yml", task),
        ("lib/common/tasks/main.yml", task),
    ]);
    let err = loaded.as_ref().err().map(ToString::to_string);
    assert!(loaded.is_ok(), "{err:?}");
}

/// YAML 1.1 reads `on` as a boolean; for a choice among on/off/low/... Ansible reads it back as the
/// one choice it can mean, and so does drover (ufw's `logging: on`); where it could mean none, the
/// value is refused as before.
#[test]
fn a_boolean_for_a_choice_is_the_choice_it_stands_for() {
    let (_dir, pb) = load(&[(
        "site.yml",
        "- hosts: all\n  tasks:\n    - community.general.ufw:\n        state: enabled\n        logging: on\n",
    )]);
    let pb = pb.unwrap();
    let TaskBody::Module(m) = &pb.plays[0].tasks[0].body else {
        panic!("a module task")
    };
    assert_eq!(m.args["logging"], "on");
    let refused = error(&[(
        "site.yml",
        "- hosts: all\n  tasks:\n    - apt:\n        name: x\n        state: yes\n",
    )]);
    assert!(refused.contains("site.yml:5:16"), "{refused}");
}

/// A parameter may be written by any name Ansible gives it (`update-cache` for apt's
/// `update_cache`, `regex` for lineinfile's `regexp`); the module reads it under its own name, and
/// where both are given the own name wins. `module_defaults` under an alias count too.
#[test]
fn parameters_given_by_their_aliases_are_read_under_their_own_names() {
    let (_dir, pb) = load(&[(
        "site.yml",
        "- hosts: all\n  module_defaults:\n    apt: {install-recommends: false}\n  tasks:\n    - apt:\n        update-cache: yes\n        allow-downgrades: yes\n    - lineinfile: {destfile: /etc/x, regex: '^a', value: a=1}\n    - systemd: {unit: docker, daemon-reload: true, daemon_reload: false}\n",
    )]);
    let pb = pb.unwrap();
    let module = |i: usize| match &pb.plays[0].tasks[i].body {
        TaskBody::Module(m) => m.clone(),
        _ => panic!("a module task"),
    };
    let apt = module(0);
    assert_eq!(apt.args["update_cache"], true);
    assert_eq!(apt.args["allow_downgrade"], true);
    assert!(!apt.args.contains_key("update-cache"));
    let defaults = &pb.plays[0].tasks[0].module_defaults;
    let with_defaults = drover_roles::module_defaults::apply(defaults, &apt);
    assert_eq!(with_defaults["install_recommends"], false);
    let line = module(1);
    assert_eq!(
        (&line.args["path"], &line.args["regexp"], &line.args["line"]),
        (&"/etc/x".into(), &"^a".into(), &"a=1".into())
    );
    let unit = module(2);
    assert_eq!(unit.args["name"], "docker");
    assert_eq!(unit.args["daemon_reload"], false);
}
