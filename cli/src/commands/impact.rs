//! `drover impact`: the pre-upgrade report.

use std::path::Path;

use anyhow::anyhow;
use drover_compose::Options;

use crate::args::{ImpactArgs, ImpactFormat};
use crate::exit::{Code, Failure, bad_input};
use crate::settings;
use crate::ui::impact::{self as view, ComposeFinding};

pub fn run(args: &ImpactArgs) -> Result<(), Failure> {
    let inv = super::load_inventory(&args.source)?;
    let hosts = inv
        .select(&args.pattern, args.limit.as_deref())
        .map_err(bad_input)?;
    let compose = compose_findings(args, &inv, &hosts)?;
    let (settings, connections) = settings::connect(&args.connect, &inv, &hosts)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let reports = runtime.block_on(drover_rollout::impact(
        connections,
        &settings,
        usize::from(args.forks),
    ));
    match args.format {
        ImpactFormat::Json => crate::ui::print_json(&view::json(&reports, &compose)),
        ImpactFormat::Markdown => print!("{}", view::markdown(&reports, &compose)),
        ImpactFormat::Table => print!("{}", view::table(&reports, &compose)),
    }
    let risky =
        reports.iter().any(|r| r.prediction.risky()) || compose.iter().any(|(_, f)| !f.is_empty());
    let unreachable = reports.iter().any(|r| r.error.is_some());
    match (args.fail_on.is_some() && risky, unreachable) {
        (true, _) => Err(Failure::Hosts(Code::HostsFailed)),
        (false, true) => Err(Failure::Hosts(Code::HostsUnreachable)),
        _ => Ok(()),
    }
}

/// Each `--compose` file, rendered for each host when it is a template, and linted.
fn compose_findings(
    args: &ImpactArgs,
    inv: &drover_inventory::Inventory,
    hosts: &[&str],
) -> Result<Vec<(String, Vec<ComposeFinding>)>, Failure> {
    let templates = super::HostTemplates::new(inv, Default::default());
    let mut out = Vec::new();
    for host in hosts {
        let mut found = Vec::new();
        for path in &args.compose {
            let text = std::fs::read_to_string(path)
                .map_err(|e| bad_input(anyhow!("{}: cannot read: {e}", path.display())))?;
            let text = if path.extension().is_some_and(|e| e == "j2") {
                templates.render(host, path, &text, None)?
            } else {
                text
            };
            let label = format!("{} (rendered for {host})", path.display());
            for f in drover_compose::lint(Path::new(&label), &text, &Options::default())
                .map_err(bad_input)?
            {
                found.push((format!("{label}:{}", f.line), f.message));
            }
        }
        out.push((host.to_string(), found));
    }
    Ok(out)
}
