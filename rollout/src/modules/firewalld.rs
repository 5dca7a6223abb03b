//! firewalld: one setting through firewalld's own `firewall-cmd` (or `firewall-offline-cmd`, which
//! edits the permanent configuration while the daemon is not running), as ansible.posix.firewalld
//! makes it. The setting is queried in each configuration the task names (the running one when
//! `immediate`, which is assumed without `permanent`; the permanent one when `permanent`) and
//! changed only where it differs; in check mode only queried. One round trip: a script that says
//! `changed` once per configuration it changed (or would change).

use drover_ssh::shell::quote;
use serde_json::{Value as Json, json};

use super::{Args, ModuleCtx, Outcome};

/// How one setting is read and written: `firewall-cmd` options after the zone.
#[derive(Debug, PartialEq)]
struct Setting {
    /// What the task sets, in words (for `msg`).
    what: String,
    /// Exits 0 when the setting is there, 1 when it is not.
    query: String,
    /// Puts it there.
    add: String,
    /// Takes it away.
    remove: String,
    /// `firewall-cmd` takes `--timeout` with `add` (running configuration only).
    timed: bool,
}

impl Setting {
    fn item(what: &str, option: &str, value: &str, timed: bool) -> Setting {
        let v = quote(value);
        Setting {
            what: format!("{what} {value}"),
            query: format!("--query-{option}={v}"),
            add: format!("--add-{option}={v}"),
            remove: format!("--remove-{option}={v}"),
            timed,
        }
    }

    fn flag(what: &str, option: &str, timed: bool) -> Setting {
        Setting {
            what: what.to_string(),
            query: format!("--query-{option}"),
            add: format!("--add-{option}"),
            remove: format!("--remove-{option}"),
            timed,
        }
    }
}

/// The settings a task may name; ansible.posix.firewalld takes one at a time.
const ITEMS: &[&str] = &[
    "icmp_block",
    "icmp_block_inversion",
    "service",
    "port",
    "port_forward",
    "rich_rule",
    "interface",
    "masquerade",
    "source",
    "target",
    "default",
];

