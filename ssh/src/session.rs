//! One SSH connection to one host, reused by every command of a run.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::client::{self, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use tokio::net::TcpStream;

use crate::error::SshError;
use crate::exec::{Become, Collect, ExitStatus, Output, OutputSink, run_channel};
use crate::keys::KeyStore;
use crate::known_hosts::{HostKeyCheck, HostKeyPolicy, KnownHosts, fingerprint};
use crate::shell;
use crate::target::Target;
use crate::traffic::Traffic;

/// Settings shared by every connection of a run: built once, cloned cheaply.
#[derive(Clone)]
pub struct ClientOptions {
    /// Known host keys.
    pub known_hosts: Arc<KnownHosts>,
    /// What to do with unknown host keys.
    pub policy: HostKeyPolicy,
    /// Decrypted key files.
    pub keys: Arc<KeyStore>,
    /// Offer the ssh-agent's keys (when `SSH_AUTH_SOCK` is set).
    pub use_agent: bool,
    /// Key files offered to hosts that name none (OpenSSH's `~/.ssh/id_*`).
    pub default_identity_files: Vec<std::path::PathBuf>,
    /// Limit for TCP connect, key exchange and authentication together.
    pub connect_timeout: Duration,
}

/// Where the time to set up a connection went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Timings {
    /// TCP connect (or the jump host's forwarded channel).
    #[serde(rename = "connect_ms", serialize_with = "serialize_millis")]
    pub connect: Duration,
    /// Version exchange, key exchange and the host key check.
    #[serde(rename = "handshake_ms", serialize_with = "serialize_millis")]
    pub handshake: Duration,
    /// User authentication.
    #[serde(rename = "auth_ms", serialize_with = "serialize_millis")]
    pub auth: Duration,
}

/// Serializes a duration as milliseconds to a tenth: the unit of every timing in `--json` output.
pub fn serialize_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e4).round() / 10.0)
}

/// A session channel being opened ahead of the command that will use it.
type Spare = tokio::task::JoinHandle<Result<russh::Channel<russh::client::Msg>, russh::Error>>;

/// An authenticated connection to one host.
pub struct Session {
    handle: Arc<Handle<Client>>,
    /// The next command's channel, asked for while the previous command runs: a channel's open
    /// costs a round trip of its own, so each command after the first costs one round trip, not
    /// two. At most one is pending; the first is asked for with the first command (a jump host's
    /// session, which runs none, never opens one).
    spare: Mutex<Option<Spare>>,
    timings: Timings,
    /// What its commands cost (shared with the host's other sessions, see [`Session::counting_into`]).
    traffic: Arc<Traffic>,
    /// A script to run ahead of the next command ([`Session::before_next`]); held while that
    /// command runs, so no other command starts before it is known to have succeeded.
    ahead: tokio::sync::Mutex<Ahead>,
    /// Keeps the jump host's connection open for as long as this one lives.
    _jump: Option<Box<Session>>,
}

/// A script run ahead of the session's next command, in the same exec.
#[derive(Debug, Default)]
enum Ahead {
    /// None (any more): commands run as they are.
    #[default]
    Nothing,
    /// To run with the next command.
    Pending(String),
    /// It exited non-zero: no command runs any more.
    Refused { code: u32, output: String },
}

