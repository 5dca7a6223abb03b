//! OpenSSH known_hosts files: plain, `[host]:port`, wildcard, negated and hashed (`|1|salt|hash`) names,
//! `@revoked` keys, and appending newly accepted keys.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::ssh_key::{HashAlg, PublicKey};
use sha1::Sha1;

/// What to do with a host key that known_hosts does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyPolicy {
    /// Refuse it (OpenSSH's `StrictHostKeyChecking=yes`). The default.
    #[default]
    Strict,
    /// Record it and go on (`StrictHostKeyChecking=accept-new`). A changed key is still refused.
    AcceptNew,
}

/// The verdict on a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyCheck {
    /// known_hosts lists this key for this host.
    Known,
    /// known_hosts has no key for this host.
    Unknown,
    /// known_hosts lists a different key for this host: possibly an attack, always refused.
    Changed {
        /// The line of the recorded key.
        line: usize,
        /// The recorded key.
        recorded: Box<PublicKey>,
    },
    /// The key is marked `@revoked`.
    Revoked {
        /// The line of the revocation.
        line: usize,
    },
}

#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    revoked: bool,
    names: String,
    key: PublicKey,
}

/// A known_hosts file, read once per run and shared by every connection.
#[derive(Debug)]
pub struct KnownHosts {
    path: PathBuf,
    entries: Mutex<Vec<Entry>>,
}

impl KnownHosts {
    /// Reads `path`; a missing file is an empty list. Lines that do not parse are skipped, as OpenSSH does.
    pub fn load(path: &Path) -> std::io::Result<KnownHosts> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let entries = text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| parse_line(i + 1, l))
            .collect();
        Ok(KnownHosts {
            path: path.to_path_buf(),
            entries: Mutex::new(entries),
        })
    }

    /// The file this list was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks `key` for `host` on `port`.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> HostKeyCheck {
        let name = host_port(host, port);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mine: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.revoked || names_match(&e.names, &name))
            .collect();
        if let Some(e) = mine.iter().find(|e| e.revoked && e.key == *key) {
            return HostKeyCheck::Revoked { line: e.line };
        }
        let recorded: Vec<&&Entry> = mine.iter().filter(|e| !e.revoked).collect();
        if recorded.iter().any(|e| e.key == *key) {
            return HostKeyCheck::Known;
        }
        // Prefer reporting a recorded key of the same type, which is what was replaced.
        let changed = recorded
            .iter()
            .find(|e| e.key.algorithm() == key.algorithm())
            .or(recorded.first());
        match changed {
            Some(e) => HostKeyCheck::Changed {
                line: e.line,
                recorded: Box::new(e.key.clone()),
            },
            None => HostKeyCheck::Unknown,
        }
    }

    /// The key algorithms recorded for a host, so the client can ask the server for one it can check.
    pub fn algorithms_for(&self, host: &str, port: u16) -> Vec<russh::keys::Algorithm> {
        let name = host_port(host, port);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for e in entries
            .iter()
            .filter(|e| !e.revoked && names_match(&e.names, &name))
        {
            if !out.contains(&e.key.algorithm()) {
                out.push(e.key.algorithm());
            }
        }
        out
    }

    /// Records a newly accepted key, in the file and in memory.
    pub fn add(&self, host: &str, port: u16, key: &PublicKey) -> std::io::Result<()> {
        let names = host_port(host, port);
        let text = key.to_openssh().map_err(std::io::Error::other)?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        writeln!(file, "{names} {text}")?;
        let line = fs::read_to_string(&self.path)?.lines().count();
        entries.push(Entry {
            line,
            revoked: false,
            names,
            key: key.clone(),
        });
        Ok(())
    }
}

