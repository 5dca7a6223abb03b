//! Line edits: the value of `restart:` on a line, the literal of a Jinja `default(...)`, or a new line.
//! Everything else on the line (indentation, quotes, comments, the CRLF ending) stays as it was.

use std::sync::LazyLock;

use regex::Regex;

use crate::lint::{DEFAULT_LITERAL, Fix, deploy_condition_for};
use crate::mask::split_ending;

/// `KEY: value` on a line, the value plain or quoted.
fn key_value(key: &str) -> Regex {
    Regex::new(&format!(
        r#"(^|[\s{{,])({key}\s*:\s*)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#,}}]+)"#
    ))
    .expect("valid regex")
}

static RESTART_VALUE: LazyLock<Regex> = LazyLock::new(|| key_value("restart"));
static CONDITION_VALUE: LazyLock<Regex> = LazyLock::new(|| key_value("condition"));

/// The line with its `restart:` value replaced by `policy`, in the same quoting style.
pub fn set_value(line: &str, policy: &str) -> Option<String> {
    replace_value(&RESTART_VALUE, line, policy)
}

/// The line with its `condition:` value replaced by the deploy spelling of `policy`.
pub fn set_condition(line: &str, policy: &str) -> Option<String> {
    replace_value(&CONDITION_VALUE, line, deploy_condition_for(policy))
}

fn replace_value(re: &Regex, line: &str, policy: &str) -> Option<String> {
    let caps = re.captures(line)?;
    let value = caps.get(3)?;
    let new = match value.as_str().chars().next() {
        Some('"') => format!("\"{policy}\""),
        Some('\'') => format!("'{policy}'"),
        _ => policy.to_string(),
    };
    Some(format!(
        "{}{new}{}",
        &line[..value.start()],
        &line[value.end()..]
    ))
}

/// The line with the literal of its first `default('...')` replaced by `policy`.
pub fn set_jinja_default(line: &str, policy: &str) -> Option<String> {
    let caps = DEFAULT_LITERAL.captures(line)?;
    let literal = caps.get(2)?;
    Some(format!(
        "{}{policy}{}",
        &line[..literal.start()],
        &line[literal.end()..]
    ))
}

/// Applies the fixes to `text`, keeping each line's ending.
pub fn apply(text: &str, fixes: &[Fix], policy: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        let (body, ending) = split_ending(line);
        let edited = fixes.iter().find_map(|f| match f {
            Fix::Value { line } if *line == n => set_value(body, policy),
            Fix::JinjaDefault { line } if *line == n => set_jinja_default(body, policy),
            Fix::Condition { line } if *line == n => set_condition(body, policy),
            _ => None,
        });
        out.push_str(edited.as_deref().unwrap_or(body));
        out.push_str(ending);
        for f in fixes {
            if let Fix::Insert { after, indent } = f
                && *after == n
            {
                let restart = format!("{}restart: {policy}", " ".repeat(*indent));
                if ending.is_empty() {
                    // The last line had no line break: add one before the new line, none after.
                    out.push('\n');
                    out.push_str(&restart);
                } else {
                    out.push_str(&restart);
                    out.push_str(ending);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_quotes_and_comments() {
        assert_eq!(
            set_value("    restart: unless-stopped  # why", "always").unwrap(),
            "    restart: always  # why"
        );
        assert_eq!(
            set_value("    restart: \"no\"", "always").unwrap(),
            "    restart: \"always\""
        );
        assert_eq!(
            set_value("    restart: 'on-failure:3'", "always").unwrap(),
            "    restart: 'always'"
        );
        assert_eq!(
            set_value("  web: {image: x, restart: no}", "always").unwrap(),
            "  web: {image: x, restart: always}"
        );
        assert_eq!(
            set_jinja_default(
                "    restart: \"{{ policy | default('unless-stopped') }}\"",
                "always"
            )
            .unwrap(),
            "    restart: \"{{ policy | default('always') }}\""
        );
    }

    #[test]
    fn inserted_lines_follow_the_file_ending() {
        assert_eq!(
            apply(
                "services:\n  web:",
                &[Fix::Insert {
                    after: 2,
                    indent: 4
                }],
                "always"
            ),
            "services:\n  web:\n    restart: always"
        );
        let text = "services:\r\n  web:\r\n    image: x\r\n";
        assert_eq!(
            apply(
                text,
                &[Fix::Insert {
                    after: 2,
                    indent: 4
                }],
                "always"
            ),
            "services:\r\n  web:\r\n    restart: always\r\n    image: x\r\n"
        );
    }
}
