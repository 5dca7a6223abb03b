//! Private keys, loaded once per run before any connection, so a passphrase is asked for once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::keys::PrivateKey;

use crate::error::SshError;

/// Asks the operator for the passphrase of the key file at the given path.
pub type PassphrasePrompt = Box<dyn Fn(&Path) -> Option<String> + Send + Sync>;

/// Where passphrases for encrypted keys come from.
pub enum PassphraseSource {
    /// Never ask: an encrypted key is an error.
    None,
    /// A fixed passphrase (from an environment variable).
    Fixed(String),
    /// Ask the operator, once per key file.
    Prompt(PassphrasePrompt),
}

/// Decrypted private keys by path, shared by every connection of a run.
#[derive(Default, Clone)]
pub struct KeyStore {
    keys: HashMap<PathBuf, Arc<PrivateKey>>,
}

impl KeyStore {
    /// Loads each key file once. An unreadable file, a non-key or a wrong passphrase is an error here,
    /// before any host is touched.
    pub fn load(paths: &[PathBuf], passphrase: &PassphraseSource) -> Result<KeyStore, SshError> {
        let mut store = KeyStore::default();
        for path in paths {
            if !store.keys.contains_key(path) {
                let key = load_one(path, passphrase)?;
                store.keys.insert(path.clone(), Arc::new(key));
            }
        }
        Ok(store)
    }

    /// Adds the key files that load without asking anything, skipping the rest: OpenSSH's default
    /// keys are offered only when they are usable as they are.
    pub fn add_usable(&mut self, paths: &[PathBuf]) {
        for path in paths {
            if let Ok(key) = load_one(path, &PassphraseSource::None) {
                self.keys
                    .entry(path.clone())
                    .or_insert_with(|| Arc::new(key));
            }
        }
    }

    /// The key loaded from `path`, if it was.
    pub fn get(&self, path: &Path) -> Option<Arc<PrivateKey>> {
        self.keys.get(path).cloned()
    }
}

/// The mode of a key file that its owner (the user running drover) left open to group or others,
/// which OpenSSH refuses ("UNPROTECTED PRIVATE KEY FILE"); a file of another owner is judged by
/// whoever could read it, as in OpenSSH's sshkey_perm_ok.
fn too_open(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode() & 0o7777;
    (meta.is_file() && meta.uid() == current_uid() && mode & 0o077 != 0).then_some(mode)
}

/// The user id of this process: the owner of /proc/self (no libc call: the crate forbids unsafe).
fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

fn load_one(path: &Path, passphrase: &PassphraseSource) -> Result<PrivateKey, SshError> {
    let key_err = |reason: String| SshError::KeyFile {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| key_err(format!("cannot read: {e}")))?;
    if let Some(mode) = too_open(&meta) {
        return Err(key_err(format!(
            "is readable by others (mode {mode:04o}); like OpenSSH, drover refuses it: chmod 600 {}",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| key_err(format!("cannot read: {e}")))?;
    match russh::keys::decode_secret_key(&text, None) {
        Ok(key) => Ok(key),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let pass = match passphrase {
                PassphraseSource::None => None,
                PassphraseSource::Fixed(p) => Some(p.clone()),
                PassphraseSource::Prompt(ask) => ask(path),
            }
            .ok_or_else(|| {
                key_err("is encrypted and no passphrase was given (set DROVER_SSH_PASSPHRASE or run in a terminal)".into())
            })?;
            russh::keys::decode_secret_key(&text, Some(&pass))
                .map_err(|_| key_err("wrong passphrase".into()))
        }
        Err(e) => Err(key_err(format!("not a usable private key: {e}"))),
    }
}
