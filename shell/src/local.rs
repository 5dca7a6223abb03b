//! A program run on the controller (a lookup's `pipe`, a vault password script) with a deadline and
//! a bound on the output kept: what it prints on stdout, read as it comes so that a chatty program
//! never blocks on a full pipe; killed when the deadline passes.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Why a program could not give its output.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// It could not be started.
    #[error("cannot start it: {0}")]
    Start(std::io::Error),
    /// It ran past its deadline and was killed.
    #[error("still running after {} s; killed", .0.as_secs())]
    Deadline(Duration),
    /// Waiting for it failed.
    #[error("waiting for it: {0}")]
    Wait(std::io::Error),
}

/// Runs `command` (stdin empty, stderr the controller's) and gives its exit status and at most
/// `max_output` bytes of its stdout.
pub fn run_local(
    command: &mut Command,
    deadline: Duration,
    max_output: u64,
) -> Result<(ExitStatus, Vec<u8>), LocalError> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(LocalError::Start)?;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout {
            let _ = s.take(max_output).read_to_end(&mut out);
        }
        out
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(LocalError::Deadline(deadline));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(LocalError::Wait(e)),
        }
    };
    Ok((status, reader.join().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_kept_within_its_bound_and_a_late_program_is_killed() {
        let (status, out) = run_local(
            Command::new("sh").args(["-c", "echo hello; exit 3"]),
            Duration::from_secs(10),
            1024,
        )
        .unwrap();
        assert_eq!((status.code(), out.as_slice()), (Some(3), &b"hello\n"[..]));
        let (_, out) = run_local(
            Command::new("sh").args(["-c", "head -c 100000 /dev/zero"]),
            Duration::from_secs(10),
            10,
        )
        .unwrap();
        assert_eq!(out.len(), 10);
        let late = run_local(
            Command::new("sleep").arg("5"),
            Duration::from_millis(100),
            10,
        );
        assert!(matches!(late, Err(LocalError::Deadline(_))));
    }
}
