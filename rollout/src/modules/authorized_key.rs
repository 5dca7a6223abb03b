//! authorized_key: SSH public keys in a user's authorized_keys, as ansible.posix's module keeps
//! them: keys are told apart by their base64 body; a key whose type, options or comment differ is
//! rewritten; new keys go after the existing ones, in the order given; `exclusive` drops every other
//! key; lines that are not keys (comments, anything unparsable) stay where they are. The edit is a
//! pure function of the file's text; the file is written through an exclusive temporary file, 0600
//! and owned by the user, in a `~/.ssh` made 0700 (`manage_dir`).

use drover_ssh::shell::{quote, temp_path};
use serde_json::json;

use super::files::{put_command, unified};
use super::{Args, ModuleCtx, Outcome};

const KEY_TYPES: &[&str] = &[
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "ssh-ed25519",
    "ssh-dss",
    "ssh-rsa",
];

/// One line of the file, as the module reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A key: its body (what tells keys apart), type, options in order, comment.
    Key {
        body: String,
        kind: String,
        options: Vec<(String, Option<String>)>,
        comment: String,
    },
    /// Anything else, kept as it is (with its line end).
    Other(String),
}

impl Line {
    /// What the file's dictionary keys it by: the key's body, or the whole line.
    fn id(&self) -> &str {
        match self {
            Line::Key { body, .. } => body,
            Line::Other(text) => text,
        }
    }

    fn render(&self) -> String {
        match self {
            Line::Other(text) => text.clone(),
            Line::Key {
                body,
                kind,
                options,
                comment,
            } => {
                let opts: Vec<String> = options
                    .iter()
                    .map(|(k, v)| v.as_ref().map_or_else(|| k.clone(), |v| format!("{k}={v}")))
                    .collect();
                let opts = if opts.is_empty() {
                    String::new()
                } else {
                    format!("{} ", opts.join(","))
                };
                // As the module writes it: a space before an empty comment too.
                format!("{opts}{kind} {body} {comment}\n")
            }
        }
    }
}

/// `key_options` as the module splits them: at commas outside quotes, `name=value` or a flag.
pub fn parse_options(text: &str) -> Vec<(String, Option<String>)> {
    let mut parts = Vec::new();
    let (mut cur, mut quote_char) = (String::new(), None);
    for c in text.chars() {
        match (c, quote_char) {
            (',', None) => parts.push(std::mem::take(&mut cur)),
            ('"' | '\'', None) => {
                quote_char = Some(c);
                cur.push(c);
            }
            (q, Some(open)) if q == open => {
                quote_char = None;
                cur.push(c);
            }
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (p, None),
        })
        .collect()
}

/// One line (or one given key) as the module parses it; `None` when it holds no key.
pub fn parse_line(raw: &str) -> Option<Line> {
    let raw = raw.replace("\\#", "#");
    let words: Vec<&str> = raw.split_whitespace().collect();
    if words.first() == Some(&"#") {
        return Some(Line::Other(raw));
    }
    let at = words.iter().position(|w| KEY_TYPES.contains(w))?;
    let body = words.get(at + 1)?;
    Some(Line::Key {
        body: body.to_string(),
        kind: words[at].to_string(),
        options: parse_options(&words[..at].join(" ")),
        comment: words.get(at + 2..).map(|w| w.join(" ")).unwrap_or_default(),
    })
}

/// What the task asks.
#[derive(Debug, Clone, Default)]
pub struct KeysSpec {
    /// The keys given, one per line (blank lines and `#` lines left out).
    pub keys: Vec<String>,
    pub absent: bool,
    pub exclusive: bool,
    pub key_options: Option<String>,
    pub comment: Option<String>,
}

