//! github_release (community.general): a repository's latest release tag, or a release created
//! for a tag unless one exists, through GitHub's REST API with curl where the task runs (no
//! github3.py). As the module does, a token or password is first checked against `/user` (not a
//! `ghs_` installation token); the credentials are curl's configuration on standard input, never
//! a command-line word.

use serde_json::{Value as Json, json};

use super::curl;
use super::{Args, ModuleCtx, Outcome};

/// GitHub's API.
const API: &str = "https://api.github.com";

/// How the task logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Anonymous,
    Token(String),
    Password(String, String),
}

impl Login {
    fn from_args(args: &Args, user: &str) -> Result<Login, String> {
        match (args.str("token"), args.str("password")) {
            (Some(_), Some(_)) => Err("parameters are mutually exclusive: password|token".into()),
            (Some(t), None) => Ok(Login::Token(t)),
            (None, Some(p)) => Ok(Login::Password(user.to_string(), p)),
            (None, None) => Ok(Login::Anonymous),
        }
    }

    /// Whether the module checks the login before it asks anything (`gh_obj.me()`).
    fn checked(&self) -> bool {
        match self {
            Login::Anonymous => false,
            Login::Token(t) => !t.starts_with("ghs_"),
            Login::Password(..) => true,
        }
    }
}

/// curl's configuration for one API request (`body`: JSON to send).
pub fn request(login: &Login, method: &str, path: &str, body: Option<&Json>) -> String {
    let mut c = curl::line("url", &format!("{API}{path}"));
    c.push_str(&curl::line("request", method));
    c.push_str(&curl::line("max-time", "30"));
    c.push_str(&curl::line("header", "Accept: application/vnd.github+json"));
    c.push_str(&curl::line("user-agent", "drover"));
    match login {
        Login::Anonymous => {}
        Login::Token(t) => c.push_str(&curl::line("header", &format!("Authorization: token {t}"))),
        Login::Password(u, p) => c.push_str(&curl::line("user", &format!("{u}:{p}"))),
    }
    if let Some(body) = body {
        c.push_str(&curl::line("header", "Content-Type: application/json"));
        c.push_str(&curl::line("data-binary", &body.to_string()));
    }
    c.push_str(&curl::write_out());
    c
}

/// The release `create_release` sends.
pub fn new_release(args: &Args, tag: &str) -> Json {
    json!({
        "tag_name": tag,
        "target_commitish": args.str("target"),
        "name": args.str("name"),
        "body": args.str("body"),
        "draft": args.bool("draft").unwrap_or(false),
        "prerelease": args.bool("prerelease").unwrap_or(false),
    })
}

/// One API request: the status and the answer as JSON (null when it is not).
async fn call(ctx: &ModuleCtx<'_>, config: &str) -> Result<(u16, Json), String> {
    let out = ctx
        .exec(curl::CURL, config.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let (body, status) = curl::split_status(&out.stdout);
    if status == 0 {
        return Err(format!(
            "GitHub API error: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok((status, serde_json::from_str(&body).unwrap_or(Json::Null)))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    match run_api(args, ctx).await {
        Ok(out) => out,
        Err(e) => Outcome::fail(e),
    }
}

async fn run_api(args: &Args, ctx: &ModuleCtx<'_>) -> Result<Outcome, String> {
    let (Some(user), Some(repo)) = (args.str("user"), args.str("repo")) else {
        return Ok(Outcome::bad_input("github_release needs `user` and `repo`"));
    };
    let login = match Login::from_args(args, &user) {
        Ok(l) => l,
        Err(e) => return Ok(Outcome::bad_input(format!("github_release: {e}"))),
    };
    let action = args.str("action").unwrap_or_default();
    let tag = args.str("tag");
    if action == "create_release" && tag.is_none() {
        return Ok(Outcome::bad_input(
            "github_release: action is create_release but all of the following are missing: tag",
        ));
    }
    if action == "create_release" && login == Login::Anonymous {
        return Ok(Outcome::bad_input(
            "github_release: action is create_release but any of the following are missing: password, token",
        ));
    }
    if login.checked() {
        let (status, answer) = call(ctx, &request(&login, "GET", "/user", None)).await?;
        if status != 200 {
            let why = answer.get("message").and_then(Json::as_str).unwrap_or("");
            return Err(format!("Failed to connect to GitHub: {status} {why}"));
        }
    }
    let base = format!("/repos/{user}/{repo}");
    let mut out = Outcome::default();
    match action.as_str() {
        "latest_release" => {
            let (status, answer) = call(
                ctx,
                &request(&login, "GET", &format!("{base}/releases/latest"), None),
            )
            .await?;
            let tag = match status {
                200 => answer.get("tag_name").cloned().unwrap_or(Json::Null),
                404 => {
                    // No release, or no repository: the module tells them apart.
                    let (exists, _) = call(ctx, &request(&login, "GET", &base, None)).await?;
                    if exists == 404 {
                        return Err(format!("Repository {user}/{repo} doesn't exist"));
                    }
                    Json::Null
                }
                other => {
                    return Err(format!(
                        "GitHub API error: HTTP {other} for {base}/releases/latest"
                    ));
                }
            };
            out.result.insert("tag".into(), tag);
        }
        "create_release" => {
            let tag = tag.unwrap_or_default();
            let (status, _) = call(
                ctx,
                &request(&login, "GET", &format!("{base}/releases/tags/{tag}"), None),
            )
            .await?;
            if status == 200 {
                out.msg = format!("Release for tag {tag} already exists.");
                return Ok(out);
            }
            out.changed = true;
            out.result.insert("tag".into(), json!(tag));
            if ctx.check {
                return Ok(out);
            }
            let release = new_release(args, &tag);
            let (status, answer) = call(
                ctx,
                &request(&login, "POST", &format!("{base}/releases"), Some(&release)),
            )
            .await?;
            if status != 201 {
                let why = answer.get("message").and_then(Json::as_str).unwrap_or("");
                return Err(format!("GitHub API error: HTTP {status} {why}"));
            }
        }
        other => {
            return Ok(Outcome::bad_input(format!(
                "github_release: `action: {other}` is not latest_release or create_release"
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::modules::args;

    #[test]
    fn requests_carry_the_login_in_curls_configuration() {
        let token = Login::from_args(&args(json!({"token": "ghp_x"})), "me").unwrap();
        assert!(token.checked());
        assert!(!Login::Token("ghs_y".into()).checked());
        assert_eq!(
            request(&token, "GET", "/repos/neovim/neovim/releases/latest", None),
            "url = \"https://api.github.com/repos/neovim/neovim/releases/latest\"\nrequest = \"GET\"\nmax-time = \"30\"\nheader = \"Accept: application/vnd.github+json\"\nuser-agent = \"drover\"\nheader = \"Authorization: token ghp_x\"\nwrite-out = \"\\n__DROVER_HTTP_STATUS__%{http_code}\"\n"
        );
        assert!(Login::from_args(&args(json!({"token": "a", "password": "b"})), "me").is_err());
    }

    #[test]
    fn a_new_release_is_what_the_module_sends() {
        let a = args(json!({"tag": "v1", "name": "One", "draft": "yes"}));
        assert_eq!(
            new_release(&a, "v1"),
            json!({"tag_name": "v1", "target_commitish": null, "name": "One", "body": null, "draft": true, "prerelease": false})
        );
    }
}
