//! Restart policies in compose files and compose templates.
//!
//! `lint` reports every service whose policy will not bring it back after a Docker daemon restart or a
//! reboot (`unless-stopped`, `no`, `on-failure`, none at all, an unquoted `no`, one inherited through
//! an anchor, a Jinja default that is one of those, a conflict with `deploy.restart_policy`). `fix`
//! rewrites exactly those lines (or inserts one line where a policy is missing), so comments, key
//! order, quoting, indentation, CRLF, anchors and Jinja all survive byte for byte.

mod edit;
mod lint;
mod mask;
mod outline;

use std::path::{Path, PathBuf};

pub use lint::{Finding, Fix, judge};

/// Why a file could not be linted or fixed. The file is never changed when this happens.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The YAML (with Jinja masked) does not parse.
    #[error("{}:{line}:{col}: invalid YAML{}: {message}", path.display(), if *masked { " (Jinja masked)" } else { "" })]
    Yaml {
        /// The file.
        path: PathBuf,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        col: usize,
        /// The parser's message.
        message: String,
        /// Whether Jinja was masked first.
        masked: bool,
    },
    /// A fix would have produced text that no longer parses, or could not rewrite a line it had to;
    /// nothing is written.
    #[error("{}: the fix failed ({reason}); nothing was changed", path.display())]
    FixBroke {
        /// The parser's complaint about the fixed text, or the finding left unfixed.
        reason: String,
        /// The file.
        path: PathBuf,
    },
}

/// Options for lint and fix.
#[derive(Debug, Clone)]
pub struct Options {
    /// The policy fixes write (default `always`).
    pub policy: String,
    /// Services left as they are.
    pub keep: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy: "always".into(),
            keep: Vec::new(),
        }
    }
}

/// Whether a file is a template (masked before parsing).
fn is_template(path: &Path, text: &str) -> bool {
    path.extension()
        .is_some_and(|e| e == "j2" || e == "jinja" || e == "jinja2")
        || text.contains("{{")
        || text.contains("{%")
}

/// Lints `text`, the content of `path`.
pub fn lint(path: &Path, text: &str, opts: &Options) -> Result<Vec<Finding>, ComposeError> {
    let template = is_template(path, text);
    let masked = if template {
        mask::mask(text)
    } else {
        mask::Masked {
            text: text.to_string(),
            exprs: Default::default(),
        }
    };
    let outline =
        outline::parse(&masked.text).map_err(|(line, col, message)| ComposeError::Yaml {
            path: path.to_path_buf(),
            line,
            col,
            message,
            masked: template,
        })?;
    let lines: Vec<&str> = text.lines().collect();
    let ctx = lint::Context {
        lines: &lines,
        exprs: &masked.exprs,
        keep: &opts.keep,
    };
    Ok(lint::lint(&outline, &ctx))
}

/// The result of fixing a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    /// The new text (equal to the old when nothing needed fixing).
    pub text: String,
    /// Findings that fixing cannot resolve (conflicts, flow-style services).
    pub remaining: Vec<Finding>,
    /// How many findings were fixed.
    pub fixed: usize,
}

/// Fixes every fixable finding in `text`. The result is checked to parse and to lint clean of what
/// was fixed; otherwise nothing is returned for writing.
pub fn fix(path: &Path, text: &str, opts: &Options) -> Result<Fixed, ComposeError> {
    let findings = lint(path, text, opts)?;
    let (fixable, remaining): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(|f| f.fix.is_some());
    let mut fixes: Vec<Fix> = fixable.iter().filter_map(|f| f.fix.clone()).collect();
    fixes.sort();
    fixes.dedup();
    let new = edit::apply(text, &fixes, &opts.policy);
    // With nothing to fix the text is the one just linted; otherwise check what the fixes made.
    if !fixes.is_empty() {
        let broke = |reason: String| ComposeError::FixBroke {
            reason,
            path: path.to_path_buf(),
        };
        let after = lint(path, &new, opts).map_err(|e| broke(e.to_string()))?;
        if let Some(left) = after.iter().find(|f| f.fix.is_some()) {
            return Err(broke(format!(
                "line {} could not be rewritten: {}",
                left.line, left.message
            )));
        }
    }
    Ok(Fixed {
        text: new,
        remaining,
        fixed: fixable.len(),
    })
}

/// A unified diff between two versions of a file.
pub fn diff(path: &Path, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .header(
            &format!("{} (before)", path.display()),
            &format!("{} (after)", path.display()),
        )
        .to_string()
}
