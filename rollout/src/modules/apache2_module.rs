//! apache2_module (community.general): an Apache module enabled with `a2enmod` or disabled with
//! `a2dismod`, as Debian manages them, only when `apache2ctl -M` says otherwise; afterwards
//! `apache2ctl -M` is asked again, and a module that is still not as asked fails the task, as the
//! module does (its identifier may have been guessed wrong). One round trip.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// What the module is called in `apache2ctl -M`: `<name>_module`, but for the names the module
/// knows to be spelled otherwise (shib, evasive, php<N>.<M>).
pub fn identifier(name: &str) -> String {
    for (spelling, id) in [
        ("shib", "mod_shib"),
        ("shib2", "mod_shib"),
        ("evasive", "evasive20_module"),
    ] {
        if name.contains(spelling) {
            return id.to_string();
        }
    }
    if name.contains("php")
        && let Some(rest) = name.strip_prefix("php")
        && let Some((digit, _)) = rest.split_once('.')
        && digit.len() == 1
        && digit.chars().all(|c| c.is_ascii_digit())
    {
        return format!("php{digit}_module");
    }
    format!("{name}_module")
}

/// The module's settings.
pub struct Apache2Module {
    /// The module's name, as a2enmod knows it (`rewrite`, `php8.2`).
    pub name: String,
    /// Enabled (true) or disabled.
    pub enabled: bool,
    /// What `apache2ctl -M` calls it.
    pub identifier: String,
    /// `a2dismod -f`: disable it even when others depend on it.
    pub force: bool,
    /// A configuration `apache2ctl -M` cannot read counts as the module being off, not as a failure.
    pub ignore_configcheck: bool,
    /// With `ignore_configcheck`, say so when no MPM module is loaded (and an MPM is the module).
    pub warn_mpm_absent: bool,
}

/// What the script prints before a warning for the operator.
const WARNING: &str = "warning: ";

impl Apache2Module {
    /// The script: prints `changed` when it changes (under --check: would change) the module.
    pub fn command(&self, check: bool) -> Result<String, String> {
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c))
        };
        if !name_ok(&self.name) {
            return Err(format!("`{}` is not an Apache module name", self.name));
        }
        let name = quote(&self.name);
        let (tool, state) = match self.enabled {
            true => ("a2enmod", "enabled"),
            false if self.force => ("a2dismod -f", "disabled"),
            false => ("a2dismod", "disabled"),
        };
        let bin = tool.split(' ').next().unwrap_or(tool);
        // As the module: an unreadable configuration fails, or with ignore_configcheck counts as
        // off with a warning (no MPM loaded is said only for an MPM module, if warn_mpm_absent).
        // `$m` holds what apache2ctl printed on both streams: its AH00534 comes on stderr.
        let error = format!(
            "printf '{WARNING}Error executing %s: %s\\n' \"$ctl\" \"$(printf %s \"$m\" | tr '\\n' ' ')\""
        );
        let no_mpm = match self.warn_mpm_absent {
            true => format!(
                "echo '{WARNING}No MPM module loaded! apache2 reload AND other module actions will fail if no MPM module is loaded immediately.'"
            ),
            false => ":".to_string(),
        };
        let unreadable = match (self.ignore_configcheck, self.name.contains("mpm_")) {
            (false, _) => {
                "printf 'Error executing %s: %s\\n' \"$ctl\" \"$m\" >&2; exit 1".to_string()
            }
            (true, true) => format!("case $m in *AH00534*) {no_mpm};; *) {error};; esac; return 1"),
            (true, false) => format!("{error}; return 1"),
        };
        let threaded = match self.name.as_str() {
            "cgi" => {
                "if \"$ctl\" -V 2>/dev/null | grep -q 'threaded: *yes'; then echo 'Your MPM seems to be threaded. No automatic actions on module cgi possible.' >&2; exit 1; fi; "
            }
            _ => "",
        };
        let wanted = if self.enabled { "on" } else { "! on" };
        let act = if check {
            "echo changed".to_string()
        } else {
            format!(
                "command -v {bin} >/dev/null || {{ echo {} >&2; exit 1; }}; o=$({tool} {name} 2>&1); \
                 if {wanted}; then echo changed; else printf '%s\\n' {} \"$o\" {} >&2; exit 1; fi",
                quote(&format!(
                    "{bin} not found. Perhaps this system does not use {bin} to manage apache"
                )),
                quote(&format!("Failed to set module {} to {state}:", self.name)),
                quote(&format!(
                    "Maybe the module identifier ({}) was guessed incorrectly.Consider setting the \"identifier\" option.",
                    self.identifier
                )),
            )
        };
        Ok(format!(
            "ctl=$(command -v apache2ctl || command -v apachectl) || {{ echo 'Neither of apache2ctl nor apachctl found. At least one apache control binary is necessary.' >&2; exit 1; }}; \
             {threaded}on() {{ if m=$(\"$ctl\" -M 2>&1); then case $m in *{}*) return 0;; esac; return 1; else {unreadable}; fi; }}; \
             if {wanted}; then :; else {act}; fi",
            quote(&format!(" {}", self.identifier))
        ))
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(name) = args.str("name") else {
        return Outcome::bad_input("apache2_module needs `name`");
    };
    let enabled = match args.str("state").as_deref() {
        None | Some("present") => true,
        Some("absent") => false,
        Some(other) => {
            return Outcome::bad_input(format!(
                "apache2_module: `state` must be present or absent, not `{other}`"
            ));
        }
    };
    let module = Apache2Module {
        identifier: args.str("identifier").unwrap_or_else(|| identifier(&name)),
        name,
        enabled,
        force: args.bool("force").unwrap_or(false),
        ignore_configcheck: args.bool("ignore_configcheck").unwrap_or(false),
        warn_mpm_absent: args.bool("warn_mpm_absent").unwrap_or(true),
    };
    let cmd = match module.command(ctx.check) {
        Ok(cmd) => cmd,
        Err(e) => return Outcome::bad_input(format!("apache2_module: {e}")),
    };
    match ctx.output_with(&cmd, b"", "apache2_module").await {
        Ok(out) => reported(&String::from_utf8_lossy(&out)),
        Err(e) => Outcome::fail(e),
    }
}

