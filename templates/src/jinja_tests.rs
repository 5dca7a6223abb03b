//! Ansible's Jinja tests: `match`, `search`, `regex`, `truthy`, `falsy`, `version`, the task result
//! tests (`succeeded`, `failed`, `changed`, `skipped`, `reachable`, ...), `any`/`all`, the set tests
//! (`subset`, `superset`, `contains`), `nan`, and the path tests, which look at the controller's
//! files as Ansible's do (`exists`, `directory`, `file`, `link`, `abs`, ...).

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
    ansible_builtin!(env, add_test, "any", |v: Value| truths(&v)
        .map(|mut t| t.any(|b| b)));
    ansible_builtin!(env, add_test, "all", |v: Value| truths(&v)
        .map(|mut t| t.all(|b| b)));
    for name in ["subset", "issubset"] {
        ansible_builtin!(env, add_test, name, |a: Value, b: Value| within(&a, &b));
    }
    for name in ["superset", "issuperset"] {
        ansible_builtin!(env, add_test, name, |a: Value, b: Value| within(&b, &a));
    }
    ansible_builtin!(env, add_test, "contains", |seq: Value, item: Value| {
        seq.try_iter().map(|mut it| it.any(|v| v == item))
    });
    for name in ["nan", "isnan"] {
        ansible_builtin!(env, add_test, name, |v: Value| f64::try_from(v)
            .is_ok_and(f64::is_nan));
    }
    register_path_tests(env);
    // Ansible's task result tests, on a registered result.
    for (name, key, want) in [
        ("succeeded", "failed", false),
        ("success", "failed", false),
        ("successful", "failed", false),
        ("reachable", "unreachable", false),
        ("unreachable", "unreachable", true),
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

/// The truth of each item, for `any` and `all` (Python's, on any iterable).
fn truths(v: &Value) -> Result<impl Iterator<Item = bool>, Error> {
    Ok(v.try_iter()?.map(|item| item.is_true()))
}

/// Whether every item of `a` is in `b`, as Python's `set(a) <= set(b)`.
fn within(a: &Value, b: &Value) -> Result<bool, Error> {
    let b: Vec<Value> = b.try_iter()?.collect();
    Ok(a.try_iter()?.all(|item| b.contains(&item)))
}

/// Ansible's path tests: on the controller's files, as Jinja runs there (`~` is not expanded,
/// as Python's os.path tests do not).
fn register_path_tests(env: &mut Environment<'static>) {
    use std::path::Path;
    type PathTest = fn(&Path) -> bool;
    let tests: [(&str, &str, PathTest); 6] = [
        ("directory", "is_dir", |p| p.is_dir()),
        ("file", "is_file", |p| p.is_file()),
        ("link", "is_link", |p| p.is_symlink()),
        ("exists", "exists", |p| p.exists()),
        ("link_exists", "link_exists", |p| {
            p.symlink_metadata().is_ok()
        }),
        ("abs", "is_abs", |p| p.is_absolute()),
    ];
    for (name, alias, test) in tests {
        for n in [name, alias] {
            ansible_builtin!(env, add_test, n, move |path: String| test(Path::new(&path)));
        }
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
