//! `drover doc`: the module reference, written from the modules' own declarations
//! (`drover_roles::MODULES`), so it cannot drift from what the loader accepts.

use std::fmt::Write as _;

use anyhow::anyhow;
use drover_roles::{CheckMode, MODULES, Spec};

use crate::args::DocArgs;
use crate::exit::{Failure, bad_input};

pub fn run(args: &DocArgs) -> Result<(), Failure> {
    if args.markdown {
        print!("{}", markdown());
        return Ok(());
    }
    match &args.module {
        None => print!("{}", list()),
        Some(name) => {
            let spec = drover_roles::module::find(name).ok_or_else(|| {
                bad_input(anyhow!(
                    "drover has no module `{name}`; `drover doc` lists the modules it has"
                ))
            })?;
            print!("{}", one(spec));
        }
    }
    Ok(())
}

fn check_mode(spec: &Spec) -> &'static str {
    match spec.check_mode {
        CheckMode::Predicts => "reports what it would change, changes nothing",
        CheckMode::Skipped => "skipped (unless the task says `check_mode: false`)",
        CheckMode::Runs => "runs as usual (it changes nothing on the host)",
    }
}

/// Every module on one line.
fn list() -> String {
    let mut out = String::new();
    for spec in MODULES {
        let _ = writeln!(out, "{:<20} {}", spec.name, spec.summary);
    }
    out.push_str("\nModule names may also be written ansible.builtin.NAME. `drover doc MODULE` shows one module.\n");
    out
}

/// One module for the terminal.
fn one(spec: &Spec) -> String {
    let mut out = format!("{}: {}\n", spec.name, spec.summary);
    if !spec.aliases.is_empty() {
        let _ = writeln!(out, "  also called: {}", spec.aliases.join(", "));
    }
    let _ = writeln!(out, "  --check: {}", check_mode(spec));
    let _ = writeln!(
        out,
        "  --diff: {}",
        if spec.diff { "shows a diff" } else { "no diff" }
    );
    if spec.free_form {
        let _ = writeln!(out, "  takes a free-form string: `{}: TEXT`", spec.name);
    }
    if spec.any_params {
        let _ = writeln!(out, "  takes any parameter name (each becomes a variable)");
    }
    if !spec.hands_to.is_empty() {
        let _ = writeln!(out, "  {}", hands_to(spec));
    }
    if spec.writes_files() {
        let _ = writeln!(out, "  {SELINUX}");
    }
    for p in spec.params {
        let required = if p.required { ", required" } else { "" };
        let _ = writeln!(
            out,
            "  {:<18} {}{required}: {}{}",
            p.name,
            p.ty.describe(),
            p.doc,
            also_called(p)
        );
    }
    out
}

/// The whole reference, as docs/modules.md holds it.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Modules\n\nWritten by `drover doc --markdown` from the modules' own declarations; a test checks that this file is its output. Every parameter listed is honoured; any other is refused when the playbook loads, with its file, line and column. A value written as it is must be of the type given (checked at load; a YAML boolean given for a choice is the one choice it can stand for, `on` or `off`, as Ansible reads it back); a template is checked when the task runs. Names may be written `ansible.builtin.NAME` or `ansible.legacy.NAME`; a parameter may be written by any alias Ansible gives it (\"also called\"), and is read under its own name.\n",
    );
    for spec in MODULES {
        let _ = write!(out, "\n## {}\n\n{}\n\n", spec.name, spec.summary);
        if !spec.aliases.is_empty() {
            let _ = writeln!(
                out,
                "- Also called: {}",
                spec.aliases
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(out, "- `--check`: {}", check_mode(spec));
        let _ = writeln!(
            out,
            "- `--diff`: {}",
            if spec.diff { "shows a diff" } else { "no diff" }
        );
        if spec.free_form {
            let _ = writeln!(out, "- Takes a free-form string: `{}: TEXT`", spec.name);
        }
        if spec.any_params {
            let _ = writeln!(out, "- Takes any parameter name; each becomes a variable");
        }
        if !spec.hands_to.is_empty() {
            let _ = writeln!(out, "- {}", capitalised(&hands_to(spec)));
        }
        if spec.writes_files() {
            let _ = writeln!(out, "- {}", capitalised(SELINUX));
        }
        if !spec.params.is_empty() {
            out.push_str(
                "\n| parameter | type | required | what it does |\n| --- | --- | --- | --- |\n",
            );
            for p in spec.params {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {}{} |",
                    p.name,
                    p.ty.describe(),
                    if p.required { "yes" } else { "" },
                    p.doc.replace('|', "\\|"),
                    also_called(p)
                );
            }
        }
    }
    out
}

/// ` (also called `a`, `b`)` for a parameter with aliases.
fn also_called(p: &drover_roles::Param) -> String {
    if p.aliases.is_empty() {
        return String::new();
    }
    let names: Vec<String> = p.aliases.iter().map(|a| format!("`{a}`")).collect();
    format!(" (also called {})", names.join(", "))
}

/// What a module that writes files takes besides its own parameters.
const SELINUX: &str = "takes the SELinux context parameters seuser, serole, setype and selevel, as Ansible does beside owner and mode: on a host without SELinux there is nothing to set (Ansible ignores them there too); on a host with SELinux enabled the task fails, as drover does not set contexts";

/// What a module that hands parameters on takes besides its own.
fn hands_to(spec: &drover_roles::Spec) -> String {
    format!(
        "takes the parameters of {} too: each is handed to the one used on the host, which must take it",
        spec.hands_to.join(", ")
    )
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}
