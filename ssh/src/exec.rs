//! Running one command on an SSH channel: the sudo handover (its password prompt answered once, its
//! marker stripped), the shell's PID line (so that a command that times out can have its process
//! group killed), and the output handed to an [`OutputSink`] as it arrives.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use russh::ChannelMsg;
use russh::client;

use crate::error::SshError;
use crate::shell;
use crate::traffic::Traffic;

/// Running a command as another user through sudo.
#[derive(Debug, Clone)]
pub struct Become {
    /// The user to become (usually root).
    pub user: String,
    /// sudo's password, if sudo asks for one. Never logged or printed.
    pub password: Option<String>,
    /// `become_flags`: sudo's options in place of `-H` (None: `-H`, as Ansible's default).
    pub flags: Option<String>,
}

/// How a remote command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(u32),
    /// It was killed by this signal.
    Signal(String),
    /// The server closed the channel without saying.
    Unknown,
}

impl ExitStatus {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        *self == ExitStatus::Code(0)
    }
}

/// What a remote command printed and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
    /// Exit code or signal.
    pub status: ExitStatus,
}

/// What a conversing sink says after a piece of output (see [`OutputSink::answer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Nothing to say yet.
    Wait,
    /// Write these bytes to the command's standard input.
    Send(Vec<u8>),
    /// Stop the command (its process group is killed), for this reason.
    Stop(String),
}

/// Receives a command's output as it arrives, so that large output need not be held whole. A sink
/// may also converse with the command (the `expect` module): its standard input then stays open,
/// and after each piece of output the sink may answer, or stop it.
pub trait OutputSink: Send {
    /// The next piece of standard output.
    fn stdout(&mut self, data: &[u8]) -> std::io::Result<()>;
    /// The next piece of standard error.
    fn stderr(&mut self, data: &[u8]) -> std::io::Result<()>;
    /// Whether the sink converses: standard input is not closed after the first input.
    fn converses(&self) -> bool {
        false
    }
    /// What to do after the latest output.
    fn answer(&mut self) -> Answer {
        Answer::Wait
    }
    /// How much longer to wait for the command's next output (None: no limit but its timeout).
    /// Asked before each wait, so a sink may keep a deadline of its own.
    fn wait_limit(&self) -> Option<std::time::Duration> {
        None
    }
}

/// Holds all of a command's output, for an [`Output`].
#[derive(Debug, Default)]
pub struct Collect {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl OutputSink for Collect {
    fn stdout(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.stdout.extend_from_slice(data);
        Ok(())
    }

