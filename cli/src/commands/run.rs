//! `drover run`: one command on many hosts, with live progress, a block per host and a recap.

use std::time::Instant;

use drover_rollout::{AdhocRequest, Event, HostResult, run_adhoc};

use crate::args::RunArgs;
use crate::exit::{Failure, bad_input};
use crate::settings;
use crate::ui::{self, Progress, Recap};

/// Runs the command and reports; the exit code follows the worst outcome.
pub fn run(args: RunArgs) -> Result<(), Failure> {
    let inv = super::load_inventory(&args.source)?;
    let hosts = inv
        .select(&args.pattern, args.limit.as_deref())
        .map_err(bad_input)?;
    let (settings, connections) = settings::connect(&args.connect, &inv, &hosts)?;
    let request = AdhocRequest {
        command: args.command.join(" "),
        timeout: args.timeout,
        forks: usize::from(args.forks),
    };
    let started = Instant::now();
    let mut progress = Progress::new(connections.len(), !args.json);
    let runtime = tokio::runtime::Runtime::new()?;
    let results = runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let run = run_adhoc(connections, &request, &settings, &tx);
        tokio::pin!(run);
        loop {
            tokio::select! {
                results = &mut run => {
                    while let Ok(event) = rx.try_recv() {
                        progress.on(&event);
                    }
                    break results;
                }
                Some(event) = rx.recv() => progress.on(&event),
            }
        }
    });
    progress.finish();
    let recap = Recap::of(&results);
    if args.json {
        ui::print_json(&json_document(&args, &request, &results, &recap));
    }
    recap.print(started.elapsed());
    match recap.exit_code() {
        crate::exit::Code::Ok => Ok(()),
        code => Err(Failure::Hosts(code)),
    }
}

fn json_document(
    args: &RunArgs,
    request: &AdhocRequest,
    results: &[HostResult],
    recap: &Recap,
) -> serde_json::Value {
    let hosts: serde_json::Map<String, serde_json::Value> = results
        .iter()
        .map(|r| {
            let mut value = serde_json::to_value(r).unwrap_or_default();
            if let Some(obj) = value.as_object_mut() {
                obj.remove("host");
            }
            (r.host.clone(), value)
        })
        .collect();
    serde_json::json!({
        "pattern": args.pattern,
        "command": request.command,
        "hosts": hosts,
        "recap": recap,
    })
}

impl Progress {
    /// Updates the bar and prints each host's block as it finishes.
    fn on(&mut self, event: &Event) {
        match event {
            Event::HostStarted { .. } => {}
            Event::HostDone(result) => self.done(result),
        }
    }
}
