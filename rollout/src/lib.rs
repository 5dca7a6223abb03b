//! The executor: takes hosts from the inventory, connects to at most `forks` of them at once, runs work
//! on each and reports what happened as [`Event`]s. It never prints; the CLI renders the events.

mod adhoc;
mod connection;
mod event;

pub use adhoc::{AdhocRequest, run_adhoc};
pub use connection::{Connection, ConnectionSettings, HostConnection};
pub use event::{Event, HostResult, Outcome};
