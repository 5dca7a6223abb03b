//! compose_lint: fails the task when a compose file or template (as rendered for this host) has a
//! restart policy that will not survive a daemon restart or a reboot. It runs on the controller.

use drover_compose::Options;

use super::{Args, ModuleCtx, Outcome};

pub fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(src) = args.str("src") else {
        return Outcome::fail("compose_lint needs `src`");
    };
    let Some(path) = drover_roles::resolve_file(&src, "templates", ctx.search)
        .or_else(|| drover_roles::resolve_file(&src, "files", ctx.search))
    else {
        return Outcome::fail(format!(
            "compose_lint: `{src}` not found under templates/ or files/"
        ));
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return Outcome::fail(format!("{}: {e}", path.display())),
    };
    let label = path.display().to_string();
    let text = if label.ends_with(".j2") {
        match ctx.engine.render_file(&label, &text, ctx.vars) {
            Ok(r) => r,
            Err(e) => return Outcome::bad_input(format!("{e} (host {})", ctx.host)),
        }
    } else {
        text
    };
    let keep = match args.0.get("keep") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let opts = Options {
        keep,
        ..Options::default()
    };
    match drover_compose::lint(&path, &text, &opts) {
        Ok(findings) if findings.is_empty() => Outcome::default(),
        Ok(findings) => {
            let lines: Vec<String> = findings
                .iter()
                .map(|f| format!("{}:{}: {}", label, f.line, f.message))
                .collect();
            let mut out = Outcome::fail(lines.join("; "));
            out.result
                .insert("findings".into(), serde_json::json!(lines));
            out
        }
        Err(e) => Outcome::bad_input(e.to_string()),
    }
}
