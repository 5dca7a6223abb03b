//! A run read back from its folder (`run.json`, `state.json`, `events.jsonl`): what `drover runs`
//! lists and `drover report` renders. Reading never changes the folder, and never takes its lock.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read as _};
use std::path::{Path, PathBuf};

use drover_upgrade::rollcall::Snapshot;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::journal::{RunSpec, RunState, RunStatus, run_dir};
use crate::push_event::{HostEnd, HostStats, PushEvent};

/// Why a run folder cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// No such run, or it is not a run folder.
    #[error("no run `{id}` in {root}: {why}")]
    NotFound {
        /// The id asked for.
        id: String,
        /// The runs folder.
        root: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A file of the run could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// The longest event line read; longer ones (none drover writes: outputs are capped) are skipped
/// and counted, so a damaged journal cannot make a report take all memory.
const MAX_LINE: usize = 16 << 20;

/// One journaled event and when it was written.
#[derive(Debug, Clone)]
pub struct Stamped {
    /// When (journals written before events had times have none).
    pub ts: Option<Timestamp>,
    /// The event.
    pub event: PushEvent,
}

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    ts: Option<String>,
    #[serde(flatten)]
    event: PushEvent,
}

/// Where a run stands, as `drover runs` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Every play ran on every host it selected.
    Done,
    /// A failure budget or a failed pattern stopped it.
    Halted,
    /// A play refused to start outside its maintenance window.
    Refused,
    /// Ctrl-C.
    Interrupted,
    /// A process is working on it now.
    Running,
    /// It says it is running, but no process holds it: the controller died (resume it).
    Died,
    /// A `drover snapshot`, not a push.
    Snapshot,
}

impl Condition {
    /// The word, as `--json` has it.
    pub fn word(self) -> &'static str {
        match self {
            Condition::Done => "done",
            Condition::Halted => "halted",
            Condition::Refused => "refused",
            Condition::Interrupted => "interrupted",
            Condition::Running => "running",
            Condition::Died => "died",
            Condition::Snapshot => "snapshot",
        }
    }

    /// Whether `--resume` goes on with the run.
    pub fn resumable(self) -> bool {
        matches!(
            self,
            Condition::Halted | Condition::Refused | Condition::Interrupted | Condition::Died
        )
    }
}

/// How a host ended the run, over all its plays (the latest attempt of each play counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostVerdict {
    /// Failed or unreachable in some play.
    Failed,
    /// Stopped by Ctrl-C in some play.
    Interrupted,
    /// Never worked on: the rollout halted before its batch.
    Untouched,
    /// Changed something.
    Changed,
    /// Ran, changed nothing.
    Ok,
}

/// Hosts by how they ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Ran, changed nothing.
    pub ok: usize,
    /// Changed something.
    pub changed: usize,
    /// Failed or unreachable.
    pub failed: usize,
    /// Stopped by Ctrl-C.
    pub interrupted: usize,
    /// Never worked on.
    pub untouched: usize,
}

/// A run folder, read.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The run id (its folder's name).
    pub id: String,
    /// What was asked (a `drover snapshot` folder has none).
    pub spec: Option<RunSpec>,
    /// Progress and status, as state.json has them.
    pub state: Option<RunState>,
    /// A process holds the run now.
    pub live: bool,
    /// Every event, in order.
    pub events: Vec<Stamped>,
    /// Lines of events.jsonl that are not events this drover knows (damaged, or too long).
    pub unreadable: usize,
    /// Whether the folder holds snapshots.
    pub has_snapshots: bool,
    /// The containers each host ran before its first restart, by host (the last taken).
    pub snapshots: BTreeMap<String, Snapshot>,
}

