//! `drover snapshot` and `drover verify`: the roll call by hand.

use std::time::Duration;

use anyhow::anyhow;
use drover_rollout::{RollcallOptions, describe_verdict, new_run_id};
use drover_upgrade::rollcall::Snapshot;

use crate::args::{SnapshotArgs, VerifyArgs};
use drover_rollout::host_file_name;

use crate::exit::{Code, Failure, bad_input};
use crate::settings;

pub fn snapshot(args: &SnapshotArgs) -> Result<(), Failure> {
    let inv = super::load_inventory(&args.source)?;
    let hosts = inv.select(&args.pattern, None).map_err(bad_input)?;
    let (settings, connections) = settings::connect(&args.connect, &inv, &hosts)?;
    let id = new_run_id();
    let dir = args.runs_dir.join(&id).join("snapshots");
    drover_rollout::private_dir(&dir)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let taken = runtime.block_on(drover_rollout::over_connections(
        &connections,
        &settings,
        usize::from(args.forks),
        async |t, host| drover_rollout::snapshot(t, host).await,
    ));
    let mut failed = false;
    for (host, taken) in connections.iter().zip(taken) {
        let path = dir.join(format!("{}.json", host_file_name(&host.name)));
        let saved = taken.and_then(|r| r).and_then(|s| {
            drover_rollout::write_private(&path, &serde_json::to_vec_pretty(&s).unwrap_or_default())
                .map(|()| s)
                .map_err(|e| format!("cannot save the snapshot in {}: {e}", path.display()))
        });
        // stdout holds only the id, for `id=$(drover snapshot ...)`; the hosts are said on stderr.
        match saved {
            Ok(s) => eprintln!(
                "{}: boot id {}, {} running container(s)",
                host.name,
                s.boot_id,
                s.containers.len()
            ),
            Err(e) => {
                failed = true;
                eprintln!("{}: {e}", host.name);
            }
        }
    }
    println!("{id}");
    if failed {
        Err(Failure::Hosts(Code::HostsUnreachable))
    } else {
        Ok(())
    }
}

pub fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let inv = super::load_inventory(&args.source)?;
    let hosts = inv.select(&args.pattern, None).map_err(bad_input)?;
    let dir = drover_rollout::run_dir(&args.runs_dir, &args.against)
        .map_err(|e| bad_input(anyhow!("--against: {e}")))?
        .join("snapshots");
    let mut snaps = Vec::new();
    for h in &hosts {
        let path = dir.join(format!("{}.json", host_file_name(h)));
        let text = std::fs::read(&path)
            .map_err(|e| bad_input(anyhow!("no snapshot of {h} in {}: {e}", dir.display())))?;
        let snap: Snapshot = serde_json::from_slice(&text)
            .map_err(|e| bad_input(anyhow!("{}: {e}", path.display())))?;
        snaps.push(snap);
    }
    let (settings, connections) = settings::connect(&args.connect, &inv, &hosts)?;
    let opts = RollcallOptions {
        deadline: Duration::from_secs(args.deadline),
        window: Duration::from_secs(args.window),
        remediate: args.remediate == "start",
        intended_images: Vec::new(),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let checked = runtime.block_on(drover_rollout::over_connections(
        &connections,
        &settings,
        usize::from(args.forks),
        async |t, host| {
            // Snapshots were read in the hosts' order.
            let at = connections.iter().position(|c| c.name == host.name);
            match at.and_then(|i| snaps.get(i)) {
                Some(snap) => Ok(drover_rollout::verify(t, host, snap, &opts).await),
                None => Err(format!("no snapshot of {}", host.name)),
            }
        },
    ));
    let reports: Vec<Result<_, (String, String)>> = connections
        .iter()
        .zip(checked)
        .map(|(host, r)| r.and_then(|r| r).map_err(|e| (host.name.clone(), e)))
        .collect();
    let mut all_ok = true;
    let mut docs = Vec::new();
    for r in &reports {
        match r {
            Ok(report) => {
                all_ok &= report.ok();
                docs.push(serde_json::to_value(report).unwrap_or_default());
                if !args.json {
                    println!(
                        "{}: {}",
                        report.host,
                        if report.ok() {
                            "everything came back"
                        } else {
                            "NOT everything came back"
                        }
                    );
                    for c in &report.containers {
                        let fixed = if c.remediated {
                            " (after docker start)"
                        } else {
                            ""
                        };
                        let flag = match c.manually_stopped {
                            Some(true) if !c.verdict.ok() || c.remediated => {
                                ", flagged as manually stopped"
                            }
                            _ => "",
                        };
                        println!(
                            "  {:<24} {:<16} {}{fixed} ({}s{flag})",
                            c.name,
                            c.restart_policy,
                            describe_verdict(&c.verdict),
                            c.after_secs
                        );
                        if let Some(p) = &c.predicted {
                            println!("{}", prediction_line(p));
                        }
                    }
                    for c in &report.stopped {
                        let now = if c.running {
                            "runs now"
                        } else {
                            "still stopped"
                        };
                        println!(
                            "  {:<24} {:<16} was stopped, {now}",
                            c.name, c.restart_policy
                        );
                        if let Some(p) = &c.predicted {
                            println!("{}", prediction_line(p));
                        }
                    }
                    if let Some(p) = &report.daemon_problem {
                        println!("  {p}");
                    }
                }
            }
            Err((host, e)) => {
                all_ok = false;
                docs.push(serde_json::json!({"host": host, "error": e}));
                if !args.json {
                    println!("{host}: {e}");
                }
            }
        }
    }
    if args.json {
        crate::ui::print_json(&serde_json::Value::Array(docs));
    }
    if all_ok {
        Ok(())
    } else {
        Err(Failure::Hosts(Code::HostsFailed))
    }
}

/// A container's predicted fate, why, and how that held up, as the line under it.
fn prediction_line(p: &drover_upgrade::rollcall::Predicted) -> String {
    let held = match p.outcome {
        drover_upgrade::Outcome::Match => "as predicted",
        drover_upgrade::Outcome::TrueAlarm => "as feared",
        drover_upgrade::Outcome::FalseAlarm => "a false alarm: it runs",
        drover_upgrade::Outcome::Miss => "MISSED: it did otherwise",
    };
    format!(
        "  {:<24} predicted: {}: {} ({held})",
        "",
        p.fate.label(),
        p.why
    )
}
