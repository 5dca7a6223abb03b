//! Docker's objects as community.docker's modules keep them, with the docker CLI (no Python and no
//! Docker SDK on the host): each module reads the object with `docker inspect`, holds the settings
//! the task names against it ([`Setting`], [`satisfied`]), and changes only what differs.

pub mod container;
pub mod exec;
pub mod image;
pub mod login;
pub mod network;
pub mod prune;
pub mod volume;

use serde_json::{Map, Value as Json, json};

use super::{Args, ModuleCtx, Outcome};

/// How a setting is held against what `docker inspect` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// The same value.
    Equal,
    /// Every wanted item is among the object's (it may have more: the image's own env, say).
    Includes,
    /// The same items, in any order.
    Same,
    /// Every wanted key has the wanted value (the image may add more keys).
    MapIncludes,
    /// Every wanted mapping is held in one of the listed mappings (a network's subnets).
    EachIn,
    /// Not compared (`comparisons: ignore`): it never makes the object differ.
    Ignored,
}

/// One setting the task asks for: the `docker create` options that give it, and the value
/// `docker inspect` must show (normalised as [`actual`] reads it).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub param: &'static str,
    pub flags: Vec<String>,
    pub want: Json,
    pub compare: Compare,
}

fn setting(param: &'static str, flags: Vec<String>, want: Json, compare: Compare) -> Setting {
    Setting {
        param,
        flags,
        want,
        compare,
    }
}

use super::scalar_text as text;

/// The values of a mapping parameter as text; a boolean is refused as Ansible refuses it (it would
/// be ambiguous: `yes` or `True`?).
fn string_map(args: &Args, key: &str) -> Result<Map<String, Json>, String> {
    let mut out = Map::new();
    match args.0.get(key) {
        None | Some(Json::Null) => {}
        Some(Json::Object(m)) => {
            for (k, v) in m {
                if v.is_boolean() {
                    return Err(format!(
                        "{key}: the value of `{k}` is a boolean; quote it (\"true\" or \"yes\") to say which text the container gets"
                    ));
                }
                out.insert(k.clone(), json!(text(v)));
            }
        }
        Some(other) => return Err(format!("{key}: expected a mapping, found {other}")),
    }
    Ok(out)
}

/// Whether the object's value satisfies the setting.
pub fn satisfied(s: &Setting, actual: &Json) -> bool {
    let items = |v: &Json| -> Vec<Json> { v.as_array().cloned().unwrap_or_default() };
    match s.compare {
        Compare::Ignored => true,
        Compare::Equal => match (&s.want, actual) {
            (Json::Array(w), Json::Null) => w.is_empty(),
            _ => &s.want == actual,
        },
        Compare::Includes => {
            let have = items(actual);
            items(&s.want).iter().all(|w| have.contains(w))
        }
        Compare::Same => {
            let (mut w, mut a) = (items(&s.want), items(actual));
            w.sort_by_key(Json::to_string);
            w.dedup();
            a.sort_by_key(Json::to_string);
            a.dedup();
            w == a
        }
        Compare::EachIn => items(&s.want).iter().all(|w| {
            items(actual).iter().any(|a| {
                w.as_object()
                    .into_iter()
                    .flatten()
                    .all(|(k, v)| a.get(k) == Some(v))
            })
        }),
        Compare::MapIncludes => {
            let have = actual.as_object().cloned().unwrap_or_default();
            s.want
                .as_object()
                .into_iter()
                .flatten()
                .all(|(k, v)| have.get(k) == Some(v))
        }
    }
}

/// `docker inspect`'s answer for one object, or None when there is no such object (Docker prints
/// `[]` then, or nothing, and the module's command adds a `[]` of its own: the first value counts).
fn first_inspected(out: &[u8], what: &str) -> Result<Option<Json>, String> {
    match serde_json::Deserializer::from_slice(out)
        .into_iter::<Json>()
        .next()
    {
        None => Ok(None),
        Some(Ok(v)) => Ok(v.as_array().and_then(|a| a.first()).cloned()),
        Some(Err(e)) => {
            let text = String::from_utf8_lossy(out);
            let shown: String = text.chars().take(300).collect();
            Err(format!(
                "{what}: docker inspect printed what is not JSON ({e}): {shown}"
            ))
        }
    }
}

/// The settings of `settings` that `docker inspect`'s object does not satisfy, by name.
fn unsatisfied(settings: &[Setting], actual: impl Fn(&str) -> Json) -> Vec<&'static str> {
    settings
        .iter()
        .filter(|s| !satisfied(s, &actual(s.param)))
        .map(|s| s.param)
        .collect()
}

