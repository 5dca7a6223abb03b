//! `drover push` against the sshd fleet: rolling batches in inventory order, a halt at the first failed
//! batch with the journal and recap saying so, --resume, --check, --diff, idempotence, host locks.

mod common;

use std::path::{Path, PathBuf};

use common::{Fleet, Run};

fn playbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/push/site.yml")
}

/// Runs `drover push` against the fleet with the fixture playbook; journals go in the fleet folder.
fn push(fleet: &Fleet, extra: &[&str]) -> Run {
    let (pb, runs) = (playbook(), fleet.dir().join("runs"));
    common::drover(fleet, &common::push_args(&pb, &runs, extra))
}

fn events(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn home(fleet: &Fleet, i: usize) -> PathBuf {
    fleet.hosts()[i].state.join("home")
}

fn run_id(run: &Run) -> String {
    events(run)
        .iter()
        .find(|e| e["event"] == "run_started")
        .unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn batch_one_goes_host_by_host_and_a_second_push_changes_nothing() {
    let fleet = common::fleet(5);
    let run = push(&fleet, &["--batch", "1", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let ev = events(&run);
    let batches: Vec<Vec<String>> = ev
        .iter()
        .filter(|e| e["event"] == "batch_started")
        .map(|e| {
            e["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        batches,
        [["node01"], ["node02"], ["node03"], ["node04"], ["node05"]]
    );
    // Host by host: every task event of a host comes before any event of the next one.
    let order: Vec<&str> = ev
        .iter()
        .filter(|e| e["event"] == "task")
        .map(|e| e["host"].as_str().unwrap())
        .collect();
    let mut seen: Vec<&str> = order.clone();
    seen.dedup();
    assert_eq!(seen, ["node01", "node02", "node03", "node04", "node05"]);
    for i in 0..5 {
        let conf = std::fs::read_to_string(home(&fleet, i).join("app/app.conf")).unwrap();
        assert_eq!(
            conf,
            format!(
                "# managed by drover for node0{}\nlisten 8080\nupstream alpha\nupstream beta\n",
                i + 1
            )
        );
        assert_eq!(
            std::fs::read_to_string(home(&fleet, i).join("app/restarts")).unwrap(),
            "restarted with port 8080\n"
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(home(&fleet, i).join("app/app.conf"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o640
        );
    }
    let again = push(&fleet, &["--batch", "1", "--json"]);
    assert_eq!(again.code, 0, "{again:?}");
    let recap = events(&again).last().unwrap()["recap"].clone();
    for i in 1..=5 {
        assert_eq!(recap[format!("node0{i}")]["changed"], 0, "{recap}");
    }
    // The handler did not run again.
    assert_eq!(
        std::fs::read_to_string(home(&fleet, 0).join("app/restarts")).unwrap(),
        "restarted with port 8080\n"
    );
}

#[test]
fn a_failure_in_batch_two_halts_the_rollout_and_resume_finishes_it() {
    let fleet = common::fleet(5);
    std::fs::write(home(&fleet, 1).join("BROKEN"), "").unwrap();
    let page = fleet.dir().join("halted.html");
    let run = push(
        &fleet,
        &["--batch", "1", "--json", "--report", page.to_str().unwrap()],
    );
    assert_eq!(run.code, 3, "{run:?}");
    let ev = events(&run);
    let halted = ev
        .iter()
        .find(|e| e["event"] == "halted")
        .expect("a halted event");
    assert_eq!(
        halted["untouched"],
        serde_json::json!(["node03", "node04", "node05"])
    );
    assert!(
        halted["reason"].as_str().unwrap().contains("batch 2"),
        "{halted}"
    );
    for i in 2..5 {
        assert!(
            !home(&fleet, i).join("app").exists(),
            "node0{} was touched",
            i + 1
        );
    }
    let id = run_id(&run);
    let journal = fleet.dir().join("runs").join(&id);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(journal.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["status"], "halted");
    assert_eq!(state["done"], serde_json::json!([["node01"]]));
    let recorded = std::fs::read_to_string(journal.join("events.jsonl")).unwrap();
    assert!(recorded.contains("\"event\":\"halted\""));
    // The report written at the end says what halted, where, and how to go on; the page opens in
    // a browser with no error and no request.
    let html = std::fs::read_to_string(&page).unwrap();
    for said in [
        "<span class=\"badge halted\">halted</span>",
        "batch 2 of play",
        "<b>Not touched:</b> node03, node04, node05",
        &format!("drover push --resume {id}"),
        "any failed host halts the rollout",
        "failed: node02",
    ] {
        assert!(html.contains(said), "{said} is not in {html}");
    }
    let shot = common::assert_page_opens_offline(&page);
    // The README's screenshot comes from here: DROVER_SCREENSHOT=docs/report.png.
    if let Ok(keep) = std::env::var("DROVER_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
    let runs_dir = fleet.dir().join("runs");
    let list_runs = |args: &[&str]| {
        let mut all = vec!["runs", "--runs-dir", runs_dir.to_str().unwrap()];
        all.extend(args);
        common::drover_in(fleet.dir(), &all)
    };
    let listed = list_runs(&[]);
    let line = listed.stdout.lines().find(|l| l.starts_with(&id)).unwrap();
    // RUN STARTED TOOK STATUS OK CHANGED FAILED UNTOUCHED COMMAND: node01 changed, node02 failed.
    let words: Vec<&str> = line.split_whitespace().collect();
    assert!(words.contains(&"halted"), "{line}");
    let status = words.iter().position(|w| *w == "halted").unwrap();
    assert_eq!(
        words[status + 1..status + 5],
        ["0", "1", "1", "3"],
        "{line}"
    );
    assert!(line.contains("--batch 1 --json --report"), "{line}");

    // The text recap says so too.
    let text = push(&fleet, &["--batch", "1"]);
    assert!(
        text.stdout.contains("HALTED: batch 2")
            && text.stdout.contains("not touched: node03, node04, node05"),
        "{text:?}"
    );
    assert!(
        text.stdout.contains("resume with: drover push --resume"),
        "{text:?}"
    );

    // Fix the fault, then resume: node01 is not done again, the others are.
    std::fs::remove_file(home(&fleet, 1).join("BROKEN")).unwrap();
    let runs = fleet.dir().join("runs");
    let resumed = common::drover_in(
        fleet.dir(),
        &[
            "push",
            "--resume",
            &id,
            "--runs-dir",
            runs.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(resumed.code, 0, "{resumed:?}");
    let ev = events(&resumed);
    let started = ev.iter().find(|e| e["event"] == "play_started").unwrap();
    assert_eq!(started["already_done"], serde_json::json!(["node01"]));
    assert_eq!(
        started["hosts"],
        serde_json::json!(["node02", "node03", "node04", "node05"])
    );
    for i in 0..5 {
        assert!(
            home(&fleet, i).join("app/app.conf").exists(),
            "node0{}",
            i + 1
        );
    }
    assert_eq!(
        std::fs::read_to_string(home(&fleet, 0).join("app/restarts")).unwrap(),
        "restarted with port 8080\n"
    );
    // No host stays locked.
    for i in 0..5 {
        assert!(
            !home(&fleet, i).join(".drover/lock").exists(),
            "node0{} is still locked",
            i + 1
        );
    }
    // The resumed run is done, over two attempts, every host changed; the halt is behind it.
    let listed: serde_json::Value = serde_json::from_str(&list_runs(&["--json"]).stdout).unwrap();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap();
    assert_eq!(row["status"], "done", "{row}");
    assert_eq!(row["attempts"], 2, "{row}");
    assert_eq!(
        row["hosts"],
        serde_json::json!({"ok": 0, "changed": 5, "failed": 0, "interrupted": 0, "untouched": 0}),
        "{row}"
    );
    let md = common::drover_in(
        fleet.dir(),
        &[
            "report",
            &id,
            "--runs-dir",
            runs_dir.to_str().unwrap(),
            "--format",
            "markdown",
        ],
    );
    assert_eq!(md.code, 0, "{md:?}");
    for said in [
        &format!("# drover run {id}: done"),
        "resumed 1 time(s)",
        "| Hosts | 5 changed |",
        "| node02 | changed | 1/4 (attempt 2) |",
        "### node02: ",
    ] {
        assert!(md.stdout.contains(said), "{said} is not in {}", md.stdout);
    }
    assert!(!md.stdout.contains("| Resume |"), "{}", md.stdout);
}

#[test]
fn check_mode_changes_nothing_and_diff_shows_the_template_change() {
    let fleet = common::fleet(2);
    let run = push(&fleet, &["--check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("changed  [app : render config]"),
        "{run:?}"
    );
    for i in 0..2 {
        let entries: Vec<_> = std::fs::read_dir(home(&fleet, i))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(
            !home(&fleet, i).join("app").exists(),
            "check mode created files: {entries:?}"
        );
    }
    assert_eq!(push(&fleet, &[]).code, 0);
    let run = push(
        &fleet,
        &["--diff", "-e", "app_port=9090", "--limit", "node01"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("-listen 8080") && run.stdout.contains("+listen 9090"),
        "{run:?}"
    );
    let conf = std::fs::read_to_string(home(&fleet, 0).join("app/app.conf")).unwrap();
    assert!(conf.contains("listen 9090"));
    assert!(
        std::fs::read_to_string(home(&fleet, 1).join("app/app.conf"))
            .unwrap()
            .contains("listen 8080")
    );
}

#[test]
fn a_host_locked_by_another_run_is_refused_until_the_lock_is_broken() {
    let fleet = common::fleet(2);
    std::fs::create_dir_all(home(&fleet, 0).join(".drover")).unwrap();
    std::fs::write(
        home(&fleet, 0).join(".drover/lock"),
        "run=other owner=ops@elsewhere expires=99999999999\n",
    )
    .unwrap();
    let run = push(&fleet, &["--json"]);
    assert_eq!(run.code, 3, "{run:?}");
    let done = events(&run)
        .into_iter()
        .find(|e| e["event"] == "host_done" && e["host"] == "node01")
        .unwrap();
    assert!(
        done["error"]
            .as_str()
            .unwrap()
            .starts_with("host is locked by run other of ops@elsewhere"),
        "{done}"
    );
    assert!(!home(&fleet, 0).join("app").exists());
    let run = push(&fleet, &["--break-lock"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!home(&fleet, 0).join(".drover/lock").exists());
}

/// A play that gathers no facts takes the lock with its first command, in the same exec: on a
/// locked host that command does not run (its file is not made), the host fails with the holder
/// named, no task is reported run, and the other run's lock is left as it was.
#[test]
fn a_lock_taken_with_the_first_command_refuses_before_the_command_runs() {
    let fleet = common::fleet(2);
    let lock = home(&fleet, 0).join(".drover/lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let held = "run=other owner=ops@elsewhere expires=99999999999\n";
    std::fs::write(&lock, held).unwrap();
    let pb = fleet.dir().join("first.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: before any command\n    - shell: touch \"$HOME/ran\"\n    - shell: touch \"$HOME/ran-too\"\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &["--json"]));
    assert_eq!(run.code, 3, "{run:?}");
    let evs = events(&run);
    let done = evs
        .iter()
        .find(|e| e["event"] == "host_done" && e["host"] == "node01")
        .unwrap();
    assert!(
        done["error"]
            .as_str()
            .unwrap()
            .starts_with("host is locked by run other of ops@elsewhere"),
        "{done}"
    );
    assert_eq!(done["stats"]["failed"], 1, "{done}");
    assert_eq!(done["stats"]["changed"], 0, "{done}");
    assert!(!home(&fleet, 0).join("ran").exists());
    assert!(!home(&fleet, 0).join("ran-too").exists());
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), held);
    // The other host took its lock with its first command, ran both and let the lock go.
    assert!(home(&fleet, 1).join("ran-too").exists());
    assert!(!home(&fleet, 1).join(".drover/lock").exists());
}

/// Writes a playbook into the fleet folder and pushes it to node01.
fn push_text(fleet: &Fleet, files: &[(&str, &str)]) -> Run {
    for (name, text) in files {
        let path = fleet.dir().join("pb").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let pb = fleet.dir().join("pb").join(files[0].0);
    let runs = fleet.dir().join("runs");
    common::drover(
        fleet,
        &common::push_args(&pb, &runs, &["--limit", "node01"]),
    )
}

/// A variable or template error found when a task runs on a host: bad input (exit 2), shown on the
/// task's line.
fn assert_bad_on_host(run: &Run, needle: &str) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains(needle),
        "expected `{needle}` in:\n{run:?}"
    );
}

/// Pushes `text` as `file` to node01 and expects it refused at load: exit 2, `at` and `what` in the
/// error.
fn assert_refused(fleet: &Fleet, (file, text): (&str, &str), at: &str, what: &str) {
    let run = push_text(fleet, &[(file, text)]);
    assert_bad(&run, at);
    assert!(run.stderr.contains(what), "{run:?}");
}

/// Input refused before anything runs: exit 2 and an error on stderr.
fn assert_bad(run: &Run, needle: &str) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(needle),
        "expected `{needle}` in:\n{run:?}"
    );
    assert!(!run.stderr.contains("panicked"), "{run:?}");
}

#[test]
fn bad_playbooks_are_refused_with_file_line_and_column() {
    let fleet = common::fleet(1);
    let run = push_text(
        &fleet,
        &[(
            "a.yml",
            "- hosts: all\n  tasks:\n    - templat:\n        src: x\n",
        )],
    );
    assert_bad(
        &run,
        "pb/a.yml:3:7: unknown module `templat`; did you mean `template`? (`drover doc` lists the modules drover has)",
    );
    let run = push_text(
        &fleet,
        &[(
            "b.yml",
            "- hosts: all\n  tasks:\n    - command: 'true'\n      notfy: x\n",
        )],
    );
    assert_bad(
        &run,
        "pb/b.yml:4:7: unknown key `notfy` in task (did you mean `notify`?)",
    );
    let run = push_text(&fleet, &[("c.yml", "- hosts: all\n  tasks: [\n")]);
    assert_bad(&run, "pb/c.yml:3:1: invalid YAML");
    let run = push_text(&fleet, &[("d.yml", "- hosts: all\n  roles: [nope]\n")]);
    assert_bad(&run, "pb/d.yml:2:11: role `nope` not found");
    let run = push_text(
        &fleet,
        &[(
            "e.yml",
            "- hosts: all\n  tasks:\n    - template: src=gone.j2 dest=/tmp/x\n",
        )],
    );
    assert_bad(&run, "pb/e.yml:3:7: template `gone.j2` not found");
    // An undefined variable shows when the task runs on a host; it is still bad input (exit 2).
    let run = push_text(
        &fleet,
        &[(
            "f.yml",
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: greet\n      debug:\n        msg: \"hello {{ nope.deep }}\"\n",
        )],
    );
    assert_bad_on_host(
        &run,
        "pb/f.yml:5:7: undefined variable (`nope.deep`) in `hello {{ nope.deep }}` (host node01)",
    );
    // In a template file, the error names the template's own line.
    let run = push_text(
        &fleet,
        &[
            (
                "g.yml",
                "- hosts: all\n  gather_facts: false\n  tasks:\n    - template: src=t.j2 dest=/tmp/drover-never-written\n",
            ),
            ("templates/t.j2", "line one\nport {{ port }}\n"),
        ],
    );
    assert_bad_on_host(
        &run,
        "templates/t.j2:2: undefined variable (`port`) in `port {{ port }}` (host node01)",
    );
}

/// A tiny real HTTP server on loopback that answers every request with `status` and a JSON body.
fn http_server(status: u16) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20).flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = r#"{"healthy": true, "version": "1.2.3"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// A loopback HTTP server that keeps every request it gets (head and body) and asks for basic
/// authentication on `/private` until a request brings it.
fn recording_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(40).flatten() {
            let mut stream = stream;
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // The head, then as much body as Content-Length says.
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&request).to_string();
            let challenge =
                text.starts_with("POST /private") && !text.contains("Authorization: Basic");
            kept.lock().unwrap().push(text);
            let (status, extra, body) = if challenge {
                (
                    "401 Unauthorized",
                    "WWW-Authenticate: Basic realm=\"drover\"\r\n",
                    "{}",
                )
            } else {
                ("200 OK", "", r#"{"saved": true}"#)
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

/// uri's form bodies, credentials (answering the server's challenge; the password only in curl's
/// standard input, not in the `-vvv` command line or the journal), `dest` kept once, `creates`.
#[test]
fn uri_posts_forms_with_credentials_and_keeps_a_response() {
    let fleet = common::fleet(1);
    let (port, seen) = recording_server();
    let saved = home(&fleet, 0).join("saved.json");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - uri:\n        url: http://127.0.0.1:{port}/private\n        method: POST\n        body_format: form-urlencoded\n        body:\n          name: web 01\n          state: \"on&off\"\n        url_username: admin\n        url_password: pa55-Secret\n    - uri:\n        url: http://127.0.0.1:{port}/file\n        dest: {saved}\n    - uri:\n        url: http://127.0.0.1:{port}/never\n        creates: {saved}\n    - get_url:\n        url: http://127.0.0.1:{port}/fetched\n        dest: {fetched}\n        headers:\n          X-Api-Key: hdr-Secret\n",
        saved = saved.display(),
        fetched = home(&fleet, 0).join("fetched.json").display()
    );
    let pb = fleet.dir().join("pb/forms.yml");
    std::fs::create_dir_all(pb.parent().unwrap()).unwrap();
    std::fs::write(&pb, &play).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &["-vvv"]));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("EXEC curl -q -sS -K -"), "{run:?}");
    assert!(
        !run.stdout.contains("pa55-Secret") && !run.stderr.contains("pa55-Secret"),
        "{run:?}"
    );
    let requests = seen.lock().unwrap().clone();
    let posts: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("POST /private"))
        .collect();
    assert_eq!(
        posts.len(),
        2,
        "a challenge, then the credentials: {requests:?}"
    );
    assert!(
        posts[1].contains("Authorization: Basic YWRtaW46cGE1NS1TZWNyZXQ="),
        "{}",
        posts[1]
    );
    assert!(
        posts[1].contains("Content-Type: application/x-www-form-urlencoded"),
        "{}",
        posts[1]
    );
    assert!(
        posts[1].ends_with("name=web+01&state=on%26off"),
        "{}",
        posts[1]
    );
    assert!(
        !requests.iter().any(|r| r.contains("/never")),
        "{requests:?}"
    );
    // get_url's headers reach the server from curl's standard input, not its command line.
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /fetched") && r.contains("X-Api-Key: hdr-Secret")),
        "{requests:?}"
    );
    assert!(!run.stdout.contains("hdr-Secret"), "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&saved).unwrap(),
        r#"{"saved": true}"#
    );
    assert!(run.stdout.contains("changed  [uri]"), "{run:?}");
    let again = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert!(again.stdout.contains("changed=0"), "{again:?}");
    common::assert_not_journaled(&runs, "pa55-Secret");
}

#[test]
fn uri_checks_http_status_and_wait_for_waits_for_a_port() {
    let fleet = common::fleet(1);
    let ok = http_server(200);
    let broken = http_server(503);
    // A port that opens two seconds after the push starts.
    let late = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let late_port = late.local_addr().unwrap().port();
    drop(late);
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(2));
        let l = std::net::TcpListener::bind(("127.0.0.1", late_port)).unwrap();
        std::thread::sleep(std::time::Duration::from_secs(10));
        drop(l);
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let pb = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - wait_for: port={late_port} timeout=20\n    - wait_for: {{port: {closed_port}, timeout: 2, sleep: 1, connect_timeout: 1, msg: nothing listens on {closed_port}}}\n      ignore_errors: true\n    - uri:\n        url: http://127.0.0.1:{ok}/health\n      register: health\n    - assert:\n        that: health.json.healthy and health.status == 200\n    - uri:\n        url: http://127.0.0.1:{broken}/health\n        status_code: [200, 204]\n"
    );
    let started = std::time::Instant::now();
    let run = push_text(&fleet, &[("http.yml", &pb)]);
    assert!(
        started.elapsed().as_secs() >= 2,
        "wait_for did not wait: {run:?}"
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("ok       [wait_for]"), "{run:?}");
    assert!(run.stdout.contains("ok       [assert]"), "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("[wait_for]: nothing listens on {closed_port}")),
        "{run:?}"
    );
    assert!(run.stdout.contains(&format!("FAILED   [uri]: status code 503 from http://127.0.0.1:{broken}/health, expected 200 or 204")), "{run:?}");
}

#[test]
fn ctrl_c_stops_before_the_next_task_releases_locks_and_can_be_resumed() {
    let fleet = common::fleet(2);
    let dir = fleet.dir().join("pb");
    std::fs::create_dir_all(&dir).unwrap();
    let pb = dir.join("slow.yml");
    std::fs::write(&pb, "- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: sleep 2\n    - shell: touch \"$HOME/second-task-ran\"\n").unwrap();
    let runs = fleet.dir().join("runs");
    let page = fleet.dir().join("interrupted.md");
    let child = common::drover_command(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--runs-dir",
            runs.to_str().unwrap(),
            "--json",
            "--report",
            page.to_str().unwrap(),
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let began = std::time::Instant::now();
    // While it runs, `drover runs` says so (its process holds the run).
    let status = || {
        let listed = common::drover_in(
            fleet.dir(),
            &["runs", "--runs-dir", runs.to_str().unwrap(), "--json"],
        );
        let rows: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
        rows[0]["status"].as_str().map(str::to_string)
    };
    let mut live = None;
    while live.is_none() && began.elapsed() < std::time::Duration::from_millis(1500) {
        live = status();
    }
    assert_eq!(live.as_deref(), Some("running"));
    std::thread::sleep(std::time::Duration::from_millis(800).saturating_sub(began.elapsed()));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Said at once, with what drover waits for; the hosts whose task completed are not failed.
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("INTERRUPTED: Ctrl-C received: no new task starts")
            && said.contains("Waiting for the tasks running now: node0")
            && said.contains("[shell]"),
        "{said}"
    );
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for e in events.iter().filter(|e| e["event"] == "host_done") {
        assert_eq!(e["end"], "interrupted", "{e}");
        assert_eq!(e["stats"]["failed"], 0, "{e}");
        assert_eq!(e["stats"]["changed"], 1, "{e}");
    }
    let recap = &events.last().unwrap()["recap"];
    assert_eq!(recap["node01"]["failed"], 0, "{recap}");
    for i in 0..2 {
        assert!(
            !home(&fleet, i).join("second-task-ran").exists(),
            "the run went on after Ctrl-C"
        );
        assert!(
            !home(&fleet, i).join(".drover/lock").exists(),
            "a lock was left behind"
        );
    }
    let id = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(runs.join(&id).join("state.json")).unwrap()).unwrap();
    assert_eq!(state["status"], "interrupted");
    assert_eq!(status().as_deref(), Some("interrupted"));
    // The report written as the run ended says so, and how to go on.
    let report = std::fs::read_to_string(&page).unwrap();
    for said in [
        &format!("# drover run {id}: interrupted"),
        "| Hosts | 2 interrupted |",
        &format!("| Resume | `drover push --resume {id}` |"),
    ] {
        assert!(report.contains(said), "{said} is not in {report}");
    }
    let resumed = common::drover_in(
        fleet.dir(),
        &[
            "push",
            "--resume",
            &id,
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    );
    assert_eq!(resumed.code, 0, "{resumed:?}");
    for i in 0..2 {
        assert!(home(&fleet, i).join("second-task-ran").exists());
    }
}

fn reboot_play(command: &str, extra: &str) -> String {
    format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - reboot:\n        reboot_command: \"{command}\"\n{extra}    - shell: echo back > \"$HOME/after-reboot\"\n"
    )
}

#[test]
fn reboot_waits_for_a_new_boot_id_and_a_stable_host() {
    let fleet = common::fleet(1);
    let before = fleet.boot_id(0);
    let play = reboot_play(
        &fleet.reboot_command(0, 2),
        "        stable_for: 1\n        reboot_timeout: 60\n        connect_timeout: 5\n",
    );
    let started = std::time::Instant::now();
    let run = push_text(&fleet, &[("reboot.yml", &play)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        started.elapsed().as_secs() >= 3,
        "it did not wait for the host to go down and come back"
    );
    assert_ne!(fleet.boot_id(0), before, "the boot id did not change");
    assert!(run.stdout.contains("changed  [reboot]"), "{run:?}");
    assert!(home(&fleet, 0).join("after-reboot").exists());
}

#[test]
fn a_host_that_does_not_come_back_in_time_fails_with_a_clear_error() {
    let fleet = common::fleet(1);
    let before = fleet.boot_id(0);
    let play = reboot_play(
        &fleet.reboot_command(0, 5),
        "        stable_for: 0\n        reboot_timeout: 2\n",
    );
    let started = std::time::Instant::now();
    let run = push_text(&fleet, &[("late.yml", &play)]);
    assert!(
        started.elapsed().as_secs() < 15,
        "the wait did not end at its timeout"
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout.contains(
            "FAILED   [reboot]: the host did not come back within 2s (cannot connect to 127.0.0.2"
        ),
        "{run:?}"
    );
    assert!(run.stdout.contains("HALTED"), "{run:?}");
    assert!(!home(&fleet, 0).join("after-reboot").exists());
    // Let the simulated reboot finish, so dropping the fleet ends the sshd it restarted.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while fleet.boot_id(0) == before && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
}

#[test]
fn a_host_lost_in_a_reboot_runs_nothing_more_anywhere() {
    let fleet = common::fleet(1);
    let before = fleet.boot_id(0);
    // The always: task would touch $HOME/always-ran: the host's home over SSH, the fleet folder
    // (drover's own HOME) had it run on the controller instead.
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - block:\n        - reboot:\n            reboot_command: \"{}\"\n            stable_for: 0\n            reboot_timeout: 2\n      always:\n        - shell: touch \"$HOME/always-ran\"\n",
        fleet.reboot_command(0, 5)
    );
    let run = push_text(&fleet, &[("lost.yml", &play)]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout
            .contains("FAILED   [reboot]: the host did not come back within 2s"),
        "{run:?}"
    );
    assert!(
        !fleet.dir().join("always-ran").exists(),
        "always: ran on the controller"
    );
    assert!(
        !home(&fleet, 0).join("always-ran").exists(),
        "always: ran on the lost host"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while fleet.boot_id(0) == before && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Back now, the host still runs nothing of that run: its always: never ran late.
    assert!(!home(&fleet, 0).join("always-ran").exists());
}

#[test]
fn a_host_key_that_changed_across_the_reboot_is_refused_at_once() {
    let fleet = common::fleet(1);
    let key = fleet.dir().join("sshd/0/host_key");
    let command = format!(
        "rm -f {k} {k}.pub && ssh-keygen -q -t ed25519 -N '' -f {k} && {}",
        fleet.reboot_command(0, 1),
        k = key.display()
    );
    let play = reboot_play(
        &command,
        "        stable_for: 0\n        reboot_timeout: 60\n",
    );
    let started = std::time::Instant::now();
    let run = push_text(&fleet, &[("rekey.yml", &play)]);
    assert!(
        started.elapsed().as_secs() < 20,
        "a changed host key must not wait for the timeout"
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout
            .contains("after the reboot: HOST KEY CHANGED for [127.0.0.2]"),
        "{run:?}"
    );
}

const KEYWORDS_PLAY: &str = r#"- hosts: all
  gather_facts: true
  vars:
    conf: "{{ ansible_env.HOME }}/daemon.json"
  tasks:
    - name: write a config
      copy:
        content: "{\n  \"live-restore\": false\n}\n"
        dest: "{{ conf }}"
    - name: fix a line
      lineinfile:
        path: "{{ conf }}"
        regexp: 'live-restore'
        line: '  "live-restore": true'
    - name: users
      shell: echo "{{ item.name }}" >> "$HOME/users"
      loop: [{name: ann, uid: 1}, {name: bob, uid: 2}]
      loop_control:
        label: "{{ item.name }}"
    - name: remember
      set_fact:
        greeting: "hi {{ inventory_hostname }} on {{ ansible_distribution }}"
    - name: only once
      shell: echo once >> "{{ playbook_dir }}/once-{{ lookup('env', 'DROVER_TEST_RUN') }}"
      run_once: true
    - block:
        - shell: "false"
        - shell: touch "$HOME/not-reached"
      rescue:
        - shell: echo rescued > "$HOME/rescued"
      always:
        - shell: echo always > "$HOME/always"
    - shell: exit 3
      ignore_errors: true
    - shell: echo x >> "$HOME/tries"; test "$(wc -l < "$HOME/tries")" -ge 3
      register: tries
      retries: 5
      delay: 0
      until: tries.rc == 0
    - name: tagged away
      shell: touch "$HOME/skipped-by-tag"
      tags: [slow]
    - fetch:
        src: "{{ conf }}"
        dest: evidence
    - assert:
        that:
          - greeting is match('hi node0')
          - tries.attempts is undefined or true
"#;

#[test]
fn task_keywords_and_file_modules_work_on_real_hosts() {
    let fleet = common::fleet(2);
    let pb = fleet.dir().join("pb");
    std::fs::create_dir_all(&pb).unwrap();
    std::fs::write(pb.join("keywords.yml"), KEYWORDS_PLAY).unwrap();
    let runs = fleet.dir().join("runs");
    let path = pb.join("keywords.yml");
    let args = [
        "push",
        path.to_str().unwrap(),
        "--runs-dir",
        runs.to_str().unwrap(),
        "--skip-tags",
        "slow",
        "--json",
    ];
    let run = common::drover_with(
        &fleet,
        &fleet.inventory(),
        &args,
        &[("DROVER_TEST_RUN", "k1")],
    );
    assert_eq!(run.code, 0, "{run:?}");
    for i in 0..2 {
        let h = home(&fleet, i);
        assert_eq!(
            std::fs::read_to_string(h.join("daemon.json")).unwrap(),
            "{\n  \"live-restore\": true\n}\n"
        );
        assert_eq!(
            std::fs::read_to_string(h.join("users")).unwrap(),
            "ann\nbob\n"
        );
        assert_eq!(
            std::fs::read_to_string(h.join("rescued")).unwrap(),
            "rescued\n"
        );
        assert_eq!(
            std::fs::read_to_string(h.join("always")).unwrap(),
            "always\n"
        );
        assert!(!h.join("not-reached").exists());
        assert!(!h.join("skipped-by-tag").exists());
        assert_eq!(
            std::fs::read_to_string(h.join("tries"))
                .unwrap()
                .lines()
                .count(),
            3
        );
    }
    assert_eq!(
        std::fs::read_to_string(pb.join("once-k1")).unwrap(),
        "once\n",
        "run_once ran more than once"
    );
    let ev = events(&run);
    let labels: Vec<&str> = ev
        .iter()
        .filter(|e| e["task"] == "users" && e["host"] == "node01")
        .filter_map(|e| e["item"].as_str())
        .collect();
    assert_eq!(labels, ["ann", "bob"]);
    let recap = &ev.last().unwrap()["recap"]["node01"];
    assert_eq!(recap["rescued"], 1, "{recap}");
    assert_eq!(recap["ignored"], 1, "{recap}");
    assert_eq!(recap["failed"], 0, "{recap}");
    let id = run_id(&run);
    let fetched = runs.join(id).join("fetched/evidence/node02").join(
        home(&fleet, 1)
            .join("daemon.json")
            .strip_prefix("/")
            .unwrap(),
    );
    assert_eq!(
        std::fs::read_to_string(fetched).unwrap(),
        "{\n  \"live-restore\": true\n}\n"
    );
}

#[test]
fn a_percentage_budget_lets_a_batch_lose_some_hosts() {
    let fleet = common::fleet(4);
    std::fs::write(home(&fleet, 0).join("BROKEN"), "").unwrap();
    // One of two hosts failing is 50%: not over a 50% budget, so the rollout goes on.
    let run = push(&fleet, &["--batch", "2", "--max-fail", "50%", "--json"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        !events(&run).iter().any(|e| e["event"] == "halted"),
        "{run:?}"
    );
    assert!(home(&fleet, 3).join("app/app.conf").exists());
    // With the default budget of 0 the same failure halts after the first batch.
    std::fs::remove_dir_all(home(&fleet, 3).join("app")).unwrap();
    let run = push(&fleet, &["--batch", "2", "--json"]);
    assert!(
        events(&run).iter().any(|e| e["event"] == "halted"),
        "{run:?}"
    );
    assert!(!home(&fleet, 3).join("app").exists());
}

#[test]
fn compose_lint_as_a_task_stops_a_bad_restart_policy_before_it_ships() {
    let fleet = common::fleet(1);
    let template = "services:\n  web:\n    image: nginx\n    restart: {{ web_restart | default('unless-stopped') }}\n";
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - compose_lint:\n        src: docker-compose.yml.j2\n";
    let run = push_text(
        &fleet,
        &[
            ("lint.yml", play),
            ("templates/docker-compose.yml.j2", template),
        ],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout.contains("FAILED   [compose_lint]")
            && run.stdout.contains("restart: unless-stopped stays down"),
        "{run:?}"
    );
    let runs = fleet.dir().join("runs");
    let pb = fleet.dir().join("pb/lint.yml");
    let run = common::drover(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--runs-dir",
            runs.to_str().unwrap(),
            "-e",
            "web_restart=always",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
}

/// A daily window `from`..`to` minutes from now, in UTC.
fn window_from_now(from: i64, to: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 60;
    let at = |m: i64| {
        let m = (now + m).rem_euclid(24 * 60);
        format!("{:02}:{:02}", m / 60, m % 60)
    };
    format!("daily {}-{} UTC", at(from), at(to))
}

#[test]
fn a_play_outside_its_window_touches_nothing_until_the_window_is_ignored() {
    let fleet = common::fleet(2);
    let play = |window: &str| {
        format!(
            "- hosts: all\n  window: \"{window}\"\n  tasks:\n    - copy:\n        content: patched\n        dest: \"{{{{ ansible_env.HOME }}}}/patched\"\n"
        )
    };
    let pb = fleet.dir().join("window.yml");
    let runs = fleet.dir().join("runs");
    let push = |extra: &[&str]| {
        let mut args = common::push_args(&pb, &runs, &["--json"]);
        args.extend(extra);
        common::drover(&fleet, &args)
    };
    std::fs::write(&pb, play(&window_from_now(120, 180))).unwrap();
    let run = push(&["--batch", "1"]);
    assert_eq!(run.code, 5, "{run:?}");
    let halted = events(&run)
        .into_iter()
        .find(|e| e["event"] == "halted")
        .unwrap();
    assert!(
        halted["reason"]
            .as_str()
            .unwrap()
            .contains("outside the maintenance window `daily")
            && halted["reason"].as_str().unwrap().contains("it opens"),
        "{halted}"
    );
    assert_eq!(halted["untouched"], serde_json::json!(["node01", "node02"]));
    assert!(!home(&fleet, 0).join("patched").exists());
    let id = run_id(&run);
    let state = std::fs::read_to_string(runs.join(&id).join("state.json")).unwrap();
    assert!(state.contains("\"refused\""), "{state}");

    let run = push(&["--resume", &id, "--ignore-window"]);
    assert_eq!(run.code, 0, "{run:?}");
    let notices: Vec<_> = events(&run)
        .into_iter()
        .filter(|e| e["event"] == "notice")
        .collect();
    assert_eq!(notices.len(), 2, "one notice per batch: {notices:?}");
    assert!(
        notices[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("going on because of --ignore-window")
    );
    assert!(home(&fleet, 1).join("patched").exists());

    std::fs::write(&pb, play(&window_from_now(-60, 60))).unwrap();
    let run = push(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        !events(&run).iter().any(|e| e["event"] == "notice"),
        "{run:?}"
    );
}

#[test]
fn no_log_hides_a_secret_in_output_diff_and_journal_even_when_the_task_fails() {
    let fleet = common::fleet(1);
    let secret = "s3cr3t-Zq81";
    let dest = home(&fleet, 0).join("app.env");
    let pb = format!(
        "- hosts: all\n  vars:\n    db_password: {secret}\n  tasks:\n    - name: env file\n      copy:\n        content: \"DB_PASSWORD={{{{ db_password }}}}\\n\"\n        dest: {}\n        mode: \"0600\"\n      no_log: true\n    - name: use it\n      shell: \"echo password {{{{ db_password }}}} refused >&2; exit 1\"\n      no_log: true\n",
        dest.display()
    );
    let run = push_text(&fleet, &[("secret.yml", &pb)]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&dest).unwrap(),
        format!("DB_PASSWORD={secret}\n")
    );
    assert!(
        run.stdout
            .contains("the output is hidden because the task has `no_log: true`"),
        "{run:?}"
    );
    let journals = fleet.dir().join("runs");
    // The run's reports, in every format, say the task failed and hide its output.
    for format in ["html", "md", "json"] {
        let file = journals.join(format!("report.{format}"));
        let made = common::drover_in(
            fleet.dir(),
            &[
                "report",
                "last",
                "--runs-dir",
                journals.to_str().unwrap(),
                "-o",
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(made.code, 0, "{made:?}");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("the output is hidden because the task has"),
            "{text}"
        );
    }
    let found = std::process::Command::new("grep")
        .args(["-r", "-l", secret])
        .arg(&journals)
        .output()
        .unwrap();
    assert!(found.stdout.is_empty(), "secret in {found:?}");
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{run:?}"
    );

    // --diff does not show it either.
    std::fs::remove_file(&dest).unwrap();
    let pb_path = fleet.dir().join("pb/secret.yml");
    let run = common::drover(
        &fleet,
        &[
            "push",
            pb_path.to_str().unwrap(),
            "--check",
            "--diff",
            "--runs-dir",
            journals.to_str().unwrap(),
        ],
    );
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{run:?}"
    );
}

#[test]
fn a_file_is_put_in_one_round_trip_that_notices_content_mode_and_a_folder_in_the_way() {
    let fleet = common::fleet(1);
    let dest = home(&fleet, 0).join("app.conf");
    let play = |mode: &str| {
        format!(
            "- hosts: all\n  tasks:\n    - copy:\n        content: \"port=80\\n\"\n        dest: {}\n        mode: \"{mode}\"\n",
            dest.display()
        )
    };
    let mode_of = || {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&dest).unwrap().permissions().mode() & 0o7777
    };
    let run = push_text(&fleet, &[("put.yml", &play("0600"))]);
    assert!(run.stdout.contains("changed  [copy]"), "{run:?}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "port=80\n");
    assert_eq!(mode_of(), 0o600);
    let run = push_text(&fleet, &[("put.yml", &play("0600"))]);
    assert!(run.stdout.contains("ok       [copy]"), "{run:?}");
    // Only the mode differs: changed, and the content is not rewritten.
    let run = push_text(&fleet, &[("put.yml", &play("0640"))]);
    assert!(run.stdout.contains("changed  [copy]"), "{run:?}");
    assert_eq!(mode_of(), 0o640);
    std::fs::remove_file(&dest).unwrap();
    std::fs::create_dir(&dest).unwrap();
    let run = push_text(&fleet, &[("put.yml", &play("0640"))]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout.contains("exists but is not a regular file"),
        "{run:?}"
    );
}

#[test]
fn retries_and_delay_may_be_templates_and_a_bad_value_is_named() {
    let fleet = common::fleet(1);
    let counter = home(&fleet, 0).join("attempts");
    let pb = format!(
        "- hosts: all\n  vars:\n    tries: 3\n    pause: \"0.2\"\n  tasks:\n    - name: third time lucky\n      shell: \"echo x >> {c}; test $(wc -l < {c}) -ge 3\"\n      register: r\n      retries: \"{{{{ tries }}}}\"\n      delay: \"{{{{ pause }}}}\"\n      until: r is succeeded\n    - name: bad count\n      shell: \"true\"\n      retries: \"{{{{ 'many' }}}}\"\n      until: true\n",
        c = counter.display()
    );
    let run = push_text(&fleet, &[("retry.yml", &pb)]);
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().lines().count(),
        3
    );
    assert!(
        run.stdout.contains("changed  [third time lucky]"),
        "{run:?}"
    );
    // Like an undefined variable: bad input, named with its place in the playbook.
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout
            .contains("retry.yml:12:7: retries is `many`, expected a whole number"),
        "{run:?}"
    );
}

#[test]
fn include_role_and_import_role_run_a_role_with_its_defaults_templates_and_handlers() {
    let fleet = common::fleet(1);
    let home = home(&fleet, 0);
    let h = home.display();
    let site = "- hosts: all\n  tasks:\n    - name: app config\n      include_role:\n        name: app\n    - name: app extras\n      import_role:\n        name: app\n        tasks_from: extra\n      vars:\n        greeting: hello from the play\n";
    let main = format!(
        "- name: config\n  template:\n    src: app.conf.j2\n    dest: {h}/app.conf\n  notify: restart app\n"
    );
    let extra = format!(
        "- name: greeting\n  copy:\n    content: \"{{{{ greeting }}}}\"\n    dest: {h}/greeting\n"
    );
    let handlers = format!("- name: restart app\n  shell: echo restarted > {h}/restarted\n");
    let files = [
        ("site.yml", site.to_string()),
        (
            "roles/app/defaults/main.yml",
            "port: 8080\ngreeting: hi\n".into(),
        ),
        ("roles/app/tasks/main.yml", main),
        ("roles/app/tasks/extra.yml", extra),
        (
            "roles/app/templates/app.conf.j2",
            "listen {{ port }}\nrole {{ role_name }}\n".into(),
        ),
        ("roles/app/handlers/main.yml", handlers),
    ];
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let run = push_text(&fleet, &refs);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("changed  [app : config]"), "{run:?}");
    assert_eq!(
        std::fs::read_to_string(home.join("app.conf")).unwrap(),
        "listen 8080\nrole app\n"
    );
    assert_eq!(
        std::fs::read_to_string(home.join("greeting")).unwrap(),
        "hello from the play"
    );
    assert!(
        home.join("restarted").exists(),
        "the role's handler ran: {run:?}"
    );

    let missing = site.replace("tasks_from: extra", "tasks_from: nope");
    let run = push_text(&fleet, &[("site.yml", &missing)]);
    assert_bad(&run, "task file `nope` not found");
    // include_role is dynamic: a role that is not there fails the hosts that reach it, as in
    // Ansible, and is named as the playbook loads.
    let missing = site.replace("name: app\n    - name", "name: gone\n    - name");
    let run = push_text(&fleet, &[("site.yml", &missing)]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("warning: ") && run.stderr.contains("role `gone` not found"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("FAILED") && run.stdout.contains("role `gone` not found"),
        "{run:?}"
    );
}

#[test]
fn role_dependencies_run_first_once_each_with_their_parameters() {
    let fleet = common::fleet(1);
    let log = |line: &str| format!("    - shell: echo {line} >> \"$HOME/order\"\n");
    let files = [
        (
            "deps.yml",
            "- hosts: all\n  gather_facts: false\n  roles:\n    - web\n    - db\n  tasks:\n    - include_role: { name: api }\n".to_string(),
        ),
        (
            "roles/web/meta/main.yml",
            "galaxy_info: { author: x }\ndependencies:\n  - common\n  - role: port\n    port: 80\n".to_string(),
        ),
        ("roles/web/tasks/main.yml", format!("---\n{}", log("web"))),
        (
            "roles/db/meta/main.yml",
            "dependencies:\n  - common\n  - { role: port, port: 5432 }\n".to_string(),
        ),
        ("roles/db/tasks/main.yml", format!("---\n{}", log("db"))),
        ("roles/api/meta/main.yml", "dependencies: [port]\n".to_string()),
        ("roles/api/tasks/main.yml", format!("---\n{}", log("api"))),
        ("roles/common/tasks/main.yml", format!("---\n{}", log("common"))),
        ("roles/port/defaults/main.yml", "port: 8080\n".to_string()),
        ("roles/port/tasks/main.yml", format!("---\n{}", log("port-{{ port }}"))),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let run = push_text(&fleet, &files);
    assert_eq!(run.code, 0, "{run:?}");
    // common once (same parameters), port once per distinct parameters, each before its role.
    assert_eq!(
        std::fs::read_to_string(home(&fleet, 0).join("order")).unwrap(),
        "common\nport-80\nweb\nport-5432\ndb\nport-8080\napi\n"
    );
    // An unknown key in meta/main.yml is refused, not ignored.
    let run = push_text(
        &fleet,
        &[
            ("deps2.yml", "- hosts: all\n  roles: [odd]\n"),
            ("roles/odd/meta/main.yml", "dependancies: [common]\n"),
        ],
    );
    assert_bad(&run, "unknown key `dependancies` in meta/main.yml");
}

#[test]
fn a_failed_commands_output_is_shown_kept_in_json_and_journal_and_hidden_by_no_log() {
    let fleet = common::fleet(1);
    let pb = "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sh -c 'echo partial result; echo \"no space left\" >&2; exit 3'\n";
    let run = push_text(&fleet, &[("fails.yml", pb)]);
    assert_eq!(run.code, 3, "{run:?}");
    for line in [
        "FAILED   [command]: non-zero return code 3",
        "      cmd: sh -c 'echo partial result; echo \"no space left\" >&2; exit 3'",
        "      rc: 3",
        "      stderr:\n        no space left",
        "      stdout:\n        partial result",
    ] {
        assert!(run.stdout.contains(line), "`{line}` not in:\n{run:?}");
    }
    // The journal keeps it too, as --json would print it.
    let runs = fleet.dir().join("runs");
    let journal = std::fs::read_to_string(common::only_run(&runs).join("events.jsonl")).unwrap();
    let failed: serde_json::Value = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"] == "task" && e["status"] == "failed")
        .unwrap();
    assert_eq!(
        failed["output"],
        serde_json::json!({
            "cmd": ["sh", "-c", "echo partial result; echo \"no space left\" >&2; exit 3"],
            "rc": 3,
            "stdout": "partial result",
            "stderr": "no space left"
        })
    );
    // With no_log, none of it shows anywhere.
    let secret = "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sh -c 'echo s3cret-out; echo s3cret-err >&2; exit 3'\n      no_log: true\n";
    let run = push_text(&fleet, &[("secret-fails.yml", secret)]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        !run.stderr.contains("s3cret") && !run.stdout.contains("s3cret"),
        "{run:?}"
    );
    for entry in std::fs::read_dir(&runs).unwrap() {
        let events = std::fs::read_to_string(entry.unwrap().path().join("events.jsonl")).unwrap();
        assert!(!events.contains("s3cret"));
    }
}

#[test]
fn every_plays_pattern_is_checked_before_anything_is_touched() {
    let fleet = common::fleet(2);
    let marker = home(&fleet, 0).join("first-play-ran");
    let first = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: touch {}\n",
        marker.display()
    );
    // The second play's pattern is a typo: nothing runs, not even the first play, and no run starts.
    let typo = format!("{first}- hosts: dockr\n  tasks:\n    - command: \"true\"\n");
    let run = push_text(&fleet, &[("typo.yml", &typo)]);
    assert_bad(&run, "play `dockr` (hosts: dockr)");
    assert_bad(&run, "nothing was run");
    assert!(!marker.exists());
    assert!(!fleet.dir().join("runs").exists(), "{run:?}");
    // A limit that keeps no host of any play is refused the same way.
    let pb = fleet.dir().join("pb/typo.yml");
    std::fs::write(&pb, &first).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(
        &fleet,
        &common::push_args(&pb, &runs, &["--limit", "node9*"]),
    );
    assert_bad(&run, "`node9*` matches no hosts");
    assert!(!marker.exists());
    // A play the limit leaves out is skipped, as Ansible skips it, and the others run.
    let two = format!(
        "{first}- hosts: node02\n  gather_facts: false\n  tasks:\n    - command: touch {}/second\n",
        home(&fleet, 1).display()
    );
    let run = push_text(&fleet, &[("two.yml", &two)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(marker.exists());
    assert!(!home(&fleet, 1).join("second").exists());
    assert!(
        run.stdout
            .contains("play `node02`: no host of `node02` is in --limit; skipped"),
        "{run:?}"
    );
}

/// A config changed, then a later task failed: the restart handler is pending. Without
/// `force_handlers` it does not run now (as in Ansible), the journal keeps it, and `--resume` runs
/// it although the config task, now unchanged, does not notify again. With `force_handlers` (the
/// play keyword or `--force-handlers`) the failed host runs it at once.
#[test]
fn handlers_pending_at_a_halt_run_on_resume_or_at_once_with_force_handlers() {
    let fleet = common::fleet(1);
    let home = home(&fleet, 0);
    let play = |force: &str, n: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n{force}  tasks:\n    - copy:\n        content: \"v1\\n\"\n        dest: {h}/app{n}.conf\n      notify: restart\n    - command: test -e {h}/ready{n}\n  handlers:\n    - name: restart\n      shell: echo restarted >> {h}/restarts{n}\n",
            h = home.display()
        )
    };
    let run = push_text(&fleet, &[("pending.yml", &play("", "1"))]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(!home.join("restarts1").exists(), "{run:?}");
    let runs = fleet.dir().join("runs");
    let id = common::only_run(&runs)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    std::fs::write(home.join("ready1"), "").unwrap();
    let resumed = common::drover_in(
        fleet.dir(),
        &[
            "push",
            "--resume",
            &id,
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    );
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert!(
        resumed
            .stdout
            .contains("node01: handlers notified before the run stopped will run: restart"),
        "{resumed:?}"
    );
    assert_eq!(
        std::fs::read_to_string(home.join("restarts1")).unwrap(),
        "restarted\n"
    );
    // After the play's tasks have put the host back as it was, not before them.
    let at = |what: &str| {
        resumed
            .stdout
            .find(what)
            .unwrap_or_else(|| panic!("{what}: {resumed:?}"))
    };
    assert!(at("changed  [restart]") > at("[command]"), "{resumed:?}");
    // The play keyword, then the flag: the failing host runs its handler before it stops.
    let run = push_text(
        &fleet,
        &[("forced.yml", &play("  force_handlers: true\n", "2"))],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(home.join("restarts2")).unwrap(),
        "restarted\n"
    );
    let pb = fleet.dir().join("pb/flag.yml");
    std::fs::write(&pb, play("", "3")).unwrap();
    let run = common::drover(
        &fleet,
        &common::push_args(&pb, &runs, &["--force-handlers"]),
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(home.join("restarts3")).unwrap(),
        "restarted\n"
    );
}

/// A playbook whose one task, `slow one`, takes 3 seconds and then creates the returned marker.
fn slow_task(fleet: &Fleet, name: &str) -> (PathBuf, PathBuf) {
    let done = home(fleet, 0).join(format!("{name}.done"));
    let pb = fleet.dir().join(name);
    std::fs::write(
        &pb,
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: slow one\n      shell: sleep 3; touch {}\n",
            done.display()
        ),
    )
    .unwrap();
    (pb, done)
}

/// A task shows when it starts, on stdout even when stdout is a file or a pipe (`drover push > log`),
/// so a hanging task can be told from a slow one.
#[test]
fn a_task_shows_when_it_starts_not_only_when_it_ends() {
    let fleet = common::fleet(1);
    let (pb, done) = slow_task(&fleet, "slow-start.yml");
    let runs = fleet.dir().join("runs");
    let command = common::drover_command(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    );
    let (early, out) = common::seen_while_running(command, "TASK [slow one]", &done);
    assert!(early, "the task showed only after it ended:\n{out}");
    assert!(out.contains("node01       changed  [slow one]"), "{out}");
    assert!(out.contains("PLAY RECAP"), "{out}");
}

/// On a terminal, a live line per busy host says which task it is in and for how long.
#[test]
fn on_a_terminal_each_busy_host_shows_its_task_and_how_long_it_has_been_there() {
    let fleet = common::fleet(1);
    let (pb, done) = slow_task(&fleet, "live.yml");
    let runs = fleet.dir().join("runs");
    let command = common::on_terminal(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    );
    let (early, out) = common::seen_while_running(command, "s  [slow one]", &done);
    assert!(early, "no live line while the task ran:\n{out}");
    assert!(out.contains("  node01 "), "{out}");
}

/// The journal's write errors reach the operator (once), instead of being dropped: here its folder
/// is on a tiny filesystem that fills up while the run goes on.
#[test]
fn a_journal_that_cannot_be_written_is_reported_not_ignored() {
    let fleet = common::fleet(1);
    let runs = fleet.dir().join("tiny-runs");
    std::fs::create_dir_all(&runs).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=20k", "tmpfs"])
        .arg(&runs)
        .status()
        .unwrap();
    assert!(mounted.success(), "mounting a tmpfs needs root");
    let pb = fleet.dir().join("many-events.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: a task with a long name so that its events fill the journal quickly\n      debug:\n        msg: \"{{ item }}\"\n      loop: \"{{ range(200) | list }}\"\n",
    )
    .unwrap();
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    let unmounted = std::process::Command::new("umount").arg(&runs).status();
    assert_eq!(run.code, 0, "{run:?}");
    let notes = run
        .stdout
        .matches("NOTE: cannot write the run journal")
        .count();
    assert_eq!(notes, 1, "{run:?}");
    assert!(run.stdout.contains("No space left on device"), "{run:?}");
    assert!(unmounted.unwrap().success());
}

/// `pause` with a prompt asks the operator at the terminal (the CLI's prompt, not the executor),
/// and its answer is registered; without a terminal it fails the task and says how to go on.
#[test]
fn a_pause_asks_the_operator_at_the_terminal_and_registers_the_answer() {
    let fleet = common::fleet(1);
    let answer = home(&fleet, 0).join("answer");
    let pb = fleet.dir().join("ask.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - pause:\n        prompt: Type the change number\n      register: asked\n    - copy:\n        content: \"{{{{ asked.user_input }}}}\"\n        dest: {}\n",
            answer.display()
        ),
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let mut script = common::on_terminal(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    )
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    use std::io::Write;
    script
        .stdin
        .take()
        .unwrap()
        .write_all(b"CHG-4711\n")
        .unwrap();
    let out = script.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("[pause] Type the change number: "),
        "{shown}"
    );
    assert_eq!(std::fs::read_to_string(&answer).unwrap(), "CHG-4711");
    // Without a terminal, nobody can answer: the task fails and says what to do.
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout
            .contains("drover has no terminal; give `seconds:`, or run with --yes"),
        "{run:?}"
    );
}

/// A variable whose value is a template renders when the task runs, its loop item set; one that
/// cannot render fails the task where it is used (bad input), as in Ansible, never printed as text.
#[test]
fn variables_that_are_templates_render_when_used_or_fail_the_task() {
    let fleet = common::fleet(1);
    let pb = "- hosts: all\n  gather_facts: false\n  vars:\n    pkg: \"{{ item }}-dev\"\n    url: \"{{ base_url }}/health\"\n  tasks:\n    - debug:\n        msg: \"installing {{ pkg }}\"\n      loop: [libfoo, libbar]\n    - debug:\n        msg: \"checking {{ url }}\"\n";
    let run = push_text(&fleet, &[("lazy.yml", pb)]);
    assert!(run.stdout.contains("installing libfoo-dev"), "{run:?}");
    assert!(run.stdout.contains("installing libbar-dev"), "{run:?}");
    assert!(!run.stdout.contains("checking {{ base_url"), "{run:?}");
    assert_bad_on_host(
        &run,
        "undefined variable (`url`) in `checking {{ url }}`; `url` is \"{{ base_url }}/health\", which cannot be rendered",
    );
}

/// `stat` on a real host: a file, a folder, a missing path and a symlink, registered and read by
/// later tasks as Ansible's result; it changes nothing, in check mode too.
#[test]
fn stat_describes_paths_as_ansible_does_and_later_tasks_read_it() {
    let fleet = common::fleet(1);
    let home = home(&fleet, 0);
    std::fs::write(home.join("app.conf"), "port=80\n").unwrap();
    std::os::unix::fs::symlink(home.join("app.conf"), home.join("current")).unwrap();
    std::fs::create_dir_all(home.join("data")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        home.join("app.conf"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let expected_sum = {
        let out = std::process::Command::new("sha1sum")
            .arg(home.join("app.conf"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split(' ')
            .next()
            .unwrap()
            .to_string()
    };
    let pb = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - stat: {{ path: {h}/app.conf }}\n      register: conf\n    - stat: {{ path: {h}/data }}\n      register: data\n    - stat: {{ path: {h}/missing }}\n      register: missing\n    - stat: {{ path: {h}/current, get_checksum: false }}\n      register: link\n    - assert:\n        that:\n          - conf.stat.exists and conf.stat.isreg and not conf.stat.isdir\n          - conf.stat.mode == '0640'\n          - conf.stat.size == 8\n          - conf.stat.checksum == '{sum}'\n          - data.stat.isdir\n          - not missing.stat.exists\n          - link.stat.islnk and link.stat.lnk_source == '{h}/app.conf'\n          - link.stat.checksum is not defined\n    - debug:\n        msg: \"owner {{{{ conf.stat.pw_name }}}}\"\n",
        h = home.display(),
        sum = expected_sum
    );
    let run = push_text(&fleet, &[("stat.yml", &pb)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("owner root"), "{run:?}");
    let checked = common::drover(
        &fleet,
        &common::push_args(
            &fleet.dir().join("pb/stat.yml"),
            &fleet.dir().join("runs"),
            &["--check"],
        ),
    );
    assert_eq!(checked.code, 0, "{checked:?}");
    assert!(!run.stdout.contains("changed  [stat]"), "{run:?}");
    assert!(checked.stdout.contains("owner root"), "{checked:?}");
}

/// `package` is apt on drover's hosts: a real apt world (its own dpkg database and a fixture
/// repository) gets the newer libexpat1, a second run changes nothing, check mode simulates, and a
/// `use:` naming another package manager is refused, not ignored.
#[test]
fn package_installs_with_apt_on_a_real_dpkg_database() {
    let scratch = common::scratch().join(format!("package-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let repo = scratch.join("repo");
    common::apt::build_repo(&repo);
    // The version the host has, in the repository too, so that it can be gone back to.
    common::apt::build_repo_of(
        &repo,
        &[&common::apt::Deb {
            name: "libexpat1",
            version: "2.5.0-1",
            depends: "",
            postinst: "#!/bin/sh\n",
        }],
    );
    let world = scratch.join("apt-0");
    let conf = common::apt::apt_world(&world, &repo, &[("libexpat1", "2.5.0-1")]);
    let fleet = common::Fleet::start(
        &scratch,
        &common::FleetOptions {
            hosts: 1,
            host_env: vec![vec![("APT_CONFIG".to_string(), conf.display().to_string())]],
            ..common::FleetOptions::default()
        },
    )
    .unwrap();
    let play = |extra: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - package:\n        name: libexpat1\n        state: latest\n{extra}"
        )
    };
    let pb = fleet.dir().join("pkg.yml");
    std::fs::write(&pb, play("")).unwrap();
    let runs = fleet.dir().join("runs");
    let installed = || common::apt::installed_version(&world, "libexpat1");
    // Check mode asks apt to simulate: a change is reported, nothing is installed.
    let checked = common::drover(&fleet, &common::push_args(&pb, &runs, &["--check"]));
    assert_eq!(checked.code, 0, "{checked:?}");
    assert!(checked.stdout.contains("changed  [package]"), "{checked:?}");
    assert_eq!(installed().as_deref(), Some("2.5.0-1"));
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("changed  [package]"), "{run:?}");
    assert_eq!(installed().as_deref(), Some("2.5.0-1+deb12u1"));
    let again = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("ok       [package]"), "{again:?}");
    // Other parameters go on to apt, as Ansible's package hands them on: an older version pinned,
    // with allow_downgrade. One the package manager's module does not take fails the task.
    let pinned = "- hosts: all\n  gather_facts: false\n  tasks:\n    - package:\n        name: libexpat1=2.5.0-1\n        allow_downgrade: true\n        install_recommends: false\n";
    let down = push_text(&fleet, &[("down.yml", pinned)]);
    assert_eq!(down.code, 0, "{down:?}");
    assert!(down.stdout.contains("changed  [package]"), "{down:?}");
    assert_eq!(installed().as_deref(), Some("2.5.0-1"));
    let zypper = pinned.replace(
        "allow_downgrade: true\n",
        "allow_downgrade: true\n        use: zypper\n",
    );
    let refused = push_text(&fleet, &[("zypper.yml", &zypper)]);
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(
        refused.stdout.contains(
            "the package manager here is zypper, whose module does not take `allow_downgrade`"
        ),
        "{refused:?}"
    );
    // Another manager by name: this Debian host has none, and says so; one drover lacks is
    // refused when the playbook is read.
    let other = push_text(&fleet, &[("yum.yml", &play("        use: yum\n"))]);
    assert_eq!(other.code, 3, "{other:?}");
    assert!(
        other.stdout.contains("this host has neither dnf nor yum"),
        "{other:?}"
    );
    let unknown = push_text(&fleet, &[("emerge.yml", &play("        use: portage\n"))]);
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(
        unknown
            .stderr
            .contains("`use`: expected one of auto, apt, dnf, yum, zypper, pacman"),
        "{unknown:?}"
    );
}

/// `get_url` on a real host from a real HTTP server: it downloads with the mode asked, keeps a file
/// that is already there (ok), refuses a file whose checksum is wrong (nothing is put in place, no
/// temporary file is left), and in check mode downloads nothing.
#[test]
fn get_url_downloads_checks_the_checksum_and_keeps_a_good_file() {
    let fleet = common::fleet(1);
    let port = http_server(200);
    let home = home(&fleet, 0);
    let body = r#"{"healthy": true, "version": "1.2.3"}"#;
    let sum = {
        use std::io::Write;
        let mut child = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout)[..64].to_string()
    };
    let play = |dest: &str, checksum: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - get_url:\n        url: http://127.0.0.1:{port}/health.json\n        dest: {}/{dest}\n        mode: \"0640\"\n        checksum: \"sha256:{checksum}\"\n",
            home.display()
        )
    };
    let pb = fleet.dir().join("dl.yml");
    std::fs::write(&pb, play("dl.json", &sum)).unwrap();
    let runs = fleet.dir().join("runs");
    let checked = common::drover(&fleet, &common::push_args(&pb, &runs, &["--check"]));
    assert!(checked.stdout.contains("changed  [get_url]"), "{checked:?}");
    assert!(!home.join("dl.json").exists());
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("changed  [get_url]"), "{run:?}");
    assert_eq!(std::fs::read_to_string(home.join("dl.json")).unwrap(), body);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(home.join("dl.json"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o640);
    let again = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert!(again.stdout.contains("ok       [get_url]"), "{again:?}");
    // A wrong checksum: the task fails and nothing is put in place.
    std::fs::write(&pb, play("bad.json", &"0".repeat(64))).unwrap();
    let bad = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(bad.code, 3, "{bad:?}");
    assert!(bad.stdout.contains("checksum mismatch"), "{bad:?}");
    assert!(!home.join("bad.json").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&home)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".drover-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `ping` and `slurp` on a real host, read by later tasks as Ansible's results.
#[test]
fn ping_answers_and_slurp_reads_a_file_as_base64() {
    let fleet = common::fleet(1);
    let home = home(&fleet, 0);
    std::fs::write(home.join("app.conf"), "port=80\n").unwrap();
    let pb = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n      register: pinged\n    - slurp:\n        src: {}/app.conf\n      register: conf\n    - assert:\n        that:\n          - pinged.ping == 'pong'\n          - conf.encoding == 'base64'\n          - (conf.content | b64decode | trim) == 'port=80'\n    - ping:\n        data: crash\n",
        home.display()
    );
    let run = push_text(&fleet, &[("probe.yml", &pb)]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("ok       [assert]"), "{run:?}");
    assert!(run.stdout.contains("FAILED   [ping]: boom"), "{run:?}");
}

/// `copy` with `remote_src`: a file on the host copied on the host, only when it differs; the mode
/// and owner asked are set; check mode copies nothing; a second run changes nothing.
#[test]
fn copy_with_remote_src_copies_on_the_host_only_what_differs() {
    let fleet = common::fleet(1);
    let home = home(&fleet, 0);
    std::fs::write(home.join("release.conf"), "v=2\n").unwrap();
    std::fs::create_dir_all(home.join("etc")).unwrap();
    let pb = fleet.dir().join("remote-copy.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        src: {h}/release.conf\n        dest: {h}/etc/\n        remote_src: true\n        mode: \"0600\"\n        owner: root\n",
            h = home.display()
        ),
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let copied = home.join("etc/release.conf");
    let checked = common::drover(&fleet, &common::push_args(&pb, &runs, &["--check"]));
    assert!(checked.stdout.contains("changed  [copy]"), "{checked:?}");
    assert!(!copied.exists());
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("changed  [copy]"), "{run:?}");
    assert_eq!(std::fs::read_to_string(&copied).unwrap(), "v=2\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&copied).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert!(again.stdout.contains("ok       [copy]"), "{again:?}");
    std::fs::write(home.join("release.conf"), "v=3\n").unwrap();
    let changed = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert!(changed.stdout.contains("changed  [copy]"), "{changed:?}");
    assert_eq!(std::fs::read_to_string(&copied).unwrap(), "v=3\n");
}

/// `replace` on a real host: every match replaced (Python's syntax for groups), only after
/// `after` when given; `--diff` shows it, `--check` changes nothing, a second run is ok.
#[test]
fn replace_edits_every_match_with_diff_check_and_idempotence() {
    let fleet = common::fleet(1);
    let home = home(&fleet, 0);
    let conf = home.join("nginx.conf");
    std::fs::write(&conf, "# listen 80\nlisten 80\n[tls]\nlisten 80\n").unwrap();
    let pb = fleet.dir().join("replace.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - replace:\n        path: {}\n        regexp: '^listen (80)$'\n        replace: 'listen \\g<1>80'\n        after: '^\\[tls\\]'\n",
            conf.display()
        ),
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let checked = common::drover(
        &fleet,
        &common::push_args(&pb, &runs, &["--check", "--diff"]),
    );
    assert!(checked.stdout.contains("changed  [replace]"), "{checked:?}");
    assert!(checked.stdout.contains("+listen 8080"), "{checked:?}");
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "# listen 80\nlisten 80\n[tls]\nlisten 80\n"
    );
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "# listen 80\nlisten 80\n[tls]\nlisten 8080\n"
    );
    let again = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert!(again.stdout.contains("ok       [replace]"), "{again:?}");
}

