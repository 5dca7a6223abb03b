//! kernel_blacklist (community.general): a `blacklist NAME` line in a modprobe.d file (by default
//! /etc/modprobe.d/blacklist-ansible.conf), added or removed as the module does: a missing file is
//! made (a change), and a changed file is written back with each line's trailing spaces dropped.

use drover_ssh::shell::quote;

use super::files::rewrite_command;

use super::{Args, ModuleCtx, Outcome};

/// What the file holds: None when it is not there.
fn parse_read(out: &str) -> Option<Vec<String>> {
    let body = out.strip_prefix("present\n")?;
    Some(body.lines().map(|l| l.trim_end().to_string()).collect())
}

/// The file's lines after the task, or None when nothing changes (the file there, the module
/// blacklisted or not as asked).
pub fn plan(name: &str, present: bool, lines: Option<Vec<String>>) -> Option<Vec<String>> {
    let pattern = regex::Regex::new(&format!(r"^blacklist\s+{}$", regex::escape(name))).ok()?;
    let existed = lines.is_some();
    let mut lines = lines.unwrap_or_default();
    let blocked = lines
        .iter()
        .any(|l| !l.trim().starts_with('#') && pattern.is_match(l.trim()));
    match (present, blocked) {
        (true, false) => lines.push(format!("blacklist {name}")),
        (false, true) => lines.retain(|l| !pattern.is_match(l.trim())),
        _ if existed => return None,
        _ => {}
    }
    Some(lines)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(name) = args.str("name") else {
        return Outcome::bad_input("kernel_blacklist needs `name`");
    };
    let present = match args.present() {
        Ok(p) => p,
        Err(e) => return Outcome::bad_input(format!("kernel_blacklist: {e}")),
    };
    let path = args
        .str("blacklist_file")
        .unwrap_or_else(|| "/etc/modprobe.d/blacklist-ansible.conf".into());
    let p = quote(&path);
    let read = format!("if [ -f {p} ]; then echo present; cat -- {p}; fi");
    let out = match ctx.output_of(&read, "reading the blacklist file").await {
        Ok(out) => out,
        Err(e) => return Outcome::fail(e),
    };
    let Some(lines) = plan(&name, present, parse_read(&String::from_utf8_lossy(&out))) else {
        return Outcome::default();
    };
    let content: String = lines.iter().map(|l| format!("{l}\n")).collect();
    ctx.make_change(
        &rewrite_command(&path),
        content.as_bytes(),
        "writing the blacklist file",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Option<Vec<String>> {
        Some(text.lines().map(String::from).collect())
    }

    #[test]
    fn lines_change_as_the_module_changes_them() {
        assert_eq!(
            plan("nouveau", true, None),
            Some(vec!["blacklist nouveau".into()])
        );
        assert_eq!(
            plan("nouveau", false, None),
            Some(vec![]),
            "a missing file is made"
        );
        assert_eq!(
            plan(
                "nouveau",
                true,
                lines("# blacklist x\n  blacklist   nouveau  ")
            ),
            None
        );
        assert_eq!(
            plan(
                "nouveau",
                true,
                lines("# blacklist nouveau\nblacklist pcspkr")
            ),
            lines("# blacklist nouveau\nblacklist pcspkr\nblacklist nouveau")
        );
        assert_eq!(
            plan(
                "a.b",
                false,
                lines("blacklist a.b\nblacklist axb\n# blacklist a.b")
            ),
            lines("blacklist axb\n# blacklist a.b")
        );
        assert_eq!(parse_read("present\nx  \ny\n"), lines("x\ny"));
        assert_eq!(parse_read(""), None);
    }
}
