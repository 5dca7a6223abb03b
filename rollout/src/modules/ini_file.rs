//! ini_file: an option in a section of an INI file set, added or removed, as a pure edit of the
//! file's text that follows community.general's module step for step (a commented-out option is
//! reused, other occurrences go with `exclusive`, a new option goes after the section's last
//! setting, a missing section is added at the end). The file is read and written as `lineinfile`
//! does, with `backup`, `mode`, `owner` and `group`.

use regex::Regex;

use super::files::{FileTarget, Remote, ensure_content, read_state};
use super::{Args, ModuleCtx, Outcome, json_words};

/// The module's stand-in section for options outside any section.
const FAKE: &str = "ad01e11446efb704fcdbdb21f2c43757423d91c5";

/// What the task asks.
#[derive(Debug, Clone, Default)]
pub struct IniSpec {
    pub section: Option<String>,
    pub option: Option<String>,
    pub values: Vec<String>,
    pub absent: bool,
    pub exclusive: bool,
    pub no_extra_spaces: bool,
    pub allow_no_value: bool,
}

impl IniSpec {
    pub fn from_args(args: &Args) -> Result<IniSpec, String> {
        let absent = match args.str("state").as_deref().unwrap_or("present") {
            "present" => false,
            "absent" => true,
            other => {
                return Err(format!(
                    "ini_file: `state: {other}` is not present or absent"
                ));
            }
        };
        let mut values: Vec<String> = match (args.str("value"), args.0.get("values")) {
            (Some(_), Some(v)) if !v.is_null() => {
                return Err("ini_file: give `value` or `values`, not both".into());
            }
            (Some(v), _) => vec![v],
            (None, Some(v)) => json_words(v),
            (None, _) => Vec::new(),
        };
        let mut unique = Vec::new();
        values.retain(|v| {
            let new = !unique.contains(v);
            unique.push(v.clone());
            new
        });
        let allow_no_value = args.bool("allow_no_value").unwrap_or(false);
        if !absent && !allow_no_value && values.is_empty() {
            return Err(
                "Parameter 'value(s)' must be defined if state=present and allow_no_value=False."
                    .into(),
            );
        }
        Ok(IniSpec {
            section: args.str("section"),
            option: args.str("option"),
            values,
            absent,
            exclusive: args.bool("exclusive").unwrap_or(true),
            no_extra_spaces: args.bool("no_extra_spaces").unwrap_or(false),
            allow_no_value,
        })
    }
}

/// `[#;]? option [=|end] value`: the module's `match_opt` (commented lines too), value as group 2.
fn opt_matcher(option: &str, commented: bool) -> Regex {
    let comment = if commented { "[#;]?" } else { "" };
    Regex::new(&format!(
        "^{comment}[ \\t]*{}[ \\t]*(=|$)[ \\t]*(.*)",
        regex::escape(option)
    ))
    .expect("an escaped option makes a valid regex")
}

/// The value of `line` for `re`, if it sets that option (the line end left out, as Python's `$`).
fn value_of<'a>(re: &Regex, line: &'a str) -> Option<&'a str> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    re.captures(line)
        .map(|c| c.get(2).map_or("", |m| m.as_str()))
}

/// Sets line `i` (the module's `update_section_line`): a change only when the text differs; the line
/// is marked as handled either way.
fn update(lines: &mut [String], touched: &mut [bool], i: usize, new: String, changed: &mut bool) {
    if lines[i] != new {
        lines[i] = new;
        *changed = true;
    }
    touched[i] = true;
}

/// Blank or comment lines (where no new option goes after).
fn blank_or_comment(line: &str) -> bool {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let t = line.trim_start_matches([' ', '\t']);
    t.is_empty() || t.starts_with('#') || t.starts_with(';')
}

