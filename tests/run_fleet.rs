//! `drover run` against real OpenSSH servers on loopback: the behaviours an operator relies on.

mod common;

use common::{drover, fleet};

#[test]
fn runs_on_twenty_hosts() {
    let fleet = fleet(20);
    let run = drover(
        &fleet,
        &["run", "all", "--json", "--", "echo $DROVER_FLEET_HOST"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    let hosts = doc["hosts"].as_object().unwrap();
    assert_eq!(hosts.len(), 20);
    for (name, result) in hosts {
        assert_eq!(result["status"], "ok", "{name}");
        assert_eq!(result["rc"], 0);
        // Each answer comes from that host's own sshd (its SetEnv), not from some other one.
        assert_eq!(result["stdout"], format!("{name}\n"));
        assert!(result["duration_ms"].is_u64());
    }
    assert_eq!(
        doc["recap"],
        serde_json::json!({"ok": 20, "failed": 0, "unreachable": 0})
    );
}

#[test]
fn a_host_that_is_down_is_unreachable_and_the_others_are_fine() {
    let mut fleet = fleet(4);
    fleet.stop_host(2);
    let run = drover(&fleet, &["run", "all", "--json", "--", "true"]);
    assert_eq!(run.code, 4, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["hosts"]["node03"]["status"], "unreachable");
    let msg = doc["hosts"]["node03"]["msg"].as_str().unwrap();
    assert!(msg.contains("cannot connect to 127.0.0.4"), "{msg}");
    for ok in ["node01", "node02", "node04"] {
        assert_eq!(doc["hosts"][ok]["status"], "ok", "{ok}");
    }
    assert!(
        run.stderr.contains("unreachable node03: cannot connect"),
        "{run:?}"
    );
}

#[test]
fn a_wrong_key_is_an_authentication_failure() {
    let fleet = fleet(2);
    let key = fleet.wrong_key();
    let run = drover(
        &fleet,
        &[
            "run",
            "node01",
            "--private-key",
            key.to_str().unwrap(),
            "--",
            "true",
        ],
    );
    // The inventory names the right key for every host, so --private-key must not override it...
    assert_eq!(run.code, 0, "{run:?}");
    // ...but an inventory that names the wrong key fails to authenticate, per host.
    let inv = common::inventory_variant(&fleet, "wrong-key.ini", "client_key", "wrong_key");
    let run = common::drover_with(&fleet, &inv, &["run", "all", "--", "true"], &[]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stdout.contains("node01 | UNREACHABLE"), "{run:?}");
    assert!(
        run.stdout
            .contains("authentication failed for root@127.0.0.2"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("wrong_key"),
        "the message names the key tried: {run:?}"
    );
}

#[test]
fn a_changed_host_key_is_refused_showing_both_fingerprints() {
    let mut fleet = fleet(2);
    let host_key = fleet.dir().join("sshd/0/host_key.pub");
    let fingerprint = || {
        let out = std::process::Command::new("ssh-keygen")
            .arg("-l")
            .arg("-f")
            .arg(&host_key)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    let recorded = fingerprint();
    fleet.change_host_key(0).unwrap();
    let presented = fingerprint();
    assert_ne!(recorded, presented);

    // Even --accept-new must not accept a changed key.
    let run = drover(&fleet, &["run", "all", "--accept-new", "--", "true"]);
    assert_eq!(run.code, 4, "{run:?}");
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("node01 |"))
        .unwrap();
    assert!(line.contains("HOST KEY CHANGED"), "{line}");
    assert!(line.contains(&format!("presented {presented}")), "{line}");
    assert!(
        line.contains(&format!("known_hosts:1 records {recorded}")),
        "{line}"
    );
    assert!(run.stdout.contains("node02 | OK"), "{run:?}");
}

#[test]
fn an_unknown_host_key_is_refused_then_recorded_with_accept_new() {
    let fleet = fleet(2);
    let kh = fleet.dir().join("fresh_known_hosts");
    let inv = fleet.inventory();
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "run",
            "-i",
            inv.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
            "all",
        ];
        a.extend(extra);
        a.extend(["--", "true"]);
        a
    };
    let run = common::drover_in(fleet.dir(), &args(&[]));
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stdout.contains("is unknown (SHA256:"), "{run:?}");
    assert!(
        run.stdout.contains("--accept-new"),
        "the message says how to proceed: {run:?}"
    );
    assert!(!kh.exists() || std::fs::read_to_string(&kh).unwrap().is_empty());

    let run = common::drover_in(fleet.dir(), &args(&["--accept-new"]));
    assert_eq!(run.code, 0, "{run:?}");
    let recorded = std::fs::read_to_string(&kh).unwrap();
    let port = fleet.port();
    assert!(
        recorded.contains(&format!("[127.0.0.2]:{port} ssh-ed25519 ")),
        "{recorded}"
    );
    assert!(
        recorded.contains(&format!("[127.0.0.3]:{port} ssh-ed25519 ")),
        "{recorded}"
    );

    // Recorded keys are now known: strict checking passes.
    let run = common::drover_in(fleet.dir(), &args(&[]));
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_command_that_runs_too_long_is_stopped() {
    let fleet = fleet(2);
    let started = std::time::Instant::now();
    let run = drover(
        &fleet,
        &[
            "run",
            "all",
            "--timeout",
            "1",
            "--json",
            "--",
            "sleep 30 & echo $! > $HOME/sleeper.pid; wait",
        ],
    );
    assert!(
        started.elapsed().as_secs() < 10,
        "the timeout did not stop the command"
    );
    assert_eq!(run.code, 3, "{run:?}");
    let doc = run.json();
    for (i, host) in ["node01", "node02"].iter().enumerate() {
        assert_eq!(doc["hosts"][host]["status"], "failed");
        assert_eq!(doc["hosts"][host]["msg"], "command timed out after 1s");
        // The command is killed on the host too, not just abandoned.
        let pid_file = fleet.hosts()[i].state.join("home/sleeper.pid");
        let pid = std::fs::read_to_string(pid_file).unwrap();
        let proc_dir = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while proc_dir.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            !proc_dir.exists(),
            "{host}: the timed-out command is still running"
        );
    }
}

