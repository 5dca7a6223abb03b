//! ufw: the host's firewall through its own `ufw` command, as community.general.ufw drives it:
//! `state`, `default` (with `direction`), a `rule` in ufw's long form, `logging`, in that order.
//! What changed is what `ufw status verbose` and the rules files' `### tuple` lines say before and
//! after; in check mode a rule is tried with `--dry-run` (ufw says "Skipping" for one it has) and
//! the rest is read from the status. One round trip.

use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome};

/// Where ufw keeps the rules it was given (the first two on older releases).
const RULE_FILES: &str =
    "/lib/ufw/user.rules /lib/ufw/user6.rules /etc/ufw/user.rules /etc/ufw/user6.rules";

/// ufw's status and its rules, to tell whether anything changed.
fn snapshot() -> String {
    format!(
        "{{ ufw status verbose; grep -h '^### tuple' {RULE_FILES} 2>/dev/null || true; }} | sha256sum"
    )
}

/// The first parameter of each alias group that is set.
fn first(args: &Args, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| args.str(k))
}

/// `insert NUM` for a rule, counted as `insert_relative_to` says from `ufw status numbered` (the
/// shell variable `$ins` holds the result, empty when the place is past the last rule: ufw then
/// appends, as Ansible's module does).
fn insert_script(insert: u64, relative_to: &str) -> Result<String, String> {
    if relative_to == "zero" {
        return Ok(format!("ins={insert}; "));
    }
    let rel = match relative_to {
        "first-ipv4" => "1",
        "last-ipv4" => "(has4 ? max4 : 1)",
        "first-ipv6" => "(has4 ? max4 + 1 : 1)",
        "last-ipv6" => "(has6 ? last : last + 1)",
        other => {
            return Err(format!(
                "`insert_relative_to`: `{other}` is not one of zero, first-ipv4, last-ipv4, first-ipv6, last-ipv6"
            ));
        }
    };
    Ok(format!(
        "ins=$(ufw status numbered | awk -v n={insert} '/^\\[ *[0-9]+\\] / {{ sub(/^\\[ */, \"\"); k = $0 + 0; \
         if (k > last) last = k; if (/\\(v6\\)/) has6 = 1; else {{ has4 = 1; if (k > max4) max4 = k }} }} \
         END {{ t = n + {rel}; if (t <= last) print t }}'); "
    ))
}

/// The rule's words after `ufw`, each quoted; `$ins` when it is inserted.
fn rule_words(args: &Args, action: &str) -> Result<String, String> {
    let direction = args.str("direction");
    if let Some(d) = &direction
        && !matches!(d.as_str(), "in" | "out")
    {
        return Err(format!(
            "for a rule, `direction` must be in or out, not `{d}`"
        ));
    }
    let interface = first(args, &["interface", "if"]);
    let if_in = first(args, &["interface_in", "if_in"]);
    let if_out = first(args, &["interface_out", "if_out"]);
    if interface.is_some() && (if_in.is_some() || if_out.is_some()) {
        return Err("`interface` cannot go with `interface_in` or `interface_out`".into());
    }
    let route = args.bool("route") == Some(true);
    if !route && if_in.is_some() && if_out.is_some() {
        return Err(
            "only a routed rule (`route: true`) takes both `interface_in` and `interface_out`"
                .into(),
        );
    }
    let mut words: Vec<String> = Vec::new();
    if route {
        words.push("route".into());
    }
    if args.bool("delete") == Some(true) {
        words.push("delete".into());
    }
    if args.num("insert").is_some() {
        words.push("${ins:+insert $ins}".into());
    }
    words.push(quote(action));
    if let Some(d) = direction {
        words.push(quote(&d));
    }
    for (value, head) in [(interface, "on"), (if_in, "in on"), (if_out, "out on")] {
        if let Some(v) = value {
            words.push(format!("{head} {}", quote(&v)));
        }
    }
    if args.bool("log") == Some(true) {
        words.push("log".into());
    }
    let from = first(args, &["from_ip", "from", "src"]).unwrap_or_else(|| "any".into());
    let to = first(args, &["to_ip", "to", "dest"]).unwrap_or_else(|| "any".into());
    words.push(format!("from {}", quote(&from)));
    if let Some(p) = args.str("from_port") {
        words.push(format!("port {}", quote(&p)));
    }
    words.push(format!("to {}", quote(&to)));
    if let Some(p) = first(args, &["to_port", "port"]) {
        words.push(format!("port {}", quote(&p)));
    }
    if let Some(p) = first(args, &["proto", "protocol"]) {
        words.push(format!("proto {}", quote(&p)));
    }
    if let Some(app) = first(args, &["name", "app"]) {
        words.push(format!("app {}", quote(&app)));
    }
    if let Some(c) = args.str("comment") {
        words.push(format!("comment {}", quote(&c)));
    }
    Ok(words.join(" "))
}

