//! version_check: pins, a blacklist and a compatibility matrix, checked against the versions a host
//! will have after its upgrade, before anything is upgraded. Versions come from the task (`versions:`,
//! for components that are not packages) and, with `apt: true`, from the host's installed packages and
//! apt's simulated dist-upgrade. It changes nothing, so it runs in check mode too.

use std::collections::BTreeMap;

use drover_upgrade::policy::{self, Policy, Requirement, Rule};
use serde_json::{Value as Json, json};

use super::{Args, ModuleCtx, Outcome};

/// A scalar as written (a version YAML read as a number, `3.1`, too).
use super::scalar_text as text;

/// Reads `pins`, `blacklist` and `matrix`.
fn parse_policy(args: &Args) -> Result<Policy, String> {
    let map = |key: &str| -> Result<Vec<(String, Json)>, String> {
        match args.0.get(key) {
            None | Some(Json::Null) => Ok(Vec::new()),
            Some(Json::Object(m)) => Ok(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            Some(other) => Err(format!(
                "`{key}` must be a mapping of component to version, not {other}"
            )),
        }
    };
    let req = |v: &Json| -> Result<Requirement, String> { Requirement::parse(&text(v)) };
    let reqs = |what: &str, v: &Json| -> Result<Vec<(String, Requirement)>, String> {
        match v {
            Json::Object(m) => m.iter().map(|(k, v)| Ok((k.clone(), req(v)?))).collect(),
            other => Err(format!(
                "matrix: `{what}` must be a mapping of component to version, not {other}"
            )),
        }
    };
    let mut policy = Policy::default();
    for (name, v) in map("pins")? {
        policy.pins.push((name, req(&v)?));
    }
    for (name, v) in map("blacklist")? {
        let list = match v {
            Json::Array(items) => items.iter().map(req).collect::<Result<_, _>>()?,
            one => vec![req(&one)?],
        };
        policy.blacklist.push((name, list));
    }
    let rows = match args.0.get("matrix") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(rows)) => rows.clone(),
        Some(other) => {
            return Err(format!(
                "`matrix` must be a list of {{when, require}} rules, not {other}"
            ));
        }
    };
    for row in rows {
        let (Some(when), Some(require)) = (row.get("when"), row.get("require")) else {
            return Err(format!(
                "matrix: every rule needs `when:` and `require:`; this one has neither or one: {row}"
            ));
        };
        policy.matrix.push(Rule {
            when: reqs("when", when)?,
            require: reqs("require", require)?,
        });
    }
    Ok(policy)
}

/// Checks the policy; fails naming every violation.
pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let policy = match parse_policy(args) {
        Ok(p) => p,
        Err(e) => return Outcome::bad_input(format!("version_check: {e}")),
    };
    let mut versions: BTreeMap<String, String> = BTreeMap::new();
    if args.bool("apt") == Some(true) {
        let cmd = policy::apt_versions_command(&policy.components());
        match ctx.exec(&cmd, b"").await {
            Ok(o) if o.status.success() => {
                versions.extend(policy::parse_apt_versions(&String::from_utf8_lossy(
                    &o.stdout,
                )));
            }
            Ok(o) => {
                return Outcome::fail(format!(
                    "version_check: apt: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
            Err(e) => return Outcome::fail(e.to_string()),
        }
    }
    if let Some(Json::Object(given)) = args.0.get("versions") {
        for (k, v) in given {
            versions.insert(k.clone(), text(v));
        }
    }
    let violations = policy.violations(&versions);
    let checked: serde_json::Map<String, Json> = policy
        .components()
        .into_iter()
        .filter_map(|c| versions.get(&c).map(|v| (c, json!(v))))
        .collect();
    let mut outcome = if violations.is_empty() {
        Outcome {
            msg: format!("{} component(s) within the version policy", checked.len()),
            ..Outcome::default()
        }
    } else {
        Outcome::fail(format!("version policy: {}", violations.join("; ")))
    };
    outcome
        .result
        .insert("versions".into(), Json::Object(checked));
    outcome
        .result
        .insert("violations".into(), json!(violations));
    outcome
}
