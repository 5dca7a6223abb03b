//! Ansible Vault, as ansible-core writes it: `$ANSIBLE_VAULT;1.1;AES256` (or `1.2;AES256;ID`), then
//! hex lines of `hex(salt) \n hex(hmac) \n hex(ciphertext)`. The key, the HMAC key and the counter
//! come from PBKDF2-HMAC-SHA256 (10,000 rounds) of the vault password and the salt; the HMAC-SHA256
//! of the ciphertext is checked before AES-256-CTR decrypts it; the plaintext is PKCS#7-padded.
//!
//! The run's secrets are installed once ([`install`]) by the command line; every YAML file and
//! `!vault` value decrypts with them. What a vault revealed is remembered ([`revealed`]) so that
//! output and journals can hide it: a decrypted value is a secret.

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Why a vault could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VaultError {
    /// Not `$ANSIBLE_VAULT;1.1;AES256` or `1.2;AES256;ID`.
    #[error("not an Ansible Vault text: {0}")]
    Format(String),
    /// No vault password was given to this run.
    #[error(
        "it is vault-encrypted{}, and no vault password was given: use --vault-password-file FILE, --vault-id [ID@]FILE or --ask-vault-pass",
        id.as_deref().map(|i| format!(" (vault id `{i}`)")).unwrap_or_default()
    )]
    NoSecret {
        /// The vault id the text names, if any.
        id: Option<String>,
    },
    /// None of the given passwords opens it.
    #[error(
        "no vault password given opens it{} (tried {tried})",
        id.as_deref().map(|i| format!(" (vault id `{i}`)")).unwrap_or_default()
    )]
    WrongPassword {
        /// The vault id the text names, if any.
        id: Option<String>,
        /// How many passwords were tried.
        tried: usize,
    },
}

/// One vault password and its id (`default` when none was given).
pub struct Secret {
    /// The vault id.
    pub id: String,
    password: Vec<u8>,
}

impl Secret {
    /// A password for vault id `id`.
    pub fn new(id: &str, password: &[u8]) -> Secret {
        Secret {
            id: id.to_string(),
            password: password.to_vec(),
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({}, ********)", self.id)
    }
}

/// The vault passwords of a run, tried in order (the one whose id the text names first).
#[derive(Debug, Default)]
pub struct Keyring {
    secrets: Vec<Secret>,
}

/// A vault text's header and payload.
struct Envelope {
    id: Option<String>,
    salt: Vec<u8>,
    hmac: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether `text` is a vault (its first line is the vault header).
pub fn is_vault(text: &str) -> bool {
    text.trim_start().starts_with("$ANSIBLE_VAULT;")
}

fn envelope(text: &str) -> Result<Envelope, VaultError> {
    let mut lines = text.trim().lines();
    let header = lines.next().unwrap_or_default().trim();
    let fields: Vec<&str> = header.split(';').map(str::trim).collect();
    let id = match fields[..] {
        ["$ANSIBLE_VAULT", "1.1", "AES256"] => None,
        ["$ANSIBLE_VAULT", "1.2", "AES256", id] => Some(id.to_string()),
        _ => {
            return Err(VaultError::Format(format!(
                "header `{header}` (drover reads 1.1 and 1.2 with AES256)"
            )));
        }
    };
    let hex: String = lines.map(str::trim).collect();
    let inner = unhex(&hex)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| VaultError::Format("the payload is not hex".into()))?;
    let parts: Vec<&str> = inner.lines().collect();
    let [salt, hmac, ciphertext] = parts[..] else {
        return Err(VaultError::Format(
            "the payload is not salt, hmac and ciphertext".into(),
        ));
    };
    let field = |f: &str, what: &str| {
        unhex(f).ok_or_else(|| VaultError::Format(format!("the {what} is not hex")))
    };
    Ok(Envelope {
        id,
        salt: field(salt, "salt")?,
        hmac: field(hmac, "hmac")?,
        ciphertext: field(ciphertext, "ciphertext")?,
    })
}

/// Decrypts with one password; none when the HMAC says it is the wrong one.
fn open(env: &Envelope, password: &[u8]) -> Option<Vec<u8>> {
    let mut derived = [0u8; 80];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, &env.salt, 10_000, &mut derived);
    let (key, rest) = derived.split_at(32);
    let (hmac_key, iv) = rest.split_at(32);
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(hmac_key).ok()?;
    mac.update(&env.ciphertext);
    mac.verify_slice(&env.hmac).ok()?;
    let mut plain = env.ciphertext.clone();
    let mut cipher = ctr::Ctr128BE::<Aes256>::new_from_slices(key, iv).ok()?;
    cipher.apply_keystream(&mut plain);
    // PKCS#7: the last byte says how many padding bytes there are.
    let pad = usize::from(*plain.last()?);
    if pad == 0 || pad > 16 || pad > plain.len() {
        return None;
    }
    plain.truncate(plain.len() - pad);
    Some(plain)
}

impl Keyring {
    /// The passwords, in the order given.
    pub fn new(secrets: Vec<Secret>) -> Keyring {
        Keyring { secrets }
    }

