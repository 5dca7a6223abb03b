//! seport (community.general): SELinux port types with semanage, added (`-a`, or `-m` for a port
//! another type holds) or deleted only where `semanage port -l` says otherwise, as the module
//! decides it. SELinux cannot run in the test fleet's containers: the plans are unit-tested and,
//! on the fleet, a host without semanage fails the task as the module does without its library.

use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome};

const NO_TOOLS: &str = "semanage is not on this host: install policycoreutils-python-utils, as the module needs seobject";

/// `semanage port -l` as records: (type, protocol, ports as written: `22`, `8080-8090`).
fn records(listing: &str) -> Vec<(String, String, Vec<String>)> {
    listing
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (kind, proto) = (words.next()?, words.next()?);
            if !matches!(proto, "tcp" | "udp" | "dccp" | "sctp") {
                return None;
            }
            let ports: Vec<String> = words
                .collect::<Vec<_>>()
                .join(" ")
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            Some((kind.to_string(), proto.to_string(), ports))
        })
        .collect()
}

/// The semanage commands the task needs, given the listing of every record (`all`) and of the
/// ones it compares with (`mine`: the local ones with `local: true`).
fn commands(args: &Args, all: &str, mine: &str) -> Result<Vec<String>, String> {
    let setype = args.str("setype").ok_or("needs `setype`")?;
    let proto = args.str("proto").ok_or("needs `proto`")?;
    let ports = args.list("ports");
    if ports.is_empty() {
        return Err("needs `ports`".into());
    }
    let noreload = if args.bool("reload") == Some(false) {
        " -N"
    } else {
        ""
    };
    let held: Vec<String> = records(mine)
        .into_iter()
        .filter(|(k, p, _)| *k == setype && *p == proto)
        .flat_map(|(_, _, ports)| ports)
        .collect();
    let all = records(all);
    let (t, p) = (quote(&setype), quote(&proto));
    let mut out = Vec::new();
    for port in &ports {
        let has = held.contains(port);
        match args.str("state").as_deref().unwrap_or("present") {
            "present" if !has => {
                let typed = all
                    .iter()
                    .any(|(_, pr, ps)| *pr == proto && ps.contains(port));
                let op = if typed { "-m" } else { "-a" };
                out.push(format!(
                    "semanage port {op}{noreload} -t {t} -p {p} {}",
                    quote(port)
                ));
            }
            "absent" if has => {
                out.push(format!("semanage port -d{noreload} -p {p} {}", quote(port)));
            }
            "present" | "absent" => {}
            other => return Err(format!("`state: {other}` is not present or absent")),
        }
    }
    Ok(out)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let enabled = if args.bool("ignore_selinux_state") == Some(true) {
        String::new()
    } else {
        "selinuxenabled || { echo 'SELinux is disabled on this host.' >&2; exit 1; }; ".into()
    };
    let local = if args.bool("local") == Some(true) {
        " -C"
    } else {
        ""
    };
    let probe = format!(
        "command -v semanage >/dev/null 2>&1 || {{ echo {} >&2; exit 1; }}; {enabled}\
         semanage port -l && echo '##drover-local' && semanage port -l{local}",
        quote(NO_TOOLS)
    );
    let listing = match ctx.output_of(&probe, "seport").await {
        Ok(out) => String::from_utf8_lossy(&out).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    let (all, mine) = listing
        .split_once("##drover-local\n")
        .unwrap_or((&listing, ""));
    let steps = match commands(args, all, mine) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(format!("seport: {e}")),
    };
    if !steps.is_empty()
        && !ctx.check
        && let Err(e) = ctx.output_of(&steps.join(" && "), "seport").await
    {
        return Outcome::fail(e);
    }
    let mut out = Outcome {
        changed: !steps.is_empty(),
        ..Outcome::default()
    };
    for key in ["proto", "setype", "state"] {
        out.result.insert(key.into(), json!(args.str(key)));
    }
    out.result.insert("ports".into(), json!(args.list("ports")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;

    const LISTING: &str = "SELinux Port Type              Proto    Port Number\n\nhttp_port_t                    tcp      80, 81, 443, 8008\nssh_port_t                     tcp      22\nunreserved_port_t              tcp      1024-32767, 32768-60999\n";

    #[test]
    fn ports_change_only_where_semanage_says_otherwise() {
        let ssh = args(json!({"ports": ["22", "2222"], "proto": "tcp", "setype": "ssh_port_t"}));
        assert_eq!(
            commands(&ssh, LISTING, LISTING).unwrap(),
            ["semanage port -a -t ssh_port_t -p tcp 2222"]
        );
        let moved =
            args(json!({"ports": "8008", "proto": "tcp", "setype": "ssh_port_t", "reload": false}));
        assert_eq!(
            commands(&moved, LISTING, LISTING).unwrap(),
            ["semanage port -m -N -t ssh_port_t -p tcp 8008"]
        );
        let gone = args(
            json!({"ports": ["22", "2222"], "proto": "tcp", "setype": "ssh_port_t", "state": "absent"}),
        );
        assert_eq!(
            commands(&gone, LISTING, LISTING).unwrap(),
            ["semanage port -d -p tcp 22"]
        );
        assert!(
            commands(&gone, LISTING, "").unwrap().is_empty(),
            "only local records with local: true"
        );
        assert_eq!(records(LISTING)[2].2, ["1024-32767", "32768-60999"]);
    }
}
