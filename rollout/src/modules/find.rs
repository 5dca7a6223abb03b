//! find: the files under some folders that match a pattern, a type, an age, a size or a content, as
//! Ansible's module selects them (patterns match the base name, as shell globs or, with `use_regex`,
//! Python-style regexes anchored at its start; hidden files only with `hidden`). GNU find lists each
//! folder in one round trip; the selection is a pure function of that listing; `contains` asks grep
//! about the regular files left. It changes nothing, so it runs in check mode too.

use drover_ssh::shell::quote;
use serde_json::{Map, Value as Json, json};

use super::{Args, ModuleCtx, Outcome};

/// One entry as find printed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub path: String,
    /// f, d, l, ...
    pub kind: char,
    pub mode: u32,
    pub size: u64,
    pub mtime: f64,
    pub atime: f64,
    pub ctime: f64,
    pub fields: [String; 7],
}

/// What the task selects by.
#[derive(Debug, Clone, Default)]
pub struct FindSpec {
    pub paths: Vec<String>,
    pub patterns: Vec<String>,
    pub excludes: Vec<String>,
    pub use_regex: bool,
    /// f, d, l, or None for any.
    pub kind: Option<char>,
    pub recurse: bool,
    pub depth: Option<u32>,
    pub hidden: bool,
    pub follow: bool,
    /// Seconds: positive, at least this old; negative, at most this old.
    pub age: Option<i64>,
    pub age_stamp: char,
    /// Bytes: positive, at least; negative, at most.
    pub size: Option<i64>,
    pub contains: Option<String>,
}

/// `4w`, `-2d`, `30` (seconds) as signed seconds, or `10m`, `-1k` (bytes, 1024-based).
fn amount(text: &str, units: &[(char, i64)]) -> Option<i64> {
    let t = text.trim();
    let (num, unit) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => (&t[..t.len() - 1], c.to_ascii_lowercase()),
        _ => (t, units[0].0),
    };
    let factor = units.iter().find(|(u, _)| *u == unit)?.1;
    num.parse::<i64>().ok()?.checked_mul(factor)
}

