//! The test fleet: real hosts made on this machine for drover's tests, demo and benchmarks.
//!
//! Two kinds of host, for two kinds of test:
//! - [`Fleet`] (`loopback`): one OpenSSH `sshd` process per host on a loopback address, sharing this
//!   machine's filesystem, users and dpkg database. Starts in milliseconds and scales to thousands of
//!   hosts: for fan-out, templates, ad-hoc commands, SSH faults and benchmarks.
//! - [`DebianFleet`] (`debian`): one Docker container per host, from a Debian rootfs the fleet builds
//!   itself with debootstrap, each with its own hostname, address on a private Docker network, host
//!   key, users, dpkg database, /etc and apt source; optionally with systemd as PID 1 and a Docker
//!   daemon inside. For what changes a host's state: packages, users, services, reboots, Docker.

mod debian;
mod image;
mod loopback;
mod netns;

pub use debian::{Boot, DebianFleet, DebianHost, DebianOptions};
pub use image::{Flavour, Image};
pub use loopback::{Fleet, FleetHost, FleetOptions};

use std::path::{Path, PathBuf};

/// What drover needs to reach a fleet of either kind: its inventory and known_hosts, and a folder
/// to use as HOME.
pub trait Reach {
    /// The fleet's folder.
    fn dir(&self) -> &Path;
    /// An INI inventory of the fleet (group `fleet`).
    fn inventory(&self) -> PathBuf;
    /// A known_hosts file with every host's key.
    fn known_hosts(&self) -> PathBuf;
}

impl Reach for Fleet {
    fn dir(&self) -> &Path {
        Fleet::dir(self)
    }
    fn inventory(&self) -> PathBuf {
        Fleet::inventory(self)
    }
    fn known_hosts(&self) -> PathBuf {
        Fleet::known_hosts(self)
    }
}

impl Reach for DebianFleet {
    fn dir(&self) -> &Path {
        DebianFleet::dir(self)
    }
    fn inventory(&self) -> PathBuf {
        DebianFleet::inventory(self)
    }
    fn known_hosts(&self) -> PathBuf {
        DebianFleet::known_hosts(self)
    }
}