impl RunRecord {
    /// Reads run `id` under `root`.
    pub fn read(root: &Path, id: &str) -> Result<RunRecord, RecordError> {
        let not_found = |why: String| RecordError::NotFound {
            id: id.to_string(),
            root: root.to_path_buf(),
            why,
        };
        let dir = run_dir(root, id).map_err(not_found)?;
        if !dir.is_dir() {
            return Err(not_found("no such folder (see `drover runs`)".into()));
        }
        let spec = read_json(&dir.join("run.json"))?;
        let state = read_json(&dir.join("state.json"))?;
        let has_snapshots = dir.join("snapshots").is_dir();
        if spec.is_none() && !has_snapshots {
            return Err(not_found("the folder is not a run (no run.json)".into()));
        }
        let (events, unreadable) = read_events(&dir.join("events.jsonl"))?;
        let snapshots = read_snapshots(&dir.join("snapshots"));
        Ok(RunRecord {
            snapshots,
            id: id.to_string(),
            spec,
            state,
            live: crate::journal::is_live(&dir),
            events,
            unreadable,
            has_snapshots,
        })
    }

    /// The ids of the runs under `root`, newest first (ids sort by time).
    pub fn ids(root: &Path) -> Result<Vec<String>, RecordError> {
        let entries = match fs::read_dir(root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(RecordError::Io {
                    path: root.to_path_buf(),
                    source,
                });
            }
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| {
                let p = e.path();
                p.join("run.json").is_file() || p.join("snapshots").is_dir()
            })
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        Ok(ids)
    }

    /// Where the run stands.
    pub fn condition(&self) -> Condition {
        let Some(state) = &self.state else {
            // A push writes state.json just after run.json, holding the run all along.
            return match (&self.spec, self.live) {
                (None, _) => Condition::Snapshot,
                (Some(_), true) => Condition::Running,
                (Some(_), false) => Condition::Died,
            };
        };
        match state.status {
            RunStatus::Completed => Condition::Done,
            RunStatus::Halted => Condition::Halted,
            RunStatus::Refused => Condition::Refused,
            RunStatus::Interrupted => Condition::Interrupted,
            RunStatus::Running if self.live => Condition::Running,
            RunStatus::Running => Condition::Died,
        }
    }

    /// When the first event was written.
    pub fn started(&self) -> Option<Timestamp> {
        self.events.iter().find_map(|e| e.ts)
    }

    /// When the last event was written.
    pub fn ended(&self) -> Option<Timestamp> {
        self.events.iter().rev().find_map(|e| e.ts)
    }

    /// How long the run took, from its first event to its last (resumes included).
    pub fn duration_ms(&self) -> Option<u64> {
        let ms = self.ended()?.duration_since(self.started()?).as_millis();
        u64::try_from(ms.max(0)).ok()
    }

    /// The command that made the run, as the operator would type it again.
    pub fn command(&self) -> String {
        match &self.spec {
            None => "drover snapshot".into(),
            Some(spec) => {
                // The saved arguments are all that followed `drover push`.
                let mut words = vec!["drover".to_string(), "push".to_string()];
                words.extend(spec.args.iter().cloned());
                let words: Vec<String> = words
                    .iter()
                    .filter(|w| !w.is_empty())
                    .map(|w| drover_ssh::shell::quote(w))
                    .collect();
                words.join(" ")
            }
        }
    }

    /// How many times the run was started: 1, and one more for each `--resume`.
    pub fn attempts(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e.event, PushEvent::RunStarted { .. }))
            .count()
    }

    /// Each host, in the order hosts first appear, with how its part of each play it took part
    /// in ended, in play order (the latest attempt of each play: a resumed run's wins).
    pub fn host_ends(&self) -> Vec<(String, Vec<PlayEnd>)> {
        type Ends = BTreeMap<String, BTreeMap<usize, PlayEnd>>;
        // A host's plays, made when the host is first met.
        fn meet<'a>(
            ends: &'a mut Ends,
            order: &mut Vec<String>,
            host: &str,
        ) -> &'a mut BTreeMap<usize, PlayEnd> {
            if !ends.contains_key(host) {
                order.push(host.to_string());
            }
            ends.entry(host.to_string()).or_default()
        }
        let mut order: Vec<String> = Vec::new();
        let mut ends = Ends::new();
        let mut play = 0usize;
        for e in &self.events {
            match &e.event {
                PushEvent::RunStarted { .. } => play = 0,
                PushEvent::PlayStarted { hosts, .. } => {
                    play += 1;
                    for h in hosts {
                        meet(&mut ends, &mut order, h);
                    }
                }
                PushEvent::HostDone {
                    host,
                    end,
                    stats,
                    error,
                    ..
                } => {
                    let done = PlayEnd {
                        end: *end,
                        stats: *stats,
                        error: error.clone(),
                    };
                    meet(&mut ends, &mut order, host).insert(play, done);
                }
                PushEvent::Halted { untouched, .. } => {
                    for h in untouched {
                        meet(&mut ends, &mut order, h);
                    }
                }
                _ => {}
            }
        }
        order
            .into_iter()
            .map(|host| {
                let mine = ends.remove(&host).unwrap_or_default();
                (host, mine.into_values().collect())
            })
            .collect()
    }

    /// Each host's verdict over the run, in the order hosts first appear.
    pub fn verdicts(&self) -> Vec<(String, HostVerdict)> {
        self.host_ends()
            .into_iter()
            .map(|(host, ends)| (host, HostVerdict::of(&ends)))
            .collect()
    }

    /// How many hosts ended each way.
    pub fn tally(&self) -> Tally {
        Tally::of(&self.verdicts())
    }
}

