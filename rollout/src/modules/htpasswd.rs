//! htpasswd (community.general): one user's line in an Apache/nginx password file, as passlib's
//! HtpasswdFile keeps it. A user whose stored hash already verifies the password is left alone
//! (whatever scheme it was made with, as the module does), otherwise the line is replaced in place
//! or added at the end with a new hash (`hash_scheme`, Apache's `apr_md5_crypt` by default).
//! Hashing and checking happen on the controller, so the host needs no Python or passlib; the
//! file is written as `copy` writes files (a temp name, then renamed), with mode and owner.

use drover_templates::crypt::{Scheme, verify};

use super::files::{FileTarget, Remote, ensure_content, read_state};
use super::{Args, ModuleCtx, Outcome};

/// One user's line: its name and its hash.
fn entry(line: &str) -> Option<(&str, &str)> {
    if line.trim().is_empty() || line.trim_start().starts_with('#') {
        return None;
    }
    line.trim_end().split_once(':')
}

/// The file with `user` set to `password` (None: it already verifies, nothing to do). Blank lines
/// are dropped, as the module drops them; comments and other users stay where they are.
pub fn set(
    current: &str,
    user: &str,
    password: &str,
    scheme: Scheme,
) -> Result<Option<String>, String> {
    let lines: Vec<&str> = current.lines().filter(|l| !l.trim().is_empty()).collect();
    let found = lines
        .iter()
        .position(|l| entry(l).is_some_and(|(u, _)| u == user));
    if let Some(i) = found
        && entry(lines[i]).is_some_and(|(_, hash)| verify(hash, password))
    {
        return Ok(None);
    }
    let line = format!("{user}:{}", scheme.hash(password)?);
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_string()).collect();
    match found {
        Some(i) => out[i] = line,
        None => out.push(line),
    }
    Ok(Some(out.iter().map(|l| format!("{l}\n")).collect()))
}

/// The file without `user` (None: the user is not in it).
pub fn remove(current: &str, user: &str) -> Option<String> {
    let lines: Vec<&str> = current.lines().filter(|l| !l.trim().is_empty()).collect();
    let kept: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| entry(l).is_none_or(|(u, _)| u != user))
        .collect();
    (kept.len() != lines.len()).then(|| kept.iter().map(|l| format!("{l}\n")).collect())
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let (Some(path), Some(user)) = (
        args.first(&["path", "dest", "destfile"]),
        args.first(&["name", "username"]),
    ) else {
        return Outcome::bad_input("htpasswd needs `path` and `name`");
    };
    if user.is_empty() || user.contains([':', '\n']) {
        return Outcome::bad_input(format!(
            "htpasswd: `{user}` is not a user name of an htpasswd file"
        ));
    }
    let scheme_name = args
        .first(&["hash_scheme", "crypt_scheme"])
        .unwrap_or_else(|| "apr_md5_crypt".into());
    let Some(scheme) = Scheme::named(&scheme_name) else {
        return Outcome::bad_input(format!(
            "htpasswd: hash scheme `{scheme_name}` is not one drover has"
        ));
    };
    let present = match args.present() {
        Ok(p) => p,
        Err(e) => return Outcome::bad_input(format!("htpasswd: {e}")),
    };
    let target = match FileTarget::from_args(path.clone(), args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("htpasswd: {e}")),
    };
    let current = match read_state(ctx, &path).await {
        Ok(Remote::File { content, .. }) => Some(String::from_utf8_lossy(&content).into_owned()),
        Ok(Remote::Missing) => None,
        Err(e) => return Outcome::fail(e),
    };
    let (content, msg) = if present {
        let Some(password) = args.str("password") else {
            return Outcome::bad_input("htpasswd: `password` is needed to add a user");
        };
        match &current {
            None if args.bool("create") == Some(false) => {
                return Outcome::fail(format!("Destination {path} does not exist"));
            }
            None => match set("", &user, &password, scheme) {
                Ok(c) => (c, format!("Created {path} and added {user}")),
                Err(e) => return Outcome::fail(e),
            },
            Some(text) => match set(text, &user, &password, scheme) {
                Ok(Some(c)) => (Some(c), format!("Add/update {user}")),
                Ok(None) => (None, format!("{user} already present")),
                Err(e) => return Outcome::fail(e),
            },
        }
    } else {
        match &current {
            None => {
                return Outcome {
                    msg: format!("{user} not present ({path} does not exist)"),
                    ..Outcome::default()
                };
            }
            Some(text) => match remove(text, &user) {
                Some(c) => (Some(c), format!("Remove {user}")),
                None => (None, format!("{user} not present")),
            },
        }
    };
    if current.is_none() && !ctx.check {
        let parent = std::path::Path::new(&path)
            .parent()
            .map(|p| p.to_string_lossy().into_owned());
        if let Some(dir) = parent.filter(|d| !d.is_empty()) {
            let mkdir = format!("mkdir -p -- {}", drover_ssh::shell::quote(&dir));
            if let Err(e) = ctx.output_of(&mkdir, "htpasswd").await {
                return Outcome::fail(e);
            }
        }
    }
    let unchanged = current.clone().unwrap_or_default();
    let mut out = ensure_content(
        ctx,
        &target,
        content.as_deref().unwrap_or(&unchanged).as_bytes(),
    )
    .await;
    // The file holds password hashes: no diff of it is shown (the module has none either).
    out.diff = None;
    if !out.failed {
        out.msg = msg;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_whose_hash_verifies_is_left_alone() {
        let file = "# admins\nalice:$apr1$saltsalt$x78Y39ym2RjUNQHTLgwHz/\n\nbob:plain\n";
        assert_eq!(set(file, "alice", "pw", Scheme::AprMd5Crypt).unwrap(), None);
        assert_eq!(set(file, "bob", "plain", Scheme::Bcrypt).unwrap(), None);
        let changed = set(file, "alice", "new", Scheme::LdapSha1)
            .unwrap()
            .unwrap();
        assert_eq!(
            changed,
            "# admins\nalice:{SHA}wqawPxkN+ytKqR+K+NR3qbw0Adw=\nbob:plain\n"
        );
        let added = set(file, "carol", "pw", Scheme::Plaintext)
            .unwrap()
            .unwrap();
        assert!(added.ends_with("bob:plain\ncarol:pw\n"), "{added}");
    }

    #[test]
    fn removing_takes_only_that_users_line() {
        let file = "alice:x\nbob:y\n";
        assert_eq!(remove(file, "alice").as_deref(), Some("bob:y\n"));
        assert_eq!(remove(file, "carol"), None);
    }
}
