//! The run journal: `.drover/runs/<id>/` holds the run's settings (`run.json`), every event
//! (`events.jsonl`), which hosts finished each play (`state.json`), and fetched files. A halted or
//! interrupted run resumes from it without repeating finished hosts.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::modules::InventoryChange;

use crate::local_files::{
    append_private, host_file_name, open_private, own_private_dir, write_private,
};

/// What a run was asked to do, so `--resume` can do it again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunSpec {
    /// The playbook file.
    pub playbook: PathBuf,
    /// The inventory sources.
    pub inventory: Vec<PathBuf>,
    /// The rest of the command line, as given, less inline `-e` values (`-e @file` stays: the
    /// values are in the operator's file, not here).
    pub args: Vec<String>,
    /// The names of the variables that inline `-e` values set: `--resume` asks for them again
    /// rather than keeping the values, which may be secrets.
    #[serde(default)]
    pub extra_var_names: Vec<String>,
}

/// Where a run stands, as state.json and the `run_done` event say it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// A process is working on it (or died while it was: its folder lock tells).
    #[default]
    Running,
    /// Every play ran on every host it selected.
    Completed,
    /// A failure budget or a failed pattern stopped it; `--resume` goes on.
    Halted,
    /// A play refused to start a batch outside its maintenance window.
    Refused,
    /// Ctrl-C.
    Interrupted,
}

/// Progress: the hosts that finished each play.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunState {
    /// Per play, in order: hosts that completed it.
    pub done: Vec<Vec<String>>,
    /// Where the run stands.
    pub status: RunStatus,
    /// Per play, in order: per host, the handlers it was notified of that have not run yet. A host
    /// that halts keeps them here, and `--resume` runs them even though the task that notified
    /// them (now unchanged) does not notify again.
    #[serde(default)]
    pub pending_handlers: Vec<BTreeMap<String, Vec<String>>>,
    /// What `add_host` and `group_by` changed in the inventory, in order, each with the host whose
    /// task made it: `--resume` makes them again before the first play, so a later play still
    /// finds the hosts and groups an earlier, finished one made.
    #[serde(default)]
    pub inventory_changes: Vec<(String, InventoryChange)>,
}

/// An open journal.
pub struct Journal {
    dir: PathBuf,
    events: File,
    state: RunState,
    /// The run folder's `lock`, locked while this process works on the run (see [`hold_run`]).
    _live: File,
}

/// Locks the run folder for this process (an advisory lock on `<run>/lock`, which also names the
/// process). The kernel drops the lock when the process ends, however it ends, so a run that is
/// still alive is told from a dead one: a second `--resume` of a live run is refused, naming the
/// process, instead of running the same hosts twice and taking over the host locks of the first.
fn hold_run(dir: &Path) -> std::io::Result<File> {
    let path = dir.join("lock");
    let mut file = open_private(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let holder = fs::read_to_string(&path).unwrap_or_default();
            return Err(std::io::Error::other(format!(
                "the run is still going on in process {} (its lock: {}); wait for it to end, or stop it, before resuming",
                holder.trim(),
                path.display()
            )));
        }
        Err(fs::TryLockError::Error(e)) => return Err(e),
    }
    file.set_len(0)?;
    writeln!(file, "{}", std::process::id())?;
    Ok(file)
}

/// Whether a process is working on the run in `dir` now: its folder's lock is held. Asked with
/// a shared lock that is let go at once.
pub fn is_live(dir: &Path) -> bool {
    File::open(dir.join("lock"))
        .is_ok_and(|f| matches!(f.try_lock_shared(), Err(fs::TryLockError::WouldBlock)))
}

/// A new run id: UTC time and a short suffix, so ids sort by time (`20261123T204500-1a2b`).
pub fn new_run_id() -> String {
    let now = SystemTime::now();
    let stamp: String = humantime::format_rfc3339_seconds(now)
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect();
    let nanos = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    format!("{stamp}-{:04x}", (nanos ^ std::process::id()) & 0xffff)
}

