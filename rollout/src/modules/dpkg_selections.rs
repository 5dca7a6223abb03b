//! dpkg_selections: a package's dpkg selection (install, hold, deinstall, purge), as Ansible's module
//! sets it: `hold` keeps apt from upgrading it (docker-ce, containerd.io during a patch window).

use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome, setting_report};

/// The script: prints `was:SELECTION` and `changed` when it set (or would set) the selection.
pub fn command(name: &str, selection: &str, check: bool) -> String {
    let n = quote(name);
    let set = if check {
        String::new()
    } else {
        format!("echo {n} {selection} | dpkg --set-selections || exit 1; ")
    };
    format!(
        "cur=$(dpkg --get-selections {n} 2>/dev/null | awk '{{print $2}}'); echo \"was:${{cur:-not present}}\"; \
         if [ \"$cur\" != {selection} ]; then {set}echo changed; fi"
    )
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let (Some(name), Some(selection)) = (args.str("name"), args.str("selection")) else {
        return Outcome::bad_input("dpkg_selections needs `name` and `selection`");
    };
    if !matches!(
        selection.as_str(),
        "install" | "hold" | "deinstall" | "purge"
    ) {
        return Outcome::bad_input(format!(
            "dpkg_selections: `selection: {selection}` is not install, hold, deinstall or purge"
        ));
    }
    match ctx
        .output_of(&command(&name, &selection, ctx.check), "dpkg_selections")
        .await
    {
        Ok(o) => {
            let (before, changed) = setting_report(&o);
            let mut outcome = Outcome {
                changed,
                ..Outcome::default()
            };
            if outcome.changed && ctx.diff {
                outcome.diff = Some(format!("-{before}\n+{selection}\n"));
            }
            outcome.result.insert("before".into(), json!(before));
            outcome.result.insert("after".into(), json!(selection));
            outcome
        }
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selection_changes_only_when_it_differs() {
        assert_eq!(
            command("docker-ce", "hold", false),
            "cur=$(dpkg --get-selections docker-ce 2>/dev/null | awk '{print $2}'); echo \"was:${cur:-not present}\"; \
             if [ \"$cur\" != hold ]; then echo docker-ce hold | dpkg --set-selections || exit 1; echo changed; fi"
        );
        assert!(!command("x", "hold", true).contains("--set-selections"));
    }
}
