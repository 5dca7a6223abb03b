//! Network namespaces for fleet hosts: each host behind a veth pair of its own, so that a test can
//! silence its traffic (iptables DROP inside the namespace: no FIN, no RST), as a power loss, a
//! kernel panic or a firewall would. Needs root, iproute2 and iptables; everything is made by the
//! fleet and removed when it is dropped.

use std::io;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A namespace with one host address, reached from the controller over a veth pair.
pub struct Netns {
    /// The namespace's name (`ip netns exec NAME ...`).
    pub name: String,
    /// The controller's end of the veth pair.
    controller_if: String,
    /// The host's address inside the namespace.
    pub host_addr: Ipv4Addr,
}

/// Namespaces made by this process so far: with the PID, it picks a /30 no other fleet uses.
static MADE: AtomicU32 = AtomicU32::new(0);

/// The /30 numbered `k` in 10.200.0.0/16: (controller, host) addresses.
fn subnet(k: u32) -> (Ipv4Addr, Ipv4Addr) {
    let base = 0x0ac8_0000 | ((k % 16384) << 2);
    (Ipv4Addr::from(base | 1), Ipv4Addr::from(base | 2))
}

/// Runs `ip` (or another program) and turns a failure into an error with its stderr.
fn run(program: &str, args: &[&str]) -> io::Result<()> {
    let out = Command::new(program).args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl Netns {
    /// Makes a namespace with a veth pair and a /30 of its own; the host's end is up with its
    /// address and loopback.
    pub fn create() -> io::Result<Netns> {
        let mut last = None;
        for _ in 0..20 {
            let n = MADE.fetch_add(1, Ordering::SeqCst);
            let k = std::process::id().wrapping_mul(97).wrapping_add(n) % 16384;
            let ns = Netns {
                name: format!("drover-{}-{n}", std::process::id()),
                controller_if: format!("dv{k}c"),
                host_addr: subnet(k).1,
            };
            match ns.set_up(k) {
                Ok(()) => return Ok(ns),
                // Dropping `ns` removes whatever part was made; another subnet is tried.
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free subnet for a namespace")))
    }

    fn set_up(&self, k: u32) -> io::Result<()> {
        let (ctl, host) = subnet(k);
        let host_if = format!("dv{k}h");
        run("ip", &["netns", "add", &self.name])?;
        run(
            "ip",
            &[
                "link",
                "add",
                &self.controller_if,
                "type",
                "veth",
                "peer",
                "name",
                &host_if,
            ],
        )?;
        run("ip", &["link", "set", &host_if, "netns", &self.name])?;
        run(
            "ip",
            &[
                "addr",
                "add",
                &format!("{ctl}/30"),
                "dev",
                &self.controller_if,
            ],
        )?;
        run("ip", &["link", "set", &self.controller_if, "up"])?;
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", &self.name, "ip"];
            all.extend(args);
            run("ip", &all)
        };
        inside(&["addr", "add", &format!("{host}/30"), "dev", &host_if])?;
        inside(&["link", "set", &host_if, "up"])?;
        inside(&["link", "set", "lo", "up"])
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: &std::path::Path) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Silently drops every packet to and from the host: connections stay open on the controller's
    /// side, and nothing answers.
    pub fn drop_traffic(&self) -> io::Result<()> {
        for chain in ["INPUT", "OUTPUT"] {
            run(
                "ip",
                &[
                    "netns", "exec", &self.name, "iptables", "-I", chain, "-j", "DROP",
                ],
            )?;
        }
        Ok(())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace removes the host's end, and with it the controller's.
        let _ = run("ip", &["netns", "del", &self.name]);
        let _ = run("ip", &["link", "del", &self.controller_if]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_are_slash_30s_in_10_200() {
        assert_eq!(
            subnet(0),
            (Ipv4Addr::new(10, 200, 0, 1), Ipv4Addr::new(10, 200, 0, 2))
        );
        assert_eq!(
            subnet(16383),
            (
                Ipv4Addr::new(10, 200, 255, 253),
                Ipv4Addr::new(10, 200, 255, 254)
            )
        );
        assert_eq!(subnet(16384), subnet(0));
    }
}
