//! copy of a folder: `src` naming a folder in files/ copies it as Ansible's copy does: `dir` puts
//! the folder itself under `dest` (dest/dir/...), `dir/` puts what it holds into `dest`. Folders
//! are made as needed (`directory_mode` for those it makes, owner and group too); each file is put
//! as a single `copy` puts it (`mode`, `owner`, `group`, `backup`, `validate`, --check, --diff),
//! so a second run changes nothing.

use std::path::{Path, PathBuf};

use drover_ssh::shell::quote;

use super::files::{FileTarget, ensure_content};
use super::{ModuleCtx, Outcome, reports_change};

/// The most files one task copies: a larger tree is a mistake (or a job for `synchronize`).
const MAX_FILES: usize = 5_000;

/// The tree under `root`: its folders and its files, as paths relative to it, sorted, following
/// symbolic links as Ansible's copy does by default.
pub fn walk(root: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let (mut dirs, mut files) = (Vec::new(), Vec::new());
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let entries = std::fs::read_dir(root.join(&rel))
            .map_err(|e| format!("{}: {e}", root.join(&rel).display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let path = rel.join(entry.file_name());
            let meta = std::fs::metadata(root.join(&path))
                .map_err(|e| format!("{}: {e}", root.join(&path).display()))?;
            if meta.is_dir() {
                if dirs.len() >= MAX_FILES {
                    return Err(format!("{}: more than {MAX_FILES} folders", root.display()));
                }
                dirs.push(path.clone());
                todo.push(path);
            } else {
                files.push(path);
                if files.len() > MAX_FILES {
                    return Err(format!("{}: more than {MAX_FILES} files", root.display()));
                }
            }
        }
    }
    dirs.sort();
    files.sort();
    Ok((dirs, files))
}

/// Makes the folders that are missing (with `mode`, owner and group), printing `changed` for each;
/// in check mode only says so.
pub fn mkdirs_command(
    dirs: &[String],
    mode: Option<u32>,
    owner: Option<&str>,
    group: Option<&str>,
    check: bool,
) -> String {
    let list: String = dirs.iter().map(|d| format!(" {}", quote(d))).collect();
    let mut make = String::from("mkdir -p \"$d\" || exit 1; ");
    if let Some(m) = mode {
        make.push_str(&format!("chmod {m:o} \"$d\" || exit 1; "));
    }
    let who = match (owner, group) {
        (Some(o), Some(g)) => Some(format!("{}:{}", o, g)),
        (Some(o), None) => Some(o.to_string()),
        (None, Some(g)) => Some(format!(":{g}")),
        (None, None) => None,
    };
    if let Some(who) = who {
        make.push_str(&format!("chown {} \"$d\" || exit 1; ", quote(&who)));
    }
    if check {
        make.clear();
    }
    format!("for d in{list}; do if [ ! -d \"$d\" ]; then {make}echo changed; fi; done")
}

/// Copies the folder `root` (found for `src`) to `dest` on the host.
pub async fn run(
    src: &str,
    root: &Path,
    target: &FileTarget,
    directory_mode: Option<u32>,
    ctx: &ModuleCtx<'_>,
) -> Outcome {
    let (dirs, files) = match walk(root) {
        Ok(t) => t,
        Err(e) => return Outcome::fail(format!("copy: {e}")),
    };
    // `dir/` copies what it holds; `dir` copies the folder itself.
    let base = if src.ends_with('/') {
        PathBuf::from(&target.path)
    } else {
        Path::new(&target.path).join(root.file_name().unwrap_or_default())
    };
    let mut remote_dirs = vec![base.display().to_string()];
    remote_dirs.extend(dirs.iter().map(|d| base.join(d).display().to_string()));
    let mkdirs = mkdirs_command(
        &remote_dirs,
        directory_mode,
        target.owner.as_deref(),
        target.group.as_deref(),
        ctx.check,
    );
    let mut out = match ctx.output_of(&mkdirs, "copy").await {
        Ok(o) => Outcome {
            changed: reports_change(&o),
            ..Outcome::default()
        },
        Err(e) => return Outcome::fail(e),
    };
    let mut diffs = String::new();
    for rel in &files {
        let content = match drover_vault::read(&root.join(rel)) {
            Ok(c) => c,
            Err(e) => return Outcome::fail(format!("{}: {e}", root.join(rel).display())),
        };
        let file = FileTarget {
            path: base.join(rel).display().to_string(),
            ..target.clone()
        };
        // In check mode a folder that is not there yet holds nothing: each file would be new.
        let one = ensure_content(ctx, &file, &content).await;
        if one.failed {
            return one;
        }
        out.changed |= one.changed;
        diffs.extend(one.diff);
    }
    if !diffs.is_empty() {
        out.diff = Some(diffs);
    }
    out.result
        .insert("dest".into(), serde_json::json!(base.display().to_string()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_made_only_where_missing() {
        assert_eq!(
            mkdirs_command(
                &["/srv/app".into(), "/srv/app/conf d".into()],
                Some(0o750),
                Some("app"),
                None,
                false
            ),
            "for d in /srv/app '/srv/app/conf d'; do if [ ! -d \"$d\" ]; then mkdir -p \"$d\" || exit 1; chmod 750 \"$d\" || exit 1; chown app \"$d\" || exit 1; echo changed; fi; done"
        );
        assert_eq!(
            mkdirs_command(&["/x".into()], None, None, None, true),
            "for d in /x; do if [ ! -d \"$d\" ]; then echo changed; fi; done"
        );
    }

    #[test]
    fn a_tree_is_walked_sorted() {
        let root = std::env::temp_dir().join(format!("drover-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(root.join("b/c/d.txt"), "d").unwrap();
        let (dirs, files) = walk(&root).unwrap();
        assert_eq!(dirs, [PathBuf::from("b"), PathBuf::from("b/c")]);
        assert_eq!(files, [PathBuf::from("a.txt"), PathBuf::from("b/c/d.txt")]);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
