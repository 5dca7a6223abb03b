//! Loading inventory sources: files, folders of files, and `host1,host2,` lists.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{InventoryError, Location};
use crate::model::Inventory;
use crate::{ini, vars_files, yaml_format};

/// File endings Ansible never reads as inventory inside an inventory folder.
const IGNORED_ENDINGS: &[&str] = &[
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];

impl Inventory {
    /// Loads one or more sources, as `-i` given several times: later sources add to earlier ones.
    ///
    /// A source is an inventory file (YAML or INI), a folder of them, or a comma-separated host list
    /// such as `web1,web2,`. `group_vars/` and `host_vars/` beside each source are read too.
    pub fn load(sources: &[impl AsRef<Path>]) -> Result<Inventory, InventoryError> {
        let mut inv = Inventory::default();
        let mut vars_dirs = Vec::new();
        for source in sources {
            let source = source.as_ref();
            if !source.exists() && source.to_string_lossy().contains(',') {
                inv.add_host_list(&source.to_string_lossy());
                continue;
            }
            if source.is_dir() {
                for file in inventory_files(source)? {
                    inv.add_file(&file)?;
                }
                vars_dirs.push(source.to_path_buf());
            } else {
                inv.add_file(source)?;
                vars_dirs.push(parent_dir(source));
            }
        }
        inv.reconcile();
        for dir in &vars_dirs {
            vars_files::apply(&mut inv, dir)?;
        }
        Ok(inv)
    }

    /// Reads inventory text whose format is known from its file name, for tests and tools.
    pub fn from_text(path: &Path, text: &str) -> Result<Inventory, InventoryError> {
        let mut inv = Inventory::default();
        inv.add_text(path, text)?;
        inv.reconcile();
        Ok(inv)
    }

    fn add_host_list(&mut self, list: &str) {
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            self.add_host(name, "ungrouped");
        }
    }

    fn add_file(&mut self, path: &Path) -> Result<(), InventoryError> {
        let text = crate::error::read(path)?;
        let known = self.hosts.len();
        self.add_text(path, &text)?;
        // As Ansible's inventory_file: the absolute path of the file that first named the host
        // (hosts are kept in the order they were first named, so the new ones come last).
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        for (_, host) in self.hosts.iter_mut().skip(known) {
            host.source = Some(absolute.clone());
        }
        Ok(())
    }

    fn add_text(&mut self, path: &Path, text: &str) -> Result<(), InventoryError> {
        let yaml = |path: &Path| {
            drover_yaml::parse(text).map_err(|source| InventoryError::Yaml {
                path: path.to_path_buf(),
                source,
            })
        };
        match path.extension().and_then(|e| e.to_str()) {
            Some("yml" | "yaml" | "json") => match yaml(path)? {
                Some(doc) => yaml_format::parse(self, path, &doc),
                None => Ok(()),
            },
            Some("ini") => ini::parse(self, path, text),
            // Like Ansible, a file with another name is YAML if it reads as a YAML mapping, else INI.
            _ => match yaml(path) {
                Ok(Some(doc)) if doc.as_map().is_some() => yaml_format::parse(self, path, &doc),
                _ => ini::parse(self, path, text),
            },
        }
    }
}

/// How deep inventory subfolders are read: a link loop must not recurse for ever.
const MAX_FOLDER_DEPTH: usize = 16;

fn collect_files(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> Result<(), InventoryError> {
    let read_err = |source| InventoryError::Read {
        path: dir.to_path_buf(),
        source,
    };
    if depth > MAX_FOLDER_DEPTH {
        return Err(InventoryError::Invalid {
            at: Location::new(dir, 1, 1),
            message: format!(
                "inventory folders nest more than {MAX_FOLDER_DEPTH} deep (a link loop?)"
            ),
        });
    }
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_err)? {
        entries.push(entry.map_err(read_err)?.path());
    }
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let skip = name.starts_with('.')
            || name == "group_vars"
            || name == "host_vars"
            || IGNORED_ENDINGS.iter().any(|e| name.ends_with(e));
        if skip {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, depth + 1, files)?;
        } else if path.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The inventory files of a folder and its subfolders (as Ansible reads them: each folder's entries
/// in name order, a subfolder where its name falls), without vars folders, hidden entries or
/// ignored endings.
fn inventory_files(dir: &Path) -> Result<Vec<PathBuf>, InventoryError> {
    let mut files = Vec::new();
    collect_files(dir, 0, &mut files)?;
    if files.is_empty() {
        return Err(InventoryError::Invalid {
            at: Location::new(dir, 1, 1),
            message: "this folder holds no inventory file".into(),
        });
    }
    Ok(files)
}
