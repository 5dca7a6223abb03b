//! known_hosts: one host's keys in an SSH known_hosts file, as ansible.builtin.known_hosts keeps
//! them. `present` adds the key unless the host already has it, replacing the host's key of the
//! same type (a changed host key); `absent` removes every key of the host (as `ssh-keygen -R`).
//! Hosts are found as ssh finds them: in a line's host list, or hashed (`|1|salt|hash`, HMAC-SHA1
//! of the name); `hash_host` writes the new line hashed. The file is read in one round trip and
//! written as `copy` writes (exclusive temporary file, `--check`, `--diff`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use drover_ssh::shell::quote;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;

use super::files::{FileTarget, ensure_content};
use super::{Args, ModuleCtx, Outcome};

/// Whether `field` (a line's host list, or one hashed entry) names `host`.
fn names(field: &str, host: &str) -> bool {
    if let Some(hashed) = field.strip_prefix("|1|") {
        let Some((salt, hash)) = hashed.split_once('|') else {
            return false;
        };
        let (Ok(salt), Ok(hash)) = (B64.decode(salt), B64.decode(hash)) else {
            return false;
        };
        return hashed_name(&salt, host) == hash;
    }
    field.split(',').any(|h| h == host)
}

/// ssh's hash of a host name: HMAC-SHA1 keyed by the salt.
fn hashed_name(salt: &[u8], host: &str) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(salt) else {
        return Vec::new();
    };
    mac.update(host.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A known_hosts line's host field, key type and key (None for comments, blanks and markers such
/// as `@cert-authority`, which are not a host's own key).
fn fields(line: &str) -> Option<(&str, &str, &str)> {
    let mut words = line.split_whitespace();
    let hosts = words.next()?;
    if hosts.starts_with('#') || hosts.starts_with('@') {
        return None;
    }
    Some((hosts, words.next()?, words.next()?))
}

/// What the task asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want<'a> {
    /// This key line for the host.
    Present {
        key: &'a str,
        hash: Option<[u8; 20]>,
    },
    /// No key for the host.
    Absent,
}

/// The file's new text, or None when it is already as asked. `key` must name `host`.
pub fn plan(text: &str, host: &str, want: &Want<'_>) -> Result<Option<String>, String> {
    let mut kept: Vec<&str> = Vec::new();
    let mut changed = false;
    let new_key = match want {
        Want::Present { key, .. } => {
            let (hosts, kind, body) = fields(key).ok_or_else(|| {
                format!(
                    "`key` must be a known_hosts line (`{host} ssh-ed25519 AAAA...`), not `{key}`"
                )
            })?;
            if !names(hosts, host) {
                return Err(format!(
                    "`key` must begin with the host's name `{host}` (its line in known_hosts), not `{hosts}`"
                ));
            }
            Some((kind, body))
        }
        Want::Absent => None,
    };
    let mut found = false;
    for line in text.lines() {
        let Some((_, kind, body)) = fields(line).filter(|(h, _, _)| names(h, host)) else {
            kept.push(line);
            continue;
        };
        match new_key {
            Some((k, b)) if k == kind && b == body => {
                found = true;
                kept.push(line);
            }
            // The host's key of this type changed: the old one goes.
            Some((k, _)) if k == kind => changed = true,
            Some(_) => kept.push(line),
            None => changed = true,
        }
    }
    let mut lines: Vec<String> = kept.iter().map(|l| (*l).to_string()).collect();
    if let Want::Present { key, hash } = want
        && !found
    {
        changed = true;
        lines.push(match hash {
            Some(salt) => hashed_line(key, host, salt),
            None => key.trim().to_string(),
        });
    }
    Ok(changed.then(|| lines.iter().map(|l| format!("{l}\n")).collect::<String>()))
}

