//! Plain-scalar resolution as PyYAML (YAML 1.1) does it, which is what Ansible sees.

use std::sync::LazyLock;

use regex::Regex;

use crate::Value;

static BOOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
        .expect("valid regex")
});
static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?",
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
        r"|[-+]?\.(?:inf|Inf|INF)",
        r"|\.(?:nan|NaN|NAN))$"
    ))
    .expect("valid regex")
});
static INT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?0b[0-1_]+",
        r"|[-+]?0[0-7_]+",
        r"|[-+]?(?:0|[1-9][0-9_]*)",
        r"|[-+]?0x[0-9a-fA-F_]+",
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
    ))
    .expect("valid regex")
});

/// Resolves an unquoted scalar to the value PyYAML would give it.
///
/// Timestamps stay strings: Ansible prints them back as text anyway.
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if BOOL.is_match(text) {
        return Value::Bool(matches!(
            text,
            "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON"
        ));
    }
    if FLOAT.is_match(text) {
        return parse_float(text).map_or_else(|| Value::Str(text.to_string()), Value::Float);
    }
    if INT.is_match(text) {
        return parse_int(text).map_or_else(|| Value::Str(text.to_string()), Value::Int);
    }
    Value::Str(text.to_string())
}

/// Splits a leading sign off, returning -1 or 1 and the rest.
fn split_sign(text: &str) -> (i64, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let cleaned = text.replace('_', "");
    let (sign, digits) = split_sign(&cleaned);
    let magnitude = if digits == "0" {
        0
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(octal) = digits.strip_prefix('0') {
        i64::from_str_radix(octal, 8).ok()?
    } else if digits.contains(':') {
        sexagesimal(digits)? as i64
    } else {
        digits.parse().ok()?
    };
    Some(sign * magnitude)
}

fn parse_float(text: &str) -> Option<f64> {
    let cleaned = text.replace('_', "").to_lowercase();
    let (sign, digits) = split_sign(&cleaned);
    let magnitude = match digits {
        ".inf" => f64::INFINITY,
        ".nan" => return Some(f64::NAN),
        d if d.contains(':') => sexagesimal(d)?,
        d => d.parse().ok()?,
    };
    Some(sign as f64 * magnitude)
}

/// YAML 1.1 base-60 numbers: `1:30` is 90.
fn sexagesimal(text: &str) -> Option<f64> {
    text.split(':').try_fold(0.0, |acc, part| {
        Some(acc * 60.0 + part.parse::<f64>().ok()?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_yaml_1_1() {
        for t in ["yes", "Yes", "on", "ON", "true", "True"] {
            assert_eq!(resolve_plain(t), Value::Bool(true), "{t}");
        }
        for t in ["no", "NO", "off", "Off", "false", "FALSE"] {
            assert_eq!(resolve_plain(t), Value::Bool(false), "{t}");
        }
        // PyYAML does not treat single letters as booleans.
        assert_eq!(resolve_plain("y"), Value::Str("y".into()));
    }

    #[test]
    fn integers_include_octal_underscores_and_base_60() {
        assert_eq!(resolve_plain("0755"), Value::Int(0o755));
        assert_eq!(resolve_plain("1_000"), Value::Int(1000));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("0b101"), Value::Int(5));
        assert_eq!(resolve_plain("-42"), Value::Int(-42));
        assert_eq!(resolve_plain("1:30"), Value::Int(90));
        assert_eq!(resolve_plain("0"), Value::Int(0));
    }

    #[test]
    fn floats_need_a_dot_in_yaml_1_1() {
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert_eq!(resolve_plain("1.0e+3"), Value::Float(1000.0));
        assert_eq!(resolve_plain("1e3"), Value::Str("1e3".into()));
        assert_eq!(resolve_plain("-.inf"), Value::Float(f64::NEG_INFINITY));
    }

    #[test]
    fn everything_else_is_a_string() {
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain(""), Value::Null);
        assert_eq!(resolve_plain("0o17"), Value::Str("0o17".into()));
        assert_eq!(resolve_plain("08"), Value::Str("08".into()));
        assert_eq!(resolve_plain("2001-12-14"), Value::Str("2001-12-14".into()));
        assert_eq!(resolve_plain("web01"), Value::Str("web01".into()));
    }
}
