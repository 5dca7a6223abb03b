//! How to reach a host, from its inventory variables: over SSH, or on the controller itself for
//! `ansible_connection=local`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use drover_inventory::Vars;
use drover_ssh::{
    Answer, Become, ClientOptions, Collect, ExitStatus, Output, OutputSink, Session, SshConfig,
    SshError, Target,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Run-wide connection settings; inventory variables override them per host.
pub struct ConnectionSettings {
    /// Shared SSH client settings (known hosts, keys, timeouts).
    pub client: ClientOptions,
    /// ~/.ssh/config, if there is one.
    pub ssh_config: Option<SshConfig>,
    /// `--user`: the remote user when the inventory gives none.
    pub user: Option<String>,
    /// `--private-key`: the key when the inventory gives none.
    pub private_key: Option<PathBuf>,
    /// `--become`: run commands through sudo on every host.
    pub become_all: bool,
    /// `--become-user`: whom to become where the inventory does not say.
    pub become_user: String,
    /// sudo's password, if sudo needs one.
    pub become_password: Option<String>,
    /// ansible.cfg's `become_flags` (ANSIBLE_BECOME_FLAGS): sudo's options in place of `-H`.
    pub become_flags: Option<String>,
}

/// How one host is reached, resolved from its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Over SSH.
    Ssh(Target),
    /// On the controller, without SSH.
    Local,
}

/// A host's resolved connection and privilege escalation.
#[derive(Debug, Clone)]
pub struct HostConnection {
    /// The inventory name.
    pub name: String,
    /// How to reach it.
    pub connection: Connection,
    /// sudo settings when the host's commands run as another user.
    pub sudo: Option<Become>,
    /// `ansible_become_user` from the inventory, for tasks and plays that turn `become:` on where
    /// the inventory did not.
    pub become_user: Option<String>,
    /// `ansible_become_password` (or `_pass`) from the inventory, likewise.
    pub become_password: Option<String>,
    /// `ansible_become_flags` from the inventory, else ansible.cfg's.
    pub become_flags: Option<String>,
    /// What its SSH sessions have cost (every session to the host counts into it).
    pub traffic: std::sync::Arc<drover_ssh::Traffic>,
}

fn var_str<'a>(vars: &'a Vars, key: &str) -> Option<&'a str> {
    vars.get(key).and_then(|v| v.as_str())
}

