//! Where and as whom to connect: inventory settings over ~/.ssh/config over defaults.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use ssh2_config::{ParseRule, SshConfig as Parsed};

/// A host to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The inventory name, used in messages.
    pub name: String,
    /// The address to dial.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The remote user.
    pub user: String,
    /// Key files to offer, in order, before the agent's keys.
    pub identity_files: Vec<PathBuf>,
    /// A jump host (`[user@]host[:port]`), from ProxyJump.
    pub proxy_jump: Option<String>,
}

/// A parsed ~/.ssh/config.
pub struct SshConfig(Parsed);

impl SshConfig {
    /// Reads an ssh_config file; options drover does not use are ignored.
    pub fn load(path: &Path) -> Result<SshConfig, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Parsed::default()
            .parse(
                &mut BufReader::new(file),
                ParseRule::ALLOW_UNKNOWN_FIELDS | ParseRule::ALLOW_UNSUPPORTED_FIELDS,
            )
            .map(SshConfig)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl Target {
    /// A target from what the inventory says (each `None` when it says nothing), filled in from
    /// ssh_config and then from defaults: the inventory name as address, port 22, the local user.
    pub fn resolve(
        name: &str,
        host: Option<&str>,
        port: Option<u16>,
        user: Option<&str>,
        key: Option<&Path>,
        config: Option<&SshConfig>,
    ) -> Target {
        let params = config.map(|c| c.0.query(host.unwrap_or(name)));
        let from_config =
            |f: fn(&ssh2_config::HostParams) -> Option<String>| params.as_ref().and_then(f);
        let identity_files = match key {
            Some(k) => vec![expand_home(k)],
            None => params
                .as_ref()
                .and_then(|p| p.identity_file.clone())
                .unwrap_or_default()
                .iter()
                .map(|p| expand_home(p))
                .collect(),
        };
        Target {
            name: name.to_string(),
            host: host
                .map(str::to_string)
                .or_else(|| from_config(|p| p.host_name.clone()))
                .unwrap_or_else(|| name.to_string()),
            port: port
                .or_else(|| params.as_ref().and_then(|p| p.port))
                .unwrap_or(22),
            user: user
                .map(str::to_string)
                .or_else(|| from_config(|p| p.user.clone()))
                .unwrap_or_else(local_user),
            identity_files,
            proxy_jump: from_config(|p| p.proxy_jump.as_ref().and_then(|j| j.first().cloned()))
                .filter(|j| j != "none"),
        }
    }

    /// `host:port`, for messages.
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".into())
}

fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_beats_ssh_config_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "Host web*\n  HostName 10.1.1.1\n  User ops\n  Port 2200\n  IdentityFile /keys/web\n  ProxyJump bastion\n",
        )
        .unwrap();
        let cfg = SshConfig::load(&path).unwrap();
        let t = Target::resolve("web1", None, None, None, None, Some(&cfg));
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str()),
            ("10.1.1.1", 2200, "ops")
        );
        assert_eq!(t.identity_files, [PathBuf::from("/keys/web")]);
        assert_eq!(t.proxy_jump.as_deref(), Some("bastion"));
        let t = Target::resolve(
            "web1",
            Some("127.0.0.5"),
            Some(22),
            Some("root"),
            Some(Path::new("/k")),
            Some(&cfg),
        );
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str()),
            ("127.0.0.5", 22, "root")
        );
        assert_eq!(t.identity_files, [PathBuf::from("/k")]);
        let t = Target::resolve("db1", None, None, None, None, Some(&cfg));
        assert_eq!((t.host.as_str(), t.port, t.proxy_jump), ("db1", 22, None));
    }
}
