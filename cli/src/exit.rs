//! The one place that turns how a command ended into an exit code and a message.

use std::process::ExitCode;

/// Exit codes, as documented in `drover --help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Everything succeeded.
    Ok = 0,
    /// drover itself failed (an internal error or an I/O error on the controller).
    Internal = 1,
    /// Bad input: arguments, inventory, pattern, key file. Nothing was run.
    BadInput = 2,
    /// At least one host ran the work and failed.
    HostsFailed = 3,
    /// No host failed, but at least one could not be reached or authenticated.
    HostsUnreachable = 4,
    /// A play refused to start outside its maintenance window; nothing more was touched.
    Refused = 5,
    /// The operator interrupted the run (Ctrl-C); it can be resumed.
    Interrupted = 130,
}

/// How a command ended when it did not simply succeed.
#[derive(Debug)]
pub enum Failure {
    /// The input was wrong; the message says where and what was expected.
    BadInput(anyhow::Error),
    /// The command ran; the hosts' outcomes decide the code. The UI has already said which.
    Hosts(Code),
    /// drover failed.
    Internal(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Internal(e.into())
    }
}

/// Shorthand for turning any error into bad input.
pub fn bad_input(e: impl Into<anyhow::Error>) -> Failure {
    Failure::BadInput(e.into())
}

/// Prints the error, if any, and returns the exit code. drover's errors carry their cause in their
/// own message, so only the top one is printed.
pub fn report(result: Result<(), Failure>) -> ExitCode {
    let code = match result {
        Ok(()) => Code::Ok,
        Err(Failure::Hosts(code)) => code,
        Err(Failure::BadInput(e)) => {
            eprintln!("{} {e}", console::style("error:").red().bold());
            Code::BadInput
        }
        Err(Failure::Internal(e)) => {
            eprintln!("{} {e}", console::style("drover failed:").red().bold());
            Code::Internal
        }
    };
    ExitCode::from(code as u8)
}
