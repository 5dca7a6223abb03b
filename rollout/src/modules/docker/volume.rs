//! docker_volume: a named Docker volume as community.docker's module keeps it: made with the task's
//! driver, options and labels, removed with absent. A volume holds data, so one whose settings
//! differ is remade only when `recreate` says so (`options-changed` or `always`), as the module does;
//! with the default (`never`) the difference is reported and the volume kept.

use serde_json::Value as Json;

use super::{Object, Setting, driver_settings, shell_words, unsatisfied};
use crate::modules::{Args, ModuleCtx, Outcome};

/// When a volume is remade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recreate {
    Never,
    OptionsChanged,
    Always,
}

/// The task, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub name: String,
    pub present: bool,
    pub settings: Vec<Setting>,
    pub recreate: Recreate,
}

impl Spec {
    pub fn from_args(args: &Args) -> Result<Spec, String> {
        let name = args
            .first(&["volume_name", "name"])
            .ok_or("docker_volume needs `volume_name`")?;
        let present = args.present().map_err(|e| format!("docker_volume: {e}"))?;
        let recreate = match args.str("recreate").as_deref() {
            None | Some("never") => Recreate::Never,
            Some("options-changed") => Recreate::OptionsChanged,
            Some("always") => Recreate::Always,
            Some(other) => {
                return Err(format!(
                    "docker_volume: `recreate: {other}` is not never, options-changed or always"
                ));
            }
        };
        let settings = driver_settings(args, "docker_volume")?;
        Ok(Spec {
            name,
            present,
            settings,
            recreate,
        })
    }

    fn create_command(&self) -> String {
        let mut words = vec!["docker".to_string(), "volume".into(), "create".into()];
        for s in &self.settings {
            words.extend(s.flags.iter().cloned());
        }
        words.push(self.name.clone());
        format!("{} >/dev/null", shell_words(&words))
    }
}

/// What `docker volume inspect` shows of a setting.
pub fn actual(param: &str, v: &Json) -> Json {
    match param {
        "driver" => v["Driver"].clone(),
        "driver_options" => v["Options"].clone(),
        "labels" => v["Labels"].clone(),
        _ => Json::Null,
    }
}

/// The commands that make the volume as the task says, what they do, and a note when a difference
/// is kept (`recreate: never`).
pub fn plan(spec: &Spec, found: Option<&Json>) -> (Vec<String>, Vec<String>) {
    let vol = drover_ssh::shell::quote(&spec.name);
    let rm = format!("docker volume rm {vol} >/dev/null");
    match (found, spec.present) {
        (None, false) => (Vec::new(), Vec::new()),
        (Some(_), false) => (vec![rm], vec!["removed".into()]),
        (None, true) => (vec![spec.create_command()], vec!["created".into()]),
        (Some(v), true) => {
            let diff = unsatisfied(&spec.settings, |p| actual(p, v));
            match spec.recreate {
                Recreate::Always => (
                    vec![rm, spec.create_command()],
                    vec!["recreated (recreate: always)".into()],
                ),
                Recreate::OptionsChanged if !diff.is_empty() => (
                    vec![rm, spec.create_command()],
                    vec![format!("recreated: {} differ", diff.join(", "))],
                ),
                Recreate::Never if !diff.is_empty() => (
                    Vec::new(),
                    vec![format!(
                        "{} differ; kept (recreate: never keeps a volume's data)",
                        diff.join(", ")
                    )],
                ),
                _ => (Vec::new(), Vec::new()),
            }
        }
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match Spec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let object = Object { kind: "volume" };
    let found = match object.find(&spec.name, ctx).await {
        Ok(f) => f,
        Err(e) => return Outcome::fail(e),
    };
    // A difference kept (recreate: never) is said in the message, though nothing changes.
    let plan = plan(&spec, found.as_ref());
    object.apply(&spec.name, plan, found, ctx).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Json) -> Spec {
        Spec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn a_volume_is_kept_unless_recreate_says_otherwise() {
        let s = spec(json!({"volume_name": "data", "labels": {"backup": "daily"}}));
        assert_eq!(
            plan(&s, None).0,
            ["docker volume create --label=backup=daily data >/dev/null"]
        );
        let v = json!({"Driver": "local", "Labels": {"backup": "weekly"}, "Options": null});
        let (steps, why) = plan(&s, Some(&v));
        assert!(steps.is_empty());
        assert_eq!(
            why,
            ["labels differ; kept (recreate: never keeps a volume's data)"]
        );
        let s = spec(
            json!({"name": "data", "labels": {"backup": "daily"}, "recreate": "options-changed"}),
        );
        assert_eq!(
            plan(&s, Some(&v)).0,
            [
                "docker volume rm data >/dev/null",
                "docker volume create --label=backup=daily data >/dev/null"
            ]
        );
        let same = json!({"Driver": "local", "Labels": {"backup": "daily"}});
        assert!(plan(&s, Some(&same)).0.is_empty());
        let gone = spec(json!({"name": "data", "state": "absent"}));
        assert_eq!(
            plan(&gone, Some(&same)).0,
            ["docker volume rm data >/dev/null"]
        );
    }
}
