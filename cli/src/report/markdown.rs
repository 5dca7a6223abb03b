//! The report as Markdown, to paste into a change ticket: the summary, the hosts, the failed
//! tasks with their output, and the roll calls beside their prediction.

use std::fmt::Write as _;

use drover_rollout::{HostVerdict, TaskStatus};

use super::{
    OutputPart, Report, output_parts, status_words, tally_words, time_words, verdict_words,
};

/// `text` fit for one table cell: pipes escaped, lines joined.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// `text` as inline code, fenced with more backticks than it holds.
fn code(text: &str) -> String {
    let fence = "`".repeat(longest_run(text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", cell(text))
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut now) = (0, 0);
    for ch in text.chars() {
        now = if ch == c { now + 1 } else { 0 };
        best = best.max(now);
    }
    best
}

/// A fenced block of `text`.
fn block(out: &mut String, text: &str) {
    let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
    let _ = writeln!(out, "{fence}\n{}\n{fence}", text.trim_end_matches('\n'));
}

/// The report of a run as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let check = if r.check { " (check mode)" } else { "" };
    let _ = writeln!(
        out,
        "# drover run {}: {}{check}\n",
        r.run_id,
        r.condition.word()
    );
    summary(&mut out, r);
    hosts(&mut out, r);
    failures(&mut out, r);
    rollcalls(&mut out, r);
    if !r.notices.is_empty() {
        out.push_str("\n## Notices\n\n");
        for n in &r.notices {
            let _ = writeln!(out, "- {}", cell(n));
        }
    }
    out
}

fn summary(out: &mut String, r: &Report) {
    let mut rows: Vec<(&str, String)> = vec![("Command", code(&r.command))];
    if !r.owner.is_empty() {
        rows.push(("Run by", cell(&r.owner)));
    }
    if let Some(t) = r.started {
        rows.push(("Started", time_words(t)));
    }
    if let Some(d) = r.duration_text() {
        rows.push(("Duration", d));
    }
    rows.push(("Result", r.condition.word().to_string()));
    rows.push(("Hosts", tally_words(&r.tally)));
    for p in &r.plays {
        let windows = p.window_text();
        rows.push((
            "Play",
            cell(&format!(
                "{}: budget: {}; window: {windows}",
                p.name, p.budget
            )),
        ));
    }
    if let Some(h) = &r.halt {
        rows.push(("Halted", cell(&h.reason)));
        if !h.untouched.is_empty() {
            rows.push(("Not touched", cell(&h.untouched.join(", "))));
        }
    }
    if let Some(cmd) = &r.resume {
        rows.push(("Resume", code(cmd)));
    }
    if r.unreadable_lines > 0 {
        rows.push((
            "Journal",
            format!(
                "{} line(s) of events.jsonl could not be read",
                r.unreadable_lines
            ),
        ));
    }
    out.push_str("| | |\n|---|---|\n");
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {v} |");
    }
}

fn hosts(out: &mut String, r: &Report) {
    out.push_str("\n## Hosts\n\n| Host | Result | Batch | Time | ok | changed | failed | skipped | Why |\n|---|---|---|---:|---:|---:|---:|---:|---|\n");
    for h in &r.hosts {
        let batch = r
            .batches
            .iter()
            .rev()
            .find(|b| b.hosts.contains(&h.host))
            .map_or_else(String::new, super::Batch::label);
        let time = h.busy_text();
        let s = &h.stats;
        let _ = writeln!(
            out,
            "| {} | {} | {batch} | {time} | {} | {} | {} | {} | {} |",
            cell(&h.host),
            verdict_words(h.verdict),
            s.ok,
            s.changed,
            s.failed + s.unreachable,
            s.skipped,
            cell(h.error.as_deref().unwrap_or_default())
        );
    }
}

fn failures(out: &mut String, r: &Report) {
    let failed: Vec<_> = r
        .hosts
        .iter()
        .flat_map(|h| h.tasks.iter().map(move |t| (h, t)))
        .filter(|(_, t)| matches!(t.status, TaskStatus::Failed | TaskStatus::Unreachable))
        .collect();
    if failed.is_empty() {
        return;
    }
    out.push_str("\n## Failed tasks\n");
    for (h, t) in failed {
        let item = t
            .item
            .as_ref()
            .map_or_else(String::new, |i| format!(" (item {})", code(i)));
        let _ = writeln!(
            out,
            "\n### {}: {}{item}\n\n{}: {}\n",
            cell(&h.host),
            cell(&t.task),
            status_words(t.status),
            cell(&t.msg)
        );
        for part in t.output.iter().flat_map(output_parts) {
            match part {
                OutputPart::Command(cmd) => {
                    let _ = writeln!(out, "- command: {}", code(&cmd));
                }
                OutputPart::Rc(rc) => {
                    let _ = writeln!(out, "- rc: {rc}");
                }
                OutputPart::Stream(name, text) => {
                    let _ = writeln!(out, "\n{name}:\n");
                    block(out, text);
                }
            }
        }
    }
}

fn rollcalls(out: &mut String, r: &Report) {
    let any = r.hosts.iter().any(|h| !h.rollcalls.is_empty());
    if !any {
        return;
    }
    out.push_str("\n## Roll calls\n\n| Host | After | Container | Policy | Predicted | Observed |\n|---|---|---|---|---|---|\n");
    for h in &r.hosts {
        for rc in &h.rollcalls {
            let after = if rc.rebooted {
                format!("{} (rebooted)", rc.after)
            } else {
                rc.after.clone()
            };
            if let Some(p) = &rc.daemon_problem {
                let _ = writeln!(
                    out,
                    "| {} | {} | (Docker) | | | {} |",
                    cell(&h.host),
                    cell(&after),
                    cell(p)
                );
            }
            for c in &rc.containers {
                let observed = match (c.back, c.remediated) {
                    (true, true) => format!("{} (after drover started it)", c.observed),
                    (true, false) => c.observed.clone(),
                    (false, _) => format!("**{}**", c.observed.to_uppercase()),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    cell(&h.host),
                    cell(&after),
                    cell(&c.name),
                    cell(&c.restart_policy),
                    cell(c.predicted.as_deref().unwrap_or("no prediction made")),
                    cell(&observed)
                );
            }
        }
    }
    let failed_hosts = r
        .hosts
        .iter()
        .filter(|h| h.verdict == HostVerdict::Failed)
        .count();
    if failed_hosts > 0 && r.hosts.iter().all(|h| h.predicted.is_empty()) {
        out.push_str("\nNo impact prediction was made in this run (`--impact-gate risk` makes one before each host).\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_code_survive_pipes_newlines_and_backticks() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(code("echo `x`"), "`` echo `x` ``");
        assert_eq!(code("plain"), "`plain`");
    }
}
