//! Templates as Ansible renders them, with minijinja.
//!
//! `trim_blocks` on, the final newline kept, `#jinja2:` header lines honoured, string literals read
//! verbatim (Ansible 2.19), Ansible's filters and tests, lookups (`lookup()`, `query()`, the `with_<name>` loops) and `omit`. An undefined
//! variable is an error when it is printed or used as a value, naming the template and line; like
//! Ansible, `a.b.c is defined` and `x | default(...)` are safe on undefined chains. (Unlike Ansible, an
//! undefined variable in `{% if %}` or `{% for %}` counts as false or empty.)

/// Registers a filter (or, with `add_test`, a test) under its short name and Ansible's FQCN,
/// `ansible.builtin.NAME`, as roles spell them.
macro_rules! ansible_builtin {
    ($env:expr, $add:ident, $name:expr, $f:expr) => {{
        let f = $f;
        $env.$add($name, f);
        $env.$add(format!("ansible.builtin.{}", $name), f);
    }};
}

mod clock;
pub mod crypt;
pub mod datetime;
mod filters;
mod header;
mod hostvars;
mod includes;
mod ip_filters;
mod jinja_tests;
mod json_query;
mod list_filters;
mod literals;
mod lookups;
mod math_filters;
mod path_filters;
mod pyrandom;
mod pyrepr;
mod pyyaml;
mod regex_py;
mod template_vars;
mod text_filters;

use std::borrow::Cow;
use std::collections::BTreeSet;

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};
use serde_json::Value as Json;

use filters::data_value;
pub use filters::json_dumps;
pub use header::with_task_settings;
pub use hostvars::LiveVars;
pub use lookups::ini::ini_sections;
pub use lookups::{PLUGINS as LOOKUP_PLUGINS, plugin_name as lookup_plugin};
pub use pyrepr::{py_repr, py_str};
pub use regex_py::python_replacement;
pub use template_vars::add_template_vars;

/// The value of `omit`: a module parameter set to it is left out, as in Ansible.
pub const OMIT: &str = "__omit_place_holder__drover__";

/// Variables as plain data.
pub type Vars = serde_json::Map<String, Json>;

/// A template that could not be rendered, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct TemplateError {
    /// The template file, or what the string was (such as `site.yml:12 (task 'x', when)`).
    pub name: String,
    /// The line within the template, when known.
    pub line: Option<usize>,
    /// What went wrong.
    pub message: String,
}

/// Variables whose values are templates that could not be rendered: name, value as written, why.
#[derive(Debug, Default)]
pub struct Unsettled(Vec<(String, Json, String)>);

impl Unsettled {
    /// `e`, with the reason added when it is about one of these variables being undefined.
    pub fn explain(&self, mut e: TemplateError) -> TemplateError {
        if e.message.contains("undefined")
            && let Some((name, raw, why)) = self
                .0
                .iter()
                .find(|(name, _, _)| e.message.contains(&format!("`{name}`")))
        {
            // A `!vault` value no password opens: its own words say which and why.
            let locked = (raw.as_str())
                .filter(|r| r.contains(drover_yaml::LOCKED_VAULT))
                .and_then(|r| Some(&r[r.find("('")? + 2..r.rfind("')")?]));
            match locked {
                Some(vault) => e.message = format!("`{name}` is {vault}"),
                None => e.message.push_str(&format!(
                    "; `{name}` is {raw}, which cannot be rendered: {why}"
                )),
            }
        }
        e
    }
}

