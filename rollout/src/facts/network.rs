//! The network collector: every interface from /sys/class/net with its addresses from `ip`, the
//! default IPv4 and IPv6 routes as `ip route get` finds them, as Ansible's LinuxNetwork does.
//! Without `ip` on the host there are no network facts, as under Ansible.

use std::net::Ipv4Addr;

use serde_json::{Map, Value as Json, json};

use super::Fields;

/// One `grep` reads every interface's small /sys files; links and bridge ports are listed by the
/// shell's own globbing (no process per interface).
pub(super) const COMMAND: &str = r#"if command -v ip >/dev/null 2>&1; then echo ip=1
ip -4 route get 8.8.8.8 2>/dev/null | sed -n '1s/^/route4=/p'; ip -6 route get 2404:6800:400a:800::1012 2>/dev/null | sed -n '1s/^/route6=/p'
ip -o addr show 2>/dev/null | sed 's/^/addr=/'; ip -4 route show table local 2>/dev/null | sed 's/^/localroute=/'; ip -6 route show table local 2>/dev/null | sed 's/^/localroute=/'
for i in /sys/class/net/*; do [ -d "$i" ] && echo "if=${i##*/}"; done
grep -s -H '' /sys/class/net/*/address /sys/class/net/*/mtu /sys/class/net/*/operstate /sys/class/net/*/type /sys/class/net/*/flags /sys/class/net/*/speed /sys/class/net/*/bridge/bridge_id /sys/class/net/*/bridge/stp_state /sys/class/net/*/bonding/slaves /sys/class/net/*/bonding/mode /sys/class/net/*/bonding/miimon /sys/class/net/*/bonding/lacp_rate /sys/class/net/*/bonding/primary /sys/class/net/*/bonding/all_slaves_active /sys/class/net/*/bonding_slave/perm_hwaddr | sed 's/^/sys=/'
for d in /sys/class/net/*/device; do [ -e "$d" ] && echo "pci=$d $(readlink "$d")" && [ -e "$d/driver/module" ] && echo "module=$d $(readlink -f "$d/driver/module")"; done
for b in /sys/class/net/*/brif/*; do [ -e "$b" ] && echo "brif=$b"; done; fi"#;

/// The kernel's ARPHRD numbers Ansible names.
fn link_type(n: &str) -> &'static str {
    match n {
        "1" => "ether",
        "32" => "infiniband",
        "512" => "ppp",
        "772" => "loopback",
        "65534" => "tunnel",
        _ => "unknown",
    }
}

/// What interface `dev`'s /sys file `file` holds.
fn sys_value<'a>(f: &Fields<'a>, dev: &str, file: &str) -> Option<&'a str> {
    f.file("sys", &format!("/sys/class/net/{dev}/{file}"))
}

/// What `ip route get` says: the interface, source address and gateway.
fn route(line: &str, target: &str) -> Map<String, Json> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut out = Map::new();
    if words.first() != Some(&target) {
        return out;
    }
    for pair in words.windows(2) {
        match pair[0] {
            "dev" => out.insert("interface".into(), json!(pair[1])),
            "src" => out.insert("address".into(), json!(pair[1])),
            "via" if pair[1] != target => out.insert("gateway".into(), json!(pair[1])),
            _ => None,
        };
    }
    out
}

/// An IPv4 address of `ip addr`'s: address, broadcast, netmask, network, prefix.
fn ipv4_entry(words: &[&str]) -> Option<(String, Json)> {
    let (address, prefix) = match words.get(1)?.split_once('/') {
        Some((a, p)) => (a, p),
        None => (*words.get(1)?, "32"),
    };
    let broadcast = if words.len() > 3 && words[2] == "brd" {
        words[3]
    } else {
        ""
    };
    let ip: Ipv4Addr = address.parse().ok()?;
    let bits: u32 = prefix.parse().ok()?;
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits.min(32))
    };
    Some((
        address.to_string(),
        json!({
            "address": address, "broadcast": broadcast,
            "netmask": Ipv4Addr::from(mask).to_string(),
            "network": Ipv4Addr::from(u32::from(ip) & mask).to_string(),
            "prefix": prefix,
        }),
    ))
}

pub(super) fn parse(f: &Fields, facts: &mut Map<String, Json>) {
    if !f.has("ip") {
        return;
    }
    let v4_target = "8.8.8.8";
    let v6_target = "2404:6800:400a:800::1012";
    let mut default4 = route(f.get("route4"), v4_target);
    let mut default6 = route(f.get("route6"), v6_target);
    let mut interfaces: Vec<(String, Map<String, Json>)> = Vec::new();
    let (mut all4, mut all6) = (Vec::new(), Vec::new());
    for dev in f.all("if").map(str::trim) {
        let mut i = Map::new();
        i.insert("device".into(), json!(dev));
        let raw_mac = sys_value(f, dev, "address").unwrap_or_default();
        if !raw_mac.is_empty() && raw_mac != "00:00:00:00:00:00" {
            i.insert("macaddress".into(), json!(raw_mac));
        }
        let mtu = sys_value(f, dev, "mtu").and_then(|m| m.parse::<u64>().ok());
        if let Some(mtu) = mtu {
            i.insert("mtu".into(), json!(mtu));
        }
        if let Some(state) = sys_value(f, dev, "operstate") {
            i.insert("active".into(), json!(state != "down"));
        }
        let module = format!("/sys/class/net/{dev}/device ");
        if let Some(m) = f
            .all("module")
            .find_map(|l| l.strip_prefix(module.as_str()))
        {
            i.insert("module".into(), json!(m.rsplit('/').next().unwrap_or(m)));
        }
        if let Some(t) = sys_value(f, dev, "type") {
            i.insert("type".into(), json!(link_type(t)));
        }
        bridge_and_bond(f, dev, &mut i);
        if let Some(p) = f.all("pci").find_map(|l| l.strip_prefix(module.as_str())) {
            i.insert("pciid".into(), json!(p.rsplit('/').next().unwrap_or(p)));
        }
        if let Some(speed) = sys_value(f, dev, "speed").and_then(|s| s.parse::<i64>().ok()) {
            i.insert("speed".into(), json!(speed));
        }
        if let Some(flags) = sys_value(f, dev, "flags") {
            let n = u64::from_str_radix(flags.trim_start_matches("0x"), 16).unwrap_or(0);
            i.insert("promisc".into(), json!(n & 0x100 != 0));
        }
        let kind = i.get("type").cloned().unwrap_or(json!("unknown"));
        let mut aliases: Vec<(String, Map<String, Json>)> = Vec::new();
        for line in f.all("addr") {
            // `N: DEV    inet ... scope global LABEL\       valid_lft ...`
            let mut head = line.split_whitespace();
            let (Some(_), Some(name)) = (head.next(), head.next()) else {
                continue;
            };
            if name != dev {
                continue;
            }
            let body = line.split_once('\\').map_or(line, |(b, _)| b);
            let words: Vec<&str> = body.split_whitespace().skip(2).collect();
            match words.first() {
                Some(&"inet") => {
                    let Some((address, entry)) = ipv4_entry(&words) else {
                        continue;
                    };
                    let label = *words.last().unwrap_or(&dev);
                    let secondary = words.contains(&"secondary");
                    let target = if label == dev {
                        &mut i
                    } else {
                        aliases.push((label.to_string(), Map::new()));
                        &mut aliases.last_mut().expect("just pushed").1
                    };
                    if !secondary && !target.contains_key("ipv4") {
                        target.insert("ipv4".into(), entry.clone());
                    } else {
                        push(target, "ipv4_secondaries", entry.clone());
                    }
                    if secondary && label != dev {
                        push(&mut i, "ipv4_secondaries", entry.clone());
                    }
                    if default4.get("address") == Some(&json!(address)) {
                        if let Json::Object(e) = &entry {
                            for k in ["broadcast", "netmask", "network", "prefix"] {
                                default4.insert(k.into(), e[k].clone());
                            }
                        }
                        default4.insert("macaddress".into(), json!(raw_mac));
                        default4.insert("mtu".into(), json!(mtu));
                        default4.insert("type".into(), kind.clone());
                        default4.insert("alias".into(), json!(label));
                    }
                    if !address.starts_with("127.") {
                        all4.push(json!(address));
                    }
                }
                Some(&"inet6") => {
                    let (address, prefix, scope) = if words.get(2) == Some(&"peer") {
                        let prefix = words.get(3).and_then(|p| p.split_once('/')).map(|p| p.1);
                        (words.get(1).copied(), prefix, words.get(5).copied())
                    } else {
                        let (a, p) = words.get(1).and_then(|w| w.split_once('/')).unzip();
                        (a, p, words.get(3).copied())
                    };
                    let (Some(address), Some(prefix), Some(scope)) = (address, prefix, scope)
                    else {
                        continue;
                    };
                    push(
                        &mut i,
                        "ipv6",
                        json!({"address": address, "prefix": prefix, "scope": scope}),
                    );
                    if default6.get("address") == Some(&json!(address)) {
                        default6.insert("prefix".into(), json!(prefix));
                        default6.insert("scope".into(), json!(scope));
                        default6.insert("macaddress".into(), json!(raw_mac));
                        default6.insert("mtu".into(), json!(mtu));
                        default6.insert("type".into(), kind.clone());
                    }
                    if address != "::1" {
                        all6.push(json!(address));
                    }
                }
                _ => {}
            }
        }
        interfaces.push((dev.to_string(), i));
        interfaces.extend(aliases);
    }
    let mut names = Vec::new();
    for (name, i) in interfaces {
        // `eth0:1` is listed as `eth0_1`; a fact's name has `_` for `-` too (`ansible_br_0f3a`).
        let name = name.replace(':', "_");
        let fact = name.replace('-', "_");
        if !names.contains(&name) {
            names.push(name);
        }
        facts.insert(fact, Json::Object(i));
    }
    facts.insert("interfaces".into(), json!(names));
    facts.insert("default_ipv4".into(), Json::Object(default4));
    facts.insert("default_ipv6".into(), Json::Object(default6));
    facts.insert("all_ipv4_addresses".into(), json!(all4));
    facts.insert("all_ipv6_addresses".into(), json!(all6));
    facts.insert("locally_reachable_ips".into(), locally_reachable(f));
}

/// Appends `entry` to the list under `key`.
fn push(map: &mut Map<String, Json>, key: &str, entry: Json) {
    if let Json::Array(list) = map.entry(key).or_insert_with(|| json!([])) {
        list.push(entry);
    }
}

/// A bridge's ports, id and STP state; a bond's slaves and settings.
fn bridge_and_bond(f: &Fields, dev: &str, i: &mut Map<String, Json>) {
    let ports_prefix = format!("/sys/class/net/{dev}/brif/");
    let ports: Vec<&str> = f
        .all("brif")
        .filter_map(|b| b.strip_prefix(ports_prefix.as_str()))
        .collect();
    let bridge_id = sys_value(f, dev, "bridge/bridge_id");
    if bridge_id.is_some() || !ports.is_empty() {
        i.insert("type".into(), json!("bridge"));
        i.insert("interfaces".into(), json!(ports));
        i.insert("id".into(), json!(bridge_id.unwrap_or_default()));
        if let Some(stp) = sys_value(f, dev, "bridge/stp_state") {
            i.insert("stp".into(), json!(stp == "1"));
        }
    }
    if let Some(slaves) = sys_value(f, dev, "bonding/slaves") {
        let first = |file: &str| {
            sys_value(f, dev, file)
                .and_then(|v| v.split_whitespace().next())
                .unwrap_or_default()
        };
        i.insert("type".into(), json!("bonding"));
        i.insert(
            "slaves".into(),
            json!(slaves.split_whitespace().collect::<Vec<_>>()),
        );
        i.insert("mode".into(), json!(first("bonding/mode")));
        i.insert("miimon".into(), json!(first("bonding/miimon")));
        i.insert("lacp_rate".into(), json!(first("bonding/lacp_rate")));
        if let Some(primary) = sys_value(f, dev, "bonding/primary").filter(|p| !p.is_empty()) {
            i.insert("primary".into(), json!(primary));
            if let Some(all) = sys_value(f, dev, "bonding/all_slaves_active") {
                i.insert("all_slaves_active".into(), json!(all == "1"));
            }
        }
    }
    if let Some(perm) = sys_value(f, dev, "bonding_slave/perm_hwaddr") {
        i.insert("perm_macaddress".into(), json!(perm));
    }
}

/// `ansible_locally_reachable_ips`: the `local` routes of the local table.
fn locally_reachable(f: &Fields) -> Json {
    let (mut v4, mut v6): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for line in f.all("localroute") {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() != Some(&"local") || words.len() < 2 {
            continue;
        }
        let list = if words[1].contains(':') {
            &mut v6
        } else {
            &mut v4
        };
        if !list.contains(&words[1]) {
            list.push(words[1]);
        }
    }
    json!({"ipv4": v4, "ipv6": v6})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_read_as_ansible_reads_them() {
        let r = route(
            "8.8.8.8 via 10.213.5.1 dev eth0 src 10.213.5.10 uid 0",
            "8.8.8.8",
        );
        assert_eq!(r["interface"], "eth0");
        assert_eq!(r["address"], "10.213.5.10");
        assert_eq!(r["gateway"], "10.213.5.1");
        assert!(route("RTNETLINK answers: Network is unreachable", "8.8.8.8").is_empty());
    }
}
