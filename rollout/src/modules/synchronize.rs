//! synchronize (ansible.posix), push mode: a controller folder (or file) made the same on the host,
//! as `rsync --archive` makes it, over drover's own connection (no rsync on either side). rsync's
//! quick check decides what is sent: a file whose size or modification time differs (or, with
//! `checksum`, whose content differs); `src/` sends what the folder holds, `src` the folder
//! itself, as rsync reads a trailing slash. Two round trips: the host's listing of `dest`, then
//! one tar stream with what differs (and the removals `delete` asks for). What changed is
//! registered as rsync itemizes it (`<f+++++++++ name`, `*deleting name`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drover_ssh::shell::quote;
use globset::{GlobBuilder, GlobMatcher};
use serde_json::json;
use sha2::Digest;

use super::{Args, ModuleCtx, Outcome};

/// The most entries one task sends: a larger tree is refused rather than held in memory.
const MAX_ENTRIES: usize = 100_000;
/// The most bytes of file content one push sends (the stream is held in memory to be sent).
const MAX_BYTES: u64 = 1 << 30;

/// What rsync's archive flags and the task's own say to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    pub recursive: bool,
    pub links: bool,
    pub copy_links: bool,
    pub perms: bool,
    pub times: bool,
    pub owner: bool,
    pub group: bool,
}

/// One rsync `--exclude`/`--include` rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub include: bool,
    /// Matched against the whole relative path (anchored) or any final part of it.
    pub anchored: bool,
    pub dirs_only: bool,
    pub glob: GlobMatcher,
}

impl Rule {
    /// An rsync pattern: a leading `/` anchors it at the top of the transfer, a trailing `/`
    /// matches folders only, a pattern with a `/` inside is matched against the whole path,
    /// `*` stops at `/` and `**` does not.
    pub fn new(include: bool, pattern: &str) -> Result<Rule, String> {
        let dirs_only = pattern.ends_with('/');
        let trimmed = pattern.trim_end_matches('/');
        let anchored = trimmed.starts_with('/') || trimmed.contains('/');
        let glob = GlobBuilder::new(trimmed.trim_start_matches('/'))
            .literal_separator(true)
            .build()
            .map_err(|e| format!("`{pattern}`: {e}"))?
            .compile_matcher();
        Ok(Rule {
            include,
            anchored,
            dirs_only,
            glob,
        })
    }

    fn matches(&self, rel: &str, dir: bool) -> bool {
        if self.dirs_only && !dir {
            return false;
        }
        if self.anchored {
            return self.glob.is_match(rel);
        }
        // An unanchored pattern matches the name, or any trailing run of the path's parts.
        let parts: Vec<&str> = rel.split('/').collect();
        (0..parts.len()).any(|i| self.glob.is_match(parts[i..].join("/")))
    }
}

/// Whether the rules (first match wins, as rsync reads them) exclude `rel`.
fn excluded(rules: &[Rule], rel: &str, dir: bool) -> bool {
    rules
        .iter()
        .find(|r| r.matches(rel, dir))
        .is_some_and(|r| !r.include)
}

/// The `rsync_opts` drover reads: `--exclude=P`, `--include=P` (or the pattern as the next word)
/// and `--delete-excluded`-free forms of them; anything else is refused, never ignored.
pub fn rules(opts: &[String]) -> Result<Vec<Rule>, String> {
    let mut out = Vec::new();
    let mut words = opts.iter().flat_map(|o| o.split_whitespace());
    while let Some(word) = words.next() {
        let (include, rest) = if let Some(p) = word.strip_prefix("--exclude") {
            (false, p)
        } else if let Some(p) = word.strip_prefix("--include") {
            (true, p)
        } else {
            return Err(format!(
                "rsync_opts: `{word}` is not one drover reads (it reads --exclude and --include)"
            ));
        };
        let pattern = match rest.strip_prefix('=') {
            Some(p) => p.to_string(),
            None if rest.is_empty() => words
                .next()
                .ok_or_else(|| format!("rsync_opts: `{word}` needs a pattern"))?
                .to_string(),
            None => {
                return Err(format!(
                    "rsync_opts: `{word}` is not an option drover reads"
                ));
            }
        };
        out.push(Rule::new(include, pattern.trim_matches(['\'', '"']))?);
    }
    Ok(out)
}