/// The folder of run `id` under `root`; an id that is not one plain name (`../x`, `a/b`) is refused.
pub fn run_dir(root: &Path, id: &str) -> Result<PathBuf, String> {
    let plain = !id.is_empty() && id != "." && id != ".." && !id.contains(['/', '\0']);
    if plain {
        Ok(root.join(id))
    } else {
        Err(format!(
            "`{id}` is not a run id (such as 20261123T204500-1a2b)"
        ))
    }
}

impl Journal {
    /// Creates the folder of a new run under `root` (usually `.drover/runs`).
    pub fn create(root: &Path, id: &str, spec: &RunSpec) -> std::io::Result<Journal> {
        let dir = root.join(id);
        own_private_dir(&dir)?;
        // Held before anything else is written: a folder with a run.json is never seen unheld
        // while its run is alive (`drover runs` would call it dead).
        let live = hold_run(&dir)?;
        write_private(&dir.join("run.json"), &serde_json::to_vec_pretty(spec)?)?;
        Journal::open_dir(dir, RunState::default(), live)
    }

    /// Reopens a run to resume it.
    pub fn resume(root: &Path, id: &str) -> std::io::Result<(Journal, RunSpec)> {
        let dir = run_dir(root, id).map_err(std::io::Error::other)?;
        let spec: RunSpec = serde_json::from_slice(&fs::read(dir.join("run.json"))?)?;
        let mut state: RunState = serde_json::from_slice(&fs::read(dir.join("state.json"))?)?;
        state.status = RunStatus::Running;
        // A run folder from before folders were private becomes private now.
        own_private_dir(&dir)?;
        let live = hold_run(&dir)?;
        Ok((Journal::open_dir(dir, state, live)?, spec))
    }

    fn open_dir(dir: PathBuf, state: RunState, live: File) -> std::io::Result<Journal> {
        let events = append_private(&dir.join("events.jsonl"))?;
        let journal = Journal {
            dir,
            events,
            state,
            _live: live,
        };
        journal.save()?;
        Ok(journal)
    }

    /// The run's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Hosts that already finished play `play`.
    pub fn done(&self, play: usize) -> &[String] {
        self.state.done.get(play).map_or(&[], Vec::as_slice)
    }

    /// Appends one event, flushed at once so a killed controller loses nothing written. An event
    /// that is a JSON object gets its time first (`"ts"`, UTC to the millisecond), so a report can
    /// tell how long each step took.
    pub fn record(&mut self, event: &impl Serialize) -> std::io::Result<()> {
        let body = serde_json::to_vec(event)?;
        let mut line = match body.strip_prefix(b"{") {
            Some(rest) => {
                let ts = humantime::format_rfc3339_millis(SystemTime::now());
                let sep = if rest == b"}" { "" } else { "," };
                let mut line = format!("{{\"ts\":\"{ts}\"{sep}").into_bytes();
                line.extend_from_slice(rest);
                line
            }
            None => body,
        };
        line.push(b'\n');
        self.events.write_all(&line)?;
        self.events.flush()
    }

    /// Marks `host` as having finished play `play`.
    pub fn host_done(&mut self, play: usize, host: &str) -> std::io::Result<()> {
        if self.state.done.len() <= play {
            self.state.done.resize(play + 1, Vec::new());
        }
        if !self.state.done[play].iter().any(|h| h == host) {
            self.state.done[play].push(host.to_string());
        }
        self.save()
    }

    /// The handlers `host` was notified of in play `play` and has not run.
    pub fn pending_handlers(&self, play: usize, host: &str) -> Vec<String> {
        self.state
            .pending_handlers
            .get(play)
            .and_then(|hosts| hosts.get(host))
            .cloned()
            .unwrap_or_default()
    }

    /// Records the handlers `host` has pending in play `play` (none: they ran).
    pub fn set_pending_handlers(
        &mut self,
        play: usize,
        host: &str,
        handlers: &[String],
    ) -> std::io::Result<()> {
        if self.state.pending_handlers.len() <= play {
            self.state
                .pending_handlers
                .resize(play + 1, BTreeMap::new());
        }
        let hosts = &mut self.state.pending_handlers[play];
        let before = hosts.get(host).map(Vec::as_slice).unwrap_or_default();
        if before == handlers {
            return Ok(());
        }
        if handlers.is_empty() {
            hosts.remove(host);
        } else {
            hosts.insert(host.to_string(), handlers.to_vec());
        }
        self.save()
    }

