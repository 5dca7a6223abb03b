//! docker_login: the host's Docker client logged in to a registry (or out), as community.docker's
//! module does it: the password goes to `docker login --password-stdin` on standard input, never on
//! a command line, never shown; an existing login for the registry is kept unless `reauthorize`.

use crate::modules::{Args, ModuleCtx, Outcome, reports_change};
use drover_ssh::shell::quote;

/// Docker Hub's address as the Docker client keys it.
const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// The script: the login for `registry` in the client's config decides whether anything is done.
pub fn command(
    registry: &str,
    username: Option<&str>,
    present: bool,
    reauthorize: bool,
    check: bool,
) -> String {
    let r = quote(registry);
    let config = "\"${DOCKER_CONFIG:-$HOME/.docker}/config.json\"";
    let known = format!(
        "grep -qF {} {config} 2>/dev/null",
        quote(&format!("\"{registry}\""))
    );
    if !present {
        let act = if check {
            String::new()
        } else {
            format!("docker logout {r} >/dev/null || exit 1; ")
        };
        return format!("if {known}; then {act}echo changed; fi");
    }
    let user = username
        .map(|u| format!(" --username {}", quote(u)))
        .unwrap_or_default();
    let login = if check {
        String::new()
    } else {
        format!("docker login{user} --password-stdin {r} >/dev/null || exit 1; ")
    };
    if reauthorize {
        format!("{login}echo changed")
    } else {
        format!("if ! {known}; then {login}echo changed; fi")
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let registry = args
        .first(&["registry_url", "registry"])
        .unwrap_or_else(|| DOCKER_HUB.into());
    let present = match args.present() {
        Ok(p) => p,
        Err(e) => return Outcome::bad_input(format!("docker_login: {e}")),
    };
    let password = args.str("password");
    if present && (args.str("username").is_none() || password.is_none()) {
        return Outcome::bad_input("docker_login: state present needs `username` and `password`");
    }
    let cmd = command(
        &registry,
        args.str("username").as_deref(),
        present,
        args.bool("reauthorize") == Some(true),
        ctx.check,
    );
    let stdin = password.unwrap_or_default();
    match ctx
        .output_with(&cmd, stdin.as_bytes(), "docker_login")
        .await
    {
        Ok(o) => Outcome {
            changed: reports_change(&o),
            ..Outcome::default()
        },
        // Docker's own message, which never holds the password.
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_reaches_the_command_line() {
        let c = command("registry.local:5000", Some("ci"), true, false, false);
        assert_eq!(
            c,
            "if ! grep -qF '\"registry.local:5000\"' \"${DOCKER_CONFIG:-$HOME/.docker}/config.json\" 2>/dev/null; \
             then docker login --username ci --password-stdin registry.local:5000 >/dev/null || exit 1; echo changed; fi"
        );
        assert!(
            command("r", Some("u"), true, true, false)
                .starts_with("docker login --username u --password-stdin r")
        );
        assert!(command("r", None, false, false, false).contains("docker logout r"));
        assert!(!command("r", Some("u"), true, false, true).contains("docker login"));
    }
}
