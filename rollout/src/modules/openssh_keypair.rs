//! openssh_keypair (community.crypto, its `opensshbin` backend): an SSH key pair made with
//! ssh-keygen unless the key there has the type and size asked for (`regenerate` decides, as the
//! collection decides it), its public key file put back when missing or not matching, the comment
//! updated, `mode`/`owner`/`group` set on both files; `state: absent` removes both. The private key
//! never leaves the host; a new pair is made beside the key and moved into place.

use drover_ssh::shell::quote;
use serde_json::json;

use super::files::{FileTime, file_command};
use super::{Args, ModuleCtx, Outcome, reports_change};

/// What the task asks for.
#[derive(Debug, PartialEq)]
struct Wanted {
    path: String,
    kind: String,
    size: u32,
    comment: Option<String>,
    regenerate: String,
}

/// The key's size as the collection settles it (ed25519's is 256, whatever is asked).
fn size_for(kind: &str, asked: Option<f64>) -> Result<u32, String> {
    let size = match (kind, asked) {
        ("ed25519", _) => 256.0,
        ("rsa", None) => 4096.0,
        ("dsa", None) => 1024.0,
        ("ecdsa", None) => 256.0,
        (_, Some(n)) => n,
        (other, None) => return Err(format!("{other} is not a valid value for key type")),
    };
    let ok = match kind {
        "rsa" => size >= 1024.0,
        "dsa" => size == 1024.0,
        "ecdsa" => [256.0, 384.0, 521.0].contains(&size),
        _ => true,
    };
    if !ok || size.fract() != 0.0 || size > 16384.0 {
        return Err(format!("`size: {size}` is not a size a {kind} key has"));
    }
    Ok(size as u32)
}

impl Wanted {
    fn from_args(args: &Args) -> Result<Wanted, String> {
        let kind = args.str("type").unwrap_or_else(|| "rsa".into());
        if !matches!(kind.as_str(), "rsa" | "dsa" | "ecdsa" | "ed25519") {
            return Err(format!("`type: {kind}` is not rsa, dsa, ecdsa or ed25519"));
        }
        let regenerate = if args.bool("force") == Some(true) {
            "always".to_string()
        } else {
            args.str("regenerate")
                .unwrap_or_else(|| "partial_idempotence".into())
        };
        Ok(Wanted {
            path: args.str("path").ok_or("needs `path`")?,
            size: size_for(&kind, args.num("size"))?,
            kind,
            comment: args.str("comment"),
            regenerate,
        })
    }
}

/// What the host holds, as the probe printed it (`key=value` lines).
#[derive(Debug, Default, PartialEq)]
struct Found {
    folder: bool,
    is_dir: bool,
    private: bool,
    /// `ssh-keygen -l`: size, fingerprint, type.
    info: Option<(u32, String, String)>,
    /// `ssh-keygen -y`: the public key the private key gives (empty when it cannot be read).
    derived: String,
    /// The public key file's first line, when there is one.
    public: Option<String>,
}

fn probe(path: &str) -> String {
    let p = quote(path);
    let dir = quote(
        std::path::Path::new(path)
            .parent()
            .map(|d| d.to_string_lossy().into_owned())
            .filter(|d| !d.is_empty())
            .as_deref()
            .unwrap_or("."),
    );
    let public = quote(&format!("{path}.pub"));
    format!(
        "[ -d {dir} ] && echo folder=y; [ -d {p} ] && echo dir=y; \
         if [ -e {p} ]; then echo private=y; echo \"info=$(ssh-keygen -l -f {p} 2>/dev/null)\"; \
         echo \"derived=$(ssh-keygen -P '' -y -f {p} 2>/dev/null)\"; fi; \
         if [ -e {public} ]; then echo \"public=$(head -n 1 {public})\"; fi; true"
    )
}

fn parse(out: &str) -> Found {
    let mut found = Found::default();
    for line in out.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "folder" => found.folder = true,
            "dir" => found.is_dir = true,
            "private" => found.private = true,
            "info" => {
                let words: Vec<&str> = value.split_whitespace().collect();
                if let (Some(size), Some(fp), Some(kind)) =
                    (words.first(), words.get(1), words.last())
                    && let Ok(size) = size.parse()
                {
                    let kind = kind.trim_matches(['(', ')']).to_lowercase();
                    found.info = Some((size, fp.to_string(), kind));
                }
            }
            "derived" => found.derived = value.to_string(),
            "public" => found.public = Some(value.to_string()),
            _ => {}
        }
    }
    found
}

/// A public key line's type and key (its comment left out), and its comment.
fn key_and_comment(line: &str) -> (String, String) {
    let mut words = line.split_whitespace();
    let key = words.by_ref().take(2).collect::<Vec<_>>().join(" ");
    (key, words.collect::<Vec<_>>().join(" "))
}

