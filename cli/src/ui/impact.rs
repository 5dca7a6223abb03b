//! The impact report as a terminal summary and tables, as markdown for a change ticket, or as JSON.

use std::fmt::Write as _;

use console::style;
use drover_rollout::HostImpact;
use drover_upgrade::{Fate, Source};

/// A compose finding on a host: the file as rendered for it, and the message.
pub type ComposeFinding = (String, String);

type Compose = [(String, Vec<ComposeFinding>)];

/// The compose findings for one host.
fn for_host<'a>(compose: &'a Compose, host: &str) -> &'a [ComposeFinding] {
    compose
        .iter()
        .find(|(h, _)| h == host)
        .map_or(&[], |(_, f)| f.as_slice())
}

fn source_label(s: Source) -> &'static str {
    match s {
        Source::MaintainerScript => "maintainer script",
        Source::Table => "drover's table",
        Source::Dependency => "requires containerd",
    }
}

/// The daemon's versions, live-restore and stop deadline, in words.
fn daemon_words(r: &HostImpact) -> String {
    let d = &r.daemon;
    let mut parts = Vec::new();
    if !d.version.is_empty() {
        parts.push(format!("Docker {}", d.version));
    }
    if !d.containerd_version.is_empty() {
        parts.push(format!("containerd {}", d.containerd_version));
    }
    parts.push(format!(
        "live-restore {}",
        if d.live_restore { "on" } else { "off" }
    ));
    if let Some(s) = r.stop_deadline {
        parts.push(format!("a Docker stop may take {s} s"));
    }
    parts.join(", ")
}

/// The fleet summary line.
fn summary(reports: &[HostImpact], compose: &Compose) -> String {
    let count = |f: Fate| {
        reports
            .iter()
            .flat_map(|r| &r.prediction.containers)
            .filter(|c| c.fate == f)
            .count()
    };
    let reboots = reports
        .iter()
        .filter(|r| !r.prediction.reboot.is_empty())
        .count();
    let docker = reports
        .iter()
        .filter(|r| r.prediction.docker_restarts)
        .count();
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    let compose_n: usize = compose.iter().map(|(_, f)| f.len()).sum();
    let mut s = format!(
        "{} host(s): {reboots} need a reboot, {docker} restart Docker; containers: {} at risk, {} will not return",
        reports.len(),
        count(Fate::AtRisk),
        count(Fate::WillNotReturn)
    );
    if compose_n > 0 {
        let _ = write!(s, "; {compose_n} compose restart-policy finding(s)");
    }
    if failed > 0 {
        let _ = write!(s, "; {failed} host(s) could not be assessed");
    }
    s
}

