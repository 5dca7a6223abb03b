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
    // --become-user applies where the inventory says nothing; the inventory still wins on node02.
    let run = common::drover_with(
        &fleet,
        &inv,
        &[
            "run",
            "all",
            "--become",
            "--become-user",
            "daemon",
            "--json",
            "--",
            "id -un",
        ],
        &[],
    );
    let doc = run.json();
    assert_eq!(doc["hosts"]["node01"]["stdout"], "daemon\n");
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
    authorized_key(&fleet, "ecdsa", "locked_key", "open sesame");
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

/// Generates a key of `kind` named `name` in the fleet folder (encrypted with `passphrase` unless it is
/// empty) and authorizes it on every host.
fn authorized_key(
    fleet: &common::Fleet,
    kind: &str,
    name: &str,
    passphrase: &str,
) -> std::path::PathBuf {
    let key = fleet.dir().join(name);
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", passphrase, "-f"])
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
    key
}

#[test]
fn rsa_and_ecdsa_keys_authenticate() {
    let fleet = fleet(1);
    for kind in ["rsa", "ecdsa"] {
        authorized_key(&fleet, kind, &format!("{kind}_key"), "");
        let inv = common::inventory_variant(
            &fleet,
            &format!("{kind}.ini"),
            "client_key",
            &format!("{kind}_key"),
        );
        let run = common::drover_with(&fleet, &inv, &["run", "all", "--", "true"], &[]);
        assert_eq!(run.code, 0, "{kind}: {run:?}");
    }
}

#[test]
fn keys_in_ssh_agent_authenticate() {
    let fleet = fleet(1);
    let sock = fleet.dir().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !sock.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let added = std::process::Command::new("ssh-add")
        .arg(fleet.client_key())
        .env("SSH_AUTH_SOCK", &sock)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(added.success());
    // No key in the inventory: only the agent has one.
    let key_line = format!(
        "ansible_ssh_private_key_file={}\n",
        fleet.client_key().display()
    );
    let inv = common::inventory_variant(&fleet, "agent.ini", &key_line, "");
    let args = ["run", "all", "--", "true"];
    let with_agent = common::drover_with(
        &fleet,
        &inv,
        &args,
        &[("SSH_AUTH_SOCK", sock.to_str().unwrap())],
    );
    let without = common::drover_with(&fleet, &inv, &args, &[]);
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(with_agent.code, 0, "{with_agent:?}");
    assert_eq!(without.code, 4, "{without:?}");
    assert!(without.stdout.contains("no keys"), "{without:?}");
}

#[test]
fn a_server_that_never_answers_times_out_the_connection() {
    let fleet = fleet(1);
    // Accepts TCP connections and then says nothing, as a wedged host does.
    let silent = std::net::TcpListener::bind("127.0.0.9:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let inv = fleet.dir().join("silent.ini");
    std::fs::write(
        &inv,
        format!("wedged ansible_host=127.0.0.9 ansible_port={port}\n"),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let run = common::drover_with(
        &fleet,
        &inv,
        &[
            "run",
            "all",
            "--connect-timeout",
            "1",
            "--json",
            "--",
            "true",
        ],
        &[],
    );
    assert!(
        started.elapsed().as_secs() < 5,
        "the connect timeout did not fire"
    );
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(
        run.json()["hosts"]["wedged"]["msg"],
        format!("connecting to 127.0.0.9:{port} timed out after 1s")
    );
    drop(silent);
}

/// A system user whose sudo asks for a password, removed again when dropped.
struct SudoUser {
    name: String,
}

impl SudoUser {
    fn create(password: &str) -> Option<SudoUser> {
        if std::env::var("USER").as_deref() != Ok("root") && !std::path::Path::new("/root").is_dir()
        {
            return None;
        }
        let name = format!("drvsudo{}", std::process::id());
        let ok = std::process::Command::new("useradd")
            .args(["-M", "-d", "/", "-s", "/bin/sh", &name])
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
        let user = SudoUser { name };
        let mut chpasswd = std::process::Command::new("chpasswd")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        std::io::Write::write_all(
            chpasswd.stdin.as_mut()?,
            format!("{}:{password}\n", user.name).as_bytes(),
        )
        .ok()?;
        chpasswd.wait().ok()?;
        std::fs::write(user.sudoers(), format!("{} ALL=(ALL) ALL\n", user.name)).ok()?;
        Some(user)
    }

    fn sudoers(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(format!("/etc/sudoers.d/{}", self.name))
    }
}

impl Drop for SudoUser {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.sudoers());
        let _ = std::process::Command::new("userdel")
            .arg(&self.name)
            .status();
    }
}

