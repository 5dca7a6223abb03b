//! `drover runs` and `drover report`: the runs folder, and one run's report from its journal.

use std::io::Write as _;
use std::path::Path;

use anyhow::anyhow;
use drover_rollout::{RecordError, RunRecord};
use serde_json::json;

use crate::args::{ReportArgs, ReportFormat, RunsArgs};
use crate::exit::{Failure, bad_input};
use crate::report::{self, Report, duration_words};

/// A run that cannot be read is the operator's input when it names no run, drover's otherwise.
fn failure(e: RecordError) -> Failure {
    match e {
        RecordError::NotFound { .. } => bad_input(e),
        RecordError::Io { .. } => Failure::Internal(e.into()),
    }
}

/// `drover runs`.
pub fn list(args: &RunsArgs) -> Result<(), Failure> {
    let ids = RunRecord::ids(&args.runs_dir).map_err(failure)?;
    let records = ids
        .iter()
        .map(|id| RunRecord::read(&args.runs_dir, id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(failure)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let rows: Vec<serde_json::Value> = records.iter().map(row_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    if records.is_empty() {
        eprintln!(
            "no runs in {} (drover push writes one per run; --runs-dir says where to look)",
            args.runs_dir.display()
        );
        return Ok(());
    }
    writeln!(
        out,
        "{:<21} {:<19} {:>11} {:<11} {:>4} {:>7} {:>6} {:>9}  COMMAND",
        "RUN", "STARTED (UTC)", "TOOK", "STATUS", "OK", "CHANGED", "FAILED", "UNTOUCHED"
    )?;
    for r in &records {
        let started = r
            .started()
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let took = r.duration_ms().map(duration_words).unwrap_or_default();
        let t = r.tally();
        writeln!(
            out,
            "{:<21} {started:<19} {took:>11} {:<11} {:>4} {:>7} {:>6} {:>9}  {}",
            r.id,
            r.condition().word(),
            t.ok,
            t.changed,
            t.failed + t.interrupted,
            t.untouched,
            r.command()
        )?;
    }
    Ok(())
}

fn row_json(r: &RunRecord) -> serde_json::Value {
    json!({
        "id": r.id,
        "started": r.started().map(|t| t.to_string()),
        "ended": r.ended().map(|t| t.to_string()),
        "duration_ms": r.duration_ms(),
        "status": r.condition(),
        "attempts": r.attempts(),
        "command": r.command(),
        "hosts": r.tally(),
    })
}

/// `drover report`.
pub fn report(args: &ReportArgs) -> Result<(), Failure> {
    let id = if args.run == "last" {
        RunRecord::ids(&args.runs_dir)
            .map_err(failure)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                bad_input(anyhow!(
                    "no runs in {}: nothing to report",
                    args.runs_dir.display()
                ))
            })?
    } else {
        args.run.clone()
    };
    let format = args.format.unwrap_or_else(|| {
        args.output
            .as_deref()
            .map_or(ReportFormat::Markdown, ReportFormat::of_path)
    });
    let record = RunRecord::read(&args.runs_dir, &id).map_err(failure)?;
    let text = render(&Report::of(&record), format);
    match &args.output {
        Some(path) => write_report(path, &text).map_err(|e| Failure::Internal(anyhow!(e)))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

fn render(r: &Report, format: ReportFormat) -> String {
    match format {
        ReportFormat::Html => report::html(r),
        ReportFormat::Markdown => report::markdown(r),
        // The report is plain data: strings, numbers and maps with string keys.
        ReportFormat::Json => serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
    }
}

/// Writes a report file (private, as the journal it comes from: a failed task's output may say
/// more than the operator wants shared).
fn write_report(path: &Path, text: &str) -> Result<(), String> {
    drover_rollout::write_private(path, text.as_bytes())
        .map_err(|e| format!("cannot write the report {}: {e}", path.display()))
}

/// `drover push --report FILE`: the finished run's report, in the format of the file's extension.
/// Says where it went, or why it could not be written; the run's own outcome is not changed.
pub fn report_after_push(runs_dir: &Path, run_dir: &Path, path: &Path) {
    let id = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let written = RunRecord::read(runs_dir, &id)
        .map_err(|e| format!("cannot write the report {}: {e}", path.display()))
        .and_then(|record| {
            let text = render(&Report::of(&record), ReportFormat::of_path(path));
            write_report(path, &text)
        });
    match written {
        Ok(()) => eprintln!("report: {}", path.display()),
        Err(e) => eprintln!("{e}"),
    }
}
