//! expect: a command run in a terminal, its prompts answered. Ansible runs it under pexpect on the
//! host; drover needs no Python there: the command runs under util-linux's `script`, which gives it
//! a terminal, and drover reads what it prints over the connection and answers on its standard
//! input. As pexpect, each response key is a regular expression searched in the output since the
//! last match (the earliest match wins, the first key on a tie); a string answers every match, a
//! list answers successive matches and runs out; and `timeout` is how long to wait for the next
//! match (or the end) before the command is stopped.

use std::time::{Duration, Instant};

use drover_ssh::shell::{quote, split_words};
use drover_ssh::{Answer, ExitStatus, OutputSink, SshError};
use regex::Regex;
use serde_json::{Value, json};

use super::{Args, ModuleCtx, Outcome};

/// Said on standard error when the host has no `script`.
const NO_SCRIPT: &str = "drover-expect: no script";

/// The default `timeout`, as Ansible's.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// One response: its key, and the answers left.
struct Rule {
    key: String,
    re: Regex,
    answers: Vec<String>,
    /// A list runs out; a string answers every match.
    list: bool,
    next: usize,
}

/// The responses, parsed.
fn rules(responses: &Value) -> Result<Vec<Rule>, String> {
    let Value::Object(map) = responses else {
        return Err("expect: `responses` must be a mapping of regular expression to answer".into());
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    map.iter()
        .map(|(key, value)| {
            let re = Regex::new(key).map_err(|e| {
                format!("expect: response key `{key}` is not a regular expression: {e}")
            })?;
            let (answers, list) = match value {
                Value::Array(items) => (items.iter().map(text).collect(), true),
                other => (vec![text(other)], false),
            };
            Ok(Rule {
                key: key.clone(),
                re,
                answers,
                list,
                next: 0,
            })
        })
        .collect()
}

/// The command line: the words quoted one by one (no shell), in a terminal `script` makes, with
/// the terminal's echo off unless `echo`, in `chdir`.
fn line(args: &Args) -> Result<String, String> {
    let text = args.str("command").ok_or("expect needs `command`")?;
    let words = split_words(&text).map_err(|e| format!("expect: cannot split `{text}`: {e}"))?;
    if words.is_empty() {
        return Err("expect: the command is empty".into());
    }
    let program: Vec<String> = words.iter().map(|w| quote(w)).collect();
    let echo = if args.bool("echo") == Some(true) {
        ""
    } else {
        "stty -echo 2>/dev/null; "
    };
    let inner = format!("{echo}exec {}", program.join(" "));
    // `script` runs its command with $SHELL -c: /bin/sh, whatever the user's login shell is.
    let run = format!(
        "if ! command -v script >/dev/null 2>&1; then echo {} >&2; exit 127; fi; SHELL=/bin/sh script -qec {} /dev/null",
        quote(NO_SCRIPT),
        quote(&inner)
    );
    Ok(match args.str("chdir") {
        Some(dir) => drover_ssh::shell::in_folder(&dir, &run),
        None => run,
    })
}

/// How long to wait for each match: `timeout` (null: no limit), 30 s by default.
fn wait(args: &Args) -> Result<Option<Duration>, String> {
    match args.0.get("timeout") {
        Some(Value::Null) => Ok(None),
        _ => args
            .seconds("timeout", DEFAULT_WAIT.as_secs_f64())
            .map(Some)
            .map_err(|e| format!("expect: {e}")),
    }
}

/// The conversation: what the command printed, and the answers due.
struct Dialogue {
    rules: Vec<Rule>,
    /// Output since the last match (pexpect's buffer).
    seen: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    wait: Option<Duration>,
    /// When the wait for the next match ends.
    deadline: Option<Instant>,
}

impl Dialogue {
    fn new(rules: Vec<Rule>, wait: Option<Duration>) -> Dialogue {
        Dialogue {
            rules,
            seen: String::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            wait,
            deadline: wait.map(|w| Instant::now() + w),
        }
    }

    /// The earliest match in what was seen: the rule, and where the match ends.
    fn earliest(&self) -> Option<(usize, usize, usize)> {
        self.rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.re.find(&self.seen).map(|m| (m.start(), i, m.end())))
            .min_by_key(|(start, i, _)| (*start, *i))
    }
}

impl OutputSink for Dialogue {
    fn stdout(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.stdout.extend_from_slice(data);
        self.seen.push_str(&String::from_utf8_lossy(data));
        Ok(())
    }

    fn stderr(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.stderr.extend_from_slice(data);
        Ok(())
    }

    fn converses(&self) -> bool {
        true
    }

