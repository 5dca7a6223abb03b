//! What a push would do, without doing it: `--list-hosts`, `--list-tasks` and `--list-tags`, in
//! Ansible's layout, with the same host patterns, `--limit`, `--tags` and `--skip-tags` a run uses.

use drover_inventory::Inventory;
use drover_roles::{Play, Playbook, Task, TaskBody};

/// Whether a task with `tags` (its own, its blocks' and its play's) runs under `--tags wanted` and
/// `--skip-tags skipped`, as in Ansible: `never` runs only when asked for by name, `always` unless
/// skipped, `all` is every task but `never` ones.
pub(crate) fn tags_select(tags: &[&str], wanted: &[String], skipped: &[String]) -> bool {
    let has = |t: &str| tags.contains(&t);
    if skipped.iter().any(|t| has(t)) {
        return false;
    }
    if wanted.is_empty() {
        return !has("never");
    }
    has("always")
        || wanted
            .iter()
            .any(|t| has(t) || (t == "all" && !has("never")))
}

/// What to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Each play's hosts.
    Hosts,
    /// Each play's tasks that the tags select.
    Tasks,
    /// Each play's tags.
    Tags,
}

/// A task as a listing names it: `role : name`, its name, or its module.
fn label(task: &Task, role: Option<&str>) -> String {
    let name = task.name.clone().unwrap_or_else(|| match &task.body {
        TaskBody::Module(m) => m.name().to_string(),
        TaskBody::Block(_) => "block".into(),
    });
    match role {
        Some(r) => format!("{r} : {name}"),
        None => name,
    }
}

/// The play's tasks in the order they run (pre_tasks, roles, tasks, post_tasks), blocks opened,
/// each with its tags (its own, its blocks' and the play's) and its role.
fn tasks_of(play: &Play) -> Vec<(String, Vec<String>)> {
    fn walk(
        tasks: &[Task],
        role: Option<&str>,
        inherited: &[String],
        out: &mut Vec<(String, Vec<String>)>,
    ) {
        for t in tasks {
            let mut tags: Vec<String> = inherited.to_vec();
            tags.extend(t.tags.iter().cloned());
            match &t.body {
                TaskBody::Block(b) => {
                    let role = b.role.as_ref().map(|r| r.name.as_str()).or(role);
                    for list in [&b.block, &b.rescue, &b.always] {
                        walk(list, role, &tags, out);
                    }
                }
                TaskBody::Module(_) => out.push((label(t, role), tags)),
            }
        }
    }
    let mut out = Vec::new();
    walk(&play.pre_tasks, None, &play.tags, &mut out);
    for role in &play.roles {
        walk(&role.tasks, Some(&role.name), &play.tags, &mut out);
    }
    walk(&play.tasks, None, &play.tags, &mut out);
    walk(&play.post_tasks, None, &play.tags, &mut out);
    out
}

/// Whether a task named `label` (`role : name` or its name) is the one `--start-at-task PATTERN`
/// names: the whole label, or the name without its role, equal to the pattern or matching it as a
/// shell pattern, as Ansible matches it.
pub fn starts_here(label: &str, pattern: &str) -> bool {
    let bare = label.split_once(" : ").map_or(label, |(_, name)| name);
    let glob = globset::Glob::new(pattern).map(|g| g.compile_matcher());
    [label, bare]
        .iter()
        .any(|l| *l == pattern || glob.as_ref().is_ok_and(|g| g.is_match(l)))
}

/// The first play holding the task `--start-at-task PATTERN` names, if any.
pub fn start_play(playbook: &Playbook, pattern: &str) -> Option<usize> {
    playbook
        .plays
        .iter()
        .position(|play| tasks_of(play).iter().any(|(l, _)| starts_here(l, pattern)))
}

/// Tags as Ansible prints a list of them: `[a, b]`, sorted, each once.
fn tag_list(tags: &[String]) -> String {
    let mut tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    tags.sort_unstable();
    tags.dedup();
    format!("[{}]", tags.join(", "))
}

/// The listing of `playbook` (named as `shown`) over `inventory`, in Ansible's layout.
pub fn list(
    playbook: &Playbook,
    shown: &str,
    inventory: &Inventory,
    (limit, wanted, skipped): (Option<&str>, &[String], &[String]),
    what: Listing,
) -> Result<String, String> {
    let mut out = format!("\nplaybook: {shown}\n");
    for (i, play) in playbook.plays.iter().enumerate() {
        out.push_str(&format!(
            "\n  play #{} ({}): {}\tTAGS: {}\n",
            i + 1,
            play.hosts,
            play.name,
            tag_list(&play.tags)
        ));
        match what {
            Listing::Hosts => {
                let hosts = inventory
                    .select_within(&play.hosts, limit)
                    .map_err(|e| format!("play `{}` (hosts: {}): {e}", play.name, play.hosts))?;
                out.push_str(&format!("    pattern: ['{}']\n", play.hosts));
                out.push_str(&format!("    hosts ({}):\n", hosts.len()));
                for h in hosts {
                    out.push_str(&format!("      {h}\n"));
                }
            }
            Listing::Tasks => {
                out.push_str("    tasks:\n");
                for (name, tags) in tasks_of(play) {
                    let refs: Vec<&str> = tags.iter().map(String::as_str).collect();
                    if tags_select(&refs, wanted, skipped) {
                        out.push_str(&format!("      {name}\tTAGS: {}\n", tag_list(&tags)));
                    }
                }
            }
            Listing::Tags => {
                let all: Vec<String> = tasks_of(play).into_iter().flat_map(|(_, t)| t).collect();
                out.push_str(&format!("      TASK TAGS: {}\n", tag_list(&all)));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tags_select_as_ansible_does() {
        let none: Vec<String> = Vec::new();
        assert!(tags_select(&[], &none, &none));
        assert!(!tags_select(&["never"], &none, &none));
        assert!(tags_select(
            &["never", "debug"],
            &strings(&["debug"]),
            &none
        ));
        assert!(tags_select(&["always"], &strings(&["web"]), &none));
        assert!(!tags_select(
            &["always"],
            &strings(&["web"]),
            &strings(&["always"])
        ));
        assert!(tags_select(&["web"], &strings(&["all"]), &none));
        assert!(!tags_select(&["never"], &strings(&["all"]), &none));
        assert!(!tags_select(&["db"], &strings(&["web"]), &none));
        assert!(!tags_select(
            &["web", "slow"],
            &strings(&["web"]),
            &strings(&["slow"])
        ));
    }

    #[test]
    fn the_start_task_matches_by_name_role_or_pattern() {
        assert!(starts_here("base : packages", "packages"));
        assert!(starts_here("base : packages", "base : packages"));
        assert!(starts_here("install docker", "install*"));
        assert!(!starts_here("base : packages", "config"));
    }

    #[test]
    fn tag_lists_are_sorted_and_unique() {
        assert_eq!(tag_list(&strings(&["web", "app", "web"])), "[app, web]");
        assert_eq!(tag_list(&[]), "[]");
    }
}
