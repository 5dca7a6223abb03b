//! tempfile: a new private file or folder with a name nobody can guess (mktemp), as Ansible's module
//! makes it; its path is registered as `path`.

use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome};

/// The mktemp command: `prefix` (default `ansible.`), eight random characters, `suffix`, in `path`
/// (default the host's `$TMPDIR` or /tmp).
pub fn command(args: &Args) -> Result<String, String> {
    let directory = match args.str("state").as_deref().unwrap_or("file") {
        "file" => false,
        "directory" => true,
        other => {
            return Err(format!(
                "tempfile: `state: {other}` is not file or directory"
            ));
        }
    };
    let prefix = args.str("prefix").unwrap_or_else(|| "ansible.".into());
    let suffix = args.str("suffix").unwrap_or_default();
    if prefix.contains('/') || suffix.contains('/') {
        return Err(
            "tempfile: `prefix` and `suffix` cannot hold a `/`; give the folder as `path`".into(),
        );
    }
    let dir = args
        .str("path")
        .map_or_else(|| "\"${TMPDIR:-/tmp}\"".to_string(), |p| quote(&p));
    Ok(format!(
        "mktemp{} -p {dir} --suffix={} {}",
        if directory { " -d" } else { "" },
        quote(&suffix),
        quote(&format!("{prefix}XXXXXXXX"))
    ))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match command(args) {
        Ok(c) => c,
        Err(e) => return Outcome::bad_input(e),
    };
    match ctx.output_of(&cmd, "tempfile").await {
        Ok(o) => {
            let mut outcome = Outcome {
                changed: true,
                ..Outcome::default()
            };
            outcome
                .result
                .insert("path".into(), json!(String::from_utf8_lossy(&o).trim()));
            outcome
        }
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mktemp_is_asked_for_what_the_task_says() {
        let a = |v: serde_json::Value| Args(v.as_object().unwrap().clone());
        assert_eq!(
            command(&a(json!({}))).unwrap(),
            "mktemp -p \"${TMPDIR:-/tmp}\" --suffix='' ansible.XXXXXXXX"
        );
        assert_eq!(
            command(&a(json!({"state": "directory", "path": "/srv/build", "prefix": "app-", "suffix": ".d"}))).unwrap(),
            "mktemp -d -p /srv/build --suffix=.d app-XXXXXXXX"
        );
        assert!(command(&a(json!({"prefix": "../x"}))).is_err());
    }
}
