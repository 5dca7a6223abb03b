//! `group_vars/` and `host_vars/` beside an inventory source: a file per group or host (`web.yml`,
//! `web.yaml`, `web.json` or plain `web`), or a folder of such files read in name order.

use std::fs;
use std::path::{Path, PathBuf};

use crate::Vars;
use crate::error::{InventoryError, Location};
use crate::model::Inventory;

const ENDINGS: &[&str] = &["", ".yml", ".yaml", ".json"];

/// Merges the vars files found under `dir` into the inventory's groups and hosts.
pub fn apply(inv: &mut Inventory, dir: &Path) -> Result<(), InventoryError> {
    for group in inv.groups.values_mut() {
        group
            .file_vars
            .push(read_all(&dir.join("group_vars"), &group.name)?);
    }
    for host in inv.hosts.values_mut() {
        host.file_vars
            .push(read_all(&dir.join("host_vars"), &host.name)?);
    }
    Ok(())
}

fn read_all(base: &Path, name: &str) -> Result<Vars, InventoryError> {
    let mut vars = Vars::new();
    for file in vars_files(base, name)? {
        vars.extend(read_vars(&file)?);
    }
    Ok(vars)
}

/// The files that hold `name`'s variables under `base`, in the order they are merged.
fn vars_files(base: &Path, name: &str) -> Result<Vec<PathBuf>, InventoryError> {
    let folder = base.join(name);
    if folder.is_dir() {
        let mut out = Vec::new();
        walk(&folder, &mut out)?;
        out.sort();
        return Ok(out);
    }
    Ok(ENDINGS
        .iter()
        .map(|e| base.join(format!("{name}{e}")))
        .filter(|p| p.is_file())
        .collect())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InventoryError> {
    let read_err = |source| InventoryError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if ENDINGS[1..].iter().any(|e| name.ends_with(e)) || !name.contains('.') {
            out.push(path);
        }
    }
    Ok(())
}

fn read_vars(path: &Path) -> Result<Vars, InventoryError> {
    let text = crate::error::read(path)?;
    let doc = drover_yaml::parse(&text).map_err(|source| InventoryError::Yaml {
        path: path.to_path_buf(),
        source,
    })?;
    match doc.map(|d| (d.to_json(), d.mark, d.value.kind())) {
        None | Some((serde_json::Value::Null, ..)) => Ok(Vars::new()),
        Some((serde_json::Value::Object(vars), ..)) => Ok(vars),
        Some((_, mark, kind)) => Err(InventoryError::Invalid {
            at: Location {
                path: path.to_path_buf(),
                mark,
            },
            message: format!("expected a mapping of variables, found {kind}"),
        }),
    }
}
