//! Host facts in one round trip: the names Ansible's setup module gives them, for the facts roles use
//! most (`ansible_hostname`, `ansible_kernel`, `ansible_distribution`, ...).

use serde_json::{Value as Json, json};

/// The command that prints the facts, one per line.
pub const FACTS_COMMAND: &str = "uname -n; uname -r; uname -m; \
    (. /etc/os-release 2>/dev/null; echo \"$ID\"; echo \"$VERSION_CODENAME\"; echo \"$VERSION_ID\"); env";

/// Parses the command's output into variables: `ansible_*` and `ansible_facts`.
pub fn parse(output: &str) -> serde_json::Map<String, Json> {
    let mut lines = output.lines().map(str::trim);
    let mut next = || lines.next().unwrap_or_default().to_string();
    let nodename = next();
    let kernel = next();
    let arch = next();
    let id = next();
    let release = next();
    let version = next();
    // The rest is `env`: the remote environment, as Ansible's `ansible_env`.
    let env: serde_json::Map<String, Json> = lines
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let distribution = match id.as_str() {
        "" => "NA".to_string(),
        "rhel" => "RedHat".to_string(),
        other => {
            let mut c = other.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().collect::<String>() + c.as_str()
            })
        }
    };
    let family = os_family(&id);
    let facts = json!({
        "hostname": nodename.split('.').next().unwrap_or_default(),
        "nodename": nodename,
        "fqdn": nodename,
        "kernel": kernel,
        "architecture": arch,
        "distribution": distribution,
        "distribution_release": release,
        "distribution_version": version,
        "os_family": family.0,
        "pkg_mgr": family.1,
        "env": env,
    });
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

    #[test]
    fn debian_facts() {
        let vars = parse(
            "web01.example.com\n6.1.0-28-amd64\nx86_64\ndebian\nbookworm\n12\nHOME=/srv/h\nPATH=/bin\n",
        );
        assert_eq!(vars["ansible_env"]["HOME"], "/srv/h");
        assert_eq!(vars["ansible_hostname"], "web01");
        assert_eq!(vars["ansible_kernel"], "6.1.0-28-amd64");
        assert_eq!(vars["ansible_distribution"], "Debian");
        assert_eq!(vars["ansible_distribution_release"], "bookworm");
        assert_eq!(vars["ansible_facts"]["architecture"], "x86_64");
        assert_eq!(vars["ansible_os_family"], "Debian");
        assert_eq!(vars["ansible_pkg_mgr"], "apt");
        assert_eq!(os_family("rocky"), ("RedHat", "dnf"));
        assert_eq!(os_family("opensuse-leap"), ("Suse", "zypper"));
    }
}