/// The template engine, built once and shared.
pub struct Engine {
    /// For playbook text.
    env: Environment<'static>,
    /// For template files.
    file_env: Environment<'static>,
    /// Values every template sees unless its variables say otherwise (`groups`, `hostvars`):
    /// converted once, rather than with every task's variables.
    globals: Vec<(String, Value)>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// The work one render may do, in minijinja's fuel: an instruction is one, and every 64 bytes a
/// render produces or a filter reads is another. `indent(10**10)`, `'%999999999d' | format(1)` or a
/// chain of `replace` would otherwise ask for gigabytes; large allocations are checked against the
/// fuel left before they are made. Real templates use a small fraction of it (a 2,000-host
/// `hostvars | to_json` costs about a million).
pub const MAX_FUEL: u64 = 4_000_000;

/// What went wrong in a render, in words: minijinja's detail, or its kind; running out of fuel
/// says what that means here.
fn describe(e: &Error) -> String {
    if e.kind() == ErrorKind::OutOfFuel {
        return format!(
            "the template needs more work or output than drover allows one template ({MAX_FUEL} fuel: instructions, and 64 bytes each of what it produces and reads)"
        );
    }
    e.detail()
        .map_or_else(|| e.kind().to_string(), str::to_string)
}

/// Python's methods on values, as Ansible's templates call them: minijinja's pycompat ones, and
/// the list methods it lacks (`index`, `count`).
fn python_methods(
    state: &mut minijinja::State,
    value: &minijinja::Value,
    method: &str,
    args: &[minijinja::Value],
) -> Result<minijinja::Value, minijinja::Error> {
    use minijinja::{Error, ErrorKind, Value, value::ValueKind};
    if value.kind() == ValueKind::Seq && matches!(method, "index" | "count") {
        let [wanted] = args else {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("list.{method}() takes exactly one argument"),
            ));
        };
        let mut items = value.try_iter()?;
        return if method == "count" {
            Ok(Value::from(items.filter(|i| i == wanted).count()))
        } else {
            items
                .position(|i| &i == wanted)
                .map(Value::from)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("{wanted} is not in list"),
                    )
                })
        };
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

/// The filters and tests given undefined arguments, as Ansible's `accept_args_markers` plugins are.
const UNDEFINED_TAKERS: &[&str] = &[
    "default",
    "d",
    "mandatory",
    "ternary",
    "defined",
    "undefined",
    "vault_encrypted",
];

/// An environment with Ansible's settings, filters, tests and functions.
fn environment(syntax: minijinja::syntax::SyntaxConfig) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(MAX_FUEL));
    env.set_syntax(syntax);
    // As ansible-core 2.19: an undefined value fails wherever it is used (printed, tested for truth,
    // compared, iterated, given to a filter or test) except by the filters and tests that are for
    // it, and looking up an attribute of it gives another undefined (`a.b is defined`).
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_undefined_takers(
        UNDEFINED_TAKERS
            .iter()
            .flat_map(|name| [name.to_string(), format!("ansible.builtin.{name}")]),
    );
    env.set_formatter(python_formatter);
    // Ansible templates call Python methods: dict.items(), str.split(), list.append() ...
    env.set_unknown_method_callback(python_methods);
    env.add_global("omit", OMIT);
    // A `!vault` value no given password opens fails where it is used, saying so.
    env.add_function(
        drover_yaml::LOCKED_VAULT,
        |why: String| -> Result<Value, Error> { Err(Error::new(ErrorKind::InvalidOperation, why)) },
    );
    lookups::register(&mut env);
    filters::register(&mut env);
    text_filters::register(&mut env);
    list_filters::register(&mut env);
    json_query::register(&mut env);
    ip_filters::register(&mut env);
    math_filters::register(&mut env);
    path_filters::register(&mut env);
    clock::register(&mut env);
    jinja_tests::register(&mut env);
    env
}

/// Prints values as Ansible does (Python's `str`), and refuses to print an undefined value.
/// The temp the formatter sets once a `{{ }}` has printed, empty or not.
const PRINTED: &str = "drover.printed";

fn python_formatter(
    out: &mut minijinja::Output,
    state: &mut State,
    value: &Value,
) -> Result<(), Error> {
    state.set_temp(PRINTED, Value::from(true));
    if value.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "undefined variable"));
    }
    let text = match value.kind() {
        // Ansible 2.19 prints a lone none as nothing (inside a list it is still `None`).
        ValueKind::None => String::new(),
        ValueKind::Bool | ValueKind::Seq | ValueKind::Map | ValueKind::Number => {
            py_str(&filters::to_data(value)?)
        }
        _ => return minijinja::escape_formatter(out, state, value),
    };
    out.write_str(&text)
        .map_err(|_| Error::new(ErrorKind::WriteFailure, "write failed"))
}

