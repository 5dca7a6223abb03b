//! filesystem (community.general): a filesystem made on a device (or a file) unless `blkid` finds
//! one of that kind there, refused over another kind unless `force`, as the module decides it;
//! `state: absent` wipes the signatures with `wipefs --all`. mkfs runs with the module's own
//! force flags and the task's `opts`, split into words (no shell reads them).

use drover_ssh::shell::{quote, split_words};

use super::{Args, ModuleCtx, Outcome};

/// A filesystem drover makes: its mkfs, the flags that make it without asking, the option that
/// sets its UUID (if it has one), the type blkid reports for it.
struct Kind {
    mkfs: &'static str,
    force: &'static [&'static str],
    uuid: &'static [&'static str],
    blkid: &'static str,
}

/// The module's names for them (`lvm` is blkid's LVM2_member).
fn kind_of(fstype: &str) -> Option<Kind> {
    let k = |mkfs, force, uuid, blkid| Kind {
        mkfs,
        force,
        uuid,
        blkid,
    };
    Some(match fstype {
        "ext2" => k("mkfs.ext2", &["-F"][..], &["-U"][..], "ext2"),
        "ext3" => k("mkfs.ext3", &["-F"], &["-U"], "ext3"),
        "ext4" | "ext4dev" => k("mkfs.ext4", &["-F"], &["-U"], "ext4"),
        "xfs" => k("mkfs.xfs", &["-f"], &[], "xfs"),
        "btrfs" => k("mkfs.btrfs", &["-f"], &[], "btrfs"),
        "swap" => k("mkswap", &["-f"], &[], "swap"),
        "lvm" => k(
            "pvcreate",
            &["-f"],
            &["-u", "--norestorefile"],
            "LVM2_member",
        ),
        _ => return None,
    })
}

/// What to do, given whether the device is there and the type blkid found on it ("" for none).
pub fn plan(args: &Args, exists: bool, found: &str) -> Result<Option<String>, String> {
    let dev = args.first(&["dev", "device"]).ok_or("needs `dev`")?;
    let d = quote(&dev);
    if !args.present()? {
        return Ok((exists && !found.is_empty()).then(|| format!("wipefs --all {d}")));
    }
    let fstype = args
        .first(&["fstype", "type"])
        .ok_or("state present needs `fstype`")?;
    let kind = kind_of(&fstype).ok_or_else(|| {
        format!(
            "`fstype: {fstype}` is not one drover makes (ext2, ext3, ext4, xfs, btrfs, swap, lvm)"
        )
    })?;
    if !exists {
        return Err(format!("Device {dev} not found."));
    }
    let force = args.bool("force") == Some(true);
    let uuid = args.str("uuid");
    let same = !found.is_empty() && kind_of(found).map(|k| k.mkfs) == Some(kind.mkfs)
        || found == kind.blkid;
    if same && !force {
        if uuid.is_some() {
            return Err(format!(
                "`uuid` on a {fstype} filesystem that is there already: drover does not change a filesystem's UUID"
            ));
        }
        return Ok(None);
    }
    if !found.is_empty() && !same && !force {
        return Err(format!(
            "'{dev}' is already used as {found}, use force=true to overwrite"
        ));
    }
    let mut words: Vec<String> = std::iter::once(kind.mkfs)
        .chain(kind.force.iter().copied())
        .map(String::from)
        .collect();
    let opts =
        split_words(&args.str("opts").unwrap_or_default()).map_err(|e| format!("`opts`: {e}"))?;
    if let Some(uuid) = &uuid {
        let Some((flag, extra)) = kind.uuid.split_first() else {
            return Err(format!(
                "module does not support UUID option for this filesystem ({fstype}) yet."
            ));
        };
        if !opts.iter().any(|o| kind.uuid.contains(&o.as_str())) {
            words.extend(opts.iter().cloned());
            words.extend([flag.to_string(), uuid.clone()]);
            words.extend(extra.iter().map(|e| e.to_string()));
        } else {
            words.extend(opts.iter().cloned());
        }
    } else {
        words.extend(opts);
    }
    words.push(dev.clone());
    Ok(Some(
        words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" "),
    ))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(dev) = args.first(&["dev", "device"]) else {
        return Outcome::bad_input("filesystem needs `dev`");
    };
    let d = quote(&dev);
    let probe = format!(
        "if [ -e {d} ]; then echo there; blkid -c /dev/null -o value -s TYPE {d} || true; fi"
    );
    let out = match ctx.output_of(&probe, "reading the device").await {
        Ok(out) => String::from_utf8_lossy(&out).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    let mut lines = out.lines();
    let exists = lines.next() == Some("there");
    let found = lines.next().unwrap_or_default().trim();
    let step = match plan(args, exists, found) {
        Ok(Some(step)) => step,
        Ok(None) => return Outcome::default(),
        Err(e) => return Outcome::fail(format!("filesystem: {e}")),
    };
    ctx.make_change(&step, b"", "filesystem").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;
    use serde_json::json;

    #[test]
    fn filesystems_are_made_only_where_the_module_makes_them() {
        let ext4 = args(json!({"dev": "/dev/vdb", "fstype": "ext4", "opts": "-L data -m 1"}));
        assert_eq!(
            plan(&ext4, true, "").unwrap().unwrap(),
            "mkfs.ext4 -F -L data -m 1 /dev/vdb"
        );
        assert_eq!(plan(&ext4, true, "ext4").unwrap(), None);
        assert!(
            plan(&ext4, true, "xfs")
                .unwrap_err()
                .contains("use force=true")
        );
        assert!(plan(&ext4, false, "").unwrap_err().contains("not found"));
        let forced = args(json!({"dev": "/dev/vdb", "type": "xfs", "force": true}));
        assert_eq!(
            plan(&forced, true, "ext4").unwrap().unwrap(),
            "mkfs.xfs -f /dev/vdb"
        );
        let lvm = args(json!({"device": "/dev/vdc", "fstype": "lvm", "uuid": "abc"}));
        assert_eq!(
            plan(&lvm, true, "").unwrap().unwrap(),
            "pvcreate -f -u abc --norestorefile /dev/vdc"
        );
        assert!(
            plan(&lvm, true, "LVM2_member")
                .unwrap_err()
                .contains("UUID")
        );
        let gone = args(json!({"dev": "/dev/vdb", "state": "absent"}));
        assert_eq!(
            plan(&gone, true, "ext4").unwrap().unwrap(),
            "wipefs --all /dev/vdb"
        );
        assert_eq!(plan(&gone, true, "").unwrap(), None);
        assert!(plan(&args(json!({"dev": "/d", "fstype": "zfs"})), true, "").is_err());
    }
}
