//! locale_gen (community.general): a locale generated (its line in /etc/locale.gen enabled, then
//! `locale-gen`) or removed (disabled, then `locale-gen --purge`), as the module does on Debian;
//! whether it is there is read from `locale -a`, names compared as glibc normalizes them
//! (`en_US.UTF-8` is `en_US.utf8`). One round trip.

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// A locale name as `locale -a` prints it: the codeset lower-cased without dashes.
fn normalized(name: &str) -> String {
    match name.split_once('.') {
        Some((lang, rest)) => {
            let (codeset, modifier) = rest
                .split_once('@')
                .map_or((rest, None), |(c, m)| (c, Some(m)));
            let codeset: String = codeset
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .map(|c| c.to_ascii_lowercase())
                .collect();
            match modifier {
                Some(m) => format!("{lang}.{codeset}@{m}"),
                None => format!("{lang}.{codeset}"),
            }
        }
        None => name.to_string(),
    }
}

/// The script: prints `changed` when it changes (under --check: would change) the locale.
pub fn command(name: &str, present: bool, check: bool) -> Result<String, String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c))
    {
        return Err(format!("`{name}` is not a locale name"));
    }
    // The line of /etc/locale.gen naming it, enabled (`name charset`) or not (`# name charset`).
    let esc = name.replace('.', "\\.");
    let line = quote(&format!("^#? *{esc} "));
    let has = format!(
        "locale -a 2>/dev/null | grep -qxF -- {}",
        quote(&normalized(name))
    );
    let supported = format!(
        "{{ grep -qE -- {line} /etc/locale.gen || {{ echo {} >&2; exit 1; }}; }}",
        quote(&format!(
            "The locale you've entered is not available on your system: {name} is in neither /etc/locale.gen nor /usr/share/i18n/SUPPORTED"
        ))
    );
    let act = |edit: String, gen_cmd: &str| {
        if check {
            "echo changed".to_string()
        } else {
            format!("{edit} && {gen_cmd} >/dev/null && echo changed")
        }
    };
    // Lines that are only in SUPPORTED are added to locale.gen first, as the module reads both.
    let add_supported = format!(
        "{{ grep -qE -- {line} /etc/locale.gen || grep -E -- {} /usr/share/i18n/SUPPORTED 2>/dev/null | head -n1 | sed 's/^/# /' >> /etc/locale.gen; }}",
        quote(&format!("^{esc} "))
    );
    Ok(if present {
        let enable = format!(
            "{add_supported} && {supported} && sed -i -E {} /etc/locale.gen",
            quote(&format!("s/^# *({esc} )/\\1/"))
        );
        let needs = if check {
            add_supported_check(&esc, &line)
        } else {
            String::new()
        };
        format!("{has} || {{ {needs}{}; }}", act(enable, "locale-gen"))
    } else {
        let disable = format!(
            "sed -i -E {} /etc/locale.gen",
            quote(&format!("s/^({esc} )/# \\1/"))
        );
        format!("! {has} || {{ {}; }}", act(disable, "locale-gen --purge"))
    })
}

/// Under --check, a locale Debian does not know still fails (it would fail for real).
fn add_supported_check(esc: &str, line: &str) -> String {
    format!(
        "{{ grep -qE -- {line} /etc/locale.gen || grep -qE -- {} /usr/share/i18n/SUPPORTED || {{ echo 'The locale you'\\''ve entered is not available on your system' >&2; exit 1; }}; }} && ",
        quote(&format!("^{esc} "))
    )
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(name) = args.str("name") else {
        return Outcome::bad_input("locale_gen needs `name`");
    };
    let present = match args.str("state").as_deref() {
        None | Some("present") => true,
        Some("absent") => false,
        Some(other) => {
            return Outcome::bad_input(format!(
                "locale_gen: `state` must be present or absent, not `{other}`"
            ));
        }
    };
    ctx.built_script(command(&name, present, ctx.check), "locale_gen")
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_glibc_prints_them() {
        assert_eq!(normalized("en_US.UTF-8"), "en_US.utf8");
        assert_eq!(normalized("de_DE.ISO-8859-15@euro"), "de_DE.iso885915@euro");
        assert_eq!(normalized("C"), "C");
        assert!(command("en_US.UTF-8; rm -rf /", true, false).is_err());
        let cmd = command("nl_NL.UTF-8", true, false).unwrap();
        assert!(
            cmd.starts_with("locale -a 2>/dev/null | grep -qxF -- nl_NL.utf8 || { "),
            "{cmd}"
        );
        assert!(cmd.contains("sed -i -E 's/^# *(nl_NL\\.UTF-8 )/\\1/' /etc/locale.gen && locale-gen >/dev/null && echo changed"), "{cmd}");
    }
}
