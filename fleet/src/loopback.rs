//! The test fleet: real OpenSSH `sshd` processes on loopback addresses (127.0.0.2, 127.0.0.3, ...).
//!
//! Each host has its own address, host key and state folder (its `HOME`, set with sshd's `SetEnv`), so
//! tests and the demo talk to real SSH servers. The fleet writes an inventory, a known_hosts file and a
//! client key for them, and stops every sshd it started when dropped, even when a test fails. With
//! `FleetOptions::netns`, each host sits in a network namespace of its own behind a veth pair
//! (10.200.0.0/16, made and removed by the fleet), so a test can drop its traffic silently.

use crate::netns;

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to build a fleet.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Number of hosts.
    pub hosts: usize,
    /// Hosts served by one sshd (at most 16, sshd's limit of listen addresses). With more than one,
    /// the hosts of one sshd share its host key.
    pub hosts_per_sshd: usize,
    /// Extra lines for every sshd_config (benchmarks pin key exchange algorithms with this).
    pub extra_config: Vec<String>,
    /// Extra environment per host (index in the fleet), set with sshd's `SetEnv`: `APT_CONFIG` for
    /// fixture package indexes, for example.
    pub host_env: Vec<Vec<(String, String)>>,
    /// Give every host its own Docker daemon (`DOCKER_HOST` points at it).
    pub docker: bool,
    /// Put every host in a network namespace of its own, behind a veth pair (one host per sshd),
    /// so that [`Fleet::drop_traffic`] can silence it. Needs root, iproute2 and iptables.
    pub netns: bool,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            hosts: 3,
            hosts_per_sshd: 1,
            extra_config: Vec::new(),
            host_env: Vec::new(),
            docker: false,
            netns: false,
        }
    }
}

/// One host of the fleet.
#[derive(Debug, Clone)]
pub struct FleetHost {
    /// Inventory name, `node01`, `node02`, ...
    pub name: String,
    /// Its loopback address.
    pub addr: Ipv4Addr,
    /// Its state folder: its HOME, where tests look at what a push changed.
    pub state: PathBuf,
    /// The sshd that serves it.
    sshd: usize,
}

struct Sshd {
    config: PathBuf,
    host_key: PathBuf,
    child: Option<Child>,
}

/// A running fleet. Dropping it stops every sshd it started and removes its folder.
pub struct Fleet {
    dir: PathBuf,
    keep_dir: bool,
    port: u16,
    hosts: Vec<FleetHost>,
    sshds: Vec<Sshd>,
    dockers: Vec<Dockerd>,
    /// Each host's network namespace, with `FleetOptions::netns` (dropped after the sshds stop).
    namespaces: Vec<netns::Netns>,
}

/// A host's own Docker daemon.
struct Dockerd {
    /// Short folder for sockets and state (unix socket paths are limited to 108 bytes).
    exec_root: PathBuf,
    data_root: PathBuf,
    /// dockerd's arguments, to start it again the same way.
    args: Vec<String>,
    child: Option<Child>,
}

impl Dockerd {
    fn socket(&self) -> PathBuf {
        self.exec_root.join("docker.sock")
    }

    fn spawn(&mut self) -> io::Result<()> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_root.join("dockerd.log"))?;
        let child = Command::new("dockerd")
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    /// Stops the daemon gracefully (SIGTERM) and waits for it: ours by its child handle, or one a
    /// simulated reboot started, by its PID file once its command line shows it is this daemon.
    fn stop(&mut self) {
        let pid_file = self.exec_root.join("docker.pid");
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let root = self.exec_root.to_string_lossy().into_owned();
        let ours = |pid: &u32| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&root))
        };
        if let Some(pid) = fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .filter(ours)
        {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = fs::remove_file(pid_file);
    }
}