/// `include_vars` with a templated file name, and a folder under one name, read by later tasks.
#[test]
fn include_vars_reads_variables_for_later_tasks() {
    let fleet = common::fleet(1);
    let pb = "- hosts: all\n  gather_facts: false\n  vars:\n    family: Debian\n  tasks:\n    - include_vars: \"{{ family }}.yml\"\n    - include_vars:\n        dir: env\n        name: settings\n    - debug:\n        msg: \"pkg={{ pkg }} tier={{ settings.tier }} port={{ settings.port }}\"\n";
    let run = push_text(
        &fleet,
        &[
            ("iv.yml", pb),
            ("vars/Debian.yml", "pkg: apt\n"),
            ("vars/env/10-base.yml", "tier: base\nport: 80\n"),
            ("vars/env/20-prod.yml", "tier: prod\n"),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("pkg=apt tier=prod port=80"), "{run:?}");
}

/// Handlers brought in by `import_tasks:` in a play's `handlers:` are handlers each, by their own
/// names (as Ansible's static import makes them): notifying one runs that one only, with the
/// import's `when:` applied; an `include_tasks:` handler runs whole under its own name.
#[test]
fn imported_handlers_answer_by_their_own_names() {
    let fleet = common::fleet(1);
    let pb = "- hosts: all\n  gather_facts: false\n  vars:\n    out: $HOME/handled\n  handlers:\n    - name: Include handlers.\n      ansible.builtin.import_tasks: handlers.yml\n      when: true\n    - name: all of them\n      include_tasks: more.yml\n  tasks:\n    - command: \"true\"\n      changed_when: true\n      notify: [Restart b, all of them]\n";
    let handlers = "- name: Restart a\n  shell: echo a >> \"{{ out }}\"\n- name: Restart b\n  shell: echo b >> \"{{ out }}\"\n";
    let more = "- shell: echo more1 >> \"{{ out }}\"\n- shell: echo more2 >> \"{{ out }}\"\n";
    let run = push_text(
        &fleet,
        &[
            ("hd.yml", pb),
            ("handlers.yml", handlers),
            ("more.yml", more),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(home(&fleet, 0).join("handled")).unwrap(),
        "b\nmore1\nmore2\n",
        "{run:?}"
    );
}

/// A task file named by a template (`tasks/storage/{{ storage_type }}.yml`), as Ansible's dynamic
/// include takes it: the file the name renders to when the task runs, with a variable from
/// vars_files, a set_fact or a loop item; a name that renders to no file read at load fails the task,
/// naming the files there are.
#[test]
fn a_task_file_named_by_a_template_is_chosen_when_the_task_runs() {
    let fleet = common::fleet(1);
    let pb = "- hosts: all\n  gather_facts: false\n  vars_files: [config.yml]\n  tasks:\n    - include_tasks: tasks/storage/{{ storage_type }}.yml\n    - set_fact:\n        flavour: zfs\n    - ansible.builtin.include_tasks:\n        file: \"tasks/storage/{{ flavour }}.yml\"\n    - include_tasks: \"tasks/storage/{{ item }}.yml\"\n      loop: \"{{ both }}\"\n    - include_tasks: tasks/storage/{{ missing_kind }}.yml\n";
    let task = |name: &str| format!("- shell: echo {name} >> \"$HOME/storage\"\n");
    let run = push_text(
        &fleet,
        &[
            ("storage.yml", pb),
            (
                "config.yml",
                "storage_type: filesystem\nboth: [zfs, filesystem]\nmissing_kind: btrfs\n",
            ),
            ("tasks/storage/filesystem.yml", &task("filesystem")),
            ("tasks/storage/zfs.yml", &task("zfs")),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(home(&fleet, 0).join("storage")).unwrap(),
        "filesystem\nzfs\nzfs\nfilesystem\n",
        "{run:?}"
    );
    assert_bad_on_host(
        &run,
        "the task file `tasks/storage/btrfs.yml` (from `tasks/storage/{{ missing_kind }}.yml`) is not one found when the playbook was read (tasks/storage/filesystem.yml, tasks/storage/zfs.yml)",
    );
}

/// A variable is rendered once, as Ansible renders it: a Go template kept by `{% raw %}` stays a Go
/// template where it is used (not rendered a second time), a chain of variables resolves in any
/// order, and a registered command's output with `{{` in it is data, not a template.
#[test]
fn variables_render_once_and_registered_output_is_data() {
    let fleet = common::fleet(1);
    let pb = "- hosts: all\n  gather_facts: false\n  vars:\n    url: \"{{ base }}/api\"\n    base: \"http://{{ host_name }}:{{ port }}\"\n    host_name: web\n    port: 8080\n    ps_format: \"{% raw %}{{.Names}} {{.Status}}{% endraw %}\"\n  tasks:\n    - shell: printf '%s\\n' '{{ ps_format }}'\n      register: fmt\n    - debug:\n        msg: \"format=[{{ fmt.stdout }}] url={{ url }}\"\n    - debug:\n        msg: \"again=[{{ fmt.stdout }}] {{ ps_format }}\"\n";
    let run = push_text(&fleet, &[("once.yml", pb)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("format=[{{.Names}} {{.Status}}] url=http://web:8080/api"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("again=[{{.Names}} {{.Status}}] {{.Names}} {{.Status}}"),
        "{run:?}"
    );
}

/// Date arithmetic as Ansible's: `to_datetime` values subtract to a timedelta whose days a later
/// task reads; a certificate's age against `now()`; a timedelta itself is refused as a variable, as
/// ansible-core 2.19 refuses it, on the task's line.
#[test]
fn to_datetime_values_subtract_and_compare_as_python_datetimes() {
    let fleet = common::fleet(1);
    let pb = "- hosts: all\n  gather_facts: false\n  vars:\n    issued: '2024-02-27 08:00:00'\n    expires: '2024-03-02'\n  tasks:\n    - set_fact:\n        valid_days: \"{{ ((expires | to_datetime('%Y-%m-%d')) - (issued | to_datetime)).days }}\"\n        expired: \"{{ now() > (expires | to_datetime('%Y-%m-%d')) }}\"\n    - debug:\n        msg: \"valid {{ valid_days }} days ({{ valid_days | int + 1 }}), expired {{ expired }}, left {{ (expires | to_datetime('%Y-%m-%d')) - (issued | to_datetime) }}\"\n    - set_fact:\n        span: \"{{ (expires | to_datetime('%Y-%m-%d')) - (issued | to_datetime) }}\"\n";
    let run = push_text(&fleet, &[("dates.yml", pb)]);
    assert!(
        run.stdout
            .contains("valid 3 days (4), expired True, left 3 days, 16:00:00"),
        "{run:?}"
    );
    assert_bad_on_host(&run, "Type 'timedelta' is unsupported for variable storage");
}

/// A wheel of one tiny package, made by hand (a wheel is a zip with its metadata), so pip installs
/// it with `--no-index` and no network.
fn probe_wheel(dir: &Path) -> PathBuf {
    let wheel = dir.join("drover_probe-1.0-py3-none-any.whl");
    let script = format!(
        "import zipfile\nz = zipfile.ZipFile({:?}, 'w')\n\
         z.writestr('drover_probe/__init__.py', 'VERSION = \"1.0\"\\n')\n\
         z.writestr('drover_probe-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: drover-probe\\nVersion: 1.0\\n')\n\
         z.writestr('drover_probe-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: drover-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')\n\
         z.writestr('drover_probe-1.0.dist-info/RECORD', 'drover_probe/__init__.py,,\\ndrover_probe-1.0.dist-info/METADATA,,\\ndrover_probe-1.0.dist-info/WHEEL,,\\ndrover_probe-1.0.dist-info/RECORD,,\\n')\n\
         z.close()\n",
        wheel.display().to_string()
    );
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    wheel
}

/// pip on a host with Python (a loopback host: the controller's own Python, since drover's Debian
/// hosts carry none): a virtualenv made and a package installed from a local wheel, nothing changed
/// the second time, a removal predicted under --check and then made.
#[test]
fn pip_installs_into_a_virtualenv_only_what_is_missing() {
    let fleet = common::fleet(1);
    let wheel = probe_wheel(fleet.dir());
    let venv = home(&fleet, 0).join("venv");
    // extra_args go to every pip command, as Ansible's module passes them: --no-index only installs.
    let play = |name: &str, state: &str| {
        let extra = if state == "present" {
            "        extra_args: --no-index\n"
        } else {
            ""
        };
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - pip:\n        name: {name}\n        state: {state}\n        virtualenv: {}\n        virtualenv_command: /usr/bin/python3 -m venv\n{extra}",
            venv.display()
        )
    };
    let run_play = |text: &str, extra: &[&str]| {
        let pb = fleet.dir().join("pip.yml");
        std::fs::write(&pb, text).unwrap();
        let runs = fleet.dir().join("runs");
        common::drover(&fleet, &common::push_args(&pb, &runs, extra))
    };
    let installed = || {
        std::process::Command::new(venv.join("bin/python"))
            .args(["-c", "import drover_probe; print(drover_probe.VERSION)"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let install = play(&wheel.display().to_string(), "present");
    let run = run_play(&install, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("changed=1"), "{run:?}");
    assert_eq!(installed(), "1.0");
    let run = run_play(&install, &[]);
    assert!(run.stdout.contains("changed=0"), "{run:?}");
    let remove = play("drover-probe", "absent");
    let run = run_play(&remove, &["--check"]);
    assert!(run.stdout.contains("changed=1"), "{run:?}");
    assert_eq!(installed(), "1.0");
    let run = run_play(&remove, &[]);
    assert!(run.stdout.contains("changed=1"), "{run:?}");
    assert_eq!(installed(), "");
    let run = run_play(&remove, &[]);
    assert!(run.stdout.contains("changed=0"), "{run:?}");
}

/// What a test's HTTP server answers, by path: the test may change it while the server runs.
type Served = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>>;

/// A static npm registry on loopback: every path it knows (a package's document, its tarballs)
/// answered from a map the test may change between pushes; anything else is 404.
fn npm_registry() -> (u16, Served) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let files = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    let served = files.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head);
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let body: Option<Vec<u8>> = served.lock().unwrap().get(&path).cloned();
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", b"{}".to_vec()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    (port, files)
}

/// Packs `hello-drover` at `version` with the controller's npm; returns the tarball and its
/// `dist` entry for the registry's document.
fn npm_pack(dir: &Path, version: &str, port: u16) -> (Vec<u8>, serde_json::Value) {
    let src = dir.join(format!("src-{version}"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("package.json"),
        format!(r#"{{"name": "hello-drover", "version": "{version}", "main": "index.js"}}"#),
    )
    .unwrap();
    std::fs::write(
        src.join("index.js"),
        format!("module.exports = '{version}';\n"),
    )
    .unwrap();
    let out = std::process::Command::new("npm")
        .args(["pack", "--json", "--pack-destination"])
        .arg(dir)
        .current_dir(&src)
        .env("NPM_CONFIG_UPDATE_NOTIFIER", "false")
        .output()
        .expect("npm on the controller (scripts/install-deps installs it)");
    assert!(out.status.success(), "{out:?}");
    let packed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tarball = std::fs::read(dir.join(packed[0]["filename"].as_str().unwrap())).unwrap();
    let dist = serde_json::json!({
        "shasum": packed[0]["shasum"],
        "integrity": packed[0]["integrity"],
        "tarball": format!("http://127.0.0.1:{port}/hello-drover/-/hello-drover-{version}.tgz"),
    });
    (tarball, dist)
}

/// npm against a registry of the test's own (no network): a package in a project folder (made by
/// the task) and one installed globally, each installed once and ok the second time; `latest`
/// updates when the registry publishes a newer version; a removal predicted under --check, then
/// made, then ok.
#[test]
fn npm_installs_updates_and_removes_only_what_npm_does_not_already_list() {
    let fleet = common::fleet(1);
    let (port, files) = npm_registry();
    let dir = fleet.dir().join("npm");
    std::fs::create_dir_all(&dir).unwrap();
    let publish = |versions: &[&str], latest: &str| {
        let mut doc = serde_json::json!({"name": "hello-drover", "dist-tags": {"latest": latest}, "versions": {}});
        let mut f = files.lock().unwrap();
        for v in versions {
            let (tarball, dist) = npm_pack(&dir, v, port);
            f.insert(format!("/hello-drover/-/hello-drover-{v}.tgz"), tarball);
            doc["versions"][v] =
                serde_json::json!({"name": "hello-drover", "version": v, "dist": dist});
        }
        f.insert("/hello-drover".into(), doc.to_string().into_bytes());
    };
    publish(&["1.0.0"], "1.0.0");
    let home = home(&fleet, 0);
    let (app, prefix) = (home.join("app"), home.join("npm-global"));
    let play = |state: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  environment:\n    NPM_CONFIG_PREFIX: {prefix}\n    NPM_CONFIG_AUDIT: 'false'\n    NPM_CONFIG_FUND: 'false'\n    NPM_CONFIG_UPDATE_NOTIFIER: 'false'\n  tasks:\n    - community.general.npm:\n        name: hello-drover\n        path: {app}\n        state: {state}\n        registry: http://127.0.0.1:{port}\n    - npm:\n        name: hello-drover\n        global: true\n        state: {state}\n        registry: http://127.0.0.1:{port}\n",
            prefix = prefix.display(),
            app = app.display()
        )
    };
    let run_play = |text: &str, extra: &[&str]| {
        let pb = fleet.dir().join("npm.yml");
        std::fs::write(&pb, text).unwrap();
        common::drover(
            &fleet,
            &common::push_args(&pb, &fleet.dir().join("runs"), extra),
        )
    };
    let version = |root: &Path| {
        std::fs::read_to_string(root.join("node_modules/hello-drover/index.js")).unwrap_or_default()
    };
    let global = prefix.join("lib");
    let run = run_play(&play("present"), &["--check"]);
    assert!(run.stdout.contains("changed=2"), "{run:?}");
    assert_eq!(version(&app), "", "check mode installs nothing");
    let run = run_play(&play("present"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("changed=2"), "{run:?}");
    assert_eq!(version(&app), "module.exports = '1.0.0';\n");
    assert_eq!(version(&global), "module.exports = '1.0.0';\n");
    let run = run_play(&play("present"), &[]);
    assert!(run.stdout.contains("changed=0"), "{run:?}");
    let run = run_play(&play("latest"), &[]);
    assert!(
        run.stdout.contains("changed=0"),
        "nothing newer yet: {run:?}"
    );
    publish(&["1.0.0", "1.1.0"], "1.1.0");
    let run = run_play(&play("latest"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("changed=2"), "{run:?}");
    assert_eq!(version(&app), "module.exports = '1.1.0';\n");
    assert_eq!(version(&global), "module.exports = '1.1.0';\n");
    let run = run_play(&play("absent"), &["--check"]);
    assert!(run.stdout.contains("changed=2"), "{run:?}");
    assert_eq!(version(&app), "module.exports = '1.1.0';\n");
    let run = run_play(&play("absent"), &[]);
    assert!(run.stdout.contains("changed=2"), "{run:?}");
    assert_eq!(
        (version(&app), version(&global)),
        (String::new(), String::new())
    );
    let run = run_play(&play("absent"), &[]);
    assert!(run.stdout.contains("changed=0"), "{run:?}");
}

/// `environment:` on the play, a block and a task (a mapping or a template giving one), merged with
/// the innermost winning, set for every command of the module: a value with quotes and `$(...)`
/// stays plain text.
#[test]
fn environment_reaches_every_command_innermost_first() {
    let fleet = common::fleet(1);
    let out = home(&fleet, 0).join("env.txt");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  environment:\n    STAGE: play\n    REGION: eu\n  vars:\n    proxy_env:\n      HTTP_PROXY: http://proxy:3128\n      STAGE: task\n  tasks:\n    - block:\n        - shell: echo \"$STAGE $REGION $HTTP_PROXY $ODD\" > {out}\n          environment: \"{{{{ proxy_env }}}}\"\n      environment:\n        REGION: us\n        ODD: \"it's $(id)\"\n    - command: env\n      register: plain\n    - assert:\n        that: [\"'REGION=eu' in plain.stdout_lines\"]\n",
        out = out.display()
    );
    let pb = fleet.dir().join("env.yml");
    std::fs::write(&pb, play).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "task us http://proxy:3128 it's $(id)\n"
    );
    // A name that cannot be a variable is refused when the playbook is read.
    std::fs::write(
        &pb,
        "- hosts: all\n  tasks:\n    - command: env\n      environment:\n        BAD-NAME: x\n",
    )
    .unwrap();
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &["--syntax-check"]));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("env.yml:5:9: environment: `BAD-NAME` is not a variable name"),
        "{run:?}"
    );
}

/// `module_defaults:` as ansible-core 2.19 applies them (checked with it on the same play): the
/// play's for `copy` (mode and backup), replaced whole by a block's entry for
/// `ansible.builtin.copy` (the same module), a task's own parameter winning over both, a templated
/// default, an included file's tasks under the play's defaults; a parameter the module does not
/// take is refused at load with its line and column.
#[test]
fn module_defaults_fill_in_what_a_task_does_not_say() {
    let fleet = common::fleet(1);
    let dir = home(&fleet, 0).join("md");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("one"), "old").unwrap();
    let d = dir.display();
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  vars:\n    strict: \"0604\"\n  module_defaults:\n    copy:\n      mode: \"0600\"\n      backup: true\n    file:\n      mode: \"{{{{ strict }}}}\"\n  tasks:\n    - copy: {{content: a, dest: {d}/one}}\n    - block:\n        - ansible.builtin.copy: {{content: b, dest: {d}/two}}\n        - copy: {{content: c, dest: {d}/three, mode: \"0644\"}}\n      module_defaults:\n        ansible.builtin.copy:\n          mode: \"0640\"\n    - include_tasks: more.yml\n"
    );
    let more = format!("- file: {{path: {d}/four, state: touch}}\n");
    let run = push_text(&fleet, &[("md.yml", &play), ("more.yml", &more)]);
    assert_eq!(run.code, 0, "{run:?}");
    let mode = |name: &str| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(
        [mode("one"), mode("two"), mode("three"), mode("four")],
        [0o600, 0o640, 0o644, 0o604]
    );
    let names = || {
        let mut v: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    // `one` was replaced under the play's backup: true; the block's entry has no backup.
    let backups: Vec<String> = names()
        .into_iter()
        .filter(|n| n.starts_with("one."))
        .collect();
    assert_eq!(backups.len(), 1, "{:?}", names());
    std::fs::write(dir.join("two"), "changed by hand").unwrap();
    let run = push_text(&fleet, &[("md.yml", &play), ("more.yml", &more)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        !names().iter().any(|n| n.starts_with("two.")),
        "{:?}",
        names()
    );
    assert_refused(
        &fleet,
        (
            "bad_defaults.yml",
            "- hosts: all\n  module_defaults:\n    apt:\n      cache_valid: 3600\n  tasks:\n    - ping:\n",
        ),
        "bad_defaults.yml:4:7",
        "unknown key `cache_valid` in module_defaults for module `apt`",
    );
}

/// A playbook named without a folder (run from its own folder, as most are): `playbook_dir` is
/// that folder, absolute, both in a static include's path and when a task renders it.
#[test]
fn playbook_dir_is_absolute_for_a_playbook_named_without_a_folder() {
    let fleet = common::fleet(1);
    let dir = fleet.dir().join("bare");
    std::fs::create_dir_all(dir.join("inc")).unwrap();
    let out = home(&fleet, 0).join("pd.txt");
    std::fs::write(
        dir.join("pd.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - include_tasks: \"{{ playbook_dir }}/inc/more.yml\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("inc/more.yml"),
        format!(
            "- copy:\n    content: \"{{{{ playbook_dir }}}}\"\n    dest: {}\n",
            out.display()
        ),
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let output = common::drover_command(
        &fleet,
        &["push", "pd.yml", "--runs-dir", runs.to_str().unwrap()],
    )
    .current_dir(&dir)
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        dir.display().to_string()
    );
}

/// The play keywords `remote_user` and `connection`: they apply where the host's variables say
/// nothing (a host's `ansible_user` beats the play's `remote_user`, as in Ansible), and
/// `connection: local` runs the play's tasks on the controller.
#[test]
fn remote_user_and_connection_play_keywords() {
    let fleet = common::fleet(1);
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let inv = common::inventory_variant(&fleet, "no-user", &format!("ansible_user={user}\n"), "");
    let out = fleet.dir().join("where.txt");
    let pb = fleet.dir().join("keywords.yml");
    let runs = fleet.dir().join("runs");
    let play = |keywords: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n{keywords}  tasks:\n    - shell: echo \"${{DROVER_FLEET_HOST:-controller}} $(id -un)\" > {}\n",
            out.display()
        )
    };
    let push = |text: &str| {
        std::fs::write(&pb, text).unwrap();
        common::drover_with(&fleet, &inv, &common::push_args(&pb, &runs, &[]), &[])
    };
    let run = push(&play(&format!("  remote_user: {user}\n")));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        format!("node01 {user}\n")
    );
    let run = push(&play("  remote_user: drover-no-such-user\n"));
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("UNREACHABLE"), "{run:?}");
    let run = push(&play("  connection: local\n"));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        format!("controller {user}\n")
    );
    std::fs::write(&pb, play("  connection: winrm\n")).unwrap();
    let run = common::drover_with(
        &fleet,
        &inv,
        &common::push_args(&pb, &runs, &["--syntax-check"]),
        &[],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("connection: `winrm` is not supported"),
        "{run:?}"
    );
}

