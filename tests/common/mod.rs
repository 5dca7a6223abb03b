//! Helpers shared by the integration tests: a fleet per test and a way to run the drover binary
//! in a clean environment (its own HOME, no agent), so the tests never touch the operator's ~/.ssh.

#![allow(dead_code)]

pub mod apt;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use drover_fleet::{DebianFleet, DebianOptions, Fleet, FleetOptions, Reach};

/// Where fleets live during tests: under the target folder, not /tmp.
pub fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// A fleet of `n` hosts, one sshd each.
pub fn fleet(n: usize) -> Fleet {
    Fleet::start(
        &scratch(),
        &FleetOptions {
            hosts: n,
            ..FleetOptions::default()
        },
    )
    .expect("start the test fleet (is openssh-server installed?)")
}

/// What a drover run printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cut = |s: &str| s.chars().take(4000).collect::<String>();
        write!(
            f,
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            cut(&self.stdout),
            cut(&self.stderr)
        )
    }
}

/// Asserts a bad-input refusal: exit 2, nothing on stdout, one `error:` line naming `location` and
/// saying `what`, and no panic.
pub fn assert_bad_input(run: &Run, location: &str, what: &str) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    let line = run.stderr.lines().next().unwrap_or_default();
    assert!(line.starts_with("error: "), "{run:?}");
    assert!(line.contains(location), "expected {location} in: {line}");
    assert!(line.contains(what), "expected `{what}` in: {line}");
    assert!(!run.stderr.contains("panicked"), "{run:?}");
}

/// `drover run all -- true` in `dir` over a one-host inventory whose key file is `key`: for the
/// errors about key files, which come before any connection.
pub fn run_with_key_file(dir: &Path, key: &Path) -> Run {
    let inv = dir.join("key-hosts.ini");
    let line = format!(
        "h ansible_host=127.0.0.2 ansible_ssh_private_key_file={}\n",
        key.display()
    );
    std::fs::write(&inv, line).unwrap();
    drover_in(
        dir,
        &["run", "-i", inv.to_str().unwrap(), "all", "--", "true"],
    )
}

/// `drover push PLAYBOOK --runs-dir RUNS EXTRA...`, as arguments.
pub fn push_args<'a>(playbook: &'a Path, runs: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "push",
        playbook.to_str().unwrap(),
        "--runs-dir",
        runs.to_str().unwrap(),
    ];
    args.extend(extra);
    args
}

/// The folder of the one run in `runs` (a test that made exactly one run).
pub fn only_run(runs: &Path) -> PathBuf {
    let mut dirs = std::fs::read_dir(runs).unwrap();
    let first = dirs.next().expect("no run folder").unwrap().path();
    assert!(
        dirs.next().is_none(),
        "more than one run in {}",
        runs.display()
    );
    first
}

/// Runs drover with `args`, HOME set to `home`, no ssh-agent and no colour.
pub fn drover_in(home: &Path, args: &[&str]) -> Run {
    drover_env(home, args, &[])
}

/// Like [`drover_in`], with extra environment variables.
pub fn drover_env(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_drover(Command::new(env!("CARGO_BIN_EXE_drover")), home, args, env)
}

/// Like [`drover_in`], under GNU time, which writes drover's peak resident memory in KiB to `peak`.
pub fn drover_measured(home: &Path, args: &[&str], peak: &Path) -> Run {
    let mut time = Command::new("/usr/bin/time");
    time.args(["-f", "%M", "-o"])
        .arg(peak)
        .arg(env!("CARGO_BIN_EXE_drover"));
    run_drover(time, home, args, &[])
}

