//! What a connection costs: session channels opened, exec requests, and the bytes of commands and
//! their input sent and of output received. Counted by the session as it works; `drover push
//! --json` reports them per host, and the benchmark per task, so round trips can be seen and
//! removed (each channel costs one round trip to open and one for its command to end).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Counters one or more sessions to a host share (a reconnection after a reboot adds to them).
#[derive(Debug, Default)]
pub struct Traffic {
    channels: AtomicU64,
    execs: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
}

/// The counters' values at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficCounts {
    /// Session channels opened (commands, kills, probes of a lost connection).
    pub channels: u64,
    /// Exec requests sent.
    pub execs: u64,
    /// Bytes of command lines and their standard input.
    pub bytes_sent: u64,
    /// Bytes of output (standard output and error).
    pub bytes_received: u64,
}

impl Traffic {
    /// The counts so far.
    pub fn counts(&self) -> TrafficCounts {
        TrafficCounts {
            channels: self.channels.load(Ordering::Relaxed),
            execs: self.execs.load(Ordering::Relaxed),
            bytes_sent: self.sent.load(Ordering::Relaxed),
            bytes_received: self.received.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn channel(&self) {
        self.channels.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn exec(&self, line: usize) {
        self.execs.fetch_add(1, Ordering::Relaxed);
        self.sent(line);
    }

    pub(crate) fn sent(&self, n: usize) {
        self.sent.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn received(&self, n: usize) {
        self.received.fetch_add(n as u64, Ordering::Relaxed);
    }
}
