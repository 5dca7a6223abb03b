//! Host facts in one round trip: the names Ansible's setup module gives them, for the facts roles use
//! most (`ansible_hostname`, `ansible_kernel`, `ansible_distribution`, ...).

use serde_json::{Value as Json, json};

/// The command that prints the facts: `key=value` lines (a fact whose source is missing is left
/// out), then `__env__` and the remote environment. POSIX sh, coreutils and /proc: no Python.
pub const FACTS_COMMAND: &str = r#"echo "nodename=$(uname -n)"; echo "kernel=$(uname -r)"; echo "arch=$(uname -m)"
(. /etc/os-release 2>/dev/null; echo "id=$ID"; echo "codename=$VERSION_CODENAME"; echo "version=$VERSION_ID")
awk '/^MemTotal:/{print "memtotal_kb=" $2} /^MemFree:/{print "memfree_kb=" $2} /^SwapTotal:/{print "swaptotal_kb=" $2} /^SwapFree:/{print "swapfree_kb=" $2}' /proc/meminfo 2>/dev/null
awk -F: '/^processor/{n++} /^physical id/{p[$2]=1} /^cpu cores/{c=$2+0} END{s=0; for(k in p)s++; print "vcpus=" n; print "sockets=" s; print "cores=" c}' /proc/cpuinfo 2>/dev/null
echo "machine_id=$(cat /etc/machine-id 2>/dev/null)"; echo "init=$(cat /proc/1/comm 2>/dev/null)"; [ -d /run/systemd/system ] && echo "systemd=1"
echo "uid=$(id -u)"; echo "gid=$(id -g)"; echo "user=$(id -un)"
awk 'NR>1 && $2=="00000000" {print "route=" $1 " " $3; exit}' /proc/net/route 2>/dev/null
ip -4 -o addr show 2>/dev/null | awk '{print "addr4=" $2 " " $4 " " ($5=="brd" ? $6 : "")}'
for i in /sys/class/net/*; do echo "link=${i##*/} $(cat $i/address 2>/dev/null) $(cat $i/mtu 2>/dev/null)"; done
date '+local=%Y %m %d %H %M %S %s %Z %z %A %w %W %N'; date -u '+utc=%Y-%m-%dT%H:%M:%S %N'
echo __env__; env"#;

/// The `key=value` lines before `__env__`, each key with its values in order.
fn fields(head: &str) -> Vec<(&str, &str)> {
    head.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

/// The first value of `key`.
fn field<'a>(fields: &[(&str, &'a str)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, v)| v)
}

/// A number of kB as Ansible's MB facts give it (whole MB, rounded down).
fn mb(fields: &[(&str, &str)], key: &str) -> Option<Json> {
    field(fields, key)
        .parse::<u64>()
        .ok()
        .map(|kb| json!(kb / 1024))
}

/// `ansible_date_time`, from `date`'s local fields and the UTC time.
fn date_time(fields: &[(&str, &str)]) -> Option<Json> {
    let local: Vec<&str> = field(fields, "local").split(' ').collect();
    let [
        y,
        mo,
        d,
        h,
        mi,
        sec,
        epoch,
        tz,
        offset,
        weekday,
        wday,
        week,
        nanos,
    ] = local[..]
    else {
        return None;
    };
    let (utc, utc_nanos) = field(fields, "utc").split_once(' ')?;
    let micro = |n: &str| n.get(..6).unwrap_or("000000").to_string();
    Some(json!({
        "year": y, "month": mo, "day": d, "hour": h, "minute": mi, "second": sec,
        "epoch": epoch, "epoch_int": epoch, "date": format!("{y}-{mo}-{d}"),
        "time": format!("{h}:{mi}:{sec}"), "weekday": weekday, "weekday_number": wday,
        "weeknumber": week, "tz": tz, "tz_offset": offset,
        "iso8601": format!("{utc}Z"),
        "iso8601_micro": format!("{utc}.{}Z", micro(utc_nanos)),
        "iso8601_basic": format!("{y}{mo}{d}T{h}{mi}{sec}{}", micro(nanos)),
        "iso8601_basic_short": format!("{y}{mo}{d}T{h}{mi}{sec}"),
    }))
}

/// A little-endian hex IPv4 address from /proc/net/route.
fn route_address(hex: &str) -> Option<String> {
    let n = u32::from_str_radix(hex, 16).ok()?;
    Some(std::net::Ipv4Addr::from(n.swap_bytes()).to_string())
}