/// Check mode for a rule, as Ansible's module decides it: ufw's `--dry-run` says only "Skipping"
/// for a rule it has; otherwise the `### tuple` lines it would write are held against today's (for
/// a rule with an IPv4 or IPv6 address, only that family's: the dry run shows only its file).
fn dry_run_check(args: &Args, words: &str) -> String {
    let family = |ip: Option<String>| {
        let ip = ip.unwrap_or_default();
        let addr = ip.split('/').next().unwrap_or_default();
        if addr.parse::<std::net::Ipv4Addr>().is_ok() {
            Some("grep -E '([0-9]{1,3}\\.){3}[0-9]{1,3}'")
        } else if addr.parse::<std::net::Ipv6Addr>().is_ok() {
            Some("grep -E '::|[0-9a-fA-F]+:[0-9a-fA-F]+:'")
        } else {
            None
        }
    };
    let filter = family(first(args, &["from_ip", "from", "src"]))
        .or_else(|| family(first(args, &["to_ip", "to", "dest"])))
        .unwrap_or("cat");
    format!(
        "out=$(ufw --dry-run {words}); skip=$(printf '%s\\n' \"$out\" | grep -c Skipping || true); \
         all=$(printf '%s\\n' \"$out\" | grep -c '' || true); \
         if [ \"$skip\" -eq 0 ] || [ \"$skip\" -ne \"$all\" ]; then \
         now=$(grep -h '^### tuple' {RULE_FILES} 2>/dev/null | {filter} || true); \
         would=$(printf '%s\\n' \"$out\" | grep '^### tuple' | {filter} || true); \
         [ \"$now\" = \"$would\" ] || echo changed; fi; "
    )
}