/// How a host's part of one play ended (its latest attempt).
#[derive(Debug, Clone, PartialEq)]
pub struct PlayEnd {
    /// How it ended.
    pub end: HostEnd,
    /// Its counts.
    pub stats: HostStats,
    /// Why it stopped, if it did not succeed.
    pub error: Option<String>,
}

impl HostVerdict {
    /// The verdict of a host whose plays ended so (none: it was never worked on).
    pub fn of(ends: &[PlayEnd]) -> HostVerdict {
        if ends
            .iter()
            .any(|e| matches!(e.end, HostEnd::Failed | HostEnd::Unreachable))
        {
            HostVerdict::Failed
        } else if ends.iter().any(|e| e.end == HostEnd::Interrupted) {
            HostVerdict::Interrupted
        } else if ends.is_empty() {
            HostVerdict::Untouched
        } else if ends.iter().any(|e| e.stats.changed > 0) {
            HostVerdict::Changed
        } else {
            HostVerdict::Ok
        }
    }
}

impl Tally {
    /// How many of these hosts ended each way.
    pub fn of(verdicts: &[(String, HostVerdict)]) -> Tally {
        let mut t = Tally::default();
        for (_, v) in verdicts {
            *match v {
                HostVerdict::Ok => &mut t.ok,
                HostVerdict::Changed => &mut t.changed,
                HostVerdict::Failed => &mut t.failed,
                HostVerdict::Interrupted => &mut t.interrupted,
                HostVerdict::Untouched => &mut t.untouched,
            } += 1;
        }
        t
    }
}

/// A JSON file of the run, or None when it is not there.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, RecordError> {
    let io = |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    };
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io(std::io::Error::other(e))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
    }
}

/// The snapshots in `dir`, by host; files that are not snapshots are passed over.
fn read_snapshots(dir: &Path) -> BTreeMap<String, Snapshot> {
    let Ok(entries) = fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| read_json::<Snapshot>(&e.path()).ok().flatten())
        .map(|s| (s.host.clone(), s))
        .collect()
}