/// The address of host `i`: 127.0.0.2 upwards, skipping .0 and .255 in the last byte.
fn address(i: usize) -> Ipv4Addr {
    // Index k among the usable addresses, where k = 0 would be 127.0.0.1.
    let k = u32::try_from(i + 1).unwrap_or(u32::MAX);
    let (block, last) = (k / 254, k % 254 + 1);
    Ipv4Addr::from(0x7f00_0000 | (block << 8) | last)
}

impl Fleet {
    /// Starts a fleet in a new folder under `parent` and waits until every host accepts connections.
    pub fn start(parent: &Path, opts: &FleetOptions) -> io::Result<Fleet> {
        let dir = unique_dir(parent)?;
        Fleet::start_in(dir, false, opts)
    }

    /// Starts a fleet in `dir` (created if needed), which is left in place when the fleet stops.
    pub fn start_in(dir: PathBuf, keep_dir: bool, opts: &FleetOptions) -> io::Result<Fleet> {
        ensure_privsep_dir()?;
        fs::create_dir_all(&dir)?;
        keygen(&dir.join("client_key"))?;
        keygen(&dir.join("wrong_key"))?;
        fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys"))?;
        // A host in a namespace of its own has an sshd of its own.
        let per = if opts.netns {
            1
        } else {
            opts.hosts_per_sshd.clamp(1, 16)
        };
        let mut fleet = Fleet {
            dir,
            keep_dir,
            port: 0,
            hosts: Vec::new(),
            sshds: Vec::new(),
            dockers: Vec::new(),
            namespaces: Vec::new(),
        };
        for i in 0..opts.hosts {
            let name = format!(
                "node{:0width$}",
                i + 1,
                width = opts.hosts.to_string().len().max(2)
            );
            let state = fleet.dir.join("hosts").join(&name);
            fs::create_dir_all(state.join("home"))?;
            fs::write(state.join("boot_id"), format!("{}\n", new_boot_id()))?;
            let addr = if opts.netns {
                let ns = netns::Netns::create()?;
                let addr = ns.host_addr;
                fleet.namespaces.push(ns);
                addr
            } else {
                address(i)
            };
            fleet.hosts.push(FleetHost {
                name,
                addr,
                state,
                sshd: i / per,
            });
        }
        for s in 0..opts.hosts.div_ceil(per) {
            let sdir = fleet.dir.join("sshd").join(s.to_string());
            fs::create_dir_all(&sdir)?;
            let host_key = sdir.join("host_key");
            keygen(&host_key)?;
            fleet.sshds.push(Sshd {
                config: sdir.join("sshd_config"),
                host_key,
                child: None,
            });
        }
        if opts.docker {
            fleet.start_dockers()?;
        }
        fleet.launch_all(opts)?;
        fleet.write_reboot_scripts()?;
        fleet.write_known_hosts()?;
        fleet.write_inventory()?;
        Ok(fleet)
    }

    /// Picks a free port and starts every sshd on it; on a clash with another fleet, tries another port.
    fn launch_all(&mut self, opts: &FleetOptions) -> io::Result<()> {
        let mut last_err = None;
        for _ in 0..5 {
            self.port = free_port()?;
            for s in 0..self.sshds.len() {
                self.write_sshd_config(s, opts)?;
            }
            match (0..self.sshds.len()).try_for_each(|s| self.spawn(s)) {
                Ok(()) => match self.wait_ready() {
                    Ok(()) => return Ok(()),
                    Err(e) => last_err = Some(e),
                },
                Err(e) => last_err = Some(e),
            }
            self.stop_all();
        }
        Err(last_err.unwrap_or_else(|| io::Error::other("sshd did not start")))
    }

