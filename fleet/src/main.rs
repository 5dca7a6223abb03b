//! `drover-fleet`: starts a test fleet (loopback sshd hosts, or Debian containers with `--debian`) and
//! keeps it running until interrupted, for the demo and for trying drover by hand; `--build-image`
//! builds the Debian hosts' image and says how long it took (CI does that before the tests).

use std::path::PathBuf;

use clap::Parser;
use drover_fleet::{Boot, DebianFleet, DebianOptions, Flavour, Fleet, FleetOptions, Image, Reach};

/// Start N real OpenSSH servers on 127.0.0.2, 127.0.0.3, ... (or N Debian containers) and write an
/// inventory and a known_hosts file for them.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Number of hosts.
    #[arg(long, default_value_t = 5)]
    hosts: usize,
    /// Hosts served by one sshd process (1 to 16); more than one share a host key.
    #[arg(long, default_value_t = 1)]
    hosts_per_sshd: usize,
    /// Folder for keys, configs, the inventory and each host's state (kept after exit).
    #[arg(long, default_value = ".drover/fleet")]
    dir: PathBuf,
    /// Extra sshd_config line for every sshd (repeatable), e.g. "KexAlgorithms curve25519-sha256".
    #[arg(long = "sshd-option")]
    sshd_options: Vec<String>,
    /// Give every host its own Docker daemon.
    #[arg(long)]
    docker: bool,
    /// Debian containers (own filesystem, packages, users) instead of loopback sshd processes.
    #[arg(long)]
    debian: bool,
    /// With --debian: systemd as PID 1, with containerd and Docker running inside each host.
    #[arg(long, requires = "debian")]
    systemd: bool,
    /// With --debian: Debian's Python tools on every host (docker-compose, ufw), and so Python.
    #[arg(long, requires = "debian")]
    python: bool,
    /// With --debian: the flat apt repository (a folder with Packages) the hosts use.
    #[arg(long, requires = "debian")]
    repo: Option<PathBuf>,
    /// Build the Debian hosts' images (base, and with Compose) if this machine lacks them, say
    /// how long it took, and exit.
    #[arg(long, conflicts_with = "debian")]
    build_image: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.build_image {
        for flavour in [Flavour::Base, Flavour::Python] {
            let image = Image::ensure(flavour)?;
            println!(
                "{} ({})",
                image.tag,
                if image.build_time.is_zero() {
                    "already built".to_string()
                } else {
                    format!("built in {:.0} s", image.build_time.as_secs_f64())
                }
            );
        }
        return Ok(());
    }
    if args.debian {
        let parent = std::path::absolute(&args.dir)?;
        let fleet = DebianFleet::start(
            &parent,
            &DebianOptions {
                hosts: args.hosts,
                boot: if args.systemd {
                    Boot::Systemd
                } else {
                    Boot::Plain
                },
                repo: args.repo,
                flavour: if args.python {
                    Flavour::Python
                } else {
                    Flavour::Base
                },
                ..DebianOptions::default()
            },
        )?;
        for h in fleet.hosts() {
            println!(
                "{:<11} {} (docker exec -it {} bash)",
                h.name, h.addr, h.container
            );
        }
        return serve(&fleet, &format!("{} Debian hosts", fleet.hosts().len()));
    }
    let dir = std::path::absolute(&args.dir)?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let opts = FleetOptions {
        hosts: args.hosts,
        hosts_per_sshd: args.hosts_per_sshd,
        extra_config: args.sshd_options,
        docker: args.docker,
        ..FleetOptions::default()
    };
    let fleet = Fleet::start_in(dir, true, &opts)?;
    let what = format!("{} on port {}", fleet.hosts().len(), fleet.port());
    serve(&fleet, &what)
}

/// Says where the inventory is, marks the fleet ready, and keeps it up until a signal.
fn serve(fleet: &impl Reach, hosts: &str) -> anyhow::Result<()> {
    println!("inventory   {}", fleet.inventory().display());
    println!("known_hosts {}", fleet.known_hosts().display());
    println!("hosts       {hosts}");
    std::fs::write(fleet.dir().join("ready"), std::process::id().to_string())?;
    eprintln!("fleet is up; stop it with Ctrl-C or SIGTERM");
    wait_for_signal();
    Ok(())
}

/// Blocks until SIGINT or SIGTERM, so that the fleet's Drop stops every sshd.
fn wait_for_signal() {
    let (tx, rx) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .expect("install signal handler");
    let _ = rx.recv();
}
