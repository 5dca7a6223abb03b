//! unarchive: a tar (plain, gzip, bzip2, xz) or zip archive unpacked into a folder on the host, as
//! Ansible's module does: the archive comes from the controller (found as `copy` finds `src`, sent
//! on standard input), from a path on the host (`remote_src`), or from a URL the host fetches. It is
//! unpacked first into a private folder inside `dest` and compared with what is there, so a second
//! run changes nothing; only a difference unpacks it into `dest`. `creates` skips the task when a path
//! exists. One round trip: a script built here and tested as an exact string.

use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome, reports_change};

/// Where the archive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Archive {
    /// Sent on standard input (from the controller).
    Stdin,
    /// A file on the host.
    Path(String),
    /// A URL the host fetches with curl.
    Url { url: String, validate_certs: bool },
}

/// What the task asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnarchiveSpec {
    pub archive: Archive,
    pub dest: String,
    pub creates: Option<String>,
    pub extra_opts: Vec<String>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub list_files: bool,
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

/// Whether the task reads `src` on the host (`remote_src`, or the old `copy: false`).
pub fn is_remote(args: &Args) -> bool {
    args.bool("remote_src")
        .or_else(|| args.bool("copy").map(|c| !c))
        .unwrap_or(false)
}

impl UnarchiveSpec {
    /// The parameters; `archive` says where the archive is (the caller found a local `src`).
    pub fn from_args(args: &Args, archive: Archive) -> Result<UnarchiveSpec, String> {
        let dest = args.str("dest").ok_or("unarchive needs `dest`")?;
        let include = args.list("include");
        let exclude = args.list("exclude");
        if !include.is_empty() && !exclude.is_empty() {
            return Err("unarchive: `include` and `exclude` cannot be given together".into());
        }
        Ok(UnarchiveSpec {
            archive,
            dest,
            creates: args.str("creates"),
            extra_opts: args.list("extra_opts"),
            include,
            exclude,
            list_files: args.bool("list_files").unwrap_or(false),
            mode: args.mode("mode").map_err(|e| format!("unarchive: {e}"))?,
            owner: args.str("owner"),
            group: args.str("group"),
        })
    }
}

fn words(items: &[String]) -> String {
    items.iter().map(|w| format!(" {}", quote(w))).collect()
}