    fn write_sshd_config(&self, s: usize, opts: &FleetOptions) -> io::Result<()> {
        let sshd = &self.sshds[s];
        let mine: Vec<&FleetHost> = self.hosts.iter().filter(|h| h.sshd == s).collect();
        let mut text = format!(
            "Port {port}\n{listen}HostKey {key}\nPidFile {pid}\nAuthorizedKeysFile {auth}\n\
             StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nMaxStartups 2000:30:4000\nMaxSessions 100\n\
             PrintMotd no\nLogLevel ERROR\nSubsystem sftp internal-sftp\n",
            port = self.port,
            listen = mine
                .iter()
                .map(|h| format!("ListenAddress {}\n", h.addr))
                .collect::<String>(),
            key = sshd.host_key.display(),
            pid = sshd.config.with_file_name("sshd.pid").display(),
            auth = self.dir.join("authorized_keys").display(),
        );
        for line in &opts.extra_config {
            text.push_str(line);
            text.push('\n');
        }
        // Per-host environment: a clean HOME so no shell start-up files slow commands down.
        for h in &mine {
            let i = self
                .hosts
                .iter()
                .position(|x| x.name == h.name)
                .unwrap_or(0);
            let mut env = format!(
                "HOME={} DROVER_FLEET_HOST={} DROVER_BOOT_ID_FILE={}",
                h.state.join("home").display(),
                h.name,
                h.state.join("boot_id").display()
            );
            if let Some(d) = self.dockers.get(i) {
                env.push_str(&format!(" DOCKER_HOST=unix://{}", d.socket().display()));
            }
            for (k, v) in opts.host_env.get(i).into_iter().flatten() {
                env.push_str(&format!(" {k}={v}"));
            }
            text.push_str(&format!("Match LocalAddress {}\n  SetEnv {env}\n", h.addr));
        }
        fs::write(&sshd.config, text)
    }

