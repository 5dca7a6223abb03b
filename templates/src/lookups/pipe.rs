//! `lookup('pipe', COMMAND)`: a command's output on the controller, as Ansible's pipe lookup runs it
//! (through `sh -c`, in the playbook's folder), with a deadline and a bound on what it reads.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use minijinja::Error;
use minijinja::value::Value;

use super::{Scope, invalid, search_dirs};

/// How long a pipe lookup may run: it holds up the task that renders it.
const DEADLINE: Duration = Duration::from_secs(120);

/// The most output a pipe lookup keeps.
const MAX_OUTPUT: u64 = 16 << 20;

/// Runs `command` and gives its standard output without trailing whitespace.
pub(super) fn run(command: &str, scope: &dyn Scope) -> Result<Value, Error> {
    // Ansible runs it in the playbook's folder (the last search folder), not the role's.
    let dir = search_dirs(scope).pop().unwrap_or_else(|| ".".into());
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| invalid(format!("lookup('pipe'): cannot start sh: {e}")))?;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout {
            let _ = s.take(MAX_OUTPUT).read_to_end(&mut out);
        }
        out
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(invalid(format!(
                    "lookup('pipe'): `{command}` still running after {} s",
                    DEADLINE.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(invalid(format!("lookup('pipe'): {e}"))),
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(invalid(format!(
            "lookup('pipe'): `{command}` exited with {}",
            status
                .code()
                .map_or_else(|| "a signal".into(), |c| c.to_string())
        )));
    }
    Ok(Value::from(String::from_utf8_lossy(&out).trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vars;

    #[test]
    fn output_is_kept_without_its_trailing_newlines_and_failure_is_an_error() {
        let vars = Vars::new();
        assert_eq!(
            run("echo hi; echo there", &vars).unwrap(),
            Value::from("hi\nthere")
        );
        assert!(
            run("exit 3", &vars)
                .unwrap_err()
                .to_string()
                .contains("exited with 3")
        );
    }
}