/// The new text and whether it changed.
pub fn edit(text: &str, spec: &IniSpec) -> (String, bool) {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    let mut changed = false;
    if lines.is_empty() {
        lines.push("\n".into());
    }
    if let Some(last) = lines.last_mut().filter(|l| !l.ends_with('\n')) {
        last.push('\n');
        changed = true;
    }
    lines.insert(0, format!("[{FAKE}]"));
    lines.push("[".into());
    let section = spec
        .section
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| FAKE.into());
    let header = format!("[{section}]");
    let (mut within, mut start, mut end) = (false, 0, 0);
    for (i, line) in lines.iter().enumerate() {
        if within && line.starts_with('[') {
            end = i;
            break;
        }
        if line.starts_with(&header) {
            within = true;
            start = i;
        }
    }
    let after = lines.split_off(end);
    let mut section_lines = lines.split_off(start);
    let before = lines;
    let mut touched = vec![false; section_lines.len()];
    let mut values = spec.values.clone();
    let assign = |o: &str, v: &str| {
        if spec.no_extra_spaces {
            format!("{o}={v}\n")
        } else {
            format!("{o} = {v}\n")
        }
    };
    let mut no_value_present = false;
    if let Some(option) = spec.option.as_deref().filter(|_| !spec.absent) {
        let re = opt_matcher(option, true);
        for i in 0..section_lines.len() {
            let Some(value) = value_of(&re, &section_lines[i]).map(String::from) else {
                continue;
            };
            if !values.is_empty() && values.contains(&value) {
                let new = if value.is_empty() && spec.allow_no_value {
                    no_value_present = true;
                    format!("{option}\n")
                } else {
                    assign(option, &value)
                };
                update(&mut section_lines, &mut touched, i, new, &mut changed);
                values.retain(|v| *v != value);
            } else if values.is_empty() && spec.allow_no_value {
                update(
                    &mut section_lines,
                    &mut touched,
                    i,
                    format!("{option}\n"),
                    &mut changed,
                );
                no_value_present = true;
                break;
            }
        }
        if spec.exclusive && !spec.allow_no_value {
            if !values.is_empty() {
                for i in 0..section_lines.len() {
                    if !touched[i] && value_of(&re, &section_lines[i]).is_some() {
                        let v = values.remove(0);
                        update(
                            &mut section_lines,
                            &mut touched,
                            i,
                            assign(option, &v),
                            &mut changed,
                        );
                        if values.is_empty() {
                            break;
                        }
                    }
                }
            }
            for i in (1..section_lines.len()).rev() {
                if !touched[i] && value_of(&re, &section_lines[i]).is_some() {
                    section_lines.remove(i);
                    touched.remove(i);
                    changed = true;
                }
            }
        }
    }
    if !spec.absent {
        if let Some(at) = (1..=section_lines.len())
            .rev()
            .find(|&i| !blank_or_comment(&section_lines[i - 1]))
        {
            match spec.option.as_deref() {
                Some(option) if !values.is_empty() => {
                    for v in values.iter().rev() {
                        section_lines.insert(at, assign(option, v));
                    }
                    changed = true;
                }
                Some(option) if spec.allow_no_value && !no_value_present => {
                    section_lines.insert(at, format!("{option}\n"));
                    changed = true;
                }
                _ => {}
            }
        }
    } else if let Some(option) = spec.option.as_deref() {
        let re = opt_matcher(option, false);
        let kept: Vec<String> = section_lines
            .iter()
            .filter(|l| match value_of(&re, l) {
                None => true,
                Some(_) if spec.exclusive => false,
                Some(v) => !spec.values.iter().any(|w| w == v),
            })
            .cloned()
            .collect();
        if spec.exclusive || !spec.values.is_empty() {
            changed |= kept != section_lines;
            section_lines = kept;
        }
    } else if !section_lines.is_empty() {
        section_lines.clear();
        changed = true;
    }
    let mut out: Vec<String> = before
        .into_iter()
        .chain(section_lines)
        .chain(after)
        .collect();
    out.remove(0);
    out.pop();
    if !within && !spec.absent {
        out.push(format!("[{section}]\n"));
        match spec.option.as_deref() {
            Some(option) if !values.is_empty() => {
                out.extend(values.iter().map(|v| assign(option, v)))
            }
            Some(option) if spec.allow_no_value => out.push(format!("{option}\n")),
            _ => {}
        }
        changed = true;
    }
    (out.concat(), changed)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(path) = args.first(&["path", "dest"]) else {
        return Outcome::bad_input("ini_file needs `path`");
    };
    let spec = match IniSpec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let target = match FileTarget::from_args(path.clone(), args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("ini_file: {e}")),
    };
    let before = match read_state(ctx, &path).await {
        Ok(Remote::File { content, .. }) => String::from_utf8_lossy(&content)
            .trim_start_matches('\u{feff}')
            .to_string(),
        Ok(Remote::Missing) if args.bool("create") != Some(false) => String::new(),
        Ok(Remote::Missing) => return Outcome::fail(format!("Destination {path} does not exist!")),
        Err(e) => return Outcome::fail(e),
    };
    let (after, changed) = edit(&before, &spec);
    if !changed && !target.sets_attributes() {
        return Outcome::default();
    }
    ensure_content(ctx, &target, after.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as Json, json};

    fn spec(v: Json) -> IniSpec {
        IniSpec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    const CONF: &str = "[DEFAULT]\n# bind = 0.0.0.0\nport=8080\n\n[db]\nhost = old\nhost = older\n; end of db\n\n[cache]\nsize = 1\n";

    /// Each step against what community.general's ini_file did (see ansible_fixtures.rs).
    #[test]
    fn options_are_edited_as_ansible_edits_them() {
        let replayed = crate::modules::ansible_fixtures::replay("ini_file", |text, a| {
            Some(edit(text, &IniSpec::from_args(a).unwrap()).0)
        });
        assert_eq!(replayed, 7);
    }

    /// Every expected text here is what community.general's ini_file (the ansible 12.3 package) wrote
    /// for the same input.
    #[test]
    fn options_are_set_replaced_and_added_as_the_module_does() {
        // A commented-out option is reused in place.
        let (out, changed) = edit(
            CONF,
            &spec(json!({"section": "DEFAULT", "option": "bind", "value": "127.0.0.1"})),
        );
        assert!(changed);
        assert!(
            out.starts_with("[DEFAULT]\nbind = 127.0.0.1\nport=8080\n"),
            "{out}"
        );
        // exclusive (the default): one line remains, the others go.
        let (out, _) = edit(
            CONF,
            &spec(json!({"section": "db", "option": "host", "value": "new"})),
        );
        assert!(
            out.contains("[db]\nhost = new\n; end of db\n\n[cache]"),
            "{out}"
        );
        // Already so: no change.
        let (_, changed) = edit(
            CONF,
            &spec(json!({"section": "cache", "option": "size", "value": "1"})),
        );
        assert!(!changed);
        // A new option goes after the section's last setting, before its trailing comments.
        let (out, _) = edit(
            CONF,
            &spec(
                json!({"section": "db", "option": "port", "value": "5432", "no_extra_spaces": true}),
            ),
        );
        assert!(
            out.contains("host = older\nport=5432\n; end of db\n"),
            "{out}"
        );
        // A missing section is added at the end; an empty file gets a blank line first.
        let (out, _) = edit(
            CONF,
            &spec(json!({"section": "new", "option": "a", "value": "b"})),
        );
        assert!(out.ends_with("size = 1\n[new]\na = b\n"), "{out}");
        let (out, _) = edit(
            "",
            &spec(json!({"section": "s", "option": "a", "value": "b"})),
        );
        assert_eq!(out, "\n[s]\na = b\n");
        // No section: the top of the file.
        let (out, _) = edit("x = 1\n[s]\n", &spec(json!({"option": "y", "value": "2"})));
        assert_eq!(out, "x = 1\ny = 2\n[s]\n");
    }

    #[test]
    fn options_and_sections_are_removed() {
        let (out, changed) = edit(
            CONF,
            &spec(json!({"section": "db", "option": "host", "state": "absent"})),
        );
        assert!(changed);
        assert!(out.contains("[db]\n; end of db\n"), "{out}");
        let (out, _) = edit(
            CONF,
            &spec(
                json!({"section": "db", "option": "host", "values": ["old"], "exclusive": false, "state": "absent"}),
            ),
        );
        assert!(out.contains("[db]\nhost = older\n"), "{out}");
        let (out, _) = edit(CONF, &spec(json!({"section": "cache", "state": "absent"})));
        assert!(out.ends_with("; end of db\n\n"), "{out}");
        let (_, changed) = edit(
            CONF,
            &spec(json!({"section": "nope", "option": "x", "state": "absent"})),
        );
        assert!(!changed);
        assert!(
            IniSpec::from_args(&Args(
                json!({"section": "s", "option": "o"})
                    .as_object()
                    .unwrap()
                    .clone()
            ))
            .is_err()
        );
    }
}
