//! apt_repository: a one-line apt source (`deb [options] URI suite components`) added to or removed
//! from the host's sources, as Ansible's module does on Debian: one round trip reads every one-line
//! sources file, a pure planner decides which files change (a present line, even commented out, is
//! not added twice: a commented one is enabled; `absent` removes it wherever it is), each changed
//! file is written through an exclusive temporary file (a file left with no source is removed), and
//! `apt-get update` follows a change unless `update_cache: false`. PPAs are Ubuntu's: refused.

use drover_ssh::shell::{quote, temp_path};
use serde_json::json;

use super::files::{put_command, unified};
use super::{Args, ModuleCtx, Outcome};

const SOURCES_DIR: &str = "/etc/apt/sources.list.d";
const MARK: &str = "##drover-file ";

/// The command that prints every one-line sources file, each after a `##drover-file PATH` line.
pub fn read_command() -> String {
    format!(
        "for f in /etc/apt/sources.list {SOURCES_DIR}/*.list; do [ -f \"$f\" ] && {{ echo \"{MARK}$f\"; cat -- \"$f\"; echo; }}; done; true"
    )
}

/// The files as [`read_command`] printed them: path and text.
pub fn parse_files(out: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in out.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix(MARK) {
            files.push((path.trim_end().to_string(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
        }
    }
    // The `echo` after each file added one line end.
    for (_, text) in &mut files {
        if text.ends_with('\n') {
            text.pop();
        }
    }
    files
}

/// A source line's words with whitespace collapsed, if the line (without a leading `#`) is one;
/// and whether it is enabled.
fn source_of(line: &str) -> Option<(String, bool)> {
    let trimmed = line.trim();
    let (enabled, body) = match trimmed.strip_prefix('#') {
        Some(rest) => (false, rest.trim_start()),
        None => (true, trimmed),
    };
    let body = body.split('#').next().unwrap_or_default();
    let words: Vec<&str> = body.split_whitespace().collect();
    if !matches!(words.first(), Some(&"deb") | Some(&"deb-src")) {
        return None;
    }
    // Options in brackets, then a URI and a suite at least.
    let mut next = 1;
    if words.get(1).is_some_and(|w| w.starts_with('[')) {
        while next < words.len() && !words[next].ends_with(']') {
            next += 1;
        }
        next += 1;
    }
    (words.len() >= next + 2).then(|| (words.join(" "), enabled))
}

/// The file name Ansible suggests for a source: the URI's host and path, without scheme, options or
/// credentials, each run of other characters turned into `_`, plus `.list`.
pub fn suggested_filename(repo: &str) -> String {
    let mut line = String::new();
    let mut depth = 0;
    for c in repo.chars() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            _ if depth == 0 => line.push(c),
            _ => {}
        }
    }
    let uri = line
        .split_whitespace()
        .find(|w| *w != "deb" && *w != "deb-src")
        .unwrap_or_default();
    let uri = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let uri = uri.rsplit_once('@').map_or(uri, |(_, rest)| rest);
    let name: Vec<&str> = uri
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .collect();
    format!("{}.list", name.join("_"))
}

/// What the task asks.
pub struct RepoSpec {
    /// The source line, whitespace collapsed.
    pub source: String,
    pub absent: bool,
    /// The file a new line goes to.
    pub file: String,
}

impl RepoSpec {
    pub fn from_args(args: &Args) -> Result<RepoSpec, String> {
        let repo = args.str("repo").ok_or("apt_repository needs `repo`")?;
        if repo.trim_start().starts_with("ppa:") {
            return Err(format!(
                "apt_repository: `{repo}` is a PPA, which only Ubuntu has; give the `deb ...` line (with `signed-by=`) instead"
            ));
        }
        let (source, _) = source_of(&repo).ok_or_else(|| {
            format!("apt_repository: `{repo}` is not a source line such as `deb [signed-by=/etc/apt/keyrings/x.gpg] https://example.org/debian bookworm main`")
        })?;
        if repo.trim_start().starts_with('#') {
            return Err(format!("apt_repository: `{repo}` is commented out"));
        }
        let name = match args.str("filename") {
            Some(f) => format!("{}.list", f.trim_end_matches(".list")),
            None => suggested_filename(&repo),
        };
        if name.contains('/') || name == ".list" {
            return Err(format!(
                "apt_repository: `filename` {name} is not a file name"
            ));
        }
        Ok(RepoSpec {
            source,
            absent: match args.str("state").as_deref().unwrap_or("present") {
                "present" => false,
                "absent" => true,
                other => {
                    return Err(format!(
                        "apt_repository: `state: {other}` is not present or absent"
                    ));
                }
            },
            file: format!("{SOURCES_DIR}/{name}"),
        })
    }
}