#[test]
fn become_with_a_password_answers_sudo_and_never_shows_it() {
    let password = "s3cret pass'word";
    let Some(user) = SudoUser::create(password) else {
        eprintln!("SKIPPED become_with_a_password: creating a sudo user needs root");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root, so this test must not be skipped there"
        );
        return;
    };
    let fleet = fleet(1);
    let inv = common::inventory_variant(
        &fleet,
        "sudo.ini",
        "ansible_user=root",
        &format!("ansible_user={}", user.name),
    );
    let args = ["run", "all", "--become", "--json", "--", "id -un; cat"];
    let run = common::drover_with(&fleet, &inv, &args, &[("DROVER_BECOME_PASSWORD", password)]);
    assert_eq!(run.code, 0, "{run:?}");
    let host = &run.json()["hosts"]["node01"];
    assert_eq!(
        host["stdout"], "root\n",
        "sudo's prompt and drover's marker are not in the output"
    );
    assert_eq!(host["stderr"], "");
    assert!(
        !run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"),
        "the password was printed"
    );

    let run = common::drover_with(&fleet, &inv, &args, &[("DROVER_BECOME_PASSWORD", "wrong")]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        run.json()["hosts"]["node01"]["msg"],
        "become (sudo) failed: incorrect sudo password"
    );

    let run = common::drover_with(&fleet, &inv, &args, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    let msg = run.json()["hosts"]["node01"]["msg"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.starts_with("become (sudo) failed: sudo: a password is required"),
        "{msg}"
    );
}

