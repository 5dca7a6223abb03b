//! blockinfile: a block of lines between two marker lines, inserted, replaced or removed in a file, as
//! a pure edit of the file's text that follows Ansible's module line for line (where a new block goes,
//! a block whose markers are swapped, the line end added before it, `prepend_newline` and
//! `append_newline`). The file is read and written as `lineinfile` does.

use regex::Regex;

use super::files::{FileTarget, Remote, ensure_content, read_state};
use super::{Args, ModuleCtx, Outcome};

/// What the task asks.
#[derive(Debug, Clone)]
pub struct BlockSpec {
    pub block: String,
    pub present: bool,
    pub marker_begin: String,
    pub marker_end: String,
    /// `insertafter` (a pattern, or None for EOF).
    pub after: Option<Regex>,
    /// `insertbefore` (a pattern, or BOF when `before_bof`).
    pub before: Option<Regex>,
    pub before_bof: bool,
    pub prepend_newline: bool,
    pub append_newline: bool,
}

impl BlockSpec {
    pub fn from_args(args: &Args) -> Result<BlockSpec, String> {
        let (after, before) = (args.str("insertafter"), args.str("insertbefore"));
        if after.is_some() && before.is_some() {
            return Err(
                "blockinfile: `insertafter` and `insertbefore` cannot be given together".into(),
            );
        }
        let pattern = |p: &str| Regex::new(p).map_err(|e| format!("blockinfile: `{p}`: {e}"));
        let marker = args
            .str("marker")
            .unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into());
        let mark = |word: String| marker.replace("{mark}", &word);
        Ok(BlockSpec {
            block: args.first(&["block", "content"]).unwrap_or_default(),
            present: match args.str("state").as_deref().unwrap_or("present") {
                "present" => true,
                "absent" => false,
                other => {
                    return Err(format!(
                        "blockinfile: `state: {other}` is not present or absent"
                    ));
                }
            },
            marker_begin: mark(args.str("marker_begin").unwrap_or_else(|| "BEGIN".into())),
            marker_end: mark(args.str("marker_end").unwrap_or_else(|| "END".into())),
            after: after
                .filter(|a| a != "EOF")
                .map(|a| pattern(&a))
                .transpose()?,
            before_bof: before.as_deref() == Some("BOF"),
            before: before
                .filter(|b| b != "BOF")
                .map(|b| pattern(&b))
                .transpose()?,
            prepend_newline: args.bool("prepend_newline").unwrap_or(false),
            append_newline: args.bool("append_newline").unwrap_or(false),
        })
    }
}

/// The new text of a file whose text is `text`.
pub fn edit(text: &str, spec: &BlockSpec) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    let (m0, m1) = (
        format!("{}\n", spec.marker_begin),
        format!("{}\n", spec.marker_end),
    );
    let mut block_lines = Vec::new();
    if spec.present && !spec.block.is_empty() {
        let mut block = spec.block.clone();
        if !block.ends_with('\n') {
            block.push('\n');
        }
        block_lines.push(m0.clone());
        block_lines.extend(block.split_inclusive('\n').map(String::from));
        block_lines.push(m1.clone());
    }
    let (mut n0, mut n1) = (None, None);
    for (i, line) in lines.iter().enumerate() {
        if *line == m0 {
            n0 = Some(i);
        }
        if *line == m1 {
            n1 = Some(i);
        }
    }
    let mut at = match (n0, n1) {
        (Some(a), Some(b)) => {
            let (lo, hi) = (a.min(b), a.max(b));
            lines.drain(lo..=hi);
            lo
        }
        _ => insertion_point(text, &lines, spec),
    };
    if at > 0 && !lines[at - 1].ends_with('\n') {
        lines[at - 1].push('\n');
    }
    if spec.prepend_newline && spec.present && at != 0 && lines[at - 1] != "\n" {
        lines.insert(at, "\n".into());
        at += 1;
    }
    let count = block_lines.len();
    lines.splice(at..at, block_lines);
    if spec.append_newline && spec.present {
        let next = at + count;
        if next < lines.len() && lines[next] != "\n" {
            lines.insert(next, "\n".into());
        }
    }
    lines.concat()
}

