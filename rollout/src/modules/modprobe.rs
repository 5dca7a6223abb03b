//! modprobe: a kernel module loaded or unloaded, and kept so across boots, as community.general's
//! module does: a module is loaded when /proc/modules lists it (dashes read as underscores) or the
//! kernel has it built in (modules.builtin, or /sys/module on a kernel built without modules, where
//! there is neither); `persistent: present` lists it in /etc/modules-load.d/NAME.conf (and
//! its `params` as an `options` line in /etc/modprobe.d/NAME.conf) unless a file there already
//! does; `persistent: absent` takes it out of every such file. One round trip.

use drover_ssh::shell::{quote, split_words, temp_path};

use super::{Args, ModuleCtx, Outcome};

/// A new file `path` holding the line `line`, through an exclusive temporary file beside it.
fn write_line(path: &str, line: &str) -> String {
    let (p, t) = (quote(path), quote(&temp_path(path)));
    format!(
        "{{ (umask 022; set -C; printf '%s\\n' {l} > {t}) && mv -f -- {t} {p} || {{ rm -f -- {t}; exit 1; }}; }}",
        l = quote(line)
    )
}

/// The script; prints `changed` for each thing it changed (in check mode: would change).
pub fn command(args: &Args, check: bool) -> Result<String, String> {
    let name = args.str("name").ok_or("modprobe needs `name`")?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
    {
        return Err(format!("`name`: `{name}` is not a kernel module's name"));
    }
    let params = args.str("params").unwrap_or_default();
    let state = args.str("state").unwrap_or_else(|| "present".into());
    let persistent = args.str("persistent").unwrap_or_else(|| "disabled".into());
    let act = |cmd: String| {
        if check {
            "echo changed".to_string()
        } else {
            // A step that fails ends the script: its error is the task's.
            format!("{cmd} && echo changed || exit 1")
        }
    };
    let n = quote(&name);
    let under = quote(&name.replace('-', "_"));
    let mut script = format!(
        "loaded() {{ grep -qs \"^\"{under}\" \" /proc/modules || [ -d /sys/module/{under} ] || grep -qs \"/\"{n}\"\\.ko\" \"/lib/modules/$(uname -r)/modules.builtin\"; }}; "
    );
    match state.as_str() {
        "present" => {
            // Split into words as Ansible splits them (shlex), each quoted: no shell reads them.
            let words = split_words(&params).map_err(|e| format!("`params`: {e}"))?;
            let load = std::iter::once(format!("modprobe -- {n}"))
                .chain(words.iter().map(|w| quote(w)))
                .collect::<Vec<_>>()
                .join(" ");
            script.push_str(&format!("loaded || {{ {}; }}; ", act(load)));
        }
        "absent" => script.push_str(&format!(
            "! loaded || {{ {}; }}; ",
            act(format!("modprobe -r -- {n}"))
        )),
        other => return Err(format!("`state` must be present or absent, not `{other}`")),
    }
    match persistent.as_str() {
        "disabled" => {}
        "present" => {
            let conf = format!("/etc/modules-load.d/{name}.conf");
            script.push_str(&format!(
                "grep -qsx -- {n} /etc/modules-load.d/*.conf || {{ {}; }}; ",
                act(format!(
                    "mkdir -p /etc/modules-load.d && {}",
                    write_line(&conf, &name)
                ))
            ));
            if !params.is_empty() {
                let line = format!("options {name} {params}");
                let conf = format!("/etc/modprobe.d/{name}.conf");
                script.push_str(&format!(
                    "grep -qsxF -- {} /etc/modprobe.d/*.conf || {{ {}; }}; ",
                    quote(&line),
                    act(format!(
                        "mkdir -p /etc/modprobe.d && {}",
                        write_line(&conf, &line)
                    ))
                ));
            }
        }
        "absent" => {
            for (dir, pattern) in [
                ("/etc/modules-load.d", format!("^{name}$")),
                ("/etc/modprobe.d", format!("^options {name}( |$)")),
            ] {
                let pat = quote(&pattern);
                script.push_str(&format!(
                    "for f in $(grep -lsE -- {pat} {dir}/*.conf); do {}; done; ",
                    act(format!("sed -i -E \"/\"{pat}\"/d\" -- \"$f\""))
                ));
            }
        }
        other => {
            return Err(format!(
                "`persistent` must be disabled, present or absent, not `{other}`"
            ));
        }
    }
    script.push_str("true");
    Ok(script)
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    ctx.built_script(command(args, ctx.check), "modprobe").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::modules::args;

    #[test]
    fn a_module_is_loaded_unless_it_is_and_kept_across_boots() {
        let cmd = command(
            &args(json!({"name": "br-netfilter", "params": "x=1", "persistent": "present"})),
            false,
        )
        .unwrap();
        assert!(cmd.starts_with(
            "loaded() { grep -qs \"^\"br_netfilter\" \" /proc/modules || [ -d /sys/module/br_netfilter ] || grep -qs \"/\"br-netfilter\"\\.ko\" \"/lib/modules/$(uname -r)/modules.builtin\"; }; \
             loaded || { modprobe -- br-netfilter x=1 && echo changed || exit 1; }; \
             grep -qsx -- br-netfilter /etc/modules-load.d/*.conf || { mkdir -p /etc/modules-load.d && { (umask 022; set -C; printf '%s\\n' br-netfilter > /etc/modules-load.d/.br-netfilter.conf.drover-"
        ), "{cmd}");
        assert!(
            cmd.contains("grep -qsxF -- 'options br-netfilter x=1' /etc/modprobe.d/*.conf"),
            "{cmd}"
        );
        let gone = command(
            &args(json!({"name": "dummy", "state": "absent", "persistent": "absent"})),
            true,
        )
        .unwrap();
        assert!(gone.contains("! loaded || { echo changed; }; "), "{gone}");
        assert!(gone.contains("for f in $(grep -lsE -- '^dummy$' /etc/modules-load.d/*.conf); do echo changed; done; "), "{gone}");
        assert!(command(&args(json!({"name": "x; reboot"})), false).is_err());
        let quoted = command(
            &args(json!({"name": "dummy", "params": "numdummies=2 'a;b'"})),
            false,
        )
        .unwrap();
        assert!(
            quoted.contains("modprobe -- dummy numdummies=2 'a;b' && echo changed || exit 1"),
            "{quoted}"
        );
    }
}
