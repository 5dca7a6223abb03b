//! Roles: `tasks/main.yml`, `handlers/main.yml`, `defaults/main.yml`, `vars/main.yml`, `templates/`
//! and `files/`, found on the roles path.

use std::path::{Path, PathBuf};

use drover_yaml::Node;

use crate::Vars;
use crate::error::{At, PlaybookError};
use crate::source::Source;
use crate::task::{Task, parse_tasks};

/// A role, loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    /// Its name.
    pub name: String,
    /// Its folder (`role_path`).
    pub path: PathBuf,
    /// `tasks/main.yml`.
    pub tasks: Vec<Task>,
    /// `handlers/main.yml`.
    pub handlers: Vec<Task>,
    /// `defaults/main.yml`: the lowest-precedence variables.
    pub defaults: Vars,
    /// `vars/main.yml` and the role's parameters in the play.
    pub vars: Vars,
    /// `meta/main.yml` `dependencies:`, loaded, in order: they run before the role.
    pub dependencies: Vec<Role>,
    /// `meta/main.yml` `allow_duplicates:`: run again where an equal role already ran.
    pub allow_duplicates: bool,
    /// It runs because another role depends on it (`ansible_dependent_role_names`).
    pub is_dependency: bool,
}

/// The name of the folder of installed collections, as a search folder ends with it.
pub const COLLECTIONS: &str = "ansible_collections";

/// Whether search folder `dir` holds collections (`.../ansible_collections`) rather than roles.
fn holds_collections(dir: &Path) -> bool {
    dir.file_name().is_some_and(|n| n == COLLECTIONS)
}

/// The namespace, collection and role of a role named with its collection
/// (`devsec.hardening.os_hardening`).
fn collection_role(name: &str) -> Option<[&str; 3]> {
    let parts: Vec<&str> = name.split('.').collect();
    <[&str; 3]>::try_from(parts).ok()
}

/// Role `name` in the search folder `dir`: `dir/NAME` in a roles folder, or for a role named with
/// its collection `dir/NS/COLL/roles/ROLE` in a folder of collections, where `ansible-galaxy
/// collection install` puts it.
fn role_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    let path = if holds_collections(dir) {
        let [namespace, collection, role] = collection_role(name)?;
        dir.join(namespace)
            .join(collection)
            .join("roles")
            .join(role)
    } else {
        dir.join(name)
    };
    path.is_dir().then_some(path)
}

