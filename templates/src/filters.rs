//! Ansible's filters that minijinja lacks or defines differently, with Ansible's semantics.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind};
use serde_json::Value as Json;

use crate::pyyaml::{self, Style};
use crate::regex_py;

/// Registers the filters on `env`.
pub fn register(env: &mut Environment<'static>) {
    ansible_builtin!(env, add_filter, "bool", to_bool);
    ansible_builtin!(env, add_filter, "int", to_int);
    ansible_builtin!(env, add_filter, "to_json", to_json);
    ansible_builtin!(env, add_filter, "to_nice_json", to_nice_json);
    ansible_builtin!(env, add_filter, "to_yaml", to_yaml);
    ansible_builtin!(env, add_filter, "to_nice_yaml", to_nice_yaml);
    ansible_builtin!(env, add_filter, "from_json", from_json);
    ansible_builtin!(env, add_filter, "from_yaml", from_yaml);
    ansible_builtin!(env, add_filter, "from_yaml_all", from_yaml_all);
    ansible_builtin!(env, add_filter, "combine", combine);
    ansible_builtin!(env, add_filter, "dict2items", dict2items);
    ansible_builtin!(env, add_filter, "items2dict", items2dict);
    ansible_builtin!(env, add_filter, "ternary", ternary);
    // Jinja's own, by the names Ansible also gives them.
    env.add_filter("ansible.builtin.default", minijinja::filters::default);
    env.add_filter("ansible.builtin.d", minijinja::filters::default);
    ansible_builtin!(env, add_filter, "quote", quote);
    ansible_builtin!(env, add_filter, "b64encode", b64encode);
    ansible_builtin!(env, add_filter, "b64decode", b64decode);
    ansible_builtin!(env, add_filter, "basename", basename);
    ansible_builtin!(env, add_filter, "dirname", dirname);
    ansible_builtin!(env, add_filter, "flatten", flatten);
    ansible_builtin!(env, add_filter, "union", union);
    ansible_builtin!(env, add_filter, "difference", difference);
    ansible_builtin!(env, add_filter, "intersect", intersect);
    ansible_builtin!(env, add_filter, "mandatory", mandatory);
    ansible_builtin!(env, add_filter, "comment", comment);
    env.add_filter("indent", indent);
    ansible_builtin!(env, add_filter, "regex_replace", regex_py::regex_replace);
    ansible_builtin!(env, add_filter, "regex_search", regex_py::regex_search);
    ansible_builtin!(env, add_filter, "regex_findall", regex_py::regex_findall);
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// A template value as plain data.
pub fn to_data(v: &Value) -> Result<Json, Error> {
    if v.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "value is undefined"));
    }
    // As Ansible 2.19 refuses it: a datetime is kept as its text, a timedelta is not kept at all.
    if v.downcast_object_ref::<crate::datetime::TimeDelta>()
        .is_some()
    {
        return Err(invalid(
            "Type 'timedelta' is unsupported for variable storage: use its .days or .total_seconds()",
        ));
    }
    serde_json::to_value(v).map_err(|e| invalid(e.to_string()))
}

fn from_data(v: Json) -> Value {
    data_value(&v)
}

