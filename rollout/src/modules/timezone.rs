//! timezone: the host's time zone, as community.general's module sets it on Debian: through
//! timedatectl where systemd runs, else /etc/localtime (a link into /usr/share/zoneinfo) and
//! /etc/timezone. A name without a zoneinfo file is refused. One round trip.

use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome, setting_report};

/// The script: prints `was:NAME` and `changed` when it set (or would set) the zone.
pub fn command(name: &str, check: bool) -> String {
    let n = quote(name);
    let (systemd_set, file_set) = if check {
        (String::new(), String::new())
    } else {
        (
            format!("timedatectl set-timezone {n} || exit 1; "),
            format!(
                "ln -sfn /usr/share/zoneinfo/{n} /etc/localtime || exit 1; \
                 if [ -L /etc/timezone ]; then echo '/etc/timezone is a symlink: not written through' >&2; exit 1; fi; \
                 printf '%s\\n' {n} > /etc/timezone || exit 1; "
            ),
        )
    };
    format!(
        "case {n} in *..*|/*) echo 'given timezone '{n}' is not available' >&2; exit 1;; esac; \
         [ -f /usr/share/zoneinfo/{n} ] || {{ echo 'given timezone '{n}' is not available' >&2; exit 1; }}; \
         if [ -d /run/systemd/system ] && command -v timedatectl >/dev/null; then \
         cur=$(timedatectl show -p Timezone --value); echo \"was:$cur\"; \
         if [ \"$cur\" != {n} ]; then {systemd_set}echo changed; fi; \
         else cur=$(cat /etc/timezone 2>/dev/null); link=$(readlink /etc/localtime); echo \"was:$cur\"; \
         if [ \"$cur\" != {n} ] || [ \"$link\" != /usr/share/zoneinfo/{n} ]; then {file_set}echo changed; fi; fi"
    )
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(name) = args.str("name") else {
        return Outcome::bad_input("timezone needs `name`");
    };
    let out = match ctx.output_of(&command(&name, ctx.check), "timezone").await {
        Ok(o) => o,
        Err(e) => return Outcome::fail(e),
    };
    let (before, changed) = setting_report(&out);
    let mut outcome = Outcome {
        changed,
        ..Outcome::default()
    };
    if outcome.changed && ctx.diff {
        outcome.diff = Some(format!("-name = {before}\n+name = {name}\n"));
    }
    outcome.result.insert("name".into(), json!(name));
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zone_is_set_where_systemd_or_the_files_keep_it() {
        assert_eq!(
            command("Europe/Zurich", false),
            "case Europe/Zurich in *..*|/*) echo 'given timezone 'Europe/Zurich' is not available' >&2; exit 1;; esac; \
             [ -f /usr/share/zoneinfo/Europe/Zurich ] || { echo 'given timezone 'Europe/Zurich' is not available' >&2; exit 1; }; \
             if [ -d /run/systemd/system ] && command -v timedatectl >/dev/null; then \
             cur=$(timedatectl show -p Timezone --value); echo \"was:$cur\"; \
             if [ \"$cur\" != Europe/Zurich ]; then timedatectl set-timezone Europe/Zurich || exit 1; echo changed; fi; \
             else cur=$(cat /etc/timezone 2>/dev/null); link=$(readlink /etc/localtime); echo \"was:$cur\"; \
             if [ \"$cur\" != Europe/Zurich ] || [ \"$link\" != /usr/share/zoneinfo/Europe/Zurich ]; then \
             ln -sfn /usr/share/zoneinfo/Europe/Zurich /etc/localtime || exit 1; \
             if [ -L /etc/timezone ]; then echo '/etc/timezone is a symlink: not written through' >&2; exit 1; fi; \
             printf '%s\\n' Europe/Zurich > /etc/timezone || exit 1; echo changed; fi; fi"
        );
        assert!(
            command("../../etc/passwd", true)
                .contains("*..*|/*) echo 'given timezone '../../etc/passwd' is not available'")
        );
    }
}