/// A mapping parameter as a setting: `--FLAG=KEY=VALUE` each, compared key by key.
fn map_setting(args: &Args, key: &'static str, flag: &str) -> Result<Option<Setting>, String> {
    let map = string_map(args, key)?;
    if map.is_empty() {
        return Ok(None);
    }
    let flags = map
        .iter()
        .map(|(k, v)| format!("{flag}={k}={}", text(v)))
        .collect();
    Ok(Some(setting(
        key,
        flags,
        Json::Object(map),
        Compare::MapIncludes,
    )))
}

/// The settings networks and volumes share: `driver`, `driver_options` and `labels`.
fn driver_settings(args: &Args, module: &str) -> Result<Vec<Setting>, String> {
    let mut settings = Vec::new();
    if let Some(d) = args.str("driver") {
        settings.push(setting(
            "driver",
            vec![format!("--driver={d}")],
            json!(d),
            Compare::Equal,
        ));
    }
    for (key, flag) in [("driver_options", "--opt"), ("labels", "--label")] {
        settings.extend(map_setting(args, key, flag).map_err(|e| format!("{module}: {e}"))?);
    }
    Ok(settings)
}

/// The words of a docker command, each quoted.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| drover_ssh::shell::quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A named Docker object a module keeps (a network, a volume): the word `docker` uses for it.
#[derive(Debug, Clone, Copy)]
struct Object {
    /// `network` or `volume`.
    kind: &'static str,
}

impl Object {
    /// The module's name, for messages.
    fn module(self) -> String {
        format!("docker_{}", self.kind)
    }

    fn inspect_command(self, name: &str) -> String {
        format!(
            "docker {} inspect {} 2>/dev/null || echo '[]'",
            self.kind,
            drover_ssh::shell::quote(name)
        )
    }

    /// The object as `docker inspect` shows it, or None when there is none.
    async fn find(self, name: &str, ctx: &ModuleCtx<'_>) -> Result<Option<Json>, String> {
        let out = ctx
            .output_of(&self.inspect_command(name), &self.module())
            .await?;
        first_inspected(&out, &self.module())
    }

    /// Runs the plan's `steps` (unless in check mode) and reports what they do (`why`), with the
    /// object registered as it is afterwards (under the kind's name).
    async fn apply(
        self,
        name: &str,
        (steps, why): (Vec<String>, Vec<String>),
        found: Option<Json>,
        ctx: &ModuleCtx<'_>,
    ) -> Outcome {
        let mut out = Outcome {
            changed: !steps.is_empty(),
            msg: why.join("; "),
            ..Outcome::default()
        };
        if ctx.diff && !steps.is_empty() {
            out.diff = Some(format!("{} {name}: {}\n", self.kind, why.join("; ")));
        }
        let now = if !steps.is_empty() && !ctx.check {
            let cmd = format!(
                "set -e; {}; {}",
                steps.join("; "),
                self.inspect_command(name)
            );
            match ctx.output_of(&cmd, &self.module()).await {
                Ok(o) => first_inspected(&o, &self.module()).ok().flatten(),
                Err(e) => return Outcome::fail(e),
            }
        } else {
            found
        };
        out.result
            .insert(self.kind.into(), now.unwrap_or(Json::Null));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_held_against_inspect_as_their_comparison_says() {
        let s = |want: Json, compare| setting("x", Vec::new(), want, compare);
        assert!(satisfied(&s(json!("a"), Compare::Equal), &json!("a")));
        assert!(satisfied(&s(json!([]), Compare::Equal), &Json::Null));
        assert!(satisfied(
            &s(json!(["A=1"]), Compare::Includes),
            &json!(["B=2", "A=1"])
        ));
        assert!(!satisfied(
            &s(json!(["A=1"]), Compare::Includes),
            &json!(["A=2"])
        ));
        assert!(satisfied(
            &s(json!(["b", "a"]), Compare::Same),
            &json!(["a", "b"])
        ));
        assert!(!satisfied(
            &s(json!(["a"]), Compare::Same),
            &json!(["a", "b"])
        ));
        assert!(satisfied(
            &s(json!({"k": "v"}), Compare::MapIncludes),
            &json!({"k": "v", "o": "w"})
        ));
        assert!(!satisfied(
            &s(json!({"k": "v"}), Compare::MapIncludes),
            &Json::Null
        ));
        let subnets = json!([{"Subnet": "10.9.0.0/24", "Gateway": "10.9.0.1"}]);
        assert!(satisfied(
            &s(json!([{"Subnet": "10.9.0.0/24"}]), Compare::EachIn),
            &subnets
        ));
        assert!(!satisfied(
            &s(json!([{"Subnet": "10.8.0.0/24"}]), Compare::EachIn),
            &subnets
        ));
        assert_eq!(first_inspected(b"[]\n[]\n", "x").unwrap(), None);
        assert_eq!(first_inspected(b"", "x").unwrap(), None);
        assert_eq!(
            first_inspected(b"[{\"Id\": \"a\"}]\n", "x").unwrap(),
            Some(json!({"Id": "a"}))
        );
    }
}