impl FindSpec {
    pub fn from_args(args: &Args) -> Result<FindSpec, String> {
        let paths = ["paths", "path", "name"]
            .iter()
            .map(|k| args.list(k))
            .find(|l| !l.is_empty());
        let paths: Vec<String> = paths
            .ok_or("find needs `paths`")?
            .iter()
            .flat_map(|p| {
                p.split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|p| !p.is_empty())
            .collect();
        let split = |key: &str, alias: &str| {
            let mut v = args.list(key);
            v.extend(args.list(alias));
            v
        };
        let use_regex = args.bool("use_regex").unwrap_or(false);
        let (patterns, excludes) = (split("patterns", "pattern"), split("excludes", "exclude"));
        if use_regex {
            for p in patterns.iter().chain(&excludes) {
                regex::Regex::new(p).map_err(|e| format!("find: `{p}`: {e}"))?;
            }
        }
        let kind = match args.str("file_type").as_deref().unwrap_or("file") {
            "file" => Some('f'),
            "directory" => Some('d'),
            "link" => Some('l'),
            "any" => None,
            other => {
                return Err(format!(
                    "find: `file_type: {other}` is not file, directory, link or any"
                ));
            }
        };
        let age = args
            .str("age")
            .map(|a| {
                amount(
                    &a,
                    &[
                        ('s', 1),
                        ('m', 60),
                        ('h', 3600),
                        ('d', 86400),
                        ('w', 604800),
                    ],
                )
                .ok_or(format!("find: `age: {a}` is not an age such as 2d or -1w"))
            })
            .transpose()?;
        let size = args
            .str("size")
            .map(|s| {
                amount(
                    &s,
                    &[
                        ('b', 1),
                        ('k', 1 << 10),
                        ('m', 1 << 20),
                        ('g', 1 << 30),
                        ('t', 1 << 40),
                    ],
                )
                .ok_or(format!(
                    "find: `size: {s}` is not a size such as 10m or -1k"
                ))
            })
            .transpose()?;
        let age_stamp = match args.str("age_stamp").as_deref().unwrap_or("mtime") {
            "mtime" => 'm',
            "atime" => 'a',
            "ctime" => 'c',
            other => {
                return Err(format!(
                    "find: `age_stamp: {other}` is not mtime, atime or ctime"
                ));
            }
        };
        let depth = match args.num("depth") {
            Some(d) if d >= 1.0 && d.fract() == 0.0 && d <= 10_000.0 => Some(d as u32),
            Some(d) => return Err(format!("find: `depth: {d}` is not a whole number from 1")),
            None => None,
        };
        Ok(FindSpec {
            paths,
            patterns,
            excludes,
            use_regex,
            kind,
            recurse: args.bool("recurse").unwrap_or(false),
            depth,
            hidden: args.bool("hidden").unwrap_or(false),
            follow: args.bool("follow").unwrap_or(false),
            age,
            age_stamp,
            size,
            contains: args.str("contains"),
        })
    }
}

const FORMAT: &str = "%p\\t%y\\t%m\\t%s\\t%T@\\t%A@\\t%C@\\t%u\\t%g\\t%U\\t%G\\t%i\\t%n\\t%D\\n";

/// The listing command: the host's clock, then each path's entries, one per line.
pub fn command(spec: &FindSpec) -> String {
    let depth = match (spec.recurse, spec.depth) {
        (false, _) => " -maxdepth 1".to_string(),
        (true, Some(d)) => format!(" -maxdepth {d}"),
        (true, None) => String::new(),
    };
    let follow = if spec.follow { " -L" } else { "" };
    let paths: Vec<String> = spec.paths.iter().map(|p| quote(p)).collect();
    format!(
        "date +%s; for p in {}; do [ -d \"$p\" ] && find{follow} \"$p\" -mindepth 1{depth} -printf '{FORMAT}' 2>/dev/null; done; true",
        paths.join(" ")
    )
}

fn parse_entry(line: &str) -> Option<Entry> {
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() != 14 {
        return None;
    }
    let num = |s: &str| s.parse::<f64>().ok();
    Some(Entry {
        path: f[0].to_string(),
        kind: f[1].chars().next()?,
        mode: u32::from_str_radix(f[2], 8).ok()?,
        size: f[3].parse().ok()?,
        mtime: num(f[4])?,
        atime: num(f[5])?,
        ctime: num(f[6])?,
        fields: [f[7], f[8], f[9], f[10], f[11], f[12], f[13]].map(String::from),
    })
}

fn matches_any(name: &str, patterns: &[String], regex: bool) -> bool {
    patterns.iter().any(|p| {
        if regex {
            regex::Regex::new(&format!("^(?:{p})")).is_ok_and(|r| r.is_match(name))
        } else {
            globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .is_ok_and(|g| g.compile_matcher().is_match(name))
        }
    })
}

/// The entries the task selects (before `contains`), and how many were looked at.
pub fn select(out: &str, spec: &FindSpec) -> (Vec<Entry>, usize) {
    let mut lines = out.lines();
    let now: f64 = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0.0);
    let entries: Vec<Entry> = lines.filter_map(parse_entry).collect();
    let examined = entries.len();
    let chosen = entries
        .into_iter()
        .filter(|e| {
            let name = e.path.rsplit('/').next().unwrap_or_default();
            if name.starts_with('.') && !spec.hidden {
                return false;
            }
            // A hidden folder's content is hidden too.
            let under_hidden = spec.paths.iter().any(|root| {
                e.path
                    .strip_prefix(root.trim_end_matches('/'))
                    .is_some_and(|rel| {
                        rel.split('/')
                            .rev()
                            .skip(1)
                            .any(|part| part.starts_with('.'))
                    })
            });
            if under_hidden && !spec.hidden {
                return false;
            }
            let kind_ok = match spec.kind {
                None => true,
                Some(k) => e.kind == k,
            };
            let pattern_ok =
                spec.patterns.is_empty() || matches_any(name, &spec.patterns, spec.use_regex);
            let excluded = matches_any(name, &spec.excludes, spec.use_regex);
            let stamp = match spec.age_stamp {
                'a' => e.atime,
                'c' => e.ctime,
                _ => e.mtime,
            };
            let age_ok = match spec.age {
                None => true,
                Some(a) if a >= 0 => now - stamp >= a as f64,
                Some(a) => now - stamp <= a.unsigned_abs() as f64,
            };
            let size_ok = match spec.size {
                None => true,
                Some(s) if s >= 0 => e.size >= s as u64,
                Some(s) => e.size <= s.unsigned_abs(),
            };
            kind_ok && pattern_ok && !excluded && age_ok && size_ok
        })
        .collect();
    (chosen, examined)
}