    fn stderr(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.stderr.extend_from_slice(data);
        Ok(())
    }
}

impl Collect {
    /// What was collected, with how the command ended.
    pub fn into_output(self, status: ExitStatus) -> Output {
        Output {
            stdout: self.stdout,
            stderr: self.stderr,
            status,
        }
    }
}

/// A marker unique within this process, to find where sudo hands over to the command.
fn become_marker() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "DROVER-BECOME-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Printed on stderr, with the shell's PID, before every command; drover strips it again.
const PID_TAG: &str = "DROVER-PID:";

/// The shell's first words: its PID on stderr, after running `prologue` (as the login user, before
/// sudo, with no input) when there is one; the PID line then also carries the prologue's exit code
/// and output, and the shell stops there unless it exited 0.
fn opening(prologue: Option<&str>) -> String {
    match prologue {
        None => format!("echo {PID_TAG}$$ >&2; "),
        // A prologue that succeeds says nothing more: its output is only read when it refuses, so
        // only then are its newlines folded (by `tr`, a program the host would start every time).
        Some(script) => format!(
            "drover_pre=$( {{ {script}\n}} </dev/null 2>&1 ); drover_rc=$?; \
             if [ \"$drover_rc\" = 0 ]; then echo \"{PID_TAG}$$ 0 \" >&2; else \
             echo \"{PID_TAG}$$ $drover_rc $(printf %s \"$drover_pre\" | tr '\\n' ' ')\" >&2; exit 0; fi; "
        ),
    }
}

/// Runs `command` on `channel` (through sudo when `sudo` is given), writes `stdin` once the command
/// has started, and hands its output to `sink`. `pid` receives the shell's PID as soon as it is known.
/// With a `prologue`, `prologue_ran` is set once it has exited 0; a non-zero exit ends the command
/// there with [`SshError::Prologue`].
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_channel(
    channel: &mut russh::Channel<client::Msg>,
    command: &str,
    stdin: &[u8],
    sudo: Option<&Become>,
    (prologue, prologue_ran): (Option<&str>, &mut bool),
    pid: &mut Option<u32>,
    sink: &mut dyn OutputSink,
    traffic: &Traffic,
) -> Result<ExitStatus, SshError> {
    let marker = become_marker();
    let prompt = format!("[{marker}] password:");
    let body = match sudo {
        None => Cow::Borrowed(command),
        Some(b) => Cow::Owned(shell::sudo(
            command,
            &b.user,
            b.password.as_ref().map(|_| prompt.as_str()),
            &marker,
            b.flags.as_deref(),
        )),
    };
    let line = format!("{}{body}", opening(prologue));
    channel.exec(true, line.as_bytes()).await?;
    traffic.exec(line.len() + stdin.len());
    let mut handover = Handover::new(sudo, marker, prompt);
    let keep_open = sink.converses();
    if handover.started {
        send_stdin(channel, stdin, keep_open).await?;
    }
    let mut status = ExitStatus::Unknown;
    let mut preamble = Vec::new();
    // Until sudo hands over, stderr is held: it is the command's if sudo does, the reason if not.
    let mut early_stderr = Vec::new();
    while let Some(msg) = next_message(channel, sink.wait_limit()).await? {
        match msg {
            ChannelMsg::Data { data } => {
                traffic.received(data.len());
                if handover.started {
                    sink.stdout(&data).map_err(SshError::Output)?;
                } else if let Some(rest) = handover.stdout(&data) {
                    sink.stderr(&std::mem::take(&mut early_stderr))
                        .map_err(SshError::Output)?;
                    sink.stdout(rest).map_err(SshError::Output)?;
                    send_stdin(channel, stdin, keep_open).await?;
                }
                if handover.started {
                    answer(channel, sink).await?;
                }
            }
            ChannelMsg::ExtendedData { data, .. } => {
                traffic.received(data.len());
                let data = match pid {
                    Some(_) => data.to_vec(),
                    None => match take_pid_line(&mut preamble, &data) {
                        Some((found, ahead, rest)) => {
                            *pid = Some(found);
                            match ahead {
                                Some((0, _)) => *prologue_ran = true,
                                Some((code, output)) => {
                                    return Err(SshError::Prologue { code, output });
                                }
                                None => {}
                            }
                            rest
                        }
                        None => continue,
                    },
                };
                match handover.stderr(&data)? {
                    Some(password) => channel.data(format!("{password}\n").as_bytes()).await?,
                    None if handover.started => {
                        sink.stderr(&data).map_err(SshError::Output)?;
                        answer(channel, sink).await?;
                    }
                    None if handover.prompted == 0 => early_stderr.extend_from_slice(&data),
                    None => {}
                }
            }
            ChannelMsg::ExitStatus { exit_status } => status = ExitStatus::Code(exit_status),
            ChannelMsg::ExitSignal { signal_name, .. } => {
                status = ExitStatus::Signal(format!("{signal_name:?}"));
            }
            _ => {}
        }
    }
    if pid.is_none() {
        // The shell never printed the PID line (not a POSIX shell?): keep what it did print.
        early_stderr.extend_from_slice(&preamble);
    }
    if !handover.started {
        let why = String::from_utf8_lossy(&early_stderr).trim().to_string();
        return Err(SshError::Become(if why.is_empty() {
            "sudo exited before running the command".into()
        } else {
            why
        }));
    }
    sink.stderr(&early_stderr).map_err(SshError::Output)?;
    Ok(status)
}

/// The prologue's exit code and output, as the PID line carries them.
type Ahead = Option<(u32, String)>;

/// Watches stderr for the PID line. sshd may print lines of its own first ("Could not chdir to home
/// directory ..."), so the line is looked for, not assumed first. Once it is complete, returns the
/// PID, what the prologue said (when one ran) and everything else seen so far, to pass on as the
/// command's stderr.
fn take_pid_line(seen: &mut Vec<u8>, data: &[u8]) -> Option<(u32, Ahead, Vec<u8>)> {
    seen.extend_from_slice(data);
    let start = find(seen, PID_TAG.as_bytes())?;
    let end = start + seen[start..].iter().position(|b| *b == b'\n')?;
    let line = String::from_utf8_lossy(&seen[start + PID_TAG.len()..end]).into_owned();
    let mut words = line.splitn(3, ' ');
    let pid = words
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0);
    // A prologue's line: `PID CODE OUTPUT` (a code that does not parse counts as a refusal).
    let ahead = words.next().map(|code| {
        let output = words.next().unwrap_or_default().trim().to_string();
        (code.trim().parse().unwrap_or(u32::MAX), output)
    });
    let mut rest = seen[..start].to_vec();
    rest.extend_from_slice(&seen[end + 1..]);
    seen.clear();
    Some((pid, ahead, rest))
}

async fn send_stdin(
    channel: &russh::Channel<client::Msg>,
    stdin: &[u8],
    keep_open: bool,
) -> Result<(), SshError> {
    if !stdin.is_empty() {
        channel.data(stdin).await?;
    }
    if !keep_open {
        channel.eof().await?;
    }
    Ok(())
}

