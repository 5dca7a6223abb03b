#!/usr/bin/env python3
"""Report benchmark: how long `drover report` and `drover runs` take on a large run, and how big the
page is.

    python3 bench/report.py                   # 2,000 hosts, batches of 100, 8 tasks each
    python3 bench/report.py --hosts 500 --tasks 20

It writes a run folder shaped as drover journals it (run.json, state.json, events.jsonl: run and
play starts, batches, each task's start and end with a time, some failures with their output, a
halt leaving the last batches untouched), then times the release binary (target/release/drover)
writing the HTML page, the Markdown and the JSON (the median of 5 runs each), and `drover runs`.
The journal is made up, not recorded: the point is its size, which is that of a real run of that
shape.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stats(**kw):
    base = dict(ok=0, changed=0, unreachable=0, failed=0, skipped=0, rescued=0, ignored=0)
    base.update(kw)
    return base


def journal(folder: Path, hosts: int, tasks: int, batch: int):
    names = [f"web{i:04d}" for i in range(1, hosts + 1)]
    t = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)
    lines = []

    def ev(e, step_ms=0):
        nonlocal t
        t += timedelta(milliseconds=step_ms)
        lines.append(json.dumps({"ts": t.isoformat(timespec="milliseconds").replace("+00:00", "Z"), **e}))

    ev({"event": "run_started", "run_id": folder.name, "check": False, "owner": "ops@bastion"})
    ev({"event": "play_started", "play": "patch", "hosts": names, "already_done": [],
        "budget": "up to 2% failed hosts per batch", "windows": []})
    batches = [names[i:i + batch] for i in range(0, hosts, batch)]
    halted_after = max(1, len(batches) * 3 // 4)
    for b, members in enumerate(batches[:halted_after], start=1):
        ev({"event": "batch_started", "batch": b, "of": len(batches), "hosts": members}, 5)
        failed = []
        for n, host in enumerate(members):
            bad = (n * 37 + b) % 97 == 0
            for k in range(tasks):
                ev({"event": "task_started", "host": host, "task": f"patch : step {k}"}, 1)
                task = {"event": "task", "host": host, "task": f"patch : step {k}",
                        "status": "changed" if k % 3 == 0 else "ok"}
                if bad and k == tasks - 1:
                    task.update(status="failed", msg="non-zero return code 100",
                                output={"cmd": "apt-get -y dist-upgrade", "rc": 100,
                                        "stdout": "Reading package lists...\n" * 20,
                                        "stderr": "E: Sub-process /usr/bin/dpkg returned an error code (1)\n"})
                ev(task, 40)
            if bad:
                failed.append(host)
            ev({"event": "host_done", "host": host, "end": "failed" if bad else "done",
                "stats": stats(ok=tasks - tasks // 3, changed=tasks // 3, failed=int(bad))}, 1)
        ev({"event": "batch_done", "batch": b, "failed": failed}, 1)
    untouched = [h for bt in batches[halted_after:] for h in bt]
    ev({"event": "halted", "reason": "over --max-fail-total", "untouched": untouched}, 1)
    ev({"event": "run_done", "status": "halted", "recap": {}}, 1)
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(
        {"playbook": "patch.yml", "inventory": ["hosts.ini"], "args": ["patch.yml", "--batch", str(batch)]}))
    (folder / "state.json").write_text(json.dumps({"done": [], "status": "halted"}))
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")


def timed(cmd, runs=5):
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=2000)
    ap.add_argument("--tasks", type=int, default=8)
    ap.add_argument("--batch", type=int, default=100)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "drover"], cwd=ROOT, check=True)
    drover = str(ROOT / "target" / "release" / "drover")
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        run = runs / "20261204T020000-0b0e"
        journal(run, args.hosts, args.tasks, args.batch)
        size = (run / "events.jsonl").stat().st_size
        print(f"{args.hosts} hosts, {args.tasks} tasks each, batches of {args.batch}: "
              f"events.jsonl {size / 1e6:.1f} MB")
        for fmt, ext in [("html", "html"), ("markdown", "md"), ("json", "json")]:
            out = Path(tmp) / f"report.{ext}"
            took = timed([drover, "report", run.name, "--runs-dir", str(runs), "--format", fmt, "-o", str(out)])
            print(f"report --format {fmt:<8}: {took:.3f} s, {out.stat().st_size / 1e6:.2f} MB")
        took = timed([drover, "runs", "--runs-dir", str(runs)])
        print(f"runs                  : {took:.3f} s")


if __name__ == "__main__":
    sys.exit(main())