impl Engine {
    /// The engine with Ansible's defaults.
    pub fn new() -> Engine {
        Engine {
            env: environment(header::default_syntax()),
            file_env: environment(header::file_syntax()),
            globals: Vec::new(),
        }
    }

    /// Makes `name` a variable of every template (task variables of that name win).
    pub fn add_global(&mut self, name: &str, value: &Json) {
        self.add_global_value(name, data_value(value));
    }

    /// Adds `hostvars` and `groups`: each host's inventory variables (host name to variables) and
    /// each group's hosts, kept in `live` with what hosts set during the run, read at each lookup
    /// (so a host `add_host` makes, or a group `group_by` fills, is seen at once).
    pub fn add_inventory(&mut self, hostvars: &Json, groups: &Json, live: LiveVars) {
        live.set_inventory(hostvars, groups);
        let object = hostvars::HostVars(live.clone());
        self.add_global_value("hostvars", Value::from_object(object));
        self.add_global_value("groups", Value::from_object(hostvars::Groups(live)));
    }

    fn add_global_value(&mut self, name: &str, value: Value) {
        self.env.add_global(name.to_string(), value.clone());
        self.file_env.add_global(name.to_string(), value.clone());
        self.globals.push((name.to_string(), value));
    }

    /// Renders a template file's text, as the `template` module does.
    pub fn render_file(
        &self,
        name: &str,
        source: &str,
        vars: &Vars,
    ) -> Result<String, TemplateError> {
        let (mut env, body, header_lines) = self.file(name, source)?;
        if includes::uses_others(&body) {
            // `{% include %}`, `{% import %}` and `{% extends %}` find their templates beside this
            // one, as the template module's search path does.
            let dir = std::path::Path::new(name)
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default();
            env.to_mut().set_loader(includes::loader(dir));
        }
        let captured = env
            .template_from_named_str(name, &body)
            .and_then(|t| t.render_captured(data_value(vars)))
            .map_err(|e| self.error(name, &body, vars, e, header_lines))?;
        let out = captured.output().to_string();
        // A template that printed nothing at all (no text, no `{{ }}`: a false `{% if %}` around
        // the whole file) is Python's None in Ansible 2.19, written as an empty file with no
        // newlines padded back; one whose expressions printed "" is padded as usual.
        if out.is_empty() && captured.state().get_temp(PRINTED).is_none() {
            return Ok(out);
        }
        // A file that is one expression with a value other than text is that value as Python
        // prints it, its newlines not padded back (Ansible 2.19's native result: `{{ 42 }}\n`
        // gives `42`).
        if native_value(&env, &body, vars) {
            return Ok(out);
        }
        Ok(header::pad_newlines(source, out))
    }

    /// Renders a value from a playbook: strings are templates, lists and mappings are walked. A string
    /// that is one `{{ expression }}` keeps the expression's type, as Ansible's native types do.
    pub fn render_value(
        &self,
        name: &str,
        value: &Json,
        vars: &Vars,
    ) -> Result<Json, TemplateError> {
        match value {
            Json::String(s) => match reading(s) {
                Reading::Text => Ok(value.clone()),
                Reading::Expression(expr) => self.eval(name, expr, vars),
                Reading::Template => self.render_str(name, s, vars).map(Json::String),
            },
            Json::Array(items) => items
                .iter()
                .map(|i| self.render_value(name, i, vars))
                .collect::<Result<_, _>>()
                .map(Json::Array),
            Json::Object(map) => map
                .iter()
                .map(|(k, v)| Ok((k.clone(), self.render_value(name, v, vars)?)))
                .collect::<Result<_, _>>()
                .map(Json::Object),
            other => Ok(other.clone()),
        }
    }

