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
}

/// Loads role `name`, named at `at`, from the first folder of `roles_path` that has it.
pub fn load(
    name: &str,
    at: At,
    roles_path: &[PathBuf],
    playbook_dir: &Path,
) -> Result<Role, PlaybookError> {
    load_with(name, at, roles_path, playbook_dir, None, 0)
}

/// Like [`load`], with the tasks from `tasks/<tasks_from>` instead of `tasks/main.yml`, for
/// `include_role:`; `depth` bounds roles that include each other.
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
        .map(|d| d.join(name))
        .find(|p| p.is_dir())
        .ok_or_else(|| PlaybookError::MissingRole {
            at: at.clone(),
            name: name.to_string(),
            looked: roles_path
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
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
    Ok(Role {
        name: name.to_string(),
        tasks: read(tasks)?,
        handlers: read(main_file(&path.join("handlers")))?,
        defaults: vars_file(&path.join("defaults"))?,
        vars: vars_file(&path.join("vars"))?,
        path,
    })
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