    /// Records `changes` that `host`'s task made in the run's inventory.
    pub fn inventory_changed(
        &mut self,
        host: &str,
        changes: &[InventoryChange],
    ) -> std::io::Result<()> {
        let made = changes.iter().map(|c| (host.to_string(), c.clone()));
        self.state.inventory_changes.extend(made);
        self.save()
    }

    /// The inventory changes of the run so far (see [`RunState::inventory_changes`]).
    pub fn inventory_changes(&self) -> &[(String, InventoryChange)] {
        &self.state.inventory_changes
    }

    /// Keeps `value` as `host`'s JSON file in the run folder's `folder` (`snapshots`, `rollcalls`):
    /// the evidence of what ran before a restart and what came back.
    pub fn keep(
        &mut self,
        folder: &str,
        host: &str,
        value: &impl Serialize,
    ) -> std::io::Result<()> {
        let path = self
            .dir
            .join(folder)
            .join(format!("{}.json", host_file_name(host)));
        write_private(&path, &serde_json::to_vec_pretty(value)?)
    }

    /// Sets the run's status.
    pub fn finish(&mut self, status: RunStatus) -> std::io::Result<()> {
        self.state.status = status;
        self.save()
    }

    /// Writes state.json atomically (temporary file, then rename).
    fn save(&self) -> std::io::Result<()> {
        write_private(
            &self.dir.join("state.json"),
            &serde_json::to_vec_pretty(&self.state)?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_plain_names() {
        let root = Path::new("/runs");
        assert_eq!(
            run_dir(root, "20261123T204500-1a2b").unwrap(),
            root.join("20261123T204500-1a2b")
        );
        for bad in ["", ".", "..", "../x", "a/b", "a\0b"] {
            assert!(run_dir(root, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn run_ids_sort_by_time_and_resume_keeps_progress() {
        let id = new_run_id();
        assert_eq!(id.len(), 20, "{id}");
        assert!(id.as_bytes()[8] == b'T');
        let root = std::env::temp_dir().join(format!("drover-journal-{}", std::process::id()));
        let spec = RunSpec {
            playbook: "site.yml".into(),
            inventory: vec!["hosts.ini".into()],
            args: vec!["--batch".into(), "1".into()],
            extra_var_names: vec!["token".into()],
        };
        let mut j = Journal::create(&root, &id, &spec).unwrap();
        j.record(&serde_json::json!({"event": "x"})).unwrap();
        j.host_done(0, "node01").unwrap();
        j.set_pending_handlers(1, "node02", &["restart app".into()])
            .unwrap();
        j.finish(RunStatus::Halted).unwrap();
        assert!(is_live(j.dir()));
        let line = std::fs::read_to_string(j.dir().join("events.jsonl")).unwrap();
        let ts = line.strip_prefix(r#"{"ts":""#).unwrap();
        assert!(ts.ends_with("\",\"event\":\"x\"}\n"), "{line}");
        assert!(ts[..24].parse::<jiff::Timestamp>().is_ok(), "{line}");
        // While the first is open, the run is live: resuming it is refused, naming this process.
        let live = Journal::resume(&root, &id).err().unwrap().to_string();
        assert!(
            live.contains(&format!("still going on in process {}", std::process::id())),
            "{live}"
        );
        let dir = j.dir().to_path_buf();
        drop(j);
        assert!(!is_live(&dir));
        let (j2, spec2) = Journal::resume(&root, &id).unwrap();
        assert_eq!(spec2, spec);
        assert_eq!(j2.done(0), ["node01"]);
        assert!(j2.done(1).is_empty());
        assert_eq!(j2.pending_handlers(1, "node02"), ["restart app"]);
        assert!(j2.pending_handlers(0, "node02").is_empty());
        std::fs::remove_dir_all(root).unwrap();
    }
}