    /// The items of a `with_<plugin>:` loop, as Ansible's task executor makes them: the terms are
    /// rendered, a lone value becomes a list of one, and the lookup plugin runs on them. `action` is
    /// the task's module: with_first_found searches `templates/`, `vars/` or `files/` after it.
    pub fn loop_items(
        &self,
        name: &str,
        plugin: &str,
        terms: &Json,
        action: &str,
        vars: &Vars,
    ) -> Result<Vec<Json>, TemplateError> {
        let fail = |message: String| TemplateError {
            name: name.to_string(),
            line: None,
            message,
        };
        let terms = match self.render_value(name, terms, vars)? {
            Json::Array(items) => items,
            one => vec![one],
        };
        let subdir = ["template", "var", "file"]
            .into_iter()
            .find(|s| action.contains(s))
            .map_or("files", |s| match s {
                "template" => "templates",
                "var" => "vars",
                _ => "files",
            });
        let call = lookups::Call {
            options: std::collections::BTreeMap::new(),
            loop_subdir: Some(subdir),
        };
        let terms: Vec<Value> = terms.iter().map(data_value).collect();
        let items = lookups::run(plugin, &terms, &call, vars)
            .map_err(|e| fail(format!("with_{plugin}: {}", describe(&e))))?;
        items
            .iter()
            .map(|v| filters::to_data(v).map_err(|e| fail(e.to_string())))
            .collect()
    }

    /// Renders variables whose values are templates themselves (`conf: "{{ home }}/app.conf"`), as
    /// Ansible does when they are used: each once, after the variables it names (a chain resolves in
    /// order), and what one renders to is never rendered again (`{% raw %}{{.Names}}{% endraw %}`
    /// stays `{{.Names}}`). A value that cannot render yet (it needs a variable registered later)
    /// is left as written. The variables rendered, and those named in [`RENDERED`] beforehand
    /// (values that are data, such as registered results), are listed there afterwards.
    pub fn resolve_vars(&self, vars: &mut Vars) {
        self.resolve_pending(vars);
    }

    /// [`Engine::resolve_vars`]; returns the variables still waiting to render.
    fn resolve_pending(&self, vars: &mut Vars) -> Vec<String> {
        let mut done: BTreeSet<String> = match vars.get(RENDERED) {
            Some(Json::Array(keys)) => keys
                .iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect(),
            _ => BTreeSet::new(),
        };
        let mut pending: Vec<(String, BTreeSet<String>)> = vars
            .iter()
            .filter(|(k, v)| !done.contains(*k) && k.as_str() != RENDERED && has_template(v))
            .map(|(k, v)| (k.clone(), self.names_used(v)))
            .collect();
        loop {
            let waiting: BTreeSet<String> = pending.iter().map(|(k, _)| k.clone()).collect();
            let before = pending.len();
            pending.retain(|(key, uses)| {
                if uses.iter().any(|u| u != key && waiting.contains(u)) {
                    return true;
                }
                match self.render_value(key, &vars[key], vars) {
                    Ok(value) => {
                        vars.insert(key.clone(), value);
                        done.insert(key.clone());
                        false
                    }
                    Err(_) => true,
                }
            });
            if pending.len() == before {
                break;
            }
        }
        vars.insert(RENDERED.into(), Json::from_iter(done));
        pending.into_iter().map(|(k, _)| k).collect()
    }

