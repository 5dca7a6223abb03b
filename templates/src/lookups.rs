//! Ansible's lookup plugins, for `lookup()`, `query()`/`q()` and the `with_<name>:` loops.
//!
//! A plugin takes its terms and options and gives a list; `lookup()` then shapes that list as
//! Ansible 2.19 does (one item is that item, several strings are joined with commas), `query()`
//! keeps it. Files are found as Ansible's `find_file_in_search_path` finds them: in the folders of
//! `__drover_search` (the role's, then the playbook's), under `files/` (or the loop's subfolder)
//! first.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};
use serde_json::Value as Json;

use crate::filters::{data_value, to_data};
use crate::{Engine, Vars};

pub(crate) mod ini;
mod password;
mod pipe;
mod sequence;

/// The most items a lookup makes (`with_sequence: end=...`, `with_nested`): a loop that large is a
/// mistake, and each item is a task run.
pub(crate) const MAX_ITEMS: usize = 100_000;

/// Registers `lookup`, `query` and `q` on `env`.
pub fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", lookup);
    env.add_function("query", query);
    env.add_function("q", query);
}

/// Where a lookup finds variables and files: a render's state, or a task's variables (loops).
pub(crate) trait Scope {
    /// A variable's value.
    fn var(&self, name: &str) -> Option<Value>;
    /// Every variable, as data (for `lookup('template')`).
    fn all(&self) -> Vars;
}

impl Scope for State<'_, '_> {
    fn var(&self, name: &str) -> Option<Value> {
        self.lookup(name).filter(|v| !v.is_undefined())
    }

    fn all(&self) -> Vars {
        self.known_variables()
            .iter()
            .filter_map(|name| {
                let value = to_data(&self.var(name)?).ok()?;
                Some((name.to_string(), value))
            })
            .collect()
    }
}

impl Scope for Vars {
    fn var(&self, name: &str) -> Option<Value> {
        self.get(name).map(data_value)
    }

    fn all(&self) -> Vars {
        self.clone()
    }
}

/// How a lookup runs: the caller's options and, for `with_first_found`, the folder to search in.
pub(crate) struct Call<'a> {
    /// Options given as keyword arguments.
    pub options: BTreeMap<String, Value>,
    /// `templates`, `vars` or `files` when first_found runs as a task's loop.
    pub loop_subdir: Option<&'a str>,
}

impl Call<'_> {
    fn option(&self, name: &str) -> Option<&Value> {
        self.options.get(name).filter(|v| !v.is_none())
    }

    fn flag(&self, name: &str) -> Result<Option<bool>, Error> {
        self.option(name).map(truth).transpose()
    }

    /// Refuses options the plugin does not have, rather than ignoring them.
    fn only(&self, plugin: &str, known: &[&str]) -> Result<(), Error> {
        match self.options.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(invalid(format!(
                "lookup('{plugin}') has no option `{k}`{}",
                hint(known)
            ))),
            None => Ok(()),
        }
    }
}

fn hint(known: &[&str]) -> String {
    if known.is_empty() {
        "; it takes none".into()
    } else {
        format!("; it takes {}", known.join(", "))
    }
}

pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// A value as Python's `str` gives it.
fn text(v: &Value) -> String {
    v.as_str().map_or_else(
        || crate::pyrepr::py_str(&to_data(v).unwrap_or(Json::Null)),
        str::to_string,
    )
}

/// An option that is a boolean, as Ansible's option types read one.
fn truth(v: &Value) -> Result<bool, Error> {
    match v.kind() {
        ValueKind::Bool => Ok(v.is_true()),
        _ => match text(v).to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" | "y" | "t" => Ok(true),
            "false" | "no" | "off" | "0" | "n" | "f" | "" => Ok(false),
            other => Err(invalid(format!("`{other}` is not a boolean"))),
        },
    }
}

/// The lookup plugins drover has.
pub const PLUGINS: &[&str] = &[
    "dict",
    "env",
    "file",
    "fileglob",
    "first_found",
    "flattened",
    "indexed_items",
    "ini",
    "items",
    "list",
    "nested",
    "password",
    "pipe",
    "sequence",
    "subelements",
    "template",
    "together",
    "vars",
];

/// The plugins of collections drover has, with the collection they are in (their short names
/// are routed there by ansible-core, as `with_flattened` is).
const COLLECTION_PLUGINS: &[(&str, &str)] = &[("community.general.", "flattened")];

