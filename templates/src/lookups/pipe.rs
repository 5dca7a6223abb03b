//! `lookup('pipe', COMMAND)`: a command's output on the controller, as Ansible's pipe lookup runs it
//! (through `sh -c`, in the playbook's folder), with a deadline and a bound on what it reads.

use std::process::Command;
use std::time::Duration;

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
    let (status, out) = drover_shell::run_local(
        Command::new("sh").arg("-c").arg(command).current_dir(&dir),
        DEADLINE,
        MAX_OUTPUT,
    )
    .map_err(|e| invalid(format!("lookup('pipe'): `{command}`: {e}")))?;
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
