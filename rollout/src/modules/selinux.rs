//! selinux (ansible.posix): SELinux's state and policy, in the running kernel (setenforce) and in
//! its configuration file (SELINUX=, SELINUXTYPE=), changed as the module changes them: a state
//! the running system cannot take (enabling a disabled SELinux, or disabling it) is written for
//! the next boot and reported as `reboot_required`. A host without SELinux's tools fails the
//! task, as the module fails without its library. `update_kernel_param` (grubby) is not taken.

use drover_ssh::shell::quote;
use serde_json::json;

use super::files::rewrite_command;
use super::{Args, ModuleCtx, Outcome};

/// What the host says: getenforce's answer, the configured policy libselinux reads, the file.
#[derive(Debug, Default, PartialEq)]
struct Found {
    runtime: String,
    runtime_policy: String,
    config: Option<String>,
}

const NO_TOOLS: &str = "SELinux's tools (getenforce, setenforce) are not on this host: install selinux-utils (Debian) or libselinux-utils, as the module needs libselinux";

fn probe(configfile: &str) -> String {
    let c = quote(configfile);
    format!(
        "command -v getenforce >/dev/null 2>&1 || {{ echo {} >&2; exit 1; }}; \
         echo \"runtime=$(getenforce)\"; \
         echo \"policy=$(sed -n 's/^SELINUXTYPE=//p' /etc/selinux/config 2>/dev/null | tail -n 1)\"; \
         if [ -f {c} ]; then echo config; cat -- {c}; fi",
        quote(NO_TOOLS)
    )
}

fn parse(out: &str) -> Found {
    let mut found = Found::default();
    let mut lines = out.split_inclusive('\n');
    for line in lines.by_ref() {
        let line = line.trim_end_matches('\n');
        if let Some(r) = line.strip_prefix("runtime=") {
            found.runtime = r.to_lowercase();
        } else if let Some(p) = line.strip_prefix("policy=") {
            found.runtime_policy = p.to_string();
        } else if line == "config" {
            found.config = Some(lines.by_ref().collect());
            break;
        }
    }
    found
}

