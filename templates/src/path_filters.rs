//! Ansible's path filters: `path_join`, `normpath`, `commonpath`, `relpath`, `expanduser`,
//! `win_basename`, `win_dirname`, `win_splitdrive`, with Python's `os.path`/`ntpath` semantics.

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

/// Registers the filters on `env`.
pub fn register(env: &mut Environment<'static>) {
    ansible_builtin!(env, add_filter, "path_join", path_join);
    ansible_builtin!(env, add_filter, "normpath", normpath);
    ansible_builtin!(env, add_filter, "commonpath", commonpath);
    ansible_builtin!(env, add_filter, "relpath", relpath);
    ansible_builtin!(env, add_filter, "expanduser", expanduser);
    ansible_builtin!(env, add_filter, "win_basename", win_basename);
    ansible_builtin!(env, add_filter, "win_dirname", win_dirname);
    ansible_builtin!(env, add_filter, "win_splitdrive", win_splitdrive);
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// `os.path.join(*paths)`: an absolute part starts over.
fn path_join(paths: Value) -> Result<String, Error> {
    if paths.kind() == ValueKind::String {
        return Ok(paths.as_str().unwrap_or_default().to_string());
    }
    let mut out = String::new();
    for p in paths.try_iter()? {
        let p = p
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| p.to_string());
        if p.starts_with('/') || out.is_empty() {
            out = p;
        } else if out.ends_with('/') {
            out.push_str(&p);
        } else {
            out = format!("{out}/{p}");
        }
    }
    Ok(out)
}

/// `os.path.normpath`: `.` and `..` resolved in the text, slashes collapsed (two leading kept).
fn normpath(path: String) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let lead = if path.starts_with("//") && !path.starts_with("///") {
        "//"
    } else if path.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if !lead.is_empty() => {}
            other => parts.push(other),
        }
    }
    let joined = format!("{lead}{}", parts.join("/"));
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// `os.path.commonpath`: the longest common folder of all the paths.
fn commonpath(paths: Value) -> Result<String, Error> {
    let paths: Vec<String> = paths
        .try_iter()?
        .map(|p| p.as_str().map(str::to_string).unwrap_or_default())
        .collect();
    let Some(first) = paths.first() else {
        return Err(invalid("commonpath() arg is an empty sequence"));
    };
    let absolute = first.starts_with('/');
    if paths.iter().any(|p| p.starts_with('/') != absolute) {
        return Err(invalid("Can't mix absolute and relative paths"));
    }
    let split = |p: &String| -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_string)
            .collect()
    };
    let mut common = split(first);
    for p in &paths[1..] {
        let other = split(p);
        let n = common
            .iter()
            .zip(&other)
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(n);
    }
    Ok(format!(
        "{}{}",
        if absolute { "/" } else { "" },
        common.join("/")
    ))
}

/// `os.path.relpath(path, start)` on the text (no symlinks resolved).
fn relpath(path: String, start: Option<String>) -> Result<String, Error> {
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "/".into());
    let absolute = |p: &str| {
        normpath(if p.starts_with('/') {
            p.to_string()
        } else {
            format!("{cwd}/{p}")
        })
    };
    let (path, start) = (
        absolute(&path),
        absolute(&start.unwrap_or_else(|| ".".into())),
    );
    let parts = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (p, s) = (parts(&path), parts(&start));
    let n = p.iter().zip(&s).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".into(); s.len() - n];
    out.extend(p[n..].iter().cloned());
    Ok(if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    })
}

/// `os.path.expanduser`: a leading `~` is the controller user's home folder.
fn expanduser(path: String) -> String {
    match (path.strip_prefix('~'), std::env::var("HOME")) {
        (Some(rest), Ok(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => path,
    }
}

/// `ntpath.splitdrive`: `C:` or a `\\server\share` prefix, and the rest.
fn split_drive(path: &str) -> (String, String) {
    let norm = path.replace('/', "\\");
    if norm.starts_with("\\\\") && !norm.starts_with("\\\\\\") {
        let rest = &norm[2..];
        if let Some(i) = rest.find('\\') {
            let after = &rest[i + 1..];
            let j = after.find('\\').map_or(after.len(), |j| j);
            let cut = 2 + i + 1 + j;
            return (path[..cut].to_string(), path[cut..].to_string());
        }
    }
    if path.len() >= 2 && path.as_bytes()[1] == b':' {
        return (path[..2].to_string(), path[2..].to_string());
    }
    (String::new(), path.to_string())
}

/// `ntpath.basename`.
fn win_basename(path: String) -> String {
    let (_, rest) = split_drive(&path);
    rest.rsplit(['\\', '/'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `ntpath.dirname`.
fn win_dirname(path: String) -> String {
    let (drive, rest) = split_drive(&path);
    let cut = rest.rfind(['\\', '/']).map_or(0, |i| i + 1);
    let head = rest[..cut].trim_end_matches(['\\', '/']);
    let head = if head.is_empty() { &rest[..cut] } else { head };
    format!("{drive}{head}")
}

/// `ntpath.splitdrive`, as a list.
fn win_splitdrive(path: String) -> Vec<String> {
    let (drive, rest) = split_drive(&path);
    vec![drive, rest]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_python_sees_them() {
        assert_eq!(normpath("/a/./b/../c//d/".into()), "/a/c/d");
        assert_eq!(normpath("".into()), ".");
        assert_eq!(normpath("../x/..".into()), "..");
        assert_eq!(win_basename("C:\\x\\y.txt".into()), "y.txt");
        assert_eq!(win_dirname("C:\\x\\y.txt".into()), "C:\\x");
        assert_eq!(win_splitdrive("C:\\x\\y.txt".into()), ["C:", "\\x\\y.txt"]);
        assert_eq!(relpath("/a/b/c".into(), Some("/a".into())).unwrap(), "b/c");
        assert_eq!(relpath("/a".into(), Some("/a/b".into())).unwrap(), "..");
    }
}
