//! slack (community.general): a message posted to Slack where the task runs (usually
//! `delegate_to: localhost`), through an incoming webhook (`token: T.../B.../X...`) or the Web API
//! (`token: xoxb-...`, chat.postMessage), with the payload community.general builds. The request
//! is made with curl, its URL, token and payload given on standard input as curl's configuration,
//! so the token is in no command line (`ps`, `-vvv`) and never in the result.

use serde_json::{Map, Value as Json, json};

use super::curl;
use super::{Args, ModuleCtx, Outcome};

/// How the token reaches Slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// An incoming webhook: `https://hooks.DOMAIN/services/TOKEN`.
    Webhook(String),
    /// The Web API (`chat.postMessage`), the token as a bearer.
    Api(String),
}

/// The endpoint for `token`, refused as the module refuses a token of neither form.
pub fn endpoint(token: &str, domain: Option<&str>) -> Result<Endpoint, String> {
    // As the module validates it: any other domain is slack.com.
    let domain = domain
        .filter(|d| *d == "slack-gov.com")
        .unwrap_or("slack.com");
    let webhook = regex::Regex::new(r"^T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+$").expect("valid regex");
    if webhook.is_match(token) {
        Ok(Endpoint::Webhook(format!(
            "https://hooks.{domain}/services/{token}"
        )))
    } else if ["xoxb-", "xoxp-", "xoxa-"]
        .iter()
        .any(|p| token.starts_with(p))
    {
        Ok(Endpoint::Api(format!(
            "https://{domain}/api/chat.postMessage"
        )))
    } else {
        Err("The token provided is not a valid Slack token. Webhooks should look like T.../B.../X... and API tokens should start with xoxb-, xoxp-, or xoxa-.".into())
    }
}

/// The message as community.general's `build_payload_for_slack` makes it.
pub fn payload(args: &Args) -> Result<Json, String> {
    let color = args.str("color").unwrap_or_else(|| "normal".into());
    let hex = regex::Regex::new(r"^#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$").expect("valid regex");
    if !["normal", "good", "warning", "danger"].contains(&color.as_str()) && !hex.is_match(&color) {
        return Err("Color value specified should be either one of ['normal', 'good', 'warning', 'danger'] or any valid hex value with length 3 or 6.".into());
    }
    let mut p = Map::new();
    if let Some(text) = args.str("msg") {
        if color == "normal" {
            p.insert("text".into(), json!(text));
        } else {
            p.insert(
                "attachments".into(),
                json!([{"text": text, "color": color, "mrkdwn_in": ["text"]}]),
            );
        }
    }
    if let Some(channel) = args.str("channel") {
        let hash = match args.str("prepend_hash").as_deref().unwrap_or("never") {
            "always" => true,
            "auto" => !["#", "@", "C0", "GF", "G0", "CP"]
                .iter()
                .any(|s| channel.starts_with(s)),
            _ => false,
        };
        p.insert(
            "channel".into(),
            json!(if hash { format!("#{channel}") } else { channel }),
        );
    }
    if let Some(thread) = args.str("thread_id") {
        p.insert("thread_ts".into(), json!(thread));
        if args.bool("reply_broadcast") == Some(true) {
            p.insert("reply_broadcast".into(), json!(true));
        }
    }
    p.insert(
        "username".into(),
        json!(args.str("username").unwrap_or_else(|| "Ansible".into())),
    );
    match args.str("icon_emoji") {
        Some(emoji) => p.insert("icon_emoji".into(), json!(emoji)),
        None => p.insert(
            "icon_url".into(),
            json!(
                args.str("icon_url")
                    .unwrap_or_else(|| "https://docs.ansible.com/favicon/favicon.ico".into())
            ),
        ),
    };
    let link_names = args.num("link_names").unwrap_or(1.0);
    if link_names != 0.0 && link_names != 1.0 {
        return Err("`link_names` must be 0 or 1".into());
    }
    p.insert("link_names".into(), json!(link_names as u8));
    if let Some(parse) = args.str("parse") {
        p.insert("parse".into(), json!(parse));
    }
    if let Some(Json::Array(items)) = args.0.get("attachments") {
        let list = p.entry("attachments").or_insert_with(|| json!([]));
        for item in items {
            let mut a = item
                .as_object()
                .cloned()
                .ok_or("`attachments` must be a list of mappings")?;
            if !a.contains_key("fallback") {
                let text = a
                    .get("text")
                    .cloned()
                    .ok_or("an attachment without `fallback` needs `text`")?;
                a.insert("fallback".into(), text);
            }
            if let Json::Array(l) = list {
                l.push(Json::Object(a));
            }
        }
    }
    if let Some(blocks) = args.0.get("blocks").filter(|b| !b.is_null()) {
        p.insert("blocks".into(), blocks.clone());
    }
    Ok(Json::Object(p))
}

