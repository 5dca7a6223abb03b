//! Ansible-compatible inventories.
//!
//! Reads the YAML and INI inventories operators already have, with `group_vars/` and `host_vars/` beside
//! them, merges variables with Ansible's precedence, selects hosts with Ansible's patterns, and prints the
//! same `--list` JSON and `--graph` tree as `ansible-inventory`. Nothing here does network I/O.

mod error;
mod export;
mod hostrange;
mod ini;
mod load;
mod model;
mod pattern;
mod pyliteral;
mod runtime;
mod vars;
mod vars_files;
mod yaml_format;

pub use error::{InventoryError, Location};
pub use model::{Group, Host, Inventory};

/// Variables as plain data: ordered, JSON-like values.
pub type Vars = serde_json::Map<String, serde_json::Value>;