/// `key` with its host field replaced by the hash of `host` under `salt`, as `ssh-keygen -H` writes.
fn hashed_line(key: &str, host: &str, salt: &[u8; 20]) -> String {
    let rest = key
        .trim()
        .split_once(char::is_whitespace)
        .map_or("", |(_, r)| r);
    format!(
        "|1|{}|{} {}",
        B64.encode(salt),
        B64.encode(hashed_name(salt, host)),
        rest.trim_start()
    )
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(host) = args.str("name") else {
        return Outcome::bad_input("known_hosts needs `name`, the host");
    };
    let state = args.str("state").unwrap_or_else(|| "present".into());
    let key = args.str("key");
    let want = match (state.as_str(), key.as_deref()) {
        ("present", Some(key)) => {
            let hash = (args.bool("hash_host") == Some(true)).then(|| {
                let mut salt = [0u8; 20];
                // Without the OS's random source the salt is still unique per line; it hides the
                // name, not a secret.
                let _ = getrandom::fill(&mut salt);
                salt
            });
            Want::Present { key, hash }
        }
        ("present", None) => {
            return Outcome::bad_input("known_hosts: `key` is required with state present");
        }
        ("absent", _) => Want::Absent,
        (other, _) => {
            return Outcome::bad_input(format!(
                "known_hosts: `state` must be present or absent, not `{other}`"
            ));
        }
    };
    let path = args
        .str("path")
        .unwrap_or_else(|| "~/.ssh/known_hosts".into());
    // `~/` is the remote user's home; the file's folder is made (0700) when the key is added.
    let shell_path = match path.strip_prefix("~/") {
        Some(rest) => format!("\"$HOME\"/{}", quote(rest)),
        None => quote(&path),
    };
    let read = format!(
        "p={shell_path}; printf '%s\\n' \"$p\"; if [ -d \"$(dirname -- \"$p\")\" ]; then echo dir; else echo nodir; fi; \
         if [ -f \"$p\" ]; then cat -- \"$p\"; elif [ -e \"$p\" ]; then echo \"$p is not a file\" >&2; exit 1; fi"
    );
    let out = match ctx.output_of(&read, "read the known_hosts file").await {
        Ok(o) => String::from_utf8_lossy(&o).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    let mut parts = out.splitn(3, '\n');
    let (resolved, dir, text) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let new = match plan(text, &host, &want) {
        Ok(n) => n,
        Err(e) => return Outcome::bad_input(format!("known_hosts: {e}")),
    };
    let mut outcome = match new {
        None => Outcome::default(),
        Some(new) => {
            if dir == "nodir" && !ctx.check {
                let parent = resolved.rsplit_once('/').map_or(".", |(d, _)| d);
                let mkdir = format!("mkdir -p -m 700 -- {}", quote(parent));
                if let Err(e) = ctx.output_of(&mkdir, "make the known_hosts folder").await {
                    return Outcome::fail(e);
                }
            }
            let target = FileTarget {
                path: resolved.clone(),
                ..FileTarget::default()
            };
            ensure_content(ctx, &target, new.as_bytes()).await
        }
    };
    outcome.result.insert("path".into(), json!(resolved));
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    const ED2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm2hY4yG8E2yBqXrV4f2gK8m8y7Z6m5Jr0mG1f3rZ9a";
    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7";

    #[test]
    fn a_key_is_added_once_and_a_changed_key_of_the_same_type_replaced() {
        let key = format!("git.example {ED}");
        let want = Want::Present {
            key: &key,
            hash: None,
        };
        let added = plan("other ssh-rsa AAAA\n", "git.example", &want)
            .unwrap()
            .unwrap();
        assert_eq!(added, format!("other ssh-rsa AAAA\ngit.example {ED}\n"));
        assert_eq!(plan(&added, "git.example", &want).unwrap(), None);
        // Same host, same type, another key: replaced; its RSA key stays.
        let old = format!("git.example,10.0.0.5 {ED2}\ngit.example {RSA}\n");
        assert_eq!(
            plan(&old, "git.example", &want).unwrap().unwrap(),
            format!("git.example {RSA}\ngit.example {ED}\n")
        );
        assert_eq!(
            plan(&old, "git.example", &Want::Absent).unwrap().unwrap(),
            ""
        );
        assert!(
            plan(
                "",
                "git.example",
                &Want::Present {
                    key: ED,
                    hash: None
                }
            )
            .is_err()
        );
        assert!(
            plan(
                "",
                "git.example",
                &Want::Present {
                    key: "other ssh-ed25519 AAAA",
                    hash: None
                }
            )
            .is_err()
        );
    }

    #[test]
    fn hashed_names_are_found_and_written_as_ssh_keygen_hashes_them() {
        // The fleet test has ssh-keygen -F find such a line on a real host.
        let salt = [7u8; 20];
        let line = hashed_line(
            &format!("[git.example]:2222 {ED}"),
            "[git.example]:2222",
            &salt,
        );
        assert!(
            line.starts_with("|1|BwcHBwcHBwcHBwcHBwcHBwcHBwc=|"),
            "{line}"
        );
        let field = line.split(' ').next().unwrap();
        assert!(names(field, "[git.example]:2222"));
        assert!(!names(field, "git.example"));
        let key = format!("[git.example]:2222 {ED}");
        let want = Want::Present {
            key: &key,
            hash: Some(salt),
        };
        assert_eq!(
            plan(&format!("{line}\n"), "[git.example]:2222", &want).unwrap(),
            None
        );
        assert_eq!(
            plan(&format!("{line}\n"), "[git.example]:2222", &Want::Absent)
                .unwrap()
                .unwrap(),
            ""
        );
    }
}
