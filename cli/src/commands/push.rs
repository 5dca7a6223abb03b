//! `drover push`: a playbook in rolling batches, with a journal to resume from.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::anyhow;
use clap::Parser;
use drover_roles::{Batches, Playbook};
use drover_rollout::{
    FailBudget, Journal, Operator, PushOptions, RunSpec, RunStatus, check_patterns, new_run_id,
    push,
};

use crate::args::PushArgs;
use crate::exit::{Code, Failure, bad_input};
use crate::settings;
use crate::ui::PushView;

/// Parses a saved command line again, for `--resume`; options given again now win.
#[derive(Parser)]
#[command(args_override_self = true)]
struct Saved {
    #[command(flatten)]
    args: PushArgs,
}

pub fn run(args: PushArgs) -> Result<(), Failure> {
    if args.syntax_check {
        return syntax_check(&args);
    }
    if args.list_hosts || args.list_tasks || args.list_tags {
        return listing(&args);
    }
    let (args, resumed) = match args.resume.clone() {
        Some(id) => {
            let (args, journal) = resume(&args, &id)?;
            (args, Some(journal))
        }
        None => (args, None),
    };
    let playbook_path = playbook_path(&args)?;
    let playbook = Playbook::load(&playbook_path, &args.roles_path).map_err(bad_input)?;
    run_loaded(args, playbook, resumed)
}

/// Runs a loaded playbook (from its file, or one `drover run -m` made); `resumed` is the journal
/// of a run being resumed.
pub fn run_loaded(
    args: PushArgs,
    mut playbook: Playbook,
    resumed: Option<Journal>,
) -> Result<(), Failure> {
    let playbook_path = playbook.path.clone();
    warn_unknown_notifies(&playbook);
    let inventory = super::inventory_from(&args.inventory)?;
    let mut view = PushView::new(args.json);
    let opts = options(&args, &view)?;
    crate::vars_prompt::answer_all(
        &mut playbook,
        &opts.extra_vars,
        &crate::vars_prompt::Terminal,
    )
    .map_err(|e| bad_input(anyhow!(e)))?;
    check_patterns(&playbook, &inventory, opts.limit.as_deref())
        .map_err(|e| bad_input(anyhow!("{e}; nothing was run")))?;
    if let Some(pattern) = &opts.start_at
        && drover_rollout::start_play(&playbook, pattern).is_none()
    {
        return Err(bad_input(anyhow!(
            "--start-at-task `{pattern}` names no task of the playbook (see --list-tasks); nothing was run"
        )));
    }
    let everyone: Vec<&str> = inventory.hosts().map(|h| h.name.as_str()).collect();
    let (settings, _) = settings::connect(&args.connect, &inventory, &everyone)?;
    // A new run's journal is written once its input is known to be good.
    let journal = match resumed {
        Some(journal) => journal,
        None => {
            let (kept, inline) = split_inline_extra_vars(std::env::args().skip(2));
            Journal::create(
                &args.runs_dir,
                &new_run_id(),
                &RunSpec {
                    playbook: playbook_path.clone(),
                    inventory: args.inventory.clone(),
                    args: kept,
                    extra_var_names: super::extra_vars(&inline)?.keys().cloned().collect(),
                },
            )?
        }
    };
    let run_dir = journal.dir().to_path_buf();
    let cancel = opts.cancel.clone();
    let runtime = tokio::runtime::Runtime::new()?;
    let summary = runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let run = push(&playbook, &inventory, &settings, &opts, journal, &tx);
        tokio::pin!(run);
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                summary = &mut run => {
                    while let Ok(event) = rx.try_recv() {
                        view.show(&event);
                    }
                    break summary;
                }
                Some(event) = rx.recv() => view.show(&event),
                Ok(()) = tokio::signal::ctrl_c() => {
                    if cancel.swap(true, Ordering::SeqCst) {
                        // The second Ctrl-C: the operator will not wait for the running tasks.
                        eprintln!("stopping at once; the journal has every event so far; resume with --resume (and --break-lock if a host stays locked)");
                        if let Some(path) = &args.report {
                            super::runs::report_after_push(&args.runs_dir, &run_dir, path);
                        }
                        std::process::exit(Code::Interrupted as i32);
                    }
                    view.interrupted();
                }
                _ = ticker.tick() => view.tick(),
            }
        }
    });
    view.footer(&run_dir, &summary);
    if let Some(path) = &args.report {
        super::runs::report_after_push(&args.runs_dir, &run_dir, path);
    }
    exit_code(&summary)
}

