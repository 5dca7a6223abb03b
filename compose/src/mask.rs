//! Masks Jinja in a compose template so the YAML underneath can be read, line for line: statements
//! and comments vanish (a line that held only them becomes empty), and each `{{ expression }}` becomes
//! a placeholder that remembers its source. Line numbers stay those of the template.
//!
//! Some lines cannot be read as YAML before they render, and vanish too: a line that is only
//! expressions (`{{ extra | indent(4) }}` splices text of unknown shape in), a line that begins with
//! an expression followed at once by another (`{{ '  ' * n }}{{ key }}: ...` builds its own
//! indentation), and the bodies of `{% macro %}` definitions (emitted where they are called, not
//! where they stand). What such lines produce is not linted; the rest of the file is.

use std::collections::HashMap;

/// A template with its Jinja masked.
pub struct Masked {
    /// The YAML text, with as many lines as the template.
    pub text: String,
    /// Placeholder -> the expression it stands for (without the braces).
    pub exprs: HashMap<String, String>,
}

/// The placeholder prefix; a valid plain scalar and mapping key.
pub const PLACEHOLDER: &str = "__jinja_";

/// The text between a tag's two-byte opener at the start of `rest` and `close`, and where the tag
/// ends; an unclosed tag runs to the end of the line.
fn tag_body<'a>(rest: &'a str, close: &str) -> (&'a str, usize) {
    match rest[2..].find(close) {
        Some(i) => (&rest[2..2 + i], 2 + i + close.len()),
        None => (&rest[2..], rest.len()),
    }
}

/// Masks `source`. Text inside `{% raw %}` blocks is kept as it is.
pub fn mask(source: &str) -> Masked {
    let mut out = String::with_capacity(source.len());
    let mut exprs = HashMap::new();
    let mut in_comment = false;
    let mut in_raw = false;
    let mut in_macro = 0usize;
    for line in source.split_inclusive('\n') {
        let (body, ending) = split_ending(line);
        if !in_comment && !in_raw {
            in_macro = macro_depth(body, in_macro);
            if in_macro > 0 || ends_macro(body) {
                out.push_str(ending);
                continue;
            }
            if splices(body) {
                out.push_str(ending);
                continue;
            }
        }
        let mut kept = String::new();
        let mut had_tag = false;
        let mut rest = body;
        while !rest.is_empty() {
            if in_comment {
                match rest.find("#}") {
                    Some(i) => {
                        rest = &rest[i + 2..];
                        in_comment = false;
                    }
                    None => rest = "",
                }
                had_tag = true;
                continue;
            }
            if in_raw {
                match find_tag(rest, "endraw") {
                    Some((start, end)) => {
                        kept.push_str(&rest[..start]);
                        rest = &rest[end..];
                        in_raw = false;
                        had_tag = true;
                    }
                    None => {
                        kept.push_str(rest);
                        rest = "";
                    }
                }
                continue;
            }
            let next = ["{{", "{%", "{#"]
                .iter()
                .filter_map(|t| rest.find(t).map(|i| (i, *t)))
                .min();
            let Some((i, tag)) = next else {
                kept.push_str(rest);
                break;
            };
            kept.push_str(&rest[..i]);
            rest = &rest[i..];
            had_tag = true;
            match tag {
                "{#" => {
                    in_comment = true;
                    rest = &rest[2..];
                }
                "{%" => {
                    let (inner, end) = tag_body(rest, "%}");
                    let stmt =
                        inner.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
                    if stmt == "raw" {
                        in_raw = true;
                    }
                    rest = &rest[end..];
                }
                _ => {
                    let (inner, end) = tag_body(rest, "}}");
                    let expr = inner.trim_matches(|c: char| c == '-' || c.is_whitespace());
                    let name = format!("{PLACEHOLDER}{}__", exprs.len());
                    exprs.insert(name.clone(), expr.to_string());
                    kept.push_str(&name);
                    rest = &rest[end..];
                }
            }
        }
        if had_tag && kept.trim().is_empty() {
            kept.clear();
        }
        out.push_str(&kept);
        out.push_str(ending);
    }
    Masked { text: out, exprs }
}

/// The `{% macro %}` nesting after `line`, given the nesting before it.
fn macro_depth(line: &str, before: usize) -> usize {
    let opens = statements(line).filter(|s| s.starts_with("macro ")).count();
    let closes = statements(line).filter(|s| *s == "endmacro").count();
    (before + opens).saturating_sub(closes)
}

