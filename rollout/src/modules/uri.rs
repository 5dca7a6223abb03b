//! uri: an HTTP request with an expected status, made with curl where the task runs (the host, or
//! the controller with `delegate_to: localhost`), so no agent is needed. Everything about the
//! request (URL, headers, credentials, body) is curl's configuration on standard input, never a
//! command-line word. `dest` keeps the response in a file (written under a temp name, renamed
//! into place only when it differs, so a second run changes nothing); `creates`/`removes` skip the
//! request as `command` skips.

use drover_ssh::shell::quote;
use serde_json::{Value as Json, json};

use super::curl;
use super::{Args, ModuleCtx, Outcome};

/// What the host says before the request when `creates`/`removes` skip it.
const SKIP_MARK: &str = "__DROVER_URI_SKIP__";
/// Where the temp file for `dest` is, before curl's output.
const TEMP_MARK: &str = "__DROVER_URI_TEMP__";

/// The form fields of `body_format: form-urlencoded`, encoded.
fn form(body: &Json) -> Result<String, String> {
    let pairs: Vec<(String, String)> = match body {
        Json::Object(map) => map
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect(),
        Json::Array(items) => items
            .iter()
            .filter_map(|i| {
                Some((
                    i.get(0)?.as_str()?.to_string(),
                    i.get(1)?.as_str()?.to_string(),
                ))
            })
            .collect(),
        Json::String(s) => return Ok(s.clone()),
        other => return Err(format!("form-urlencoded needs a mapping, not {other}")),
    };
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                b => format!("%{b:02X}"),
            })
            .collect()
    };
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&"))
}

/// The request body and its content type.
fn body(args: &Args) -> Result<Option<(String, Option<&'static str>)>, String> {
    let Some(body) = args.0.get("body").filter(|b| !b.is_null()) else {
        return Ok(None);
    };
    Ok(Some(match args.str("body_format").as_deref() {
        Some("json") => (
            body.as_str()
                .map_or_else(|| body.to_string(), str::to_string),
            Some("application/json"),
        ),
        Some("form-urlencoded") => (form(body)?, Some("application/x-www-form-urlencoded")),
        _ => (
            body.as_str()
                .map_or_else(|| body.to_string(), str::to_string),
            None,
        ),
    }))
}

/// Whether redirects are followed: `safe` (the default) only for GET and HEAD, as Ansible's.
fn follows(args: &Args, method: &str) -> Result<bool, String> {
    match args.str("follow_redirects").as_deref().unwrap_or("safe") {
        "all" | "yes" | "true" | "urllib2" => Ok(true),
        "none" | "no" | "false" => Ok(false),
        "safe" => Ok(matches!(method, "GET" | "HEAD")),
        other => Err(format!(
            "`follow_redirects: {other}` is not all, safe, none or urllib2"
        )),
    }
}

/// curl's configuration for the request (standard input).
pub fn config(args: &Args) -> Result<String, String> {
    let url = args.str("url").ok_or("`url` is required")?;
    let method = args
        .str("method")
        .unwrap_or_else(|| "GET".into())
        .to_uppercase();
    let timeout = args.num("timeout").unwrap_or(30.0);
    let mut c = curl::line("url", &url);
    c.push_str(&curl::line("request", &method));
    c.push_str(&curl::line("max-time", &timeout.to_string()));
    if args.bool("validate_certs") == Some(false) {
        c.push_str("insecure\n");
    }
    if follows(args, &method)? {
        c.push_str("location\n");
    }
    if args.bool("use_proxy") == Some(false) {
        c.push_str(&curl::line("noproxy", "*"));
    }
    if let Some(socket) = args.str("unix_socket") {
        c.push_str(&curl::line("unix-socket", &socket));
    }
    if let Some(user) = args.first(&["url_username", "user"]) {
        let password = args
            .first(&["url_password", "password"])
            .unwrap_or_default();
        c.push_str(&curl::line("user", &format!("{user}:{password}")));
        // As Ansible: the credentials go with the first request only with `force_basic_auth`;
        // otherwise they answer the server's 401 challenge.
        c.push_str(if args.bool("force_basic_auth") == Some(true) {
            "basic\n"
        } else {
            "anyauth\n"
        });
    }
    let mut typed = false;
    if let Some(Json::Object(headers)) = args.0.get("headers") {
        for (k, v) in headers {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            typed |= k.eq_ignore_ascii_case("content-type");
            c.push_str(&curl::line("header", &format!("{k}: {v}")));
        }
    }
    if let Some((data, kind)) = body(args)? {
        if let (Some(kind), false) = (kind, typed) {
            c.push_str(&curl::line("header", &format!("Content-Type: {kind}")));
        }
        c.push_str(&curl::line("data-binary", &data));
    }
    c.push_str(&curl::write_out());
    Ok(c)
}

