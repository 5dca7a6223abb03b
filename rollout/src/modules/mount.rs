//! mount (ansible.posix): a mount point's line in fstab (`present`), and the mount itself
//! (`mounted`, `unmounted`, `remounted`, `ephemeral` without fstab), or both gone (`absent`), as the
//! module keeps them: the line whose mount point is `path` is replaced in place (or added at the
//! end), written as `src path fstype opts dump passno`; a mounted point whose line changed is
//! remounted. fstab is written as lineinfile writes a file (backup, --check, --diff).

use drover_ssh::shell::quote;

use super::files::{FileTarget, Remote, WriteOpts, ensure_content, read_state};
use super::{Args, ModuleCtx, Outcome, reports_change};

/// What the task wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Mounted,
    Unmounted,
    Present,
    Absent,
    Remounted,
    Ephemeral,
}

/// fstab writes a space in a field as `\040`.
fn escape(field: &str) -> String {
    field.replace(' ', "\\040").replace('\t', "\\011")
}

/// The fstab line for the task.
pub fn line(src: &str, path: &str, fstype: &str, opts: &str, dump: &str, passno: &str) -> String {
    format!(
        "{} {} {} {} {dump} {passno}",
        escape(src),
        escape(path),
        fstype,
        opts
    )
}

/// fstab with `path`'s line set to `new` (or removed, with None): replaced where it is, the first
/// one kept and later ones for the same mount point dropped, or added at the end.
pub fn edit(fstab: &str, path: &str, new: Option<&str>) -> String {
    let mut out = Vec::new();
    let mut placed = false;
    let target = escape(path);
    for l in fstab.lines() {
        let fields: Vec<&str> = l.split_whitespace().collect();
        let is_it = !l.trim_start().starts_with('#') && fields.get(1) == Some(&target.as_str());
        if !is_it {
            out.push(l.to_string());
        } else if !placed {
            placed = true;
            out.extend(new.map(String::from));
        }
    }
    if !placed && let Some(n) = new {
        out.push(n.to_string());
    }
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

/// What the task names of the mount.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub state: State,
    pub path: String,
    pub src: Option<String>,
    pub fstype: Option<String>,
    pub opts: String,
    pub fstab: String,
}

