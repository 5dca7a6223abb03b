//! Upgrades and their consequences: host facts gathered read-only (apt's plan, what the candidate
//! packages' maintainer scripts restart, reboot state, Docker and its containers), and the prediction of
//! what an upgrade will restart and which containers will not come back. Commands are built here as
//! exact strings and their output parsed here; running them is the executor's job.

pub mod apt_plan;
mod debversion;
pub mod docker;
pub mod facts;
pub mod fate;
pub mod known;
pub mod maintscripts;
pub mod policy;
pub mod predict;
pub mod rollcall;

pub use fate::{Event, Fate, Outcome};
pub use predict::{ContainerFate, HostFacts, Prediction, Source, UnitRestart, predict};
