//! Ansible's configuration, as ansible-core finds and reads it, for the settings drover shares with
//! it: `[defaults]` inventory, roles_path, remote_user and private_key_file, each also from its
//! `ANSIBLE_*` variable. Precedence as Ansible's: a flag beats the variable, which beats the file.
//! The file is the first of `$ANSIBLE_CONFIG`, ./ansible.cfg (not in a world-writable folder, which
//! Ansible refuses too: anybody could plant one there), ~/.ansible.cfg, /etc/ansible/ansible.cfg.

use std::path::{Path, PathBuf};

use crate::args::{Command, ConnectArgs};

/// The settings read from a file, paths already made absolute from the file's folder.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AnsibleCfg {
    /// The file they came from.
    pub path: Option<PathBuf>,
    pub inventory: Vec<PathBuf>,
    pub roles_path: Vec<PathBuf>,
    pub remote_user: Option<String>,
    pub private_key_file: Option<PathBuf>,
    pub vault_password_file: Option<PathBuf>,
    pub vault_identity_list: Vec<String>,
}

/// `~/` made the home folder's; a relative path made relative to `base`.
fn path_from(value: &str, base: &Path) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (value.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ if value == "~" => {
            std::env::var_os("HOME").map_or_else(|| PathBuf::from("~"), PathBuf::from)
        }
        _ => base.join(value),
    }
}

/// Reads a configuration file's `[defaults]` as Python's configparser reads it for Ansible (`;`
/// also starts an inline comment), with paths relative to `base`.
pub fn parse(text: &str, base: &Path) -> AnsibleCfg {
    let mut cfg = AnsibleCfg::default();
    let mut in_defaults = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_defaults = section.trim() == "defaults";
            continue;
        }
        if !in_defaults {
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            continue;
        };
        let value = value.split(" ;").next().unwrap_or_default().trim();
        match key.trim() {
            "inventory" | "hostfile" => {
                cfg.inventory = value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| path_from(v, base))
                    .collect();
            }
            "roles_path" => {
                cfg.roles_path = value
                    .split(':')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| path_from(v, base))
                    .collect();
            }
            "remote_user" => cfg.remote_user = Some(value.to_string()),
            "private_key_file" => cfg.private_key_file = Some(path_from(value, base)),
            "vault_password_file" => cfg.vault_password_file = Some(path_from(value, base)),
            "vault_identity_list" => {
                cfg.vault_identity_list = value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            _ => {}
        }
    }
    cfg
}

/// Whether a folder is writable by anybody (a planted ansible.cfg there is not read).
fn world_writable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o002 != 0)
}

/// The configuration file Ansible would read, if any.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ANSIBLE_CONFIG").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return Some(if p.is_dir() { p.join("ansible.cfg") } else { p }).filter(|p| p.is_file());
    }
    let cwd = std::env::current_dir().ok();
    let local = cwd
        .as_ref()
        .filter(|d| !world_writable(d))
        .map(|d| d.join("ansible.cfg"));
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ansible.cfg"));
    [local, home, Some(PathBuf::from("/etc/ansible/ansible.cfg"))]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
}

/// The configuration Ansible would use here: the file's, then the `ANSIBLE_*` variables over it.
pub fn load() -> Result<AnsibleCfg, String> {
    let mut cfg = match find() {
        Some(path) => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            AnsibleCfg {
                path: Some(path.clone()),
                ..parse(&text, &base)
            }
        }
        None => AnsibleCfg::default(),
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(v) = var("ANSIBLE_INVENTORY") {
        cfg.inventory = v.split(',').map(|p| path_from(p.trim(), &cwd)).collect();
    }
    if let Some(v) = var("ANSIBLE_ROLES_PATH") {
        cfg.roles_path = v.split(':').map(|p| path_from(p.trim(), &cwd)).collect();
    }
    if let Some(v) = var("ANSIBLE_REMOTE_USER") {
        cfg.remote_user = Some(v);
    }
    if let Some(v) = var("ANSIBLE_PRIVATE_KEY_FILE") {
        cfg.private_key_file = Some(path_from(&v, &cwd));
    }
    if let Some(v) = var("ANSIBLE_VAULT_PASSWORD_FILE") {
        cfg.vault_password_file = Some(path_from(&v, &cwd));
    }
    if let Some(v) = var("ANSIBLE_VAULT_IDENTITY_LIST") {
        cfg.vault_identity_list = v.split(',').map(|s| s.trim().to_string()).collect();
    }
    Ok(cfg)
}

fn connect_defaults(connect: &mut ConnectArgs, cfg: &AnsibleCfg) {
    if connect.user.is_none() {
        connect.user.clone_from(&cfg.remote_user);
    }
    if connect.private_key.is_none() {
        connect.private_key.clone_from(&cfg.private_key_file);
    }
}

fn inventory_default(inventory: &mut Vec<PathBuf>, cfg: &AnsibleCfg) {
    if inventory.is_empty() {
        inventory.clone_from(&cfg.inventory);
    }
}

/// Fills what the command line left out from the configuration.
pub fn apply(command: &mut Command, cfg: &AnsibleCfg) {
    match command {
        Command::Inventory(a) => inventory_default(&mut a.source.inventory, cfg),
        Command::Run(a) => {
            inventory_default(&mut a.source.inventory, cfg);
            connect_defaults(&mut a.connect, cfg);
        }
        Command::Push(a) => {
            inventory_default(&mut a.inventory, cfg);
            connect_defaults(&mut a.connect, cfg);
            if a.roles_path.is_empty() {
                a.roles_path.clone_from(&cfg.roles_path);
            }
        }
        Command::Impact(a) => {
            inventory_default(&mut a.source.inventory, cfg);
            connect_defaults(&mut a.connect, cfg);
        }
        Command::Render(a) => inventory_default(&mut a.source.inventory, cfg),
        Command::Snapshot(a) => {
            inventory_default(&mut a.source.inventory, cfg);
            connect_defaults(&mut a.connect, cfg);
        }
        Command::Verify(a) => {
            inventory_default(&mut a.source.inventory, cfg);
            connect_defaults(&mut a.connect, cfg);
        }
        Command::Compose(_) | Command::Doc(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_read_as_ansible_reads_them() {
        let cfg = parse(
            "# a comment\n[defaults]\ninventory = inventories/homelab/hosts.yml ; inline\nroles_path = roles:/etc/ansible/roles\nremote_user=ops\nprivate_key_file = keys/id_ed25519\nhost_key_checking = True\n[privilege_escalation]\nremote_user = not-this\n",
            Path::new("/srv/repo"),
        );
        assert_eq!(
            cfg.inventory,
            [PathBuf::from("/srv/repo/inventories/homelab/hosts.yml")]
        );
        assert_eq!(
            cfg.roles_path,
            [
                PathBuf::from("/srv/repo/roles"),
                PathBuf::from("/etc/ansible/roles")
            ]
        );
        assert_eq!(cfg.remote_user.as_deref(), Some("ops"));
        assert_eq!(
            cfg.private_key_file,
            Some(PathBuf::from("/srv/repo/keys/id_ed25519"))
        );
    }
}
