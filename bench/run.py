#!/usr/bin/env python3
"""Fan-out benchmark: drover against raw OpenSSH, ansible-core and pyinfra on the same loopback fleet.

    python3 bench/run.py                        # sizes 10,50,200,500; 3 runs each; writes docs/performance.md
    python3 bench/run.py --sizes 10,50 --runs 3 --tools drover,ssh-curve25519
    python3 bench/run.py --sizes 50,200 --tools drover-push,pyinfra-deploy,ansible-playbook --out docs/performance-push.md
    python3 bench/run.py --sizes 1,50 --rtt 0,20,50 --tools drover-push,pyinfra-deploy --out docs/performance-latency.md

Latency mode (`--rtt`, milliseconds): every byte between the tools and the fleet goes through a
delaying TCP proxy (bench/delay.py: half the round trip each way, in order), as a fleet 20 or 50 ms
away would have it; this kernel has no netem.

The 3-task push (bench/push: template a file, run a command, notify a handler) runs the same Ansible-
syntax playbook with drover and ansible-playbook, and bench/push/deploy.py with pyinfra.
Each size gets its own fleet of real sshd processes (16 addresses per sshd, MaxStartups raised), started
with target/release/drover-fleet. The workload is the fact gather of a patch run:
`uname -r; cat /etc/os-release; cat <saved apt list --upgradable output>` on every host. For every tool
and size it reports the median wall time of the runs, the controller's CPU seconds (user+system of
the whole process tree) and its peak memory (RSS summed over the process tree, sampled every 20 ms).
ansible-core and pyinfra are installed from PyPI into .bench/venv on first use.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench"
VENV = WORK / "venv"
APT_LIST = ROOT / "bench" / "apt-list-upgradable.txt"
WORKLOAD = f"uname -r; cat /etc/os-release; cat {APT_LIST}"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_tools():
    sh(["cargo", "build", "--release", "--locked", "-q", "-p", "drover", "-p", "drover-fleet"], cwd=ROOT)
    if not (VENV / "bin" / "pyinfra").exists():
        sh([sys.executable, "-m", "venv", str(VENV)])
        sh([str(VENV / "bin" / "pip"), "install", "-q", "ansible-core", "pyinfra"])


def tree_rss_kb(root_pid):
    """RSS of a process and all its descendants, in KiB."""
    children = {}
    rss = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def sshd_cpu(fleet_dir):
    """CPU seconds the fleet's sshd processes have used, with those of their ended children (each
    connection's sshd, the shells and commands it ran): the hosts' side of the work."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            if b"sshd" not in cmdline.split(b"\0")[0] or str(fleet_dir).encode() not in cmdline:
                continue
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def measure(cmd, env=None, fleet_dir=None):
    """Runs cmd; returns (wall seconds, CPU seconds of the tree, peak tree RSS MiB, exit code, CPU
    seconds of the fleet's sshd processes)."""
    hosts_before = sshd_cpu(fleet_dir) if fleet_dir else 0
    before = os.times()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kb(proc.pid))
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()
    _, err = proc.communicate()
    wall = time.monotonic() - start
    done.set()
    t.join()
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if proc.returncode != 0:
        sys.stderr.write(f"  ! {cmd[0]} exited {proc.returncode}: {err.decode(errors='replace')[-400:]}\n")
    # The connections' sshd processes are counted once their listener has reaped them.
    time.sleep(0.5)
    hosts = sshd_cpu(fleet_dir) - hosts_before if fleet_dir else 0
    return wall, cpu, peak[0] / 1024, proc.returncode, hosts


class Delayed:
    """The fleet as seen through a delaying proxy: the same hosts and keys, other addresses."""

    def __init__(self, fleet, rtt_ms):
        from delay import DelayProxy

        self.proxy = DelayProxy(fleet.addrs, fleet.port, rtt_ms / 2000)
        self.dir = fleet.dir / f"rtt-{rtt_ms}"
        self.dir.mkdir(exist_ok=True)
        self.inventory = self.dir / "inventory.ini"
        self.inventory.write_text(self.proxy.rewrite(fleet.inventory.read_text()))
        self.known_hosts = self.dir / "known_hosts"
        self.known_hosts.write_text(self.proxy.rewrite(fleet.known_hosts.read_text()))
        self.key, self.port = fleet.key, fleet.port
        self.addrs = [self.proxy.map[a] for a in fleet.addrs]

    def stop(self):
        self.proxy.stop()


