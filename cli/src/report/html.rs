//! The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched (its
//! Content-Security-Policy forbids it), readable offline and printable. Lanes are grouped by batch
//! in collapsible sections, so a 500-host run stays readable.

use std::fmt::Write as _;

use drover_rollout::{HostVerdict, TaskStatus};

use super::{
    Batch, HostReport, OutputPart, Report, duration_words, output_parts, status_words, tally_words,
    time_words, verdict_words,
};

/// `text` safe in HTML text and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An id for a host's section: `host-` and the name's letters and digits, others as `_XX`.
fn anchor(host: &str) -> String {
    let mut id = String::from("host-");
    for b in host.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' {
            id.push(char::from(b));
        } else {
            let _ = write!(id, "_{b:02x}");
        }
    }
    id
}

const STYLE: &str = r#"
:root{--ok:#2e8b3d;--changed:#c98a00;--failed:#c62828;--unreach:#7b1010;--ignored:#9c27b0;--skipped:#b0b0b0;--ink:#1d1d1f;--muted:#666;--line:#ddd}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0 auto;max-width:1200px;padding:16px 24px}
h1{font-size:22px;margin:8px 0 12px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
code,pre{font:12.5px/1.4 ui-monospace,"DejaVu Sans Mono",Menlo,monospace}
pre{background:#f6f6f6;border:1px solid var(--line);padding:8px;overflow:auto;max-height:420px;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;margin:6px 0}td,th{border-bottom:1px solid var(--line);padding:3px 10px 3px 0;text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted)}td.n{text-align:right}
.summary th{width:9em}
.badge{display:inline-block;border-radius:4px;padding:1px 8px;font-size:13px;color:#fff;vertical-align:middle}
.done,.ok{background:var(--ok)}.changed{background:var(--changed)}.halted,.refused,.failed,.died{background:var(--failed)}
.interrupted,.running,.untouched,.snapshot{background:#546e7a}.unreachable{background:var(--unreach)}.ignored{background:var(--ignored)}.skipped{background:var(--skipped)}
.halt{border-left:4px solid var(--failed);background:#fdecea;padding:8px 12px;margin:12px 0}
details{margin:4px 0}summary{cursor:pointer;padding:2px 0}
details.host{border:1px solid var(--line);border-radius:4px;padding:4px 10px}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}
svg{display:block;width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:var(--ink)}
.muted{color:var(--muted)}
@media print{details{display:block}details>summary{list-style:none}pre{max-height:none}}
"#;

/// The colour of a task status in the timeline.
fn colour(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Ok => "var(--ok)",
        TaskStatus::Changed => "var(--changed)",
        TaskStatus::Failed => "var(--failed)",
        TaskStatus::Unreachable => "var(--unreach)",
        TaskStatus::Ignored => "var(--ignored)",
        TaskStatus::Skipped => "var(--skipped)",
    }
}

fn class(v: HostVerdict) -> &'static str {
    match v {
        HostVerdict::Ok => "ok",
        HostVerdict::Changed => "changed",
        HostVerdict::Failed => "failed",
        HostVerdict::Interrupted => "interrupted",
        HostVerdict::Untouched => "untouched",
    }
}

/// The report of a run as an HTML page.
pub fn html(r: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let word = r.condition.word();
    let check = if r.check { " (check mode)" } else { "" };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>drover run {id}: {word}</title><style>{STYLE}</style></head><body>\n\
<h1>drover run <code>{id}</code> <span class=\"badge {word}\">{word}</span>{check}</h1>\n",
        id = esc(&r.run_id),
    );
    summary(&mut out, r);
    timeline(&mut out, r);
    host_table(&mut out, r);
    out.push_str("<h2>Per host</h2>\n");
    for h in &r.hosts {
        host_details(&mut out, h);
    }
    if !r.notices.is_empty() {
        out.push_str("<h2>Notices</h2><ul>");
        for n in &r.notices {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>\n");
    }
    let _ = writeln!(
        out,
        "<p class=\"muted\">Written by drover {} from the journal of run {}.</p></body></html>",
        env!("CARGO_PKG_VERSION"),
        esc(&r.run_id)
    );
    out
}

fn summary(out: &mut String, r: &Report) {
    out.push_str("<table class=\"summary\">");
    let mut row = |k: &str, v: String| {
        let _ = write!(out, "<tr><th>{k}</th><td>{v}</td></tr>");
    };
    row("Command", format!("<code>{}</code>", esc(&r.command)));
    if !r.owner.is_empty() {
        row("Run by", esc(&r.owner));
    }
    if let Some(t) = r.started {
        row("Started", esc(&time_words(t)));
    }
    if let Some(d) = r.duration_text() {
        row("Duration", d);
    }
    row("Hosts", esc(&tally_words(&r.tally)));
    for p in &r.plays {
        let windows = p.window_text();
        row(
            "Play",
            format!(
                "{} <span class=\"muted\">budget: {}; window: {}</span>",
                esc(&p.name),
                esc(&p.budget),
                esc(&windows)
            ),
        );
    }
    if r.unreadable_lines > 0 {
        row(
            "Journal",
            format!(
                "{} line(s) of events.jsonl could not be read",
                r.unreadable_lines
            ),
        );
    }
    out.push_str("</table>\n");
    if r.halt.is_some() || r.resume.is_some() {
        out.push_str("<div class=\"halt\">");
        if let Some(h) = &r.halt {
            let _ = write!(out, "<b>Halted:</b> {}", esc(&h.reason));
            let untouched = esc(&h.untouched.join(", "));
            match h.untouched.len() {
                0 => {}
                // A long list folds away, so the page of a large run starts with what matters.
                1..=20 => {
                    let _ = write!(out, "<br><b>Not touched:</b> {untouched}");
                }
                n => {
                    let _ = write!(
                        out,
                        "<details><summary><b>Not touched:</b> {n} hosts</summary>{untouched}</details>"
                    );
                }
            }
        }
        if let Some(cmd) = &r.resume {
            let _ = write!(out, "<br><b>Resume with:</b> <code>{}</code>", esc(cmd));
        }
        out.push_str("</div>\n");
    }
}

/// Lane geometry, in SVG user units.
const WIDTH: f64 = 1000.0;
const LABEL: f64 = 170.0;
const LANE: f64 = 18.0;
const AXIS: f64 = 20.0;

/// A tick step that puts at most 8 ticks on `span_ms`.
fn tick_step(span_ms: u64) -> u64 {
    const STEPS: [u64; 16] = [
        100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
        600_000, 900_000, 1_800_000, 3_600_000,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| span_ms / s <= 8)
        .unwrap_or_else(|| span_ms.div_ceil(8).max(1))
}

fn tick_label(ms: u64, step: u64) -> String {
    if step < 1_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if step < 60_000 {
        format!("{}s", ms / 1000)
    } else {
        format!("{}m", ms / 60_000)
    }
}

fn timeline(out: &mut String, r: &Report) {
    let Some(span) = r.duration_ms else {
        return;
    };
    let span = span.max(1);
    out.push_str("<h2>Timeline</h2>\n<p class=\"legend\">");
    for s in [
        TaskStatus::Ok,
        TaskStatus::Changed,
        TaskStatus::Failed,
        TaskStatus::Unreachable,
        TaskStatus::Ignored,
        TaskStatus::Skipped,
    ] {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>{}</span>",
            colour(s),
            status_words(s)
        );
    }
    out.push_str("<span>&#9670; reboot or Docker restart</span><span>&#9679; roll call</span><span style=\"color:var(--failed)\">| halt</span><span style=\"color:#1565c0\">| resumed</span></p>\n");
    // Lanes grouped by batch; many hosts: only batches with a failure start open.
    let many = r.hosts.len() > 100;
    let groups: Vec<(&str, Vec<&HostReport>, Option<&Batch>)> = if r.batches.is_empty() {
        vec![("hosts", r.hosts.iter().collect(), None)]
    } else {
        r.batches
            .iter()
            .map(|b| {
                let lanes = b
                    .hosts
                    .iter()
                    .filter_map(|h| r.hosts.iter().find(|x| &x.host == h))
                    .collect();
                (b.play.as_str(), lanes, Some(b))
            })
            .collect()
    };
    for (play, lanes, batch) in groups {
        let (title, failed) = match batch {
            Some(b) => (
                format!("{play} · batch {} · {} host(s)", b.label(), b.hosts.len()),
                b.failed.clone(),
            ),
            None => (format!("{} host(s)", lanes.len()), Vec::new()),
        };
        let open = if !many || !failed.is_empty() {
            " open"
        } else {
            ""
        };
        let failed_words = if failed.is_empty() {
            String::new()
        } else {
            format!(
                " · <span style=\"color:var(--failed)\">failed: {}</span>",
                esc(&failed.join(", "))
            )
        };
        let _ = writeln!(
            out,
            "<details{open}><summary>{}{failed_words}</summary>",
            esc(&title)
        );
        lanes_svg(out, r, &lanes, batch, span);
        out.push_str("</details>\n");
    }
}

fn lanes_svg(
    out: &mut String,
    r: &Report,
    lanes: &[&HostReport],
    batch: Option<&Batch>,
    span: u64,
) {
    let height = AXIS + LANE * lanes.len() as f64 + 4.0;
    let x = |ms: u64| LABEL + (WIDTH - LABEL - 10.0) * (ms as f64 / span as f64);
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"task timeline\">"
    );
    let step = tick_step(span);
    let mut t = 0;
    while t <= span {
        let _ = write!(
            out,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"14\" y2=\"{height}\" stroke=\"#eee\"/><text x=\"{0:.1}\" y=\"11\" text-anchor=\"middle\">{1}</text>",
            x(t),
            tick_label(t, step)
        );
        t += step;
    }
    let mut vline = |ms: Option<u64>, colour: &str, title: &str| {
        if let Some(ms) = ms {
            let _ = write!(
                out,
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"14\" y2=\"{height}\" stroke=\"{colour}\" stroke-width=\"1.5\"><title>{1}</title></line>",
                x(ms),
                esc(title)
            );
        }
    };
    if let Some(b) = batch {
        vline(b.at_ms, "#999", &format!("batch {} began", b.label()));
    }
    for &ms in &r.resumed_at_ms {
        vline(Some(ms), "#1565c0", "resumed");
    }
    vline(r.halted_at_ms, "var(--failed)", "halted");
    for (i, h) in lanes.iter().enumerate() {
        let y = AXIS + LANE * i as f64;
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{:.1}\"><title>{1}</title>{1}</text>",
            y + 12.0,
            esc(&h.host)
        );
        for task in &h.tasks {
            let (Some(start), Some(took)) = (task.start_ms, task.duration_ms) else {
                continue;
            };
            let x0 = x(start);
            let w = (x(start + took) - x0).max(1.5);
            let item = task
                .item
                .as_ref()
                .map_or_else(String::new, |i| format!(" ({i})"));
            let _ = write!(
                out,
                "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"12\" fill=\"{}\"><title>{}</title></rect>",
                y + 2.0,
                colour(task.status),
                esc(&format!(
                    "{} · {}{item} · {} · {}",
                    h.host,
                    task.task,
                    status_words(task.status),
                    duration_words(took)
                ))
            );
        }
        for restart in &h.restarts {
            if let Some(ms) = restart.at_ms {
                let what = if restart.reboot {
                    "reboot"
                } else {
                    "Docker restart"
                };
                let (cx, cy) = (x(ms), y + 8.0);
                let _ = write!(
                    out,
                    "<path d=\"M{cx:.1} {:.1}l5 6-5 6-5-6z\" fill=\"#6a1b9a\"><title>{}</title></path>",
                    cy - 6.0,
                    esc(&format!("{what}: {}", restart.task))
                );
            }
        }
        for rc in &h.rollcalls {
            if let Some(ms) = rc.at_ms {
                let back = rc.daemon_problem.is_none() && rc.containers.iter().all(|c| c.back);
                let fill = if back { "var(--ok)" } else { "var(--failed)" };
                let _ = write!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{fill}\" stroke=\"#fff\"><title>{}</title></circle>",
                    x(ms),
                    y + 8.0,
                    esc(&format!(
                        "roll call after {}: {}",
                        rc.after,
                        if back {
                            "everything came back"
                        } else {
                            "something did not come back"
                        }
                    ))
                );
            }
        }
    }
    out.push_str("</svg>\n");
}

