//! The minimal collectors: platform, distribution, lsb, user, date and time, service manager,
//! DNS, SSH host keys, AppArmor, kernel command line, FIPS, load, local facts, environment.

use base64::Engine as _;
use serde_json::{Map, Value as Json, json};

use super::Fields;

/// Names, kernel, architecture, the FQDN as Python's `socket.getfqdn` finds it (the name's
/// address looked up again) and the machine id.
pub(super) const PLATFORM: &str = r#"n=$(uname -n); echo "nodename=$n"; echo "kernel=$(uname -r)"; echo "kernel_version=$(uname -v)"; echo "arch=$(uname -m)"; echo "bits=$(getconf LONG_BIT 2>/dev/null)"
a=$(getent ahosts "$n" 2>/dev/null | awk '{print $1; exit}'); [ -n "$a" ] && echo "fqdn_names=$(getent hosts "$a" 2>/dev/null | head -n 1)"
echo "machine_id=$(head -n 1 /var/lib/dbus/machine-id 2>/dev/null || head -n 1 /etc/machine-id 2>/dev/null)""#;

pub(super) const DISTRIBUTION: &str = r#"(. /etc/os-release 2>/dev/null; echo "id=$ID"; echo "codename=$VERSION_CODENAME"; echo "version=$VERSION_ID"; echo "pretty=$PRETTY_NAME")
[ -r /etc/debian_version ] && echo "debian_version=$(head -n 1 /etc/debian_version)""#;

pub(super) const LSB: &str = r#"command -v lsb_release >/dev/null 2>&1 && lsb_release -a 2>/dev/null | sed 's/^/lsb_release=/'
[ -r /etc/lsb-release ] && sed 's/^/lsb_file=/' /etc/lsb-release"#;

/// The user as Python's `getpass.getuser` names it, its passwd entry, and the process's ids.
pub(super) const USER: &str = r#"u=${LOGNAME:-${USER:-${LNAME:-${USERNAME:-$(id -un)}}}}; echo "user=$u"
echo "passwd=$(getent passwd "$u" 2>/dev/null || getent passwd "$(id -u)")"; echo "ids=$(id -u) $(id -ru) $(id -rg)""#;

pub(super) const DATE_TIME: &str =
    r#"date '+local=%Y %m %d %H %M %S %s %Z %z %A %w %W %N'; date -u '+utc=%Y-%m-%dT%H:%M:%S %N'"#;

pub(super) const SERVICE_MGR: &str = r#"echo "init=$(cat /proc/1/comm 2>/dev/null)"; [ -d /run/systemd/system ] && echo "systemd=1""#;

pub(super) const DNS: &str = r#"[ -r /etc/resolv.conf ] && sed 's/^/resolv=/' /etc/resolv.conf"#;

/// The first of each key type found in /etc/ssh, /etc/openssh, /etc (read with the shell's own
/// `read`: no process per file).
pub(super) const SSH_PUB_KEYS: &str = r#"for d in /etc/ssh /etc/openssh /etc; do for t in dsa rsa ecdsa ed25519; do f=$d/ssh_host_${t}_key.pub; [ -r "$f" ] && read -r l < "$f" && echo "sshkey=$t $l"; done; done"#;

pub(super) const APPARMOR: &str =
    r#"[ -e /sys/kernel/security/apparmor ] && echo apparmor=enabled"#;

pub(super) const CMDLINE: &str = r#"[ -r /proc/cmdline ] && echo "cmdline=$(cat /proc/cmdline)""#;

pub(super) const FIPS: &str = r#"echo "fips=$(cat /proc/sys/crypto/fips_enabled 2>/dev/null)""#;

pub(super) const LOADAVG: &str = r#"[ -r /proc/loadavg ] && echo "loadavg=$(cat /proc/loadavg)""#;