/// Loops as Ansible runs them: a looped task's `when` is asked of each item (items it refuses are
/// skipped, and a task whose items are all refused is skipped); an include with `loop:` runs its
/// tasks once per item with the item set; `include_tasks: "tasks/{{ item }}.yml"` over a literal
/// list reads each file.
#[test]
fn loops_ask_when_per_item_and_run_includes_per_item() {
    let fleet = common::fleet(1);
    let dir = fleet.dir().join("loops");
    std::fs::create_dir_all(dir.join("tasks")).unwrap();
    let out = home(&fleet, 0).join("loops.txt");
    let o = out.display();
    std::fs::write(
        dir.join("tasks/each.yml"),
        format!("- shell: echo \"each {{{{ item }}}}\" >> {o}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("tasks/web.yml"),
        format!("- shell: echo \"web {{{{ item }}}}\" >> {o}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("tasks/db.yml"),
        format!("- shell: echo \"db {{{{ item }}}}\" >> {o}\n"),
    )
    .unwrap();
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  vars:\n    users: [{{name: a, enabled: true}}, {{name: b, enabled: false}}, {{name: c, enabled: true}}]\n  tasks:\n    - shell: echo \"user {{{{ item.name }}}}\" >> {o}\n      loop: \"{{{{ users }}}}\"\n      when: item.enabled\n      register: u\n    - shell: echo never >> {o}\n      loop: [1, 2]\n      when: item > 5\n      register: never\n    - assert:\n        that: [\"u.results | length == 3\", \"u.results[1].skipped\", \"never.skipped\"]\n    - include_tasks: tasks/each.yml\n      loop: [x, y]\n      when: item != 'y'\n    - include_tasks: \"tasks/{{{{ item }}}}.yml\"\n      loop: [web, db]\n"
    );
    let pb = dir.join("site.yml");
    std::fs::write(&pb, play).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "user a\nuser c\neach x\nweb web\ndb db\n"
    );
}

