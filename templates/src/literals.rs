//! Ansible 2.19 keeps backslashes in Jinja string literals as written: `'\1'` is backslash-one (so
//! `regex_replace('(a)', '\1')` works) and `'\\w'` is two backslashes. minijinja, like plain Jinja2,
//! unescapes them. This rewrites the literals inside `{{ }}` and `{% %}` so that minijinja's unescaping
//! gives back exactly what was written.

/// Rewrites `source` so minijinja reads its string literals verbatim. Text outside tags, comments and
/// `{% raw %}` blocks is left alone.
pub fn verbatim_literals(source: &str) -> String {
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

    #[test]
    fn text_comments_and_raw_blocks_are_untouched() {
        let src = r"a\1 {# '\1' #} {% raw %}{{ '\1' }}{% endraw %} {{ '\1' }}";
        assert_eq!(
            verbatim_literals(src),
            r"a\1 {# '\1' #} {% raw %}{{ '\1' }}{% endraw %} {{ '\\1' }}"
        );
    }
}
