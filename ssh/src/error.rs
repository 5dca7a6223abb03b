//! Everything that can go wrong talking to one host, worded for the operator who has to fix it.

use std::path::PathBuf;
use std::time::Duration;

/// Why a connection, an authentication or a command failed.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// The TCP connection could not be made: host down, wrong address or port, firewall.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// `host:port` as dialled.
        addr: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Connecting, key exchange and authentication took longer than the connect timeout.
    #[error("connecting to {addr} timed out after {}s", after.as_secs_f32())]
    ConnectTimeout {
        /// `host:port` as dialled.
        addr: String,
        /// The timeout.
        after: Duration,
    },
    /// The host's key is not in known_hosts and the operator has not opted in to recording new keys.
    #[error(
        "host key for {host} is unknown ({fingerprint}) and was refused; verify it, then run again with --accept-new to record it in {}",
        known_hosts.display()
    )]
    HostKeyUnknown {
        /// The name as known_hosts would record it.
        host: String,
        /// The presented key's fingerprint.
        fingerprint: String,
        /// The known_hosts file consulted.
        known_hosts: PathBuf,
    },
    /// The host presented a different key than the one recorded: refused, always.
    #[error(
        "HOST KEY CHANGED for {host}: it presented {presented} but {}:{line} records {recorded}. This may be an attack. If the change is expected, remove the old entry (ssh-keygen -R '{host}' -f {}) and verify the new key",
        known_hosts.display(), known_hosts.display()
    )]
    HostKeyChanged {
        /// The name as known_hosts records it.
        host: String,
        /// Fingerprint of the key the host presented.
        presented: String,
        /// Fingerprint of the key on record.
        recorded: String,
        /// The known_hosts file.
        known_hosts: PathBuf,
        /// The line of the recorded key.
        line: usize,
    },
    /// The host presented a key that known_hosts marks `@revoked`.
    #[error("host key for {host} ({fingerprint}) is revoked at {}:{line}", known_hosts.display())]
    HostKeyRevoked {
        /// The name as known_hosts records it.
        host: String,
        /// The presented key's fingerprint.
        fingerprint: String,
        /// The known_hosts file.
        known_hosts: PathBuf,
        /// The line of the revocation.
        line: usize,
    },
    /// No key was accepted by the server.
    #[error("authentication failed for {user}@{host}: the server accepted none of {tried}")]
    Auth {
        /// The remote user.
        user: String,
        /// The host.
        host: String,
        /// What was offered, such as "key ~/.ssh/id_ed25519, 2 agent keys".
        tried: String,
    },
    /// A private key file could not be read or decrypted.
    #[error("private key {}: {reason}", path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong: unreadable, not a key, wrong passphrase.
        reason: String,
    },
    /// The host's connection was lost and the host did not come back (after a reboot, say):
    /// nothing more is run for it, anywhere.
    #[error("the connection to the host is lost: it did not come back")]
    Lost,
    /// A command ran longer than its timeout and was stopped.
    #[error("command timed out after {}s", after.as_secs_f32())]
    CommandTimeout {
        /// The timeout.
        after: Duration,
    },
    /// The command's output sink stopped it (an `expect` response list ran out), and why.
    #[error("{0}")]
    Stopped(String),
    /// sudo refused to run the command.
    #[error("become (sudo) failed: {0}")]
    Become(String),
    /// The ProxyJump host could not carry the connection.
    #[error("via ProxyJump {jump}: {reason}")]
    ProxyJump {
        /// The jump host as configured.
        jump: String,
        /// What went wrong there.
        reason: String,
    },
    /// The command's output could not be written where it was going (`drover run --output-dir`).
    #[error("writing the command's output: {0}")]
    Output(std::io::Error),
    /// The SSH session broke: connection reset, protocol error, server went away.
    #[error("ssh session failed: {0}")]
    Session(String),
    /// The script given to run ahead of the session's next command (the host lock, see
    /// `Session::before_next`) exited non-zero: that command did not run, nor will any later one.
    #[error("the script run ahead of the command exited {code}: {output}")]
    Prologue {
        /// Its exit code.
        code: u32,
        /// What it printed (standard output and error, newlines as spaces).
        output: String,
    },
}

impl From<russh::Error> for SshError {
    fn from(e: russh::Error) -> Self {
        SshError::Session(e.to_string())
    }
}

impl SshError {
    /// A host key or authentication problem: waiting will not fix it.
    pub fn is_host_key_or_auth(&self) -> bool {
        matches!(
            self,
            SshError::HostKeyUnknown { .. }
                | SshError::HostKeyChanged { .. }
                | SshError::HostKeyRevoked { .. }
                | SshError::Auth { .. }
        )
    }

    /// True when the host could not be reached or authenticated, so no command ran (Ansible's
    /// UNREACHABLE), as opposed to a command that ran and failed.
    pub fn is_unreachable(&self) -> bool {
        !matches!(
            self,
            SshError::CommandTimeout { .. }
                | SshError::Stopped(_)
                | SshError::Become(_)
                | SshError::KeyFile { .. }
                | SshError::Output(_)
                | SshError::Prologue { .. }
        )
    }
}
