//! Building remote command lines. Every value goes through [`quote`] before it reaches a shell.

mod local;

pub use local::{LocalError, run_local};

/// Quotes `value` for a POSIX shell: the result is always one word with the value's exact bytes.
pub fn quote(value: &str) -> String {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b))
    {
        return value.to_string();
    }
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// `script` run in the folder `dir` (`chdir`), or not at all when the folder cannot be entered:
/// the whole script is one group behind the `cd`, so none of its commands runs elsewhere (with a
/// plain `cd DIR && a; b`, `b` would run in the login folder when `cd` fails). The newline before
/// the closing brace ends a trailing comment or here-document.
pub fn in_folder(dir: &str, script: &str) -> String {
    format!("cd {} && {{\n{script}\n}}", quote(dir))
}

/// Splits `text` into words as Python's `shlex.split` does (POSIX rules, no comments), which is how
/// Ansible's `command` module reads its free-form string: whitespace separates words, `'...'` is
/// literal, `"..."` is literal but for `\"` and `\\`, and a backslash outside quotes keeps the next
/// character. Quoted and unquoted parts of one word join (`a"b c"` is `ab c`); `''` is an empty word.
pub fn split_words(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(SplitError::NoClosingQuote),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => w.push(e),
                            Some(other) => {
                                w.push('\\');
                                w.push(other);
                            }
                            None => return Err(SplitError::NoClosingQuote),
                        },
                        Some(c) => w.push(c),
                        None => return Err(SplitError::NoClosingQuote),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(e) => word.get_or_insert_with(String::new).push(e),
                None => return Err(SplitError::NoEscapedCharacter),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// Why a command string could not be split into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A quote opened and never closed.
    #[error("no closing quotation")]
    NoClosingQuote,
    /// The text ends in a lone backslash.
    #[error("no escaped character after the final backslash")]
    NoEscapedCharacter,
}

