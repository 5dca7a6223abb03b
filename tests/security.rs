//! Hostile input through the binary against the sshd fleet: shell syntax in every source of a
//! `command:` value never runs (canary files), while `shell:` still interprets it.

mod common;

use std::path::Path;

use common::Fleet;

/// Writes `text` as a playbook in the fleet's folder and pushes it with `extra` arguments.
fn push_text(
    fleet: &Fleet,
    inventory: &Path,
    name: &str,
    text: &str,
    extra: &[&str],
) -> common::Run {
    let pb = fleet.dir().join(name);
    std::fs::write(&pb, text).unwrap();
    let runs = fleet.dir().join("runs");
    common::drover_with(fleet, inventory, &common::push_args(&pb, &runs, extra), &[])
}

/// The names in folder `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn command_never_runs_shell_syntax_from_any_source() {
    let fleet = common::fleet(1);
    let canary = fleet.dir().join("canary");
    std::fs::create_dir_all(&canary).unwrap();
    let c = canary.display();
    let inventory = common::inventory_variant(
        &fleet,
        "evil.ini",
        "[fleet:vars]\n",
        &format!("[fleet:vars]\ninv_evil='a;touch {c}/inventory'\n"),
    );
    let playbook = format!(
        r#"- hosts: all
  gather_facts: false
  vars:
    play_evil: "a; touch {c}/play-var"
  tasks:
    - command: echo {{{{ play_evil }}}}
    - command: "echo {{{{ item }}}}"
      loop:
        - "$(touch {c}/substitution)"
        - "`touch {c}/backtick`"
        - "a && touch {c}/and"
        - "a || touch {c}/or"
        - "a\ntouch {c}/newline"
        - "a | touch {c}/pipe"
        - "a > {c}/redirect"
        - "a & touch {c}/background"
    - command: echo {{{{ inv_evil }}}}
    - command: printf '%s' 'a;touch {c}/registered'
      register: out
    - command: echo {{{{ out.stdout }}}}
    - command: echo {{{{ extra_evil }}}}
    - command:
        cmd: echo {{{{ play_evil }}}}
        chdir: /
    - command:
        argv: [echo, "{{{{ play_evil }}}}"]
    - name: shell still interprets what it is given
      shell: echo a && touch {c}/shell-works
"#
    );
    let evil_extra =
        serde_json::json!({ "extra_evil": format!("$(touch {c}/extra);`touch {c}/extra2`") })
            .to_string();
    let run = push_text(
        &fleet,
        &inventory,
        "inject.yml",
        &playbook,
        &["-e", &evil_extra],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(names_in(&canary), ["shell-works"], "{run:?}");
}

/// A `shell:` script with `chdir` runs in that folder or not at all: when the folder cannot be
/// entered, none of its commands runs in another one (the login folder), and the task fails.
#[test]
fn a_script_whose_folder_is_missing_runs_nowhere() {
    let fleet = common::fleet(1);
    let canary = fleet.dir().join("chdir-canary");
    std::fs::create_dir_all(&canary).unwrap();
    let c = canary.display();
    let playbook = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: \"touch first; touch {c}/second\"\n      args:\n        chdir: {c}/no-such-folder\n"
    );
    let run = push_text(&fleet, &fleet.inventory(), "chdir.yml", &playbook, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("no-such-folder"), "{run:?}");
    assert!(names_in(&canary).is_empty(), "{run:?}");
}

#[test]
fn file_modules_never_write_through_a_planted_symlink() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let fleet = common::fleet(1);
    let dir = fleet.dir().join("etc-app");
    std::fs::create_dir_all(&dir).unwrap();
    let victim = fleet.dir().join("root-only");
    std::fs::write(&victim, "secret\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    // The names drover wrote through before: `<dest>.drover-tmp`.
    for name in ["app.conf", "lines.conf"] {
        symlink(&victim, dir.join(format!("{name}.drover-tmp"))).unwrap();
    }
    let d = dir.display();
    let playbook = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n\
         \x20   - copy: {{ content: \"new\\n\", dest: {d}/app.conf, mode: \"0644\" }}\n\
         \x20   - lineinfile: {{ path: {d}/lines.conf, line: added, create: true }}\n"
    );
    for _ in 0..2 {
        let run = push_text(&fleet, &fleet.inventory(), "files.yml", &playbook, &[]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "secret\n");
    assert_eq!(
        std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("app.conf")).unwrap(),
        "new\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("lines.conf")).unwrap(),
        "added\n"
    );
    // Nothing left behind but the two files and the planted links.
    assert_eq!(
        names_in(&dir),
        [
            "app.conf",
            "app.conf.drover-tmp",
            "lines.conf",
            "lines.conf.drover-tmp"
        ]
    );
}

/// Every folder and file under `dir`, with its mode.
fn modes(dir: &Path) -> Vec<(std::path::PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        if path.is_dir() {
            out.extend(modes(&path));
        }
        out.push((path, mode));
    }
    out
}