/// The new text of the file, or None when nothing changes.
pub fn edit(text: &str, spec: &KeysSpec) -> Result<Option<String>, String> {
    // The file as the module's dictionary: one entry per id, in first-seen order, with its rank.
    let mut entries: Vec<(Line, usize)> = Vec::new();
    for (rank, raw) in text.split_inclusive('\n').enumerate() {
        let line = parse_line(raw).unwrap_or_else(|| Line::Other(raw.to_string()));
        match entries.iter_mut().find(|(l, _)| l.id() == line.id()) {
            Some(slot) => *slot = (line, rank),
            None => entries.push((line, rank)),
        }
    }
    let existing = entries.len();
    let mut write = false;
    let mut wanted: Vec<String> = Vec::new();
    for (rank, given) in spec.keys.iter().enumerate() {
        let Some(Line::Key {
            body,
            kind,
            mut options,
            mut comment,
        }) = parse_line(given)
        else {
            return Err(format!("invalid key specified: {given}"));
        };
        if let Some(o) = &spec.key_options {
            options = parse_options(o);
        }
        if let Some(c) = &spec.comment {
            comment = c.clone();
        }
        let new = Line::Key {
            body: body.clone(),
            kind,
            options,
            comment,
        };
        let position = entries.iter().position(|(l, _)| l.id() == body);
        if spec.absent {
            if let Some(i) = position {
                entries.remove(i);
                write = true;
            }
            continue;
        }
        wanted.push(body.clone());
        match position {
            Some(i) if entries[i].0 == new => {}
            found => {
                // A differing key is removed and the new one goes after the existing keys.
                if let Some(i) = found {
                    entries.remove(i);
                }
                entries.push((new, existing + rank));
                write = true;
            }
        }
    }
    if !spec.absent && spec.exclusive {
        let before = entries.len();
        entries.retain(|(l, _)| wanted.iter().any(|w| w == l.id()));
        write |= entries.len() != before;
    }
    if !write {
        return Ok(None);
    }
    entries.sort_by_key(|(_, rank)| *rank);
    Ok(Some(entries.iter().map(|(l, _)| l.render()).collect()))
}

