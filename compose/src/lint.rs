//! Finds the services whose restart policy will not bring them back after a Docker daemon restart or
//! a reboot, and how each could be fixed.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::mask::PLACEHOLDER;
use crate::outline::{Kind, Node, Outline};

/// How a finding can be fixed by editing the text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fix {
    /// Replace the value of `restart:` on this line.
    Value {
        /// The line, 1-based.
        line: usize,
    },
    /// Replace the literal inside `default('...')` on this line.
    JinjaDefault {
        /// The line, 1-based.
        line: usize,
    },
    /// Replace the value of `condition:` (of `deploy.restart_policy`) on this line with the
    /// policy's deploy spelling (`always` is `any`).
    Condition {
        /// The line, 1-based.
        line: usize,
    },
    /// Insert `restart: POLICY` after this line, indented so.
    Insert {
        /// The service's line, 1-based.
        after: usize,
        /// Spaces before `restart:`.
        indent: usize,
    },
}

/// One problem with one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The line to look at.
    pub line: usize,
    /// The service.
    pub service: String,
    /// What is wrong and why it matters.
    pub message: String,
    /// How to fix it, when it can be fixed by rewriting the restart line.
    pub fix: Option<Fix>,
}

/// The literal of a Jinja `default('...')` (or `d(...)`): group 2 is the text between the quotes.
pub(crate) static DEFAULT_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(?:default|d)\(\s*(['"])([^'"]*)(['"])"#).expect("valid regex")
});

/// Why a policy does not survive, or None when it does.
pub fn judge(policy: &str) -> Option<&'static str> {
    match policy {
        "always" => None,
        "unless-stopped" => Some(
            "stays down when a Docker or containerd upgrade stopped it, and after the reboot that follows",
        ),
        "no" | "false" => Some("never restarts"),
        p if p.starts_with("on-failure") => {
            Some("restarts only after a non-zero exit, not after a daemon restart or a reboot")
        }
        _ => Some("is not a restart policy compose knows"),
    }
}

/// What lint needs besides the outline.
pub struct Context<'a> {
    /// The template's lines, to find `# drover: keep-restart` comments.
    pub lines: &'a [&'a str],
    /// Placeholder -> Jinja expression.
    pub exprs: &'a HashMap<String, String>,
    /// Services kept as they are (`--keep`).
    pub keep: &'a [String],
}

/// Every finding in the document, in line order.
pub fn lint(outline: &Outline, ctx: &Context<'_>) -> Vec<Finding> {
    let Some(root) = &outline.root else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, services) in root.entries("services") {
        let services = outline.resolve(services);
        let Kind::Map(entries) = &services.kind else {
            continue;
        };
        for (key, body) in entries {
            out.extend(service(outline, ctx, key, body));
        }
    }
    out.sort_by_key(|f| f.line);
    out
}

fn display_name(key: &Node, ctx: &Context<'_>) -> String {
    let text = key.text().unwrap_or("?");
    match ctx.exprs.get(text) {
        Some(expr) => format!("{{{{ {expr} }}}}"),
        None => text.to_string(),
    }
}

fn kept(ctx: &Context<'_>, name: &str, lines: &[usize]) -> bool {
    ctx.keep.iter().any(|k| k == name)
        || lines.iter().any(|l| {
            ctx.lines
                .get(l.wrapping_sub(1))
                .is_some_and(|t| t.contains("drover: keep-restart"))
        })
}

/// The line above a service's key, when it is a comment line of that service: a whole-line comment
/// indented no deeper than the key. (A comment at the end of the previous service's last line, or
/// indented as that service's body, belongs to that service.)
fn comment_above(ctx: &Context<'_>, key: &Node) -> Option<usize> {
    let above = key.line.checked_sub(1)?;
    let text = ctx.lines.get(above.checked_sub(1)?)?;
    let indent = text.len() - text.trim_start().len();
    (text.trim_start().starts_with('#') && indent < key.col).then_some(above)
}

/// The restart declarations a service inherits through `<<: *anchor`, earliest source first.
fn inherited<'a>(outline: &'a Outline, body: &'a Node, depth: usize) -> Vec<&'a Node> {
    if depth > 10 {
        return Vec::new();
    }
    let mut sources = Vec::new();
    for (_, v) in body.entries("<<") {
        match &v.kind {
            Kind::Seq(items) => sources.extend(items.iter().map(|i| outline.resolve(i))),
            _ => sources.push(outline.resolve(v)),
        }
    }
    for source in sources {
        let direct: Vec<&Node> = source.entries("restart").map(|(_, v)| v).collect();
        if !direct.is_empty() {
            return direct;
        }
        let deeper = inherited(outline, source, depth + 1);
        if !deeper.is_empty() {
            return deeper;
        }
    }
    Vec::new()
}