#[test]
fn run_folders_are_private_and_keep_no_extra_var_values() {
    let fleet = common::fleet(2);
    let gate = fleet.dir().join("gate");
    std::fs::create_dir_all(&gate).unwrap();
    std::fs::write(gate.join("node01"), "").unwrap();
    let playbook = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n\
         \x20   - assert: {{ that: [\"api_token | length == 18\"], quiet: true }}\n\
         \x20   - command: test -e {g}/{{{{ inventory_hostname }}}}\n\
         \x20   - fetch: {{ src: {g}/node01, dest: evidence, fail_on_missing: false }}\n",
        g = gate.display()
    );
    let secret = "hunter2-0123456789";
    let token = format!("api_token={secret}");
    let run = push_text(
        &fleet,
        &fleet.inventory(),
        "secret.yml",
        &playbook,
        &["-e", &token, "--batch", "1", "--json"],
    );
    assert_eq!(
        run.code, 3,
        "node02 has no gate file and halts the run: {run:?}"
    );
    let runs = fleet.dir().join("runs");
    let run_dir = common::only_run(&runs);
    let id = run_dir.file_name().unwrap().to_str().unwrap();
    let all = modes(&run_dir);
    assert!(all.iter().any(|(p, _)| p.ends_with("run.json")));
    assert!(
        all.iter()
            .any(|(p, _)| p.to_string_lossy().contains("fetched"))
    );
    for (path, mode) in &all {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{} is {mode:o}", path.display());
        if path.is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
            assert!(
                !text.contains(secret),
                "{} keeps the -e value",
                path.display()
            );
        }
    }
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{run:?}"
    );

    // Resuming without the value is refused, naming the variable; with it, the run finishes.
    std::fs::write(gate.join("node02"), "").unwrap();
    let resume = |extra: &[&str]| {
        let mut args = vec!["push", "--resume", id, "--runs-dir", runs.to_str().unwrap()];
        args.extend(extra);
        common::drover_with(&fleet, &fleet.inventory(), &args, &[])
    };
    let refused = resume(&[]);
    common::assert_bad_input(
        &refused,
        id,
        "-e values that drover does not keep on disk (api_token)",
    );
    let done = resume(&["-e", &token]);
    assert_eq!(done.code, 0, "{done:?}");
}

