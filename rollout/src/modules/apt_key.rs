//! apt_key: an OpenPGP key added to or removed from apt's keyring with `apt-key`, as Ansible's
//! module does: a key already there (by `id`, or by the fingerprint of the key fetched) is not added
//! again. The key comes from `url` (curl on the host), `file` (on the host) or `data` (sent on standard
//! input), into a private temporary file; gpg reads its fingerprint. One round trip, a script built
//! here and tested as an exact string.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// Where the key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Url {
        url: String,
        validate_certs: bool,
    },
    File(String),
    /// Sent on standard input.
    Data,
    /// Fetched from a key server by its `id` (gpg --recv-keys; the host must reach the server).
    Keyserver(String),
}

/// What the task asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// Upper-case hex, without `0x` or spaces.
    pub id: Option<String>,
    pub source: Option<KeySource>,
    pub keyring: Option<String>,
    pub absent: bool,
}

impl KeySpec {
    pub fn from_args(args: &Args) -> Result<KeySpec, String> {
        let id = match args.str("id") {
            None => None,
            Some(raw) => {
                let hex: String = raw
                    .trim_start_matches("0x")
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_ascii_uppercase();
                if !(matches!(hex.len(), 8 | 16 | 40) && hex.chars().all(|c| c.is_ascii_hexdigit()))
                {
                    return Err(format!(
                        "apt_key: `id: {raw}` is not a key id (8 or 16 hex digits) or a fingerprint (40)"
                    ));
                }
                Some(hex)
            }
        };
        let mut sources = Vec::new();
        if let Some(url) = args.str("url") {
            sources.push(KeySource::Url {
                url,
                validate_certs: args.bool("validate_certs").unwrap_or(true),
            });
        }
        if let Some(file) = args.str("file") {
            sources.push(KeySource::File(file));
        }
        if args.str("data").is_some() {
            sources.push(KeySource::Data);
        }
        if let Some(server) = args.str("keyserver") {
            if id.is_none() {
                return Err("apt_key: `keyserver` needs the key's `id`".into());
            }
            sources.push(KeySource::Keyserver(server));
        }
        if sources.len() > 1 {
            return Err("apt_key: give one of `url`, `file`, `data` and `keyserver`".into());
        }
        let absent = match args.str("state").as_deref().unwrap_or("present") {
            "present" => false,
            "absent" => true,
            other => {
                return Err(format!(
                    "apt_key: `state: {other}` is not present or absent"
                ));
            }
        };
        if absent && id.is_none() {
            return Err("apt_key: `state: absent` needs the key's `id`".into());
        }
        if !absent && sources.is_empty() {
            return Err("apt_key: give the key with `url`, `file` or `data`".into());
        }
        Ok(KeySpec {
            id,
            source: sources.pop(),
            keyring: args.str("keyring"),
            absent,
        })
    }
}

