//! sysctl: a kernel setting in a sysctl file (and, with `sysctl_set`, in the running kernel), as
//! ansible.posix's module keeps it: the file's `key=value` lines are rewritten without spaces and a
//! key's later duplicates dropped; a change reloads the file (`sysctl -p`) unless `reload: false`.
//! One round trip reads the kernel's value and the file; a pure planner decides; a second applies.

use drover_ssh::shell::{quote, temp_path};
use serde_json::json;

use super::files::{put_command, unified};
use super::{Args, ModuleCtx, Outcome};

/// What the task asks.
#[derive(Debug, Clone, Default)]
pub struct SysctlSpec {
    pub name: String,
    pub value: String,
    pub absent: bool,
    pub file: String,
    pub reload: bool,
    pub set: bool,
    pub ignore_errors: bool,
}

/// A value as the module compares it: booleans as 1 or 0, the rest trimmed.
fn parse_value(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::Bool(b)) => if *b { "1" } else { "0" }.into(),
        Some(serde_json::Value::String(s)) => match s.to_lowercase().as_str() {
            "yes" | "on" | "1" | "true" | "y" | "t" => "1".into(),
            "no" | "off" | "0" | "false" | "n" | "f" => "0".into(),
            _ => s.trim().to_string(),
        },
        Some(other) => other.to_string(),
    }
}

impl SysctlSpec {
    pub fn from_args(args: &Args) -> Result<SysctlSpec, String> {
        let name = args
            .first(&["name", "key"])
            .ok_or("sysctl needs `name`")?
            .trim()
            .to_string();
        let absent = match args.str("state").as_deref().unwrap_or("present") {
            "present" => false,
            "absent" => true,
            other => return Err(format!("sysctl: `state: {other}` is not present or absent")),
        };
        let value = parse_value(args.0.get("value").or_else(|| args.0.get("val")));
        if !absent && value.is_empty() {
            return Err("sysctl: `value` is required with state present".into());
        }
        Ok(SysctlSpec {
            name,
            value,
            absent,
            file: args
                .str("sysctl_file")
                .unwrap_or_else(|| "/etc/sysctl.conf".into()),
            reload: args.bool("reload").unwrap_or(true),
            set: args.bool("sysctl_set").unwrap_or(false),
            ignore_errors: args.bool("ignoreerrors").unwrap_or(false),
        })
    }
}

/// What to do.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub changed: bool,
    /// The file's new text, when it is rewritten.
    pub file: Option<String>,
    /// Set the running value with `sysctl -w`.
    pub set: bool,
}

/// Whitespace-separated values compared word by word, as the module compares them.
fn same(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.split_whitespace().eq(b.split_whitespace()))
}

/// The plan from the kernel's value (`None` when sysctl could not read it) and the file's text.
pub fn plan(spec: &SysctlSpec, proc_value: Option<&str>, text: &str) -> Plan {
    let mut values: Vec<(String, String)> = Vec::new();
    let mut fixed: Vec<String> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        let setting = (!line.is_empty() && !line.starts_with(['#', ';']))
            .then(|| line.split_once('='))
            .flatten();
        let Some((k, v)) = setting else {
            fixed.push(line.to_string());
            continue;
        };
        let (k, v) = (k.trim().to_string(), v.trim().to_string());
        if values.iter().any(|(seen, _)| *seen == k) {
            // A later duplicate: its value counts, its line goes.
            if let Some(slot) = values.iter_mut().find(|(seen, _)| *seen == k) {
                slot.1 = v;
            }
            continue;
        }
        if k == spec.name {
            if !spec.absent {
                fixed.push(format!("{k}={}", spec.value));
            }
        } else {
            fixed.push(format!("{k}={v}"));
        }
        values.push((k, v));
    }
    let file_value = values
        .iter()
        .find(|(k, _)| *k == spec.name)
        .map(|(_, v)| v.as_str());
    if file_value.is_none() && !spec.absent {
        fixed.push(format!("{}={}", spec.name, spec.value));
    }
    // The module's if/elif chain: a file to write, else (present, file right) a kernel to reload.
    let mut p = Plan::default();
    let write = match (file_value, spec.absent) {
        (None, false) => true,
        (None, true) => false,
        (Some(v), true) => !v.is_empty(),
        (Some(v), false) => v != spec.value,
    };
    if write {
        p.changed = true;
        p.file = Some(fixed.iter().map(|l| format!("{}\n", l.trim())).collect());
    } else if !spec.absent && spec.reload && !same(proc_value, &spec.value) {
        p.changed = true;
    }
    if spec.set && !spec.absent && !same(proc_value, &spec.value) {
        p.changed = true;
        p.set = proc_value.is_some();
    }
    p
}