/// What to do.
#[derive(Debug, PartialEq)]
enum Step {
    Keep,
    Generate,
    /// The public key file written again from the private key (and the comment updated).
    RestorePublic,
}

fn decide(want: &Wanted, found: &Found) -> Result<Step, String> {
    if !found.folder {
        return Err(format!(
            "The directory {} does not exist or the file is not a directory",
            std::path::Path::new(&want.path)
                .parent()
                .map_or_else(|| ".".into(), |d| d.display().to_string())
        ));
    }
    if found.is_dir {
        return Err(format!(
            "{} is a directory. Please specify a path to a file.",
            want.path
        ));
    }
    let readable = found.info.is_some() && !found.derived.is_empty();
    let strict = matches!(
        want.regenerate.as_str(),
        "never" | "fail" | "partial_idempotence"
    );
    if found.private && strict && !readable {
        return Err("Unable to read the key. The key is protected with a passphrase or broken. Will not proceed. To force regeneration, call the module with `generate` set to `full_idempotence` or `always`, or with `force=true`.".into());
    }
    let valid = found
        .info
        .as_ref()
        .is_some_and(|(size, _, kind)| *size == want.size && *kind == want.kind);
    let generate = !found.private
        || !readable
        || match want.regenerate.as_str() {
            "never" => false,
            "fail" if !valid => return Err("Key has wrong type and/or size. Will not proceed. To force regeneration, call the module with `generate` set to `partial_idempotence`, `full_idempotence` or `always`, or with `force=true`.".into()),
            "fail" => false,
            "partial_idempotence" | "full_idempotence" => !valid,
            _ => true,
        };
    if generate {
        return Ok(Step::Generate);
    }
    let (derived, _) = key_and_comment(&found.derived);
    let public_valid = found.public.as_deref().is_some_and(|line| {
        let (key, comment) = key_and_comment(line);
        key == derived && want.comment.as_ref().is_none_or(|c| *c == comment)
    });
    Ok(if public_valid {
        Step::Keep
    } else {
        Step::RestorePublic
    })
}

