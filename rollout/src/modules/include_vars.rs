//! include_vars: variables from a YAML (or JSON) file, or every such file of a folder, read on the
//! controller when the task runs (so the file name may be a template: `{{ ansible_os_family }}.yml`)
//! and set for the host's later tasks, as `set_fact` sets them. Files are found in the role's
//! `vars/`, then beside the playbook.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use super::{Args, ModuleCtx, Outcome};

/// The variables of one file: a mapping (an empty file has none).
fn load(path: &Path) -> Result<Map<String, Json>, String> {
    let text =
        drover_vault::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match drover_yaml::parse(&text).map_err(|e| format!("{}:{e}", path.display()))? {
        None => Ok(Map::new()),
        Some(doc) => match doc.to_json() {
            Json::Object(map) => Ok(map),
            Json::Null => Ok(Map::new()),
            _ => Err(format!(
                "{}: expected a mapping of variables",
                path.display()
            )),
        },
    }
}

/// A folder named `name`, in `vars/` of a search folder or in it.
fn find_dir(name: &str, search: &[PathBuf]) -> Option<PathBuf> {
    let path = Path::new(name);
    if path.is_absolute() {
        return path.is_dir().then(|| path.to_path_buf());
    }
    search
        .iter()
        .flat_map(|d| [d.join("vars").join(name), d.join(name)])
        .find(|p| p.is_dir())
}

/// The variables the task asks for: `file` (or the free form), or every `.yml`, `.yaml` and
/// `.json` file of `dir` in name order, later files winning.
pub fn read(args: &Args, search: &[PathBuf]) -> Result<Map<String, Json>, String> {
    let file = args.str("file").or_else(|| args.str("_raw_params"));
    match (file, args.str("dir")) {
        (Some(_), Some(_)) => Err("include_vars takes `file` or `dir`, not both".into()),
        (None, None) => Err("include_vars needs a file (`file:` or the free form) or `dir`".into()),
        (Some(file), None) => {
            let path = drover_roles::resolve_file(&file, "vars", search).ok_or_else(|| {
                format!(
                    "include_vars: `{file}` not found in vars/ of the role or beside the playbook"
                )
            })?;
            load(&path)
        }
        (None, Some(dir)) => {
            let folder = find_dir(&dir, search).ok_or_else(|| {
                format!("include_vars: folder `{dir}` not found in vars/ of the role or beside the playbook")
            })?;
            let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
                .map_err(|e| format!("{}: {e}", folder.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .is_some_and(|e| e == "yml" || e == "yaml" || e == "json")
                })
                .collect();
            files.sort();
            let mut vars = Map::new();
            for path in files {
                vars.extend(load(&path)?);
            }
            Ok(vars)
        }
    }
}

pub fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let vars = match read(args, ctx.search) {
        Ok(v) => v,
        Err(e) => return Outcome::bad_input(e),
    };
    let facts = match args.str("name") {
        Some(name) => Map::from_iter([(name, Json::Object(vars.clone()))]),
        None => vars.clone(),
    };
    let mut out = Outcome {
        facts,
        ..Outcome::default()
    };
    out.result
        .insert("ansible_facts".into(), Json::Object(vars));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_file_or_a_folder_of_files_in_name_order() {
        let root = std::env::temp_dir().join(format!("drover-include-vars-{}", std::process::id()));
        std::fs::create_dir_all(root.join("vars/env")).unwrap();
        std::fs::write(root.join("vars/Debian.yml"), "pkg: apt\nports: [80, 443]\n").unwrap();
        std::fs::write(root.join("vars/env/10-base.yml"), "a: 1\nb: 1\n").unwrap();
        std::fs::write(root.join("vars/env/20-prod.yaml"), "b: 2\n").unwrap();
        std::fs::write(root.join("vars/env/notes.txt"), "ignored: true\n").unwrap();
        std::fs::write(root.join("vars/list.yml"), "- 1\n").unwrap();
        let search = [root.clone()];
        let args = |v: serde_json::Value| Args(v.as_object().unwrap().clone());
        assert_eq!(
            Json::Object(read(&args(json!({"_raw_params": "Debian.yml"})), &search).unwrap()),
            json!({"pkg": "apt", "ports": [80, 443]})
        );
        assert_eq!(
            Json::Object(read(&args(json!({"dir": "env"})), &search).unwrap()),
            json!({"a": 1, "b": 2})
        );
        assert!(
            read(&args(json!({"file": "list.yml"})), &search)
                .unwrap_err()
                .contains("expected a mapping")
        );
        assert!(
            read(&args(json!({"file": "RedHat.yml"})), &search)
                .unwrap_err()
                .contains("not found")
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