/// `port_forward`'s one entry as firewall-cmd writes it: `port=80:proto=tcp:toport=8080[:toaddr=A]`.
fn forward_spec(value: &Json) -> Result<String, String> {
    let entries = match value {
        Json::Array(a) => a.as_slice(),
        other => std::slice::from_ref(other),
    };
    let [entry] = entries else {
        return Err("only one port forward at a time".into());
    };
    let field = |k: &str| match entry.get(k) {
        Some(Json::String(s)) => Some(s.clone()),
        Some(Json::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let mut spec = Vec::new();
    for key in ["port", "proto", "toport"] {
        let v = field(key).ok_or_else(|| format!("`port_forward` needs `{key}`"))?;
        spec.push(format!("{key}={v}"));
    }
    if !matches!(field("proto").as_deref(), Some("tcp" | "udp")) {
        return Err("`port_forward`'s `proto` must be tcp or udp".into());
    }
    if let Some(addr) = field("toaddr").filter(|a| !a.is_empty()) {
        spec.push(format!("toaddr={addr}"));
    }
    Ok(spec.join(":"))
}

/// The one setting the task names, or the zone itself (`None`).
fn setting(args: &Args) -> Result<Option<Setting>, String> {
    let given: Vec<&str> = ITEMS
        .iter()
        .copied()
        .filter(|k| args.0.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    if given.len() > 1 {
        return Err(format!(
            "{} cannot go together: one setting per task",
            given.join(", ")
        ));
    }
    let Some(&key) = given.first() else {
        return Ok(None);
    };
    let value = args.str(key).unwrap_or_default();
    Ok(Some(match key {
        "service" => Setting::item("service", "service", &value, true),
        "port" => {
            let (port, proto) = value.trim().split_once('/').unwrap_or((&value, ""));
            if proto.is_empty() || port.is_empty() {
                return Err(format!(
                    "`port: {value}`: improper port format (missing protocol?); expected PORT/PROTOCOL"
                ));
            }
            Setting::item("port", "port", value.trim(), true)
        }
        "port_forward" => Setting::item(
            "port_forward",
            "forward-port",
            &forward_spec(&args.0[key])?,
            true,
        ),
        "rich_rule" => Setting::item("rich_rule", "rich-rule", &value, true),
        "source" => Setting::item("source", "source", &value, false),
        "icmp_block" => Setting::item("icmp-block", "icmp-block", &value, true),
        "icmp_block_inversion" => {
            Setting::flag("icmp-block-inversion", "icmp-block-inversion", false)
        }
        "masquerade" => Setting::flag("masquerade", "masquerade", true),
        "interface" => {
            let mut s = Setting::item("interface", "interface", &value, false);
            // As the module does: an enabled interface is moved to the zone, wherever it was.
            s.add = format!("--change-interface={}", quote(&value));
            s
        }
        _ => unreachable!("target and default are handled before"),
    }))
}

/// Which configurations a task changes: (running, permanent).
fn layers(args: &Args) -> (bool, bool) {
    let permanent = args.bool("permanent") == Some(true);
    let immediate = args.bool("immediate") == Some(true) || !permanent;
    (immediate, permanent)
}

/// The shell function that queries, compares and changes one configuration: `apply FN WANT QUERY
/// CHANGE...`, where FN runs firewalld's command for that configuration and WANT is 1 for "should
/// be there"; `$check` set means only say so. Values reach the commands as quoted words, never
/// through `eval`.
const APPLY: &str = "apply() { f=$1; want=$2; query=$3; shift 3; \
    err=$($f \"$query\" 2>&1 >/dev/null); rc=$?; \
    case $rc in 0) have=1;; 1) have=0;; *) printf '%s\\n' \"$err\" >&2; exit 1;; esac; \
    [ \"$have\" = \"$want\" ] && return 0; echo changed; [ -n \"$check\" ] && return 0; \
    $f \"$@\" >/dev/null || exit 1; }; ";

/// Finds out whether the daemon runs and defines the commands: `fw_run` for the running
/// configuration, `fw_perm` for the permanent one (both in the task's zone), `fw_base` and
/// `fw_permbase` without a zone.
fn daemon_check(args: &Args, immediate: bool, zone: &str) -> String {
    let offline = args.bool("offline") == Some(true);
    let down = if !offline {
        "echo 'firewalld is not running: start it, or give `offline: true` to change its permanent configuration' >&2; exit 1".to_string()
    } else if immediate {
        "echo 'firewalld is not running: it cannot change the running configuration (give `permanent: true` without `immediate`)' >&2; exit 1".to_string()
    } else {
        format!(
            "fw_perm() {{ firewall-offline-cmd{zone} \"$@\"; }}; fw_base() {{ firewall-offline-cmd \"$@\"; }}; fw_permbase() {{ firewall-offline-cmd \"$@\"; }}"
        )
    };
    format!(
        "command -v firewall-cmd >/dev/null 2>&1 || {{ echo 'firewall-cmd is not installed on the host (the firewalld package)' >&2; exit 1; }}; \
         if firewall-cmd --state >/dev/null 2>&1; then \
         fw_run() {{ firewall-cmd{zone} \"$@\"; }}; fw_perm() {{ firewall-cmd --permanent{zone} \"$@\"; }}; \
         fw_base() {{ firewall-cmd \"$@\"; }}; fw_permbase() {{ firewall-cmd --permanent \"$@\"; }}; \
         else {down}; fi; "
    )
}

/// Says `changed` and runs `set` (unless checking) when `cur` (a command's output) is not `want`.
fn compare_and_set(cur: &str, want: &str, set: &str) -> String {
    format!(
        "cur=$({cur}) || exit 1; if [ \"$cur\" != {w} ]; then echo changed; [ -n \"$check\" ] || {set} >/dev/null || exit 1; fi; ",
        w = quote(want)
    )
}

/// The script for a task's parameters; `check` only queries.
pub(crate) fn command(args: &Args, check: bool) -> Result<String, String> {
    let state = args.str("state").unwrap_or_default();
    let (immediate, permanent) = layers(args);
    let zone_name = args.str("zone");
    let zone = zone_name
        .as_deref()
        .map_or_else(String::new, |z| format!(" --zone={}", quote(z)));
    let needs_zone = |what: &str| -> Result<&str, String> {
        zone_name
            .as_deref()
            .ok_or_else(|| format!("`{what}` needs `zone`"))
    };
    let want = state == "enabled" || state == "present";
    let mut script = String::from(if check { "check=1; " } else { "check=; " });
    script.push_str(APPLY);
    script.push_str(&daemon_check(args, immediate, &zone));
    let msg = |text: &str| format!("echo {}", quote(&format!("msg={text}")));
    if let Some(target) = args.str("target") {
        let z = needs_zone("target")?;
        if !permanent || args.bool("immediate") == Some(true) {
            return Err("a zone's `target` is set in the permanent configuration only: give `permanent: true` (without `immediate`)".into());
        }
        let set = if want { target } else { "default".into() };
        script.push_str(&compare_and_set(
            "fw_perm --get-target",
            &set,
            &format!("fw_perm --set-target={}", quote(&set)),
        ));
        script.push_str(&msg(&format!("target of zone {z} set to {set}")));
        return Ok(script);
    }
    if let Some(default) = args.bool("default") {
        let z = needs_zone("default")?;
        if !permanent {
            return Err("default zone changes must be permanent (and immediate when the daemon runs): give `permanent: true`".into());
        }
        // Disabled goes back to firewalld's own fallback zone.
        let z = if (state == "enabled") == default {
            z
        } else {
            "public"
        };
        script.push_str(&compare_and_set(
            "fw_base --get-default-zone",
            z,
            &format!("fw_base --set-default-zone={}", quote(z)),
        ));
        script.push_str(&msg(&format!("default zone set to {z}")));
        return Ok(script);
    }
    let Some(setting) = setting(args)? else {
        // The zone itself: a permanent-only operation.
        if !matches!(state.as_str(), "present" | "absent") {
            return Err("give one setting (service, port, ...), or `state: present`/`absent` with `zone` to add or remove the zone itself".into());
        }
        let z = needs_zone("state: present/absent")?;
        if !permanent {
            return Err("zones are added and removed in the permanent configuration only: give `permanent: true`".into());
        }
        let (want_n, change) = if want {
            ("1", format!("fw_permbase --new-zone={}", quote(z)))
        } else {
            ("0", format!("fw_permbase --delete-zone={}", quote(z)))
        };
        script.push_str(&format!(
            "if fw_permbase --get-zones | tr ' ' '\\n' | grep -qx {q}; then have=1; else have=0; fi; \
             if [ \"$have\" != {want_n} ]; then echo changed; [ -n \"$check\" ] || {change} >/dev/null || exit 1; fi; ",
            q = quote(z),
        ));
        script.push_str(&msg(&format!("zone {z} {state}")));
        return Ok(script);
    };
    if matches!(state.as_str(), "present" | "absent") {
        return Err("absent and present state can only be used in zone level operations (give enabled or disabled)".into());
    }
    if args.str("interface").is_some() {
        needs_zone("interface")?;
    }
    if args.str("source").is_some() && args.bool("permanent").is_none() {
        return Err("`source` needs `permanent` to be given".into());
    }
    let timeout = args.num("timeout").unwrap_or(0.0);
    if !(timeout >= 0.0 && timeout.fract() == 0.0) {
        return Err(format!(
            "`timeout: {timeout}` is not a whole number of seconds"
        ));
    }
    let (want_n, change) = if want {
        ("1", &setting.add)
    } else {
        ("0", &setting.remove)
    };
    if immediate {
        let timed = if want && setting.timed && timeout > 0.0 {
            format!(" --timeout={}s", timeout as u64)
        } else {
            String::new()
        };
        script.push_str(&format!(
            "apply fw_run {want_n} {} {change}{timed}; ",
            setting.query
        ));
    }
    if permanent {
        script.push_str(&format!(
            "apply fw_perm {want_n} {} {change}; ",
            setting.query
        ));
    }
    script.push_str(&msg(&format!("changed {} to {state}", setting.what)));
    Ok(script)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match command(args, ctx.check) {
        Ok(c) => c,
        Err(e) => return Outcome::bad_input(format!("firewalld: {e}")),
    };
    match ctx.output_with(&cmd, b"", "firewalld").await {
        Ok(out) => {
            let mut outcome = Outcome {
                changed: super::reports_change(&out),
                ..Outcome::default()
            };
            let text = String::from_utf8_lossy(&out);
            let msg = text
                .lines()
                .find_map(|l| l.strip_prefix("msg="))
                .unwrap_or_default();
            outcome.msg = if outcome.changed {
                msg.to_string()
            } else {
                "permanent and running configurations as asked".into()
            };
            outcome.result.insert("msg".into(), json!(outcome.msg));
            outcome
        }
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::modules::args;

    #[test]
    fn a_service_is_queried_then_changed_in_each_configuration_the_task_names() {
        let cmd = command(
            &args(json!({"service": "https", "zone": "dmz", "permanent": true, "immediate": true, "state": "enabled"})),
            false,
        )
        .unwrap();
        assert!(
            cmd.contains("then fw_run() { firewall-cmd --zone=dmz \"$@\"; }; fw_perm() { firewall-cmd --permanent --zone=dmz \"$@\"; }; "),
            "{cmd}"
        );
        assert!(
            cmd.contains("else echo 'firewalld is not running: start it, or give `offline: true`"),
            "{cmd}"
        );
        assert!(
            cmd.ends_with("apply fw_run 1 --query-service=https --add-service=https; apply fw_perm 1 --query-service=https --add-service=https; echo 'msg=changed service https to enabled'"),
            "{cmd}"
        );
        assert!(cmd.starts_with("check=; "), "{cmd}");
        // Without permanent, only the running configuration.
        let cmd = command(
            &args(json!({"port": "8081/tcp", "state": "disabled", "timeout": 30})),
            true,
        )
        .unwrap();
        assert!(cmd.starts_with("check=1; "), "{cmd}");
        assert!(
            cmd.contains("apply fw_run 0 --query-port=8081/tcp --remove-port=8081/tcp; echo"),
            "{cmd}"
        );
        assert!(!cmd.contains("apply fw_perm"), "{cmd}");
        // A value is one quoted word; the timeout goes with the running configuration's add.
        let timed = command(
            &args(json!({"rich_rule": "rule service name=\"ftp\" accept; $(reboot)", "state": "enabled", "timeout": 30})),
            false,
        )
        .unwrap();
        assert!(
            timed.contains("apply fw_run 1 --query-rich-rule='rule service name=\"ftp\" accept; $(reboot)' --add-rich-rule='rule service name=\"ftp\" accept; $(reboot)' --timeout=30s; "),
            "{timed}"
        );
    }

    #[test]
    fn offline_changes_the_permanent_configuration_with_the_offline_command() {
        let cmd = command(
            &args(json!({"masquerade": "yes", "zone": "external", "permanent": true, "offline": true, "state": "enabled"})),
            false,
        )
        .unwrap();
        assert!(
            cmd.contains("else fw_perm() { firewall-offline-cmd --zone=external \"$@\"; }; "),
            "{cmd}"
        );
        assert!(
            cmd.contains("apply fw_perm 1 --query-masquerade --add-masquerade; "),
            "{cmd}"
        );
        let forward = command(
            &args(json!({"port_forward": [{"port": 443, "proto": "tcp", "toport": "8443"}], "permanent": true, "state": "enabled"})),
            false,
        )
        .unwrap();
        assert!(
            forward.contains("apply fw_perm 1 --query-forward-port=port=443:proto=tcp:toport=8443 --add-forward-port=port=443:proto=tcp:toport=8443; "),
            "{forward}"
        );
    }

    #[test]
    fn what_ansible_refuses_is_refused() {
        for bad in [
            json!({"service": "http", "port": "80/tcp", "state": "enabled"}),
            json!({"port": "80", "state": "enabled"}),
            json!({"service": "http", "state": "present"}),
            json!({"zone": "custom", "state": "present"}),
            json!({"state": "present", "permanent": true}),
            json!({"interface": "eth0", "state": "enabled"}),
            json!({"source": "10.0.0.0/8", "state": "enabled"}),
            json!({"target": "ACCEPT", "zone": "internal", "state": "present"}),
            json!({"default": true, "zone": "trusted", "state": "enabled"}),
            json!({"port_forward": [{"port": 1, "proto": "sctp", "toport": 2}], "state": "enabled"}),
            json!({"port_forward": [{"port": 1, "proto": "tcp"}], "state": "enabled"}),
            json!({"service": "http", "timeout": 1.5, "state": "enabled"}),
        ] {
            assert!(command(&args(bad.clone()), false).is_err(), "{bad}");
        }
    }

    #[test]
    fn zones_targets_and_the_default_zone() {
        let zone = command(
            &args(json!({"zone": "custom", "permanent": true, "state": "present"})),
            false,
        )
        .unwrap();
        assert!(
            zone.contains("if fw_permbase --get-zones | tr ' ' '\\n' | grep -qx custom; then have=1; else have=0; fi; if [ \"$have\" != 1 ]; then echo changed; [ -n \"$check\" ] || fw_permbase --new-zone=custom >/dev/null || exit 1; fi; "),
            "{zone}"
        );
        let target = command(
            &args(json!({"zone": "internal", "target": "%%REJECT%%", "permanent": true, "state": "present"})),
            false,
        )
        .unwrap();
        assert!(
            target.contains("cur=$(fw_perm --get-target) || exit 1; if [ \"$cur\" != %%REJECT%% ]; then echo changed; [ -n \"$check\" ] || fw_perm --set-target=%%REJECT%% >/dev/null || exit 1; fi; "),
            "{target}"
        );
        let back = command(
            &args(
                json!({"zone": "trusted", "default": true, "permanent": true, "state": "disabled"}),
            ),
            false,
        )
        .unwrap();
        assert!(back.contains("--set-default-zone=public"), "{back}");
    }
}
