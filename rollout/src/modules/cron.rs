//! cron: a job (or an environment variable) in a user's crontab or in a file under /etc/cron.d, kept
//! as Ansible's module keeps it: a job is the line after its `#Ansible: NAME` marker; a job already
//! there by its exact line gets the marker; variables are `NAME="value"` lines. The edit is a pure
//! function of the crontab's lines; the crontab is read with `crontab -l` and installed with
//! `crontab -` (the job on standard input), a cron file through an exclusive temporary file.

use drover_ssh::shell::{quote, temp_path};
use serde_json::json;

use super::files::{put_command, unified};
use super::{Args, ModuleCtx, Outcome};

const MARK: &str = "#Ansible: ";

/// What the task asks.
#[derive(Debug, Clone, Default)]
pub struct CronSpec {
    pub name: String,
    pub job: Option<String>,
    /// minute, hour, day, month, weekday.
    pub schedule: [String; 5],
    pub special: Option<String>,
    pub user: Option<String>,
    /// The file under /etc/cron.d (absolute).
    pub cron_file: Option<String>,
    pub absent: bool,
    pub disabled: bool,
    pub env: bool,
    pub insert_after: Option<String>,
    pub insert_before: Option<String>,
}

impl CronSpec {
    pub fn from_args(args: &Args) -> Result<CronSpec, String> {
        let name = args.str("name").ok_or("cron needs `name`")?;
        let field = |keys: &[&str]| args.first(keys).unwrap_or_else(|| "*".into());
        let schedule = [
            field(&["minute"]),
            field(&["hour"]),
            field(&["day", "dom"]),
            field(&["month"]),
            field(&["weekday", "dow"]),
        ];
        let special = args.str("special_time");
        if special.is_some() && schedule.iter().any(|f| f != "*") {
            return Err(
                "You cannot combine special_time with any of the time or day/date parameters."
                    .into(),
            );
        }
        let cron_file = args.str("cron_file").map(|f| {
            if f.starts_with('/') {
                f
            } else {
                format!("/etc/cron.d/{f}")
            }
        });
        if cron_file.as_deref() == Some("/etc/crontab") {
            return Err("Will not manage /etc/crontab via cron_file, see documentation.".into());
        }
        let absent = match args.str("state").as_deref().unwrap_or("present") {
            "present" => false,
            "absent" => true,
            other => return Err(format!("cron: `state: {other}` is not present or absent")),
        };
        let spec = CronSpec {
            name,
            job: args.first(&["job", "value"]),
            schedule,
            special,
            user: args.str("user"),
            cron_file,
            absent,
            disabled: args.bool("disabled").unwrap_or(false),
            env: args.bool("env").unwrap_or(false),
            insert_after: args.str("insertafter"),
            insert_before: args.str("insertbefore"),
        };
        if !absent {
            if spec.cron_file.is_some() && spec.user.is_none() {
                return Err(
                    "To use cron_file=... parameter you must specify user=... as well".into(),
                );
            }
            if spec.job.is_none() {
                return Err("You must specify 'job' to install a new cron job or variable".into());
            }
            if (spec.insert_after.is_some() || spec.insert_before.is_some()) && !spec.env {
                return Err(
                    "Insertafter and insertbefore parameters are valid only with env=yes".into(),
                );
            }
        }
        if spec.env && spec.name.contains(' ') {
            return Err("Invalid name for environment variable".into());
        }
        Ok(spec)
    }

    /// The job's line, as the module writes it.
    pub fn job_line(&self) -> String {
        let job = self
            .job
            .as_deref()
            .unwrap_or_default()
            .trim_matches(['\r', '\n']);
        let off = if self.disabled { "#" } else { "" };
        let user = match (&self.cron_file, &self.user) {
            (Some(_), Some(u)) => format!("{u} "),
            _ => String::new(),
        };
        match &self.special {
            Some(s) => format!("{off}@{s} {user}{job}"),
            None => format!("{off}{} {user}{job}", self.schedule.join(" ")),
        }
    }
}

