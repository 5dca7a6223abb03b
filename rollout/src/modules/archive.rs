//! archive (community.general): files and folders on the host packed into a tar (gz, bz2, xz or
//! plain) or zip archive, or one file compressed on its own (gz, bz2, xz) as the module does
//! unless `force_archive`. Members are named relative to the sources' common folder, as the
//! module names them. The archive is written to a private temporary name beside `dest` and moved
//! into place; it is remade only when it is missing or a source is newer than it, so a second run
//! changes nothing. `remove` deletes the sources once archived.

use std::path::Path;

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome, reports_change};

/// The archive's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Gz,
    Bz2,
    Xz,
    Tar,
    Zip,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Gz => "gz",
            Format::Bz2 => "bz2",
            Format::Xz => "xz",
            Format::Tar => "tar",
            Format::Zip => "zip",
        }
    }
}

/// The task, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub paths: Vec<String>,
    pub dest: String,
    pub format: Format,
    pub exclude: Vec<String>,
    pub remove: bool,
    /// One path, which is compressed as itself when it is a file (a folder is packed).
    pub compress_only: bool,
}

/// The folder that holds every path (what members are named relative to).
pub fn common_root(paths: &[String]) -> String {
    let parents: Vec<Vec<&str>> = paths
        .iter()
        .map(|p| {
            let parent = Path::new(p.trim_end_matches('/'))
                .parent()
                .and_then(Path::to_str)
                .unwrap_or("/");
            parent.split('/').filter(|c| !c.is_empty()).collect()
        })
        .collect();
    let mut common: Vec<&str> = parents.first().cloned().unwrap_or_default();
    for p in &parents[1..] {
        let n = common.iter().zip(p).take_while(|(a, b)| a == b).count();
        common.truncate(n);
    }
    format!("/{}", common.join("/"))
}

impl Spec {
    pub fn from_args(args: &Args) -> Result<Spec, String> {
        let paths = args.list("path");
        if paths.is_empty() {
            return Err("archive needs `path`".into());
        }
        if let Some(p) = paths.iter().find(|p| !p.starts_with('/')) {
            return Err(format!("archive: `{p}` is not an absolute path"));
        }
        if paths.iter().any(|p| p.contains(['*', '?', '['])) {
            return Err(
                "archive: glob patterns in `path` are not supported; list the paths".into(),
            );
        }
        let format = match args.str("format").as_deref() {
            None | Some("gz") => Format::Gz,
            Some("bz2") => Format::Bz2,
            Some("xz") => Format::Xz,
            Some("tar") => Format::Tar,
            Some("zip") => Format::Zip,
            Some(other) => {
                return Err(format!(
                    "archive: `format: {other}` is not gz, bz2, xz, tar or zip"
                ));
            }
        };
        let single = paths.len() == 1;
        let compress_only = single
            && args.bool("force_archive") != Some(true)
            && matches!(format, Format::Gz | Format::Bz2 | Format::Xz);
        let dest = match args.str("dest") {
            Some(d) => d,
            None if single => format!("{}.{}", paths[0].trim_end_matches('/'), format.extension()),
            None => return Err("archive: `dest` is needed for more than one path".into()),
        };
        Ok(Spec {
            paths,
            dest,
            format,
            exclude: args.list("exclude_path"),
            remove: args.bool("remove") == Some(true),
            compress_only,
        })
    }