/// The plugin's name without `ansible.builtin.` (or its collection), if drover has it.
pub fn plugin_name(name: &str) -> Option<&str> {
    let short = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    let short = (COLLECTION_PLUGINS.iter())
        .find_map(|(collection, plugin)| short.strip_prefix(collection).filter(|p| p == plugin))
        .unwrap_or(short);
    PLUGINS.contains(&short).then_some(short)
}

/// Runs lookup plugin `name` on `terms`.
pub(crate) fn run(
    name: &str,
    terms: &[Value],
    call: &Call,
    scope: &dyn Scope,
) -> Result<Vec<Value>, Error> {
    let plugin = plugin_name(name).ok_or_else(|| {
        invalid(format!(
            "lookup plugin `{name}` is not supported; drover has {}",
            PLUGINS.join(", ")
        ))
    })?;
    match plugin {
        "env" => env(terms, call),
        "file" => file(terms, call, scope),
        "vars" => vars(terms, call, scope),
        "template" => template(terms, call, scope),
        "fileglob" => {
            call.only(plugin, &[])?;
            fileglob(terms, scope)
        }
        "first_found" => first_found(terms, call, scope),
        "pipe" => {
            call.only(plugin, &[])?;
            terms.iter().map(|t| pipe::run(&text(t), scope)).collect()
        }
        "ini" => ini::lookup(terms, call, scope),
        "password" => password::lookup(terms, call, scope),
        "sequence" => sequence::lookup(terms, call),
        _ => {
            call.only(plugin, &[])?;
            lists(plugin, terms)
        }
    }
}

/// The plugins that arrange lists: items, list, dict, indexed_items, together, nested, flattened,
/// subelements.
fn lists(plugin: &str, terms: &[Value]) -> Result<Vec<Value>, Error> {
    match plugin {
        "items" => Ok(flatten_once(terms)),
        "list" => Ok(terms.to_vec()),
        "dict" => dict(terms),
        "indexed_items" => Ok(flatten_once(terms)
            .into_iter()
            .enumerate()
            .map(|(i, t)| Value::from(vec![Value::from(i), t]))
            .collect()),
        "together" => together(terms),
        "nested" => nested(terms),
        "flattened" => Ok(flattened(terms)),
        _ => subelements(terms),
    }
}

/// community.general's `flattened`: lists within lists spliced in at every depth; the text
/// `None` or `null` ends the list there, as the plugin has it.
fn flattened(terms: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for term in terms {
        match term.kind() {
            ValueKind::Seq => {
                let items: Vec<Value> = term.try_iter().map(Iterator::collect).unwrap_or_default();
                out.extend(flattened(&items));
            }
            _ if matches!(term.as_str(), Some("None" | "null")) => break,
            _ => out.push(term.clone()),
        }
    }
    out
}

/// Lists among `terms` spliced into one list, one level deep.
fn flatten_once(terms: &[Value]) -> Vec<Value> {
    terms
        .iter()
        .flat_map(|t| match t.kind() {
            ValueKind::Seq => t.try_iter().map(Iterator::collect).unwrap_or_default(),
            _ => vec![t.clone()],
        })
        .collect()
}

fn seq(v: &Value, what: &str) -> Result<Vec<Value>, Error> {
    match v.kind() {
        ValueKind::Seq => Ok(v.try_iter()?.collect()),
        _ => Err(invalid(format!("{what} expects lists, not {v}"))),
    }
}

fn dict(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for term in terms {
        if term.kind() != ValueKind::Map {
            return Err(invalid(format!(
                "with_dict expects a dict, not {}",
                term.kind()
            )));
        }
        for key in term.try_iter()? {
            let value = term.get_item(&key)?;
            let mut pair = serde_json::Map::new();
            pair.insert("key".into(), to_data(&key)?);
            pair.insert("value".into(), to_data(&value)?);
            out.push(data_value(&pair));
        }
    }
    Ok(out)
}

/// Python's `zip_longest`: missing places are none.
fn together(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let lists = terms
        .iter()
        .map(|t| seq(t, "together"))
        .collect::<Result<Vec<_>, _>>()?;
    if lists.is_empty() {
        return Err(invalid(
            "with_together requires at least one element in each list",
        ));
    }
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok((0..longest)
        .map(|i| {
            Value::from(
                lists
                    .iter()
                    .map(|l| l.get(i).cloned().unwrap_or(Value::from(())))
                    .collect::<Vec<_>>(),
            )
        })
        .collect())
}

