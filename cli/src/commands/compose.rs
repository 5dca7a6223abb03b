//! `drover compose lint|fix`: restart policies in compose files and templates.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use drover_compose::{Finding, Options};
use drover_templates::Engine;

use crate::args::{ComposeCommand, ComposeFixArgs, ComposeLintArgs};
use crate::exit::{Code, Failure, bad_input};

pub fn run(cmd: &ComposeCommand) -> Result<(), Failure> {
    match cmd {
        ComposeCommand::Lint(args) => lint(args),
        ComposeCommand::Fix(args) => fix(args),
    }
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| bad_input(anyhow!("{}: cannot read: {e}", path.display())))
}

fn is_template(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "j2")
}

/// A finding and where it was found (a file, or a file as rendered for a host).
struct Located {
    label: String,
    finding: Finding,
}

fn lint(args: &ComposeLintArgs) -> Result<(), Failure> {
    let opts = Options {
        keep: args.keep.clone(),
        ..Options::default()
    };
    let mut found = Vec::new();
    let inventory = if args.inventory.is_empty() {
        None
    } else {
        Some(drover_inventory::Inventory::load(&args.inventory).map_err(bad_input)?)
    };
    let templates = inventory
        .as_ref()
        .map(|inv| super::HostTemplates::new(inv, Default::default()));
    for path in &args.paths {
        let text = read(path)?;
        match (&inventory, &templates, is_template(path)) {
            (Some(inv), Some(templates), true) => {
                for host in inv.select(&args.hosts, None).map_err(bad_input)? {
                    let rendered = templates.render(host, path, &text, None)?;
                    let label = format!("{} (rendered for {host})", path.display());
                    let findings = drover_compose::lint(Path::new(&label), &rendered, &opts)
                        .map_err(bad_input)?;
                    found.extend(findings.into_iter().map(|finding| Located {
                        label: label.clone(),
                        finding,
                    }));
                }
            }
            _ => {
                let findings = drover_compose::lint(path, &text, &opts).map_err(bad_input)?;
                found.extend(findings.into_iter().map(|finding| Located {
                    label: path.display().to_string(),
                    finding,
                }));
            }
        }
    }
    if args.json {
        let doc: Vec<serde_json::Value> = found
            .iter()
            .map(|l| serde_json::json!({"file": l.label, "line": l.finding.line, "service": l.finding.service, "message": l.finding.message, "fixable": l.finding.fix.is_some()}))
            .collect();
        crate::ui::print_json(&serde_json::Value::Array(doc));
    } else {
        for l in &found {
            println!("{}:{}: {}", l.label, l.finding.line, l.finding.message);
        }
    }
    let fixable = found.iter().filter(|l| l.finding.fix.is_some()).count();
    eprintln!(
        "{} finding(s) in {} file(s); {fixable} fixable with `drover compose fix`",
        found.len(),
        args.paths.len()
    );
    if found.is_empty() {
        Ok(())
    } else {
        Err(Failure::Hosts(Code::HostsFailed))
    }
}

fn fix(args: &ComposeFixArgs) -> Result<(), Failure> {
    let opts = Options {
        policy: args.policy.clone(),
        keep: args.keep.clone(),
    };
    let mut pending = false;
    // Everything is checked before anything is written: one bad file leaves every file as it was.
    let mut results: Vec<(&PathBuf, String, drover_compose::Fixed)> = Vec::new();
    let engine = Engine::new();
    for path in &args.paths {
        let text = read(path)?;
        // A template whose Jinja does not parse could never render: fixing its YAML would hide
        // that, so it is bad input and nothing is written.
        if is_template(path) {
            engine
                .check_file(&path.display().to_string(), &text)
                .map_err(bad_input)?;
        }
        let fixed = drover_compose::fix(path, &text, &opts).map_err(bad_input)?;
        results.push((path, text, fixed));
    }
    for (path, text, fixed) in &results {
        let changed = fixed.text != *text;
        if args.check && changed {
            print!("{}", drover_compose::diff(path, text, &fixed.text));
        } else if changed {
            write_in_place(path, &fixed.text)?;
            eprintln!("{}: fixed {} finding(s)", path.display(), fixed.fixed);
        }
        for f in &fixed.remaining {
            eprintln!(
                "{}:{}: {} (not fixed automatically)",
                path.display(),
                f.line,
                f.message
            );
        }
        pending |= (args.check && changed) || !fixed.remaining.is_empty();
    }
    if pending {
        Err(Failure::Hosts(Code::HostsFailed))
    } else {
        Ok(())
    }
}

/// Replaces a file atomically, keeping its permissions. Through a symlink, the file it points to
/// is fixed and the link stays a link. The new text goes through a temporary name nobody can guess,
/// created exclusively beside the file, and removed if anything fails.
fn write_in_place(path: &Path, text: &str) -> Result<(), Failure> {
    let real = std::fs::canonicalize(path)?;
    let name = real.file_name().unwrap_or_default().to_string_lossy();
    let tmp = real.with_file_name(drover_ssh::shell::temp_path(&name));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.set_permissions(std::fs::metadata(&real)?.permissions())?;
        std::fs::rename(&tmp, &real)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(written?)
}