/// docker_compose_v2's options with a real Compose (the controller's, on a loopback host with a
/// Docker daemon of its own; drover's Debian hosts carry no Compose): `files` and `project_name`,
/// up, a second up that changes nothing, `state: stopped`, `restarted`, the older module's
/// `stopped: true` and `restarted: true`, then `absent` with `remove_volumes`.
#[test]
fn docker_compose_v2_files_project_and_states() {
    let fleet = common::Fleet::start(
        &common::scratch(),
        &common::FleetOptions {
            hosts: 1,
            docker: true,
            ..common::FleetOptions::default()
        },
    )
    .expect("fleet with a docker daemon");
    fleet.build_busybox_image(0).unwrap();
    let stack = home(&fleet, 0).join("stack");
    std::fs::create_dir_all(&stack).unwrap();
    std::fs::write(
        stack.join("shop.yml"),
        "services:\n  app:\n    image: drover/busybox:1\n    network_mode: none\n    stop_grace_period: 1s\n    volumes: [data:/data]\nvolumes:\n  data: {}\n",
    )
    .unwrap();
    let play = |extra: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.docker.docker_compose_v2:\n        project_src: {}\n        files: [shop.yml]\n        project_name: shop\n{extra}",
            stack.display()
        )
    };
    let pb = fleet.dir().join("compose.yml");
    let runs = fleet.dir().join("runs");
    let push = |text: &str| {
        std::fs::write(&pb, text).unwrap();
        common::drover(&fleet, &common::push_args(&pb, &runs, &[]))
    };
    let state = || {
        fleet
            .docker(
                0,
                &[
                    "ps",
                    "-a",
                    "--filter",
                    "label=com.docker.compose.project=shop",
                    "--format",
                    "{{.State}}",
                ],
            )
            .unwrap()
            .trim()
            .to_string()
    };
    let run = push(&play(""));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("changed=1"), "{run:?}");
    assert_eq!(state(), "running");
    let run = push(&play(""));
    assert!(run.stdout.contains("changed=0"), "{run:?}");
    let run = push(&play("        state: stopped\n"));
    assert!(run.stdout.contains("changed=1"), "{run:?}");
    assert_eq!(state(), "exited");
    let run = push(&play("        state: restarted\n"));
    assert!(run.stdout.contains("changed=1"), "{run:?}");
    assert_eq!(state(), "running");
    // The older community.docker.docker_compose's spellings: `stopped: true`, then `build: false`
    // with `restarted: true` (up, then restart).
    let older = |extra: &str| play(extra).replace("docker_compose_v2:", "docker_compose:");
    let run = push(&older("        stopped: true\n"));
    assert!(run.stdout.contains("changed=1"), "{run:?}");
    assert_eq!(state(), "exited");
    let run = push(&older(
        "        build: false\n        pull: false\n        restarted: true\n",
    ));
    assert!(run.stdout.contains("changed=1"), "{run:?}");
    assert_eq!(state(), "running");
    let run = push(&play(
        "        state: absent\n        remove_volumes: true\n",
    ));
    assert!(run.stdout.contains("changed=1"), "{run:?}");
    assert_eq!(state(), "");
    assert!(
        fleet
            .docker(0, &["volume", "inspect", "shop_data"])
            .is_err()
    );
}