/// russh's callbacks: only the host key check matters to drover.
struct Client {
    host: String,
    port: u16,
    known_hosts: Arc<KnownHosts>,
    policy: HostKeyPolicy,
    /// Why the key was refused, for an error better than russh's "unknown key".
    refusal: Arc<Mutex<Option<SshError>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Ok(false);
        };
        let name = if self.port == 22 {
            self.host.clone()
        } else {
            format!("[{}]:{}", self.host, self.port)
        };
        let known_hosts = self.known_hosts.path().to_path_buf();
        let refusal = match self.known_hosts.check(&self.host, self.port, key) {
            HostKeyCheck::Known => return Ok(true),
            HostKeyCheck::Unknown if self.policy == HostKeyPolicy::AcceptNew => {
                return match self.known_hosts.add(&self.host, self.port, key) {
                    Ok(()) => Ok(true),
                    Err(e) => Err(russh::Error::IO(e)),
                };
            }
            HostKeyCheck::Unknown => SshError::HostKeyUnknown {
                host: name,
                fingerprint: fingerprint(key),
                known_hosts,
            },
            HostKeyCheck::Changed { line, recorded } => SshError::HostKeyChanged {
                host: name,
                presented: fingerprint(key),
                recorded: fingerprint(&recorded),
                known_hosts,
                line,
            },
            HostKeyCheck::Revoked { line } => SshError::HostKeyRevoked {
                host: name,
                fingerprint: fingerprint(key),
                known_hosts,
                line,
            },
        };
        *self.refusal.lock().unwrap_or_else(|e| e.into_inner()) = Some(refusal);
        Ok(false)
    }
}

/// Algorithms chosen for speed among those OpenSSH offers, and host key types already on record first,
/// so the server presents a key that known_hosts can vouch for.
fn russh_config(known_algorithms: Vec<russh::keys::Algorithm>) -> Arc<client::Config> {
    let defaults = russh::Preferred::DEFAULT;
    let mut kex: Vec<_> = defaults.kex.to_vec();
    kex.sort_by_key(|k| *k != russh::kex::CURVE25519);
    let mut key = known_algorithms;
    key.extend(
        defaults
            .key
            .iter()
            .filter(|a| !key.contains(a))
            .cloned()
            .collect::<Vec<_>>(),
    );
    Arc::new(client::Config {
        preferred: russh::Preferred {
            kex: Cow::Owned(kex),
            key: Cow::Owned(key),
            ..defaults
        },
        nodelay: true,
        // A host that stops answering without closing the connection (power loss, a firewall
        // drop) is noticed after KEEPALIVE_MAX unanswered keepalives, and every wait on it ends.
        keepalive_interval: Some(KEEPALIVE_INTERVAL),
        keepalive_max: KEEPALIVE_MAX,
        ..Default::default()
    })
}

/// How often an idle connection is probed.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
/// How many probes may go unanswered before the connection counts as lost.
pub const KEEPALIVE_MAX: usize = 3;
/// How long killing a timed-out command may take: on a dead connection it cannot succeed.
const KILL_DEADLINE: Duration = Duration::from_secs(10);

impl Session {
    /// Connects, checks the host key and authenticates, all within the connect timeout.
    pub async fn connect(target: &Target, opts: &ClientOptions) -> Result<Session, SshError> {
        tokio::time::timeout(opts.connect_timeout, Self::establish(target, opts))
            .await
            .map_err(|_| SshError::ConnectTimeout {
                addr: target.addr(),
                after: opts.connect_timeout,
            })?
    }

    async fn establish(target: &Target, opts: &ClientOptions) -> Result<Session, SshError> {
        let refusal = Arc::new(Mutex::new(None));
        let client = Client {
            host: target.host.clone(),
            port: target.port,
            known_hosts: opts.known_hosts.clone(),
            policy: opts.policy,
            refusal: refusal.clone(),
        };
        let config = russh_config(opts.known_hosts.algorithms_for(&target.host, target.port));
        let mut timings = Timings::default();
        let mut clock = Instant::now();
        let mut lap = || {
            let now = Instant::now();
            std::mem::replace(&mut clock, now).elapsed()
        };
        let (handle, jump) = match &target.proxy_jump {
            None => {
                let stream = connect_tcp(&target.host, target.port)
                    .await
                    .map_err(|source| SshError::Connect {
                        addr: target.addr(),
                        source,
                    })?;
                timings.connect = lap();
                (client::connect_stream(config, stream, client).await, None)
            }
            Some(jump) => {
                let via = Box::pin(Session::connect(&jump_target(jump, target), opts))
                    .await
                    .map_err(|e| SshError::ProxyJump {
                        jump: jump.clone(),
                        reason: e.to_string(),
                    })?;
                let channel = via
                    .handle
                    .channel_open_direct_tcpip(
                        target.host.clone(),
                        target.port.into(),
                        "127.0.0.1",
                        0,
                    )
                    .await
                    .map_err(|e| SshError::ProxyJump {
                        jump: jump.clone(),
                        reason: format!("cannot reach {}: {e}", target.addr()),
                    })?;
                let stream = channel.into_stream();
                timings.connect = lap();
                (
                    client::connect_stream(config, stream, client).await,
                    Some(Box::new(via)),
                )
            }
        };
        let mut handle = handle.map_err(|e| {
            refusal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_else(|| SshError::from(e))
        })?;
        timings.handshake = lap();
        authenticate(&mut handle, target, opts).await?;
        timings.auth = lap();
        Ok(Session {
            handle: Arc::new(handle),
            spare: Mutex::new(None),
            timings,
            traffic: Arc::default(),
            ahead: tokio::sync::Mutex::default(),
            _jump: jump,
        })
    }