/// Each interface's IPv4 addresses (`addr4=IF ADDR/PREFIX BROADCAST`) as Ansible's ipv4 dicts, and
/// `ansible_default_ipv4`: the default route's interface, its gateway and first address.
fn ipv4(fields: &[(&str, &str)]) -> (Vec<(String, Json)>, Json) {
    let mut addresses = Vec::new();
    for (_, v) in fields.iter().filter(|(k, _)| *k == "addr4") {
        let mut parts = v.split(' ');
        let (Some(dev), Some(cidr)) = (parts.next(), parts.next()) else {
            continue;
        };
        let broadcast = parts.next().unwrap_or_default();
        let Some((addr, prefix)) = cidr.split_once('/') else {
            continue;
        };
        let (Ok(ip), Ok(prefix)) = (addr.parse::<std::net::Ipv4Addr>(), prefix.parse::<u32>())
        else {
            continue;
        };
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix.min(32))
        };
        let network = std::net::Ipv4Addr::from(u32::from(ip) & mask);
        addresses.push((
            dev.to_string(),
            json!({
                "address": addr, "broadcast": broadcast,
                "netmask": std::net::Ipv4Addr::from(mask).to_string(),
                "network": network.to_string(), "prefix": prefix.to_string(),
            }),
        ));
    }
    let mut default = json!({});
    let route: Vec<&str> = field(fields, "route").split(' ').collect();
    if let [dev, gateway] = route[..]
        && let Some((_, first)) = addresses.iter().find(|(d, _)| d == dev)
    {
        default = first.clone();
        default["interface"] = json!(dev);
        default["alias"] = json!(dev);
        default["gateway"] = json!(route_address(gateway).unwrap_or_default());
        if let Some((_, link)) = fields
            .iter()
            .find(|(k, v)| *k == "link" && v.split(' ').next() == Some(dev))
        {
            let mut l = link.split(' ').skip(1);
            let mac = l.next().unwrap_or_default();
            default["macaddress"] = json!(mac);
            default["type"] = json!(if mac.is_empty() { "unknown" } else { "ether" });
            if let Some(mtu) = l.next().and_then(|m| m.parse::<u64>().ok()) {
                default["mtu"] = json!(mtu);
            }
        }
    }
    (addresses, default)
}

/// Ansible's `service_mgr`: process 1's name, unless that is a shell or `init`, which say nothing
/// (then systemd if it runs, else sysvinit).
fn service_mgr(init: &str, systemd_runs: bool) -> &str {
    match init {
        "runit-init" => "runit",
        "openrc-init" => "openrc",
        "" | "init" => {
            if systemd_runs {
                "systemd"
            } else {
                "sysvinit"
            }
        }
        shell if shell.ends_with("sh") => service_mgr("", systemd_runs),
        other => other,
    }
}

/// Parses the command's output into variables: `ansible_*` and `ansible_facts`.
pub fn parse(output: &str) -> serde_json::Map<String, Json> {
    let (head, env_text) = output.split_once("__env__\n").unwrap_or((output, ""));
    let f = fields(head);
    // The remote environment, as Ansible's `ansible_env`.
    let env: serde_json::Map<String, Json> = env_text
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let id = field(&f, "id");
    let version = field(&f, "version");
    let nodename = field(&f, "nodename");
    let distribution = match id {
        "" => "NA".to_string(),
        "rhel" => "RedHat".to_string(),
        other => {
            let mut c = other.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().collect::<String>() + c.as_str()
            })
        }
    };
    let family = os_family(id);
    let (addresses, default_ipv4) = ipv4(&f);
    let mut facts = json!({
        "hostname": nodename.split('.').next().unwrap_or_default(),
        "nodename": nodename,
        "fqdn": nodename,
        "kernel": field(&f, "kernel"),
        "architecture": field(&f, "arch"),
        "machine": field(&f, "arch"),
        "distribution": distribution,
        "distribution_release": field(&f, "codename"),
        "distribution_version": version,
        "distribution_major_version": version.split('.').next().unwrap_or_default(),
        "os_family": family.0,
        "pkg_mgr": family.1,
        "system": "Linux",
        "service_mgr": service_mgr(field(&f, "init"), field(&f, "systemd") == "1"),
        "machine_id": field(&f, "machine_id"),
        "user_id": field(&f, "user"),
        "user_uid": field(&f, "uid").parse::<u64>().ok(),
        "user_gid": field(&f, "gid").parse::<u64>().ok(),
        "processor_vcpus": field(&f, "vcpus").parse::<u64>().ok(),
        "processor_count": field(&f, "sockets").parse::<u64>().ok().map(|s| s.max(1)),
        "processor_cores": field(&f, "cores").parse::<u64>().ok().filter(|c| *c > 0).unwrap_or(1),
        "memtotal_mb": mb(&f, "memtotal_kb"),
        "memfree_mb": mb(&f, "memfree_kb"),
        "swaptotal_mb": mb(&f, "swaptotal_kb"),
        "swapfree_mb": mb(&f, "swapfree_kb"),
        "default_ipv4": default_ipv4,
        "all_ipv4_addresses": addresses.iter().map(|(_, a)| a["address"].clone()).collect::<Vec<_>>(),
        "interfaces": f.iter().filter(|(k, _)| *k == "link").filter_map(|(_, v)| v.split(' ').next()).collect::<Vec<_>>(),
        "date_time": date_time(&f),
        "env": env,
    });
    if let Json::Object(map) = &mut facts {
        map.retain(|_, v| !v.is_null());
    }
    let mut vars = serde_json::Map::new();
    if let Json::Object(map) = &facts {
        for (k, v) in map {
            vars.insert(format!("ansible_{k}"), v.clone());
        }
    }
    vars.insert("ansible_facts".into(), facts);
    vars
}