/// A play on `localhost` when the inventory has no such host runs on the controller, as Ansible's
/// implicit localhost does; `all` does not take it in.
#[test]
fn implicit_localhost_runs_on_the_controller() {
    let fleet = common::fleet(1);
    let out = fleet.dir().join("local.txt");
    let pb = fleet.dir().join("local.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - shell: echo \"${{DROVER_FLEET_HOST:-controller}} {{{{ inventory_hostname }}}}\" > {}\n- hosts: all\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n",
            out.display()
        ),
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "controller localhost\n"
    );
    let recap: Vec<&str> = run.stdout.lines().filter(|l| l.contains(": ok=")).collect();
    assert_eq!(recap.len(), 2, "localhost and node01 only: {run:?}");
}

/// `with_<lookup>:` loops run their lookup plugin on the terms as Ansible's task executor does
/// (checked against ansible-playbook on the same play): with_items flattens one level, with_dict
/// gives key/value, with_sequence formats, with_subelements pairs, with_together pads, with_nested
/// combines, with_fileglob finds files beside the playbook, with_first_found on a template task
/// looks in templates/. Lookups in a task's text see its variables; an unknown `with_` is refused
/// at load with its line.
#[test]
fn with_loops_run_their_lookup_as_ansible_does() {
    let fleet = common::fleet(1);
    let out = home(&fleet, 0).join("with.txt");
    let site = home(&fleet, 0).join("site.conf");
    let pw = fleet.dir().join("pb/credentials/db");
    let (o, s) = (out.display(), site.display());
    let play = format!(
        r#"- hosts: all
  gather_facts: false
  vars:
    d: {{a: 1, b: 2}}
    users: [{{name: u, keys: [k1, k2]}}, {{name: w, keys: [k3]}}]
  tasks:
    - shell: echo "dict {{{{ item.key }}}}={{{{ item.value }}}}" >> {o}
      with_dict: "{{{{ d }}}}"
    - shell: echo "seq {{{{ item }}}}" >> {o}
      with_sequence: start=1 end=3 format=n%d
    - shell: echo "sub {{{{ item.0.name }}}} {{{{ item.1 }}}}" >> {o}
      with_subelements: ["{{{{ users }}}}", keys]
    - shell: echo "tog {{{{ item.0 }}}} {{{{ item.1 }}}}" >> {o}
      with_together: [[1, 2], [a]]
    - shell: echo "nest {{{{ item | join('') }}}}" >> {o}
      with_nested: [[1, 2], [a, b]]
    - shell: echo "items {{{{ item }}}}" >> {o}
      with_items: [[1, 2], 3]
    - shell: echo "glob {{{{ item | basename }}}}" >> {o}
      with_fileglob: ["*.txt"]
    - template: {{src: "{{{{ item }}}}", dest: {s}}}
      with_first_found: [missing.j2, site.j2]
    - shell: echo "lookup {{{{ lookup('vars', 'd').b }}}} {{{{ lookup('template', 'site.j2') | trim }}}} {{{{ lookup('password', '{pw} length=8 chars=digits') | length }}}}" >> {o}
"#,
        pw = pw.display()
    );
    let run = push_text(
        &fleet,
        &[
            ("with.yml", &play),
            ("files/a.txt", "a\n"),
            ("templates/site.j2", "port {{ d.a }}\n"),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "dict a=1\ndict b=2\nseq n1\nseq n2\nseq n3\nsub u k1\nsub u k2\nsub w k3\ntog 1 a\ntog 2 \nnest 1a\nnest 1b\nnest 2a\nnest 2b\nitems 1\nitems 2\nitems 3\nglob a.txt\nlookup 2 port 1 8\n"
    );
    assert_eq!(std::fs::read_to_string(&site).unwrap(), "port 1\n");
    // The password lookup kept what it made, private.
    use std::os::unix::fs::PermissionsExt;
    let stored = std::fs::metadata(&pw).unwrap().permissions().mode() & 0o777;
    assert_eq!(stored, 0o600);
    assert_eq!(std::fs::read_to_string(&pw).unwrap().trim().len(), 8);

    assert_refused(
        &fleet,
        (
            "cartesian.yml",
            "- hosts: all\n  tasks:\n    - debug: msg=x\n      with_cartesian: [[1]]\n",
        ),
        "cartesian.yml:4:7",
        "no lookup plugin `cartesian`",
    );
}

/// `delegate_to:` another inventory host runs the module over that host's connection with this
/// host's variables (a template picks the host when the task runs); `localhost` is the
/// controller; a delegate that cannot be reached fails this host's task, naming it.
#[test]
fn delegate_to_runs_over_the_other_hosts_connection() {
    let fleet = common::fleet(2);
    let inventory = common::inventory_variant(
        &fleet,
        "delegate.ini",
        "[fleet]\n",
        "[elsewhere]\ndown ansible_host=127.0.0.1 ansible_port=1\n\n[fleet]\n",
    );
    let addr = |i: usize| fleet.hosts()[i].addr.to_string();
    let play = "- hosts: node01\n  gather_facts: false\n  tasks:\n    - shell: echo \"$SSH_CONNECTION\" | cut -d' ' -f3\n      register: own\n    - shell: echo \"{{ inventory_hostname }} $SSH_CONNECTION\" | cut -d' ' -f1,4\n      delegate_to: \"{{ groups['fleet'] | last }}\"\n      register: other\n    - shell: echo \"local:$SSH_CONNECTION\"\n      delegate_to: localhost\n      register: local\n    - copy:\n        content: \"{{ own.stdout }}|{{ other.stdout }}|{{ local.stdout }}\"\n        dest: \"{{ lookup('env', 'HOME') }}/delegated\"\n      delegate_to: localhost\n    - shell: echo never\n      delegate_to: down\n";
    let pb = fleet.dir().join("delegate.yml");
    std::fs::write(&pb, play).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover_with(&fleet, &inventory, &common::push_args(&pb, &runs, &[]), &[]);
    // The unreachable delegate fails node01's task: the batch halts (exit 3).
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(fleet.dir().join("delegated")).unwrap(),
        format!("{}|node01 {}|local:", addr(0), addr(1))
    );
    assert!(
        run.stdout.contains("delegate_to `down` is unreachable"),
        "{run:?}"
    );
}