/// The mount step after fstab is as it should be: prints `changed` when it mounted, unmounted or
/// remounted. `fstab_changed` remounts a mounted point (its options may be new).
pub fn mount_command(spec: &Spec, fstab_changed: bool, check: bool) -> Option<String> {
    let (state, path, opts, fstab) = (
        spec.state,
        spec.path.as_str(),
        spec.opts.as_str(),
        spec.fstab.as_str(),
    );
    let (src, fstype) = (spec.src.as_deref(), spec.fstype.as_deref());
    let p = quote(path);
    let act = |cmd: String| {
        if check {
            "echo changed".to_string()
        } else {
            format!("{{ {cmd} || exit 1; echo changed; }}")
        }
    };
    let mounted = format!("mountpoint -q {p}");
    let with_fstab = if fstab == "/etc/fstab" {
        String::new()
    } else {
        format!(" -T {}", quote(fstab))
    };
    match state {
        State::Present => None,
        State::Mounted => {
            let mount = act(format!("mkdir -p {p} && mount{with_fstab} {p}"));
            let remount = if fstab_changed {
                act(format!("mount{with_fstab} -o remount {p}"))
            } else {
                ":".into()
            };
            Some(format!("if {mounted}; then {remount}; else {mount}; fi"))
        }
        State::Ephemeral => {
            let (src, fstype) = (
                quote(src.unwrap_or_default()),
                quote(fstype.unwrap_or_default()),
            );
            Some(format!(
                "if ! {mounted}; then {}; fi",
                act(format!(
                    "mkdir -p {p} && mount -t {fstype} -o {} {src} {p}",
                    quote(opts)
                ))
            ))
        }
        State::Unmounted | State::Absent => Some(format!(
            "if {mounted}; then {}; fi",
            act(format!("umount {p}"))
        )),
        State::Remounted => Some(act(format!("mount{with_fstab} -o remount {p}"))),
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(path) = args.str("path") else {
        return Outcome::bad_input("mount needs `path`");
    };
    let state = match args.str("state").as_deref() {
        Some("mounted") => State::Mounted,
        Some("unmounted") => State::Unmounted,
        Some("present") => State::Present,
        Some("absent") => State::Absent,
        Some("remounted") => State::Remounted,
        Some("ephemeral") => State::Ephemeral,
        other => {
            return Outcome::bad_input(format!(
                "mount: `state` must be mounted, unmounted, present, absent, remounted or ephemeral, not {}",
                other.unwrap_or("missing")
            ));
        }
    };
    let fstab = args.str("fstab").unwrap_or_else(|| "/etc/fstab".into());
    let mut opts = args.str("opts").unwrap_or_else(|| "defaults".into());
    if args.bool("boot") == Some(false) && !opts.split(',').any(|o| o == "noauto") {
        opts = if opts == "defaults" {
            "noauto".into()
        } else {
            format!("{opts},noauto")
        };
    }
    let (src, fstype) = (args.str("src"), args.str("fstype"));
    let writes_line = matches!(state, State::Mounted | State::Present);
    if (writes_line || state == State::Ephemeral) && (src.is_none() || fstype.is_none()) {
        return Outcome::bad_input("mount: this state needs `src` and `fstype`");
    }
    let mut out = Outcome::default();
    if writes_line || state == State::Absent {
        let current = match read_state(ctx, &fstab).await {
            Ok(Remote::File { content, .. }) => String::from_utf8_lossy(&content).into_owned(),
            Ok(Remote::Missing) => String::new(),
            Err(e) => return Outcome::fail(e),
        };
        let new_line = writes_line.then(|| {
            line(
                src.as_deref().unwrap_or_default(),
                &path,
                fstype.as_deref().unwrap_or_default(),
                &opts,
                &args.str("dump").unwrap_or_else(|| "0".into()),
                &args.str("passno").unwrap_or_else(|| "0".into()),
            )
        });
        let after = edit(&current, &path, new_line.as_deref());
        if after != current {
            let target = FileTarget {
                path: fstab.clone(),
                write: WriteOpts {
                    backup: args.bool("backup") == Some(true),
                    ..WriteOpts::default()
                },
                ..FileTarget::default()
            };
            out = ensure_content(ctx, &target, after.as_bytes()).await;
            if out.failed {
                return out;
            }
            out.changed = true;
        }
    }
    let spec = Spec {
        state,
        path,
        src,
        fstype,
        opts,
        fstab,
    };
    if let Some(cmd) = mount_command(&spec, out.changed, ctx.check) {
        match ctx.output_of(&cmd, "mount").await {
            Ok(o) => out.changed |= reports_change(&o),
            Err(e) => return Outcome::fail(e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mount_points_line_is_replaced_in_place_or_added() {
        let fstab = "# /etc/fstab\nUUID=1 / ext4 defaults 0 1\n/dev/sdb1 /srv/data ext4 defaults 0 2\nproc /proc proc defaults 0 0\n";
        let new = line("/dev/sdb1", "/srv/data", "ext4", "noatime", "0", "2");
        assert_eq!(
            edit(fstab, "/srv/data", Some(&new)),
            "# /etc/fstab\nUUID=1 / ext4 defaults 0 1\n/dev/sdb1 /srv/data ext4 noatime 0 2\nproc /proc proc defaults 0 0\n"
        );
        assert_eq!(
            edit(fstab, "/srv/data", None),
            "# /etc/fstab\nUUID=1 / ext4 defaults 0 1\nproc /proc proc defaults 0 0\n"
        );
        assert_eq!(
            edit(
                "",
                "/mnt/my disk",
                Some(&line("tmpfs", "/mnt/my disk", "tmpfs", "size=1m", "0", "0"))
            ),
            "tmpfs /mnt/my\\040disk tmpfs size=1m 0 0\n"
        );
    }

    fn spec(state: State) -> Spec {
        Spec {
            state,
            path: "/mnt/c".into(),
            src: None,
            fstype: None,
            opts: "defaults".into(),
            fstab: "/etc/fstab".into(),
        }
    }

    #[test]
    fn mounting_only_when_needed() {
        assert_eq!(
            mount_command(&spec(State::Mounted), false, false).unwrap(),
            "if mountpoint -q /mnt/c; then :; else { mkdir -p /mnt/c && mount /mnt/c || exit 1; echo changed; }; fi"
        );
        assert_eq!(
            mount_command(&spec(State::Mounted), true, true).unwrap(),
            "if mountpoint -q /mnt/c; then echo changed; else echo changed; fi"
        );
        assert_eq!(
            mount_command(&spec(State::Unmounted), false, false).unwrap(),
            "if mountpoint -q /mnt/c; then { umount /mnt/c || exit 1; echo changed; }; fi"
        );
        assert!(mount_command(&spec(State::Present), false, false).is_none());
    }
}