/// A command that prints more than anyone reads (a `journalctl`, a log) must not take the
/// controller's memory with it: each stream's first --max-output bytes are shown and the rest
/// counted, and with --output-dir every byte lands in the host's file as it arrives.
#[test]
fn large_output_is_cut_in_memory_and_kept_whole_in_the_output_dir() {
    const BYTES: usize = 40_000_000;
    let fleet = fleet(4);
    let dir = fleet.dir().join("output");
    let peak = fleet.dir().join("peak-rss");
    let command = format!("head -c {BYTES} /dev/zero | tr '\\0' x; echo done >&2");
    let (inventory, known_hosts) = (fleet.inventory(), fleet.known_hosts());
    // GNU time reports drover's own peak resident memory.
    let run = common::drover_measured(
        fleet.dir(),
        &[
            "run",
            "-i",
            inventory.to_str().unwrap(),
            "--known-hosts",
            known_hosts.to_str().unwrap(),
            "all",
            "--json",
            "--max-output",
            "1M",
            "--output-dir",
            dir.to_str().unwrap(),
            "--",
            &command,
        ],
        &peak,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // 160 MB went through; held whole, it would take that much at least.
    let kib: u64 = std::fs::read_to_string(&peak)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(kib < 64 * 1024, "peak RSS {kib} KiB");
    let doc = run.json();
    for (name, result) in doc["hosts"].as_object().unwrap() {
        let file = dir.join(format!("{name}.stdout"));
        let stdout = result["stdout"].as_str().unwrap();
        let (shown, note) = stdout.split_at(stdout.len().min(1 << 20));
        assert!(shown.bytes().all(|b| b == b'x'), "{name}");
        assert_eq!(
            note,
            format!(
                "\n[drover: output cut after 1048576 bytes; {} more not shown; all of it is in {}]\n",
                BYTES - (1 << 20),
                file.display()
            ),
            "{name}"
        );
        assert_eq!(result["stderr"], "done\n");
        let whole = std::fs::read(&file).unwrap();
        assert_eq!(whole.len(), BYTES, "{name}");
        assert!(whole.iter().all(|b| *b == b'x'), "{name}");
        assert_eq!(
            std::fs::read(dir.join(format!("{name}.stderr"))).unwrap(),
            b"done\n"
        );
    }

    // Without a folder the cut says how to keep it all.
    let run = drover(
        &fleet,
        &["run", "node01", "--max-output", "1M", "--", &command],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("more not shown; --output-dir keeps all of it]"),
        "{} bytes of output",
        run.stdout.len()
    );
}

/// On a terminal (a pseudo-terminal made by `script`), progress shows from the start and its clock
/// moves while the hosts work, not only when the first host finishes; the recap is on stdout.
#[test]
fn progress_shows_on_a_terminal_while_hosts_still_work() {
    let fleet = fleet(1);
    let done = fleet.hosts()[0].state.join("home/progress-done");
    let work = format!("sleep 3; touch {}", done.display());
    let command = common::on_terminal(&fleet, &["run", "all", "--", &work]);
    let (early, out) = common::seen_while_running(command, "0/1 hosts", &done);
    assert!(early, "no progress while the host worked:\n{out}");
    assert!(out.contains("RECAP  ok=1"), "{out}");
}

/// `drover run -m MODULE -a ARGS` runs one module on every host the pattern selects, as a push
/// task with each host's registered result shown (`-m setup` its facts); its values stay one
/// argument whatever they hold; the run has a journal.
#[test]
fn ad_hoc_modules_run_on_every_host_with_their_results() {
    let fleet = common::fleet(2);
    let runs = fleet.dir().join("runs");
    let target = fleet.dir().join("adhoc file");
    let run = common::drover(
        &fleet,
        &[
            "run",
            "all",
            "-m",
            "copy",
            "-a",
            &format!(
                "content='made by {{{{ inventory_hostname }}}}; $(id)' dest='{}'",
                target.display()
            ),
            "--runs-dir",
            runs.to_str().unwrap(),
            "--limit",
            "node02",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "made by node02; $(id)"
    );
    assert!(
        run.stdout.contains("node02       changed  [copy]"),
        "{run:?}"
    );
    assert!(run.stdout.contains("\"changed\": true"), "{run:?}");
    let run = common::drover(
        &fleet,
        &[
            "run",
            "all",
            "-m",
            "setup",
            "--runs-dir",
            runs.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.matches("\"ansible_facts\"").count(),
        2,
        "{run:?}"
    );
    assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 2);
}

/// A repository's ansible.cfg stands in for the flags an operator would otherwise type every time:
/// `inventory`, `[drover] known_hosts` and `runs_dir`, `forks`, `host_key_checking`; `drover config`
/// shows each value and where it came from (file line, variable), lists the file's settings drover
/// does not use; a variable beats the file and a flag beats both; a bad value is refused naming its
/// line.
#[test]
fn configuration_replaces_repeated_flags_and_says_where_each_value_came_from() {
    let fleet = common::fleet(1);
    let cfg = fleet.dir().join("repo.cfg");
    std::fs::write(
        &cfg,
        "[defaults]\ninventory = inventory.ini\nforks = 7\nstdout_callback = yaml\n[drover]\nknown_hosts = known_hosts\nruns_dir = journals\n",
    )
    .unwrap();
    let env = [("ANSIBLE_CONFIG", cfg.to_str().unwrap())];
    let run = common::drover_env(
        fleet.dir(),
        &["run", "all", "--", "echo", "configured"],
        &env,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("configured"), "{run:?}");
    let run = common::drover_env(fleet.dir(), &["config"], &env);
    assert_eq!(run.code, 0, "{run:?}");
    let at = |line: usize| format!("from {}:{line}", cfg.display());
    assert!(run.stdout.contains("[defaults] forks"), "{run:?}");
    assert!(run.stdout.contains(&at(3)), "{run:?}");
    assert!(run.stdout.contains(&at(6)), "{run:?}");
    assert!(
        run.stdout.contains("[defaults] stdout_callback (line 4)"),
        "{run:?}"
    );
    let run = common::drover_env(fleet.dir(), &["config"], &[env[0], ("ANSIBLE_FORKS", "3")]);
    assert!(run.stdout.contains("= 3"), "{run:?}");
    assert!(run.stdout.contains("from $ANSIBLE_FORKS"), "{run:?}");
    let bad = fleet.dir().join("bad.cfg");
    std::fs::write(&bad, "[defaults]\nforks = many\n").unwrap();
    let run = common::drover_env(
        fleet.dir(),
        &["config"],
        &[("ANSIBLE_CONFIG", bad.to_str().unwrap())],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("bad.cfg:2"), "{run:?}");
    // A module run journals where [drover] runs_dir says.
    let run = common::drover_env(fleet.dir(), &["run", "all", "-m", "ping"], &env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(fleet.dir().join("journals").is_dir());
}

/// become_flags take the place of sudo's `-H`, from each place Ansible reads them: ansible.cfg's
/// (ANSIBLE_BECOME_FLAGS), the host's `ansible_become_flags` over it, and in a playbook the play's,
/// a block's and a task's own (templated) over those. `-g GROUP` shows which one sudo got.
#[test]
fn become_flags_reach_sudo_from_every_level() {
    let fleet = fleet(2);
    let inv = common::inventory_variant(
        &fleet,
        "flags.ini",
        "node02 ansible_host=127.0.0.3",
        "node02 ansible_host=127.0.0.3 ansible_become_flags='-g mail'",
    );
    let env = [("ANSIBLE_BECOME_FLAGS", "-g daemon")];
    let run = common::drover_with(
        &fleet,
        &inv,
        &["run", "all", "--become", "--json", "--", "id -gn"],
        &env,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["hosts"]["node01"]["stdout"], "daemon\n");
    assert_eq!(doc["hosts"]["node02"]["stdout"], "mail\n");

    let out = fleet.dir().join("flags-out");
    let playbook = fleet.dir().join("flags.yml");
    std::fs::write(
        &playbook,
        "- hosts: node01\n  become: true\n  become_flags: -g adm\n  vars:\n    grp: mail\n  tasks:\n    - command: id -gn\n      register: play_level\n    - command: id -gn\n      become_flags: \"-g {{ grp }}\"\n      register: task_level\n    - block:\n        - command: id -gn\n          register: block_level\n      become_flags: -g daemon\n    - copy:\n        content: \"{{ play_level.stdout }} {{ task_level.stdout }} {{ block_level.stdout }}\"\n        dest: \"{{ out }}\"\n",
    )
    .unwrap();
    let runs = fleet.dir().join("runs");
    let extra = format!("out={}", out.display());
    let run = common::drover_with(
        &fleet,
        &inv,
        &common::push_args(&playbook, &runs, &["-e", &extra]),
        &env,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "adm mail daemon");
}
