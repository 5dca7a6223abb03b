//! docker_prune (community.docker): unused containers, images, networks, volumes and build cache
//! removed with `docker ... prune --force`, each with its filters; what went and the space it freed
//! registered under community.docker's names. Not run under `--check`, as that module does not
//! support it.

use serde_json::{Map, Value as Json};

use super::shell_words;
use crate::modules::{Args, ModuleCtx, Outcome};

/// One kind of object the module prunes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kind {
    /// The task's parameter (`containers`), also the result's key.
    param: &'static str,
    /// Its filters' parameter (`containers_filters`).
    filters: &'static str,
    /// docker's command for it (`container`).
    command: &'static str,
    /// The line docker prints before the removed ones (`Deleted Containers:`).
    heading: &'static str,
    /// The result has `<param>_space_reclaimed`.
    space: bool,
}

const KINDS: [Kind; 5] = [
    Kind {
        param: "containers",
        filters: "containers_filters",
        command: "container",
        heading: "Deleted Containers:",
        space: true,
    },
    Kind {
        param: "images",
        filters: "images_filters",
        command: "image",
        heading: "Deleted Images:",
        space: true,
    },
    Kind {
        param: "networks",
        filters: "networks_filters",
        command: "network",
        heading: "Deleted Networks:",
        space: false,
    },
    Kind {
        param: "volumes",
        filters: "volumes_filters",
        command: "volume",
        heading: "Deleted Volumes:",
        space: true,
    },
    Kind {
        param: "builder_cache",
        filters: "builder_cache_filters",
        command: "builder",
        heading: "",
        space: true,
    },
];

/// The prune command of each kind the task asks for.
fn commands(args: &Args) -> Result<Vec<(Kind, String)>, String> {
    let mut out = Vec::new();
    for kind in KINDS.iter().filter(|k| args.bool(k.param) == Some(true)) {
        let mut words: Vec<String> = ["docker", kind.command, "prune", "--force"]
            .map(String::from)
            .into();
        let filters = args.0.get(kind.filters);
        for (key, value) in filters.and_then(Json::as_object).into_iter().flatten() {
            let values = match value {
                Json::Array(items) => items.clone(),
                one => vec![one.clone()],
            };
            for value in values {
                let text = drover_templates::py_str(&value);
                let text = match value {
                    Json::Bool(b) => b.to_string(),
                    _ => text,
                };
                // docker's CLI adds dangling=true itself; dangling=false is its --all.
                if kind.command == "image" && key == "dangling" {
                    if text == "false" {
                        words.push("--all".into());
                    }
                    continue;
                }
                words.extend(["--filter".into(), format!("{key}={text}")]);
            }
        }
        if kind.command == "builder" {
            if args.bool("builder_cache_all") == Some(true) {
                words.push("--all".into());
            }
            if let Some(keep) = args.str("builder_cache_keep_storage") {
                words.extend(["--keep-storage".into(), keep]);
            }
        }
        out.push((*kind, shell_words(&words)));
    }
    Ok(out)
}

/// What docker printed: the objects removed and the space freed, in bytes.
fn parse(kind: Kind, stdout: &str) -> (Vec<String>, u64) {
    let mut removed = Vec::new();
    let mut lines = stdout.lines();
    if !kind.heading.is_empty() && lines.any(|l| l.trim() == kind.heading) {
        for line in lines.by_ref().take_while(|l| !l.trim().is_empty()) {
            let line = line.trim();
            // Images: each tag untagged, then each layer deleted; the result lists the deleted.
            match line.split_once(": ") {
                Some(("untagged", _)) => {}
                Some(("deleted", id)) => removed.push(id.to_string()),
                _ => removed.push(line.to_string()),
            }
        }
    }
    let space = stdout
        .lines()
        .rev()
        .filter_map(|l| {
            l.strip_prefix("Total reclaimed space:")
                .or_else(|| l.strip_prefix("Total:"))
        })
        .find_map(|s| bytes(s.trim()))
        .unwrap_or(0);
    (removed, space)
}

/// A size as docker prints it (`1.23MB`, decimal units, `0B`), in bytes.
fn bytes(text: &str) -> Option<u64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let scale: f64 = match unit {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "PB" => 1e15,
        _ => return None,
    };
    let value: f64 = number.trim().parse().ok()?;
    Some((value * scale).round() as u64)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let commands = match commands(args) {
        Ok(c) => c,
        Err(e) => return Outcome::bad_input(e),
    };
    let mut out = Outcome::default();
    let mut result = Map::new();
    let mut said = Vec::new();
    for (kind, cmd) in commands {
        let stdout = match ctx.output_of(&cmd, "docker_prune").await {
            Ok(o) => String::from_utf8_lossy(&o).into_owned(),
            Err(e) => return Outcome::fail(e),
        };
        let (removed, space) = parse(kind, &stdout);
        out.changed |= !removed.is_empty() || space > 0;
        if !removed.is_empty() || space > 0 {
            said.push(format!(
                "{}: {} removed, {space} bytes freed",
                kind.param,
                removed.len()
            ));
        }
        if kind.command != "builder" {
            result.insert(kind.param.into(), Json::from(removed));
        }
        if kind.space {
            result.insert(format!("{}_space_reclaimed", kind.param), Json::from(space));
        }
    }
    out.msg = said.join("; ");
    out.result = result;
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    use crate::modules::args;

    #[test]
    fn each_kind_asked_for_is_pruned_with_its_filters() {
        let got = commands(&args(json!({
            "containers": true,
            "containers_filters": {"until": "24h", "label": ["a=1", "b"]},
            "images": true,
            "images_filters": {"dangling": false},
            "networks": false,
            "volumes": true,
            "volumes_filters": {"all": true},
            "builder_cache": true,
            "builder_cache_all": true,
            "builder_cache_keep_storage": "1GB",
        })))
        .unwrap();
        let cmds: Vec<&str> = got.iter().map(|(_, c)| c.as_str()).collect();
        assert_eq!(
            cmds,
            [
                "docker container prune --force --filter until=24h --filter label=a=1 --filter label=b",
                "docker image prune --force --all",
                "docker volume prune --force --filter all=true",
                "docker builder prune --force --all --keep-storage 1GB",
            ]
        );
        assert!(commands(&args(json!({}))).unwrap().is_empty());
    }

    #[test]
    fn what_docker_printed_is_read_back() {
        let images = "Deleted Images:\nuntagged: app:1\ndeleted: sha256:aa\ndeleted: sha256:bb\n\nTotal reclaimed space: 1.234MB\n";
        assert_eq!(
            parse(KINDS[1], images),
            (
                vec!["sha256:aa".to_string(), "sha256:bb".to_string()],
                1_234_000
            )
        );
        assert_eq!(parse(KINDS[0], "Total reclaimed space: 0B\n"), (vec![], 0));
        let nets = "Deleted Networks:\nfront\nback\n";
        assert_eq!(parse(KINDS[2], nets).0, ["front", "back"]);
        assert_eq!(parse(KINDS[4], "ID\tRECLAIMABLE\nTotal:\t2.5kB\n").1, 2500);
        assert_eq!(bytes("12GB"), Some(12_000_000_000));
        assert_eq!(bytes("x"), None);
    }
}
