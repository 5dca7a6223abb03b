//! Ansible's Jinja tests: `match`, `search`, `regex`, `truthy`, `falsy`, `version` and the task result
//! tests (`succeeded`, `failed`, `changed`, `skipped`).

use std::cmp::Ordering;

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

use crate::regex_py;

/// Registers the tests on `env`.
pub fn register(env: &mut Environment<'static>) {
    ansible_builtin!(env, add_test, "match", regex_py::is_match);
    ansible_builtin!(env, add_test, "search", regex_py::is_search);
    ansible_builtin!(env, add_test, "regex", regex_py::is_regex);
    ansible_builtin!(env, add_test, "truthy", |v: Value| v.is_true());
    ansible_builtin!(env, add_test, "falsy", |v: Value| !v.is_true());
    ansible_builtin!(env, add_test, "version", version);
    ansible_builtin!(env, add_test, "version_compare", version);
    // Ansible's task result tests, on a registered result.
    for (name, key, want) in [
        ("succeeded", "failed", false),
        ("success", "failed", false),
        ("failed", "failed", true),
        ("failure", "failed", true),
        ("changed", "changed", true),
        ("change", "changed", true),
        ("skipped", "skipped", true),
        ("skip", "skipped", true),
    ] {
        ansible_builtin!(env, add_test, name, move |v: Value| result_flag(&v, key)
            == want);
    }
}

/// A version part: numbers compare as numbers, words as text, as Python's LooseVersion does.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Num(u64),
    Word(String),
}

fn parts(v: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, out: &mut Vec<Part>| {
        if !current.is_empty() {
            out.push(match current.parse() {
                Ok(n) => Part::Num(n),
                Err(_) => Part::Word(std::mem::take(current)),
            });
            current.clear();
        }
    };
    for c in v.chars() {
        let boundary = !current.is_empty()
            && current.chars().all(|d| d.is_ascii_digit()) != c.is_ascii_digit();
        if !c.is_ascii_alphanumeric() || boundary {
            flush(&mut current, &mut out);
        }
        if c.is_ascii_alphanumeric() {
            current.push(c);
        }
    }
    flush(&mut current, &mut out);
    out
}

/// A flag of a registered result; a loop's result has it if any item has it (`failed`, `changed`) as
/// Ansible aggregates them.
fn result_flag(result: &Value, key: &str) -> bool {
    let flag = |v: &Value| v.get_attr(key).is_ok_and(|f| f.is_true());
    flag(result)
        || result
            .get_attr("results")
            .ok()
            .and_then(|r| r.try_iter().ok().map(|mut it| it.any(|item| flag(&item))))
            .unwrap_or(false)
}

/// Compares two versions as Ansible's `version` test does by default (loose).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    parts(a).cmp(&parts(b))
}

fn version(value: Value, other: Value, op: Option<String>) -> Result<bool, Error> {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let ord = compare_versions(&text(&value), &text(&other));
    Ok(match op.as_deref().unwrap_or("eq") {
        "<" | "lt" => ord == Ordering::Less,
        "<=" | "le" => ord != Ordering::Greater,
        ">" | "gt" => ord == Ordering::Greater,
        ">=" | "ge" => ord != Ordering::Less,
        "==" | "=" | "eq" => ord == Ordering::Equal,
        "!=" | "<>" | "ne" => ord != Ordering::Equal,
        other => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "version: unknown operator `{other}`; use <, <=, >, >=, ==, != or lt, le, gt, ge, eq, ne"
                ),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_result_tests_read_registered_results() {
        let engine = crate::Engine::new();
        let check = |expr: &str, result: serde_json::Value| {
            let mut vars = crate::Vars::new();
            vars.insert("r".into(), result);
            engine.eval_bool("test", expr, &vars).unwrap()
        };
        assert!(check(
            "r is succeeded",
            serde_json::json!({"failed": false, "changed": true})
        ));
        assert!(check(
            "r is changed",
            serde_json::json!({"failed": false, "changed": true})
        ));
        assert!(!check("r is failed", serde_json::json!({"failed": false})));
        assert!(check(
            "r is failed",
            serde_json::json!({"results": [{"failed": false}, {"failed": true}]})
        ));
        assert!(check("r is skipped", serde_json::json!({"skipped": true})));
    }

    #[test]
    fn loose_versions_compare_numerically() {
        assert_eq!(compare_versions("1.7.27", "2.0"), Ordering::Less);
        assert_eq!(compare_versions("1.7.27", "1.7.9"), Ordering::Greater);
        assert_eq!(compare_versions("5:28.3.2", "5:29.0.2"), Ordering::Less);
        assert_eq!(compare_versions("6.8.0-88", "6.8.0-87"), Ordering::Greater);
        assert_eq!(compare_versions("2.1.5", "2.1.5"), Ordering::Equal);
    }
}