/// The request's command: the `creates`/`removes` check, then curl (into a temp file beside
/// `dest` when the response is kept).
pub fn command(args: &Args) -> String {
    let mut cmd = String::new();
    if let Some(p) = args.str("creates") {
        cmd.push_str(&format!(
            "if [ -e {} ]; then echo {SKIP_MARK}; exit 0; fi; ",
            quote(&p)
        ));
    }
    if let Some(p) = args.str("removes") {
        cmd.push_str(&format!(
            "if [ ! -e {} ]; then echo {SKIP_MARK}; exit 0; fi; ",
            quote(&p)
        ));
    }
    match args.str("dest") {
        Some(dest) => cmd.push_str(&format!(
            "t=$(mktemp \"$(dirname -- {})/.drover-uri.XXXXXX\") || exit 1; echo {TEMP_MARK}\"$t\"; {} -o \"$t\"",
            quote(&dest),
            curl::CURL
        )),
        None => cmd.push_str(curl::CURL),
    }
    cmd
}

/// Puts the kept response at `dest` unless it holds the same already (then the temp file goes).
pub fn keep_command(temp: &str, dest: &str) -> String {
    let (t, d) = (quote(temp), quote(dest));
    format!(
        "if cmp -s {t} {d}; then rm -f {t}; else chmod 0644 {t} && mv -f {t} {d} && echo changed; fi"
    )
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
    let config = match config(args) {
        Ok(c) => c,
        Err(e) => return Outcome::bad_input(format!("uri: {e}")),
    };
    let url = args.str("url").unwrap_or_default();
    if ctx.check && args.str("dest").is_some() {
        // The request would write a file: under --check it is not made.
        return Outcome {
            skipped: true,
            msg: "skipped in check mode: the response would be kept in `dest`".into(),
            ..Outcome::default()
        };
    }
    let out = match ctx.exec(&command(args), config.as_bytes()).await {
        Ok(o) => o,
        Err(e) => return Outcome::fail(e.to_string()),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if stdout.starts_with(SKIP_MARK) {
        return Outcome {
            msg: "skipped: `creates`/`removes` say it is done".into(),
            ..Outcome::default()
        };
    }
    let (temp, rest) = match stdout
        .strip_prefix(TEMP_MARK)
        .and_then(|r| r.split_once('\n'))
    {
        Some((t, rest)) => (Some(t.to_string()), rest.to_string()),
        None => (None, stdout),
    };
    let (content, status) = curl::split_status(rest.as_bytes());
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
    if let (Some(temp), Some(dest)) = (temp, args.str("dest")) {
        let cmd = if o.failed {
            format!("rm -f {}", quote(&temp))
        } else {
            keep_command(&temp, &dest)
        };
        match ctx.output_of(&cmd, "uri: dest").await {
            Ok(said) => {
                o.changed = String::from_utf8_lossy(&said)
                    .lines()
                    .any(|l| l == "changed")
            }
            Err(e) if !o.failed => return Outcome::fail(e),
            Err(_) => {}
        }
        o.result.insert("path".into(), json!(dest));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::modules::args;

    #[test]
    fn the_request_is_curls_configuration() {
        let a = args(
            json!({"url": "http://127.0.0.1:8080/health?x=1", "method": "post", "body": {"a": 1}, "body_format": "json", "headers": {"X-Token": "t \"1\""}, "url_username": "admin", "url_password": "s3cret", "use_proxy": false}),
        );
        assert_eq!(
            config(&a).unwrap(),
            "url = \"http://127.0.0.1:8080/health?x=1\"\nrequest = \"POST\"\nmax-time = \"30\"\nnoproxy = \"*\"\nuser = \"admin:s3cret\"\nanyauth\nheader = \"X-Token: t \\\"1\\\"\"\nheader = \"Content-Type: application/json\"\ndata-binary = \"{\\\"a\\\":1}\"\nwrite-out = \"\\n__DROVER_HTTP_STATUS__%{http_code}\"\n"
        );
        assert_eq!(command(&a), "curl -q -sS -K -");
        let get = config(&args(json!({"url": "https://x/"}))).unwrap();
        assert!(
            get.contains("\nlocation\n"),
            "GET follows redirects (safe): {get}"
        );
        let form = config(&args(json!({"url": "https://x/", "method": "POST", "body_format": "form-urlencoded", "body": {"name": "a b", "x": "&"}}))).unwrap();
        assert!(form.contains("data-binary = \"name=a+b&x=%26\""), "{form}");
        assert!(
            !form.contains("location"),
            "POST does not follow (safe): {form}"
        );
    }

    #[test]
    fn dest_creates_and_removes_shape_the_command() {
        let a = args(json!({"url": "http://h/f", "dest": "/srv/f.json", "creates": "/srv/done"}));
        assert_eq!(
            command(&a),
            "if [ -e /srv/done ]; then echo __DROVER_URI_SKIP__; exit 0; fi; t=$(mktemp \"$(dirname -- /srv/f.json)/.drover-uri.XXXXXX\") || exit 1; echo __DROVER_URI_TEMP__\"$t\"; curl -q -sS -K - -o \"$t\""
        );
        assert_eq!(
            keep_command("/srv/.drover-uri.1", "/srv/f.json"),
            "if cmp -s /srv/.drover-uri.1 /srv/f.json; then rm -f /srv/.drover-uri.1; else chmod 0644 /srv/.drover-uri.1 && mv -f /srv/.drover-uri.1 /srv/f.json && echo changed; fi"
        );
        assert_eq!(
            expected(&args(json!({"status_code": [200, "204"]}))),
            [200, 204]
        );
    }
}
