//! How backslashes in Jinja string literals read, which differs by where the template is.
//!
//! In playbook text (`when:`, module arguments, variables) Ansible 2.19 keeps them as written: `'\1'`
//! is backslash-one (so `regex_replace('(a)', '\1')` works) and `'\\w'` is two backslashes. In
//! template files (the `template` module) they are Python escapes, as in plain Jinja2: `'\\w'` is one
//! backslash, `'\n'` a newline, `'\2'` the character 2. minijinja has escapes of its own; these
//! functions rewrite the literals inside `{{ }}` and `{% %}` so that minijinja's unescaping gives back
//! exactly what Ansible reads.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// Rewrites `source` so minijinja reads its string literals verbatim (playbook text). Text outside
/// tags, comments and `{% raw %}` blocks is left alone.
pub fn verbatim_literals(source: &str) -> String {
    rewrite_literals(source, rewrite_tag)
}

/// Rewrites `source` so minijinja reads its string literals as Python does (template files).
pub fn python_literals(source: &str) -> String {
    rewrite_literals(source, python_tag)
}

/// Jinja2 (so Ansible) keeps the newline after `{% raw %}` although `trim_blocks` is on; minijinja
/// trims it. `{% raw +%}` asks minijinja to keep it.
pub fn keep_newline_after_raw(source: &str) -> Cow<'_, str> {
    static RAW: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\{%(\s*)raw(\s*)%\}").expect("valid regex"));
    RAW.replace_all(source, "{%${1}raw${2}+%}")
}

fn rewrite_literals(source: &str, rewrite_tag: fn(&str) -> String) -> String {
    if !source.contains('\\') {
        return source.to_string();
    }
    let mut out = String::with_capacity(source.len() + 16);
    let mut rest = source;
    while let Some(open) = next_tag(rest) {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        if rest.starts_with("{#") {
            let end = rest.find("#}").map_or(rest.len(), |i| i + 2);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        let close = if rest.starts_with("{{") { "}}" } else { "%}" };
        let (tag, after) = split_tag(rest, close);
        out.push_str(&rewrite_tag(tag));
        rest = after;
        if is_raw_open(tag) {
            let end = find_endraw(rest).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Decodes each literal's Python escapes and writes the result as minijinja reads it back.
fn python_tag(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len() + 8);
    let mut chars = tag.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), '\\') => match python_escape(&mut chars) {
                Some(decoded) => push_for_minijinja(&mut out, decoded, q),
                None => out.push_str("\\\\"),
            },
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(q), c) => push_for_minijinja(&mut out, c, q),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The character a Python escape after a backslash stands for; None when the backslash stays (an
/// unknown escape such as `\d`, whose next character is then read on its own).
fn python_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char> {
    let simple = match chars.peek()? {
        '\\' => Some('\\'),
        '\'' => Some('\''),
        '"' => Some('"'),
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'v' => Some('\x0b'),
        _ => None,
    };
    if simple.is_some() {
        chars.next();
        return simple;
    }
    let (radix, max) = match chars.peek()? {
        '0'..='7' => (8, 3),
        'x' => (16, 2),
        'u' => (16, 4),
        'U' => (16, 8),
        _ => return None,
    };
    let mut probe = chars.clone();
    if radix == 16 {
        probe.next();
    }
    let digits: String = std::iter::from_fn(|| probe.next_if(|d| d.is_digit(radix)))
        .take(max)
        .collect();
    // \x, \u and \U need all their digits (Python refuses fewer); octal takes one to three.
    if digits.is_empty() || (radix == 16 && digits.len() < max) {
        return None;
    }
    let decoded = char::from_u32(u32::from_str_radix(&digits, radix).ok()?)?;
    *chars = probe;
    Some(decoded)
}

/// Writes `c` inside a literal quoted with `quote` so that minijinja reads back `c`.
fn push_for_minijinja(out: &mut String, c: char, quote: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push(c),
    }
}

fn next_tag(s: &str) -> Option<usize> {
    ["{{", "{%", "{#"].iter().filter_map(|t| s.find(t)).min()
}

/// Splits at the end of the tag that starts `s`, skipping over string literals inside it.
fn split_tag<'a>(s: &'a str, close: &str) -> (&'a str, &'a str) {
    let bytes = s.as_bytes();
    let mut i = 2;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'\'' | b'"') => quote = Some(bytes[i]),
            // Bytes, not `&s[i..]`: `i` walks bytes and may be inside a multibyte character; the
            // close is ASCII, so a match is always at a character boundary.
            (None, _) if bytes[i..].starts_with(close.as_bytes()) => {
                return s.split_at(i + close.len());
            }
            _ => {}
        }
        i += 1;
    }
    (s, "")
}