/// The events of events.jsonl, and how many lines were not events.
fn read_events(path: &Path) -> Result<(Vec<Stamped>, usize), RecordError> {
    let io = |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(io(e)),
    };
    let mut reader = BufReader::new(file);
    let (mut events, mut unreadable) = (Vec::new(), 0);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(io)?;
        if n == 0 {
            break;
        }
        if buf.len() > MAX_LINE {
            unreadable += 1;
            // The rest of the long line.
            reader.skip_until(b'\n').map_err(io)?;
            continue;
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Line>(&buf) {
            Ok(line) => events.push(Stamped {
                ts: line.ts.and_then(|t| t.parse().ok()),
                event: line.event,
            }),
            Err(_) => unreadable += 1,
        }
    }
    Ok((events, unreadable))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(lines: &[&str]) -> RunRecord {
        record_with("halted", lines, |_| {})
    }

    /// A run folder with `status` in state.json and `lines` in events.jsonl, read while `during`
    /// has the folder.
    fn record_with(status: &str, lines: &[&str], during: impl FnOnce(&Path)) -> RunRecord {
        let dir = std::env::temp_dir().join(format!(
            "drover-record-{}-{}",
            std::process::id(),
            lines.len()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("r1")).unwrap();
        fs::write(
            dir.join("r1/run.json"),
            r#"{"playbook":"site.yml","inventory":["hosts.ini"],"args":["-i","hosts.ini","site.yml","--batch","1"]}"#,
        )
        .unwrap();
        let state = format!(r#"{{"done":[],"status":"{status}"}}"#);
        fs::write(dir.join("r1/state.json"), state).unwrap();
        fs::write(dir.join("r1/events.jsonl"), lines.join("\n")).unwrap();
        during(&dir.join("r1"));
        let r = RunRecord::read(&dir, "r1").unwrap();
        assert_eq!(RunRecord::ids(&dir).unwrap(), ["r1"]);
        fs::remove_dir_all(&dir).unwrap();
        r
    }

    #[test]
    fn a_running_run_is_live_only_while_a_process_holds_its_lock() {
        assert_eq!(
            record_with("running", &[], |_| {}).condition(),
            Condition::Died
        );
        let held = std::cell::RefCell::new(None);
        let r = record_with("running", &[], |dir| {
            let lock = File::create(dir.join("lock")).unwrap();
            lock.lock().unwrap();
            *held.borrow_mut() = Some(lock);
        });
        assert_eq!(r.condition(), Condition::Running);
        assert!(r.events.is_empty());
        // Between run.json and state.json, a live push is running, a dead one died.
        let starting = |hold: bool| {
            let held = std::cell::RefCell::new(None);
            let r = record_with("running", &[], |dir| {
                fs::remove_file(dir.join("state.json")).unwrap();
                if hold {
                    let lock = File::create(dir.join("lock")).unwrap();
                    lock.lock().unwrap();
                    *held.borrow_mut() = Some(lock);
                }
            });
            r.condition()
        };
        assert_eq!(starting(true), Condition::Running);
        assert_eq!(starting(false), Condition::Died);
    }

    #[test]
    fn a_resumed_hosts_last_end_counts_and_untouched_hosts_are_told() {
        let r = record(&[
            r#"{"ts":"2026-12-04T10:00:00.000Z","event":"run_started","run_id":"r1","check":false}"#,
            r#"{"event":"play_started","play":"p","hosts":["a","b","c"],"already_done":[]}"#,
            r#"{"event":"host_done","host":"a","end":"done","stats":{"ok":1,"changed":1,"unreachable":0,"failed":0,"skipped":0,"rescued":0,"ignored":0}}"#,
            r#"{"event":"host_done","host":"b","end":"failed","stats":{"ok":0,"changed":0,"unreachable":0,"failed":1,"skipped":0,"rescued":0,"ignored":0},"error":"x"}"#,
            r#"{"event":"halted","reason":"budget","untouched":["c"]}"#,
            "not json",
            r#"{"ts":"2026-12-04T10:05:00.250Z","event":"run_done","status":"halted","recap":{}}"#,
        ]);
        assert_eq!(r.unreadable, 1);
        assert_eq!(r.condition(), Condition::Halted);
        assert_eq!(r.attempts(), 1);
        assert_eq!(
            r.verdicts(),
            [
                ("a".to_string(), HostVerdict::Changed),
                ("b".to_string(), HostVerdict::Failed),
                ("c".to_string(), HostVerdict::Untouched)
            ]
        );
        let took = r.ended().unwrap().duration_since(r.started().unwrap());
        assert_eq!(took.as_millis(), 300_250);
        assert_eq!(r.command(), "drover push -i hosts.ini site.yml --batch 1");
    }
}
