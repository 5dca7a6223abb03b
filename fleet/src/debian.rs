//! The container fleet: real Debian hosts, one Docker container each, made from the fleet's own image
//! ([`crate::Image`]) on a private Docker network of the fleet's own. Each host has its own hostname,
//! static address, host key, users (root and the sudoer `ops`), dpkg database, /etc, and an apt source
//! on the fleet's repository (a folder mounted read-only at /srv/repo), so `apt-get update` and
//! `apt-get dist-upgrade` run for real. With [`Boot::Systemd`], systemd is PID 1 and runs containerd
//! and Docker, so a package's postinst really restarts them and Docker's own restart policies decide
//! what comes back.
//!
//! Faults are real too: a reboot restarts the container (a new boot id, what was not written to disk
//! is gone), a host can be powered off and never come back, get a new host key at its next boot, lose
//! its network silently (iptables DROP in its namespace: no FIN, no RST), run out of disk (a small
//! tmpfs), or lose its sshd. Dropping the fleet removes its containers, network and folder; fleets of
//! other tests run beside it, and what a killed test left behind is removed by the next fleet.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::image::{Flavour, Image};
use crate::loopback::{keygen, unique_dir};

/// How a host boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boot {
    /// sshd under a small init: up in about a second. No systemd, so no services.
    Plain,
    /// systemd as PID 1, with ssh, cron, containerd and Docker as services: up in a few seconds.
    Systemd,
}

/// How to build a container fleet.
#[derive(Debug, Clone)]
pub struct DebianOptions {
    /// Number of hosts (at most 200).
    pub hosts: usize,
    /// How every host boots.
    pub boot: Boot,
    /// A flat apt repository (`Packages` beside the .debs) mounted read-only at /srv/repo on every
    /// host, the hosts' only apt source. Without one, the fleet serves an empty repository.
    pub repo: Option<PathBuf>,
    /// A small tmpfs on every host, `(path, bytes)`, for tests of a full disk.
    pub small_disk: Option<(String, u64)>,
    /// Folders of this machine mounted read-only at the same path on every host: a tool a test
    /// needs beside drover that the hosts do not carry (the controller's Python, so Ansible's own
    /// setup can run on the same host as drover's facts). The image itself stays without it.
    pub controller_mounts: Vec<PathBuf>,
    /// What the image carries beyond the base: [`Flavour::Python`] for tests that need
    /// Debian's Compose or ufw (Python programs; the base has no Python).
    pub flavour: Flavour,
}

impl Default for DebianOptions {
    fn default() -> Self {
        DebianOptions {
            hosts: 1,
            boot: Boot::Plain,
            repo: None,
            small_disk: None,
            controller_mounts: Vec::new(),
            flavour: Flavour::Base,
        }
    }
}

/// One host of a container fleet.
#[derive(Debug, Clone)]
pub struct DebianHost {
    /// Inventory name and hostname: `deb01`, `deb02`, ...
    pub name: String,
    /// Its address on the fleet's network (static: the same after every reboot).
    pub addr: Ipv4Addr,
    /// Its container's name.
    pub container: String,
}

/// A running container fleet. Dropping it removes its containers, network and folder.
pub struct DebianFleet {
    dir: PathBuf,
    network: String,
    boot: Boot,
    hosts: Vec<DebianHost>,
    image: Image,
}

/// The label on every container and network a fleet makes: the PID of the process that made it.
const OWNER: &str = "drover-fleet.owner";

