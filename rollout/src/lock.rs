//! Host locks: a file on each host that says which run holds it, so two runs never touch one host at
//! once. It is created atomically with the shell's noclobber (`set -C`) and removed when the run
//! leaves the host; a lock left behind (say, by a killed controller) expires, and `--break-lock` clears it.

use drover_ssh::shell::quote;

/// Where the lock lives on a host.
pub const LOCK_PATH: &str = "$HOME/.drover/lock";

/// The folder the lock lives in.
const LOCK_DIR: &str = "$HOME/.drover";

/// What goes in the lock file: one line, `run=ID owner=USER@HOST expires=EPOCH pid=PID` (the
/// controller process holding it, so that a lock left by a dead run can be told from a live one).
pub fn lock_line(run_id: &str, owner: &str, expires: u64, pid: u32) -> String {
    format!("run={run_id} owner={owner} expires={expires} pid={pid}")
}

/// Takes the lock, or prints the holder's line and exits 3. A lock this same run left behind (a
/// killed controller, then `--resume`) is taken over; only one process can hold a run at a time
/// (the run folder's own lock), so that is never a live run's. With `break_lock`, any lock is
/// replaced. When the lock cannot be written at all (a read-only or foreign HOME), the shell's
/// reason goes to stderr and the exit is 4, not 3.
///
/// The first attempt is quiet, and is all a free lock costs; only when it fails and no holder's
/// line is there is it made again to have the shell say why (which, should the file have gone
/// meanwhile, takes the lock after all). `set -C` stays set: the script runs in a shell of its
/// own, or in the subshell of the command it goes ahead of.
pub fn acquire_command(run_id: &str, line: &str, break_lock: bool) -> String {
    let clear = if break_lock {
        "rm -f \"$f\"; ".to_string()
    } else {
        format!("{}rm -f \"$f\";; esac; ", ours(run_id))
    };
    format!(
        "d={LOCK_DIR}; f=$d/lock; [ -d \"$d\" ] || mkdir -p \"$d\" || exit 4; {clear}set -C; if printf '%s\\n' {l} 2>/dev/null > \"$f\"; then echo acquired; elif [ -s \"$f\" ]; then IFS= read -r l < \"$f\"; printf '%s\\n' \"$l\"; exit 3; elif printf '%s\\n' {l} > \"$f\"; then echo acquired; else exit 4; fi",
        l = quote(line)
    )
}

/// Removes the lock if this run holds it.
pub fn release_command(run_id: &str) -> String {
    format!("f={LOCK_PATH}; {}rm -f \"$f\";; esac", ours(run_id))
}

/// The start of a `case` whose one branch is taken when the lock file `$f` is this run's. The
/// line is read by the shell itself: lock and unlock run on every host of every push, and each
/// program they start (grep, dirname, cat) costs the host a fork and an exec.
fn ours(run_id: &str) -> String {
    format!(
        "l=; {{ IFS= read -r l < \"$f\"; }} 2>/dev/null; case $l in {}*) ",
        quote(&format!("run={run_id} "))
    )
}