/// Every combination, the first list varying slowest.
fn nested(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let lists = terms
        .iter()
        .map(|t| seq(t, "nested"))
        .collect::<Result<Vec<_>, _>>()?;
    if lists.is_empty() {
        return Err(invalid(
            "with_nested requires at least one element in the nested list",
        ));
    }
    crate::list_filters::combinations(&lists)
}

/// `[list, 'key', {skip_missing: bool}]`: each item with each element of its `key` list, the item
/// without that key.
fn subelements(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let (items, key, flags) = match terms {
        [items, key] => (items, key, None),
        [items, key, flags] => (items, key, Some(flags)),
        _ => {
            return Err(invalid(
                "subelements lookup expects a list of two or three items: a list, a key and optionally {skip_missing: ...}",
            ));
        }
    };
    let skip_missing = match flags {
        Some(f) if f.kind() == ValueKind::Map => {
            for k in f.try_iter()? {
                if k.as_str() != Some("skip_missing") {
                    return Err(invalid(format!(
                        "subelements lookup: the third term takes skip_missing, not `{k}`"
                    )));
                }
            }
            truth(&f.get_attr("skip_missing")?)?
        }
        Some(other) => {
            return Err(invalid(format!(
                "subelements lookup: the third term must be a dict, not {other}"
            )));
        }
        None => false,
    };
    let items = match items.kind() {
        ValueKind::Map => items
            .try_iter()?
            .map(|k| items.get_item(&k))
            .collect::<Result<Vec<_>, _>>()?,
        _ => seq(items, "subelements")?,
    };
    let path = text(key);
    let mut out = Vec::new();
    for item in items {
        let data = to_data(&item)?;
        let Json::Object(mut map) = data else {
            return Err(invalid("subelements lookup expects a list of dicts"));
        };
        // A dotted key walks into nested dicts; the last part is removed from the item.
        let mut parts: Vec<&str> = path.split('.').collect();
        let last = parts.pop().unwrap_or_default();
        let mut holder = Some(&mut map);
        for part in parts {
            holder = match holder.and_then(|h| h.get_mut(part)) {
                Some(Json::Object(inner)) => Some(inner),
                _ => None,
            };
        }
        let sub = holder.and_then(|h| h.remove(last));
        match sub {
            Some(Json::Array(values)) => {
                let item = data_value(&map);
                out.extend(
                    values
                        .iter()
                        .map(|v| Value::from(vec![item.clone(), data_value(v)])),
                );
            }
            Some(other) if !other.is_null() => {
                return Err(invalid(format!(
                    "the key {path} should point to a list, got {other}"
                )));
            }
            _ if skip_missing => {}
            _ => {
                return Err(invalid(format!(
                    "could not find '{path}' key in iterated item {}",
                    crate::pyrepr::py_repr(&Json::Object(map))
                )));
            }
        }
    }
    Ok(out)
}

fn env(terms: &[Value], call: &Call) -> Result<Vec<Value>, Error> {
    call.only("env", &["default"])?;
    Ok(terms
        .iter()
        .map(|t| match std::env::var(text(t)) {
            Ok(v) => Value::from(v),
            Err(_) => call.option("default").cloned().unwrap_or(Value::from("")),
        })
        .collect())
}

fn vars(terms: &[Value], call: &Call, scope: &dyn Scope) -> Result<Vec<Value>, Error> {
    call.only("vars", &["default"])?;
    terms
        .iter()
        .map(|t| {
            let name = t
                .as_str()
                .ok_or_else(|| invalid(format!("lookup('vars') takes names, not {t}")))?;
            scope
                .var(name)
                .or_else(|| call.option("default").cloned())
                .ok_or_else(|| invalid(format!("No variable named `{name}` was found")))
        })
        .collect()
}

/// The folders `__drover_search` names (the role's, then the playbook's), or the current folder.
pub(crate) fn search_dirs(scope: &dyn Scope) -> Vec<PathBuf> {
    match scope.var("__drover_search").and_then(|v| to_data(&v).ok()) {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(PathBuf::from))
            .collect(),
        _ => vec![PathBuf::from(".")],
    }
}

/// Ansible's `find_file_in_search_path`: an absolute name as it is; a relative one in each folder,
/// under `subdir` first (unless the name already starts with it).
pub(crate) fn find_file(scope: &dyn Scope, subdir: Option<&str>, name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    if path.is_absolute() {
        return path.exists().then(|| path.to_path_buf());
    }
    let first = name.split('/').next().unwrap_or_default();
    search_dirs(scope)
        .iter()
        .flat_map(|dir| {
            let under = subdir
                .filter(|s| *s != first)
                .map(|s| dir.join(s).join(name));
            under.into_iter().chain([dir.join(name)])
        })
        .find(|p| p.exists())
}

