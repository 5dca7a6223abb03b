//! docker_image and docker_image_info: an image on the host as community.docker's modules keep it:
//! pulled, built from a folder on the host or loaded from an archive there when it is missing (or
//! always, with `force_source`), tagged as `repository` and pushed when asked, or removed; changed
//! when the image's id changed. docker_image_info reads images without changing anything.

use serde_json::{Value as Json, json};

use super::{first_inspected, shell_words, string_map, text};
use crate::modules::{Args, ModuleCtx, Outcome};
use drover_ssh::shell::quote;

/// Where the image comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Pull,
    /// `docker build` with these options (before the folder) and this folder.
    Build {
        options: Vec<String>,
        path: String,
    },
    Load(String),
    /// Only what is already on the host.
    Local,
}

/// The task, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// `name:tag`.
    pub image: String,
    pub present: bool,
    pub source: Source,
    pub force_source: bool,
    pub force_absent: bool,
    /// Tag it also as this (and push that when `push`).
    pub repository: Option<String>,
    pub push: bool,
}

/// `name` with `tag` unless the name has a tag or digest already.
fn with_tag(name: &str, tag: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || name.contains('@') {
        name.to_string()
    } else {
        format!("{name}:{tag}")
    }
}

fn build_options(args: &Args) -> Result<(Vec<String>, String), String> {
    let Some(Json::Object(build)) = args.0.get("build") else {
        return Err("docker_image: `source: build` needs `build` with its `path`".into());
    };
    let b = Args(build.clone());
    for key in build.keys() {
        if ![
            "path",
            "dockerfile",
            "args",
            "pull",
            "nocache",
            "target",
            "network",
            "platform",
            "rm",
            "labels",
        ]
        .contains(&key.as_str())
        {
            return Err(format!(
                "docker_image: build `{key}` is not supported (path, dockerfile, args, pull, nocache, target, network, platform, rm, labels)"
            ));
        }
    }
    let path = b
        .str("path")
        .ok_or("docker_image: `build` needs `path` (a folder on the host)")?;
    let mut o = Vec::new();
    o.extend(b.str("dockerfile").map(|d| format!("--file={d}")));
    for (k, v) in string_map(&b, "args")? {
        o.push(format!("--build-arg={k}={}", text(&v)));
    }
    for (k, v) in string_map(&b, "labels")? {
        o.push(format!("--label={k}={}", text(&v)));
    }
    if b.bool("pull") == Some(true) {
        o.push("--pull".into());
    }
    if b.bool("nocache") == Some(true) {
        o.push("--no-cache".into());
    }
    if b.bool("rm") == Some(false) {
        o.push("--rm=false".into());
    }
    o.extend(b.str("target").map(|t| format!("--target={t}")));
    o.extend(b.str("network").map(|n| format!("--network={n}")));
    o.extend(b.str("platform").map(|p| format!("--platform={p}")));
    Ok((o, path))
}

impl Spec {
    pub fn from_args(args: &Args) -> Result<Spec, String> {
        let name = args.str("name").ok_or("docker_image needs `name`")?;
        let image = with_tag(&name, &args.str("tag").unwrap_or_else(|| "latest".into()));
        let present = args.present().map_err(|e| format!("docker_image: {e}"))?;
        let source = match args.str("source").as_deref() {
            Some("build") => {
                let (options, path) = build_options(args)?;
                Source::Build { options, path }
            }
            None if args.0.contains_key("build") => {
                let (options, path) = build_options(args)?;
                Source::Build { options, path }
            }
            Some("load") => Source::Load(
                args.str("load_path")
                    .ok_or("docker_image: `source: load` needs `load_path`")?,
            ),
            None if args.str("load_path").is_some() => {
                Source::Load(args.str("load_path").unwrap_or_default())
            }
            Some("pull") | None => Source::Pull,
            Some("local") => Source::Local,
            Some(other) => {
                return Err(format!(
                    "docker_image: `source: {other}` is not build, load, pull or local"
                ));
            }
        };
        Ok(Spec {
            image,
            present,
            source,
            force_source: args.bool("force_source") == Some(true),
            force_absent: args.bool("force_absent") == Some(true),
            repository: args.str("repository"),
            push: args.bool("push") == Some(true),
        })
    }

