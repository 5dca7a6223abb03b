//! `drover inventory`: the inventory as Ansible sees it.

use anyhow::anyhow;

use crate::args::InventoryArgs;
use crate::exit::{Failure, bad_input};
use crate::ui;

/// Prints the `--list` JSON, a `--graph`, or one `--host`'s variables.
pub fn run(args: &InventoryArgs) -> Result<(), Failure> {
    let inv = super::load_inventory(&args.source)?;
    if args.list {
        ui::print_json_like_ansible(&inv.to_list_json());
    } else if let Some(host) = &args.host {
        if inv.host(host).is_none() {
            return Err(bad_input(anyhow!("no host `{host}` in the inventory")));
        }
        ui::print_json_like_ansible(&serde_json::Value::Object(inv.host_vars(host)));
    } else {
        let group = args.graph.as_deref().unwrap_or("all");
        let graph = inv
            .to_graph(group)
            .ok_or_else(|| bad_input(anyhow!("no group `{group}` in the inventory")))?;
        print!("{graph}");
    }
    Ok(())
}