/// A file to write (`Some` text) or remove (`None`), with its text before (None: new file).
#[derive(Debug, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The files that change. Present: nothing when an enabled line is there; a commented one is enabled
/// in place; else the line is added to the task's file. Absent: every such line goes, and a file left
/// without any source line is removed.
pub fn plan(spec: &RepoSpec, files: &[(String, String)]) -> Vec<Change> {
    let matches = |line: &str| source_of(line).filter(|(s, _)| *s == spec.source);
    if !spec.absent {
        if files
            .iter()
            .any(|(_, t)| t.lines().any(|l| matches(l).is_some_and(|(_, on)| on)))
        {
            return Vec::new();
        }
        if let Some((path, text)) = files
            .iter()
            .find(|(_, t)| t.lines().any(|l| matches(l).is_some()))
        {
            let after: String = text
                .split_inclusive('\n')
                .map(|l| {
                    if matches(l).is_some() {
                        format!("{}\n", spec.source)
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            return vec![Change {
                path: path.clone(),
                before: Some(text.clone()),
                after: Some(after),
            }];
        }
        let before = files
            .iter()
            .find(|(p, _)| *p == spec.file)
            .map(|(_, t)| t.clone());
        let mut after = before.clone().unwrap_or_default();
        if !after.is_empty() && !after.ends_with('\n') {
            after.push('\n');
        }
        after.push_str(&spec.source);
        after.push('\n');
        return vec![Change {
            path: spec.file.clone(),
            before,
            after: Some(after),
        }];
    }
    files
        .iter()
        .filter(|(_, t)| t.lines().any(|l| matches(l).is_some()))
        .map(|(path, text)| {
            let after: String = text
                .split_inclusive('\n')
                .filter(|l| matches(l).is_none())
                .collect();
            let keep =
                after.lines().any(|l| source_of(l).is_some()) || path == "/etc/apt/sources.list";
            Change {
                path: path.clone(),
                before: Some(text.clone()),
                after: keep.then_some(after),
            }
        })
        .collect()
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match RepoSpec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let mode = match args.mode("mode") {
        Ok(m) => m,
        Err(e) => return Outcome::bad_input(format!("apt_repository: {e}")),
    };
    // `install_python_apt` asks Ansible to install python3-apt on the host; drover needs no Python
    // there, so there is nothing to install whatever it says.
    let _ = args.bool("install_python_apt");
    let update = args.bool("update_cache").unwrap_or(true);
    let out = match ctx
        .output_of(&read_command(), "reading apt's sources")
        .await
    {
        Ok(o) => o,
        Err(e) => return Outcome::fail(e),
    };
    let changes = plan(&spec, &parse_files(&String::from_utf8_lossy(&out)));
    let mut outcome = Outcome {
        changed: !changes.is_empty(),
        ..Outcome::default()
    };
    if ctx.diff {
        let diff: String = changes
            .iter()
            .map(|c| {
                unified(
                    &c.path,
                    c.before.as_deref().unwrap_or_default().as_bytes(),
                    c.after.as_deref().unwrap_or_default().as_bytes(),
                )
            })
            .collect();
        outcome.diff = (!diff.is_empty()).then_some(diff);
    }
    let added: Vec<&str> = changes
        .iter()
        .filter(|c| c.before.is_none())
        .map(|c| c.path.as_str())
        .collect();
    let removed: Vec<&str> = changes
        .iter()
        .filter(|c| c.after.is_none())
        .map(|c| c.path.as_str())
        .collect();
    outcome.result.insert("repo".into(), json!(spec.source));
    outcome.result.insert(
        "state".into(),
        json!(if spec.absent { "absent" } else { "present" }),
    );
    outcome.result.insert("sources_added".into(), json!(added));
    outcome
        .result
        .insert("sources_removed".into(), json!(removed));
    if ctx.check {
        return outcome;
    }
    for change in &changes {
        let (cmd, stdin) = match &change.after {
            Some(text) => {
                let mode = mode.or(if change.before.is_none() {
                    Some(0o644)
                } else {
                    None
                });
                let cmd = put_command(
                    &change.path,
                    &temp_path(&change.path),
                    text.as_bytes(),
                    mode,
                );
                (cmd, text.as_bytes())
            }
            None => (format!("rm -f -- {}", quote(&change.path)), &b""[..]),
        };
        if let Err(e) = ctx
            .output_with(&cmd, stdin, &format!("writing {}", change.path))
            .await
        {
            return Outcome::fail(e);
        }
    }
    if update && !changes.is_empty() {
        let cmd = "LANG=C apt-get update -q";
        match ctx.exec(cmd, b"").await {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                let mut failed = Outcome::fail("apt-get update failed after the source changed");
                failed.record_command(cmd, &o);
                return failed;
            }
            Err(e) => return Outcome::fail(format!("apt-get update: {e}")),
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    fn spec(v: Json) -> RepoSpec {
        RepoSpec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    const DOCKER: &str = "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.gpg] https://download.docker.com/linux/debian bookworm stable";

    #[test]
    fn file_names_are_ansibles() {
        assert_eq!(
            suggested_filename(DOCKER),
            "download_docker_com_linux_debian.list"
        );
        assert_eq!(
            suggested_filename("deb http://user:pw@apt.example.org:8080/repo ./"),
            "apt_example_org_8080_repo.list"
        );
        assert_eq!(
            spec(json!({"repo": DOCKER, "filename": "docker"})).file,
            "/etc/apt/sources.list.d/docker.list"
        );
        let err = RepoSpec::from_args(&Args(
            json!({"repo": "ppa:deadsnakes/ppa"})
                .as_object()
                .unwrap()
                .clone(),
        ))
        .err()
        .unwrap();
        assert!(err.contains("only Ubuntu"), "{err}");
        assert!(
            RepoSpec::from_args(&Args(json!({"repo": "hello"}).as_object().unwrap().clone()))
                .is_err()
        );
    }

    #[test]
    fn a_line_is_added_once_enabled_in_place_or_removed_everywhere() {
        let s = spec(json!({"repo": DOCKER}));
        let file = "/etc/apt/sources.list.d/download_docker_com_linux_debian.list";
        let out = format!(
            "{MARK}/etc/apt/sources.list\ndeb http://deb.debian.org/debian bookworm main\n\n"
        );
        let files = parse_files(&out);
        assert_eq!(
            files,
            [(
                "/etc/apt/sources.list".to_string(),
                "deb http://deb.debian.org/debian bookworm main\n".to_string()
            )]
        );
        let changes = plan(&s, &files);
        assert_eq!(
            changes,
            [Change {
                path: file.into(),
                before: None,
                after: Some(format!("{DOCKER}\n"))
            }]
        );
        // Already there, with other spacing: nothing to do.
        let spaced = DOCKER.replace(" https", "   https");
        let there = vec![(file.to_string(), format!("{spaced}\n"))];
        assert!(plan(&s, &there).is_empty());
        // Commented out: enabled where it is.
        let off = vec![(
            "/etc/apt/sources.list".to_string(),
            format!("deb http://x/ bookworm main\n# {DOCKER}\n"),
        )];
        assert_eq!(
            plan(&s, &off)[0].after.as_deref(),
            Some(format!("deb http://x/ bookworm main\n{DOCKER}\n").as_str())
        );
        // Absent: the line goes; a file with nothing else is removed, sources.list itself is kept.
        let a = spec(json!({"repo": DOCKER, "state": "absent"}));
        let both = vec![
            ("/etc/apt/sources.list".to_string(), format!("{DOCKER}\n")),
            (file.to_string(), format!("# from the role\n{DOCKER}\n")),
        ];
        let changes = plan(&a, &both);
        assert_eq!(changes[0].after.as_deref(), Some(""));
        assert_eq!(changes[1].after, None);
        assert!(plan(&a, &files).is_empty());
    }
}
