//! Playbooks and roles in Ansible's layout and spelling, read into plain validated types.
//!
//! A playbook is read once, with every role, task file and handler it names, so that a misspelled key,
//! an unknown module, a bad parameter, a missing role, a missing template or a template that does not
//! parse is reported with its
//! file:line:col before any host is touched. Values stay unrendered here: templating happens per host.

mod error;
mod gather_subset;
pub mod module;
pub mod module_defaults;
mod play;
pub mod role;
mod source;
mod syntax;
mod task;
mod window;

pub use error::{At, PlaybookError};
pub use gather_subset::{Collector, Subsets};
pub use module::{CheckMode, MODULES, Module, ModuleKind, Param, ParamType, Spec};
pub use play::{
    Batches, HostOrder, ImpactGate, Play, Playbook, RollcallSpec, VarPrompt, deferred_includes,
    handler_answers, unknown_notifies,
};
pub use role::Role;
pub use task::{
    Block, LoopSpec, Number, Task, TaskBody, TemplatedKeyword, absolute_dir, env_name,
    resolve as resolve_file, resolve_dir,
};
pub use window::Window;

/// Variables as plain data.
pub type Vars = serde_json::Map<String, serde_json::Value>;

/// Ansible's `boolean()` on text, strictly: `yes`, `on`, `1`, `true`, `y`, `t` (any case) are true,
/// `no`, `off`, `0`, `false`, `n`, `f` and nothing are false; anything else is not a boolean.
pub fn truth(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "on" | "1" | "true" | "y" | "t" => Some(true),
        "no" | "off" | "0" | "false" | "n" | "f" | "" => Some(false),
        _ => None,
    }
}