    /// Counts this session's channels, execs and bytes into `traffic` (a host's counters, shared by
    /// its reconnections).
    pub fn counting_into(mut self, traffic: Arc<Traffic>) -> Session {
        self.traffic = traffic;
        self
    }

    /// What this session's commands have cost so far.
    pub fn traffic(&self) -> crate::TrafficCounts {
        self.traffic.counts()
    }

    /// Where the time to set this connection up went.
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// Runs `command` (a shell command line) with `stdin` as its input. On timeout the command's whole
    /// process group is killed and [`SshError::CommandTimeout`] returned.
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

    /// Runs `command` as [`Session::exec`] does, but hands its output to `sink` as it arrives
    /// instead of holding it.
    pub async fn exec_into(
        &self,
        command: &str,
        stdin: &[u8],
        timeout: Option<Duration>,
        sudo: Option<&Become>,
        sink: &mut dyn OutputSink,
    ) -> Result<ExitStatus, SshError> {
        let mut ahead = self.ahead.lock().await;
        let script = match &*ahead {
            Ahead::Nothing => {
                drop(ahead);
                return self.run(command, stdin, timeout, sudo, None, sink).await;
            }
            Ahead::Refused { code, output } => {
                return Err(SshError::Prologue {
                    code: *code,
                    output: output.clone(),
                });
            }
            Ahead::Pending(script) => script.clone(),
        };
        let mut ran = false;
        let result = self
            .run(
                command,
                stdin,
                timeout,
                sudo,
                Some((&script, &mut ran)),
                sink,
            )
            .await;
        *ahead = match &result {
            Err(SshError::Prologue { code, output }) => Ahead::Refused {
                code: *code,
                output: output.clone(),
            },
            _ if ran => Ahead::Nothing,
            // It never ran (the channel did not open, say): the next command takes it.
            _ => Ahead::Pending(script),
        };
        result
    }

    /// Runs `script` (as the login user, before any sudo, with no input) ahead of the next command,
    /// in the same exec: a round trip less than a command of its own. While that command runs no
    /// other starts; if the script exits non-zero, the command does not run, and it and every later
    /// command fail with [`SshError::Prologue`] carrying the script's exit code and output.
    pub async fn before_next(&self, script: String) {
        *self.ahead.lock().await = Ahead::Pending(script);
    }

    /// Drops the script [`Session::before_next`] left if no command has run it yet; whether it did.
    pub async fn cancel_before_next(&self) -> bool {
        let mut ahead = self.ahead.lock().await;
        let pending = matches!(*ahead, Ahead::Pending(_));
        if pending {
            *ahead = Ahead::Nothing;
        }
        pending
    }

    /// Whether the script given to [`Session::before_next`] refused: its exit code and output.
    pub async fn refused_ahead(&self) -> Option<(u32, String)> {
        match &*self.ahead.lock().await {
            Ahead::Refused { code, output } => Some((*code, output.clone())),
            _ => None,
        }
    }

