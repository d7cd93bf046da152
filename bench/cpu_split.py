"""Where a request's CPU goes: the server's workers against PostgreSQL's backends, under wrk.

    .venv/bin/python bench/cpu_split.py [--url http://127.0.0.1:8766] [--seconds 8]
                                        [--connections 8] PATH [PATH ...]

For each PATH, one `wrk -t2 -c<connections> -d<seconds>s` run against a server already
running (for instance the one `bench/peer_bench.py` starts, or `conflictdb serve --workers 2`
with CONFLICTDB_CACHE_ENABLED=false), and the CPU time (utime + stime from /proc/<pid>/stat)
that every process spent during the run, grouped as PostgreSQL (its backends and helpers), the
Python server (processes whose command line names conflictdb, uvicorn or python) and the rest,
divided by the requests served. wrk's own CPU is not counted (it ends before the second
reading). Linux only. The figures are for docs/benchmarks.md; no test asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
_GROUPS = ("postgresql", "python server", "other")


def _group(cmdline: str) -> str:
    if cmdline.startswith("postgres"):
        return "postgresql"
    if any(word in cmdline for word in ("conflictdb", "uvicorn", "python")):
        return "python server"
    return "other"


def cpu_by_process() -> dict[str, tuple[str, int]]:
    """pid -> (group, CPU ticks so far) for every process readable now."""
    out: dict[str, tuple[str, int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if not cmdline:
            continue
        # Fields after the command name in parentheses: utime and stime are the 12th and 13th.
        fields = stat.rsplit(")", 1)[1].split()
        out[proc.name] = (_group(cmdline), int(fields[11]) + int(fields[12]))
    return out


def measure(base_url: str, path: str, seconds: int, connections: int) -> tuple[float, Counter[str]]:
    before = cpu_by_process()
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", base_url + path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    after = cpu_by_process()
    match = re.search(r"Requests/sec:\s+([\d.]+)", done)
    if match is None:
        raise SystemExit(f"wrk printed no rate:\n{done}")
    rate = float(match.group(1))
    ticks: Counter[str] = Counter()
    for pid, (group, total) in after.items():
        ticks[group] += total - before.get(pid, (group, 0))[1]
    return rate, ticks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--url", default="http://127.0.0.1:8766")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    print("| URL | req/s | PostgreSQL ms/request | Python ms/request | other ms/request |")
    print("|---|---:|---:|---:|---:|")
    for path in args.paths:
        rate, ticks = measure(args.url, path, args.seconds, args.connections)
        served = rate * args.seconds
        ms = {g: f"{ticks[g] / TICKS / served * 1000:.2f}" for g in _GROUPS}
        print(
            f"| `{path}` | {rate:,.1f} | {ms['postgresql']} | {ms['python server']} | "
            f"{ms['other']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