/// curl's configuration (standard input): the URL, headers with the bearer token for the Web
/// API, and the payload.
pub fn curl_config(
    endpoint: &Endpoint,
    token: &str,
    payload: &Json,
    validate_certs: bool,
) -> String {
    let (url, bearer) = match endpoint {
        Endpoint::Webhook(u) => (u, false),
        Endpoint::Api(u) => (u, true),
    };
    let mut config = curl::line("url", url);
    config.push_str(&curl::line("request", "POST"));
    config.push_str(&curl::line("max-time", "30"));
    config.push_str(&curl::line(
        "header",
        "Content-Type: application/json; charset=UTF-8",
    ));
    config.push_str(&curl::line("header", "Accept: application/json"));
    if bearer {
        config.push_str(&curl::line(
            "header",
            &format!("Authorization: Bearer {token}"),
        ));
    }
    if !validate_certs {
        config.push_str("insecure\n");
    }
    config.push_str(&curl::line("data-binary", &payload.to_string()));
    config.push_str(&curl::write_out());
    config
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(token) = args.str("token") else {
        return Outcome::bad_input("slack needs `token`");
    };
    let (endpoint, payload) = match (
        endpoint(&token, args.str("domain").as_deref()),
        payload(args),
    ) {
        (Ok(e), Ok(p)) => (e, p),
        (Err(e), _) | (_, Err(e)) => return Outcome::bad_input(format!("slack: {e}")),
    };
    let mut out = Outcome {
        changed: true,
        ..Outcome::default()
    };
    let has_content = ["text", "attachments", "blocks"]
        .iter()
        .any(|k| payload.get(k).is_some());
    if ctx.check || !has_content {
        return out;
    }
    let config = curl_config(
        &endpoint,
        &token,
        &payload,
        args.bool("validate_certs") != Some(false),
    );
    let answer = match ctx.exec(curl::CURL, config.as_bytes()).await {
        Ok(o) => o,
        Err(e) => return Outcome::fail(format!("slack: {e}")),
    };
    let (body, status) = curl::split_status(&answer.stdout);
    let shown = match &endpoint {
        Endpoint::Webhook(_) => "https://hooks.slack.com/services/[obscured]".to_string(),
        Endpoint::Api(u) => u.clone(),
    };
    if status != 200 {
        let why = String::from_utf8_lossy(&answer.stderr).trim().to_string();
        return Outcome::fail(format!(
            "failed to send {payload} to {shown}: HTTP {status} {body}{why}"
        ));
    }
    match endpoint {
        Endpoint::Webhook(_) => out.msg = "OK".into(),
        Endpoint::Api(_) => {
            let api: Json = serde_json::from_str(&body).unwrap_or(Json::Null);
            if api.get("ok") != Some(&Json::Bool(true)) {
                out = Outcome::fail("Slack operation failed");
                out.result.insert(
                    "error".into(),
                    api.get("error").cloned().unwrap_or(json!("Unknown error")),
                );
                return out;
            }
            for key in ["ts", "channel"] {
                if let Some(v) = api.get(key) {
                    out.result.insert(key.into(), v.clone());
                }
            }
            out.result.insert("api".into(), api);
            out.result
                .insert("payload".into(), json!(payload.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::modules::args;

    #[test]
    fn the_payload_is_community_generals() {
        let p = payload(&args(json!({"token": "x", "msg": "Patched \"web\"", "channel": "ops", "prepend_hash": "auto", "color": "danger", "attachments": [{"text": "details"}]}))).unwrap();
        assert_eq!(
            p,
            json!({"attachments": [{"text": "Patched \"web\"", "color": "danger", "mrkdwn_in": ["text"]}, {"text": "details", "fallback": "details"}], "channel": "#ops", "username": "Ansible", "icon_url": "https://docs.ansible.com/favicon/favicon.ico", "link_names": 1})
        );
        let plain = payload(&args(json!({"msg": "hi", "channel": "C0123", "prepend_hash": "auto", "icon_emoji": ":ship:"}))).unwrap();
        assert_eq!(
            plain,
            json!({"text": "hi", "channel": "C0123", "username": "Ansible", "icon_emoji": ":ship:", "link_names": 1})
        );
        assert!(
            payload(&args(json!({"msg": "x", "color": "blue"})))
                .unwrap_err()
                .contains("Color value")
        );
    }

    #[test]
    fn tokens_choose_the_endpoint() {
        assert_eq!(
            endpoint("T0ABC/B0DEF/xyz123", None).unwrap(),
            Endpoint::Webhook("https://hooks.slack.com/services/T0ABC/B0DEF/xyz123".into())
        );
        assert_eq!(
            endpoint("xoxb-1-2", Some("slack-gov.com")).unwrap(),
            Endpoint::Api("https://slack-gov.com/api/chat.postMessage".into())
        );
        assert!(
            endpoint("hunter2", None)
                .unwrap_err()
                .contains("not a valid Slack token")
        );
    }

    #[test]
    fn the_token_is_only_in_curls_configuration() {
        let config = curl_config(
            &Endpoint::Api("https://slack.com/api/chat.postMessage".into()),
            "xoxb-s3cret",
            &json!({"text": "a \"q\" \\ b"}),
            false,
        );
        assert_eq!(
            config,
            "url = \"https://slack.com/api/chat.postMessage\"\nrequest = \"POST\"\nmax-time = \"30\"\nheader = \"Content-Type: application/json; charset=UTF-8\"\nheader = \"Accept: application/json\"\nheader = \"Authorization: Bearer xoxb-s3cret\"\ninsecure\ndata-binary = \"{\\\"text\\\":\\\"a \\\\\\\"q\\\\\\\" \\\\\\\\ b\\\"}\"\nwrite-out = \"\\n__DROVER_HTTP_STATUS__%{http_code}\"\n"
        );
    }
}
