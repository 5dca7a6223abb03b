//! What the executor reports as it works. The UI and the journal consume these; nothing else prints.

use std::time::Duration;

use serde::Serialize;

/// The end of one host's work.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Outcome {
    /// The command ran and exited 0.
    Ok {
        /// Exit code (0).
        rc: u32,
        /// Standard output.
        stdout: String,
        /// Standard error.
        stderr: String,
    },
    /// The command ran and failed: non-zero exit, killed, or timed out.
    Failed {
        /// Exit code, if it exited.
        rc: Option<u32>,
        /// Standard output.
        stdout: String,
        /// Standard error.
        stderr: String,
        /// Why, in words.
        msg: String,
    },
    /// No command ran: the host could not be reached or authenticated.
    Unreachable {
        /// Why, in words.
        msg: String,
    },
}

/// One host's result.
#[derive(Debug, Clone, Serialize)]
pub struct HostResult {
    /// Inventory name.
    pub host: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Wall time from the start of connecting to the end of the command.
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
    /// Where that time went: connect, handshake, auth (SSH only), and the command itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings: Option<Phases>,
}

/// Where one host's time went.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Phases {
    /// Connection setup, when over SSH.
    #[serde(flatten)]
    pub setup: Option<drover_ssh::Timings>,
    /// The command, from opening its channel to its exit status and last output.
    #[serde(rename = "exec_ms", serialize_with = "drover_ssh::serialize_millis")]
    pub exec: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A step of a run, in the order it happened.
#[derive(Debug, Clone)]
pub enum Event {
    /// Work on a host began (a fork slot was free).
    HostStarted {
        /// Inventory name.
        host: String,
    },
    /// Work on a host ended.
    HostDone(HostResult),
}