/// The lines after the edit, and whether anything changed.
pub fn edit(mut lines: Vec<String>, spec: &CronSpec) -> Result<(Vec<String>, bool), String> {
    let marker = format!("{MARK}{}", spec.name);
    if spec.env {
        let decl = format!(
            "{}=\"{}\"",
            spec.name,
            spec.job.as_deref().unwrap_or_default()
        );
        let prefix = format!("{}=", spec.name);
        let at = lines.iter().position(|l| l.starts_with(&prefix));
        return Ok(match (at, spec.absent) {
            (Some(_), true) => (
                lines
                    .into_iter()
                    .filter(|l| !l.starts_with(&prefix))
                    .collect(),
                true,
            ),
            (None, true) => (lines, false),
            (Some(i), false) if lines[i] == decl => (lines, false),
            (Some(_), false) => (
                lines
                    .into_iter()
                    .map(|l| {
                        if l.starts_with(&prefix) {
                            decl.clone()
                        } else {
                            l
                        }
                    })
                    .collect(),
                true,
            ),
            (None, false) => {
                let at = match (&spec.insert_after, &spec.insert_before) {
                    (None, None) => 0,
                    (after, before) => {
                        let other = after
                            .as_ref()
                            .or(before.as_ref())
                            .cloned()
                            .unwrap_or_default();
                        let i = lines
                            .iter()
                            .position(|l| l.starts_with(&format!("{other}=")))
                            .ok_or_else(|| format!("Variable named '{other}' not found."))?;
                        if after.is_some() { i + 1 } else { i }
                    }
                };
                lines.insert(at, decl);
                (lines, true)
            }
        });
    }
    let found = lines
        .iter()
        .position(|l| *l == marker)
        .filter(|i| *i + 1 < lines.len());
    if spec.absent {
        return Ok(match found {
            Some(i) => {
                lines.drain(i..=i + 1);
                (lines, true)
            }
            None => (lines, false),
        });
    }
    let job = spec.job_line();
    match found {
        Some(i) if lines[i + 1] == job => Ok((lines, false)),
        Some(i) => {
            lines[i + 1] = job;
            Ok((lines, true))
        }
        None => {
            // The exact line without a marker before it gets one (a nameless marker is named).
            if let Some(i) = lines.iter().position(|l| *l == job) {
                let before = if i == 0 {
                    None
                } else {
                    Some(lines[i - 1].as_str())
                };
                match before {
                    Some(b) if b == format!("{MARK}None") => {
                        lines[i - 1] = marker;
                        return Ok((lines, true));
                    }
                    Some(b) if b.starts_with(MARK) => {}
                    _ => {
                        lines.insert(i, marker);
                        return Ok((lines, true));
                    }
                }
            }
            lines.push(marker);
            lines.push(job);
            Ok((lines, true))
        }
    }
}

/// The crontab's text: its lines joined, one line end at the end.
pub fn render(lines: &[String]) -> String {
    let text = lines.join("\n");
    if text.is_empty() {
        text
    } else {
        format!("{}\n", text.trim_end_matches(['\r', '\n']))
    }
}