    /// The top-level variable names a value's templates use.
    fn names_used(&self, value: &Json) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let mut add = |s: &str| {
            let body = literals::verbatim_literals(s);
            if let Ok(t) = self.env.template_from_str(&body) {
                names.extend(t.undeclared_variables(false));
            }
        };
        fn walk(v: &Json, add: &mut dyn FnMut(&str)) {
            match v {
                Json::String(s) => add(s),
                Json::Array(items) => items.iter().for_each(|i| walk(i, add)),
                Json::Object(map) => map.values().for_each(|i| walk(i, add)),
                _ => {}
            }
        }
        walk(value, &mut add);
        names
    }

    /// Like [`Engine::resolve_vars`], for the moment a task runs (its loop item set): a variable
    /// whose template still cannot render is taken out, so that using it fails as Ansible fails
    /// (rather than printing the template as text), and [`Unsettled::explain`] says why.
    pub fn settle_vars(&self, vars: &mut Vars) -> Unsettled {
        let failing = self.resolve_pending(vars);
        let mut unsettled = Unsettled::default();
        for name in &failing {
            // Its own error, or (it waited on one that failed) the names it waits on.
            let why = match self.render_value(name, &vars[name], vars) {
                Err(e) => e.message,
                Ok(_) => {
                    let uses = self.names_used(&vars[name]);
                    let waits: Vec<String> = failing
                        .iter()
                        .filter(|f| *f != name && uses.contains(*f))
                        .map(|f| format!("`{f}`"))
                        .collect();
                    format!("it uses {}, which cannot be rendered", waits.join(", "))
                }
            };
            unsettled.0.push((name.clone(), Json::Null, why));
        }
        for (name, raw, _) in &mut unsettled.0 {
            *raw = vars.remove(name.as_str()).unwrap_or_default();
        }
        unsettled
    }

    /// Renders a string template from a playbook. `name` already says where the string is, so the
    /// error carries no line of its own.
    pub fn render_str(
        &self,
        name: &str,
        source: &str,
        vars: &Vars,
    ) -> Result<String, TemplateError> {
        let body = literals::verbatim_literals(source);
        self.env
            .render_named_str(name, &body, data_value(vars))
            .map_err(|e| TemplateError {
                line: None,
                ..self.error(name, &body, vars, e, 0)
            })
    }

    /// Checks the syntax of a value from a playbook without rendering it, as [`Engine::render_value`]
    /// would read it: so that a typo in a template is found before any host is touched.
    pub fn check_value(&self, name: &str, value: &Json) -> Result<(), TemplateError> {
        match value {
            Json::String(s) => match reading(s) {
                Reading::Text => Ok(()),
                Reading::Expression(expr) => self.compile(name, expr).map(drop),
                Reading::Template => {
                    let body = literals::verbatim_literals(s);
                    self.env
                        .template_from_named_str(name, &body)
                        .map(drop)
                        .map_err(|e| syntax_error(name, &e, None))
                }
            },
            Json::Array(items) => items.iter().try_for_each(|i| self.check_value(name, i)),
            Json::Object(map) => map.values().try_for_each(|v| self.check_value(name, v)),
            _ => Ok(()),
        }
    }

    /// Checks the syntax of an expression (`when:`) without evaluating it.
    pub fn check_expression(&self, name: &str, expr: &str) -> Result<(), TemplateError> {
        self.compile(name, expr).map(drop)
    }

    /// Checks the syntax of a template file's text without rendering it, errors with their line.
    pub fn check_file(&self, name: &str, source: &str) -> Result<(), TemplateError> {
        let (env, body, header_lines) = self.file(name, source)?;
        env.template_from_named_str(name, &body)
            .map(drop)
            .map_err(|e| syntax_error(name, &e, Some(header_lines)))
    }

    /// Evaluates an expression (as in `when:`) to plain data. Undefined is an error.
    pub fn eval(&self, name: &str, expr: &str, vars: &Vars) -> Result<Json, TemplateError> {
        let compiled = self.compile(name, expr)?;
        let value = compiled.eval(data_value(vars)).map_err(|e| TemplateError {
            name: name.to_string(),
            line: None,
            message: format!("in `{expr}`: {}", describe(&e)),
        })?;
        if value.is_undefined() {
            let missing = missing_names(compiled.undeclared_variables(true), vars);
            return Err(TemplateError {
                name: name.to_string(),
                line: None,
                message: format!("`{expr}` is undefined{}", describe_missing(&missing)),
            });
        }
        filters::to_data(&value).map_err(|e| TemplateError {
            name: name.to_string(),
            line: None,
            message: e.to_string(),
        })
    }

    /// Evaluates a condition (`when:`, `failed_when:`, `until:`) with Jinja truthiness.
    pub fn eval_bool(&self, name: &str, expr: &str, vars: &Vars) -> Result<bool, TemplateError> {
        Ok(match self.eval(name, expr, vars)? {
            Json::Null => false,
            Json::Bool(b) => b,
            Json::Number(n) => n.as_f64() != Some(0.0),
            Json::String(s) => !s.is_empty(),
            Json::Array(a) => !a.is_empty(),
            Json::Object(m) => !m.is_empty(),
        })
    }

    /// A template file's environment (its own when a `#jinja2:` header changes the syntax), its body
    /// with string literals read as Python reads them, and the number of header lines before the body.
    fn file(
        &self,
        name: &str,
        source: &str,
    ) -> Result<(Cow<'_, Environment<'static>>, String, usize), TemplateError> {
        let (syntax, body, header_lines) =
            header::split(source).map_err(|message| TemplateError {
                name: name.to_string(),
                line: Some(1),
                message,
            })?;
        let env = match syntax {
            Some(s) => {
                let mut env = environment(s);
                for (name, value) in &self.globals {
                    env.add_global(name.clone(), value.clone());
                }
                Cow::Owned(env)
            }
            None => Cow::Borrowed(&self.file_env),
        };
        let body = literals::keep_newline_after_raw(body);
        Ok((env, literals::python_literals(&body), header_lines))
    }

    /// Compiles an expression with its string literals read verbatim, as Ansible does.
    fn compile(
        &self,
        name: &str,
        expr: &str,
    ) -> Result<minijinja::Expression<'_, 'static>, TemplateError> {
        let expr_src = literals::verbatim_literals(&format!("{{{{ {expr} }}}}"));
        let inner = expr_src
            .trim_start_matches("{{ ")
            .trim_end_matches(" }}")
            .to_string();
        self.env
            .compile_expression_owned(inner)
            .map_err(|e| TemplateError {
                name: name.to_string(),
                line: None,
                message: format!(
                    "cannot parse expression `{expr}`: {}",
                    e.detail().unwrap_or("syntax error")
                ),
            })
    }

    fn error(
        &self,
        name: &str,
        body: &str,
        vars: &Vars,
        e: Error,
        header_lines: usize,
    ) -> TemplateError {
        let line = e.line().map(|l| l + header_lines);
        let mut message = describe(&e);
        if e.kind() == ErrorKind::UndefinedError {
            let mut missing = self
                .env
                .template_from_str(body)
                .map(|t| {
                    let mut undeclared = t.undeclared_variables(true);
                    undeclared.retain(|n| {
                        let first = n.split('.').next().unwrap_or_default();
                        !self.globals.iter().any(|(g, _)| g == first)
                    });
                    missing_names(undeclared, vars)
                })
                .unwrap_or_default();
            let line_text = e.line().and_then(|l| body.lines().nth(l - 1));
            // Name only the variables on the failing line, when that can be told.
            if let Some(text) = line_text {
                let on_line: BTreeSet<String> = missing
                    .iter()
                    .filter(|m| text.contains(m.as_str()))
                    .cloned()
                    .collect();
                if !on_line.is_empty() {
                    missing = on_line;
                }
            }
            message = format!("undefined variable{}", describe_missing(&missing));
            if let Some(text) = line_text {
                message.push_str(&format!(" in `{}`", text.trim()));
            }
        }
        TemplateError {
            name: name.to_string(),
            line,
            message,
        }
    }
}