fn file(terms: &[Value], call: &Call, scope: &dyn Scope) -> Result<Vec<Value>, Error> {
    call.only("file", &["lstrip", "rstrip"])?;
    let lstrip = call.flag("lstrip")?.unwrap_or(false);
    let rstrip = call.flag("rstrip")?.unwrap_or(true);
    terms
        .iter()
        .map(|t| {
            let name = text(t);
            let path = find_file(scope, Some("files"), &name).ok_or_else(|| {
                invalid(format!(
                    "lookup('file'): `{name}` not found (looked in files/ and beside the role and playbook)"
                ))
            })?;
            let content = read_limited(&path)?;
            let content = if lstrip { content.trim_start() } else { &content };
            let content = if rstrip { content.trim_end() } else { content };
            Ok(Value::from(content))
        })
        .collect()
}

/// The most a lookup reads from one file.
const MAX_FILE: u64 = 16 << 20;

pub(crate) fn read_limited(path: &Path) -> Result<String, Error> {
    let size = std::fs::metadata(path)
        .map_err(|e| invalid(format!("{}: {e}", path.display())))?
        .len();
    if size > MAX_FILE {
        return Err(invalid(format!(
            "{}: {size} bytes; a lookup reads at most {MAX_FILE}",
            path.display()
        )));
    }
    std::fs::read_to_string(path).map_err(|e| invalid(format!("{}: {e}", path.display())))
}

thread_local! {
    /// How deep `lookup('template')` calls are nested in this thread (a template that looks
    /// itself up would otherwise recurse without end).
    static TEMPLATE_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Template files found by `lookup('template')` render with the template module's semantics.
static FILE_ENGINE: LazyLock<Engine> = LazyLock::new(Engine::new);

fn template(terms: &[Value], call: &Call, scope: &dyn Scope) -> Result<Vec<Value>, Error> {
    call.only("template", &["template_vars", "convert_data"])?;
    let mut vars = scope.all();
    if let Some(extra) = call.option("template_vars") {
        match to_data(extra)? {
            Json::Object(map) => vars.extend(map),
            _ => return Err(invalid("lookup('template'): template_vars must be a dict")),
        }
    }
    let depth = TEMPLATE_DEPTH.get();
    if depth >= 8 {
        return Err(invalid(
            "lookup('template') nested more than 8 deep (does a template look itself up?)",
        ));
    }
    TEMPLATE_DEPTH.set(depth + 1);
    let out = terms
        .iter()
        .map(|t| {
            let name = text(t);
            let path = find_file(scope, Some("templates"), &name)
                .ok_or_else(|| invalid(format!("lookup('template'): `{name}` not found")))?;
            let source = read_limited(&path)?;
            FILE_ENGINE
                .render_file(&path.display().to_string(), &source, &vars)
                .map(Value::from)
                .map_err(|e| invalid(e.to_string()))
        })
        .collect();
    TEMPLATE_DEPTH.set(depth);
    out
}

/// Whether `name` matches a shell pattern as Python's glob does (a leading dot only by a dot).
fn glob_match(pattern: &globset::GlobMatcher, raw: &str, name: &str) -> bool {
    (!name.starts_with('.') || raw.starts_with('.')) && pattern.is_match(name)
}

fn fileglob(terms: &[Value], scope: &dyn Scope) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for term in terms {
        let term = text(term);
        let (dir, pattern) = match term.rsplit_once('/') {
            Some((dir, pattern)) => (Some(if dir.is_empty() { "/" } else { dir }), pattern),
            None => (None, term.as_str()),
        };
        let folders: Vec<PathBuf> = match dir {
            Some(d) => find_file(scope, Some("files"), d).into_iter().collect(),
            None => search_dirs(scope)
                .iter()
                .flat_map(|d| [d.join("files"), d.clone()])
                .collect(),
        };
        let matcher = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| invalid(format!("fileglob `{term}`: {e}")))?
            .compile_matcher();
        for folder in folders {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            // Directory order, as Python's glob gives it.
            let found: Vec<Value> = entries
                .flatten()
                .filter(|e| glob_match(&matcher, pattern, &e.file_name().to_string_lossy()))
                .filter(|e| e.path().is_file())
                .map(|e| Value::from(e.path().display().to_string()))
                .collect();
            if !found.is_empty() {
                out.extend(found);
                break;
            }
        }
    }
    Ok(out)
}

