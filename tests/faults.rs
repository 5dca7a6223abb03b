//! Faults during `drover push --batch 1` over five hosts: a hanging command, a full disk, a host cut off
//! in the middle of a task, and drover itself killed. Each time the outcome is reported per host, the
//! rollout halts or goes on as the failure budget says, `--resume` finishes without repeating the
//! hosts that were done, and no host stays locked.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Fleet, Run};

const PLAY: &str = r#"- hosts: fleet
  tasks:
    - name: count runs
      shell: echo run >> "$HOME/runs.log"
    - name: maybe hang
      shell: 'if [ -e "$HOME/hang" ]; then exec sleep 613; fi'
      timeout: 3
    - name: maybe slow
      shell: 'if [ -e "$HOME/slow" ]; then touch "$HOME/slow.started"; sleep 5; fi'
    - name: write the payload
      copy:
        content: "{{ 'x' * 2000000 }}"
        dest: "{{ ansible_env.HOME }}/disk/payload"
"#;

fn home(fleet: &Fleet, i: usize) -> PathBuf {
    fleet.hosts()[i].state.join("home")
}

fn setup() -> Fleet {
    let fleet = common::fleet(5);
    for i in 0..5 {
        std::fs::create_dir_all(home(&fleet, i).join("disk")).unwrap();
    }
    std::fs::write(fleet.dir().join("faults.yml"), PLAY).unwrap();
    fleet
}

fn args(fleet: &Fleet, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "push",
        "-i",
        fleet.inventory().to_str().unwrap(),
        "--known-hosts",
        fleet.known_hosts().to_str().unwrap(),
        fleet.dir().join("faults.yml").to_str().unwrap(),
        "--runs-dir",
        fleet.dir().join("runs").to_str().unwrap(),
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn push(fleet: &Fleet, extra: &[&str]) -> Run {
    let a = args(fleet, extra);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    common::drover_in(fleet.dir(), &a)
}

/// Starts a push in the background, for a test that breaks something while it runs.
fn spawn(fleet: &Fleet, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_drover"))
        .args(args(fleet, extra))
        .env("HOME", fleet.dir())
        .env("NO_COLOR", "1")
        .env_remove("SSH_AUTH_SOCK")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn events(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn find<'a>(ev: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    ev.iter().filter(|e| e["event"] == kind).collect()
}

fn runs(fleet: &Fleet, i: usize) -> usize {
    std::fs::read_to_string(home(fleet, i).join("runs.log"))
        .unwrap_or_default()
        .lines()
        .count()
}

fn assert_no_locks(fleet: &Fleet) {
    for i in 0..5 {
        assert!(
            !home(fleet, i).join(".drover/lock").exists(),
            "host {i} is still locked"
        );
    }
}

fn run_id(fleet: &Fleet) -> String {
    let mut ids: Vec<String> = std::fs::read_dir(fleet.dir().join("runs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids.pop().unwrap()
}

fn wait_for(path: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_hanging_command_is_killed_halts_the_rollout_and_resume_finishes() {
    let fleet = setup();
    std::fs::write(home(&fleet, 2).join("hang"), "").unwrap();
    let run = push(&fleet, &["--batch", "1"]);
    assert_eq!(run.code, 3, "{run:?}");
    let ev = events(&run);
    let done = find(&ev, "host_done");
    let node03 = done.iter().find(|e| e["host"] == "node03").unwrap();
    assert!(
        node03["error"]
            .as_str()
            .unwrap()
            .contains("timed out after 3s"),
        "{node03}"
    );
    assert_eq!(
        find(&ev, "halted")[0]["untouched"],
        serde_json::json!(["node04", "node05"])
    );
    assert_no_locks(&fleet);
    let left = Command::new("pgrep")
        .args(["-f", "sleep 613"])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "the hanging command was not killed");

    std::fs::remove_file(home(&fleet, 2).join("hang")).unwrap();
    let run = push(&fleet, &["--resume", &run_id(&fleet)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        (0..5).map(|i| runs(&fleet, i)).collect::<Vec<_>>(),
        [1, 1, 2, 1, 1]
    );
    assert_no_locks(&fleet);
}

#[test]
fn a_full_disk_fails_its_host_and_the_budget_decides_whether_the_rollout_goes_on() {
    let fleet = setup();
    let disk = home(&fleet, 3).join("disk");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&disk)
        .status()
        .unwrap();
    assert!(mounted.success(), "mount a 1 MiB tmpfs (root needed)");
    let run = push(&fleet, &["--batch", "1", "--max-fail", "1"]);
    let _ = Command::new("umount").arg(&disk).status();
    assert_eq!(run.code, 3, "{run:?}");
    let ev = events(&run);
    let node04 = find(&ev, "host_done")
        .into_iter()
        .find(|e| e["host"] == "node04")
        .unwrap();
    assert!(
        node04["error"]
            .as_str()
            .unwrap()
            .contains("No space left on device"),
        "{node04}"
    );
    assert!(
        find(&ev, "halted").is_empty(),
        "a budget of one failed host per batch lets it go on"
    );
    assert!(home(&fleet, 4).join("disk/payload").exists());
    assert_no_locks(&fleet);
}

#[test]
fn a_host_cut_off_mid_task_is_reported_and_resume_takes_its_lock_back() {
    let mut fleet = setup();
    std::fs::write(home(&fleet, 1).join("slow"), "").unwrap();
    let child = spawn(&fleet, &["--batch", "1"]);
    wait_for(&home(&fleet, 1).join("slow.started"));
    fleet.cut_host(1);
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_ne!(run.code, 0, "{run:?}");
    let ev = events(&run);
    let node02 = find(&ev, "host_done")
        .into_iter()
        .find(|e| e["host"] == "node02")
        .unwrap();
    assert!(node02["error"].is_string(), "{node02}");
    assert_eq!(
        find(&ev, "halted")[0]["untouched"],
        serde_json::json!(["node03", "node04", "node05"])
    );
    // The run could not remove its lock from a host it lost; resuming takes it back.
    assert!(home(&fleet, 1).join(".drover/lock").exists());
    fleet.start_host(1).unwrap();
    std::fs::remove_file(home(&fleet, 1).join("slow")).unwrap();
    let run = push(&fleet, &["--resume", &run_id(&fleet)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        (0..5).map(|i| runs(&fleet, i)).collect::<Vec<_>>(),
        [1, 2, 1, 1, 1]
    );
    assert_no_locks(&fleet);
}

#[test]
fn drover_killed_mid_run_resumes_without_repeating_done_hosts() {
    let fleet = setup();
    std::fs::write(home(&fleet, 1).join("slow"), "").unwrap();
    let mut child = spawn(&fleet, &["--batch", "1"]);
    wait_for(&home(&fleet, 1).join("slow.started"));
    let _ = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let id = run_id(&fleet);
    let events_file =
        std::fs::read_to_string(fleet.dir().join("runs").join(&id).join("events.jsonl")).unwrap();
    assert!(
        events_file.contains("\"host\":\"node01\""),
        "the journal has what happened before the kill"
    );
    // Let node02's interrupted task finish on the host before resuming.
    std::thread::sleep(Duration::from_secs(5));
    std::fs::remove_file(home(&fleet, 1).join("slow")).unwrap();
    let run = push(&fleet, &["--resume", &id]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        (0..5).map(|i| runs(&fleet, i)).collect::<Vec<_>>(),
        [1, 2, 1, 1, 1]
    );
    assert_no_locks(&fleet);
}