/// The channel's next message, or [`SshError::CommandTimeout`] when none comes within `limit`.
async fn next_message(
    channel: &mut russh::Channel<client::Msg>,
    limit: Option<std::time::Duration>,
) -> Result<Option<ChannelMsg>, SshError> {
    match limit {
        None => Ok(channel.wait().await),
        Some(after) => tokio::time::timeout(after, channel.wait())
            .await
            .map_err(|_| SshError::CommandTimeout { after }),
    }
}

/// Gives a conversing sink its turn: writes its answer, or stops the command.
async fn answer(
    channel: &russh::Channel<client::Msg>,
    sink: &mut dyn OutputSink,
) -> Result<(), SshError> {
    match sink.answer() {
        Answer::Wait => Ok(()),
        Answer::Send(bytes) => Ok(channel.data(&bytes[..]).await?),
        Answer::Stop(why) => Err(SshError::Stopped(why)),
    }
}

/// Tracks sudo's handover: its password prompt on stderr, then the marker on stdout.
struct Handover<'a> {
    sudo: Option<&'a Become>,
    marker: String,
    prompt: String,
    started: bool,
    prompted: usize,
    seen: Vec<u8>,
}

impl<'a> Handover<'a> {
    fn new(sudo: Option<&'a Become>, marker: String, prompt: String) -> Self {
        Handover {
            started: sudo.is_none(),
            sudo,
            marker,
            prompt,
            prompted: 0,
            seen: Vec::new(),
        }
    }

    /// Output before the handover is sudo's; returns what follows the marker once it is seen.
    fn stdout<'d>(&mut self, data: &'d [u8]) -> Option<&'d [u8]> {
        let before = self.seen.len();
        self.seen.extend_from_slice(data);
        let needle = format!("{}\n", self.marker);
        let at = find(&self.seen, needle.as_bytes())?;
        self.started = true;
        let skip = (at + needle.len()).saturating_sub(before);
        Some(&data[skip.min(data.len())..])
    }

    /// Answers sudo's prompt once; a second prompt means the password was wrong.
    fn stderr(&mut self, data: &[u8]) -> Result<Option<String>, SshError> {
        if self.started || find(data, self.prompt.as_bytes()).is_none() {
            return Ok(None);
        }
        self.prompted += 1;
        match (self.prompted, self.sudo.and_then(|b| b.password.clone())) {
            (1, Some(password)) => Ok(Some(password)),
            _ => Err(SshError::Become("incorrect sudo password".into())),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_line_is_found_after_sshd_messages_and_across_chunks() {
        let mut seen = Vec::new();
        assert_eq!(
            take_pid_line(&mut seen, b"Could not chdir to home\nDROVER-P"),
            None
        );
        let (pid, ahead, rest) = take_pid_line(&mut seen, b"ID:4242\nreal stderr").unwrap();
        assert_eq!((pid, ahead), (4242, None));
        assert_eq!(rest, b"Could not chdir to home\nreal stderr");
    }

    #[test]
    fn a_prologue_s_exit_code_and_output_ride_on_the_pid_line() {
        let mut seen = Vec::new();
        let (pid, ahead, rest) =
            take_pid_line(&mut seen, b"DROVER-PID:77 3 held by run x until 99 \nlater").unwrap();
        assert_eq!(pid, 77);
        assert_eq!(ahead, Some((3, "held by run x until 99".to_string())));
        assert_eq!(rest, b"later");
        let (_, ahead, _) = take_pid_line(&mut Vec::new(), b"DROVER-PID:77 0 \n").unwrap();
        assert_eq!(ahead, Some((0, String::new())));
        assert_eq!(
            opening(Some("lock")),
            "drover_pre=$( { lock\n} </dev/null 2>&1 ); drover_rc=$?; if [ \"$drover_rc\" = 0 ]; then echo \"DROVER-PID:$$ 0 \" >&2; else echo \"DROVER-PID:$$ $drover_rc $(printf %s \"$drover_pre\" | tr '\\n' ' ')\" >&2; exit 0; fi; "
        );
    }

    #[test]
    fn sudo_handover_answers_once_then_strips_the_marker() {
        let sudo = Become {
            user: "root".into(),
            password: Some("pw".into()),
            flags: None,
        };
        let mut h = Handover::new(Some(&sudo), "M1".into(), "[M1] password:".into());
        assert_eq!(h.stderr(b"[M1] password:").unwrap().as_deref(), Some("pw"));
        assert!(matches!(
            h.stderr(b"Sorry, try again.\n[M1] password:"),
            Err(SshError::Become(_))
        ));
        assert_eq!(h.stdout(b"M"), None);
        assert_eq!(h.stdout(b"1\nhello"), Some(&b"hello"[..]));
        assert!(h.started);
    }
}