fn service(outline: &Outline, ctx: &Context<'_>, key: &Node, body: &Node) -> Vec<Finding> {
    let name = display_name(key, ctx);
    let body = outline.resolve(body);
    let direct: Vec<&Node> = body.entries("restart").map(|(_, v)| v).collect();
    let from_anchor = direct.is_empty();
    let declared = if from_anchor {
        inherited(outline, body, 0)
    } else {
        direct
    };
    let mut lines = vec![key.line];
    lines.extend(comment_above(ctx, key));
    lines.extend(declared.iter().map(|v| v.line));
    if kept(ctx, &name, &lines) {
        return Vec::new();
    }
    let mut out = Vec::new();
    // Without `restart:`, Compose v2 applies deploy.restart_policy (Swarm or not).
    if declared.is_empty()
        && let Some((line, condition)) = deploy_condition(body)
    {
        if let Some(why) = judge(deploy_equivalent(condition)) {
            out.push(Finding {
                line,
                service: name.clone(),
                message: format!("service `{name}` has no restart:, so Compose applies deploy.restart_policy.condition: {condition}, which {why}"),
                fix: Some(Fix::Condition { line }),
            });
        }
        return out;
    }
    if declared.is_empty() {
        let indent = match &body.kind {
            Kind::Map(entries) if entries.first().is_some_and(|(k, _)| k.line > key.line) => {
                entries[0].0.col - 1
            }
            Kind::Map(entries) if !entries.is_empty() => {
                out.push(Finding {
                    line: key.line,
                    service: name.clone(),
                    message: format!("service `{name}` has no restart policy, so it stays down after a daemon restart or a reboot; it is written in flow style, so add `restart: always` by hand"),
                    fix: None,
                });
                return out;
            }
            _ => key.col - 1 + 2,
        };
        out.push(Finding {
            line: key.line,
            service: name.clone(),
            message: format!("service `{name}` has no restart policy, so it stays down after a daemon restart or a reboot"),
            fix: Some(Fix::Insert { after: key.line, indent }),
        });
    }
    let mut effective = None;
    for value in declared {
        let Kind::Scalar { text, quoted } = &value.kind else {
            continue;
        };
        let via = if from_anchor {
            format!(" (inherited from line {})", value.line)
        } else {
            String::new()
        };
        if let Some(expr) = text
            .strip_prefix(PLACEHOLDER)
            .and_then(|_| ctx.exprs.get(text))
        {
            if let Some(caps) = DEFAULT_LITERAL.captures(expr)
                && let Some(why) = judge(&caps[2])
            {
                out.push(Finding {
                    line: value.line,
                    service: name.clone(),
                    message: format!("service `{name}`: restart `{{{{ {expr} }}}}` defaults to {}, which {why}{via}", &caps[2]),
                    fix: Some(Fix::JinjaDefault { line: value.line }),
                });
            }
            continue;
        }
        effective = Some(text.clone());
        let unquoted_no = !quoted
            && matches!(
                text.as_str(),
                "no" | "No" | "NO" | "false" | "False" | "off"
            );
        let policy = if unquoted_no { "no" } else { text.as_str() };
        if let Some(why) = judge(policy) {
            let extra = if unquoted_no {
                "; unquoted, `no` is the boolean false in YAML 1.1, which older compose tools reject"
            } else {
                ""
            };
            out.push(Finding {
                line: value.line,
                service: name.clone(),
                message: format!("service `{name}`: restart: {text} {why}{extra}{via}"),
                fix: Some(Fix::Value { line: value.line }),
            });
        }
    }
    if let Some(conflict) = deploy_conflict(body, effective.as_deref()) {
        out.push(Finding {
            line: conflict.0,
            service: name.clone(),
            message: format!("service `{name}`: {}", conflict.1),
            fix: None,
        });
    }
    out
}

/// The line and value of `deploy.restart_policy.condition`.
fn deploy_condition(body: &Node) -> Option<(usize, &str)> {
    let (_, deploy) = body.entries("deploy").next()?;
    let (_, policy) = deploy.entries("restart_policy").next()?;
    let (_, condition) = policy.entries("condition").next()?;
    Some((condition.line, condition.text()?))
}

/// The `restart:` policy a deploy condition means.
fn deploy_equivalent(condition: &str) -> &str {
    match condition {
        "any" => "always",
        "none" => "no",
        other => other,
    }
}

/// The deploy condition that means `policy` (`unless-stopped` has none: `any` comes closest).
pub fn deploy_condition_for(policy: &str) -> &'static str {
    match policy {
        "no" => "none",
        "on-failure" => "on-failure",
        _ => "any",
    }
}

/// `deploy.restart_policy.condition` that says otherwise than `restart:`.
fn deploy_conflict(body: &Node, restart: Option<&str>) -> Option<(usize, String)> {
    let (_, deploy) = body.entries("deploy").next()?;
    let (_, policy) = deploy.entries("restart_policy").next()?;
    let (_, condition) = policy.entries("condition").next()?;
    let condition = condition.text()?;
    let equivalent = deploy_equivalent(condition);
    let restart = restart?;
    (equivalent != restart && !(restart == "unless-stopped" && condition == "any")).then(|| {
        (
            policy.line,
            format!("deploy.restart_policy.condition: {condition} conflicts with restart: {restart}; make them agree (any matches always)"),
        )
    })
}