/// Local facts: each `*.fact` file of `fact_path`, run when executable, its output base64-coded
/// so any text survives the line format.
pub(super) fn local_command(fact_path: &str) -> String {
    format!(
        r#"for f in {}/*.fact; do [ -e "$f" ] || continue; n=${{f##*/}}; if [ -x "$f" ]; then o=$("$f" 2>/dev/null); echo "localfact=${{n%.fact}} $? $(printf '%s' "$o" | base64 -w0)"; else echo "localfact=${{n%.fact}} 0 $(base64 -w0 < "$f")"; fi; done"#,
        drover_ssh::shell::quote(fact_path)
    )
}

pub(super) fn platform(f: &Fields, facts: &mut Map<String, Json>) {
    let nodename = f.get("nodename");
    // socket.getfqdn: the first name with a dot among the address's names, else its first name.
    let names: Vec<&str> = f.get("fqdn_names").split_whitespace().skip(1).collect();
    let fqdn = names
        .iter()
        .find(|n| n.contains('.'))
        .or(names.first())
        .copied()
        .unwrap_or(nodename);
    let machine = f.get("arch");
    let bits = f.get("bits");
    facts.insert("system".into(), json!("Linux"));
    facts.insert("kernel".into(), json!(f.get("kernel")));
    facts.insert("kernel_version".into(), json!(f.get("kernel_version")));
    facts.insert("machine".into(), json!(machine));
    facts.insert("architecture".into(), json!(machine));
    facts.insert("nodename".into(), json!(nodename));
    facts.insert(
        "hostname".into(),
        json!(nodename.split('.').next().unwrap_or_default()),
    );
    facts.insert("fqdn".into(), json!(fqdn));
    facts.insert(
        "domain".into(),
        json!(fqdn.split_once('.').map_or("", |(_, d)| d)),
    );
    facts.insert("userspace_bits".into(), json!(bits));
    let userspace = match (machine, bits) {
        ("x86_64", "64") => Some("x86_64"),
        ("x86_64", "32") => Some("i386"),
        _ => None,
    };
    if let Some(u) = userspace {
        facts.insert("userspace_architecture".into(), json!(u));
    }
    let machine_id = f.get("machine_id");
    if !machine_id.is_empty() {
        facts.insert("machine_id".into(), json!(machine_id));
    }
}

/// The distribution facts and the package manager that goes with them.
pub(super) struct Distribution {
    pub facts: Map<String, Json>,
    pub pkg_mgr: &'static str,
}

pub(super) fn distribution(f: &Fields) -> Distribution {
    let id = f.get("id");
    let name = match id {
        "" => "OtherLinux".to_string(),
        "rhel" => "RedHat".to_string(),
        "amzn" => "Amazon".to_string(),
        other => {
            let mut c = other.chars();
            c.next().map_or_else(String::new, |first| {
                first.to_uppercase().collect::<String>() + &c.as_str().to_lowercase()
            })
        }
    };
    let os_version = f.get("version");
    let debian_version = f.get("debian_version");
    // Debian's most precise version is /etc/debian_version's (12.11), as distro's best version.
    let numeric = |v: &str| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.');
    let version = if id == "debian"
        && numeric(debian_version)
        && debian_version.matches('.').count() > os_version.matches('.').count()
    {
        debian_version
    } else {
        os_version
    };
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or_default();
    let minor = if id == "debian" {
        debian_version
            .split_once('.')
            .map(|(_, m)| m.split('.').next().unwrap_or_default())
            .filter(|m| numeric(m))
    } else {
        parts.next()
    };
    // Debian names its release in PRETTY_NAME's parentheses.
    let pretty = f.get("pretty");
    let release = pretty
        .rsplit_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .filter(|_| id == "debian")
        .unwrap_or(f.get("codename"));
    let (family, pkg_mgr) = os_family(id);
    let mut facts = Map::new();
    facts.insert("distribution".into(), json!(name));
    facts.insert(
        "distribution_release".into(),
        json!(if release.is_empty() { "NA" } else { release }),
    );
    facts.insert("distribution_version".into(), json!(version));
    facts.insert(
        "distribution_major_version".into(),
        json!(if major.is_empty() { "NA" } else { major }),
    );
    facts.insert(
        "distribution_minor_version".into(),
        json!(minor.filter(|m| !m.is_empty()).unwrap_or("NA")),
    );
    facts.insert("os_family".into(), json!(family));
    Distribution { facts, pkg_mgr }
}

