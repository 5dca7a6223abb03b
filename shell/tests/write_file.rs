//! The file-writing command in a real shell: it never writes through a symlink planted at its
//! temporary name, leaves no temporary file behind when a step fails, and replaces (not follows)
//! a symlink at the destination, as rename(2) does.

use std::io::Write;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::process::{Command, Stdio};

use drover_shell::{temp_path, write_via};

/// Runs `script` in /bin/sh with `input` on stdin; whether it succeeded.
fn sh(script: &str, input: &[u8]) -> bool {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait().unwrap().success()
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn a_planted_symlink_at_the_temporary_name_is_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("shadow");
    std::fs::write(&victim, "secret\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let dest = dir.path().join("app.conf");
    let tmp = temp_path(dest.to_str().unwrap());
    symlink(&victim, &tmp).unwrap();

    let ok = sh(
        &write_via(dest.to_str().unwrap(), &tmp, "644", None),
        b"attacker\n",
    );
    assert!(!ok, "the write must fail when its temporary name exists");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "secret\n");
    assert_eq!(mode(&victim), 0o600);
    assert!(!dest.exists());
    // The planted link is removed (not followed) on the way out.
    assert!(std::fs::symlink_metadata(&tmp).is_err());
}

#[test]
fn a_write_lands_whole_with_its_mode_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("app.conf");
    let other = dir.path().join("other");
    std::fs::write(&other, "other\n").unwrap();
    // A symlink at the destination is replaced by the new file; its target is left alone.
    symlink(&other, &dest).unwrap();
    let path = dest.to_str().unwrap();
    assert!(sh(
        &write_via(path, &temp_path(path), "640", None),
        b"new\n"
    ));
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new\n");
    assert_eq!(mode(&dest), 0o640);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "other\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn a_failed_step_removes_the_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("app.conf");
    let path = dest.to_str().unwrap();
    // chmod refuses the mode: the temporary file must not stay behind.
    assert!(!sh(
        &write_via(path, &temp_path(path), "999", None),
        b"new\n"
    ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