/// What the task asks for.
#[derive(Debug, Clone)]
pub struct Sync {
    pub src: String,
    pub dest: String,
    pub keep: Keep,
    pub checksum: bool,
    pub delete: bool,
    pub compress: bool,
    pub rules: Vec<Rule>,
}

/// Reads the task's parameters (`archive` gives the default of each flag, as rsync's `-a`).
pub fn spec(args: &Args) -> Result<Sync, String> {
    let (Some(src), Some(dest)) = (args.str("src"), args.str("dest")) else {
        return Err("synchronize needs `src` and `dest`".into());
    };
    if args.str("mode").is_some_and(|m| m != "push") {
        return Err("only `mode: push` is supported".into());
    }
    let archive = args.bool("archive").unwrap_or(true);
    let flag = |k: &str| args.bool(k).unwrap_or(archive);
    let keep = Keep {
        recursive: flag("recursive"),
        links: flag("links"),
        copy_links: args.bool("copy_links").unwrap_or(false),
        perms: flag("perms"),
        times: flag("times"),
        owner: flag("owner"),
        group: flag("group"),
    };
    if !keep.recursive && src.ends_with('/') {
        return Err(
            "`recursive: false` with a folder sends nothing (rsync skips folders without -r)"
                .into(),
        );
    }
    Ok(Sync {
        src,
        dest,
        keep,
        checksum: args.bool("checksum").unwrap_or(false),
        delete: args.bool("delete").unwrap_or(false),
        compress: args.bool("compress").unwrap_or(true),
        rules: rules(&args.list("rsync_opts"))?,
    })
}

/// An entry of either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File { size: u64, sha256: Option<String> },
    Link(String),
}

/// An entry's kind with its mode and modification time (whole seconds, as rsync compares them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    pub mode: u32,
    pub mtime: i64,
    /// Owner and group names (the controller's side only).
    pub owner: Option<(String, String)>,
}

/// The names of users and groups on the controller, by id, from its passwd and group files.
fn names(file: &str) -> BTreeMap<u32, String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?.parse().ok()?;
            Some((id, name.to_string()))
        })
        .collect()
}

/// The controller's tree as the host should hold it: relative paths (the folder itself as `.`
/// when `src` has no trailing slash, its name before every path) with their entries.
pub fn local_tree(root: &Path, sync: &Sync) -> Result<BTreeMap<String, (Entry, PathBuf)>, String> {
    use std::os::unix::fs::MetadataExt;
    let users = names("/etc/passwd");
    let groups = names("/etc/group");
    let read = |path: &Path| -> Result<Entry, String> {
        let meta = if sync.keep.copy_links || !sync.keep.links {
            std::fs::metadata(path)
        } else {
            std::fs::symlink_metadata(path)
        }
        .map_err(|e| format!("{}: {e}", path.display()))?;
        let kind = if meta.file_type().is_symlink() {
            Kind::Link(
                std::fs::read_link(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?
                    .display()
                    .to_string(),
            )
        } else if meta.is_dir() {
            Kind::Dir
        } else {
            Kind::File {
                size: meta.len(),
                sha256: None,
            }
        };
        let owner = users
            .get(&meta.uid())
            .cloned()
            .unwrap_or_else(|| meta.uid().to_string());
        let group = groups
            .get(&meta.gid())
            .cloned()
            .unwrap_or_else(|| meta.gid().to_string());
        Ok(Entry {
            kind,
            mode: meta.mode() & 0o7777,
            mtime: meta.mtime(),
            owner: Some((owner, group)),
        })
    };
    let mut tree = BTreeMap::new();
    let top = read(root)?;
    let prefix = if sync.src.ends_with('/') || top.kind != Kind::Dir {
        String::new()
    } else {
        root.file_name()
            .map(|n| format!("{}/", n.to_string_lossy()))
            .unwrap_or_default()
    };
    if top.kind != Kind::Dir {
        let name = root
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        tree.insert(name, (top, root.to_path_buf()));
        return Ok(tree);
    }
    if !prefix.is_empty() {
        tree.insert(
            prefix.trim_end_matches('/').to_string(),
            (top, root.to_path_buf()),
        );
    }
    let mut todo = vec![(root.to_path_buf(), prefix)];
    while let Some((dir, rel)) = todo.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for item in entries {
            let item = item.map_err(|e| e.to_string())?;
            let path = item.path();
            let name = format!("{rel}{}", item.file_name().to_string_lossy());
            let entry = read(&path)?;
            let is_dir = entry.kind == Kind::Dir;
            if excluded(&sync.rules, &name, is_dir) {
                continue;
            }
            if is_dir {
                if !sync.keep.recursive {
                    continue;
                }
                todo.push((path.clone(), format!("{name}/")));
            }
            tree.insert(name, (entry, path));
            if tree.len() > MAX_ENTRIES {
                return Err(format!(
                    "{}: more than {MAX_ENTRIES} entries",
                    root.display()
                ));
            }
        }
    }
    Ok(tree)
}

