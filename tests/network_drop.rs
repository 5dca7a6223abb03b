//! A host that goes silent mid-task (its packets dropped inside a network namespace of the test's
//! own: no FIN, no RST, as after a power loss or a firewall change) is reported within the bounds
//! that `--timeout`, the kill deadline and the SSH keepalives set, and never holds the run.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Fleet, FleetOptions};

fn fleet(hosts: usize) -> Fleet {
    Fleet::start(
        &common::scratch(),
        &FleetOptions {
            hosts,
            netns: true,
            ..FleetOptions::default()
        },
    )
    .expect("start a fleet in network namespaces (needs root, iproute2 and iptables)")
}

/// Runs drover with `args` (after the inventory and known_hosts) in the background, silences
/// host `i` after `after`, and waits for drover to end (at most `limit`, then it is killed and the
/// test fails). Returns drover's output and how long it took after the drop.
fn drop_mid_run(
    fleet: &Fleet,
    args: &[&str],
    i: usize,
    after: Duration,
    limit: Duration,
) -> (Output, Duration) {
    let (inv, kh) = (fleet.inventory(), fleet.known_hosts());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drover"));
    cmd.arg(args[0])
        .args([
            "-i",
            inv.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
        ])
        .args(&args[1..])
        .env("HOME", fleet.dir())
        .env("NO_COLOR", "1")
        .env_remove("SSH_AUTH_SOCK")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(after);
    fleet.drop_traffic(i).unwrap();
    let dropped = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if dropped.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "drover still waited {limit:?} after the drop:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = dropped.elapsed();
    (child.wait_with_output().unwrap(), took)
}

#[test]
fn run_with_a_timeout_reports_a_silent_host_soon_after_its_timeout() {
    let fleet = fleet(2);
    // --timeout 3, then the kill over a second channel (bounded at 10 s) on a dead connection.
    let (out, took) = drop_mid_run(
        &fleet,
        &["run", "all", "--timeout", "3", "--json", "--", "sleep 60"],
        0,
        Duration::from_secs(1),
        Duration::from_secs(30),
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let silent = &doc["hosts"]["node01"];
    assert_ne!(silent["status"], "ok", "{doc}");
    // The other host is not held up by it: it timed out on its own, as asked.
    assert_eq!(doc["hosts"]["node02"]["status"], "failed", "{doc}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_ne!(out.status.code(), Some(0));
}

#[test]
fn run_without_a_timeout_is_ended_by_the_keepalives() {
    let fleet = fleet(1);
    let (out, took) = drop_mid_run(
        &fleet,
        &["run", "all", "--json", "--", "sleep 300"],
        0,
        Duration::from_secs(1),
        Duration::from_secs(45),
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(doc["hosts"]["node01"]["status"], "ok", "{doc}");
    // 3 keepalives 5 s apart go unanswered: about 15 to 20 s.
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(35),
        "took {took:?}"
    );
}

#[test]
fn push_reports_the_silent_host_and_halts_the_rollout() {
    let fleet = fleet(2);
    let pb = fleet.dir().join("slow.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep 60\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let (out, took) = drop_mid_run(
        &fleet,
        &[
            "push",
            pb.to_str().unwrap(),
            "--runs-dir",
            runs.to_str().unwrap(),
            "--batch",
            "1",
            "--timeout",
            "5",
        ],
        0,
        Duration::from_secs(2),
        Duration::from_secs(40),
    );
    // The push's human output is on stdout, as ansible-playbook's is.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("HALTED"), "{stdout}");
    assert!(stdout.contains("not touched: node02"), "{stdout}");
    assert!(took < Duration::from_secs(25), "took {took:?}: {stdout}");
}