/// Ansible's `os_family` and `pkg_mgr` for an os-release ID, so a playbook's
/// `when: ansible_os_family == "RedHat"` branches and `package` pick as they do under Ansible.
pub(super) fn os_family(id: &str) -> (&'static str, &'static str) {
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

/// `ansible_lsb`: from `lsb_release -a`, else /etc/lsb-release; quotes stripped as Ansible does.
pub(super) fn lsb(f: &Fields, facts: &mut Map<String, Json>) {
    let mut lsb = Map::new();
    for line in f.all("lsb_release") {
        let Some((label, value)) = line.split_once(':') else {
            continue;
        };
        let key = match label {
            "LSB Version" | "Release" => "release",
            "Distributor ID" => "id",
            "Description" => "description",
            "Codename" => "codename",
            _ => continue,
        };
        lsb.insert(key.into(), json!(value.trim()));
    }
    if lsb.is_empty() {
        for line in f.all("lsb_file") {
            let Some((label, value)) = line.split_once('=') else {
                continue;
            };
            let key = match label {
                l if l.contains("DISTRIB_ID") => "id",
                l if l.contains("DISTRIB_RELEASE") => "release",
                l if l.contains("DISTRIB_DESCRIPTION") => "description",
                l if l.contains("DISTRIB_CODENAME") => "codename",
                _ => continue,
            };
            lsb.insert(key.into(), json!(value.trim()));
        }
    }
    if let Some(release) = lsb.get("release").and_then(Json::as_str) {
        let major = release.split('.').next().unwrap_or_default().to_string();
        lsb.insert("major_release".into(), json!(major));
    }
    for v in lsb.values_mut() {
        if let Some(s) = v.as_str() {
            *v = json!(s.trim_matches(['\'', '"', '\\']));
        }
    }
    facts.insert("lsb".into(), Json::Object(lsb));
}

pub(super) fn user(f: &Fields, facts: &mut Map<String, Json>) {
    facts.insert("user_id".into(), json!(f.get("user")));
    let entry: Vec<&str> = f.get("passwd").split(':').collect();
    if let [_, _, uid, gid, gecos, dir, shell] = entry[..] {
        facts.insert("user_uid".into(), json!(uid.parse::<u64>().ok()));
        facts.insert("user_gid".into(), json!(gid.parse::<u64>().ok()));
        facts.insert("user_gecos".into(), json!(gecos));
        facts.insert("user_dir".into(), json!(dir));
        facts.insert("user_shell".into(), json!(shell));
    }
    let ids: Vec<Option<u64>> = f
        .get("ids")
        .split(' ')
        .map(|n| n.parse::<u64>().ok())
        .collect();
    if let [Some(euid), Some(ruid), Some(rgid)] = ids[..] {
        facts.insert("real_user_id".into(), json!(ruid));
        facts.insert("effective_user_id".into(), json!(euid));
        facts.insert("real_group_id".into(), json!(rgid));
        // Ansible reports the real group id as the effective one too (os.getgid).
        facts.insert("effective_group_id".into(), json!(rgid));
    }
}

/// `ansible_date_time`, from `date`'s local fields and the UTC time.
pub(super) fn date_time(f: &Fields, facts: &mut Map<String, Json>) {
    let local: Vec<&str> = f.get("local").split(' ').collect();
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
        return;
    };
    let Some((utc, utc_nanos)) = f.get("utc").split_once(' ') else {
        return;
    };
    let micro = |n: &str| n.get(..6).unwrap_or("000000").to_string();
    facts.insert(
        "date_time".into(),
        json!({
            "year": y, "month": mo, "day": d, "hour": h, "minute": mi, "second": sec,
            "epoch": epoch, "epoch_int": epoch, "date": format!("{y}-{mo}-{d}"),
            "time": format!("{h}:{mi}:{sec}"), "weekday": weekday, "weekday_number": wday,
            "weeknumber": week, "tz": tz, "tz_dst": tz, "tz_offset": offset,
            "iso8601": format!("{utc}Z"),
            "iso8601_micro": format!("{utc}.{}Z", micro(utc_nanos)),
            "iso8601_basic": format!("{y}{mo}{d}T{h}{mi}{sec}{}", micro(nanos)),
            "iso8601_basic_short": format!("{y}{mo}{d}T{h}{mi}{sec}"),
        }),
    );
}