#[test]
fn a_non_zero_exit_fails_the_host_with_its_output() {
    let fleet = fleet(2);
    let run = drover(
        &fleet,
        &[
            "run",
            "all",
            "--json",
            "--",
            r#"echo out; echo err >&2; [ "$DROVER_FLEET_HOST" = node02 ] && exit 7; true"#,
        ],
    );
    assert_eq!(run.code, 3, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["hosts"]["node01"]["status"], "ok");
    let failed = &doc["hosts"]["node02"];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["rc"], 7);
    assert_eq!(failed["stdout"], "out\n");
    assert_eq!(failed["stderr"], "err\n");
    assert_eq!(doc["recap"]["failed"], 1);
}

#[test]
fn ten_megabytes_of_stdout_arrive_intact() {
    let fleet = fleet(1);
    // The host prints 10 MiB and, on stderr, the checksum of what it printed.
    let cmd = "head -c 10485760 /dev/urandom | base64 -w 76 > $HOME/big; cat $HOME/big; sha256sum < $HOME/big >&2";
    let run = drover(&fleet, &["run", "all", "--json", "--", cmd]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    let stdout = doc["hosts"]["node01"]["stdout"].as_str().unwrap();
    let remote_sum = doc["hosts"]["node01"]["stderr"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(
        stdout.len() > 10 * 1024 * 1024,
        "only {} bytes arrived",
        stdout.len()
    );
    let mut sha = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    sha.stdin
        .take()
        .unwrap()
        .write_all(stdout.as_bytes())
        .unwrap();
    let local = String::from_utf8(sha.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!(local.split_whitespace().next().unwrap(), remote_sum);
}

#[test]
fn local_connection_runs_on_the_controller() {
    let fleet = fleet(1);
    let inv = fleet.dir().join("local.ini");
    std::fs::write(&inv, "ctl ansible_connection=local\n").unwrap();
    let run = common::drover_in(
        fleet.dir(),
        &[
            "run",
            "-i",
            inv.to_str().unwrap(),
            "all",
            "--json",
            "--",
            "echo $HOME",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.json()["hosts"]["ctl"]["stdout"],
        format!("{}\n", fleet.dir().display())
    );
}

#[test]
fn become_runs_commands_through_sudo() {
    let fleet = fleet(2);
    let inv = common::inventory_variant(
        &fleet,
        "become.ini",
        "node02 ansible_host=127.0.0.3",
        "node02 ansible_host=127.0.0.3 ansible_become_user=nobody",
    );
    let run = common::drover_with(
        &fleet,
        &inv,
        &["run", "all", "--become", "--json", "--", "id -un"],
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["hosts"]["node01"]["stdout"], "root\n");
    assert_eq!(doc["hosts"]["node02"]["stdout"], "nobody\n");
}

#[test]
fn proxy_jump_from_ssh_config_reaches_a_host_through_another() {
    let mut fleet = fleet(2);
    let port = fleet.port();
    let config = fleet.dir().join("ssh_config");
    std::fs::write(
        &config,
        format!("Host behind\n  HostName 127.0.0.3\n  Port {port}\n  User root\n  ProxyJump root@127.0.0.2:{port}\n"),
    )
    .unwrap();
    let inv = fleet.dir().join("jump.ini");
    std::fs::write(&inv, "behind\n").unwrap();
    let key = fleet.client_key();
    let kh = fleet.known_hosts();
    let args = [
        "run",
        "-i",
        inv.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
        "--ssh-config",
        config.to_str().unwrap(),
        "--private-key",
        key.to_str().unwrap(),
        "all",
        "--json",
        "--",
        "echo $DROVER_FLEET_HOST",
    ];
    let run = common::drover_in(fleet.dir(), &args);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["hosts"]["behind"]["stdout"], "node02\n");
    // With the jump host down, the error says the jump failed.
    fleet.stop_host(0);
    let run = common::drover_in(fleet.dir(), &args);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(
        run.json()["hosts"]["behind"]["msg"]
            .as_str()
            .unwrap()
            .starts_with("via ProxyJump root@127.0.0.2"),
        "{run:?}"
    );
}

#[test]
fn an_encrypted_key_takes_its_passphrase_from_the_environment() {
    let fleet = fleet(1);
    let key = fleet.dir().join("locked_key");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ecdsa", "-N", "open sesame", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let mut authorized = std::fs::OpenOptions::new()
        .append(true)
        .open(fleet.dir().join("authorized_keys"))
        .unwrap();
    std::io::Write::write_all(&mut authorized, public.as_bytes()).unwrap();
    let inv = common::inventory_variant(&fleet, "locked.ini", "client_key", "locked_key");
    let run_with = |env: &[(&str, &str)]| {
        common::drover_with(&fleet, &inv, &["run", "all", "--", "true"], env)
    };

    let run = run_with(&[("DROVER_SSH_PASSPHRASE", "open sesame")]);
    assert_eq!(run.code, 0, "{run:?}");

    let run = run_with(&[("DROVER_SSH_PASSPHRASE", "wrong")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("locked_key: wrong passphrase"),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains("wrong\n") && !run.stdout.contains("open sesame"),
        "a secret was printed"
    );

    // Without a passphrase and without a terminal to ask on, drover says what to do.
    let run = run_with(&[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("is encrypted and no passphrase was given (set DROVER_SSH_PASSPHRASE"),
        "{run:?}"
    );
}
