//! Modules that run on the controller: debug, set_fact, assert, fail, pause and meta.

use serde_json::{Value as Json, json};

use drover_roles::ModuleKind;

use super::{Args, ModuleCtx, Outcome};

pub async fn run(module: ModuleKind, args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    match module {
        ModuleKind::Debug => debug(args, ctx),
        ModuleKind::SetFact => {
            let mut facts = args.0.clone();
            facts.remove("cacheable");
            Outcome {
                facts,
                ..Outcome::default()
            }
        }
        ModuleKind::Assert => assert(args, ctx),
        ModuleKind::Fail => Outcome::fail(
            args.str("msg")
                .unwrap_or_else(|| "Failed as requested from task".into()),
        ),
        ModuleKind::Pause => pause(args, ctx.operator).await,
        ModuleKind::Meta => match args.str("_raw_params").as_deref() {
            Some("flush_handlers") => Outcome {
                flush_handlers: true,
                ..Outcome::default()
            },
            Some("noop") => Outcome::default(),
            other => Outcome::fail(format!(
                "meta: `{}` is not supported; drover has flush_handlers and noop",
                other.unwrap_or_default()
            )),
        },
        other => Outcome::fail(format!("`{}` is not a controller module", other.name())),
    }
}

fn debug(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    // A message for a higher verbosity than the run's is skipped, as in Ansible.
    if let Some(level) = args
        .num("verbosity")
        .filter(|v| *v > f64::from(ctx.verbosity))
    {
        return Outcome {
            skipped: true,
            msg: format!(
                "verbosity {level}: shown with -{}",
                "v".repeat(level.clamp(1.0, 4.0) as usize)
            ),
            ..Outcome::default()
        };
    }
    let mut out = Outcome::default();
    match args.str("var") {
        Some(var) => match ctx.engine.eval(&format!("debug var {var}"), &var, ctx.vars) {
            Ok(v) => {
                out.msg = format!("{var}: {}", drover_templates::py_repr(&v));
                out.result.insert(var, v);
            }
            Err(e) => return Outcome::fail(e.to_string()),
        },
        None => {
            let msg = args.0.get("msg").cloned().unwrap_or(json!("Hello world!"));
            out.msg = drover_templates::py_str(&msg);
            out.result.insert("msg".into(), msg);
        }
    }
    out
}

fn assert(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let conditions: Vec<String> = match args.0.get("that") {
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect(),
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Bool(b)) => vec![b.to_string()],
        _ => return Outcome::fail("assert needs `that`: a condition or a list of them"),
    };
    for cond in &conditions {
        match ctx.engine.eval_bool("assert", cond, ctx.vars) {
            Ok(true) => {}
            Ok(false) => {
                let msg = args
                    .first(&["fail_msg", "msg"])
                    .unwrap_or_else(|| format!("Assertion failed: {cond}"));
                let mut o = Outcome::fail(msg);
                o.result.insert("assertion".into(), json!(cond));
                return o;
            }
            Err(e) => return Outcome::fail(e.to_string()),
        }
    }
    // `quiet` keeps the success message out of the output.
    let msg = match args.bool("quiet") {
        Some(true) => String::new(),
        _ => args
            .str("success_msg")
            .unwrap_or_else(|| "All assertions passed".into()),
    };
    Outcome {
        msg,
        ..Outcome::default()
    }
}

/// Waits the given time; a prompt needs an operator at a terminal, unless `--yes` answers it.
async fn pause(args: &Args, operator: &super::Operator) -> Outcome {
    let wait = match (args.seconds("seconds", 0.0), args.seconds("minutes", 0.0)) {
        (Ok(s), Ok(m)) => super::seconds(s.as_secs_f64() + m.as_secs_f64() * 60.0),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match wait {
        Err(e) => return Outcome::bad_input(format!("pause: {e}")),
        Ok(wait) if !wait.is_zero() => {
            tokio::time::sleep(wait).await;
            return Outcome::default();
        }
        Ok(_) => {}
    }
    let prompt = args
        .str("prompt")
        .unwrap_or_else(|| "Press Enter to continue".into());
    let answer = match operator {
        super::Operator::Yes => {
            let mut o = Outcome {
                msg: format!("checkpoint passed with --yes: {prompt}"),
                ..Outcome::default()
            };
            o.result.insert("user_input".into(), json!(""));
            return o;
        }
        super::Operator::Absent => {
            return Outcome::fail(format!(
                "pause waits for an operator ({prompt}), but drover has no terminal; give `seconds:`, or run with --yes"
            ));
        }
        super::Operator::Ask(ask) => {
            let ask = ask.clone();
            tokio::task::spawn_blocking(move || ask.ask(&prompt)).await
        }
    };
    match answer {
        Ok(Ok(line)) => {
            let mut o = Outcome::default();
            o.result.insert("user_input".into(), json!(line));
            o
        }
        _ => Outcome::fail("pause: could not read the operator's answer"),
    }
}