/// The names first_found tries, from its terms (names, lists, or dicts of files and paths) and
/// options; whether a miss is no error.
fn first_found_names(terms: &[Value], call: &Call) -> Result<(Vec<String>, bool), Error> {
    call.only("first_found", &["files", "paths", "skip"])?;
    let mut skip = call.flag("skip")?.unwrap_or(false);
    let split = |v: &Value| -> Result<Vec<String>, Error> {
        Ok(match v.kind() {
            ValueKind::Seq => v.try_iter()?.map(|x| text(&x)).collect(),
            ValueKind::None | ValueKind::Undefined => Vec::new(),
            // A string lists names separated by commas, semicolons (or colons, for paths).
            _ => text(v)
                .split([',', ';'])
                .map(str::to_string)
                .filter(|s| !s.is_empty())
                .collect(),
        })
    };
    let mut files = Vec::new();
    let mut paths = Vec::new();
    let mut add = |term: &Value, files: &mut Vec<String>, paths: &mut Vec<String>| {
        if term.kind() == ValueKind::Map {
            for k in term.try_iter()? {
                match k.as_str() {
                    Some("files") => files.extend(split(&term.get_item(&k)?)?),
                    Some("paths") => paths.extend(
                        split(&term.get_item(&k)?)?
                            .iter()
                            .flat_map(|p| p.split(':').map(str::to_string))
                            .collect::<Vec<_>>(),
                    ),
                    Some("skip") => skip = truth(&term.get_item(&k)?)?,
                    _ => return Err(invalid(format!("first_found: unknown key `{k}`"))),
                }
            }
        } else if term.kind() == ValueKind::Seq {
            files.extend(term.try_iter()?.map(|x| text(&x)));
        } else {
            files.push(text(term));
        }
        Ok::<_, Error>(())
    };
    for term in terms {
        add(term, &mut files, &mut paths)?;
    }
    if let Some(f) = call.option("files") {
        files.extend(split(f)?);
    }
    if let Some(p) = call.option("paths") {
        paths.extend(split(p)?);
    }
    let names = if paths.is_empty() {
        files
    } else {
        paths
            .iter()
            .flat_map(|p| files.iter().map(move |f| format!("{p}/{f}")))
            .collect()
    };
    Ok((names, skip))
}

fn first_found(terms: &[Value], call: &Call, scope: &dyn Scope) -> Result<Vec<Value>, Error> {
    let (names, skip) = first_found_names(terms, call)?;
    for name in &names {
        if let Some(path) = find_file(scope, call.loop_subdir, name) {
            return Ok(vec![Value::from(path.display().to_string())]);
        }
    }
    if skip {
        return Ok(Vec::new());
    }
    Err(invalid(format!(
        "No file was found when using first_found (tried {})",
        names.join(", ")
    )))
}

/// The keyword arguments of a call, taken out of `kwargs`.
fn options(kwargs: &Kwargs) -> Result<BTreeMap<String, Value>, Error> {
    let mut options = BTreeMap::new();
    for key in kwargs.args() {
        options.insert(key.to_string(), kwargs.get::<Value>(key)?);
    }
    kwargs.assert_all_used()?;
    Ok(options)
}

/// Runs the plugin for `lookup()`/`query()`: `errors=ignore|warn` turn a failure into nothing.
fn invoke(
    state: &State,
    name: &str,
    terms: &[Value],
    options: &mut BTreeMap<String, Value>,
) -> Result<Option<Vec<Value>>, Error> {
    let errors = options
        .remove("errors")
        .map_or_else(|| "strict".to_string(), |v| text(&v));
    if !matches!(errors.as_str(), "strict" | "warn" | "ignore") {
        return Err(invalid(format!(
            "lookup errors= takes strict, warn or ignore, not `{errors}`"
        )));
    }
    let call = Call {
        options: std::mem::take(options),
        loop_subdir: None,
    };
    match run(name, terms, &call, state) {
        Ok(found) => Ok(Some(found)),
        Err(_) if errors != "strict" && plugin_name(name).is_some() => Ok(None),
        Err(e) => Err(invalid(format!("lookup('{name}'): {e}"))),
    }
}