/// One round trip: whether `dest` is a folder (a first `dir` record) and its entries (type, size,
/// mtime, mode, link target, path; NUL-separated), only its own with `shallow`, each file's
/// SHA-256 too when `checksum` asks for content.
pub fn listing_command(dest: &str, checksum: bool, shallow: bool) -> String {
    let d = quote(dest);
    let depth = if shallow { " -maxdepth 1" } else { "" };
    let sums = if checksum {
        format!(" && echo '--sums--' && find {d}{depth} -type f -print0 | xargs -0 -r sha256sum --")
    } else {
        String::new()
    };
    format!(
        "if [ -d {d} ]; then printf 'dir\\0' && find {d} -mindepth 1{depth} -printf '%y %s %T@ %m %l\\t%P\\0'{sums}; fi"
    )
}

/// Reads [`listing_command`]'s output: whether `dest` is a folder, and its entries.
pub fn parse_listing(out: &[u8], dest: &str) -> (bool, BTreeMap<String, Entry>) {
    let text = String::from_utf8_lossy(out);
    let Some(text) = text.strip_prefix("dir\0") else {
        return (false, BTreeMap::new());
    };
    let (list, sums) = text.split_once("--sums--\n").unwrap_or((text, ""));
    let mut sha: BTreeMap<String, String> = BTreeMap::new();
    let root = format!("{}/", dest.trim_end_matches('/'));
    for line in sums.lines() {
        if let Some((hash, path)) = line.split_once("  ") {
            let rel = path.strip_prefix(&root).unwrap_or(path);
            sha.insert(rel.to_string(), hash.to_string());
        }
    }
    let mut tree = BTreeMap::new();
    for record in list.split('\0').filter(|r| !r.is_empty()) {
        let Some((head, rel)) = record.split_once('\t') else {
            continue;
        };
        let mut f = head.splitn(5, ' ');
        let (Some(kind), Some(size), Some(mtime), Some(mode)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let target = f.next().unwrap_or_default().to_string();
        let kind = match kind {
            "d" => Kind::Dir,
            "l" => Kind::Link(target),
            _ => Kind::File {
                size: size.parse().unwrap_or(0),
                sha256: sha.get(rel).cloned(),
            },
        };
        tree.insert(
            rel.to_string(),
            Entry {
                kind,
                mode: u32::from_str_radix(mode, 8).unwrap_or(0),
                mtime: mtime
                    .split('.')
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
                owner: None,
            },
        );
    }
    (true, tree)
}

/// What one push does.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Entries to send (new, or differing), in path order.
    pub send: Vec<String>,
    /// Entries of the host to remove (`delete`), deepest first.
    pub delete: Vec<String>,
    /// rsync's itemized lines for all of it.
    pub items: Vec<String>,
}

/// rsync's itemized change: `y` the update (`<` sent, `c` made, `.` attributes only), `x` the
/// type, then checksum, size, time and permissions flags.
fn item(y: char, x: char, [c, s, t, p]: [bool; 4], rel: &str) -> String {
    let f = |on: bool, letter: char| if on { letter } else { '.' };
    format!(
        "{y}{x}{}{}{}{}..... {rel}",
        f(c, 'c'),
        f(s, 's'),
        f(t, 't'),
        f(p, 'p')
    )
}

