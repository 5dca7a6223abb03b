//! The modules drover runs, their parameters, and the check of a task's parameters against them.

use drover_yaml::Node;
use serde_json::Value as Json;

use crate::error::{At, PlaybookError};
use crate::source::{Source, suggest};

/// A module's parameters: which it takes, which it needs, and whether a bare string is allowed.
pub struct Spec {
    /// Short name.
    pub name: &'static str,
    /// Parameters it takes.
    pub params: &'static [&'static str],
    /// Parameters it needs.
    pub required: &'static [&'static str],
    /// Takes a bare string (`command: ls -l`), stored as `_raw_params`.
    pub free_form: bool,
    /// Takes any parameter name (`set_fact`).
    pub any_params: bool,
}

const fn spec(
    name: &'static str,
    params: &'static [&'static str],
    required: &'static [&'static str],
    free_form: bool,
) -> Spec {
    Spec {
        name,
        params,
        required,
        free_form,
        any_params: false,
    }
}

/// Every module drover knows, by short name.
pub const MODULES: &[Spec] = &[
    spec(
        "command",
        &["cmd", "argv", "chdir", "creates", "removes", "stdin"],
        &[],
        true,
    ),
    spec(
        "shell",
        &["cmd", "chdir", "creates", "removes", "stdin", "executable"],
        &[],
        true,
    ),
    spec(
        "copy",
        &["src", "content", "dest", "mode", "owner", "group"],
        &["dest"],
        false,
    ),
    spec(
        "template",
        &["src", "dest", "mode", "owner", "group"],
        &["src", "dest"],
        false,
    ),
    spec(
        "file",
        &[
            "path", "dest", "name", "state", "mode", "owner", "group", "src",
        ],
        &[],
        false,
    ),
    spec(
        "lineinfile",
        &[
            "path",
            "dest",
            "line",
            "regexp",
            "state",
            "insertafter",
            "insertbefore",
            "create",
            "mode",
        ],
        &[],
        false,
    ),
    spec(
        "apt",
        &[
            "name",
            "pkg",
            "package",
            "state",
            "update_cache",
            "upgrade",
            "only_upgrade",
            "cache_valid_time",
            "autoremove",
            "force_apt_get",
        ],
        &[],
        false,
    ),
    spec(
        "service",
        &["name", "state", "enabled", "daemon_reload"],
        &["name"],
        false,
    ),
    spec(
        "systemd",
        &["name", "state", "enabled", "daemon_reload"],
        &[],
        false,
    ),
    spec(
        "docker_compose",
        &["project_src", "pull", "state", "services", "remove_orphans"],
        &["project_src"],
        false,
    ),
    spec(
        "uri",
        &[
            "url",
            "method",
            "status_code",
            "return_content",
            "body",
            "body_format",
            "headers",
            "timeout",
            "validate_certs",
        ],
        &["url"],
        false,
    ),
    spec(
        "wait_for",
        &[
            "port",
            "host",
            "path",
            "state",
            "timeout",
            "delay",
            "search_regex",
        ],
        &[],
        false,
    ),
    spec(
        "wait_for_connection",
        &["timeout", "delay", "stable_for"],
        &[],
        false,
    ),
    spec(
        "reboot",
        &[
            "reboot_timeout",
            "msg",
            "pre_reboot_delay",
            "post_reboot_delay",
            "test_command",
            "reboot_command",
            "stable_for",
        ],
        &[],
        false,
    ),
    spec("pause", &["seconds", "minutes", "prompt"], &[], false),
    spec(
        "assert",
        &["that", "fail_msg", "success_msg", "msg", "quiet"],
        &["that"],
        false,
    ),
    spec("fail", &["msg"], &[], false),
    spec("debug", &["msg", "var", "verbosity"], &[], false),
    Spec {
        name: "set_fact",
        params: &["cacheable"],
        required: &[],
        free_form: false,
        any_params: true,
    },
    spec(
        "fetch",
        &["src", "dest", "flat", "fail_on_missing"],
        &["src", "dest"],
        false,
    ),
    spec("meta", &[], &[], true),
    spec("compose_lint", &["src", "keep"], &["src"], false),
    spec(
        "version_check",
        &["versions", "apt", "pins", "blacklist", "matrix"],
        &[],
        false,
    ),
];