/// The search folders a role of this name could have been in, as an error lists them.
fn searched(roles_path: &[PathBuf], name: &str) -> String {
    (roles_path.iter())
        .filter(|d| !holds_collections(d) || collection_role(name).is_some())
        .map(|d| crate::error::folder(d))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Loads role `name`, named at `at`, from the first folder of `roles_path` that has it, with its
/// dependencies; with `tasks_from` (`include_role:`), the tasks of `tasks/<tasks_from>` instead of
/// `tasks/main.yml`. `depth` bounds roles that include or depend on each other.
pub fn load_with(
    name: &str,
    at: At,
    roles_path: &[PathBuf],
    playbook_dir: &Path,
    tasks_from: Option<&str>,
    depth: usize,
) -> Result<Role, PlaybookError> {
    let path = roles_path
        .iter()
        .find_map(|d| role_dir(d, name))
        .ok_or_else(|| PlaybookError::MissingRole {
            at: at.clone(),
            name: name.to_string(),
            looked: searched(roles_path, name),
        })?;
    let search = vec![path.clone(), playbook_dir.to_path_buf()];
    let tasks = match tasks_from {
        None => main_file(&path.join("tasks")),
        Some(stem) => Some(named_file(&path.join("tasks"), stem).ok_or_else(|| {
            PlaybookError::MissingFile {
                at: at.clone(),
                what: "task file",
                name: stem.to_string(),
                looked: path.join("tasks").display().to_string(),
            }
        })?),
    };
    let read = |file: Option<PathBuf>| task_file(file, &search, roles_path, depth);
    let (dependencies, allow_duplicates) = meta(&path, roles_path, playbook_dir, depth)?;
    Ok(Role {
        name: name.to_string(),
        tasks: read(tasks)?,
        handlers: crate::task::handlers_of(read(main_file(&path.join("handlers")))?),
        defaults: vars_file(&path.join("defaults"))?,
        vars: vars_file(&path.join("vars"))?,
        path,
        dependencies,
        allow_duplicates,
        is_dependency: false,
    })
}

/// `meta/main.yml`: the role's dependencies (each a role entry, as in a play's `roles:`) and
/// `allow_duplicates`. `galaxy_info` and `collections` describe the role for Galaxy and name
/// lookups and change nothing at run time; any other key is refused rather than ignored.
fn meta(
    role_dir: &Path,
    roles_path: &[PathBuf],
    playbook_dir: &Path,
    depth: usize,
) -> Result<(Vec<Role>, bool), PlaybookError> {
    let Some(file) = main_file(&role_dir.join("meta")) else {
        return Ok((Vec::new(), false));
    };
    let (src, doc) = Source::load(&file)?;
    let Some(doc) = doc else {
        return Ok((Vec::new(), false));
    };
    let entries = src.map(&doc, "role metadata")?;
    src.check_keys(
        entries,
        &[
            "dependencies",
            "allow_duplicates",
            "galaxy_info",
            "collections",
        ],
        "meta/main.yml",
    )?;
    let mut dependencies = Vec::new();
    if let Some(list) = doc.get("dependencies").filter(|n| !n.is_null()) {
        if depth > MAX_DEPENDENCY_DEPTH {
            return Err(src.invalid(list, "role dependencies nest too deeply (a loop?)"));
        }
        for dep in src.list(list, "dependencies")? {
            dependencies.push(entry(&src, dep, roles_path, playbook_dir, depth + 1)?);
        }
    }
    let allow_duplicates = doc
        .get("allow_duplicates")
        .map(|n| src.boolean(n, "allow_duplicates"))
        .transpose()?
        .unwrap_or(false);
    Ok((dependencies, allow_duplicates))
}

/// How deeply role dependencies may nest before they are taken for a loop.
const MAX_DEPENDENCY_DEPTH: usize = 20;

/// A role entry, as in a play's `roles:` or a role's `dependencies:`: a name, or a mapping with
/// `role:` (or `name:`) and the role's `tags`, `when`, `vars` and parameters.
pub(crate) fn entry(
    src: &Source,
    node: &Node,
    roles_path: &[PathBuf],
    dir: &Path,
    depth: usize,
) -> Result<Role, PlaybookError> {
    if let Some(name) = node.as_str() {
        return load_with(name, src.at(node), roles_path, dir, None, depth);
    }
    let entries = src.map(node, "a role entry")?;
    let name_node = node
        .get("role")
        .or_else(|| node.get("name"))
        .ok_or_else(|| src.invalid(node, "a role entry needs `role: NAME`"))?;
    let mut role = load_with(
        &src.string(name_node, "role")?,
        src.at(name_node),
        roles_path,
        dir,
        None,
        depth,
    )?;
    // Keywords (`become`, `ignore_errors`, ...) go to the role's tasks and handlers, as a block's do.
    let mut keywords = crate::task::Task::empty(src.at(node), &[]);
    for (k, v) in entries {
        if crate::task::passed_keyword(src, &mut keywords, &k.key_string(), v)? {
            continue;
        }
        match k.key_string().as_str() {
            "role" | "name" => {}
            "tags" => {
                let tags = src.strings(v, "tags")?;
                for t in role.tasks.iter_mut() {
                    t.tags.extend(tags.iter().cloned());
                }
            }
            "when" => {
                let conds = src.strings(v, "when")?;
                for t in role.tasks.iter_mut() {
                    t.when.splice(0..0, conds.iter().cloned());
                }
            }
            "vars" => role.vars.extend(src.vars(v, "vars")?),
            key => {
                role.vars.insert(key.to_string(), v.to_json());
            }
        }
    }
    crate::task::pass_keywords(&keywords, &mut role.tasks);
    crate::task::pass_keywords(&keywords, &mut role.handlers);
    Ok(role)
}

/// Appends `role` to `roles`, its dependencies first (theirs before them), as Ansible orders them.
/// A dependency equal to a role already there (same name and parameters) runs once, unless it
/// allows duplicates.
pub(crate) fn with_dependencies(mut role: Role, roles: &mut Vec<Role>) {
    for mut dep in std::mem::take(&mut role.dependencies) {
        dep.is_dependency = true;
        let ran = roles
            .iter()
            .any(|r| r.name == dep.name && r.vars == dep.vars);
        if dep.allow_duplicates || !ran {
            with_dependencies(dep, roles);
        }
    }
    roles.push(role);
}

/// `main.yml` (or `main.yaml`, or `main`) in `dir`, if there is one.
fn main_file(dir: &Path) -> Option<PathBuf> {
    named_file(dir, "main")
}

/// `STEM.yml`, `STEM.yaml` or `STEM` in `dir`, if there is one.
fn named_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    [
        format!("{stem}.yml"),
        format!("{stem}.yaml"),
        stem.to_string(),
    ]
    .iter()
    .map(|f| dir.join(f))
    .find(|p| p.is_file())
}

fn task_file(
    file: Option<PathBuf>,
    search: &[PathBuf],
    roles_path: &[PathBuf],
    depth: usize,
) -> Result<Vec<Task>, PlaybookError> {
    let Some(file) = file else {
        return Ok(Vec::new());
    };
    let (mut src, doc) = Source::load(&file)?;
    src.roles_path = roles_path.to_vec();
    doc.map_or(Ok(Vec::new()), |d| parse_tasks(&src, &d, search, depth))
}

fn vars_file(dir: &Path) -> Result<Vars, PlaybookError> {
    let Some(file) = main_file(dir) else {
        return Ok(Vars::new());
    };
    read_vars(&file)
}

/// A YAML file of variables.
pub fn read_vars(file: &Path) -> Result<Vars, PlaybookError> {
    let (src, doc) = Source::load(file)?;
    doc.map_or(Ok(Vars::new()), |d: Node| src.vars(&d, "a vars file"))
}
