//! Turns connection arguments into the run-wide settings the executor uses: known_hosts read once,
//! ssh_config read once, keys decrypted once (asking for a passphrase at most once per key), and the
//! sudo password asked for at most once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use drover_inventory::Inventory;
use drover_rollout::{Connection, ConnectionSettings, HostConnection};
use drover_ssh::{ClientOptions, HostKeyPolicy, KeyStore, KnownHosts, PassphraseSource, SshConfig};

use crate::args::ConnectArgs;
use crate::exit::{Failure, bad_input};

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

/// Settings and the resolved connection of each selected host, in order.
pub fn connect(
    args: &ConnectArgs,
    inventory: &Inventory,
    hosts: &[&str],
) -> Result<(ConnectionSettings, Vec<HostConnection>), Failure> {
    let mut settings = base_settings(args)?;
    let resolved: Vec<HostConnection> = hosts
        .iter()
        .map(|h| HostConnection::resolve(h, &inventory.host_vars(h), &settings))
        .collect::<Result<_, _>>()
        .map_err(|e| bad_input(anyhow::anyhow!(e)))?;
    settings.client.keys = Arc::new(load_keys(
        &resolved,
        &settings.client.default_identity_files,
    )?);
    Ok((settings, resolved))
}

fn base_settings(args: &ConnectArgs) -> Result<ConnectionSettings, Failure> {
    let known_hosts_path = args
        .known_hosts
        .clone()
        .unwrap_or_else(|| home().join(".ssh/known_hosts"));
    let known_hosts = KnownHosts::load(&known_hosts_path).map_err(|e| {
        bad_input(anyhow::anyhow!(
            "cannot read known_hosts {}: {e}",
            known_hosts_path.display()
        ))
    })?;
    let ssh_config = match &args.ssh_config {
        Some(path) => Some(SshConfig::load(path).map_err(|e| bad_input(anyhow::anyhow!(e)))?),
        None => {
            let path = home().join(".ssh/config");
            match path.exists() {
                true => Some(SshConfig::load(&path).map_err(|e| bad_input(anyhow::anyhow!(e)))?),
                false => None,
            }
        }
    };
    let become_password = if args.ask_become_pass {
        Some(prompt_secret("sudo password: ")?)
    } else {
        std::env::var("DROVER_BECOME_PASSWORD").ok()
    };
    let default_identity_files = ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|f| home().join(".ssh").join(f))
        .filter(|p| p.exists())
        .collect();
    Ok(ConnectionSettings {
        client: ClientOptions {
            known_hosts: Arc::new(known_hosts),
            policy: if args.accept_new {
                HostKeyPolicy::AcceptNew
            } else {
                HostKeyPolicy::Strict
            },
            keys: Arc::new(KeyStore::default()),
            use_agent: !args.no_agent,
            default_identity_files,
            connect_timeout: args.connect_timeout,
        },
        ssh_config,
        user: args.user.clone(),
        private_key: args.private_key.clone(),
        become_all: args.become_all,
        become_user: args.become_user.clone(),
        become_flags: args.become_flags.clone(),
        become_password,
    })
}

/// Loads every key a host names, strictly (a bad key is bad input), and the default keys that load
/// without a passphrase.
fn load_keys(hosts: &[HostConnection], defaults: &[PathBuf]) -> Result<KeyStore, Failure> {
    let mut explicit: Vec<PathBuf> = Vec::new();
    for host in hosts {
        if let Connection::Ssh(target) = &host.connection {
            for path in &target.identity_files {
                if !explicit.contains(path) {
                    explicit.push(path.clone());
                }
            }
        }
    }
    let passphrase = match std::env::var("DROVER_SSH_PASSPHRASE") {
        Ok(p) => PassphraseSource::Fixed(p),
        Err(_) if console::Term::stderr().is_term() => {
            PassphraseSource::Prompt(Box::new(|path: &Path| {
                prompt_secret(&format!("passphrase for {}: ", path.display())).ok()
            }))
        }
        Err(_) => PassphraseSource::None,
    };
    let mut store = KeyStore::load(&explicit, &passphrase).map_err(bad_input)?;
    store.add_usable(defaults);
    Ok(store)
}

/// Reads a secret from the terminal without echoing it.
pub fn prompt_secret(prompt: &str) -> Result<String, Failure> {
    let term = console::Term::stderr();
    if !term.is_term() {
        return Err(bad_input(anyhow::anyhow!(
            "cannot prompt for a secret without a terminal; set it in the environment instead"
        )));
    }
    term.write_str(prompt).map_err(Failure::from)?;
    term.read_secure_line().map_err(Failure::from)
}