/// An entry in the shape Ansible's find gives (a stat result per file).
fn describe(e: &Entry) -> Json {
    let [uid, gid, user, group, inode, nlink, dev] = &e.fields;
    let n = |s: &str| s.parse::<u64>().map(Json::from).unwrap_or(Json::Null);
    let mut m = Map::new();
    m.insert("path".into(), json!(e.path));
    m.insert("mode".into(), json!(format!("{:04o}", e.mode)));
    for (k, v) in [
        ("isreg", e.kind == 'f'),
        ("isdir", e.kind == 'd'),
        ("islnk", e.kind == 'l'),
    ] {
        m.insert(k.into(), json!(v));
    }
    m.insert("size".into(), json!(e.size));
    m.insert("mtime".into(), json!(e.mtime));
    m.insert("atime".into(), json!(e.atime));
    m.insert("ctime".into(), json!(e.ctime));
    m.insert("uid".into(), n(uid));
    m.insert("gid".into(), n(gid));
    m.insert("pw_name".into(), json!(user));
    m.insert("gr_name".into(), json!(group));
    m.insert("inode".into(), n(inode));
    m.insert("nlink".into(), n(nlink));
    m.insert("dev".into(), n(dev));
    Json::Object(m)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match FindSpec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let out = match ctx.output_of(&command(&spec), "find").await {
        Ok(o) => String::from_utf8_lossy(&o).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    let (mut chosen, examined) = select(&out, &spec);
    if let Some(re) = &spec.contains {
        // Only regular files can contain anything; grep says which do.
        let files: Vec<String> = chosen
            .iter()
            .filter(|e| e.kind == 'f')
            .map(|e| quote(&e.path))
            .collect();
        let with: Vec<String> = if files.is_empty() {
            Vec::new()
        } else {
            let cmd = format!(
                "grep -lE -- {} {} 2>/dev/null; true",
                quote(re),
                files.join(" ")
            );
            match ctx.output_of(&cmd, "find contains").await {
                Ok(o) => String::from_utf8_lossy(&o)
                    .lines()
                    .map(String::from)
                    .collect(),
                Err(e) => return Outcome::fail(e),
            }
        };
        chosen.retain(|e| with.contains(&e.path));
    }
    let mut outcome = Outcome::default();
    outcome.result.insert(
        "files".into(),
        Json::Array(chosen.iter().map(describe).collect()),
    );
    outcome.result.insert("matched".into(), json!(chosen.len()));
    outcome.result.insert("examined".into(), json!(examined));
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Json) -> FindSpec {
        FindSpec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    fn line(path: &str, kind: char, size: u64, mtime: u64) -> String {
        format!(
            "{path}\t{kind}\t644\t{size}\t{mtime}.0\t{mtime}.0\t{mtime}.0\t0\t0\troot\troot\t1\t1\t2049\n"
        )
    }

    #[test]
    fn entries_are_selected_as_ansible_selects_them() {
        let now = 1_000_000;
        let out = format!(
            "{now}\n{}{}{}{}{}",
            line("/var/log/app/a.log", 'f', 2048, now - 8 * 86400),
            line("/var/log/app/b.log.gz", 'f', 10, now - 60),
            line("/var/log/app/.hidden.log", 'f', 10, now - 9 * 86400),
            line("/var/log/app/old", 'd', 4096, now - 9 * 86400),
            line("/var/log/app/.cache/c.log", 'f', 10, now - 9 * 86400),
        );
        let names = |s: &FindSpec| {
            select(&out, s)
                .0
                .into_iter()
                .map(|e| e.path)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&spec(json!({"paths": "/var/log/app", "patterns": "*.log"}))),
            ["/var/log/app/a.log"]
        );
        assert_eq!(
            names(&spec(json!({"paths": "/var/log/app", "age": "1w"}))),
            ["/var/log/app/a.log"]
        );
        assert_eq!(
            names(&spec(json!({"paths": "/var/log/app", "age": "-1h"}))),
            ["/var/log/app/b.log.gz"]
        );
        assert_eq!(
            names(&spec(json!({"paths": "/var/log/app", "size": "1k"}))),
            ["/var/log/app/a.log"]
        );
        assert_eq!(
            names(&spec(
                json!({"paths": "/var/log/app", "file_type": "directory"})
            )),
            ["/var/log/app/old"]
        );
        assert_eq!(
            names(&spec(
                json!({"paths": "/var/log/app", "patterns": ["^[ab]\\."], "use_regex": true, "excludes": "b"})
            )),
            ["/var/log/app/a.log"]
        );
        assert_eq!(names(&spec(json!({"paths": "/var/log/app", "hidden": true, "patterns": "*.log", "recurse": true})))
            .len(), 3);
        assert_eq!(select(&out, &spec(json!({"paths": "/var/log/app"}))).1, 5);
        assert_eq!(
            command(&spec(
                json!({"paths": ["/var/log/app", "/tmp/x y"], "recurse": true, "depth": 2})
            )),
            format!(
                "date +%s; for p in /var/log/app '/tmp/x y'; do [ -d \"$p\" ] && find \"$p\" -mindepth 1 -maxdepth 2 -printf '{FORMAT}' 2>/dev/null; done; true"
            )
        );
        assert!(
            FindSpec::from_args(&Args(
                json!({"paths": "/x", "age": "soon"})
                    .as_object()
                    .unwrap()
                    .clone()
            ))
            .is_err()
        );
    }
}