/// rsync's decision, entry by entry.
pub fn plan(
    local: &BTreeMap<String, (Entry, PathBuf)>,
    remote: &BTreeMap<String, Entry>,
    sync: &Sync,
) -> Plan {
    let mut plan = Plan::default();
    for (rel, (want, _)) in local {
        let have = remote.get(rel);
        let perms = |h: &Entry| sync.keep.perms && want.mode != h.mode;
        let item = match (&want.kind, have) {
            (Kind::Dir, Some(h)) if h.kind == Kind::Dir => {
                perms(h).then(|| item('.', 'd', [false, false, false, true], &format!("{rel}/")))
            }
            (Kind::Dir, _) => Some(format!("cd+++++++++ {rel}/")),
            (Kind::Link(t), Some(h)) if h.kind == Kind::Link(t.clone()) => None,
            (Kind::Link(t), _) => Some(format!("cL+++++++++ {rel} -> {t}")),
            (Kind::File { size, .. }, Some(h)) => match &h.kind {
                Kind::File {
                    size: hs,
                    sha256: hsum,
                } => {
                    let (s, t) = (size != hs, want.mtime != h.mtime);
                    let c = sync.checksum && hsum.as_deref() != local_sum(local, rel).as_deref();
                    if s || (if sync.checksum { c } else { t }) {
                        Some(item('<', 'f', [c, s, t, perms(h)], rel))
                    } else {
                        perms(h).then(|| item('.', 'f', [false, false, false, true], rel))
                    }
                }
                _ => Some(format!("<f+++++++++ {rel}")),
            },
            (Kind::File { .. }, None) => Some(format!("<f+++++++++ {rel}")),
        };
        if let Some(item) = item {
            plan.items.push(item);
            plan.send.push(rel.clone());
        }
    }
    if sync.delete {
        let top: Vec<&String> = local.keys().filter(|k| !k.contains('/')).collect();
        let single_root = top.len() == 1
            && local.get(top[0]).is_some_and(|(e, _)| e.kind == Kind::Dir)
            && !sync.src.ends_with('/');
        for (rel, entry) in remote.iter().rev() {
            // Only what lies in the transfer is deleted: under the folder sent, or in dest for `src/`.
            let inside = !single_root || rel.starts_with(&format!("{}/", top[0]));
            if inside
                && !local.contains_key(rel)
                && !excluded(&sync.rules, rel, entry.kind == Kind::Dir)
            {
                let shown = if entry.kind == Kind::Dir {
                    format!("{rel}/")
                } else {
                    rel.clone()
                };
                plan.items.push(format!("*deleting   {shown}"));
                plan.delete.push(rel.clone());
            }
        }
    }
    plan
}

/// A file's SHA-256 on the controller (checksum mode reads it only where it is compared).
fn local_sum(local: &BTreeMap<String, (Entry, PathBuf)>, rel: &str) -> Option<String> {
    let (_, path) = local.get(rel)?;
    let data = std::fs::read(path).ok()?;
    Some(
        sha2::Sha256::digest(&data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// The tar stream of the entries to send, with the modes, times and owners to keep.
pub fn archive(
    local: &BTreeMap<String, (Entry, PathBuf)>,
    plan: &Plan,
    keep: Keep,
) -> Result<Vec<u8>, String> {
    let total: u64 = plan
        .send
        .iter()
        .filter_map(|rel| match local.get(rel)?.0.kind {
            Kind::File { size, .. } => Some(size),
            _ => None,
        })
        .sum();
    if total > MAX_BYTES {
        return Err(format!(
            "{total} bytes to send; one push sends at most {MAX_BYTES} (split the folder, or use rsync)"
        ));
    }
    let mut builder = tar::Builder::new(Vec::new());
    for rel in &plan.send {
        let Some((entry, path)) = local.get(rel) else {
            continue;
        };
        let mut header = tar::Header::new_gnu();
        header.set_mode(if keep.perms {
            entry.mode
        } else {
            default_mode(&entry.kind)
        });
        header.set_mtime(u64::try_from(entry.mtime).unwrap_or(0));
        if let Some((user, group)) = &entry.owner {
            header.set_username(user).map_err(|e| e.to_string())?;
            header.set_groupname(group).map_err(|e| e.to_string())?;
        }
        let result = match &entry.kind {
            Kind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder.append_data(&mut header, rel, std::io::empty())
            }
            Kind::Link(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, rel, target)
            }
            Kind::File { .. } => {
                let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, rel, &data[..])
            }
        };
        result.map_err(|e| format!("{rel}: {e}"))?;
    }
    builder.into_inner().map_err(|e| e.to_string())
}

/// The mode of a new entry when permissions are not kept (rsync gives new files the default).
fn default_mode(kind: &Kind) -> u32 {
    if *kind == Kind::Dir { 0o755 } else { 0o644 }
}

