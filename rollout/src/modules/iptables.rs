//! iptables (ansible.builtin): one rule made present (appended, or inserted at a position) or
//! absent in a chain, a chain's policy set, or a chain flushed, as ansible-core's module does
//! it: the rule's words in the module's order, `iptables -C` to tell whether it is there. One
//! round trip.

use drover_ssh::shell::quote;
use serde_json::{Value as Json, json};

use super::{Args, ModuleCtx, Outcome};

/// `flag value`, or `! flag value` for a value written `!value`; each item of a list.
fn param(rule: &mut Vec<String>, value: Option<&Json>, flag: &str) {
    let words: Vec<String> = match value {
        None | Some(Json::Null) => return,
        Some(Json::Array(items)) => items.iter().map(text).collect(),
        Some(v) => vec![text(v)],
    };
    for word in words {
        match word.strip_prefix('!') {
            Some(rest) => rule.extend(["!".to_string(), flag.to_string(), rest.to_string()]),
            None => rule.extend([flag.to_string(), word]),
        }
    }
}

use super::scalar_text as text;

/// `-m name` when `present`.
fn with_match(rule: &mut Vec<String>, present: bool, name: &str) {
    if present {
        rule.extend(["-m".to_string(), name.to_string()]);
    }
}

/// `flag a,b,c` for a non-empty list.
fn csv(rule: &mut Vec<String>, items: &[String], flag: &str) {
    if !items.is_empty() {
        rule.extend([flag.to_string(), items.join(",")]);
    }
}

/// The rule's words, in the order ansible-core's `construct_rule` puts them.
pub fn rule(args: &Args) -> Vec<String> {
    let a = |k: &str| args.0.get(k).filter(|v| !v.is_null());
    let has = |k: &str| a(k).is_some();
    let matches = args.list("match");
    let mut r = Vec::new();
    param(&mut r, a("wait"), "-w");
    param(&mut r, a("protocol"), "-p");
    param(&mut r, a("source"), "-s");
    param(&mut r, a("destination"), "-d");
    param(&mut r, a("match"), "-m");
    if let Some(Json::Object(tcp)) = a("tcp_flags") {
        let list = |k: &str| tcp.get(k).map(super::json_words).unwrap_or_default();
        if tcp.contains_key("flags") && tcp.contains_key("flags_set") {
            r.extend([
                "--tcp-flags".into(),
                list("flags").join(","),
                list("flags_set").join(","),
            ]);
        }
    }
    param(&mut r, a("jump"), "-j");
    if args
        .str("jump")
        .is_some_and(|j| j.eq_ignore_ascii_case("tee"))
    {
        param(&mut r, a("gateway"), "--gateway");
    }
    param(&mut r, a("log_prefix"), "--log-prefix");
    param(&mut r, a("log_level"), "--log-level");
    param(&mut r, a("to_destination"), "--to-destination");
    let dports = args.list("destination_ports");
    with_match(&mut r, !dports.is_empty(), "multiport");
    csv(&mut r, &dports, "--dports");
    param(&mut r, a("to_source"), "--to-source");
    param(&mut r, a("goto"), "-g");
    param(&mut r, a("in_interface"), "-i");
    param(&mut r, a("out_interface"), "-o");
    param(&mut r, a("fragment"), "-f");
    param(&mut r, a("set_counters"), "-c");
    param(&mut r, a("source_port"), "--source-port");
    param(&mut r, a("destination_port"), "--destination-port");
    param(&mut r, a("to_ports"), "--to-ports");
    param(&mut r, a("set_dscp_mark"), "--set-dscp");
    param(&mut r, a("set_dscp_mark_class"), "--set-dscp-class");
    match args.str("syn").as_deref() {
        Some("match") => r.push("--syn".into()),
        Some("negate") => r.extend(["!".into(), "--syn".into()]),
        _ => {}
    }
    let ctstate = args.list("ctstate");
    if matches.iter().any(|m| m == "conntrack") {
        csv(&mut r, &ctstate, "--ctstate");
    } else if matches.iter().any(|m| m == "state") {
        csv(&mut r, &ctstate, "--state");
    } else if !ctstate.is_empty() {
        with_match(&mut r, true, "conntrack");
        csv(&mut r, &ctstate, "--ctstate");
    }
    if matches.iter().any(|m| m == "iprange") || has("src_range") || has("dst_range") {
        with_match(&mut r, !matches.iter().any(|m| m == "iprange"), "iprange");
        param(&mut r, a("src_range"), "--src-range");
        param(&mut r, a("dst_range"), "--dst-range");
    }
    with_match(&mut r, has("limit") || has("limit_burst"), "limit");
    param(&mut r, a("limit"), "--limit");
    param(&mut r, a("limit_burst"), "--limit-burst");
    with_match(&mut r, has("uid_owner"), "owner");
    param(&mut r, a("uid_owner"), "--uid-owner");
    with_match(&mut r, has("gid_owner"), "owner");
    param(&mut r, a("gid_owner"), "--gid-owner");
    if !has("jump") && has("reject_with") {
        r.extend(["-j".into(), "REJECT".into()]);
    }
    param(&mut r, a("reject_with"), "--reject-with");
    let icmp = if args.str("ip_version").as_deref() == Some("ipv6") {
        "--icmpv6-type"
    } else {
        "--icmp-type"
    };
    param(&mut r, a("icmp_type"), icmp);
    with_match(&mut r, has("comment"), "comment");
    param(&mut r, a("comment"), "--comment");
    r
}

