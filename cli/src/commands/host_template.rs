//! Template files rendered for inventory hosts as the `template` module renders them, for
//! `drover render`, `drover compose` and `drover impact --compose`.

use std::path::Path;

use anyhow::anyhow;
use drover_inventory::Inventory;
use drover_templates::{Engine, Vars, add_template_vars};

use crate::exit::{Failure, bad_input};

/// An engine with the inventory's `groups` and `hostvars`, and the `-e` variables.
pub struct HostTemplates<'a> {
    inventory: &'a Inventory,
    engine: Engine,
    extra: Vars,
}

impl<'a> HostTemplates<'a> {
    /// Templates for `inventory`'s hosts, with `extra` (`-e`) over every host's variables.
    pub fn new(inventory: &'a Inventory, extra: Vars) -> HostTemplates<'a> {
        let mut engine = Engine::new();
        let live = drover_templates::LiveVars::default();
        live.set_extra(&extra);
        engine.add_inventory(&inventory.hostvars_var(), &inventory.groups_var(), live);
        HostTemplates {
            inventory,
            engine,
            extra,
        }
    }

    /// `text`, read from `path`, rendered for `host` (to `dest`, when it is written somewhere):
    /// variables whose values are templates resolved, and the template's own variables
    /// (`ansible_managed`, `template_path`, ...) beside the host's.
    pub fn render(
        &self,
        host: &str,
        path: &Path,
        text: &str,
        dest: Option<&Path>,
    ) -> Result<String, Failure> {
        let mut vars = self.inventory.template_vars(host);
        vars.extend(self.extra.clone());
        let name = path.display().to_string();
        let dest = dest.map(|d| d.display().to_string());
        add_template_vars(&mut vars, &name, path, dest.as_deref());
        let unsettled = self.engine.settle_vars(&mut vars);
        self.engine
            .render_file(&name, text, &vars)
            .map_err(|e| bad_input(anyhow!("host {host}: {}", unsettled.explain(e))))
    }
}
