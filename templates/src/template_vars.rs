//! The variables Ansible's `template` action adds for the file it renders: `ansible_managed`,
//! `template_path`, `template_fullpath`, `template_destpath`, `template_host`, `template_uid`,
//! `template_mtime` and `template_run_date` (ansible-core 2.19, `_template_vars.py`).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value as Json;

use crate::Vars;

/// `ansible_managed` as ansible-core 2.19 sets it by default.
const ANSIBLE_MANAGED: &str = "Ansible managed";

/// Adds to `vars` the variables for rendering `fullpath`, named `path` in the task (`src:` as
/// written), to `dest`. An `ansible_managed` the play already sets is kept, as in Ansible.
pub fn add_template_vars(vars: &mut Vars, path: &str, fullpath: &Path, dest: Option<&str>) {
    for (name, value) in template_vars(path, fullpath, dest) {
        if name != "ansible_managed" || !vars.contains_key(&name) {
            vars.insert(name, value);
        }
    }
}

fn template_vars(path: &str, fullpath: &Path, dest: Option<&str>) -> Vars {
    let meta = std::fs::metadata(fullpath).ok();
    let mut vars = Vars::new();
    vars.insert("ansible_managed".into(), ANSIBLE_MANAGED.into());
    vars.insert("template_path".into(), path.into());
    vars.insert(
        "template_fullpath".into(),
        std::path::absolute(fullpath)
            .unwrap_or_else(|_| fullpath.to_path_buf())
            .display()
            .to_string()
            .into(),
    );
    vars.insert(
        "template_destpath".into(),
        dest.map_or(Json::Null, Json::from),
    );
    vars.insert("template_host".into(), node_name().into());
    if let Some(meta) = &meta {
        vars.insert("template_uid".into(), user_name(meta.uid()));
        vars.insert(
            "template_mtime".into(),
            python_datetime(
                meta.modified()
                    .ok()
                    .and_then(|t| Timestamp::try_from(t).ok()),
            )
            .into(),
        );
    }
    vars.insert(
        "template_run_date".into(),
        python_datetime(Some(Timestamp::now())).into(),
    );
    vars
}

/// The controller's node name, as `os.uname()[1]`.
fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// The user owning the template, by name from /etc/passwd, else the number (as Python's pwd).
fn user_name(uid: u32) -> Json {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                (fields.nth(1)? == uid.to_string()).then(|| name.to_string())
            })
        })
        .map_or_else(|| Json::from(uid), Json::from)
}

/// A time in local time as Python prints a datetime: `2026-12-02 19:50:12.123456`, without the
/// fraction when it is zero.
fn python_datetime(time: Option<Timestamp>) -> String {
    time.map(|t| {
        let t = t.to_zoned_datetime(TimeZone::system());
        let format = if t.subsec_nanosecond() / 1000 == 0 {
            "%Y-%m-%d %H:%M:%S"
        } else {
            "%Y-%m-%d %H:%M:%S.%6f"
        };
        t.strftime(format).to_string()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_templates_own_variables() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let mut vars = Vars::new();
        vars.insert("ansible_managed".into(), "set by the play".into());
        let kept = vars.clone();
        add_template_vars(&mut vars, "Cargo.toml", &here, Some("/etc/app.conf"));
        assert_eq!(vars["ansible_managed"], kept["ansible_managed"]);
        let vars = template_vars("Cargo.toml", &here, Some("/etc/app.conf"));
        assert_eq!(vars["ansible_managed"], "Ansible managed");
        assert_eq!(vars["template_path"], "Cargo.toml");
        assert_eq!(vars["template_fullpath"], here.display().to_string());
        assert_eq!(vars["template_destpath"], "/etc/app.conf");
        assert!(vars["template_uid"].is_string() || vars["template_uid"].is_number());
        let run_date = vars["template_run_date"].as_str().unwrap();
        assert_eq!(
            run_date.len(),
            "2026-12-02 19:50:12.123456".len(),
            "{run_date}"
        );
    }
}
