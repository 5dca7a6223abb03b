//! Template syntax, checked as a playbook is read: a typo in a `{{ }}`, a `when:` or a template file
//! is refused with its file, line and column before any host is touched, not found by the first host
//! that runs the task, in the middle of a rollout. Values are only parsed here, never rendered.

use std::path::Path;
use std::sync::LazyLock;

use drover_templates::Engine;
use drover_yaml::{Node, Value};

use crate::error::PlaybookError;
use crate::source::Source;

/// One engine for every check: building one registers all of Ansible's filters.
static ENGINE: LazyLock<Engine> = LazyLock::new(Engine::new);

/// Checks conditions (`when:`, `changed_when:`, `failed_when:`, `until:`): a bare expression or a
/// list of them.
pub(crate) fn expressions(src: &Source, node: &Node, what: &str) -> Result<(), PlaybookError> {
    match &node.value {
        Value::Seq(items) => items.iter().try_for_each(|n| expressions(src, n, what)),
        Value::Str(expr) => ENGINE
            .check_expression(what, expr)
            .map_err(|e| src.invalid(node, e.to_string())),
        _ => Ok(()),
    }
}

/// Checks every string under `node` that holds a template (module parameters, `loop:`, `vars:`).
pub(crate) fn templates(src: &Source, node: &Node, what: &str) -> Result<(), PlaybookError> {
    match &node.value {
        Value::Seq(items) => items.iter().try_for_each(|n| templates(src, n, what)),
        Value::Map(entries) => entries
            .iter()
            .try_for_each(|(_, v)| templates(src, v, what)),
        Value::Str(text) => ENGINE
            .check_value(what, &serde_json::Value::String(text.clone()))
            .map_err(|e| src.invalid(node, hint(e.to_string()))),
        _ => Ok(()),
    }
}

/// Checks the values a module's `key=value` string at `node` was parsed into.
pub(crate) fn parsed(
    src: &Source,
    node: &Node,
    args: &serde_json::Map<String, serde_json::Value>,
    what: &str,
) -> Result<(), PlaybookError> {
    args.values().try_for_each(|v| {
        ENGINE
            .check_value(what, v)
            .map_err(|e| src.invalid(node, hint(e.to_string())))
    })
}

/// Checks a template file a task names; the error gives the file's own line.
pub(crate) fn template_file(src: &Source, node: &Node, path: &Path) -> Result<(), PlaybookError> {
    let Ok(bytes) = std::fs::read(path) else {
        // Unreadable: the task reports it when it runs, as it does for any file.
        return Ok(());
    };
    ENGINE
        .check_file(
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        )
        .map_err(|e| src.invalid(node, format!("template {e}")))
}

/// Adds how to pass `{{` through to the host, the usual cause of a template that does not parse in
/// a command (`docker ps --format '{{.Names}}'`).
fn hint(message: String) -> String {
    format!(
        "{message} (text meant for the host, such as a docker --format, is tagged !unsafe or goes inside {{% raw %}}...{{% endraw %}})"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(yaml: &str) -> (Source, Node) {
        let (src, doc) = Source::parse(Path::new("pb.yml"), yaml).unwrap();
        (src, doc.unwrap())
    }

    #[test]
    fn a_condition_that_does_not_parse_is_refused_at_its_line() {
        let (src, n) = node("- x is defined\n- y ==\n");
        let err = expressions(&src, &n, "when").unwrap_err().to_string();
        assert!(
            err.starts_with("pb.yml:2:3: when: cannot parse expression `y ==`"),
            "{err}"
        );
    }

    #[test]
    fn a_parameter_that_does_not_parse_is_refused_with_the_raw_hint() {
        let (src, n) = node("cmd: echo {{ a }}\nargv: [\"docker ps --format '{{.Names}}'\"]\n");
        let err = templates(&src, &n, "shell").unwrap_err().to_string();
        assert!(err.starts_with("pb.yml:2:8: shell: syntax error"), "{err}");
        assert!(err.contains("{% raw %}"), "{err}");
    }

    #[test]
    fn good_templates_pass_without_variables() {
        let (src, n) = node(
            "a: \"{{ undefined_here | default('x') }}\"\nb: \"{% if x %}{{ x }}{% endif %}\"\nc: \"{% raw %}{{.Names}}{% endraw %}\"\n",
        );
        templates(&src, &n, "vars").unwrap();
        let (src, n) = node("\"x.rc == 0 and 'a' in x.stdout\"\n");
        expressions(&src, &n, "when").unwrap();
    }
}