    /// The whole task as one script: prints `was:ID` and `now:ID` (the image's id before and after)
    /// and `changed` lines for tags and pushes; in check mode it only says what it would do.
    pub fn command(&self, check: bool) -> String {
        let i = quote(&self.image);
        let id =
            |what: &str| format!("docker image inspect --format '{{{{.Id}}}}' {what} 2>/dev/null");
        let mut s = format!("was=$({}); echo \"was:$was\"; ", id(&i));
        if !self.present {
            let force = if self.force_absent { " -f" } else { "" };
            let act = if check {
                String::new()
            } else {
                format!("docker rmi{force} {i} >/dev/null || exit 1; ")
            };
            s.push_str(&format!("if [ -n \"$was\" ]; then {act}echo changed; fi"));
            return s;
        }
        let fetch = match &self.source {
            Source::Pull => Some(format!("docker pull -q {i} >/dev/null")),
            Source::Build { options, path } => {
                let mut words = vec![
                    "docker".to_string(),
                    "build".into(),
                    "-q".into(),
                    format!("--tag={}", self.image),
                ];
                words.extend(options.iter().cloned());
                words.push(path.clone());
                Some(format!("{} >/dev/null", shell_words(&words)))
            }
            Source::Load(path) => Some(format!("docker load -q -i {} >/dev/null", quote(path))),
            Source::Local => None,
        };
        let when = if self.force_source {
            "true"
        } else {
            "[ -z \"$was\" ]"
        };
        match (fetch, check) {
            (Some(_), true) => s.push_str(&format!("if {when}; then echo changed; fi; ")),
            (Some(f), false) => s.push_str(&format!("if {when}; then {f} || exit 1; fi; ")),
            (None, _) => s.push_str(&format!(
                "[ -n \"$was\" ] || {{ echo {} >&2; exit 1; }}; ",
                quote(&format!(
                    "{} is not on the host (source: local)",
                    self.image
                ))
            )),
        }
        s.push_str(&format!("echo \"now:$({})\"", id(&i)));
        if let Some(repo) = &self.repository {
            let r = quote(&with_tag(
                repo,
                self.image.rsplit(':').next().unwrap_or("latest"),
            ));
            let tag = if check {
                "echo changed".to_string()
            } else {
                format!("docker tag {i} {r} && echo changed")
            };
            s.push_str(&format!(
                "; [ \"$({})\" = \"$({})\" ] || {{ {tag}; }}",
                id(&r),
                id(&i)
            ));
            if self.push {
                if check {
                    s.push_str("; echo changed");
                } else {
                    s.push_str(&format!(
                        "; docker push -q {r} >/dev/null || exit 1; echo changed"
                    ));
                }
            }
        } else if self.push {
            s.push_str(&if check {
                "; echo changed".to_string()
            } else {
                format!("; docker push -q {i} >/dev/null || exit 1; echo changed")
            });
        }
        s
    }
}

/// Whether the script's report says something changed: a new id, a tag or push, or a removal.
pub fn changed(report: &str) -> bool {
    let get = |k: &str| {
        report
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .map(str::to_string)
    };
    report.lines().any(|l| l == "changed")
        || matches!((get("was:"), get("now:")), (Some(a), Some(b)) if a != b)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match Spec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let report = match ctx
        .output_of(&spec.command(ctx.check), "docker_image")
        .await
    {
        Ok(o) => String::from_utf8_lossy(&o).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    let mut out = Outcome {
        changed: changed(&report),
        ..Outcome::default()
    };
    let inspect = format!(
        "docker image inspect {} 2>/dev/null || echo '[]'",
        quote(&spec.image)
    );
    let image = match ctx.output_of(&inspect, "docker_image").await {
        Ok(o) => first_inspected(&o, "docker_image").ok().flatten(),
        Err(e) => return Outcome::fail(e),
    };
    out.result
        .insert("image".into(), image.unwrap_or(json!({})));
    out
}

/// docker_image_info: `images` (docker inspect of each named image that is on the host; all of them
/// when no name is given).
pub async fn info(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let names = args.list("name");
    let cmd = if names.is_empty() {
        "ids=$(docker image ls -q --no-trunc | sort -u); if [ -n \"$ids\" ]; then docker image inspect $ids; else echo '[]'; fi".to_string()
    } else {
        names
            .iter()
            .map(|n| format!("docker image inspect {} 2>/dev/null || echo '[]'", quote(n)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    match ctx.output_of(&cmd, "docker_image_info").await {
        Ok(o) => {
            let mut images = Vec::new();
            for v in serde_json::Deserializer::from_slice(&o).into_iter::<Json>() {
                match v {
                    Ok(Json::Array(items)) => images.extend(items),
                    Ok(_) => {}
                    Err(e) => {
                        return Outcome::fail(format!("docker_image_info: docker inspect: {e}"));
                    }
                }
            }
            let mut out = Outcome::default();
            out.result.insert("images".into(), Json::Array(images));
            out
        }
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
    fn an_image_is_fetched_only_when_missing_unless_forced() {
        let pull = spec(json!({"name": "nginx", "tag": "1.27"}));
        assert_eq!(pull.image, "nginx:1.27");
        assert_eq!(
            pull.command(false),
            "was=$(docker image inspect --format '{{.Id}}' nginx:1.27 2>/dev/null); echo \"was:$was\"; \
             if [ -z \"$was\" ]; then docker pull -q nginx:1.27 >/dev/null || exit 1; fi; \
             echo \"now:$(docker image inspect --format '{{.Id}}' nginx:1.27 2>/dev/null)\""
        );
        let build = spec(
            json!({"name": "registry.local:5000/app", "source": "build", "force_source": true,
                                 "build": {"path": "/srv/app", "args": {"VERSION": "2"}, "pull": false, "nocache": true}}),
        );
        assert_eq!(build.image, "registry.local:5000/app:latest");
        assert!(build.command(false).contains(
            "if true; then docker build -q --tag=registry.local:5000/app:latest --build-arg=VERSION=2 --no-cache /srv/app >/dev/null || exit 1; fi; "
        ));
        assert!(!build.command(true).contains("docker build"));
        let gone = spec(json!({"name": "old:1", "state": "absent", "force_absent": true}));
        assert!(gone.command(false).ends_with(
            "if [ -n \"$was\" ]; then docker rmi -f old:1 >/dev/null || exit 1; echo changed; fi"
        ));
        assert!(changed("was:\nnow:sha256:a\n"));
        assert!(!changed("was:sha256:a\nnow:sha256:a\n"));
        assert!(changed("was:sha256:a\nnow:sha256:a\nchanged\n"));
    }
}
