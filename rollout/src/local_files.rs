//! Files drover writes on the controller: run folders (journals, snapshots, roll calls, fetched
//! files), `--output-dir` and `render --out`. Folders are created 0700 and files 0600, because they
//! can hold what hosts printed and fetched; and every path built from a host name or a task
//! parameter stays inside the folder it was meant for.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Creates `dir` and any missing parents with mode 0700. A folder that is already there keeps its
/// mode: it may be the operator's own (`--output-dir .`).
pub fn private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Creates `dir` as [`private_dir`] does and makes it 0700 even if it was there: for folders that
/// are drover's own, such as a run's.
pub fn own_private_dir(dir: &Path) -> io::Result<()> {
    private_dir(dir)?;
    fs::set_permissions(dir, Permissions::from_mode(0o700))
}

/// Writes `bytes` to `path` (its folder made private first) with mode 0600, replacing what was
/// there through a temporary name, so a reader never sees half a file.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        private_dir(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    fs::rename(&tmp, path)
}

/// Opens `path` to append to, created 0600 if new.
pub fn append_private(path: &Path) -> io::Result<fs::File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Opens `path` to read and write, created 0600 if new, not truncated.
pub fn open_private(path: &Path) -> io::Result<fs::File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

/// Creates (or truncates) `path` with mode 0600, for output written as it arrives.
pub fn create_private(path: &Path) -> io::Result<fs::File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(0o600))?;
    Ok(file)
}

/// A host's name as one file name: `/`, `%` and NUL are percent-encoded and a leading `.` too, so
/// `../etc` becomes `%2E.%2Fetc` and every host's file stays in its folder. Ordinary names
/// (`web01`, `db.example.com`) are unchanged.
pub fn host_file_name(host: &str) -> String {
    let mut out = String::with_capacity(host.len());
    for (i, c) in host.chars().enumerate() {
        match c {
            '/' => out.push_str("%2F"),
            '%' => out.push_str("%25"),
            '\0' => out.push_str("%00"),
            '.' if i == 0 => out.push_str("%2E"),
            c => out.push(c),
        }
    }
    if out.is_empty() { "%".into() } else { out }
}

/// `base` joined with `relative` (a leading `/` is dropped), refused when any part of `relative`
/// would climb out of `base` (`..`).
pub fn join_inside(base: &Path, relative: &str) -> Result<PathBuf, String> {
    let mut path = base.to_path_buf();
    for part in Path::new(relative.trim_start_matches('/')).components() {
        match part {
            Component::Normal(p) => path.push(p),
            Component::CurDir => {}
            _ => return Err(format!("`{relative}` climbs out of its folder (`..`)")),
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_become_one_file_name() {
        assert_eq!(host_file_name("web01"), "web01");
        assert_eq!(host_file_name("db.example.com"), "db.example.com");
        assert_eq!(host_file_name("../etc/cron.d/x"), "%2E.%2Fetc%2Fcron.d%2Fx");
        assert_eq!(host_file_name(".."), "%2E.");
        assert_eq!(host_file_name("a%2Fb"), "a%252Fb");
        assert_eq!(host_file_name(""), "%");
    }

    #[test]
    fn joined_paths_stay_inside() {
        let base = Path::new("/runs/1/fetched");
        assert_eq!(
            join_inside(base, "/etc/app.conf").unwrap(),
            base.join("etc/app.conf")
        );
        assert_eq!(join_inside(base, "./a/./b").unwrap(), base.join("a/b"));
        assert!(join_inside(base, "../../x").is_err());
        assert!(join_inside(base, "a/../../x").is_err());
    }

    #[test]
    fn private_files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("runs/1");
        write_private(&run.join("sub/a.json"), b"{}").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&run.join("sub/a.json")), 0o600);
        assert_eq!(mode(&run.join("sub")), 0o700);
        assert_eq!(mode(&run), 0o700);
        assert_eq!(mode(&dir.path().join("runs")), 0o700);
        write_private(&run.join("sub/a.json"), b"[]").unwrap();
        assert_eq!(fs::read(run.join("sub/a.json")).unwrap(), b"[]");
        assert_eq!(fs::read_dir(run.join("sub")).unwrap().count(), 1);
    }
}
