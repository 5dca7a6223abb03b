//! Background jobs: `async:` with `poll: 0` starts a command or shell task on the host and goes on;
//! `async_status` reads it back. A job is a folder `~/.ansible_async/<jid>` (as Ansible's), made
//! private (umask 077), its id 128 random bits so that no other user can guess or plant it; the
//! job is killed after `async` seconds.

use drover_ssh::shell::{quote, temp_path};
use serde_json::json;

use super::command::{finished, line_to_run};
use super::{Args, ModuleCtx, Outcome};
use drover_roles::ModuleKind;

/// Where jobs live, relative to the remote user's home (Ansible's default `async_dir`).
const ASYNC_DIR: &str = ".ansible_async";

/// A new job id: `j` and 32 hex digits.
pub fn new_jid() -> String {
    let name = temp_path("x");
    // temp_path's name ends in 128 random bits, as hex.
    format!("j{}", name.rsplit('-').next().unwrap_or_default())
}

/// Whether `jid` is one [`new_jid`] could have made (it goes into a path).
fn valid_jid(jid: &str) -> bool {
    jid.len() > 1
        && jid.starts_with('j')
        && jid[1..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
}

/// The shell text that makes the job's folder (refusing a symlink in its place) and sets `$j` to it.
fn job_folder(jid: &str) -> String {
    format!(
        "umask 077; d=\"$HOME\"/{ASYNC_DIR}; mkdir -p \"$d\" && [ -d \"$d\" ] && [ ! -L \"$d\" ] || {{ echo \"$d is not a folder of this user's\" >&2; exit 1; }}; j=\"$d\"/{}",
        quote(jid)
    )
}

/// The command that starts `line` in the background, detached from the session, killed after
/// `seconds`; its exit code is written last, through a temporary name, so a reader sees a whole one.
pub fn launch_command(line: &str, jid: &str, seconds: u64) -> String {
    let job = format!(
        "j=\"$1\"; timeout -s KILL {seconds} sh -c {} < /dev/null > \"$j/stdout\" 2> \"$j/stderr\"; echo $? > \"$j/rc.tmp\" && mv \"$j/rc.tmp\" \"$j/rc\"",
        quote(line)
    );
    format!(
        "{}; mkdir \"$j\" || exit 1; nohup sh -c {} sh \"$j\" > /dev/null 2>&1 < /dev/null & echo \"$j\"",
        job_folder(jid),
        quote(&job)
    )
}

/// The command that prints the job's state: `running`, or `rc=N` then its stdout, a NUL, its stderr.
pub fn status_command(jid: &str) -> String {
    format!(
        "{}; [ -d \"$j\" ] || {{ echo \"could not find job {jid}\" >&2; exit 3; }}; if [ -f \"$j/rc\" ]; then echo \"rc=$(cat \"$j/rc\")\"; cat \"$j/stdout\"; printf '\\0'; cat \"$j/stderr\"; else echo running; fi",
        job_folder(jid)
    )
}

/// Starts the task's command in the background: registers `ansible_job_id`, `started`,
/// `finished: 0` and `results_file`.
pub async fn start(module: ModuleKind, args: &Args, ctx: &ModuleCtx<'_>, seconds: u64) -> Outcome {
    if args.str("stdin").is_some() {
        return Outcome::bad_input(
            "`stdin` cannot reach a job in the background (`poll: 0`): it reads nothing",
        );
    }
    let line = match line_to_run(module, args, ctx).await {
        Ok(l) => l,
        Err(skipped_or_failed) => return skipped_or_failed,
    };
    let jid = new_jid();
    let folder = match ctx
        .output_of(
            &launch_command(&line, &jid, seconds),
            "starting the background job",
        )
        .await
    {
        Ok(out) => String::from_utf8_lossy(&out).trim().to_string(),
        Err(e) => return Outcome::fail(e),
    };
    let mut o = Outcome {
        changed: true,
        msg: format!("started in the background as {jid} (at most {seconds} s)"),
        ..Outcome::default()
    };
    o.result.insert("ansible_job_id".into(), json!(jid));
    o.result.insert("started".into(), json!(1));
    o.result.insert("finished".into(), json!(0));
    o.result.insert("results_file".into(), json!(folder));
    o
}

/// `async_status`: the job's state, and when it has finished its exit code and output; `mode:
/// cleanup` removes it.
pub async fn status(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let Some(jid) = args.str("jid") else {
        return Outcome::bad_input("async_status needs `jid`");
    };
    if !valid_jid(&jid) {
        return Outcome::bad_input(format!("async_status: `{jid}` is not a job id"));
    }
    if args.str("mode").as_deref() == Some("cleanup") {
        let cmd = format!("{}; rm -rf -- \"$j\"", job_folder(&jid));
        return match ctx.output_of(&cmd, "removing the job").await {
            Ok(_) => {
                let mut o = Outcome::default();
                o.result.insert("ansible_job_id".into(), json!(jid));
                o.result.insert("erased".into(), json!(true));
                o
            }
            Err(e) => Outcome::fail(e),
        };
    }
    let out = match ctx
        .output_of(&status_command(&jid), "reading the job")
        .await
    {
        Ok(out) => out,
        Err(e) => return Outcome::fail(e),
    };
    read_status(&jid, &out)
}

/// The outcome for what [`status_command`] printed.
fn read_status(jid: &str, out: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(out);
    let mut o = Outcome::default();
    o.result.insert("ansible_job_id".into(), json!(jid));
    o.result.insert("started".into(), json!(1));
    let Some(rest) = text.strip_prefix("rc=") else {
        o.result.insert("finished".into(), json!(0));
        return o;
    };
    let (rc, output) = rest.split_once('\n').unwrap_or((rest, ""));
    let rc: i64 = rc.trim().parse().unwrap_or(-1);
    let (stdout, stderr) = output.split_once('\0').unwrap_or((output, ""));
    let mut done = finished(
        rc,
        stdout.trim_end_matches('\n'),
        stderr.trim_end_matches('\n'),
    );
    if rc == 137 {
        done.msg = "the job was killed: it ran longer than its async seconds".into();
    }
    done.result.extend(o.result);
    done.result.insert("finished".into(), json!(1));
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_random_and_checked_before_they_reach_a_path() {
        let (a, b) = (new_jid(), new_jid());
        assert_ne!(a, b);
        assert_eq!(a.len(), 33, "{a}");
        assert!(valid_jid(&a));
        for bad in ["", "j", "../x", "j/../../etc", "j$(id)", "x123"] {
            assert!(!valid_jid(bad), "{bad}");
        }
    }

    #[test]
    fn status_reads_running_and_finished_jobs() {
        let running = read_status("j1", b"running\n");
        assert_eq!(running.result["finished"], 0);
        assert!(!running.failed);
        let done = read_status("j1", b"rc=2\nout\n\0err\n");
        assert_eq!(done.result["finished"], 1);
        assert_eq!(done.result["rc"], 2);
        assert_eq!(done.result["stdout"], "out");
        assert_eq!(done.result["stderr"], "err");
        assert!(done.failed);
    }
}
