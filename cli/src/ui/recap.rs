//! The recap at the end of a run: counts, and which hosts did not succeed and why.

use std::time::Duration;

use console::style;
use drover_rollout::{HostResult, Outcome};
use serde::Serialize;

use crate::exit::Code;

/// Counts of outcomes, and the hosts that did not succeed.
#[derive(Debug, Default, Serialize)]
pub struct Recap {
    /// Hosts whose command exited 0.
    pub ok: usize,
    /// Hosts whose command failed or timed out.
    pub failed: usize,
    /// Hosts that could not be reached or authenticated.
    pub unreachable: usize,
    #[serde(skip)]
    problems: Vec<(String, &'static str, String)>,
}

impl Recap {
    /// Counts one finished host.
    pub fn add(&mut self, r: &HostResult) {
        match &r.outcome {
            Outcome::Ok { .. } => self.ok += 1,
            Outcome::Failed { msg, .. } => {
                self.failed += 1;
                self.problems.push((r.host.clone(), "failed", msg.clone()));
            }
            Outcome::Unreachable { msg } => {
                self.unreachable += 1;
                self.problems
                    .push((r.host.clone(), "unreachable", msg.clone()));
            }
        }
    }

    /// The recap: a line of counts, then each host that did not succeed and why.
    pub fn text(&self, elapsed: Duration) -> String {
        let total = self.ok + self.failed + self.unreachable;
        let hosts = if total == 1 { "host" } else { "hosts" };
        let mut text = format!(
            "\n{}  ok={}  failed={}  unreachable={}  ({total} {hosts} in {:.2}s)",
            style("RECAP").bold(),
            style(self.ok).green(),
            if self.failed > 0 {
                style(self.failed).red()
            } else {
                style(self.failed)
            },
            if self.unreachable > 0 {
                style(self.unreachable).red()
            } else {
                style(self.unreachable)
            },
            elapsed.as_secs_f64()
        );
        for (host, kind, msg) in &self.problems {
            text.push_str(&format!("\n  {kind:<11} {host}: {msg}"));
        }
        text
    }

    /// Failures outrank unreachable hosts, as in Ansible.
    pub fn exit_code(&self) -> Code {
        if self.failed > 0 {
            Code::HostsFailed
        } else if self.unreachable > 0 {
            Code::HostsUnreachable
        } else {
            Code::Ok
        }
    }
}
