//! `drover render`: a template rendered with one host's variables, or every matching host's.

use anyhow::anyhow;
use std::path::Path;

use crate::args::RenderArgs;
use crate::exit::{Failure, bad_input};

pub fn run(args: &RenderArgs) -> Result<(), Failure> {
    let inv = super::load_inventory(&args.source)?;
    let text = std::fs::read_to_string(&args.template)
        .map_err(|e| bad_input(anyhow!("{}: cannot read: {e}", args.template.display())))?;
    let extra = super::extra_vars(&args.extra_vars)?;
    let templates = super::HostTemplates::new(&inv, extra);
    let render = |host: &str, dest: Option<&Path>| -> Result<String, Failure> {
        templates.render(host, &args.template, &text, dest)
    };
    if let Some(host) = &args.host {
        if inv.host(host).is_none() {
            return Err(bad_input(anyhow!("no host `{host}` in the inventory")));
        }
        print!("{}", render(host, None)?);
        return Ok(());
    }
    let out = args
        .out
        .as_ref()
        .ok_or_else(|| bad_input(anyhow!("give --host HOST or --out DIR")))?;
    let hosts = inv
        .select(args.pattern.as_deref().unwrap_or("all"), None)
        .map_err(bad_input)?;
    let name = args.template.file_name().map_or_else(
        || "rendered".into(),
        |n| n.to_string_lossy().trim_end_matches(".j2").to_string(),
    );
    for host in &hosts {
        let dir = out.join(drover_rollout::host_file_name(host));
        std::fs::create_dir_all(&dir)?;
        let dest = dir.join(&name);
        std::fs::write(&dest, render(host, Some(&dest))?)?;
    }
    eprintln!(
        "rendered {} for {} host(s) into {}",
        args.template.display(),
        hosts.len(),
        out.display()
    );
    Ok(())
}