/// The commands for `step` (none for Keep).
fn step_command(want: &Wanted, step: &Step) -> Option<String> {
    let p = quote(&want.path);
    let public = quote(&format!("{}.pub", want.path));
    let comment = quote(want.comment.as_deref().unwrap_or(""));
    let update_comment = want
        .comment
        .as_ref()
        .map(|c| format!(" && ssh-keygen -q -c -C {} -f {p} >/dev/null", quote(c)))
        .unwrap_or_default();
    match step {
        Step::Keep => None,
        // Made in a private folder beside the key, then moved over it and its public key.
        Step::Generate => Some(format!(
            "t=$(mktemp -d \"$(dirname -- {p})/.drover-key-XXXXXXXX\") || exit 1; trap 'rm -rf -- \"$t\"' EXIT; \
             ssh-keygen -q -N '' -b {} -t {} -f \"$t/k\" -C {comment} </dev/null >&2 && \
             mv -f -- \"$t/k\" {p} && mv -f -- \"$t/k.pub\" {public}",
            want.size, want.kind
        )),
        Step::RestorePublic => Some(format!(
            "k=$(ssh-keygen -P '' -y -f {p}) && t=$(mktemp \"$(dirname -- {p})/.drover-pub-XXXXXXXX\") && \
             chmod 644 \"$t\" && printf '%s\\n' \"$k\" > \"$t\" && mv -f -- \"$t\" {public}{update_comment}"
        )),
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let want = match Wanted::from_args(args) {
        Ok(w) => w,
        Err(e) => return Outcome::bad_input(format!("openssh_keypair: {e}")),
    };
    // `backend` (auto or opensshbin) and `private_key_format` (auto) both mean ssh-keygen's own
    // format, which is what drover makes; the spec refuses any other value.
    let _ = (args.str("backend"), args.str("private_key_format"));
    let present = match args.present() {
        Ok(p) => p,
        Err(e) => return Outcome::bad_input(format!("openssh_keypair: {e}")),
    };
    if !present {
        let (p, public) = (quote(&want.path), quote(&format!("{}.pub", want.path)));
        let remove = if ctx.check {
            "echo changed".to_string()
        } else {
            format!("rm -f -- {p} {public} && echo changed")
        };
        let script = format!("if [ -e {p} ] || [ -e {public} ]; then {remove}; fi");
        return ctx.change_script(&script, b"", "openssh_keypair").await;
    }
    let mode = match args.mode("mode") {
        Ok(m) => m,
        Err(e) => return Outcome::bad_input(format!("openssh_keypair: {e}")),
    };
    let found = match ctx.output_of(&probe(&want.path), "openssh_keypair").await {
        Ok(out) => parse(&String::from_utf8_lossy(&out)),
        Err(e) => return Outcome::fail(e),
    };
    let step = match decide(&want, &found) {
        Ok(s) => s,
        Err(e) => return Outcome::fail(e),
    };
    let mut changed = step != Step::Keep;
    if let Some(cmd) = step_command(&want, &step).filter(|_| !ctx.check)
        && let Err(e) = ctx.output_of(&cmd, "openssh_keypair").await
    {
        return Outcome::fail(e);
    }
    // mode, owner and group on both files, as the collection sets them.
    let (owner, group) = (args.str("owner"), args.str("group"));
    if !(ctx.check && step == Step::Generate && !found.private) {
        for path in [want.path.clone(), format!("{}.pub", want.path)] {
            let fix = file_command(
                &path,
                "file",
                (mode, owner.as_deref(), group.as_deref()),
                None,
                (&FileTime::Preserve, &FileTime::Preserve),
                ctx.check,
            );
            let fix = match fix {
                Ok(f) => f,
                Err(e) => return Outcome::bad_input(format!("openssh_keypair: {e}")),
            };
            match ctx.output_of(&fix, "openssh_keypair").await {
                Ok(out) => changed |= reports_change(&out),
                Err(e) => return Outcome::fail(e),
            }
        }
    }
    let after = if changed && !ctx.check {
        match ctx.output_of(&probe(&want.path), "openssh_keypair").await {
            Ok(out) => parse(&String::from_utf8_lossy(&out)),
            Err(e) => return Outcome::fail(e),
        }
    } else {
        found
    };
    let mut out = Outcome {
        changed,
        ..Outcome::default()
    };
    // As the collection registers them: the key without its comment, and the comment.
    let (public, comment) = key_and_comment(&after.public.clone().unwrap_or_default());
    for (key, value) in [
        ("size", json!(want.size)),
        ("type", json!(want.kind)),
        ("filename", json!(want.path)),
        (
            "fingerprint",
            json!(after.info.map(|(_, fp, _)| fp).unwrap_or_default()),
        ),
        ("public_key", json!(public)),
        ("comment", json!(comment)),
    ] {
        out.result.insert(key.into(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;

    fn want(v: serde_json::Value) -> Wanted {
        Wanted::from_args(&args(v)).unwrap()
    }

    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2E root@host";

    fn found(info: Option<(u32, &str)>, public: Option<&str>) -> Found {
        Found {
            folder: true,
            private: true,
            info: info.map(|(s, k)| (s, "SHA256:x".into(), k.into())),
            derived: RSA.into(),
            public: public.map(String::from),
            ..Found::default()
        }
    }

    #[test]
    fn keys_are_kept_or_made_as_the_collection_decides() {
        let rsa = want(json!({"path": "/etc/ssh/k"}));
        assert_eq!(rsa.size, 4096);
        assert_eq!(
            decide(
                &rsa,
                &Found {
                    folder: true,
                    ..Found::default()
                }
            ),
            Ok(Step::Generate)
        );
        assert_eq!(
            decide(&rsa, &found(Some((4096, "rsa")), Some(RSA))),
            Ok(Step::Keep)
        );
        assert_eq!(
            decide(&rsa, &found(Some((2048, "rsa")), Some(RSA))),
            Ok(Step::Generate)
        );
        assert_eq!(
            decide(&rsa, &found(Some((4096, "rsa")), None)),
            Ok(Step::RestorePublic)
        );
        let never = want(json!({"path": "/k", "size": 2048, "regenerate": "never"}));
        assert_eq!(
            decide(&never, &found(Some((4096, "rsa")), Some(RSA))),
            Ok(Step::Keep)
        );
        let fail = want(json!({"path": "/k", "type": "ed25519", "regenerate": "fail"}));
        assert!(decide(&fail, &found(Some((4096, "rsa")), Some(RSA))).is_err());
        let commented = want(json!({"path": "/k", "comment": "deploy"}));
        assert_eq!(
            decide(&commented, &found(Some((4096, "rsa")), Some(RSA))),
            Ok(Step::RestorePublic)
        );
        let unreadable = Found {
            derived: String::new(),
            ..found(Some((4096, "rsa")), None)
        };
        assert!(decide(&rsa, &unreadable).is_err());
        let full = want(json!({"path": "/k", "regenerate": "full_idempotence"}));
        assert_eq!(decide(&full, &unreadable), Ok(Step::Generate));
        assert!(size_for("ecdsa", Some(300.0)).is_err());
        assert_eq!(size_for("ed25519", Some(4096.0)), Ok(256));
        assert_eq!(
            parse("folder=y\nprivate=y\ninfo=256 SHA256:abc no comment (ED25519)\nderived=ssh-ed25519 AAAA\npublic=ssh-ed25519 AAAA c\n").info,
            Some((256, "SHA256:abc".into(), "ed25519".into()))
        );
    }
}