    fn answer(&mut self) -> Answer {
        let mut say = Vec::new();
        while let Some((start, i, end)) = self.earliest() {
            let before = self.seen[..start].to_string();
            self.seen.drain(..end);
            self.deadline = self.wait.map(|w| Instant::now() + w);
            let rule = &mut self.rules[i];
            let Some(text) = rule.answers.get(rule.next) else {
                return Answer::Stop(format!(
                    "No remaining responses for '{}', output was '{before}'",
                    rule.key
                ));
            };
            say.extend_from_slice(text.trim_end_matches('\n').as_bytes());
            say.push(b'\n');
            if rule.list {
                rule.next += 1;
            }
        }
        if say.is_empty() {
            Answer::Wait
        } else {
            Answer::Send(say)
        }
    }

    fn wait_limit(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

pub async fn run(args: &Args, ctx: &ModuleCtx<'_>) -> Outcome {
    let prepared = line(args).and_then(|line| {
        let rules = rules(args.0.get("responses").unwrap_or(&Value::Null))?;
        Ok((line, rules, wait(args)?))
    });
    let (line, rules, wait) = match prepared {
        Ok(p) => p,
        Err(e) => return Outcome::fail(e),
    };
    if let Err(skipped) = super::command::gate(args, ctx).await {
        return skipped;
    }
    let mut talk = Dialogue::new(rules, wait);
    let started = jiff::Timestamp::now();
    let status = ctx.exec_into(&line, &mut talk).await;
    let ended = jiff::Timestamp::now();
    let stdout = String::from_utf8_lossy(&talk.stdout)
        .trim_end_matches(['\r', '\n'])
        .to_string();
    let mut o = Outcome {
        changed: true,
        ..Outcome::default()
    };
    let rc = match status {
        Ok(ExitStatus::Code(127)) if String::from_utf8_lossy(&talk.stderr).contains(NO_SCRIPT) => {
            return Outcome::fail(
                "expect needs `script` (util-linux, in Debian's bsdutils) on the host".to_string(),
            );
        }
        Ok(ExitStatus::Code(c)) => json!(c),
        Ok(_) => json!(-1),
        Err(SshError::CommandTimeout { .. }) => Value::Null,
        Err(SshError::Stopped(why)) => return Outcome::fail(why),
        Err(e) => return Outcome::fail(e.to_string()),
    };
    o.msg = match rc.as_i64() {
        None => "command exceeded timeout".into(),
        Some(0) => String::new(),
        Some(_) => "non-zero return code".into(),
    };
    o.failed = !o.msg.is_empty();
    o.result.insert("cmd".into(), json!(args.str("command")));
    o.result.insert("stdout".into(), json!(stdout));
    o.result.insert(
        "stdout_lines".into(),
        json!(stdout.lines().collect::<Vec<_>>()),
    );
    o.result.insert("rc".into(), rc);
    o.result.insert("start".into(), json!(started.to_string()));
    o.result.insert("end".into(), json!(ended.to_string()));
    o.result.insert(
        "delta".into(),
        json!(format!(
            "{:.6}",
            ended.duration_since(started).as_secs_f64()
        )),
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::args;

    fn talk(responses: Value) -> Dialogue {
        Dialogue::new(rules(&responses).unwrap(), None)
    }

    #[test]
    fn the_earliest_match_is_answered_and_a_list_runs_out() {
        let mut d = talk(json!({"Password:": ["one", "two"], "(?i)name\\?": "drover"}));
        d.stdout(b"Name? ").unwrap();
        assert_eq!(d.answer(), Answer::Send(b"drover\n".to_vec()));
        assert_eq!(d.answer(), Answer::Wait);
        // Two prompts in one piece: both answered, in order.
        d.stdout(b"Password: again Password: ").unwrap();
        assert_eq!(d.answer(), Answer::Send(b"one\ntwo\n".to_vec()));
        d.stdout(b"NAME? Password: ").unwrap();
        assert_eq!(
            d.answer(),
            Answer::Stop("No remaining responses for 'Password:', output was ' '".into())
        );
    }

    #[test]
    fn the_command_is_words_in_a_terminal_never_a_shell_line() {
        let a = args(
            json!({"command": "passwd 'a b' ;rm -rf $HOME", "chdir": "/srv/x y", "responses": {}}),
        );
        let l = line(&a).unwrap();
        assert!(
            l.starts_with("cd '/srv/x y' && {\nif ! command -v script"),
            "{l}"
        );
        assert!(
            l.ends_with(r#"SHELL=/bin/sh script -qec 'stty -echo 2>/dev/null; exec passwd '\''a b'\'' '\'';rm'\'' -rf '\''$HOME'\''' /dev/null
}"#),
            "{l}"
        );
        let echoed = line(&args(json!({"command": "cat", "echo": true}))).unwrap();
        assert!(echoed.contains("script -qec 'exec cat'"), "{echoed}");
        assert_eq!(wait(&args(json!({"timeout": null}))), Ok(None));
        assert_eq!(wait(&args(json!({}))), Ok(Some(DEFAULT_WAIT)));
        assert_eq!(
            wait(&args(json!({"timeout": "5"}))),
            Ok(Some(Duration::from_secs(5)))
        );
        assert!(rules(&json!({"(": "x"})).is_err());
    }
}
