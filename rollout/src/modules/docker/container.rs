//! docker_container: one container as community.docker's module keeps it, with the docker CLI (no
//! Python, no Docker SDK on the host). The task's settings are compared with `docker inspect` of the
//! running container, each setting the task names and only those (as the module's default
//! comparisons: lists such as env and labels may hold more, ports, binds and devices must match);
//! the container is recreated only when one differs, the image changed, or `recreate` says so. So a
//! second run changes nothing.
//!
//! drover's own angle: a restart policy that does not bring the container back after a Docker
//! upgrade or a reboot gets `drover compose lint`'s warning, and a change is followed by a new
//! snapshot for the roll call (push/task.rs), so the roll call knows the containers drover made.

use drover_ssh::shell::{quote, split_words};
use serde_json::{Map, Value as Json, json};

use super::{Compare, Setting, satisfied, setting, string_map, text};
use crate::modules::{Args, ModuleCtx, Outcome};

/// What the task wants of the container's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Absent,
    Present,
    Started,
    Stopped,
}

/// When the image is pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pull {
    Missing,
    Always,
    Never,
}

/// The task, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub name: String,
    pub image: Option<String>,
    pub state: State,
    pub pull: Pull,
    pub recreate: bool,
    pub restart: bool,
    pub keep_volumes: bool,
    pub force_kill: bool,
    pub stop_timeout: Option<u64>,
    pub env_file: Option<String>,
    pub settings: Vec<Setting>,
    /// `comparisons: {image: ignore}`: a newer image does not make the container differ.
    pub ignore_image: bool,
    /// `image_name_mismatch: recreate` (community.docker 4's default): a container made from the
    /// same image under another name (`Config.Image`) differs too.
    pub recreate_renamed: bool,
    /// The first of `networks` (given at create) and the rest (connected after).
    pub networks: Vec<Network>,
    /// `purge_networks` (or `comparisons: networks: strict`): the container is on the networks
    /// named and no other.
    pub purge_networks: bool,
    /// The command's words after the image (entrypoint's extra words, then `command`).
    pub args: Vec<String>,
}

/// One network of `networks`.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub name: String,
    pub aliases: Vec<String>,
    pub ipv4_address: Option<String>,
}

/// A size as Docker reads one (`512m`, `1g`, `1024`): bytes.
pub fn bytes(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (digits, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let shift: u32 = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(format!("`{text}` is not a size such as 512m or 1g")),
    };
    let n: f64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 512m or 1g"))?;
    Ok((n * (1u64 << shift) as f64) as u64)
}