/// Doubles each escape pair's backslash, and escapes the escaped character when minijinja would
/// otherwise read it as the end of the string or as another escape.
fn rewrite_tag(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len() + 8);
    let mut chars = tag.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                out.push_str("\\\\");
                match chars.next() {
                    Some(e @ ('\'' | '"' | '\\')) => {
                        out.push('\\');
                        out.push(e);
                    }
                    Some(e) => out.push(e),
                    None => {}
                }
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn tag_body(tag: &str) -> &str {
    tag.trim_start_matches(['{', '%', '-', '+'])
        .trim_end_matches(['}', '%', '-', '+'])
        .trim()
}

fn is_raw_open(tag: &str) -> bool {
    tag.starts_with("{%") && tag_body(tag) == "raw"
}

fn find_endraw(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("{%") {
        let start = from + i;
        let (tag, _) = split_tag(&s[start..], "%}");
        if tag_body(tag) == "endraw" {
            return Some(start);
        }
        from = start + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_of_several_bytes_inside_a_tag_are_walked_over() {
        // Found by the playbook fuzzer: this panicked slicing inside the `é`.
        assert_eq!(verbatim_literals("{{ é }} \\"), "{{ é }} \\");
        assert_eq!(verbatim_literals("{{ x̉ ~ '\\1' }}"), "{{ x̉ ~ '\\\\1' }}");
    }

    #[test]
    fn literals_inside_tags_are_kept_verbatim() {
        assert_eq!(
            verbatim_literals(r"{{ x | regex_replace('(\w+)', '\1') }}"),
            r"{{ x | regex_replace('(\\w+)', '\\1') }}"
        );
        assert_eq!(verbatim_literals(r"{{ 'it\'s' }}"), r"{{ 'it\\\'s' }}");
        assert_eq!(verbatim_literals(r"{{ '\\w' }}"), r"{{ '\\\\w' }}");
    }

    /// As ansible-core 2.19 renders a template file (checked with the `template` module).
    #[test]
    fn literals_in_template_files_are_python_strings() {
        let env = minijinja::Environment::new();
        let render = |src: &str| env.render_str(&python_literals(src), ()).unwrap();
        assert_eq!(render(r#"{{ 'a"b' | replace("\"", "\\\"") }}"#), r#"a\"b"#);
        assert_eq!(render(r"{{ '\2:\1' }}"), "\u{2}:\u{1}");
        assert_eq!(
            render(r"{{ 'a\nb' ~ 'x\ty' ~ '\d' ~ '\\w' }}"),
            "a\nbx\ty\\d\\w"
        );
        assert_eq!(render(r"{{ 'it\'s' ~ '\x41\u00e9\101' }}"), "it'sAéA");
    }

    #[test]
    fn the_newline_after_raw_is_kept_as_jinja2_keeps_it() {
        let mut env = minijinja::Environment::new();
        env.set_syntax(crate::header::default_syntax());
        let src = "{% raw %}\n{{ x }}\n{% endraw %}\nafter\n{%- raw -%}\ny{% endraw %}\n";
        let out = env.render_str(&keep_newline_after_raw(src), ()).unwrap();
        assert_eq!(out, "\n{{ x }}\naftery");
    }

    #[test]
    fn text_comments_and_raw_blocks_are_untouched() {
        let src = r"a\1 {# '\1' #} {% raw %}{{ '\1' }}{% endraw %} {{ '\1' }}";
        assert_eq!(
            verbatim_literals(src),
            r"a\1 {# '\1' #} {% raw %}{{ '\1' }}{% endraw %} {{ '\\1' }}"
        );
    }
}