/// Explains a lock another run holds, from its line and the current time. `controller` is this
/// controller's `user@host`, and `alive` says whether a process of this machine is running: a lock
/// taken from this machine by a process that has ended belongs to a dead run.
pub fn describe_holder(
    line: &str,
    now: u64,
    controller: &str,
    alive: impl Fn(u32) -> bool,
) -> String {
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .unwrap_or("?")
            .to_string()
    };
    let expires: u64 = field("expires").parse().unwrap_or(0);
    let dead_pid = field("pid")
        .parse::<u32>()
        .ok()
        .filter(|pid| field("owner") == controller && !alive(*pid));
    let state = if let Some(pid) = dead_pid {
        format!("stale: its process {pid} on this controller has ended; clear it with --break-lock")
    } else if expires <= now {
        "stale: it expired; clear it with --break-lock".to_string()
    } else {
        format!(
            "it expires in {}s; wait, or clear it with --break-lock if that run is gone",
            expires - now
        )
    };
    format!(
        "host is locked by run {} of {} ({state})",
        field("run"),
        field("owner")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_commands_are_exact() {
        assert_eq!(
            acquire_command("r1", "run=r1 owner=ops@ctl expires=10 pid=7", false),
            "d=$HOME/.drover; f=$d/lock; [ -d \"$d\" ] || mkdir -p \"$d\" || exit 4; l=; { IFS= read -r l < \"$f\"; } 2>/dev/null; case $l in 'run=r1 '*) rm -f \"$f\";; esac; set -C; if printf '%s\\n' 'run=r1 owner=ops@ctl expires=10 pid=7' 2>/dev/null > \"$f\"; then echo acquired; elif [ -s \"$f\" ]; then IFS= read -r l < \"$f\"; printf '%s\\n' \"$l\"; exit 3; elif printf '%s\\n' 'run=r1 owner=ops@ctl expires=10 pid=7' > \"$f\"; then echo acquired; else exit 4; fi"
        );
        assert!(acquire_command("r1", "x", true).contains("|| exit 4; rm -f \"$f\"; set -C; if "));
        assert_eq!(
            release_command("r1"),
            "f=$HOME/.drover/lock; l=; { IFS= read -r l < \"$f\"; } 2>/dev/null; case $l in 'run=r1 '*) rm -f \"$f\";; esac"
        );
    }

    /// Runs a lock command under a real shell with `home` as HOME: its exit code and stdout.
    fn run(shell: &str, home: &std::path::Path, script: &str) -> (i32, String) {
        let (code, stdout, _) = run_all(shell, home, script);
        (code, stdout)
    }

    /// [`run`], with stderr.
    fn run_all(shell: &str, home: &std::path::Path, script: &str) -> (i32, String, String) {
        let out = std::process::Command::new(shell)
            .args(["-c", script])
            .env("HOME", home)
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    #[test]
    fn locks_are_taken_refused_taken_over_and_released_by_their_run_only() {
        for shell in ["sh", "bash"] {
            let home = tempfile::tempdir().unwrap();
            let file = home.path().join(".drover/lock");
            let r1 = lock_line("r1", "ops@ctl", 10, 7);
            assert_eq!(
                run(shell, home.path(), &acquire_command("r1", &r1, false)),
                (0, "acquired\n".into())
            );
            let r2 = lock_line("r2", "ops@ctl", 10, 8);
            assert_eq!(
                run(shell, home.path(), &acquire_command("r2", &r2, false)),
                (3, format!("{r1}\n"))
            );
            assert_eq!(run(shell, home.path(), &release_command("r2")).0, 0);
            assert!(file.exists(), "{shell}: another run's unlock left it");
            // A run resumed after its controller died takes its own lock over.
            let again = lock_line("r1", "ops@ctl", 20, 9);
            assert_eq!(
                run(shell, home.path(), &acquire_command("r1", &again, false)).0,
                0
            );
            assert_eq!(
                std::fs::read_to_string(&file).unwrap(),
                format!("{again}\n")
            );
            assert_eq!(
                run(shell, home.path(), &acquire_command("r2", &r2, true)).0,
                0
            );
            assert_eq!(run(shell, home.path(), &release_command("r1")).0, 0);
            assert!(
                file.exists(),
                "{shell}: a broken lock's old run released the new one"
            );
            assert_eq!(run(shell, home.path(), &release_command("r2")).0, 0);
            assert!(!file.exists(), "{shell}");
            assert_eq!(run(shell, home.path(), &release_command("r2")).0, 0);
            // A HOME the lock cannot be made in is not "locked by another run".
            let not_a_dir = home.path().join("file");
            std::fs::write(&not_a_dir, "").unwrap();
            assert_eq!(
                run(shell, &not_a_dir, &acquire_command("r1", &r1, false)).0,
                4
            );
            // A lock file that says nothing cannot be taken either, and the shell says why.
            std::fs::write(&file, "").unwrap();
            let (code, stdout, stderr) =
                run_all(shell, home.path(), &acquire_command("r1", &r1, false));
            assert_eq!((code, stdout.as_str()), (4, ""), "{shell}");
            assert!(stderr.contains("lock"), "{shell}: {stderr}");
            assert_eq!(std::fs::read_to_string(&file).unwrap(), "");
        }
    }

    #[test]
    fn holders_are_described() {
        let line = lock_line("r9", "ops@ctl", 100, 4242);
        let alive = |_| true;
        assert_eq!(
            describe_holder(&line, 40, "ops@ctl", alive),
            "host is locked by run r9 of ops@ctl (it expires in 60s; wait, or clear it with --break-lock if that run is gone)"
        );
        assert!(describe_holder(&line, 100, "ops@ctl", alive).contains("stale"));
        assert_eq!(
            describe_holder(&line, 40, "ops@ctl", |_| false),
            "host is locked by run r9 of ops@ctl (stale: its process 4242 on this controller has ended; clear it with --break-lock)"
        );
        // Another controller's process cannot be looked at from here.
        assert!(describe_holder(&line, 40, "ops@other", |_| false).contains("expires in 60s"));
    }
}