#[test]
fn keywords_and_parameters_that_used_to_be_dropped_are_honoured() {
    let fleet = common::fleet(1);
    let dir = fleet.dir().join("owned");
    let d = dir.display();
    let out = fleet.dir().join("indexes");
    let playbook = format!(
        r#"- hosts: all
  gather_facts: false
  tasks:
    - file: {{ path: {d}, state: directory, owner: root, group: root, mode: "0750" }}
    - shell: echo "{{{{ idx }}}}={{{{ item }}}}" >> {o}
      loop: [a, b, c]
      loop_control: {{ index_var: idx, pause: 1 }}
    - wait_for_connection: {{ timeout: 20 }}
      changed_when: true
"#,
        o = out.display()
    );
    let started = std::time::Instant::now();
    let run = push_text(
        &fleet,
        &fleet.inventory(),
        "honoured.yml",
        &playbook,
        &["--json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "loop_control.pause waits between items"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "0=a\n1=b\n2=c\n");
    let changed = |run: &common::Run, module: &str| {
        run.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|e| {
                e["event"] == "task" && e["task"].as_str().unwrap_or_default().contains(module)
            })
            .map(|e| e["status"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(
        changed(&run, "wait_for_connection").as_deref(),
        Some("changed"),
        "{run:?}"
    );
    // The folder already has that owner, group and mode: a second push changes nothing there.
    let again = push_text(
        &fleet,
        &fleet.inventory(),
        "honoured.yml",
        &playbook,
        &["--json"],
    );
    assert_eq!(changed(&again, "file").as_deref(), Some("ok"), "{again:?}");
}

#[test]
fn a_run_that_is_still_alive_cannot_be_resumed_a_second_time() {
    let fleet = common::fleet(1);
    let pb = fleet.dir().join("slow.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep 4\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let mut first = common::drover_command(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // Wait (bounded) until the first run has its folder and holds it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let id = loop {
        let found = std::fs::read_dir(&runs)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| {
                let e = e.ok()?;
                e.path()
                    .join("events.jsonl")
                    .exists()
                    .then(|| e.file_name())
            });
        if let Some(id) = found {
            break id.to_string_lossy().into_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let resume = || {
        common::drover(
            &fleet,
            &[
                "push",
                "--resume",
                &id,
                "--runs-dir",
                runs.to_str().unwrap(),
            ],
        )
    };
    let second = resume();
    common::assert_bad_input(
        &second,
        &id,
        &format!("the run is still going on in process {}", first.id()),
    );
    // Once that process is gone (killed here, by its PID), the run resumes and finishes.
    first.kill().unwrap();
    first.wait().unwrap();
    let third = resume();
    assert_eq!(third.code, 0, "{third:?}");
}

#[test]
fn a_refused_host_lock_says_why_in_text_mode() {
    let fleet = common::fleet(2);
    let home = |i: usize| fleet.hosts()[i].state.join("home");
    // node01: a lock left by a run of this controller whose process has ended.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let owner = format!(
        "{}@{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
        std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "controller".into())
    );
    std::fs::create_dir_all(home(0).join(".drover")).unwrap();
    std::fs::write(
        home(0).join(".drover/lock"),
        format!("run=20260101T000000-dead owner={owner} expires=99999999999 pid={dead}\n"),
    )
    .unwrap();
    // node02: no lock can be written at all (a file where the lock's folder should be).
    std::fs::write(home(1).join(".drover"), "in the way\n").unwrap();
    let pb = "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n";
    let run = push_text(
        &fleet,
        &fleet.inventory(),
        "locked.yml",
        pb,
        &["--max-fail", "2"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains(&format!(
            "node01       FAILED host is locked by run 20260101T000000-dead of {owner} (stale: its process {dead} on this controller has ended; clear it with --break-lock)"
        )),
        "{run:?}"
    );
    assert!(
        all.contains("node02       FAILED cannot take the host lock $HOME/.drover/lock: "),
        "{run:?}"
    );
    assert!(!all.contains("run ? of ?"), "{run:?}");
}

#[test]
fn an_explicit_max_fail_zero_wins_over_the_plays_percentage() {
    let fleet = common::fleet(2);
    let pb = "- hosts: all\n  gather_facts: false\n  max_fail_percentage: 50\n  tasks:\n    - command: test {{ inventory_hostname }} = node01\n- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: touch \"$HOME/second-play\"\n";
    let home = |i: usize| fleet.hosts()[i].state.join("home");
    // The play's 50 %: one of two failing is not over it, so the second play runs on node01.
    let run = push_text(&fleet, &fleet.inventory(), "budget.yml", pb, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(home(0).join("second-play").exists(), "{run:?}");
    std::fs::remove_file(home(0).join("second-play")).unwrap();
    // --max-fail 0, given explicitly, halts at the first failure.
    let run = push_text(
        &fleet,
        &fleet.inventory(),
        "budget.yml",
        pb,
        &["--max-fail", "0"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("HALTED"), "{run:?}");
    assert!(!home(0).join("second-play").exists(), "{run:?}");
}

#[test]
fn paths_from_host_names_and_parameters_stay_in_their_folders() {
    let fleet = common::fleet(1);
    let base = fleet.dir().join("render");
    let out = base.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(base.join("t.j2"), "for {{ inventory_hostname }}\n").unwrap();
    // A host list naming a host `../escaped`: its file stays under --out.
    let run = common::drover_in(
        &base,
        &[
            "render",
            "-i",
            "../escaped,",
            base.join("t.j2").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(names_in(&base), ["out", "t.j2"], "{run:?}");
    assert_eq!(
        std::fs::read_to_string(out.join("%2E.%2Fescaped/t")).unwrap(),
        "for ../escaped\n"
    );
    // fetch with a dest that climbs out of the run folder is refused as bad input.
    let src = fleet.dir().join("evidence.txt");
    std::fs::write(&src, "evidence\n").unwrap();
    let pb = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - fetch: {{ src: {}, dest: ../../../escaped-fetch, flat: true }}\n",
        src.display()
    );
    let run = push_text(&fleet, &fleet.inventory(), "fetch.yml", &pb, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("climbs out of its folder"), "{run:?}");
    assert!(!fleet.dir().join("escaped-fetch").exists());
    assert!(!fleet.dir().join("runs/escaped-fetch").exists());
}