impl DebianFleet {
    /// Builds the image if this machine lacks it, then starts the hosts and waits until each accepts
    /// SSH (and, booted with systemd, has finished booting).
    pub fn start(parent: &Path, opts: &DebianOptions) -> io::Result<DebianFleet> {
        if opts.hosts == 0 || opts.hosts > 200 {
            return Err(io::Error::other("a Debian fleet has 1 to 200 hosts"));
        }
        remove_leftovers();
        let image = Image::ensure(opts.flavour)?;
        let dir = unique_dir(parent)?;
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut fleet = DebianFleet {
            network: format!("drover-{id}"),
            dir,
            boot: opts.boot,
            hosts: Vec::new(),
            image,
        };
        keygen(&fleet.client_key())?;
        let subnet = fleet.create_network()?;
        let repo = match &opts.repo {
            Some(r) => std::path::absolute(r)?,
            None => {
                let r = fleet.dir.join("repo");
                fs::create_dir_all(&r)?;
                fs::write(r.join("Packages"), "")?;
                r
            }
        };
        for i in 0..opts.hosts {
            let name = format!("deb{:02}", i + 1);
            let host = DebianHost {
                addr: Ipv4Addr::new(10, 213, subnet, 10 + i as u8),
                container: format!("{}-{name}", fleet.network),
                name,
            };
            fleet.run_container(&host, &repo, opts)?;
            fleet.hosts.push(host);
        }
        for i in 0..fleet.hosts.len() {
            fleet.wait_ready(i, Duration::from_secs(120))?;
            fleet.authorize(i)?;
        }
        fleet.write_known_hosts()?;
        fleet.write_inventory()?;
        Ok(fleet)
    }