/// The first value of `KEY=` in the file, as the module reads it.
fn setting(config: &str, key: &str) -> String {
    config
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The file with every `KEY=` line set to `value` (added when there is none), as the module
/// rewrites it.
fn with_setting(config: &str, key: &str, value: &str) -> String {
    let prefix = format!("{key}=");
    let mut found = false;
    let mut out = String::new();
    for line in config.lines() {
        if line.starts_with(&prefix) {
            found = true;
            out.push_str(&format!("{prefix}{value}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !found {
        out.push_str(&format!("{prefix}{value}\n"));
    }
    out
}

/// What the task changes: the running state to set (setenforce), the new file, messages,
/// warnings, and whether a reboot is needed.
#[derive(Debug, Default, PartialEq)]
struct Plan {
    setenforce: Option<&'static str>,
    config: Option<String>,
    changed: bool,
    msgs: Vec<String>,
    warnings: Vec<String>,
    reboot_required: bool,
    policy: String,
}

fn plan(
    state: &str,
    policy: Option<String>,
    configfile: &str,
    found: &Found,
) -> Result<Plan, String> {
    let config = found.config.as_deref().ok_or_else(|| {
        format!("Unable to find file {configfile}: install the SELinux policy package")
    })?;
    let (config_state, config_policy) =
        (setting(config, "SELINUX"), setting(config, "SELINUXTYPE"));
    let policy = match (state, policy) {
        ("disabled", None) => config_policy.clone(),
        (_, None) => return Err("Policy is required if state is not 'disabled'".into()),
        (_, Some(p)) => p,
    };
    let mut plan = Plan {
        policy: policy.clone(),
        ..Plan::default()
    };
    let mut text = config.to_string();
    if policy != found.runtime_policy {
        plan.msgs.push(format!(
            "Running SELinux policy changed from '{}' to '{policy}'",
            found.runtime_policy
        ));
        plan.changed = true;
    }
    if policy != config_policy {
        text = with_setting(&text, "SELINUXTYPE", &policy);
        plan.msgs.push(format!(
            "SELinux policy configuration in '{configfile}' changed from '{config_policy}' to '{policy}'"
        ));
        plan.changed = true;
    }
    let runtime = found.runtime.as_str();
    if state != runtime {
        if runtime == "disabled" {
            plan.warnings.push(format!(
                "Reboot is required to set SELinux state to '{state}'"
            ));
            plan.reboot_required = true;
        } else if state == "disabled" {
            if runtime != "permissive" {
                plan.setenforce = Some("0");
                plan.warnings.push(format!("SELinux state temporarily changed from '{runtime}' to 'permissive'. State change will take effect next reboot."));
                plan.changed = true;
            } else {
                plan.warnings
                    .push("SELinux state change will take effect next reboot".into());
            }
            plan.reboot_required = true;
        } else {
            plan.setenforce = Some(if state == "enforcing" { "1" } else { "0" });
            plan.msgs.push(format!(
                "SELinux state changed from '{runtime}' to '{state}'"
            ));
            plan.changed = true;
        }
    }
    if state != config_state {
        text = with_setting(&text, "SELINUX", state);
        plan.msgs.push(format!(
            "Config SELinux state changed from '{config_state}' to '{state}'"
        ));
        plan.changed = true;
    }
    plan.config = (text != config).then_some(text);
    Ok(plan)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(state) = args.str("state") else {
        return Outcome::bad_input("selinux needs `state`");
    };
    let configfile = args
        .first(&["configfile", "conf", "file"])
        .unwrap_or_else(|| "/etc/selinux/config".into());
    let found = match ctx.output_of(&probe(&configfile), "selinux").await {
        Ok(out) => parse(&String::from_utf8_lossy(&out)),
        Err(e) => return Outcome::fail(e),
    };
    let plan = match plan(&state, args.str("policy"), &configfile, &found) {
        Ok(p) => p,
        Err(e) => return Outcome::fail(e),
    };
    if !ctx.check {
        let mut steps = Vec::new();
        if let Some(policy) = plan.config.as_ref().map(|_| &plan.policy) {
            // As the module: a policy that is not installed is refused before the file changes.
            steps.push(format!(
                "[ -e {} ] || {{ echo {} >&2; exit 1; }}",
                quote(&format!("/etc/selinux/{policy}/policy")),
                quote(&format!("Policy {policy} does not exist in /etc/selinux/"))
            ));
        }
        if let Some(value) = plan.setenforce {
            steps.push(format!("setenforce {value}"));
        }
        if plan.config.is_some() {
            steps.push(rewrite_command(&configfile));
        }
        if !steps.is_empty() {
            let content = plan.config.clone().unwrap_or_default();
            if let Err(e) = ctx
                .output_with(&steps.join(" && "), content.as_bytes(), "selinux")
                .await
            {
                return Outcome::fail(e);
            }
        }
    }
    let mut out = Outcome {
        changed: plan.changed,
        msg: plan.msgs.join(", "),
        ..Outcome::default()
    };
    if !plan.warnings.is_empty() {
        out.result.insert("warnings".into(), json!(plan.warnings));
    }
    for (key, value) in [
        ("configfile", json!(configfile)),
        ("policy", json!(plan.policy)),
        ("state", json!(state)),
        ("reboot_required", json!(plan.reboot_required)),
    ] {
        out.result.insert(key.into(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "# SELinux\nSELINUX=enforcing\nSELINUXTYPE=targeted\n";

    fn found(runtime: &str) -> Found {
        Found {
            runtime: runtime.into(),
            runtime_policy: "targeted".into(),
            config: Some(CONFIG.into()),
        }
    }

    #[test]
    fn states_change_as_the_module_changes_them() {
        let same = plan(
            "enforcing",
            Some("targeted".into()),
            "/c",
            &found("enforcing"),
        )
        .unwrap();
        assert!(!same.changed && same.config.is_none() && same.setenforce.is_none());
        let permissive = plan(
            "permissive",
            Some("targeted".into()),
            "/c",
            &found("enforcing"),
        )
        .unwrap();
        assert_eq!(permissive.setenforce, Some("0"));
        assert_eq!(
            permissive.config.as_deref(),
            Some("# SELinux\nSELINUX=permissive\nSELINUXTYPE=targeted\n")
        );
        assert!(!permissive.reboot_required);
        let off = plan("disabled", None, "/c", &found("enforcing")).unwrap();
        assert!(off.reboot_required && off.changed && off.setenforce == Some("0"));
        assert_eq!(off.policy, "targeted");
        let on = plan(
            "enforcing",
            Some("targeted".into()),
            "/c",
            &found("disabled"),
        )
        .unwrap();
        assert!(on.reboot_required && on.setenforce.is_none());
        assert!(plan("enforcing", None, "/c", &found("enforcing")).is_err());
        assert!(
            plan(
                "enforcing",
                Some("targeted".into()),
                "/c",
                &Found::default()
            )
            .is_err()
        );
        assert_eq!(
            with_setting("a\n", "SELINUX", "disabled"),
            "a\nSELINUX=disabled\n"
        );
        assert_eq!(
            parse("runtime=Enforcing\npolicy=targeted\nconfig\nSELINUX=x\n"),
            Found {
                runtime: "enforcing".into(),
                runtime_policy: "targeted".into(),
                config: Some("SELINUX=x\n".into())
            }
        );
    }
}
