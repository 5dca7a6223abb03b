//! The run's vault passwords, from the flags, then `ANSIBLE_VAULT_PASSWORD_FILE` /
//! `ANSIBLE_VAULT_IDENTITY_LIST` and ansible.cfg, as Ansible gathers them. A password file's
//! trailing whitespace is dropped; an executable file is run and what it prints is the password.
//! The passwords are installed once, before any file is read; they are never printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use drover_vault::{Keyring, Secret};

use crate::args::VaultArgs;

/// How long a password script may take.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(60);

/// One place a password comes from.
#[derive(Debug, PartialEq)]
enum Source {
    File(PathBuf),
    Prompt,
}

/// `ID@SOURCE` or `SOURCE` (id `default`).
fn vault_id(text: &str) -> (String, Source) {
    let (id, source) = match text.split_once('@') {
        Some((id, source)) if !id.is_empty() => (id.to_string(), source),
        _ => ("default".to_string(), text),
    };
    let source = match source {
        "prompt" => Source::Prompt,
        path => Source::File(PathBuf::from(path)),
    };
    (id, source)
}

/// Whether a password script is a vault client script, which takes `--vault-id ID`: its name
/// without its extension ends `-client` (`vault-client.sh`), as Ansible tells them.
fn is_client(path: &Path) -> bool {
    path.with_extension("")
        .to_string_lossy()
        .ends_with("-client")
}

/// What a password script prints, within [`SCRIPT_DEADLINE`].
fn run_script(path: &Path, id: &str) -> Result<String, String> {
    // A bare name is a file of the current folder (as Ansible reads it), not a program on PATH.
    let mut command =
        Command::new(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    if is_client(path) {
        command.args(["--vault-id", id]);
    }
    let (status, out) = drover_shell::run_local(&mut command, SCRIPT_DEADLINE, 1 << 16)
        .map_err(|e| format!("vault password script {}: {e}", path.display()))?;
    if !status.success() {
        return Err(format!(
            "vault password script {} failed ({status})",
            path.display()
        ));
    }
    Ok(String::from_utf8_lossy(&out).trim_end().to_string())
}

/// The password a file holds (or, executable, prints).
fn from_file(path: &Path, id: &str) -> Result<String, String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("vault password file {}: {e}", path.display()))?;
    let password = if meta.permissions().mode() & 0o111 != 0 {
        run_script(path, id)?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| format!("vault password file {}: {e}", path.display()))?
            .trim_end()
            .to_string()
    };
    if password.is_empty() {
        return Err(format!("vault password file {} is empty", path.display()));
    }
    Ok(password)
}

/// Every `(id, source)` the flags, the environment and ansible.cfg give, in that order, each once.
fn sources(args: &VaultArgs, cfg: &crate::ansible_cfg::AnsibleCfg) -> Vec<(String, Source)> {
    let mut all: Vec<(String, Source)> = args.vault_id.iter().map(|v| vault_id(v)).collect();
    all.extend(
        args.vault_password_file
            .iter()
            .map(|p| ("default".to_string(), Source::File(p.clone()))),
    );
    if args.ask_vault_pass {
        all.push(("default".into(), Source::Prompt));
    }
    all.extend(cfg.vault_identity_list().iter().map(|v| vault_id(v)));
    if let Some(p) = cfg.vault_password_file() {
        all.push(("default".into(), Source::File(p)));
    }
    let mut unique: Vec<(String, Source)> = Vec::new();
    for s in all {
        if !unique.contains(&s) {
            unique.push(s);
        }
    }
    unique
}

/// Reads every password and installs them for the run; returns the warnings to show.
///
/// As in Ansible, a password file that cannot be read is a warning while another source gives
/// a password (ansible.cfg's `vault_password_file` on a machine that lacks it, beside
/// `--vault-password-file`), and an error when no source does. A prompt that fails is an error.
pub fn install(
    args: &VaultArgs,
    cfg: &crate::ansible_cfg::AnsibleCfg,
    prompt: impl Fn(&str) -> Result<String, String>,
) -> Result<Vec<String>, String> {
    let mut secrets = Vec::new();
    let mut unread = Vec::new();
    for (id, source) in sources(args, cfg) {
        let password = match &source {
            Source::File(path) => match from_file(path, &id) {
                Ok(password) => password,
                Err(e) => {
                    unread.push(e);
                    continue;
                }
            },
            Source::Prompt if id == "default" => prompt("Vault password: ")?,
            Source::Prompt => prompt(&format!("Vault password ({id}): "))?,
        };
        secrets.push(Secret::new(&id, password.as_bytes()));
    }
    if secrets.is_empty()
        && let Some(e) = unread.pop()
    {
        return Err(e);
    }
    drover_vault::install(Keyring::new(secrets));
    Ok(unread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_scripts_are_told_as_ansible_tells_them() {
        assert!(is_client(Path::new("vault-client.sh")));
        assert!(is_client(Path::new("/etc/ansible/keyring-client")));
        assert!(!is_client(Path::new("pass.sh")));
        assert!(!is_client(Path::new("client.sh")));
    }

    #[test]
    fn vault_ids_name_their_source() {
        assert_eq!(vault_id("ops@prompt"), ("ops".into(), Source::Prompt));
        assert_eq!(
            vault_id("ops@/etc/ops.pw"),
            ("ops".into(), Source::File("/etc/ops.pw".into()))
        );
        assert_eq!(
            vault_id("pw.txt"),
            ("default".into(), Source::File("pw.txt".into()))
        );
    }

    #[test]
    fn a_password_file_or_script_gives_the_password() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret \n").unwrap();
        assert_eq!(from_file(&file, "default").unwrap(), "s3cret");
        let script = dir.path().join("pw.sh");
        std::fs::write(&script, "#!/bin/sh\necho from-script\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(from_file(&script, "default").unwrap(), "from-script");
        std::fs::write(&file, "\n").unwrap();
        assert!(from_file(&file, "default").unwrap_err().contains("empty"));
    }
}