/// A block's keywords reach its tasks, a task's own value winning (`ignore_errors: false` inside an
/// ignoring block fails); keywords written as templates render when the task runs (`ignore_errors`,
/// `no_log`, `timeout`), as Ansible evaluates them (checked against ansible-playbook on the same
/// play); a templated no_log hides the output.
#[test]
fn block_keywords_reach_their_tasks_and_templated_keywords_render() {
    let fleet = common::fleet(1);
    let play = r#"- hosts: all
  gather_facts: false
  vars:
    optional: true
    quiet: "yes"
    wait: 5
  tasks:
    - block:
        - command: "false"
        - shell: echo after-false-in-block
      ignore_errors: true
    - command: "false"
      ignore_errors: "{{ optional }}"
    - command: sleep 3
      timeout: "{{ wait - 4 }}"
      ignore_errors: true
      register: slow
    - assert:
        that: [slow is failed]
    - block:
        - command: echo secret-value
        - command: "false"
          ignore_errors: false
      no_log: "{{ quiet }}"
      ignore_errors: true
"#;
    let run = push_text(&fleet, &[("keywords.yml", play)]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.stdout.matches("ignored ").count(), 3, "{run:?}");
    // The block went on past its failing task.
    assert!(run.stdout.contains("TASK [shell]"), "{run:?}");
    assert!(
        run.stdout
            .contains("failed; the output is hidden because the task has `no_log: true`"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("secret-value"), "{run:?}");
    let journal =
        std::fs::read_to_string(common::only_run(&fleet.dir().join("runs")).join("events.jsonl"))
            .unwrap();
    assert!(journal.contains("\"status\":\"failed\""), "{journal}");
    assert!(!journal.contains("secret-value"));
}

/// `async` with `poll: 0` starts a command in the background and goes on; `async_status` (retried
/// until it says finished) gives its exit code and output; a job that outlives its `async`
/// seconds is killed; `async` with a poll of 1 or more waits at most that long; the job's folder is
/// private; `poll: 0` on a module that cannot run in the background is refused at load.
#[test]
fn async_jobs_run_in_the_background_and_async_status_reads_them() {
    let fleet = common::fleet(1);
    let play = r#"- hosts: all
  gather_facts: false
  tasks:
    - shell: sleep 1; echo "$((6 * 7))"; echo warn >&2
      async: 30
      poll: 0
      register: job
    - shell: sleep 30
      async: 1
      poll: 0
      register: doomed
    - shell: echo "went on before the job ended"
    - async_status:
        jid: "{{ job.ansible_job_id }}"
      register: result
      until: result.finished
      retries: 30
      delay: 1
    - async_status:
        jid: "{{ doomed.ansible_job_id }}"
      register: killed
      until: killed.finished
      retries: 30
      delay: 1
      ignore_errors: true
    - shell: sleep 5
      async: 1
      poll: 1
      ignore_errors: true
      register: waited
    - copy:
        content: "{{ job.started }} {{ job.finished }} {{ result.rc }} {{ result.stdout }} {{ result.stderr }} {{ killed.rc }} {{ killed is failed }} {{ waited is failed }}"
        dest: "{{ lookup('env', 'HOME') }}/async-result"
      delegate_to: localhost
    - async_status:
        jid: "{{ job.ansible_job_id }}"
        mode: cleanup
"#;
    let run = push_text(&fleet, &[("async.yml", play)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(fleet.dir().join("async-result")).unwrap(),
        "1 0 0 42 warn 137 True True"
    );
    use std::os::unix::fs::PermissionsExt;
    let jobs = home(&fleet, 0).join(".ansible_async");
    let mode = std::fs::metadata(&jobs).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    // The cleaned-up job is gone; the killed one is still there.
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 1);

    assert_refused(
        &fleet,
        (
            "bad.yml",
            "- hosts: all\n  tasks:\n    - copy: {content: x, dest: /tmp/x}\n      async: 10\n      poll: 0\n",
        ),
        "bad.yml:5:7",
        "`poll: 0` runs command and shell",
    );
}

/// `ignore_unreachable`: a task that loses the host's connection (its SSH session killed under it)
/// is counted ok and ignored, registered `unreachable`, and the next task connects again; without
/// it the host ends unreachable, as Ansible's does.
#[test]
fn ignore_unreachable_goes_on_after_a_lost_connection() {
    let fleet = common::fleet(1);
    // The shell's parent is the SSH session's sshd: killing it drops this connection.
    let cut = "kill -KILL $PPID";
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: {cut}\n      ignore_unreachable: true\n      register: cut\n    - shell: echo \"back {{{{ cut.unreachable }}}}\" > \"$HOME/after-cut\"\n    - shell: {cut}\n    - shell: touch \"$HOME/never\"\n"
    );
    let run = push_text(&fleet, &[("unreachable.yml", &play)]);
    assert_eq!(
        std::fs::read_to_string(home(&fleet, 0).join("after-cut")).unwrap(),
        "back True\n",
        "{run:?}"
    );
    assert!(!home(&fleet, 0).join("never").exists());
    assert!(run.stdout.contains("unreachable=1"), "{run:?}");
    assert!(run.stdout.contains("ignored=1"), "{run:?}");
    // The unreachable host halts its batch.
    assert_eq!(run.code, 3, "{run:?}");
}

/// Ansible Vault through the binary, on files ansible-vault itself encrypted: a vault-encrypted
/// vars file (format 1.1), a `!vault` value, a vault-encrypted `copy` source under a vault id
/// (format 1.2) all decrypt with `--vault-password-file` and `--vault-id ID@FILE`; what they
/// revealed is hidden (`********`) in a failed task's output and in the journal; without a
/// password, or with a wrong one, the playbook is refused before anything runs.
#[test]
fn vault_files_and_values_decrypt_and_stay_secret() {
    let fleet = common::fleet(1);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vault/tests/fixtures");
    let read = |name: &str| std::fs::read_to_string(fixtures.join(name)).unwrap();
    let out = home(&fleet, 0).join("vault-out");
    let copied = home(&fleet, 0).join("vault-copied");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  vars_files: [secrets.yml, inline.yml]\n  tasks:\n    - shell: echo \"{{{{ db_password }}}} {{{{ api_token }}}} {{{{ plain_value }}}}\" > {}\n    - copy:\n        src: encrypted.yml\n        dest: {}\n    - shell: echo \"token is {{{{ api_token }}}}\"; exit 1\n",
        out.display(),
        copied.display()
    );
    let files = [
        ("vault.yml", play.as_str()),
        ("secrets.yml", &read("vars-1.1.yml")),
        ("inline.yml", &read("inline.yml")),
        ("files/encrypted.yml", &read("vars-1.2.yml")),
    ];
    let pw = fixtures.join("password.txt");
    let ops = format!("ops@{}", fixtures.join("ops-password.txt").display());
    let pb = fleet.dir().join("pb/vault.yml");
    let runs = fleet.dir().join("runs");
    // Without a password: refused before anything runs, naming the file.
    let run = push_text(&fleet, &files);
    assert_bad(&run, "secrets.yml");
    assert!(
        run.stderr.contains("no vault password was given"),
        "{run:?}"
    );
    assert!(!out.exists());
    // A wrong password opens nothing.
    let wrong = fleet.dir().join("wrong-pw");
    std::fs::write(&wrong, "nope\n").unwrap();
    let run = common::drover(
        &fleet,
        &common::push_args(
            &pb,
            &runs,
            &["--vault-password-file", wrong.to_str().unwrap()],
        ),
    );
    assert_bad(&run, "no vault password given opens it");
    let run = common::drover(
        &fleet,
        &common::push_args(
            &pb,
            &runs,
            &[
                "--vault-password-file",
                pw.to_str().unwrap(),
                "--vault-id",
                &ops,
            ],
        ),
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "s3cr3t-from-vault tok-12345 visible\n"
    );
    assert_eq!(
        std::fs::read_to_string(&copied).unwrap(),
        "db_password: s3cr3t-from-vault\nusers:\n  - alice\n"
    );
    assert!(run.stdout.contains("token is ********"), "{run:?}");
    assert!(!run.stdout.contains("tok-12345"), "{run:?}");
    let journal = std::fs::read_to_string(common::only_run(&runs).join("events.jsonl")).unwrap();
    assert!(journal.contains("token is ********"), "{journal}");
    assert!(!journal.contains("tok-12345") && !journal.contains("s3cr3t-from-vault"));
}

/// A `!vault` value is decrypted only where it is used, as Ansible does: without a password, a
/// play whose variables hold one it never reads runs; a task that reads it fails, naming the
/// variable and why; a connection setting that is one is refused before any host is contacted,
/// rather than used as the password.
#[test]
fn a_vault_value_without_its_password_fails_only_where_it_is_used() {
    let fleet = common::fleet(1);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vault/tests/fixtures");
    let inline = std::fs::read_to_string(fixtures.join("inline.yml")).unwrap();
    let unused = "- hosts: all\n  gather_facts: false\n  vars_files: [inline.yml]\n  tasks:\n    - debug: msg=\"{{ plain_value }}\"\n";
    let run = push_text(&fleet, &[("unused.yml", unused), ("inline.yml", &inline)]);
    assert_eq!(run.code, 0, "{run:?}");
    let used = "- hosts: all\n  gather_facts: false\n  vars_files: [inline.yml]\n  tasks:\n    - debug: msg=\"{{ api_token }}\"\n";
    let run = push_text(&fleet, &[("used.yml", used), ("inline.yml", &inline)]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("`api_token` is the `!vault` value at line 2, column 11: it is vault-encrypted, and no vault password was given"),
        "{run:?}"
    );
    // A connection setting: the host is refused, not connected with a placeholder password.
    let group_vars = fleet.inventory().parent().unwrap().join("group_vars");
    std::fs::create_dir_all(&group_vars).unwrap();
    std::fs::write(
        group_vars.join("all.yml"),
        inline.replacen("api_token:", "ansible_become_password:", 1),
    )
    .unwrap();
    let run = push_text(&fleet, &[("unused.yml", unused), ("inline.yml", &inline)]);
    std::fs::remove_dir_all(&group_vars).unwrap();
    assert_bad(
        &run,
        "`ansible_become_password` is a `!vault` value no vault password given opens",
    );
}

/// A vault client script named without a folder (`--vault-id ops@vault-client.sh`, as
/// ansible.cfg's `vault_identity_list` names them) is the file of the current folder, not a program
/// on PATH, and is asked for its id as Ansible asks a client script (`--vault-id ops`).
#[test]
fn a_vault_client_script_of_the_current_folder_is_asked_for_its_id() {
    let fleet = common::fleet(1);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vault/tests/fixtures");
    let dir = fleet.dir().join("client");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixtures.join("vars-1.2.yml"), dir.join("ops.yml")).unwrap();
    let out = home(&fleet, 0).join("client-out");
    std::fs::write(
        dir.join("site.yml"),
        format!(
            "- hosts: all\n  gather_facts: false\n  vars_files: [ops.yml]\n  tasks:\n    - shell: echo \"{{{{ users | join(',') }}}}\" > {}\n",
            out.display()
        ),
    )
    .unwrap();
    let password = std::fs::read_to_string(fixtures.join("ops-password.txt")).unwrap();
    let script = dir.join("vault-client.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$*\" = '--vault-id ops' ] || exit 9\nprintf '%s\\n' '{}'\n",
            password.trim()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    let runs = fleet.dir().join("runs");
    let output = common::drover_command(
        &fleet,
        &[
            "push",
            "site.yml",
            "--runs-dir",
            runs.to_str().unwrap(),
            "--vault-id",
            "ops@vault-client.sh",
        ],
    )
    .current_dir(&dir)
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "alice\n");
}

/// `loop_control: extended` gives `ansible_loop` as ansible-core 2.19 gives it (the same play run
/// with it printed the same three lines), with `extended_allitems: false`, `ansible_loop_var` and
/// `ansible_index_var`; a loop over an include gets them too.
#[test]
fn an_extended_loop_knows_where_it_is() {
    let fleet = common::fleet(1);
    let debug = "msg: \"{{ ansible_loop.index }}/{{ ansible_loop.length }} {{ item }} first={{ ansible_loop.first }} last={{ ansible_loop.last }} prev={{ ansible_loop.previtem | default('-') }} next={{ ansible_loop.nextitem | default('-') }} rev={{ ansible_loop.revindex }} all={{ ansible_loop.allitems | default('none') }} var={{ ansible_loop_var }} idx={{ i }} {{ ansible_index_var }}\"";
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug:\n        {debug}\n      loop: [a, b, c]\n      loop_control:\n        extended: true\n        extended_allitems: false\n        index_var: i\n    - include_tasks: one.yml\n      loop: [x, y]\n      loop_control:\n        extended: true\n"
    );
    let one = "- debug:\n    msg: \"inc {{ item }} {{ ansible_loop.index0 }} {{ ansible_loop.allitems | join('+') }}\"\n";
    let run = push_text(&fleet, &[("ext.yml", &play), ("one.yml", one)]);
    assert_eq!(run.code, 0, "{run:?}");
    for line in [
        "1/3 a first=True last=False prev=- next=b rev=3 all=none var=item idx=0 i",
        "2/3 b first=False last=False prev=a next=c rev=2 all=none var=item idx=1 i",
        "3/3 c first=False last=True prev=b next=- rev=1 all=none var=item idx=2 i",
        "inc x 0 x+y",
        "inc y 1 x+y",
    ] {
        assert!(run.stdout.contains(line), "{line} in {run:?}");
    }
}

/// `import_playbook:` with `when:` (Ansible forwards it to every task of the plays it brings and
/// to their fact gathering): false, the imported play neither gathers nor runs its tasks; true,
/// both happen, the task's own `when` still asked after the import's.
#[test]
fn an_import_playbooks_when_reaches_its_plays() {
    let fleet = common::fleet(1);
    let out = home(&fleet, 0).join("imported");
    let site = "- import_playbook: other.yml\n  when: with_other | default(false) | bool\n";
    let other = format!(
        "- hosts: all\n  tasks:\n    - shell: echo \"{{{{ ansible_facts.hostname is defined }}}}\" >> {out}\n    - shell: echo never >> {out}\n      when: false\n",
        out = out.display()
    );
    let run = push_text(&fleet, &[("site.yml", site), ("other.yml", &other)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!out.exists());
    assert!(run.stdout.contains("skipped=3"), "{run:?}");
    let pb = fleet.dir().join("pb/site.yml");
    let runs = fleet.dir().join("runs");
    let run = common::drover(
        &fleet,
        &common::push_args(&pb, &runs, &["-e", "with_other=yes"]),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "True\n");
}

/// template's `lstrip_blocks`, `trim_blocks` and delimiter options give what ansible-core 2.19's
/// template module wrote for the same template and play (kept here as the expected text); copy's
/// `decrypt: false` puts a vault-encrypted file as it is.
#[test]
fn template_options_and_copy_decrypt_false() {
    let fleet = common::fleet(1);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vault/tests/fixtures");
    let out = home(&fleet, 0);
    let template = "servers:\n  {% for s in names %}\n  - {{ s }}\n  {% endfor %}\nend [[ x ]]\n";
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  vars:\n    names: [a, b]\n    x: 42\n  tasks:\n    - template: {{src: t.j2, dest: {o}/out1, lstrip_blocks: true}}\n    - template: {{src: t.j2, dest: {o}/out2, trim_blocks: false, variable_start_string: '[[', variable_end_string: ']]'}}\n    - copy: {{src: sealed.yml, dest: {o}/sealed.yml, decrypt: false}}\n",
        o = out.display()
    );
    let sealed = std::fs::read_to_string(fixtures.join("vars-1.1.yml")).unwrap();
    let pb = fleet.dir().join("pb/tpl.yml");
    for (name, text) in [
        ("tpl.yml", play.as_str()),
        ("templates/t.j2", template),
        ("files/sealed.yml", &sealed),
    ] {
        let path = fleet.dir().join("pb").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let runs = fleet.dir().join("runs");
    let pw = fixtures.join("password.txt");
    let run = common::drover(
        &fleet,
        &common::push_args(&pb, &runs, &["--vault-password-file", pw.to_str().unwrap()]),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(out.join("out1")).unwrap(),
        "servers:\n  - a\n  - b\nend [[ x ]]\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("out2")).unwrap(),
        "servers:\n  \n  - {{ s }}\n  \n  - {{ s }}\n  \nend 42\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("sealed.yml")).unwrap(),
        sealed
    );
}

/// `strip_empty_ends`: Ansible strips a command's trailing line ends from stdout; false keeps them.
#[test]
fn strip_empty_ends_false_keeps_the_trailing_newlines() {
    let fleet = common::fleet(1);
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: printf 'a\\n\\n'\n      register: stripped\n    - shell: printf 'a\\n\\n'\n      args:\n        strip_empty_ends: false\n      register: kept\n    - assert:\n        that:\n          - stripped.stdout == 'a'\n          - kept.stdout | length == 3\n";
    let run = push_text(&fleet, &[("strip.yml", play)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("ok       [assert]"), "{run:?}");
}

/// Play keywords: `order` arranges the hosts before batching; `ignore_errors`, `no_log` and
/// `become_method: sudo` given to the play reach every task (a role's too); `strategy: free` is
/// how drover runs; a become method other than sudo is refused at load.
#[test]
fn play_keywords_order_hosts_and_reach_every_task() {
    let fleet = common::fleet(3);
    let play = "- hosts: all\n  gather_facts: false\n  order: reverse_sorted\n  strategy: free\n  ignore_errors: true\n  become_method: sudo\n  tasks:\n    - command: \"false\"\n    - shell: echo \"{{ inventory_hostname }}\" >> \"{{ lookup('env', 'HOME') }}/order\"\n      delegate_to: localhost\n";
    let pb = fleet.dir().join("pb/order.yml");
    std::fs::create_dir_all(pb.parent().unwrap()).unwrap();
    std::fs::write(&pb, play).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &["--batch", "1"]));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(fleet.dir().join("order")).unwrap(),
        "node03\nnode02\nnode01\n"
    );
    assert_eq!(run.stdout.matches("ignored ").count(), 3, "{run:?}");
    assert_refused(
        &fleet,
        (
            "su.yml",
            "- hosts: all\n  become_method: su\n  tasks:\n    - ping:\n",
        ),
        "su.yml:2:18",
        "drover becomes with sudo",
    );
}