/// The SHA256 fingerprint OpenSSH shows for a key.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// How OpenSSH names a host in known_hosts: `host`, or `[host]:port` off port 22.
fn host_port(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

fn parse_line(line: usize, text: &str) -> Option<Entry> {
    let mut fields = text.split_whitespace();
    let mut first = fields.next()?;
    if first.starts_with('#') {
        return None;
    }
    let revoked = match first {
        "@revoked" => true,
        // Certificate authorities vouch for certificates, which drover does not ask servers for.
        "@cert-authority" => return None,
        _ => false,
    };
    if revoked {
        first = fields.next()?;
    }
    let algorithm = fields.next()?;
    let blob = fields.next()?;
    let key = PublicKey::from_openssh(&format!("{algorithm} {blob}")).ok()?;
    Some(Entry {
        line,
        revoked,
        names: first.to_string(),
        key,
    })
}

/// OpenSSH's rule: some pattern matches and no negated pattern does.
fn names_match(patterns: &str, name: &str) -> bool {
    let mut matched = false;
    for pattern in patterns.split(',') {
        if let Some(negated) = pattern.strip_prefix('!') {
            if glob_match(negated, name) {
                return false;
            }
        } else if hashed_match(pattern, name).unwrap_or_else(|| glob_match(pattern, name)) {
            matched = true;
        }
    }
    matched
}

/// `Some(verdict)` for a hashed entry, `None` for a plain one.
fn hashed_match(pattern: &str, name: &str) -> Option<bool> {
    let rest = pattern.strip_prefix("|1|")?;
    let (salt, hash) = rest.split_once('|')?;
    let (salt, hash) = (B64.decode(salt).ok()?, B64.decode(hash).ok()?);
    let mut mac = Hmac::<Sha1>::new_from_slice(&salt).ok()?;
    mac.update(name.as_bytes());
    Some(mac.verify_slice(&hash).is_ok())
}

fn glob_match(pattern: &str, name: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == name;
    }
    globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(false)
        .build()
        .map(|g| g.compile_matcher().is_match(name))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINWd83sJzGXtvj4K0Yy6oHB2ZQ3zwFwxL5iaKiW1cmEo";
    const ED2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE5q5Yo9Yz4UjmMGoY0LW2CXFdnLaOocmsArc9XrWxRC";

    fn key(text: &str) -> PublicKey {
        PublicKey::from_openssh(text).unwrap()
    }

    fn known(text: &str) -> KnownHosts {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        fs::write(&path, text).unwrap();
        let kh = KnownHosts::load(&path).unwrap();
        std::mem::forget(dir);
        kh
    }

    #[test]
    fn plain_port_and_wildcard_names() {
        let kh = known(&format!(
            "# comment\n[127.0.0.2]:2222 {ED}\n*.example.com,!bad.example.com {ED}\n"
        ));
        assert_eq!(kh.check("127.0.0.2", 2222, &key(ED)), HostKeyCheck::Known);
        assert_eq!(kh.check("127.0.0.2", 22, &key(ED)), HostKeyCheck::Unknown);
        assert_eq!(
            kh.check("web.example.com", 22, &key(ED)),
            HostKeyCheck::Known
        );
        assert_eq!(
            kh.check("bad.example.com", 22, &key(ED)),
            HostKeyCheck::Unknown
        );
    }

    #[test]
    fn hashed_names_match() {
        // `ssh-keygen -H` output for "[127.0.0.2]:2222" and the key ED.
        let kh = known(
            "|1|PqI2rA61tIX17E5UvUaxGYnOXVg=|yXPno+QmgKm/B8nb/B0LDgDea14= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINWd83sJzGXtvj4K0Yy6oHB2ZQ3zwFwxL5iaKiW1cmEo\n",
        );
        assert_eq!(kh.check("127.0.0.2", 2222, &key(ED)), HostKeyCheck::Known);
        assert_eq!(kh.check("127.0.0.3", 2222, &key(ED)), HostKeyCheck::Unknown);
    }

    #[test]
    fn a_different_key_is_a_change_with_its_line() {
        let kh = known(&format!("other {ED2}\nhost {ED}\n"));
        match kh.check("host", 22, &key(ED2)) {
            HostKeyCheck::Changed { line, recorded } => {
                assert_eq!(line, 2);
                assert_eq!(*recorded, key(ED));
            }
            other => panic!("expected a change, got {other:?}"),
        }
    }

    #[test]
    fn revoked_keys_are_refused_and_new_keys_are_recorded() {
        let kh = known(&format!("@revoked * {ED2}\n"));
        assert_eq!(
            kh.check("h", 22, &key(ED2)),
            HostKeyCheck::Revoked { line: 1 }
        );
        kh.add("h", 2200, &key(ED)).unwrap();
        assert_eq!(kh.check("h", 2200, &key(ED)), HostKeyCheck::Known);
        let reread = KnownHosts::load(kh.path()).unwrap();
        assert_eq!(reread.check("h", 2200, &key(ED)), HostKeyCheck::Known);
    }
}
