//! Playbook errors, each with the file, line and column it is about.

use std::fmt;
use std::path::PathBuf;

use drover_yaml::Mark;

/// A place in a playbook, role or task file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// The file.
    pub path: PathBuf,
    /// Line and column, 1-based.
    pub mark: Mark,
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.mark)
    }
}

/// Why a playbook cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    /// A file could not be read.
    #[error("{}: cannot read: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A file is not valid YAML.
    #[error("{}:{source}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        source: drover_yaml::YamlError,
    },
    /// A key that this place does not take (often a typo).
    #[error("{at}: unknown key `{key}` in {place}; expected one of: {expected}")]
    UnknownKey {
        /// Where the key is.
        at: At,
        /// The key.
        key: String,
        /// The play, task or module it is in.
        place: String,
        /// The keys allowed there.
        expected: String,
    },
    /// A task names a module drover does not have.
    #[error("{at}: unknown module `{name}`{hint}")]
    UnknownModule {
        /// Where the task is.
        at: At,
        /// The module name.
        name: String,
        /// ", did you mean ...?" or empty.
        hint: String,
    },
    /// A role that is not in the roles path.
    #[error("{at}: role `{name}` not found; looked in {looked}")]
    MissingRole {
        /// Where the role is named.
        at: At,
        /// The role.
        name: String,
        /// The folders searched.
        looked: String,
    },
    /// A file a task names (template source, task file) that does not exist.
    #[error("{at}: {what} `{name}` not found; looked in {looked}")]
    MissingFile {
        /// Where the file is named.
        at: At,
        /// "template", "file", "task file".
        what: &'static str,
        /// The name as written.
        name: String,
        /// The folders searched.
        looked: String,
    },
    /// A value of the wrong shape, or a missing required parameter.
    #[error("{at}: {message}")]
    Invalid {
        /// Where.
        at: At,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// A folder as an error names it: the playbook's own folder, when given as a bare file name, is `.`.
pub(crate) fn folder(dir: &std::path::Path) -> String {
    match dir.as_os_str().is_empty() {
        true => ".".to_string(),
        false => dir.display().to_string(),
    }
}
