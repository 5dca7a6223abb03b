//! debconf: one answer in a package's debconf database, as ansible.builtin.debconf sets it: read
//! with `debconf-show`, set with `debconf-set-selections` (the answer on standard input, never on a
//! command line) only when it differs. A `password` is never shown, so it is always set and always
//! reported changed, as Ansible does, and it never appears in a diff.

use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome};

const VTYPES: &[&str] = &[
    "boolean",
    "error",
    "multiselect",
    "note",
    "password",
    "seen",
    "select",
    "string",
    "text",
    "title",
];

/// The answer as debconf keeps it: booleans as `true`/`false`, multiselect items in order.
fn normalised(vtype: &str, value: &str) -> String {
    match vtype {
        "boolean" => match value.to_ascii_lowercase().as_str() {
            "yes" | "true" | "1" | "on" => "true".into(),
            "no" | "false" | "0" | "off" => "false".into(),
            other => other.to_string(),
        },
        "multiselect" => {
            let mut items: Vec<&str> = value.split(',').map(str::trim).collect();
            items.sort_unstable();
            items.join(", ")
        }
        _ => value.to_string(),
    }
}

/// The question's current answer in `debconf-show` output (lines `* question: value`, the star for
/// a question already seen), None when the package has no such question yet.
pub fn current(show: &str, question: &str) -> Option<String> {
    show.lines().find_map(|l| {
        let rest = l.get(2..)?.strip_prefix(question)?.strip_prefix(':')?;
        Some(rest.strip_prefix(' ').unwrap_or(rest).to_string())
    })
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(pkg) = args.str("name") else {
        return Outcome::bad_input("debconf needs `name`, the package");
    };
    let question = args
        .str("question")
        .or_else(|| args.str("selection"))
        .or_else(|| args.str("setting"));
    let value = args.str("value").or_else(|| args.str("answer"));
    let vtype = args.str("vtype");
    let (Some(question), Some(vtype)) = (question, vtype) else {
        // Without a question, Ansible's module only reads: drover has nothing to set either.
        return Outcome::bad_input(
            "debconf: `question` and `vtype` are required (drover's debconf sets an answer)",
        );
    };
    if !VTYPES.contains(&vtype.as_str()) {
        return Outcome::bad_input(format!(
            "debconf: `vtype` must be one of {}",
            VTYPES.join(", ")
        ));
    }
    let value = value.unwrap_or_default();
    if question.contains(char::is_whitespace)
        || pkg.contains(char::is_whitespace)
        || value.contains('\n')
    {
        return Outcome::bad_input(
            "debconf: `name` and `question` are single words and `value` one line",
        );
    }
    let want = normalised(&vtype, &value);
    let show = format!("debconf-show {}", quote(&pkg));
    let out = match ctx.output_of(&show, "debconf-show").await {
        Ok(o) => String::from_utf8_lossy(&o).into_owned(),
        Err(e) => return Outcome::fail(e),
    };
    let before = current(&out, &question).map(|v| normalised(&vtype, &v));
    let secret = vtype == "password";
    let changed = secret || before.as_deref() != Some(want.as_str());
    let mut outcome = Outcome {
        changed,
        ..Outcome::default()
    };
    if changed && !ctx.check {
        let unseen = if args.bool("unseen") == Some(true) {
            " -u"
        } else {
            ""
        };
        let line = format!("{pkg} {question} {vtype} {value}\n");
        if let Err(e) = ctx
            .output_with(
                &format!("debconf-set-selections{unseen}"),
                line.as_bytes(),
                "debconf-set-selections",
            )
            .await
        {
            return Outcome::fail(e);
        }
    }
    if changed && ctx.diff && !secret {
        outcome.diff = Some(format!(
            "-{question}: {}\n+{question}: {want}\n",
            before.unwrap_or_default()
        ));
    }
    outcome.result.insert("question".into(), json!(question));
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_and_compared_as_debconf_keeps_them() {
        let show = "* tzdata/Areas: Europe\n  tzdata/Zones/Etc: UTC\n  tzdata/Zones/Europe:\n* mail/list: b, a\n";
        assert_eq!(current(show, "tzdata/Areas").as_deref(), Some("Europe"));
        assert_eq!(current(show, "tzdata/Zones/Europe").as_deref(), Some(""));
        assert_eq!(current(show, "tzdata/Zones"), None);
        assert_eq!(normalised("boolean", "yes"), "true");
        assert_eq!(
            normalised("multiselect", "b, a"),
            normalised("multiselect", "a,b")
        );
    }
}
