//! deb822_repository: an apt source as a deb822 `.sources` file in /etc/apt/sources.list.d, written
//! as ansible-core's module writes it (fields in the order of the module's parameter names, lists
//! joined by spaces, booleans as yes/no, a key given as text folded into `Signed-By`). A `signed_by`
//! URL is fetched on the host into /etc/apt/keyrings/NAME.asc (or .gpg), only when it differs. Like
//! Ansible's, it does not run apt-get update: a later `apt: update_cache: true` does.

use drover_ssh::shell::{quote, temp_path};
use serde_json::{Value as Json, json};

use super::files::{put_command, unified};
use super::{Args, ModuleCtx, Outcome, json_words, reports_change};

/// The deb822 fields the module takes, by parameter name, in the (sorted) order it writes them.
const FIELDS: &[&str] = &[
    "allow_downgrade_to_insecure",
    "allow_insecure",
    "allow_weak",
    "architectures",
    "by_hash",
    "check_date",
    "check_valid_until",
    "components",
    "date_max_future",
    "enabled",
    "inrelease_path",
    "languages",
    "name",
    "pdiffs",
    "signed_by",
    "suites",
    "targets",
    "trusted",
    "types",
    "uris",
];

/// The file name's stem from `name`, as the module makes it.
pub fn slug(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut dashed = String::new();
    let mut in_run = false;
    for c in lower.chars() {
        if c == '_' || c.is_whitespace() {
            if !in_run {
                dashed.push('-');
            }
            in_run = true;
        } else {
            dashed.push(c);
            in_run = false;
        }
    }
    dashed
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect()
}