/// Plain data as a template value.
pub fn data_value<T: serde::Serialize>(v: &T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

/// Ansible's truth table: true, `yes`, `on`, `1`, `true` (any case) and 1 are true; the rest is false.
fn to_bool(v: Value) -> bool {
    if let Some(s) = v.as_str() {
        return matches!(s.to_ascii_lowercase().as_str(), "yes" | "on" | "1" | "true");
    }
    match to_data(&v) {
        Ok(Json::Bool(b)) => b,
        Ok(Json::Number(n)) => n.as_f64() == Some(1.0),
        _ => false,
    }
}

/// Jinja2's int: a number, or the default (0) when the value is not one.
fn to_int(v: Value, default: Option<i64>, kwargs: Kwargs) -> Result<i64, Error> {
    let base: u32 = kwargs.get::<Option<u32>>("base")?.unwrap_or(10);
    kwargs.assert_all_used()?;
    let fallback = default.unwrap_or(0);
    if let Some(s) = v.as_str() {
        let t = s.trim();
        let digits = match base {
            16 => t.trim_start_matches("0x").trim_start_matches("0X"),
            8 => t.trim_start_matches("0o"),
            2 => t.trim_start_matches("0b"),
            _ => t,
        };
        return Ok(i64::from_str_radix(digits, base)
            .ok()
            .or_else(|| t.parse::<f64>().ok().map(|f| f.trunc() as i64))
            .unwrap_or(fallback));
    }
    Ok(match to_data(&v)? {
        Json::Number(n) => n
            .as_i64()
            .unwrap_or_else(|| n.as_f64().unwrap_or(0.0).trunc() as i64),
        Json::Bool(b) => i64::from(b),
        _ => fallback,
    })
}

/// Python's `json.dumps` with its default separators.
fn to_json(v: Value) -> Result<String, Error> {
    Ok(python_json(&to_data(&v)?, None, 0))
}

/// `v` as Python's `json.dumps(v)` writes it (what Ansible's copy writes for a list or mapping
/// given as `content`).
pub fn json_dumps(v: &Json) -> String {
    python_json(v, None, 0)
}

fn to_nice_json(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: usize = kwargs.get::<Option<usize>>("indent")?.unwrap_or(4);
    kwargs.assert_all_used()?;
    Ok(python_json(&sort_keys(to_data(&v)?), Some(indent), 0))
}

fn sort_keys(v: Json) -> Json {
    match v {
        Json::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// JSON as Python's json module writes it: `", "` and `": "` separators, non-ASCII escaped.
fn python_json(v: &Json, indent: Option<usize>, depth: usize) -> String {
    let (open_pad, close_pad, sep) = match indent {
        Some(n) => (
            format!("\n{}", " ".repeat(n * (depth + 1))),
            format!("\n{}", " ".repeat(n * depth)),
            ",".to_string(),
        ),
        None => (String::new(), String::new(), ", ".to_string()),
    };
    let join = |parts: Vec<String>| {
        parts.join(&format!(
            "{sep}{}",
            if indent.is_some() { &open_pad[..] } else { "" }
        ))
    };
    match v {
        Json::Array(items) if !items.is_empty() => {
            let parts = items
                .iter()
                .map(|i| python_json(i, indent, depth + 1))
                .collect();
            format!("[{open_pad}{}{close_pad}]", join(parts))
        }
        Json::Object(map) if !map.is_empty() => {
            let parts = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        ascii_json_string(k),
                        python_json(v, indent, depth + 1)
                    )
                })
                .collect();
            format!("{{{open_pad}{}{close_pad}}}", join(parts))
        }
        Json::String(s) => ascii_json_string(s),
        Json::Number(n) => crate::pyrepr::py_number(n),
        other => other.to_string(),
    }
}

fn ascii_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `to_yaml(indent=2, sort_keys=True)`: PyYAML's `dump` with Ansible's default flow style.
fn to_yaml(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    yaml_dump(&v, kwargs, 2, true)
}

/// `to_nice_yaml(indent=4, sort_keys=True)`: block style throughout.
fn to_nice_yaml(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    yaml_dump(&v, kwargs, 4, false)
}

/// PyYAML's dump with the keyword arguments drover follows (others are refused).
fn yaml_dump(v: &Value, kwargs: Kwargs, indent: usize, flow_leaves: bool) -> Result<String, Error> {
    let indent: usize = kwargs.get::<Option<usize>>("indent")?.unwrap_or(indent);
    let sort_keys = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(true);
    kwargs.assert_all_used()?;
    Ok(pyyaml::dump(
        &to_data(v)?,
        Style {
            indent: indent.max(2),
            flow_leaves,
            sort_keys,
        },
    ))
}

fn from_json(v: Value) -> Result<Value, Error> {
    let text = v
        .as_str()
        .ok_or_else(|| invalid("from_json expects a string"))?;
    serde_json::from_str::<Json>(text)
        .map(from_data)
        .map_err(|e| invalid(format!("from_json: {e}")))
}

fn from_yaml(v: Value) -> Result<Value, Error> {
    let text = v
        .as_str()
        .ok_or_else(|| invalid("from_yaml expects a string"))?;
    let doc = drover_yaml::parse(text).map_err(|e| invalid(format!("from_yaml: {e}")))?;
    Ok(from_data(doc.map_or(Json::Null, |d| d.to_json())))
}

/// Every document of a YAML stream, as a list.
fn from_yaml_all(v: Value) -> Result<Value, Error> {
    let text = v
        .as_str()
        .ok_or_else(|| invalid("from_yaml_all expects a string"))?;
    let docs = drover_yaml::parse_all(text).map_err(|e| invalid(format!("from_yaml_all: {e}")))?;
    Ok(from_data(Json::Array(
        docs.iter().map(|d| d.to_json()).collect(),
    )))
}