/// A port number from a variable: a whole number (or its text) from 1 to 65535.
fn port(value: &serde_json::Value) -> Option<u16> {
    let n = match value {
        serde_json::Value::Number(n) => n.as_u64()?,
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    u16::try_from(n).ok().filter(|p| *p > 0)
}

/// Ansible's truthiness for connection flags such as `ansible_become`.
fn var_bool(vars: &Vars, key: &str) -> Option<bool> {
    match vars.get(key)? {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::Number(n) => Some(n.as_f64() != Some(0.0)),
        serde_json::Value::String(s) => Some(matches!(
            s.to_ascii_lowercase().as_str(),
            "yes" | "on" | "1" | "true" | "y" | "t"
        )),
        _ => None,
    }
}

impl HostConnection {
    /// Resolves a host from its merged inventory variables and the run's settings. A variable
    /// that cannot be what it says (`ansible_port=99999`) is refused, naming the host.
    pub fn resolve(
        name: &str,
        vars: &Vars,
        settings: &ConnectionSettings,
    ) -> Result<HostConnection, String> {
        // A connection setting that is a `!vault` value no password opens cannot be used: say
        // so, rather than connect with its placeholder as the password.
        if let Some((key, _)) = vars.iter().find(|(k, v)| {
            k.starts_with("ansible_")
                && v.as_str()
                    .is_some_and(|s| s.contains(drover_yaml::LOCKED_VAULT))
        }) {
            return Err(format!(
                "host `{name}`: `{key}` is a `!vault` value no vault password given opens: use --vault-password-file FILE, --vault-id [ID@]FILE or --ask-vault-pass"
            ));
        }
        match var_str(vars, "ansible_connection") {
            None | Some("ssh" | "smart" | "paramiko" | "local") => {}
            Some(other) => {
                return Err(format!(
                    "host `{name}`: ansible_connection `{other}` is not supported (drover connects with ssh, or runs local)"
                ));
            }
        }
        let connection = if var_str(vars, "ansible_connection") == Some("local") {
            Connection::Local
        } else {
            let port = match vars.get("ansible_port") {
                None | Some(serde_json::Value::Null) => None,
                Some(p) => Some(port(p).ok_or_else(|| {
                    format!("host `{name}`: ansible_port {p} is not a port number (1 to 65535)")
                })?),
            };
            let key = var_str(vars, "ansible_ssh_private_key_file")
                .or_else(|| var_str(vars, "ansible_private_key_file"))
                .map(Path::new)
                .or(settings.private_key.as_deref());
            Connection::Ssh(Target::resolve(
                name,
                var_str(vars, "ansible_host"),
                port,
                var_str(vars, "ansible_user").or(settings.user.as_deref()),
                key,
                settings.ssh_config.as_ref(),
            ))
        };
        let become_user = var_str(vars, "ansible_become_user").map(str::to_string);
        let become_password = var_str(vars, "ansible_become_password")
            .or(var_str(vars, "ansible_become_pass"))
            .map(str::to_string);
        let become_flags = var_str(vars, "ansible_become_flags")
            .map(str::to_string)
            .or_else(|| settings.become_flags.clone());
        let become_on = var_bool(vars, "ansible_become").unwrap_or(settings.become_all);
        let sudo = become_on.then(|| Become {
            user: become_user
                .clone()
                .unwrap_or_else(|| settings.become_user.clone()),
            password: become_password
                .clone()
                .or_else(|| settings.become_password.clone()),
            flags: become_flags.clone(),
        });
        Ok(HostConnection {
            name: name.to_string(),
            connection,
            sudo,
            become_user,
            become_password,
            become_flags,
            traffic: std::sync::Arc::default(),
        })
    }
}

/// An open transport to a host.
pub enum Transport {
    /// An SSH session.
    Ssh(Session),
    /// The controller's own shell.
    Local,
    /// The host's connection was given up (a reboot it did not come back from): every command
    /// fails, so nothing meant for the host ever runs on the controller instead.
    Lost,
}

impl Transport {
    /// Opens the transport for `host`.
    pub async fn open(
        host: &HostConnection,
        settings: &ConnectionSettings,
    ) -> Result<Transport, SshError> {
        match &host.connection {
            Connection::Ssh(target) => Ok(Transport::Ssh(
                Session::connect(target, &settings.client)
                    .await?
                    .counting_into(host.traffic.clone()),
            )),
            Connection::Local => Ok(Transport::Local),
        }
    }

    /// Where the time to set the connection up went (SSH only).
    pub fn timings(&self) -> Option<drover_ssh::Timings> {
        match self {
            Transport::Ssh(session) => Some(session.timings()),
            Transport::Local | Transport::Lost => None,
        }
    }

    /// Runs a shell command line, as [`Session::exec`] does.
    pub async fn exec(
        &self,
        command: &str,
        stdin: &[u8],
        timeout: Option<Duration>,
        sudo: Option<&Become>,
    ) -> Result<Output, SshError> {
        let mut all = Collect::default();
        let status = self
            .exec_into(command, stdin, timeout, sudo, &mut all)
            .await?;
        Ok(all.into_output(status))
    }

    /// Runs a shell command line, handing its output to `sink` as it arrives, as
    /// [`Session::exec_into`] does.
    pub async fn exec_into(
        &self,
        command: &str,
        stdin: &[u8],
        timeout: Option<Duration>,
        sudo: Option<&Become>,
        sink: &mut dyn OutputSink,
    ) -> Result<ExitStatus, SshError> {
        match self {
            Transport::Ssh(session) => session.exec_into(command, stdin, timeout, sudo, sink).await,
            Transport::Lost => Err(SshError::Lost),
            Transport::Local => {
                let line = match sudo {
                    Some(b) => format!(
                        "sudo {}-n -u {} -- /bin/sh -c {}",
                        drover_ssh::shell::sudo_flags(b.flags.as_deref()),
                        drover_ssh::shell::quote(&b.user),
                        drover_ssh::shell::quote(command)
                    ),
                    None => command.to_string(),
                };
                let run = local_exec(&line, stdin, sink);
                match timeout {
                    Some(limit) => tokio::time::timeout(limit, run)
                        .await
                        .map_err(|_| SshError::CommandTimeout { after: limit })?,
                    None => run.await,
                }
            }
        }
    }

    /// Runs `script` ahead of the next command, in the same exec, as [`Session::before_next`] does;
    /// false (nothing arranged) where the transport is not SSH.
    pub async fn before_next(&self, script: String) -> bool {
        match self {
            Transport::Ssh(session) => {
                session.before_next(script).await;
                true
            }
            Transport::Local | Transport::Lost => false,
        }
    }

    /// Drops what [`Transport::before_next`] arranged if no command ran it; whether it was so.
    pub async fn cancel_before_next(&self) -> bool {
        match self {
            Transport::Ssh(session) => session.cancel_before_next().await,
            Transport::Local | Transport::Lost => false,
        }
    }

    /// The exit code and output of a script [`Transport::before_next`] arranged, if it refused.
    pub async fn refused_ahead(&self) -> Option<(u32, String)> {
        match self {
            Transport::Ssh(session) => session.refused_ahead().await,
            Transport::Local | Transport::Lost => None,
        }
    }

    /// Closes the transport.
    pub async fn close(self) {
        if let Transport::Ssh(session) = self {
            session.close().await;
        }
    }
}

async fn local_exec(
    command: &str,
    stdin: &[u8],
    sink: &mut dyn OutputSink,
) -> Result<ExitStatus, SshError> {
    let local_err = |e: std::io::Error| SshError::Session(format!("local command: {e}"));
    let mut child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(local_err)?;
    let (Some(mut input), Some(mut stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(SshError::Session("local command: no pipes".into()));
    };
    // Input is written while output is read: a command may fill its output pipe before it has
    // read all of its input. One that does not read its input closes the pipe early; not an error.
    // A conversing sink keeps the pipe, to answer what the command prints.
    let (feed_input, mut talk) = if sink.converses() {
        let _ = input.write_all(stdin).await;
        (None, Some(input))
    } else {
        (Some(input), None)
    };
    let feed = async move {
        if let Some(mut input) = feed_input {
            let _ = input.write_all(stdin).await;
        }
    };
    // On the heap: this future is part of every host's, SSH or not (Transport::exec_into).
    let (mut out_buf, mut err_buf) = (vec![0u8; 8192], vec![0u8; 8192]);
    let (mut out_open, mut err_open) = (true, true);
    let drain = async {
        while out_open || err_open {
            let read = async {
                tokio::select! {
                    n = stdout.read(&mut out_buf), if out_open => n.map(|n| (true, n)),
                    n = stderr.read(&mut err_buf), if err_open => n.map(|n| (false, n)),
                }
            };
            let read = match sink.wait_limit() {
                None => read.await,
                Some(after) => tokio::time::timeout(after, read)
                    .await
                    .map_err(|_| SshError::CommandTimeout { after })?,
            };
            match read.map_err(local_err)? {
                (true, 0) => out_open = false,
                (false, 0) => err_open = false,
                (true, n) => sink.stdout(&out_buf[..n]).map_err(SshError::Output)?,
                (false, n) => sink.stderr(&err_buf[..n]).map_err(SshError::Output)?,
            }
            if let Some(input) = talk.as_mut() {
                match sink.answer() {
                    Answer::Wait => {}
                    Answer::Send(bytes) => {
                        let _ = input.write_all(&bytes).await;
                    }
                    // The child is killed as it is dropped.
                    Answer::Stop(why) => return Err(SshError::Stopped(why)),
                }
            }
        }
        Ok::<(), SshError>(())
    };
    let ((), drained) = tokio::join!(feed, drain);
    drained?;
    let status = child.wait().await.map_err(local_err)?;
    Ok(match status.code() {
        Some(code) => ExitStatus::Code(u32::try_from(code).unwrap_or(255)),
        None => ExitStatus::Signal("killed".into()),
    })
}