/// The outcome from what the script printed: `changed`, and each warning once (in `msg` and the
/// registered `warnings`).
fn reported(out: &str) -> Outcome {
    let mut warnings: Vec<String> = Vec::new();
    for w in out.lines().filter_map(|l| l.strip_prefix(WARNING)) {
        if !warnings.iter().any(|seen| seen == w) {
            warnings.push(w.to_string());
        }
    }
    let mut outcome = Outcome {
        changed: out.lines().any(|l| l == "changed"),
        msg: warnings.join("; "),
        ..Outcome::default()
    };
    if !warnings.is_empty() {
        outcome.result.insert("warnings".into(), warnings.into());
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_guessed_as_the_module_guesses_them() {
        assert_eq!(identifier("rewrite"), "rewrite_module");
        assert_eq!(identifier("php8.2"), "php8_module");
        assert_eq!(identifier("shib2"), "mod_shib");
        assert_eq!(identifier("evasive"), "evasive20_module");
        assert_eq!(identifier("proxy_http"), "proxy_http_module");
    }

    #[test]
    fn the_script_checks_then_acts_then_checks_again() {
        let m = Apache2Module {
            name: "headers".into(),
            enabled: false,
            identifier: "headers_module".into(),
            force: true,
            ignore_configcheck: true,
            warn_mpm_absent: true,
        };
        let cmd = m.command(false).unwrap();
        assert!(cmd.contains("if m=$(\"$ctl\" -M 2>&1); then case $m in *' headers_module'*) return 0;; esac; return 1; else printf 'warning: Error executing"), "{cmd}");
        assert!(
            cmd.contains("; return 1; fi; }; if ! on; then :; else command -v a2dismod >/dev/null"),
            "{cmd}"
        );
        assert!(
            cmd.contains("o=$(a2dismod -f headers 2>&1); if ! on; then echo changed;"),
            "{cmd}"
        );
        assert!(
            m.command(true)
                .unwrap()
                .ends_with("if ! on; then :; else echo changed; fi")
        );
        let bad = Apache2Module {
            name: "x; reboot".into(),
            ..m
        };
        assert!(bad.command(false).is_err());
    }

    #[test]
    fn warnings_are_reported_once() {
        let o = reported("warning: Error executing x: y\nchanged\nwarning: Error executing x: y\n");
        assert!(o.changed);
        assert_eq!(o.msg, "Error executing x: y");
        assert_eq!(
            o.result["warnings"],
            serde_json::json!(["Error executing x: y"])
        );
        assert!(!reported("").changed);
    }
}