/// Later mappings win; with `recursive=true`, nested mappings merge instead of being replaced.
fn combine(first: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: bool = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let mut acc = to_data(&first)?;
    for other in others.iter() {
        merge(&mut acc, to_data(other)?, recursive);
    }
    Ok(from_data(acc))
}

fn merge(into: &mut Json, from: Json, recursive: bool) {
    match (into, from) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) if recursive && existing.is_object() && v.is_object() => {
                        merge(existing, v, true)
                    }
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, other) => *slot = other,
    }
}

/// The `key_name` and `value_name` options of dict2items and items2dict.
fn key_value_names(kwargs: &Kwargs) -> Result<(String, String), Error> {
    let key = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let value = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    Ok((key, value))
}

fn dict2items(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let (key_name, value_name) = key_value_names(&kwargs)?;
    let Json::Object(map) = to_data(&v)? else {
        return Err(invalid("dict2items expects a mapping"));
    };
    let items: Vec<Json> = map
        .into_iter()
        .map(|(k, v)| {
            let mut item = serde_json::Map::new();
            item.insert(key_name.clone(), Json::String(k));
            item.insert(value_name.clone(), v);
            Json::Object(item)
        })
        .collect();
    Ok(from_data(Json::Array(items)))
}

fn items2dict(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let (key_name, value_name) = key_value_names(&kwargs)?;
    let Json::Array(items) = to_data(&v)? else {
        return Err(invalid("items2dict expects a list of mappings"));
    };
    let mut out = serde_json::Map::new();
    for item in items {
        let key = item
            .get(&key_name)
            .ok_or_else(|| invalid(format!("items2dict: an item has no `{key_name}`")))?;
        let key = key.as_str().map_or_else(|| key.to_string(), str::to_string);
        out.insert(key, item.get(&value_name).cloned().unwrap_or(Json::Null));
    }
    Ok(from_data(Json::Object(out)))
}

/// Only the value chosen may be undefined; the value tested may not.
fn ternary(v: &Value, yes: &Value, no: &Value, none: Option<&Value>) -> Result<Value, Error> {
    if v.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "ternary of an undefined value",
        ));
    }
    Ok(match none {
        Some(n) if v.is_none() => n,
        _ if v.is_true() => yes,
        _ => no,
    }
    .clone())
}