/// The script: runs each asked command, then prints `changed` when ufw's status or rules differ
/// (in check mode: when they would), and `reload`/`reset` always change, as Ansible reports them.
pub fn command(args: &Args, check: bool) -> Result<String, String> {
    let state = args.str("state");
    let default = first(args, &["default", "policy"]);
    let rule = args.str("rule");
    let logging = args.str("logging");
    if state.is_none() && default.is_none() && rule.is_none() && logging.is_none() {
        return Err("ufw needs one of `state`, `default`, `rule` or `logging`".into());
    }
    let mut script = String::from(
        "command -v ufw >/dev/null || { echo 'ufw is not installed on the host' >&2; exit 1; }; set -e; ",
    );
    script.push_str(&format!(
        "pre=$({}); st=$(ufw status verbose); ",
        snapshot()
    ));
    if let Some(state) = &state {
        let verb = match state.as_str() {
            "enabled" => "enable",
            "disabled" => "disable",
            "reloaded" => "reload",
            "reset" => "reset",
            other => {
                return Err(format!(
                    "`state`: `{other}` is not one of enabled, disabled, reloaded, reset"
                ));
            }
        };
        if matches!(verb, "reload" | "reset") {
            script.push_str("echo changed; ");
        }
        if check {
            // " active" and not "inactive": the status's first line.
            match verb {
                "enable" => {
                    script.push_str("case \"$st\" in *' active'*) ;; *) echo changed;; esac; ")
                }
                "disable" => script.push_str("case \"$st\" in *' active'*) echo changed;; esac; "),
                _ => {}
            }
        } else {
            script.push_str(&format!("ufw -f {verb} >/dev/null; "));
        }
    }
    if let Some(policy) = &default {
        let direction = args.str("direction");
        let dir = direction.as_deref().unwrap_or("incoming");
        let dir = match dir {
            "in" | "incoming" => "incoming",
            "out" | "outgoing" => "outgoing",
            "routed" => "routed",
            other => {
                return Err(format!(
                    "for `default`, `direction` must be incoming, outgoing or routed, not `{other}`"
                ));
            }
        };
        if check {
            let group = match dir {
                "incoming" => 1,
                "outgoing" => 2,
                _ => 3,
            };
            script.push_str(&format!(
                "cur=$(printf '%s\\n' \"$st\" | sed -n 's/^Default: \\([a-z]*\\) (incoming), \\([a-z]*\\) (outgoing), \\([a-z]*\\) (routed).*/\\{group}/p'); \
                 case \"$cur\" in {p}|disabled) ;; *) echo changed;; esac; ",
                p = quote(policy)
            ));
        } else {
            let dir_word = direction.map_or_else(String::new, |_| format!(" {dir}"));
            script.push_str(&format!(
                "ufw default {}{dir_word} >/dev/null; ",
                quote(policy)
            ));
        }
    }
    if let Some(action) = &rule {
        if let Some(n) = args.num("insert") {
            if n < 0.0 || n.fract() != 0.0 {
                return Err(format!("`insert`: {n} is not a rule number"));
            }
            let rel = args
                .str("insert_relative_to")
                .unwrap_or_else(|| "zero".into());
            script.push_str(&insert_script(n as u64, &rel)?);
        }
        let words = rule_words(args, action)?;
        if check {
            script.push_str(&dry_run_check(args, &words));
        } else {
            script.push_str(&format!("ufw {words} >/dev/null; "));
        }
    }
    if let Some(level) = &logging {
        if check {
            script.push_str(&format!(
                "cur=$(printf '%s\\n' \"$st\" | sed -n 's/^Logging: \\(on\\|off\\)\\( (\\([a-z]*\\))\\)\\{{0,1\\}}$/\\1 \\3/p'); \
                 want={l}; case \"$want:$cur\" in off:off*) ;; off:*) echo changed;; *:off*|*:) echo changed;; on:on*) ;; *) [ \"$cur\" = \"on $want\" ] || echo changed;; esac; ",
                l = quote(level)
            ));
        } else {
            script.push_str(&format!("ufw logging {} >/dev/null; ", quote(level)));
        }
    }
    if !check {
        script.push_str(&format!(
            "post=$({}); [ \"$pre\" = \"$post\" ] || echo changed",
            snapshot()
        ));
    } else {
        script.push_str("true");
    }
    Ok(script)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match command(args, ctx.check) {
        Ok(c) => c,
        Err(e) => return Outcome::bad_input(format!("ufw: {e}")),
    };
    let mut outcome = ctx.change_script(&cmd, b"", "ufw").await;
    if !outcome.failed {
        outcome.result.insert("commands".into(), json!([cmd]));
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::modules::args;

    #[test]
    fn a_rule_is_ufw_s_long_form_with_every_value_quoted() {
        let a = args(
            json!({"rule": "allow", "port": "22", "proto": "tcp", "from_ip": "10.0.0.0/8", "comment": "ssh; rm -rf /"}),
        );
        let cmd = command(&a, false).unwrap();
        assert!(
            cmd.contains("ufw allow from 10.0.0.0/8 to any port 22 proto tcp comment 'ssh; rm -rf /' >/dev/null; "),
            "{cmd}"
        );
        assert!(
            cmd.ends_with("[ \"$pre\" = \"$post\" ] || echo changed"),
            "{cmd}"
        );
        let checked = command(&a, true).unwrap();
        assert!(
            checked.contains("out=$(ufw --dry-run allow from 10.0.0.0/8 to any port 22 proto tcp comment 'ssh; rm -rf /'); "),
            "{checked}"
        );
        assert!(!checked.contains("ufw allow"), "{checked}");
        let routed = command(
            &args(json!({"rule": "allow", "route": true, "interface_in": "eth0", "interface_out": "wg0", "delete": true})),
            false,
        )
        .unwrap();
        assert!(
            routed.contains(
                "ufw route delete allow in on eth0 out on wg0 from any to any >/dev/null"
            ),
            "{routed}"
        );
    }

    #[test]
    fn bad_combinations_are_refused_as_ansible_refuses_them() {
        for bad in [
            json!({"rule": "allow", "direction": "incoming"}),
            json!({"rule": "allow", "interface": "eth0", "interface_in": "eth1"}),
            json!({"rule": "allow", "interface_in": "eth0", "interface_out": "eth1"}),
            json!({"default": "deny", "direction": "in-ish"}),
            json!({"rule": "allow", "insert": 1, "insert_relative_to": "middle"}),
            json!({"comment": "nothing to do"}),
        ] {
            assert!(command(&args(bad.clone()), false).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_insert_counts_from_the_numbered_status() {
        let cmd = command(
            &args(json!({"rule": "deny", "insert": 0, "insert_relative_to": "first-ipv6", "port": "53"})),
            false,
        )
        .unwrap();
        assert!(
            cmd.contains("END { t = n + (has4 ? max4 + 1 : 1); if (t <= last) print t }'); "),
            "{cmd}"
        );
        assert!(
            cmd.contains("ufw ${ins:+insert $ins} deny from any to any port 53"),
            "{cmd}"
        );
    }
}