/// A duration as the module reads one (`30s`, `1m30s`, `500ms`, `1h`): nanoseconds, as Docker keeps it.
pub fn nanos(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}` is not a duration such as 30s or 1m30s");
    let mut total = 0f64;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = rest.parse::<f64>() {
        return Ok((n * 1e9) as u64);
    }
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..split].parse().map_err(|_| bad())?;
        let unit_end = rest[split..]
            .find(|c: char| c.is_ascii_digit())
            .map_or(rest.len(), |i| split + i);
        let scale = match &rest[split..unit_end] {
            "ms" => 1e6,
            "us" => 1e3,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += n * scale;
        rest = &rest[unit_end..];
    }
    Ok(total as u64)
}

/// A published port as Docker keeps it: `IP:HOSTPORT:PORT/PROTO` (IP and host port may be empty).
pub fn port(spec: &str) -> Result<String, String> {
    let (addr, proto) = spec.rsplit_once('/').unwrap_or((spec, "tcp"));
    if addr.contains('-') {
        return Err(format!(
            "ports: `{spec}`: port ranges are not supported; list each port"
        ));
    }
    // An IPv6 address is written in brackets: [::1]:8080:80.
    let (ip, rest) = match addr.strip_prefix('[') {
        Some(v6) => {
            let (ip, rest) = v6
                .split_once("]:")
                .ok_or_else(|| format!("ports: `{spec}` is not IP:HOST:CONTAINER"))?;
            (ip.to_string(), rest.to_string())
        }
        None => match addr.matches(':').count() {
            2 => {
                let (ip, rest) = addr.split_once(':').unwrap_or_default();
                (ip.to_string(), rest.to_string())
            }
            _ => (String::new(), addr.to_string()),
        },
    };
    let (host, container) = rest.rsplit_once(':').unwrap_or(("", &rest));
    if container.parse::<u16>().is_err() || (!host.is_empty() && host.parse::<u16>().is_err()) {
        return Err(format!(
            "ports: `{spec}` is not [IP:][HOST:]CONTAINER[/PROTO]"
        ));
    }
    Ok(format!("{ip}:{host}:{container}/{proto}"))
}

/// A device as Docker keeps it: `HOST:CONTAINER:PERMISSIONS`.
fn device(spec: &str) -> String {
    let parts: Vec<&str> = spec.split(':').collect();
    let host = parts[0];
    let container = parts.get(1).copied().unwrap_or(host);
    let perms = parts.get(2).copied().unwrap_or("rwm");
    format!("{host}:{container}:{perms}")
}

/// A capability without the `CAP_` prefix, upper-case (Docker accepts both spellings).
fn capability(c: &str) -> String {
    let c = c.to_ascii_uppercase();
    c.strip_prefix("CAP_").unwrap_or(&c).to_string()
}

/// The words of a parameter given as a list or as one command line (split as Python's shlex).
fn command_words(args: &Args, key: &str) -> Result<Option<Vec<String>>, String> {
    match args.0.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(items)) => Ok(Some(items.iter().map(text).collect())),
        Some(v) => split_words(&text(v))
            .map(Some)
            .map_err(|e| format!("{key}: {e}")),
    }
}

/// Reads the task's settings (everything compared with the container) in a fixed order.
/// `mounts:` as `--mount` flags and as the comparable `type:source:target:read_only` of each
/// (what `docker inspect` shows under HostConfig.Mounts).
fn mounts_of(mounts: &Json) -> Result<(Vec<String>, Vec<Json>), String> {
    let items = mounts
        .as_array()
        .ok_or("mounts: expected a list of mappings")?;
    let (mut flags, mut want) = (Vec::new(), Vec::new());
    for item in items {
        let m = item.as_object().ok_or("mounts: each mount is a mapping")?;
        if let Some(k) = m
            .keys()
            .find(|k| !["source", "target", "type", "read_only"].contains(&k.as_str()))
        {
            return Err(format!(
                "mounts: `{k}` is not supported (source, target, type, read_only)"
            ));
        }
        let word = |k: &str| m.get(k).map(text).unwrap_or_default();
        let (target, source) = (word("target"), word("source"));
        let kind = m.get("type").map_or_else(|| "volume".to_string(), text);
        if target.is_empty() {
            return Err("mounts: each mount needs `target`".into());
        }
        if !["bind", "volume", "tmpfs"].contains(&kind.as_str()) {
            return Err(format!(
                "mounts: `type: {kind}` is not bind, volume or tmpfs"
            ));
        }
        // --mount is comma-separated: a comma in a path cannot be said there.
        if target.contains(',') || source.contains(',') {
            return Err(format!(
                "mounts: `{source}` / `{target}`: a path with a comma cannot be mounted"
            ));
        }
        let read_only = m
            .get("read_only")
            .and_then(drover_roles::module::truthy)
            .unwrap_or(false);
        let mut flag = format!("--mount=type={kind},target={target}");
        if !source.is_empty() {
            flag.push_str(&format!(",source={source}"));
        }
        if read_only {
            flag.push_str(",readonly");
        }
        flags.push(flag);
        want.push(json!(format!("{kind}:{source}:{target}:{read_only}")));
    }
    Ok((flags, want))
}

/// `comparisons:` as community.docker reads it: for each option (or `*` for all), `strict` (the
/// same value), `allow_more_present` (the container may have more) or `ignore` (never compared).
/// Returns the settings compared that way and whether the image is ignored.
fn comparisons(args: &Args, mut settings: Vec<Setting>) -> Result<(Vec<Setting>, bool), String> {
    use super::Compare::*;
    let Some(map) = args.0.get("comparisons").filter(|c| !c.is_null()) else {
        return Ok((settings, false));
    };
    let map = map.as_object().ok_or("comparisons: expected a mapping")?;
    let options = drover_roles::ModuleKind::DockerContainer.spec().params;
    for (key, how) in map {
        if key != "*" && !options.iter().any(|p| p.name == key) {
            return Err(format!(
                "comparisons: `{key}` is not an option of docker_container"
            ));
        }
        match how.as_str() {
            Some("strict" | "ignore" | "allow_more_present") => {}
            _ => {
                return Err(format!(
                    "comparisons: `{key}: {how}` is not strict, ignore or allow_more_present"
                ));
            }
        }
        // Networks are compared by name, aliases and address: kept beside others, or alone.
        if key == "networks" && how == "ignore" {
            return Err(
                "comparisons: `networks` can be allow_more_present or strict, not ignore".into(),
            );
        }
    }
    let rule = |key: &str| map.get(key).or_else(|| map.get("*")).and_then(Json::as_str);
    for s in &mut settings {
        s.compare = match (rule(s.param), s.compare, s.want.is_object()) {
            (Some("ignore"), _, _) => Ignored,
            (Some("strict"), Includes, _) => Same,
            (Some("strict"), MapIncludes, _) => Equal,
            (Some("allow_more_present"), Same | Equal, false) if s.want.is_array() => Includes,
            (Some("allow_more_present"), Equal, true) => MapIncludes,
            (_, compare, _) => compare,
        };
    }
    Ok((settings, rule("image") == Some("ignore")))
}

fn settings(args: &Args, defaults: bool) -> Result<(Vec<Setting>, Vec<String>), String> {
    use Compare::*;
    let mut s = Vec::new();
    let one = |flag: &str, v: &str| vec![format!("{flag}={v}")];
    let string = |key: &'static str, flag: &str, s: &mut Vec<Setting>| {
        if let Some(v) = args.str(key) {
            s.push(setting(key, one(flag, &v), json!(v), Equal));
        }
    };
    let boolean = |key: &'static str, flag: &str, default: bool, s: &mut Vec<Setting>| {
        let value = args.bool(key).or(defaults.then_some(default));
        if let Some(b) = value {
            let flags = if b {
                vec![flag.to_string()]
            } else {
                Vec::new()
            };
            s.push(setting(key, flags, json!(b), Equal));
        }
    };
    let size = |key: &'static str, flag: &str, s: &mut Vec<Setting>| -> Result<(), String> {
        if let Some(v) = args.str(key) {
            let n = bytes(&v).map_err(|e| format!("{key}: {e}"))?;
            s.push(setting(key, one(flag, &v), json!(n), Equal));
        }
        Ok(())
    };
    let list = |key: &'static str,
                flag: &str,
                norm: fn(&str) -> String,
                cmp: Compare,
                s: &mut Vec<Setting>| {
        if args.0.get(key).is_some_and(|v| !v.is_null()) {
            let items = args.list(key);
            let flags = items.iter().map(|i| format!("{flag}={i}")).collect();
            let want = items.iter().map(|i| json!(norm(i))).collect();
            s.push(setting(key, flags, Json::Array(want), cmp));
        }
    };

    if let Some(policy) = args.str("restart_policy") {
        let retries = args.str("restart_retries");
        let flag = match (&retries, policy.as_str()) {
            (Some(r), "on-failure") => format!("--restart=on-failure:{r}"),
            _ => format!("--restart={policy}"),
        };
        s.push(setting("restart_policy", vec![flag], json!(policy), Equal));
        if let Some(r) = retries {
            let n: u64 = r
                .parse()
                .map_err(|_| format!("restart_retries: `{r}` is not a number"))?;
            s.push(setting("restart_retries", Vec::new(), json!(n), Equal));
        }
    }
    let mut ports = args.list("ports");
    ports.extend(args.list("published_ports"));
    if args.0.contains_key("ports") || args.0.contains_key("published_ports") {
        let want = ports
            .iter()
            .map(|p| port(p))
            .collect::<Result<Vec<_>, _>>()?;
        let flags = ports.iter().map(|p| format!("--publish={p}")).collect();
        s.push(setting("ports", flags, json!(want), Same));
    }
    list(
        "exposed_ports",
        "--expose",
        |p| {
            if p.contains('/') {
                p.to_string()
            } else {
                format!("{p}/tcp")
            }
        },
        Includes,
        &mut s,
    );
    list("volumes", "--volume", |v| v.to_string(), Same, &mut s);
    if let Some(mounts) = args.0.get("mounts").filter(|m| !m.is_null()) {
        let (flags, want) = mounts_of(mounts)?;
        s.push(setting("mounts", flags, Json::Array(want), Same));
    }
    let env = string_map(args, "env")?;
    if !env.is_empty() {
        let flags = env
            .iter()
            .map(|(k, v)| format!("--env={k}={}", text(v)))
            .collect();
        let want = env
            .iter()
            .map(|(k, v)| json!(format!("{k}={}", text(v))))
            .collect();
        s.push(setting("env", flags, Json::Array(want), Includes));
    }
    let labels = string_map(args, "labels")?;
    if !labels.is_empty() {
        let flags = labels
            .iter()
            .map(|(k, v)| format!("--label={k}={}", text(v)))
            .collect();
        s.push(setting("labels", flags, Json::Object(labels), MapIncludes));
    }
    string("network_mode", "--network", &mut s);
    string("user", "--user", &mut s);
    string("hostname", "--hostname", &mut s);
    string("working_dir", "--workdir", &mut s);
    string("log_driver", "--log-driver", &mut s);
    string("pid_mode", "--pid", &mut s);
    string("ipc_mode", "--ipc", &mut s);
    string("runtime", "--runtime", &mut s);
    string("stop_signal", "--stop-signal", &mut s);
    list(
        "dns_search_domains",
        "--dns-search",
        |d| d.to_string(),
        Same,
        &mut s,
    );
    if let Some(n) = args.num("cpu_shares") {
        let n = n as u64;
        s.push(setting(
            "cpu_shares",
            one("--cpu-shares", &n.to_string()),
            json!(n),
            Equal,
        ));
    }
    if let Some(requests) = args.0.get("device_requests").filter(|v| !v.is_null()) {
        s.push(device_requests(requests)?);
    }
    let log_options = string_map(args, "log_options")?;
    if !log_options.is_empty() {
        let flags = log_options
            .iter()
            .map(|(k, v)| format!("--log-opt={k}={}", text(v)))
            .collect();
        s.push(setting(
            "log_options",
            flags,
            Json::Object(log_options),
            MapIncludes,
        ));
    }
    list("devices", "--device", device, Same, &mut s);
    list("capabilities", "--cap-add", capability, Same, &mut s);
    list("cap_drop", "--cap-drop", capability, Same, &mut s);
    list("dns_servers", "--dns", |d| d.to_string(), Same, &mut s);
    list(
        "volumes_from",
        "--volumes-from",
        |v| v.to_string(),
        Same,
        &mut s,
    );
    // Docker keeps a link as `/OTHER:/THIS/ALIAS`.
    if args.0.get("links").is_some_and(|v| !v.is_null()) {
        let this = args.str("name").unwrap_or_default();
        let items = args.list("links");
        let flags = items.iter().map(|l| format!("--link={l}")).collect();
        let want = items
            .iter()
            .map(|l| {
                let (other, alias) = l.split_once(':').unwrap_or((l, l));
                json!(format!("/{other}:/{this}/{alias}"))
            })
            .collect();
        s.push(setting("links", flags, Json::Array(want), Same));
    }
    list(
        "security_opts",
        "--security-opt",
        |o| o.to_string(),
        Same,
        &mut s,
    );
    list("groups", "--group-add", |g| g.to_string(), Same, &mut s);
    if args.0.get("tmpfs").is_some_and(|v| !v.is_null()) {
        let items = args.list("tmpfs");
        let mut want = Map::new();
        for t in &items {
            let (path, opts) = t.split_once(':').unwrap_or((t, ""));
            want.insert(path.to_string(), json!(opts));
        }
        let flags = items.iter().map(|t| format!("--tmpfs={t}")).collect();
        s.push(setting("tmpfs", flags, Json::Object(want), MapIncludes));
    }
    let hosts = string_map(args, "etc_hosts")?;
    if !hosts.is_empty() {
        let entries: Vec<String> = hosts
            .iter()
            .map(|(h, ip)| format!("{h}:{}", text(ip)))
            .collect();
        let flags = entries.iter().map(|e| format!("--add-host={e}")).collect();
        s.push(setting("etc_hosts", flags, json!(entries), Same));
    }
    let sysctls = string_map(args, "sysctls")?;
    if !sysctls.is_empty() {
        let flags = sysctls
            .iter()
            .map(|(k, v)| format!("--sysctl={k}={}", text(v)))
            .collect();
        s.push(setting(
            "sysctls",
            flags,
            Json::Object(sysctls),
            MapIncludes,
        ));
    }
    if args.0.get("ulimits").is_some_and(|v| !v.is_null()) {
        let mut want = Vec::new();
        let mut flags = Vec::new();
        for u in args.list("ulimits") {
            let parts: Vec<&str> = u.split(':').collect();
            let (name, soft) = match parts.as_slice() {
                [name, soft, ..] => (*name, *soft),
                _ => return Err(format!("ulimits: `{u}` is not NAME:SOFT[:HARD]")),
            };
            let hard = parts.get(2).copied().unwrap_or(soft);
            flags.push(format!("--ulimit={name}={soft}:{hard}"));
            want.push(json!(format!("{name}:{soft}:{hard}")));
        }
        s.push(setting("ulimits", flags, Json::Array(want), Same));
    }
    size("memory", "--memory", &mut s)?;
    size("memory_reservation", "--memory-reservation", &mut s)?;
    size("memory_swap", "--memory-swap", &mut s)?;
    size("shm_size", "--shm-size", &mut s)?;
    if let Some(c) = args.num("cpus") {
        s.push(setting(
            "cpus",
            one("--cpus", &c.to_string()),
            json!((c * 1e9).round() as u64),
            Equal,
        ));
    }
    if let Some(t) = args.str("stop_timeout") {
        let n: u64 = t
            .parse()
            .map_err(|_| format!("stop_timeout: `{t}` is not a number of seconds"))?;
        s.push(setting(
            "stop_timeout",
            one("--stop-timeout", &t),
            json!(n),
            Equal,
        ));
    }
    boolean("privileged", "--privileged", false, &mut s);
    boolean("read_only", "--read-only", false, &mut s);
    boolean("init", "--init", false, &mut s);
    boolean("tty", "--tty", false, &mut s);
    boolean("interactive", "--interactive", false, &mut s);
    boolean("auto_remove", "--rm", false, &mut s);
    if let Some(h) = args.0.get("healthcheck").filter(|v| !v.is_null()) {
        s.push(healthcheck(h)?);
    }
    // The entrypoint: the CLI takes its first word; the rest go before the command.
    let entrypoint = command_words(args, "entrypoint")?;
    let command = command_words(args, "command")?;
    let mut words = Vec::new();
    if let Some(ep) = &entrypoint {
        let first = ep.first().cloned().unwrap_or_default();
        s.push(setting(
            "entrypoint",
            one("--entrypoint", &first),
            json!([first]),
            Equal,
        ));
        words.extend(ep.iter().skip(1).cloned());
    }
    if let Some(cmd) = &command {
        words.extend(cmd.iter().cloned());
    }
    if entrypoint.is_some() || command.is_some() {
        s.push(setting("command", Vec::new(), json!(words), Equal));
    }
    Ok((s, words))
}

/// `healthcheck`: test (a command line, or a list with CMD/CMD-SHELL/NONE first), interval, timeout,
/// retries, start_period. The CLI sets the test as a shell command; an exec-form list becomes its
/// words quoted, which runs the same.
fn healthcheck(h: &Json) -> Result<Setting, String> {
    let Json::Object(h) = h else {
        return Err(
            "healthcheck: expected a mapping (test, interval, timeout, retries, start_period)"
                .into(),
        );
    };
    let mut want = Map::new();
    let mut flags = Vec::new();
    for key in h.keys() {
        if !["test", "interval", "timeout", "retries", "start_period"].contains(&key.as_str()) {
            return Err(format!(
                "healthcheck: `{key}` is not supported (test, interval, timeout, retries, start_period)"
            ));
        }
    }
    match h.get("test") {
        Some(Json::Array(items)) => {
            let words: Vec<String> = items.iter().map(text).collect();
            match words.first().map(String::as_str) {
                Some("NONE") => {
                    flags.push("--no-healthcheck".to_string());
                    want.insert("Test".into(), json!(["NONE"]));
                }
                Some("CMD-SHELL") => {
                    let line = words[1..].join(" ");
                    flags.push(format!("--health-cmd={line}"));
                    want.insert("Test".into(), json!(["CMD-SHELL", line]));
                }
                Some("CMD") => {
                    let line = words[1..]
                        .iter()
                        .map(|w| quote(w))
                        .collect::<Vec<_>>()
                        .join(" ");
                    flags.push(format!("--health-cmd={line}"));
                    want.insert("Test".into(), json!(["CMD-SHELL", line]));
                }
                _ => {
                    return Err(
                        "healthcheck: a `test` list starts with CMD, CMD-SHELL or NONE".into(),
                    );
                }
            }
        }
        Some(Json::Null) | None => {}
        Some(line) => {
            let line = text(line);
            flags.push(format!("--health-cmd={line}"));
            want.insert("Test".into(), json!(["CMD-SHELL", line]));
        }
    }
    for (key, flag, field) in [
        ("interval", "--health-interval", "Interval"),
        ("timeout", "--health-timeout", "Timeout"),
        ("start_period", "--health-start-period", "StartPeriod"),
    ] {
        if let Some(v) = h.get(key).filter(|v| !v.is_null()) {
            let v = text(v);
            let n = nanos(&v).map_err(|e| format!("healthcheck.{key}: {e}"))?;
            flags.push(format!("{flag}={}ms", n / 1_000_000));
            want.insert(field.into(), json!(n));
        }
    }
    if let Some(r) = h.get("retries").filter(|v| !v.is_null()) {
        let n: u64 = text(r)
            .parse()
            .map_err(|_| format!("healthcheck.retries: `{}` is not a number", text(r)))?;
        flags.push(format!("--health-retries={n}"));
        want.insert("Retries".into(), json!(n));
    }
    Ok(setting(
        "healthcheck",
        flags,
        Json::Object(want),
        Compare::MapIncludes,
    ))
}

fn networks(args: &Args) -> Result<Vec<Network>, String> {
    let Some(Json::Array(items)) = args.0.get("networks") else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|n| match n {
            Json::String(name) => Ok(Network {
                name: name.clone(),
                aliases: Vec::new(),
                ipv4_address: None,
            }),
            Json::Object(m) => {
                for key in m.keys() {
                    if !["name", "aliases", "ipv4_address"].contains(&key.as_str()) {
                        return Err(format!(
                            "networks: `{key}` is not supported (name, aliases, ipv4_address)"
                        ));
                    }
                }
                Ok(Network {
                    name: m
                        .get("name")
                        .and_then(Json::as_str)
                        .ok_or("networks: each needs a `name`")?
                        .to_string(),
                    aliases: m
                        .get("aliases")
                        .map(crate::modules::json_words)
                        .unwrap_or_default(),
                    ipv4_address: m
                        .get("ipv4_address")
                        .and_then(Json::as_str)
                        .map(String::from),
                })
            }
            other => Err(format!(
                "networks: expected a name or a mapping, found {other}"
            )),
        })
        .collect()
}

impl Spec {
    pub fn from_args(args: &Args) -> Result<Spec, String> {
        let name = args.str("name").ok_or("docker_container needs `name`")?;
        let state = match args.str("state").as_deref() {
            None | Some("started") => State::Started,
            Some("present") => State::Present,
            Some("stopped") => State::Stopped,
            Some("absent") => State::Absent,
            Some(other) => {
                return Err(format!(
                    "docker_container: `state: {other}` is not absent, present, started or stopped"
                ));
            }
        };
        let pull = match args.str("pull").as_deref() {
            None | Some("missing" | "false" | "no") => Pull::Missing,
            Some("always" | "true" | "yes") => Pull::Always,
            Some("never") => Pull::Never,
            Some(other) => {
                return Err(format!(
                    "docker_container: `pull: {other}` is not missing, always or never"
                ));
            }
        };
        // community.docker's default since 2.0 (and its only behaviour since 4.0) is drover's:
        // the networks named are the container's, as `docker run --network` makes them.
        if args.bool("networks_cli_compatible") == Some(false) {
            return Err("docker_container: `networks_cli_compatible: false` (also keep the default network) is not supported; community.docker 4 removed it too".into());
        }
        if args.bool("detach") == Some(false) {
            return Err("docker_container: `detach: false` (run and wait for the container) is not supported; use `command` on the host or a started container".into());
        }
        let defaults = match args.str("container_default_behavior").as_deref() {
            None | Some("no_defaults") => false,
            Some("compatibility") => true,
            Some(other) => {
                return Err(format!(
                    "docker_container: `container_default_behavior: {other}` is not compatibility or no_defaults"
                ));
            }
        };
        let (settings, args_words) =
            settings(args, defaults).map_err(|e| format!("docker_container: {e}"))?;
        let (settings, ignore_image) =
            comparisons(args, settings).map_err(|e| format!("docker_container: {e}"))?;
        let networks = networks(args).map_err(|e| format!("docker_container: {e}"))?;
        let stop_timeout = args.num("stop_timeout").map(|n| n as u64);
        Ok(Spec {
            name,
            image: args.str("image"),
            state,
            pull,
            recreate: args.bool("recreate") == Some(true),
            restart: args.bool("restart") == Some(true),
            keep_volumes: args.bool("keep_volumes") != Some(false),
            force_kill: args.bool("force_kill") == Some(true),
            stop_timeout,
            env_file: args.str("env_file"),
            settings,
            ignore_image,
            recreate_renamed: match args.str("image_name_mismatch").as_deref() {
                None | Some("recreate") => true,
                Some("ignore") => false,
                Some(other) => {
                    return Err(format!(
                        "docker_container: `image_name_mismatch: {other}` is not recreate or ignore"
                    ));
                }
            },
            purge_networks: args.bool("purge_networks") == Some(true)
                || args
                    .0
                    .get("comparisons")
                    .and_then(|c| c.get("networks"))
                    .and_then(Json::as_str)
                    == Some("strict"),
            networks,
            args: args_words,
        })
    }

    /// The first step: the image's id (pulled as `pull` says, never in check mode), the
    /// container's `docker inspect` and the env_file's text, between marker lines.
    pub fn inspect_command(&self, check: bool) -> String {
        let n = quote(&self.name);
        let mut s = String::new();
        if let Some(image) = &self.image {
            let i = quote(image);
            let id = format!("docker image inspect --format '{{{{.Id}}}}' {i} 2>/dev/null");
            if self.pull == Pull::Always && !check {
                s.push_str(&format!("docker pull -q {i} >/dev/null || exit 1; "));
            }
            s.push_str(&format!("img=$({id}); "));
            if self.pull != Pull::Never && !check && self.state != State::Absent {
                s.push_str(&format!(
                    "if [ -z \"$img\" ]; then docker pull -q {i} >/dev/null || exit 1; img=$({id}); fi; "
                ));
            }
            s.push_str("echo \"image:$img\"; ");
        }
        s.push_str(&format!(
            "echo '--container--'; docker inspect --type container {n} 2>/dev/null || echo '[]'"
        ));
        if let Some(f) = &self.env_file {
            s.push_str(&format!(
                "; echo '--env_file--'; cat -- {} || exit 1",
                quote(f)
            ));
        }
        s
    }

    /// `docker create` with every setting; then the extra networks are connected.
    pub fn create_command(&self) -> Result<String, String> {
        let image = self
            .image
            .as_ref()
            .ok_or("docker_container: the container must be created and `image` is not given")?;
        let mut words = vec![
            "docker".to_string(),
            "create".into(),
            format!("--name={}", self.name),
        ];
        if let Some(f) = &self.env_file {
            words.push(format!("--env-file={f}"));
        }
        for s in &self.settings {
            words.extend(s.flags.iter().cloned());
        }
        if let Some(first) = self.networks.first() {
            words.push(format!("--network={}", first.name));
            words.extend(first.aliases.iter().map(|a| format!("--network-alias={a}")));
            words.extend(first.ipv4_address.iter().map(|ip| format!("--ip={ip}")));
        }
        words.push(image.clone());
        words.extend(self.args.iter().cloned());
        let mut cmd = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
        cmd.push_str(" >/dev/null");
        for net in self.networks.iter().skip(1) {
            cmd.push_str(&format!(" && {}", connect_command(&self.name, net)));
        }
        Ok(cmd)
    }

    fn remove_command(&self) -> String {
        let volumes = if self.keep_volumes { "" } else { " -v" };
        format!("docker rm -f{volumes} {} >/dev/null", quote(&self.name))
    }

    fn stop_command(&self) -> String {
        let n = quote(&self.name);
        if self.force_kill {
            return format!("docker kill {n} >/dev/null");
        }
        match self.stop_timeout {
            Some(t) => format!("docker stop -t {t} {n} >/dev/null"),
            None => format!("docker stop {n} >/dev/null"),
        }
    }
}

fn connect_command(container: &str, net: &Network) -> String {
    let mut words = vec!["docker".to_string(), "network".into(), "connect".into()];
    words.extend(net.aliases.iter().map(|a| format!("--alias={a}")));
    words.extend(net.ipv4_address.iter().map(|ip| format!("--ip={ip}")));
    words.push(net.name.clone());
    words.push(container.to_string());
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// What `docker inspect` shows of a setting, read as the setting's `want` is written.
pub fn actual(param: &str, c: &Json) -> Json {
    let at = |p: &str| c.pointer(p).cloned().unwrap_or(Json::Null);
    let strings = |p: &str| -> Vec<String> {
        c.pointer(p)
            .and_then(Json::as_array)
            .map(|a| a.iter().map(text).collect())
            .unwrap_or_default()
    };
    let boolean = |p: &str| json!(c.pointer(p).and_then(Json::as_bool).unwrap_or(false));
    match param {
        "restart_policy" => match c
            .pointer("/HostConfig/RestartPolicy/Name")
            .and_then(Json::as_str)
        {
            None | Some("") => json!("no"),
            Some(p) => json!(p),
        },
        "restart_retries" => at("/HostConfig/RestartPolicy/MaximumRetryCount"),
        "ports" => {
            let mut out = Vec::new();
            if let Some(Json::Object(m)) = c.pointer("/HostConfig/PortBindings") {
                for (port, binds) in m {
                    for b in binds.as_array().into_iter().flatten() {
                        let ip = b["HostIp"].as_str().unwrap_or_default();
                        let host = b["HostPort"].as_str().unwrap_or_default();
                        out.push(json!(format!("{ip}:{host}:{port}")));
                    }
                }
            }
            Json::Array(out)
        }
        "exposed_ports" => keys(c.pointer("/Config/ExposedPorts")),
        "mounts" => Json::Array(
            c.pointer("/HostConfig/Mounts")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(|m| {
                    let word = |k: &str| m[k].as_str().unwrap_or_default().to_string();
                    let read_only = m["ReadOnly"].as_bool().unwrap_or(false);
                    json!(format!(
                        "{}:{}:{}:{read_only}",
                        word("Type"),
                        word("Source"),
                        word("Target")
                    ))
                })
                .collect(),
        ),
        "volumes" => {
            // Binds as written, and anonymous volumes (no `:`) by their path.
            let mut v: Vec<Json> = strings("/HostConfig/Binds")
                .into_iter()
                .map(Json::from)
                .collect();
            if let Some(Json::Array(mounts)) = c.pointer("/Mounts") {
                for m in mounts {
                    if m["Type"] == "volume"
                        && m["Name"].as_str().is_some_and(|n| n.len() == 64)
                        && let Some(d) = m["Destination"].as_str()
                    {
                        v.push(json!(d));
                    }
                }
            }
            Json::Array(v)
        }
        "env" => at("/Config/Env"),
        "labels" => at("/Config/Labels"),
        "network_mode" => at("/HostConfig/NetworkMode"),
        "user" => at("/Config/User"),
        "hostname" => at("/Config/Hostname"),
        "working_dir" => at("/Config/WorkingDir"),
        "log_driver" => at("/HostConfig/LogConfig/Type"),
        "log_options" => at("/HostConfig/LogConfig/Config"),
        "pid_mode" => at("/HostConfig/PidMode"),
        "ipc_mode" => at("/HostConfig/IpcMode"),
        "runtime" => at("/HostConfig/Runtime"),
        "stop_signal" => at("/Config/StopSignal"),
        "dns_search_domains" => json!(strings("/HostConfig/DnsSearch")),
        "cpu_shares" => at("/HostConfig/CpuShares"),
        "device_requests" => Json::Array(
            c.pointer("/HostConfig/DeviceRequests")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(|r| {
                    device_request(
                        text(&r["Driver"]),
                        r["Count"].as_i64().unwrap_or(0),
                        strings_of(&r["DeviceIDs"]),
                        r["Capabilities"]
                            .as_array()
                            .and_then(|sets| sets.first())
                            .map(strings_of)
                            .unwrap_or_default(),
                        r["Options"].clone(),
                    )
                })
                .collect(),
        ),
        "devices" => Json::Array(
            c.pointer("/HostConfig/Devices")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(|d| {
                    json!(format!(
                        "{}:{}:{}",
                        text(&d["PathOnHost"]),
                        text(&d["PathInContainer"]),
                        text(&d["CgroupPermissions"])
                    ))
                })
                .collect(),
        ),
        "capabilities" => caps(&strings("/HostConfig/CapAdd")),
        "cap_drop" => caps(&strings("/HostConfig/CapDrop")),
        "dns_servers" => json!(strings("/HostConfig/Dns")),
        "volumes_from" => json!(strings("/HostConfig/VolumesFrom")),
        "links" => json!(strings("/HostConfig/Links")),
        "security_opts" => json!(strings("/HostConfig/SecurityOpt")),
        "groups" => json!(strings("/HostConfig/GroupAdd")),
        "tmpfs" => at("/HostConfig/Tmpfs"),
        "etc_hosts" => json!(strings("/HostConfig/ExtraHosts")),
        "sysctls" => at("/HostConfig/Sysctls"),
        "ulimits" => Json::Array(
            c.pointer("/HostConfig/Ulimits")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(|u| {
                    json!(format!(
                        "{}:{}:{}",
                        text(&u["Name"]),
                        text(&u["Soft"]),
                        text(&u["Hard"])
                    ))
                })
                .collect(),
        ),
        "memory" => at("/HostConfig/Memory"),
        "memory_reservation" => at("/HostConfig/MemoryReservation"),
        "memory_swap" => at("/HostConfig/MemorySwap"),
        "shm_size" => at("/HostConfig/ShmSize"),
        "cpus" => at("/HostConfig/NanoCpus"),
        "stop_timeout" => at("/Config/StopTimeout"),
        "privileged" => boolean("/HostConfig/Privileged"),
        "read_only" => boolean("/HostConfig/ReadonlyRootfs"),
        "init" => boolean("/HostConfig/Init"),
        "tty" => boolean("/Config/Tty"),
        "interactive" => boolean("/Config/OpenStdin"),
        "auto_remove" => boolean("/HostConfig/AutoRemove"),
        "healthcheck" => at("/Config/Healthcheck"),
        "entrypoint" => at("/Config/Entrypoint"),
        "command" => at("/Config/Cmd"),
        _ => Json::Null,
    }
}

/// A JSON list's strings (none for anything else).
fn strings_of(v: &Json) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// One device request as drover compares it: what `docker inspect` shows of it.
fn device_request(
    driver: String,
    count: i64,
    ids: Vec<String>,
    mut capabilities: Vec<String>,
    options: Json,
) -> Json {
    capabilities.sort();
    capabilities.dedup();
    let options = match options {
        Json::Object(m) => Json::Object(m),
        _ => json!({}),
    };
    json!({"driver": driver, "count": count, "device_ids": ids, "capabilities": capabilities, "options": options})
}

/// `device_requests` as `--gpus` flags, and what Docker then holds for them. The docker CLI's
/// `--gpus` always adds the `gpu` capability, counts 1 when neither `count` nor `device_ids` says,
/// and takes one set of capabilities: what it cannot express is refused.
fn device_requests(requests: &Json) -> Result<Setting, String> {
    let Json::Array(items) = requests else {
        return Err("device_requests: expected a list of requests".into());
    };
    let mut flags = Vec::new();
    let mut want = Vec::new();
    for r in items {
        let Json::Object(r) = r else {
            return Err("device_requests: each request is a mapping (driver, count, device_ids, capabilities, options)".into());
        };
        if let Some(k) = r.keys().find(|k| {
            !["driver", "count", "device_ids", "capabilities", "options"].contains(&k.as_str())
        }) {
            return Err(format!("device_requests: `{k}` is not a request's key"));
        }
        let mut fields = Vec::new();
        let driver = r.get("driver").map(text).unwrap_or_default();
        if !driver.is_empty() {
            fields.push(format!("driver={driver}"));
        }
        let ids = strings_of(r.get("device_ids").unwrap_or(&Json::Null));
        let count = match r.get("count") {
            Some(c) => {
                let n = c.as_i64().or_else(|| text(c).parse().ok()).ok_or_else(|| {
                    format!(
                        "device_requests: count `{}` is not a number (-1: all)",
                        text(c)
                    )
                })?;
                fields.push(if n < 0 {
                    "count=all".into()
                } else {
                    format!("count={n}")
                });
                n
            }
            None if ids.is_empty() => {
                fields.push("count=1".into());
                1
            }
            None => 0,
        };
        if !ids.is_empty() {
            fields.push(format!("\"device={}\"", ids.join(",")));
        }
        let sets = r
            .get("capabilities")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        if sets.len() > 1 {
            return Err(
                "device_requests: the docker CLI takes one set of capabilities per request".into(),
            );
        }
        let mut caps = sets.first().map(strings_of).unwrap_or_default();
        if !caps.is_empty() {
            fields.push(format!("\"capabilities={}\"", caps.join(",")));
        }
        caps.push("gpu".into());
        let options = r.get("options").cloned().unwrap_or(Json::Null);
        if let Json::Object(o) = &options
            && !o.is_empty()
        {
            let pairs: Vec<String> = o.iter().map(|(k, v)| format!("{k}={}", text(v))).collect();
            fields.push(format!("\"options={}\"", pairs.join(",")));
        }
        flags.push(format!("--gpus={}", fields.join(",")));
        want.push(device_request(
            driver,
            if count < 0 { -1 } else { count },
            ids,
            caps,
            options,
        ));
    }
    Ok(setting(
        "device_requests",
        flags,
        Json::Array(want),
        Compare::Same,
    ))
}

fn keys(v: Option<&Json>) -> Json {
    match v {
        Some(Json::Object(m)) => m.keys().map(|k| json!(k)).collect(),
        _ => json!([]),
    }
}

fn caps(items: &[String]) -> Json {
    json!(items.iter().map(|c| capability(c)).collect::<Vec<_>>())
}

/// What the first step found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// The image's id, empty when it is not on the host.
    pub image: Option<String>,
    /// The container's inspect object, if it exists.
    pub container: Option<Json>,
    /// `KEY=VALUE` lines of env_file.
    pub env_file: Vec<String>,
}

pub fn parse_found(out: &str) -> Result<Found, String> {
    let (head, rest) = out
        .split_once("--container--\n")
        .ok_or("docker_container: no inspect output")?;
    let (inspect, env) = rest.split_once("--env_file--\n").unwrap_or((rest, ""));
    let image = head
        .lines()
        .find_map(|l| l.strip_prefix("image:"))
        .map(String::from);
    let container = super::first_inspected(inspect.as_bytes(), "docker_container")?;
    let env_file = env
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && l.contains('='))
        .map(String::from)
        .collect();
    Ok(Found {
        image,
        container,
        env_file,
    })
}

/// The settings that differ from the container's (by name), the image included.
pub fn differences(spec: &Spec, found: &Found, container: &Json) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(id) = &found.image
        && !spec.ignore_image
        && container["Image"].as_str() != Some(id)
    {
        out.push("image".to_string());
    }
    if let Some(name) = &spec.image
        && !spec.ignore_image
        && spec.recreate_renamed
        && container.pointer("/Config/Image").and_then(Json::as_str) != Some(name)
        && !out.iter().any(|d| d == "image")
    {
        out.push("image name".to_string());
    }
    for s in &spec.settings {
        if !satisfied(s, &actual(s.param, container)) {
            out.push(s.param.to_string());
        }
    }
    if !found.env_file.is_empty() {
        let have = actual("env", container);
        let have = have.as_array().cloned().unwrap_or_default();
        if !found.env_file.iter().all(|l| have.contains(&json!(l))) {
            out.push("env_file".into());
        }
    }
    let nets = container
        .pointer("/NetworkSettings/Networks")
        .cloned()
        .unwrap_or(Json::Null);
    if spec.purge_networks && !spec.networks.is_empty() {
        let extra: Vec<&String> = nets
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
            .filter(|name| !spec.networks.iter().any(|n| &n.name == *name))
            .collect();
        if !extra.is_empty() {
            let names: Vec<&str> = extra.iter().map(|s| s.as_str()).collect();
            out.push(format!("networks (also on {})", names.join(", ")));
        }
    }
    for n in &spec.networks {
        let net = &nets[&n.name];
        let aliases: Vec<String> = net["Aliases"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        let ok = !net.is_null()
            && n.aliases.iter().all(|a| aliases.contains(a))
            && n.ipv4_address.as_ref().is_none_or(|ip| {
                net.pointer("/IPAMConfig/IPv4Address")
                    .and_then(Json::as_str)
                    == Some(ip.as_str())
            });
        if !ok {
            out.push(format!("networks ({})", n.name));
        }
    }
    out
}

/// The second step: what must run for the container to be as the task says, and why (for the
/// report), given what the first step found. Empty when nothing needs doing.
pub fn plan(spec: &Spec, found: &Found) -> Result<(Vec<String>, Vec<String>), String> {
    let n = quote(&spec.name);
    let running = found
        .container
        .as_ref()
        .and_then(|c| c.pointer("/State/Running"))
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let mut steps = Vec::new();
    let mut why = Vec::new();
    if spec.state == State::Absent {
        if found.container.is_some() {
            steps.push(spec.remove_command());
            why.push("removed".into());
        }
        return Ok((steps, why));
    }
    if spec.image.is_some()
        && found.image.as_deref().is_none_or(str::is_empty)
        && spec.pull == Pull::Never
    {
        return Err(format!(
            "docker_container: image {} is not on the host and `pull: never`",
            spec.image.as_deref().unwrap_or_default()
        ));
    }
    let recreate = match &found.container {
        None => {
            why.push("created".into());
            true
        }
        Some(c) => {
            let diff = differences(spec, found, c);
            if spec.recreate {
                why.push("recreated (recreate: true)".into());
                true
            } else if !diff.is_empty() {
                why.push(format!("recreated: {} differ", diff.join(", ")));
                true
            } else {
                false
            }
        }
    };
    if recreate {
        if found.container.is_some() {
            steps.push(spec.remove_command());
        }
        steps.push(spec.create_command()?);
    }
    let running = running && !recreate;
    match spec.state {
        State::Started if !running => {
            steps.push(format!("docker start {n} >/dev/null"));
            if !recreate {
                why.push("started".into());
            }
        }
        State::Started if spec.restart => {
            steps.push(format!("docker restart {n} >/dev/null"));
            why.push("restarted".into());
        }
        State::Stopped if running => {
            steps.push(spec.stop_command());
            why.push("stopped".into());
        }
        _ => {}
    }
    Ok((steps, why))
}

/// drover compose lint's warning for the restart policy a started container gets (Docker's default
/// is `no`), or None when it comes back by itself.
pub fn restart_warning(spec: &Spec) -> Option<String> {
    if !matches!(spec.state, State::Started | State::Present) {
        return None;
    }
    let policy = spec
        .settings
        .iter()
        .find(|s| s.param == "restart_policy")
        .and_then(|s| s.want.as_str())
        .unwrap_or("no");
    drover_compose::judge(policy).map(|why| {
        format!(
            "[WARNING]: restart_policy {policy} {why}; use restart_policy: always (see drover compose lint)"
        )
    })
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match Spec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let found = match ctx
        .output_of(&spec.inspect_command(ctx.check), "docker_container")
        .await
    {
        Ok(o) => match parse_found(&String::from_utf8_lossy(&o)) {
            Ok(f) => f,
            Err(e) => return Outcome::fail(e),
        },
        Err(e) => return Outcome::fail(e),
    };
    let (steps, why) = match plan(&spec, &found) {
        Ok(p) => p,
        Err(e) => return Outcome::fail(e),
    };
    let mut out = Outcome {
        changed: !steps.is_empty(),
        ..Outcome::default()
    };
    let warning = restart_warning(&spec);
    out.msg = why
        .iter()
        .cloned()
        .chain(warning.clone())
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(w) = warning {
        out.result.insert("warnings".into(), json!([w]));
    }
    if ctx.diff && !why.is_empty() {
        out.diff = Some(format!("container {}: {}\n", spec.name, why.join("; ")));
    }
    let mut container = found.container.clone();
    if !steps.is_empty() && !ctx.check {
        let cmd = format!("set -e; {}", steps.join("; "));
        if let Err(e) = ctx.output_of(&cmd, "docker_container").await {
            let mut failed = Outcome::fail(e);
            failed.result.insert("cmd".into(), json!(cmd));
            return failed;
        }
        container = match ctx
            .output_of(
                &format!(
                    "docker inspect --type container {} 2>/dev/null || echo '[]'",
                    quote(&spec.name)
                ),
                "docker_container",
            )
            .await
        {
            Ok(o) => super::first_inspected(&o, "docker_container")
                .ok()
                .flatten(),
            Err(e) => return Outcome::fail(e),
        };
    }
    out.result
        .insert("container".into(), container.unwrap_or(Json::Null));
    out
}

/// docker_container_info: `exists` and `container` (docker inspect), changing nothing.
pub async fn info(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(name) = args.str("name") else {
        return Outcome::bad_input("docker_container_info needs `name`");
    };
    let cmd = format!(
        "docker inspect --type container {} 2>/dev/null || echo '[]'",
        quote(&name)
    );
    match ctx.output_of(&cmd, "docker_container_info").await {
        Ok(o) => match super::first_inspected(&o, "docker_container_info") {
            Ok(c) => {
                let mut out = Outcome::default();
                out.result.insert("exists".into(), json!(c.is_some()));
                out.result
                    .insert("container".into(), c.unwrap_or(Json::Null));
                out
            }
            Err(e) => Outcome::fail(e),
        },
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
    fn mounts_become_mount_flags_and_compare_as_docker_shows_them() {
        let (flags, want) = mounts_of(&json!([{"type": "bind", "source": "/srv/conf", "target": "/conf", "read_only": true}, {"type": "tmpfs", "target": "/scratch"}])).unwrap();
        assert_eq!(
            flags,
            [
                "--mount=type=bind,target=/conf,source=/srv/conf,readonly",
                "--mount=type=tmpfs,target=/scratch"
            ]
        );
        assert_eq!(
            want,
            [
                json!("bind:/srv/conf:/conf:true"),
                json!("tmpfs::/scratch:false")
            ]
        );
        assert!(
            mounts_of(&json!([{"target": "/x", "propagation": "rshared"}]))
                .unwrap_err()
                .contains("`propagation` is not supported")
        );
        assert!(
            mounts_of(&json!([{"target": "/a,b"}]))
                .unwrap_err()
                .contains("comma")
        );
    }

    #[test]
    fn networks_cli_compatible_is_drovers_way_and_false_is_refused() {
        let ok = json!({"name": "web", "image": "nginx", "networks_cli_compatible": true});
        assert_eq!(spec(ok).name, "web");
        let refused = json!({"name": "web", "image": "nginx", "networks_cli_compatible": "no"});
        let err = Spec::from_args(&crate::modules::args(refused)).unwrap_err();
        assert!(err.contains("networks_cli_compatible: false"), "{err}");
    }

    #[test]
    fn sizes_durations_and_ports_as_docker_reads_them() {
        assert_eq!(bytes("512m").unwrap(), 512 << 20);
        assert_eq!(bytes("1g").unwrap(), 1 << 30);
        assert_eq!(bytes("1024").unwrap(), 1024);
        assert_eq!(bytes("64MB").unwrap(), 64 << 20);
        assert!(bytes("lots").is_err());
        assert_eq!(nanos("30s").unwrap(), 30_000_000_000);
        assert_eq!(nanos("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(nanos("500ms").unwrap(), 500_000_000);
        assert!(nanos("soon").is_err());
        assert_eq!(port("8080:80").unwrap(), ":8080:80/tcp");
        assert_eq!(
            port("127.0.0.1:8080:80/udp").unwrap(),
            "127.0.0.1:8080:80/udp"
        );
        assert_eq!(port("80").unwrap(), "::80/tcp");
        assert_eq!(port("[::1]:53:53/udp").unwrap(), "::1:53:53/udp");
        assert!(port("8000-8010:8000-8010").is_err());
    }

    #[test]
    fn gpu_requests_are_what_the_docker_cli_makes_of_them() {
        let s = device_requests(&json!([
            {"driver": "nvidia", "count": -1, "capabilities": [["compute", "utility"]]},
            {"device_ids": ["0", "GPU-3a"], "options": {"mig": "1"}},
            {}
        ]))
        .unwrap();
        assert_eq!(
            s.flags,
            [
                "--gpus=driver=nvidia,count=all,\"capabilities=compute,utility\"",
                "--gpus=\"device=0,GPU-3a\",\"options=mig=1\"",
                "--gpus=count=1",
            ]
        );
        // As docker inspect shows them back.
        let inspected = json!({"HostConfig": {"DeviceRequests": [
            {"Driver": "nvidia", "Count": -1, "DeviceIDs": null, "Capabilities": [["compute", "utility", "gpu"]], "Options": {}},
            {"Driver": "", "Count": 0, "DeviceIDs": ["0", "GPU-3a"], "Capabilities": [["gpu"]], "Options": {"mig": "1"}},
            {"Driver": "", "Count": 1, "DeviceIDs": null, "Capabilities": [["gpu"]], "Options": {}}
        ]}});
        assert_eq!(actual("device_requests", &inspected), s.want);
        assert!(device_requests(&json!([{"capabilities": [["gpu"], ["compute"]]}])).is_err());
        assert!(device_requests(&json!([{"gpus": 1}])).is_err());
    }

    #[test]
    fn create_command_carries_every_setting_quoted() {
        let s = spec(json!({
            "name": "web", "image": "nginx:1.27", "restart_policy": "always",
            "ports": ["127.0.0.1:8080:80"], "volumes": ["/srv/web:/usr/share/nginx/html:ro"],
            "env": {"TZ": "Europe/Paris", "GREETING": "it's me"}, "labels": {"app": "web"},
            "networks": [{"name": "front", "aliases": ["www"]}, {"name": "back"}],
            "command": "nginx -g 'daemon off;'", "memory": "256m", "capabilities": ["NET_ADMIN"],
            "healthcheck": {"test": ["CMD", "curl", "-f", "http://localhost/"], "interval": "30s", "retries": 3}
        }));
        assert_eq!(
            s.create_command().unwrap(),
            "docker create --name=web --restart=always --publish=127.0.0.1:8080:80 \
             --volume=/srv/web:/usr/share/nginx/html:ro --env=TZ=Europe/Paris '--env=GREETING=it'\\''s me' \
             --label=app=web --cap-add=NET_ADMIN --memory=256m \
             '--health-cmd=curl -f http://localhost/' --health-interval=30000ms --health-retries=3 \
             --network=front --network-alias=www nginx:1.27 nginx -g 'daemon off;' >/dev/null \
             && docker network connect back web"
        );
    }

    /// An inspect object as Docker 20.10 writes it for `docker run -d --name web --restart always
    /// -p 127.0.0.1:8080:80 -e TZ=UTC --label app=web nginx`, cut to what is compared.
    fn inspected() -> Json {
        json!({
            "Image": "sha256:aaa",
            "State": {"Running": true},
            "Config": {"Image": "nginx", "Env": ["TZ=UTC", "PATH=/usr/bin", "NGINX_VERSION=1.27"], "Labels": {"app": "web", "maintainer": "NGINX"},
                       "Cmd": ["nginx", "-g", "daemon off;"], "Entrypoint": ["/docker-entrypoint.sh"], "User": ""},
            "HostConfig": {"RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
                           "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
                           "Binds": null, "CapAdd": null, "Memory": 0},
            "NetworkSettings": {"Networks": {"bridge": {"Aliases": null}}}
        })
    }

    #[test]
    fn comparisons_say_how_each_option_is_compared() {
        let found = Found {
            image: Some("sha256:bbb".into()),
            container: Some(inspected()),
            env_file: Vec::new(),
        };
        // The image and the restart policy ignored; env strict: the image's own variables differ.
        let relaxed = spec(json!({
            "name": "web", "image": "nginx", "restart_policy": "no", "env": {"TZ": "UTC"},
            "comparisons": {"image": "ignore", "restart_policy": "ignore"}
        }));
        assert_eq!(plan(&relaxed, &found).unwrap().1, Vec::<String>::new());
        let strict = spec(json!({
            "name": "web", "image": "nginx", "env": {"TZ": "UTC"},
            "comparisons": {"*": "strict", "image": "ignore"}
        }));
        assert_eq!(plan(&strict, &found).unwrap().1, ["recreated: env differ"]);
        let bad = |c: Json| {
            Spec::from_args(&crate::modules::args(
                json!({"name": "web", "image": "x", "comparisons": c}),
            ))
            .unwrap_err()
        };
        assert!(bad(json!({"colour": "strict"})).contains("not an option"));
        assert!(bad(json!({"env": "loose"})).contains("not strict, ignore or allow_more_present"));
        assert!(bad(json!({"networks": "ignore"})).contains("allow_more_present or strict"));
    }

    #[test]
    fn a_container_as_asked_is_left_alone_and_a_difference_recreates_it() {
        let found = Found {
            image: Some("sha256:aaa".into()),
            container: Some(inspected()),
            env_file: Vec::new(),
        };
        let same = spec(json!({
            "name": "web", "image": "nginx", "restart_policy": "always", "ports": ["127.0.0.1:8080:80"],
            "env": {"TZ": "UTC"}, "labels": {"app": "web"}
        }));
        assert_eq!(
            plan(&same, &found).unwrap(),
            (Vec::<String>::new(), Vec::<String>::new())
        );
        let changed = spec(json!({
            "name": "web", "image": "nginx", "restart_policy": "unless-stopped", "ports": ["8080:80"],
            "env": {"TZ": "UTC"}
        }));
        let (steps, why) = plan(&changed, &found).unwrap();
        assert_eq!(why, ["recreated: restart_policy, ports differ"]);
        assert_eq!(steps[0], "docker rm -f web >/dev/null");
        assert!(steps[1].starts_with("docker create --name=web --restart=unless-stopped"));
        assert_eq!(steps[2], "docker start web >/dev/null");
        // A new image recreates it; stopped stops it; absent removes it.
        let newer = Found {
            image: Some("sha256:bbb".into()),
            ..found.clone()
        };
        assert_eq!(plan(&same, &newer).unwrap().1, ["recreated: image differ"]);
        // The same image under another name: recreated unless `image_name_mismatch: ignore`.
        let renamed = |extra: Json| {
            let mut args = json!({"name": "web", "image": "docker.io/library/nginx:latest"});
            args.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            plan(&spec(args), &found).unwrap().1
        };
        assert_eq!(renamed(json!({})), ["recreated: image name differ"]);
        assert_eq!(
            renamed(json!({"image_name_mismatch": "recreate"})),
            ["recreated: image name differ"]
        );
        assert!(renamed(json!({"image_name_mismatch": "ignore"})).is_empty());
        assert!(renamed(json!({"comparisons": {"image": "ignore"}})).is_empty());
        assert!(
            Spec::from_args(&crate::modules::args(
                json!({"name": "web", "image": "x", "image_name_mismatch": "sometimes"})
            ))
            .unwrap_err()
            .contains("not recreate or ignore")
        );
        let stop = spec(json!({"name": "web", "state": "stopped"}));
        assert_eq!(
            plan(&stop, &found).unwrap().0,
            ["docker stop web >/dev/null"]
        );
        let kill = spec(json!({"name": "web", "state": "stopped", "force_kill": true}));
        assert_eq!(
            plan(&kill, &found).unwrap().0,
            ["docker kill web >/dev/null"]
        );
        // A setting that differs needs the image to recreate the container.
        let timeout = spec(json!({"name": "web", "state": "stopped", "stop_timeout": 5}));
        assert!(plan(&timeout, &found).is_err());
        let gone = spec(json!({"name": "web", "state": "absent", "keep_volumes": false}));
        assert_eq!(
            plan(&gone, &found).unwrap().0,
            ["docker rm -f -v web >/dev/null"]
        );
        let missing = Found::default();
        assert!(plan(&gone, &missing).unwrap().0.is_empty());
        assert_eq!(plan(&same, &missing).unwrap().1, ["created"]);
    }

    #[test]
    fn links_and_volumes_from_are_held_as_docker_keeps_them() {
        let s = spec(
            json!({"name": "web", "image": "x", "links": ["db:database", "cache"], "volumes_from": ["data"]}),
        );
        let c = json!({"HostConfig": {"Links": ["/cache:/web/cache", "/db:/web/database"], "VolumesFrom": ["data"]}});
        for setting in &s.settings {
            assert!(
                satisfied(setting, &actual(setting.param, &c)),
                "{}",
                setting.param
            );
        }
        assert!(
            s.create_command()
                .unwrap()
                .contains("--link=db:database --link=cache")
        );
    }

    #[test]
    fn restart_policies_that_stay_down_are_warned_about() {
        assert!(restart_warning(&spec(json!({"name": "a", "restart_policy": "always"}))).is_none());
        let w = restart_warning(&spec(
            json!({"name": "a", "restart_policy": "unless-stopped"}),
        ))
        .unwrap();
        assert!(w.contains("unless-stopped stays down"), "{w}");
        assert!(
            restart_warning(&spec(json!({"name": "a"})))
                .unwrap()
                .contains("restart_policy no never restarts")
        );
        assert!(restart_warning(&spec(json!({"name": "a", "state": "absent"}))).is_none());
    }

    #[test]
    fn found_is_read_from_the_markers() {
        let f = parse_found("image:sha256:abc\n--container--\n[]\n--env_file--\n# c\nA=1\n\nB=2\n")
            .unwrap();
        assert_eq!(f.image.as_deref(), Some("sha256:abc"));
        assert!(f.container.is_none());
        assert_eq!(f.env_file, ["A=1", "B=2"]);
    }
}