    /// Makes the fleet's network on a free /24 of 10.213.0.0/16 (static addresses need a subnet
    /// given at creation; another fleet may hold any one of them). Returns the subnet's third byte.
    fn create_network(&self) -> io::Result<u8> {
        let seed = std::process::id() as usize + self.dir.to_string_lossy().len();
        let mut last = String::new();
        for attempt in 0..64 {
            let k = ((seed + attempt * 37) % 254 + 1) as u8;
            let out = Command::new("docker")
                .args(["network", "create", "--label"])
                .arg(format!("{OWNER}={}", std::process::id()))
                .arg(format!("--subnet=10.213.{k}.0/24"))
                .arg(format!("--gateway=10.213.{k}.1"))
                .arg(&self.network)
                .stdin(Stdio::null())
                .output()?;
            if out.status.success() {
                return Ok(k);
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        Err(io::Error::other(format!(
            "no free subnet in 10.213.0.0/16 for the fleet's network: {last}"
        )))
    }

    fn run_container(
        &self,
        host: &DebianHost,
        repo: &Path,
        opts: &DebianOptions,
    ) -> io::Result<()> {
        let docker_data = self.dir.join("hosts").join(&host.name).join("docker");
        fs::create_dir_all(&docker_data)?;
        let mut cmd = Command::new("docker");
        cmd.args(["run", "-d", "--name", &host.container])
            .args(["--hostname", &host.name, "--network", &self.network])
            .arg(format!("--ip={}", host.addr))
            .args(["--label", &format!("{OWNER}={}", std::process::id())])
            // A reboot is PID 1 exiting; Docker starts the container again.
            .args(["--restart", "always"])
            // SYS_ADMIN binds the boot id and lets systemd mount; NET_ADMIN lets sysctl and
            // iptables work; seccomp and AppArmor off as systemd and a nested dockerd need.
            .args(["--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN"])
            .args(["--security-opt", "seccomp=unconfined"])
            .args(["--security-opt", "apparmor=unconfined"])
            .args(["--tmpfs", "/run", "--tmpfs", "/run/lock"])
            .arg("-v")
            .arg(format!("{}:/srv/repo:ro", repo.display()))
            // Docker's data on this machine's disk, not the host's tmpfs: it survives reboots.
            .arg("-v")
            .arg(format!("{}:/var/lib/docker", docker_data.display()));
        if let Some((path, bytes)) = &opts.small_disk {
            cmd.arg("--tmpfs").arg(format!("{path}:size={bytes}"));
        }
        for dir in &opts.controller_mounts {
            cmd.arg("-v").arg(format!("{0}:{0}:ro", dir.display()));
        }
        if opts.boot == Boot::Systemd {
            cmd.args(["-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro"])
                .args(["-e", "DROVER_BOOT=systemd", "-e", "container=docker"])
                // systemd halts on SIGRTMIN+3; on SIGTERM it would only re-execute itself.
                .args(["--stop-signal", "SIGRTMIN+3"]);
        }
        cmd.arg(&self.image.tag);
        docker_output(&mut cmd).map(|_| ())
    }

    /// Waits until host `i` has a host key, has finished booting (systemd) and its sshd answers with
    /// a banner.
    pub fn wait_ready(&self, i: usize, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        let host = &self.hosts[i];
        let mut last = String::from("not started");
        while Instant::now() < deadline {
            match self.probe(host) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let logs = Command::new("docker")
            .args(["logs", "--tail", "20", &host.container])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        Err(io::Error::other(format!(
            "fleet host {} not ready after {}s ({last}); its log:\n{logs}",
            host.name,
            timeout.as_secs()
        )))
    }

    fn probe(&self, host: &DebianHost) -> Result<(), String> {
        let wait = match self.boot {
            // `--wait` returns when start-up has finished: running, or degraded if a unit failed.
            Boot::Systemd => {
                "systemctl is-system-running --wait >/dev/null 2>&1 || systemctl is-system-running | grep -qx degraded"
            }
            Boot::Plain => "true",
        };
        self.exec_on(
            host,
            &format!("test -s /etc/ssh/ssh_host_ed25519_key.pub && {{ {wait}; }}"),
        )?;
        let addr = SocketAddr::from((host.addr, 22));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))
            .map_err(|e| format!("{addr}: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .map_err(|e| e.to_string())?;
        let mut banner = [0u8; 4];
        stream
            .read_exact(&mut banner)
            .map_err(|e| format!("{addr}: no banner: {e}"))?;
        if &banner == b"SSH-" {
            Ok(())
        } else {
            Err(format!("{addr}: not an SSH banner"))
        }
    }

    /// Lets the fleet's client key in as root and as `ops`.
    fn authorize(&self, i: usize) -> io::Result<()> {
        let key = fs::read_to_string(self.client_key().with_extension("pub"))?;
        let script = "umask 077; for u in root ops; do h=$(getent passwd $u | cut -d: -f6); \
                      mkdir -p $h/.ssh; printf '%s' \"$1\" > $h/.ssh/authorized_keys; \
                      chown -R $u: $h/.ssh; done";
        docker_output(
            Command::new("docker")
                .args(["exec", &self.hosts[i].container, "sh", "-c", script, "sh"])
                .arg(key.trim_end().to_string() + "\n"),
        )
        .map(|_| ())
    }

    /// Reads host `i`'s public host key, `ssh-ed25519 AAAA...`.
    pub fn host_key(&self, i: usize) -> io::Result<String> {
        let key = self
            .exec(i, "cat /etc/ssh/ssh_host_ed25519_key.pub")
            .map_err(io::Error::other)?;
        Ok(key.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
    }

    fn write_known_hosts(&self) -> io::Result<()> {
        let mut text = String::new();
        for (i, h) in self.hosts.iter().enumerate() {
            text.push_str(&format!("{} {}\n", h.addr, self.host_key(i)?));
        }
        fs::write(self.known_hosts(), text)
    }

    fn write_inventory(&self) -> io::Result<()> {
        let mut text =
            String::from("# Written by drover-fleet: one Debian container per host.\n[fleet]\n");
        for h in &self.hosts {
            text.push_str(&format!("{} ansible_host={}\n", h.name, h.addr));
        }
        text.push_str(&format!(
            "\n[fleet:vars]\nansible_user=root\nansible_ssh_private_key_file={}\n",
            self.client_key().display()
        ));
        fs::write(self.inventory(), text)
    }

    fn exec_on(&self, host: &DebianHost, script: &str) -> Result<String, String> {
        let out = Command::new("docker")
            .args(["exec", &host.container, "sh", "-c", script])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            ))
        }
    }

    /// Runs a shell script on host `i` as root, from outside (not over SSH): for a test to set a host
    /// up or look at what a push changed. Stdout on success; stderr and stdout on failure.
    pub fn exec(&self, i: usize, script: &str) -> Result<String, String> {
        self.exec_on(&self.hosts[i], script)
    }

    /// Runs the docker CLI on host `i`, against the Docker daemon inside it ([`Boot::Systemd`]).
    pub fn docker(&self, i: usize, args: &[&str]) -> Result<String, String> {
        let quoted: Vec<String> = args.iter().map(|a| sh_quote(a)).collect();
        self.exec(i, &format!("docker {}", quoted.join(" ")))
    }

    /// Builds the image `drover/busybox:1` from scratch in host `i`'s Docker (busybox-static is on
    /// every host); its default command sleeps. No image is pulled.
    pub fn build_busybox_image(&self, i: usize) -> Result<(), String> {
        self.exec(
            i,
            "set -e; d=$(mktemp -d); cp /bin/busybox $d/; \
             printf 'FROM scratch\\nCOPY busybox /bin/busybox\\nCMD [\"/bin/busybox\", \"sleep\", \"100000\"]\\n' > $d/Dockerfile; \
             docker build -q -t drover/busybox:1 $d >/dev/null; rm -rf $d",
        )
        .map(|_| ())
    }

    /// Host `i`'s boot id, as drover reads it.
    pub fn boot_id(&self, i: usize) -> String {
        self.exec(i, "cat /proc/sys/kernel/random/boot_id")
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Reboots host `i` from outside (its container stops, as a shutdown stops it, and starts again)
    /// and waits until it is ready.
    pub fn reboot(&self, i: usize) -> io::Result<()> {
        docker_output(Command::new("docker").args([
            "restart",
            "-t",
            "30",
            &self.hosts[i].container,
        ]))?;
        self.wait_ready(i, Duration::from_secs(120))
    }

    /// Powers host `i` off: it stops and does not come back until [`DebianFleet::power_on`].
    pub fn power_off(&self, i: usize) -> io::Result<()> {
        docker_output(Command::new("docker").args(["stop", "-t", "30", &self.hosts[i].container]))
            .map(|_| ())
    }

    /// Starts a powered-off host `i` and waits until it is ready.
    pub fn power_on(&self, i: usize) -> io::Result<()> {
        docker_output(Command::new("docker").args(["start", &self.hosts[i].container]))?;
        self.wait_ready(i, Duration::from_secs(120))
    }

    /// Removes host `i`'s host key: at its next boot it makes a new one, as a reinstalled server
    /// does. The fleet's known_hosts keeps the old key.
    pub fn new_host_key_at_next_boot(&self, i: usize) -> io::Result<()> {
        self.exec(i, "rm -f /etc/ssh/ssh_host_*")
            .map(|_| ())
            .map_err(io::Error::other)
    }

    /// Kills host `i`'s sshd and every SSH session it serves; the host stays up. (Under systemd,
    /// ssh.service is stopped, as its `Restart=on-failure` would bring a killed sshd back.)
    pub fn kill_sshd(&self, i: usize) -> io::Result<()> {
        let script = match self.boot {
            Boot::Systemd => "systemctl stop ssh.service; pkill -KILL -x sshd; true",
            Boot::Plain => "pkill -KILL -x sshd; true",
        };
        self.exec(i, script).map(|_| ()).map_err(io::Error::other)
    }

    /// Silently drops every packet to and from host `i` (iptables in its network namespace): its
    /// connections stay open on the controller's side and nothing answers, as after a power loss.
    pub fn drop_traffic(&self, i: usize) -> io::Result<()> {
        self.iptables(i, "-I")
    }

    /// Lets host `i`'s traffic through again.
    pub fn restore_traffic(&self, i: usize) -> io::Result<()> {
        self.iptables(i, "-D")
    }

    fn iptables(&self, i: usize, op: &str) -> io::Result<()> {
        let pid = docker_output(Command::new("docker").args([
            "inspect",
            "--format",
            "{{.State.Pid}}",
            &self.hosts[i].container,
        ]))?;
        for chain in ["INPUT", "OUTPUT"] {
            docker_output(Command::new("nsenter").args([
                "-t",
                pid.trim(),
                "-n",
                "iptables",
                op,
                chain,
                "-j",
                "DROP",
            ]))?;
        }
        Ok(())
    }

    /// Writes `text` to `path` on host `i` as root (mode from umask), from outside.
    pub fn write_file(&self, i: usize, path: &str, text: &str) -> io::Result<()> {
        let mut child = Command::new("docker")
            .args([
                "exec",
                "-i",
                &self.hosts[i].container,
                "sh",
                "-c",
                "cat > \"$1\"",
                "sh",
                path,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .ok_or_else(|| io::Error::other("no stdin"))?
            .write_all(text.as_bytes())?;
        let out = child.wait_with_output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(io::Error::other(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ))
        }
    }

    /// Copies `path` (a file, or a folder's contents with a trailing `/.`) from host `i` to `dest` on
    /// this machine.
    pub fn copy_from(&self, i: usize, path: &str, dest: &Path) -> io::Result<()> {
        docker_output(
            Command::new("docker")
                .arg("cp")
                .arg(format!("{}:{path}", self.hosts[i].container))
                .arg(dest),
        )
        .map(|_| ())
    }

    /// The fleet's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The hosts, in inventory order.
    pub fn hosts(&self) -> &[DebianHost] {
        &self.hosts
    }

    /// The image the hosts run, and how long this fleet waited for it to be built.
    pub fn image(&self) -> &Image {
        &self.image
    }

    /// An INI inventory of the fleet (group `fleet`, user root).
    pub fn inventory(&self) -> PathBuf {
        self.dir.join("inventory.ini")
    }

    /// A known_hosts file with every host's key as the fleet started.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    /// The private key root and `ops` accept on every host.
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client_key")
    }
}

impl Drop for DebianFleet {
    fn drop(&mut self) {
        let names: Vec<&str> = self.hosts.iter().map(|h| h.container.as_str()).collect();
        if !names.is_empty() {
            let _ = Command::new("docker")
                .args(["rm", "-f", "-v"])
                .args(&names)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = Command::new("docker")
            .args(["network", "rm", &self.network])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs a command; stdout on success, an error with its stderr otherwise.
fn docker_output(cmd: &mut Command) -> io::Result<String> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(io::Error::other(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Single-quotes a word for sh (the fleet's own commands; drover's quoting lives in drover-shell).
fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Removes the containers and networks of fleets whose process is gone (a test killed before its
/// fleet's Drop ran). Only what carries the fleet's label, and never a live process's.
fn remove_leftovers() {
    let dead = |owner: &str| {
        owner
            .parse::<u32>()
            .is_ok_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
    };
    for kind in ["container", "network"] {
        let listed = Command::new("docker")
            .args([kind, "ls", "--filter", &format!("label={OWNER}")])
            .args(if kind == "container" {
                &["-a"][..]
            } else {
                &[]
            })
            .args([
                "--format",
                &format!("{{{{.ID}}}} {{{{.Label \"{OWNER}\"}}}}"),
            ])
            .output();
        let Ok(listed) = listed else { continue };
        let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(_, owner)| dead(owner))
            .map(|(id, _)| id.to_string())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let mut rm = Command::new("docker");
        match kind {
            "container" => rm.args(["rm", "-f", "-v"]),
            _ => rm.args(["network", "rm"]),
        };
        let _ = rm
            .args(&ids)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
