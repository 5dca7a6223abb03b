//! uri: an HTTP request with an expected status, made with curl where the task runs (the host, or the
//! controller with `delegate_to: localhost`), so no agent is needed.

use drover_ssh::shell::quote;
use serde_json::{Value as Json, json};

use super::{Args, ModuleCtx, Outcome};

/// Separates the body from the status code in curl's output.
const STATUS_MARK: &str = "\n__DROVER_HTTP_STATUS__";

/// The curl command line; the request body, if any, goes on stdin.
pub fn command(args: &Args) -> Result<String, String> {
    let url = args.str("url").ok_or("`url` is required")?;
    let method = args
        .str("method")
        .unwrap_or_else(|| "GET".into())
        .to_uppercase();
    let timeout = args.num("timeout").unwrap_or(30.0);
    let mut cmd = format!("curl -sS -X {} --max-time {timeout}", quote(&method));
    if args.bool("validate_certs") == Some(false) {
        cmd.push_str(" -k");
    }
    if let Some(Json::Object(headers)) = args.0.get("headers") {
        for (k, v) in headers {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            cmd.push_str(&format!(" -H {}", quote(&format!("{k}: {v}"))));
        }
    }
    if args.0.contains_key("body") {
        if args.str("body_format").as_deref() == Some("json") {
            cmd.push_str(" -H 'Content-Type: application/json'");
        }
        cmd.push_str(" --data-binary @-");
    }
    cmd.push_str(&format!(
        " -w {} {}",
        quote(&format!("{STATUS_MARK}%{{http_code}}")),
        quote(&url)
    ));
    Ok(cmd)
}

fn body(args: &Args) -> Vec<u8> {
    match (args.0.get("body"), args.str("body_format").as_deref()) {
        (None, _) => Vec::new(),
        (Some(Json::String(s)), _) => s.clone().into_bytes(),
        (Some(other), _) => other.to_string().into_bytes(),
    }
}

fn expected(args: &Args) -> Vec<u16> {
    match args.0.get("status_code") {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_u64().or_else(|| i.as_str()?.parse().ok()))
            .filter_map(|n| u16::try_from(n).ok())
            .collect(),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str()?.parse().ok())
            .and_then(|n| u16::try_from(n).ok())
            .into_iter()
            .collect(),
        None => vec![200],
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let cmd = match command(args) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(e),
    };
    let url = args.str("url").unwrap_or_default();
    let out = match ctx.exec(&cmd, &body(args)).await {
        Ok(o) => o,
        Err(e) => return Outcome::fail(e.to_string()),
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (content, status) = match text.rsplit_once(STATUS_MARK) {
        Some((c, s)) => (c.to_string(), s.trim().parse::<u16>().unwrap_or(0)),
        None => (text.clone(), 0),
    };
    let mut o = Outcome::default();
    o.result.insert("status".into(), json!(status));
    o.result.insert("url".into(), json!(url));
    if args.bool("return_content") == Some(true) {
        o.result.insert("content".into(), json!(content));
    }
    if let Ok(parsed) = serde_json::from_str::<Json>(&content) {
        o.result.insert("json".into(), parsed);
    }
    let want = expected(args);
    if status == 0 {
        o.failed = true;
        o.msg = format!(
            "request to {url} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    } else if !want.contains(&status) {
        o.failed = true;
        o.msg = format!(
            "status code {status} from {url}, expected {}",
            want.iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        );
    } else {
        o.msg = format!("OK ({} bytes)", content.len());
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_command_is_exact() {
        let a = Args(json!({"url": "http://127.0.0.1:8080/health?x=1", "method": "post", "body": {"a": 1}, "body_format": "json", "headers": {"X-Token": "t 1"}}).as_object().unwrap().clone());
        assert_eq!(
            command(&a).unwrap(),
            "curl -sS -X POST --max-time 30 -H 'X-Token: t 1' -H 'Content-Type: application/json' --data-binary @- -w '\n__DROVER_HTTP_STATUS__%{http_code}' 'http://127.0.0.1:8080/health?x=1'"
        );
        assert_eq!(body(&a), br#"{"a":1}"#);
        assert_eq!(
            expected(&Args(
                json!({"status_code": [200, "204"]})
                    .as_object()
                    .unwrap()
                    .clone()
            )),
            [200, 204]
        );
    }
}
