//! Ansible's YAML dialect, with a position on every node.
//!
//! Ansible reads YAML through PyYAML, which implements YAML 1.1: `yes`/`on` are booleans, `0755` is
//! octal, `1_000` is an integer and `<<` merges mappings. Operators' inventories and playbooks depend on
//! those rules, so drover resolves plain scalars the same way. Every node keeps the line and column it
//! came from, so later stages can say exactly where a bad value is.

mod loader;
mod node;
mod scalar;

pub use loader::{LOCKED_VAULT, MAX_DEPTH, MAX_SIZE, YamlError, parse, parse_all, printable};
pub use node::{Mark, Node, Value};
pub use scalar::resolve_plain;
