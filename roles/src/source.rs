//! Reading YAML files and checking their shape, with positions for every complaint.

use std::path::{Path, PathBuf};

use drover_yaml::Node;

use crate::error::{At, PlaybookError};

/// One YAML file being read.
pub struct Source {
    /// The file.
    pub path: PathBuf,
    /// Where roles named in this file (`include_role:`) are looked up.
    pub roles_path: Vec<PathBuf>,
}

impl Source {
    /// Reads and parses `path`; an empty file is `None`.
    pub fn load(path: &Path) -> Result<(Source, Option<Node>), PlaybookError> {
        let text = drover_vault::read_to_string(path).map_err(|e| PlaybookError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Source::parse(path, &text)
    }

    /// Parses `text` as the content of `path`; an empty document is `None`.
    pub fn parse(path: &Path, text: &str) -> Result<(Source, Option<Node>), PlaybookError> {
        let doc = drover_yaml::parse(text).map_err(|source| PlaybookError::Yaml {
            path: path.to_path_buf(),
            source,
        })?;
        Ok((
            Source {
                path: path.to_path_buf(),
                roles_path: Vec::new(),
            },
            doc,
        ))
    }

    /// The folder the file is in.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// Where `node` is.
    pub fn at(&self, node: &Node) -> At {
        At {
            path: self.path.clone(),
            mark: node.mark,
        }
    }

    /// An error about `node`.
    pub fn invalid(&self, node: &Node, message: impl Into<String>) -> PlaybookError {
        PlaybookError::Invalid {
            at: self.at(node),
            message: message.into(),
        }
    }

    /// The entries of a mapping, or an error saying what `what` should have been.
    pub fn map<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [(Node, Node)], PlaybookError> {
        node.as_map().ok_or_else(|| {
            self.invalid(
                node,
                format!(
                    "expected {what} to be a mapping, found {}",
                    node.value.kind()
                ),
            )
        })
    }

    /// The items of a list (a lone item counts as a list of one), or an error.
    pub fn list<'n>(&self, node: &'n Node, what: &str) -> Result<Vec<&'n Node>, PlaybookError> {
        match &node.value {
            drover_yaml::Value::Seq(items) => Ok(items.iter().collect()),
            drover_yaml::Value::Null => Ok(Vec::new()),
            drover_yaml::Value::Map(_) => Err(self.invalid(
                node,
                format!("expected {what} to be a list, found a mapping"),
            )),
            _ => Ok(vec![node]),
        }
    }

    /// A string value, or an error.
    pub fn string(&self, node: &Node, what: &str) -> Result<String, PlaybookError> {
        match &node.value {
            drover_yaml::Value::Str(s) => Ok(s.clone()),
            drover_yaml::Value::Int(_)
            | drover_yaml::Value::Float(_)
            | drover_yaml::Value::Bool(_) => Ok(node.key_string()),
            other => Err(self.invalid(
                node,
                format!("expected {what} to be a string, found {}", other.kind()),
            )),
        }
    }

    /// A list of strings (a lone string counts as a list of one).
    pub fn strings(&self, node: &Node, what: &str) -> Result<Vec<String>, PlaybookError> {
        self.list(node, what)?
            .into_iter()
            .map(|n| self.string(n, what))
            .collect()
    }

    /// A boolean as YAML 1.1 reads it, or an error.
    pub fn boolean(&self, node: &Node, what: &str) -> Result<bool, PlaybookError> {
        match &node.value {
            drover_yaml::Value::Bool(b) => Ok(*b),
            other => Err(self.invalid(
                node,
                format!(
                    "expected {what} to be true or false, found {}",
                    other.kind()
                ),
            )),
        }
    }

    /// A mapping of variables.
    pub fn vars(&self, node: &Node, what: &str) -> Result<crate::Vars, PlaybookError> {
        if node.is_null() {
            return Ok(crate::Vars::new());
        }
        self.map(node, what)?;
        match node.to_json() {
            serde_json::Value::Object(vars) => Ok(vars),
            _ => Ok(crate::Vars::new()),
        }
    }

    /// Refuses keys that are not in `allowed`, suggesting the closest one.
    pub fn check_keys(
        &self,
        entries: &[(Node, Node)],
        allowed: &[&str],
        place: &str,
    ) -> Result<(), PlaybookError> {
        for (k, _) in entries {
            let key = k.key_string();
            if !allowed.contains(&key.as_str()) {
                return Err(PlaybookError::UnknownKey {
                    at: self.at(k),
                    key: key.clone(),
                    place: place.to_string(),
                    expected: suggest(&key, allowed).map_or_else(
                        || allowed.join(", "),
                        |s| format!("{} (did you mean `{s}`?)", allowed.join(", ")),
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The allowed word closest to `word`, if it is close enough to be a typo.
pub fn suggest<'a>(word: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (distance(word, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min()
        .map(|(_, a)| a)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