/// `lookup(NAME, TERMS..., wantlist=false, errors=strict, OPTIONS...)`.
fn lookup(state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let mut options = options(&kwargs)?;
    let wantlist = options
        .remove("wantlist")
        .map(|v| truth(&v))
        .transpose()?
        .unwrap_or(false);
    let found = invoke(state, &name, &terms, &mut options)?;
    Ok(match found {
        None if wantlist => Value::from(Vec::<Value>::new()),
        None => Value::from(()),
        Some(list) if wantlist => Value::from(list),
        Some(list) => shape(list),
    })
}

/// `lookup()`'s result without wantlist: one item is that item; several strings are joined with
/// commas; anything else stays a list.
fn shape(mut list: Vec<Value>) -> Value {
    match list.len() {
        0 => Value::from(list),
        1 => list.remove(0),
        _ if list.iter().all(|v| v.kind() == ValueKind::String) => Value::from(
            list.iter()
                .map(|v| v.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => Value::from(list),
    }
}

/// `query(NAME, TERMS...)`, `q(...)`: the plugin's list as it is.
fn query(state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let mut options = options(&kwargs)?;
    options.remove("wantlist");
    let found = invoke(state, &name, &terms, &mut options)?;
    Ok(Value::from(found.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(json: Json) -> Vec<Value> {
        match json {
            Json::Array(items) => items.iter().map(data_value).collect(),
            other => vec![data_value(&other)],
        }
    }

    fn run_json(name: &str, terms: Json) -> Result<Json, Error> {
        let call = Call {
            options: BTreeMap::new(),
            loop_subdir: None,
        };
        let out = run(name, &values(terms), &call, &Vars::new())?;
        to_data(&Value::from(out))
    }

    #[test]
    fn list_plugins_arrange_as_ansible() {
        let json = |s: &str| serde_json::from_str::<Json>(s).unwrap();
        assert_eq!(
            run_json("items", json("[[1,2],3]")).unwrap(),
            json("[1,2,3]")
        );
        assert_eq!(
            run_json("list", json("[[1,2],3]")).unwrap(),
            json("[[1,2],3]")
        );
        assert_eq!(
            run_json("together", json("[[1,2],[\"a\"]]")).unwrap(),
            json("[[1,\"a\"],[2,null]]")
        );
        assert_eq!(
            run_json("nested", json("[[1,2],[\"a\",\"b\"]]")).unwrap(),
            json("[[1,\"a\"],[1,\"b\"],[2,\"a\"],[2,\"b\"]]")
        );
        assert_eq!(
            run_json("dict", json("[{\"a\":1}]")).unwrap(),
            json("[{\"key\":\"a\",\"value\":1}]")
        );
        assert_eq!(
            run_json(
                "subelements",
                json("[[{\"n\":\"u\",\"k\":[1,2]},{\"n\":\"w\"}],\"k\",{\"skip_missing\":true}]")
            )
            .unwrap(),
            json("[[{\"n\":\"u\"},1],[{\"n\":\"u\"},2]]")
        );
        assert!(run_json("subelements", json("[[{\"n\":\"w\"}],\"k\"]")).is_err());
        // As ansible-playbook with community.general 11 gives them (with_, lookup and query).
        assert_eq!(
            run_json(
                "community.general.flattened",
                json("[[1,[2,[3,[4]]]],\"x\",[[\"y\"],\"z\"]]")
            )
            .unwrap(),
            json("[1,2,3,4,\"x\",\"y\",\"z\"]")
        );
        assert_eq!(
            run_json("flattened", json("[[1,[2]],\"None\",3]")).unwrap(),
            json("[1,2]")
        );
        assert_eq!(
            run_json("flattened", json("[1,[2],\"null\",5]")).unwrap(),
            json("[1,2]")
        );
        assert!(plugin_name("community.general.nested").is_none());
    }

    #[test]
    fn lookup_shapes_its_result_as_ansible() {
        assert_eq!(shape(vec![Value::from("a")]), Value::from("a"));
        assert_eq!(
            shape(vec![Value::from("a"), Value::from("b")]),
            Value::from("a,b")
        );
        assert_eq!(
            shape(vec![Value::from(1), Value::from("b")]),
            Value::from(vec![Value::from(1), Value::from("b")])
        );
    }

    #[test]
    fn unknown_plugins_and_options_are_refused_by_name() {
        let e = run_json("nope", Json::Null).unwrap_err();
        assert!(e.to_string().contains("drover has dict, env"), "{e}");
        let call = Call {
            options: [("depth".to_string(), Value::from(1))].into(),
            loop_subdir: None,
        };
        let e = run("items", &[], &call, &Vars::new()).unwrap_err();
        assert!(e.to_string().contains("has no option `depth`"), "{e}");
    }
}
