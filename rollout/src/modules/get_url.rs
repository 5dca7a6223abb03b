//! get_url: downloads a URL on the host (with curl) to a file, through an exclusive temporary file
//! beside it, checking a checksum before the file is put in place. Without `force`, a file already
//! there (with the right checksum, when one is given) is left alone, as in Ansible.

use drover_ssh::shell::{quote, temp_path};
use serde_json::json;

use super::files::FileMode;
use super::{Args, ModuleCtx, Outcome};

/// `sha256:HEX` (or sha1, sha224, sha384, sha512, md5) as the tool that checks it and the digest.
fn checksum(spec: &str) -> Result<(String, String), String> {
    let (algorithm, digest) = spec.split_once(':').ok_or_else(|| {
        format!("`checksum: {spec}` is not ALGORITHM:DIGEST, such as sha256:0a1b...")
    })?;
    if !matches!(
        algorithm,
        "sha1" | "sha224" | "sha256" | "sha384" | "sha512" | "md5"
    ) {
        return Err(format!(
            "`checksum: {spec}`: `{algorithm}` is not one of sha1, sha224, sha256, sha384, sha512, md5"
        ));
    }
    if digest.is_empty() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("`checksum: {spec}`: the digest is not hexadecimal"));
    }
    Ok((format!("{algorithm}sum"), digest.to_ascii_lowercase()))
}

/// The shell for the download. It prints `ok` when the file is already there as asked, else
/// `changed` once it is (in check mode: without downloading).
pub fn command(args: &Args, check: bool) -> Result<String, String> {
    let url = args.str("url").ok_or("get_url needs `url`")?;
    let dest = args.str("dest").ok_or("get_url needs `dest`")?;
    let mode = args.file_mode("mode")?;
    let sum = args.str("checksum").map(|c| checksum(&c)).transpose()?;
    let force = args.bool("force") == Some(true);
    let timeout = args.num("timeout").unwrap_or(10.0);
    let name = url
        .split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .unwrap_or("index.html");
    let matches = |file: &str| match &sum {
        Some((tool, digest)) => format!("[ \"$({tool} < {file} | cut -d' ' -f1)\" = {digest} ]"),
        None => "true".into(),
    };
    // Headers and credentials come on standard input as curl's configuration ([`credentials`]),
    // never here.
    let mut curl = format!("curl -q -fsSL --max-time {timeout} -K -");
    if args.bool("validate_certs") == Some(false) {
        curl.push_str(" -k");
    }
    let keep = if force {
        "false".to_string()
    } else {
        format!("[ -f \"$d\" ] && {}", matches("\"$d\""))
    };
    let fetch = if check {
        "echo changed".to_string()
    } else {
        format!(
            "t=\"$(dirname -- \"$d\")/{tmp}\" && (umask 077; set -C; : > \"$t\") && \
             {{ {curl} -o \"$t\" -- {url} && {verify} && chmod {new_mode} \"$t\" && mv -f -- \"$t\" \"$d\" && echo changed || {{ rm -f -- \"$t\"; exit 1; }}; }}",
            // A new file gets `mode`, or 0644 as a default umask would give it.
            new_mode = mode
                .as_ref()
                .map_or_else(|| "644".into(), |m| m.resolved("644")),
            tmp = temp_path(name).trim_start_matches("./"),
            url = quote(&url),
            verify = match &sum {
                Some(_) => format!(
                    "{{ {} || {{ echo 'checksum mismatch' >&2; false; }}; }}",
                    matches("\"$t\"")
                ),
                None => "true".into(),
            },
        )
    };
    // The mode is the file's, downloaded now or already there.
    let want = |m: &FileMode| m.resolved("$(stat -L -c %a -- \"$d\")");
    let mode_fix = match &mode {
        None => String::new(),
        Some(m) if check => format!(
            " && {{ [ ! -e \"$d\" ] || [ \"$(stat -L -c %a -- \"$d\")\" = {} ] || echo changed; }}",
            want(m)
        ),
        Some(m) => format!(
            " && {{ w={}; [ \"$(stat -L -c %a -- \"$d\")\" = \"$w\" ] || {{ chmod \"$w\" -- \"$d\" && echo changed; }}; }}",
            want(m)
        ),
    };
    let act = |cmd: String| {
        if check {
            "echo changed".to_string()
        } else {
            format!("{cmd} && echo changed")
        }
    };
    let owner_fix = super::files::ownership_fix_at(
        "\"$d\"",
        args.str("owner").as_deref(),
        args.str("group").as_deref(),
        act,
    )
    .map_or_else(String::new, |fix| {
        // Under --check a file not downloaded yet has no owner to read.
        format!(" && {{ [ ! -e \"$d\" ] || {{ {fix}; }}; }}")
    });
    Ok(format!(
        "d={}; [ -d \"$d\" ] && d=\"$d\"/{}; if {keep}; then echo ok; else {fetch}; fi{mode_fix}{owner_fix}",
        quote(&dest),
        quote(name)
    ))
}

