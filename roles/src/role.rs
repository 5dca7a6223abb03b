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
    let path = roles_path
        .iter()
        .map(|d| d.join(name))
        .find(|p| p.is_dir())
        .ok_or_else(|| PlaybookError::MissingRole {
            at,
            name: name.to_string(),
            looked: roles_path
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let search = vec![path.clone(), playbook_dir.to_path_buf()];
    Ok(Role {
        name: name.to_string(),
        tasks: task_file(&path.join("tasks"), &search)?,
        handlers: task_file(&path.join("handlers"), &search)?,
        defaults: vars_file(&path.join("defaults"))?,
        vars: vars_file(&path.join("vars"))?,
        path,
    })
}

/// `main.yml` (or `main.yaml`, or `main`) in `dir`, if there is one.
fn main_file(dir: &Path) -> Option<PathBuf> {
    ["main.yml", "main.yaml", "main"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

fn task_file(dir: &Path, search: &[PathBuf]) -> Result<Vec<Task>, PlaybookError> {
    let Some(file) = main_file(dir) else {
        return Ok(Vec::new());
    };
    let (src, doc) = Source::load(&file)?;
    doc.map_or(Ok(Vec::new()), |d| parse_tasks(&src, &d, search, 0))
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
