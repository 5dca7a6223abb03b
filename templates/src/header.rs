//! Whitespace settings, and the `#jinja2:` first line that overrides them per template, as in
//! `#jinja2: trim_blocks: False, lstrip_blocks: True`.

use minijinja::syntax::{SyntaxConfig, SyntaxConfigBuilder};

fn base() -> SyntaxConfigBuilder {
    let mut b = SyntaxConfig::builder();
    b.trim_blocks(true).keep_trailing_newline(true);
    b
}

/// Template files render as Jinja2 does by default, dropping the source's final newline; Ansible
/// then pads the result's trailing newlines up to the source's (see `pad_newlines`).
fn file_base() -> SyntaxConfigBuilder {
    let mut b = SyntaxConfig::builder();
    b.trim_blocks(true).keep_trailing_newline(false);
    b
}

/// Ansible's settings for playbook text: `trim_blocks` on, the final newline kept.
pub fn default_syntax() -> SyntaxConfig {
    base().build().unwrap_or_default()
}

/// Ansible's settings for template files: `trim_blocks` on, Jinja2's trailing-newline rule.
pub fn file_syntax() -> SyntaxConfig {
    file_base().build().unwrap_or_default()
}

/// Ansible's `preserve_trailing_newlines`: when the source ends with more newlines than the
/// rendered text, the text gets as many (ansible-core's `_count_newlines_from_end`).
pub fn pad_newlines(source: &str, mut rendered: String) -> String {
    // Jinja2 drops only the final `\n` of a `\r\n`; minijinja drops both.
    if source.ends_with("\r\n") && !rendered.ends_with(['\n', '\r']) {
        rendered.push('\r');
    }
    let count = |s: &str| s.bytes().rev().take_while(|b| *b == b'\n').count();
    let missing = count(source).saturating_sub(count(&rendered));
    rendered.extend(std::iter::repeat_n('\n', missing));
    rendered
}

/// `source` with the whitespace and delimiter settings a `template` task gives (`trim_blocks`,
/// `lstrip_blocks`, `variable_start_string`, ...), written as a `#jinja2:` header; the template's
/// own header, if it has one, still wins (its settings come after).
pub fn with_task_settings(source: &str, settings: &[(&str, String)]) -> String {
    if settings.is_empty() {
        return source.to_string();
    }
    let given: Vec<String> = settings.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    match source.strip_prefix("#jinja2:") {
        Some(rest) => format!("#jinja2: {},{rest}", given.join(", ")),
        None => format!("#jinja2: {}\n{source}", given.join(", ")),
    }
}

/// Splits off a `#jinja2:` header. Returns its settings (if any), the body, and how many lines the
/// header took (so error lines still match the file).
pub fn split(source: &str) -> Result<(Option<SyntaxConfig>, &str, usize), String> {
    let Some(rest) = source.strip_prefix("#jinja2:") else {
        return Ok((None, source, 0));
    };
    let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
    let mut b = file_base();
    let mut delims: [Option<String>; 4] = Default::default();
    for setting in line.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = setting
            .split_once(':')
            .ok_or_else(|| format!("#jinja2 header: expected `name: value`, found `{setting}`"))?;
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        let flag = || match value.to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(true),
            "false" | "no" => Ok(false),
            _ => Err(format!(
                "#jinja2 header: `{}` expects True or False",
                key.trim()
            )),
        };
        match key.trim() {
            "trim_blocks" => b.trim_blocks(flag()?),
            "lstrip_blocks" => b.lstrip_blocks(flag()?),
            "keep_trailing_newline" => b.keep_trailing_newline(flag()?),
            "variable_start_string" => {
                delims[0] = Some(value.into());
                &mut b
            }
            "variable_end_string" => {
                delims[1] = Some(value.into());
                &mut b
            }
            "block_start_string" => {
                delims[2] = Some(value.into());
                &mut b
            }
            "block_end_string" => {
                delims[3] = Some(value.into());
                &mut b
            }
            "newline_sequence" => &mut b,
            other => return Err(format!("#jinja2 header: unknown setting `{other}`")),
        };
    }
    let [vs, ve, bs, be] = delims;
    if vs.is_some() || ve.is_some() {
        b.variable_delimiters(
            vs.unwrap_or_else(|| "{{".into()),
            ve.unwrap_or_else(|| "}}".into()),
        );
    }
    if bs.is_some() || be.is_some() {
        b.block_delimiters(
            bs.unwrap_or_else(|| "{%".into()),
            be.unwrap_or_else(|| "%}".into()),
        );
    }
    let syntax = b.build().map_err(|e| format!("#jinja2 header: {e}"))?;
    Ok((Some(syntax), body, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tasks_settings_go_beneath_the_templates_own_header() {
        let given = [("trim_blocks", "False".to_string())];
        assert_eq!(
            with_task_settings("x\n", &given),
            "#jinja2: trim_blocks: False\nx\n"
        );
        assert_eq!(
            with_task_settings("#jinja2: trim_blocks: True\nx\n", &given),
            "#jinja2: trim_blocks: False, trim_blocks: True\nx\n"
        );
        assert_eq!(with_task_settings("x", &[]), "x");
    }
}
