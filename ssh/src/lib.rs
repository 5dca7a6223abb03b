//! SSH transport over russh, with no agent on the hosts.
//!
//! One [`Session`] per host carries every command of a run. Host keys are checked strictly against
//! known_hosts (unknown keys refused unless the operator opts in, changed keys always refused), keys are
//! loaded once per run into a [`KeyStore`], and commands are built with [`shell::quote`] so that values
//! never reach a shell unquoted.

mod error;
mod exec;
mod keys;
mod known_hosts;
mod session;
/// Command lines for the remote shell (the `drover-shell` crate, here for the modules that run them).
pub use drover_shell as shell;
mod target;
mod traffic;

pub use error::SshError;
pub use exec::{Answer, Become, Collect, ExitStatus, Output, OutputSink};
pub use keys::{KeyStore, PassphrasePrompt, PassphraseSource};
pub use known_hosts::{HostKeyCheck, HostKeyPolicy, KnownHosts};
pub use session::{ClientOptions, Session, Timings, serialize_millis};
pub use target::{SshConfig, Target};
pub use traffic::{Traffic, TrafficCounts};