    /// The script: prints `changed` when it (re)made the archive (or would, in check mode).
    pub fn command(&self, check: bool) -> String {
        let dest = quote(&self.dest);
        let sources: String = self
            .paths
            .iter()
            .map(|p| format!(" {}", quote(p)))
            .collect();
        let root = common_root(&self.paths);
        let members: String = self
            .paths
            .iter()
            .map(|p| {
                let rel = p.trim_end_matches('/').strip_prefix(&root).unwrap_or(p);
                format!(" {}", quote(rel.trim_start_matches('/')))
            })
            .collect();
        // A single file compressed on its own is a folder-less path: `-d` tells a folder from it.
        let mut s = format!(
            "for p in{sources}; do [ -e \"$p\" ] || {{ echo \"$p: no such file\" >&2; exit 1; }}; done; \
             if [ -e {dest} ] && [ -z \"$(find{sources} -newer {dest} -print -quit 2>/dev/null)\" ]; then exit 0; fi; "
        );
        if check {
            s.push_str("echo changed");
            return s;
        }
        let dir = Path::new(&self.dest)
            .parent()
            .and_then(Path::to_str)
            .filter(|d| !d.is_empty())
            .unwrap_or("/");
        s.push_str(&format!(
            "tmp=$(mktemp -p {} .drover-archive.XXXXXXXX) || exit 1; trap 'rm -f \"$tmp\"' EXIT; ",
            quote(dir)
        ));
        let root_q = quote(&root);
        let tar = if self.format == Format::Zip {
            let excludes: String = self
                .exclude
                .iter()
                .map(|e| {
                    let rel = e.strip_prefix(&root).unwrap_or(e).trim_start_matches('/');
                    format!(" -x {} {}", quote(rel), quote(&format!("{rel}/*")))
                })
                .collect();
            format!("rm -f \"$tmp\"; (cd {root_q} && zip -qr \"$tmp\"{members}{excludes})")
        } else {
            let z = match self.format {
                Format::Gz => "z",
                Format::Bz2 => "j",
                Format::Xz => "J",
                _ => "",
            };
            let excludes: String = self
                .exclude
                .iter()
                .map(|e| {
                    let rel = e.strip_prefix(&root).unwrap_or(e).trim_start_matches('/');
                    format!(" --exclude={}", quote(rel))
                })
                .collect();
            format!("tar -c{z}f \"$tmp\" -C {root_q}{excludes}{members}")
        };
        // One path: a folder is packed, a file compressed as itself.
        let pack = if self.compress_only {
            let tool = match self.format {
                Format::Bz2 => "bzip2",
                Format::Xz => "xz",
                _ => "gzip",
            };
            format!("if [ -d{sources} ]; then {tar}; else {tool} -c{sources} > \"$tmp\"; fi")
        } else {
            tar
        };
        s.push_str(&format!(
            "{pack} || exit 1; chmod 644 \"$tmp\"; mv -f \"$tmp\" {dest} || exit 1; "
        ));
        if self.remove {
            s.push_str(&format!("rm -rf --{sources} || exit 1; "));
        }
        s.push_str("echo changed");
        s
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match Spec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    match ctx.output_of(&spec.command(ctx.check), "archive").await {
        Ok(o) => {
            let mut out = Outcome {
                changed: reports_change(&o),
                ..Outcome::default()
            };
            out.result.insert("dest".into(), spec.dest.clone().into());
            out.result
                .insert("archived".into(), serde_json::json!(spec.paths));
            out
        }
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> Spec {
        Spec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn members_are_named_from_the_common_folder() {
        assert_eq!(common_root(&["/srv/app".into()]), "/srv");
        assert_eq!(
            common_root(&["/srv/app/a".into(), "/srv/app/b/c".into()]),
            "/srv/app"
        );
        assert_eq!(common_root(&["/etc/x".into(), "/srv/y".into()]), "/");
        let s = spec(
            json!({"path": ["/srv/app"], "dest": "/var/backups/app.tgz", "exclude_path": ["/srv/app/cache"]}),
        );
        assert!(
            s.compress_only,
            "one path: a folder is packed, a file compressed"
        );
        let c = s.command(false);
        assert!(
            c.contains("tmp=$(mktemp -p /var/backups .drover-archive.XXXXXXXX)"),
            "{c}"
        );
        assert!(c.contains("then tar -czf \"$tmp\" -C /srv --exclude=app/cache app; else gzip -c /srv/app > \"$tmp\"; fi || exit 1; chmod 644 \"$tmp\"; mv -f \"$tmp\" /var/backups/app.tgz"), "{c}");
        assert!(c.contains("-newer /var/backups/app.tgz"), "{c}");
        assert!(s.command(true).ends_with("exit 0; fi; echo changed"));
    }

    #[test]
    fn one_file_is_compressed_as_itself_unless_force_archive() {
        let s = spec(json!({"path": "/var/log/app.log", "format": "xz"}));
        assert!(s.compress_only);
        assert_eq!(s.dest, "/var/log/app.log.xz");
        assert!(s.command(false).contains(
            "if [ -d /var/log/app.log ]; then tar -cJf \"$tmp\" -C /var/log app.log; else xz -c /var/log/app.log > \"$tmp\"; fi || exit 1"
        ));
        let t = spec(
            json!({"path": "/var/log/app.log", "force_archive": true, "dest": "/tmp/a.tar.gz"}),
        );
        assert!(
            t.command(false)
                .contains("tar -czf \"$tmp\" -C /var/log app.log")
        );
        let z = spec(
            json!({"path": ["/srv/a", "/srv/b"], "dest": "/tmp/x.zip", "format": "zip", "remove": true}),
        );
        let c = z.command(false);
        assert!(c.contains("(cd /srv && zip -qr \"$tmp\" a b)"), "{c}");
        assert!(c.contains("rm -rf -- /srv/a /srv/b || exit 1; "), "{c}");
        assert!(
            Spec::from_args(&Args(
                json!({"path": ["/a", "/b"]}).as_object().unwrap().clone()
            ))
            .is_err()
        );
    }
}
