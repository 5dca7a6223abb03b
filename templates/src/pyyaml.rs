//! YAML output laid out as PyYAML's `yaml.dump` lays it out, for Ansible's `to_yaml` (flow style for
//! collections of scalars, indent 2) and `to_nice_yaml` (block style, indent 4). Keys are sorted, as
//! PyYAML sorts them by default. Long plain strings are not folded at 80 columns as PyYAML would.

use serde_json::Value;

use crate::pyrepr::py_number;

/// Layout options.
#[derive(Clone, Copy)]
pub struct Style {
    /// Spaces per nesting level.
    pub indent: usize,
    /// Write collections that hold only scalars in flow style (`[1, 2]`), as `default_flow_style=None`.
    pub flow_leaves: bool,
    /// Mapping keys sorted (PyYAML's default), or in their own order (`sort_keys=False`).
    pub sort_keys: bool,
}

/// Dumps `value` as a YAML document.
pub fn dump(value: &Value, style: Style) -> String {
    let mut out = String::new();
    if is_scalar(value) {
        out.push_str(&scalar(value, false));
        out.push_str("\n...\n");
        return out;
    }
    // An empty collection has no block form: PyYAML writes `{}` or `[]` in either style.
    if is_empty_collection(value) || (style.flow_leaves && is_leaf_collection(value)) {
        out.push_str(&flow(value, style.sort_keys));
        out.push('\n');
        return out;
    }
    block(value, 0, style, &mut out);
    out
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn is_empty_collection(v: &Value) -> bool {
    matches!(v, Value::Array(a) if a.is_empty()) || matches!(v, Value::Object(m) if m.is_empty())
}

fn is_leaf_collection(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().all(is_scalar),
        Value::Object(map) => map.values().all(is_scalar),
        _ => false,
    }
}

fn sorted(map: &serde_json::Map<String, Value>, sort: bool) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    if sort {
        entries.sort_by(|a, b| a.0.cmp(b.0));
    }
    entries
}

/// Writes a block collection whose first line continues the current line (after `- ` or at column 0).
fn block(value: &Value, indent: usize, style: Style, out: &mut String) {
    match value {
        Value::Object(map) => {
            for (i, (key, v)) in sorted(map, style.sort_keys).into_iter().enumerate() {
                if i > 0 {
                    out.push_str(&" ".repeat(indent));
                }
                out.push_str(&scalar(&Value::String(key.clone()), false));
                out.push(':');
                child(v, indent, style, true, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&" ".repeat(indent));
                }
                out.push('-');
                child(v, indent, style, false, out);
            }
        }
        _ => {}
    }
}

/// Writes the value after `key:` or `-`.
fn child(v: &Value, indent: usize, style: Style, in_mapping: bool, out: &mut String) {
    if is_scalar(v) {
        out.push(' ');
        out.push_str(&scalar_at(v, indent + style.indent));
        out.push('\n');
    } else if is_empty_collection(v) || (style.flow_leaves && is_leaf_collection(v)) {
        out.push(' ');
        out.push_str(&flow(v, style.sort_keys));
        out.push('\n');
    } else if in_mapping {
        out.push('\n');
        // PyYAML does not indent a sequence under a mapping key.
        let nested = if matches!(v, Value::Array(_)) {
            indent
        } else {
            indent + style.indent
        };
        out.push_str(&" ".repeat(nested));
        block(v, nested, style, out);
    } else {
        // `-` padded to the indent width, then the collection's first line.
        out.push_str(&" ".repeat(style.indent - 1));
        block(v, indent + style.indent, style, out);
    }
}

fn flow(v: &Value, sort: bool) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| flow(i, sort))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            sorted(map, sort)
                .into_iter()
                .map(|(k, v)| {
                    let key = scalar(&Value::String(k.clone()), true);
                    format!("{key}: {}", flow(v, sort))
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        scalar_value => scalar(scalar_value, true),
    }
}

fn scalar(v: &Value, in_flow: bool) -> String {
    match v {
        Value::String(s) => string(s, in_flow, 0),
        _ => non_string(v),
    }
}

fn scalar_at(v: &Value, continuation_indent: usize) -> String {
    match v {
        Value::String(s) => string(s, false, continuation_indent),
        _ => non_string(v),
    }
}

fn non_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            if n.is_f64() && f.is_infinite() {
                if f > 0.0 { ".inf" } else { "-.inf" }.into()
            } else if n.is_f64() && f.is_nan() {
                ".nan".into()
            } else {
                py_number(n)
            }
        }
        _ => String::new(),
    }
}

/// A string plain where PyYAML would leave it plain, else single-quoted (or double-quoted when it
/// holds characters a single-quoted scalar cannot).
fn string(s: &str, in_flow: bool, continuation_indent: usize) -> String {
    if s.chars()
        .any(|c| (c as u32) < 0x20 && c != '\n' && c != '\t')
    {
        return serde_json::to_string(s).unwrap_or_default();
    }
    if plain_ok(s, in_flow) {
        return s.to_string();
    }
    let body = s.replace('\'', "''");
    // A line break inside single quotes is written as an empty line, then the indented continuation.
    let body = body.replace('\n', &format!("\n\n{}", " ".repeat(continuation_indent)));
    format!("'{body}'")
}

fn plain_ok(s: &str, in_flow: bool) -> bool {
    if s.is_empty() || s.contains('\n') || s.starts_with(' ') || s.ends_with(' ') {
        return false;
    }
    if !matches!(drover_yaml::resolve_plain(s), drover_yaml::Value::Str(_)) || s == "<<" || s == "="
    {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && (s.len() == 1 || s[1..].starts_with(' ')) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.contains('\t') {
        return false;
    }
    !(in_flow && s.contains([',', '[', ']', '{', '}']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NICE: Style = Style {
        indent: 4,
        flow_leaves: false,
        sort_keys: true,
    };
    const FLOW: Style = Style {
        indent: 2,
        flow_leaves: true,
        sort_keys: true,
    };

    #[test]
    fn nested_layouts_match_pyyaml() {
        let v = json!({"ports": [80, 443], "env": {"A": "1"}, "image": "nginx:1.25"});
        assert_eq!(
            dump(&v, NICE),
            "env:\n    A: '1'\nimage: nginx:1.25\nports:\n- 80\n- 443\n"
        );
        assert_eq!(
            dump(&v, FLOW),
            "env: {A: '1'}\nimage: nginx:1.25\nports: [80, 443]\n"
        );
        let users = json!([{"name": "ann", "uid": 1}]);
        assert_eq!(dump(&users, NICE), "-   name: ann\n    uid: 1\n");
    }

    #[test]
    fn strings_that_would_read_back_differently_are_quoted() {
        let v =
            json!({"s": "yes", "n": "123", "e": "", "c": "a: b", "h": "#x", "b": true, "z": null});
        assert_eq!(
            dump(&v, NICE),
            "b: true\nc: 'a: b'\ne: ''\nh: '#x'\nn: '123'\ns: 'yes'\nz: null\n"
        );
    }
}