/// Ansible's `service_mgr`: process 1's name, unless that is a shell or `init`, which say nothing
/// (then systemd if it runs, else sysvinit).
fn service_mgr_name(init: &str, systemd_runs: bool) -> &str {
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
        shell if shell.ends_with("sh") => service_mgr_name("", systemd_runs),
        other => other,
    }
}

pub(super) fn service_mgr(f: &Fields, facts: &mut Map<String, Json>) {
    let name = service_mgr_name(f.get("init"), f.get("systemd") == "1");
    facts.insert("service_mgr".into(), json!(name));
}

/// `ansible_dns` from /etc/resolv.conf, read as Ansible reads it.
pub(super) fn dns(f: &Fields, facts: &mut Map<String, Json>) {
    let mut dns = Map::new();
    for line in f.all("resolv") {
        if line.starts_with(['#', ';']) || line.trim().is_empty() {
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        match tokens[0] {
            "nameserver" => {
                let list = dns.entry("nameservers").or_insert_with(|| json!([]));
                if let Json::Array(a) = list {
                    a.extend(tokens[1..].iter().map(|t| json!(t)));
                }
            }
            "domain" if tokens.len() > 1 => {
                dns.insert("domain".into(), json!(tokens[1]));
            }
            "search" | "sortlist" => {
                dns.insert(tokens[0].into(), json!(tokens[1..]));
            }
            "options" => {
                let options: Map<String, Json> = tokens[1..]
                    .iter()
                    .map(|o| match o.split_once(':') {
                        Some((k, v)) if !v.is_empty() => (k.to_string(), json!(v)),
                        Some((k, _)) => (k.to_string(), json!(true)),
                        None => (o.to_string(), json!(true)),
                    })
                    .collect();
                dns.insert("options".into(), Json::Object(options));
            }
            _ => {}
        }
    }
    facts.insert("dns".into(), Json::Object(dns));
}

pub(super) fn ssh_pub_keys(f: &Fields, facts: &mut Map<String, Json>) {
    for line in f.all("sshkey") {
        let mut words = line.split_whitespace();
        let (Some(algo), Some(keytype), Some(key)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let name = format!("ssh_host_key_{algo}_public");
        if facts.contains_key(&name) {
            continue;
        }
        facts.insert(format!("{name}_keytype"), json!(keytype));
        facts.insert(name, json!(key));
    }
}

pub(super) fn apparmor(f: &Fields, facts: &mut Map<String, Json>) {
    let status = if f.has("apparmor") {
        "enabled"
    } else {
        "disabled"
    };
    facts.insert("apparmor".into(), json!({ "status": status }));
}

/// Python's `shlex.split(posix=False)`: words split on blanks, quoted runs kept whole with their
/// quotes.
fn shlex_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) => {
                word.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            None => {
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
                word.push(c);
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// `ansible_cmdline` (the last value of a repeated key) and `ansible_proc_cmdline` (every value).
pub(super) fn cmdline(f: &Fields, facts: &mut Map<String, Json>) {
    if !f.has("cmdline") {
        return;
    }
    let mut last = Map::new();
    let mut every = Map::new();
    for word in shlex_words(f.get("cmdline")) {
        let Some((k, v)) = word.split_once('=') else {
            last.insert(word.clone(), json!(true));
            every.insert(word, json!(true));
            continue;
        };
        last.insert(k.into(), json!(v));
        match every.get_mut(k) {
            Some(Json::Array(a)) => a.push(json!(v)),
            Some(old) if old.is_string() => *old = json!([old.clone(), v]),
            _ => {
                every.insert(k.into(), json!(v));
            }
        }
    }
    facts.insert("cmdline".into(), Json::Object(last));
    facts.insert("proc_cmdline".into(), Json::Object(every));
}

pub(super) fn fips(f: &Fields, facts: &mut Map<String, Json>) {
    facts.insert("fips".into(), json!(f.get("fips") == "1"));
}

pub(super) fn loadavg(f: &Fields, facts: &mut Map<String, Json>) {
    let loads: Vec<f64> = f
        .get("loadavg")
        .split(' ')
        .take(3)
        .filter_map(|n| n.parse().ok())
        .collect();
    if let [one, five, fifteen] = loads[..] {
        facts.insert(
            "loadavg".into(),
            json!({"1m": one, "5m": five, "15m": fifteen}),
        );
    }
}

/// `ansible_local`: each fact file's JSON, else its INI sections (as configparser reads them),
/// else the error text Ansible puts in its place.
pub(super) fn local(f: &Fields, facts: &mut Map<String, Json>) {
    let mut local = Map::new();
    for line in f.all("localfact") {
        let mut parts = line.splitn(3, ' ');
        let (Some(name), Some(rc), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let text = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let value = match (rc, text) {
            ("0", Some(text)) => serde_json::from_str::<Json>(&text).unwrap_or_else(|_| {
                drover_templates::ini_sections(&text).unwrap_or_else(|_| {
                    json!(format!(
                        "error loading facts as JSON or ini - please check content: {name}.fact"
                    ))
                })
            }),
            ("0", None) => json!(format!(
                "error loading fact - output of running \"{name}.fact\" was not utf-8"
            )),
            (rc, _) => json!(format!(
                "Failure executing fact script ({name}.fact), rc: {rc}"
            )),
        };
        local.insert(name.into(), value);
    }
    facts.insert("local".into(), Json::Object(local));
}

/// `ansible_env`: the remote environment.
pub(super) fn env(text: &str) -> Json {
    let env: Map<String, Json> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    Json::Object(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_manager_is_named_as_ansible_names_it() {
        assert_eq!(service_mgr_name("systemd", true), "systemd");
        assert_eq!(service_mgr_name("bash", false), "sysvinit");
        assert_eq!(service_mgr_name("init", true), "systemd");
    }

    fn fields(text: &str) -> Fields<'_> {
        Fields(text.lines().filter_map(|l| l.split_once('=')).collect())
    }

    /// Versions as ansible-core's setup gave them on Debian 12.11 and as distro reads Ubuntu's.
    #[test]
    fn distribution_versions_are_ansibles() {
        let d = distribution(&fields(
            "id=debian\ncodename=bookworm\nversion=12\npretty=Debian GNU/Linux 12 (bookworm)\ndebian_version=12.11\n",
        ));
        assert_eq!(d.facts["distribution"], "Debian");
        assert_eq!(d.facts["distribution_version"], "12.11");
        assert_eq!(d.facts["distribution_major_version"], "12");
        assert_eq!(d.facts["distribution_minor_version"], "11");
        assert_eq!(d.facts["distribution_release"], "bookworm");
        assert_eq!(
            (d.facts["os_family"].as_str(), d.pkg_mgr),
            (Some("Debian"), "apt")
        );
        let u = distribution(&fields(
            "id=ubuntu\ncodename=jammy\nversion=22.04\npretty=Ubuntu 22.04.4 LTS\ndebian_version=bookworm/sid\n",
        ));
        assert_eq!(u.facts["distribution"], "Ubuntu");
        assert_eq!(u.facts["distribution_version"], "22.04");
        assert_eq!(u.facts["distribution_minor_version"], "04");
        assert_eq!(u.facts["distribution_release"], "jammy");
        assert_eq!(os_family("rocky"), ("RedHat", "dnf"));
        assert_eq!(os_family("opensuse-leap"), ("Suse", "zypper"));
    }

    #[test]
    fn command_line_words_keep_quoted_runs() {
        assert_eq!(
            shlex_words(r#"ro quiet x="a b" y"#),
            vec!["ro", "quiet", r#"x="a b""#, "y"]
        );
    }
}