    /// One command on a channel of its own, with the script to run ahead of it if any.
    async fn run(
        &self,
        command: &str,
        stdin: &[u8],
        timeout: Option<Duration>,
        sudo: Option<&Become>,
        ahead: Option<(&str, &mut bool)>,
        sink: &mut dyn OutputSink,
    ) -> Result<ExitStatus, SshError> {
        let mut channel = self.channel().await?;
        self.traffic.channel();
        let mut pid = None;
        let mut unused = false;
        let prologue = match ahead {
            Some((script, ran)) => (Some(script), ran),
            None => (None, &mut unused),
        };
        let run = run_channel(
            &mut channel,
            command,
            stdin,
            sudo,
            prologue,
            &mut pid,
            sink,
            &self.traffic,
        );
        let result = match timeout {
            None => run.await,
            Some(limit) => tokio::time::timeout(limit, run)
                .await
                .unwrap_or(Err(SshError::CommandTimeout { after: limit })),
        };
        match result {
            // Timed out (in all, or silent too long), or stopped by its sink: its processes go too.
            Err(e @ (SshError::CommandTimeout { .. } | SshError::Stopped(_))) => {
                // Both are bounded: on a host that has gone silent they would wait for ever.
                let _ = tokio::time::timeout(KILL_DEADLINE, async {
                    self.kill_group(pid).await;
                    let _ = channel.close().await;
                })
                .await;
                Err(e)
            }
            result => self.lost_if_closed(result).await,
        }
    }

    /// Starts opening the next command's channel, unless one is already on its way.
    fn open_spare(&self) {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        if spare.is_none() {
            let handle = self.handle.clone();
            *spare = Some(tokio::spawn(
                async move { handle.channel_open_session().await },
            ));
        }
    }

    /// A session channel for a command: the one opened ahead if it opened, else a new one; then
    /// the next is asked for.
    async fn channel(&self) -> Result<russh::Channel<russh::client::Msg>, SshError> {
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).take();
        let channel = match spare {
            Some(pending) => match pending.await {
                Ok(Ok(channel)) => channel,
                // It failed or was cancelled: a new one says whether the connection still holds.
                _ => self.handle.channel_open_session().await?,
            },
            None => self.handle.channel_open_session().await?,
        };
        self.open_spare();
        Ok(channel)
    }

    /// A channel that ended without an exit status may mean the connection itself is gone (the
    /// session's sshd killed, the host down): then the command is an error, the host unreachable,
    /// rather than a command that failed. One more channel tells, within [`KILL_DEADLINE`].
    async fn lost_if_closed(
        &self,
        result: Result<ExitStatus, SshError>,
    ) -> Result<ExitStatus, SshError> {
        if !matches!(result, Ok(ExitStatus::Unknown)) {
            return result;
        }
        match tokio::time::timeout(KILL_DEADLINE, self.handle.channel_open_session()).await {
            Ok(Ok(probe)) => {
                self.traffic.channel();
                let _ = probe.close().await;
                result
            }
            _ => Err(SshError::Session(
                "the connection was lost while the command ran".into(),
            )),
        }
    }

    /// Kills a timed-out command. OpenSSH refuses `signal` requests in root sessions, so drover kills
    /// the process group (led by the command's shell, which sshd made a session leader) over a
    /// second channel instead.
    async fn kill_group(&self, pid: Option<u32>) {
        // PID 0 or 1 would mean a garbled preamble; never kill "group 0" or init's group.
        let Some(pid) = pid.filter(|p| *p > 1) else {
            return;
        };
        if let Ok(mut killer) = self.handle.channel_open_session().await {
            self.traffic.channel();
            let _ = run_channel(
                &mut killer,
                &format!("kill -KILL -- -{pid}"),
                b"",
                None,
                (None, &mut false),
                &mut None,
                &mut Collect::default(),
                &self.traffic,
            )
            .await;
        }
    }

    /// Writes `data` to `path` atomically (temporary file, then rename) with `mode`. Exec-based rather
    /// than SFTP, so it works through sudo and costs no extra subsystem or round trip.
    pub async fn upload(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        sudo: Option<&Become>,
    ) -> Result<Output, SshError> {
        self.exec(&shell::write_file(path, mode), data, None, sudo)
            .await
    }

    /// Reads the file at `path`.
    pub async fn download(&self, path: &str, sudo: Option<&Become>) -> Result<Output, SshError> {
        self.exec(&shell::read_file(path), b"", None, sudo).await
    }

    /// Says goodbye to the server.
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