/// The host's side: `dest` made, the tar stream (standard input) unpacked into it with the times,
/// modes and owners asked for, then the removals.
pub fn apply_command(sync: &Sync, plan: &Plan) -> String {
    let d = quote(&sync.dest);
    let mut flags = String::new();
    if !sync.keep.times {
        flags.push_str(" -m");
    }
    if sync.keep.perms {
        flags.push_str(" -p");
    }
    // Owners are kept (by name) only where the unpacking user may give them away, as rsync keeps them.
    let owners = if sync.keep.owner && sync.keep.group {
        ""
    } else {
        " --no-same-owner"
    };
    let compress = if sync.compress { " -z" } else { "" };
    let mut script =
        format!("mkdir -p -- {d} && tar -x{compress} -f - -C {d}{flags}{owners} || exit 1");
    for rel in &plan.delete {
        script.push_str(&format!(
            " && rm -rf -- {}",
            quote(&format!("{}/{rel}", sync.dest.trim_end_matches('/')))
        ));
    }
    script
}

/// gzip of the tar stream, when `compress` asks for it.
fn compressed(data: Vec<u8>, compress: bool) -> Result<Vec<u8>, String> {
    if !compress {
        return Ok(data);
    }
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&data).map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let sync = match spec(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(format!("synchronize: {e}")),
    };
    let name = sync.src.trim_end_matches('/');
    let root = drover_roles::resolve_file(name, "files", ctx.search)
        .or_else(|| drover_roles::resolve_dir(name, "files", ctx.search));
    let Some(root) = root else {
        return Outcome::fail(format!(
            "synchronize: `{}` not found in files/ or beside the playbook",
            sync.src
        ));
    };
    let local = match local_tree(&root, &sync) {
        Ok(t) => t,
        Err(e) => return Outcome::fail(format!("synchronize: {e}")),
    };
    let mut sync = sync;
    let mut local = local;
    let single_file = !root.is_dir();
    let list = |dest: String| async move {
        let cmd = listing_command(&dest, sync.checksum, single_file);
        ctx.output_of(&cmd, "synchronize")
            .await
            .map(|o| parse_listing(&o, &dest))
    };
    let (is_dir, mut remote) = match list(sync.dest.clone()).await {
        Ok(l) => l,
        Err(e) => return Outcome::fail(e),
    };
    // A file sent to a path that is not a folder becomes that path, as rsync makes it.
    if single_file && !is_dir && !sync.dest.ends_with('/') {
        let dest = Path::new(&sync.dest);
        let name = dest
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let parent = dest
            .parent()
            .map_or(".".into(), |p| p.display().to_string());
        local = local.into_values().map(|v| (name.clone(), v)).collect();
        remote = match list(parent.clone()).await {
            Ok((_, r)) => r,
            Err(e) => return Outcome::fail(e),
        };
        sync.dest = parent;
        sync.delete = false;
    }
    let plan = plan(&local, &remote, &sync);
    let mut out = Outcome {
        changed: !plan.items.is_empty(),
        ..Outcome::default()
    };
    if out.changed && !ctx.check {
        let stream =
            match archive(&local, &plan, sync.keep).and_then(|a| compressed(a, sync.compress)) {
                Ok(s) => s,
                Err(e) => return Outcome::fail(format!("synchronize: {e}")),
            };
        if let Err(e) = ctx
            .output_with(&apply_command(&sync, &plan), &stream, "synchronize")
            .await
        {
            return Outcome::fail(e);
        }
    }
    let lines: Vec<String> = plan
        .items
        .iter()
        .map(|i| format!("<<CHANGED>>{i}"))
        .collect();
    out.msg = lines.iter().map(|l| format!("{l}\n")).collect();
    out.result.insert("stdout_lines".into(), json!(lines));
    out.result.insert("rc".into(), json!(0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync(src: &str, delete: bool, opts: &[&str]) -> Sync {
        let mut a = json!({"src": src, "dest": "/srv/app", "delete": delete});
        a["rsync_opts"] = json!(opts);
        spec(&Args(a.as_object().unwrap().clone())).unwrap()
    }

    fn file(size: u64, mtime: i64) -> Entry {
        Entry {
            kind: Kind::File { size, sha256: None },
            mode: 0o644,
            mtime,
            owner: None,
        }
    }

    #[test]
    fn rsync_patterns_are_read_as_rsync_reads_them() {
        let r = rules(&[
            "--exclude=.git".into(),
            "--exclude '*.log'".into(),
            "--include=keep/".into(),
            "--exclude=/top".into(),
        ])
        .unwrap();
        assert!(excluded(&r, "a/.git", true));
        assert!(excluded(&r, "x/y/z.log", false));
        assert!(!excluded(&r, "keep", true));
        assert!(excluded(&r, "top", false) && !excluded(&r, "a/top", false));
        assert!(
            rules(&["--delete-after".into()])
                .unwrap_err()
                .contains("--delete-after")
        );
        assert!(
            rules(&["--exclude".into()])
                .unwrap_err()
                .contains("needs a pattern")
        );
    }

    #[test]
    fn the_quick_check_sends_only_what_differs_and_deletes_only_inside() {
        let s = sync("app/", true, &["--exclude=data"]);
        let mut local = BTreeMap::new();
        local.insert("same".to_string(), (file(3, 100), PathBuf::new()));
        local.insert("newer".to_string(), (file(3, 200), PathBuf::new()));
        local.insert("new".to_string(), (file(1, 1), PathBuf::new()));
        let mut remote = BTreeMap::new();
        remote.insert("same".to_string(), file(3, 100));
        remote.insert("newer".to_string(), file(3, 100));
        remote.insert("old".to_string(), file(1, 1));
        remote.insert("data".to_string(), file(1, 1));
        let p = plan(&local, &remote, &s);
        assert_eq!(p.send, ["new", "newer"]);
        assert_eq!(p.delete, ["old"]);
        assert_eq!(
            p.items,
            ["<f+++++++++ new", "<f..t...... newer", "*deleting   old"]
        );
        assert_eq!(
            apply_command(&s, &p),
            "mkdir -p -- /srv/app && tar -x -z -f - -C /srv/app -p || exit 1 && rm -rf -- /srv/app/old"
        );
    }

    #[test]
    fn a_stream_over_the_bound_is_refused_before_anything_is_read() {
        let mut local = BTreeMap::new();
        local.insert(
            "huge".to_string(),
            (file(MAX_BYTES + 1, 1), PathBuf::from("/nonexistent")),
        );
        let plan = Plan {
            send: vec!["huge".into()],
            ..Plan::default()
        };
        let keep = sync("app/", false, &[]).keep;
        assert!(
            archive(&local, &plan, keep)
                .unwrap_err()
                .contains("at most")
        );
    }

    #[test]
    fn a_folder_without_its_slash_is_sent_as_itself() {
        let s = sync("app", true, &[]);
        let mut local = BTreeMap::new();
        let dir = Entry {
            kind: Kind::Dir,
            mode: 0o755,
            mtime: 1,
            owner: None,
        };
        local.insert("app".to_string(), (dir.clone(), PathBuf::new()));
        local.insert("app/a".to_string(), (file(1, 1), PathBuf::new()));
        let mut remote = BTreeMap::new();
        remote.insert("app".to_string(), dir);
        remote.insert("app/a".to_string(), file(1, 1));
        remote.insert("other".to_string(), file(1, 1));
        let p = plan(&local, &remote, &s);
        assert_eq!(
            p,
            Plan::default(),
            "what lies beside the folder is not the transfer's"
        );
    }

    #[test]
    fn the_hosts_listing_is_read_back() {
        let out = b"dir\0d 4096 1700000000.5 755 \tapp\0f 3 1700000001.0000 640 \tapp/a b\0l 4 1700000002.0 777 /etc\tapp/l\0--sums--\nabc  /srv/x/app/a b\n";
        let (is_dir, tree) = parse_listing(out, "/srv/x/");
        assert!(is_dir);
        assert_eq!(parse_listing(b"", "/srv/x"), (false, BTreeMap::new()));
        assert_eq!(tree["app"].kind, Kind::Dir);
        assert_eq!(
            tree["app/a b"],
            Entry {
                kind: Kind::File {
                    size: 3,
                    sha256: Some("abc".into())
                },
                mode: 0o640,
                mtime: 1_700_000_001,
                owner: None
            }
        );
        assert_eq!(tree["app/l"].kind, Kind::Link("/etc".into()));
    }
}