/// Whether `line` closes a macro (its `{% endmacro %}` line vanishes with the body).
fn ends_macro(line: &str) -> bool {
    statements(line).any(|s| s == "endmacro")
}

/// The statements (`{% ... %}`) on a line, trimmed.
fn statements(line: &str) -> impl Iterator<Item = &str> {
    line.split("{%").skip(1).filter_map(|rest| {
        let inner = rest.split("%}").next()?;
        Some(inner.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace()))
    })
}

/// A line whose text is spliced in by expressions: only expressions, or one that begins with an
/// expression followed at once by another.
fn splices(line: &str) -> bool {
    let trimmed = line.trim_start();
    if !trimmed.starts_with("{{") {
        return false;
    }
    let mut rest = trimmed;
    let mut first = true;
    while let Some(after) = rest.strip_prefix("{{") {
        let Some(end) = after.find("}}") else {
            return false;
        };
        rest = &after[end + 2..];
        if first && rest.starts_with("{{") {
            return true;
        }
        first = false;
        rest = rest.trim_start();
    }
    rest.is_empty()
}

/// Splits a line into its content and its ending (`\n`, `\r\n` or nothing).
pub fn split_ending(line: &str) -> (&str, &str) {
    if let Some(body) = line.strip_suffix("\r\n") {
        (body, "\r\n")
    } else if let Some(body) = line.strip_suffix('\n') {
        (body, "\n")
    } else {
        (line, "")
    }
}

/// Finds `{% name %}` (with any whitespace control) in `s`: its start and end.
fn find_tag(s: &str, name: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = s[from..].find("{%") {
        let start = from + i;
        if !s[start + 2..].contains("%}") {
            return None;
        }
        let (inner, len) = tag_body(&s[start..], "%}");
        let inner = inner.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        if inner == name {
            return Some((start, start + len));
        }
        from = start + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the compose fuzz target: an unclosed tag ending in a two-byte character was cut
    /// inside that character.
    #[test]
    fn an_unclosed_tag_before_a_multibyte_character_is_not_cut_inside_it() {
        assert_eq!(mask("a: {% for x in y:\u{654}\n").text, "a: \n");
        let m = mask("a: {{ caf\u{e9}\n");
        assert_eq!(m.exprs["__jinja_0__"], "caf\u{e9}");
        assert_eq!(mask("a: {%}\n").text, "a: \n");
        assert_eq!(mask("{% raw %}x{%}\n{% endraw %}\n").text, "x{%}\n\n");
    }

    #[test]
    fn statements_vanish_and_expressions_become_placeholders() {
        let src = "services:\n{% for s in svcs %}\n  {{ s.name }}:\n    restart: \"{{ r | default('no') }}\" # keep\n{% endfor %}\n";
        let m = mask(src);
        assert_eq!(
            m.text,
            "services:\n\n  __jinja_0__:\n    restart: \"__jinja_1__\" # keep\n\n"
        );
        assert_eq!(m.exprs["__jinja_1__"], "r | default('no')");
    }

    #[test]
    fn lines_spliced_by_expressions_and_macro_bodies_vanish() {
        let src = "services:\n  app:\n    image: a\n    {{ extra_options | indent(4) }}\n{% macro env(x) %}\n  - {{ x }}\n{% endmacro %}\n{{ '  ' * 2 }}{{ key }}: {{ value }}\n    restart: always\n";
        assert_eq!(
            mask(src).text,
            "services:\n  app:\n    image: a\n\n\n\n\n\n    restart: always\n"
        );
        // An expression that is a value, or one key among text, stays a placeholder.
        assert_eq!(mask("  {{ name }}:\n").text, "  __jinja_0__:\n");
        assert_eq!(mask("  - {{ x }}\n").text, "  - __jinja_0__\n");
    }

    #[test]
    fn raw_blocks_comments_and_crlf() {
        let src = "a: 1\r\n{# a\r\nb #}\r\n{% raw %}\r\nfmt: '{{.Name}}'\r\n{% endraw %}\r\n";
        assert_eq!(
            mask(src).text,
            "a: 1\r\n\r\n\r\n\r\nfmt: '{{.Name}}'\r\n\r\n"
        );
    }
}