class Fleet:
    def __init__(self, n):
        self.dir = WORK / f"fleet-{n}"
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.proc = subprocess.Popen(
            [str(ROOT / "target/release/drover-fleet"), "--hosts", str(n), "--hosts-per-sshd", "16", "--dir", str(self.dir)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        deadline = time.monotonic() + 120
        while not (self.dir / "ready").exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"fleet of {n} did not start")
            time.sleep(0.1)
        self.inventory = self.dir / "inventory.ini"
        self.known_hosts = self.dir / "known_hosts"
        self.key = self.dir / "client_key"
        lines = self.inventory.read_text().splitlines()
        self.port = next(l.split("=")[1] for l in lines if l.startswith("ansible_port="))
        self.addrs = [l.split("ansible_host=")[1] for l in lines if "ansible_host=" in l]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def commands(tool, fleet, n):
    env = dict(os.environ, HOME=str(fleet.dir))
    ssh_opts = ["-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={fleet.known_hosts}", "-o", "StrictHostKeyChecking=yes", "-i", str(fleet.key), "-p", fleet.port]
    if tool == "drover":
        return [str(ROOT / "target/release/drover"), "run", "-i", str(fleet.inventory), "--known-hosts", str(fleet.known_hosts), "all", "--forks", str(n), "--", WORKLOAD], env
    if tool in ("ssh-default", "ssh-curve25519"):
        kex = ["-o", "KexAlgorithms=curve25519-sha256"] if tool == "ssh-curve25519" else []
        ssh = " ".join(["ssh", *ssh_opts, *kex])
        script = f"printf '%s\\n' {' '.join(fleet.addrs)} | xargs -P {n} -I{{}} {ssh} root@{{}} '{WORKLOAD}'"
        return ["sh", "-c", script], env
    if tool == "ansible":
        env.update(ANSIBLE_PIPELINING="True", ANSIBLE_HOST_KEY_CHECKING="True", ANSIBLE_SSH_ARGS=f"-o UserKnownHostsFile={fleet.known_hosts}",
                   ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3", ANSIBLE_LOCALHOST_WARNING="False")
        return [str(VENV / "bin/ansible"), "all", "-i", str(fleet.inventory), "-f", str(n), "-m", "shell", "-a", WORKLOAD], env
    if tool == "pyinfra":
        inv = fleet.dir / "pyinfra_inventory.py"
        data = {"ssh_port": int(fleet.port), "ssh_user": "root", "ssh_key": str(fleet.key), "ssh_known_hosts_file": str(fleet.known_hosts), "ssh_strict_host_key_checking": "yes"}
        inv.write_text("hosts = [\n" + "".join(f"    ({a!r}, {data!r}),\n" for a in fleet.addrs) + "]\n")
        return [str(VENV / "bin/pyinfra"), str(inv), "exec", "--parallel", str(n), "-y", "--", WORKLOAD], env
    push = ROOT / "bench" / "push"
    if tool == "drover-push":
        return [str(ROOT / "target/release/drover"), "push", "-i", str(fleet.inventory), "--known-hosts", str(fleet.known_hosts), str(push / "site.yml"),
                "--forks", str(n), "-e", "tool=drover", "--runs-dir", str(fleet.dir / "runs")], env
    if tool == "ansible-playbook":
        _, env = commands("ansible", fleet, n)
        return [str(VENV / "bin/ansible-playbook"), "-i", str(fleet.inventory), "-f", str(n), "-e", "tool=ansible", str(push / "site.yml")], env
    if tool == "pyinfra-deploy":
        cmd, env = commands("pyinfra", fleet, n)
        return [str(VENV / "bin/pyinfra"), cmd[1], str(push / "deploy.py"), "--parallel", str(n), "-y"], env
    raise SystemExit(f"unknown tool {tool}")


PHASES = ("connect_ms", "handshake_ms", "auth_ms", "exec_ms")


def phases(fleet, n):
    """One more drover run with --json: per phase, the median and 95th percentile over the hosts (ms)."""
    cmd, env = commands("drover", fleet, n)
    out = subprocess.run(cmd[:2] + ["--json"] + cmd[2:], env=env, capture_output=True, text=True)
    hosts = json.loads(out.stdout)["hosts"].values()
    timings = [h["timings"] for h in hosts if "timings" in h]
    result = {}
    for phase in PHASES:
        values = sorted(t[phase] for t in timings)
        result[phase] = (statistics.median(values), values[int(0.95 * (len(values) - 1))])
    return result


def version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10,50,200,500")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="drover,ssh-default,ssh-curve25519,pyinfra,ansible",
                    help="fact gather: drover, ssh-default, ssh-curve25519, pyinfra, ansible; 3-task push: drover-push, pyinfra-deploy, ansible-playbook")
    ap.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    ap.add_argument("--rtt", default="0", help="round-trip times in ms to measure at (latency mode above 0)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    ensure_tools()
    WORK.mkdir(exist_ok=True)
    # The push writes here (the fleet's hosts share this machine's filesystem); templates need the folder.
    for tool in ("drover", "ansible", "pyinfra"):
        (Path("/tmp/drover-bench") / tool).mkdir(parents=True, exist_ok=True)
    rows = []
    breakdown = []
    rtts = [int(r) for r in args.rtt.split(",")]
    for n in [int(s) for s in args.sizes.split(",")]:
        fleet = Fleet(n)
        try:
            for rtt in rtts:
                seen = Delayed(fleet, rtt) if rtt else fleet
                try:
                    if "drover" in args.tools.split(",") and rtt == 0:
                        breakdown.append((n, phases(seen, n)))
                    for tool in args.tools.split(","):
                        cmd, env = commands(tool, seen, n)
                        runs = [measure(cmd, env, fleet.dir) for _ in range(args.runs)]
                        ok = all(r[3] == 0 for r in runs)
                        wall = statistics.median(r[0] for r in runs)
                        cpu = statistics.median(r[1] for r in runs)
                        mem = max(r[2] for r in runs)
                        hosts = statistics.median(r[4] for r in runs)
                        rows.append((n, rtt, tool, wall, cpu, mem, ok, hosts))
                        print(f"N={n:<4} RTT={rtt:<3} {tool:<15} wall {wall:6.2f}s  cpu {cpu:6.2f}s  peak {mem:7.1f} MiB  hosts' sshd cpu {hosts:6.2f}s{'' if ok else '  (errors)'}", flush=True)
                finally:
                    if rtt:
                        seen.stop()
        finally:
            fleet.stop()
    write_report(args, rows, breakdown)


def write_report(args, rows, breakdown):
    out = [
        "# Performance",
        "",
        "Made with `python3 bench/run.py " + " ".join(sys.argv[1:]) + "` on " + time.strftime("%Y-%m-%d") + ".",
        "",
        f"- Machine: {platform.platform()}, {os.cpu_count()} cores, {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') // 2**30} GiB",
        f"- {version(['sshd', '-V'])} {version([str(ROOT / 'target/release/drover'), '--version'])}",
        f"- {version([str(VENV / 'bin/ansible'), '--version'])}; pyinfra {version([str(VENV / 'bin/pyinfra'), '--version'])}",
        "- Fleet: loopback sshd processes, 16 addresses each, `MaxStartups 2000:30:4000`, clean HOME per host.",
        "- Key exchange: drover offers curve25519-sha256 first and sshd takes it; `ssh-default` negotiates",
        "  OpenSSH 9's default (sntrup761x25519-sha512); `ssh-curve25519` forces curve25519-sha256; ansible and",
        "  pyinfra use OpenSSH's and paramiko's defaults.",
        "- Workload: `uname -r; cat /etc/os-release; cat <saved apt list --upgradable>` on every host, forks = N.",
        f"- Wall time is the median of {args.runs} runs; CPU is user+system of the controller's whole process tree;",
        "  memory is the peak RSS summed over the process tree; hosts' CPU is what the fleet's sshd processes",
        "  used meanwhile (each connection's sshd, and the shells and commands it ran; a connection still open",
        "  at the end, as ansible's ControlPersist keeps them, is not counted), on the same cores.",
        "",
        "- RTT: 0 is loopback; above 0, every byte went through bench/delay.py, held half the round trip",
        "  each way.",
        "",
        "| hosts | RTT (ms) | tool | wall (s) | controller CPU (s) | peak memory (MiB) | hosts' CPU (s) |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for n, rtt, tool, wall, cpu, mem, ok, hosts in rows:
        out.append(f"| {n} | {rtt} | {tool}{'' if ok else ' (errors)'} | {wall:.2f} | {cpu:.2f} | {mem:.0f} | {hosts:.2f} |")
    if breakdown:
        out += [
            "",
            "Where drover's time goes, per host (from `drover run --json`, one more run with forks = N):",
            "median and 95th percentile in milliseconds of TCP connect, handshake (version exchange, key",
            "exchange, host key check), authentication, and the command (channel open to exit status and output).",
            "",
            "| hosts | connect | handshake | auth | exec |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for n, p in breakdown:
            out.append(f"| {n} | " + " | ".join(f"{p[k][0]:.1f} / {p[k][1]:.1f}" for k in PHASES) + " |")
    Path(args.out).write_text("\n".join(out) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
