//! yum_repository: a repository's section in a `.repo` file under /etc/yum.repos.d, written as
//! ansible-core's module writes it (Python's configparser: `key = value`, the task's keys sorted, a
//! list's items on continuation lines, booleans as 1/0, a blank line after each section; a changed
//! section moves to the end; a file left with no section is removed). Changed is decided as the
//! module decides it: on the sorted sections, so a file written by hand in another order is left
//! alone when it says the same. Checked against ansible-core 2.19's module (see the tests).

use super::files::{FileTarget, Remote, ensure_content, read_state};
use super::{Args, ModuleCtx, Outcome};

/// One section: its name and its options in file order (keys lower-case, as configparser reads).
pub type Section = (String, Vec<(String, String)>);

/// Reads a `.repo` file as configparser does: `[section]`, `key = value` or `key: value`, indented
/// continuation lines, `#`/`;` comments and blank lines dropped.
pub fn parse(text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = sections.last_mut().and_then(|s| s.1.last_mut()) {
                v.push('\n');
                v.push_str(trimmed);
            }
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            sections.push((name.to_string(), Vec::new()));
            continue;
        }
        let (k, v) = trimmed
            .split_once(['=', ':'])
            .map_or((trimmed, ""), |(k, v)| (k, v));
        if let Some(section) = sections.last_mut() {
            section
                .1
                .push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    sections
}

/// Writes sections as configparser writes them.
pub fn write(sections: &[Section]) -> String {
    let mut out = String::new();
    for (name, options) in sections {
        out.push_str(&format!("[{name}]\n"));
        for (k, v) in options {
            out.push_str(&format!("{k} = {}\n", v.replace('\n', "\n\t")));
        }
        out.push('\n');
    }
    out
}

/// The module's view for deciding a change: sections and their options, sorted.
fn sorted(sections: &[Section]) -> Vec<Section> {
    let mut s: Vec<Section> = sections
        .iter()
        .map(|(n, o)| {
            let mut o = o.clone();
            o.sort();
            (n.clone(), o)
        })
        .collect();
    s.sort();
    s
}

/// The task's parameters that are options of the section (written under their own names).
const OPTIONS: &[&str] = &[
    "bandwidth",
    "baseurl",
    "cost",
    "countme",
    "enabled",
    "enablegroups",
    "exclude",
    "gpgcheck",
    "gpgkey",
    "include",
    "includepkgs",
    "ip_resolve",
    "metadata_expire",
    "metalink",
    "mirrorlist",
    "module_hotfixes",
    "password",
    "priority",
    "proxy",
    "proxy_password",
    "proxy_username",
    "repo_gpgcheck",
    "retries",
    "skip_if_unavailable",
    "sslcacert",
    "sslclientcert",
    "sslclientkey",
    "sslverify",
    "throttle",
    "timeout",
    "username",
];

/// The section the task asks for: `description` as `name`, every other option the task gives as
/// the module writes it (lists of URLs one per line, package lists space-separated).
pub fn section(args: &Args) -> Result<Section, String> {
    let name = args.str("name").ok_or("yum_repository needs `name`")?;
    let description = args
        .str("description")
        .ok_or("yum_repository: state is present but `description` is missing")?;
    if ["baseurl", "mirrorlist", "metalink"]
        .iter()
        .all(|k| args.0.get(*k).is_none_or(|v| v.is_null()))
    {
        return Err(
            "yum_repository: state is present but none of baseurl, mirrorlist, metalink is given"
                .into(),
        );
    }
    let mut options = vec![("name".to_string(), description)];
    for &key in OPTIONS {
        if args.0.get(key).is_none_or(|v| v.is_null()) {
            continue;
        }
        let text = match key {
            "baseurl" | "gpgkey" => args.list(key).join("\n"),
            "exclude" | "includepkgs" => args.list(key).join(" "),
            _ if BOOLEANS.contains(&key) => {
                let b = args
                    .bool(key)
                    .ok_or_else(|| format!("yum_repository: `{key}` is not a boolean"))?;
                u8::from(b).to_string()
            }
            _ => args.str(key).unwrap_or_default(),
        };
        options.push((key.to_string(), text));
    }
    options.sort();
    Ok((name, options))
}

