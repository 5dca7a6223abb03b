//! One module per subcommand.

pub mod compose;
pub mod doc;
mod host_template;
pub mod impact;
pub mod inventory;
pub mod push;
pub mod render;
pub mod rollcall;
pub mod run;
pub mod runs;

use anyhow::anyhow;
use drover_inventory::Inventory;

use crate::args::InventorySource;
use crate::exit::{Failure, bad_input};
pub use host_template::HostTemplates;

/// Loads the inventory sources; any problem is bad input.
pub fn load_inventory(source: &InventorySource) -> Result<Inventory, Failure> {
    inventory_from(&source.inventory)
}

/// The inventory from `-i` (or the configuration's): none given is an error that says where one
/// can come from.
pub fn inventory_from(paths: &[std::path::PathBuf]) -> Result<Inventory, Failure> {
    if paths.is_empty() {
        return Err(bad_input(anyhow!(
            "no inventory: give -i INVENTORY, or set `inventory =` under [defaults] in ansible.cfg (or ANSIBLE_INVENTORY)"
        )));
    }
    Inventory::load(paths).map_err(bad_input)
}

/// `-e key=value`, `-e '{"json": 1}'` and `-e @vars.yml`, later ones winning.
pub fn extra_vars(items: &[String]) -> Result<drover_roles::Vars, Failure> {
    let mut vars = drover_roles::Vars::new();
    for item in items {
        if let Some(file) = item.strip_prefix('@') {
            let text =
                std::fs::read_to_string(file).map_err(|e| bad_input(anyhow!("-e @{file}: {e}")))?;
            let doc =
                drover_yaml::parse(&text).map_err(|e| bad_input(anyhow!("-e @{file}:{e}")))?;
            match doc.map(|d| d.to_json()) {
                Some(serde_json::Value::Object(map)) => vars.extend(map),
                None => {}
                Some(_) => {
                    return Err(bad_input(anyhow!(
                        "-e @{file}: expected a mapping of variables"
                    )));
                }
            }
        } else if item.trim_start().starts_with('{') {
            let map: drover_roles::Vars = serde_json::from_str(item)
                .map_err(|e| bad_input(anyhow!("-e: invalid JSON object: {e}")))?;
            vars.extend(map);
        } else {
            for word in shlex_words(item)? {
                let (k, v) = word
                    .split_once('=')
                    .ok_or_else(|| bad_input(anyhow!("-e: expected key=value, found `{word}`")))?;
                vars.insert(k.to_string(), serde_json::Value::String(v.to_string()));
            }
        }
    }
    Ok(vars)
}

/// `-e` words split as Ansible splits them (Python's shlex).
fn shlex_words(text: &str) -> Result<Vec<String>, Failure> {
    drover_ssh::shell::split_words(text).map_err(|e| bad_input(anyhow!("-e: {e} in `{text}`")))
}
