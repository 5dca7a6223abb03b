//! pam_limits (community.general): one `domain type item value` line of limits.conf, edited as
//! community.general's module edits it: the first four-field line of the same domain, type and item
//! gets the new value (or the larger/smaller one with use_max/use_min), else a line is added at
//! the end; comments and other lines are kept as they are. The file is written as the other line
//! editors write it (temporary file, backup, diff, check mode).

use super::files::{FileTarget, Remote, ensure_content, read_state};
use super::{Args, ModuleCtx, Outcome};

/// What the task asks for.
#[derive(Debug, Clone)]
struct Limit {
    domain: String,
    kind: String,
    item: String,
    value: String,
    use_max: bool,
    use_min: bool,
    comment: String,
}

const UNLIMITED: [&str; 3] = ["unlimited", "infinity", "-1"];

/// A value limits.conf(5) takes for `item`, as the module checks it.
fn valid(item: &str, value: &str) -> Result<(), String> {
    if matches!(item, "nice" | "priority") {
        return match value.parse::<i64>() {
            Ok(n) if (-20..=19).contains(&n) => Ok(()),
            _ => Err(format!(
                "value of {value:?} for item {item:?} is invalid: a number from -20 to 19"
            )),
        };
    }
    if UNLIMITED.contains(&value)
        || (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
    {
        Ok(())
    } else {
        Err(format!(
            "value of {value:?} for item {item:?} is invalid: unlimited, infinity, -1 or a limit of 0 or more"
        ))
    }
}

impl Limit {
    fn from_args(args: &Args) -> Result<Limit, String> {
        let need = |k: &str| args.str(k).ok_or(format!("pam_limits needs `{k}`"));
        let limit = Limit {
            domain: need("domain")?,
            kind: need("limit_type")?,
            item: need("limit_item")?,
            value: need("value")?,
            use_max: args.bool("use_max") == Some(true),
            use_min: args.bool("use_min") == Some(true),
            comment: args.str("comment").unwrap_or_default(),
        };
        if limit.use_max && limit.use_min {
            return Err("cannot use use_min and use_max at the same time".into());
        }
        valid(&limit.item, &limit.value)?;
        Ok(limit)
    }

    /// The value to write over `actual`.
    fn over(&self, actual: &str) -> String {
        let numeric = !matches!(self.item.as_str(), "nice" | "priority");
        let (old_unl, new_unl) = (
            numeric && UNLIMITED.contains(&actual),
            numeric && UNLIMITED.contains(&self.value.as_str()),
        );
        let (old, new) = (actual.parse::<i64>(), self.value.parse::<i64>());
        if self.use_max {
            match (old_unl, new_unl, old, new) {
                (true, _, _, _) => actual.into(),
                (_, true, _, _) => self.value.clone(),
                (_, _, Ok(a), Ok(b)) => a.max(b).to_string(),
                _ => self.value.clone(),
            }
        } else if self.use_min {
            match (old_unl, new_unl, old, new) {
                (true, true, _, _) | (false, true, _, _) => actual.into(),
                (true, false, _, _) => self.value.clone(),
                (_, _, Ok(a), Ok(b)) => a.min(b).to_string(),
                _ => self.value.clone(),
            }
        } else {
            self.value.clone()
        }
    }

    fn line(&self, value: &str, comment: &str) -> String {
        let comment = if comment.is_empty() {
            String::new()
        } else {
            format!("\t#{comment}")
        };
        format!(
            "{}\t{}\t{}\t{value}{comment}\n",
            self.domain, self.kind, self.item
        )
    }
}

/// The file with the limit set: the new text and whether it changed. A line of the file whose
/// value is not valid is an error, as in the module.
fn edit(text: &str, limit: &Limit) -> Result<(String, bool), String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut found = false;
    let mut changed = false;
    let mut comment = limit.comment.clone();
    for line in text.split_inclusive('\n') {
        let squeezed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.starts_with('#') || squeezed.is_empty() {
            out.push_str(line);
            continue;
        }
        let fields_text = squeezed.split('#').next().unwrap_or_default().trim_end();
        // As the module: a task without a comment takes the first comment a limit line of the
        // file has, for the line it changes or adds.
        if comment.is_empty() {
            comment = line
                .split_once('#')
                .map_or("", |c| c.1)
                .trim_end_matches('\n')
                .to_string();
        }
        let fields: Vec<&str> = fields_text.split(' ').collect();
        let [domain, kind, item, actual] = fields[..] else {
            out.push_str(line);
            continue;
        };
        valid(item, actual).map_err(|e| format!("invalid configuration in the file: {e}"))?;
        if (domain, kind, item) != (&limit.domain[..], &limit.kind[..], &limit.item[..]) {
            out.push_str(line);
            continue;
        }
        found = true;
        let value = if actual == limit.value {
            actual.to_string()
        } else {
            limit.over(actual)
        };
        if value == actual {
            out.push_str(line);
        } else {
            changed = true;
            out.push_str(&limit.line(&value, &comment));
        }
    }
    if !found {
        changed = true;
        out.push_str(&limit.line(&limit.value, &comment));
    }
    Ok((out, changed))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let limit = match Limit::from_args(args) {
        Ok(l) => l,
        Err(e) => return Outcome::bad_input(format!("pam_limits: {e}")),
    };
    let path = args
        .str("dest")
        .unwrap_or_else(|| "/etc/security/limits.conf".into());
    let target = match FileTarget::from_args(path.clone(), args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("pam_limits: {e}")),
    };
    let before = match read_state(ctx, &path).await {
        Ok(Remote::File { content, .. }) => String::from_utf8_lossy(&content).into_owned(),
        // The module makes the file when its folder exists.
        Ok(Remote::Missing) => String::new(),
        Err(e) => return Outcome::fail(e),
    };
    let (after, changed) = match edit(&before, &limit) {
        Ok(e) => e,
        Err(e) => return Outcome::fail(format!("pam_limits: {path}: {e}")),
    };
    if !changed {
        return Outcome::default();
    }
    ensure_content(ctx, &target, after.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limit(v: serde_json::Value) -> Limit {
        Limit::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    const CONF: &str = "# /etc/security/limits.conf\n#\n*    soft    core    0\n@dev   hard   nofile   4096   # builds\n\nodd line here\n";

    #[test]
    fn a_limit_is_changed_in_place_or_added_at_the_end() {
        let nofile = |value: &str, extra: serde_json::Value| {
            let mut v = json!({"domain": "@dev", "limit_type": "hard", "limit_item": "nofile", "value": value});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            limit(v)
        };
        let (after, changed) = edit(CONF, &nofile("8192", json!({}))).unwrap();
        assert!(changed);
        assert_eq!(
            after,
            "# /etc/security/limits.conf\n#\n*    soft    core    0\n@dev\thard\tnofile\t8192\t# builds\n\nodd line here\n"
        );
        assert_eq!(
            edit(&after, &nofile("8192", json!({}))).unwrap(),
            (after.clone(), false)
        );
        // use_max keeps the larger, use_min the smaller; unlimited wins use_max.
        assert!(
            !edit(CONF, &nofile("1024", json!({"use_max": true})))
                .unwrap()
                .1
        );
        let (min, _) = edit(CONF, &nofile("1024", json!({"use_min": true}))).unwrap();
        assert!(
            min.contains("@dev\thard\tnofile\t1024\t# builds\n"),
            "{min}"
        );
        let (unl, _) = edit(CONF, &nofile("unlimited", json!({"use_max": true}))).unwrap();
        assert!(unl.contains("\tunlimited\t"), "{unl}");
        let (added, changed) = edit(CONF, &limit(json!({"domain": "docker", "limit_type": "-", "limit_item": "nproc", "value": "65535", "comment": "containers"}))).unwrap();
        assert!(changed);
        assert!(
            added.ends_with("odd line here\ndocker\t-\tnproc\t65535\t#containers\n"),
            "{added}"
        );
        assert!(
            Limit::from_args(&Args(
                json!({"domain": "a", "limit_type": "-", "limit_item": "nice", "value": "30"})
                    .as_object()
                    .unwrap()
                    .clone()
            ))
            .is_err()
        );
        assert!(edit("* soft core lots\n", &nofile("1", json!({}))).is_err());
    }
}