/// Ansible's `os_family` and `pkg_mgr` for an os-release ID, so a playbook's
/// `when: ansible_os_family == "RedHat"` branches and `package` pick as they do under Ansible.
fn os_family(id: &str) -> (&'static str, &'static str) {
    match id {
        "debian" | "ubuntu" | "raspbian" | "linuxmint" | "pop" | "kali" | "devuan" => {
            ("Debian", "apt")
        }
        "rhel" | "centos" | "fedora" | "rocky" | "almalinux" | "ol" | "amzn" | "scientific" => {
            ("RedHat", "dnf")
        }
        "sles" | "sled" | "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" => {
            ("Suse", "zypper")
        }
        "arch" | "manjaro" | "endeavouros" => ("Archlinux", "pacman"),
        "alpine" => ("Alpine", "apk"),
        _ => ("Linux", "unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What FACTS_COMMAND prints on a Debian container host.
    const SAMPLE: &str = "nodename=web01.example.com\nkernel=6.1.0-28-amd64\narch=x86_64\nid=debian\ncodename=bookworm\nversion=12\nmemtotal_kb=16379004\nmemfree_kb=1000\nvcpus=2\nsockets=1\ncores=2\nmachine_id=abc\ninit=systemd\nuid=0\ngid=0\nuser=root\nroute=eth0 010012AC\naddr4=lo 127.0.0.1/8 \naddr4=eth0 172.18.0.2/16 172.18.255.255\nlink=eth0 02:42:ac:12:00:02 1500\nlink=lo 00:00:00:00:00:00 65536\nlocal=2026 12 03 10 15 42 1796292942 UTC +0000 Thursday 4 48 123456789\nutc=2026-12-03T10:15:42 123456789\n__env__\nHOME=/srv/h\nPATH=/bin\n";

    #[test]
    fn debian_facts() {
        let vars = parse(SAMPLE);
        assert_eq!(vars["ansible_env"]["HOME"], "/srv/h");
        assert_eq!(vars["ansible_hostname"], "web01");
        assert_eq!(vars["ansible_kernel"], "6.1.0-28-amd64");
        assert_eq!(vars["ansible_distribution"], "Debian");
        assert_eq!(vars["ansible_distribution_release"], "bookworm");
        assert_eq!(vars["ansible_facts"]["architecture"], "x86_64");
        assert_eq!(vars["ansible_os_family"], "Debian");
        assert_eq!(vars["ansible_pkg_mgr"], "apt");
        assert_eq!(os_family("rocky"), ("RedHat", "dnf"));
        assert_eq!(vars["ansible_distribution_major_version"], "12");
        assert_eq!(vars["ansible_memtotal_mb"], 15995);
        assert_eq!(vars["ansible_processor_vcpus"], 2);
        assert_eq!(vars["ansible_service_mgr"], "systemd");
        let d = &vars["ansible_default_ipv4"];
        assert_eq!(d["address"], "172.18.0.2");
        assert_eq!(d["gateway"], "172.18.0.1");
        assert_eq!(d["interface"], "eth0");
        assert_eq!(d["netmask"], "255.255.0.0");
        assert_eq!(d["network"], "172.18.0.0");
        assert_eq!(d["macaddress"], "02:42:ac:12:00:02");
        assert_eq!(d["mtu"], 1500);
        assert_eq!(
            vars["ansible_all_ipv4_addresses"],
            json!(["127.0.0.1", "172.18.0.2"])
        );
        let t = &vars["ansible_date_time"];
        assert_eq!(t["date"], "2026-12-03");
        assert_eq!(t["iso8601"], "2026-12-03T10:15:42Z");
        assert_eq!(t["iso8601_micro"], "2026-12-03T10:15:42.123456Z");
        assert_eq!(t["weekday"], "Thursday");
        assert_eq!(os_family("opensuse-leap"), ("Suse", "zypper"));
    }
}
