//! `drover render`: a template rendered with one host's variables, or every matching host's.

use anyhow::anyhow;
use std::path::Path;

use drover_templates::{Engine, add_template_vars};

use crate::args::RenderArgs;
use crate::exit::{Failure, bad_input};

pub fn run(args: &RenderArgs) -> Result<(), Failure> {
    let inv = super::load_inventory(&args.source)?;
    let text = std::fs::read_to_string(&args.template)
        .map_err(|e| bad_input(anyhow!("{}: cannot read: {e}", args.template.display())))?;
    let extra = super::extra_vars(&args.extra_vars)?;
    let mut engine = Engine::new();
    engine.add_global("groups", &inv.groups_var());
    engine.add_global("hostvars", &inv.hostvars_var());
    let template = args.template.display().to_string();
    // As the template module renders it: variables whose values are templates resolved, and the
    // template's own variables (ansible_managed, template_path, ...) beside the host's.
    let render = |host: &str, dest: Option<&Path>| -> Result<String, Failure> {
        let mut vars = inv.template_vars(host);
        vars.extend(extra.clone());
        let dest = dest.map(|d| d.display().to_string());
        add_template_vars(&mut vars, &template, &args.template, dest.as_deref());
        engine.resolve_vars(&mut vars);
        engine
            .render_file(&template, &text, &vars)
            .map_err(|e| bad_input(anyhow!("host {host}: {e}")))
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