/// The script: prints `changed` when it changes (under --check: would change) the chain.
pub fn command(args: &Args, check: bool) -> Result<String, String> {
    let bin = match args.str("ip_version").as_deref() {
        None | Some("ipv4") => "iptables",
        Some("ipv6") => "ip6tables",
        Some(other) => return Err(format!("`ip_version: {other}` is not ipv4 or ipv6")),
    };
    let table = args.str("table").unwrap_or_else(|| "filter".into());
    let chain = args.str("chain");
    let flush = args.bool("flush") == Some(true);
    if flush && args.str("policy").is_some() {
        return Err("parameters are mutually exclusive: flush|policy".into());
    }
    if args.str("set_dscp_mark").is_some() && args.str("set_dscp_mark_class").is_some() {
        return Err("parameters are mutually exclusive: set_dscp_mark|set_dscp_mark_class".into());
    }
    if args
        .str("jump")
        .is_some_and(|j| j.eq_ignore_ascii_case("tee"))
        && args.str("gateway").is_none()
    {
        return Err("jump is TEE but all of the following are missing: gateway".into());
    }
    let mut args = Args(args.0.clone());
    if args.str("log_prefix").is_some() || args.str("log_level").is_some() {
        match args.str("jump").as_deref() {
            None => {
                args.0.insert("jump".into(), json!("LOG"));
            }
            Some("LOG") => {}
            Some(_) => {
                return Err("Logging options can only be used with the LOG jump target.".into());
            }
        }
    }
    let act = |cmd: String| {
        if check {
            "echo changed".to_string()
        } else {
            format!("{cmd} && echo changed")
        }
    };
    let ipt = format!("{bin} -t {}", quote(&table));
    if flush {
        let chain = chain.map_or_else(String::new, |c| format!(" {}", quote(&c)));
        return Ok(act(format!("{ipt} -F{chain}")));
    }
    let chain = quote(&chain.ok_or("Either chain or flush parameter must be specified.")?);
    if let Some(policy) = args.str("policy") {
        let p = quote(&policy);
        let set = act(format!("{ipt} -P {chain} {p}"));
        return Ok(format!(
            "cur=$({ipt} -L {chain} | head -n1 | sed -n 's/.*(policy \\([A-Z]*\\)).*/\\1/p'); \
             [ -n \"$cur\" ] || {{ echo \"Can't detect current policy\" >&2; exit 1; }}; \
             [ \"$cur\" = {p} ] || {{ {set}; }}"
        ));
    }
    let words: String = rule(&args)
        .iter()
        .map(|w| format!(" {}", quote(w)))
        .collect();
    let present = format!("{ipt} -C {chain}{words} 2>/dev/null");
    Ok(match args.str("state").as_deref() {
        None | Some("present") => {
            let add = match (args.str("action").as_deref(), args.str("rule_num")) {
                (Some("insert"), Some(n)) => format!("{ipt} -I {chain} {}{words}", quote(&n)),
                (Some("insert"), None) => format!("{ipt} -I {chain}{words}"),
                _ => format!("{ipt} -A {chain}{words}"),
            };
            format!("{present} || {{ {}; }}", act(add))
        }
        Some("absent") => format!(
            "! {present} || {{ {}; }}",
            act(format!("{ipt} -D {chain}{words}"))
        ),
        Some(other) => return Err(format!("`state: {other}` is not present or absent")),
    })
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let mut out = ctx.built_script(command(args, ctx.check), "iptables").await;
    if !out.failed {
        for key in ["chain", "table", "state", "ip_version"] {
            out.result.insert(key.into(), json!(args.str(key)));
        }
        out.result
            .insert("flush".into(), json!(args.bool("flush").unwrap_or(false)));
        out.result
            .insert("rule".into(), json!(rule(args).join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;

    #[test]
    fn the_rule_is_in_ansibles_order() {
        let a = args(
            json!({"chain": "INPUT", "protocol": "tcp", "destination_port": "22", "ctstate": ["NEW"], "source": "!10.0.0.0/8", "jump": "ACCEPT", "comment": "ssh in"}),
        );
        assert_eq!(
            rule(&a),
            [
                "-p",
                "tcp",
                "!",
                "-s",
                "10.0.0.0/8",
                "-j",
                "ACCEPT",
                "--destination-port",
                "22",
                "-m",
                "conntrack",
                "--ctstate",
                "NEW",
                "-m",
                "comment",
                "--comment",
                "ssh in"
            ]
        );
        assert_eq!(
            command(&a, false).unwrap(),
            "iptables -t filter -C INPUT -p tcp '!' -s 10.0.0.0/8 -j ACCEPT --destination-port 22 -m conntrack --ctstate NEW -m comment --comment 'ssh in' 2>/dev/null || { iptables -t filter -A INPUT -p tcp '!' -s 10.0.0.0/8 -j ACCEPT --destination-port 22 -m conntrack --ctstate NEW -m comment --comment 'ssh in' && echo changed; }"
        );
        let ports = args(
            json!({"chain": "INPUT", "protocol": "tcp", "destination_ports": ["80", "443"], "jump": "ACCEPT", "action": "insert", "rule_num": "1", "state": "present"}),
        );
        assert!(
            command(&ports, false)
                .unwrap()
                .contains("-I INPUT 1 -p tcp -j ACCEPT -m multiport --dports 80,443")
        );
    }

    #[test]
    fn policy_flush_and_the_modules_rules() {
        let policy = command(&args(json!({"chain": "FORWARD", "policy": "DROP"})), true).unwrap();
        assert!(
            policy.ends_with("[ \"$cur\" = DROP ] || { echo changed; }"),
            "{policy}"
        );
        assert_eq!(
            command(&args(json!({"flush": true, "table": "nat"})), false).unwrap(),
            "iptables -t nat -F && echo changed"
        );
        assert!(
            command(&args(json!({"protocol": "tcp"})), false)
                .unwrap_err()
                .contains("Either chain or flush")
        );
        assert!(
            command(
                &args(json!({"chain": "INPUT", "log_prefix": "x", "jump": "DROP"})),
                false
            )
            .unwrap_err()
            .contains("LOG jump")
        );
        let log = command(
            &args(json!({"chain": "INPUT", "log_prefix": "in: ", "ip_version": "ipv6"})),
            false,
        )
        .unwrap();
        assert!(
            log.starts_with("ip6tables -t filter -C INPUT -j LOG --log-prefix 'in: '"),
            "{log}"
        );
    }
}
