//! `drover-fleet up`: starts a test fleet and keeps it running until interrupted, for the demo and for
//! trying drover by hand.

use std::path::PathBuf;

use clap::Parser;
use drover_fleet::{Fleet, FleetOptions};

/// Start N real OpenSSH servers on 127.0.0.2, 127.0.0.3, ... and write an inventory for them.
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
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
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
    println!("inventory   {}", fleet.inventory().display());
    println!("known_hosts {}", fleet.known_hosts().display());
    println!(
        "hosts       {} on port {}",
        fleet.hosts().len(),
        fleet.port()
    );
    std::fs::write(fleet.dir().join("ready"), std::process::id().to_string())?;
    eprintln!("fleet is up; stop it with Ctrl-C or SIGTERM");
    wait_for_signal();
    drop(fleet);
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