/// A field's name in the file.
fn field_name(param: &str) -> String {
    match param {
        "name" => "X-Repolib-Name".into(),
        "uris" => "URIs".into(),
        other => other
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// A value as the module writes it; text of several lines is folded, an empty line as ` .`.
fn field_value(value: &Json) -> String {
    let text = match value {
        Json::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Json::Array(_) => json_words(value).join(" "),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    if !text.contains('\n') {
        return text;
    }
    let folded: Vec<String> = text
        .trim()
        .lines()
        .map(|l| format!("    {}", if l.trim().is_empty() { "." } else { l.trim() }))
        .collect();
    format!("\n{}", folded.join("\n"))
}

/// The `.sources` text. `signed_by` is what goes in that field (a key file's path, or the key).
pub fn render(args: &Args, signed_by: Option<&str>) -> String {
    let mut out = String::new();
    for param in FIELDS {
        let value = match (*param, signed_by) {
            ("signed_by", Some(s)) => Json::String(s.to_string()),
            ("types", _) if args.0.get("types").is_none_or(Json::is_null) => json!(["deb"]),
            _ => match args.0.get(*param) {
                None | Some(Json::Null) => continue,
                Some(v) => v.clone(),
            },
        };
        let v = field_value(&value);
        if v.is_empty() || v.starts_with('\n') {
            out.push_str(&format!("{}:{v}\n", field_name(param)));
        } else {
            out.push_str(&format!("{}: {v}\n", field_name(param)));
        }
    }
    out
}

/// The script that fetches a `signed_by` URL into /etc/apt/keyrings/SLUG.asc or .gpg (armored or
/// not) when it differs, and prints `key:PATH` (and `changed`).
pub fn key_command(url: &str, slug: &str, check: bool) -> String {
    let install = if check {
        String::new()
    } else {
        "chmod 644 \"$t\" && mv -f -- \"$t\" \"$f\" || exit 1; ".into()
    };
    format!(
        "d=/etc/apt/keyrings; [ -d $d ] || {{ {mk}echo changed; }}; \
         t=$(mktemp {tmp}) || exit 1; trap 'rm -f \"$t\"' EXIT; \
         curl -fsSL -- {u} > \"$t\" || {{ echo 'Could not fetch signed_by key: '{u} >&2; exit 1; }}; \
         if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' \"$t\"; then e=asc; else e=gpg; fi; f=$d/{s}.$e; \
         if ! cmp -s \"$t\" \"$f\"; then {install}echo changed; fi; echo \"key:$f\"",
        mk = if check {
            ""
        } else {
            "mkdir -m 755 $d || exit 1; "
        },
        tmp = if check {
            ""
        } else {
            "\"$d/.drover-key-XXXXXX\""
        },
        u = quote(url),
        s = slug,
    )
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(name) = args.str("name") else {
        return Outcome::bad_input("deb822_repository needs `name`");
    };
    let slug = slug(&name);
    if slug.is_empty() {
        return Outcome::bad_input(format!(
            "deb822_repository: `name: {name}` leaves no file name"
        ));
    }
    let mode = match args.mode("mode") {
        Ok(m) => m.unwrap_or(0o644),
        Err(e) => return Outcome::bad_input(format!("deb822_repository: {e}")),
    };
    // Ansible installs python3-debian for its module; drover needs nothing on the host for it.
    let _ = args.bool("install_python_debian");
    let dest = format!("/etc/apt/sources.list.d/{slug}.sources");
    let mut outcome = Outcome::default();
    outcome.result.insert("dest".into(), json!(dest));
    if args.str("state").as_deref() == Some("absent") {
        let files = format!(
            "{} /etc/apt/keyrings/{slug}.asc /etc/apt/keyrings/{slug}.gpg",
            quote(&dest)
        );
        let act = if ctx.check {
            ""
        } else {
            "rm -f -- \"$f\" || exit 1; "
        };
        let cmd = format!(
            "for f in {files}; do if [ -e \"$f\" ]; then {act}echo changed; fi; done; true"
        );
        return match ctx.output_of(&cmd, "deb822_repository").await {
            Ok(o) => Outcome {
                changed: reports_change(&o),
                ..outcome
            },
            Err(e) => Outcome::fail(e),
        };
    }
    let mut key_changed = false;
    let signed_by = match args.str("signed_by") {
        Some(url) if url.contains("://") => match ctx
            .output_of(&key_command(&url, &slug, ctx.check), "deb822_repository")
            .await
        {
            Ok(o) => {
                key_changed = reports_change(&o);
                let text = String::from_utf8_lossy(&o);
                let path = text
                    .lines()
                    .find_map(|l| l.strip_prefix("key:"))
                    .unwrap_or_default()
                    .to_string();
                outcome.result.insert("key_filename".into(), json!(path));
                Some(path)
            }
            Err(e) => return Outcome::fail(e),
        },
        other => other,
    };
    let repo = render(args, signed_by.as_deref());
    outcome.result.insert("repo".into(), json!(repo));
    let current = match ctx
        .output_of(
            &format!("cat -- {} 2>/dev/null; true", quote(&dest)),
            "deb822_repository",
        )
        .await
    {
        Ok(o) => String::from_utf8_lossy(&o).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    if ctx.diff && current != repo {
        outcome.diff = Some(unified(&dest, current.as_bytes(), repo.as_bytes()));
    }
    if ctx.check {
        outcome.changed = key_changed || current != repo;
        return outcome;
    }
    let cmd = put_command(&dest, &temp_path(&dest), repo.as_bytes(), Some(mode));
    match ctx
        .output_with(&cmd, repo.as_bytes(), &format!("writing {dest}"))
        .await
    {
        Ok(out) => {
            outcome.changed = key_changed || String::from_utf8_lossy(&out).starts_with("changed");
            outcome
        }
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_fields_are_the_modules() {
        assert_eq!(slug("Docker CE_stable  repo!"), "docker-ce-stable-repo");
        assert_eq!(
            field_name("allow_downgrade_to_insecure"),
            "Allow-Downgrade-To-Insecure"
        );
        assert_eq!(field_name("uris"), "URIs");
        let args = Args(
            json!({"name": "docker", "uris": "https://download.docker.com/linux/debian", "suites": ["bookworm"], "components": ["stable"], "architectures": "amd64", "enabled": true})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(
            render(&args, Some("/etc/apt/keyrings/docker.asc")),
            "Architectures: amd64\nComponents: stable\nEnabled: yes\nX-Repolib-Name: docker\nSigned-By: /etc/apt/keyrings/docker.asc\nSuites: bookworm\nTypes: deb\nURIs: https://download.docker.com/linux/debian\n"
        );
        let key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEaxCw6RYJ\n-----END PGP PUBLIC KEY BLOCK-----\n";
        let text = render(&args, Some(key));
        assert!(
            text.contains("Signed-By:\n    -----BEGIN PGP PUBLIC KEY BLOCK-----\n    .\n    mDMEaxCw6RYJ\n    -----END PGP PUBLIC KEY BLOCK-----\nSuites:"),
            "{text}"
        );
    }
}
