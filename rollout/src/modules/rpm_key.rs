//! rpm_key: an OpenPGP key in rpm's database (a `gpg-pubkey-KEYID` entry), imported from a URL or a
//! file on the host, or removed, as ansible-core's module does: the key's id is read with gpg, the
//! key is imported only when rpm does not have it, and `fingerprint` must match one of the key's.
//! Like dnf, this runs on rpm hosts only: drover's test fleet is Debian (see foreign_packages.rs).

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome, reports_change};

/// A key id as Ansible accepts one for removal: 8 or 16 hex digits, `0x` allowed.
fn key_id(key: &str) -> Option<String> {
    let hex = key
        .strip_prefix("0x")
        .or(key.strip_prefix("0X"))
        .unwrap_or(key);
    (matches!(hex.len(), 8 | 16) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex[hex.len() - 8..].to_ascii_lowercase())
}

/// The script: prints `changed` when rpm's database changed (or would, in check mode).
pub fn command(
    key: &str,
    present: bool,
    fingerprints: &[String],
    validate_certs: bool,
    check: bool,
) -> String {
    let mut s = String::from(
        "command -v rpm >/dev/null 2>&1 || { echo 'this host has no rpm' >&2; exit 1; }; ",
    );
    let change = |cmd: &str| {
        if check {
            "echo changed".to_string()
        } else {
            format!("{{ {cmd} && echo changed; }}")
        }
    };
    if let (false, Some(id)) = (present, key_id(key)) {
        return s + &format!(
            "if rpm -q gpg-pubkey-{id} >/dev/null 2>&1; then {}; fi",
            change(&format!("rpm -e --allmatches gpg-pubkey-{id}"))
        );
    }
    s.push_str("tmp=$(mktemp) || exit 1; trap 'rm -f \"$tmp\"' EXIT; ");
    let k = quote(key);
    if key.contains("://") {
        let insecure = if validate_certs { "" } else { " -k" };
        s.push_str(&format!("curl -fsSL{insecure} -o \"$tmp\" {k} || exit 1; "));
    } else {
        s.push_str(&format!("cat -- {k} > \"$tmp\" || exit 1; "));
    }
    s.push_str(
        "keys=$(gpg --batch --no-tty --with-colons --fixed-list-mode --show-keys \"$tmp\") || { echo 'not a public key' >&2; exit 1; }; \
         id=$(printf '%s\\n' \"$keys\" | awk -F: '$1==\"pub\"{print tolower(substr($5, length($5)-7)); exit}'); \
         [ -n \"$id\" ] || { echo 'not a public key' >&2; exit 1; }; ",
    );
    for fp in fingerprints {
        let fp: String = fp
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        s.push_str(&format!(
            "printf '%s\\n' \"$keys\" | awk -F: '$1==\"fpr\"{{print $10}}' | grep -qxF {} || {{ echo {} >&2; exit 1; }}; ",
            quote(&fp),
            quote(&format!(
                "The specified fingerprint, {fp}, does not match any key fingerprints."
            ))
        ));
    }
    s.push_str(&if present {
        format!(
            "rpm -q \"gpg-pubkey-$id\" >/dev/null 2>&1 || {}",
            change("rpm --import \"$tmp\"")
        )
    } else {
        format!(
            "if rpm -q \"gpg-pubkey-$id\" >/dev/null 2>&1; then {}; fi",
            change("rpm -e --allmatches \"gpg-pubkey-$id\"")
        )
    });
    s
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(key) = args.str("key") else {
        return Outcome::bad_input("rpm_key needs `key`");
    };
    let present = match args.present() {
        Ok(p) => p,
        Err(e) => return Outcome::bad_input(format!("rpm_key: {e}")),
    };
    let cmd = command(
        &key,
        present,
        &args.list("fingerprint"),
        args.bool("validate_certs") != Some(false),
        ctx.check,
    );
    match ctx.output_of(&cmd, "rpm_key").await {
        Ok(o) => Outcome {
            changed: reports_change(&o),
            ..Outcome::default()
        },
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_imported_only_when_rpm_lacks_it() {
        let s = command(
            "https://download.docker.com/linux/centos/gpg",
            true,
            &["060A 61C5 1B55 8A7F 742B 77AA C52F EB6B 621E 9F35".into()],
            true,
            false,
        );
        assert!(
            s.contains(
                "curl -fsSL -o \"$tmp\" https://download.docker.com/linux/centos/gpg || exit 1; "
            ),
            "{s}"
        );
        assert!(s.contains("grep -qxF 060A61C51B558A7F742B77AAC52FEB6B621E9F35 || { echo 'The specified fingerprint, 060A61C51B558A7F742B77AAC52FEB6B621E9F35, does not match any key fingerprints.' >&2; exit 1; }; "), "{s}");
        assert!(s.ends_with("rpm -q \"gpg-pubkey-$id\" >/dev/null 2>&1 || { rpm --import \"$tmp\" && echo changed; }"), "{s}");
        assert!(command("/etc/pki/k", true, &[], false, true).ends_with("|| echo changed"));
        assert!(
            command("/etc/pki/k", true, &[], true, false).contains("cat -- /etc/pki/k > \"$tmp\"")
        );
    }

    #[test]
    fn a_key_id_is_removed_without_fetching_anything() {
        assert_eq!(
            command("0xDEADBEEFCAFEF00D", false, &[], true, false),
            "command -v rpm >/dev/null 2>&1 || { echo 'this host has no rpm' >&2; exit 1; }; \
             if rpm -q gpg-pubkey-cafef00d >/dev/null 2>&1; then { rpm -e --allmatches gpg-pubkey-cafef00d && echo changed; }; fi"
        );
        assert_eq!(key_id("nothex12"), None);
    }
}