fn host_table(out: &mut String, r: &Report) {
    out.push_str("<h2>Hosts</h2>\n<table><tr><th>Host</th><th>Result</th><th>Time</th><th>ok</th><th>changed</th><th>failed</th><th>skipped</th><th>Why</th></tr>\n");
    for h in &r.hosts {
        let time = h.busy_text();
        let s = &h.stats;
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#{}\">{}</a></td><td><span class=\"badge {}\">{}</span></td><td class=\"n\">{time}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            anchor(&h.host),
            esc(&h.host),
            class(h.verdict),
            verdict_words(h.verdict),
            s.ok,
            s.changed,
            s.failed + s.unreachable,
            s.skipped,
            esc(h.error.as_deref().unwrap_or_default())
        );
    }
    out.push_str("</table>\n");
}

fn host_details(out: &mut String, h: &HostReport) {
    let open = if matches!(h.verdict, HostVerdict::Failed) {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<details class=\"host\" id=\"{}\"{open}><summary><b>{}</b> <span class=\"badge {}\">{}</span> {}</summary>",
        anchor(&h.host),
        esc(&h.host),
        class(h.verdict),
        verdict_words(h.verdict),
        esc(h.error.as_deref().unwrap_or_default())
    );
    if !h.tasks.is_empty() {
        out.push_str("<table><tr><th>Task</th><th>Status</th><th>Time</th><th>Message</th></tr>\n");
        for t in &h.tasks {
            let item = t.item.as_ref().map_or_else(String::new, |i| {
                format!(" <span class=\"muted\">({})</span>", esc(i))
            });
            let time = t.duration_ms.map_or_else(String::new, duration_words);
            let _ = write!(
                out,
                "<tr><td>{}{item}</td><td><span class=\"badge {}\">{}</span></td><td class=\"n\">{time}</td><td>{}",
                esc(&t.task),
                status_words(t.status).to_lowercase(),
                status_words(t.status),
                esc(&t.msg)
            );
            for part in t.output.iter().flat_map(output_parts) {
                let _ = match part {
                    OutputPart::Command(cmd) => {
                        write!(out, "<br>command: <code>{}</code>", esc(&cmd))
                    }
                    OutputPart::Rc(rc) => write!(out, "<br>rc: {rc}"),
                    OutputPart::Stream(name, text) => {
                        write!(out, "<br>{name}:<pre>{}</pre>", esc(text))
                    }
                };
            }
            if let Some(d) = &t.diff {
                let _ = write!(out, "<pre>{}</pre>", esc(d));
            }
            out.push_str("</td></tr>\n");
        }
        out.push_str("</table>\n");
    }
    for rc in &h.rollcalls {
        let rebooted = if rc.rebooted {
            " (the host rebooted)"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<p><b>Roll call</b> after {}{rebooted}</p>",
            esc(&rc.after)
        );
        if let Some(p) = &rc.daemon_problem {
            let _ = write!(
                out,
                "<p style=\"color:var(--failed)\">Docker: {}</p>",
                esc(p)
            );
        }
        out.push_str(
            "<table><tr><th>Container</th><th>Policy</th><th>Predicted</th><th>Observed</th></tr>",
        );
        for c in &rc.containers {
            let badge = if c.back { "ok" } else { "failed" };
            let started = if c.remediated {
                " (after drover started it)"
            } else {
                ""
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><span class=\"badge {badge}\">{}</span>{started}</td></tr>",
                esc(&c.name),
                esc(&c.restart_policy),
                esc(c.predicted.as_deref().unwrap_or("no prediction made")),
                esc(&c.observed)
            );
        }
        out.push_str("</table>\n");
    }
    if !h.predicted.is_empty() || !h.warnings.is_empty() {
        out.push_str("<p><b>Impact prediction</b> (before the host was touched)</p><ul>");
        for p in &h.predicted {
            let _ = write!(
                out,
                "<li>{} ({}): {}</li>",
                esc(&p.name),
                esc(&p.restart_policy),
                esc(&super::fate_words(p.fate, &p.why))
            );
        }
        for w in &h.warnings {
            let _ = write!(out, "<li>warning: {}</li>", esc(w));
        }
        out.push_str("</ul>\n");
    }
    if !h.snapshot.is_empty() {
        out.push_str("<p><b>Snapshot</b> (running before the first restart)</p><table><tr><th>Container</th><th>Image</th><th>Policy</th><th>Ports</th></tr>");
        for c in &h.snapshot {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.name),
                esc(&c.image),
                esc(&c.restart_policy),
                esc(&c.ports.join(", "))
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_anchors_are_safe() {
        assert_eq!(
            esc("<script>\"a\" & 'b'"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;"
        );
        assert_eq!(anchor("web01.example"), "host-web01.example");
        assert_eq!(anchor("a b\"<"), "host-a_20b_22_3c");
        assert_eq!(tick_step(5_000), 1_000);
        assert_eq!(tick_step(600_000), 120_000);
    }
}