/// `local_action:` runs its module on the controller, written as `MODULE ARGS` or as a mapping with
/// `module:`; naming a second module beside it is refused at load.
#[test]
fn local_action_runs_on_the_controller() {
    let fleet = common::fleet(1);
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - local_action: shell echo \"from $SSH_CONNECTION-less {{ inventory_hostname }}\" > \"$HOME/local-1\"\n    - local_action:\n        module: copy\n        content: \"copied for {{ inventory_hostname }}\"\n        dest: \"{{ lookup('env', 'HOME') }}/local-2\"\n";
    let run = push_text(&fleet, &[("local.yml", play)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(fleet.dir().join("local-1")).unwrap(),
        "from -less node01\n"
    );
    assert_eq!(
        std::fs::read_to_string(fleet.dir().join("local-2")).unwrap(),
        "copied for node01"
    );
    let run = push_text(
        &fleet,
        &[(
            "both.yml",
            "- hosts: all\n  tasks:\n    - local_action: ping\n      shell: echo\n",
        )],
    );
    assert_bad(&run, "both.yml:4:7");
    assert!(
        run.stderr
            .contains("`local_action:` names the task's module"),
        "{run:?}"
    );
}

/// `throttle: 1` lets one host at a time run the task (each sees itself alone in a shared folder),
/// where the same task without it (run first, so the hosts arrive together) runs on the batch's
/// hosts at once.
#[test]
fn throttle_limits_how_many_hosts_run_a_task_at_once() {
    let fleet = common::fleet(3);
    // Each task has a folder of its own: a host that went on to the next task is not counted.
    let d = fleet.dir().join("slots");
    let task = |counts: &str, extra: &str| {
        let slot = d.join(counts);
        std::fs::create_dir_all(&slot).unwrap();
        format!(
            "    - shell: touch {s}/{{{{ inventory_hostname }}}}; sleep 0.4; ls {s} | wc -l >> {d}.{counts}; rm {s}/{{{{ inventory_hostname }}}}\n{extra}",
            s = slot.display(),
            d = d.display()
        )
    };
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n{}{}",
        task("free", ""),
        task("throttled", "      throttle: 1\n")
    );
    let pb = fleet.dir().join("throttle.yml");
    std::fs::write(&pb, play).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    let counts = |name: &str| -> Vec<u32> {
        std::fs::read_to_string(format!("{}.{name}", d.display()))
            .unwrap()
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect()
    };
    assert_eq!(counts("throttled"), [1, 1, 1]);
    assert!(
        counts("free").iter().max() > Some(&1),
        "{:?}",
        counts("free")
    );
}

/// Magic variables of the play: `ansible_play_hosts` (the batch's hosts still active: one that
/// failed is gone), `ansible_play_hosts_all`, `ansible_run_tags` and `ansible_skip_tags`.
#[test]
fn play_magic_variables_follow_the_run() {
    let fleet = common::fleet(2);
    let play = "- hosts: all\n  gather_facts: false\n  tags: [app]\n  tasks:\n    - fail: {msg: down}\n      when: inventory_hostname == 'node02'\n    - shell: sleep 1\n    - copy:\n        content: \"{{ ansible_play_hosts }} {{ ansible_play_hosts_all }} {{ ansible_run_tags }} {{ ansible_skip_tags }}\"\n        dest: \"{{ lookup('env', 'HOME') }}/magic\"\n      delegate_to: localhost\n";
    let pb = fleet.dir().join("magic.yml");
    std::fs::write(&pb, play).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(
        &fleet,
        &common::push_args(
            &pb,
            &runs,
            &["--tags", "app", "--skip-tags", "slow", "--max-fail", "50%"],
        ),
    );
    assert_eq!(
        std::fs::read_to_string(fleet.dir().join("magic")).unwrap(),
        "['node01'] ['node01', 'node02'] ['app'] ['slow']",
        "{run:?}"
    );
}

/// Magic variables of the play and its roles, as ansible-core gives them (checked against
/// ansible-playbook 2.19 on the same play): `ansible_version`, `ansible_play_name`, the role name
/// lists (a dependency among `ansible_dependent_role_names`), `ansible_search_path` (the role, its
/// tasks folder, the playbook's folder), `ansible_verbosity`, `ansible_forks`, `ansible_host` (the
/// inventory's address; the host's name when it gives none) and `ansible_facts` (empty when not
/// gathered).
#[test]
fn role_magic_variables_are_ansibles() {
    let fleet = common::fleet(1);
    let dir = fleet.dir().join("roles-play");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "roles/app/tasks/main.yml",
        "- copy:\n    content: \"{{ ansible_version.major }}.{{ ansible_version.minor }} {{ ansible_play_name }} {{ ansible_role_names }} {{ ansible_play_role_names }} {{ ansible_dependent_role_names }} {{ ansible_search_path | map('basename') | list }} {{ ansible_verbosity }} {{ ansible_forks }} {{ ansible_host }} {{ ansible_facts }}\"\n    dest: \"{{ lookup('env', 'HOME') }}/magic-roles\"\n  delegate_to: localhost\n",
    );
    write("roles/app/meta/main.yml", "dependencies: [base]\n");
    write("roles/base/tasks/main.yml", "- debug: msg=base\n");
    write(
        "site.yml",
        "- name: deploy app\n  hosts: all\n  gather_facts: false\n  roles: [app]\n",
    );
    let runs = fleet.dir().join("runs");
    let run = common::drover(
        &fleet,
        &common::push_args(&dir.join("site.yml"), &runs, &["--forks", "7"]),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(fleet.dir().join("magic-roles")).unwrap(),
        "2.19 deploy app ['app', 'base'] ['app'] ['base'] ['app', 'tasks', 'roles-play'] 0 7 127.0.0.2 {}",
        "{run:?}"
    );
}

/// `vars_prompt`: `-e` answers without asking; without a terminal the default answers, and a prompt
/// with neither is refused before anything runs, saying to pass `-e`.
#[test]
fn vars_prompt_takes_extra_vars_then_defaults() {
    let fleet = common::fleet(1);
    let play = "- hosts: all\n  gather_facts: false\n  vars_prompt:\n    - name: release\n      prompt: Which release?\n      default: stable\n      private: false\n    - name: token\n      prompt: API token\n  tasks:\n    - copy:\n        content: \"{{ release }} {{ token }}\"\n        dest: \"{{ lookup('env', 'HOME') }}/prompted\"\n      delegate_to: localhost\n";
    let pb = fleet.dir().join("prompt.yml");
    std::fs::write(&pb, play).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_bad(&run, "vars_prompt `token` needs an answer");
    assert!(run.stderr.contains("-e token=VALUE"), "{run:?}");
    let run = common::drover(
        &fleet,
        &common::push_args(&pb, &runs, &["-e", "token=abc123"]),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(fleet.dir().join("prompted")).unwrap(),
        "stable abc123"
    );
}

/// `vars_prompt` on a terminal: a private answer is asked (not echoed) and confirmed; a public one
/// shows its default; the private answer is a secret afterwards: a failed command that prints it
/// shows `********`.
#[test]
fn vars_prompt_asks_on_the_terminal_and_keeps_private_answers_secret() {
    let fleet = common::fleet(1);
    let pb = fleet.dir().join("ask-vars.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  vars_prompt:\n    - name: secret_word\n      prompt: Secret word\n      confirm: true\n    - name: colour\n      prompt: Colour\n      default: blue\n      private: false\n  tasks:\n    - shell: echo \"{{ colour }} {{ secret_word }}\"; exit 1\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let command = common::on_terminal(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    );
    let (_, shown) = common::converse(
        command,
        &[
            ("Secret word: ", "swordfish-42"),
            ("confirm Secret word: ", "swordfish-42"),
            ("Colour [blue]: ", ""),
        ],
    );
    assert!(shown.contains("Secret word: "), "{shown}");
    assert!(shown.contains("confirm Secret word: "), "{shown}");
    assert!(shown.contains("Colour [blue]: "), "{shown}");
    assert!(shown.contains("blue ********"), "{shown}");
    assert!(!shown.contains("swordfish-42"), "{shown}");
}

/// `--list-hosts`, `--list-tasks` and `--list-tags` show what a run would take, in Ansible's
/// layout, with `--limit` and the tag filters a run uses; nothing is contacted (no journal).
#[test]
fn list_hosts_tasks_and_tags_as_ansible_prints_them() {
    let fleet = common::fleet(2);
    let role = fleet.dir().join("pb/roles/base/tasks/main.yml");
    std::fs::create_dir_all(role.parent().unwrap()).unwrap();
    std::fs::write(&role, "- name: packages\n  ping:\n  tags: [pkg]\n").unwrap();
    let pb = fleet.dir().join("pb/list.yml");
    std::fs::write(
        &pb,
        "- name: web tier\n  hosts: all\n  tags: [web]\n  roles: [base]\n  tasks:\n    - name: config\n      ping:\n      tags: [conf]\n    - block:\n        - name: inner\n          ping:\n      tags: [never, debug]\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let list = |extra: &[&str]| common::drover(&fleet, &common::push_args(&pb, &runs, extra));
    let shown = format!(
        "\nplaybook: {}\n\n  play #1 (all): web tier\tTAGS: [web]\n",
        pb.display()
    );
    let run = list(&["--list-hosts", "--limit", "node02"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!("{shown}    pattern: ['all']\n    hosts (1):\n      node02\n")
    );
    let run = list(&["--list-tasks"]);
    assert_eq!(
        run.stdout,
        format!(
            "{shown}    tasks:\n      base : packages\tTAGS: [pkg, web]\n      config\tTAGS: [conf, web]\n"
        )
    );
    let run = list(&["--list-tasks", "--tags", "debug"]);
    assert_eq!(
        run.stdout,
        format!("{shown}    tasks:\n      inner\tTAGS: [debug, never, web]\n")
    );
    let run = list(&["--list-tags"]);
    assert_eq!(
        run.stdout,
        format!("{shown}      TASK TAGS: [conf, debug, never, pkg, web]\n")
    );
    assert!(!runs.exists());
}

/// `--start-at-task` skips the plays before the one holding the task, and the tasks before it in
/// that play (a role's task named bare or as `role : name`); later plays run whole; a name that
/// matches no task is refused before anything runs.
#[test]
fn start_at_task_skips_what_comes_before() {
    let fleet = common::fleet(1);
    let log = fleet.dir().join("started");
    let role = fleet.dir().join("pb/roles/base/tasks/main.yml");
    std::fs::create_dir_all(role.parent().unwrap()).unwrap();
    let step = |name: &str| {
        format!(
            "- name: {name}\n  shell: echo {name} >> {}\n  delegate_to: localhost\n",
            log.display()
        )
    };
    std::fs::write(&role, format!("{}{}", step("r1"), step("r2"))).unwrap();
    let indent = |text: String| {
        text.lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    };
    let pb = fleet.dir().join("pb/start.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n{}- hosts: all\n  gather_facts: false\n  roles: [base]\n  tasks:\n{}- hosts: all\n  gather_facts: false\n  tasks:\n{}",
            indent(step("a1")),
            indent(step("b1")),
            indent(step("c1"))
        ),
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(
        &fleet,
        &common::push_args(&pb, &runs, &["--start-at-task", "r2"]),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "r2\nb1\nc1\n");
    let run = common::drover(
        &fleet,
        &common::push_args(&pb, &runs, &["--start-at-task", "zz*"]),
    );
    assert_bad(&run, "--start-at-task `zz*` names no task");
}

/// `hostvars` holds what hosts gather and set during the run, as in Ansible: every host of the
/// batch has gathered before any starts its tasks, so a template reads the others' facts; a
/// set_fact or registered value stays with its host into the next play; `delegate_facts: true`
/// gives a delegated setup's facts to the delegate (without it, to the host the task runs for).
#[test]
fn hostvars_hold_facts_and_values_hosts_set_during_the_run() {
    let fleet = common::fleet(2);
    let out = fleet.dir().join("seen");
    std::fs::create_dir_all(&out).unwrap();
    let playbook = format!(
        "- hosts: all\n  tasks:\n    - copy:\n        content: \"{{% for h in ansible_play_hosts_all | sort %}}{{{{ h }}}}:{{{{ hostvars[h].ansible_facts.kernel == ansible_kernel }}}} {{% endfor %}}\"\n        dest: \"{dir}/first-{{{{ inventory_hostname }}}}\"\n    - set_fact:\n        marker: \"{{{{ inventory_hostname }}}}-m\"\n    - command: echo hi\n      register: said\n\
- hosts: node01\n  gather_facts: false\n  tasks:\n    - copy:\n        content: \"{{{{ marker }}}} {{{{ said.stdout }}}} {{{{ hostvars['node02'].marker }}}} {{{{ hostvars['node02'].said.stdout }}}} {{{{ ansible_kernel is defined }}}}\"\n        dest: \"{dir}/second\"\n\
- hosts: node01\n  gather_facts: false\n  tasks:\n    - setup:\n        gather_subset: ['!all']\n      delegate_to: node02\n      delegate_facts: true\n    - copy:\n        content: \"{{{{ hostvars['node02'].ansible_facts.gather_subset }}}} {{{{ ansible_facts.gather_subset }}}}\"\n        dest: \"{dir}/delegated\"\n    - setup:\n        gather_subset: ['!all', network]\n      delegate_to: node02\n    - copy:\n        content: \"{{{{ ansible_facts.gather_subset }}}}\"\n        dest: \"{dir}/not-delegated\"\n",
        dir = out.display()
    );
    let path = fleet.dir().join("hostvars.yml");
    std::fs::write(&path, playbook).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&path, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    for host in ["node01", "node02"] {
        assert_eq!(
            read(&format!("first-{host}")),
            "node01:True node02:True ",
            "{run:?}"
        );
    }
    assert_eq!(read("second"), "node01-m hi node02-m hi True");
    // node01's own facts are still the full gathering of the first play (its `all`).
    assert_eq!(read("delegated"), "['!all'] ['all']");
    // A list as copy's content is written as JSON, as Ansible's copy writes it.
    assert_eq!(read("not-delegated"), r#"["!all", "network"]"#);
}

/// `-vvv` shows every command a task runs on its host (`<node01> EXEC ...`, with whom sudo runs it
/// as), never a `no_log` task's; `debug`'s `verbosity` shows its message from that many `-v` on.
#[test]
fn triple_v_shows_each_command_and_debug_verbosity_follows_v() {
    let fleet = common::fleet(1);
    let playbook = "- hosts: node01\n  gather_facts: false\n  tasks:\n    - command: echo visible-word\n      become: true\n    - shell: echo hidden-word\n      no_log: true\n    - debug:\n        msg: at-level-two\n        verbosity: 2\n";
    let run = push_text(&fleet, &[("vvv.yml", playbook)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains("EXEC"), "{run:?}");
    assert!(!run.stdout.contains("at-level-two"), "{run:?}");
    let pb = fleet.dir().join("pb").join("vvv.yml");
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &["-vvv"]));
    assert_eq!(run.code, 0, "{run:?}");
    let exec = run
        .stdout
        .lines()
        .find(|l| l.contains("visible-word"))
        .unwrap_or_else(|| panic!("{run:?}"));
    assert!(exec.contains("<node01> EXEC (sudo -u root)"), "{exec}");
    assert!(!run.stdout.contains("hidden-word"), "{run:?}");
    assert!(run.stdout.contains("at-level-two"), "{run:?}");
}

/// `--step` asks at the terminal before each task, once for all the batch's hosts: `y` runs it,
/// `n` skips it (on every host), `c` runs it and the rest without asking.
#[test]
fn step_asks_before_each_task_once_for_the_batch() {
    let fleet = common::fleet(2);
    let out = fleet.dir().join("stepped");
    std::fs::create_dir_all(&out).unwrap();
    let pb = fleet.dir().join("step.yml");
    let touch = |name: &str| {
        format!(
            "    - name: {name}\n      command: touch {}/{name}-{{{{ inventory_hostname }}}}\n",
            out.display()
        )
    };
    std::fs::write(
        &pb,
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n{}{}{}{}",
            touch("first"),
            touch("second"),
            touch("third"),
            touch("fourth")
        ),
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let command = common::on_terminal(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--runs-dir",
            runs.to_str().unwrap(),
            "--step",
        ],
    );
    let (ok, shown) = common::converse(
        command,
        &[
            ("Perform task: TASK: first (N)o/(y)es/(c)ontinue:", "y"),
            ("Perform task: TASK: second (N)o/(y)es/(c)ontinue:", "n"),
            ("Perform task: TASK: third (N)o/(y)es/(c)ontinue:", "c"),
        ],
    );
    assert!(ok, "{shown}");
    let made = |name: &str| {
        ["node01", "node02"]
            .iter()
            .filter(|h| out.join(format!("{name}-{h}")).exists())
            .count()
    };
    assert_eq!(
        [made("first"), made("second"), made("third"), made("fourth")],
        [2, 0, 2, 2],
        "{shown}"
    );
    assert_eq!(
        shown.matches("Perform task: TASK: first").count(),
        1,
        "{shown}"
    );
    assert!(!shown.contains("Perform task: TASK: fourth"), "{shown}");
}

/// `apply:` on include_tasks and include_role gives its keywords to every included task (a task's
/// own value winning) and its tags to them; a keyword it cannot give is refused where it is written.
#[test]
fn include_apply_gives_keywords_and_tags_to_included_tasks() {
    let fleet = common::fleet(1);
    let out = fleet.dir().join("applied");
    let inc = "- command: id -un\n  register: who\n- command: id -un\n  become_user: daemon\n  register: own\n";
    let role = "- command: id -un\n  register: role_who\n";
    let play = format!(
        "- hosts: node01\n  gather_facts: false\n  tasks:\n    - include_tasks:\n        file: inc.yml\n        apply:\n          become: true\n          become_user: nobody\n          tags: [web]\n    - include_role:\n        name: r\n        apply:\n          become: true\n          become_user: mail\n          tags: [web]\n    - copy:\n        content: \"{{{{ who.stdout }}}} {{{{ own.stdout }}}} {{{{ role_who.stdout }}}}\"\n        dest: {}\n      tags: [web]\n    - command: \"false\"\n",
        out.display()
    );
    let run = push_text(
        &fleet,
        &[
            ("apply.yml", &play),
            ("inc.yml", inc),
            ("roles/r/tasks/main.yml", role),
        ],
    );
    // Without --tags the untagged `false` fails the host; with --tags web only the tagged run.
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "nobody daemon mail");
    std::fs::remove_file(&out).unwrap();
    let pb = fleet.dir().join("pb").join("apply.yml");
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &["--tags", "web"]));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "nobody daemon mail");
    assert_refused(
        &fleet,
        (
            "apply-bad.yml",
            "- hosts: node01\n  tasks:\n    - include_tasks:\n        file: inc.yml\n        apply:\n          when: true\n",
        ),
        "apply-bad.yml:6:11",
        "apply: `when`",
    );
}