/// The module's boolean options (written 1 or 0).
const BOOLEANS: &[&str] = &[
    "countme",
    "enabled",
    "enablegroups",
    "gpgcheck",
    "module_hotfixes",
    "repo_gpgcheck",
    "skip_if_unavailable",
    "sslverify",
];

/// The file's new sections, and whether that is a change as the module sees one.
pub fn edit(current: &str, name: &str, new: Option<Section>) -> (Vec<Section>, bool) {
    let before = parse(current);
    let mut after: Vec<Section> = before.iter().filter(|s| s.0 != name).cloned().collect();
    after.extend(new);
    let changed = sorted(&before) != sorted(&after);
    (after, changed)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(name) = args.str("name") else {
        return Outcome::bad_input("yum_repository needs `name`");
    };
    let present = match args.present() {
        Ok(p) => p,
        Err(e) => return Outcome::bad_input(format!("yum_repository: {e}")),
    };
    let new = if present {
        match section(args) {
            Ok(s) => Some(s),
            Err(e) => return Outcome::bad_input(e),
        }
    } else {
        None
    };
    let dir = args
        .str("reposdir")
        .unwrap_or_else(|| "/etc/yum.repos.d".into());
    let file = args.str("file").unwrap_or_else(|| name.clone());
    let path = format!("{}/{file}.repo", dir.trim_end_matches('/'));
    let target = match FileTarget::from_args(path.clone(), args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("yum_repository: {e}")),
    };
    let current = match read_state(ctx, &path).await {
        Ok(Remote::File { content, .. }) => String::from_utf8_lossy(&content).into_owned(),
        Ok(Remote::Missing) => String::new(),
        Err(e) => return Outcome::fail(e),
    };
    let (after, changed) = edit(&current, &name, new);
    let mut out = if after.is_empty() {
        remove(ctx, &path, changed).await
    } else if changed || target.sets_attributes() {
        ensure_content(ctx, &target, write(&after).as_bytes()).await
    } else {
        Outcome::default()
    };
    if ["password", "proxy_password"]
        .iter()
        .any(|k| args.str(k).is_some())
    {
        // The file holds a password: its diff would print it.
        out.diff = None;
    }
    out.result.insert("repo".into(), serde_json::json!(name));
    out.result.insert(
        "state".into(),
        serde_json::json!(if present { "present" } else { "absent" }),
    );
    out
}

/// A file left with no section goes, as the module removes it.
async fn remove(ctx: &ModuleCtx<'_>, path: &str, changed: bool) -> Outcome {
    let out = Outcome {
        changed,
        ..Outcome::default()
    };
    if changed && !ctx.check {
        let cmd = format!("rm -f -- {}", drover_ssh::shell::quote(path));
        if let Err(e) = ctx.output_of(&cmd, "yum_repository").await {
            return Outcome::fail(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::modules::args;

    /// Each step against what ansible-core 2.19's yum_repository did (see ansible_fixtures.rs).
    #[test]
    fn sections_are_written_as_ansible_writes_them() {
        let replayed = crate::modules::ansible_fixtures::replay("yum_repository", |text, a| {
            let name = a.str("name").unwrap();
            let new = (a.str("state").as_deref() != Some("absent")).then(|| section(a).unwrap());
            let (after, changed) = edit(text, &name, new);
            match (changed, after.is_empty()) {
                (false, _) => (!text.is_empty()).then(|| text.to_string()),
                (true, true) => None,
                (true, false) => Some(write(&after)),
            }
        });
        assert_eq!(replayed, 8);
    }

    #[test]
    fn a_file_in_another_order_saying_the_same_is_left_alone() {
        let s = section(&args(
            json!({"name": "x", "description": "X", "baseurl": "https://x", "enabled": true}),
        ))
        .unwrap();
        assert!(
            !edit(
                "# mine\n[x]\nname=X\nenabled=1\nbaseurl=https://x\n",
                "x",
                Some(s)
            )
            .1
        );
        assert!(section(&args(json!({"name": "x", "baseurl": "u"}))).is_err());
        assert!(section(&args(json!({"name": "x", "description": "X"}))).is_err());
    }
}