/// A template that does not parse; `header_lines` is given for files (their lines are counted).
fn syntax_error(name: &str, e: &Error, header_lines: Option<usize>) -> TemplateError {
    TemplateError {
        name: name.to_string(),
        line: header_lines.and_then(|h| e.line().map(|l| l + h)),
        message: format!("syntax error: {}", describe(e)),
    }
}

/// The undeclared names (`a`, `a.b`) whose first part the variables lack.
fn missing_names(undeclared: std::collections::HashSet<String>, vars: &Vars) -> BTreeSet<String> {
    undeclared
        .into_iter()
        .filter(|n| {
            let mut parts = n.split('.');
            let Some(first) = parts.next() else {
                return false;
            };
            let mut cur = match vars.get(first) {
                Some(v) => v,
                None => {
                    return !matches!(
                        first,
                        "omit"
                            | "lookup"
                            | "loop"
                            | "range"
                            | "namespace"
                            | "dict"
                            | "true"
                            | "false"
                            | "none"
                    );
                }
            };
            for p in parts {
                match cur.get(p) {
                    Some(v) => cur = v,
                    None => return true,
                }
            }
            false
        })
        .collect()
}

fn describe_missing(missing: &BTreeSet<String>) -> String {
    if missing.is_empty() {
        String::new()
    } else {
        format!(
            " ({})",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Renders `src` with no variables: the unit tests' helper.
#[cfg(test)]
pub(crate) fn test_render(src: &str) -> String {
    Engine::new()
        .render_str("t", src, &Default::default())
        .unwrap()
}

/// The variable listing which variables hold final values (rendered, or data such as registered
/// results): [`Engine::resolve_vars`] never renders those again.
pub const RENDERED: &str = "__drover_rendered";

/// Whether a value holds a template anywhere.
fn has_template(v: &Json) -> bool {
    match v {
        Json::String(s) => !matches!(reading(s), Reading::Text),
        Json::Array(items) => items.iter().any(has_template),
        Json::Object(map) => map.values().any(has_template),
        _ => false,
    }
}

/// How a string from a playbook is read, by rendering and by the syntax check alike.
enum Reading<'a> {
    /// Plain text: no template in it.
    Text,
    /// Exactly one `{{ ... }}`: evaluated, keeping the expression's type.
    Expression(&'a str),
    /// A template rendered to a string.
    Template,
}

fn reading(s: &str) -> Reading<'_> {
    if !s.contains("{{") && !s.contains("{%") {
        Reading::Text
    } else if let Some(expr) = single_expression(s) {
        Reading::Expression(expr)
    } else {
        Reading::Template
    }
}

/// Whether a template file's body (its one final newline aside) is exactly one expression whose
/// value is not text.
fn native_value(env: &Environment<'_>, body: &str, vars: &Vars) -> bool {
    let one = body.strip_suffix('\n').unwrap_or(body);
    let one = one.strip_suffix('\r').unwrap_or(one);
    let Some(inner) = one.strip_prefix("{{").and_then(|o| o.strip_suffix("}}")) else {
        return false;
    };
    // `{{ a }} and {{ b }}` leaves `a }} and {{ b`, which does not compile: one expression only.
    let inner = inner.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
    env.compile_expression(inner)
        .ok()
        .and_then(|e| e.eval(data_value(vars)).ok())
        .is_some_and(|v| !matches!(v.kind(), ValueKind::String | ValueKind::Undefined))
}

/// The expression of a string that is exactly one `{{ ... }}`.
fn single_expression(s: &str) -> Option<&str> {
    let t = s.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}") && !t.contains("{%")).then(|| inner.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Json) -> Vars {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn output_is_bounded_before_it_is_allocated() {
        let e = Engine::new();
        let no_vars = Vars::new();
        for blow_up in [
            "{{ 'x' | indent(10**10) }}",
            "{{ '%999999999d' | format(1) }}",
            "{{ 'x' | replace('x', 'y' * 100000) | replace('y', 'z' * 100000) }}",
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        ] {
            let err = e.render_file("t.j2", blow_up, &no_vars).unwrap_err();
            assert!(
                err.message
                    .contains("more work or output than drover allows"),
                "{blow_up}: {err}"
            );
        }
        // Ordinary large work is well within it.
        let many = e
            .render_file(
                "t.j2",
                "{% for i in range(20000) %}{{ i }} {{ 'x' | indent(8) }}\n{% endfor %}",
                &no_vars,
            )
            .unwrap();
        assert_eq!(many.lines().count(), 20000);
    }

    #[test]
    fn syntax_is_checked_without_variables_and_errors_keep_the_file_line() {
        let e = Engine::new();
        e.check_file(
            "ok.j2",
            "{{ never_defined }}\n{% for x in y %}{{ x }}{% endfor %}\n",
        )
        .unwrap();
        let err = e
            .check_file("h.j2", "#jinja2: trim_blocks: False\nline\n{{ x }\n")
            .unwrap_err();
        assert_eq!(err.name, "h.j2");
        assert_eq!(err.line, Some(3), "{err}");
        // Another syntax from a header is the one checked.
        e.check_file(
            "v.j2",
            "#jinja2: variable_start_string: '[%', variable_end_string: '%]'\n[% x %] {{.Names}}\n",
        )
        .unwrap();
        assert!(e.check_expression("when", "a and").is_err());
        e.check_value("v", &json!({"k": ["{{ a | default('b') }}", 3]}))
            .unwrap();
    }

    #[test]
    fn a_raw_block_renders_to_its_text_as_written() {
        // What the YAML reader makes of Ansible's `!unsafe`.
        let text = "{% raw %}docker ps --format '{{.Names}}' \"{{ x }}\" {# c #}{% endraw %}";
        assert_eq!(
            Engine::new()
                .render_value("shell", &json!(text), &Vars::new())
                .unwrap(),
            json!("docker ps --format '{{.Names}}' \"{{ x }}\" {# c #}")
        );
    }

    #[test]
    fn undefined_variables_name_template_line_and_variable() {
        let e = Engine::new();
        let err = e
            .render_file(
                "roles/web/templates/site.conf.j2",
                "server {\n  listen {{ port }};\n  root {{ docroot.path }};\n}\n",
                &vars(json!({"port": 80})),
            )
            .unwrap_err();
        assert_eq!(err.name, "roles/web/templates/site.conf.j2");
        assert_eq!(err.line, Some(3));
        assert_eq!(
            err.message,
            "undefined variable (`docroot.path`) in `root {{ docroot.path }};`"
        );
    }

    #[test]
    fn a_lone_expression_keeps_its_type() {
        let e = Engine::new();
        let v = vars(json!({"ports": [80, 443], "n": 2}));
        assert_eq!(
            e.render_value("t", &json!("{{ ports }}"), &v).unwrap(),
            json!([80, 443])
        );
        assert_eq!(
            e.render_value("t", &json!("{{ n + 1 }}"), &v).unwrap(),
            json!(3)
        );
        assert_eq!(
            e.render_value("t", &json!("port {{ n }}"), &v).unwrap(),
            json!("port 2")
        );
        assert_eq!(
            e.render_value("t", &json!({"a": ["{{ n }}"]}), &v).unwrap(),
            json!({"a": [2]})
        );
    }

    #[test]
    fn variables_that_are_templates_resolve_in_chains() {
        let e = Engine::new();
        let mut v = vars(
            json!({"home": "/srv", "dir": "{{ home }}/app", "conf": "{{ dir }}/app.conf", "later": "{{ not_yet }}"}),
        );
        e.resolve_vars(&mut v);
        assert_eq!(v["conf"], "/srv/app/app.conf");
        assert_eq!(v["later"], "{{ not_yet }}");
        // When the task runs, a variable that still cannot render is an error where it is used.
        let unsettled = e.settle_vars(&mut v);
        assert!(!v.contains_key("later"));
        let err = e.render_str("t", "x={{ later }}", &v).unwrap_err();
        let err = unsettled.explain(err).to_string();
        assert!(
            err.contains("undefined variable (`later`)")
                && err.contains(
                    "`later` is \"{{ not_yet }}\", which cannot be rendered: `not_yet` is undefined"
                ),
            "{err}"
        );
    }

    #[test]
    fn conditions_and_undefined_chains() {
        let e = Engine::new();
        let v = vars(json!({"cfg": {"live_restore": true}}));
        assert!(e.eval_bool("when", "cfg.live_restore", &v).unwrap());
        assert!(
            !e.eval_bool("when", "docker.config.x is defined", &v)
                .unwrap()
        );
        let err = e.eval_bool("when", "docker_enabled", &v).unwrap_err();
        assert_eq!(
            err.message,
            "`docker_enabled` is undefined (`docker_enabled`)"
        );
    }

    #[test]
    fn jinja2_header_changes_whitespace_and_keeps_line_numbers() {
        let e = Engine::new();
        let src = "#jinja2: trim_blocks: False\n{% if true %}\nx\n{% endif %}\n{{ nope }}\n";
        let err = e.render_file("h.j2", src, &Vars::new()).unwrap_err();
        assert_eq!(err.line, Some(5));
        let out = e
            .render_file(
                "h.j2",
                "#jinja2: trim_blocks: False\n{% if true %}\nx\n{% endif %}\n",
                &Vars::new(),
            )
            .unwrap();
        // Jinja2 drops the source's final newline; Ansible pads back only up to the source's count
        // (checked against ansible-core in tests/fixtures).
        assert_eq!(out, "\nx\n");
        assert_eq!(
            e.render_file("d.j2", "{% if true %}\nx\n{% endif %}\n", &Vars::new())
                .unwrap(),
            "x\n"
        );
    }
}
