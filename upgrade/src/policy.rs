//! Version policy checked before an upgrade: pins (what a component may be upgraded to), a blacklist
//! (versions known to be bad) and a compatibility matrix (when one component is at some version, what
//! the others must be). The check is a pure function of the versions a host will have afterwards.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::debversion::compare as compare_versions;

use crate::apt_plan;
use crate::facts::{APT, sections};

/// One comparison of a requirement.
#[derive(Debug, Clone, PartialEq)]
enum Clause {
    /// `=`, `<`, `<=`, `>`, `>=` or `!=` against a version.
    Compare(&'static str, String),
    /// `1.7.*`: the version starts with these parts.
    Prefix(String),
}

/// A version requirement: clauses separated by commas, all of which must hold, such as `>=2.0, <3`,
/// `1.7.*` or `2.1.5` (exactly). Versions compare as Ansible's `version` test does.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    text: String,
    clauses: Vec<Clause>,
}

impl Requirement {
    /// Parses a requirement.
    pub fn parse(text: &str) -> Result<Requirement, String> {
        let clauses = text
            .split(',')
            .map(|c| {
                let c = c.trim();
                let op = ["<=", ">=", "!=", "==", "<", ">", "="]
                    .into_iter()
                    .find(|op| c.starts_with(op));
                let version = c[op.map_or(0, str::len)..].trim();
                if version.is_empty() || version.contains(char::is_whitespace) {
                    return Err(format!(
                        "`{text}` is not a version requirement; expected something like `2.1.5`, `1.7.*` or `>=2.0, <3`"
                    ));
                }
                Ok(match (op, version.strip_suffix(".*")) {
                    (None, Some(prefix)) => Clause::Prefix(prefix.to_string()),
                    (op, _) => Clause::Compare(
                        match op {
                            None | Some("==") => "=",
                            Some(op) => op,
                        },
                        version.to_string(),
                    ),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Requirement {
            text: text.trim().to_string(),
            clauses,
        })
    }

    /// Whether `version` meets every clause.
    pub fn matches(&self, version: &str) -> bool {
        self.clauses.iter().all(|c| match c {
            Clause::Prefix(p) => parts(version).starts_with(&parts(p)),
            Clause::Compare(op, v) => {
                let ord = compare_versions(version, v);
                match *op {
                    "<" => ord == Ordering::Less,
                    "<=" => ord != Ordering::Greater,
                    ">" => ord == Ordering::Greater,
                    ">=" => ord != Ordering::Less,
                    "!=" => ord != Ordering::Equal,
                    _ => ord == Ordering::Equal,
                }
            }
        })
    }
}

/// A version's parts: `5:29.0.2` is 5, 29, 0, 2.
fn parts(version: &str) -> Vec<&str> {
    version
        .split(|c: char| !c.is_ascii_alphanumeric())
        .collect()
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// One row of a compatibility matrix: when every `when` component matches, every `require` component
/// must be present and match.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Conditions, by component.
    pub when: Vec<(String, Requirement)>,
    /// Requirements, by component.
    pub require: Vec<(String, Requirement)>,
}

/// Pins, blacklist and matrix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// A component may only be at versions that match its pin.
    pub pins: Vec<(String, Requirement)>,
    /// A component must not be at a version matching any of these.
    pub blacklist: Vec<(String, Vec<Requirement>)>,
    /// Compatibility rules.
    pub matrix: Vec<Rule>,
}

impl Policy {
    /// Every component the policy names.
    pub fn components(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .pins
            .iter()
            .map(|p| p.0.clone())
            .chain(self.blacklist.iter().map(|b| b.0.clone()))
            .chain(
                self.matrix
                    .iter()
                    .flat_map(|r| r.when.iter().chain(&r.require).map(|c| c.0.clone())),
            )
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// What breaks the policy, given each component's version after the upgrade. Components that are
    /// not there are not checked against pins and the blacklist.
    pub fn violations(&self, versions: &BTreeMap<String, String>) -> Vec<String> {
        let mut out = Vec::new();
        for (name, pin) in &self.pins {
            if let Some(v) = versions.get(name).filter(|v| !pin.matches(v)) {
                out.push(format!("{name} {v} is outside its pin `{pin}`"));
            }
        }
        for (name, bad) in &self.blacklist {
            if let Some(v) = versions.get(name)
                && let Some(req) = bad.iter().find(|r| r.matches(v))
            {
                out.push(format!("{name} {v} is blacklisted (`{req}`)"));
            }
        }
        for rule in &self.matrix {
            let applies = rule
                .when
                .iter()
                .all(|(n, r)| versions.get(n).is_some_and(|v| r.matches(v)));
            if !applies {
                continue;
            }
            let because = rule
                .when
                .iter()
                .map(|(n, _)| format!("{n} {}", versions[n]))
                .collect::<Vec<_>>()
                .join(" and ");
            for (name, req) in &rule.require {
                match versions.get(name) {
                    Some(v) if req.matches(v) => {}
                    Some(v) => out.push(format!("{because} needs {name} `{req}`, not {v}")),
                    None => out.push(format!(
                        "{because} needs {name} `{req}`, which is not installed"
                    )),
                }
            }
        }
        out
    }
}

/// Prints the installed versions of `packages` and apt's simulated dist-upgrade, read-only.
pub fn apt_versions_command(packages: &[String]) -> String {
    let names: Vec<String> = packages.iter().map(|p| drover_shell::quote(p)).collect();
    format!(
        "echo '### installed'; eval \"$(apt-config shell ST Dir::State::status/f 2>/dev/null)\"; dpkg-query --admindir=\"$(dirname \"${{ST:-/var/lib/dpkg/status}}\")\" -W -f '${{Package}} ${{Version}} ${{db:Status-Abbrev}}\\n' {} 2>/dev/null; echo '### plan'; {APT} -s -q dist-upgrade 2>&1",
        names.join(" ")
    )
}

/// The version each package will have after a dist-upgrade: apt's candidate if it upgrades it, else
/// the installed version.
pub fn parse_apt_versions(output: &str) -> BTreeMap<String, String> {
    let s = sections(output);
    let mut versions: BTreeMap<String, String> = s
        .get("installed")
        .into_iter()
        .flat_map(|t| t.lines())
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (name, version, status) = (w.next()?, w.next()?, w.next()?);
            status
                .starts_with("ii")
                .then(|| (name.to_string(), version.to_string()))
        })
        .collect();
    let plan = apt_plan::parse(s.get("plan").map(String::as_str).unwrap_or_default());
    for u in plan.upgrades {
        versions.insert(u.package, u.candidate);
    }
    versions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(t: &str) -> Requirement {
        Requirement::parse(t).unwrap()
    }

    #[test]
    fn requirements_match_as_operators_expect() {
        assert!(req("1.7.*").matches("1.7.27"));
        assert!(!req("1.7.*").matches("1.70.1"));
        assert!(!req("1.7.*").matches("2.1.5"));
        assert!(req(">=2.0, <3").matches("2.1.5"));
        assert!(!req(">=2.0, <3").matches("3.0"));
        assert!(req("5:29.0.2").matches("5:29.0.2"));
        assert!(req("!=5:29.0.0").matches("5:29.0.2"));
        assert!(req("<5:29").matches("5:28.3.2"));
        for bad in ["", ">=", "1.0 2.0", ">=1, "] {
            assert!(Requirement::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn violations_name_the_component_its_version_and_the_rule() {
        let policy = Policy {
            pins: vec![("containerd.io".into(), req("1.7.*"))],
            blacklist: vec![("docker-ce".into(), vec![req("5:29.0.0"), req("5:29.0.1")])],
            matrix: vec![Rule {
                when: vec![("docker-ce".into(), req(">=5:29"))],
                require: vec![
                    ("containerd.io".into(), req(">=2.0")),
                    ("runc".into(), req(">=1.2")),
                ],
            }],
        };
        let after: BTreeMap<String, String> =
            [("containerd.io", "2.1.5"), ("docker-ce", "5:29.0.1")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        assert_eq!(
            policy.violations(&after),
            vec![
                "containerd.io 2.1.5 is outside its pin `1.7.*`",
                "docker-ce 5:29.0.1 is blacklisted (`5:29.0.1`)",
                "docker-ce 5:29.0.1 needs runc `>=1.2`, which is not installed",
            ]
        );
        let fine: BTreeMap<String, String> =
            [("containerd.io", "1.7.28"), ("docker-ce", "5:28.3.3")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        assert!(policy.violations(&fine).is_empty());
    }

    #[test]
    fn apt_versions_prefer_the_candidate() {
        let out = "### installed\ncontainerd.io 1.7.27 ii \ndocker-ce 5:28.3.2 ii \ngone 1.0 rc \n### plan\nInst containerd.io [1.7.27] (2.1.5 fixture:stable [all])\nConf containerd.io (2.1.5 fixture:stable [all])\n";
        let v = parse_apt_versions(out);
        assert_eq!(v["containerd.io"], "2.1.5");
        assert_eq!(v["docker-ce"], "5:28.3.2");
        assert!(!v.contains_key("gone"));
    }
}