/// One argument of a `command:` task as a shell word that the shell passes on unchanged but for
/// what Ansible's `command` module expands itself (`os.path.expanduser(os.path.expandvars(arg))`):
/// a leading `~` or `~user`, and `$NAME` or `${NAME}` where NAME is set in the environment (an unset
/// one stays as written, as in Python). Nothing else is interpreted: no command substitution, no
/// globbing, no field splitting, no operators.
pub fn command_word(word: &str) -> String {
    let (tilde, rest) = split_tilde(word);
    let mut out = tilde.to_string();
    let mut literal = String::new();
    let mut rest = rest;
    while let Some(pos) = rest.find('$') {
        literal.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        match variable(after) {
            Some((name, braced, len)) => {
                if !literal.is_empty() {
                    out.push_str(&quote(&std::mem::take(&mut literal)));
                }
                let fallback = if braced {
                    format!("\\${{{name}\\}}")
                } else {
                    format!("\\${name}")
                };
                out.push_str(&format!("\"${{{name}-{fallback}}}\""));
                rest = &after[len..];
            }
            None => {
                literal.push('$');
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() || out.is_empty() {
        out.push_str(&quote(&literal));
    }
    out
}

/// A leading `~` or `~user` that the shell may expand as it is (user names of plain characters
/// only), and the rest of the word.
fn split_tilde(word: &str) -> (&str, &str) {
    if !word.starts_with('~') {
        return ("", word);
    }
    let end = word.find('/').unwrap_or(word.len());
    let user = &word[1..end];
    if user
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !user.starts_with('-')
    {
        (&word[..end], &word[end..])
    } else {
        ("", word)
    }
}

/// A shell variable name after a `$`: `NAME` or `{NAME}`, whether braced, and the length used.
fn variable(text: &str) -> Option<(&str, bool, usize)> {
    let name_len = |s: &str| {
        s.bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count()
    };
    let starts_ok = |s: &str| {
        s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
    };
    if let Some(inner) = text.strip_prefix('{') {
        let n = name_len(inner);
        (n > 0 && starts_ok(inner) && inner[n..].starts_with('}'))
            .then(|| (&inner[..n], true, n + 2))
    } else {
        let n = name_len(text);
        (n > 0 && starts_ok(text)).then(|| (&text[..n], false, n))
    }
}

/// sudo's options before drover's own: `become_flags` (each word quoted; `-n`, `-S`, which drover
/// chooses, left out) or `-H`, Ansible's default; empty, or ending in a space.
pub fn sudo_flags(flags: Option<&str>) -> String {
    let words: Vec<String> = match flags {
        None => vec!["-H".into()],
        Some(f) => f
            .split_whitespace()
            .filter(|w| !matches!(*w, "-n" | "-S" | "--non-interactive" | "--stdin"))
            .map(quote)
            .collect(),
    };
    words.iter().map(|w| format!("{w} ")).collect()
}

/// Wraps `command` to run as `user` through sudo. With a password, sudo prompts with `prompt` on
/// stderr and the caller answers; `marker` is printed once sudo has let the command start.
/// `flags` (`become_flags`) replace sudo's `-H`, each word quoted; `-n`, `-S` and `-p` are drover's
/// to choose (how the password is answered), so they are dropped from `flags`.
pub fn sudo(
    command: &str,
    user: &str,
    prompt: Option<&str>,
    marker: &str,
    flags: Option<&str>,
) -> String {
    let inner = quote(&format!("echo {marker}; {command}"));
    let flags = sudo_flags(flags);
    match prompt {
        Some(prompt) => format!(
            "sudo {flags}-S -p {} -u {} -- /bin/sh -c {inner}",
            quote(prompt),
            quote(user)
        ),
        None => format!("sudo {flags}-n -u {} -- /bin/sh -c {inner}", quote(user)),
    }
}

/// A command that writes its standard input to `path` atomically, with `mode` (octal, as `0644`),
/// through a fresh temporary name beside it (see [`temp_path`] and [`write_via`]).
pub fn write_file(path: &str, mode: u32) -> String {
    write_via(path, &temp_path(path), &format!("{mode:o}"), None)
}

/// A temporary name in `path`'s folder that nobody can guess: `.<name>.drover-<128 random bits>`.
/// Renaming it over `path` is atomic because both are in one folder.
pub fn temp_path(path: &str) -> String {
    let mut bits = [0u8; 16];
    // Without the OS's random source, the clock and the process id still make a name that no
    // earlier run used; the exclusive create in write_via refuses anything already there.
    if getrandom::fill(&mut bits).is_err() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bits = (now ^ (u128::from(std::process::id()) << 64)).to_le_bytes();
    }
    let hex: String = bits.iter().map(|b| format!("{b:02x}")).collect();
    let (dir, name) = match path.rsplit_once('/') {
        Some((dir, name)) => (format!("{dir}/"), name),
        None => (String::new(), path),
    };
    format!("{dir}.{name}.drover-{hex}")
}

/// Writes standard input to `tmp`, created exclusively (`set -C`: O_EXCL, so never through an
/// existing file or symlink) and private (umask 077), sets `mode` (an octal number, or a shell
/// expression such as `"$m"`), runs `validate` on it when given (a command line that names the
/// temporary file; a failure keeps the old file), then renames it over `path` (rename replaces a
/// symlink at `path`, it does not follow it). On any failure the temporary file is removed and the
/// command fails.
pub fn write_via(path: &str, tmp: &str, mode: &str, validate: Option<&str>) -> String {
    let (t, p) = (quote(tmp), quote(path));
    let check = validate.map_or(String::new(), |v| format!(" && {v}"));
    format!(
        "umask 077 && if (set -C && cat > {t}) && chmod {mode} -- {t}{check} && mv -f -- {t} {p}; then :; else rm -f -- {t}; exit 1; fi"
    )
}

/// A command that prints the file at `path`.
pub fn read_file(path: &str) -> String {
    format!("cat -- {}", quote(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_runs_in_its_folder_or_not_at_all() {
        let run = |script: &str| {
            let out = std::process::Command::new("sh")
                .args(["-c", script])
                .current_dir("/")
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        assert_eq!(
            run(&in_folder("/tmp", "pwd; echo two # done")),
            "/tmp\ntwo\n"
        );
        assert_eq!(run(&in_folder("/no such folder", "echo one; pwd")), "");
        assert_eq!(run(&in_folder("/tmp", "cat <<EOF\nhi\nEOF")), "hi\n");
    }

    #[test]
    fn quoting_is_exact() {
        assert_eq!(quote("web01"), "web01");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(
            quote("$(rm -rf /); `x` | y & z > w"),
            "'$(rm -rf /); `x` | y & z > w'"
        );
    }

    #[test]
    fn words_split_as_pythons_shlex() {
        assert_eq!(
            split_words(r#"a 'b c' "d \" e" f\ g h'i'"#).unwrap(),
            ["a", "b c", r#"d " e"#, "f g", "hi"]
        );
        assert_eq!(split_words(r#""\$x" '' #c"#).unwrap(), [r"\$x", "", "#c"]);
        assert_eq!(split_words("'a"), Err(SplitError::NoClosingQuote));
        assert_eq!(split_words("a\\"), Err(SplitError::NoEscapedCharacter));
    }

    #[test]
    fn command_words_are_exact() {
        assert_eq!(command_word("plain"), "plain");
        assert_eq!(command_word(""), "''");
        assert_eq!(command_word("a;b"), "'a;b'");
        assert_eq!(command_word("$(id)"), "'$(id)'");
        assert_eq!(command_word("$HOME/x"), r#""${HOME-\$HOME}"/x"#);
        assert_eq!(command_word("x${A_1}y"), r#"x"${A_1-\${A_1\}}"y"#);
        assert_eq!(command_word("$1 ${a b} $"), "'$1 ${a b} $'");
        assert_eq!(command_word("~/a b"), "~'/a b'");
        assert_eq!(command_word("~root"), "~root");
        assert_eq!(command_word("~$(id)/x"), "'~$(id)/x'");
        assert_eq!(command_word("~-x"), "'~-x'");
    }

    #[test]
    fn temp_names_sit_beside_the_file_and_never_repeat() {
        let a = temp_path("/etc/app/app.conf");
        let b = temp_path("/etc/app/app.conf");
        assert!(a.starts_with("/etc/app/.app.conf.drover-"), "{a}");
        assert_eq!(a.len(), "/etc/app/.app.conf.drover-".len() + 32);
        assert_ne!(a, b);
        assert!(temp_path("rel").starts_with(".rel.drover-"));
    }

    #[test]
    fn commands_are_exact_strings() {
        assert_eq!(
            write_via("/etc/app conf", "/etc/.app conf.drover-0", "644", None),
            "umask 077 && if (set -C && cat > '/etc/.app conf.drover-0') && chmod 644 -- '/etc/.app conf.drover-0' && mv -f -- '/etc/.app conf.drover-0' '/etc/app conf'; then :; else rm -f -- '/etc/.app conf.drover-0'; exit 1; fi"
        );
        assert_eq!(read_file("/tmp/x"), "cat -- /tmp/x");
        assert_eq!(
            sudo("id -u", "root", None, "OK", None),
            "sudo -H -n -u root -- /bin/sh -c 'echo OK; id -u'"
        );
        assert_eq!(
            sudo("id", "app", Some("[drover] pw:"), "OK", None),
            "sudo -H -S -p '[drover] pw:' -u app -- /bin/sh -c 'echo OK; id'"
        );
        // become_flags replace -H; drover keeps -n (or -S -p) itself; each word is quoted.
        assert_eq!(
            sudo("id", "root", None, "OK", Some("-E -n --preserve-env=A;B")),
            "sudo -E '--preserve-env=A;B' -n -u root -- /bin/sh -c 'echo OK; id'"
        );
        assert_eq!(
            sudo("id", "root", None, "OK", Some("")),
            "sudo -n -u root -- /bin/sh -c 'echo OK; id'"
        );
    }
}