/// Where a new block goes: after the last line matching `insertafter`, before the last matching
/// `insertbefore` (a `(?m)` pattern is searched in the whole text), else at the end (or the start,
/// for `insertbefore: BOF`).
fn insertion_point(text: &str, lines: &[String], spec: &BlockSpec) -> usize {
    let Some(re) = spec.after.as_ref().or(spec.before.as_ref()) else {
        return if spec.before_bof { 0 } else { lines.len() };
    };
    let found = if re.as_str().starts_with("(?m)") {
        re.find(text).map(|m| {
            let at = if spec.after.is_some() {
                m.end()
            } else {
                m.start()
            };
            text[..at].matches('\n').count()
        })
    } else {
        lines.iter().rposition(|l| re.is_match(l))
    };
    // As Ansible, one line further for `insertafter` also after a `(?m)` match (whose count of line
    // ends already includes the matched one).
    match found {
        None => lines.len(),
        Some(n) if spec.after.is_some() => n + 1,
        Some(n) => n,
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(path) = args.first(&["path", "dest", "destfile", "name"]) else {
        return Outcome::bad_input("blockinfile needs `path`");
    };
    let spec = match BlockSpec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let target = match FileTarget::from_args(path.clone(), args) {
        Ok(t) => t,
        Err(e) => return Outcome::bad_input(format!("blockinfile: {e}")),
    };
    let before = match read_state(ctx, &path).await {
        Ok(Remote::File { content, .. }) => String::from_utf8_lossy(&content).into_owned(),
        Ok(Remote::Missing) if !spec.present => return Outcome::default(),
        Ok(Remote::Missing) if args.bool("create") == Some(true) => String::new(),
        Ok(Remote::Missing) => return Outcome::fail(format!("Path {path} does not exist !")),
        Err(e) => return Outcome::fail(e),
    };
    let after = edit(&before, &spec);
    if after == before && !target.sets_attributes() {
        return Outcome::default();
    }
    ensure_content(ctx, &target, after.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as Json, json};

    fn spec(v: Json) -> BlockSpec {
        BlockSpec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    const BLOCK: &str = "# BEGIN ANSIBLE MANAGED BLOCK\nMatch User ansible\nPasswordAuthentication no\n# END ANSIBLE MANAGED BLOCK\n";

    #[test]
    fn a_block_is_added_at_the_end_replaced_in_place_and_removed() {
        let s = spec(json!({"block": "Match User ansible\nPasswordAuthentication no"}));
        let added = edit("Port 22\nX11Forwarding no", &s);
        assert_eq!(added, format!("Port 22\nX11Forwarding no\n{BLOCK}"));
        assert_eq!(edit(&added, &s), added, "a second run changes nothing");
        let changed = edit(&format!("{BLOCK}Port 22\n"), &spec(json!({"block": "new"})));
        assert_eq!(
            changed,
            "# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\nPort 22\n"
        );
        assert_eq!(
            edit(&format!("a\n{BLOCK}b\n"), &spec(json!({"state": "absent"}))),
            "a\nb\n"
        );
        // An empty block removes it too, as in Ansible.
        assert_eq!(
            edit(&format!("a\n{BLOCK}"), &spec(json!({"block": ""}))),
            "a\n"
        );
        // Swapped markers: everything between them goes, and the block goes where the end was.
        let swapped = "x\n# END ANSIBLE MANAGED BLOCK\ny\n# BEGIN ANSIBLE MANAGED BLOCK\nz\n";
        assert_eq!(
            edit(swapped, &spec(json!({"block": "b"}))),
            "x\n# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\nz\n"
        );
    }

    /// Each step against what ansible-core 2.19's blockinfile did (see ansible_fixtures.rs).
    #[test]
    fn blocks_are_placed_as_ansible_places_them() {
        let replayed = crate::modules::ansible_fixtures::replay("blockinfile", |text, a| {
            Some(edit(text, &BlockSpec::from_args(a).unwrap()))
        });
        assert_eq!(replayed, 7);
    }

    /// Each expected text here is what ansible-core 2.19's blockinfile wrote for the same input.
    #[test]
    fn where_a_new_block_goes() {
        let text = "[a]\nk=1\n[b]\nk=2\n[b]\n";
        let s = spec(
            json!({"block": "new", "insertafter": "^\\[b\\]", "marker": "; {mark} drover", "marker_begin": "start", "marker_end": "stop"}),
        );
        assert_eq!(
            edit(text, &s),
            "[a]\nk=1\n[b]\nk=2\n[b]\n; start drover\nnew\n; stop drover\n"
        );
        let s = spec(
            json!({"block": "new", "insertbefore": "^\\[b\\]", "prepend_newline": true, "append_newline": true}),
        );
        assert_eq!(
            edit(text, &s),
            "[a]\nk=1\n[b]\nk=2\n\n# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\n\n[b]\n"
        );
        let s = spec(json!({"block": "new", "insertbefore": "BOF"}));
        assert!(edit(text, &s).starts_with("# BEGIN ANSIBLE MANAGED BLOCK\nnew\n"));
        // ansible-core 2.19 puts it here too: one line after the match's own line end.
        let s = spec(json!({"block": "new", "insertafter": "(?m)^k=1\\n"}));
        assert_eq!(
            edit(text, &s),
            "[a]\nk=1\n[b]\n# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\nk=2\n[b]\n"
        );
        let s = spec(json!({"block": "new", "insertafter": "^nothing"}));
        assert!(
            edit(text, &s).ends_with(
                "[b]\n# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\n"
            )
        );
        assert!(
            BlockSpec::from_args(&Args(
                json!({"insertafter": "a", "insertbefore": "b"})
                    .as_object()
                    .unwrap()
                    .clone()
            ))
            .is_err()
        );
    }
}
