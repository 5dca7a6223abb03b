//! Read-only modules that ask the host something: `ping` (a command round trip that needs no
//! Python, answering `pong`) and `slurp` (a file's content, base64-encoded as Ansible returns it).

use base64::Engine as _;
use drover_ssh::shell::quote;
use serde_json::json;

use super::{Args, ModuleCtx, Outcome};

/// `ping`: the host runs a command and answers; `data: crash` fails, as Ansible's does.
pub async fn ping(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let data = args.str("data").unwrap_or_else(|| "pong".into());
    if data == "crash" {
        return Outcome::fail("boom (ping with data=crash fails on purpose)");
    }
    match ctx.output_of("true", "ping").await {
        Ok(_) => {
            let mut out = Outcome::default();
            out.result.insert("ping".into(), json!(data));
            out
        }
        Err(e) => Outcome::fail(e),
    }
}

/// The command that prints a file (`src`) for `slurp`.
pub fn slurp_command(args: &Args) -> Result<String, String> {
    let src = args.first(&["src", "path"]).ok_or("slurp needs `src`")?;
    Ok(format!("cat -- {}", quote(&src)))
}

/// `slurp`: the file's bytes as `content` (base64) with `encoding: base64` and `source`.
pub async fn slurp(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match slurp_command(args) {
        Ok(c) => c,
        Err(e) => return Outcome::bad_input(e),
    };
    let src = args.first(&["src", "path"]).unwrap_or_default();
    let content = match ctx.output_of(&cmd, &format!("slurp {src}")).await {
        Ok(o) => o,
        Err(e) => return Outcome::fail(e),
    };
    let mut out = Outcome::default();
    out.result.insert(
        "content".into(),
        json!(base64::engine::general_purpose::STANDARD.encode(&content)),
    );
    out.result.insert("encoding".into(), json!("base64"));
    out.result.insert("source".into(), json!(src));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurp_reads_the_file_it_is_given_quoted() {
        let args = Args(json!({"src": "/etc/my app/x"}).as_object().unwrap().clone());
        assert_eq!(slurp_command(&args).unwrap(), "cat -- '/etc/my app/x'");
        assert!(slurp_command(&Args(serde_json::Map::new())).is_err());
    }
}
