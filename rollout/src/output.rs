//! What `drover run` keeps of each host's output. A command may print gigabytes (`journalctl`,
//! `cat` of a log): each stream's first bytes are held for the report, the rest only counted, so
//! memory stays bounded by forks x twice the held size; with an output folder every byte is also
//! written to a file as it arrives.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use drover_ssh::{ExitStatus, Output, OutputSink};

use crate::local_files::{create_private, host_file_name};

/// What to keep of each host's output.
#[derive(Debug, Clone)]
pub struct OutputPolicy {
    /// Bytes of each stream (stdout, stderr) held in memory and reported; the rest is counted.
    pub held: usize,
    /// Also write each host's whole output to `DIR/<host>.stdout` and `DIR/<host>.stderr`.
    pub dir: Option<PathBuf>,
}

/// One stream of one host: its first bytes held, all of them written to its file, if any.
struct Stream {
    held: Vec<u8>,
    limit: usize,
    cut: u64,
    file: Option<(PathBuf, BufWriter<File>)>,
}

impl Stream {
    fn open(limit: usize, path: Option<PathBuf>) -> io::Result<Stream> {
        let file = match path {
            Some(path) => {
                let file = create_private(&path).map_err(|e| in_file(&path, e))?;
                Some((path, BufWriter::new(file)))
            }
            None => None,
        };
        Ok(Stream {
            held: Vec::new(),
            limit,
            cut: 0,
            file,
        })
    }

    fn take(&mut self, data: &[u8]) -> io::Result<()> {
        if let Some((path, file)) = &mut self.file {
            file.write_all(data).map_err(|e| in_file(path, e))?;
        }
        let room = self.limit.saturating_sub(self.held.len()).min(data.len());
        self.held.extend_from_slice(&data[..room]);
        self.cut += (data.len() - room) as u64;
        Ok(())
    }

    /// The held bytes, followed by a line that says what was cut and where all of it is.
    fn finish(mut self) -> io::Result<Vec<u8>> {
        let whole = match self.file {
            Some((path, mut file)) => {
                file.flush().map_err(|e| in_file(&path, e))?;
                Some(path)
            }
            None => None,
        };
        if self.cut > 0 {
            let rest = match whole {
                Some(path) => format!("all of it is in {}", path.display()),
                None => "--output-dir keeps all of it".to_string(),
            };
            let note = format!(
                "\n[drover: output cut after {} bytes; {} more not shown; {rest}]\n",
                self.limit, self.cut
            );
            self.held.extend_from_slice(note.as_bytes());
        }
        Ok(self.held)
    }
}

fn in_file(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// A host's stdout and stderr as `policy` keeps them.
pub(crate) struct HostOutput {
    stdout: Stream,
    stderr: Stream,
}

impl HostOutput {
    /// Opens the host's files when the policy has a folder (a `/` in the name becomes `_`).
    pub(crate) fn open(host: &str, policy: &OutputPolicy) -> io::Result<HostOutput> {
        let path = |stream: &str| {
            policy
                .dir
                .as_ref()
                .map(|dir| dir.join(format!("{}.{stream}", host_file_name(host))))
        };
        Ok(HostOutput {
            stdout: Stream::open(policy.held, path("stdout"))?,
            stderr: Stream::open(policy.held, path("stderr"))?,
        })
    }

    /// What was kept, with how the command ended.
    pub(crate) fn finish(self, status: ExitStatus) -> io::Result<Output> {
        Ok(Output {
            stdout: self.stdout.finish()?,
            stderr: self.stderr.finish()?,
            status,
        })
    }
}

impl OutputSink for HostOutput {
    fn stdout(&mut self, data: &[u8]) -> io::Result<()> {
        self.stdout.take(data)
    }

    fn stderr(&mut self, data: &[u8]) -> io::Result<()> {
        self.stderr.take(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(held: usize, dir: Option<PathBuf>) -> OutputPolicy {
        OutputPolicy { held, dir }
    }

    #[test]
    fn holds_the_first_bytes_and_says_how_many_more_there_were() {
        let mut out = HostOutput::open("web01", &policy(4, None)).unwrap();
        out.stdout(b"abc").unwrap();
        out.stdout(b"defgh").unwrap();
        out.stderr(b"ok").unwrap();
        let done = out.finish(ExitStatus::Code(0)).unwrap();
        assert_eq!(
            String::from_utf8(done.stdout).unwrap(),
            "abcd\n[drover: output cut after 4 bytes; 4 more not shown; --output-dir keeps all of it]\n"
        );
        assert_eq!(done.stderr, b"ok");
    }

    #[test]
    fn writes_every_byte_to_the_hosts_files() {
        let dir = std::env::temp_dir().join(format!("drover-output-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut out = HostOutput::open("a/b", &policy(2, Some(dir.clone()))).unwrap();
        out.stdout(b"12345").unwrap();
        let done = out.finish(ExitStatus::Code(0)).unwrap();
        let file = dir.join("a%2Fb.stdout");
        assert_eq!(std::fs::read(&file).unwrap(), b"12345");
        assert_eq!(std::fs::read(dir.join("a%2Fb.stderr")).unwrap(), b"");
        let shown = String::from_utf8(done.stdout).unwrap();
        assert!(
            shown.ends_with(&format!(
                "3 more not shown; all of it is in {}]\n",
                file.display()
            )),
            "{shown}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_folder_that_cannot_be_written_is_an_error_naming_the_file() {
        let err = HostOutput::open("web01", &policy(2, Some("/proc/no-such".into())))
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("/proc/no-such/web01.stdout"),
            "{err}"
        );
    }
}