/// curl's configuration on standard input: the request headers (a token among them, often) and
/// the credentials (`url_username`, `url_password`), sent with the first request with
/// `force_basic_auth`, else in answer to the server's challenge.
pub fn credentials(args: &Args) -> String {
    let mut config = String::new();
    if let Some(serde_json::Value::Object(headers)) = args.0.get("headers") {
        for (k, v) in headers {
            config.push_str(&super::curl::line(
                "header",
                &format!("{k}: {}", super::scalar_text(v)),
            ));
        }
    }
    if let Some(user) = args.str("url_username") {
        let password = args.str("url_password").unwrap_or_default();
        config.push_str(&super::curl::line("user", &format!("{user}:{password}")));
        config.push_str(if args.bool("force_basic_auth") == Some(true) {
            "basic\n"
        } else {
            "anyauth\n"
        });
    }
    config
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match command(args, ctx.check) {
        Ok(c) => c,
        Err(e) => return Outcome::bad_input(format!("get_url: {e}")),
    };
    let url = args.str("url").unwrap_or_default();
    let stdout = match ctx
        .output_with(
            &cmd,
            credentials(args).as_bytes(),
            &format!("get_url {url}"),
        )
        .await
    {
        Ok(o) => o,
        Err(e) => return Outcome::fail(e),
    };
    let mut out = Outcome {
        changed: super::reports_change(&stdout),
        ..Outcome::default()
    };
    out.result.insert("url".into(), json!(url));
    out.result
        .insert("dest".into(), json!(args.str("dest").unwrap_or_default()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::modules::args;

    #[test]
    fn the_command_keeps_a_good_file_and_checks_before_it_replaces() {
        let a = args(
            json!({"url": "https://x/a b.tgz?v=1", "dest": "/opt/dl", "checksum": "sha256:AB12", "mode": "0755"}),
        );
        let cmd = command(&a, false).unwrap();
        assert!(cmd.starts_with("d=/opt/dl; [ -d \"$d\" ] && d=\"$d\"/'a b.tgz'; if [ -f \"$d\" ] && [ \"$(sha256sum < \"$d\" | cut -d' ' -f1)\" = ab12 ]; then echo ok; else t=\"$(dirname -- \"$d\")/.a b.tgz.drover-"), "{cmd}");
        assert!(cmd.contains("(umask 077; set -C; : > \"$t\")"), "{cmd}");
        assert!(cmd.contains("curl -q -fsSL --max-time 10 -K - -o \"$t\" -- 'https://x/a b.tgz?v=1' && { [ \"$(sha256sum < \"$t\" | cut -d' ' -f1)\" = ab12 ] || { echo 'checksum mismatch' >&2; false; }; } && chmod 755 \"$t\" && mv -f -- \"$t\" \"$d\" && echo changed || { rm -f -- \"$t\"; exit 1; }"), "{cmd}");
        assert!(cmd.ends_with("fi && { w=755; [ \"$(stat -L -c %a -- \"$d\")\" = \"$w\" ] || { chmod \"$w\" -- \"$d\" && echo changed; }; }"), "{cmd}");
        // A symbolic mode: chmod itself applies it to a scratch file of the mode now there.
        let sym = command(
            &args(json!({"url": "http://x/f", "dest": "/f", "mode": "a+x"})),
            false,
        )
        .unwrap();
        assert!(sym.ends_with("fi && { w=$(s=$(mktemp) && chmod $(stat -L -c %a -- \"$d\") \"$s\" && chmod a+x \"$s\" && stat -c %a \"$s\"; rm -f \"$s\"); [ \"$(stat -L -c %a -- \"$d\")\" = \"$w\" ] || { chmod \"$w\" -- \"$d\" && echo changed; }; }"), "{sym}");
        let owned = command(&args(json!({"url": "http://x/f", "dest": "/f", "owner": "app", "url_username": "u", "url_password": "p w"})), false).unwrap();
        assert!(owned.ends_with("fi && { [ ! -e \"$d\" ] || { cur=$(stat -L -c %U:%G -- \"$d\") && case \"$cur\" in app:*) ;; *) chown app -- \"$d\" && echo changed ;; esac; }; }"), "{owned}");
        assert!(!owned.contains("p w"), "{owned}");
        assert_eq!(
            credentials(&args(
                json!({"url_username": "u", "url_password": "p w", "force_basic_auth": true})
            )),
            "user = \"u:p w\"\nbasic\n"
        );
        let checked = command(&a, true).unwrap();
        assert!(
            checked.contains("else echo changed; fi") && !checked.contains("curl"),
            "{checked}"
        );
        let forced = command(
            &args(json!({"url": "http://x/f", "dest": "/f", "force": true})),
            false,
        )
        .unwrap();
        assert!(forced.contains("if false; then echo ok;"), "{forced}");
        for bad in ["sha256", "crc32:ab", "sha1:xyz"] {
            assert!(
                command(
                    &args(json!({"url": "u", "dest": "d", "checksum": bad})),
                    false
                )
                .is_err(),
                "{bad}"
            );
        }
    }
}
