//! Ansible host patterns: `all`, `*`, groups, hosts, globs, `~regex`, `a:b` (union), `a:&b`
//! (intersection), `a:!b` (exclusion), subscripts `web[0]`/`web[1:3]`, and `--limit`.

use std::sync::LazyLock;

use globset::Glob;
use indexmap::IndexSet;
use regex::Regex;

use crate::error::InventoryError;
use crate::model::Inventory;

static SUBSCRIPT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.+)\[(?:(-?[0-9]+)|([0-9]*):([0-9]*))\]$").expect("valid regex")
});

impl Inventory {
    /// The hosts `pattern` selects, narrowed by `limit` if given, in inventory order.
    ///
    /// A pattern (or limit) that selects no host at all is an error: it is almost always a typo, and
    /// doing nothing silently is the worst answer at 3 a.m.
    pub fn select(&self, pattern: &str, limit: Option<&str>) -> Result<Vec<&str>, InventoryError> {
        let hosts = self.select_within(pattern, limit)?;
        match limit {
            Some(limit) if hosts.is_empty() => Err(InventoryError::NoHostsMatched {
                pattern: format!("{pattern} --limit {limit}"),
            }),
            _ => Ok(hosts),
        }
    }

    /// Like [`Inventory::select`], but a pattern and a limit that each select hosts and have none
    /// in common give an empty list: a play of a playbook that `--limit` leaves out.
    pub fn select_within(
        &self,
        pattern: &str,
        limit: Option<&str>,
    ) -> Result<Vec<&str>, InventoryError> {
        let mut hosts = self.evaluate(pattern)?;
        if let Some(limit) = limit {
            let allowed = self.evaluate(limit)?;
            hosts.retain(|h| allowed.contains(h));
        }
        Ok(hosts.into_iter().collect())
    }

    fn evaluate(&self, pattern: &str) -> Result<IndexSet<&str>, InventoryError> {
        let mut hosts: IndexSet<&str> = IndexSet::new();
        for part in order_patterns(split_pattern(pattern)) {
            if let Some(p) = part.strip_prefix('!') {
                let remove = self.match_one(p, pattern)?;
                hosts.retain(|h| !remove.contains(h));
            } else if let Some(p) = part.strip_prefix('&') {
                let keep = self.match_one(p, pattern)?;
                hosts.retain(|h| keep.contains(h));
            } else {
                hosts.extend(self.match_one(part, pattern)?);
            }
        }
        if hosts.is_empty() {
            return Err(InventoryError::NoHostsMatched {
                pattern: pattern.to_string(),
            });
        }
        Ok(hosts)
    }

    /// Hosts of one pattern part; `whole` is the full pattern, for error messages.
    fn match_one(&self, part: &str, whole: &str) -> Result<IndexSet<&str>, InventoryError> {
        let bad = |reason| InventoryError::BadPattern {
            pattern: whole.to_string(),
            reason,
        };
        let (base, subscript) = split_subscript(part).map_err(bad)?;
        let matcher = Matcher::new(base).map_err(bad)?;
        let mut out: IndexSet<&str> = IndexSet::new();
        let groups: Vec<&str> = self
            .groups
            .keys()
            .map(String::as_str)
            .filter(|g| matcher.is_match(g))
            .collect();
        for g in &groups {
            out.extend(self.group_hosts(g));
        }
        // As in Ansible, hosts are matched by name too when no group matched or the pattern is wild.
        let wild = base.starts_with('~') || base.contains(['.', '?', '*', '[']);
        if groups.is_empty() || wild {
            out.extend(
                self.hosts
                    .keys()
                    .map(String::as_str)
                    .filter(|h| matcher.is_match(h)),
            );
        }
        // As Ansible: `localhost` not in the inventory is the implicit localhost (local connection),
        // which no group and no wildcard selects, only its own name.
        if out.is_empty()
            && subscript.is_none()
            && let Some(name) = IMPLICIT_LOCALHOST.iter().find(|n| **n == base)
        {
            out.insert(name);
        }
        match subscript {
            None => Ok(out),
            Some(sub) => Ok(sub.apply(out)),
        }
    }
}