/// The command that reads the user's passwd line, the file's text, and a key fetched from a URL.
pub fn read_command(user: &str, path: Option<&str>, url: Option<(&str, bool)>) -> String {
    let path = path.map_or_else(|| "\"$h/.ssh/authorized_keys\"".to_string(), quote);
    let fetch = url.map_or(String::new(), |(u, validate)| {
        format!(
            "; echo '##key'; curl -fsSL{} -- {} || {{ echo 'Error getting key from: '{} >&2; exit 1; }}",
            if validate { "" } else { " --insecure" },
            quote(u),
            quote(u)
        )
    });
    format!(
        "e=$(getent passwd {u}) || {{ echo 'Failed to lookup user '{u} >&2; exit 1; }}; h=$(echo \"$e\" | cut -d: -f6); \
         p={path}; echo \"$e\"; echo \"$p\"; echo '##file'; if [ -f \"$p\" ]; then cat -- \"$p\"; fi{fetch}",
        u = quote(user)
    )
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let (Some(user), Some(key)) = (args.str("user"), args.str("key")) else {
        return Outcome::bad_input("authorized_key needs `user` and `key`");
    };
    let absent = match args.str("state").as_deref().unwrap_or("present") {
        "present" => false,
        "absent" => true,
        other => {
            return Outcome::bad_input(format!(
                "authorized_key: `state: {other}` is not present or absent"
            ));
        }
    };
    let url = key
        .starts_with("http")
        .then(|| (key.as_str(), args.bool("validate_certs").unwrap_or(true)));
    let path = args.str("path");
    let out = match ctx
        .output_of(&read_command(&user, path.as_deref(), url), "authorized_key")
        .await
    {
        Ok(o) => String::from_utf8_lossy(&o).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    let mut head = out.splitn(3, '\n');
    let (passwd, file) = (
        head.next().unwrap_or_default(),
        head.next().unwrap_or_default().to_string(),
    );
    let rest = head.next().unwrap_or_default();
    let rest = rest.strip_prefix("##file\n").unwrap_or(rest);
    let (current, fetched) = match rest.split_once("##key\n") {
        Some((c, k)) => (c.to_string(), Some(k.to_string())),
        None => (rest.to_string(), None),
    };
    let ids: Vec<&str> = passwd.split(':').collect();
    let (uid, gid) = (
        ids.get(2).copied().unwrap_or("0"),
        ids.get(3).copied().unwrap_or("0"),
    );
    let keys_text = fetched.unwrap_or_else(|| key.clone());
    let spec = KeysSpec {
        keys: keys_text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect(),
        absent,
        exclusive: args.bool("exclusive").unwrap_or(false),
        key_options: args.str("key_options"),
        comment: args.str("comment"),
    };
    let new = match edit(&current, &spec) {
        Ok(n) => n,
        Err(e) => return Outcome::fail(e),
    };
    let mut outcome = Outcome {
        changed: new.is_some(),
        ..Outcome::default()
    };
    outcome.result.insert("user".into(), json!(user));
    outcome.result.insert("keyfile".into(), json!(file));
    outcome.result.insert(
        "state".into(),
        json!(if absent { "absent" } else { "present" }),
    );
    outcome
        .result
        .insert("exclusive".into(), json!(spec.exclusive));
    let Some(new) = new else {
        return outcome;
    };
    if ctx.diff {
        outcome.diff = Some(unified(&file, current.as_bytes(), new.as_bytes()));
    }
    if ctx.check {
        return outcome;
    }
    let f = quote(&file);
    let owner = quote(&format!("{uid}:{gid}"));
    let dir = if args.bool("manage_dir").unwrap_or(true) {
        format!(
            "d=$(dirname -- {f}) && mkdir -p -- \"$d\" && chown {owner} \"$d\" && chmod 700 \"$d\" && "
        )
    } else {
        String::new()
    };
    let cmd = format!(
        "{dir}{{ {}; }} >/dev/null && chown {owner} -- {f} && chmod 600 -- {f}",
        put_command(&file, &temp_path(&file), new.as_bytes(), Some(0o600))
    );
    match ctx
        .output_with(&cmd, new.as_bytes(), &format!("writing {file}"))
        .await
    {
        Ok(_) => outcome,
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaa alice@laptop";
    const B: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABbbb bob";

    fn spec(keys: &[&str]) -> KeysSpec {
        KeysSpec {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            ..KeysSpec::default()
        }
    }

    #[test]
    fn lines_and_options_are_read_as_the_module_reads_them() {
        assert_eq!(
            parse_line("from=\"10.0.0.0/8,192.168.0.1\",no-pty ssh-ed25519 AAAA c d\n"),
            Some(Line::Key {
                body: "AAAA".into(),
                kind: "ssh-ed25519".into(),
                options: vec![
                    ("from".into(), Some("\"10.0.0.0/8,192.168.0.1\"".into())),
                    ("no-pty".into(), None)
                ],
                comment: "c d".into(),
            })
        );
        assert_eq!(
            parse_line("# comment\n"),
            Some(Line::Other("# comment\n".into()))
        );
        assert_eq!(parse_line("garbage\n"), None);
        assert_eq!(
            parse_line("ssh-ed25519 AAAA").unwrap().render(),
            "ssh-ed25519 AAAA \n"
        );
    }

    #[test]
    fn keys_are_added_once_rewritten_when_they_differ_and_removed() {
        let added = edit("# managed by hand\n", &spec(&[A, B]))
            .unwrap()
            .unwrap();
        assert_eq!(added, format!("# managed by hand\n{A}\n{B}\n"));
        assert_eq!(edit(&added, &spec(&[B])).unwrap(), None, "already there");
        // Options make it another line in place of the old one, after the existing keys.
        let mut s = spec(&[A]);
        s.key_options = Some("no-pty,from=\"10.1.1.1\"".into());
        assert_eq!(
            edit(&added, &s).unwrap().unwrap(),
            format!("# managed by hand\n{B}\nno-pty,from=\"10.1.1.1\" {A}\n")
        );
        let mut s = spec(&[A]);
        s.exclusive = true;
        assert_eq!(
            edit(&added, &s).unwrap().unwrap(),
            format!("{A}\n"),
            "exclusive drops the comment line too, as the module does"
        );
        let mut s = spec(&[A]);
        s.absent = true;
        assert_eq!(
            edit(&added, &s).unwrap().unwrap(),
            format!("# managed by hand\n{B}\n")
        );
        assert_eq!(edit("", &s).unwrap(), None);
        assert!(edit("", &spec(&["not a key"])).is_err());
        let mut s = spec(&[A]);
        s.comment = Some("deploy".into());
        assert_eq!(
            edit("", &s).unwrap().unwrap(),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaa deploy\n"
        );
    }

    #[test]
    fn the_read_command_quotes_everything() {
        assert_eq!(
            read_command("o'k", None, Some(("https://github.com/x.keys", true))),
            "e=$(getent passwd 'o'\\''k') || { echo 'Failed to lookup user ''o'\\''k' >&2; exit 1; }; h=$(echo \"$e\" | cut -d: -f6); \
             p=\"$h/.ssh/authorized_keys\"; echo \"$e\"; echo \"$p\"; echo '##file'; if [ -f \"$p\" ]; then cat -- \"$p\"; fi; \
             echo '##key'; curl -fsSL -- https://github.com/x.keys || { echo 'Error getting key from: 'https://github.com/x.keys >&2; exit 1; }"
        );
    }
}
