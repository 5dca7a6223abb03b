//! What can be wrong with an inventory or a host pattern, always with where and what was expected.

use std::fmt;
use std::path::PathBuf;

use drover_yaml::{Mark, YamlError};

/// A place in an inventory file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// Line and column, 1-based.
    pub mark: Mark,
}

impl Location {
    /// A location from a file and a line and column.
    pub fn new(path: impl Into<PathBuf>, line: usize, col: usize) -> Self {
        Location {
            path: path.into(),
            mark: Mark { line, col },
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.mark)
    }
}

/// Why an inventory could not be loaded or a pattern could not be used.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// A file or folder could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A vault-encrypted file could not be opened.
    #[error("{}: {source}", path.display())]
    Vault {
        /// The file.
        path: PathBuf,
        /// Why.
        source: drover_vault::VaultError,
    },
    /// A YAML file (inventory, group_vars or host_vars) is not valid YAML.
    #[error("{}:{source}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        source: YamlError,
    },
    /// The file parses but its content is not shaped as an inventory expects.
    #[error("{at}: {message}")]
    Invalid {
        /// Where.
        at: Location,
        /// What is wrong and what was expected instead.
        message: String,
    },
    /// A `[group:children]` or `[group:vars]` section names a group that is never defined.
    #[error(
        "{at}: section [{section}] names group `{group}`, which is never defined; expected a [{group}] or [{group}:children] section"
    )]
    UndefinedGroup {
        /// Where the group is named.
        at: Location,
        /// The section that names it, such as `web:children`.
        section: String,
        /// The undefined group.
        group: String,
    },
    /// Groups that are each other's ancestors.
    #[error("{at}: adding `{child}` as a child of `{parent}` makes a loop of groups")]
    GroupLoop {
        /// Where the child is added.
        at: Location,
        /// The parent group.
        parent: String,
        /// The child group.
        child: String,
    },
    /// A host range such as `web[01:20]` that does not parse.
    #[error(
        "{at}: bad host range in `{pattern}`: {reason}; expected [start:end] or [start:end:step], as in web[01:20] or db-[a:f]"
    )]
    HostRange {
        /// Where the host is declared.
        at: Location,
        /// The host as written.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A host pattern that cannot be used.
    #[error("bad host pattern `{pattern}`: {reason}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A host pattern that selects nothing, which is almost always a typo.
    #[error("host pattern `{pattern}` matches no hosts in the inventory")]
    NoHostsMatched {
        /// The pattern as given.
        pattern: String,
    },
}

/// A file's text (decrypted when it is a vault), or the error naming it.
pub(crate) fn read(path: &std::path::Path) -> Result<String, InventoryError> {
    drover_vault::read_to_string(path).map_err(|e| match e {
        drover_vault::ReadError::Io(source) => InventoryError::Read {
            path: path.to_path_buf(),
            source,
        },
        drover_vault::ReadError::Vault(source) => InventoryError::Vault {
            path: path.to_path_buf(),
            source,
        },
    })
}
