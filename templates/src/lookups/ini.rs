//! `lookup('ini', 'KEY section=S file=F')`: a value from an INI or Java properties file, read as
//! Python's configparser reads it (keys folded to lower case, `%(name)s` interpolation).

use std::collections::BTreeMap;

use minijinja::Error;
use minijinja::value::Value;

use super::{Call, Scope, find_file, invalid, read_limited, text, truth};

const OPTIONS: &[&str] = &[
    "type",
    "file",
    "section",
    "re",
    "encoding",
    "default",
    "case_sensitive",
    "allow_no_value",
    "allow_none",
    "interpolation",
];

/// The settings of one term.
struct Settings {
    options: BTreeMap<String, String>,
}

impl Settings {
    fn get(&self, key: &str, default: &str) -> String {
        self.options
            .get(key)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, Error> {
        self.options
            .get(key)
            .map_or(Ok(default), |v| truth(&Value::from(v.as_str())))
    }
}

/// Sections of a file, each its keys and values (none for a key without a value).
type Sections = BTreeMap<String, Vec<(String, Option<String>)>>;

/// Reads `text` as configparser does: `[section]`, `key = value` or `key: value`, comments with `#`
/// or `;`, indented lines continuing the value before.
fn parse(text: &str, fold: bool, allow_no_value: bool) -> Result<Sections, Error> {
    let mut sections = Sections::new();
    let mut current: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if indented
            && let Some(entries) = current.as_ref().and_then(|s| sections.get_mut(s))
            && let Some((_, Some(value))) = entries.last_mut()
        {
            value.push('\n');
            value.push_str(trimmed);
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            sections.entry(name.to_string()).or_default();
            current = Some(name.to_string());
            continue;
        }
        let section = current
            .clone()
            .ok_or_else(|| invalid(format!("line {}: a key before any [section]", n + 1)))?;
        let split = trimmed.find(['=', ':']);
        let (key, value) = match split {
            Some(at) => (
                trimmed[..at].trim(),
                Some(trimmed[at + 1..].trim().to_string()),
            ),
            None if allow_no_value => (trimmed, None),
            None => return Err(invalid(format!("line {}: `{trimmed}` has no value", n + 1))),
        };
        let key = if fold {
            key.to_lowercase()
        } else {
            key.to_string()
        };
        let entries = sections.entry(section).or_default();
        if entries.iter().any(|(k, _)| *k == key) {
            return Err(invalid(format!("duplicate option `{key}`")));
        }
        entries.push((key, value));
    }
    Ok(sections)
}

