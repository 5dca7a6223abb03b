//! `lineinfile` as a pure edit of a file's text, so it needs nothing on the host but `cat`.

use regex::Regex;

/// What `lineinfile` should do.
#[derive(Debug, Clone, Default)]
pub struct LineSpec {
    /// The line to ensure (state=present).
    pub line: Option<String>,
    /// Lines matching this are replaced (present) or removed (absent).
    pub regexp: Option<Regex>,
    /// `state: absent`.
    pub absent: bool,
    /// `insertafter`: `EOF` or a regex.
    pub insert_after: Option<String>,
    /// `insertbefore`: `BOF` or a regex.
    pub insert_before: Option<String>,
    /// `backrefs`: `line` is expanded with the groups of the regexp's match (`\1`, `\g<name>`),
    /// and nothing is added when the regexp matches no line.
    pub backrefs: bool,
    /// `firstmatch`: the first line the regexp (or insertafter/insertbefore) matches, not the last.
    pub firstmatch: bool,
}

impl LineSpec {
    /// The line a regular expression picks: the last that matches, or the first with firstmatch
    /// (as Ansible's module scans).
    fn pick(&self, lines: &[String], re: &Regex) -> Option<usize> {
        if self.firstmatch {
            lines.iter().position(|l| re.is_match(l))
        } else {
            lines.iter().rposition(|l| re.is_match(l))
        }
    }
}

/// Applies the edit to `text`, returning the new text (equal to the old when nothing changes).
pub fn edit(text: &str, spec: &LineSpec) -> Result<String, String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let trailing_newline = text.is_empty() || text.ends_with('\n');
    if spec.absent {
        lines.retain(|l| match (&spec.regexp, &spec.line) {
            (Some(re), _) => !re.is_match(l),
            (None, Some(line)) => l != line,
            (None, None) => true,
        });
    } else {
        let line = spec
            .line
            .clone()
            .ok_or("lineinfile with state=present needs `line`")?;
        let matched = match &spec.regexp {
            Some(re) => spec.pick(&lines, re),
            None => lines.iter().position(|l| *l == line),
        };
        match matched {
            Some(i) => {
                lines[i] = match (&spec.regexp, spec.backrefs) {
                    (Some(re), true) => {
                        let caps = re
                            .captures(&lines[i])
                            .ok_or("the regexp stopped matching")?;
                        let mut out = String::new();
                        caps.expand(&drover_templates::python_replacement(&line), &mut out);
                        out
                    }
                    _ => line,
                };
            }
            // With backrefs, a line the regexp does not find is not made up.
            None if spec.backrefs => {}
            None => {
                let at = insertion_point(&lines, spec)?;
                lines.insert(at, line);
            }
        }
    }
    let mut out = lines.join("\n");
    if !lines.is_empty() && trailing_newline {
        out.push('\n');
    }
    Ok(out)
}

fn insertion_point(lines: &[String], spec: &LineSpec) -> Result<usize, String> {
    let compile =
        |p: &str| Regex::new(p).map_err(|e| format!("invalid regular expression `{p}`: {e}"));
    if let Some(before) = &spec.insert_before {
        if before == "BOF" {
            return Ok(0);
        }
        let re = compile(before)?;
        return Ok(spec.pick(lines, &re).unwrap_or(lines.len()));
    }
    match spec.insert_after.as_deref() {
        None | Some("EOF") => Ok(lines.len()),
        Some(after) => {
            let re = compile(after)?;
            Ok(spec.pick(lines, &re).map_or(lines.len(), |i| i + 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What ansible-core 2.19's lineinfile made of the same files (run on them, compared).
    #[test]
    fn insertbefore_backrefs_and_firstmatch_are_ansibles() {
        let text = "a\n# x\nb\n# x\nc\n";
        let before = LineSpec {
            line: Some("NEW".into()),
            insert_before: Some("^# x".into()),
            ..LineSpec::default()
        };
        assert_eq!(edit(text, &before).unwrap(), "a\n# x\nb\nNEW\n# x\nc\n");
        let first = LineSpec {
            firstmatch: true,
            ..before
        };
        assert_eq!(edit(text, &first).unwrap(), "a\nNEW\n# x\nb\n# x\nc\n");
        let back = LineSpec {
            line: Some(r"port=\1 # kept".into()),
            regexp: Some(Regex::new(r"^port=(\d+)").unwrap()),
            backrefs: true,
            ..LineSpec::default()
        };
        assert_eq!(
            edit("port=80\nname=web\n", &back).unwrap(),
            "port=80 # kept\nname=web\n"
        );
        let none = LineSpec {
            regexp: Some(Regex::new(r"^nothere=(\d+)").unwrap()),
            ..back
        };
        assert_eq!(edit("port=80\n", &none).unwrap(), "port=80\n");
    }

    fn spec(line: &str, regexp: Option<&str>) -> LineSpec {
        LineSpec {
            line: Some(line.into()),
            regexp: regexp.map(|r| Regex::new(r).unwrap()),
            ..LineSpec::default()
        }
    }

    #[test]
    fn replaces_the_last_match_or_appends() {
        let text = "a=1\nlive-restore=false\nb=2\n";
        assert_eq!(
            edit(text, &spec("live-restore=true", Some("^live-restore="))).unwrap(),
            "a=1\nlive-restore=true\nb=2\n"
        );
        assert_eq!(
            edit(text, &spec("c=3", None)).unwrap(),
            "a=1\nlive-restore=false\nb=2\nc=3\n"
        );
        // Already there: nothing changes.
        assert_eq!(edit(text, &spec("b=2", None)).unwrap(), text);
    }

    #[test]
    fn inserts_before_or_after_and_removes() {
        let text = "[main]\nx=1\n";
        let mut s = spec("y=2", None);
        s.insert_after = Some(r"^\[main\]".into());
        assert_eq!(edit(text, &s).unwrap(), "[main]\ny=2\nx=1\n");
        s.insert_after = None;
        s.insert_before = Some("BOF".into());
        assert_eq!(edit(text, &s).unwrap(), "y=2\n[main]\nx=1\n");
        let absent = LineSpec {
            regexp: Some(Regex::new("^x=").unwrap()),
            absent: true,
            ..LineSpec::default()
        };
        assert_eq!(edit(text, &absent).unwrap(), "[main]\n");
        assert_eq!(edit("", &spec("first", None)).unwrap(), "first\n");
    }
}