/// The command that reads the kernel's value (rc, then the value) and the file.
pub fn read_command(spec: &SysctlSpec) -> String {
    format!(
        "v=$(LANG=C sysctl -e -n {} 2>/dev/null); echo \"rc:$?\"; echo \"$v\"; echo '##file'; cat -- {} 2>/dev/null; true",
        quote(&spec.name),
        quote(&spec.file)
    )
}

/// What sysctl prints on stderr when a setting failed but it still exits 0.
fn stderr_failed(err: &str) -> bool {
    err.lines().any(|l| {
        l.starts_with("sysctl: setting key \"")
            && (l.ends_with(": Invalid argument") || l.ends_with(": Read-only file system"))
    })
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let spec = match SysctlSpec::from_args(args) {
        Ok(s) => s,
        Err(e) => return Outcome::bad_input(e),
    };
    let out = match ctx.output_of(&read_command(&spec), "sysctl").await {
        Ok(o) => String::from_utf8_lossy(&o).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    let (head, text) = out.split_once("##file\n").unwrap_or((&out, ""));
    let mut lines = head.lines();
    let rc_ok = lines.next() == Some("rc:0");
    let value = lines.next().unwrap_or_default();
    let p = plan(&spec, rc_ok.then_some(value), text);
    let mut outcome = Outcome {
        changed: p.changed,
        ..Outcome::default()
    };
    if let (Some(new), true) = (&p.file, ctx.diff) {
        outcome.diff = Some(unified(&spec.file, text.as_bytes(), new.as_bytes()));
    }
    if ctx.check || !p.changed {
        return outcome;
    }
    let e = if spec.ignore_errors { " -e" } else { "" };
    let mut steps = Vec::new();
    if p.set {
        steps.push(format!(
            "LANG=C sysctl{e} -w {}",
            quote(&format!("{}={}", spec.name, spec.value))
        ));
    }
    if let Some(new) = &p.file {
        steps.push(format!(
            "{{ {}; }} >/dev/null",
            put_command(&spec.file, &temp_path(&spec.file), new.as_bytes(), None)
        ));
    }
    if spec.reload {
        steps.push(format!("LANG=C sysctl{e} -p {}", quote(&spec.file)));
    }
    let cmd = steps.join(" && ");
    let stdin = p.file.clone().unwrap_or_default();
    match ctx.exec(&cmd, stdin.as_bytes()).await {
        Ok(o) if o.status.success() && !stderr_failed(&String::from_utf8_lossy(&o.stderr)) => {
            outcome.result.insert("name".into(), json!(spec.name));
            outcome
        }
        Ok(o) => Outcome::fail(format!(
            "setting {} failed: {}{}",
            spec.name,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Outcome::fail(format!("sysctl: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    fn spec(v: Json) -> SysctlSpec {
        SysctlSpec::from_args(&Args(v.as_object().unwrap().clone())).unwrap()
    }

    const FILE: &str =
        "# kernel settings\nvm.swappiness = 60\nnet.ipv4.ip_forward=0\nvm.swappiness=30\n";

    #[test]
    fn the_file_is_rewritten_as_the_module_rewrites_it() {
        let s = spec(serde_json::json!({"name": "net.ipv4.ip_forward", "value": "yes"}));
        assert_eq!(s.value, "1");
        let p = plan(&s, Some("0"), FILE);
        assert!(p.changed && !p.set);
        // Spaces go, and a key's later duplicate goes too.
        assert_eq!(
            p.file.as_deref(),
            Some("# kernel settings\nvm.swappiness=60\nnet.ipv4.ip_forward=1\n")
        );
        // The file is right but the kernel is not: a reload is what changes it.
        let right = "net.ipv4.ip_forward=1\n";
        assert_eq!(
            plan(&s, Some("0"), right),
            Plan {
                changed: true,
                file: None,
                set: false
            }
        );
        assert_eq!(plan(&s, Some("1\n"), right), Plan::default());
        let set = spec(
            serde_json::json!({"name": "net.ipv4.ip_forward", "value": 1, "sysctl_set": true, "reload": false}),
        );
        assert_eq!(
            plan(&set, Some("0"), right),
            Plan {
                changed: true,
                file: None,
                set: true
            }
        );
        let gone = spec(
            serde_json::json!({"name": "vm.swappiness", "state": "absent", "sysctl_file": "/etc/sysctl.d/99-x.conf"}),
        );
        assert_eq!(
            plan(&gone, Some("60"), FILE).file.as_deref(),
            Some("# kernel settings\nnet.ipv4.ip_forward=0\n")
        );
        assert!(!plan(&gone, Some("60"), "").changed);
        assert!(stderr_failed(
            "sysctl: setting key \"net.ipv4.ip_forward\": Read-only file system\n"
        ));
        assert!(
            SysctlSpec::from_args(&Args(
                serde_json::json!({"name": "x"})
                    .as_object()
                    .unwrap()
                    .clone()
            ))
            .is_err()
        );
    }
}