/// Other spellings that name the same modules.
const ALIASES: &[(&str, &str)] = &[
    ("ansible.builtin.systemd_service", "systemd"),
    ("community.docker.docker_compose", "docker_compose"),
    ("community.docker.docker_compose_v2", "docker_compose"),
    ("docker_compose_v2", "docker_compose"),
    ("ansible.posix.reboot", "reboot"),
];

/// The spec for a module name as written in a task, if drover has the module.
pub fn find(name: &str) -> Option<&'static Spec> {
    let short = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map(|(_, short)| *short)
        .or_else(|| name.strip_prefix("ansible.builtin."))
        .unwrap_or(name);
    MODULES.iter().find(|s| s.name == short)
}

/// A task's module call: the module and its parameters, not yet rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    /// Short module name (`template`, not `ansible.builtin.template`).
    pub name: &'static str,
    /// Parameters as written; a bare string is under `_raw_params`.
    pub args: serde_json::Map<String, Json>,
    /// Where the module is named.
    pub at: At,
}

impl Module {
    /// Reads a module call and checks its parameters.
    pub fn parse(
        src: &Source,
        key: &Node,
        value: &Node,
        extra_args: Option<&Node>,
    ) -> Result<Module, PlaybookError> {
        let name = key.key_string();
        let spec = find(&name).ok_or_else(|| PlaybookError::UnknownModule {
            at: src.at(key),
            hint: suggest(&name, &MODULES.iter().map(|s| s.name).collect::<Vec<_>>())
                .map_or_else(String::new, |s| format!("; did you mean `{s}`?")),
            name: name.clone(),
        })?;
        let mut args = serde_json::Map::new();
        match &value.value {
            drover_yaml::Value::Map(entries) => {
                if !spec.any_params {
                    let allowed: Vec<&str> = spec
                        .params
                        .iter()
                        .copied()
                        .chain(spec.free_form.then_some("_raw_params"))
                        .collect();
                    src.check_keys(entries, &allowed, &format!("module `{}`", spec.name))?;
                }
                args = value.to_json().as_object().cloned().unwrap_or_default();
            }
            drover_yaml::Value::Null => {}
            _ if spec.free_form => {
                args.insert(
                    "_raw_params".into(),
                    Json::String(src.string(value, "the command")?),
                );
            }
            _ => args = key_values(src, value, spec)?,
        }
        if let Some(extra) = extra_args {
            let entries = src.map(extra, "args")?;
            if !spec.any_params {
                src.check_keys(entries, spec.params, &format!("module `{}`", spec.name))?;
            }
            for (k, v) in extra.to_json().as_object().into_iter().flatten() {
                args.entry(k.clone()).or_insert(v.clone());
            }
        }
        for required in spec.required {
            if !args.contains_key(*required) {
                return Err(src.invalid(
                    key,
                    format!("module `{}` needs the parameter `{required}`", spec.name),
                ));
            }
        }
        Ok(Module {
            name: spec.name,
            args,
            at: src.at(key),
        })
    }

    /// A string parameter, if present and a string.
    pub fn arg_str(&self, key: &str) -> Option<&str> {
        self.args.get(key).and_then(Json::as_str)
    }
}

/// Ansible's short form `module: key=value key2='value two'`.
fn key_values(
    src: &Source,
    value: &Node,
    spec: &Spec,
) -> Result<serde_json::Map<String, Json>, PlaybookError> {
    let text = src.string(value, "the parameters")?;
    let words = shlex::split(&text)
        .ok_or_else(|| src.invalid(value, "unbalanced quotes in key=value parameters"))?;
    let mut args = serde_json::Map::new();
    for word in words {
        let (k, v) = word.split_once('=').ok_or_else(|| {
            src.invalid(
                value,
                format!(
                    "expected key=value parameters for module `{}`, found `{word}`",
                    spec.name
                ),
            )
        })?;
        if !spec.any_params && !spec.params.contains(&k) {
            return Err(src.invalid(
                value,
                format!(
                    "unknown parameter `{k}` for module `{}`; expected one of: {}",
                    spec.name,
                    spec.params.join(", ")
                ),
            ));
        }
        args.insert(k.to_string(), Json::String(v.to_string()));
    }
    Ok(args)
}
