//! community.general's `json_query`: a JMESPath expression run over a value, as the filter runs
//! Python's `jmespath.search` (the `jmespath` crate implements the same specification).

use std::collections::HashMap;

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};
use serde_json::Value as Json;

use crate::filters::{data_value, to_data};

/// Registers `json_query` under its short and its collection's name.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("json_query", json_query);
    env.add_filter("community.general.json_query", json_query);
}

/// The expression longer than this is refused: a query is a line of a playbook, not a program.
const MAX_EXPRESSION: usize = 10_000;

fn json_query(data: Value, expr: String) -> Result<Value, Error> {
    let fail = |e: String| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("JMESPathError in json_query filter plugin:\n{e}"),
        )
    };
    if expr.len() > MAX_EXPRESSION {
        return Err(fail(format!(
            "the expression is longer than {MAX_EXPRESSION} characters"
        )));
    }
    let compiled = jmespath::compile(&legacy_literals(&expr)).map_err(|e| fail(e.to_string()))?;
    let input = to_data(&data)?;
    let found = compiled
        .search(input.clone())
        .map_err(|e| fail(e.to_string()))?;
    let found = serde_json::to_value(&*found).map_err(|e| fail(e.to_string()))?;
    Ok(data_value(&in_python_order(
        found,
        &key_order(&expr, &input),
    )))
}

/// Python's jmespath reads a backtick literal that is not JSON as a string (`` `b` `` is `"b"`,
/// deprecated but common in roles); the crate follows the specification and refuses it. Such
/// literals are rewritten as the JSON strings Python makes of them.
fn legacy_literals(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A raw string literal may hold backticks: copied whole.
            '\'' => {
                out.push(c);
                while let Some(r) = chars.next() {
                    out.push(r);
                    if r == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                    } else if r == '\'' {
                        break;
                    }
                }
            }
            '`' => {
                let mut body = String::new();
                while let Some(l) = chars.next() {
                    match l {
                        '\\' if chars.peek() == Some(&'`') => {
                            chars.next();
                            body.push('`');
                        }
                        '`' => break,
                        other => body.push(other),
                    }
                }
                let quoted = format!("\"{}\"", body.trim_start());
                let json = if serde_json::from_str::<Json>(&body).is_err()
                    && serde_json::from_str::<Json>(&quoted).is_ok()
                {
                    quoted
                } else {
                    body
                };
                out.push('`');
                out.push_str(&json.replace('`', "\\`"));
                out.push('`');
            }
            other => out.push(other),
        }
    }
    out
}

/// Where each key comes first: a key the expression names in a multiselect hash (`{n: name}`) at
/// its place in the expression, any other at its first appearance in the data.
fn key_order(expr: &str, data: &Json) -> HashMap<String, usize> {
    let mut order = HashMap::new();
    let named = regex::Regex::new(r#"([A-Za-z_][A-Za-z0-9_]*)\s*:"#).expect("a valid pattern");
    for m in named.captures_iter(expr) {
        if let Some(k) = m.get(1) {
            order.entry(k.as_str().to_string()).or_insert(k.start());
        }
    }
    let mut next = expr.len();
    let mut stack = vec![data];
    while let Some(v) = stack.pop() {
        match v {
            Json::Object(map) => {
                for (k, child) in map {
                    order.entry(k.clone()).or_insert_with(|| {
                        next += 1;
                        next
                    });
                    stack.push(child);
                }
            }
            Json::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    order
}

/// The crate returns objects with sorted keys; Python keeps them in insertion order. Each object
/// is put back in the order [`key_order`] found (keys it does not know last, sorted).
fn in_python_order(v: Json, order: &HashMap<String, usize>) -> Json {
    match v {
        Json::Object(map) => {
            let mut entries: Vec<(String, Json)> = map.into_iter().collect();
            entries.sort_by_key(|(k, _)| (order.get(k).copied().unwrap_or(usize::MAX), k.clone()));
            Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, in_python_order(v, order)))
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(
            items
                .into_iter()
                .map(|v| in_python_order(v, order))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(data: serde_json::Value, expr: &str) -> Result<Value, Error> {
        json_query(data_value(&data), expr.to_string())
    }

    #[test]
    fn queries_select_filter_and_project() {
        let data = json!({"domains": [
            {"name": "a", "servers": [{"name": "s1", "port": 80}, {"name": "s2", "port": 443}]},
            {"name": "b", "servers": [{"name": "s3", "port": 80}]},
        ]});
        assert_eq!(
            query(data.clone(), "domains[].servers[?port==`80`].name[]")
                .unwrap()
                .to_string(),
            "['s1', 's3']"
        );
        assert_eq!(
            query(data.clone(), "domains[0].name").unwrap().to_string(),
            "a"
        );
        assert!(query(data.clone(), "nothing.here").unwrap().is_none());
        // Python's legacy literal: `a` is the string "a".
        assert_eq!(
            query(data.clone(), "domains[?name==`a`].name")
                .unwrap()
                .to_string(),
            "['a']"
        );
        assert_eq!(
            legacy_literals("a[?b==`x`] | `[1]` | 'it`s'"),
            "a[?b==`\"x\"`] | `[1]` | 'it`s'"
        );
        let err = query(data, "domains[").unwrap_err().to_string();
        assert!(err.contains("JMESPathError"), "{err}");
    }
}