fn upgrades_line(r: &HostImpact) -> String {
    let security = r.plan.upgrades.iter().filter(|u| u.security).count();
    let names: Vec<String> = r
        .plan
        .upgrades
        .iter()
        .take(8)
        .map(|u| {
            format!(
                "{} {} -> {}",
                u.package,
                u.current.as_deref().unwrap_or("(new)"),
                u.candidate
            )
        })
        .collect();
    let more = r.plan.upgrades.len().saturating_sub(8);
    let tail = if more > 0 {
        format!(", and {more} more")
    } else {
        String::new()
    };
    format!(
        "{} ({security} security): {}{tail}",
        r.plan.upgrades.len(),
        names.join(", ")
    )
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// Terminal output.
pub fn table(reports: &[HostImpact], compose: &Compose) -> String {
    let mut out = format!("{} {}\n", style("IMPACT").bold(), summary(reports, compose));
    for r in reports {
        let _ = writeln!(out, "\n{}", style(&r.host).bold());
        if let Some(e) = &r.error {
            let _ = writeln!(out, "  {} {e}", style("could not assess:").red());
            continue;
        }
        let p = &r.prediction;
        let _ = writeln!(out, "  kernel      {}", r.kernel);
        let _ = writeln!(out, "  upgrades    {}", upgrades_line(r));
        let _ = writeln!(
            out,
            "  kept back   {}   held {}   phased {}",
            list(&r.plan.kept_back),
            list(&r.held),
            list(&r.plan.phased)
        );
        let restarts: Vec<String> = p
            .restarts
            .iter()
            .map(|u| format!("{} ({}, {})", u.unit, u.package, source_label(u.source)))
            .collect();
        let _ = writeln!(out, "  restarts    {}", list(&restarts));
        let reboot = if p.reboot.is_empty() {
            "no".to_string()
        } else {
            format!("{} ({})", style("YES").yellow(), p.reboot.join(", "))
        };
        let _ = writeln!(out, "  reboot      {reboot}");
        for w in &p.warnings {
            let _ = writeln!(out, "  {} {w}", style("warning").yellow());
        }
        for (file, msg) in for_host(compose, &r.host) {
            let _ = writeln!(out, "  {} {file}: {msg}", style("compose").red());
        }
        if let Some(d) = r.docker {
            let _ = writeln!(out, "  docker      {}; {}", d.describe(), daemon_words(r));
        }
        if !p.containers.is_empty() {
            let _ = writeln!(
                out,
                "    {:<24} {:<16} {:<20} WHY",
                "CONTAINER", "POLICY", "FATE"
            );
            for c in &p.containers {
                let label = c.fate.label();
                let label = match c.fate {
                    Fate::AtRisk => style(format!("{label:<20}")).yellow().bold(),
                    Fate::WillNotReturn => style(format!("{label:<20}")).red().bold(),
                    _ => style(format!("{label:<20}")),
                };
                let _ = writeln!(
                    out,
                    "    {:<24} {:<16} {label} {}",
                    c.name, c.restart_policy, c.why
                );
            }
        }
    }
    out
}

/// Markdown for a change ticket.
pub fn markdown(reports: &[HostImpact], compose: &Compose) -> String {
    let mut out = format!("# Upgrade impact\n\n{}\n", summary(reports, compose));
    for r in reports {
        let _ = writeln!(out, "\n## {}\n", r.host);
        if let Some(e) = &r.error {
            let _ = writeln!(out, "Could not assess: {e}");
            continue;
        }
        let p = &r.prediction;
        let _ = writeln!(out, "- **Upgrades:** {}", upgrades_line(r));
        let _ = writeln!(
            out,
            "- **Kept back:** {} / **held:** {}",
            list(&r.plan.kept_back),
            list(&r.held)
        );
        let restarts: Vec<String> = p
            .restarts
            .iter()
            .map(|u| format!("`{}` ({}, {})", u.unit, u.package, source_label(u.source)))
            .collect();
        let _ = writeln!(out, "- **Restarts:** {}", list(&restarts));
        let _ = writeln!(
            out,
            "- **Reboot:** {}",
            if p.reboot.is_empty() {
                "no".to_string()
            } else {
                format!("yes ({})", p.reboot.join(", "))
            }
        );
        for w in &p.warnings {
            let _ = writeln!(out, "- **Warning:** {w}");
        }
        if let Some(d) = r.docker {
            let _ = writeln!(out, "- **Docker:** {}; {}", d.describe(), daemon_words(r));
        }
        for (file, msg) in for_host(compose, &r.host) {
            let _ = writeln!(out, "- **Compose:** `{file}`: {msg}");
        }
        if !p.containers.is_empty() {
            out.push_str("\n| container | policy | fate | why |\n| --- | --- | --- | --- |\n");
            for c in &p.containers {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    c.name,
                    c.restart_policy,
                    c.fate.label(),
                    c.why
                );
            }
        }
    }
    out
}

/// One JSON document.
pub fn json(reports: &[HostImpact], compose: &Compose) -> serde_json::Value {
    let hosts: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            let findings: Vec<serde_json::Value> = for_host(compose, &r.host)
                .iter()
                .map(|(f, m)| serde_json::json!({"file": f, "message": m}))
                .collect();
            v["compose"] = serde_json::Value::Array(findings);
            v["risky"] = serde_json::json!(r.prediction.risky());
            v
        })
        .collect();
    serde_json::json!({ "summary": summary(reports, compose), "hosts": hosts })
}
