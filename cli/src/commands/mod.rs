//! One module per subcommand.

pub mod inventory;
pub mod push;
pub mod run;

use drover_inventory::Inventory;

use crate::args::InventorySource;
use crate::exit::{Failure, bad_input};

/// Loads the inventory sources; any problem is bad input.
pub fn load_inventory(source: &InventorySource) -> Result<Inventory, Failure> {
    Inventory::load(&source.inventory).map_err(bad_input)
}
