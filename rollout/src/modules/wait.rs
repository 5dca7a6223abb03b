//! wait_for: waits for a port to open or close, or a file to appear (with text in it) or go, by asking
//! the host once a second until the timeout.

use std::time::{Duration, Instant};

use drover_ssh::shell::quote;

use super::{Args, ModuleCtx, Outcome};

/// The check that succeeds once the wait is over.
pub fn check_command(args: &Args) -> Result<Option<String>, String> {
    let state = args.str("state").unwrap_or_else(|| "started".into());
    let negate = matches!(state.as_str(), "stopped" | "absent");
    if !matches!(state.as_str(), "started" | "stopped" | "present" | "absent") {
        return Err(format!(
            "`state: {state}` is not one of started, stopped, present, absent"
        ));
    }
    let check = if let Some(port) = args.num("port") {
        let host = args.str("host").unwrap_or_else(|| "127.0.0.1".into());
        let target = quote(&format!("exec 3<>/dev/tcp/{host}/{port}"));
        // A connection that is neither taken nor refused (a dropped SYN) counts as closed after
        // `connect_timeout`, as in Ansible.
        let connect = args.seconds("connect_timeout", 5.0)?.as_secs().max(1);
        format!("timeout {connect} bash -c {target} 2>/dev/null")
    } else if let Some(path) = args.str("path") {
        match args.str("search_regex") {
            Some(re) if !negate => {
                format!("grep -Eq -- {} {} 2>/dev/null", quote(&re), quote(&path))
            }
            _ => format!("[ -e {} ]", quote(&path)),
        }
    } else {
        return Ok(None);
    };
    Ok(Some(if negate { format!("! {check}") } else { check }))
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let check = match check_command(args) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(e),
    };
    let seconds = |key, default| args.seconds(key, default);
    let (timeout, delay, pause) = match (
        seconds("timeout", 300.0),
        seconds("delay", 0.0),
        seconds("sleep", 1.0),
    ) {
        (Ok(t), Ok(d), Ok(s)) => (t, d, s),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return Outcome::bad_input(format!("wait_for: {e}"));
        }
    };
    tokio::time::sleep(delay).await;
    let Some(check) = check else {
        tokio::time::sleep(timeout).await;
        return Outcome::default();
    };
    let started = Instant::now();
    // One check may take as long as its connection may (`connect_timeout`), and a little more.
    let per_check =
        args.seconds("connect_timeout", 5.0).unwrap_or_default() + Duration::from_secs(10);
    loop {
        match ctx.exec_for(&check, b"", Some(per_check)).await {
            Ok(o) if o.status.success() => {
                let mut out = Outcome::default();
                out.result.insert(
                    "elapsed".into(),
                    serde_json::json!(started.elapsed().as_secs()),
                );
                return out;
            }
            Ok(_) => {}
            Err(e) => return Outcome::fail(e.to_string()),
        }
        if started.elapsed() >= timeout {
            return Outcome::fail(args.str("msg").unwrap_or_else(|| {
                format!("timeout after {}s waiting for `{check}`", timeout.as_secs())
            }));
        }
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn a(v: serde_json::Value) -> Args {
        Args(v.as_object().unwrap().clone())
    }

    #[test]
    fn checks_are_exact() {
        assert_eq!(
            check_command(&a(json!({"port": 8080}))).unwrap().unwrap(),
            "timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080' 2>/dev/null"
        );
        assert_eq!(
            check_command(&a(
                json!({"port": 22, "host": "10.0.0.1", "state": "stopped", "connect_timeout": 2})
            ))
            .unwrap()
            .unwrap(),
            "! timeout 2 bash -c 'exec 3<>/dev/tcp/10.0.0.1/22' 2>/dev/null"
        );
        assert_eq!(
            check_command(&a(
                json!({"path": "/var/log/app.log", "search_regex": "ready"})
            ))
            .unwrap()
            .unwrap(),
            "grep -Eq -- ready /var/log/app.log 2>/dev/null"
        );
        assert_eq!(check_command(&a(json!({"timeout": 1}))).unwrap(), None);
    }
}