    /// Whether no password was given.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The plaintext of vault `text`: the secret with the vault's id first, then the others (as
    /// Ansible tries them).
    pub fn decrypt(&self, text: &str) -> Result<Vec<u8>, VaultError> {
        let env = envelope(text)?;
        if self.secrets.is_empty() {
            return Err(VaultError::NoSecret { id: env.id });
        }
        let mut order: Vec<&Secret> = self.secrets.iter().collect();
        order.sort_by_key(|s| Some(&s.id) != env.id.as_ref());
        order
            .iter()
            .find_map(|s| open(&env, &s.password))
            .ok_or(VaultError::WrongPassword {
                id: env.id,
                tried: self.secrets.len(),
            })
    }
}

/// The run's keyring.
static KEYRING: OnceLock<Keyring> = OnceLock::new();

/// Everything a vault revealed in this process, for output to hide.
static REVEALED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Installs the run's vault passwords (once; a second call is ignored and says so).
pub fn install(keyring: Keyring) -> bool {
    KEYRING.set(keyring).is_ok()
}

/// Decrypts `text` with the run's passwords, and remembers the plaintext as a secret.
pub fn decrypt(text: &str) -> Result<String, VaultError> {
    let empty = Keyring::default();
    let plain = KEYRING.get().unwrap_or(&empty).decrypt(text)?;
    let plain = String::from_utf8_lossy(&plain).into_owned();
    reveal(&plain);
    Ok(plain)
}

/// Remembers `value` as a secret: output that contains it shows `********` instead. Values shorter
/// than 4 characters are not hidden (they would hide every `1` and `yes` in the output).
pub fn reveal(value: &str) {
    if let Ok(mut all) = REVEALED.lock() {
        for part in std::iter::once(value).chain(value.lines()) {
            let part = part.trim();
            if part.chars().count() >= 4 && !all.iter().any(|s| s == part) {
                all.push(part.to_string());
            }
        }
        // Longest first, so that a secret containing another is hidden whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every revealed secret replaced by `********`.
pub fn hide(text: &str) -> std::borrow::Cow<'_, str> {
    let Ok(all) = REVEALED.lock() else {
        return text.into();
    };
    if !all.iter().any(|s| text.contains(s.as_str())) {
        return text.into();
    }
    let mut out = text.to_string();
    for s in all.iter() {
        out = out.replace(s.as_str(), "********");
    }
    out.into()
}

/// Whether any secret has been revealed (output needs hiding).
pub fn any_revealed() -> bool {
    REVEALED.lock().is_ok_and(|all| !all.is_empty())
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// It is a vault that could not be opened.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// A file's text, decrypted when it is a vault (a vault-encrypted vars file or inventory).
pub fn read_to_string(path: &Path) -> Result<String, ReadError> {
    let text = std::fs::read_to_string(path)?;
    if !is_vault(&text) {
        return Ok(text);
    }
    Ok(decrypt(&text)?)
}

/// A file's bytes, decrypted when it is a vault (a `copy` source).
pub fn read(path: &Path) -> Result<Vec<u8>, ReadError> {
    let bytes = std::fs::read(path)?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if is_vault(text) => Ok(decrypt(text)?.into_bytes()),
        _ => Ok(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name),
        )
        .unwrap()
    }

    fn keyring(secrets: &[(&str, &str)]) -> Keyring {
        Keyring::new(
            secrets
                .iter()
                .map(|(i, p)| Secret::new(i, p.as_bytes()))
                .collect(),
        )
    }

    #[test]
    fn files_ansible_vault_encrypted_decrypt() {
        let plain = "db_password: s3cr3t-from-vault\nusers:\n  - alice\n";
        let k = keyring(&[("default", "correct horse battery staple")]);
        assert_eq!(
            k.decrypt(&fixture("vars-1.1.yml")).unwrap(),
            plain.as_bytes()
        );
        // Format 1.2 names its vault id; the matching secret is tried first, any works.
        let k = keyring(&[("default", "wrong"), ("ops", "ops-secret")]);
        assert_eq!(
            k.decrypt(&fixture("vars-1.2.yml")).unwrap(),
            plain.as_bytes()
        );
    }

    #[test]
    fn a_wrong_or_missing_password_is_an_error_not_garbage() {
        let text = fixture("vars-1.1.yml");
        assert_eq!(
            keyring(&[("default", "nope")]).decrypt(&text),
            Err(VaultError::WrongPassword { id: None, tried: 1 })
        );
        assert_eq!(
            Keyring::default().decrypt(&fixture("vars-1.2.yml")),
            Err(VaultError::NoSecret {
                id: Some("ops".into())
            })
        );
        assert!(matches!(
            Keyring::default().decrypt("$ANSIBLE_VAULT;2.0;AES\n00"),
            Err(VaultError::Format(_))
        ));
        assert!(matches!(
            keyring(&[("default", "x")]).decrypt("$ANSIBLE_VAULT;1.1;AES256\nzz"),
            Err(VaultError::Format(_))
        ));
    }

    #[test]
    fn revealed_values_are_hidden_in_text() {
        reveal("hunter2-secret\nline-two");
        assert_eq!(hide("pw=hunter2-secret; x"), "pw=********; x");
        assert_eq!(hide("line-two"), "********");
        assert_eq!(hide("nothing here"), "nothing here");
        reveal("ok");
        assert_eq!(hide("ok"), "ok");
    }
}