/// The script: prints `changed` when it added or removed the key (or would, with `check`).
pub fn command(spec: &KeySpec, check: bool) -> String {
    let kr = spec
        .keyring
        .as_ref()
        .map_or(String::new(), |k| format!(" --keyring {}", quote(k)));
    let id = spec.id.as_deref().map(quote).unwrap_or_else(|| "''".into());
    // apt-key export of an empty id would export every key: `has` refuses one.
    let has = format!(
        "has() {{ [ -n \"$1\" ] && apt-key{kr} export \"$1\" 2>/dev/null | grep -q 'BEGIN PGP'; }}"
    );
    let check = if check { "1" } else { "0" };
    if spec.absent {
        return format!(
            "{has}; if has {id}; then [ {check} = 1 ] || apt-key{kr} del {id} >&2 || exit 1; echo changed; fi"
        );
    }
    let fetch = match &spec.source {
        Some(KeySource::Url {
            url,
            validate_certs,
        }) => {
            format!(
                "curl -fsSL{} -- {} > \"$t\"",
                if *validate_certs { "" } else { " --insecure" },
                quote(url)
            )
        }
        Some(KeySource::File(f)) => format!("cat -- {} > \"$t\"", quote(f)),
        // gpg fetches into a private home of its own, then exports the key where the others go.
        Some(KeySource::Keyserver(server)) => format!(
            "g=$(mktemp -d) || exit 1; gpg --batch --homedir \"$g\" --keyserver {} --recv-keys {id} >&2 && gpg --batch --homedir \"$g\" --export {id} > \"$t\"; r=$?; rm -rf \"$g\"; [ $r = 0 ]",
            quote(server)
        ),
        Some(KeySource::Data) | None => "cat > \"$t\"".into(),
    };
    let matches_id = if spec.id.is_some() {
        format!(
            "case \"$fpr\" in *{id}) ;; *) echo \"the key fetched is $fpr, not \"{id} >&2; exit 1;; esac; "
        )
    } else {
        String::new()
    };
    format!(
        "{has}; if has {id}; then cat > /dev/null; exit 0; fi; \
         t=$(mktemp) || exit 1; trap 'rm -f \"$t\"' EXIT; \
         {fetch} || exit 1; \
         fpr=$(gpg --batch --with-colons --show-keys \"$t\" 2>/dev/null | awk -F: '$1 == \"fpr\" {{print $10; exit}}'); \
         [ -n \"$fpr\" ] || {{ echo 'no OpenPGP public key in what was given' >&2; exit 1; }}; \
         {matches_id}if has \"$fpr\"; then exit 0; fi; \
         if [ {check} = 0 ]; then apt-key{kr} add \"$t\" >&2 && has \"$fpr\" || {{ echo \"apt-key did not add $fpr\" >&2; exit 1; }}; fi; \
         echo changed"
    )
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match KeySpec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let data = match spec.source {
        Some(KeySource::Data) => args.str("data").unwrap_or_default(),
        _ => String::new(),
    };
    let cmd = command(&spec, ctx.check);
    ctx.change_script(&cmd, data.as_bytes(), "apt_key").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as Json, json};

    fn spec(v: Json) -> Result<KeySpec, String> {
        KeySpec::from_args(&Args(v.as_object().unwrap().clone()))
    }

    #[test]
    fn ids_sources_and_states_are_checked() {
        assert_eq!(
            spec(json!({"id": "0x8682 ead8 EC26 1092", "url": "https://x/k.asc"}))
                .unwrap()
                .id
                .as_deref(),
            Some("8682EAD8EC261092")
        );
        assert!(
            spec(json!({"id": "xyz", "url": "u"}))
                .unwrap_err()
                .contains("not a key id")
        );
        assert!(
            spec(json!({"url": "u", "data": "d"}))
                .unwrap_err()
                .contains("one of")
        );
        assert!(
            spec(json!({"state": "absent", "url": "u"}))
                .unwrap_err()
                .contains("needs the key's `id`")
        );
        let ks = spec(json!({"keyserver": "keyserver.ubuntu.com", "id": "8682EAD8"})).unwrap();
        assert!(command(&ks, false).contains(
            "gpg --batch --homedir \"$g\" --keyserver keyserver.ubuntu.com --recv-keys 8682EAD8 >&2 && gpg --batch --homedir \"$g\" --export 8682EAD8 > \"$t\""
        ));
        assert!(
            spec(json!({"keyserver": "keyserver.ubuntu.com"}))
                .unwrap_err()
                .contains("needs the key's `id`")
        );
        assert!(
            spec(json!({"id": "8682EAD8"}))
                .unwrap_err()
                .contains("give the key")
        );
    }

    #[test]
    fn the_script_fetches_checks_and_adds_only_a_missing_key() {
        let s = spec(json!({"url": "https://download.docker.com/linux/debian/gpg", "keyring": "/etc/apt/trusted.gpg.d/docker.gpg", "validate_certs": false})).unwrap();
        assert_eq!(
            command(&s, false),
            "has() { [ -n \"$1\" ] && apt-key --keyring /etc/apt/trusted.gpg.d/docker.gpg export \"$1\" 2>/dev/null | grep -q 'BEGIN PGP'; }; if has ''; then cat > /dev/null; exit 0; fi; \
             t=$(mktemp) || exit 1; trap 'rm -f \"$t\"' EXIT; \
             curl -fsSL --insecure -- https://download.docker.com/linux/debian/gpg > \"$t\" || exit 1; \
             fpr=$(gpg --batch --with-colons --show-keys \"$t\" 2>/dev/null | awk -F: '$1 == \"fpr\" {print $10; exit}'); \
             [ -n \"$fpr\" ] || { echo 'no OpenPGP public key in what was given' >&2; exit 1; }; \
             if has \"$fpr\"; then exit 0; fi; \
             if [ 0 = 0 ]; then apt-key --keyring /etc/apt/trusted.gpg.d/docker.gpg add \"$t\" >&2 && has \"$fpr\" || { echo \"apt-key did not add $fpr\" >&2; exit 1; }; fi; \
             echo changed"
        );
        let s = spec(json!({"id": "8682EAD8EC261092", "file": "/tmp/k; rm -rf /"})).unwrap();
        let cmd = command(&s, true);
        assert!(cmd.contains("if has 8682EAD8EC261092; then"), "{cmd}");
        assert!(cmd.contains("cat -- '/tmp/k; rm -rf /' > \"$t\""), "{cmd}");
        assert!(
            cmd.contains("case \"$fpr\" in *8682EAD8EC261092) ;;"),
            "{cmd}"
        );
        assert!(cmd.contains("if [ 1 = 0 ]; then"), "{cmd}");
        let s = spec(json!({"id": "8682EAD8", "state": "absent"})).unwrap();
        assert_eq!(
            command(&s, false),
            "has() { [ -n \"$1\" ] && apt-key export \"$1\" 2>/dev/null | grep -q 'BEGIN PGP'; }; if has 8682EAD8; then [ 0 = 1 ] || apt-key del 8682EAD8 >&2 || exit 1; echo changed; fi"
        );
    }
}