/// Runs `command` (drover, or a program that runs it) with drover's arguments and a clean
/// environment: HOME set to `home`, no ssh-agent, no passwords, no colour.
fn run_drover(mut command: Command, home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    // The machine's Ansible and drover settings are not the test's.
    for (name, _) in std::env::vars() {
        if name.starts_with("ANSIBLE_")
            || (name.starts_with("DROVER_") && !name.starts_with("DROVER_TEST"))
        {
            command.env_remove(name);
        }
    }
    let out: Output = command
        .args(args)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("DROVER_SSH_PASSPHRASE")
        .env_remove("DROVER_BECOME_PASSWORD")
        .envs(env.iter().copied())
        .output()
        .expect("run drover");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs drover against `fleet`'s inventory and known_hosts with the fleet as HOME.
pub fn drover(fleet: &impl Reach, args: &[&str]) -> Run {
    drover_with(fleet, &fleet.inventory(), args, &[])
}

/// Runs drover with `inventory`, the fleet's known_hosts and extra environment, the fleet as HOME.
/// `args[0]` is the subcommand; the inventory and known_hosts options follow it.
pub fn drover_with(
    fleet: &impl Reach,
    inventory: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let known_hosts = fleet.known_hosts();
    let mut full = vec![
        args[0],
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
    ];
    full.extend(&args[1..]);
    drover_env(fleet.dir(), &full, env)
}

/// A copy of the fleet's inventory with `from` replaced by `to`, for a test that changes one setting.
pub fn inventory_variant(fleet: &impl Reach, name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(fleet.inventory()).unwrap();
    assert!(text.contains(from), "the fleet inventory has no `{from}`");
    let path = fleet.dir().join(name);
    std::fs::write(&path, text.replace(from, to)).unwrap();
    path
}

/// Whether tests that need their own Docker daemons can run here. Without dockerd (or root) they are
/// skipped, loudly; with DROVER_REQUIRE_DOCKER set (as .ci/run does) that is a failure instead.
pub fn docker_available(test: &str) -> bool {
    let ok = std::process::Command::new("dockerd")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        && std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !ok {
        assert!(
            std::env::var_os("DROVER_REQUIRE_DOCKER").is_none(),
            "{test} needs dockerd and root, and DROVER_REQUIRE_DOCKER is set"
        );
        eprintln!(
            "SKIPPED {test}: no dockerd here (or not root); set DROVER_REQUIRE_DOCKER=1 to make this a failure"
        );
    }
    ok
}

/// Runs `command` (its stdout piped) and watches its output: whether `text` appeared while it was
/// still running (before `marker` exists, the sign that the work being watched ended), and all it
/// printed on stdout, once it exits.
/// What a child prints on stdout, gathered by a thread as it arrives.
type Gathered = (
    std::sync::Arc<std::sync::Mutex<String>>,
    std::thread::JoinHandle<()>,
);

/// Starts gathering `child`'s stdout as it arrives.
fn collect_stdout(child: &mut std::process::Child) -> Gathered {
    use std::io::Read;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let into = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (seen, reader)
}

pub fn seen_while_running(mut command: Command, text: &str, marker: &Path) -> (bool, String) {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let (seen, reader) = collect_stdout(&mut child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut early = false;
    while std::time::Instant::now() < deadline {
        if seen.lock().unwrap().contains(text) {
            early = !marker.exists();
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.wait();
    reader.join().unwrap();
    let out = seen.lock().unwrap().clone();
    (early, out)
}

/// Runs `command` (made by [`on_terminal`]) as a conversation: for each `(prompt, reply)`, waits
/// until the prompt shows (after the previous one), then types the reply. Everything waits at most
/// 60 s; a command still running then is killed. Gives whether it succeeded and what it showed.
pub fn converse(mut command: Command, steps: &[(&str, &str)]) -> (bool, String) {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let (seen, reader) = collect_stdout(&mut child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut stdin = child.stdin.take().unwrap();
    let mut from = 0;
    for (prompt, reply) in steps {
        loop {
            let found = seen.lock().unwrap()[from..].find(prompt);
            if let Some(at) = found {
                from += at + prompt.len();
                break;
            }
            if std::time::Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = stdin.write_all(format!("{reply}\n").as_bytes());
    }
    drop(stdin);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    reader.join().unwrap();
    let out = seen.lock().unwrap().clone();
    (status.is_some_and(|s| s.success()), out)
}

/// drover against `fleet` as a command to start (not yet run): `args[0]` is the subcommand, the
/// fleet's inventory and known_hosts follow it; HOME is the fleet, no agent, no colour.
pub fn drover_command(fleet: &impl Reach, args: &[&str]) -> Command {
    let (inv, kh) = (fleet.inventory(), fleet.known_hosts());
    let mut command = Command::new(env!("CARGO_BIN_EXE_drover"));
    command
        .arg(args[0])
        .args([
            "-i",
            inv.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
        ])
        .args(&args[1..])
        .env("HOME", fleet.dir())
        .env("NO_COLOR", "1")
        .env_remove("SSH_AUTH_SOCK");
    command
}

/// Like [`drover_command`], on a pseudo-terminal that `script` makes: stdout and stderr are the
/// terminal (read from `script`'s stdout), and `script`'s stdin is typed into it.
pub fn on_terminal(fleet: &impl Reach, args: &[&str]) -> Command {
    let (inv, kh) = (fleet.inventory(), fleet.known_hosts());
    let mut words = vec![env!("CARGO_BIN_EXE_drover"), args[0], "-i"];
    words.extend([inv.to_str().unwrap(), "--known-hosts", kh.to_str().unwrap()]);
    words.extend(&args[1..]);
    let line: Vec<String> = words.iter().map(|w| drover_ssh::shell::quote(w)).collect();
    let mut command = Command::new("script");
    command
        .args(["-qfec", &line.join(" "), "/dev/null"])
        .env("HOME", fleet.dir())
        .env("NO_COLOR", "1")
        .env_remove("SSH_AUTH_SOCK");
    command
}

/// A container fleet of real Debian hosts, or `None` (said loudly) where this machine has no Docker
/// engine: as for [`docker_available`], DROVER_REQUIRE_DOCKER makes that a failure.
pub fn debian_fleet(test: &str, opts: &DebianOptions) -> Option<DebianFleet> {
    let engine = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !engine {
        assert!(
            std::env::var_os("DROVER_REQUIRE_DOCKER").is_none(),
            "{test} needs a Docker engine, and DROVER_REQUIRE_DOCKER is set"
        );
        eprintln!(
            "SKIPPED {test}: no Docker engine here; set DROVER_REQUIRE_DOCKER=1 to make this a failure"
        );
        return None;
    }
    Some(
        DebianFleet::start(&scratch(), opts)
            .expect("start the Debian fleet (scripts/install-deps installs debootstrap)"),
    )
}

/// `secret` is in no file of the runs folder `runs` (grep's own exit status says so: 1 for
/// "searched, nothing found"; 2 would be a runs folder that is not there, which must not pass).
pub fn assert_not_journaled(runs: &Path, secret: &str) {
    let grep = Command::new("grep")
        .args(["-rl", secret])
        .arg(runs)
        .output()
        .unwrap();
    assert_eq!(grep.status.code(), Some(1), "in the journal: {grep:?}");
}

/// Opens `page` in headless Chromium (Debian's `chromium`) with no network: asserts it loads with
/// no console error and no request beyond the file itself, and that a screenshot of it is a real
/// picture (a blank page compresses to a few KB). Returns the screenshot's path.
pub fn assert_page_opens_offline(page: &Path) -> PathBuf {
    let dir = page.with_extension("chromium");
    std::fs::create_dir_all(&dir).unwrap();
    let (shot, netlog) = (dir.join("screenshot.png"), dir.join("netlog.json"));
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--window-size=1280,1400",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium (scripts/install-deps installs it)");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {log}");
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Refused to") || l.contains("ERR_"))
        .collect();
    assert!(console.is_empty(), "the page logged errors: {console:?}");
    // The page's own requests are those of its network isolation key (file://); Chromium's
    // background requests (update checks and the like) have another, and fail here anyway.
    let net: serde_json::Value = serde_json::from_slice(&std::fs::read(&netlog).unwrap()).unwrap();
    let requested: Vec<String> = net["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["params"])
        .filter(|p| {
            p["network_isolation_key"]
                .as_str()
                .is_some_and(|k| k.contains("file://"))
        })
        .filter_map(|p| p["url"].as_str())
        .filter(|url| !url.starts_with("file://") && !url.starts_with("data:"))
        .map(str::to_string)
        .collect();
    assert!(
        requested.is_empty(),
        "the page made requests: {requested:?}"
    );
    let size = std::fs::metadata(&shot).unwrap().len();
    assert!(
        size > 20_000,
        "the screenshot is {size} bytes: a blank page?"
    );
    shot
}

/// Copies a run folder's journal (run.json, state.json, events.jsonl, snapshots, roll calls) to
/// `to`, to keep as a fixture; its lock is not copied.
pub fn copy_run(from: &Path, to: &Path) {
    for sub in ["", "snapshots", "rollcalls"] {
        let (src, dst) = (from.join(sub), to.join(sub));
        let Ok(entries) = std::fs::read_dir(&src) else {
            continue;
        };
        std::fs::create_dir_all(&dst).unwrap();
        for e in entries.flatten() {
            let name = e.file_name();
            let keep = name
                .to_str()
                .is_some_and(|n| n.ends_with(".json") || n.ends_with(".jsonl"));
            if keep && e.path().is_file() {
                std::fs::copy(e.path(), dst.join(&name)).unwrap();
            }
        }
    }
}

/// A container of the busybox image (`DebianFleet::build_busybox_image`) on host `i` of a fleet with
/// Docker, with `args` before the image and `command` after it, and a stop timeout of 2 s:
/// `sleep` as PID 1 ignores SIGTERM, so a stop kills it (137) after 2 s, which keeps tests short.
pub fn busybox(fleet: &DebianFleet, i: usize, name: &str, args: &[&str], command: &[&str]) {
    let mut all = vec![
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "none",
        "--stop-timeout",
        "2",
    ];
    all.extend(args);
    all.push("drover/busybox:1");
    all.extend(command);
    fleet.docker(i, &all).unwrap();
}
