//! Building remote command lines. Every value goes through [`quote`] before it reaches a shell.

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

/// Wraps `command` to run as `user` through sudo. With a password, sudo prompts with `prompt` on
/// stderr and the caller answers; `marker` is printed once sudo has let the command start.
pub fn sudo(command: &str, user: &str, prompt: Option<&str>, marker: &str) -> String {
    let inner = quote(&format!("echo {marker}; {command}"));
    match prompt {
        Some(prompt) => format!(
            "sudo -H -S -p {} -u {} -- /bin/sh -c {inner}",
            quote(prompt),
            quote(user)
        ),
        None => format!("sudo -H -n -u {} -- /bin/sh -c {inner}", quote(user)),
    }
}

/// A command that writes its standard input to `path` atomically, with `mode` (octal, as `0644`).
pub fn write_file(path: &str, mode: u32) -> String {
    let tmp = format!("{path}.drover-tmp");
    format!(
        "umask 077 && cat > {t} && chmod {mode:o} {t} && mv -f {t} {p}",
        t = quote(&tmp),
        p = quote(path)
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
    fn commands_are_exact_strings() {
        assert_eq!(
            write_file("/etc/app conf", 0o644),
            "umask 077 && cat > '/etc/app conf.drover-tmp' && chmod 644 '/etc/app conf.drover-tmp' && mv -f '/etc/app conf.drover-tmp' '/etc/app conf'"
        );
        assert_eq!(read_file("/tmp/x"), "cat -- /tmp/x");
        assert_eq!(
            sudo("id -u", "root", None, "OK"),
            "sudo -H -n -u root -- /bin/sh -c 'echo OK; id -u'"
        );
        assert_eq!(
            sudo("id", "app", Some("[drover] pw:"), "OK"),
            "sudo -H -S -p '[drover] pw:' -u app -- /bin/sh -c 'echo OK; id'"
        );
    }
}