/// The script. It prints `changed` when it unpacked (or would, with `check`) or fixed owner or mode,
/// `skipped` when `creates` exists, and each member as `file:NAME` with `list_files`.
pub fn command(spec: &UnarchiveSpec, check: bool) -> String {
    let d = quote(&spec.dest);
    let extra = words(&spec.extra_opts);
    let (tar_filter, zip_filter) = if !spec.include.is_empty() {
        (
            format!(" --wildcards --{}", words(&spec.include)),
            words(&spec.include),
        )
    } else {
        let tar: String = spec
            .exclude
            .iter()
            .map(|p| format!(" {}", quote(&format!("--exclude={p}"))))
            .collect();
        let zip = if spec.exclude.is_empty() {
            String::new()
        } else {
            format!(" -x{}", words(&spec.exclude))
        };
        (tar, zip)
    };
    let creates = spec.creates.as_ref().map_or(String::new(), |c| {
        format!(
            "if [ -e {} ]; then cat > /dev/null; echo skipped; exit 0; fi; ",
            quote(c)
        )
    });
    let (fetch, archive) = match &spec.archive {
        Archive::Stdin => ("cat > \"$a\" || exit 1; ".to_string(), "\"$a\"".to_string()),
        Archive::Url {
            url,
            validate_certs,
        } => (
            format!(
                "curl -fsSL{} -- {} > \"$a\" || exit 1; ",
                if *validate_certs { "" } else { " --insecure" },
                quote(url)
            ),
            "\"$a\"".to_string(),
        ),
        Archive::Path(p) => (
            format!(
                "[ -f {0} ] || {{ echo 'Source '{0}' does not exist' >&2; exit 1; }}; ",
                quote(p)
            ),
            quote(p),
        ),
    };
    let attrs = {
        let mut fix = String::new();
        if let Some(mode) = spec.mode {
            fix.push_str(&format!(
                "[ \"$(stat -c %a -- \"$p\")\" = {mode:o} ] || {{ {act}chmod {mode:o} -- \"$p\"; echo changed; }}; ",
                act = if check { ": " } else { "" }
            ));
        }
        if spec.owner.is_some() || spec.group.is_some() {
            let want = format!(
                "{}:{}",
                spec.owner.as_deref().map_or_else(|| "*".to_string(), quote),
                spec.group.as_deref().map_or_else(|| "*".to_string(), quote)
            );
            let who = match (&spec.owner, &spec.group) {
                (Some(o), Some(g)) => format!("{o}:{g}"),
                (Some(o), None) => o.clone(),
                (None, Some(g)) => format!(":{g}"),
                (None, None) => String::new(),
            };
            fix.push_str(&format!(
                "case \"$(stat -c %U:%G -- \"$p\")\" in {want}) ;; *) {act}chown -h {who} -- \"$p\"; echo changed ;; esac; ",
                who = quote(&who),
                act = if check { ": " } else { "" }
            ));
        }
        if fix.is_empty() {
            String::new()
        } else {
            // In check mode a member not in dest yet is counted by the difference already.
            format!(
                "(cd \"$w\" && find . -mindepth 1) | while IFS= read -r m; do p=$d_/\"$m\"; [ -e \"$p\" ] || [ -L \"$p\" ] || continue; {fix}done; "
            )
        }
    };
    let list = if spec.list_files {
        "(cd \"$w\" && find . -mindepth 1 | sed 's|^\\./|file:|'); "
    } else {
        ""
    };
    let unpack = if check { ":" } else { "x \"$d_\"" };
    format!(
        "{creates}d_={d}; [ -d \"$d_\" ] || {{ echo \"Destination $d_ is not a directory\" >&2; exit 1; }}; \
         a=$(mktemp) && w=$(mktemp -d \"$d_/.drover-unarchive-XXXXXX\") || exit 1; trap 'rm -rf \"$a\" \"$w\"' EXIT; \
         {fetch}\
         if unzip -Z1 {archive} >/dev/null 2>&1; then k=zip; elif tar -tf {archive} >/dev/null 2>&1; then k=tar; \
         else echo \"Failed to find handler for \"{archive}\": tar and unzip cannot read it\" >&2; exit 1; fi; \
         x() {{ if [ $k = zip ]; then unzip -q -o{extra} {archive}{zip_filter} -d \"$1\"; else tar -x -f {archive} -C \"$1\"{extra}{tar_filter}; fi; }}; \
         x \"$w\" || exit 1; \
         diffs=$( (cd \"$w\" && find . -mindepth 1) | while IFS= read -r m; do s=\"$w/$m\" t=\"$d_/$m\"; \
         if [ -L \"$s\" ]; then [ -L \"$t\" ] && [ \"$(readlink -- \"$s\")\" = \"$(readlink -- \"$t\")\" ] || echo \"$m\"; \
         elif [ -d \"$s\" ]; then [ -d \"$t\" ] || echo \"$m\"; \
         else cmp -s -- \"$s\" \"$t\" || echo \"$m\"; fi; done ); \
         if [ -n \"$diffs\" ]; then {unpack} || exit 1; echo changed; fi; \
         {attrs}{list}true"
    )
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(src) = args.str("src") else {
        return Outcome::bad_input("unarchive needs `src`");
    };
    let remote = is_remote(args);
    let is_url = ["http://", "https://", "ftp://"]
        .iter()
        .any(|s| src.starts_with(s));
    let (archive, stdin) = if is_url {
        let validate_certs = args.bool("validate_certs").unwrap_or(true);
        (
            Archive::Url {
                url: src.clone(),
                validate_certs,
            },
            Vec::new(),
        )
    } else if remote {
        (Archive::Path(src.clone()), Vec::new())
    } else {
        let Some(path) = drover_roles::resolve_file(&src, "files", ctx.search) else {
            return Outcome::fail(format!("unarchive source `{src}` not found under files/"));
        };
        match std::fs::read(&path) {
            Ok(bytes) => (Archive::Stdin, bytes),
            Err(e) => return Outcome::fail(format!("{}: {e}", path.display())),
        }
    };
    let spec = match UnarchiveSpec::from_args(args, archive) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let cmd = command(&spec, ctx.check);
    let stdout = match ctx
        .output_with(&cmd, &stdin, &format!("unarchive {src}"))
        .await
    {
        Ok(o) => o,
        Err(e) => return Outcome::fail(e),
    };
    let text = String::from_utf8_lossy(&stdout);
    if text.lines().any(|l| l == "skipped") {
        return Outcome {
            skipped: true,
            msg: format!("skipped, since {} exists", spec.creates.unwrap_or_default()),
            ..Outcome::default()
        };
    }
    let mut outcome = Outcome {
        changed: reports_change(&stdout),
        ..Outcome::default()
    };
    outcome.result.insert("dest".into(), json!(spec.dest));
    outcome.result.insert("src".into(), json!(src));
    if spec.list_files {
        let files: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("file:"))
            .collect();
        outcome.result.insert("files".into(), json!(files));
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as Json, json};

    fn spec(v: Json, archive: Archive) -> Result<UnarchiveSpec, String> {
        UnarchiveSpec::from_args(&Args(v.as_object().unwrap().clone()), archive)
    }

    #[test]
    fn the_parameters_are_read_as_ansible_names_them() {
        let a = |v: Json| Args(v.as_object().unwrap().clone());
        assert!(is_remote(&a(json!({"remote_src": true}))));
        assert!(is_remote(&a(json!({"copy": "no"}))));
        assert!(!is_remote(&a(json!({"copy": true}))));
        let s = spec(json!({"dest": "/opt", "extra_opts": ["--strip-components=1"], "exclude": "docs/*", "mode": "0755"}), Archive::Stdin).unwrap();
        assert_eq!(
            (s.extra_opts.as_slice(), s.exclude.as_slice(), s.mode),
            (
                &["--strip-components=1".to_string()][..],
                &["docs/*".to_string()][..],
                Some(0o755)
            )
        );
        assert!(
            spec(
                json!({"dest": "/opt", "include": ["a"], "exclude": ["b"]}),
                Archive::Stdin
            )
            .is_err()
        );
        assert!(spec(json!({"src": "x"}), Archive::Stdin).is_err());
    }

    #[test]
    fn the_script_unpacks_only_a_difference() {
        let s = spec(
            json!({"dest": "/opt/app; x", "creates": "/opt/app/bin", "extra_opts": ["--strip-components=1"], "exclude": ["*.md"], "owner": "app", "list_files": true}),
            Archive::Url { url: "https://example.org/app.tgz".into(), validate_certs: true },
        )
        .unwrap();
        assert_eq!(
            command(&s, false),
            "if [ -e /opt/app/bin ]; then cat > /dev/null; echo skipped; exit 0; fi; d_='/opt/app; x'; [ -d \"$d_\" ] || { echo \"Destination $d_ is not a directory\" >&2; exit 1; }; \
             a=$(mktemp) && w=$(mktemp -d \"$d_/.drover-unarchive-XXXXXX\") || exit 1; trap 'rm -rf \"$a\" \"$w\"' EXIT; \
             curl -fsSL -- https://example.org/app.tgz > \"$a\" || exit 1; \
             if unzip -Z1 \"$a\" >/dev/null 2>&1; then k=zip; elif tar -tf \"$a\" >/dev/null 2>&1; then k=tar; \
             else echo \"Failed to find handler for \"\"$a\"\": tar and unzip cannot read it\" >&2; exit 1; fi; \
             x() { if [ $k = zip ]; then unzip -q -o --strip-components=1 \"$a\" -x '*.md' -d \"$1\"; else tar -x -f \"$a\" -C \"$1\" --strip-components=1 '--exclude=*.md'; fi; }; \
             x \"$w\" || exit 1; \
             diffs=$( (cd \"$w\" && find . -mindepth 1) | while IFS= read -r m; do s=\"$w/$m\" t=\"$d_/$m\"; \
             if [ -L \"$s\" ]; then [ -L \"$t\" ] && [ \"$(readlink -- \"$s\")\" = \"$(readlink -- \"$t\")\" ] || echo \"$m\"; \
             elif [ -d \"$s\" ]; then [ -d \"$t\" ] || echo \"$m\"; \
             else cmp -s -- \"$s\" \"$t\" || echo \"$m\"; fi; done ); \
             if [ -n \"$diffs\" ]; then x \"$d_\" || exit 1; echo changed; fi; \
             (cd \"$w\" && find . -mindepth 1) | while IFS= read -r m; do p=$d_/\"$m\"; [ -e \"$p\" ] || [ -L \"$p\" ] || continue; \
             case \"$(stat -c %U:%G -- \"$p\")\" in app:*) ;; *) chown -h app -- \"$p\"; echo changed ;; esac; done; \
             (cd \"$w\" && find . -mindepth 1 | sed 's|^\\./|file:|'); true"
        );
        // Check mode: nothing is unpacked into dest, and no owner is changed.
        let check = command(&s, true);
        assert!(
            check.contains("if [ -n \"$diffs\" ]; then : || exit 1; echo changed; fi"),
            "{check}"
        );
        assert!(check.contains("*) : chown -h app"), "{check}");
        let local = spec(
            json!({"dest": "/srv", "include": ["bin/*"]}),
            Archive::Path("/tmp/a.zip".into()),
        )
        .unwrap();
        let cmd = command(&local, false);
        assert!(
            cmd.contains(
                "[ -f /tmp/a.zip ] || { echo 'Source '/tmp/a.zip' does not exist' >&2; exit 1; }; "
            ),
            "{cmd}"
        );
        assert!(cmd.contains("unzip -q -o /tmp/a.zip 'bin/*' -d \"$1\"; else tar -x -f /tmp/a.zip -C \"$1\" --wildcards -- 'bin/*'; fi"), "{cmd}");
    }
}