    fn spawn(&mut self, s: usize) -> io::Result<()> {
        let sshd = &mut self.sshds[s];
        let log = fs::File::create(sshd.config.with_file_name("sshd.log"))?;
        let mut command = match self.namespaces.get(s) {
            Some(ns) => ns.command(&sshd_path()),
            None => Command::new(sshd_path()),
        };
        let child = command
            .args(["-D", "-e", "-f"])
            .arg(&sshd.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        sshd.child = Some(child);
        Ok(())
    }

    /// Waits until every host accepts TCP connections, or reports the sshd that died.
    fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        for i in 0..self.hosts.len() {
            let addr = SocketAddr::from((self.hosts[i].addr, self.port));
            loop {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    break;
                }
                let s = self.hosts[i].sshd;
                if let Some(status) = self.sshds[s]
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten())
                {
                    let log = fs::read_to_string(self.sshds[s].config.with_file_name("sshd.log"))
                        .unwrap_or_default();
                    return Err(io::Error::other(format!(
                        "sshd for {addr} exited ({status}): {log}"
                    )));
                }
                if Instant::now() > deadline {
                    return Err(io::Error::other(format!(
                        "sshd for {addr} not ready after 20s"
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// Writes `hosts/<name>/reboot`: run on the host (detached), it simulates a reboot. The host's
    /// sshd stops, the boot id changes, and after the given seconds (default 2) sshd starts again.
    /// Hosts that share an sshd go down together.
    fn write_reboot_scripts(&self) -> io::Result<()> {
        for h in &self.hosts {
            let sshd = &self.sshds[h.sshd];
            let i = self
                .hosts
                .iter()
                .position(|x| x.name == h.name)
                .unwrap_or(0);
            // With a Docker daemon, the reboot stops it gracefully (stopping its containers) and
            // starts it again, as boot would.
            let (docker_down, docker_up) = match self.dockers.get(i) {
                Some(d) => (
                    format!(
                        // An exited dockerd may linger as a zombie until the fleet reaps it: that counts as gone.
                        "p=$(cat {pf} 2>/dev/null); [ -n \"$p\" ] && kill \"$p\" && while [ -e /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null; do sleep 0.2; done\n",
                        pf = d.exec_root.join("docker.pid").display()
                    ),
                    format!(
                        "setsid dockerd {} >>{} 2>&1 < /dev/null &\n",
                        d.args.join(" "),
                        d.data_root.join("dockerd.log").display()
                    ),
                ),
                None => (String::new(), String::new()),
            };
            let script = format!(
                "#!/bin/sh\n# Simulates a reboot of test host {name}: sshd (and dockerd) stop, the boot id changes, they return.\n\
                 {docker_down}kill \"$(cat {pid})\" 2>/dev/null\nsleep \"${{1:-2}}\"\ncat /proc/sys/kernel/random/uuid > {boot}\n\
                 {docker_up}exec {sshd} -f {config} -E {log}\n",
                name = h.name,
                pid = sshd.config.with_file_name("sshd.pid").display(),
                boot = h.state.join("boot_id").display(),
                sshd = sshd_path().display(),
                config = sshd.config.display(),
                log = sshd.config.with_file_name("sshd.log").display(),
            );
            let path = h.state.join("reboot");
            fs::write(&path, script)?;
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        }
        Ok(())
    }

    /// The command that makes host `i` simulate a reboot, sshd down for `down_secs`; for a playbook's
    /// `reboot_command`.
    pub fn reboot_command(&self, i: usize, down_secs: u32) -> String {
        format!(
            "setsid {} {down_secs} >/dev/null 2>&1 < /dev/null &",
            self.hosts[i].state.join("reboot").display()
        )
    }

    /// Host `i`'s current boot id.
    pub fn boot_id(&self, i: usize) -> String {
        fs::read_to_string(self.hosts[i].state.join("boot_id"))
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Starts one dockerd per host (vfs storage, no bridge, no iptables) and waits until each answers.
    fn start_dockers(&mut self) -> io::Result<()> {
        // Unix socket paths are short (108 bytes), so the exec roots live under /run, named after a
        // hash of the whole fleet folder: two fleets never share one, whatever their folder names.
        let tag = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            self.dir.hash(&mut h);
            format!("{:016x}", h.finish())
        };
        for (i, h) in self.hosts.iter().enumerate() {
            let exec_root = PathBuf::from(format!("/run/dfl/{tag}-{i}"));
            let data_root = h.state.join("docker");
            fs::create_dir_all(&exec_root)?;
            fs::create_dir_all(&data_root)?;
            let config = data_root.join("daemon.json");
            if !config.exists() {
                fs::write(&config, "{}\n")?;
            }
            let args: Vec<String> = vec![
                "--config-file".into(),
                config.display().to_string(),
                "--data-root".into(),
                data_root.join("data").display().to_string(),
                "--exec-root".into(),
                exec_root.display().to_string(),
                "--pidfile".into(),
                exec_root.join("docker.pid").display().to_string(),
                "-H".into(),
                format!("unix://{}", exec_root.join("docker.sock").display()),
                "--bridge=none".into(),
                "--iptables=false".into(),
                "--ip-masq=false".into(),
                "--storage-driver=vfs".into(),
                "--shutdown-timeout=2".into(),
            ];
            let mut d = Dockerd {
                exec_root,
                data_root,
                args,
                child: None,
            };
            d.spawn()?;
            self.dockers.push(d);
        }
        for i in 0..self.dockers.len() {
            self.wait_docker(i)?;
        }
        Ok(())
    }

    /// Waits until host `i`'s daemon answers.
    fn wait_docker(&self, i: usize) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        {
            while self
                .docker(i, &["info", "--format", "{{.ServerVersion}}"])
                .is_err()
            {
                if Instant::now() > deadline {
                    let log = fs::read_to_string(self.dockers[i].data_root.join("dockerd.log"))
                        .unwrap_or_default();
                    return Err(io::Error::other(format!(
                        "dockerd for {} did not start: {log}",
                        self.hosts[i].name
                    )));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Ok(())
    }

    /// Restarts host `i`'s Docker daemon gracefully, as an upgrade of Docker or containerd does:
    /// Docker stops every container, then starts the ones whose policy says so.
    pub fn restart_docker(&mut self, i: usize) -> io::Result<()> {
        self.dockers[i].stop();
        self.dockers[i].spawn()?;
        self.wait_docker(i)
    }

    /// Runs the docker CLI against host `i`'s daemon; stdout on success, stderr on failure.
    pub fn docker(&self, i: usize, args: &[&str]) -> Result<String, String> {
        let d = self
            .dockers
            .get(i)
            .ok_or("this fleet has no Docker daemons")?;
        let out = Command::new("docker")
            .env("DOCKER_HOST", format!("unix://{}", d.socket().display()))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Builds the image `drover/busybox:1` from scratch (busybox-static) in host `i`'s daemon. Its
    /// default command sleeps; no image is pulled.
    pub fn build_busybox_image(&self, i: usize) -> Result<(), String> {
        let dir = self.hosts[i].state.join("image");
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        fs::copy("/bin/busybox", dir.join("busybox"))
            .map_err(|e| format!("/bin/busybox (install busybox-static): {e}"))?;
        fs::write(dir.join("Dockerfile"), "FROM scratch\nCOPY busybox /bin/busybox\nCMD [\"/bin/busybox\", \"sleep\", \"100000\"]\n")
            .map_err(|e| e.to_string())?;
        self.docker(
            i,
            &[
                "build",
                "-q",
                "-t",
                "drover/busybox:1",
                dir.to_str().unwrap_or("."),
            ],
        )
        .map(|_| ())
    }

    fn stop_dockers(&mut self) {
        for d in &mut self.dockers {
            d.stop();
            unmount_below(&d.exec_root);
            unmount_below(&d.data_root);
            let _ = fs::remove_dir_all(&d.exec_root);
        }
    }

    fn write_known_hosts(&self) -> io::Result<()> {
        let mut text = String::new();
        for h in &self.hosts {
            let key = fs::read_to_string(self.sshds[h.sshd].host_key.with_extension("pub"))?;
            let key: Vec<&str> = key.split_whitespace().take(2).collect();
            text.push_str(&format!("[{}]:{} {}\n", h.addr, self.port, key.join(" ")));
        }
        fs::write(self.known_hosts(), text)
    }

    fn write_inventory(&self) -> io::Result<()> {
        let mut text = String::from(
            "# Written by drover-fleet: one real sshd per host on loopback.\n[fleet]\n",
        );
        for h in &self.hosts {
            text.push_str(&format!("{} ansible_host={}\n", h.name, h.addr));
        }
        text.push_str(&format!(
            "\n[fleet:vars]\nansible_port={}\nansible_user={}\nansible_ssh_private_key_file={}\n",
            self.port,
            current_user(),
            self.client_key().display()
        ));
        fs::write(self.inventory(), text)
    }

    /// The fleet's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The port every host listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The hosts, in inventory order.
    pub fn hosts(&self) -> &[FleetHost] {
        &self.hosts
    }

    /// An INI inventory of the fleet (group `fleet`).
    pub fn inventory(&self) -> PathBuf {
        self.dir.join("inventory.ini")
    }

    /// A known_hosts file with every host's key.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    /// The private key the hosts accept.
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client_key")
    }

    /// A valid private key that no host accepts.
    pub fn wrong_key(&self) -> PathBuf {
        self.dir.join("wrong_key")
    }

    /// Cuts host `i` off at once, as a network drop or a crash would: every SSH session it serves is
    /// killed (SIGKILL to its sshd's children), then its sshd. `start_host` brings it back.
    pub fn cut_host(&mut self, i: usize) {
        let s = self.hosts[i].sshd;
        if let Some(pid) = self.sshds[s].child.as_ref().map(|c| c.id()) {
            for child in children(pid) {
                let _ = Command::new("kill")
                    .args(["-KILL", &child.to_string()])
                    .status();
            }
        }
        stop(&mut self.sshds[s]);
    }

    /// Silently drops every packet to and from host `i` (a fleet with `netns`): its connections
    /// stay open on the controller's side and nothing answers, as after a power loss.
    pub fn drop_traffic(&self, i: usize) -> io::Result<()> {
        self.namespaces
            .get(i)
            .ok_or_else(|| io::Error::other("drop_traffic needs a fleet started with `netns`"))?
            .drop_traffic()
    }

    /// Stops the sshd serving host `i`, so it is unreachable.
    pub fn stop_host(&mut self, i: usize) {
        let s = self.hosts[i].sshd;
        stop(&mut self.sshds[s]);
    }

    /// Starts host `i`'s sshd again and waits until it is ready.
    pub fn start_host(&mut self, i: usize) -> io::Result<()> {
        let s = self.hosts[i].sshd;
        self.spawn(s)?;
        self.wait_ready()
    }

    /// Gives host `i` a new host key (as a rebuilt server would have), restarting its sshd.
    pub fn change_host_key(&mut self, i: usize) -> io::Result<()> {
        self.stop_host(i);
        let key = self.sshds[self.hosts[i].sshd].host_key.clone();
        fs::remove_file(&key)?;
        fs::remove_file(key.with_extension("pub"))?;
        keygen(&key)?;
        self.start_host(i)
    }

    fn stop_all(&mut self) {
        for sshd in &mut self.sshds {
            stop(sshd);
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop_all();
        self.stop_dockers();
        if !self.keep_dir {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// The PIDs whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            fs::read_to_string(format!("/proc/{p}/status")).is_ok_and(|st| {
                st.lines()
                    .any(|l| l.strip_prefix("PPid:").map(str::trim) == Some(&pid.to_string()))
            })
        })
        .collect()
}

/// Ends an sshd this fleet started, by its PID, and reaps it; also one that a simulated reboot
/// restarted, by the PID in its PID file.
fn stop(sshd: &mut Sshd) {
    let pid_file = sshd.config.with_file_name("sshd.pid");
    if let Some(mut child) = sshd.child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
    // Only a process whose command line names this sshd's config is ours: never a recycled PID.
    let ours = |pid: &u32| {
        fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&*sshd.config.to_string_lossy()))
    };
    if let Some(pid) = fs::read_to_string(&pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .filter(ours)
    {
        let _ = Command::new("kill")
            .arg(pid.to_string())
            .stderr(Stdio::null())
            .status();
    }
    let _ = fs::remove_file(pid_file);
}

/// Unmounts what a daemon of ours left mounted below `dir` (container shm and the like), deepest first.
fn unmount_below(dir: &Path) {
    let prefix = dir.to_string_lossy().into_owned();
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    let mut points: Vec<&str> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|m| m.starts_with(&prefix))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        let _ = Command::new("umount").arg(p).stderr(Stdio::null()).status();
    }
}

/// A fresh random boot id, as the kernel makes them.
fn new_boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/uuid")
        .unwrap_or_else(|_| format!("{:x}", std::process::id()))
        .trim()
        .to_string()
}

pub(crate) fn unique_dir(parent: &Path) -> io::Result<PathBuf> {
    fs::create_dir_all(parent)?;
    for n in 0..1000 {
        let dir = parent.join(format!("fleet-{}-{n}", std::process::id()));
        if fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    Err(io::Error::other("no free fleet folder name"))
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) fn keygen(path: &Path) -> io::Result<()> {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "drover-fleet", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ssh-keygen failed for {}",
            path.display()
        )))
    }
}

fn sshd_path() -> PathBuf {
    ["/usr/sbin/sshd", "/usr/local/sbin/sshd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("sshd"))
}

/// sshd refuses to start without its privilege separation folder.
fn ensure_privsep_dir() -> io::Result<()> {
    let dir = Path::new("/run/sshd");
    if !dir.exists() {
        fs::create_dir_all(dir)?;
    }
    Ok(())
}

fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_skip_network_and_broadcast_bytes() {
        assert_eq!(address(0), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(address(1), Ipv4Addr::new(127, 0, 0, 3));
        let all: Vec<Ipv4Addr> = (0..2000).map(address).collect();
        assert!(
            all.iter()
                .all(|a| a.octets()[3] != 0 && a.octets()[3] != 255)
        );
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), 2000);
    }
}
