//! Ad-hoc commands (`drover run`): one command on many hosts, at most `forks` at once.

use std::time::{Duration, Instant};

use drover_ssh::{ExitStatus, Output, SshError};
use futures::StreamExt;
use tokio::sync::mpsc::UnboundedSender;

use crate::connection::{ConnectionSettings, HostConnection, Transport};
use crate::event::{Event, HostResult, Outcome, Phases};
use crate::output::{HostOutput, OutputPolicy};

/// What to run where.
#[derive(Debug, Clone)]
pub struct AdhocRequest {
    /// The shell command line.
    pub command: String,
    /// Per-command timeout.
    pub timeout: Option<Duration>,
    /// Hosts worked on at once; connection setup is bounded by it too.
    pub forks: usize,
    /// What to keep of each host's output.
    pub output: OutputPolicy,
}

/// Runs the command on every host. Each result is sent, as the host finishes, in an
/// [`Event::HostDone`] and not kept: a consumer that prints or streams it holds no host's output
/// longer than that. A closed receiver is not an error.
pub async fn run_adhoc(
    hosts: Vec<HostConnection>,
    request: &AdhocRequest,
    settings: &ConnectionSettings,
    events: &UnboundedSender<Event>,
) {
    futures::stream::iter(hosts)
        .map(|host| run_one(host, request, settings, events))
        .buffer_unordered(request.forks.max(1))
        .for_each(|()| async {})
        .await;
}

async fn run_one(
    host: HostConnection,
    request: &AdhocRequest,
    settings: &ConnectionSettings,
    events: &UnboundedSender<Event>,
) {
    let _ = events.send(Event::HostStarted {
        host: host.name.clone(),
    });
    let start = Instant::now();
    let (outcome, timings) = match Transport::open(&host, settings).await {
        Err(e) => (Outcome::Unreachable { msg: e.to_string() }, None),
        Ok(transport) => {
            let exec_start = Instant::now();
            let result = exec(&transport, &host, request).await;
            let phases = Phases {
                setup: transport.timings(),
                exec: exec_start.elapsed(),
            };
            transport.close().await;
            (outcome_of(result), Some(phases))
        }
    };
    let result = HostResult {
        host: host.name,
        outcome,
        duration: start.elapsed(),
        timings,
    };
    let _ = events.send(Event::HostDone(result));
}

/// Runs the request's command, keeping its output as the request's policy says.
async fn exec(
    transport: &Transport,
    host: &HostConnection,
    request: &AdhocRequest,
) -> Result<Output, SshError> {
    let mut out = HostOutput::open(&host.name, &request.output).map_err(SshError::Output)?;
    let status = transport
        .exec_into(
            &request.command,
            b"",
            request.timeout,
            host.sudo.as_ref(),
            &mut out,
        )
        .await?;
    out.finish(status).map_err(SshError::Output)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Classifies a command's end as Ansible does: ran and passed, ran and failed, or never ran.
fn outcome_of(result: Result<Output, SshError>) -> Outcome {
    match result {
        Ok(out) => match out.status {
            ExitStatus::Code(0) => Outcome::Ok {
                rc: 0,
                stdout: text(&out.stdout),
                stderr: text(&out.stderr),
            },
            ref status => Outcome::Failed {
                rc: match status {
                    ExitStatus::Code(c) => Some(*c),
                    _ => None,
                },
                msg: match status {
                    ExitStatus::Code(c) => format!("non-zero return code {c}"),
                    ExitStatus::Signal(s) => format!("killed by signal {s}"),
                    ExitStatus::Unknown => "the connection closed before the command exited".into(),
                },
                stdout: text(&out.stdout),
                stderr: text(&out.stderr),
            },
        },
        Err(e) if e.is_unreachable() => Outcome::Unreachable { msg: e.to_string() },
        Err(e) => Outcome::Failed {
            rc: None,
            stdout: String::new(),
            stderr: String::new(),
            msg: e.to_string(),
        },
    }
}
