//! copy, template, file, lineinfile and fetch.

use std::path::{Path, PathBuf};

use drover_roles::ModuleKind;
use drover_ssh::shell::{quote, split_words, temp_path, write_via};
use serde_json::json;
use similar::TextDiff;

use super::lineinfile::{self, LineSpec};
use super::{Args, ModuleCtx, Outcome};
use crate::local_files::{host_file_name, join_inside, write_private};

/// A file as found on the host.
#[derive(Debug, PartialEq, Eq)]
pub enum Remote {
    /// No file there.
    Missing,
    /// A regular file with its mode and content.
    File { mode: u32, content: Vec<u8> },
}

/// One round trip that tells whether `path` exists, and its mode and content.
pub fn read_state_command(path: &str) -> String {
    let p = quote(path);
    format!(
        "if [ -f {p} ]; then stat -L -c %a -- {p} && cat -- {p}; elif [ -e {p} ]; then echo 'exists but is not a regular file' >&2; exit 4; else exit 3; fi"
    )
}

pub(super) async fn read_state(ctx: &ModuleCtx<'_>, path: &str) -> Result<Remote, String> {
    let out = ctx
        .exec(&read_state_command(path), b"")
        .await
        .map_err(|e| e.to_string())?;
    match out.status {
        drover_ssh::ExitStatus::Code(0) => {
            let split = out
                .stdout
                .iter()
                .position(|b| *b == b'\n')
                .unwrap_or(out.stdout.len());
            let mode = std::str::from_utf8(&out.stdout[..split])
                .ok()
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
                .unwrap_or(0o644);
            Ok(Remote::File {
                mode,
                content: out.stdout.get(split + 1..).unwrap_or_default().to_vec(),
            })
        }
        drover_ssh::ExitStatus::Code(3) => Ok(Remote::Missing),
        _ => Err(format!(
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// A unified diff between what is there and what will be.
pub(crate) fn unified(path: &str, before: &[u8], after: &[u8]) -> String {
    let (a, b) = (
        String::from_utf8_lossy(before),
        String::from_utf8_lossy(after),
    );
    TextDiff::from_lines(a.as_ref(), b.as_ref())
        .unified_diff()
        .header(&format!("before: {path}"), &format!("after: {path}"))
        .to_string()
}

/// How a new content is written beside its mode: a backup of the file it replaces (`backup`, named
/// as Ansible names it: `PATH.PID.YYYY-MM-DD@HH:MM:SS~`) and a command that must accept the new
/// content before it replaces the old (`validate`, with `%s` for the temporary file).
#[derive(Debug, Clone, Default)]
pub struct WriteOpts {
    pub mode: Option<FileMode>,
    pub backup: bool,
    pub validate: Option<String>,
}

/// A file mode as a task gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileMode {
    /// `0644`.
    Octal(u32),
    /// As chmod takes it (`u+x`, `a=r,u+w`): applied to the file's current mode, or to 0644 for a
    /// new file, as Ansible applies it.
    Symbolic(String),
}

impl FileMode {
    /// The mode (octal digits, as a shell word) a file whose mode is now `current` (a shell word:
    /// digits, or an expansion) gets. A symbolic mode is applied by chmod itself to a private
    /// scratch file of that mode, so the host's own chmod (and umask, for `+x` without a who)
    /// decides, as Ansible's does.
    pub fn resolved(&self, current: &str) -> String {
        match self {
            FileMode::Octal(m) => format!("{m:o}"),
            FileMode::Symbolic(s) => format!(
                "$(s=$(mktemp) && chmod {current} \"$s\" && chmod {} \"$s\" && stat -c %a \"$s\"; rm -f \"$s\")",
                quote(s)
            ),
        }
    }
}

/// A file a task writes: where, how, and whose.
#[derive(Debug, Clone, Default)]
pub struct FileTarget {
    pub path: String,
    pub write: WriteOpts,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl FileTarget {
    /// Whether the task asks for a mode, owner or group (which may need fixing even when the text
    /// is already right).
    pub fn sets_attributes(&self) -> bool {
        self.write.mode.is_some() || self.owner.is_some() || self.group.is_some()
    }

    /// The target at `path` with the task's `mode`, `owner`, `group`, `backup` and `validate`.
    pub fn from_args(path: String, args: &Args) -> Result<FileTarget, String> {
        let validate = args.str("validate");
        if validate.as_ref().is_some_and(|v| !v.contains("%s")) {
            return Err("`validate` must contain %s (the file to check)".into());
        }
        Ok(FileTarget {
            path,
            write: WriteOpts {
                mode: args.file_mode("mode")?,
                backup: args.bool("backup") == Some(true),
                validate,
            },
            owner: args.str("owner"),
            group: args.str("group"),
        })
    }
}

/// The `validate` command for the temporary file `tmp`: its words, as `command` splits them (no
/// shell), with `%s` replaced by the file, each quoted.
pub fn validate_command(validate: &str, tmp: &str) -> Result<String, String> {
    let words = split_words(validate).map_err(|e| format!("`validate`: {e}"))?;
    Ok(words
        .iter()
        .map(|w| quote(&w.replace("%s", tmp)))
        .collect::<Vec<_>>()
        .join(" "))
}

/// [`validate_command`] for a temporary file whose path is in the shell variable `var` (known only
/// when the command runs): `%s` becomes `"$var"`, joined to the rest of its word.
pub fn validate_command_var(validate: &str, var: &str) -> Result<String, String> {
    let words = split_words(validate).map_err(|e| format!("`validate`: {e}"))?;
    Ok(words
        .iter()
        .map(|w| {
            w.split("%s")
                .map(|piece| {
                    if piece.is_empty() {
                        String::new()
                    } else {
                        quote(piece)
                    }
                })
                .collect::<Vec<_>>()
                .join(&format!("\"${var}\""))
        })
        .collect::<Vec<_>>()
        .join(" "))
}

/// One round trip that puts `content` (sent on stdin) at `path` unless a file with the same SHA-256
/// is there, sets `mode` (or keeps the file's, 0644 for a new one), and prints `changed MODE` or
/// `unchanged MODE` (and `backup PATH` when it kept one). Nothing is written when the content is the
/// same, so a read-only folder is fine. A new content goes through `tmp`, created exclusively
/// ([`drover_ssh::shell::write_via`]).
pub fn put_command(path: &str, tmp: &str, content: &[u8], mode: Option<u32>) -> String {
    put_command_with(
        path,
        tmp,
        content,
        &WriteOpts {
            mode: mode.map(FileMode::Octal),
            ..WriteOpts::default()
        },
    )
    .unwrap_or_default()
}

/// [`put_command`] with a backup and a validation.
pub fn put_command_with(
    path: &str,
    tmp: &str,
    content: &[u8],
    opts: &WriteOpts,
) -> Result<String, String> {
    use sha2::Digest;
    let sum: String = sha2::Sha256::digest(content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let p = quote(path);
    let current = format!("$(stat -L -c %a -- {p} 2>/dev/null || echo 644)");
    let m = opts
        .mode
        .as_ref()
        .map_or_else(|| current.clone(), |m| m.resolved(&current));
    let validate = opts
        .validate
        .as_deref()
        .map(|v| validate_command(v, tmp))
        .transpose()?;
    let (backup, report) = if opts.backup {
        (
            format!(
                "b=; if [ -f {p} ]; then b={p}.$$.$(date +%Y-%m-%d@%H:%M:%S)~; cp -p -- {p} \"$b\" || exit 1; fi; "
            ),
            "; [ -z \"$b\" ] || echo \"backup $b\"",
        )
    } else {
        (String::new(), "")
    };
    Ok(format!(
        "if [ -e {p} ] && [ ! -f {p} ]; then echo 'exists but is not a regular file' >&2; exit 4; fi; \
         m={m}; \
         if [ -f {p} ] && [ \"$(sha256sum < {p})\" = '{sum}  -' ]; then cat > /dev/null; \
         if [ \"$(stat -L -c %a -- {p})\" = \"$m\" ]; then echo unchanged $m; else chmod \"$m\" -- {p} && echo changed $m; fi; \
         else {backup}{} && echo changed $m{report}; fi",
        write_via(path, tmp, "\"$m\"", validate.as_deref())
    ))
}

/// Puts `content` at the target in one round trip (see [`put_command_with`]), for runs that need
/// no diff.
async fn put_content(
    ctx: &ModuleCtx<'_>,
    target: &FileTarget,
    content: &[u8],
    mode: Option<FileMode>,
) -> Outcome {
    let dest = &target.path;
    let opts = WriteOpts {
        mode,
        ..target.write.clone()
    };
    let mut cmd = match put_command_with(dest, &temp_path(dest), content, &opts) {
        Ok(c) => c,
        Err(e) => return Outcome::bad_input(e),
    };
    if let Some(chown) = chown_command(dest, target.owner.as_deref(), target.group.as_deref()) {
        cmd = format!("{{ {cmd}; }} && {chown}");
    }
    let o = match ctx.exec(&cmd, content).await {
        Ok(o) => o,
        Err(e) => return Outcome::fail(format!("writing {dest}: {e}")),
    };
    if !o.status.success() {
        return Outcome::fail(format!(
            "writing {dest}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    let report = String::from_utf8_lossy(&o.stdout);
    let mode = report
        .split_whitespace()
        .nth(1)
        .and_then(|m| u32::from_str_radix(m, 8).ok())
        .unwrap_or(0o644);
    let mut out = file_outcome(dest, report.lines().any(|l| l.starts_with("changed")), mode);
    if let Some(backup) = report.lines().find_map(|l| l.strip_prefix("backup ")) {
        out.result.insert("backup_file".into(), json!(backup));
    }
    out
}

/// A file task's result: whether it changed, and the file's path and mode.
fn file_outcome(dest: &str, changed: bool, mode: u32) -> Outcome {
    let mut out = Outcome {
        changed,
        ..Outcome::default()
    };
    out.result.insert("dest".into(), json!(dest));
    out.result
        .insert("mode".into(), json!(format!("{mode:04o}")));
    out
}

/// The whitespace and delimiter settings a `template` task gives, as `#jinja2:` header values.
fn template_settings(args: &Args) -> Vec<(&'static str, String)> {
    let mut settings = Vec::new();
    for key in ["trim_blocks", "lstrip_blocks"] {
        if let Some(b) = args.bool(key) {
            settings.push((key, if b { "True" } else { "False" }.to_string()));
        }
    }
    for key in [
        "variable_start_string",
        "variable_end_string",
        "block_start_string",
        "block_end_string",
    ] {
        if let Some(v) = args.str(key) {
            settings.push((key, format!("'{v}'")));
        }
    }
    settings
}

/// Puts `content` at the target unless it is already there; reports the change and its diff.
pub(super) async fn ensure_content(
    ctx: &ModuleCtx<'_>,
    target: &FileTarget,
    content: &[u8],
) -> Outcome {
    let dest = &target.path;
    // --check and --diff need what is there now; otherwise one round trip does everything.
    if !ctx.check && !ctx.diff {
        return put_content(ctx, target, content, target.write.mode.clone()).await;
    }
    let current = match read_state(ctx, dest).await {
        Ok(c) => c,
        Err(e) => return Outcome::fail(e),
    };
    let (before, current_mode) = match &current {
        Remote::Missing => (&b""[..], None),
        Remote::File { mode, content } => (&content[..], Some(*mode)),
    };
    let want_mode = match (&target.write.mode, current_mode) {
        (Some(FileMode::Octal(m)), _) => *m,
        (Some(sym @ FileMode::Symbolic(_)), current) => {
            match resolve_on_host(ctx, sym, current.unwrap_or(0o644)).await {
                Ok(m) => m,
                Err(e) => return Outcome::fail(format!("{dest}: {e}")),
            }
        }
        (None, current) => current.unwrap_or(0o644),
    };
    let changed =
        current == Remote::Missing || before != content || current_mode != Some(want_mode);
    let diff = (ctx.diff && changed).then(|| unified(dest, before, content));
    let mut out = if ctx.check {
        file_outcome(dest, changed, want_mode)
    } else {
        put_content(ctx, target, content, Some(FileMode::Octal(want_mode))).await
    };
    if !out.failed {
        out.diff = diff;
    }
    out
}

/// What a symbolic mode makes of `current` on the host (for check mode and diffs, which must know
/// the mode before anything is written).
async fn resolve_on_host(
    ctx: &ModuleCtx<'_>,
    mode: &FileMode,
    current: u32,
) -> Result<u32, String> {
    let cmd = format!("echo {}", mode.resolved(&format!("{current:o}")));
    let out = ctx.output_of(&cmd, "apply the symbolic mode").await?;
    let text = String::from_utf8_lossy(&out);
    u32::from_str_radix(text.trim(), 8).map_err(|_| format!("chmod made no mode of it: {text}"))
}

/// A symbolic link at `path` to `src`, as Ansible's file module makes it: a link elsewhere is
/// pointed again; a file or folder in its place, or a `src` that does not exist (read from the
/// link's folder when relative), is refused unless `force` (which replaces a file or an empty
/// folder, and links to a missing `src`).
fn link_command(path: &str, src: &str, force: bool, act: &dyn Fn(String) -> String) -> String {
    let (p, s) = (quote(path), quote(src));
    let refuse = |msg: String| format!("{{ echo {} >&2; exit 1; }}", quote(&msg));
    let in_place = if force {
        format!(
            "if [ -d {p} ] && [ ! -L {p} ]; then rmdir -- {p} 2>/dev/null || {}; fi; ",
            refuse(format!(
                "the directory {path} is not empty, refusing to convert it"
            ))
        )
    } else {
        format!(
            "if [ -e {p} ] && [ ! -L {p} ]; then {}; fi; ( cd \"$(dirname -- {p})\" 2>/dev/null && [ -e {s} ] ) || {}; ",
            refuse(format!(
                "refusing to convert from file to symlink for {path}"
            )),
            refuse(format!(
                "src file does not exist, use \"force=yes\" if you really want to create the link: {src}"
            ))
        )
    };
    format!(
        "[ -L {p} ] && [ \"$(readlink -- {p})\" = {s} ] || {{ {in_place}{}; }}",
        act(format!("ln -sfn -- {s} {p}"))
    )
}

/// A command that writes its standard input over `path` (through [`write_via`]), keeping the
/// file's mode (0644 for a new file), as modules that edit a file in place write it back.
pub fn rewrite_command(path: &str) -> String {
    format!(
        "m=$(stat -c %a -- {} 2>/dev/null || echo 644); {}",
        quote(path),
        write_via(path, &temp_path(path), "\"$m\"", None)
    )
}

/// `chown` only when the owner differs; prints `changed` when it acted.
pub fn chown_command(path: &str, owner: Option<&str>, group: Option<&str>) -> Option<String> {
    ownership_fix(path, owner, group, |chown| {
        format!("{chown} && echo changed")
    })
}

/// A shell fragment that runs `act(chown ...)` when `path`'s owner or group is not the one asked
/// for (`None` when neither is asked for). `act` says what doing it means (in check mode: only
/// saying it would change). Owner and group are quoted; the comparison is exact, not a pattern.
fn ownership_fix(
    path: &str,
    owner: Option<&str>,
    group: Option<&str>,
    act: impl Fn(String) -> String,
) -> Option<String> {
    ownership_fix_at(&quote(path), owner, group, act)
}

/// [`ownership_fix`] for a path given as a shell word already (quoted, or `"$d"`).
pub(super) fn ownership_fix_at(
    p: &str,
    owner: Option<&str>,
    group: Option<&str>,
    act: impl Fn(String) -> String,
) -> Option<String> {
    let spec = match (owner, group) {
        (None, None) => return None,
        (Some(o), None) => o.to_string(),
        (None, Some(g)) => format!(":{g}"),
        (Some(o), Some(g)) => format!("{o}:{g}"),
    };
    let want = format!(
        "{}:{}",
        owner.map_or_else(|| "*".to_string(), quote),
        group.map_or_else(|| "*".to_string(), quote)
    );
    Some(format!(
        "cur=$(stat -L -c %U:%G -- {p}) && case \"$cur\" in {want}) ;; *) {} ;; esac",
        act(format!("chown {} -- {p}", quote(&spec)))
    ))
}

/// The path a symbolic link at `path` leads to, or `path` itself when it is no link.
async fn followed(path: &str, ctx: &ModuleCtx<'_>) -> Result<String, String> {
    let p = quote(path);
    let out = ctx
        .output_of(
            &format!("if [ -L {p} ]; then readlink -f -- {p}; else printf '%s\\n' {p}; fi"),
            "following the link at dest",
        )
        .await?;
    let text = String::from_utf8_lossy(&out);
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_string())
}

pub async fn copy_or_template(kind: ModuleKind, args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let module = kind.name();
    let Some(dest) = args.str("dest") else {
        return Outcome::fail("`dest` is required");
    };
    // `follow: true` writes to what a link at `dest` points to; by default (as in Ansible) a
    // link there is replaced by the file.
    let dest = if args.bool("follow") == Some(true) {
        match followed(&dest, ctx).await {
            Ok(d) => d,
            Err(e) => return Outcome::fail(format!("{module}: {e}")),
        }
    } else {
        dest
    };
    let target = match FileTarget::from_args(dest.clone(), args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("{module}: {e}")),
    };
    // `force: false`: a file already there is left as it is, whatever it holds.
    if args.bool("force") == Some(false) {
        match ctx.exec(&format!("[ -e {} ]", quote(&dest)), b"").await {
            Ok(o) if o.status.success() => return Outcome::default(),
            Ok(_) => {}
            Err(e) => return Outcome::fail(e.to_string()),
        }
    }
    if kind == ModuleKind::Copy && args.bool("remote_src") == Some(true) {
        return super::remote_copy::run(&dest, &target.write, args, ctx).await;
    }
    let directory_mode = match args.mode("directory_mode") {
        Ok(m) => m,
        Err(e) => return Outcome::bad_input(format!("copy: {e}")),
    };
    if kind == ModuleKind::Copy
        && let Some(src) = args.str("src")
        && drover_roles::resolve_file(&src, "files", ctx.search).is_none()
        && let Some(dir) = drover_roles::resolve_dir(&src, "files", ctx.search)
    {
        return super::copy_tree::run(&src, &dir, &target, directory_mode, ctx).await;
    }
    if directory_mode.is_some() {
        return Outcome::bad_input(
            "copy: `directory_mode` goes with a folder as `src` (the folders the copy makes); this copy makes none",
        );
    }
    // A list or mapping as `content` is written as JSON, as Ansible's copy action writes it.
    let content_text = match args.0.get("content") {
        Some(v @ (serde_json::Value::Array(_) | serde_json::Value::Object(_))) => {
            Some(drover_templates::json_dumps(v))
        }
        _ => args.str("content"),
    };
    let content = match (kind, args.str("src"), content_text) {
        (ModuleKind::Copy, None, Some(text)) => text.into_bytes(),
        (_, Some(src), _) => {
            let sub = if kind == ModuleKind::Template {
                "templates"
            } else {
                "files"
            };
            let Some(path) = drover_roles::resolve_file(&src, sub, ctx.search) else {
                return Outcome::fail(format!("{module} source `{src}` not found under {sub}/"));
            };
            // `decrypt: false` copies a vault-encrypted file as it is.
            let read = if kind == ModuleKind::Copy && args.bool("decrypt") == Some(false) {
                std::fs::read(&path).map_err(|e| e.to_string())
            } else {
                drover_vault::read(&path).map_err(|e| e.to_string())
            };
            match (kind, read) {
                (_, Err(e)) => return Outcome::fail(format!("{}: {e}", path.display())),
                (ModuleKind::Template, Ok(bytes)) => {
                    let text = drover_templates::with_task_settings(
                        &String::from_utf8_lossy(&bytes),
                        &template_settings(args),
                    );
                    let mut vars = ctx.vars.clone();
                    drover_templates::add_template_vars(&mut vars, &src, &path, Some(&dest));
                    match ctx
                        .engine
                        .render_file(&path.display().to_string(), &text, &vars)
                    {
                        Ok(rendered) => rendered.into_bytes(),
                        Err(e) => return Outcome::bad_input(format!("{e} (host {})", ctx.host)),
                    }
                }
                (_, Ok(bytes)) => bytes,
            }
        }
        _ => {
            return Outcome::fail(format!(
                "{module} needs `src`{}",
                if kind == ModuleKind::Copy {
                    " or `content`"
                } else {
                    ""
                }
            ));
        }
    };
    ensure_content(ctx, &target, &content).await
}

/// An `access_time` or `modification_time`: set to now, kept, or set to a moment (in the host's
/// local time, as Ansible reads `%Y%m%d%H%M.%S`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileTime {
    Now,
    Preserve,
    /// `YYYY-MM-DD HH:MM:SS`, for the host's `date -d`.
    At(String),
}

impl FileTime {
    /// Reads a time parameter (`default` when absent; the format must be Ansible's default).
    pub fn from_args(args: &Args, key: &str, default: FileTime) -> Result<FileTime, String> {
        let format_key = match key {
            "access_time" => "access_time_format",
            _ => "modification_time_format",
        };
        if let Some(format) = args.str(format_key)
            && format != "%Y%m%d%H%M.%S"
        {
            return Err(format!(
                "`{key}_format: {format}`: only the default %Y%m%d%H%M.%S is supported"
            ));
        }
        let Some(value) = args.str(key) else {
            return Ok(default);
        };
        match value.as_str() {
            "now" => Ok(FileTime::Now),
            "preserve" => Ok(FileTime::Preserve),
            stamp => {
                let b = stamp.as_bytes();
                let ok = b.len() == 15
                    && b[12] == b'.'
                    && b.iter()
                        .enumerate()
                        .all(|(i, c)| i == 12 || c.is_ascii_digit());
                if !ok {
                    return Err(format!(
                        "`{key}: {stamp}` is not now, preserve or a time such as 202612031200.00"
                    ));
                }
                Ok(FileTime::At(format!(
                    "{}-{}-{} {}:{}:{}",
                    &stamp[0..4],
                    &stamp[4..6],
                    &stamp[6..8],
                    &stamp[8..10],
                    &stamp[10..12],
                    &stamp[13..15]
                )))
            }
        }
    }
}

/// The shell that sets a path's access (`-a`, stat %X) or modification (`-m`, stat %Y) time.
fn time_fix(p: &str, time: &FileTime, act: &dyn Fn(String) -> String, access: bool) -> String {
    let (flag, field) = if access { ("-a", "%X") } else { ("-m", "%Y") };
    match time {
        FileTime::Preserve => String::new(),
        FileTime::Now => format!("; {}", act(format!("touch {flag} -- {p}"))),
        FileTime::At(when) => format!(
            "; t=$(date -d {} +%s) && {{ [ \"$(stat -L -c {field} -- {p})\" = \"$t\" ] || {{ {}; }}; }}",
            quote(when),
            act(format!("touch {flag} -d \"@$t\" -- {p}"))
        ),
    }
}

/// `follow: false`: what follows is not done to a symbolic link (chmod, chown and touch would act on
/// its target, which `follow: false` says not to touch).
fn refuse_link(path: &str) -> String {
    format!(
        "if [ -L {} ]; then echo 'follow: false on a symbolic link: drover sets attributes through links only' >&2; exit 4; fi; ",
        quote(path)
    )
}

/// The shell for the `file` module: prints `changed` when it changed something. In check mode, the
/// same tests run but every change is replaced by the word. Times: see [`FileTime`].
pub fn file_command(
    path: &str,
    state: &str,
    (mode, owner, group): (Option<u32>, Option<&str>, Option<&str>),
    link: Option<(&str, bool)>,
    (atime, mtime): (&FileTime, &FileTime),
    check: bool,
) -> Result<String, String> {
    let p = quote(path);
    let act = |cmd: String| {
        if check {
            "echo changed".to_string()
        } else {
            format!("{cmd} && echo changed")
        }
    };
    let mode_fix = mode.map(|m| {
        format!(
            "; [ \"$(stat -L -c %a -- {p} 2>/dev/null)\" = {m:o} ] || {{ {}; }}",
            act(format!("chmod {m:o} -- {p}"))
        )
    });
    let body = match state {
        "directory" => format!("[ -d {p} ] || {{ {}; }}", act(format!("mkdir -p -- {p}"))),
        "absent" => format!(
            "[ ! -e {p} ] && [ ! -L {p} ] || {{ {}; }}",
            act(format!("rm -rf -- {p}"))
        ),
        // A missing file is made; its times follow from `access_time` and `modification_time`.
        "touch" => format!("[ -e {p} ] || {{ {}; }}", act(format!("touch -- {p}"))),
        "file" => format!(
            "[ -f {p} ] || {{ echo 'file does not exist (use state=touch to create it)' >&2; exit 1; }}"
        ),
        "link" => {
            let (src, force) = link.ok_or("state=link needs `src`")?;
            link_command(path, src, force, &act)
        }
        other => {
            return Err(format!(
                "`state: {other}` is not one of file, directory, absent, touch, link"
            ));
        }
    };
    if matches!(state, "absent" | "link") {
        if *atime != FileTime::Preserve || *mtime != FileTime::Preserve {
            return Err(format!(
                "`state: {state}` takes no access_time or modification_time"
            ));
        }
        if mode.is_some() || owner.is_some() || group.is_some() {
            return Err(format!(
                "`state: {state}` takes no mode, owner or group (they would be ignored)"
            ));
        }
        return Ok(body);
    }
    let times = format!(
        "{}{}",
        time_fix(&p, atime, &act, true),
        time_fix(&p, mtime, &act, false)
    );
    let owner_fix = ownership_fix(path, owner, group, act).map(|f| format!("; {f}"));
    Ok(format!(
        "{body}{}{}{times}",
        mode_fix.unwrap_or_default(),
        owner_fix.unwrap_or_default()
    ))
}

/// A symbolic mode (`u=rwX,g=rX,o=`) for `path`: what it makes of the path's current mode is found
/// by applying it to a private scratch file (a folder for a folder: `X` differs), so only a path
/// whose mode would change is changed, and check mode can tell. Prints `changed` when it acted.
pub fn symbolic_fix(path: &str, mode: &str, check: bool) -> String {
    let p = quote(path);
    let m = quote(mode);
    let act = if check {
        "echo changed".to_string()
    } else {
        format!("chmod {m} -- {p} && echo changed")
    };
    format!(
        "; if [ -d {p} ]; then s=$(mktemp -d); else s=$(mktemp); fi && chmod --reference={p} \"$s\" && chmod {m} \"$s\" && \
         w=$(stat -c %a \"$s\"); rm -rf \"$s\"; [ \"$(stat -L -c %a -- {p})\" = \"$w\" ] || {{ {act}; }}"
    )
}

/// [`symbolic_fix`] for everything under a folder: `chmod -R` when any entry's mode would change.
pub fn symbolic_recurse(path: &str, mode: &str, check: bool) -> String {
    let p = quote(path);
    let m = quote(mode);
    let act = if check {
        "echo changed".to_string()
    } else {
        format!("chmod -R {m} -- {p} && echo changed")
    };
    format!(
        "; f=$(mktemp) && d=$(mktemp -d) && c=$(find {p} -mindepth 1 ! -type l | while IFS= read -r e; do \
         if [ -d \"$e\" ]; then s=\"$d\"; else s=\"$f\"; fi; chmod --reference=\"$e\" \"$s\" && chmod {m} \"$s\" && \
         [ \"$(stat -c %a \"$s\")\" = \"$(stat -L -c %a -- \"$e\")\" ] || {{ echo differs; break; }}; done); rm -rf \"$f\" \"$d\"; \
         [ -z \"$c\" ] || {{ {act}; }}"
    )
}

/// `recurse`: the mode, owner and group of everything under a folder, changed (with `chmod -R`,
/// `chown -R`) only when something under it differs; prints `changed` when it acted (or would).
pub fn recurse_command(
    path: &str,
    (mode, owner, group): (Option<u32>, Option<&str>, Option<&str>),
    check: bool,
) -> String {
    let p = quote(path);
    let fix = |test: String, cmd: String| {
        let act = if check {
            "echo changed".to_string()
        } else {
            format!("{cmd} && echo changed")
        };
        format!("; [ -z \"$(find {p} -mindepth 1 {test} -print -quit)\" ] || {{ {act}; }}")
    };
    let mut s = String::new();
    if let Some(m) = mode {
        // chmod -R passes symbolic links by (a link has no mode of its own): so does the test.
        s.push_str(&fix(
            format!("! -type l ! -perm {m:04o}"),
            format!("chmod -R {m:o} -- {p}"),
        ));
    }
    if let Some(o) = owner {
        let o = quote(o);
        s.push_str(&fix(format!("! -user {o}"), format!("chown -R {o} -- {p}")));
    }
    if let Some(g) = group {
        let g = quote(g);
        s.push_str(&fix(
            format!("! -group {g}"),
            format!("chgrp -R {g} -- {p}"),
        ));
    }
    s
}

pub async fn file(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(path) = args.first(&["path", "dest", "name"]) else {
        return Outcome::fail("`path` is required");
    };
    // A symbolic mode is applied by chmod itself; an octal one is compared and set as a number.
    let symbolic = args
        .str("mode")
        .filter(|m| args.mode("mode").is_err() && drover_roles::module::symbolic_mode(m));
    let mode = match symbolic {
        Some(_) => None,
        None => match args.mode("mode") {
            Ok(m) => m,
            Err(e) => return Outcome::fail(e),
        },
    };
    let state = args.str("state").unwrap_or_else(|| "file".into());
    let (owner, group) = (args.str("owner"), args.str("group"));
    // As Ansible: a touch sets both times to now unless told to preserve them.
    let default = if state == "touch" {
        FileTime::Now
    } else {
        FileTime::Preserve
    };
    let times = FileTime::from_args(args, "access_time", default.clone())
        .and_then(|a| Ok((a, FileTime::from_args(args, "modification_time", default)?)));
    let (atime, mtime) = match times {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("file: {e}")),
    };
    let recurse = args.bool("recurse") == Some(true);
    if recurse && state != "directory" {
        return Outcome::bad_input("file: `recurse` goes with `state: directory`");
    }
    let mut cmd = match file_command(
        &path,
        &state,
        (mode, owner.as_deref(), group.as_deref()),
        args.str("src")
            .as_deref()
            .map(|src| (src, args.bool("force") == Some(true))),
        (&atime, &mtime),
        ctx.check,
    ) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(e),
    };
    if let Some(sym) = &symbolic {
        if matches!(state.as_str(), "absent" | "link") {
            return Outcome::bad_input(format!("file: `state: {state}` takes no mode"));
        }
        cmd.push_str(&symbolic_fix(&path, sym, ctx.check));
    }
    if args.bool("follow") == Some(false) && !matches!(state.as_str(), "absent" | "link") {
        cmd = format!("{}{cmd}", refuse_link(&path));
    }
    if recurse {
        cmd.push_str(&recurse_command(
            &path,
            (mode, owner.as_deref(), group.as_deref()),
            ctx.check,
        ));
        if let Some(sym) = &symbolic {
            cmd.push_str(&symbolic_recurse(&path, sym, ctx.check));
        }
    }
    match ctx.exec(&cmd, b"").await {
        Ok(o) if o.status.success() => {
            let mut out = Outcome {
                changed: String::from_utf8_lossy(&o.stdout).contains("changed"),
                ..Outcome::default()
            };
            out.result.insert("path".into(), json!(path));
            out.result.insert("state".into(), json!(state));
            out
        }
        Ok(o) => Outcome::fail(format!(
            "{path}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Outcome::fail(e.to_string()),
    }
}

pub async fn lineinfile(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(path) = args.first(&["path", "dest"]) else {
        return Outcome::fail("`path` is required");
    };
    // search_string is a literal found anywhere in a line: a regexp of its escaped text.
    let pattern = match (args.str("regexp"), args.str("search_string")) {
        (Some(_), Some(_)) => {
            return Outcome::bad_input(
                "lineinfile: `regexp` and `search_string` are mutually exclusive",
            );
        }
        (Some(r), None) => Some(r),
        (None, s) => s.map(|s| regex::escape(&s)),
    };
    let regexp = match pattern.map(|r| regex::Regex::new(&r)) {
        Some(Err(e)) => return Outcome::fail(format!("`regexp`: {e}")),
        Some(Ok(re)) => Some(re),
        None => None,
    };
    let spec = LineSpec {
        line: args.str("line"),
        regexp,
        absent: args.str("state").as_deref() == Some("absent"),
        insert_after: args.str("insertafter"),
        insert_before: args.str("insertbefore"),
        backrefs: args.bool("backrefs") == Some(true),
        firstmatch: args.bool("firstmatch") == Some(true),
    };
    if spec.backrefs && spec.regexp.is_none() {
        return Outcome::bad_input("lineinfile: `backrefs` needs `regexp`");
    }
    let current = match read_state(ctx, &path).await {
        Ok(Remote::File { content, .. }) => content,
        Ok(Remote::Missing) if args.bool("create") == Some(true) || spec.absent => Vec::new(),
        Ok(Remote::Missing) => {
            return Outcome::fail(format!(
                "{path} does not exist (use create: true to create it)"
            ));
        }
        Err(e) => return Outcome::fail(e),
    };
    let before = String::from_utf8_lossy(&current).into_owned();
    let after = match lineinfile::edit(&before, &spec) {
        Ok(a) => a,
        Err(e) => return Outcome::fail(e),
    };
    let target = match FileTarget::from_args(path, args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("lineinfile: {e}")),
    };
    // The same text: only the mode or owner may still need fixing.
    if after == before && !target.sets_attributes() {
        return Outcome::default();
    }
    ensure_content(ctx, &target, after.as_bytes()).await
}

pub async fn replace(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(path) = args.str("path") else {
        return Outcome::bad_input("replace needs `path`");
    };
    let compile = |key: &str| {
        args.str(key)
            .map(|r| super::replace::multiline(&r).map_err(|e| format!("`{key}`: {e}")))
            .transpose()
    };
    let (regexp, after, before) = match (compile("regexp"), compile("after"), compile("before")) {
        (Ok(Some(re)), Ok(a), Ok(b)) => (re, a, b),
        (Ok(None), _, _) => return Outcome::bad_input("replace needs `regexp`"),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Outcome::bad_input(e),
    };
    let current = match read_state(ctx, &path).await {
        Ok(Remote::File { content, .. }) => content,
        Ok(Remote::Missing) => return Outcome::fail(format!("{path} does not exist")),
        Err(e) => return Outcome::fail(e),
    };
    let before_text = String::from_utf8_lossy(&current).into_owned();
    let replacement = args.str("replace").unwrap_or_default();
    let after_text = super::replace::edit(
        &before_text,
        &regexp,
        &replacement,
        after.as_ref(),
        before.as_ref(),
    );
    let target = match FileTarget::from_args(path, args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("replace: {e}")),
    };
    if after_text == before_text && !target.sets_attributes() {
        return Outcome::default();
    }
    ensure_content(ctx, &target, after_text.as_bytes()).await
}

/// Where a fetched file goes: `<run>/fetched/<dest>` with `flat`, else
/// `<run>/fetched/<dest>/<host>/<src>`; never outside `<run>/fetched`.
fn fetch_target(
    run_dir: &Path,
    host: &str,
    src: &str,
    dest: &str,
    flat: bool,
) -> Result<PathBuf, String> {
    let fetched = run_dir.join("fetched");
    let base = join_inside(&fetched, dest)?;
    if flat {
        return Ok(base);
    }
    join_inside(&base.join(host_file_name(host)), src)
}

/// Copies a file from the host into the run folder: `<run>/fetched/<host>/<path>` (or flat).
pub async fn fetch(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let (Some(src), Some(dest)) = (args.str("src"), args.str("dest")) else {
        return Outcome::fail("fetch needs `src` and `dest`");
    };
    let out = match ctx.exec(&drover_ssh::shell::read_file(&src), b"").await {
        Ok(o) if o.status.success() => o.stdout,
        Ok(o) if args.bool("fail_on_missing") == Some(false) => {
            return Outcome {
                skipped: true,
                msg: String::from_utf8_lossy(&o.stderr).trim().to_string(),
                ..Outcome::default()
            };
        }
        Ok(o) => {
            return Outcome::fail(format!(
                "fetch {src}: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Err(e) => return Outcome::fail(e.to_string()),
    };
    let target = match fetch_target(
        ctx.run_dir,
        ctx.host,
        &src,
        &dest,
        args.bool("flat") == Some(true),
    ) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("fetch: {e}")),
    };
    let changed = std::fs::read(&target).map_or(true, |old| old != out);
    if let Err(e) = write_private(&target, &out) {
        return Outcome::fail(format!("{}: {e}", target.display()));
    }
    let mut o = Outcome {
        changed,
        ..Outcome::default()
    };
    o.result
        .insert("dest".into(), json!(target.display().to_string()));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetched_files_stay_in_the_run_folder() {
        let run = Path::new("/runs/1");
        assert_eq!(
            fetch_target(run, "web01", "/etc/app.conf", "backup", false).unwrap(),
            run.join("fetched/backup/web01/etc/app.conf")
        );
        assert_eq!(
            fetch_target(run, "web01", "/etc/app.conf", "/app.conf", true).unwrap(),
            run.join("fetched/app.conf")
        );
        assert!(fetch_target(run, "web01", "/etc/x", "../../x", true).is_err());
        assert!(fetch_target(run, "web01", "/etc/../../../x", "b", false).is_err());
        assert_eq!(
            fetch_target(run, "../h", "/x", "b", false).unwrap(),
            run.join("fetched/b/%2E.%2Fh/x")
        );
    }

    #[test]
    fn a_symbolic_mode_changes_only_what_it_would_change() {
        assert_eq!(
            symbolic_fix("/srv/app", "u=rwX,g=rX,o=", false),
            "; if [ -d /srv/app ]; then s=$(mktemp -d); else s=$(mktemp); fi && chmod --reference=/srv/app \"$s\" && chmod u=rwX,g=rX,o= \"$s\" && \
             w=$(stat -c %a \"$s\"); rm -rf \"$s\"; [ \"$(stat -L -c %a -- /srv/app)\" = \"$w\" ] || { chmod u=rwX,g=rX,o= -- /srv/app && echo changed; }"
        );
        assert!(
            symbolic_recurse("/x", "a+r", true).ends_with("[ -z \"$c\" ] || { echo changed; }")
        );
    }

    #[test]
    fn validate_with_a_temporary_file_known_only_on_the_host() {
        assert_eq!(
            validate_command_var("visudo -cf %s", "t").unwrap(),
            "visudo -cf \"$t\""
        );
        assert_eq!(
            validate_command_var("nginx -t -c %s --x='a b%s.c'", "t").unwrap(),
            "nginx -t -c \"$t\" '--x=a b'\"$t\".c"
        );
    }

    #[test]
    fn recurse_changes_only_what_differs_under_the_folder() {
        assert_eq!(
            recurse_command("/srv/app", (Some(0o750), Some("app"), None), false),
            "; [ -z \"$(find /srv/app -mindepth 1 ! -type l ! -perm 0750 -print -quit)\" ] || { chmod -R 750 -- /srv/app && echo changed; }\
             ; [ -z \"$(find /srv/app -mindepth 1 ! -user app -print -quit)\" ] || { chown -R app -- /srv/app && echo changed; }"
        );
        assert!(
            recurse_command("/x", (None, None, Some("g")), true).ends_with("|| { echo changed; }")
        );
    }

    #[test]
    fn a_link_replaces_only_a_link_unless_forced() {
        let act = |c: String| format!("{c} && echo changed");
        assert_eq!(
            link_command("/srv/current", "releases/2", false, &act),
            "[ -L /srv/current ] && [ \"$(readlink -- /srv/current)\" = releases/2 ] || { if [ -e /srv/current ] && [ ! -L /srv/current ]; then { echo 'refusing to convert from file to symlink for /srv/current' >&2; exit 1; }; fi; \
             ( cd \"$(dirname -- /srv/current)\" 2>/dev/null && [ -e releases/2 ] ) || { echo 'src file does not exist, use \"force=yes\" if you really want to create the link: releases/2' >&2; exit 1; }; \
             ln -sfn -- releases/2 /srv/current && echo changed; }"
        );
        assert_eq!(
            link_command("/a", "/b", true, &act),
            "[ -L /a ] && [ \"$(readlink -- /a)\" = /b ] || { if [ -d /a ] && [ ! -L /a ]; then rmdir -- /a 2>/dev/null || { echo 'the directory /a is not empty, refusing to convert it' >&2; exit 1; }; fi; ln -sfn -- /b /a && echo changed; }"
        );
    }

    #[test]
    fn file_commands_are_exact() {
        assert_eq!(
            file_command(
                "/srv/app data",
                "directory",
                (Some(0o750), None, None),
                None,
                (&FileTime::Preserve, &FileTime::Preserve),
                false
            )
            .unwrap(),
            "[ -d '/srv/app data' ] || { mkdir -p -- '/srv/app data' && echo changed; }; [ \"$(stat -L -c %a -- '/srv/app data' 2>/dev/null)\" = 750 ] || { chmod 750 -- '/srv/app data' && echo changed; }"
        );
        assert_eq!(
            file_command(
                "/tmp/x",
                "absent",
                (None, None, None),
                None,
                (&FileTime::Preserve, &FileTime::Preserve),
                true
            )
            .unwrap(),
            "[ ! -e /tmp/x ] && [ ! -L /tmp/x ] || { echo changed; }"
        );
        assert_eq!(
            file_command(
                "/srv/d",
                "directory",
                (None, Some("app"), None),
                None,
                (&FileTime::Preserve, &FileTime::Preserve),
                true
            )
            .unwrap(),
            "[ -d /srv/d ] || { echo changed; }; cur=$(stat -L -c %U:%G -- /srv/d) && case \"$cur\" in app:*) ;; *) echo changed ;; esac"
        );
        assert_eq!(
            chown_command("/a", Some("o w"), Some("g")).unwrap(),
            "cur=$(stat -L -c %U:%G -- /a) && case \"$cur\" in 'o w':g) ;; *) chown 'o w:g' -- /a && echo changed ;; esac"
        );
        assert!(
            file_command(
                "/tmp/x",
                "absent",
                (None, Some("root"), None),
                None,
                (&FileTime::Preserve, &FileTime::Preserve),
                false
            )
            .is_err()
        );
        let stamp = FileTime::from_args(
            &Args(
                json!({"modification_time": "202612031200.30"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            "modification_time",
            FileTime::Now,
        )
        .unwrap();
        assert_eq!(stamp, FileTime::At("2026-12-03 12:00:30".into()));
        assert_eq!(
            file_command(
                "/x",
                "touch",
                (None, None, None),
                None,
                (&FileTime::Preserve, &stamp),
                false
            )
            .unwrap(),
            "[ -e /x ] || { touch -- /x && echo changed; }; t=$(date -d '2026-12-03 12:00:30' +%s) && { [ \"$(stat -L -c %Y -- /x)\" = \"$t\" ] || { touch -m -d \"@$t\" -- /x && echo changed; }; }"
        );
        assert!(
            file_command(
                "/x",
                "link",
                (None, None, None),
                Some(("/y", false)),
                (&FileTime::Now, &FileTime::Preserve),
                false
            )
            .is_err()
        );
        assert!(
            FileTime::from_args(
                &Args(
                    json!({"access_time": "yesterday"})
                        .as_object()
                        .unwrap()
                        .clone()
                ),
                "access_time",
                FileTime::Now
            )
            .is_err()
        );
        assert!(
            file_command(
                "/tmp/x",
                "weird",
                (None, None, None),
                None,
                (&FileTime::Preserve, &FileTime::Preserve),
                false
            )
            .is_err()
        );
        assert_eq!(
            put_command("/etc/a b", "/etc/.a b.drover-1", b"x", Some(0o600)),
            "if [ -e '/etc/a b' ] && [ ! -f '/etc/a b' ]; then echo 'exists but is not a regular file' >&2; exit 4; fi; \
             m=600; \
             if [ -f '/etc/a b' ] && [ \"$(sha256sum < '/etc/a b')\" = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  -' ]; then cat > /dev/null; \
             if [ \"$(stat -L -c %a -- '/etc/a b')\" = \"$m\" ]; then echo unchanged $m; else chmod \"$m\" -- '/etc/a b' && echo changed $m; fi; \
             else umask 077 && if (set -C && cat > '/etc/.a b.drover-1') && chmod \"$m\" -- '/etc/.a b.drover-1' && mv -f -- '/etc/.a b.drover-1' '/etc/a b'; then :; else rm -f -- '/etc/.a b.drover-1'; exit 1; fi && echo changed $m; fi"
        );
        let opts = WriteOpts {
            mode: None,
            backup: true,
            validate: Some("visudo -cf %s".into()),
        };
        let cmd = put_command_with("/etc/sudoers", "/etc/.sudoers.drover-1", b"x", &opts).unwrap();
        assert!(
            cmd.ends_with(
                "else b=; if [ -f /etc/sudoers ]; then b=/etc/sudoers.$$.$(date +%Y-%m-%d@%H:%M:%S)~; cp -p -- /etc/sudoers \"$b\" || exit 1; fi; \
                 umask 077 && if (set -C && cat > /etc/.sudoers.drover-1) && chmod \"$m\" -- /etc/.sudoers.drover-1 && visudo -cf /etc/.sudoers.drover-1 \
                 && mv -f -- /etc/.sudoers.drover-1 /etc/sudoers; then :; else rm -f -- /etc/.sudoers.drover-1; exit 1; fi && echo changed $m; \
                 [ -z \"$b\" ] || echo \"backup $b\"; fi"
            ),
            "{cmd}"
        );
        assert_eq!(
            validate_command("sh -c 'test -s %s'", "/tmp/.x y").unwrap(),
            "sh -c 'test -s /tmp/.x y'"
        );
        assert_eq!(
            read_state_command("/etc/a b"),
            "if [ -f '/etc/a b' ]; then stat -L -c %a -- '/etc/a b' && cat -- '/etc/a b'; elif [ -e '/etc/a b' ]; then echo 'exists but is not a regular file' >&2; exit 4; else exit 3; fi"
        );
    }
}
