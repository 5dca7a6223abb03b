//! make (community.general): targets of a Makefile run in `chdir`, as the module runs them: first
//! `make ... -q` (question mode); when that says the targets are up to date nothing is done,
//! otherwise (and not under --check) make runs them and the task has changed. gmake is preferred
//! where it exists, as the module prefers it.

use drover_ssh::shell::quote;
use serde_json::{Value as Json, json};

use super::{Args, ModuleCtx, Outcome};

/// One make task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Make {
    pub chdir: String,
    /// The make program given (`make:`); None: gmake or make, found on the host.
    pub program: Option<String>,
    /// The words after the program: -j, -f, the targets, the variables.
    pub words: Vec<String>,
}

/// A `params` value as the module (Python's `str`) writes it after `=`.
fn param_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// Reads the task's parameters.
pub fn spec(args: &Args) -> Result<Make, String> {
    let chdir = args.str("chdir").ok_or("make needs `chdir`")?;
    if args.0.get("target").is_some_and(|t| !t.is_null())
        && args.0.get("targets").is_some_and(|t| !t.is_null())
    {
        return Err("parameters are mutually exclusive: target|targets".into());
    }
    let mut words = Vec::new();
    if args.0.get("jobs").is_some_and(|j| !j.is_null()) {
        let jobs = args
            .num("jobs")
            .filter(|j| j.fract() == 0.0 && *j >= 1.0)
            .ok_or("`jobs` is not a whole number of jobs")?;
        words.extend(["-j".to_string(), format!("{jobs}")]);
    }
    if let Some(file) = args.str("file") {
        words.extend(["-f".to_string(), file]);
    }
    match args.str("target") {
        Some(t) if !t.is_empty() => words.push(t),
        _ => words.extend(args.list("targets")),
    }
    match args.0.get("params") {
        None | Some(Json::Null) => {}
        Some(Json::Object(params)) => words.extend(params.iter().map(|(k, v)| match v {
            Json::Null => k.clone(),
            v => format!("{k}={}", param_text(v)),
        })),
        Some(other) => return Err(format!("`params` must be a mapping, not {other}")),
    }
    Ok(Make {
        chdir,
        program: args.str("make"),
        words,
    })
}

/// Marks the line that names the make program, before make's own output.
const FOUND: &str = "drover-make:";

impl Make {
    /// The command line after the program, each word quoted.
    fn tail(&self) -> String {
        self.words
            .iter()
            .map(|w| format!(" {}", quote(w)))
            .collect()
    }

    /// In `chdir`, with the program found (printed after [`FOUND`]), `make ... -q`.
    pub fn question(&self) -> String {
        let find = match &self.program {
            Some(p) => format!("m={}", quote(p)),
            None => "m=$(command -v gmake || command -v make) || { echo 'Failed to find required executable \"make\" in paths' >&2; exit 1; }".to_string(),
        };
        format!(
            "cd {} || exit 1; {find}; echo {FOUND}\"$m\"; \"$m\"{} -q",
            quote(&self.chdir),
            self.tail()
        )
    }

    /// The program run for real in `chdir`.
    pub fn build(&self, program: &str) -> String {
        format!(
            "cd {} && {}{}",
            quote(&self.chdir),
            quote(program),
            self.tail()
        )
    }
}

/// Make's output as the module gives it back: trailing newlines taken off.
fn trimmed(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches(['\r', '\n'])
        .to_string()
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let make = match spec(args) {
        Ok(m) => m,
        Err(e) => return Outcome::bad_input(format!("make: {e}")),
    };
    let asked = match ctx.exec(&make.question(), b"").await {
        Ok(o) => o,
        Err(e) => return Outcome::fail(format!("make: {e}")),
    };
    let stdout = String::from_utf8_lossy(&asked.stdout);
    let Some((program, question_out)) = stdout
        .strip_prefix(FOUND)
        .and_then(|rest| rest.split_once('\n'))
    else {
        return Outcome::fail(format!("make: {}", trimmed(&asked.stderr)));
    };
    let command = format!("{}{}", quote(program), make.tail());
    let up_to_date = asked.status.success();
    let (changed, out, err) = if up_to_date || ctx.check {
        (
            !up_to_date,
            trimmed(question_out.as_bytes()),
            trimmed(&asked.stderr),
        )
    } else {
        match ctx.exec(&make.build(program), b"").await {
            Ok(o) if o.status.success() => (true, trimmed(&o.stdout), trimmed(&o.stderr)),
            Ok(o) => {
                let mut failed = Outcome::fail(format!("make: {}", trimmed(&o.stderr)));
                failed.record_command(&command, &o);
                return failed;
            }
            Err(e) => return Outcome::fail(format!("make: {e}")),
        }
    };
    let mut outcome = Outcome {
        changed,
        ..Outcome::default()
    };
    for (key, value) in [
        ("stdout", json!(out)),
        ("stderr", json!(err)),
        ("command", json!(command)),
        ("chdir", json!(make.chdir)),
        ("target", json!(args.str("target"))),
        (
            "targets",
            args.0.get("targets").cloned().unwrap_or(Json::Null),
        ),
        (
            "params",
            args.0.get("params").cloned().unwrap_or(Json::Null),
        ),
        ("file", json!(args.str("file"))),
        ("jobs", args.0.get("jobs").cloned().unwrap_or(Json::Null)),
    ] {
        outcome.result.insert(key.into(), value);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::modules::args;

    #[test]
    fn the_command_line_is_the_modules() {
        let make = spec(&args(json!({"chdir": "/usr/src/app", "jobs": 4, "file": "Build file", "target": "install", "params": {"PREFIX": "/opt/x y", "-DWITH_FDT": null, "DEBUG": true}}))).unwrap();
        assert_eq!(
            make.question(),
            "cd /usr/src/app || exit 1; m=$(command -v gmake || command -v make) || { echo 'Failed to find required executable \"make\" in paths' >&2; exit 1; }; echo drover-make:\"$m\"; \"$m\" -j 4 -f 'Build file' install 'PREFIX=/opt/x y' -DWITH_FDT DEBUG=True -q"
        );
        assert_eq!(
            make.build("/usr/bin/make"),
            "cd /usr/src/app && /usr/bin/make -j 4 -f 'Build file' install 'PREFIX=/opt/x y' -DWITH_FDT DEBUG=True"
        );
        let given = spec(&args(
            json!({"chdir": "/a", "make": "/opt/bin/bmake", "targets": ["a", "b"]}),
        ))
        .unwrap();
        assert_eq!(
            given.question(),
            "cd /a || exit 1; m=/opt/bin/bmake; echo drover-make:\"$m\"; \"$m\" a b -q"
        );
    }

    #[test]
    fn target_and_targets_are_one_or_the_other() {
        assert!(
            spec(&args(
                json!({"chdir": "/a", "target": "x", "targets": ["y"]})
            ))
            .unwrap_err()
            .contains("mutually exclusive")
        );
        assert!(
            spec(&args(json!({"target": "x"})))
                .unwrap_err()
                .contains("chdir")
        );
        assert!(
            spec(&args(json!({"chdir": "/a", "jobs": "many"})))
                .unwrap_err()
                .contains("jobs")
        );
    }
}
