//! `module_defaults:` (play, block, include and task keyword): parameters a module takes when a
//! task does not give them, as Ansible applies them. Keys are module names (short, FQCN or
//! `ansible.legacy.`) or `group/NAME` for an action group; each entry's parameters are checked
//! against the module (every module of the group) when the playbook loads, and their values may be
//! templates, rendered with the task's own parameters when it runs.
//!
//! As in Ansible, an inner layer's entry for a module replaces the outer one's whole (they are not
//! merged parameter by parameter), group defaults lie beneath a module's own, and the task's own
//! parameters win over both. A module drover does not have can have defaults: no task of it can
//! load, so they cannot apply to anything.

use drover_yaml::Node;
use serde_json::{Map, Value as Json};

use crate::error::PlaybookError;
use crate::module::{Module, ModuleKind, Spec, check_types, find};
use crate::source::Source;

/// The modules drover has of an action group (by its short or collection-qualified name).
pub fn group_members(group: &str) -> &'static [ModuleKind] {
    use ModuleKind::*;
    match group {
        "docker" | "community.docker.docker" => &[
            DockerCompose,
            DockerContainer,
            DockerContainerInfo,
            DockerContainerExec,
            DockerImage,
            DockerImageInfo,
            DockerLogin,
            DockerNetwork,
            DockerPrune,
            DockerVolume,
        ],
        _ => &[],
    }
}

/// The spec a `module_defaults:` key names (`ansible.legacy.` read as `ansible.builtin.`).
fn module_of(key: &str) -> Option<&'static Spec> {
    find(key.strip_prefix("ansible.legacy.").unwrap_or(key))
}

/// The key an entry is kept under: the module's own name, or `group/` and the group's short name,
/// so `apt` and `ansible.builtin.apt` (or `group/docker` and `group/community.docker.docker`) are
/// the same entry, as Ansible resolves them.
fn canonical(key: &str) -> String {
    match key.strip_prefix("group/") {
        Some(group) => format!("group/{}", group.rsplit('.').next().unwrap_or(group)),
        None => module_of(key).map_or_else(|| key.to_string(), |s| s.name.to_string()),
    }
}

/// Reads and checks one `module_defaults:` value: a mapping, or a list of them (later entries
/// replacing earlier ones for the same module).
pub fn parse(src: &Source, v: &Node) -> Result<Json, PlaybookError> {
    let maps: Vec<&Node> = match &v.value {
        drover_yaml::Value::Seq(items) => items.iter().collect(),
        drover_yaml::Value::Map(_) => vec![v],
        _ => {
            return Err(src.invalid(
                v,
                "module_defaults: expected a mapping of module names (or group/NAME) to their default parameters",
            ));
        }
    };
    let mut layer = Map::new();
    for map in maps {
        for (key, params) in src.map(map, "module_defaults")? {
            let name = key.key_string();
            let entries = src.map(params, &format!("module_defaults: `{name}`"))?;
            let specs: Vec<&Spec> = match name.strip_prefix("group/") {
                Some(group) => group_members(group).iter().map(|k| k.spec()).collect(),
                None => module_of(&name).into_iter().collect(),
            };
            for spec in specs.iter().filter(|s| !s.any_params) {
                let names = spec.param_names();
                src.check_keys(
                    entries,
                    &names,
                    &format!("module_defaults for module `{}`", spec.name),
                )?;
                check_types(src, spec, entries)?;
            }
            layer.insert(canonical(&name), params.to_json());
        }
    }
    Ok(Json::Object(layer))
}

/// A module call's parameters with the defaults of `layers` (outermost first) beneath them.
pub fn apply(layers: &[Json], module: &Module) -> Map<String, Json> {
    let mut entries = Map::new();
    for layer in layers {
        entries.extend(layer.as_object().cloned().unwrap_or_default());
    }
    let mut args = Map::new();
    let groups = entries
        .iter()
        .filter(|(k, _)| {
            k.strip_prefix("group/")
                .is_some_and(|g| group_members(g).contains(&module.kind))
        })
        .map(|(_, v)| v);
    for params in groups.chain(entries.get(module.kind.name())) {
        args.extend(params.as_object().cloned().unwrap_or_default());
    }
    module.kind.spec().canonical_args(&mut args);
    args.extend(module.args.clone());
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(kind: ModuleKind, args: Json) -> Module {
        Module {
            kind,
            args: args.as_object().unwrap().clone(),
            at: crate::error::At {
                path: "t.yml".into(),
                mark: drover_yaml::Mark { line: 1, col: 1 },
            },
        }
    }

    fn copy(args: Json) -> Module {
        call(ModuleKind::Copy, args)
    }

    #[test]
    fn keys_are_resolved_as_ansible_resolves_them() {
        assert_eq!(canonical("ansible.builtin.copy"), "copy");
        assert_eq!(canonical("ansible.legacy.copy"), "copy");
        assert_eq!(canonical("group/community.docker.docker"), "group/docker");
        assert_eq!(
            canonical("amazon.aws.ec2_instance"),
            "amazon.aws.ec2_instance"
        );
    }

    #[test]
    fn an_inner_entry_replaces_the_outer_and_the_task_wins() {
        let outer = json!({"copy": {"mode": "0600", "backup": true}});
        let inner = json!({"copy": {"mode": "0640"}});
        let task = copy(json!({"dest": "/x", "mode": "0644"}));
        assert_eq!(
            Json::Object(apply(&[outer.clone(), inner], &task)),
            json!({"mode": "0644", "dest": "/x"})
        );
        assert_eq!(
            Json::Object(apply(&[outer], &copy(json!({"dest": "/x"})))),
            json!({"mode": "0600", "backup": true, "dest": "/x"})
        );
    }

    #[test]
    fn group_defaults_lie_beneath_the_modules_own() {
        let layer = json!({"docker_network": {"driver": "overlay"}, "group/docker": {"driver": "bridge", "state": "present"}});
        let task = call(ModuleKind::DockerNetwork, json!({"name": "n"}));
        assert_eq!(
            Json::Object(apply(&[layer], &task)),
            json!({"driver": "overlay", "state": "present", "name": "n"})
        );
    }
}
