//! docker_network: a Docker network as community.docker's module keeps it: made with the task's
//! driver, options, subnets, flags and labels, remade when one of those differs (only with
//! `force: true` while containers are attached: remaking it cuts them off), removed with absent;
//! `connected` containers are connected (and, without `appends`, the others disconnected).

use serde_json::{Value as Json, json};

use super::{Compare, Object, Setting, driver_settings, setting, shell_words, text, unsatisfied};
use crate::modules::{Args, ModuleCtx, Outcome};

/// The task, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub name: String,
    pub present: bool,
    pub settings: Vec<Setting>,
    pub connected: Option<Vec<String>>,
    pub appends: bool,
    pub force: bool,
}

impl Spec {
    pub fn from_args(args: &Args) -> Result<Spec, String> {
        let name = args.str("name").ok_or("docker_network needs `name`")?;
        let present = args.present().map_err(|e| format!("docker_network: {e}"))?;
        let mut settings = driver_settings(args, "docker_network")?;
        if let Some(d) = args.str("ipam_driver") {
            settings.push(setting(
                "ipam_driver",
                vec![format!("--ipam-driver={d}")],
                json!(d),
                Compare::Equal,
            ));
        }
        if let Some(Json::Array(pools)) = args.0.get("ipam_config") {
            let mut flags = Vec::new();
            let mut want = Vec::new();
            for pool in pools {
                let Json::Object(pool) = pool else {
                    return Err("docker_network: each of ipam_config is a mapping (subnet, gateway, iprange)".into());
                };
                let mut w = serde_json::Map::new();
                for (key, value) in pool {
                    let (flag, field) = match key.as_str() {
                        "subnet" => ("--subnet", "Subnet"),
                        "gateway" => ("--gateway", "Gateway"),
                        "iprange" | "ip_range" => ("--ip-range", "IPRange"),
                        other => {
                            return Err(format!(
                                "docker_network: ipam_config `{other}` is not supported (subnet, gateway, iprange)"
                            ));
                        }
                    };
                    flags.push(format!("{flag}={}", text(value)));
                    w.insert(field.into(), json!(text(value)));
                }
                want.push(Json::Object(w));
            }
            settings.push(setting(
                "ipam_config",
                flags,
                Json::Array(want),
                Compare::EachIn,
            ));
        }
        for (key, flag) in [
            ("internal", "--internal"),
            ("attachable", "--attachable"),
            ("enable_ipv6", "--ipv6"),
        ] {
            if let Some(b) = args.bool(key) {
                let flags = if b {
                    vec![flag.to_string()]
                } else {
                    Vec::new()
                };
                settings.push(setting(key, flags, json!(b), Compare::Equal));
            }
        }
        Ok(Spec {
            name,
            present,
            settings,
            connected: args
                .0
                .contains_key("connected")
                .then(|| args.list("connected")),
            appends: args.bool("appends") == Some(true),
            force: args.bool("force") == Some(true),
        })
    }

    fn create_command(&self) -> String {
        let mut words = vec!["docker".to_string(), "network".into(), "create".into()];
        for s in &self.settings {
            words.extend(s.flags.iter().cloned());
        }
        words.push(self.name.clone());
        format!("{} >/dev/null", shell_words(&words))
    }
}

/// What `docker network inspect` shows of a setting.
pub fn actual(param: &str, n: &Json) -> Json {
    let at = |p: &str| n.pointer(p).cloned().unwrap_or(Json::Null);
    match param {
        "driver" => at("/Driver"),
        "ipam_driver" => at("/IPAM/Driver"),
        "driver_options" => at("/Options"),
        "labels" => at("/Labels"),
        "ipam_config" => at("/IPAM/Config"),
        "internal" => at("/Internal"),
        "attachable" => at("/Attachable"),
        "enable_ipv6" => at("/EnableIPv6"),
        _ => Json::Null,
    }
}

/// The containers attached to the network, by name.
fn attached(n: &Json) -> Vec<String> {
    n["Containers"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, c)| c["Name"].as_str().map(String::from))
        .collect()
}

