//! assemble: a file made of the fragments in a folder (on the host, or with `remote_src: false`
//! in the role's files/ or beside the playbook), as ansible.builtin.assemble makes it: regular
//! files in name order, those `regexp` finds and (with `ignore_hidden`) not hidden, a newline
//! after a fragment that lacks one, `delimiter` between fragments. Written as every file module
//! writes (temporary file, backup, validate, diff, check mode).

use drover_ssh::shell::quote;
use regex::Regex;

use super::files::{FileTarget, ensure_content};
use super::{Args, ModuleCtx, Outcome};

/// Which fragments, and what goes between them.
struct Pick {
    regexp: Option<Regex>,
    ignore_hidden: bool,
    delimiter: Option<Vec<u8>>,
}

/// A delimiter with its escapes (`\n`, `\t`, `\\`, `\xNN`) read, as Python's escape_decode reads them.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 == bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let (byte, len) = match bytes[i + 1] {
            b'n' => (b'\n', 2),
            b't' => (b'\t', 2),
            b'r' => (b'\r', 2),
            b'0' => (0, 2),
            b'\\' => (b'\\', 2),
            b'\'' => (b'\'', 2),
            b'"' => (b'"', 2),
            b'x' => match text
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) => (b, 4),
                None => (b'\\', 1),
            },
            _ => (b'\\', 1),
        };
        out.push(byte);
        i += len;
    }
    out
}

/// The assembled content of `fragments` (name and content), as the module joins them.
fn join(mut fragments: Vec<(String, Vec<u8>)>, pick: &Pick) -> Vec<u8> {
    fragments.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    let mut first = true;
    let mut add_newline = false;
    for (name, content) in fragments {
        if pick.regexp.as_ref().is_some_and(|r| !r.is_match(&name))
            || (pick.ignore_hidden && name.starts_with('.'))
        {
            continue;
        }
        if add_newline {
            out.push(b'\n');
        }
        if let (false, Some(d)) = (first, &pick.delimiter) {
            out.extend_from_slice(d);
            if d.last() != Some(&b'\n') {
                out.push(b'\n');
            }
        }
        add_newline = !content.ends_with(b"\n");
        out.extend_from_slice(&content);
        first = false;
    }
    out
}

/// The host's command that prints each regular file of `dir` (links followed, as Python's isfile)
/// as `name NUL size NUL content`.
fn list_command(dir: &str) -> String {
    format!(
        "cd -- {} && for f in * .[!.]* ..?*; do [ -f \"$f\" ] || continue; printf '%s\\0%s\\0' \"$f\" \"$(wc -c < \"$f\")\" && cat -- \"$f\" || exit 1; done",
        quote(dir)
    )
}

/// Reads what [`list_command`] printed.
fn parse_listing(mut out: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    let field = |data: &[u8]| -> Result<usize, String> {
        data.iter()
            .position(|b| *b == 0)
            .ok_or_else(|| "the fragment listing was cut short".to_string())
    };
    while !out.is_empty() {
        let end = field(out)?;
        let name = String::from_utf8_lossy(&out[..end]).into_owned();
        out = &out[end + 1..];
        let end = field(out)?;
        let size: usize = String::from_utf8_lossy(&out[..end])
            .trim()
            .parse()
            .map_err(|_| format!("fragment {name}: no size"))?;
        out = &out[end + 1..];
        if out.len() < size {
            return Err(format!("fragment {name} changed while it was read"));
        }
        files.push((name, out[..size].to_vec()));
        out = &out[size..];
    }
    Ok(files)
}

/// The controller's fragments, in `dir` (found in files/ or beside the playbook).
fn local_fragments(dir: &str, ctx: &ModuleCtx<'_>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let path = drover_roles::resolve_dir(dir, "files", ctx.search)
        .ok_or_else(|| format!("assemble: `{dir}` not found in files/ or beside the playbook"))?;
    let entries =
        std::fs::read_dir(&path).map_err(|e| format!("assemble: {}: {e}", path.display()))?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_file() {
            let content =
                std::fs::read(&p).map_err(|e| format!("assemble: {}: {e}", p.display()))?;
            files.push((entry.file_name().to_string_lossy().into_owned(), content));
        }
    }
    Ok(files)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let (Some(src), Some(dest)) = (args.str("src"), args.str("dest")) else {
        return Outcome::bad_input("assemble needs `src` and `dest`");
    };
    let regexp = match args.str("regexp").map(|r| Regex::new(&r)) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => return Outcome::bad_input(format!("assemble: `regexp`: {e}")),
    };
    let pick = Pick {
        regexp,
        ignore_hidden: args.bool("ignore_hidden") == Some(true),
        delimiter: args.str("delimiter").map(|d| unescape(&d)),
    };
    let target = match FileTarget::from_args(dest, args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("assemble: {e}")),
    };
    let fragments = if args.bool("remote_src") == Some(false) {
        local_fragments(&src, ctx)
    } else {
        match ctx.output_of(&list_command(&src), "assemble").await {
            Ok(out) => parse_listing(&out),
            Err(e) => Err(e),
        }
    };
    match fragments {
        Ok(f) => ensure_content(ctx, &target, &join(f, &pick)).await,
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(name: &str, text: &str) -> (String, Vec<u8>) {
        (name.to_string(), text.as_bytes().to_vec())
    }

    #[test]
    fn fragments_are_joined_in_name_order_as_the_module_joins_them() {
        let files = vec![
            frag("20-b", "b"),
            frag("10-a", "a\n"),
            frag(".hidden", "h\n"),
            frag("30-c.bak", "c\n"),
        ];
        let all = Pick {
            regexp: None,
            ignore_hidden: false,
            delimiter: None,
        };
        assert_eq!(join(files.clone(), &all), b"h\na\nb\nc\n");
        let some = Pick {
            regexp: Some(Regex::new(r"^\d+-[a-z]$").unwrap()),
            ignore_hidden: true,
            delimiter: Some(unescape("### next\\t#")),
        };
        assert_eq!(join(files, &some), b"a\n### next\t#\nb");
        assert_eq!(unescape("a\\nb\\x41\\q"), b"a\nbA\\q");
    }

    #[test]
    fn the_hosts_listing_is_read_back_exactly() {
        let out = b"a\x003\x00x\0yb c\x000\x00";
        assert_eq!(
            parse_listing(out).unwrap(),
            vec![
                ("a".to_string(), b"x\0y".to_vec()),
                ("b c".to_string(), Vec::new())
            ]
        );
        assert!(parse_listing(b"a\x005\x00xy").is_err());
        assert_eq!(
            list_command("/etc/app.d"),
            "cd -- /etc/app.d && for f in * .[!.]* ..?*; do [ -f \"$f\" ] || continue; printf '%s\\0%s\\0' \"$f\" \"$(wc -c < \"$f\")\" && cat -- \"$f\" || exit 1; done"
        );
    }
}
