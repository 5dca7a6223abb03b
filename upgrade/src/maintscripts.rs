//! What a package's maintainer scripts restart: debhelper's systemd blocks (`_dh_action=restart` then
//! `deb-systemd-invoke $_dh_action 'x.service'`), `invoke-rc.d x restart`, `systemctl restart x`, and
//! whether they ask for a reboot (`notify-reboot-required`).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

/// What the scripts of one package do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptEffects {
    /// Units restarted (or stopped and started again) on upgrade.
    pub restarts: BTreeSet<String>,
    /// The scripts ask for a reboot.
    pub reboot: bool,
}

static DH_ACTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"_dh_action=(\w[\w-]*)").expect("valid regex"));
static INVOKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:deb-systemd-invoke|systemctl)\s+(?:--\S+\s+)*(\$_dh_action|restart|try-restart|reload-or-restart|try-reload-or-restart|condrestart)\s+((?:['"]?[\w@.-]+['"]?\s*)+)"#)
        .expect("valid regex")
});
static INVOKE_RC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"invoke-rc\.d\s+(?:--\S+\s+)*([\w@.-]+)\s+(\$_dh_action|restart|try-restart|force-reload)",
    )
    .expect("valid regex")
});

/// Reads a package's preinst, postinst and prerm texts.
pub fn effects(scripts: &[&str]) -> ScriptEffects {
    let mut out = ScriptEffects::default();
    for text in scripts {
        let action_restarts = DH_ACTION
            .captures_iter(text)
            .any(|c| c[1].contains("restart"));
        for caps in INVOKE.captures_iter(text) {
            if &caps[1] == "$_dh_action" && !action_restarts {
                continue;
            }
            for unit in caps[2].split_whitespace() {
                let unit = unit.trim_matches(|c| c == '\'' || c == '"');
                if unit.ends_with(".service") || !unit.contains('.') {
                    out.restarts.insert(normalize(unit));
                }
            }
        }
        for caps in INVOKE_RC.captures_iter(text) {
            if &caps[2] != "$_dh_action" || action_restarts {
                out.restarts.insert(normalize(&caps[1]));
            }
        }
        out.reboot |=
            text.contains("notify-reboot-required") || text.contains("/run/reboot-required");
    }
    out
}

fn normalize(unit: &str) -> String {
    if unit.contains('.') {
        unit.to_string()
    } else {
        format!("{unit}.service")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_openssh_server_postinst_restarts_ssh() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/openssh-server.postinst"),
        )
        .unwrap();
        let e = effects(&[&text]);
        assert!(e.restarts.contains("ssh.service"), "{e:?}");
        assert!(!e.reboot);
    }

    #[test]
    fn explicit_restarts_and_reboot_requests() {
        let e = effects(&[
            "#!/bin/sh\nsystemctl try-restart containerd.service docker.service || true\n",
            "[ -x /usr/share/update-notifier/notify-reboot-required ] && /usr/share/update-notifier/notify-reboot-required\n",
        ]);
        assert_eq!(
            e.restarts.iter().cloned().collect::<Vec<_>>(),
            ["containerd.service", "docker.service"]
        );
        assert!(e.reboot);
        let start_only = effects(&[
            "_dh_action=start\ndeb-systemd-invoke $_dh_action 'foo.service' >/dev/null || true\n",
        ]);
        assert!(start_only.restarts.is_empty(), "{start_only:?}");
        assert!(
            effects(&["#!/bin/sh\nset -e\necho configured\n"])
                .restarts
                .is_empty()
        );
    }
}
