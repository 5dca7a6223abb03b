//! The executor: takes hosts from the inventory, connects to at most `forks` of them at once, runs work
//! on each and reports what happened as [`Event`]s. It never prints; the CLI renders the events.

mod adhoc;
mod connection;
mod event;
mod facts;
mod fan_out;
mod impact;
mod journal;
mod listing;
mod local_files;
mod lock;
mod modules;
mod output;
mod push;
mod push_event;
mod rollcall;
mod run_record;

pub use adhoc::{AdhocRequest, run_adhoc};
pub use connection::{Connection, ConnectionSettings, HostConnection, Transport};
pub use event::{Event, HostResult, Outcome};
pub use fan_out::over_connections;
pub use impact::{HostImpact, impact};
pub use journal::{Journal, RunSpec, RunState, RunStatus, is_live, new_run_id, run_dir};
pub use listing::{Listing, list, start_play};
pub use local_files::{host_file_name, join_inside, private_dir, write_private};
pub use modules::{MAX_WAIT, Operator, Prompt, seconds};
pub use output::OutputPolicy;
pub use push::{FailBudget, PushOptions, PushSummary, check_patterns, push};
pub use push_event::{HostEnd, HostStats, PushEvent, TaskOutput, TaskStatus};
pub use rollcall::{
    ContainerResult, RollcallOptions, RollcallReport, describe as describe_verdict, snapshot,
    verify,
};
pub use run_record::{Condition, HostVerdict, PlayEnd, RecordError, RunRecord, Stamped, Tally};
