//! `lookup('password', 'PATH length=N chars=...')`: a random password kept in a file on the
//! controller, as Ansible keeps it: the file's first word if it exists, else a new password written
//! there (folder 0700, file 0600, through a fresh temporary name). `/dev/null` stores nothing.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use minijinja::Error;
use minijinja::value::Value;

use super::{Call, Scope, invalid, search_dirs, text};

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The characters of one `chars` entry: a name of Python's `string` module, or the text itself.
fn char_set(spec: &str) -> String {
    match spec {
        "ascii_letters" => LETTERS.into(),
        "ascii_lowercase" => LETTERS[..26].into(),
        "ascii_uppercase" => LETTERS[26..].into(),
        "digits" => DIGITS.into(),
        "hexdigits" => "0123456789abcdefABCDEF".into(),
        "octdigits" => "01234567".into(),
        "punctuation" => PUNCTUATION.into(),
        other => other.into(),
    }
}

/// The candidate characters from `chars=a,b,c` (`,,` is a comma), in order, each once.
fn candidates(chars: Option<&str>) -> String {
    let specs: Vec<String> = match chars {
        None => vec!["ascii_letters".into(), "digits".into(), ".,:-_".into()],
        Some(list) => {
            let mut specs = Vec::new();
            for (i, part) in list.split(",,").enumerate() {
                if i > 0 {
                    specs.push(",".to_string());
                }
                specs.extend(
                    part.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
            }
            specs
        }
    };
    let mut out = String::new();
    for c in specs
        .iter()
        .flat_map(|s| char_set(s).chars().collect::<Vec<_>>())
    {
        if !out.contains(c) {
            out.push(c);
        }
    }
    out
}

/// `length` characters drawn uniformly from `chars`: with `seed`, as Python's
/// `random.Random(seed).choice` draws them (the same password as Ansible's for the same seed),
/// else from the OS's random source.
fn random_password(length: usize, chars: &str, seed: Option<&str>) -> Result<String, Error> {
    let chars: Vec<char> = chars.chars().collect();
    if chars.is_empty() {
        return Err(invalid("lookup('password'): chars gives no characters"));
    }
    if let Some(seed) = seed {
        let mut rng = crate::pyrandom::PyRandom::from_str(seed);
        return Ok((0..length)
            .map(|_| chars[rng.below(chars.len() as u64) as usize])
            .collect());
    }
    let bound = chars.len() as u32;
    // Rejection sampling: without it the first characters would come up more often.
    let zone = u32::MAX - (u32::MAX % bound);
    let mut out = String::new();
    while out.chars().count() < length {
        let mut bits = [0u8; 4];
        getrandom::fill(&mut bits)
            .map_err(|e| invalid(format!("lookup('password'): no random source: {e}")))?;
        let n = u32::from_le_bytes(bits);
        if n < zone {
            out.push(chars[(n % bound) as usize]);
        }
    }
    Ok(out)
}

/// Writes `password` and a newline to `path`, private, through an unguessable temporary name (never
/// through a planted symlink).
fn store(path: &Path, password: &str) -> Result<(), Error> {
    let fail = |e: std::io::Error| invalid(format!("lookup('password'): {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
    }
    let tmp = drover_shell::temp_path(&path.display().to_string());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(fail)?;
    let written = file
        .write_all(format!("{password}\n").as_bytes())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(())
}

/// One term: the path (relative to the playbook's folder) and its settings.
fn one(term: &str, call: &Call, scope: &dyn Scope) -> Result<Value, Error> {
    let mut words = term.split_whitespace();
    let relpath = words
        .next()
        .ok_or_else(|| invalid("lookup('password') needs a path"))?;
    let mut options: Vec<(String, String)> = call
        .options
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    for word in words {
        let (k, v) = word.split_once('=').ok_or_else(|| {
            invalid(format!(
                "lookup('password'): `{word}` after the path is not key=value"
            ))
        })?;
        options.push((k.to_string(), v.to_string()));
    }
    let mut length = 20;
    let mut chars = None;
    let mut seed = None;
    let mut encrypt = None;
    for (k, v) in &options {
        match k.as_str() {
            "length" => {
                length = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= 4096)
                    .ok_or_else(|| invalid(format!("lookup('password'): length `{v}`")))?;
            }
            "chars" => chars = Some(v.clone()),
            "seed" => seed = Some(v.clone()),
            "encrypt" => {
                encrypt = Some(match v.as_str() {
                    "sha512_crypt" => crate::crypt::Variant::Sha512,
                    "sha256_crypt" => crate::crypt::Variant::Sha256,
                    other => {
                        return Err(invalid(format!(
                            "lookup('password'): encrypt `{other}` is not supported; drover hashes with sha512_crypt or sha256_crypt"
                        )));
                    }
                });
            }
            // Only bcrypt has idents, and drover has no bcrypt.
            "ident" => {
                return Err(invalid(
                    "lookup('password'): `ident` goes with bcrypt, which drover does not have",
                ));
            }
            other => {
                return Err(invalid(format!(
                    "lookup('password') has no option `{other}`; it takes length, chars, seed and encrypt"
                )));
            }
        }
    }
    let path = if Path::new(relpath).is_absolute() {
        PathBuf::from(relpath)
    } else {
        search_dirs(scope)
            .pop()
            .unwrap_or_else(|| ".".into())
            .join(relpath)
    };
    let chars = candidates(chars.as_deref());
    let stored = (path != Path::new("/dev/null"))
        .then(|| std::fs::read_to_string(&path).ok())
        .flatten();
    // A stored salt (from encrypt=) follows the password, as Ansible writes it.
    let (password, salt) = match &stored {
        Some(content) => {
            let content = content.trim_end();
            match content.rsplit_once(" salt=") {
                Some((p, s)) => (p.to_string(), Some(s.to_string())),
                None => (content.to_string(), None),
            }
        }
        None => (random_password(length, &chars, seed.as_deref())?, None),
    };
    let Some(variant) = encrypt else {
        if stored.is_none() && path != Path::new("/dev/null") {
            store(&path, &password)?;
        }
        return Ok(Value::from(password));
    };
    // With encrypt, the salt is kept beside the password so the hash stays the same next time.
    let salt = match salt {
        Some(s) if crate::crypt::valid_salt(&s) => s,
        Some(s) => {
            return Err(invalid(format!(
                "lookup('password'): stored salt `{s}` is not a crypt salt"
            )));
        }
        None => {
            let salt = crate::crypt::random_salt()
                .map_err(|e| invalid(format!("lookup('password'): no random source: {e}")))?;
            if path != Path::new("/dev/null") {
                store(&path, &format!("{password} salt={salt}"))?;
            }
            salt
        }
    };
    let rounds = variant.default_rounds();
    Ok(Value::from(crate::crypt::sha_crypt(
        variant,
        password.as_bytes(),
        &salt,
        rounds,
    )))
}

/// The plugin: each term's password.
pub(super) fn lookup(terms: &[Value], call: &Call, scope: &dyn Scope) -> Result<Vec<Value>, Error> {
    terms.iter().map(|t| one(&text(t), call, scope)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vars;
    use std::collections::BTreeMap;
    use std::os::unix::fs::PermissionsExt;

    fn call() -> Call<'static> {
        Call {
            options: BTreeMap::new(),
            loop_subdir: None,
        }
    }

    #[test]
    fn chars_name_sets_of_python_s_string_module_or_themselves() {
        assert_eq!(candidates(Some("digits")), DIGITS);
        assert_eq!(candidates(Some("digits,,ab")), "0123456789,ab");
        assert_eq!(candidates(None).len(), 52 + 10 + 5);
    }

    #[test]
    fn a_password_is_stored_private_and_read_back_the_same() {
        let dir = std::env::temp_dir().join(format!("drover-pw-{}", std::process::id()));
        let path = dir.join("creds/db");
        let term = format!("{} length=12 chars=digits", path.display());
        let first = one(&term, &call(), &Vars::new()).unwrap();
        let text = first.as_str().unwrap();
        assert_eq!(text.len(), 12);
        assert!(text.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(one(&term, &call(), &Vars::new()).unwrap(), first);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{text}\n"));
        std::fs::remove_dir_all(&dir).unwrap();
        // A seed gives the same password every time (the fixtures hold it against Ansible's).
        assert_eq!(
            one("/dev/null seed=1", &call(), &Vars::new()).unwrap(),
            one("/dev/null seed=1", &call(), &Vars::new()).unwrap()
        );
        assert!(one("/dev/null encrypt=bcrypt", &call(), &Vars::new()).is_err());
    }
}