/// The names that select the implicit localhost when the inventory has no such host.
pub const IMPLICIT_LOCALHOST: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Splits on `,` if the pattern has any, else on `:` outside brackets (so IPv6 and ranges survive).
fn split_pattern(pattern: &str) -> Vec<&str> {
    let parts: Vec<&str> = if pattern.contains(',') {
        pattern.split(',').collect()
    } else {
        let mut parts = Vec::new();
        let (mut depth, mut start) = (0i32, 0);
        for (i, c) in pattern.char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                ':' if depth == 0 => {
                    parts.push(&pattern[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&pattern[start..]);
        parts
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Unions first, then intersections, then exclusions; only exclusions means "all but".
fn order_patterns(parts: Vec<&str>) -> Vec<&str> {
    let (mut plain, mut and, mut not) = (Vec::new(), Vec::new(), Vec::new());
    for p in parts {
        match p.as_bytes()[0] {
            b'!' => not.push(p),
            b'&' => and.push(p),
            _ => plain.push(p),
        }
    }
    if plain.is_empty() {
        plain.push("all");
    }
    plain.into_iter().chain(and).chain(not).collect()
}

enum Matcher {
    All,
    Exact(String),
    Glob(globset::GlobMatcher),
    Regex(Regex),
}

impl Matcher {
    fn new(pattern: &str) -> Result<Self, String> {
        if pattern == "all" || pattern == "*" {
            return Ok(Matcher::All);
        }
        if let Some(re) = pattern.strip_prefix('~') {
            // Python's re.match anchors at the start only.
            return Regex::new(&format!("^(?:{re})"))
                .map(Matcher::Regex)
                .map_err(|e| format!("invalid regular expression: {e}"));
        }
        if pattern.contains(['*', '?', '[']) {
            return Glob::new(pattern)
                .map(|g| Matcher::Glob(g.compile_matcher()))
                .map_err(|e| format!("invalid glob: {e}"));
        }
        Ok(Matcher::Exact(pattern.to_string()))
    }

    fn is_match(&self, name: &str) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Exact(s) => s == name,
            Matcher::Glob(g) => g.is_match(name),
            Matcher::Regex(r) => r.is_match(name),
        }
    }
}

/// `web[0]`, `web[-1]` or `web[1:3]` (inclusive, as in Ansible).
enum Subscript {
    Index(i64),
    Range(Option<usize>, Option<usize>),
}

impl Subscript {
    fn apply<'a>(&self, hosts: IndexSet<&'a str>) -> IndexSet<&'a str> {
        let n = hosts.len();
        match *self {
            Subscript::Index(i) => {
                let i = if i < 0 { n as i64 + i } else { i };
                usize::try_from(i)
                    .ok()
                    .and_then(|i| hosts.get_index(i).copied())
                    .into_iter()
                    .collect()
            }
            Subscript::Range(start, end) => {
                let start = start.unwrap_or(0);
                let end = end.map_or(n, |e| e.saturating_add(1).min(n));
                hosts
                    .into_iter()
                    .skip(start)
                    .take(end.saturating_sub(start))
                    .collect()
            }
        }
    }
}

fn split_subscript(part: &str) -> Result<(&str, Option<Subscript>), String> {
    if part.starts_with('~') {
        return Ok((part, None));
    }
    let Some(caps) = SUBSCRIPT.captures(part) else {
        return Ok((part, None));
    };
    let base = caps.get(1).map_or(part, |m| m.as_str());
    fn number<T: std::str::FromStr>(text: &str, part: &str) -> Result<T, String> {
        text.parse()
            .map_err(|_| format!("subscript `{text}` in `{part}` is out of range"))
    }
    let sub = if let Some(i) = caps.get(2) {
        Subscript::Index(number(i.as_str(), part)?)
    } else {
        let bound = |n: usize| caps.get(n).map(|m| number(m.as_str(), part)).transpose();
        Subscript::Range(bound(3)?, bound(4)?)
    };
    Ok((base, Some(sub)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::{Inventory, InventoryError};

    fn inv() -> Inventory {
        let text = "[web]\nweb1\nweb2\nweb3\n[db]\ndb1\n[prod:children]\nweb\ndb\n[canary]\nweb3\n";
        Inventory::from_text(Path::new("i.ini"), text).unwrap()
    }

    #[test]
    fn localhost_outside_the_inventory_is_the_implicit_local_host() {
        assert_eq!(sel("localhost"), ["localhost"]);
        assert_eq!(sel("web:localhost"), ["web1", "web2", "web3", "localhost"]);
        assert!(!sel("all").contains(&"localhost".to_string()));
        assert!(
            inv().select("local*", None).is_err(),
            "no wildcard selects it"
        );
        let vars = inv().host_vars("localhost");
        assert_eq!(vars["ansible_connection"], "local");
        assert!(inv().host_vars("elsewhere").is_empty());
        // A localhost the inventory has is that host.
        let mine =
            Inventory::from_text(Path::new("i.ini"), "localhost ansible_host=10.0.0.9\n").unwrap();
        assert_eq!(mine.host_vars("localhost")["ansible_host"], "10.0.0.9");
        assert!(
            mine.host_vars("localhost")
                .get("ansible_connection")
                .is_none()
        );
    }

    fn sel(p: &str) -> Vec<String> {
        inv()
            .select(p, None)
            .unwrap()
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn unions_intersections_exclusions() {
        assert_eq!(sel("all"), ["web1", "web2", "web3", "db1"]);
        assert_eq!(sel("*"), ["web1", "web2", "web3", "db1"]);
        assert_eq!(sel("db:web"), ["db1", "web1", "web2", "web3"]);
        assert_eq!(sel("prod:&canary"), ["web3"]);
        assert_eq!(sel("prod:!canary"), ["web1", "web2", "db1"]);
        assert_eq!(sel("!db"), ["web1", "web2", "web3"]);
        assert_eq!(sel("web1,db1"), ["web1", "db1"]);
    }

    #[test]
    fn globs_regexes_and_subscripts() {
        assert_eq!(sel("web*"), ["web1", "web2", "web3"]);
        assert_eq!(sel("~(web|db)[13]"), ["web1", "web3", "db1"]);
        assert_eq!(sel("web[0]"), ["web1"]);
        assert_eq!(sel("web[-1]"), ["web3"]);
        assert_eq!(sel("web[1:2]"), ["web2", "web3"]);
    }

    #[test]
    fn limit_narrows_and_nothing_matched_is_an_error() {
        assert_eq!(inv().select("prod", Some("db")).unwrap(), ["db1"]);
        let err = inv().select("wbe", None).unwrap_err();
        assert!(matches!(err, InventoryError::NoHostsMatched { .. }));
        assert_eq!(
            err.to_string(),
            "host pattern `wbe` matches no hosts in the inventory"
        );
        assert!(matches!(
            inv().select("~(", None),
            Err(InventoryError::BadPattern { .. })
        ));
    }
}