/// lineinfile's `search_string` finds a literal anywhere in a line (its regex characters are
/// plain): the last such line is replaced, or every one removed; a second run changes nothing.
#[test]
fn lineinfile_search_string_is_a_literal() {
    let fleet = common::fleet(1);
    let file = fleet.dir().join("conf.txt");
    std::fs::write(
        &file,
        "keep\nopt a.b[1] = old\naxb[1] = other\nremove(me)\n",
    )
    .unwrap();
    let play = format!(
        "- hosts: node01\n  gather_facts: false\n  tasks:\n    - lineinfile:\n        path: {0}\n        search_string: a.b[1]\n        line: opt a.b[1] = new\n    - lineinfile:\n        path: {0}\n        search_string: (me)\n        state: absent\n",
        file.display()
    );
    let run = push_text(&fleet, &[("search.yml", &play)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("changed=2"), "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "keep\nopt a.b[1] = new\naxb[1] = other\n"
    );
    let run = push_text(&fleet, &[("search.yml", &play)]);
    assert!(run.stdout.contains("changed=0"), "{run:?}");
}

/// Symbolic modes on the modules that write files, as Ansible applies them: to the file's current
/// mode, or to 0644 for a new one (`u+x` makes a new file 0744, `a+x` 0755); a second run changes
/// nothing; a mode that would change shows in --check, and only then is applied; get_url too.
#[test]
fn copy_template_and_get_url_take_symbolic_modes() {
    let fleet = common::fleet(1);
    let port = http_server(200);
    let home = home(&fleet, 0);
    let play = |copy_mode: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        content: \"#!/bin/sh\\n\"\n        dest: {h}/run.sh\n        mode: \"{copy_mode}\"\n    - template:\n        src: motd.j2\n        dest: {h}/motd\n        mode: a+x\n    - get_url:\n        url: http://127.0.0.1:{port}/health.json\n        dest: {h}/dl.json\n        mode: u=rw,g=r,o=\n",
            h = home.display()
        )
    };
    let run = push_text(
        &fleet,
        &[
            ("modes.yml", &play("u+x")),
            ("motd.j2", "hello {{ inventory_hostname }}\n"),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |f: &str| {
        std::fs::metadata(home.join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(
        (mode("run.sh"), mode("motd"), mode("dl.json")),
        (0o744, 0o755, 0o640)
    );
    let again = push_text(
        &fleet,
        &[
            ("modes.yml", &play("u+x")),
            ("motd.j2", "hello {{ inventory_hostname }}\n"),
        ],
    );
    assert!(again.stdout.contains("changed=0"), "{again:?}");
    // go-r on a file that is 0744: --check says it would change and leaves it; the run applies it.
    let pb = fleet.dir().join("pb/modes.yml");
    std::fs::write(&pb, play("go-r")).unwrap();
    let runs = fleet.dir().join("runs");
    let checked = common::drover(&fleet, &common::push_args(&pb, &runs, &["--check"]));
    assert!(checked.stdout.contains("changed  [copy]"), "{checked:?}");
    assert_eq!(mode("run.sh"), 0o744);
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert!(run.stdout.contains("changed=1"), "{run:?}");
    assert_eq!(mode("run.sh"), 0o700);
    // What is not a mode is refused at load, naming both forms.
    std::fs::write(&pb, play("u+q")).unwrap();
    let bad = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("symbolic"), "{bad:?}");
}

/// A `notify:` is resolved as Ansible resolves it when the task changes something: `role : name`
/// and a templated name run their handler; a name no handler answers loads with a warning, leaves
/// a task that changed nothing alone, and fails the task that changed something (nothing would act
/// on that change), with Ansible's message.
#[test]
fn a_notify_runs_its_handler_by_role_prefix_or_template_and_an_unknown_one_fails_when_it_changes() {
    let fleet = common::fleet(1);
    let home = home(&fleet, 0);
    let h = home.display();
    let site = format!(
        "- hosts: all\n  gather_facts: false\n  vars:\n    which: web\n  roles:\n    - app\n  tasks:\n    - copy: {{ content: a, dest: {h}/a }}\n      notify: \"app : restart app\"\n    - copy: {{ content: b, dest: {h}/b }}\n      notify: \"{{{{ which }}}} changed\"\n  handlers:\n    - name: restart web\n      listen: web changed\n      shell: echo web > {h}/by-template\n"
    );
    let files = [
        ("site.yml", site.as_str()),
        (
            "roles/app/tasks/main.yml",
            "- command: \"true\"\n  changed_when: false\n",
        ),
        (
            "roles/app/handlers/main.yml",
            &*format!("- name: restart app\n  shell: echo app > {h}/by-role-prefix\n"),
        ),
    ];
    let run = push_text(&fleet, &files);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(home.join("by-role-prefix").exists(), "{run:?}");
    assert!(home.join("by-template").exists(), "{run:?}");

    let typo = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n      changed_when: false\n      notify: restart ap\n    - copy: {{ content: c, dest: {h}/c }}\n      notify: restart ap\n  handlers:\n    - name: restart app\n      shell: echo app > {h}/typo-handler\n"
    );
    let pb = fleet.dir().join("pb").join("typo.yml");
    std::fs::write(&pb, &typo).unwrap();
    let check = common::drover(&fleet, &["push", pb.to_str().unwrap(), "--syntax-check"]);
    assert_eq!(check.code, 0, "{check:?}");
    assert!(
        check.stderr.contains(
            "typo.yml:4:7: notify: no handler is named or listens to `restart ap` (did you mean `restart app`?)"
        ),
        "{check:?}"
    );
    let run = push_text(&fleet, &[("typo.yml", &typo)]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("warning: "), "{run:?}");
    assert!(
        run.stdout.contains(
            "The requested handler 'restart ap' was not found in either the main handlers list nor in the listening handlers list"
        ),
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(home.join("c")).unwrap(), "c");
    assert!(!home.join("typo-handler").exists(), "{run:?}");
}

/// `add_host` and `group_by` change the run's inventory as Ansible's do: a later play's `hosts:`
/// selects what they made (a host reached through the variables add_host gave it), `groups` and
/// `hostvars` see it, add_host runs once for its play, and a play whose group no host joined is
/// skipped rather than refused.
#[test]
fn add_host_and_group_by_make_hosts_and_groups_that_later_plays_select() {
    let fleet = common::fleet(2);
    let site = "- hosts: all\n  gather_facts: false\n  tasks:\n    - group_by:\n        key: \"kind {{ 'first' if inventory_hostname == 'node01' else 'second' }}\"\n        parents: picked\n    - name: add the alias\n      add_host:\n        name: alias01\n        groups: added\n        ansible_host: \"{{ hostvars['node02'].ansible_host }}\"\n        ansible_port: \"{{ ansible_port }}\"\n        ansible_user: \"{{ ansible_user }}\"\n        ansible_ssh_private_key_file: \"{{ ansible_ssh_private_key_file }}\"\n        marker: from-add-host\n    - add_host: name=copy-{{ inventory_hostname }} groups=copies\n    - shell: echo {{ groups['picked'] | join(',') }} > \"$HOME/picked-in-play\"\n    - shell: echo {{ group_names | join(',') }} > \"$HOME/names\"\n- hosts: kind-second\n  gather_facts: false\n  tasks:\n    - shell: echo {{ groups['picked'] | join(',') }} {{ groups['added'] | join(',') }} {{ hostvars['alias01'].marker }} {{ groups['copies'] | length }} > \"$HOME/seen\"\n- hosts: added\n  gather_facts: false\n  tasks:\n    - shell: echo {{ inventory_hostname }} {{ marker }} {{ group_names | join(',') }} > \"$HOME/added\"\n- hosts: never-made\n  tasks:\n    - shell: touch \"$HOME/never\"\n";
    let pb = fleet.dir().join("dynamic.yml");
    std::fs::write(&pb, site).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &["-v"]));
    assert_eq!(run.code, 0, "{run:?}");
    let read =
        |i: usize, f: &str| std::fs::read_to_string(home(&fleet, i).join(f)).unwrap_or_default();
    // groups sees a host's own group_by at once, in the same play (the other host's may come
    // later: hosts go through a play's tasks each at its own pace).
    let in_play = read(0, "picked-in-play");
    assert!(in_play.starts_with("node01"), "{in_play}: {run:?}");
    assert_eq!(read(1, "names"), "fleet,kind-second,picked\n", "{run:?}");
    assert_eq!(
        read(1, "seen"),
        "node01,node02 alias01 from-add-host 1\n",
        "{run:?}"
    );
    assert_eq!(read(0, "seen"), "", "node01 is not in kind-second");
    // alias01 is node02's address under another name.
    assert_eq!(read(1, "added"), "alias01 from-add-host added\n", "{run:?}");
    assert!(!home(&fleet, 0).join("never").exists() && !home(&fleet, 1).join("never").exists());
    assert!(
        run.stdout.contains("`never-made` matches no host"),
        "{run:?}"
    );
    // add_host ran once, for the play: one host says it changed the inventory.
    assert_eq!(
        run.stdout.matches("changed  [add the alias]").count(),
        1,
        "{run:?}"
    );
    // --resume makes the inventory changes of the plays it skips again.
    let halting = "- hosts: node01\n  gather_facts: false\n  tasks:\n    - add_host: name=later01 groups=later ansible_host={{ hostvars['node02'].ansible_host }} ansible_port={{ ansible_port }} ansible_user={{ ansible_user }} ansible_ssh_private_key_file={{ ansible_ssh_private_key_file }}\n- hosts: later\n  gather_facts: false\n  tasks:\n    - shell: test -e \"$HOME/go\"\n";
    let pb = fleet.dir().join("halting.yml");
    std::fs::write(&pb, halting).unwrap();
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 3, "{run:?}");
    let id = run
        .stdout
        .split("drover push --resume ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no resume hint: {run:?}"))
        .to_string();
    std::fs::write(home(&fleet, 1).join("go"), "").unwrap();
    let resumed = common::drover(&fleet, &common::push_args(&pb, &runs, &["--resume", &id]));
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert!(resumed.stdout.contains("later01"), "{resumed:?}");
    // A typo in a pattern with no add_host or group_by before it is still refused before the run.
    let typo = "- hosts: nodes-typo\n  tasks: []\n";
    let pb = fleet.dir().join("typo.yml");
    std::fs::write(&pb, typo).unwrap();
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 2, "{run:?}");
}

/// `--json` says what each host's sessions cost: one channel and one exec for each task (the
/// first also takes the host lock, in the same exec) and the unlock, and the bytes each way
/// (docs/performance.md counts a push's round trips from these).
#[test]
fn json_counts_each_hosts_channels_execs_and_bytes() {
    let fleet = common::fleet(2);
    let pb = fleet.dir().join("two.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n    - shell: head -c 5000 /dev/zero\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &["--json"]));
    assert_eq!(run.code, 0, "{run:?}");
    let done: Vec<serde_json::Value> = events(&run)
        .into_iter()
        .filter(|e| e["event"] == "host_done")
        .collect();
    assert_eq!(done.len(), 2);
    for e in &done {
        let t = &e["traffic"];
        assert_eq!(t["channels"], 3, "{e}");
        assert_eq!(t["execs"], 3, "{e}");
        let received = t["bytes_received"].as_u64().unwrap();
        assert!((5000..6000).contains(&received), "{e}");
        assert!(t["bytes_sent"].as_u64().unwrap() > 100, "{e}");
    }
}

/// `file` on a symbolic link follows it, as Ansible's `follow: true` (the default): the target gets
/// the mode and a second run changes nothing (drover compared the link's own mode and changed it
/// every time). `recurse` passes links by, as chmod -R does, so a tree with a link in it settles
/// too. `follow: false` on a link is refused, not done to its target. Held against ansible-playbook
/// 2.19 on the same tasks (changed, ok, ok, changed, ok, ok).
#[test]
fn file_follows_symbolic_links_and_settles() {
    let fleet = common::fleet(1);
    let dir = fleet.dir().join("linked");
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("target");
    std::fs::write(&target, "").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&target, dir.join("link")).unwrap();
    let (d, l) = (dir.display(), dir.join("link").display().to_string());
    let play = format!(
        "- hosts: node01\n  gather_facts: false\n  tasks:\n    - file: {{path: {l}, mode: \"0600\", state: file}}\n    - file: {{path: {l}, mode: \"0600\", state: file, follow: true}}\n    - file: {{path: {l}, mode: a-s, state: file}}\n    - file: {{path: {d}, mode: \"0750\", state: directory, recurse: true}}\n    - file: {{path: {d}, mode: \"0750\", state: directory, recurse: true}}\n    - file: {{path: {d}, mode: \"u=rwX,g=rX,o=\", state: directory, recurse: true}}\n"
    );
    let run = push_text(&fleet, &[("follow.yml", &play)]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = (run.stdout.lines())
        .filter(|l| l.trim_start().starts_with("node01") && l.contains("[file]"))
        .map(|l| {
            if l.contains("changed") {
                "changed"
            } else {
                "ok"
            }
        })
        .collect();
    assert_eq!(
        lines,
        ["changed", "ok", "ok", "changed", "ok", "ok"],
        "{run:?}"
    );
    let mode =
        |p: &std::path::Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&target), 0o750);
    assert!(
        std::fs::symlink_metadata(dir.join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let refused = format!(
        "- hosts: node01\n  gather_facts: false\n  tasks:\n    - file: {{path: {l}, mode: \"0600\", follow: false}}\n"
    );
    let run = push_text(&fleet, &[("nofollow.yml", &refused)]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("follow: false on a symbolic link"),
        "{run:?}"
    );
    assert_eq!(mode(&target), 0o750);
}

/// A symbolic link at `dest`: replaced by the file by default, as Ansible's copy does; kept, with
/// its target written, under `follow: true` (copy and template alike), and then settled.
#[test]
fn copy_and_template_follow_a_link_at_dest_only_when_asked() {
    let fleet = common::fleet(1);
    let dir = fleet.dir().join("follow-dest");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["a", "b", "c"] {
        std::fs::write(dir.join(format!("{name}.target")), "old\n").unwrap();
        std::os::unix::fs::symlink(format!("{name}.target"), dir.join(name)).unwrap();
    }
    let d = dir.display();
    let play = format!(
        "- hosts: node01\n  gather_facts: false\n  tasks:\n    - copy: {{dest: {d}/a, content: \"new\\n\"}}\n    - copy: {{dest: {d}/b, content: \"new\\n\", follow: true}}\n    - template: {{dest: {d}/c, src: t.j2, follow: true}}\n"
    );
    let files = [
        ("follow-dest.yml", play.as_str()),
        ("templates/t.j2", "new\n"),
    ];
    let run = push_text(&fleet, &files);
    assert_eq!(run.code, 0, "{run:?}");
    let link = |n: &str| std::fs::symlink_metadata(dir.join(n)).unwrap().is_symlink();
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    assert!(!link("a") && read("a") == "new\n" && read("a.target") == "old\n");
    for n in ["b", "c"] {
        assert!(link(n) && read(&format!("{n}.target")) == "new\n", "{n}");
    }
    let run = push_text(&fleet, &files);
    assert!(run.stdout.contains("changed=0"), "{run:?}");
}

/// A dynamic include whose file cannot be read (a module drover does not have, for another OS)
/// is read as Ansible reads it, only when it runs: the playbook loads with a warning naming it,
/// a host whose condition skips it runs on, and a host that reaches it fails, saying why.
/// A static `import_tasks` of the same file is refused at load.
#[test]
fn an_include_that_cannot_be_read_fails_only_where_it_runs() {
    let fleet = common::fleet(1);
    let freebsd = "- pkgng: {name: nginx}\n";
    let play = "- hosts: node01\n  gather_facts: false\n  vars: {os: Debian}\n  tasks:\n    - include_tasks: setup-FreeBSD.yml\n      when: os == 'FreeBSD'\n    - command: \"true\"\n    - include_tasks: setup-FreeBSD.yml\n";
    let files = [("include.yml", play), ("setup-FreeBSD.yml", freebsd)];
    let run = push_text(&fleet, &files);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("warning: ")
            && run
                .stderr
                .contains("setup-FreeBSD.yml:1:3: unknown module `pkgng`"),
        "{run:?}"
    );
    assert!(run.stdout.contains("ok=1  changed=1"), "{run:?}");
    assert!(
        run.stdout.contains("FAILED") && run.stdout.contains("unknown module `pkgng`"),
        "{run:?}"
    );
    let imported = "- hosts: node01\n  gather_facts: false\n  tasks:\n    - import_tasks: setup-FreeBSD.yml\n      when: os == 'FreeBSD'\n";
    let run = push_text(
        &fleet,
        &[("import.yml", imported), ("setup-FreeBSD.yml", freebsd)],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("unknown module `pkgng`"), "{run:?}");
}

/// `gather_facts` as a task (a play that gathers none first) gathers as `setup` does, with the
/// subsets it names.
#[test]
fn gather_facts_as_a_task_gathers_facts() {
    let fleet = common::fleet(1);
    let play = "- hosts: node01\n  gather_facts: false\n  tasks:\n    - assert: {that: ansible_distribution is undefined}\n    - ansible.builtin.gather_facts: {gather_subset: [min], parallel: true}\n    - assert: {that: [ansible_distribution == 'Debian', ansible_facts.distribution == 'Debian']}\n";
    let run = push_text(&fleet, &[("gather.yml", play)]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// `stdin` reaches the command with a newline after it, unless `stdin_add_newline: false`.
#[test]
fn stdin_is_given_with_or_without_its_newline() {
    let fleet = common::fleet(1);
    let play = "- hosts: node01\n  gather_facts: false\n  tasks:\n    - command: wc -c\n      args: {stdin: abc}\n      register: with\n    - shell: wc -c\n      args: {stdin: abc, stdin_add_newline: false}\n      register: without\n    - assert:\n        that: [with.stdout == '4', without.stdout == '3']\n";
    let run = push_text(&fleet, &[("stdin.yml", play)]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// The SELinux context parameters of a module that writes files load, and on a host without
/// SELinux (this one) there is nothing to set: the task does its work, as in Ansible. A module
/// that writes no file does not take them.
#[test]
fn selinux_contexts_on_a_host_without_selinux_are_nothing_to_set() {
    let fleet = common::fleet(1);
    assert!(!std::path::Path::new("/sys/fs/selinux/enforce").exists());
    let dir = fleet.dir().join("selinux-share");
    let play = format!(
        "- hosts: node01\n  gather_facts: false\n  tasks:\n    - file: {{path: {d}, state: directory, mode: \"0750\", setype: samba_share_t, seuser: system_u}}\n    - copy: {{dest: {d}/note, content: hi, setype: \"{{{{ none_given | default(omit) }}}}\"}}\n",
        d = dir.display()
    );
    let run = push_text(&fleet, &[("selinux.yml", &play)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read_to_string(dir.join("note")).unwrap(), "hi");
    let refused = "- hosts: node01\n  gather_facts: false\n  tasks:\n    - command: {cmd: \"true\", setype: x}\n";
    let run = push_text(&fleet, &[("selinux-command.yml", refused)]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("setype"), "{run:?}");
}

/// Two tasks of one name in a row are two tasks: each gets its `TASK [...]` header, as in
/// ansible-playbook (unnamed tasks are named by their module, so this is every run of
/// consecutive unnamed `command` tasks).
#[test]
fn consecutive_tasks_of_one_name_each_get_a_header() {
    let fleet = common::fleet(1);
    let play = "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n    - command: \"true\"\n    - debug: msg=one\n";
    let pb = fleet.dir().join("same.yml");
    std::fs::write(&pb, play).unwrap();
    let runs = fleet.dir().join("runs");
    let run = common::drover(&fleet, &common::push_args(&pb, &runs, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.matches("TASK [command]").count(), 2, "{run:?}");
    assert_eq!(run.stdout.matches("TASK [debug]").count(), 1, "{run:?}");
}
