//! user's `generate_ssh_key`: a key pair made with ssh-keygen for the account unless its key file
//! exists (as the user module does: an existing key is never replaced), owned by the account, in a
//! `.ssh` folder made 0700; the public key and its fingerprint registered.

use drover_ssh::shell::quote;
use serde_json::{Map, Value as Json, json};

use super::Args;
use super::accounts::Account;

/// Marks the public key's line in the script's output.
const PUB_MARK: &str = "__DROVER_PUB__";

/// What `generate_ssh_key` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub kind: String,
    pub bits: Option<u32>,
    /// Relative to the home folder unless absolute.
    pub file: Option<String>,
    pub comment: Option<String>,
}

impl KeySpec {
    /// None unless `generate_ssh_key` is true.
    pub fn from_args(args: &Args) -> Result<Option<KeySpec>, String> {
        if args.bool("generate_ssh_key") != Some(true) {
            return Ok(None);
        }
        let kind = args.str("ssh_key_type").unwrap_or_else(|| "rsa".into());
        if !matches!(
            kind.as_str(),
            "rsa" | "dsa" | "ecdsa" | "ed25519" | "ecdsa-sk" | "ed25519-sk"
        ) {
            return Err(format!(
                "`ssh_key_type: {kind}` is not a type ssh-keygen makes"
            ));
        }
        let bits = match args.num("ssh_key_bits") {
            None => None,
            Some(b) if b.fract() == 0.0 && (0.0..=16384.0).contains(&b) && b > 0.0 => {
                Some(b as u32)
            }
            Some(b) => return Err(format!("`ssh_key_bits: {b}` is not a key size")),
        };
        Ok(Some(KeySpec {
            kind,
            bits,
            file: args.str("ssh_key_file"),
            comment: args.str("ssh_key_comment"),
        }))
    }

    /// The key file's path for `account`.
    pub fn path(&self, account: &Account) -> String {
        let rel = self
            .file
            .clone()
            .unwrap_or_else(|| format!(".ssh/id_{}", self.kind));
        if rel.starts_with('/') {
            rel
        } else {
            format!("{}/{rel}", account.home.trim_end_matches('/'))
        }
    }

    /// The script: the pair made unless the key file exists (`changed` printed; under --check
    /// only said), then the public key and its fingerprint.
    pub fn command(&self, account: &Account, check: bool) -> String {
        let f = quote(&self.path(account));
        let owner = format!("{}:{}", account.uid, account.gid);
        let comment = match &self.comment {
            Some(c) => quote(c),
            None => "\"ansible-generated on $(hostname)\"".to_string(),
        };
        let bits = self.bits.map_or_else(String::new, |b| format!(" -b {b}"));
        let make = if check {
            "echo changed; exit 0".to_string()
        } else {
            format!(
                "d=$(dirname -- {f}); if [ ! -d \"$d\" ]; then mkdir -p -- \"$d\" && chmod 0700 \"$d\" && chown {owner} \"$d\" || exit 1; fi; \
                 ssh-keygen -q -t {}{bits} -C {comment} -N '' -f {f} </dev/null >/dev/null && chown {owner} {f} {f}.pub && echo changed || exit 1",
                quote(&self.kind)
            )
        };
        format!(
            "if [ ! -e {f} ]; then {make}; fi; printf '{PUB_MARK}%s\\n' \"$(cat {f}.pub)\" && ssh-keygen -l -f {f}.pub"
        )
    }
}

/// What the script reported: whether it made the pair, and the registered values.
pub fn report(stdout: &str, path: &str) -> (bool, Map<String, Json>) {
    let changed = stdout.lines().any(|l| l == "changed");
    let mut result = Map::new();
    result.insert("ssh_key_file".into(), json!(path));
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with(PUB_MARK));
    if let Some(public) = lines.next().and_then(|l| l.strip_prefix(PUB_MARK)) {
        result.insert("ssh_public_key".into(), json!(public));
    }
    if let Some(fingerprint) = lines.next() {
        result.insert("ssh_fingerprint".into(), json!(fingerprint));
    }
    (changed, result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;

    fn deploy() -> Account {
        Account {
            name: "deploy".into(),
            uid: 1001,
            gid: 1001,
            comment: String::new(),
            home: "/home/deploy".into(),
            shell: "/bin/bash".into(),
        }
    }

    #[test]
    fn the_pair_is_made_only_where_none_is() {
        let spec = KeySpec::from_args(&args(json!({"generate_ssh_key": true, "ssh_key_type": "ed25519", "ssh_key_comment": "deploy@ci"}))).unwrap().unwrap();
        assert_eq!(spec.path(&deploy()), "/home/deploy/.ssh/id_ed25519");
        assert_eq!(
            spec.command(&deploy(), false),
            "if [ ! -e /home/deploy/.ssh/id_ed25519 ]; then d=$(dirname -- /home/deploy/.ssh/id_ed25519); if [ ! -d \"$d\" ]; then mkdir -p -- \"$d\" && chmod 0700 \"$d\" && chown 1001:1001 \"$d\" || exit 1; fi; \
             ssh-keygen -q -t ed25519 -C deploy@ci -N '' -f /home/deploy/.ssh/id_ed25519 </dev/null >/dev/null && chown 1001:1001 /home/deploy/.ssh/id_ed25519 /home/deploy/.ssh/id_ed25519.pub && echo changed || exit 1; fi; \
             printf '__DROVER_PUB__%s\\n' \"$(cat /home/deploy/.ssh/id_ed25519.pub)\" && ssh-keygen -l -f /home/deploy/.ssh/id_ed25519.pub"
        );
        assert!(
            KeySpec::from_args(&args(json!({"generate_ssh_key": false})))
                .unwrap()
                .is_none()
        );
        assert!(
            KeySpec::from_args(&args(
                json!({"generate_ssh_key": true, "ssh_key_type": "pgp"})
            ))
            .is_err()
        );
        let (changed, r) = report(
            "changed\n__DROVER_PUB__ssh-ed25519 AAAA deploy@ci\n256 SHA256:x deploy@ci (ED25519)\n",
            "/k",
        );
        assert!(changed);
        assert_eq!(r["ssh_public_key"], "ssh-ed25519 AAAA deploy@ci");
        assert_eq!(r["ssh_fingerprint"], "256 SHA256:x deploy@ci (ED25519)");
    }
}