/// The lines of what `crontab -l` printed, without the three lines crontab itself puts at the top
/// of an installed file.
pub fn parse_crontab(out: &str) -> Vec<String> {
    out.lines()
        .enumerate()
        .filter(|(i, l)| {
            *i > 2
                || !(l.starts_with("# DO NOT EDIT THIS FILE - edit the master and reinstall.")
                    || (l.starts_with("# (")
                        && (l.contains("installed on") || l.contains("version"))))
        })
        .map(|(_, l)| l.to_string())
        .collect()
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match CronSpec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let u = spec
        .user
        .as_deref()
        .map_or(String::new(), |u| format!(" -u {}", quote(u)));
    let read = match &spec.cron_file {
        Some(f) => format!("if [ -f {0} ]; then cat -- {0}; fi", quote(f)),
        // Exit 1 with no crontab: none yet.
        None => format!("crontab{u} -l 2>/dev/null; [ $? -le 1 ]"),
    };
    let before = match ctx.output_of(&read, "reading the crontab").await {
        Ok(o) => String::from_utf8_lossy(&o).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    let lines = match &spec.cron_file {
        Some(_) => before.lines().map(String::from).collect(),
        None => parse_crontab(&before),
    };
    let (lines, mut changed) = match edit(lines, &spec) {
        Ok(r) => r,
        Err(e) => return Outcome::fail(e),
    };
    // A crontab without a final line end is fixed, as the module does.
    if !changed && !before.is_empty() && !before.ends_with('\n') {
        changed = true;
    }
    let after = render(&lines);
    let mut outcome = Outcome {
        changed,
        ..Outcome::default()
    };
    let jobs: Vec<&str> = lines.iter().filter_map(|l| l.strip_prefix(MARK)).collect();
    outcome.result.insert("jobs".into(), json!(jobs));
    if changed && ctx.diff {
        let what = spec.cron_file.clone().unwrap_or_else(|| "crontab".into());
        outcome.diff = Some(unified(&what, before.as_bytes(), after.as_bytes()));
    }
    if !changed || ctx.check {
        return outcome;
    }
    let empty = lines.iter().all(|l| l.trim().is_empty());
    let cmd = match &spec.cron_file {
        // A cron file left with nothing is removed, as the module does.
        Some(f) if spec.absent && empty => format!("rm -f -- {}", quote(f)),
        Some(f) => put_command(f, &temp_path(f), after.as_bytes(), Some(0o644)),
        None => format!("crontab{u} -"),
    };
    match ctx.exec(&cmd, after.as_bytes()).await {
        Ok(o) if o.status.success() => outcome,
        Ok(o) => Outcome::fail(format!(
            "Failed to install new cronfile: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Outcome::fail(format!("installing the crontab: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as Json, json};

    fn spec(v: Json) -> CronSpec {
        CronSpec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn jobs_are_added_updated_and_removed_by_their_marker() {
        let s = spec(
            json!({"name": "backup", "minute": "0", "hour": "3", "job": "/usr/local/bin/backup"}),
        );
        let (out, changed) = edit(lines("MAILTO=ops\n"), &s).unwrap();
        assert!(changed);
        assert_eq!(
            render(&out),
            "MAILTO=ops\n#Ansible: backup\n0 3 * * * /usr/local/bin/backup\n"
        );
        assert!(!edit(out.clone(), &s).unwrap().1);
        let later = spec(
            json!({"name": "backup", "minute": "30", "hour": "3", "job": "/usr/local/bin/backup", "disabled": true}),
        );
        let (out, _) = edit(out, &later).unwrap();
        assert_eq!(out[2], "#30 3 * * * /usr/local/bin/backup");
        let gone = spec(json!({"name": "backup", "state": "absent"}));
        assert_eq!(render(&edit(out, &gone).unwrap().0), "MAILTO=ops\n");
        // The same line without a marker gets one.
        let (out, changed) = edit(lines("0 3 * * * /usr/local/bin/backup\n"), &s).unwrap();
        assert!(changed);
        assert_eq!(out, ["#Ansible: backup", "0 3 * * * /usr/local/bin/backup"]);
    }

    #[test]
    fn cron_files_special_times_and_variables() {
        let s = spec(
            json!({"name": "renew", "special_time": "daily", "job": "certbot renew -q", "user": "root", "cron_file": "certbot"}),
        );
        assert_eq!(s.cron_file.as_deref(), Some("/etc/cron.d/certbot"));
        assert_eq!(s.job_line(), "@daily root certbot renew -q");
        let v = spec(json!({"name": "PATH", "env": true, "job": "/usr/bin:/bin"}));
        let (out, _) = edit(lines("#Ansible: x\n* * * * * true\n"), &v).unwrap();
        assert_eq!(out[0], "PATH=\"/usr/bin:/bin\"");
        let w = spec(json!({"name": "MAILTO", "env": true, "job": "ops", "insertafter": "PATH"}));
        let (out, _) = edit(out, &w).unwrap();
        assert_eq!(out[1], "MAILTO=\"ops\"");
        let bad = CronSpec::from_args(&Args(
            json!({"name": "x", "special_time": "daily", "hour": "3", "job": "y"})
                .as_object()
                .unwrap()
                .clone(),
        ));
        assert!(bad.is_err());
        assert!(
            CronSpec::from_args(&Args(
                json!({"name": "x", "cron_file": "a", "job": "y"})
                    .as_object()
                    .unwrap()
                    .clone()
            ))
            .is_err()
        );
        assert_eq!(
            parse_crontab(
                "# DO NOT EDIT THIS FILE - edit the master and reinstall.\n# (/tmp/crontab.x installed on Thu Dec  3 00:00:00 2026)\n# (Cron version -- $Id: crontab.c,v 2.13 1994/01/17 03:20:37 vixie Exp $)\nMAILTO=ops\n"
            ),
            ["MAILTO=ops"]
        );
    }
}
