//! Regular-expression filters and tests with Python's `re` conventions: `\1` and `\g<name>` in
//! replacements, `match` anchored at the start, `search` anywhere.

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Error, ErrorKind};
use regex::{Regex, RegexBuilder};

fn compile(pattern: &str, kwargs: &Kwargs) -> Result<Regex, Error> {
    let ignorecase: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let multiline: bool = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    RegexBuilder::new(pattern)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("invalid regular expression `{pattern}`: {e}"),
            )
        })
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Turns a Python replacement string into the regex crate's syntax.
pub fn python_replacement(repl: &str) -> String {
    let mut out = String::with_capacity(repl.len() + 8);
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut n = String::new();
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        n.push(d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                Some('g') => {
                    chars.next();
                    let name: String = chars
                        .by_ref()
                        .skip_while(|c| *c == '<')
                        .take_while(|c| *c != '>')
                        .collect();
                    out.push_str(&format!("${{{name}}}"));
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

/// `regex_replace(pattern, replacement, ignorecase=False, multiline=False, count=0)`.
pub fn regex_replace(
    value: Value,
    pattern: String,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let re = compile(&pattern, &kwargs)?;
    let count: usize = kwargs.get::<Option<usize>>("count")?.unwrap_or(0);
    kwargs.assert_all_used()?;
    let repl = python_replacement(&replacement.unwrap_or_default());
    Ok(re
        .replacen(&text(&value), count, repl.as_str())
        .into_owned())
}

/// `regex_search(pattern, *groups)`: the first match, or the listed groups (`'\1'`, `'\g<name>'`) of it.
pub fn regex_search(
    value: Value,
    pattern: String,
    groups: Rest<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let re = compile(&pattern, &kwargs)?;
    kwargs.assert_all_used()?;
    let subject = text(&value);
    let Some(caps) = re.captures(&subject) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map_or("", |m| m.as_str())));
    }
    let mut out = Vec::new();
    for g in groups.iter() {
        let m = if let Some(n) = g.strip_prefix('\\').and_then(|n| n.parse::<usize>().ok()) {
            caps.get(n)
        } else if let Some(name) = g.strip_prefix("\\g<").and_then(|n| n.strip_suffix('>')) {
            caps.name(name)
        } else {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("regex_search: unknown group `{g}`; use '\\1' or '\\g<name>'"),
            ));
        };
        out.push(Value::from(m.map_or("", |m| m.as_str())));
    }
    Ok(Value::from(out))
}

/// `regex_findall(pattern)`: every match, or every match's groups.
pub fn regex_findall(value: Value, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let re = compile(&pattern, &kwargs)?;
    kwargs.assert_all_used()?;
    let subject = text(&value);
    let groups = re.captures_len() - 1;
    let found: Vec<Value> = re
        .captures_iter(&subject)
        .map(|c| match groups {
            0 => Value::from(c.get(0).map_or("", |m| m.as_str())),
            1 => Value::from(c.get(1).map_or("", |m| m.as_str())),
            _ => Value::from(
                (1..=groups)
                    .map(|i| c.get(i).map_or("", |m| m.as_str()).to_string())
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    Ok(Value::from(found))
}

/// The `match` test: the pattern matches at the start.
pub fn is_match(value: Value, pattern: String, kwargs: Kwargs) -> Result<bool, Error> {
    let re = compile(&format!("^(?:{pattern})"), &kwargs)?;
    kwargs.assert_all_used()?;
    Ok(re.is_match(&text(&value)))
}

/// The `search` test: the pattern matches anywhere.
pub fn is_search(value: Value, pattern: String, kwargs: Kwargs) -> Result<bool, Error> {
    let re = compile(&pattern, &kwargs)?;
    kwargs.assert_all_used()?;
    Ok(re.is_match(&text(&value)))
}

/// The `regex` test: `search` by default, `match` with `match_type='match'`.
pub fn is_regex(value: Value, pattern: String, kwargs: Kwargs) -> Result<bool, Error> {
    let anchored = kwargs.get::<Option<String>>("match_type")?.as_deref() == Some("match");
    let pattern = if anchored {
        format!("^(?:{pattern})")
    } else {
        pattern
    };
    let re = compile(&pattern, &kwargs)?;
    kwargs.assert_all_used()?;
    Ok(re.is_match(&text(&value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_replacements_translate() {
        assert_eq!(python_replacement(r"\2:\1"), "${2}:${1}");
        assert_eq!(python_replacement(r"\g<name>-$5"), "${name}-$$5");
        assert_eq!(python_replacement(r"a\\b"), r"a\b");
    }
}