/// Python's `shlex.quote`.
fn quote(v: Value) -> String {
    let s = v.as_str().map_or_else(|| v.to_string(), str::to_string);
    if s.is_empty() {
        return "''".into();
    }
    if s.chars()
        .all(|c| c.is_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        return s;
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

fn b64encode(v: Value) -> String {
    B64.encode(v.as_str().map_or_else(|| v.to_string(), str::to_string))
}

fn b64decode(v: Value) -> Result<String, Error> {
    let bytes = B64
        .decode(v.as_str().unwrap_or_default().trim())
        .map_err(|e| invalid(format!("b64decode: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Python's `os.path.basename`: what follows the last slash.
fn basename(v: String) -> String {
    v.rsplit('/').next().unwrap_or_default().to_string()
}

/// Python's `os.path.dirname`: what precedes the last slash, without trailing slashes.
fn dirname(v: String) -> String {
    match v.rfind('/') {
        Some(i) => {
            let head = &v[..=i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head.to_string()
            } else {
                trimmed.to_string()
            }
        }
        None => String::new(),
    }
}

fn flatten(v: Value, levels: Option<usize>, kwargs: Kwargs) -> Result<Value, Error> {
    let levels = levels.or(kwargs.get("levels")?);
    kwargs.assert_all_used()?;
    fn go(items: Vec<Json>, levels: Option<usize>, out: &mut Vec<Json>) {
        for item in items {
            match item {
                Json::Array(inner) if levels != Some(0) => go(inner, levels.map(|l| l - 1), out),
                Json::Null => {}
                other => out.push(other),
            }
        }
    }
    let Json::Array(items) = to_data(&v)? else {
        return Err(invalid("flatten expects a list"));
    };
    let mut out = Vec::new();
    go(items, levels, &mut out);
    Ok(from_data(Json::Array(out)))
}

fn list_of(v: &Value, filter: &str) -> Result<Vec<Json>, Error> {
    match to_data(v)? {
        Json::Array(items) => Ok(items),
        _ => Err(invalid(format!("{filter} expects lists"))),
    }
}

fn unique(items: impl IntoIterator<Item = Json>) -> Vec<Json> {
    let mut out: Vec<Json> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Items of either list, once each, in order of appearance. (Ansible's order is a set's order.)
fn union(a: Value, b: Value) -> Result<Value, Error> {
    let mut items = list_of(&a, "union")?;
    items.extend(list_of(&b, "union")?);
    Ok(from_data(Json::Array(unique(items))))
}

fn difference(a: Value, b: Value) -> Result<Value, Error> {
    let remove = list_of(&b, "difference")?;
    let items = list_of(&a, "difference")?
        .into_iter()
        .filter(|i| !remove.contains(i));
    Ok(from_data(Json::Array(unique(items))))
}

fn intersect(a: Value, b: Value) -> Result<Value, Error> {
    let keep = list_of(&b, "intersect")?;
    let items = list_of(&a, "intersect")?
        .into_iter()
        .filter(|i| keep.contains(i));
    Ok(from_data(Json::Array(unique(items))))
}

fn mandatory(v: Value, msg: Option<String>) -> Result<Value, Error> {
    if v.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            msg.unwrap_or_else(|| "mandatory variable is not defined".into()),
        ));
    }
    Ok(v)
}

/// Ansible's `comment` filter in its default (plain, `#`) style. An undefined value is an error,
/// not an empty comment.
fn comment(v: Value, style: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let text = text_of(&v)?;
    let style = match style {
        Some(s) => Some(s),
        None => kwargs.get("style")?,
    };
    let mut c = CommentStyle::named(style.as_deref().unwrap_or("plain"))?;
    let decoration: Option<String> = kwargs.get("decoration")?;
    let around = decoration.clone().unwrap_or(c.decoration.clone());
    c.prefix = around.trim_end().to_string();
    c.postfix = c.prefix.clone();
    if let Some(d) = decoration {
        c.decoration = d;
    }
    for (key, field) in [
        ("newline", &mut c.newline),
        ("beginning", &mut c.beginning),
        ("prefix", &mut c.prefix),
        ("postfix", &mut c.postfix),
        ("end", &mut c.end),
    ] {
        if let Some(v) = kwargs.get::<Option<String>>(key)? {
            *field = v;
        }
    }
    let prefix_count: usize = kwargs.get::<Option<usize>>("prefix_count")?.unwrap_or(1);
    let postfix_count: usize = kwargs.get::<Option<usize>>("postfix_count")?.unwrap_or(1);
    kwargs.assert_all_used()?;
    Ok(c.wrap(&text, prefix_count.min(1000), postfix_count.min(1000)))
}

/// Ansible's `comment` filter's pieces, as a style sets them and keywords override them.
struct CommentStyle {
    newline: String,
    beginning: String,
    prefix: String,
    decoration: String,
    postfix: String,
    end: String,
}

impl CommentStyle {
    fn named(style: &str) -> Result<CommentStyle, Error> {
        let (beginning, decoration, end) = match style {
            "plain" => ("", "# ", ""),
            "erlang" => ("", "% ", ""),
            "c" => ("", "// ", ""),
            "cblock" => ("/*", " * ", " */"),
            "xml" => ("<!--", " - ", "-->"),
            other => {
                return Err(invalid(format!(
                    "comment: unknown style `{other}` (plain, erlang, c, cblock, xml)"
                )));
            }
        };
        Ok(CommentStyle {
            newline: "\n".into(),
            beginning: beginning.into(),
            prefix: String::new(),
            decoration: decoration.into(),
            postfix: String::new(),
            end: end.into(),
        })
    }

    /// The text commented as Ansible composes it: beginning, prefix lines, each line decorated
    /// (a decoration alone on a line loses its trailing spaces), postfix lines, end.
    fn wrap(&self, text: &str, prefix_count: usize, postfix_count: usize) -> String {
        let nl = &self.newline;
        let mut out = String::new();
        if !self.beginning.is_empty() {
            out.push_str(&format!("{}{nl}", self.beginning));
        }
        if !self.prefix.is_empty() {
            let one = if &self.prefix == nl {
                nl.clone()
            } else {
                format!("{}{nl}", self.prefix)
            };
            out.push_str(&one.repeat(prefix_count));
        }
        let d = &self.decoration;
        let body = format!("{d}{}", text.replace(nl.as_str(), &format!("{nl}{d}")));
        out.push_str(&body.replace(&format!("{d}{nl}"), &format!("{}{nl}", d.trim_end())));
        for _ in 0..postfix_count {
            out.push_str(&format!("{nl}{}", self.postfix));
        }
        if !self.end.is_empty() {
            out.push_str(&format!("{nl}{}", self.end));
        }
        out
    }
}

/// A value as Python's `str` prints it; undefined is an error.
fn text_of(v: &Value) -> Result<String, Error> {
    match v.as_str() {
        Some(s) => Ok(s.to_string()),
        None => Ok(crate::py_str(&to_data(v)?)),
    }
}

/// Jinja2's `indent(width=4, first=False, blank=False)`, trailing newline kept (minijinja's drops
/// it, which breaks the common `to_nice_yaml | indent(n)`). `width` may be the indentation text.
fn indent(
    state: &minijinja::State,
    v: Value,
    width: Option<Value>,
    first: Option<bool>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    // (minijinja takes five parameters at most: `blank` is by keyword only.)
    let width = width.or(kwargs.get("width")?);
    let first = first.or(kwargs.get("first")?);
    let blank: Option<bool> = kwargs.get("blank")?;
    kwargs.assert_all_used()?;
    let text = format!("{}\n", text_of(&v)?);
    let lines = split_lines(&text);
    let width_error = || invalid("indent: width must be a number or a string");
    let width_len = match &width {
        Some(w) => match w.as_str() {
            Some(s) => s.len(),
            None => usize::try_from(w.clone()).map_err(|_| width_error())?,
        },
        None => 4,
    };
    // Checked before the indentation is made: `indent(10**10)` must not ask for gigabytes.
    let size = width_len.saturating_mul(lines.len() + 1) as u64 + text.len() as u64;
    if state
        .fuel_levels()
        .is_some_and(|(_, left)| size / 64 > left)
    {
        return Err(Error::new(ErrorKind::OutOfFuel, "indent"));
    }
    let indention = match width.as_ref().and_then(Value::as_str) {
        Some(s) => s.to_string(),
        None => " ".repeat(width_len),
    };
    let mut out = if blank.unwrap_or(false) {
        lines.join(&format!("\n{indention}"))
    } else {
        let mut rest = lines.iter();
        let mut out = rest.next().copied().unwrap_or_default().to_string();
        for line in rest {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&indention);
            }
            out.push_str(line);
        }
        out
    };
    if first.unwrap_or(false) {
        out.insert_str(0, &indention);
    }
    Ok(out)
}

/// Python's `str.splitlines()` for `\n`, `\r\n` and `\r`: line ends dropped, no empty last line.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        lines.push(&rest[..end]);
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = rest.get(end + skip..).unwrap_or_default();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As Jinja2's do_indent (ansible-core 2.19's templates).
    #[test]
    fn indent_keeps_the_trailing_newline_as_jinja2_does() {
        let env = Environment::new();
        let mut env = env;
        env.add_filter("indent", indent);
        let render = |src: &str| env.render_str(src, ()).unwrap();
        assert_eq!(render("{{ 'a:\\n- 1\\n' | indent(2) }}"), "a:\n  - 1\n");
        assert_eq!(
            render("{{ 'a\\n\\nb' | indent(first=true) }}"),
            "    a\n\n    b"
        );
        assert_eq!(
            render("{{ 'a\\n\\nb' | indent('> ', blank=true) }}"),
            "a\n> \n> b"
        );
        assert!(
            crate::Engine::new()
                .render_str("t", "{{ nope | comment }}", &Default::default())
                .is_err()
        );
    }

    #[test]
    fn paths_split_as_python_does() {
        assert_eq!(basename("/etc/app/site.conf".into()), "site.conf");
        assert_eq!(basename("/etc/app/".into()), "");
        assert_eq!(dirname("/etc/app/site.conf".into()), "/etc/app");
        assert_eq!(dirname("/site.conf".into()), "/");
        assert_eq!(dirname("site.conf".into()), "");
    }

    #[test]
    fn python_json_layouts() {
        let v = serde_json::json!({"b": [1, 2.0], "a": {"é": null}});
        assert_eq!(
            python_json(&v, None, 0),
            r#"{"b": [1, 2.0], "a": {"\u00e9": null}}"#
        );
        assert_eq!(
            python_json(&sort_keys(v), Some(2), 0),
            "{\n  \"a\": {\n    \"\\u00e9\": null\n  },\n  \"b\": [\n    1,\n    2.0\n  ]\n}"
        );
    }
}