impl Drop for Session {
    /// A channel still being opened ahead holds the connection: it goes with the session.
    fn drop(&mut self) {
        if let Some(spare) = self
            .spare
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            spare.abort();
        }
    }
}

/// The jump host of `[user@]host[:port]`, with the target's keys.
fn jump_target(spec: &str, target: &Target) -> Target {
    let (user, rest) = match spec.split_once('@') {
        Some((u, r)) => (u.to_string(), r),
        None => (target.user.clone(), spec),
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.parse().unwrap_or(22)),
        _ => (rest, 22),
    };
    Target {
        name: spec.to_string(),
        host: host.to_string(),
        port,
        user,
        identity_files: target.identity_files.clone(),
        proxy_jump: None,
    }
}

async fn authenticate(
    handle: &mut Handle<Client>,
    target: &Target,
    opts: &ClientOptions,
) -> Result<(), SshError> {
    let mut tried = Vec::new();
    let files = if target.identity_files.is_empty() {
        &opts.default_identity_files
    } else {
        &target.identity_files
    };
    for path in files {
        let Some(key) = opts.keys.get(path) else {
            continue;
        };
        let hash = rsa_hash(handle, key.algorithm().is_rsa()).await?;
        let result = handle
            .authenticate_publickey(&target.user, PrivateKeyWithHashAlg::new(key, hash))
            .await?;
        if result.success() {
            return Ok(());
        }
        tried.push(format!("key {}", path.display()));
    }
    if opts.use_agent
        && std::env::var_os("SSH_AUTH_SOCK").is_some()
        && let Ok(mut agent) = AgentClient::connect_env().await
    {
        let identities = agent.request_identities().await.unwrap_or_default();
        for identity in &identities {
            let AgentIdentity::PublicKey { key, .. } = identity else {
                continue;
            };
            let hash = rsa_hash(handle, key.algorithm().is_rsa()).await?;
            let accepted = handle
                .authenticate_publickey_with(&target.user, key.clone(), hash, &mut agent)
                .await
                .is_ok_and(|r| r.success());
            if accepted {
                return Ok(());
            }
        }
        tried.push(format!("{} agent key(s)", identities.len()));
    }
    Err(SshError::Auth {
        user: target.user.clone(),
        host: target.addr(),
        tried: if tried.is_empty() {
            "no keys (give one with ansible_ssh_private_key_file or --private-key, or load one into ssh-agent)".into()
        } else {
            tried.join(", ")
        },
    })
}

/// RSA keys sign with the best SHA-2 hash the server accepts; other key types choose no hash.
async fn rsa_hash(
    handle: &Handle<Client>,
    is_rsa: bool,
) -> Result<Option<russh::keys::HashAlg>, SshError> {
    if is_rsa {
        Ok(handle.best_supported_rsa_hash().await?.flatten())
    } else {
        Ok(None)
    }
}

/// Opens the TCP connection to a host with TCP_NODELAY set. russh's `nodelay` setting applies only
/// to sockets russh opens itself, not to a stream handed to `connect_stream`; without it, Nagle's
/// algorithm and delayed ACKs stall each small exchange by up to 40 ms, even on loopback. (Through a
/// ProxyJump the channel is not a socket of ours: the jump host's connection carries the option.)
async fn connect_tcp(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_connection_to_a_host_has_tcp_nodelay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = connect_tcp("127.0.0.1", port).await.unwrap();
        assert!(stream.nodelay().unwrap());
    }
}