fn playbook_path(args: &PushArgs) -> Result<std::path::PathBuf, Failure> {
    args.playbook
        .clone()
        .ok_or_else(|| bad_input(anyhow!("no playbook given")))
}

/// `--list-hosts`, `--list-tasks`, `--list-tags`: what the run would take, in Ansible's layout.
fn listing(args: &PushArgs) -> Result<(), Failure> {
    let path = playbook_path(args)?;
    let playbook = Playbook::load(&path, &args.roles_path).map_err(bad_input)?;
    let inventory = if args.list_hosts {
        super::inventory_from(&args.inventory)?
    } else {
        drover_inventory::Inventory::default()
    };
    let filters = (args.limit.as_deref(), &args.tags[..], &args.skip_tags[..]);
    for (on, what) in [
        (args.list_hosts, drover_rollout::Listing::Hosts),
        (args.list_tasks, drover_rollout::Listing::Tasks),
        (args.list_tags, drover_rollout::Listing::Tags),
    ] {
        if on {
            let text = drover_rollout::list(
                &playbook,
                &path.display().to_string(),
                &inventory,
                filters,
                what,
            )
            .map_err(|e| bad_input(anyhow!(e)))?;
            print!("{text}");
        }
    }
    Ok(())
}

/// Reads the playbook, which checks every task, role, task file and template it names, and says so.
fn syntax_check(args: &PushArgs) -> Result<(), Failure> {
    let path = playbook_path(args)?;
    let playbook = Playbook::load(&path, &args.roles_path).map_err(bad_input)?;
    warn_unknown_notifies(&playbook);
    println!(
        "playbook: {}: {} play{}, syntax OK",
        path.display(),
        playbook.plays.len(),
        if playbook.plays.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

/// A `notify:` that no handler answers loads (as in Ansible, where a role's unused branch may
/// carry one), but the operator hears of it before any host is touched.
fn warn_unknown_notifies(playbook: &Playbook) {
    for (at, msg) in playbook
        .plays
        .iter()
        .flat_map(drover_roles::unknown_notifies)
    {
        eprintln!("warning: {at}: {msg}");
    }
    // A dynamic include that cannot be read fails only where it runs, as in Ansible; the
    // operator hears of it now.
    for (at, why) in playbook
        .plays
        .iter()
        .flat_map(drover_roles::deferred_includes)
    {
        eprintln!("warning: {at}: {why}");
    }
}

/// The saved settings of a run, with this command line's flags after them (so they win).
fn resume(now: &PushArgs, id: &str) -> Result<(PushArgs, Journal), Failure> {
    let (journal, spec) = Journal::resume(&now.runs_dir, id).map_err(|e| {
        bad_input(anyhow!(
            "cannot resume run {id} from {}: {e}",
            now.runs_dir.display()
        ))
    })?;
    let given = super::extra_vars(&now.extra_vars)?;
    let missing: Vec<&str> = spec
        .extra_var_names
        .iter()
        .filter(|name| !given.contains_key(*name))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(bad_input(anyhow!(
            "run {id} was started with -e values that drover does not keep on disk ({}); give them again: drover push --resume {id} -e ...",
            missing.join(", ")
        )));
    }
    let mut current: Vec<String> = std::env::args().skip(2).collect();
    // The playbook is saved with the run; naming it again must not make it a second positional.
    if let Some(pb) = &now.playbook
        && let Some(i) = current.iter().position(|a| Path::new(a) == pb)
    {
        current.remove(i);
    }
    let mut argv = vec!["push".to_string()];
    argv.extend(spec.args.iter().cloned());
    let mut skip = false;
    for a in current {
        if skip {
            skip = false;
            continue;
        }
        if a == "--resume" {
            skip = true;
        } else if !a.starts_with("--resume=") {
            argv.push(a);
        }
    }
    let mut saved = Saved::try_parse_from(&argv)
        .map_err(|e| {
            bad_input(anyhow!(
                "run {id}: its saved arguments no longer parse: {e}"
            ))
        })?
        .args;
    saved.resume = Some(id.to_string());
    Ok((saved, journal))
}

/// Splits a push command line into what the journal keeps and the inline `-e` values it must not
/// (`-e k=v`, `-e '{...}'`, `-ek=v`, `--extra-vars=...`); `-e @file` is kept.
fn split_inline_extra_vars(argv: impl IntoIterator<Item = String>) -> (Vec<String>, Vec<String>) {
    let (mut kept, mut inline) = (Vec::new(), Vec::new());
    let mut argv = argv.into_iter();
    while let Some(arg) = argv.next() {
        let value = match arg.as_str() {
            "-e" | "--extra-vars" => argv.next(),
            a => a
                .strip_prefix("--extra-vars=")
                .or_else(|| {
                    a.strip_prefix("-e=")
                        .or_else(|| a.strip_prefix("-e"))
                        .filter(|_| !a.starts_with("--"))
                })
                .map(str::to_string),
        };
        match value {
            Some(v) if v.starts_with('@') => kept.extend(["-e".to_string(), v]),
            Some(v) => inline.push(v),
            None if arg.starts_with("-e") || arg == "--extra-vars" => {}
            None => kept.push(arg),
        }
    }
    (kept, inline)
}

fn options(args: &PushArgs, view: &PushView) -> Result<PushOptions, Failure> {
    use std::io::IsTerminal;
    let operator = if args.yes {
        Operator::Yes
    } else if std::io::stdin().is_terminal() {
        Operator::Ask(view.prompt())
    } else {
        Operator::Absent
    };
    if args.step && matches!(operator, Operator::Absent) {
        return Err(bad_input(anyhow!(
            "`--step` asks before each task at the terminal, and drover has none here; run it from a terminal (or leave --step out)"
        )));
    }
    if args.verbose > 3 {
        return Err(bad_input(anyhow!(
            "`-{}`: drover's most is `-vvv` (each task's result, where the task is written, and every command it runs); --json has every event in full",
            "v".repeat(usize::from(args.verbose))
        )));
    }
    Ok(PushOptions {
        start_at: args.start_at_task.clone(),
        step: args.step,
        verbosity: args.verbose,
        batches: args
            .batch
            .as_deref()
            .map(Batches::parse)
            .transpose()
            .map_err(|e| bad_input(anyhow!("--batch: {e}")))?,
        forks: usize::from(args.forks),
        max_fail: args
            .max_fail
            .as_deref()
            .map(FailBudget::parse)
            .transpose()
            .map_err(|e| bad_input(anyhow!("--max-fail: {e}")))?,
        max_fail_total: args.max_fail_total,
        limit: args.limit.clone(),
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        extra_vars: super::extra_vars(&args.extra_vars)?,
        check: args.check,
        diff: args.diff,
        break_lock: args.break_lock,
        impact_gate: args
            .impact_gate
            .as_deref()
            .and_then(drover_roles::ImpactGate::parse)
            .unwrap_or_default(),
        ignore_window: args.ignore_window,
        no_remediate: args.no_remediate,
        canary: args.canary.map(|n| n as usize),
        force_handlers: args.force_handlers,
        operator,
        task_timeout: args.timeout,
        lock_ttl: Duration::from_secs(args.lock_ttl),
        owner: format!(
            "{}@{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "controller".into())
        ),
        cancel: Arc::new(AtomicBool::new(false)),
    })
}

fn exit_code(summary: &drover_rollout::PushSummary) -> Result<(), Failure> {
    let failed = summary.recap.values().any(|s| s.failed > 0);
    let unreachable = summary.recap.values().any(|s| s.unreachable > 0);
    if summary.bad_input {
        return Err(Failure::Hosts(Code::BadInput));
    }
    match (summary.status, failed, unreachable) {
        (RunStatus::Interrupted, _, _) => Err(Failure::Hosts(Code::Interrupted)),
        (RunStatus::Refused, _, _) => Err(Failure::Hosts(Code::Refused)),
        (RunStatus::Halted, _, _) | (_, true, _) => Err(Failure::Hosts(Code::HostsFailed)),
        (_, false, true) => Err(Failure::Hosts(Code::HostsUnreachable)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_extra_vars_are_not_kept() {
        let argv = [
            "site.yml",
            "-e",
            "token=s3cret",
            "--batch",
            "1",
            "-eother=x",
            "--extra-vars={\"a\": 1}",
            "--extra-vars",
            "b=2",
            "-e",
            "@vars.yml",
            "-e=c=3",
            "--limit",
            "web",
        ]
        .map(String::from);
        let (kept, inline) = split_inline_extra_vars(argv);
        assert_eq!(
            kept,
            [
                "site.yml",
                "--batch",
                "1",
                "-e",
                "@vars.yml",
                "--limit",
                "web"
            ]
        );
        assert_eq!(
            inline,
            ["token=s3cret", "other=x", "{\"a\": 1}", "b=2", "c=3"]
        );
    }
}
