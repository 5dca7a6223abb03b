//! The SELinux context parameters (`seuser`, `serole`, `setype`, `selevel`) of a module that
//! writes files. Ansible sets them only where SELinux is enabled and ignores them elsewhere; drover
//! does the same where there is nothing to set, and fails the task on a host where SELinux is
//! enabled, since it does not set contexts: a context asked for is never silently left out.

use drover_roles::module::SELINUX_CONTEXT;

use super::{Args, ModuleCtx, Outcome};

/// Whether SELinux is enabled: its filesystem is mounted (libselinux's own first test).
const ENABLED: &str = "test -e /sys/fs/selinux/enforce";

/// The context parameters the task gives (an omitted one is absent).
fn asked(args: &Args) -> Vec<&'static str> {
    SELINUX_CONTEXT
        .iter()
        .map(|p| p.name)
        .filter(|name| args.str(name).is_some())
        .collect()
}

/// `None` when the task may go on: it asks for no context, or the host has no SELinux to set
/// one in. Else the task's failure.
pub async fn refusal(args: &Args, ctx: &ModuleCtx<'_>) -> Option<Outcome> {
    let asked = asked(args);
    if asked.is_empty() {
        return None;
    }
    match ctx.exec(ENABLED, b"").await {
        Ok(out) if !out.status.success() => None,
        Ok(_) => Some(Outcome::fail(format!(
            "SELinux is enabled on this host and drover does not set SELinux contexts ({} given): set it with a command task (chcon, semanage fcontext) instead",
            asked.join(", ")
        ))),
        Err(e) => Some(Outcome::fail(format!(
            "cannot tell whether SELinux is enabled: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;
    use serde_json::json;

    #[test]
    fn only_given_contexts_are_asked_for() {
        assert!(asked(&args(json!({"path": "/x", "setype": null}))).is_empty());
        assert_eq!(
            asked(&args(
                json!({"setype": "httpd_sys_content_t", "seuser": "system_u"})
            )),
            ["seuser", "setype"]
        );
    }
}
