//! snap (community.general): snaps installed (from a channel, classic confinement), removed,
//! enabled or disabled, each only when `snap list` says it is not so already. snapd cannot run in
//! the test fleet's containers: the commands are tested as exact strings, and on a host without
//! snap the task fails saying so.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// The script: prints `changed` for each snap it changes (under --check: would change).
pub fn command(args: &Args, check: bool) -> Result<String, String> {
    let names = args.list("name");
    if names.is_empty() {
        return Err("snap needs `name`".into());
    }
    let state = args.str("state").unwrap_or_else(|| "present".into());
    let classic = args.bool("classic") == Some(true);
    let channel = args.str("channel");
    if classic && names.len() > 1 && state == "present" {
        return Err("classic confinement is given one snap at a time, as snap takes it".into());
    }
    let act = |cmd: String| {
        if check {
            "echo changed".to_string()
        } else {
            format!("{cmd} && echo changed")
        }
    };
    let mut steps = vec![
        "command -v snap >/dev/null || { echo 'snap is not installed on this host' >&2; exit 1; }"
            .to_string(),
    ];
    for name in &names {
        let n = quote(name);
        let installed = format!("snap list {n} >/dev/null 2>&1");
        steps.push(match state.as_str() {
            "present" | "installed" => {
                let mut install = String::from("snap install");
                if classic {
                    install.push_str(" --classic");
                }
                if let Some(c) = &channel {
                    install.push_str(&format!(" --channel={}", quote(c)));
                }
                let mut step = format!("{installed} || {{ {}; }}", act(format!("{install} {n}")));
                if let Some(c) = &channel {
                    // An installed snap tracking another channel is moved to this one.
                    step.push_str(&format!(
                        "; t=$(snap list {n} | awk 'NR==2 {{print $4}}'); [ \"$t\" = {c} ] || [ \"${{t#latest/}}\" = {c} ] || {{ {}; }}",
                        act(format!("snap refresh --channel={c} {n}")),
                        c = quote(c)
                    ));
                }
                step
            }
            "absent" | "removed" => {
                format!("! {installed} || {{ {}; }}", act(format!("snap remove {n}")))
            }
            "enabled" | "disabled" => {
                let verb = if state == "enabled" { "enable" } else { "disable" };
                let disabled = format!("snap list {n} | awk 'NR==2 {{print $6}}' | grep -q disabled");
                let wants_disabled = state == "disabled";
                format!(
                    "{installed} || {{ echo {} >&2; exit 1; }}; {}{disabled} || {{ {}; }}",
                    quote(&format!("snap {name} is not installed")),
                    if wants_disabled { "" } else { "! " },
                    act(format!("snap {verb} {n}"))
                )
            }
            other => {
                return Err(format!(
                    "`state: {other}` is not present, absent, enabled or disabled"
                ));
            }
        });
    }
    Ok(steps.join("; "))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    ctx.built_script(command(args, ctx.check), "snap").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;
    use serde_json::json;

    #[test]
    fn each_snap_is_changed_only_when_snap_list_says_so() {
        let cmd = command(
            &args(json!({"name": "microk8s", "classic": true, "channel": "1.30/stable"})),
            false,
        )
        .unwrap();
        assert_eq!(
            cmd,
            "command -v snap >/dev/null || { echo 'snap is not installed on this host' >&2; exit 1; }; \
             snap list microk8s >/dev/null 2>&1 || { snap install --classic --channel=1.30/stable microk8s && echo changed; }; \
             t=$(snap list microk8s | awk 'NR==2 {print $4}'); [ \"$t\" = 1.30/stable ] || [ \"${t#latest/}\" = 1.30/stable ] || { snap refresh --channel=1.30/stable microk8s && echo changed; }"
        );
        let gone = command(
            &args(json!({"name": ["lxd", "core20"], "state": "absent"})),
            true,
        )
        .unwrap();
        assert!(gone.ends_with("! snap list lxd >/dev/null 2>&1 || { echo changed; }; ! snap list core20 >/dev/null 2>&1 || { echo changed; }"), "{gone}");
        let off = command(&args(json!({"name": "lxd", "state": "disabled"})), false).unwrap();
        assert!(off.ends_with("snap list lxd | awk 'NR==2 {print $6}' | grep -q disabled || { snap disable lxd && echo changed; }"), "{off}");
        let on = command(&args(json!({"name": "lxd", "state": "enabled"})), false).unwrap();
        assert!(on.ends_with("! snap list lxd | awk 'NR==2 {print $6}' | grep -q disabled || { snap enable lxd && echo changed; }"), "{on}");
        assert!(command(&args(json!({"name": ["a", "b"], "classic": true})), false).is_err());
    }
}
