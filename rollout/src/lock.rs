//! Host locks: a file on each host that says which run holds it, so two runs never touch one host at
//! once. It is created atomically with the shell's noclobber (`set -C`) and removed when the run
//! leaves the host; a lock left behind (say, by a killed controller) expires, and `--break-lock` clears it.

use drover_ssh::shell::quote;

/// Where the lock lives on a host.
pub const LOCK_PATH: &str = "$HOME/.drover/lock";

/// What goes in the lock file: one line, `run=ID owner=USER@HOST expires=EPOCH`.
pub fn lock_line(run_id: &str, owner: &str, expires: u64) -> String {
    format!("run={run_id} owner={owner} expires={expires}")
}

/// Takes the lock, or prints the holder's line and exits 3. A lock this same run left behind (a
/// killed controller, then `--resume`) is taken over. With `break_lock`, any lock is replaced.
pub fn acquire_command(run_id: &str, line: &str, break_lock: bool) -> String {
    let clear = if break_lock {
        "rm -f \"$f\"; ".to_string()
    } else {
        format!(
            "grep -q {} \"$f\" 2>/dev/null && rm -f \"$f\"; ",
            quote(&format!("^run={run_id} "))
        )
    };
    format!(
        "f={LOCK_PATH}; mkdir -p \"$(dirname \"$f\")\" && {clear}if (set -C; printf '%s\\n' {} > \"$f\") 2>/dev/null; then echo acquired; else cat \"$f\"; exit 3; fi",
        quote(line)
    )
}

/// Removes the lock if this run holds it.
pub fn release_command(run_id: &str) -> String {
    format!(
        "f={LOCK_PATH}; if grep -q {} \"$f\" 2>/dev/null; then rm -f \"$f\"; fi",
        quote(&format!("^run={run_id} "))
    )
}

/// Explains a lock another run holds, from its line and the current time.
pub fn describe_holder(line: &str, now: u64) -> String {
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .unwrap_or("?")
            .to_string()
    };
    let expires: u64 = field("expires").parse().unwrap_or(0);
    let state = if expires <= now {
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
            acquire_command("r1", "run=r1 owner=ops@ctl expires=10", false),
            "f=$HOME/.drover/lock; mkdir -p \"$(dirname \"$f\")\" && grep -q '^run=r1 ' \"$f\" 2>/dev/null && rm -f \"$f\"; if (set -C; printf '%s\\n' 'run=r1 owner=ops@ctl expires=10' > \"$f\") 2>/dev/null; then echo acquired; else cat \"$f\"; exit 3; fi"
        );
        assert!(acquire_command("r1", "x", true).contains("&& rm -f \"$f\"; if (set -C;"));
        assert_eq!(
            release_command("r1"),
            "f=$HOME/.drover/lock; if grep -q '^run=r1 ' \"$f\" 2>/dev/null; then rm -f \"$f\"; fi"
        );
    }

    #[test]
    fn holders_are_described() {
        let line = lock_line("r9", "ops@ctl", 100);
        assert_eq!(
            describe_holder(&line, 40),
            "host is locked by run r9 of ops@ctl (it expires in 60s; wait, or clear it with --break-lock if that run is gone)"
        );
        assert!(describe_holder(&line, 100).contains("stale"));
    }
}