/// The commands that make the network as the task says, and what they do; empty when it is so.
pub fn plan(spec: &Spec, found: Option<&Json>) -> Result<(Vec<String>, Vec<String>), String> {
    let net = drover_ssh::shell::quote(&spec.name);
    let mut steps = Vec::new();
    let mut why = Vec::new();
    let disconnect = |c: &str| {
        format!(
            "docker network disconnect -f {net} {} >/dev/null",
            drover_ssh::shell::quote(c)
        )
    };
    let mut members = found.map(attached).unwrap_or_default();
    match (found, spec.present) {
        (None, false) => {}
        (Some(_), false) => {
            if !members.is_empty() && !spec.force {
                return Err(format!(
                    "docker_network: {} still has containers attached ({}); disconnect them or give `force: true`",
                    spec.name,
                    members.join(", ")
                ));
            }
            steps.extend(members.iter().map(|c| disconnect(c)));
            steps.push(format!("docker network rm {net} >/dev/null"));
            why.push("removed".into());
        }
        (None, true) => {
            steps.push(spec.create_command());
            why.push("created".into());
            members.clear();
        }
        (Some(n), true) => {
            let diff = unsatisfied(&spec.settings, |p| actual(p, n));
            if !diff.is_empty() {
                if !members.is_empty() && !spec.force {
                    return Err(format!(
                        "docker_network: {} differs ({}) and must be remade, but containers are attached ({}); give `force: true` to disconnect them",
                        spec.name,
                        diff.join(", "),
                        members.join(", ")
                    ));
                }
                steps.extend(members.iter().map(|c| disconnect(c)));
                steps.push(format!("docker network rm {net} >/dev/null"));
                steps.push(spec.create_command());
                why.push(format!("recreated: {} differ", diff.join(", ")));
                members.clear();
            }
        }
    }
    if spec.present
        && let Some(wanted) = &spec.connected
    {
        for c in wanted.iter().filter(|c| !members.contains(c)) {
            steps.push(format!(
                "docker network connect {net} {} >/dev/null",
                drover_ssh::shell::quote(c)
            ));
            why.push(format!("connected {c}"));
        }
        if !spec.appends {
            for c in members.iter().filter(|c| !wanted.contains(c)) {
                steps.push(disconnect(c));
                why.push(format!("disconnected {c}"));
            }
        }
    }
    Ok((steps, why))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match Spec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let object = Object { kind: "network" };
    let found = match object.find(&spec.name, ctx).await {
        Ok(f) => f,
        Err(e) => return Outcome::fail(e),
    };
    match plan(&spec, found.as_ref()) {
        Ok(p) => object.apply(&spec.name, p, found, ctx).await,
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Json) -> Spec {
        Spec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn a_network_is_made_left_alone_or_remade() {
        let s = spec(
            json!({"name": "front", "driver": "bridge", "ipam_config": [{"subnet": "10.9.0.0/24"}], "labels": {"app": "web"}, "connected": ["web"]}),
        );
        let (steps, why) = plan(&s, None).unwrap();
        assert_eq!(
            steps,
            [
                "docker network create --driver=bridge --label=app=web --subnet=10.9.0.0/24 front >/dev/null",
                "docker network connect front web >/dev/null",
            ]
        );
        assert_eq!(why, ["created", "connected web"]);
        let inspected = json!({"Driver": "bridge", "Labels": {"app": "web"}, "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.9.0.0/24", "Gateway": "10.9.0.1"}]},
                               "Containers": {"abc": {"Name": "web"}}});
        assert_eq!(
            plan(&s, Some(&inspected)).unwrap(),
            (Vec::<String>::new(), Vec::<String>::new())
        );
        let other = spec(json!({"name": "front", "ipam_config": [{"subnet": "10.8.0.0/24"}]}));
        assert!(
            plan(&other, Some(&inspected))
                .unwrap_err()
                .contains("containers are attached (web)")
        );
        let forced = spec(
            json!({"name": "front", "ipam_config": [{"subnet": "10.8.0.0/24"}], "force": true}),
        );
        assert_eq!(
            plan(&forced, Some(&inspected)).unwrap().0[..2],
            [
                "docker network disconnect -f front web >/dev/null".to_string(),
                "docker network rm front >/dev/null".to_string(),
            ]
        );
        let only = spec(json!({"name": "front", "connected": []}));
        assert_eq!(
            plan(&only, Some(&inspected)).unwrap().1,
            ["disconnected web"]
        );
    }
}