/// configparser's BasicInterpolation: `%%` is `%`, `%(name)s` another key of the section (or of
/// DEFAULT).
fn interpolate(
    value: &str,
    section: &[(String, Option<String>)],
    defaults: &[(String, Option<String>)],
    depth: u8,
) -> Result<String, Error> {
    if depth > 10 {
        return Err(invalid("interpolation nested too deeply"));
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('%') {
            out.push('%');
            rest = after;
        } else if let Some(after) = rest.strip_prefix('(')
            && let Some(close) = after.find(")s")
        {
            let name = after[..close].to_lowercase();
            let found = section
                .iter()
                .chain(defaults)
                .find(|(k, _)| *k == name)
                .and_then(|(_, v)| v.clone())
                .ok_or_else(|| invalid(format!("bad interpolation: no option `{name}`")))?;
            out.push_str(&interpolate(&found, section, defaults, depth + 1)?);
            rest = &after[close + 2..];
        } else {
            return Err(invalid(format!(
                "'%' must be followed by '%' or '(', in `{value}`"
            )));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// One term: its key, and its settings over the call's.
fn settings(term: &str, call: &Call) -> Result<(String, Settings), Error> {
    let mut options: BTreeMap<String, String> = call
        .options
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    let mut key = None;
    for word in term.split_whitespace() {
        match word.split_once('=') {
            Some((k, v)) if OPTIONS.contains(&k) => {
                options.insert(k.to_string(), v.to_string());
            }
            Some((k, _)) => return Err(invalid(format!("`{k}` is not a valid option"))),
            None if key.is_none() => key = Some(word.to_string()),
            None => {}
        }
    }
    let key = key.ok_or_else(|| invalid(format!("no key to look up in `{term}`")))?;
    Ok((key, Settings { options }))
}

fn value(key: &str, s: &Settings, scope: &dyn Scope) -> Result<Vec<Value>, Error> {
    let file = s.get("file", "ansible.ini");
    let encoding = s.get("encoding", "utf-8").to_lowercase().replace('_', "-");
    if !matches!(encoding.as_str(), "utf-8" | "utf8" | "ascii") {
        return Err(invalid(format!(
            "encoding `{encoding}`: drover reads UTF-8 only"
        )));
    }
    let path = find_file(scope, Some("files"), &file)
        .ok_or_else(|| invalid(format!("`{file}` not found")))?;
    let mut content = read_limited(&path)?;
    let mut section = s.get("section", "global");
    match s.get("type", "ini").as_str() {
        "ini" => {}
        "properties" => {
            content.insert_str(0, "[java_properties]\n");
            section = "java_properties".into();
        }
        other => return Err(invalid(format!("type `{other}`: ini or properties"))),
    }
    let fold = !s.flag("case_sensitive", false)?;
    let allow = s.flag("allow_no_value", false)? || s.flag("allow_none", false)?;
    let sections = parse(&content, fold, allow)?;
    let entries = sections
        .get(&section)
        .ok_or_else(|| invalid(format!("No section `{section}` in `{file}`")))?;
    let defaults = sections.get("DEFAULT").cloned().unwrap_or_default();
    let interpolating = s.flag("interpolation", true)?;
    let render = |v: &Option<String>| -> Result<Value, Error> {
        match v {
            None => Ok(Value::from(())),
            Some(v) if interpolating => Ok(Value::from(interpolate(v, entries, &defaults, 0)?)),
            Some(v) => Ok(Value::from(v.as_str())),
        }
    };
    if s.flag("re", false)? {
        let re = regex::Regex::new(&format!("^(?:{key})"))
            .map_err(|e| invalid(format!("re `{key}`: {e}")))?;
        return entries
            .iter()
            .chain(
                defaults
                    .iter()
                    .filter(|(k, _)| !entries.iter().any(|(e, _)| e == k)),
            )
            .filter(|(k, _)| re.is_match(k))
            .map(|(_, v)| render(v))
            .collect();
    }
    let wanted = if fold {
        key.to_lowercase()
    } else {
        key.to_string()
    };
    match entries.iter().chain(&defaults).find(|(k, _)| *k == wanted) {
        Some((_, v)) => Ok(vec![render(v)?]),
        None => Ok(vec![Value::from(s.get("default", ""))]),
    }
}

/// A whole INI text as configparser's `sections()` and `get()` read it (keys in lower case, each
/// section with DEFAULT's keys, values interpolated): the shape of Ansible's INI local facts.
pub fn ini_sections(text: &str) -> Result<serde_json::Value, String> {
    let sections = parse(text, true, false).map_err(|e| e.to_string())?;
    let defaults = sections.get("DEFAULT").cloned().unwrap_or_default();
    let mut out = serde_json::Map::new();
    for (name, entries) in sections.iter().filter(|(n, _)| *n != "DEFAULT") {
        let mut section = serde_json::Map::new();
        let inherited = defaults
            .iter()
            .filter(|(k, _)| !entries.iter().any(|(e, _)| e == k));
        for (key, value) in entries.iter().chain(inherited) {
            let value = match value {
                Some(v) => interpolate(v, entries, &defaults, 0).map_err(|e| e.to_string())?,
                None => String::new(),
            };
            section.insert(key.clone(), serde_json::Value::from(value));
        }
        out.insert(name.clone(), serde_json::Value::Object(section));
    }
    Ok(serde_json::Value::Object(out))
}

/// The plugin: each term's value(s).
pub(super) fn lookup(terms: &[Value], call: &Call, scope: &dyn Scope) -> Result<Vec<Value>, Error> {
    call.only("ini", OPTIONS)?;
    let mut out = Vec::new();
    for term in terms {
        let (key, s) = settings(&text(term), call)?;
        out.extend(value(&key, &s, scope)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_configparser_reads_them() {
        let text = "[DEFAULT]\nbase = /srv\n[app]\nName = x\npath: %(base)s/app\nlong = a\n  b\npct = 50%%\n";
        let sections = parse(text, true, false).unwrap();
        let app = &sections["app"];
        assert_eq!(app[0], ("name".into(), Some("x".into())));
        assert_eq!(app[2], ("long".into(), Some("a\nb".into())));
        let defaults = &sections["DEFAULT"];
        assert_eq!(
            interpolate("%(base)s/app", app, defaults, 0).unwrap(),
            "/srv/app"
        );
        assert_eq!(interpolate("50%%", app, defaults, 0).unwrap(), "50%");
        assert!(interpolate("50%", app, defaults, 0).is_err());
        assert!(parse("[a]\nk=1\nk=2\n", true, false).is_err());
        assert!(parse("k=1\n", true, false).is_err());
    }
}
